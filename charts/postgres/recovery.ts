// A recovery Cluster: a NEW CloudNativePG Cluster bootstrapped from the object store (the base
// backup the Barman Cloud Plugin picks, then archived WAL to the target), never the running one.
// It runs the same image, settings, roles, TLS certificate and pgsodium key as the platform
// database, one instance, and archives nothing: it must never write into the production store.
// `npm run cli -- restore` and the weekly drill both start from this.
import { type ClusterSpec, toJson_ClusterSpec } from '../../imports/cluster-postgresql.cnpg.io';
import { BARMAN_PLUGIN } from './object-store';

/** What a restore stops at: the end of the archive, a time (RFC 3339 with its offset) or an LSN. */
export type RecoveryTarget = { readonly kind: 'latest' } | { readonly kind: 'time'; readonly time: string } | { readonly kind: 'lsn'; readonly lsn: string };

/** The fixed names of the recovery Clusters (the server certificate covers their Services). */
export const RECOVERY_CLUSTERS = { restore: 'postgres-recovery', drill: 'postgres-drill' } as const;

/** The external cluster the recovery reads: the platform database's archive in the object store. */
const ORIGIN = 'origin';

/**
 * What a recovery Cluster is made from, all of which PostgresChart has. Stated here, not picked
 * from PostgresChart: postgres-chart.ts imports this module, and the two would import each other.
 */
export interface RecoverySource {
  readonly recoverySpec: (component: string) => { labels: Record<string, string>; spec: Omit<ClusterSpec, 'instances'> };
  readonly dataNamespace: string;
  readonly objectStoreName?: string;
  readonly clusterName: string;
}

export interface RecoveryClusterProps {
  readonly name: string;
  /** The component label of its pods (the NetworkPolicy that lets them reach the store selects it). */
  readonly component: string;
  readonly target: RecoveryTarget;
}

/** The recovery target as CloudNativePG takes it (`bootstrap.recovery.recoveryTarget`). */
export function recoveryTargetSpec(target: RecoveryTarget): { targetTime?: string; targetLsn?: string } | undefined {
  switch (target.kind) {
    case 'latest':
      return undefined;
    case 'time':
      return { targetTime: target.time };
    case 'lsn':
      return { targetLsn: target.lsn };
  }
}

/** The recovery Cluster's manifest, as plain JSON (the CLI and the drill's ConfigMap write it out). */
export function recoveryCluster(db: RecoverySource, props: RecoveryClusterProps): Record<string, unknown> {
  if (!db.objectStoreName) throw new Error('internal: a recovery Cluster needs the object store of the environment');
  const base = db.recoverySpec(props.component);
  const target = recoveryTargetSpec(props.target);
  return {
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: { name: props.name, namespace: db.dataNamespace, labels: base.labels },
    spec: toJson_ClusterSpec({
      ...base.spec,
      instances: 1,
      bootstrap: { recovery: { source: ORIGIN, ...(target ? { recoveryTarget: target } : {}) } },
      externalClusters: [{ name: ORIGIN, plugin: { name: BARMAN_PLUGIN, parameters: { barmanObjectName: db.objectStoreName, serverName: db.clusterName } } }],
    }),
  };
}
