// A stateful service: its ServiceAccount, a headless Service (stable pod DNS for the StatefulSet),
// a ClusterIP Service for clients unless its pods are not interchangeable, the StatefulSet with
// its volume claim templates, its PodDisruptionBudget and spread, and its own NetworkPolicy from
// the peers it declares. Claims are retained when the StatefulSet is deleted or scaled down:
// nothing here ever deletes data.
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { z } from 'zod';
import type { Disruption } from '../environments/fields';
import { availability, type AvailabilityProps } from './availability';
import type { PlatformChart } from './chart';
import { selectorLabels } from './labels';
import { workloadNetworkPolicy } from './network';
import { hardenedPodSpec, podTemplateMetadata, withExemptions } from './pod';
import { serviceAccount } from './service-account';
import { type ServicePort, servicePorts, withContainerPorts, type WorkloadProps } from './workload';

/** The headless Service of the stateful service `name`, through which each pod has a stable name. */
export function headlessServiceName(name: string): string {
  return `${name}-headless`;
}

export interface VolumeClaim {
  /** Claim template name; the container mounts it by this name. */
  readonly name: string;
  readonly size: string;
  readonly storageClassName: string;
}

// Re-exported: charts imported the Service ports from here before the workload kit.
export { type ServicePort, servicePorts } from './workload';

/** The claim a StatefulSet's volume claim template gives one of its pods: "<template>-<set>-<ordinal>". */
export function claimOf(statefulSet: string, template = 'data', ordinal = 0): string {
  return `${template}-${statefulSet}-${ordinal}`;
}

export interface StatefulServiceProps extends WorkloadProps {
  readonly replicas: number;
  /** The disruption budget from the environment. @default maxUnavailable 1 (`availability`) */
  readonly disruption?: z.infer<typeof Disruption>;
  /** How strictly the pods are kept apart (see `availability`). @default "preferred" */
  readonly spread?: AvailabilityProps['spread'];
  /**
   * A ClusterIP Service over all the pods. Off when the pods are not interchangeable (a primary
   * and its replicas), so no client can reach a random one by mistake. @default true
   */
  readonly clientService?: boolean;
  readonly claims: readonly VolumeClaim[];
  /** Ports of the client Service (and the headless one); the containers declare them from here. */
  readonly ports: readonly ServicePort[];
}

export class StatefulService extends Construct {
  /** Stable selector labels of the pods. */
  public readonly selector: Record<string, string>;
  /** The client Service's name (its DNS name within the namespace), when there is one. */
  public readonly serviceName: string;
  public readonly headlessServiceName: string;
  /** The StatefulSet's name (its pods are "<name>-<ordinal>"). */
  public readonly statefulSetName: string;

  constructor(chart: PlatformChart, id: string, props: StatefulServiceProps) {
    super(chart, id);
    const spec = { name: props.name, component: props.component, version: props.version };
    const meta = (objectName: string) => chart.metadata({ ...spec, objectName, namespace: props.namespace });
    this.selector = selectorLabels(chart.labelSpec(spec));
    this.serviceName = props.name;
    this.headlessServiceName = headlessServiceName(props.name);
    this.statefulSetName = props.name;

    const account = serviceAccount(this, meta(props.name));
    const placement = availability(this, {
      workload: { replicas: props.replicas, disruption: props.disruption },
      spread: props.spread,
      selector: this.selector,
      metadata: meta(props.name),
      pdbForSingleReplica: true,
    });

    const ports = servicePorts(props.ports);
    new k8s.KubeService(this, 'headless-service', {
      metadata: meta(this.headlessServiceName),
      spec: { clusterIp: 'None', publishNotReadyAddresses: true, selector: this.selector, ports },
    });
    if (props.clientService ?? true) {
      new k8s.KubeService(this, 'service', {
        metadata: meta(this.serviceName),
        spec: { type: 'ClusterIP', selector: this.selector, ports },
      });
    }

    const podMeta = meta(props.name);
    new k8s.KubeStatefulSet(this, 'stateful-set', {
      metadata: withExemptions(meta(props.name), props.pod),
      spec: {
        serviceName: this.headlessServiceName,
        replicas: props.replicas,
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        selector: { matchLabels: this.selector },
        template: {
          metadata: podTemplateMetadata(podMeta.labels, props.podLabels, props.restartOn, props.podAnnotations),
          spec: hardenedPodSpec({ ...withContainerPorts(props.pod, props.ports), ...placement, serviceAccountName: account.name }),
        },
        volumeClaimTemplates: props.claims.map((c) => ({
          metadata: { name: c.name, labels: podMeta.labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: c.storageClassName,
            resources: { requests: { storage: k8s.Quantity.fromString(c.size) } },
          },
        })),
      },
    });
    workloadNetworkPolicy(this, meta(props.name), { selector: this.selector, ...props.network });
  }
}
