// PgBouncer in front of the Cluster (CloudNativePG `Pooler`): "rw" on the primary in transaction
// mode for the product, "ro" over the standbys for its reads. Each pooler pod opens at most
// defaultPoolSize server connections (max_db_connections), which docs/capacity.md counts; only
// the product's role may log in through them, over TLS with the Cluster's server certificate
// (its names include the poolers' Services).
import type { ApiObjectMetadata } from 'cdk8s';
import type { PostgresConfig } from '../../environments/data-tier';
import { Pooler, PoolerSpecPgbouncerPoolMode, PoolerSpecType } from '../../imports/pooler-postgresql.cnpg.io';
import type { PlatformChart } from '../../lib/chart';
import { LABEL, PART_OF } from '../../lib/labels';
import { crdResources } from '../../lib/resources';
import type { LoginRole } from './roles';

export const POOLER_PORT = 5432;
export const POOLER_METRICS_PORT = 9127;
/** Name of each pooler (and its Service). */
export const POOLER_NAMES = { rw: 'postgres-pooler-rw', ro: 'postgres-pooler-ro' } as const;

export type PoolerKind = keyof typeof POOLER_NAMES;

export interface PoolerProps {
  readonly namespace: string;
  readonly instance: string;
  readonly clusterName: string;
  readonly config: PostgresConfig['poolers'];
  /** The Secret with the certificate PgBouncer presents to clients. */
  readonly serverTlsSecret: string;
  /** The only roles that may log in through the poolers. */
  readonly roles: readonly LoginRole[];
  readonly priorityClassName: string;
  readonly version: string;
}

/**
 * The labels CloudNativePG gives a pooler's pods whatever the Pooler's template says (it
 * overwrites app.kubernetes.io/name, instance, component and managed-by): select them by these.
 */
export function poolerPodSelector(kind: PoolerKind): Record<string, string> {
  return { 'cnpg.io/poolerName': POOLER_NAMES[kind] };
}

export function poolers(chart: PlatformChart, props: PoolerProps, metadata: (name: string) => ApiObjectMetadata): PoolerKind[] {
  const kinds = (Object.keys(POOLER_NAMES) as PoolerKind[]).filter((k) => props.config[k]);
  for (const kind of kinds) {
    const c = props.config[kind]!;
    // The operator keeps part-of and version (the scrape keeps the pods by part-of) and
    // replaces name, instance, component and managed-by with its own.
    const podLabels = { [LABEL.partOf]: PART_OF, [LABEL.version]: props.version };
    new Pooler(chart, `pooler-${kind}`, {
      metadata: metadata(POOLER_NAMES[kind]),
      spec: {
        cluster: { name: props.clusterName },
        type: kind === 'rw' ? PoolerSpecType.RW : PoolerSpecType.RO,
        instances: c.instances,
        pgbouncer: {
          poolMode: PoolerSpecPgbouncerPoolMode.TRANSACTION,
          clientTlsSecret: { name: props.serverTlsSecret },
          parameters: {
            default_pool_size: String(c.defaultPoolSize),
            max_db_connections: String(c.defaultPoolSize),
            max_client_conn: String(c.maxClientConnections),
            // Refuse clients without TLS (PgBouncer's default is "prefer").
            client_tls_sslmode: 'require',
            client_tls_protocols: 'tlsv1.3',
            server_reset_query_always: '0',
          },
          // First match wins; the operator's catch-all lines come after these.
          pgHba: [`hostssl all ${props.roles.join(',')} all scram-sha-256`, 'host all all all reject'],
        },
        template: {
          metadata: { labels: podLabels },
          spec: {
            priorityClassName: props.priorityClassName,
            containers: [{ name: 'pgbouncer', resources: crdResources(c.resources) }],
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: poolerPodSelector(kind) } } },
                ],
              },
            },
          },
        },
      },
    });
  }
  return kinds;
}
