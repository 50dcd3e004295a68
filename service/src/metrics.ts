// Prometheus metrics (prom-client): the HTTP metrics under the names and labels the canary
// analysis and the dashboards query (contract.ts), the worker's and scheduler's own, and the
// Node.js process metrics. Served on METRICS_PORT, which only Prometheus may reach, by a small
// server that also answers the kubelet's probes for the worker and scheduler.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  HEALTH_PATH,
  HTTP_DURATION,
  HTTP_DURATION_BUCKETS,
  HTTP_DURATION_LABELS,
  HTTP_REQUEST_LABELS,
  HTTP_REQUESTS,
  JOB_KINDS,
  METRICS_PATH,
  READY_PATH,
  SCHEDULER_METRICS,
  WORKER_METRICS,
} from './contract';

export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface HttpMetrics {
  observe(method: string, route: string, code: number, seconds: number): void;
  /** Starts the series a route can have at zero, so the first error is a change rate() sees. */
  declare(method: string, route: string): void;
}

export function httpMetrics(registry: Registry): HttpMetrics {
  const requests = new Counter({
    name: HTTP_REQUESTS,
    help: 'Requests answered, by method, route pattern and status code.',
    labelNames: HTTP_REQUEST_LABELS,
    registers: [registry],
  });
  const duration = new Histogram({
    name: HTTP_DURATION,
    help: 'Time from the request to the response, seconds, by method and route pattern.',
    labelNames: HTTP_DURATION_LABELS,
    buckets: [...HTTP_DURATION_BUCKETS],
    registers: [registry],
  });
  return {
    observe(method, route, code, seconds) {
      requests.inc({ method, route, code: String(code) });
      duration.observe({ method, route }, seconds);
    },
    declare(method, route) {
      // A series that appears with its first sample already at 1 loses that increment to
      // rate() (Prometheus never saw it at 0). 500 and 503 are what the canary counts.
      for (const code of ['500', '503']) requests.inc({ method, route, code }, 0);
      duration.zero({ method, route });
    },
  };
}

export interface WorkerMetrics {
  readonly jobs: Counter<'kind' | 'outcome'>;
  readonly duration: Histogram<'kind'>;
  readonly inFlight: Gauge;
}

export function workerMetrics(registry: Registry, queueDepth: () => Promise<number>): WorkerMetrics {
  new Gauge({
    name: WORKER_METRICS.queueDepth,
    help: 'Jobs in the queue not finished yet (waiting, or taken by a worker).',
    registers: [registry],
    async collect() {
      try {
        this.set(await queueDepth());
      } catch {
        // Redis unreachable: no sample rather than a wrong one.
        this.reset();
      }
    },
  });
  const jobs = new Counter({
    name: WORKER_METRICS.jobs,
    help: 'Jobs finished, by kind and outcome (succeeded, failed, duplicate, rejected).',
    labelNames: ['kind', 'outcome'],
    registers: [registry],
  });
  // Each kind's failures start at 0, so that rate() sees the first failure (WorkerJobsFailing).
  for (const kind of JOB_KINDS) for (const outcome of ['succeeded', 'failed']) jobs.labels(kind, outcome).inc(0);
  return {
    jobs,
    duration: new Histogram({
      name: WORKER_METRICS.jobDuration,
      help: 'Time a job took, seconds.',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    inFlight: new Gauge({ name: WORKER_METRICS.inFlight, help: 'Jobs this worker is working on.', registers: [registry] }),
  };
}

export interface SchedulerMetrics {
  readonly lastRun: Gauge<'schedule'>;
  readonly runs: Counter<'schedule' | 'outcome'>;
  readonly leader: Gauge;
}

export function schedulerMetrics(registry: Registry): SchedulerMetrics {
  return {
    lastRun: new Gauge({
      name: SCHEDULER_METRICS.lastRun,
      help: 'When each schedule last enqueued all its jobs, Unix seconds.',
      labelNames: ['schedule'],
      registers: [registry],
    }),
    runs: new Counter({
      name: SCHEDULER_METRICS.runs,
      help: 'Runs of each schedule, by outcome (enqueued, duplicate, not_durable, failed).',
      labelNames: ['schedule', 'outcome'],
      registers: [registry],
    }),
    leader: new Gauge({ name: SCHEDULER_METRICS.leader, help: '1 while this scheduler holds the lease and runs the schedules.', registers: [registry] }),
  };
}

export interface Health {
  /** Process up and not stuck. */
  live(): boolean;
  /** Dependencies reachable and not shutting down; rejects with the reason otherwise. */
  ready(): Promise<void>;
}

/** GET /metrics, /healthz and /readyz on `port`. */
export function startMetricsServer(port: number, registry: Registry, health: Health): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    if (req.method !== 'GET') return send(405, 'method not allowed\n');
    if (path === METRICS_PATH) {
      registry.metrics().then(
        (text) => send(200, text, registry.contentType),
        (err: unknown) => send(500, `${String(err)}\n`),
      );
    } else if (path === HEALTH_PATH) {
      if (health.live()) send(200, 'ok\n');
      else send(500, 'stuck\n');
    } else if (path === READY_PATH) {
      health.ready().then(
        () => send(200, 'ready\n'),
        (err: unknown) => send(503, `not ready: ${err instanceof Error ? err.message : String(err)}\n`),
      );
    } else {
      send(404, 'not found\n');
    }
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
