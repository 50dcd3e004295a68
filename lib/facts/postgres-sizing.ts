// Sizes of PostgreSQL that both the environment model checks and the Cluster's parameters render:
// the WAL sizes of each tuning profile, the connections reserved for superusers, and the share of
// the memory limit that goes to shared_buffers. No imports: the environment model and the
// charts both depend on this module, never the other way round.

const GB = 1024 ** 3;

/** The PGTune profiles the platform offers: "web" for mixed traffic, "oltp" for write-heavy loads. */
export const TUNING_PROFILES = ['web', 'oltp'] as const;
export type TuningProfile = (typeof TUNING_PROFILES)[number];

/**
 * min_wal_size and max_wal_size of each profile, bytes, as PGTune sets them
 * (https://pgtune.leopard.in.ua/, source https://github.com/le0pard/pgtune). Between
 * checkpoints WAL grows up to max_wal_size, so the WAL volume the environment gives each instance
 * must hold it with room to spare; min_wal_size is what PostgreSQL recycles instead of removing
 * (https://www.postgresql.org/docs/15/runtime-config-wal.html#GUC-MAX-WAL-SIZE).
 */
export const WAL_SIZES: Readonly<Record<TuningProfile, { readonly min: number; readonly max: number }>> = {
  web: { min: 1 * GB, max: 4 * GB },
  oltp: { min: 2 * GB, max: 8 * GB },
};

/**
 * superuser_reserved_connections: the connection slots kept for superusers when max_connections is
 * reached, so the operator (CloudNativePG's instance manager) can still connect. 3 is
 * PostgreSQL's default (https://www.postgresql.org/docs/15/runtime-config-connection.html#GUC-SUPERUSER-RESERVED-CONNECTIONS),
 * set explicitly so the connection budget and the server agree; the pools get the rest.
 */
export const RESERVED_CONNECTIONS = 3;

/**
 * Share of the container's memory limit given to shared_buffers: PGTune's rule for a dedicated
 * server (https://pgtune.leopard.in.ua/), the "reasonable starting value" of 25% in
 * PostgreSQL's documentation (https://www.postgresql.org/docs/15/runtime-config-resource.html#GUC-SHARED-BUFFERS).
 * The rest is left to work_mem, maintenance and the page cache.
 */
export const SHARED_BUFFERS_SHARE = 1 / 4;

/** shared_buffers for a memory limit, bytes: SHARED_BUFFERS_SHARE of it, rounded down. */
export function sharedBuffersBytes(memoryLimitBytes: number): number {
  return Math.floor(memoryLimitBytes * SHARED_BUFFERS_SHARE);
}

/**
 * max_slot_wal_keep_size is a fifth of the WAL volume: a replication slot whose consumer stalls
 * (a lost standby, Realtime stopped) is invalidated before it fills the volume and stops the
 * primary (https://www.postgresql.org/docs/15/runtime-config-replication.html#GUC-MAX-SLOT-WAL-KEEP-SIZE).
 * Returns megabytes, the unit the parameter is written in.
 */
export function maxSlotWalKeepSizeMB(walVolumeBytes: number): number {
  return Math.floor(walVolumeBytes / 5 / (1024 * 1024));
}

/**
 * The WAL volume must hold this many times max_wal_size: WAL grows to max_wal_size between
 * checkpoints, slots may hold back a fifth of the volume, and checkpoints can overrun under load.
 */
export const WAL_VOLUME_ROOM = 2.5;
