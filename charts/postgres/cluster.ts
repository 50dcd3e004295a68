// The CloudNativePG Cluster's spec, in two parts: what every Cluster of this database shares (the
// main Cluster and the recovery Clusters of a restore or drill: image, ownership, resources, TLS,
// the pgsodium key, volumes, settings, roles) and what only the main Cluster has (instances,
// placement, synchronous replication, failover timing, monitoring, archiving, snapshots).
import type { PostgresConfig } from '../../environments/data-tier';
import {
  ClusterSpecPostgresqlSynchronousDataDurability,
  ClusterSpecPostgresqlSynchronousMethod,
  ClusterSpecPrimaryUpdateMethod,
  ClusterSpecPrimaryUpdateStrategy,
  type ClusterSpec,
  type ClusterSpecPostgresqlSynchronous,
  type ClusterSpecResources,
} from '../../imports/cluster-postgresql.cnpg.io';
import type { PlatformContext } from '../../lib/context';
import { IMAGES, imageRef, pullPolicy } from '../../lib/images';
import { quantity } from '../../lib/quantity';
import { crdResources } from '../../lib/resources';
import type { SecretSpec } from '../../lib/secrets';
import { pgHba } from './hba';
import { CUSTOM_QUERIES_KEY } from './monitoring';
import { BARMAN_PLUGIN } from './object-store';
import { clusterParameters, SHARED_PRELOAD_LIBRARIES } from './parameters';
import { LOGIN_ROLES, type LoginRole, managedRole } from './roles';

/**
 * The image's own `postgres` user and group (supabase/postgres Dockerfile-15 creates them as
 * system accounts; docs/decisions/0005-postgres-on-cloudnativepg.md has the lines). The data
 * directory and the image's files belong to them.
 */
export const POSTGRES_UID = 101;
export const POSTGRES_GID = 102;

/** The pgsodium root key's Secret: every instance and every recovery Cluster mounts it. */
export function pgsodiumSecret(namespace: string): SecretSpec {
  return {
    name: 'postgres-pgsodium',
    namespace,
    description: 'The pgsodium root key, from which pgsodium and Vault derive their encryption keys: every instance and every restore reads it',
    keys: [
      {
        key: 'root-key',
        description: 'pgsodium root key (64 hex characters): back it up with the database, it cannot be recovered',
        generate: { kind: 'hex', bytes: 32 },
      },
    ],
  };
}

export interface SharedSpecInputs {
  readonly config: PostgresConfig;
  /** Size of each instance's data volume. */
  readonly dataVolumeSize: string;
  readonly storage: PlatformContext['storage'];
  readonly priorityClassName: string;
  /** The server certificate's Secret (cert-manager), with its CA. */
  readonly serverTlsSecret: string;
  /** The pgsodium root key and the ConfigMap of the script that hands it to the server. */
  readonly pgsodium: { readonly secret: SecretSpec; readonly getkeyConfigMap: string };
  readonly roleSecrets: Readonly<Record<LoginRole, SecretSpec>>;
  /** Whether WAL is archived (archive_mode, archive_timeout). */
  readonly archiving: boolean;
}

/** What every Cluster of this database shares; `podLabels` label its pods. */
export function sharedSpec(i: SharedSpecInputs, podLabels: Record<string, string>): Omit<ClusterSpec, 'instances'> {
  const c = i.config;
  return {
    imageName: imageRef(IMAGES.postgres),
    // Always while the image is pinned by tag only (a tag can be moved), IfNotPresent once by digest.
    imagePullPolicy: pullPolicy(IMAGES.postgres),
    postgresUid: POSTGRES_UID,
    postgresGid: POSTGRES_GID,
    enableSuperuserAccess: false,
    priorityClassName: i.priorityClassName,
    resources: crdResources<ClusterSpecResources>(c.resources),
    inheritedMetadata: { labels: podLabels },
    certificates: { serverTlsSecret: i.serverTlsSecret, serverCaSecret: i.serverTlsSecret },
    projectedVolumeTemplate: {
      sources: [
        // Owner root, group the pod's fsGroup (CloudNativePG sets it to postgresGID): the server reads it through the group.
        { secret: { name: i.pgsodium.secret.name, items: [{ key: 'root-key', path: 'pgsodium/root.key', mode: 0o440 }] } },
        { configMap: { name: i.pgsodium.getkeyConfigMap, items: [{ key: 'getkey.sh', path: 'pgsodium/getkey.sh', mode: 0o555 }] } },
      ],
    },
    storage: { size: i.dataVolumeSize, storageClass: i.storage.className },
    walStorage: { size: c.walVolumeSize, storageClass: i.storage.className },
    postgresql: {
      parameters: clusterParameters({
        memoryBytes: quantity(c.resources.limits.memory),
        cpuCores: quantity(c.resources.requests.cpu),
        maxConnections: c.tuning.maxConnections,
        profile: c.tuning.profile,
        storageType: c.tuning.storageType,
        logMinDurationMs: c.tuning.logMinDurationMs,
        walVolumeBytes: quantity(c.walVolumeSize),
        archiving: i.archiving,
      }),
      sharedPreloadLibraries: [...SHARED_PRELOAD_LIBRARIES],
      pgHba: pgHba(),
    },
    managed: { roles: (Object.keys(LOGIN_ROLES) as LoginRole[]).map((role) => managedRole(role, i.roleSecrets[role])) },
  };
}

export interface MainSpecInputs {
  readonly clusterName: string;
  readonly description: string;
  /** The ConfigMap of the custom metrics queries. */
  readonly queriesConfigMap: string;
  /** The Barman Cloud ObjectStore, when WAL is archived. */
  readonly objectStoreName?: string;
  /** Take volume-snapshot backups with this VolumeSnapshotClass. @default none */
  readonly snapshotClassName?: string;
}

/** The main Cluster's spec: the shared part plus instances, placement, replication and backups. */
export function mainSpec(shared: Omit<ClusterSpec, 'instances'>, c: PostgresConfig, m: MainSpecInputs): ClusterSpec {
  return {
    ...shared,
    description: m.description,
    instances: c.instances,
    primaryUpdateStrategy: ClusterSpecPrimaryUpdateStrategy.UNSUPERVISED,
    // A new image or setting reaches the standbys first, then a switchover moves the primary
    // (seconds of pause) instead of restarting it in place.
    primaryUpdateMethod: ClusterSpecPrimaryUpdateMethod.SWITCHOVER,
    switchoverDelay: c.failover.switchoverDelaySeconds,
    failoverDelay: c.failover.failoverDelaySeconds,
    smartShutdownTimeout: c.failover.smartShutdownTimeoutSeconds,
    stopDelay: c.failover.stopDelaySeconds,
    affinity: { enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' },
    ...(c.zoneSpread
      ? {
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: 'DoNotSchedule',
              labelSelector: { matchLabels: { 'cnpg.io/cluster': m.clusterName } },
            },
          ],
        }
      : {}),
    postgresql: { ...shared.postgresql, ...(c.synchronous ? { synchronous: synchronous(c.synchronous) } : {}) },
    // CloudNativePG's default application database and owner ("app") stay unused: Supabase
    // lives in "postgres", set up by the bootstrap Job.
    bootstrap: { initdb: { dataChecksums: true, encoding: 'UTF8' } },
    monitoring: { customQueriesConfigMap: [{ name: m.queriesConfigMap, key: CUSTOM_QUERIES_KEY }] },
    ...(m.objectStoreName ? { plugins: [{ name: BARMAN_PLUGIN, isWalArchiver: true, parameters: { barmanObjectName: m.objectStoreName } }] } : {}),
    ...(m.snapshotClassName ? { backup: { volumeSnapshot: { className: m.snapshotClassName } } } : {}),
  };
}

/** Quorum (ANY) or priority (FIRST) synchronous replication, as the environment chose. */
function synchronous(sync: NonNullable<PostgresConfig['synchronous']>): ClusterSpecPostgresqlSynchronous {
  return {
    method: sync.method === 'any' ? ClusterSpecPostgresqlSynchronousMethod.ANY : ClusterSpecPostgresqlSynchronousMethod.FIRST,
    number: sync.number,
    dataDurability:
      sync.dataDurability === 'required' ? ClusterSpecPostgresqlSynchronousDataDurability.REQUIRED : ClusterSpecPostgresqlSynchronousDataDurability.PREFERRED,
    ...(sync.failoverQuorum ? { failoverQuorum: true } : {}),
  };
}
