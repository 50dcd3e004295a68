// What every Supabase service builder gets: where it runs, how to reach the database, the
// declared Secrets, and the peers the network policies name.
import type { PostgresChart } from '../postgres/postgres-chart';
import type { SupabaseConfig } from '../../environments/supabase';
import type { PlatformChart } from '../../lib/chart';
import { type Peer, podsOf } from '../../lib/network';
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

/** Egress to the database pods on the database port. */
export function toDatabase(ctx: ServiceContext) {
  return { port: ctx.db.port, peers: [podsOf(ctx.namespace, ctx.instance, ctx.db.serviceName, 'database')] };
}
