// A stateless service: its ServiceAccount, a ClusterIP Service, the Deployment (or an Argo
// Rollouts Rollout released by canary), an HPA that owns the replica count when autoscaling,
// PodDisruptionBudget and spread from the replica count, and its own NetworkPolicy from the
// peers it declares.
import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { StatelessService as StatelessConfig } from '../environments/supabase';
import { Rollout, type RolloutSpecStrategyCanary, toJson_RolloutSpec } from '../imports/rollout-argoproj.io';
import { availability } from './availability';
import type { PlatformChart } from './chart';
import { MAX_SURGE } from './facts/rollout';
import { selectorLabels } from './labels';
import { workloadNetworkPolicy } from './network';
import { hardenedPodSpec, podTemplateMetadata, withExemptions } from './pod';
import { serviceAccount } from './service-account';
import { type ServicePort, servicePorts, withContainerPorts, type WorkloadProps } from './workload';

export interface StatelessServiceProps extends WorkloadProps {
  /** Name of every object here ("auth", "rest", ...); the Service's DNS name. */
  readonly name: string;
  /** Replicas, autoscaling, disruption budget from the environment. */
  readonly config: Pick<StatelessConfig, 'replicas' | 'autoscaling' | 'disruption'>;
  /** Ports of the Service; the containers declare them from here. */
  readonly ports: readonly ServicePort[];
  /**
   * Recreate for a pod that mounts a ReadWriteOnce volume (the new pod could land on another node
   * and wait for ever); RollingUpdate otherwise. @default "RollingUpdate"
   */
  readonly strategy?: 'RollingUpdate' | 'Recreate';
  /**
   * Release by Argo Rollouts canary: the pods belong to a Rollout with this strategy instead of a
   * Deployment (same pod template, selector, PDB and HPA). @default a Deployment
   */
  readonly canary?: RolloutSpecStrategyCanary;
  /** A PodDisruptionBudget even for one pod (it documents that evicting it is allowed). @default false */
  readonly pdbForSingleReplica?: boolean;
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
      pdbForSingleReplica: props.pdbForSingleReplica,
    });
    new k8s.KubeService(this, 'service', {
      metadata: meta,
      spec: {
        type: 'ClusterIP',
        selector: this.selector,
        ports: servicePorts(props.ports),
      },
    });
    const template: k8s.PodTemplateSpec = {
      metadata: podTemplateMetadata(meta.labels, props.podLabels, props.restartOn, props.podAnnotations),
      spec: hardenedPodSpec({ ...withContainerPorts(props.pod, props.ports), ...placement, serviceAccountName: account.name }),
    };
    // With an HPA the replica count is the HPA's: leaving it out keeps Argo CD from resetting it.
    const replicas = autoscaling ? {} : { replicas: props.config.replicas };
    let target: { apiVersion: string; kind: string; name: string };
    if (props.canary) {
      // Last in its Application's sync: a paused Rollout is "Suspended" and would hold back
      // every later wave until the release finishes
      // (https://argoproj.github.io/argo-rollouts/FAQ/#how-does-argo-rollouts-integrate-with-argo-cd).
      const rolloutMeta = withExemptions({ ...meta, annotations: { ...meta.annotations, 'argocd.argoproj.io/sync-wave': '1' } }, props.pod);
      const rollout = new ApiObject(this, 'rollout', {
        ...Rollout.GVK,
        metadata: rolloutMeta,
        spec: {
          ...toJson_RolloutSpec({
            ...replicas,
            revisionHistoryLimit: 5,
            // A release that makes no progress for 10 minutes aborts back to the stable pods.
            progressDeadlineSeconds: 600,
            progressDeadlineAbort: true,
            selector: { matchLabels: this.selector },
            strategy: { canary: props.canary },
          }),
          template: k8s.toJson_PodTemplateSpec(template),
        },
      });
      target = { apiVersion: rollout.apiVersion, kind: rollout.kind, name: rollout.name };
    } else {
      const deployment = new k8s.KubeDeployment(this, 'deployment', {
        metadata: withExemptions(meta, props.pod),
        spec: {
          ...replicas,
          revisionHistoryLimit: 5,
          strategy:
            props.strategy === 'Recreate'
              ? { type: 'Recreate' }
              : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromString(MAX_SURGE) } },
          selector: { matchLabels: this.selector },
          template,
        },
      });
      target = { apiVersion: deployment.apiVersion, kind: deployment.kind, name: deployment.name };
    }
    if (autoscaling) {
      new k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
        metadata: meta,
        spec: {
          scaleTargetRef: target,
          minReplicas: autoscaling.minReplicas,
          maxReplicas: autoscaling.maxReplicas,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: autoscaling.targetCpuPercent } } }],
        },
      });
    }
    workloadNetworkPolicy(this, meta, { selector: this.selector, ...props.network });
  }
}
