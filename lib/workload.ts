// What every workload construct takes (lib/stateless-service.ts, lib/stateful-set.ts,
// lib/daemon-set.ts, lib/job.ts): its identity, its pod, and the NetworkPolicy it declares. One
// base, so a chart describes a Deployment, a StatefulSet or a CronJob in the same words.
import { k8s } from 'cdk8s-plus-33';
import type { PortRule } from './network';
import type { ContainerSpec, PodSpecProps } from './pod';

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

/** A port of a workload's Service, and the container that listens on it. */
export interface ServicePort {
  /** The port's name, on the Service and on the container (probes and scrapes name it too). */
  readonly name: string;
  readonly port: number;
  /** The container listening on it. @default the pod's first container */
  readonly container?: string;
}

/** Service ports that target the container ports of the same name. */
export function servicePorts(ports: readonly ServicePort[]): k8s.ServicePort[] {
  return ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.name) }));
}

/**
 * `pod` with each container's ports declared from the Service ports it serves, so the two can
 * never disagree: those first, then any the container declares itself (ports no Service
 * exposes, such as a health port or a second protocol).
 */
export function withContainerPorts(pod: WorkloadPod, ports: readonly ServicePort[]): WorkloadPod {
  const first = pod.containers[0]?.name;
  for (const p of ports) {
    if (!pod.containers.some((c) => c.name === (p.container ?? first))) {
      throw new Error(`internal: no container ${p.container ?? first} serves the Service port ${p.name}`);
    }
  }
  const withPorts = (c: ContainerSpec): ContainerSpec => {
    const served = ports.filter((p) => (p.container ?? first) === c.name).map((p) => ({ name: p.name, containerPort: p.port }));
    const twice = served.find((p) => c.ports?.some((own) => own.name === p.name));
    if (twice) throw new Error(`internal: container ${c.name} declares port ${twice.name}, which the Service ports already give it`);
    return served.length ? { ...c, ports: [...served, ...(c.ports ?? [])] } : c;
  };
  return { ...pod, containers: pod.containers.map(withPorts) };
}
