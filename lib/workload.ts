// What every workload construct takes (lib/stateless-service.ts, lib/stateful-set.ts,
// lib/daemon-set.ts, lib/job.ts): its identity, its pod, and the NetworkPolicy it declares. One
// base, so a chart describes a Deployment, a StatefulSet or a CronJob in the same words.
import type { PortRule } from './network';
import type { PodSpecProps } from './pod';

/** Who may connect to a workload's pods, and where they may connect (DNS is always allowed). */
export interface WorkloadNetwork {
  /** Connections the pods accept; none when empty. */
  readonly ingress: readonly PortRule[];
  /** Connections the pods open; none when empty. */
  readonly egress: readonly PortRule[];
}

/** The pod of a workload, without its ServiceAccount and placement, which the construct adds. */
export type WorkloadPod = Omit<PodSpecProps, 'serviceAccountName' | 'affinity' | 'topologySpreadConstraints'>;

export interface WorkloadProps {
  /** Name of every object of the workload, and its app.kubernetes.io/name label. */
  readonly name: string;
  /** Its role within the platform (app.kubernetes.io/component). */
  readonly component: string;
  readonly namespace: string;
  /** The main image's version, for the version label. */
  readonly version: string;
  readonly pod: WorkloadPod;
  /** Extra pod labels, e.g. the access labels of the servers it calls. @default none */
  readonly podLabels?: Record<string, string>;
  /** Annotations of the pods, e.g. where their metrics are. @default none */
  readonly podAnnotations?: Record<string, string>;
  /** Content whose change must restart the pods (config files), hashed into an annotation. @default none */
  readonly restartOn?: readonly string[];
  /** The workload's own NetworkPolicy, on top of its namespace's default deny. */
  readonly network: WorkloadNetwork;
}
