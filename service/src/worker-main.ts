// The worker: takes jobs from the queue one at a time, does each in a PostgreSQL transaction that
// also records the job's id (a job delivered twice is done once), then acknowledges it. Jobs
// abandoned by a worker that died are claimed after CLAIM_IDLE_MS. On SIGTERM it stops taking
// jobs, finishes the one in hand, and exits; a job it cannot finish in time stays pending and
// another worker claims it.
import { hostname } from 'node:os';
import { trace } from '@opentelemetry/api';
import { type Process, onShutdown, sleep } from './bootstrap';
import { SHUTDOWN_SECONDS, type WorkerConfig } from './config';
import { type Client, createPools, isUnavailable, ping, type Pools, transaction } from './db';
import { closeServer, createRegistry, startMetricsServer, type WorkerMetrics, workerMetrics } from './metrics';
import { migrate } from './migrations';
import { claimAbandoned, type Delivery, depth, ensureGroup, finish, nextJob } from './queue';
import { createRedis, pingRedis } from './redis';
import { blockNumber, endpointHost } from './rpc';
import type { Logger } from './log';

const BLOCK_MS = 5000;
const CLAIM_EVERY_MS = 30_000;
const RPC_TIMEOUT_MS = 10_000;
const HISTORY_DAYS = 7;

type Outcome = 'succeeded' | 'failed' | 'duplicate' | 'rejected';

export async function runWorker(proc: Process<'worker'>): Promise<void> {
  const { config, log } = proc;
  const consumer = `${hostname()}-${process.pid}`;
  const pools = createPools(config, 'worker', (err) => log.warn({ err }, 'idle database connection failed'));
  const redis = createRedis(config.redis, 'worker');
  // XREADGROUP BLOCK holds its connection: a second one, closed at shutdown to stop waiting.
  const reader = createRedis(config.redis, 'worker-reader', { maxRetriesPerRequest: null });
  for (const r of [redis, reader]) r.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const registry = createRegistry();
  const metrics = workerMetrics(registry, () => depth(redis));
  const stop = new AbortController();
  let lastLoop = Date.now();

  await migrate(pools.write, log);
  await ensureGroup(redis);
  const metricsServer = await startMetricsServer(config.metricsPort, registry, {
    // Stuck: the loop has not come round for much longer than one blocking read plus one job.
    live: () => Date.now() - lastLoop < 5 * 60_000,
    ready: async () => {
      if (stop.signal.aborted) throw new Error('shutting down');
      await Promise.all([ping(pools.write, 2000), pingRedis(redis, 2000)]);
    },
  });
  log.info({ consumer, metricsPort: config.metricsPort }, 'worker started');

  const loop = (async () => {
    let lastClaim = 0;
    while (!stop.signal.aborted) {
      lastLoop = Date.now();
      try {
        let jobs: Delivery[] = [];
        if (Date.now() - lastClaim > CLAIM_EVERY_MS) {
          lastClaim = Date.now();
          jobs = await claimAbandoned(redis, consumer, 10);
          if (jobs.length > 0) log.info({ jobs: jobs.map((j) => j.id) }, 'claimed abandoned jobs');
        }
        if (jobs.length === 0) {
          const job = await nextJob(reader, consumer, BLOCK_MS);
          if (job) jobs = [job];
        }
        for (const job of jobs) {
          if (stop.signal.aborted) break;
          // Left pending when the database was unreachable: claimed again after CLAIM_IDLE_MS.
          if (await handle(job, config, pools, metrics, log)) await finish(redis, job.entryId);
        }
      } catch (err) {
        if (stop.signal.aborted) break;
        log.warn({ err }, 'queue read failed, retrying');
        await sleep(1000, stop.signal);
      }
    }
  })();

  onShutdown(proc, async () => {
    stop.abort();
    // Ends a blocking read at once; the job in hand (if any) finishes on the other connections.
    reader.disconnect();
    const budget = SHUTDOWN_SECONDS.worker * 1000 - 10_000;
    await Promise.race([loop, sleep(budget)]);
    await closeServer(metricsServer);
    await Promise.allSettled([pools.end(), redis.quit()]);
  });
}

/** Does one job; false when it should be tried again later (the database was unreachable). */
async function handle(job: Delivery, config: WorkerConfig, pools: Pools, metrics: WorkerMetrics, log: Logger): Promise<boolean> {
  const tracer = trace.getTracer('worker');
  const started = process.hrtime.bigint();
  metrics.inFlight.inc();
  let outcome: Outcome = 'failed';
  let again = false;
  await tracer.startActiveSpan(`job ${job.kind}`, { attributes: { 'job.id': job.id, 'job.kind': job.kind } }, async (span) => {
    try {
      outcome = await run(job, config, pools);
      span.setAttribute('job.outcome', outcome);
    } catch (err) {
      // A failed call is not retried (the next period enqueues a fresh job); an unreachable
      // database is, since the job's result could not be recorded.
      again = isUnavailable(err);
      log.warn({ err, job: job.id, retry: again }, 'job failed');
      span.recordException(err as Error);
    } finally {
      span.end();
    }
  });
  metrics.inFlight.dec();
  metrics.jobs.inc({ kind: job.kind, outcome });
  metrics.duration.observe({ kind: job.kind }, Number(process.hrtime.bigint() - started) / 1e9);
  log.info({ job: job.id, kind: job.kind, outcome }, 'job finished');
  return !again;
}

/** Does the job and records its id, in one transaction; a job already recorded is a duplicate. */
async function run(job: Delivery, config: WorkerConfig, pools: Pools): Promise<Outcome> {
  if (job.kind === 'chain-head') {
    const index = Number(job.payload.endpoint);
    const url = Number.isInteger(index) ? config.rpcUrls[index] : undefined;
    // Only the endpoints this worker is configured with, never a URL from the queue.
    if (url === undefined) return record(pools, job, 'rejected', () => Promise.resolve());
    const head = await blockNumber(url, RPC_TIMEOUT_MS);
    return record(pools, job, 'succeeded', async (c) => {
      await c.query('INSERT INTO defi.chain_heads (job_id, endpoint, block_number) VALUES ($1, $2, $3)', [job.id, endpointHost(url), head.toString()]);
    });
  }
  if (job.kind === 'prune-history') {
    return record(pools, job, 'succeeded', async (c) => {
      await c.query(`DELETE FROM defi.chain_heads WHERE observed_at < now() - interval '${HISTORY_DAYS} days'`);
      await c.query(`DELETE FROM defi.job_runs WHERE finished_at < now() - interval '${HISTORY_DAYS} days'`);
    });
  }
  return record(pools, job, 'rejected', () => Promise.resolve());
}

async function record(pools: Pools, job: Delivery, outcome: Outcome, work: (c: Client) => Promise<void>): Promise<Outcome> {
  return transaction(pools.write, 'write', async (c) => {
    const fresh = await c.query('INSERT INTO defi.job_runs (job_id, kind, outcome) VALUES ($1, $2, $3) ON CONFLICT (job_id) DO NOTHING', [
      job.id,
      job.kind,
      outcome,
    ]);
    if (fresh.rowCount === 0) return 'duplicate';
    await work(c);
    return outcome;
  });
}
