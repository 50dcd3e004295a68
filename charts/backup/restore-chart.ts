// Restores, written to dist/<env>/on-demand/: no Argo CD Application syncs that folder, so a
// restore never runs by accident; `npm run cli -- restore` fills in the target and prints or
// applies it.
// - PostgreSQL: a recovery Cluster (charts/postgres/recovery.ts) bootstrapped from the object
//   store, never the running one, and a Job that checks what it reached against what the archive
//   holds and fails loudly on any shortfall.
// - Redis: a Job that prepares the data directory of a STOPPED Redis (the runbook says how to
//   stop it and start it again); it refuses a directory that holds data unless forced, and moves
//   the old data aside instead of deleting it.
// What the Jobs need and that does nothing by itself (ServiceAccounts, NetworkPolicies, scripts)
// is synced with the backup layer.
import { ApiObject, type ApiObjectProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { BackupConfig } from '../../environments/backup';
import { OnDemandChart, type OnDemandChartProps } from '../../lib/chart';
import { IMAGES } from '../../lib/images';
import { Job } from '../../lib/job';
import { withMemoryAtLeast } from '../../lib/resources';
import { claimOf } from '../../lib/stateful-set';
import type { RecoverableDatabase } from '../postgres/postgres-chart';
import { RECOVERY_CLUSTERS, recoveryCluster } from '../postgres/recovery';
import { REDIS_DATA_DIR } from '../redis/config';
import type { RedisStore } from '../redis/redis-chart';
import { BACKUP_ROOT, type BackupVolume, scriptStep } from './layout';
import { recoveryCheckPod, recoveryClusterNetworkPolicy, recoveryEndpoint, recoveryScripts, toRecoveryCluster } from './recovery-check';

export const RESTORE_JOBS = { redis: 'redis-restore' } as const;
/** The Job that checks a PostgreSQL recovery Cluster, and the ConfigMap of its scripts. */
export const RECOVERY_CHECK_JOB = 'postgres-recovery-check';
export const RECOVERY_SCRIPTS = 'postgres-recovery-scripts';

/** Environment variables of each restore Job that `cli restore` sets. */
export const RESTORE_INPUTS = {
  redis: ['RESTORE_SNAPSHOT', 'RESTORE_FORCE'],
  /** Of the recovery check Job (the recovery Cluster takes the target in its spec). */
  postgres: ['RECOVERY_TARGET'],
} as const;

/** A finished restore Job, with its pods' logs, is kept a week for the incident review. */
const KEEP_FINISHED_SECONDS = 7 * 24 * 3600;

export interface RestoreChartProps extends OnDemandChartProps {
  readonly config: BackupConfig;
  /** Redis: its StatefulSet, whose pod 0's data volume the restore writes, and its dataset's memory for the load check. */
  readonly redis: RedisStore;
  /** The backup volume and the scripts, as the backup chart mounts them. */
  readonly backupVolume: BackupVolume;
  /** The database, for recovery Clusters from its object store (none without one). */
  readonly db: RecoverableDatabase;
}

export class RestoreChart extends OnDemandChart {
  constructor(scope: Construct, id: string, props: RestoreChartProps) {
    super(scope, id, props);
    if (props.db.objectStoreName && props.config.objectStore) this.postgresRecovery(props, props.config.objectStore);
    this.redisRestore(props);
  }

  /** The Job that prepares a stopped Redis's data directory from a snapshot of the backup volume. */
  private redisRestore(props: RestoreChartProps): void {
    const name = RESTORE_JOBS.redis;
    const backup = props.backupVolume;
    const defaults: Record<string, string> = { RESTORE_SNAPSHOT: 'latest', RESTORE_FORCE: 'false' };
    const inputs = RESTORE_INPUTS.redis.map((input) => ({ name: input, value: defaults[input] ?? '' }));
    const step = scriptStep({
      name,
      image: IMAGES.redis,
      shell: 'sh',
      script: 'restore-redis.sh',
      env: [{ name: 'BACKUP_ROOT', value: BACKUP_ROOT }, { name: 'REDIS_DATA', value: REDIS_DATA_DIR }, ...inputs],
      // redis-load-check.sh loads the snapshot into a scratch redis-server: the whole dataset.
      resources: withMemoryAtLeast(props.config.resources, props.redis.datasetMemory),
      // Restores only read the backups.
      volumeMounts: [...backup.mounts.map((m) => ({ ...m, readOnly: true })), { name: 'data', mountPath: REDIS_DATA_DIR }],
    });
    new Job(this.support, name, {
      name,
      component: 'restore',
      namespace: this.platform.namespaces.supabase,
      version: IMAGES.redis.tag,
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: KEEP_FINISHED_SECONDS,
      jobObject: { scope: new Construct(this, name), id: 'job' },
      pod: {
        volumes: [...backup.volumes, { name: 'data', persistentVolumeClaim: { claimName: claimOf(props.redis.statefulSetName) } }],
        containers: [step],
      },
      // Reads and writes volumes only: no connection in or out.
      network: { ingress: [], egress: [] },
    });
  }

  /** The recovery Cluster template and the Job that checks it, with their support objects. */
  private postgresRecovery(props: RestoreChartProps, store: NonNullable<BackupConfig['objectStore']>): void {
    const ns = this.platform.namespaces.supabase;
    const { instance, network } = this.platform;
    const version = IMAGES.postgres.tag;
    const cluster = { name: RECOVERY_CLUSTERS.restore, component: 'recovery' };
    new ApiObject(this, 'postgres-recovery', recoveryCluster(props.db, { ...cluster, target: { kind: 'latest' } }) as ApiObjectProps);

    const scripts = new k8s.KubeConfigMap(this.support, 'recovery-scripts', {
      metadata: this.support.metadata({ objectName: RECOVERY_SCRIPTS, namespace: ns, name: 'postgres', component: 'recovery', version }),
      data: recoveryScripts(),
    });
    const recovery = recoveryEndpoint(props.db, cluster, instance);
    const { sidecarResources, resources } = props.config;
    const pod = recoveryCheckPod({ db: props.db, store, instance, recovery, scriptsConfigMap: scripts.name, resources, sidecarResources }, 'latest');
    const check = new Job(this.support, RECOVERY_CHECK_JOB, {
      name: RECOVERY_CHECK_JOB,
      component: 'restore',
      namespace: ns,
      version,
      // The recovery itself (restoring the base backup, replaying WAL) comes first.
      activeDeadlineSeconds: props.config.drill.maxRtoMinutes * 60 + 3600,
      ttlSecondsAfterFinished: KEEP_FINISHED_SECONDS,
      jobObject: { scope: this, id: RECOVERY_CHECK_JOB },
      pod: { volumes: pod.volumes, initContainers: [pod.list], containers: [pod.check] },
      network: { ingress: [], egress: toRecoveryCluster(recovery) },
    });
    const clusterMeta = this.support.metadata({ objectName: cluster.name, namespace: ns, name: 'postgres', component: cluster.component, version });
    recoveryClusterNetworkPolicy(new Construct(this.support, 'recovery-cluster'), clusterMeta, {
      instance,
      component: cluster.component,
      operator: props.db.operatorPeer,
      checkers: [check.peer],
      apiServerCidrs: network.apiServerCidrs,
    });
  }
}
