// PgBouncer in front of the Cluster (CloudNativePG `Pooler`): "rw" on the primary in transaction
// mode for the product, "ro" over the standbys for its reads. Each pooler pod opens at most
// defaultPoolSize server connections (max_db_connections), which docs/capacity.md counts; only
// the product's role may log in through them, over TLS with the Cluster's server certificate
// (its names include the poolers' Services).
import type { ApiObjectMetadata } from 'cdk8s';
import type { PostgresConfig } from '../../environments/data-tier';
import { Pooler, PoolerSpecPgbouncerPoolMode, PoolerSpecType } from '../../imports/pooler-postgresql.cnpg.io';
import type { PlatformChart } from '../../lib/chart';
import { type Endpoint, serviceHost } from '../../lib/endpoint';
import { LABEL, PART_OF } from '../../lib/labels';
import { accessLabel } from '../../lib/network';
import { crdResources } from '../../lib/resources';
import type { LoginRole } from './roles';

export const POOLER_PORT = 5432;
export const POOLER_METRICS_PORT = 9127;
/**
 * The PgBouncer parameters CloudNativePG's webhook accepts in `spec.pgbouncer.parameters`
 * (cloudnative-pg internal/webhook/v1/pooler_webhook.go, AllowedPgbouncerGenericConfigurationParameters):
 * any other is refused as "Invalid or reserved parameter". A unit test holds the poolers to it.
 */
export const PGBOUNCER_ALLOWED_PARAMETERS: readonly string[] = [
  'application_name_add_host',
  'auth_type',
  'autodb_idle_timeout',
  'cancel_wait_timeout',
  'client_idle_timeout',
  'client_login_timeout',
  'client_tls_sslmode',
  'default_pool_size',
  'disable_pqexec',
  'dns_max_ttl',
  'dns_nxdomain_ttl',
  'idle_transaction_timeout',
  'ignore_startup_parameters',
  'listen_backlog',
  'log_connections',
  'log_disconnections',
  'log_pooler_errors',
  'log_stats',
  'max_client_conn',
  'max_db_connections',
  'max_packet_size',
  'max_prepared_statements',
  'max_user_connections',
  'min_pool_size',
  'pkt_buf',
  'query_timeout',
  'query_wait_timeout',
  'reserve_pool_size',
  'reserve_pool_timeout',
  'sbuf_loopcnt',
  'server_check_delay',
  'server_check_query',
  'server_connect_timeout',
  'server_fast_close',
  'server_idle_timeout',
  'server_lifetime',
  'server_login_retry',
  'server_reset_query',
  'server_reset_query_always',
  'server_round_robin',
  'server_tls_ciphers',
  'server_tls_protocols',
  'server_tls_sslmode',
  'stats_period',
  'suspend_timeout',
  'tcp_defer_accept',
  'tcp_socket_buffer',
  'tcp_keepalive',
  'tcp_keepcnt',
  'tcp_keepidle',
  'tcp_keepintvl',
  'tcp_user_timeout',
  'track_extra_parameters',
  'verbose',
];

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

/** How a client reaches the pooler of `kind` in `namespace`, and the label that lets it in. */
export function poolerEndpoint(kind: PoolerKind, namespace: string): Endpoint {
  return {
    host: serviceHost(POOLER_NAMES[kind], namespace),
    port: POOLER_PORT,
    clientLabels: accessLabel(POOLER_NAMES[kind]),
    peer: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } }, podSelector: { matchLabels: poolerPodSelector(kind) } },
  };
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
