// Environment settings of backups: PostgreSQL's object store (WAL archive and base backups) and
// schedules, the restore drill, Redis snapshots and their volume, volume snapshots, and the size
// of the backup pods.
import { z } from 'zod';
import { CronSchedule as Cron, num, Resources, Storage, wholeNumber } from './fields';
import { crossField } from './follow-on';

/** PostgreSQL's WAL archive and base backups: an S3-compatible bucket the Barman Cloud Plugin writes. */
const ObjectStore = z.strictObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be an S3 bucket name' }),
  /** The region of the bucket: in production another one than the cluster's, so the copy survives losing the region. */
  region: z.string().min(1, { error: 'must name the region, e.g. "eu-central-1"' }),
  /** @default the provider's own endpoint (AWS S3) */
  endpoint: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
  /** Base backups (and the WAL they need) older than this many days are removed by the plugin. @default 30 */
  retentionDays: wholeNumber('days', 1).default(30),
});

export const BackupConfig = z
  .strictObject({
    /**
     * Where PostgreSQL archives its WAL and writes base backups (Barman Cloud Plugin ObjectStore;
     * credentials in the Secret postgres-object-store). @default none: no archive, no scheduled
     * backups and no restore drill (dev)
     */
    objectStore: ObjectStore.optional(),
    /** When base backups to the object store run (UTC): a CloudNativePG ScheduledBackup. */
    baseBackup: z.strictObject({ schedule: Cron }),
    /**
     * CSI volume-snapshot backups of PostgreSQL (ScheduledBackup method volumeSnapshot, with the
     * cluster's storage.snapshotClassName): faster restores than the object store. @default none
     * (the StorageClass cannot snapshot)
     */
    postgresSnapshots: z.strictObject({ schedule: Cron }).optional(),
    /** The volume that holds Redis snapshots. */
    volumeSize: Storage,
    /** RDB snapshots of Redis, copied over the network into the backup volume. */
    redis: z.strictObject({ schedule: Cron, retainCount: wholeNumber('snapshots', 1) }),
    /**
     * The restore drill: recovers a scratch Cluster from the object store, checks what it
     * reached, the canary rows and pg_amcheck, records RTO and RPO, and deletes it.
     */
    drill: z.strictObject({
      /** When the drill runs (UTC). */
      schedule: Cron,
      /** A restore slower than this fails the drill (the RTO the platform promises). @default 45 */
      maxRtoMinutes: wholeNumber('minutes', 1).default(45),
    }),
    /**
     * CSI VolumeSnapshots of the volumes the database backups do not cover (Prometheus, Grafana,
     * Loki, and Storage's files when they live on a volume), with the cluster's
     * storage.snapshotClassName.
     */
    volumeSnapshots: z.strictObject({
      /** When the snapshots are taken (UTC). */
      schedule: Cron,
      /** Ready snapshots kept per volume; older ones are deleted. */
      retainCount: wholeNumber('snapshots', 1),
    }),
    /**
     * The off-site copy of Redis snapshots: an S3-compatible bucket that rclone copies the backup
     * volume into after each snapshot; credentials in the Secret backup-offsite. @default none
     */
    offsite: z
      .strictObject({
        /** rclone's S3 provider name: AWS, Minio, Cloudflare, Ceph, Wasabi, ... */
        provider: z.string().regex(/^[A-Za-z]+$/, { error: 'must be an rclone S3 provider name such as "AWS" or "Minio"' }),
        bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be an S3 bucket name' }),
        region: z.string().min(1, { error: 'must name the region, e.g. "eu-central-1"' }),
        /** @default the provider's own endpoint */
        endpoint: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
      })
      .optional(),
    /** The backup Jobs' container (Redis snapshots, the drill). */
    resources: Resources,
    /** Each short helper container (the off-site copy, kubectl steps). */
    sidecarResources: Resources,
  })
  .superRefine(
    crossField((b, ctx) => {
      if (!b.objectStore && b.postgresSnapshots) {
        ctx.addIssue({
          code: 'custom',
          path: ['postgresSnapshots'],
          message: 'volume-snapshot backups need the WAL archive of an objectStore to recover to a point in time: set objectStore or remove postgresSnapshots',
        });
      }
    }),
  );
export type BackupConfig = z.infer<typeof BackupConfig>;

/**
 * CloudNativePG's ScheduledBackup takes a six-field cron schedule with seconds first; the
 * environment writes five fields like every other schedule. "0 2 * * *" -> "0 0 2 * * *". A
 * macro such as "@daily" means the same to both parsers and passes unchanged
 * (https://cloudnative-pg.io/documentation/current/backup/#scheduled-backups).
 */
export function withSeconds(schedule: string): string {
  const text = schedule.trim();
  return text.startsWith('@') ? text : `0 ${text.split(/\s+/).join(' ')}`;
}

/** The Redis snapshot volume holds at least two snapshots of a full Redis. */
export function checkBackupRoom(env: { backup: BackupConfig; storage: { sizes: { redis: string } } }, ctx: z.RefinementCtx): void {
  if (num(env.backup.volumeSize) < 2 * num(env.storage.sizes.redis)) {
    ctx.addIssue({
      code: 'custom',
      path: ['backup', 'volumeSize'],
      message: `${env.backup.volumeSize} cannot hold two snapshots of the ${env.storage.sizes.redis} Redis volume: make it at least twice storage.sizes.redis`,
    });
  }
}
