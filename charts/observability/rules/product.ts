// The product's background work: the worker's job queue (a Redis stream) and the scheduler that
// fills it. The api's requests are covered by its SLOs and the canary; these catch a queue that
// nobody empties, jobs that fail, and schedules that stopped. Names, labels and meanings are the
// service's own (service/src/contract.ts, metrics.ts, worker-main.ts, scheduler-main.ts).
import { JOBS } from '../metrics-catalogue';
import { series, target } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

/** Jobs in the queue below which a growing backlog is not yet worth a page (a few minutes of chain-head jobs). */
export const QUEUE_BACKLOG_FLOOR = 100;
/** Failed share of the jobs a worker finished over 10 minutes, above which WorkerJobsFailing fires. */
export const JOB_FAILURE_RATIO = 0.1;
/** Failed jobs in those 10 minutes below which no ratio is judged (one bad call is not a pattern). */
export const JOB_FAILURE_MIN = 5;
/**
 * The shortest period of the scheduler's schedules, seconds (chain-head, SCHEDULES in
 * service/src/scheduler-main.ts). No run for 3 periods is a stall.
 */
export const SHORTEST_SCHEDULE_SECONDS = 15;

export function productRules(ctx: RuleContext): RuleGroupSpec {
  const app = ctx.namespaces.app;
  const supabase = ctx.namespaces.supabase;
  const WORKER = `job="${JOBS.worker}", namespace="${app}"`;
  const SCHEDULER = `job="${JOBS.scheduler}", namespace="${app}"`;
  const workerPod = target(JOBS.worker, app, 'worker-7c8d9f6b5-x2k4p', JOBS.worker, '10.0.5.12:9090');
  const schedulerPod = target(JOBS.scheduler, app, 'scheduler-5f6d7c8b9-h3j5k', JOBS.scheduler, '10.0.5.14:9090');
  const depth = (values: string) => [series('worker_queue_depth', workerPod, values)];
  /** Jobs finished per minute, by outcome. */
  const jobs = (kind: string, perMinute: Record<string, string>) =>
    Object.entries(perMinute).map(([outcome, values]) => series('worker_jobs_total', { ...workerPod, kind, outcome }, values));
  const stalled = 3 * SHORTEST_SCHEDULE_SECONDS;
  /** A scheduler pod started at 0: leader gauge, and chain-head's last run (Unix seconds, promtool's clock starts at 0). */
  const scheduler = (leader: string, lastRun?: string) => [
    series('process_start_time_seconds', schedulerPod, '0x40'),
    series('scheduler_is_leader', schedulerPod, leader),
    ...(lastRun ? [series('scheduler_last_run_timestamp_seconds', { ...schedulerPod, schedule: 'chain-head' }, lastRun)] : []),
  ];
  const logs = (component: string) => `\`kubectl -n ${app} logs deploy/${component} --tail=200\``;
  const redisCli = (command: string) => `\`kubectl -n ${supabase} exec -it <redis primary pod> -c redis -- redis-cli -n <REDIS_DB> ${command}\``;

  return {
    name: 'product',
    rules: [
      {
        alert: 'WorkerQueueBacklogGrowing',
        expr: [
          `max by (namespace) (worker_queue_depth{${WORKER}}) > ${QUEUE_BACKLOG_FLOOR}`,
          // Every worker pod reports the same stream length: the trend of any of them is the queue's.
          `and max by (namespace) (deriv(worker_queue_depth{${WORKER}}[15m])) > 0`,
        ].join('\n'),
        for: '15m',
        severity: 'warning',
        team: 'app',
        summary: `The job queue in {{ $labels.namespace }} holds more than ${QUEUE_BACKLOG_FLOOR} jobs and keeps growing.`,
        description: `For 15 minutes the worker's job queue in {{ $labels.namespace }} has been longer than ${QUEUE_BACKLOG_FLOOR} jobs and its 15-minute trend has been upward: jobs arrive faster than the workers finish them.`,
        runbook: {
          meaning:
            'worker_queue_depth is the length of the Redis stream the scheduler fills and the workers read: the jobs not finished yet, waiting or taken by a worker. Finished jobs are deleted, so in steady state it stays near the number of jobs of one period. Growing for 15 minutes above the floor means the workers fall behind: too few of them, each job slower (RPC endpoint or database), or jobs left pending because the database was unreachable (they are claimed again after 150 s).',
          impact:
            'Chain heads are recorded late, and the backlog grows until the workers catch up; the data the product serves gets older. Redis memory grows with the stream. Nothing is lost: jobs stay in the stream until a worker finishes them.',
          diagnosis: [
            `The workers: \`kubectl -n ${app} get pods -l app.kubernetes.io/name=${JOBS.worker}\` (how many, Ready, restarts) and ${logs(JOBS.worker)} ("job failed", "queue read failed", "claimed abandoned jobs").`,
            `Job durations and throughput: \`histogram_quantile(0.95, sum by (le, kind) (rate(worker_job_duration_seconds_bucket{${WORKER}}[5m])))\` and \`sum by (kind, outcome) (rate(worker_jobs_total{${WORKER}}[5m]))\` in Prometheus. Slow chain-head jobs point at the RPC endpoints; slow jobs of every kind at PostgreSQL.`,
            `The stream itself: ${redisCli('XLEN defi:jobs')} and ${redisCli('XPENDING defi:jobs workers')} (many pending entries: workers take jobs but do not finish them).`,
            "Did a release change the scheduler's schedules or the number of RPC endpoints (more jobs per period)?",
          ],
          mitigation: [
            `Workers missing or crash-looping: fix the cause in their logs (database or Redis unreachable, bad configuration); more workers: raise the environment's app.worker replicas (docs/runbooks/scaling.md).`,
            "Slow RPC endpoint: replace or remove it from the environment's rpcEndpoints; the backlog of its jobs drains (each one times out after 10 s).",
            'PostgreSQL slow or unreachable: see PostgresDown and the pooler alerts; jobs left pending are claimed again once it answers.',
          ],
        },
        tests: {
          fires: [{ series: depth('0+10x40'), at: '30m', alerts: [{ namespace: app }] }],
          quiet: [
            // Above the floor since 11m, growing: not yet 15 minutes.
            { series: depth('0+10x40'), at: '20m' },
            // A long queue that is not growing (being worked off at the rate it fills).
            { series: depth('500x40'), at: '30m' },
            // Growing, but still short.
            { series: depth('0+1x40'), at: '30m' },
          ],
        },
      },
      {
        alert: 'WorkerJobsFailing',
        expr: [
          `sum by (namespace, kind) (increase(worker_jobs_total{${WORKER}, outcome="failed"}[10m]))`,
          `  / sum by (namespace, kind) (increase(worker_jobs_total{${WORKER}}[10m])) > ${JOB_FAILURE_RATIO}`,
          `and sum by (namespace, kind) (increase(worker_jobs_total{${WORKER}, outcome="failed"}[10m])) >= ${JOB_FAILURE_MIN}`,
        ].join('\n'),
        for: '5m',
        severity: 'warning',
        team: 'app',
        summary: `More than ${JOB_FAILURE_RATIO * 100}% of the {{ $labels.kind }} jobs in {{ $labels.namespace }} fail.`,
        description: `For 5 minutes more than ${JOB_FAILURE_RATIO * 100}% of the {{ $labels.kind }} jobs the workers in {{ $labels.namespace }} finished in the last 10 minutes have failed (at least ${JOB_FAILURE_MIN} of them).`,
        runbook: {
          meaning:
            'The worker counts every job it finishes by kind and outcome: succeeded, duplicate (done before), rejected (names an RPC endpoint this worker is not configured with) or failed (the job threw: an RPC call failed or timed out, or the database refused the write). A failed job is not retried, the next period enqueues a fresh one; a job the database could not record stays in the queue and counts as failed each time.',
          impact:
            'The work of the failed jobs is missing: chain-head jobs leave gaps in the recorded chain heads, prune-history leaves old rows in place. The product serves older or incomplete data for as long as it lasts.',
          diagnosis: [
            `The errors: ${logs(JOBS.worker)} and look for "job failed" (its err says which call failed, retry says whether the database was unreachable). Traces of the jobs ("job chain-head") are in Tempo.`,
            `Which outcomes, how many: \`sum by (kind, outcome) (increase(worker_jobs_total{${WORKER}}[10m]))\` in Prometheus.`,
            "chain-head failing alone: the RPC endpoint (rate limit, outage, a URL that changed). Every kind failing: PostgreSQL (PostgresDown, the pooler alerts) or the worker's egress NetworkPolicy.",
          ],
          mitigation: [
            "RPC endpoint down or rate-limiting: switch the environment's rpcEndpoints to a working provider and release.",
            'Database unreachable: fix PostgreSQL or the pooler first; the pending jobs are claimed again when it answers.',
            `A bad release of the worker: roll it back (revert the promote commit, docs/runbooks/deployment.md); \`kubectl -n ${app} rollout undo deployment/${JOBS.worker}\` only buys time until Argo CD syncs again.`,
          ],
        },
        tests: {
          // 6 of 40 chain-head jobs a minute fail: 15%.
          fires: [{ series: jobs('chain-head', { succeeded: '0+34x30', failed: '0+6x30' }), at: '10m', alerts: [{ namespace: app, kind: 'chain-head' }] }],
          quiet: [
            { series: jobs('chain-head', { succeeded: '0+34x30', failed: '0+6x30' }), at: '3m' },
            // 2 of 40: 5%.
            { series: jobs('chain-head', { succeeded: '0+38x30', failed: '0+2x30' }), at: '10m' },
            // Every job fails, but 3 jobs in 10 minutes are too few to judge.
            { series: jobs('prune-history', { failed: '0x4 1x4 2x4 3x20' }), at: '15m' },
          ],
        },
      },
      {
        alert: 'SchedulerStalled',
        expr: [
          // Since the last complete run of any schedule, or since the pod started if it has not run yet.
          `time() - max by (namespace) (scheduler_last_run_timestamp_seconds{${SCHEDULER}} or process_start_time_seconds{${SCHEDULER}}) > ${stalled}`,
          `or max by (namespace) (scheduler_is_leader{${SCHEDULER}}) < 1`,
          // No scheduler is scraped at all (not running, crash-looping, or unreachable).
          `or sum by (namespace) (absent(scheduler_is_leader{${SCHEDULER}}))`,
        ].join('\n'),
        for: '5m',
        severity: 'warning',
        team: 'app',
        summary: 'The scheduler in {{ $labels.namespace }} has stopped enqueueing jobs.',
        description: `For 5 minutes the scheduler in {{ $labels.namespace }} has not completed a run of any schedule within ${stalled} seconds (3 periods of its shortest schedule), holds no lease, or is not scraped at all. No new jobs reach the queue.`,
        runbook: {
          meaning: `The scheduler (one pod) enqueues each schedule's jobs once per period while it holds the lease, a row in defi.scheduler_leases it renews every 10 s; scheduler_is_leader is 1 while it does, and scheduler_last_run_timestamp_seconds{schedule} is set when a period's jobs are all queued (with a Redis replica confirming, where there are replicas). The shortest schedule, chain-head, runs every ${SHORTEST_SCHEDULE_SECONDS} s. So either the runs stopped succeeding (Redis refusing or not replicating the writes, enqueue retried and given up), the pod cannot take the lease (PostgreSQL unreachable, or a lease row held by a pod that is gone, which expires after 30 s), or there is no scheduler to scrape.`,
          impact:
            'No new jobs: the workers run dry and nothing is recorded (chain heads, pruning) until the scheduler runs again. Periods missed meanwhile are not caught up; only the current period is enqueued once it recovers.',
          diagnosis: [
            `The pod: \`kubectl -n ${app} get pods -l app.kubernetes.io/name=${JOBS.scheduler}\` (Running, Ready, restarts) and ${logs(JOBS.scheduler)}: "another scheduler holds the lease", "scheduler tick failed" (database), "enqueue failed, retrying" (Redis; not_durable means no replica confirmed the write).`,
            `Runs by outcome: \`sum by (schedule, outcome) (increase(scheduler_runs_total{${SCHEDULER}}[10m]))\` in Prometheus; the leader: \`scheduler_is_leader{${SCHEDULER}}\`.`,
            `The lease: \`SELECT * FROM defi.scheduler_leases\` in the product's database (holder and expires_at).`,
            'Redis: RedisDown, the replication alerts (not_durable with replicas), or the primary proxy.',
          ],
          mitigation: [
            `Pod stuck or crash-looping: fix the cause in its log; \`kubectl -n ${app} delete pod -l app.kubernetes.io/name=${JOBS.scheduler}\` starts a new one (Recreate: the old one goes first and hands over the lease).`,
            'Redis refusing writes or without a current replica: fix Redis first (docs/runbooks/redis-failover.md); the scheduler retries by itself.',
            'PostgreSQL or the rw pooler unreachable: see PostgresDown and the pooler alerts; the scheduler takes the lease again once it answers.',
          ],
        },
        tests: {
          fires: [
            // Leader, but its last run was at 2m.
            { series: scheduler('1x40', '0 60 120x38'), at: '15m', alerts: [{ namespace: app }] },
            // Running, never the leader.
            { series: scheduler('0x40'), at: '10m', alerts: [{ namespace: app }] },
            // Leader since it started, never a complete run.
            { series: scheduler('1x40'), at: '10m', alerts: [{ namespace: app }] },
            // No scheduler series at all: its pod does not answer the scrape.
            { series: [series('up', schedulerPod, '0x40')], at: '10m', alerts: [{ namespace: app }] },
          ],
          quiet: [
            { series: scheduler('1x40', '0 60 120x38'), at: '6m' },
            // Runs every period (sampled once a minute, each sample a few seconds old).
            { series: scheduler('1x40', '-5+60x40'), at: '15m' },
            // A new pod that took the lease and ran within its first minute.
            { series: scheduler('0 1x39', '_ 50+60x39'), at: '10m' },
          ],
        },
      },
    ],
  };
}
