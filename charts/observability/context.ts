// What every observability component builder gets: the chart, where things run, the
// environment's sizes, and the peers and addresses its network policies name.
import type { ObservabilityConfig } from '../../environments/observability';
import type { PlatformChart } from '../../lib/chart';
import { peerOf as workloadPeer, serviceHost } from '../../lib/endpoint';
import type { Peer } from '../../lib/network';

export interface ObservabilityContext {
  readonly chart: PlatformChart;
  readonly instance: string;
  /** Prepended to cluster-scoped names (ClusterRoles). */
  readonly prefix: string;
  readonly namespace: string;
  /** Namespace of node-exporter, the one with host access. */
  readonly hostNamespace: string;
  /** Every namespace of the platform whose pods are watched (metrics, logs). */
  readonly watchedNamespaces: readonly string[];
  readonly priorityClassName: string;
  readonly storageClassName: string;
  readonly config: ObservabilityConfig;
  readonly nodeCidrs: readonly string[];
  readonly apiServerCidrs: readonly string[];
  /** Prometheus's pods. */
  readonly prometheus: Peer;
}

/** In-cluster host name of a Service of the observability namespace. */
export function host(ctx: Pick<ObservabilityContext, 'namespace'>, service: string): string {
  return serviceHost(service, ctx.namespace);
}

/** The stack's components and their component label: one table, so policies name peers right. */
export const COMPONENTS = {
  prometheus: 'monitoring',
  alertmanager: 'alerting',
  grafana: 'dashboards',
  loki: 'logs',
  alloy: 'logs',
  tempo: 'traces',
  'otel-collector': 'traces',
} as const;

/**
 * The stores whose volumes the backup chart snapshots (their StatefulSets' claim "data").
 * Tempo's traces and Alertmanager's silences are short-lived and cheap to lose.
 */
export const SNAPSHOT_STORES = ['prometheus', 'grafana', 'loki'] as const satisfies readonly (keyof typeof COMPONENTS)[];

/** The pods of one component of the stack, for a NetworkPolicy rule. */
export function peerOf(ctx: Pick<ObservabilityContext, 'namespace' | 'instance'>, name: keyof typeof COMPONENTS): Peer {
  return workloadPeer({ namespace: ctx.namespace, instance: ctx.instance, name, component: COMPONENTS[name] });
}
