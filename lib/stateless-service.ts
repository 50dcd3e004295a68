// A stateless service: its ServiceAccount, a ClusterIP Service, the Deployment (or an HPA that
// owns the replica count), PodDisruptionBudget and spread from the replica count, and its own
// NetworkPolicy from the peers it declares.
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { StatelessService as StatelessConfig } from '../environments/supabase';
import { availability } from './availability';
import type { PlatformChart } from './chart';
import { selectorLabels } from './labels';
import { type PortRule, workloadNetworkPolicy } from './network';
import { type PodSpecProps, hardenedPodSpec, podTemplateMetadata } from './pod';
import { serviceAccount } from './service-account';
import { type ServicePort, servicePorts } from './stateful-set';

export interface StatelessServiceProps {
  /** Name of every object here ("auth", "rest", ...); the Service's DNS name. */
  readonly name: string;
  readonly component: string;
  readonly namespace: string;
  /** The main image's version, for the version label. */
  readonly version: string;
  /** Replicas, autoscaling, disruption budget from the environment. */
  readonly config: Pick<StatelessConfig, 'replicas' | 'autoscaling' | 'disruption'>;
  readonly ports: readonly ServicePort[];
  readonly pod: Omit<PodSpecProps, 'serviceAccountName' | 'affinity' | 'topologySpreadConstraints'>;
  /** Extra pod labels, e.g. the access labels of the databases it uses. @default none */
  readonly podLabels?: Record<string, string>;
  /** Config whose change must roll the pods, hashed into an annotation. @default none */
  readonly restartOn?: readonly string[];
  /**
   * Recreate for a pod that mounts a ReadWriteOnce volume (the new pod could land on another node
   * and wait for ever); RollingUpdate otherwise. @default "RollingUpdate"
   */
  readonly strategy?: 'RollingUpdate' | 'Recreate';
  /** Who may connect to it, and where it may connect (DNS is always allowed). */
  readonly network: { readonly ingress: readonly PortRule[]; readonly egress: readonly PortRule[] };
}

export class StatelessService extends Construct {
  public readonly selector: Record<string, string>;
  public readonly serviceName: string;

  constructor(chart: PlatformChart, id: string, props: StatelessServiceProps) {
    super(chart, id);
    const spec = { name: props.name, component: props.component, version: props.version };
    const meta = chart.metadata({ ...spec, objectName: props.name, namespace: props.namespace });
    this.selector = selectorLabels(chart.labelSpec(spec));
    this.serviceName = props.name;
    const { autoscaling } = props.config;

    const account = serviceAccount(this, meta);
    const placement = availability(this, {
      workload: { replicas: autoscaling?.minReplicas ?? props.config.replicas, disruption: props.config.disruption },
      selector: this.selector,
      metadata: meta,
    });
    new k8s.KubeService(this, 'service', {
      metadata: meta,
      spec: {
        type: 'ClusterIP',
        selector: this.selector,
        ports: servicePorts(props.ports),
      },
    });
    const deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: meta,
      spec: {
        // With an HPA the replica count is the HPA's: leaving it out keeps Argo CD from resetting it.
        ...(autoscaling ? {} : { replicas: props.config.replicas }),
        revisionHistoryLimit: 5,
        strategy:
          props.strategy === 'Recreate'
            ? { type: 'Recreate' }
            : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromString('25%') } },
        selector: { matchLabels: this.selector },
        template: {
          metadata: podTemplateMetadata(meta.labels, props.podLabels, props.restartOn),
          spec: hardenedPodSpec({ ...props.pod, ...placement, serviceAccountName: account.name }),
        },
      },
    });
    if (autoscaling) {
      new k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
        metadata: meta,
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name },
          minReplicas: autoscaling.minReplicas,
          maxReplicas: autoscaling.maxReplicas,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: autoscaling.targetCpuPercent } } }],
        },
      });
    }
    workloadNetworkPolicy(this, meta, { selector: this.selector, ...props.network });
  }
}
