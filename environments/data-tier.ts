// Environment settings of the data tier: PostgreSQL (a CloudNativePG Cluster of one or more
// instances with PgBouncer poolers) and Redis (one instance, or a primary with replicas, a
// Sentinel beside each and HAProxy in front); their tuning is derived from
// the resources given here (see charts/postgres/tuning.ts and charts/redis/config.ts, and
// docs/data-tier.md).
import { z } from 'zod';
import { TUNING_PROFILES } from '../lib/facts/postgres-sizing';
import { checkDisruption, num, Resources, Storage, wholeNumber, workloadShape } from './fields';
import { crossField } from './follow-on';

/** Resources of each helper container (metrics exporter, init steps) beside the main one. */
const helperResources = Resources.default({
  requests: { cpu: '10m', memory: '32Mi', ephemeralStorage: '16Mi' },
  limits: { cpu: '100m', memory: '64Mi', ephemeralStorage: '64Mi' },
});

const minimumMemory = (what: string, floor: string) =>
  crossField((w: { resources: { limits: { memory: string } } }, ctx: z.RefinementCtx) => {
    if (num(w.resources.limits.memory) < num(floor)) {
      ctx.addIssue({
        code: 'custom',
        path: ['resources', 'limits', 'memory'],
        message: `${w.resources.limits.memory} is too little for ${what}: give it at least ${floor}`,
      });
    }
  });

/** Inputs of the PGTune rules (docs/data-tier.md) besides CPU and memory, which come from the limits. */
const PostgresTuning = z.strictObject({
  /** Connection budget of every instance; work_mem is divided among them. Pools must fit inside it (docs/capacity.md). */
  maxConnections: wholeNumber('connections', 20).max(5000, { error: 'must be at most 5000: let more clients share the PgBouncer poolers instead' }),
  /** "web" or "oltp" (write-heavy loads): sets min/max_wal_size (lib/facts/postgres-sizing.ts). @default "web" */
  profile: z.enum(TUNING_PROFILES, { error: 'must be "web" or "oltp"' }).default('web'),
  /** The volume's disk class; sets random_page_cost and effective_io_concurrency. @default "ssd" */
  storageType: z.enum(['ssd', 'nvme', 'san', 'hdd'], { error: 'must be one of ssd, nvme, san, hdd' }).default('ssd'),
  /** Slow-query log threshold in milliseconds; -1 turns it off. @default 1000 */
  logMinDurationMs: z.number().int().min(-1).default(1000),
});

/**
 * Synchronous replication (CloudNativePG `spec.postgresql.synchronous`): a commit is acknowledged
 * only once `number` standbys have it. "required" blocks writes while fewer are connected (no
 * acknowledged commit can be lost); "preferred" drops to asynchronous instead.
 */
const Synchronous = z.strictObject({
  /** "any": a quorum of `number` among the standbys. @default "any" */
  method: z.enum(['any', 'first'], { error: 'must be "any" (quorum) or "first" (priority)' }).default('any'),
  /** Standbys that must confirm each commit. */
  number: wholeNumber('standbys', 1),
  dataDurability: z.enum(['required', 'preferred'], { error: 'must be "required" or "preferred"' }),
  /**
   * Promote only a standby the quorum proves holds every acknowledged commit (needs method
   * "any" and dataDurability "required"). @default false
   */
  failoverQuorum: z.boolean().default(false),
});

/**
 * How long the operator waits around a failover (docs/decisions/0005-postgres-on-cloudnativepg.md
 * explains the choice): all count against the RTO of a primary's loss.
 */
const Failover = z.strictObject({
  /** Seconds a failing primary gets to shut down cleanly (and archive its WAL) before a standby is promoted. @default 60 */
  switchoverDelaySeconds: wholeNumber('seconds', 0).default(60),
  /** Seconds the operator waits after the primary is found unhealthy before it starts a failover. @default 0 */
  failoverDelaySeconds: wholeNumber('seconds', 0).default(0),
  /** Seconds a smart shutdown may take before it turns fast. @default 30 */
  smartShutdownTimeoutSeconds: wholeNumber('seconds', 0).default(30),
  /** Seconds an instance gets to stop in all (smart, then fast, then immediate). @default 120 */
  stopDelaySeconds: wholeNumber('seconds', 10).default(120),
});

/** A PgBouncer pooler (CloudNativePG `Pooler`). */
const Pooler = z.strictObject({
  /** PgBouncer pods. */
  instances: wholeNumber('pods', 1),
  resources: Resources,
  /** Server connections each pooler pod opens per database and user (default_pool_size, also max_db_connections). */
  defaultPoolSize: wholeNumber('connections', 1),
  /** Client connections each pooler pod accepts (max_client_conn). */
  maxClientConnections: wholeNumber('connections', 1),
});

export const PostgresConfig = z
  .strictObject({
    /** PostgreSQL instances of the Cluster: one primary, the rest hot standbys on other nodes. */
    instances: wholeNumber('instances', 1).max(9, { error: 'must be at most 9' }),
    resources: Resources,
    tuning: PostgresTuning,
    /** Each instance's WAL volume (pg_wal on a volume of its own). */
    walVolumeSize: Storage,
    /** @default asynchronous replication */
    synchronous: Synchronous.optional(),
    /** @default switchover 60 s, failover 0 s, smart shutdown 30 s, stop 120 s */
    failover: Failover.default({ switchoverDelaySeconds: 60, failoverDelaySeconds: 0, smartShutdownTimeoutSeconds: 30, stopDelaySeconds: 120 }),
    /** Spread the instances over zones as well as nodes (DoNotSchedule: needs as many zones as instances). @default false */
    zoneSpread: z.boolean().default(false),
    /** "rw": the primary, transaction pooling, for the product. "ro": the standbys, for reads (needs 2+ instances). */
    poolers: z.strictObject({ rw: Pooler, ro: Pooler.optional() }),
    /** The bootstrap Job (Supabase's migrations). @default 10m/32Mi requests, 100m/64Mi limits */
    helperResources,
    /**
     * The barman-cloud sidecar of every instance (archiving, base backups) and of a recovery's
     * restore: each barman-cloud process peaks above 64Mi, and the CPU limit bounds the restore
     * rate (bench:restore). @default 100m/256Mi requests, 2/1Gi limits
     */
    archiverResources: Resources.default({
      requests: { cpu: '100m', memory: '256Mi', ephemeralStorage: '256Mi' },
      limits: { cpu: '2', memory: '1Gi', ephemeralStorage: '1Gi' },
    }),
  })
  .superRefine(
    crossField((pg, ctx) => {
      const sync = pg.synchronous;
      if (sync && sync.number >= pg.instances) {
        ctx.addIssue({
          code: 'custom',
          path: ['synchronous', 'number'],
          message: `${sync.number} synchronous standby(s) need at least ${sync.number + 1} instances, not ${pg.instances}: raise instances or lower synchronous.number`,
        });
      }
      if (sync?.failoverQuorum && (sync.method !== 'any' || sync.dataDurability !== 'required')) {
        ctx.addIssue({
          code: 'custom',
          path: ['synchronous', 'failoverQuorum'],
          message: 'needs method "any" and dataDurability "required": quorum failover reasons over a quorum that always holds',
        });
      }
      if (pg.poolers.ro && pg.instances < 2) {
        ctx.addIssue({
          code: 'custom',
          path: ['poolers', 'ro'],
          message: `a read-only pooler needs standbys: remove it or raise instances to 2 or more (now ${pg.instances})`,
        });
      }
      const stop = pg.failover.stopDelaySeconds;
      if (pg.failover.smartShutdownTimeoutSeconds >= stop) {
        ctx.addIssue({
          code: 'custom',
          path: ['failover', 'smartShutdownTimeoutSeconds'],
          message: `${pg.failover.smartShutdownTimeoutSeconds} must be below stopDelaySeconds ${stop}: the fast shutdown needs the rest of it`,
        });
      }
    }),
  )
  .superRefine(minimumMemory('PostgreSQL', '256Mi'));
export type PostgresConfig = z.infer<typeof PostgresConfig>;

export const REDIS_EVICTION_POLICIES = [
  'noeviction',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
] as const;

/** Redis Sentinel beside each instance (docs/decisions/0006-redis-sentinel-and-haproxy.md). */
const RedisSentinel = z.strictObject({
  /** Sentinels that must agree the primary is down; a failover also needs a majority of all of them. @default a majority */
  quorum: wholeNumber('Sentinels', 1).optional(),
  /** How long the primary must be unreachable before a Sentinel calls it down. @default 5000 */
  downAfterMilliseconds: wholeNumber('milliseconds', 1000).max(60000, { error: 'must be at most 60000: writes stop for at least this long' }).default(5000),
  /** How long one failover attempt may take before another Sentinel retries it. @default 60000 */
  failoverTimeoutMilliseconds: wholeNumber('milliseconds', 10000).default(60000),
  /** @default 20m/32Mi requests, 200m/64Mi limits */
  resources: Resources.default({
    requests: { cpu: '20m', memory: '32Mi', ephemeralStorage: '16Mi' },
    limits: { cpu: '200m', memory: '64Mi', ephemeralStorage: '64Mi' },
  }),
});

/** The HAProxy pods that give clients without Sentinel support (Kong) one address for the primary. */
const RedisProxy = z.strictObject({
  /** @default 2 */
  replicas: wholeNumber('pods', 2).default(2),
  /** @default 50m/64Mi requests, 500m/128Mi limits */
  resources: Resources.default({
    requests: { cpu: '50m', memory: '64Mi', ephemeralStorage: '16Mi' },
    limits: { cpu: '500m', memory: '128Mi', ephemeralStorage: '64Mi' },
  }),
});

/** Instance counts the chart supports: none, one, or an odd number with a Sentinel each (a majority survives one loss). */
const REDIS_INSTANCES = [0, 1, 3, 5] as const;

export const RedisConfig = z
  .strictObject({
    ...workloadShape,
    /**
     * 1: one instance, no failover. 3 or 5: a primary and replicas with a Sentinel beside each, and
     * HAProxy in front. 0 stops Redis.
     */
    replicas: z.number({ error: 'must be a number of instances' }).refine((n) => (REDIS_INSTANCES as readonly number[]).includes(n), {
      error: 'must be 1 (one instance, no failover) or 3 or 5 (a primary and replicas with a Sentinel each; 0 stops Redis)',
    }),
    /** @default 10m/32Mi requests, 100m/64Mi limits */
    helperResources,
    /** Spread the instances over zones as well as nodes (DoNotSchedule: needs as many zones as instances). @default false */
    zoneSpread: z.boolean().default(false),
    /**
     * Replicas that must be connected and at most `minReplicasMaxLagSeconds` behind for the primary
     * to take writes: an isolated primary stops accepting writes it would lose in a failover.
     * Only with replicas. @default 1
     */
    minReplicasToWrite: wholeNumber('replicas', 0).default(1),
    /** @default 10 */
    minReplicasMaxLagSeconds: wholeNumber('seconds', 1).default(10),
    /** @default a majority quorum, 5 s down-after, 60 s failover timeout */
    sentinel: RedisSentinel.prefault({}),
    /** @default 2 HAProxy pods */
    proxy: RedisProxy.prefault({}),
    /**
     * Share of the memory limit Redis may fill with data; the rest covers client buffers and the
     * copy-on-write of AOF rewrites and RDB saves. @default 70
     */
    maxmemoryPercent: wholeNumber('percent of the memory limit', 10)
      .max(90, { error: 'must be at most 90: AOF rewrites and client buffers need the rest of the memory limit' })
      .default(70),
    /**
     * What Redis does when full. "noeviction" (refuse writes) keeps queued jobs and rate-limit
     * counters intact; use an "allkeys-*" policy only for a pure cache. @default "noeviction"
     */
    maxmemoryPolicy: z.enum(REDIS_EVICTION_POLICIES, { error: `must be one of ${REDIS_EVICTION_POLICIES.join(', ')}` }).default('noeviction'),
  })
  .superRefine(checkDisruption)
  .superRefine(
    crossField((r, ctx) => {
      const quorum = r.sentinel.quorum;
      if (r.replicas > 1 && quorum !== undefined && quorum > r.replicas) {
        ctx.addIssue({
          code: 'custom',
          path: ['sentinel', 'quorum'],
          message: `${quorum} is more than the ${r.replicas} Sentinels: set at most ${r.replicas} (a majority is ${Math.floor(r.replicas / 2) + 1})`,
        });
      }
      if (r.replicas > 1 && r.minReplicasToWrite > r.replicas - 2) {
        ctx.addIssue({
          code: 'custom',
          path: ['minReplicasToWrite'],
          message: `${r.minReplicasToWrite} of the ${r.replicas - 1} replicas would stop writes whenever one replica is down: set at most ${r.replicas - 2}`,
        });
      }
    }),
  )
  .superRefine(minimumMemory('Redis', '64Mi'));
export type RedisConfig = z.infer<typeof RedisConfig>;
