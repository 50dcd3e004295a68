// Backups of the data tier. PostgreSQL: pg_receivewal streams WAL continuously into the backup
// volume through a replication slot (RPO of seconds), and a CronJob takes verified base backups
// with pg_basebackup and prunes what retention allows; a weekly pg_dump is the portable copy. Redis: a CronJob fetches an RDB snapshot
// over the network and checks it with redis-check-rdb. The scripts are real files beside this
// chart (files/), shipped in a ConfigMap and run by the PostgreSQL image the database runs, so
// client and server versions match. Nothing here deletes the backup volume.
import { k8s } from 'cdk8s-plus-33';
import { restoreDrill } from './drill';
import { offsiteCopy } from './offsite';
import { volumeSnapshots } from './volume-snapshots';
import { Construct } from 'constructs';
import type { BackupConfig } from '../../environments/backup';
import type { Environment } from '../../environments/schema';
import { PlatformChart } from '../../lib/chart';
import { projectFile } from '../../lib/files';
import { IMAGES, type PinnedImage } from '../../lib/images';
import { selectorLabels } from '../../lib/labels';
import { type PortRule, podsOf, prometheusPeer, workloadNetworkPolicy } from '../../lib/network';
import { METRICS_PATH_ANNOTATION } from '../observability/prometheus-config';
import { secretKeyRef } from '../../lib/secrets';
import { hardenedPodSpec, podTemplateMetadata, withExemptions } from '../../lib/pod';
import { serviceAccount } from '../../lib/service-account';
import type { PostgresChart } from '../postgres/postgres-chart';
import type { RedisChart } from '../redis/redis-chart';

export const BACKUP_SCRIPTS = ['stream-wal.sh', 'base-backup.sh', 'prune-backups.sh', 'restore-postgres.sh', 'check-wal-stream.sh', 'redis-backup.sh', 'restore-redis.sh', 'offsite-copy.sh', 'logical-dump.sh', 'serve-metrics.sh', 'snapshot-volumes.sh', 'restore-drill.sh', 'write-canary.sh'] as const;
export const BACKUP_ROOT = '/backups';
export const BACKUP_CLAIM = 'postgres-backups';
/** The physical replication slot the WAL stream holds. */
export const WAL_SLOT = 'platform_wal_stream';
export const SCRIPTS_DIR = '/opt/backup';
const BACKUP_METRICS_PORT = 9188;
/** How often the canary writer adds a row (the drill fails when the newest is 5 intervals old). */
export const CANARY_INTERVAL_SECONDS = 60;
/** The WAL streamer's Deployment: the backup volume's node is where it runs. */
const STREAMER_NAME = 'postgres-wal-stream';
/** The ConfigMap with every backup and restore script. */
export const SCRIPTS_CONFIG_MAP = 'backup-scripts';

/** A probe command: the file `/tmp/<mark>` was touched less than `seconds` ago. */
const markNewerThan = (mark: string, seconds: number) => ['bash', '-c', `test $(( $(date +%s) - $(stat -c %Y /tmp/${mark} 2>/dev/null || echo 0) )) -lt ${seconds}`];

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
  /** @default the backup volume and the scripts, as the streamer mounts them */
  storage?: { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[] };
  /** @default 4 hours */
  deadlineSeconds?: number;
  /** Size limit of the writable /tmp. @default 64Mi */
  writableTmp?: string;
}

export interface BackupChartProps {
  readonly instance: string;
  readonly namespace: string;
  readonly priorityClassName: string;
  readonly storageClassName: string;
  readonly config: BackupConfig;
  readonly db: Pick<PostgresChart, 'host' | 'port' | 'clientLabels' | 'passwordRef' | 'serviceName'>;
  readonly redis: Pick<RedisChart, 'host' | 'port' | 'clientLabels' | 'credentials' | 'serviceName'>;
  /** Namespace whose Prometheus scrapes the backup metrics. */
  readonly observabilityNamespace: string;
  /** The database's volume: the drill's scratch volume is as big. */
  readonly databaseVolumeSize: string;
  /** The claims the volume snapshot CronJob snapshots, and the VolumeSnapshotClass it uses. */
  readonly volumeSnapshots: { readonly className: string; readonly targets: readonly { readonly namespace: string; readonly claim: string }[] };
  /** Addresses of the Kubernetes API server (the snapshot CronJob calls it). */
  readonly apiServerCidrs: readonly string[];
  /** Where the off-site bucket's credentials come from. */
  readonly secretSource: Environment['secrets'];
}

/** The backup volume as a pod uses it: its volumes and mounts, and the node it must run on. */
export interface BackupVolume {
  readonly volumes: readonly k8s.Volume[];
  readonly mounts: readonly k8s.VolumeMount[];
  /** The volume is ReadWriteOnce and held by the WAL streamer: run on its node. */
  readonly affinity: k8s.Affinity;
}

export class BackupChart extends PlatformChart {
  /** For the restore Jobs (charts/backup/restore-chart.ts). */
  public readonly backupVolume: BackupVolume;

  constructor(scope: Construct, id: string, props: BackupChartProps) {
    super(scope, id, { layer: 'backup', instance: props.instance });
    const ns = props.namespace;
    const version = IMAGES.postgres.tag;
    const meta = (objectName: string, component: string, annotations?: Record<string, string>) =>
      this.metadata({ objectName, namespace: ns, name: objectName, component, version, annotations });

    const files = Object.fromEntries(BACKUP_SCRIPTS.map((f) => [f, projectFile(`charts/backup/files/${f}`)]));
    const scripts = new k8s.KubeConfigMap(this, 'scripts', { metadata: meta(SCRIPTS_CONFIG_MAP, 'backup'), data: files });
    // Holds every backup: never pruned or deleted by Argo CD.
    new k8s.KubePersistentVolumeClaim(this, 'claim', {
      metadata: meta(BACKUP_CLAIM, 'backup', { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' }),
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: props.storageClassName, resources: { requests: { storage: k8s.Quantity.fromString(props.config.volumeSize) } } },
    });

    const env: k8s.EnvVar[] = [
      { name: 'PGHOST', value: props.db.host },
      { name: 'PGPORT', value: String(props.db.port) },
      { name: 'PGUSER', value: 'platform_backup' },
      { name: 'PGPASSWORD', valueFrom: props.db.passwordRef('platform_backup') },
      { name: 'PGAPPNAME', value: 'platform-backup' },
      { name: 'BACKUP_ROOT', value: BACKUP_ROOT },
      { name: 'WAL_SLOT', value: WAL_SLOT },
    ];
    const volumes: k8s.Volume[] = [
      { name: 'scripts', configMap: { name: scripts.name, defaultMode: 0o555 } },
      { name: 'backups', persistentVolumeClaim: { claimName: BACKUP_CLAIM } },
    ];
    const mounts: k8s.VolumeMount[] = [
      { name: 'scripts', mountPath: SCRIPTS_DIR, readOnly: true },
      { name: 'backups', mountPath: BACKUP_ROOT },
    ];
    const toDatabase = { port: props.db.port, peers: [podsOf(ns, props.instance, props.db.serviceName, 'database')] };
    const restartOn = Object.values(files);

    // The WAL streamer: one pod, replaced with Recreate (it holds the ReadWriteOnce volume).
    const streamer = { name: STREAMER_NAME, component: 'backup', version };
    const streamerSelector = selectorLabels(this.labelSpec(streamer));
    const streamerMeta = meta(streamer.name, streamer.component);
    const streamerAccount = serviceAccount(this, streamerMeta);
    const probe = (liveness: boolean): k8s.Probe => ({
      exec: { command: [`${SCRIPTS_DIR}/check-wal-stream.sh`, ...(liveness ? ['--liveness'] : [])] },
      periodSeconds: liveness ? 60 : 15,
      timeoutSeconds: 10,
      failureThreshold: liveness ? 5 : 3,
    });
    const offsite = offsiteCopy(this, props, mounts);
    new k8s.KubeDeployment(this, 'wal-stream', {
      metadata: streamerMeta,
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        revisionHistoryLimit: 5,
        selector: { matchLabels: streamerSelector },
        template: {
          metadata: podTemplateMetadata(streamerMeta.labels, props.db.clientLabels, restartOn, { [METRICS_PATH_ANNOTATION]: '/backup.prom' }),
          spec: hardenedPodSpec({
            serviceAccountName: streamerAccount.name,
            priorityClassName: props.priorityClassName,
            // pg_receivewal flushes each message as it arrives; give it time to finish on stop.
            terminationGracePeriodSeconds: 60,
            volumes,
            containers: [
              {
                name: 'pg-receivewal',
                image: IMAGES.postgres,
                command: ['bash', `${SCRIPTS_DIR}/stream-wal.sh`],
                env,
                resources: props.config.resources,
                volumeMounts: mounts,
                writablePaths: [{ path: '/tmp' }],
                readinessProbe: probe(false),
                livenessProbe: probe(true),
              },
              // The backup volume's metrics (last backups, WAL freshness), served for Prometheus.
              {
                name: 'backup-metrics',
                image: IMAGES.rclone,
                command: ['sh', `${SCRIPTS_DIR}/serve-metrics.sh`],
                env: [
                  { name: 'BACKUP_ROOT', value: BACKUP_ROOT },
                  { name: 'METRICS_PORT', value: String(BACKUP_METRICS_PORT) },
                  { name: 'HOME', value: '/tmp' },
                ],
                resources: props.config.sidecarResources,
                ports: [{ name: 'metrics', containerPort: BACKUP_METRICS_PORT }],
                volumeMounts: mounts,
                writablePaths: [{ path: '/tmp' }],
                readinessProbe: { httpGet: { path: '/backup.prom', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 30, timeoutSeconds: 5 },
                livenessProbe: { httpGet: { path: '/backup.prom', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 60, failureThreshold: 5, initialDelaySeconds: 30 },
              },
              // One row a minute in ops.backup_canary, which the restore drill accounts for.
              {
                name: 'backup-canary',
                image: IMAGES.postgres,
                command: ['bash', `${SCRIPTS_DIR}/write-canary.sh`],
                env: [...env.filter((e) => e.name.startsWith('PG') && e.name !== 'PGAPPNAME'), { name: 'PGAPPNAME', value: 'platform-backup-canary' }, { name: 'CANARY_INTERVAL_SECONDS', value: String(CANARY_INTERVAL_SECONDS) }],
                resources: props.config.sidecarResources,
                writablePaths: [{ path: '/tmp' }],
                // Ready while rows get written; restarted only when the loop itself has stopped.
                readinessProbe: { exec: { command: markNewerThan('canary-written', 3 * CANARY_INTERVAL_SECONDS) }, initialDelaySeconds: 30, periodSeconds: 30 },
                livenessProbe: { exec: { command: markNewerThan('canary-alive', 5 * CANARY_INTERVAL_SECONDS) }, initialDelaySeconds: 120, periodSeconds: 60, failureThreshold: 3 },
              },
              ...(offsite ? [offsite.container] : []),
            ],
          }),
        },
      },
    });
    workloadNetworkPolicy(this, streamerMeta, {
      selector: streamerSelector,
      ingress: [{ port: BACKUP_METRICS_PORT, peers: [prometheusPeer(props.observabilityNamespace)] }],
      egress: [toDatabase, ...(offsite ? [offsite.egress] : [])],
    });

    // Base backups, dumps, Redis snapshots and restores run beside the streamer.
    const onStreamerNode: k8s.Affinity = {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: streamerSelector } }] },
    };
    this.backupVolume = { volumes, mounts, affinity: onStreamerNode };
    const cronJob = (spec: CronJobSpec): Construct => {
      const labels = { name: spec.name, component: 'backup', version: spec.image.tag };
      const selector = selectorLabels(this.labelSpec(labels));
      const jobMeta = this.metadata({ ...labels, objectName: spec.name, namespace: ns });
      const scope = new Construct(this, spec.name);
      const account = serviceAccount(scope, jobMeta);
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
                  // Jobs on the backup volume run on its node.
                  ...(spec.storage?.volumes ?? volumes).some((v) => v.name === 'backups') ? { affinity: onStreamerNode } : {},
                  volumes: spec.storage?.volumes ?? volumes,
                  containers: [
                    {
                      name: spec.name,
                      image: spec.image,
                      command: [spec.shell, `${SCRIPTS_DIR}/${spec.script}`],
                      env: spec.env,
                      resources: spec.resources ?? props.config.resources,
                      volumeMounts: spec.storage?.mounts ?? mounts,
                      writablePaths: [{ path: '/tmp', ...(spec.writableTmp ? { sizeLimit: spec.writableTmp } : {}) }],
                    },
                  ],
                }),
              },
            },
          },
        },
      });
      workloadNetworkPolicy(scope, jobMeta, { selector, ingress: [], egress: spec.egress });
      return scope;
    };

    cronJob({
      name: 'postgres-base-backup',
      schedule: props.config.baseBackup.schedule,
      image: IMAGES.postgres,
      shell: 'bash',
      script: 'base-backup.sh',
      env: [
        ...env,
        { name: 'RETAIN_COUNT', value: String(props.config.baseBackup.retainCount) },
        { name: 'RETAIN_DAYS', value: String(props.config.baseBackup.retainDays) },
      ],
      clientLabels: props.db.clientLabels,
      egress: [toDatabase],
    });
    cronJob({
      name: 'postgres-logical-dump',
      schedule: props.config.logicalDump.schedule,
      image: IMAGES.postgres,
      shell: 'bash',
      script: 'logical-dump.sh',
      env: [...env, { name: 'DUMP_RETAIN_COUNT', value: String(props.config.logicalDump.retainCount) }, { name: 'DUMP_JOBS', value: '2' }],
      clientLabels: props.db.clientLabels,
      egress: [toDatabase],
    });
    cronJob({
      name: 'redis-backup',
      schedule: props.config.redis.schedule,
      image: IMAGES.redis,
      // The Redis image is Alpine: POSIX sh, no bash.
      shell: 'sh',
      script: 'redis-backup.sh',
      env: [
        { name: 'REDIS_HOST', value: props.redis.host },
        { name: 'REDIS_PORT', value: String(props.redis.port) },
        // redis-cli reads the password from here without putting it on its command line.
        { name: 'REDISCLI_AUTH', valueFrom: secretKeyRef(props.redis.credentials, 'redis-password') },
        { name: 'BACKUP_ROOT', value: BACKUP_ROOT },
        { name: 'REDIS_RETAIN_COUNT', value: String(props.config.redis.retainCount) },
      ],
      clientLabels: props.redis.clientLabels,
      egress: [{ port: props.redis.port, peers: [podsOf(ns, props.instance, props.redis.serviceName, 'cache')] }],
    });
    cronJob(restoreDrill(props, env, [toDatabase], { volumes, mounts }));
    volumeSnapshots(this, props, cronJob, { volumes: volumes.filter((v) => v.name === 'scripts'), mounts: mounts.filter((m) => m.name === 'scripts') });
  }
}
