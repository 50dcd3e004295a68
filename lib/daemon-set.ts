// A DaemonSet: one pod per node, its own ServiceAccount and NetworkPolicy. Used for what must
// run on every node (log shipping, node metrics). No PDB: a drain evicts the node's own pod,
// which its replacement on the same node cannot help.
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { PlatformChart } from './chart';
import { selectorLabels } from './labels';
import { workloadNetworkPolicy } from './network';
import { hardenedPodSpec, podTemplateMetadata, withExemptions } from './pod';
import { serviceAccount } from './service-account';
import type { WorkloadProps } from './workload';

/** A DaemonSet has no Service: its pods declare their own container ports (a scrape port). */
export type DaemonSetServiceProps = WorkloadProps;

export class DaemonSetService extends Construct {
  public readonly selector: Record<string, string>;
  public readonly serviceAccountName: string;

  constructor(chart: PlatformChart, id: string, props: DaemonSetServiceProps) {
    super(chart, id);
    const spec = { name: props.name, component: props.component, version: props.version };
    const meta = chart.metadata({ ...spec, objectName: props.name, namespace: props.namespace });
    this.selector = selectorLabels(chart.labelSpec(spec));
    const account = serviceAccount(this, meta);
    this.serviceAccountName = account.name;
    new k8s.KubeDaemonSet(this, 'daemon-set', {
      metadata: withExemptions(meta, props.pod),
      spec: {
        revisionHistoryLimit: 5,
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromString('10%') } },
        selector: { matchLabels: this.selector },
        template: {
          metadata: podTemplateMetadata(meta.labels, props.podLabels, props.restartOn, props.podAnnotations),
          spec: hardenedPodSpec({ ...props.pod, serviceAccountName: account.name }),
        },
      },
    });
    workloadNetworkPolicy(this, meta, { selector: this.selector, ...props.network });
  }
}
