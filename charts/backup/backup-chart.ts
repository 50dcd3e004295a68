// Backups of the data tier. PostgreSQL: CloudNativePG ScheduledBackups through the Barman Cloud
// Plugin (base backups to the object store, whose WAL archive the Cluster fills continuously)
// and, where the StorageClass can snapshot, volume-snapshot backups. Redis: a CronJob fetches an
// RDB snapshot over the network, checks it, keeps a count on the backup volume and copies it off
// site. Volume snapshots of the other stores. The scripts are real files beside this chart
// (files/), shipped in a ConfigMap. Nothing here deletes the backup volume.
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { type BackupConfig, withSeconds } from '../../environments/backup';
import type { Environment } from '../../environments/schema';
import { ScheduledBackup, ScheduledBackupSpecMethod, ScheduledBackupSpecTarget } from '../../imports/scheduledbackup-postgresql.cnpg.io';
import { PlatformChart } from '../../lib/chart';
import { projectFile } from '../../lib/files';
import { withMemoryAtLeast } from '../../lib/resources';
import { IMAGES, type PinnedImage } from '../../lib/images';
import { selectorLabels } from '../../lib/labels';
import { type PortRule, workloadNetworkPolicy } from '../../lib/network';
import { hardenedPodSpec, podTemplateMetadata, withExemptions, type ContainerSpec } from '../../lib/pod';
import { secretKeyRef } from '../../lib/secrets';
import { serviceAccount } from '../../lib/service-account';
import { BARMAN_PLUGIN } from '../postgres/object-store';
import type { RedisChart } from '../redis/redis-chart';
import { type DrillProps, restoreDrill } from './drill';
import { offsiteCopy } from './offsite';
import { volumeSnapshots } from './volume-snapshots';

export const BACKUP_SCRIPTS = ['redis-backup.sh', 'redis-load-check.sh', 'restore-redis.sh', 'offsite-copy.sh', 'snapshot-volumes.sh'] as const;
export const BACKUP_ROOT = '/backups';
/** The volume of Redis snapshots (its name predates the move of PostgreSQL's backups to object storage). */
export const BACKUP_CLAIM = 'postgres-backups';
export const SCRIPTS_DIR = '/opt/backup';
/** The ConfigMap with every backup and restore script. */
export const SCRIPTS_CONFIG_MAP = 'backup-scripts';

/** One backup CronJob: its script, image, environment and network needs. */
export interface CronJobSpec {
  name: string;
  schedule: string;
  image: PinnedImage;
  shell: 'bash' | 'sh';
  script: string;
  env: k8s.EnvVar[];
  clientLabels: Record<string, string>;
  egress: PortRule[];
  /** Jobs that call the Kubernetes API (and get a token; reason in lib/policy.ts). @default none */
  kubernetesApiAccess?: boolean;
  /** @default the backup resources */
  resources?: BackupConfig['resources'];
  /** @default the backup volume and the scripts */
  storage?: { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[] };
  /** A container that runs after the script succeeded (the script then runs as an init container). @default none */
  then?: ContainerSpec;
  /** @default 4 hours */
  deadlineSeconds?: number;
}

export interface BackupChartProps {
  readonly instance: string;
  readonly namespace: string;
  readonly priorityClassName: string;
  readonly storageClassName: string;
  readonly config: BackupConfig;
  readonly db: DrillProps['db'];
  /** Prefix of cluster-scoped names (the drill's admission policy). */
  readonly prefix: string;
  readonly redis: Pick<RedisChart, 'port' | 'instances' | 'credentials' | 'datasetMemory'>;
  /** The claims the volume snapshot CronJob snapshots, and the VolumeSnapshotClass it uses. */
  readonly volumeSnapshots: { readonly className: string; readonly targets: readonly { readonly namespace: string; readonly claim: string }[] };
  /** Addresses of the Kubernetes API server (the snapshot CronJob calls it). */
  readonly apiServerCidrs: readonly string[];
  /** Where the off-site bucket's credentials come from. */
  readonly secretSource: Environment['secrets'];
}

/** The backup volume as a pod uses it. */
export interface BackupVolume {
  readonly volumes: readonly k8s.Volume[];
  readonly mounts: readonly k8s.VolumeMount[];
}

export class BackupChart extends PlatformChart {
  /** For the restore Jobs (charts/backup/restore-chart.ts). */
  public readonly backupVolume: BackupVolume;

  constructor(scope: Construct, id: string, props: BackupChartProps) {
    super(scope, id, { layer: 'backup', instance: props.instance });
    const ns = props.namespace;
    const meta = (objectName: string, component: string, annotations?: Record<string, string>) =>
      this.metadata({ objectName, namespace: ns, name: objectName, component, version: IMAGES.postgres.tag, annotations });

    this.scheduledBackups(props);
    if (props.db.objectStoreName && props.config.objectStore) {
      restoreDrill(this, { ...props, store: props.config.objectStore });
    }

    const files = Object.fromEntries(BACKUP_SCRIPTS.map((f) => [f, projectFile(`charts/backup/files/${f}`)]));
    const scripts = new k8s.KubeConfigMap(this, 'scripts', { metadata: meta(SCRIPTS_CONFIG_MAP, 'backup'), data: files });
    // Holds the Redis snapshots: never pruned or deleted by Argo CD.
    new k8s.KubePersistentVolumeClaim(this, 'claim', {
      metadata: meta(BACKUP_CLAIM, 'backup', { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' }),
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: props.storageClassName, resources: { requests: { storage: k8s.Quantity.fromString(props.config.volumeSize) } } },
    });
    const volumes: k8s.Volume[] = [
      { name: 'scripts', configMap: { name: scripts.name, defaultMode: 0o555 } },
      { name: 'backups', persistentVolumeClaim: { claimName: BACKUP_CLAIM } },
    ];
    const mounts: k8s.VolumeMount[] = [
      { name: 'scripts', mountPath: SCRIPTS_DIR, readOnly: true },
      { name: 'backups', mountPath: BACKUP_ROOT },
    ];
    this.backupVolume = { volumes, mounts };
    const restartOn = Object.values(files);

    const cronJob = (spec: CronJobSpec): Construct => {
      const labels = { name: spec.name, component: 'backup', version: spec.image.tag };
      const selector = selectorLabels(this.labelSpec(labels));
      const jobMeta = this.metadata({ ...labels, objectName: spec.name, namespace: ns });
      const scope = new Construct(this, spec.name);
      const account = serviceAccount(scope, jobMeta);
      const main: ContainerSpec = {
        name: spec.name,
        image: spec.image,
        command: [spec.shell, `${SCRIPTS_DIR}/${spec.script}`],
        env: spec.env,
        resources: spec.resources ?? props.config.resources,
        volumeMounts: spec.storage?.mounts ?? mounts,
        writablePaths: [{ path: '/tmp' }],
      };
      new k8s.KubeCronJob(scope, 'cron-job', {
        metadata: withExemptions(jobMeta, { kubernetesApiAccess: spec.kubernetesApiAccess }),
        spec: {
          schedule: spec.schedule,
          timeZone: 'Etc/UTC',
          concurrencyPolicy: 'Forbid',
          startingDeadlineSeconds: 3600,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 2,
              activeDeadlineSeconds: spec.deadlineSeconds ?? 4 * 3600,
              template: {
                metadata: podTemplateMetadata(jobMeta.labels, spec.clientLabels, restartOn),
                spec: hardenedPodSpec({
                  serviceAccountName: account.name,
                  ...(spec.kubernetesApiAccess ? { kubernetesApiAccess: spec.kubernetesApiAccess } : {}),
                  priorityClassName: props.priorityClassName,
                  restartPolicy: 'Never',
                  volumes: spec.storage?.volumes ?? volumes,
                  ...(spec.then ? { initContainers: [main], containers: [spec.then] } : { containers: [main] }),
                }),
              },
            },
          },
        },
      });
      workloadNetworkPolicy(scope, jobMeta, { selector, ingress: [], egress: spec.egress });
      return scope;
    };

    const offsite = offsiteCopy(this, props, mounts);
    cronJob({
      name: 'redis-backup',
      schedule: props.config.redis.schedule,
      image: IMAGES.redis,
      // The Redis image is Alpine: POSIX sh, no bash.
      shell: 'sh',
      script: 'redis-backup.sh',
      env: [
        // Every instance: the script takes the snapshot from a replica in sync.
        { name: 'REDIS_HOSTS', value: props.redis.instances.addresses.join(' ') },
        // redis-cli reads the password from here without putting it on its command line.
        { name: 'REDISCLI_AUTH', valueFrom: secretKeyRef(props.redis.credentials, 'redis-password') },
        { name: 'BACKUP_ROOT', value: BACKUP_ROOT },
        { name: 'REDIS_RETAIN_COUNT', value: String(props.config.redis.retainCount) },
      ],
      // redis-load-check.sh loads the snapshot into a scratch redis-server: the whole dataset.
      resources: withMemoryAtLeast(props.config.resources, props.redis.datasetMemory),
      clientLabels: props.redis.instances.clientLabels,
      egress: [{ port: props.redis.port, peers: [props.redis.instances.peer] }, ...(offsite ? [offsite.egress] : [])],
      ...(offsite ? { then: offsite.container } : {}),
    });
    volumeSnapshots(this, props, cronJob, { volumes: volumes.filter((v) => v.name === 'scripts'), mounts: mounts.filter((m) => m.name === 'scripts') });
  }

  /** PostgreSQL's backups: daily base backups to the object store, and volume snapshots where configured. */
  private scheduledBackups(props: BackupChartProps): void {
    if (!props.db.objectStoreName) return;
    const meta = (objectName: string) => this.metadata({ objectName, namespace: props.namespace, name: 'postgres', component: 'backup', version: IMAGES.postgres.tag });
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
