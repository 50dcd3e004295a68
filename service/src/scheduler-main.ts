// The scheduler: one pod (Recreate), enqueueing the periodic jobs. Recreate cannot cover a node
// that stops answering while its pod may still run, so the scheduler works only while it holds a
// lease, a row in defi.scheduler_leases renewed every few seconds. A lease row, not an advisory
// lock: the pod reaches PostgreSQL through the rw pooler in transaction mode, where a session
// lock would stay on whichever server connection took it. And should two schedulers ever enqueue
// the same period, the job ids are the same and the second enqueue does nothing.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { type Process, onShutdown, sleep } from './bootstrap';
import type { JobKind } from './contract';
import { createPools, ping, type Pools } from './db';
import { closeServer, createRegistry, type SchedulerMetrics, schedulerMetrics, startMetricsServer } from './metrics';
import { migrate } from './migrations';
import { enqueue, ensureGroup, NotDurableError } from './queue';
import { createRedis, pingRedis, type Redis, requiredReplicas } from './redis';
import type { Logger } from './log';

export interface Schedule {
  readonly name: JobKind;
  readonly periodSeconds: number;
  /** The jobs of the period starting at `periodStart` (Unix seconds). */
  jobs(periodStart: number, rpcEndpoints: number): { id: string; payload: Record<string, unknown> }[];
}

export const SCHEDULES: readonly Schedule[] = [
  {
    // Each RPC endpoint's chain head, every 15 s: the worker calls it and records the block.
    name: 'chain-head',
    periodSeconds: 15,
    jobs: (start, endpoints) => Array.from({ length: endpoints }, (_, endpoint) => ({ id: `chain-head:${endpoint}:${start}`, payload: { endpoint } })),
  },
  {
    name: 'prune-history',
    periodSeconds: 3600,
    jobs: (start) => [{ id: `prune-history:${start}`, payload: {} }],
  },
];

const LEASE = 'scheduler';
const LEASE_SECONDS = 30;
const RENEW_EVERY_MS = 10_000;
const TICK_MS = 1000;
/** A write refused while no replica is current (NOREPLICAS, a failover): retried this long. */
const RETRY_FOR_MS = 30_000;

export async function runScheduler(proc: Process<'scheduler'>): Promise<void> {
  const { config, log } = proc;
  const holder = `${hostname()}-${randomUUID().slice(0, 8)}`;
  const pools = createPools(config, 'scheduler', (err) => log.warn({ err }, 'idle database connection failed'));
  const redis = createRedis(config.redis, 'scheduler');
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const registry = createRegistry();
  const metrics = schedulerMetrics(registry);
  const replicas = requiredReplicas(config.redis);
  const stop = new AbortController();
  let lastTick = Date.now();

  await migrate(pools.write, log);
  await ensureGroup(redis);
  const metricsServer = await startMetricsServer(config.metricsPort, registry, {
    live: () => Date.now() - lastTick < 2 * 60_000,
    ready: async () => {
      if (stop.signal.aborted) throw new Error('shutting down');
      await Promise.all([ping(pools.write, 2000), pingRedis(redis, 2000)]);
    },
  });
  log.info({ holder, replicas, metricsPort: config.metricsPort }, 'scheduler started');

  const loop = (async () => {
    let leader = false;
    let renewedAt = 0;
    const lastPeriod = new Map<string, number>();
    while (!stop.signal.aborted) {
      lastTick = Date.now();
      try {
        if (Date.now() - renewedAt >= RENEW_EVERY_MS || !leader) {
          const now = await acquire(pools, holder);
          if (now !== leader) log.info({ holder }, now ? 'holding the scheduler lease' : 'another scheduler holds the lease');
          leader = now;
          renewedAt = Date.now();
          metrics.leader.set(leader ? 1 : 0);
        }
        if (leader) {
          for (const schedule of SCHEDULES) {
            const start = Math.floor(Date.now() / 1000 / schedule.periodSeconds) * schedule.periodSeconds;
            if (lastPeriod.get(schedule.name) === start) continue;
            if (await runSchedule(schedule, start, config.rpcUrls.length, redis, replicas, metrics, log, stop.signal)) lastPeriod.set(schedule.name, start);
          }
        }
      } catch (err) {
        log.warn({ err }, 'scheduler tick failed');
        leader = false;
        metrics.leader.set(0);
      }
      await sleep(TICK_MS, stop.signal);
    }
  })();

  onShutdown(proc, async () => {
    stop.abort();
    await Promise.race([loop, sleep(20_000)]);
    // Hand the lease over at once: the replacement pod need not wait for it to expire.
    await pools.write.query('DELETE FROM defi.scheduler_leases WHERE name = $1 AND holder = $2', [LEASE, holder]).catch(() => undefined);
    await closeServer(metricsServer);
    await Promise.allSettled([pools.end(), redis.quit()]);
  });
}

/** Takes or renews the lease; true while this scheduler holds it. */
async function acquire(pools: Pools, holder: string): Promise<boolean> {
  const { rowCount } = await pools.write.query(
    `INSERT INTO defi.scheduler_leases AS l (name, holder, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
     WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()`,
    [LEASE, holder, LEASE_SECONDS],
  );
  return rowCount === 1;
}

/** Enqueues one period's jobs; true when all of them are queued (durably, with replicas). */
async function runSchedule(
  schedule: Schedule,
  start: number,
  endpoints: number,
  redis: Redis,
  replicas: number,
  metrics: SchedulerMetrics,
  log: Logger,
  signal: AbortSignal,
): Promise<boolean> {
  const giveUpAt = Date.now() + RETRY_FOR_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      let added = 0;
      for (const job of schedule.jobs(start, endpoints)) if (await enqueue(redis, { ...job, kind: schedule.name }, replicas)) added++;
      metrics.runs.inc({ schedule: schedule.name, outcome: added > 0 ? 'enqueued' : 'duplicate' });
      metrics.lastRun.set({ schedule: schedule.name }, Date.now() / 1000);
      log.info({ schedule: schedule.name, period: start, added }, 'enqueued');
      return true;
    } catch (err) {
      const outcome = err instanceof NotDurableError ? 'not_durable' : 'failed';
      metrics.runs.inc({ schedule: schedule.name, outcome });
      log.warn({ err: (err as Error).message, schedule: schedule.name, attempt }, 'enqueue failed, retrying');
      if (Date.now() > giveUpAt || signal.aborted) return false;
      await sleep(Math.min(250 * 2 ** attempt, 4000), signal);
    }
  }
}
