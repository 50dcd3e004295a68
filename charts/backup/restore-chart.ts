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
import { OnDemandChart } from '../../lib/chart';
import { IMAGES, type PinnedImage } from '../../lib/images';
import { selectorLabels } from '../../lib/labels';
import { workloadNetworkPolicy } from '../../lib/network';
import { hardenedPodSpec } from '../../lib/pod';
import { serviceAccount } from '../../lib/service-account';
import type { BackupConfig } from '../../environments/backup';
import { withMemoryAtLeast } from '../../lib/resources';
import type { PostgresChart } from '../postgres/postgres-chart';
import { RECOVERY_CLUSTERS, recoveryCluster } from '../postgres/recovery';
import { REDIS_DATA_DIR } from '../redis/config';
import type { RedisChart } from '../redis/redis-chart';
import { type RecoveryDatabase, recoveryCheckPod, recoveryScripts, recoveryClusterNetworkPolicy, toRecoveryCluster } from './recovery-check';
import { BACKUP_ROOT, type BackupVolume, SCRIPTS_DIR } from './backup-chart';

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

export interface RestoreChartProps {
  readonly instance: string;
  readonly namespace: string;
  readonly config: BackupConfig;
  /** The data volume the restore writes into: the StatefulSet's claim of pod 0. */
  readonly claims: { readonly redis: string };
  /** Redis, for the memory its restore's load check needs. */
  readonly redis: Pick<RedisChart, 'datasetMemory'>;
  /** The backup volume and the scripts, as the backup chart mounts them. */
  readonly backupVolume: BackupVolume;
  /** The database, for recovery Clusters from its object store (none without one). */
  readonly db: RecoveryDatabase & Pick<PostgresChart, 'operatorPeer'>;
  /** Addresses of the Kubernetes API server (a recovery Cluster's instance manager calls it). */
  readonly apiServerCidrs: readonly string[];
}

export class RestoreChart extends OnDemandChart {
  constructor(scope: Construct, id: string, props: RestoreChartProps) {
    super(scope, id, { instance: props.instance, supportLayer: 'backup' });
    const ns = props.namespace;
    const backup = props.backupVolume;
    const support = this.support;

    const job = (spec: { name: string; image: PinnedImage; shell: 'bash' | 'sh'; script: string; dataClaim: string; dataMount: string; env: k8s.EnvVar[]; resources: BackupConfig['resources'] }) => {
      const labels = { name: spec.name, component: 'restore', version: spec.image.tag };
      const meta = this.metadata({ ...labels, objectName: spec.name, namespace: ns });
      const scope = new Construct(this, spec.name);
      const supportScope = new Construct(support, spec.name);
      const account = serviceAccount(supportScope, meta);
      new k8s.KubeJob(scope, 'job', {
        metadata: meta,
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: 3600,
          ttlSecondsAfterFinished: 7 * 24 * 3600,
          template: {
            metadata: { labels: meta.labels },
            spec: hardenedPodSpec({
              serviceAccountName: account.name,
              restartPolicy: 'Never',
              volumes: [...backup.volumes, { name: 'data', persistentVolumeClaim: { claimName: spec.dataClaim } }],
              containers: [
                {
                  name: spec.name,
                  image: spec.image,
                  command: [spec.shell, `${SCRIPTS_DIR}/${spec.script}`],
                  env: [{ name: 'BACKUP_ROOT', value: BACKUP_ROOT }, ...spec.env],
                  resources: spec.resources,
                  // Restores only read the backups.
                  volumeMounts: [...backup.mounts.map((m) => ({ ...m, readOnly: true })), { name: 'data', mountPath: spec.dataMount }],
                  writablePaths: [{ path: '/tmp' }],
                },
              ],
            }),
          },
        },
      });
      // Reads and writes volumes only: no connection in or out.
      workloadNetworkPolicy(supportScope, meta, { selector: selectorLabels(this.labelSpec(labels)), ingress: [], egress: [] });
    };
    const inputs = (names: readonly string[], defaults: Record<string, string>) => names.map((name) => ({ name, value: defaults[name] ?? '' }));

    if (props.db.objectStoreName && props.config.objectStore) this.postgresRecovery(props, props.config.objectStore);

    job({
      name: RESTORE_JOBS.redis,
      image: IMAGES.redis,
      shell: 'sh',
      script: 'restore-redis.sh',
      dataClaim: props.claims.redis,
      dataMount: REDIS_DATA_DIR,
      env: [{ name: 'REDIS_DATA', value: REDIS_DATA_DIR }, ...inputs(RESTORE_INPUTS.redis, { RESTORE_SNAPSHOT: 'latest', RESTORE_FORCE: 'false' })],
      // redis-load-check.sh loads the snapshot into a scratch redis-server: the whole dataset.
      resources: withMemoryAtLeast(props.config.resources, props.redis.datasetMemory),
    });
  }

  /** The recovery Cluster template and the Job that checks it, with their support objects. */
  private postgresRecovery(props: RestoreChartProps, store: NonNullable<BackupConfig['objectStore']>): void {
    const ns = props.namespace;
    const version = IMAGES.postgres.tag;
    new ApiObject(this, 'postgres-recovery', recoveryCluster(props.db, { name: RECOVERY_CLUSTERS.restore, component: 'recovery', target: { kind: 'latest' } }) as ApiObjectProps);

    const files = recoveryScripts();
    new k8s.KubeConfigMap(this.support, 'recovery-scripts', { metadata: this.support.metadata({ objectName: RECOVERY_SCRIPTS, namespace: ns, name: 'postgres', component: 'recovery', version }), data: files });
    const labels = { name: RECOVERY_CHECK_JOB, component: 'restore', version };
    const meta = this.metadata({ ...labels, objectName: RECOVERY_CHECK_JOB, namespace: ns });
    const supportScope = new Construct(this.support, RECOVERY_CHECK_JOB);
    const account = serviceAccount(supportScope, meta);
    const pod = recoveryCheckPod(
      { db: props.db, store, instance: props.instance, clusterName: RECOVERY_CLUSTERS.restore, scriptsConfigMap: RECOVERY_SCRIPTS, resources: props.config.resources, sidecarResources: props.config.sidecarResources },
      'latest',
    );
    new k8s.KubeJob(this, RECOVERY_CHECK_JOB, {
      metadata: meta,
      spec: {
        backoffLimit: 0,
        // The recovery itself (restoring the base backup, replaying WAL) comes first.
        activeDeadlineSeconds: props.config.drill.maxRtoMinutes * 60 + 3600,
        ttlSecondsAfterFinished: 7 * 24 * 3600,
        template: {
          metadata: { labels: meta.labels },
          spec: hardenedPodSpec({ serviceAccountName: account.name, restartPolicy: 'Never', volumes: pod.volumes, initContainers: [pod.list], containers: [pod.check] }),
        },
      },
    });
    const checker = selectorLabels(this.labelSpec(labels));
    workloadNetworkPolicy(supportScope, meta, { selector: checker, ingress: [], egress: toRecoveryCluster(props, 'recovery', props.instance) });
    recoveryClusterNetworkPolicy(new Construct(this.support, 'recovery-cluster'), this.support.metadata({ objectName: RECOVERY_CLUSTERS.restore, namespace: ns, name: 'postgres', component: 'recovery', version }), {
      instance: props.instance,
      component: 'recovery',
      operator: props.db.operatorPeer,
      checkers: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: checker } }],
      apiServerCidrs: props.apiServerCidrs,
    });
  }
}
