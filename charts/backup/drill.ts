// The weekly restore drill (restore-drill.sh): restores the newest base backup and the streamed
// WAL to a fresh restore point in a scratch volume, checks the canary rows and pg_amcheck, and
// publishes RTO, RPO and the result for the alerts.
import { k8s } from 'cdk8s-plus-33';
import { num } from '../../environments/fields';
import { IMAGES } from '../../lib/images';
import type { PortRule } from '../../lib/network';
import { BACKUP_ROOT, type BackupChartProps, CANARY_INTERVAL_SECONDS, type CronJobSpec } from './backup-chart';

/** Where the drill restores to: the scratch volume, which lives and dies with its pod. */
const DRILL_SCRATCH = '/scratch';

/** The drill's CronJob: the backup role's environment plus the drill's limits. */
export function restoreDrill(props: BackupChartProps, databaseEnv: k8s.EnvVar[], toDatabase: PortRule[], storage: { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[] }): CronJobSpec {
  return {
    name: 'postgres-restore-drill',
    schedule: props.config.drill.schedule,
    image: IMAGES.postgres,
    shell: 'bash',
    script: 'restore-drill.sh',
    env: [
      ...databaseEnv,
      { name: 'DRILL_DATA', value: `${DRILL_SCRATCH}/pgdata` },
      { name: 'DRILL_MAX_RTO_SECONDS', value: String(props.config.drill.maxRtoMinutes * 60) },
      // A quarter of the memory limit, as for the database itself.
      { name: 'DRILL_SHARED_BUFFERS', value: `${Math.max(16, Math.floor(num(props.config.resources.limits.memory) / 4 / 2 ** 20))}MB` },
      { name: 'CANARY_MAX_AGE_SECONDS', value: String(5 * CANARY_INTERVAL_SECONDS) },
    ],
    clientLabels: props.db.clientLabels,
    egress: toDatabase,
    storage: drillStorage(props, storage.volumes, storage.mounts),
    // The restore's own limit plus the checks after it (pg_amcheck reads every table and index).
    deadlineSeconds: props.config.drill.maxRtoMinutes * 60 + 4 * 3600,
    // The scratch server's log and sockets.
    writableTmp: '256Mi',
  };
}

/**
 * The weekly restore drill (restore-drill.sh): the backup volume read-only except for its
 * status folder (where the result goes for the metrics server), and a scratch volume as big as
 * the database that is created with the pod and deleted with it.
 */
function drillStorage(props: BackupChartProps, volumes: k8s.Volume[], mounts: k8s.VolumeMount[]): { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[] } {
  return {
    volumes: [
      ...volumes,
      {
        name: 'scratch',
        ephemeral: {
          volumeClaimTemplate: {
            metadata: { labels: { 'app.kubernetes.io/component': 'restore-drill' } },
            spec: { accessModes: ['ReadWriteOnce'], storageClassName: props.storageClassName, resources: { requests: { storage: k8s.Quantity.fromString(props.databaseVolumeSize) } } },
          },
        },
      },
    ],
    mounts: [
      ...mounts.map((m) => (m.name === 'backups' ? { ...m, readOnly: true } : m)),
      { name: 'backups', mountPath: `${BACKUP_ROOT}/status`, subPath: 'status' },
      { name: 'scratch', mountPath: DRILL_SCRATCH },
    ],
  };
}
