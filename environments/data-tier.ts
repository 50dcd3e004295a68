// Environment settings of the data tier: PostgreSQL and Redis. Each runs as a single instance
// (a StatefulSet of one); their tuning is derived from the resources given here (see
// charts/postgres/tuning.ts and charts/redis/config.ts, and docs/data-tier.md).
import { z } from 'zod';
import { checkDisruption, num, Resources, wholeNumber, workloadShape } from './fields';

/** Resources of each helper container (metrics exporter, init steps) beside the main one. */
const helperResources = Resources.default({
  requests: { cpu: '10m', memory: '32Mi', ephemeralStorage: '16Mi' },
  limits: { cpu: '100m', memory: '64Mi', ephemeralStorage: '64Mi' },
});

const singleInstance = (what: string) =>
  wholeNumber('pods', 0).max(1, {
    error: `${what} runs as a single instance: set 1 (or 0 to stop it); replicas are not supported by this chart`,
  });

const minimumMemory = (what: string, floor: string) => (w: { resources: { limits: { memory: string } } }, ctx: z.RefinementCtx) => {
  if (num(w.resources.limits.memory) < num(floor)) {
    ctx.addIssue({
      code: 'custom',
      path: ['resources', 'limits', 'memory'],
      message: `${w.resources.limits.memory} is too little for ${what}: give it at least ${floor}`,
    });
  }
};

/**
 * Volumes each data component claims besides its data volume: PostgreSQL keeps the pgsodium root
 * key and the image's custom config on a small second volume (1Gi, the smallest size many CSI
 * drivers provision).
 */
export const EXTRA_CLAIMS = {
  postgres: { count: 1, size: '1Gi' },
  redis: { count: 0, size: '0' },
} as const;

/** Inputs of the PGTune rules (REFERENCE.md §5.8) besides CPU and memory, which come from the limits. */
const PostgresTuning = z.strictObject({
  /** Connection budget; work_mem is divided among them. Pools must fit inside it (see docs/data-tier.md). */
  maxConnections: wholeNumber('connections', 20).max(5000, { error: 'must be at most 5000: put a pooler (Supavisor) in front instead' }),
  /** "web": min/max WAL 1/4 GB; "oltp": 2/8 GB, for write-heavy loads. @default "web" */
  profile: z.enum(['web', 'oltp'], { error: 'must be "web" or "oltp"' }).default('web'),
  /** The volume's disk class; sets random_page_cost and effective_io_concurrency. @default "ssd" */
  storageType: z.enum(['ssd', 'nvme', 'san', 'hdd'], { error: 'must be one of ssd, nvme, san, hdd' }).default('ssd'),
  /** Slow-query log threshold in milliseconds; -1 turns it off. @default 1000 */
  logMinDurationMs: z.number().int().min(-1).default(1000),
});

export const PostgresConfig = z
  .strictObject({
    ...workloadShape,
    replicas: singleInstance('PostgreSQL'),
    tuning: PostgresTuning,
    /** @default 10m/32Mi requests, 100m/64Mi limits */
    helperResources,
  })
  .superRefine(checkDisruption)
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

export const RedisConfig = z
  .strictObject({
    ...workloadShape,
    replicas: singleInstance('Redis'),
    /** @default 10m/32Mi requests, 100m/64Mi limits */
    helperResources,
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
  .superRefine(minimumMemory('Redis', '64Mi'));
export type RedisConfig = z.infer<typeof RedisConfig>;
