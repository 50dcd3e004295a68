// What every Supabase service builder gets: where it runs, how to reach the database, the
// declared Secrets, and the peers the network policies name.
import type { PostgresChart } from '../postgres/postgres-chart';
import type { SupabaseConfig } from '../../environments/supabase';
import type { PlatformChart } from '../../lib/chart';
import { type Peer, prometheusPeer } from '../../lib/network';
import type { SupabaseSecrets } from './secrets';

/** The database as the services see it: the postgres chart's outputs. */
export type DatabaseEndpoint = Pick<PostgresChart, 'host' | 'port' | 'clientLabels' | 'passwordRef' | 'exposedSchemas' | 'serviceName'>;

export interface ServiceContext {
  readonly chart: PlatformChart;
  readonly instance: string;
  readonly namespace: string;
  readonly priorityClassName: string;
  /** StorageClass of volumes (Storage's file backend). */
  readonly storageClassName: string;
  readonly config: SupabaseConfig;
  readonly secrets: SupabaseSecrets;
  readonly db: DatabaseEndpoint;
  /** The public base URL of the gateway, e.g. "https://defi.example.com". */
  readonly publicUrl: string;
  /** The Kong pods, which every service admits on its API port. */
  readonly gateway: Peer;
  /** Prometheus, for metrics ports. */
  readonly prometheus: Peer;
}

/** In-cluster URL of a Service of the same namespace. */
export function serviceUrl(ctx: Pick<ServiceContext, 'namespace'>, service: string, port: number, scheme = 'http'): string {
  return `${scheme}://${service}.${ctx.namespace}.svc.cluster.local:${port}`;
}

/** The pods of a service of this platform instance, by their selector labels. */
export function podsOf(ctx: Pick<ServiceContext, 'instance' | 'namespace'>, name: string, component: string): Peer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ctx.namespace } },
    podSelector: { matchLabels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': ctx.instance, 'app.kubernetes.io/component': component } },
  };
}

/** Egress to the database pods on the database port. */
export function toDatabase(ctx: ServiceContext) {
  return { port: ctx.db.port, peers: [podsOf(ctx, ctx.db.serviceName, 'database')] };
}

/**
 * The internet, for SMTP and S3: any address outside the private ranges and the cloud metadata
 * endpoint (REFERENCE.md R13).
 */
export const INTERNET: Peer = { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.169.254/32'] } };

export { prometheusPeer };
