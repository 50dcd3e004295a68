// Environment settings of backups: the backup volume, when base backups run and how many are
// kept, and the size of the backup pods.
import { z } from 'zod';
import { num, Resources, Storage, wholeNumber } from './fields';

/** A five-field cron expression, as CronJob takes it. */
const Cron = z.string().regex(/^(\S+\s+){4}\S+$/, { error: 'must be a cron schedule with five fields, such as "0 2 * * *"' });

export const BackupConfig = z.strictObject({
  /** The volume holding streamed WAL and base backups (plain copies of the data directory). */
  volumeSize: Storage,
  baseBackup: z.strictObject({
    /** When base backups run (UTC). */
    schedule: Cron,
    /** The newest verified backups always kept. */
    retainCount: wholeNumber('backups', 1),
    /** Backups younger than this many days are kept too. */
    retainDays: wholeNumber('days', 1),
  }),
  /** The portable copy: pg_dump in directory format, kept besides the base backups. */
  logicalDump: z.strictObject({ schedule: Cron, retainCount: wholeNumber('dumps', 1) }),
  /** RDB snapshots of Redis, copied over the network into the backup volume. */
  redis: z.strictObject({ schedule: Cron, retainCount: wholeNumber('snapshots', 1) }),
  /**
   * The restore drill: restores the newest base backup and the streamed WAL into a scratch
   * volume as big as the database, to a fresh restore point, and checks the result.
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
   * The off-site copy: an S3-compatible bucket that rclone copies the backup volume into, every
   * `intervalSeconds`; credentials in the Secret backup-offsite. @default none (dev keeps
   * backups in the cluster only)
   */
  offsite: z
    .strictObject({
      /** rclone's S3 provider name: AWS, Minio, Cloudflare, Ceph, Wasabi, ... */
      provider: z.string().regex(/^[A-Za-z]+$/, { error: 'must be an rclone S3 provider name such as "AWS" or "Minio"' }),
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be an S3 bucket name' }),
      region: z.string().min(1, { error: 'must name the region, e.g. "eu-central-1"' }),
      /** @default the provider's own endpoint */
      endpoint: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
      /** Seconds between copies: how far the off-site WAL may lag. @default 30 */
      intervalSeconds: wholeNumber('seconds', 5).default(30),
    })
    .optional(),
  /** The WAL streamer's and the backup Jobs' container. */
  resources: Resources,
  /** Each container beside the streamer: the metrics server and the off-site copier. */
  sidecarResources: Resources,
});
export type BackupConfig = z.infer<typeof BackupConfig>;

/**
 * A base backup is a plain copy of the data directory (PostgreSQL 15 verifies only that format),
 * so the volume needs room for the kept backups plus one being taken, and the WAL between them.
 * The rule asks for twice the data volume: one backup kept and one in progress when the database
 * fills its volume; more retention needs a bigger volume, which the disk alerts watch.
 */
export function checkBackupRoom(env: { backup: BackupConfig; storage: { sizes: { postgres: string } } }, ctx: z.RefinementCtx): void {
  if (num(env.backup.volumeSize) < 2 * num(env.storage.sizes.postgres)) {
    ctx.addIssue({
      code: 'custom',
      path: ['backup', 'volumeSize'],
      message: `${env.backup.volumeSize} cannot hold a copy of the ${env.storage.sizes.postgres} database volume next to one being taken: make it at least twice storage.sizes.postgres`,
    });
  }
}
