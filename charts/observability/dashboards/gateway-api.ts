// The RED method (rate, errors, duration) at the two doors of the platform: Kong, per Supabase
// service, and the product's api, per pod-template hash so that a canary's pods stand apart from
// the stable ones during a release (Kong cannot tell versions apart, docs/reference/gateway-and-delivery.md).
// Below them, the product's background work: the worker's queue and jobs, the scheduler's runs.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { HASH_LABEL } from '../../app/canary';
import { JOBS } from '../metrics-catalogue';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, platformDashboard, sel } from './panels';

/** The api's RED queries per pod-template hash; the releases dashboard compares canary and stable with them. */
export function apiQueries(ctx: DashboardContext): { requestRate: string; errorRatio: string; durationQuantile: (q: number) => string } {
  const app = { namespace: ctx.namespaces.app, job: JOBS.api };
  const rate = (selector: string) => `sum by (${HASH_LABEL}) (rate(http_requests_total${selector}[$__rate_interval]))`;
  return {
    requestRate: rate(sel(app)),
    // A hash with no 5xx series at all has a ratio of 0, not no line.
    errorRatio: `(${rate(sel(app, 'code=~"5.."'))} or ${rate(sel(app))} * 0) / ${rate(sel(app))}`,
    durationQuantile: (q) => `histogram_quantile(${q}, sum by (${HASH_LABEL}, le) (rate(http_request_duration_seconds_bucket${sel(app)}[$__rate_interval])))`,
  };
}

export function gatewayApi(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const kong = { namespace: ctx.namespaces.supabase, job: JOBS.kong };
  const k = (...matchers: string[]) => sel(kong, 'service=~"$service"', ...matchers);
  const kongRate = (...matchers: string[]) => `sum by (service) (rate(kong_http_requests_total${k(...matchers)}[$__rate_interval]))`;
  const kongQuantile = (q: number, histogram: string) => `histogram_quantile(${q}, sum by (service, le) (rate(${histogram}_bucket${k()}[$__rate_interval])))`;

  const api = apiQueries(ctx);
  const worker = sel({ namespace: ctx.namespaces.app, job: JOBS.worker });
  const scheduler = sel({ namespace: ctx.namespaces.app, job: JOBS.scheduler });

  return dashboardFile(
    platformDashboard(
      'gateway-api',
      'Gateway and API (RED)',
      "Requests, errors and latency at Kong per Supabase service and at the product api per release; the product's job queue and schedules.",
      ['kong', 'api', 'red'],
    )
      .withVariable(p.labelValues('service', 'Kong service', `kong_http_requests_total${sel(kong)}`, 'service'))
      .withRow(new RowBuilder('Kong gateway'))
      .withPanel(
        p.timeseries({
          title: 'Kong requests per second',
          description: 'Requests Kong answered, per upstream service (auth, rest, realtime, storage...).',
          queries: [{ expr: kongRate(), legend: '{{service}}' }],
          unit: units.RequestsPerSecond,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Kong 5xx ratio',
          description: 'Share of responses that are 5xx, per service: the upstream failed, timed out or is unreachable. The alert fires above 5%.',
          queries: [{ expr: `${kongRate('code=~"5.."')} / ${kongRate()}`, legend: '{{service}}' }],
          unit: units.PercentUnit,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Kong status codes',
          description: "Requests per second by status code, all selected services together; 429 is Kong's rate limiting, 401/403 its key checks.",
          queries: [{ expr: `sum by (code) (rate(kong_http_requests_total${k()}[$__rate_interval]))`, legend: '{{code}}' }],
          unit: units.RequestsPerSecond,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Kong latency p95 and p99',
          description: 'Total time of a request through Kong (its own work plus the upstream), per service.',
          queries: [
            { expr: kongQuantile(0.95, 'kong_request_latency_ms'), legend: '{{service}} p95' },
            { expr: kongQuantile(0.99, 'kong_request_latency_ms'), legend: '{{service}} p99' },
          ],
          unit: units.Milliseconds,
          min: 0,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Kong p95: upstream vs gateway',
          description: 'Where the time goes: waiting for the upstream service, or in Kong itself (plugins such as rate limiting, key auth).',
          queries: [
            { expr: kongQuantile(0.95, 'kong_upstream_latency_ms'), legend: '{{service}} upstream' },
            { expr: kongQuantile(0.95, 'kong_kong_latency_ms'), legend: '{{service}} kong' },
          ],
          unit: units.Milliseconds,
          min: 0,
        }),
      )
      .withRow(new RowBuilder('Product api, by pod-template hash'))
      .withPanel(
        p.timeseries({
          title: 'API requests per second',
          description: 'Requests the api served, per pod-template hash: during a canary, the new hash carries its share of the pods.',
          queries: [{ expr: api.requestRate, legend: `{{${HASH_LABEL}}}` }],
          unit: units.RequestsPerSecond,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'API 5xx ratio',
          description: "Share of the api's responses that are 5xx, per pod-template hash. This is what the canary analysis judges the new version by.",
          queries: [{ expr: api.errorRatio, legend: `{{${HASH_LABEL}}}` }],
          unit: units.PercentUnit,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'API duration p50, p95, p99',
          description: "Response time quantiles per pod-template hash, from the api's own histogram.",
          queries: [0.5, 0.95, 0.99].map((q) => ({ expr: api.durationQuantile(q), legend: `{{${HASH_LABEL}}} p${Math.round(q * 100)}` })),
          unit: units.Seconds,
          min: 0,
          width: 8,
        }),
      )
      .withRow(new RowBuilder('Worker and scheduler'))
      .withPanel(
        p.timeseries({
          title: 'Job queue depth and jobs in flight',
          description:
            'Jobs in the queue not finished yet (every worker reports the same stream), and jobs the workers are working on. Healthy: near the jobs of one period, not growing (WorkerQueueBacklogGrowing).',
          queries: [
            { expr: `max(worker_queue_depth${worker})`, legend: 'queued' },
            { expr: `sum(worker_jobs_in_flight${worker})`, legend: 'in flight' },
          ],
          unit: units.Short,
          min: 0,
          width: 6,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Jobs finished by kind and outcome',
          description: 'Jobs per second by kind and outcome (succeeded, failed, duplicate, rejected). Healthy: failed near zero (WorkerJobsFailing above 10%).',
          queries: [{ expr: `sum by (kind, outcome) (rate(worker_jobs_total${worker}[$__rate_interval]))`, legend: '{{kind}} {{outcome}}' }],
          unit: units.Short,
          min: 0,
          width: 6,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Job duration p95',
          description:
            'The 95th percentile time a job took, by kind. Chain-head jobs wait on an RPC endpoint (10 s timeout); slow jobs of every kind point at PostgreSQL.',
          queries: [
            { expr: `histogram_quantile(0.95, sum by (kind, le) (rate(worker_job_duration_seconds_bucket${worker}[$__rate_interval])))`, legend: '{{kind}}' },
          ],
          unit: units.Seconds,
          min: 0,
          width: 6,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Seconds since each schedule last ran',
          description:
            "Age of each schedule's last complete run, and whether a scheduler holds the lease (1). Healthy: under three periods of the schedule, leader 1 (SchedulerStalled).",
          queries: [
            { expr: `time() - max by (schedule) (scheduler_last_run_timestamp_seconds${scheduler})`, legend: '{{schedule}}' },
            { expr: `max(scheduler_is_leader${scheduler})`, legend: 'leader (1: lease held)' },
          ],
          unit: units.Seconds,
          min: 0,
          width: 6,
        }),
      ),
  );
}
