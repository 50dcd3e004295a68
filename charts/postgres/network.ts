// Who may reach the database's pods, and whom they reach. Instances: their labelled clients, the
// poolers, each other (streaming, pg_rewind, the instance managers' isolation checks), the
// operator (the instance manager's status port, and 5432) and Prometheus; out to each other, the
// API server (the instance manager watches its Cluster) and, with an archive, the object store.
// Poolers: their labelled clients and Prometheus; out to the instances and the API server.
import type { ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { clientsOf, INTERNET, type Peer, toApiServer, workloadNetworkPolicy } from '../../lib/network';
import { POOLER_METRICS_PORT, POOLER_NAMES, POOLER_PORT, type PoolerKind, poolerPodSelector } from './poolers';

/** The CloudNativePG operator's pods in `namespace`: they call every instance. */
export function cnpgOperatorPeer(namespace: string): Peer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'cloudnative-pg' } },
  };
}

export const PG_PORT = 5432;
export const METRICS_PORT = 9187;
/** The instance manager's status port, which the operator and the other instances call. */
export const STATUS_PORT = 8000;

export interface DatabaseNetworkProps {
  readonly instance: string;
  /** Prometheus's pods, which scrape the instances and the poolers. */
  readonly prometheus: Peer;
  readonly apiServerCidrs: readonly string[];
  /** The instances' own selector and peer. */
  readonly instancePods: Record<string, string>;
  readonly instances: Peer;
  readonly operator: Peer;
  readonly poolers: readonly { readonly kind: PoolerKind; readonly peer: Peer; readonly metadata: ApiObjectMetadata }[];
  /** Whether the instances archive to the object store (egress to it). */
  readonly archiving: boolean;
}

export function databaseNetworkPolicies(scope: Construct, metadata: ApiObjectMetadata, props: DatabaseNetworkProps): void {
  workloadNetworkPolicy(scope, metadata, {
    selector: props.instancePods,
    ingress: [
      { port: PG_PORT, peers: [clientsOf('postgres', props.instance), props.instances, ...props.poolers.map((p) => p.peer), props.operator] },
      { port: STATUS_PORT, peers: [props.operator, props.instances] },
      { port: METRICS_PORT, peers: [props.prometheus] },
    ],
    egress: [
      { port: PG_PORT, peers: [props.instances] },
      { port: STATUS_PORT, peers: [props.instances] },
      ...toApiServer(props.apiServerCidrs),
      // The barman-cloud sidecar writes WAL and base backups to the object store.
      ...(props.archiving ? [{ port: 443, peers: [INTERNET] }] : []),
    ],
  });
  for (const p of props.poolers) {
    workloadNetworkPolicy(new Construct(scope, `pooler-${p.kind}-network`), p.metadata, {
      selector: poolerPodSelector(p.kind),
      ingress: [
        { port: POOLER_PORT, peers: [clientsOf(POOLER_NAMES[p.kind], props.instance)] },
        { port: POOLER_METRICS_PORT, peers: [props.prometheus] },
      ],
      egress: [{ port: PG_PORT, peers: [props.instances] }, ...toApiServer(props.apiServerCidrs)],
    });
  }
}
