// Backups of the data tier. PostgreSQL: CloudNativePG ScheduledBackups through the Barman Cloud
// Plugin (base backups to the object store, whose WAL archive the Cluster fills continuously)
// and, where the StorageClass can snapshot, volume-snapshot backups. Redis: a CronJob fetches an
// RDB snapshot over the network, checks it, keeps a count on the backup volume and copies it off
// site. Volume snapshots of the other stores. The scripts are real files beside this chart
// (files/), shipped in a ConfigMap. Nothing here deletes the backup volume.
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import { type BackupConfig, withSeconds } from '../../environments/backup';
import { ScheduledBackup, ScheduledBackupSpecMethod, ScheduledBackupSpecTarget } from '../../imports/scheduledbackup-postgresql.cnpg.io';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { projectFile } from '../../lib/files';
import { withMemoryAtLeast } from '../../lib/resources';
import { IMAGES } from '../../lib/images';
import { ScheduledJob } from '../../lib/job';
import { secretKeyRef } from '../../lib/secrets';
import { BARMAN_PLUGIN } from '../postgres/object-store';
import type { RedisStore } from '../redis/redis-chart';
import { type DrillProps, restoreDrill } from './drill';
import { BACKUP_CLAIM, BACKUP_ROOT, BACKUP_SCRIPTS, type BackupVolume, SCRIPTS_CONFIG_MAP, SCRIPTS_DIR, scriptStep } from './layout';
import { offsiteCopy } from './offsite';
import { type SnapshotTarget, volumeSnapshots } from './volume-snapshots';

export interface BackupChartProps extends ChartProps {
  readonly config: BackupConfig;
  /** The database: its backups, its restore drill, and where the drill records its result. */
  readonly db: DrillProps['db'];
  /** Redis, whose instances the snapshot CronJob reads. */
  readonly redis: RedisStore;
  /** The claims the volume snapshot CronJob snapshots (none: no CronJob). */
  readonly snapshotTargets: readonly SnapshotTarget[];
}

export class BackupChart extends PlatformChart {
  /** For the restore Jobs (charts/backup/restore-chart.ts). */
  public readonly backupVolume: BackupVolume;

  constructor(scope: Construct, id: string, props: BackupChartProps) {
    super(scope, id, props);
    const ns = this.platform.namespaces.supabase;
    const meta = (objectName: string, component: string, annotations?: Record<string, string>) =>
      this.metadata({ objectName, namespace: ns, name: objectName, component, version: IMAGES.postgres.tag, annotations });

    this.scheduledBackups(props);
    if (props.db.objectStoreName && props.config.objectStore) {
      restoreDrill(this, { namespace: ns, config: props.config, db: props.db, store: props.config.objectStore });
    }

    const files = Object.fromEntries(BACKUP_SCRIPTS.map((f) => [f, projectFile(`charts/backup/files/${f}`)]));
    const scripts = new k8s.KubeConfigMap(this, 'scripts', { metadata: meta(SCRIPTS_CONFIG_MAP, 'backup'), data: files });
    // Holds the Redis snapshots: never pruned or deleted by Argo CD.
    new k8s.KubePersistentVolumeClaim(this, 'claim', {
      metadata: meta(BACKUP_CLAIM, 'backup', { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' }),
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: this.platform.storage.className,
        resources: { requests: { storage: k8s.Quantity.fromString(props.config.volumeSize) } },
      },
    });
    const scriptsOnly: BackupVolume = {
      volumes: [{ name: 'scripts', configMap: { name: scripts.name, defaultMode: 0o555 } }],
      mounts: [{ name: 'scripts', mountPath: SCRIPTS_DIR, readOnly: true }],
    };
    this.backupVolume = {
      volumes: [...scriptsOnly.volumes, { name: 'backups', persistentVolumeClaim: { claimName: BACKUP_CLAIM } }],
      mounts: [...scriptsOnly.mounts, { name: 'backups', mountPath: BACKUP_ROOT }],
    };
    const restartOn = Object.values(files);

    this.redisBackup(props, restartOn);
    volumeSnapshots(this, { namespace: ns, config: props.config, targets: props.snapshotTargets, scripts: scriptsOnly, restartOn });
  }

  /** The Redis snapshot CronJob, with the off-site copy after it where the environment has one. */
  private redisBackup(props: BackupChartProps, restartOn: readonly string[]): void {
    const { config, redis } = props;
    const namespace = this.platform.namespaces.supabase;
    const offsite = offsiteCopy(this, { namespace, config, mounts: this.backupVolume.mounts });
    const snapshot = scriptStep({
      name: 'redis-backup',
      image: IMAGES.redis,
      // The Redis image is Alpine: POSIX sh, no bash.
      shell: 'sh',
      script: 'redis-backup.sh',
      env: [
        // Every instance: the script takes the snapshot from a replica in sync.
        { name: 'REDIS_HOSTS', value: redis.instances.addresses.join(' ') },
        // redis-cli reads the password from here without putting it on its command line.
        { name: 'REDISCLI_AUTH', valueFrom: secretKeyRef(redis.credentials, 'redis-password') },
        { name: 'BACKUP_ROOT', value: BACKUP_ROOT },
        { name: 'REDIS_RETAIN_COUNT', value: String(config.redis.retainCount) },
      ],
      // redis-load-check.sh loads the snapshot into a scratch redis-server: the whole dataset.
      resources: withMemoryAtLeast(config.resources, redis.datasetMemory),
      volumeMounts: this.backupVolume.mounts,
    });
    new ScheduledJob(this, 'redis-backup', {
      name: 'redis-backup',
      component: 'backup',
      namespace,
      version: IMAGES.redis.tag,
      schedule: config.redis.schedule,
      backoffLimit: 2,
      activeDeadlineSeconds: 4 * 3600,
      podLabels: redis.instances.clientLabels,
      restartOn,
      pod: {
        priorityClassName: this.platform.priorityClasses.data,
        volumes: [...this.backupVolume.volumes],
        // The copy runs only once the snapshot succeeded: the snapshot step is then an init container.
        ...(offsite ? { initContainers: [snapshot], containers: [offsite.container] } : { containers: [snapshot] }),
      },
      network: {
        ingress: [],
        egress: [{ port: redis.port, peers: [redis.instances.peer] }, ...(offsite ? [offsite.egress] : [])],
      },
    });
  }

  /** PostgreSQL's backups: daily base backups to the object store, and volume snapshots where configured. */
  private scheduledBackups(props: BackupChartProps): void {
    if (!props.db.objectStoreName) return;
    const namespace = this.platform.namespaces.supabase;
    const meta = (objectName: string) => this.metadata({ objectName, namespace, name: 'postgres', component: 'backup', version: IMAGES.postgres.tag });
    new ScheduledBackup(this, 'postgres-daily', {
      metadata: meta('postgres-daily'),
      spec: {
        cluster: { name: props.db.clusterName },
        schedule: withSeconds(props.config.baseBackup.schedule),
        method: ScheduledBackupSpecMethod.PLUGIN,
        pluginConfiguration: { name: BARMAN_PLUGIN },
        // From a standby when there is one: the primary's I/O stays with the clients.
        target: ScheduledBackupSpecTarget.PREFER_HYPHEN_STANDBY,
        immediate: true,
      },
    });
    const snapshots = props.config.postgresSnapshots;
    if (snapshots) {
      new ScheduledBackup(this, 'postgres-snapshots', {
        metadata: meta('postgres-snapshots'),
        spec: {
          cluster: { name: props.db.clusterName },
          schedule: withSeconds(snapshots.schedule),
          method: ScheduledBackupSpecMethod.VOLUME_SNAPSHOT,
          target: ScheduledBackupSpecTarget.PREFER_HYPHEN_STANDBY,
        },
      });
    }
  }
}
