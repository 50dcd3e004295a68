// The Redis restore Job, written to dist/<env>/on-demand/: no Argo CD Application syncs that
// folder, so a restore never runs by accident. `npm run cli -- restore` fills in the snapshot
// (and --force), gives the Job a fresh name and prints or applies it. The Job only prepares the
// data directory of a STOPPED Redis (the runbook says how to stop it and start it again); it
// refuses a directory that holds data unless forced, and moves the old data aside instead of
// deleting it. PostgreSQL restores are recovery Clusters from the object store, never in place.
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { OnDemandChart } from '../../lib/chart';
import { IMAGES, type PinnedImage } from '../../lib/images';
import { selectorLabels } from '../../lib/labels';
import { workloadNetworkPolicy } from '../../lib/network';
import { hardenedPodSpec } from '../../lib/pod';
import { serviceAccount } from '../../lib/service-account';
import type { BackupConfig } from '../../environments/backup';
import { REDIS_DATA_DIR } from '../redis/config';
import { BACKUP_ROOT, type BackupVolume, SCRIPTS_DIR } from './backup-chart';

export const RESTORE_JOBS = { redis: 'redis-restore' } as const;

/** Environment variables of each restore Job that `cli restore` sets. */
export const RESTORE_INPUTS = {
  redis: ['RESTORE_SNAPSHOT', 'RESTORE_FORCE'],
} as const;

export interface RestoreChartProps {
  readonly instance: string;
  readonly namespace: string;
  readonly config: BackupConfig;
  /** The data volume the restore writes into: the StatefulSet's claim of pod 0. */
  readonly claims: { readonly redis: string };
  /** The backup volume and the scripts, as the backup chart mounts them. */
  readonly backupVolume: BackupVolume;
}

export class RestoreChart extends OnDemandChart {
  constructor(scope: Construct, id: string, props: RestoreChartProps) {
    super(scope, id, { instance: props.instance, supportLayer: 'backup' });
    const ns = props.namespace;
    const backup = props.backupVolume;
    const support = this.support;

    const job = (spec: { name: string; image: PinnedImage; shell: 'bash' | 'sh'; script: string; dataClaim: string; dataMount: string; env: k8s.EnvVar[] }) => {
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
                  resources: props.config.resources,
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

    job({
      name: RESTORE_JOBS.redis,
      image: IMAGES.redis,
      shell: 'sh',
      script: 'restore-redis.sh',
      dataClaim: props.claims.redis,
      dataMount: REDIS_DATA_DIR,
      env: [{ name: 'REDIS_DATA', value: REDIS_DATA_DIR }, ...inputs(RESTORE_INPUTS.redis, { RESTORE_SNAPSHOT: 'latest', RESTORE_FORCE: 'false' })],
    });
  }
}
