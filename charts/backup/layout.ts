// Where the backup and restore scripts and the Redis snapshots are, as every backup and restore
// pod sees them: one module the backup chart, its CronJobs and the restore chart all read, so
// none of them imports another's chart.
import type { k8s } from 'cdk8s-plus-33';
import type { Resources } from '../../environments/fields';
import type { PinnedImage } from '../../lib/images';
import type { ContainerSpec } from '../../lib/pod';

/** The scripts of charts/backup/files/ that the scripts ConfigMap holds. */
export const BACKUP_SCRIPTS = ['redis-backup.sh', 'redis-load-check.sh', 'restore-redis.sh', 'offsite-copy.sh', 'snapshot-volumes.sh'] as const;
export type BackupScript = (typeof BACKUP_SCRIPTS)[number];
export const BACKUP_ROOT = '/backups';
/** The volume of Redis snapshots (its name predates the move of PostgreSQL's backups to object storage). */
export const BACKUP_CLAIM = 'postgres-backups';
export const SCRIPTS_DIR = '/opt/backup';
/** The ConfigMap with every backup and restore script. */
export const SCRIPTS_CONFIG_MAP = 'backup-scripts';

/** The backup volume and the scripts as a pod uses them. */
export interface BackupVolume {
  readonly volumes: readonly k8s.Volume[];
  readonly mounts: readonly k8s.VolumeMount[];
}

/** A container that runs one script of the scripts ConfigMap, writing only /tmp besides its mounts. */
export function scriptStep(spec: {
  /** The container's name. */
  readonly name: string;
  readonly image: PinnedImage;
  /** The image's shell: Alpine-based images have POSIX sh only. */
  readonly shell: 'bash' | 'sh';
  readonly script: BackupScript;
  readonly env: k8s.EnvVar[];
  readonly resources: Resources;
  readonly volumeMounts: readonly k8s.VolumeMount[];
}): ContainerSpec {
  return {
    name: spec.name,
    image: spec.image,
    command: [spec.shell, `${SCRIPTS_DIR}/${spec.script}`],
    env: spec.env,
    resources: spec.resources,
    volumeMounts: [...spec.volumeMounts],
    writablePaths: [{ path: '/tmp' }],
  };
}
