// The RED method (rate, errors, duration) at the two doors of the platform: Kong, per Supabase
// service, and the product's api, per pod-template hash so that a canary's pods stand apart from
// the stable ones during a release (Kong cannot tell versions apart, docs/reference/gateway-and-delivery.md).
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
    durationQuantile: (q) =>
      `histogram_quantile(${q}, sum by (${HASH_LABEL}, le) (rate(http_request_duration_seconds_bucket${sel(app)}[$__rate_interval])))`,
  };
}

export function gatewayApi(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const kong = { namespace: ctx.namespaces.supabase, job: JOBS.kong };
  const k = (...matchers: string[]) => sel(kong, 'service=~"$service"', ...matchers);
  const kongRate = (...matchers: string[]) => `sum by (service) (rate(kong_http_requests_total${k(...matchers)}[$__rate_interval]))`;
  const kongQuantile = (q: number, histogram: string) =>
    `histogram_quantile(${q}, sum by (service, le) (rate(${histogram}_bucket${k()}[$__rate_interval])))`;

  const api = apiQueries(ctx);

  return dashboardFile(
    platformDashboard('gateway-api', 'Gateway and API (RED)', 'Requests, errors and latency at Kong per Supabase service, and at the product api per release.', [
      'kong',
      'api',
      'red',
    ])
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
          description: 'Requests per second by status code, all selected services together; 429 is Kong\'s rate limiting, 401/403 its key checks.',
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
          description: 'Share of the api\'s responses that are 5xx, per pod-template hash. This is what the canary analysis judges the new version by.',
          queries: [{ expr: api.errorRatio, legend: `{{${HASH_LABEL}}}` }],
          unit: units.PercentUnit,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'API duration p50, p95, p99',
          description: 'Response time quantiles per pod-template hash, from the api\'s own histogram.',
          queries: [0.5, 0.95, 0.99].map((q) => ({ expr: api.durationQuantile(q), legend: `{{${HASH_LABEL}}} p${Math.round(q * 100)}` })),
          unit: units.Seconds,
          min: 0,
          width: 8,
        }),
      ),
  );
}
