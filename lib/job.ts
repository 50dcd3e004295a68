// Jobs and CronJobs: the pod hardened like every other workload's, its own ServiceAccount and
// its own NetworkPolicy. A Job runs to completion: its pods never restart in place (a failed
// step is a failed pod, retried only as far as the Job's backoff allows, so a half-done step is
// never silently repeated inside one pod) and they run without a token unless they call the
// Kubernetes API. An on-demand Job (dist/<env>/on-demand/, applied by an operator) puts
// its Job object in the on-demand chart and its ServiceAccount and NetworkPolicy, which do
// nothing by themselves, in the synced support chart (lib/chart.ts, `OnDemandChart`).
import { type ApiObjectMetadata, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { PlatformChart } from './chart';
import { peerOf, type WorkloadIdentity } from './endpoint';
import { selectorLabels } from './labels';
import { type Peer, workloadNetworkPolicy } from './network';
import { hardenedPodSpec, podTemplateMetadata, withExemptions } from './pod';
import { serviceAccount } from './service-account';
import type { WorkloadProps } from './workload';

export interface JobProps extends WorkloadProps {
  /** Seconds the Job may run in all (every retry included) before Kubernetes stops it. */
  readonly activeDeadlineSeconds: number;
  /** Pods that may fail before the Job does. @default 0: a failed run is reported, not repeated */
  readonly backoffLimit?: number;
  /** Seconds a finished Job (and its pods' logs) is kept. @default kept until deleted */
  readonly ttlSecondsAfterFinished?: number;
  /**
   * Where the Job object goes when not beside its ServiceAccount and NetworkPolicy (an on-demand
   * Job, whose support objects are synced with a layer). @default this construct, id "job"
   */
  readonly jobObject?: { readonly scope: Construct; readonly id: string };
}

export interface ScheduledJobProps extends Omit<JobProps, 'ttlSecondsAfterFinished' | 'jobObject'> {
  /** Five-field cron schedule, in UTC. */
  readonly schedule: string;
}

/** What a Job and a CronJob share: their name, pods and the objects beside them. */
abstract class JobBase extends Construct {
  /** Stable selector labels of the pods. */
  public readonly selector: Record<string, string>;
  /** The pods, for another workload's NetworkPolicy rule. */
  public readonly peer: Peer;
  public readonly serviceAccountName: string;
  /** The object metadata the Job, its ServiceAccount and its NetworkPolicy share. */
  protected readonly meta: ApiObjectMetadata;

  protected constructor(scope: Construct, id: string, props: WorkloadProps) {
    super(scope, id);
    const chart = Chart.of(this) as PlatformChart;
    const spec = { name: props.name, component: props.component, version: props.version };
    this.meta = chart.metadata({ ...spec, objectName: props.name, namespace: props.namespace });
    this.selector = selectorLabels(chart.labelSpec(spec));
    const identity: WorkloadIdentity = { namespace: props.namespace, name: props.name, component: props.component, instance: chart.instance };
    this.peer = peerOf(identity);
    this.serviceAccountName = serviceAccount(this, this.meta).name;
    workloadNetworkPolicy(this, this.meta, { selector: this.selector, ...props.network });
  }

  /** The Job spec: its limits and its pod template. */
  protected jobSpec(props: Omit<JobProps, 'jobObject'>): k8s.JobSpec {
    return {
      backoffLimit: props.backoffLimit ?? 0,
      activeDeadlineSeconds: props.activeDeadlineSeconds,
      ...(props.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: props.ttlSecondsAfterFinished } : {}),
      template: {
        metadata: podTemplateMetadata(this.meta.labels, props.podLabels, props.restartOn, props.podAnnotations),
        spec: hardenedPodSpec({ ...props.pod, restartPolicy: 'Never', serviceAccountName: this.serviceAccountName }),
      },
    };
  }
}

/** A Job that runs once, when it is created. */
export class Job extends JobBase {
  constructor(scope: Construct, id: string, props: JobProps) {
    super(scope, id, props);
    const where = props.jobObject ?? { scope: this, id: 'job' };
    new k8s.KubeJob(where.scope, where.id, { metadata: withExemptions(this.meta, props.pod), spec: this.jobSpec(props) });
  }
}

/**
 * A CronJob. Runs never overlap, and one that could not start within an hour of its time is
 * skipped rather than run late; the last three successful and failed runs are kept for their logs.
 */
export class ScheduledJob extends JobBase {
  constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id, props);
    new k8s.KubeCronJob(this, 'cron-job', {
      metadata: withExemptions(this.meta, props.pod),
      spec: {
        schedule: props.schedule,
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: { spec: this.jobSpec(props) },
      },
    });
  }
}
