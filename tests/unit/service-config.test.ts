// The service (service/) against the app chart: it reads exactly the environment variables the
// chart gives each component (both ways, in every environment), parses the values the chart
// gives, stops within each pod's grace period, and exposes the HTTP metrics under the names,
// labels and buckets the canary AnalysisTemplate, the dashboards and the metric catalogue use.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_METRICS, HASH_LABEL } from '../../charts/app/canary';
import { apiQueries } from '../../charts/observability/dashboards/gateway-api';
import { METRIC_CATALOGUE } from '../../charts/observability/metrics-catalogue';
import { SHORTEST_SCHEDULE_SECONDS } from '../../charts/observability/rules/product';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { API_DRAIN_SECONDS, COMPONENTS, ENV_VARS, loadConfig, SHUTDOWN_SECONDS } from '../../service/src/config';
import {
  HTTP_DURATION,
  HTTP_DURATION_BUCKETS,
  HTTP_DURATION_LABELS,
  HTTP_REQUEST_LABELS,
  HTTP_REQUESTS,
  SCHEDULER_METRICS,
  TARGET_LABELS,
  WORKER_METRICS,
} from '../../service/src/contract';
import { appEnv, appPod, kubeletEnv } from '../app-workloads';
import { environment, findAll, ROOT } from '../helpers';

const SRC = join(ROOT, 'service/src');

describe.each(ENVIRONMENT_NAMES)('%s', (env) => {
  describe.each(COMPONENTS)('%s', (component) => {
    it('reads every variable the chart sets, and no other', () => {
      const chart = appEnv(env, component)
        .map((v) => v.name)
        .sort();
      const service = Object.keys(ENV_VARS[component]).sort();
      expect({ setButNotRead: chart.filter((n) => !service.includes(n)), readButNotSet: service.filter((n) => !chart.includes(n)) }).toEqual({
        setButNotRead: [],
        readButNotSet: [],
      });
    });

    it("parses the chart's values as the kubelet passes them", () => {
      const secrets: Record<string, string> = { password: 'test-db-password', 'redis-password': 'test-redis-password', 'jwt-secret': 'test'.repeat(10) };
      const vars = kubeletEnv(appEnv(env, component), (_name, key) => secrets[key] ?? `unexpected ${key}`);
      const config = loadConfig(component, vars);
      expect(config.component).toBe(component);
      expect(config.database.write).toMatchObject({ user: 'defi_app', sslmode: 'verify-full', port: 5432 });
      expect(config.database.write.host).toMatch(/pooler-rw/);
      expect(config.database.read.host).toMatch(/pooler-r[ow]/);
      expect(config.database.password).toBe(secrets.password);
      expect(config.otel.tracesUrl).toMatch(/^http:\/\/otel-collector\..*:4318\/v1\/traces$/);
      const sentinels = vars.REDIS_SENTINELS !== '';
      expect(config.redis.sentinels.length > 0).toBe(sentinels);
    });

    it("stops within the pod's terminationGracePeriodSeconds", () => {
      const grace = appPod(env, component).terminationGracePeriodSeconds;
      // At least 5 s to spare for the kubelet, and the api's drain fits in its budget.
      expect(SHUTDOWN_SECONDS[component] + 5).toBeLessThanOrEqual(grace);
      if (component === 'api') expect(API_DRAIN_SECONDS).toBeLessThan(SHUTDOWN_SECONDS.api / 2);
    });
  });

  it('keeps each p95 limit of the canary analysis on a bucket bound of the duration histogram', () => {
    const max = environment(env).app.canary.analysis.maxP95Seconds;
    expect(HTTP_DURATION_BUCKETS).toContain(max);
  });

  it('exposes every label the AnalysisTemplate selects by (or Prometheus adds)', () => {
    const template = findAll(env, 'AnalysisTemplate')[0]! as unknown as {
      spec: { metrics: { provider: { prometheus: { query: string } } }[] };
    };
    for (const m of template.spec.metrics) expect(labelsOf(m.provider.prometheus.query).filter((l) => !known.has(l))).toEqual([]);
  });
});

/** Label names in the selectors and by()/on() clauses of a PromQL expression. */
function labelsOf(expr: string): string[] {
  const names = new Set<string>();
  for (const sel of expr.matchAll(/\{([^}]*)\}/g)) for (const m of sel[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)) names.add(m[1]!);
  for (const by of expr.matchAll(/\b(?:by|on|without|ignoring)\s*\(([^)]*)\)/g))
    for (const n of by[1]!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean))
      names.add(n);
  return [...names];
}
const known = new Set<string>([...TARGET_LABELS, ...HTTP_REQUEST_LABELS, ...HTTP_DURATION_LABELS, 'le']);

describe('the HTTP metric contract', () => {
  it('uses the names the canary analysis queries', () => {
    expect(HTTP_REQUESTS).toBe(API_METRICS.requests);
    expect(`${HTTP_DURATION}_bucket`).toBe(API_METRICS.durationBuckets);
    expect(TARGET_LABELS).toContain(HASH_LABEL);
  });

  it("provides every name the metric catalogue lists for the app's job", () => {
    const exposed = [HTTP_REQUESTS, `${HTTP_DURATION}_bucket`, `${HTTP_DURATION}_sum`, `${HTTP_DURATION}_count`];
    expect(METRIC_CATALOGUE.app.filter((n) => !exposed.includes(n))).toEqual([]);
  });

  it("exposes every label the dashboards' api panels select or group by", () => {
    const q = apiQueries({ namespaces: { app: 'app' } } as Parameters<typeof apiQueries>[0]);
    for (const expr of [q.requestRate, q.errorRatio, q.durationQuantile(0.95)])
      expect(
        labelsOf(expr).filter((l) => !known.has(l)),
        expr,
      ).toEqual([]);
  });

  it('never sets a label Prometheus sets on the target itself', () => {
    expect([...HTTP_REQUEST_LABELS, ...HTTP_DURATION_LABELS].filter((l) => (TARGET_LABELS as readonly string[]).includes(l))).toEqual([]);
  });
});

describe("the worker's and scheduler's metric contract", () => {
  it("provides every name the metric catalogue lists for the worker's and scheduler's jobs", () => {
    const histogram = (base: string) => [`${base}_bucket`, `${base}_sum`, `${base}_count`];
    const worker = [WORKER_METRICS.jobs, ...histogram(WORKER_METRICS.jobDuration), WORKER_METRICS.queueDepth, WORKER_METRICS.inFlight];
    // process_start_time_seconds: prom-client's default process metrics (createRegistry).
    const scheduler = [...Object.values(SCHEDULER_METRICS), 'process_start_time_seconds'];
    expect(METRIC_CATALOGUE.worker.filter((n) => !worker.includes(n))).toEqual([]);
    expect(METRIC_CATALOGUE.scheduler.filter((n) => !scheduler.includes(n))).toEqual([]);
    expect(readFileSync(join(SRC, 'metrics.ts'), 'utf8')).toMatch(/collectDefaultMetrics\(/);
  });

  it("gives SchedulerStalled the scheduler's shortest schedule period", () => {
    const periods = [...readFileSync(join(SRC, 'scheduler-main.ts'), 'utf8').matchAll(/periodSeconds: (\d+)/g)].map((m) => Number(m[1]));
    expect(periods.length).toBeGreaterThan(0);
    expect(Math.min(...periods)).toBe(SHORTEST_SCHEDULE_SECONDS);
  });
});

describe('the service reads its configuration in one place', () => {
  it('has no process.env outside config.ts', () => {
    const offenders = readdirSync(SRC)
      .filter((f) => f.endsWith('.ts') && f !== 'config.ts')
      .filter((f) => /process\.env\b/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('names every problem of a bad configuration at once', () => {
    const load = () => loadConfig('worker', { APP_COMPONENT: 'api', REDIS_PORT: 'x' });
    expect(load).toThrow(/APP_COMPONENT=api, but this is the worker entry point/);
    expect(load).toThrow(/REDIS_PORT=x is not a whole number/);
    expect(load).toThrow(/DATABASE_URL is not set/);
  });
});
