// How one chart's workload is reached from another: a typed endpoint a chart exports, so
// consumers never re-type a Service name, namespace or port. Charts built before the chart that
// owns a workload (a service that must admit Kong before the gateway chart exists) name it through
// the workload identity table in lib/workloads.ts instead.
import { selectorLabels } from './labels';
import type { Peer, PortRule } from './network';

/** Who a workload is: enough to select its pods from anywhere in the platform instance. */
export interface WorkloadIdentity {
  /** Namespace the workload runs in. */
  readonly namespace: string;
  /** Its app.kubernetes.io/name (also its Service's name). */
  readonly name: string;
  /** Its app.kubernetes.io/component. */
  readonly component: string;
  /** The environment name (app.kubernetes.io/instance). */
  readonly instance: string;
}

/** Where a client connects, and what its pods need to be let in. */
export interface Endpoint {
  /** The Service's fully qualified cluster DNS name. */
  readonly host: string;
  readonly port: number;
  /** The pods behind the Service, for the client's egress rule. */
  readonly peer: Peer;
  /**
   * Labels a client pod carries to pass the server's NetworkPolicy. Empty when the server admits
   * its callers by their own identity instead (the gateway's upstreams admit Kong's pods).
   */
  readonly clientLabels: Readonly<Record<string, string>>;
}

/** A Service's fully qualified name inside the cluster. */
export function serviceHost(service: string, namespace: string): string {
  return `${service}.${namespace}.svc.cluster.local`;
}

/**
 * A StatefulSet pod's own stable name through its headless Service, for peers that must reach one
 * pod and not whichever the Service picks (replication, gossip, a chosen receiver).
 */
export function podHost(pod: string, headlessService: string, namespace: string): string {
  return `${pod}.${serviceHost(headlessService, namespace)}`;
}

/** The pods of one workload of this platform instance, by its stable selector labels. */
export function peerOf(workload: WorkloadIdentity): Peer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': workload.namespace } },
    podSelector: { matchLabels: selectorLabels(workload) },
  };
}

/** The endpoint of `workload`'s own Service (named after the workload) on `port`. */
export function endpointOf(workload: WorkloadIdentity, port: number, clientLabels: Readonly<Record<string, string>> = {}): Endpoint {
  return { host: serviceHost(workload.name, workload.namespace), port, peer: peerOf(workload), clientLabels };
}

/**
 * The endpoint of a Service a chart made (a StatelessService or StatefulService), on `port`: its
 * pods are the Service's own selector in `namespace`.
 */
export function serviceEndpoint(
  namespace: string,
  service: { readonly serviceName: string; readonly selector: Readonly<Record<string, string>> },
  port: number,
  clientLabels: Readonly<Record<string, string>> = {},
): Endpoint {
  const peer: Peer = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    podSelector: { matchLabels: { ...service.selector } },
  };
  return { host: serviceHost(service.serviceName, namespace), port, peer, clientLabels };
}

/** The URL of an endpoint, e.g. `http://kong.supabase.svc.cluster.local:8000`. */
export function urlOf(endpoint: Pick<Endpoint, 'host' | 'port'>, scheme = 'http', path = ''): string {
  return `${scheme}://${endpoint.host}:${endpoint.port}${path}`;
}

/** The egress rule a client needs to reach `endpoint`. */
export function egressTo(endpoint: Endpoint): PortRule {
  return { port: endpoint.port, peers: [endpoint.peer] };
}

/** The ingress rule that admits `client`'s pods on `port`. */
export function ingressFrom(client: Endpoint | WorkloadIdentity, port: number): PortRule {
  return { port, peers: ['peer' in client ? client.peer : peerOf(client)] };
}
