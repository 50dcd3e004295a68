// What the platform reads from the service: metric names and labels, the queue's keys, the
// paths Kong and the kubelet call. The canary AnalysisTemplate (charts/app/canary.ts) and the
// dashboards (charts/observability/dashboards/gateway-api.ts, releases.ts) query
// http_requests_total{code} and http_request_duration_seconds_bucket{le}, selecting the pods by
// namespace and rollouts_pod_template_hash, labels Prometheus adds from the pod; tests compare
// these constants with those queries. Dependency-free so that the tests can import it.

/** Every request the api answered, by method, route pattern and status code. */
export const HTTP_REQUESTS = 'http_requests_total';
/** Time from the request's arrival to the response, seconds, by method and route pattern. */
export const HTTP_DURATION = 'http_request_duration_seconds';
export const HTTP_REQUEST_LABELS = ['method', 'route', 'code'] as const;
export const HTTP_DURATION_LABELS = ['method', 'route'] as const;
/**
 * Bucket bounds of the duration histogram, seconds: prom-client's defaults, which include 0.5
 * and 1, the p95 limits of the canary analysis (a test holds every environment's limit to a
 * bound, so the quantile at the limit is not interpolated across a wide bucket).
 */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/**
 * Labels a scraped series must not carry itself: Prometheus sets them on the target (job,
 * namespace, pod, container, instance, rollouts_pod_template_hash) and would rename the
 * service's own to exported_*.
 */
export const TARGET_LABELS = ['job', 'namespace', 'pod', 'container', 'instance', 'rollouts_pod_template_hash'] as const;

/** Probe and scrape paths: not counted in the HTTP metrics (probes are not traffic the canary should be judged by). */
export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';
export const METRICS_PATH = '/metrics';

/** The worker's metrics. */
export const WORKER_METRICS = {
  jobs: 'worker_jobs_total',
  jobDuration: 'worker_job_duration_seconds',
  queueDepth: 'worker_queue_depth',
  inFlight: 'worker_jobs_in_flight',
} as const;

/** The scheduler's metrics. */
export const SCHEDULER_METRICS = {
  lastRun: 'scheduler_last_run_timestamp_seconds',
  runs: 'scheduler_runs_total',
  leader: 'scheduler_is_leader',
} as const;

/** The job queue in Redis database REDIS_DB: a stream with one consumer group of workers. */
export const QUEUE = {
  stream: 'defi:jobs',
  group: 'workers',
  /** Per job id, set when it is enqueued: a second enqueue of the same id does nothing. */
  dedupePrefix: 'defi:job:',
  dedupeSeconds: 24 * 3600,
} as const;

export const JOB_KINDS = ['chain-head', 'prune-history'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
