// The gateway: every public request passes Kong, so its 5xx ratio and p95 latency per Kong service
// are the platform's user-facing health. Request rates and latency buckets are recorded per
// service first (Kong 3.x metric names; the prometheus plugin has status_code_metrics and
// latency_metrics on), so dashboards and these alerts read the same numbers.
import { JOBS } from '../metrics-catalogue';
import { type Labels, series, target } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

/** Realtime's websockets are logged when they close: their "latency" is the connection's lifetime. */
const WEBSOCKET_SERVICE = 'realtime-v1-ws';

export function kongRules(ctx: RuleContext): RuleGroupSpec {
  const supabase = ctx.namespaces.supabase;
  const KONG = `job="${JOBS.kong}"`;
  const kongPod = 'kong-6c9f7d8b4-q7w2e';
  const pod = target(JOBS.kong, supabase, kongPod, 'kong', '10.0.2.9:8100');
  const requests = (service: string, perMinute: Record<string, number>) =>
    Object.entries(perMinute).map(([code, n]) =>
      series(
        'kong_http_requests_total',
        { ...pod, service, route: `${service}-all`, code, source: 'service', workspace: 'default', consumer: '' },
        `0+${n}x20`,
      ),
    );
  /** Cumulative requests per minute at or under each bucket bound (ms). */
  const latency = (service: string, buckets: Record<string, number>) => [
    ...Object.entries(buckets).map(([le, n]) =>
      series('kong_request_latency_ms_bucket', { ...pod, service, route: `${service}-all`, workspace: 'default', le }, `0+${n}x20`),
    ),
    ...requests(service, { '200': buckets['+Inf']! }),
  ];
  const FAST = { '100': 500, '500': 590, '1000': 600, '2000': 600, '5000': 600, '+Inf': 600 };
  const SLOW = { '100': 100, '500': 200, '1000': 300, '2000': 400, '5000': 600, '+Inf': 600 };
  const service = (name: string): Labels => ({ namespace: supabase, service: name });
  const sharedDict = (usedMiB: number) => {
    const labels = { ...pod, node_id: '6d1f', shared_dict: 'prometheus_metrics', kong_subsystem: 'http' };
    return [
      series('kong_memory_lua_shared_dict_bytes', labels, `${usedMiB * 2 ** 20}x30`),
      series('kong_memory_lua_shared_dict_total_bytes', labels, `${5 * 2 ** 20}x30`),
    ];
  };

  return {
    name: 'kong',
    rules: [
      {
        record: 'service:kong_http_requests:rate5m',
        expr: `sum by (namespace, service) (rate(kong_http_requests_total{${KONG}}[5m]))`,
        tests: [
          {
            series: [...requests('rest-v1', { '200': 540, '502': 60 }), ...requests('auth-v1', { '200': 30 })],
            at: '10m',
            expect: [
              { labels: `{namespace="${supabase}",service="rest-v1"}`, value: 10 },
              { labels: `{namespace="${supabase}",service="auth-v1"}`, value: 0.5 },
            ],
          },
        ],
      },
      {
        record: 'service_code:kong_http_requests:rate5m',
        expr: `sum by (namespace, service, code) (rate(kong_http_requests_total{${KONG}}[5m]))`,
        tests: [
          {
            series: requests('rest-v1', { '200': 540, '502': 60 }),
            at: '10m',
            expect: [
              { labels: `{namespace="${supabase}",service="rest-v1",code="200"}`, value: 9 },
              { labels: `{namespace="${supabase}",service="rest-v1",code="502"}`, value: 1 },
            ],
          },
        ],
      },
      {
        record: 'service_le:kong_request_latency_ms_bucket:rate5m',
        expr: `sum by (namespace, service, le) (rate(kong_request_latency_ms_bucket{${KONG}}[5m]))`,
        tests: [
          {
            series: latency('storage-v1', { '100': 60, '+Inf': 120 }),
            at: '10m',
            expect: [
              { labels: `{namespace="${supabase}",service="storage-v1",le="100"}`, value: 1 },
              { labels: `{namespace="${supabase}",service="storage-v1",le="+Inf"}`, value: 2 },
            ],
          },
        ],
      },
      {
        alert: 'KongHighErrorRate',
        expr: [
          'sum by (namespace, service) (service_code:kong_http_requests:rate5m{code=~"5[0-9][0-9]"})',
          '  / service:kong_http_requests:rate5m > 0.05',
          // A handful of requests a minute is too few for a ratio to mean anything.
          'and service:kong_http_requests:rate5m > 0.2',
        ].join('\n'),
        for: '5m',
        severity: 'critical',
        team: 'platform',
        summary: 'More than 5% of requests to Kong service {{ $labels.service }} fail with 5xx.',
        description:
          'For 5 minutes more than 5% of the requests that Kong routed to service {{ $labels.service }} ({{ $labels.namespace }}) have ended in a 5xx status, from the upstream or from Kong itself.',
        runbook: {
          meaning:
            'Kong counts every response by service and status code. 5xx means the upstream failed (500), was unreachable or refused the connection (502), timed out (504), or Kong could not route (503). Services are the Kong services of kong.yml: auth-v1, rest-v1, graphql-v1, realtime-v1-*, storage-v1, app-v1, meta, dashboard.',
          impact: "Users see errors on that API. rest-v1 and auth-v1 failing means the product is down for logged-in users; app-v1 is the product's own api.",
          diagnosis: [
            'Which codes: `sum by (code) (service_code:kong_http_requests:rate5m{service="<service>"})` in Prometheus. 502/504 point at the upstream\'s pods or network; 500 at the upstream\'s own code.',
            `The upstream's pods: \`kubectl -n ${supabase} get pods -l app.kubernetes.io/name=<upstream>\` (for app-v1: \`kubectl -n ${ctx.namespaces.app} get pods -l app.kubernetes.io/name=api\`), their readiness and recent restarts.`,
            `Kong's view: \`kubectl -n ${supabase} logs deploy/kong --tail=200 | grep -E '" 5[0-9][0-9] '\` shows upstream addresses and timings.`,
            'Did a release just start? A canary of the api aborts by itself on errors (RolloutDegraded); a Supabase service upgrade does not.',
            'A database outage shows up here first: check PostgresDown and PostgresTooManyConnections.',
          ],
          mitigation: [
            `Fix or roll back the upstream (revert its release in Git; for the api, \`kubectl argo rollouts abort api -n ${ctx.namespaces.app}\` buys time).`,
            "Upstream overloaded: scale it (HPA max, see KubeHpaMaxedOut) or shed load with the gateway's rate limits.",
            `Kong itself (503 for every service, no upstream address in the log): check its declarative config render and restart Kong: \`kubectl -n ${supabase} rollout restart deployment/kong\`.`,
          ],
        },
        tests: {
          fires: [{ series: requests('rest-v1', { '200': 540, '502': 60 }), at: '10m', alerts: [service('rest-v1')] }],
          quiet: [
            { series: requests('rest-v1', { '200': 540, '502': 60 }), at: '4m' },
            { series: requests('rest-v1', { '200': 594, '500': 6 }), at: '10m' },
            // 2 errors in 6 requests a minute: too little traffic to judge.
            { series: requests('rest-v1', { '200': 4, '500': 2 }), at: '10m' },
          ],
        },
      },
      {
        alert: 'KongHighLatencyP95',
        expr: [
          `histogram_quantile(0.95, service_le:kong_request_latency_ms_bucket:rate5m{service!="${WEBSOCKET_SERVICE}"}) > 2000`,
          'and on (namespace, service) service:kong_http_requests:rate5m > 0.2',
        ].join('\n'),
        for: '10m',
        severity: 'warning',
        team: 'platform',
        summary: 'p95 latency of Kong service {{ $labels.service }} is above 2 seconds.',
        description:
          'For 10 minutes the 95th percentile of the total request time (Kong plus upstream) for service {{ $labels.service }} ({{ $labels.namespace }}) has been above 2 seconds.',
        runbook: {
          meaning:
            "Kong's request latency histogram measures from the first byte received to the last byte sent, so it includes the upstream and the client's upload and download. Realtime's websocket service is left out: a websocket is counted when it closes.",
          impact: 'Slow pages and API calls; clients with short timeouts start failing (KongHighErrorRate may follow). Not an outage yet.',
          diagnosis: [
            "Upstream or gateway: compare `kong_upstream_latency_ms_bucket` (time in the upstream) with `kong_kong_latency_ms_bucket` (time in Kong's plugins) for the service.",
            'Upstream slow: PostgreSQL is the usual cause for rest-v1, auth-v1 and app-v1 (long transactions, locks, connections at the limit: PostgresLongRunningTransaction, PostgresTooManyConnections); `pg_stat_activity` shows the waiting queries.',
            'storage-v1: large uploads and downloads are slow by nature; check whether the requests are big (`kong_bandwidth_bytes`) before chasing the upstream.',
            "Kong slow: CPU throttling of the kong pods (`kubectl top pods` in the gateway namespace) or the rate-limiting plugin's counters.",
          ],
          mitigation: [
            'Remove the cause in the database (cancel the blocking query, see the Postgres runbooks) or roll back the release that made the upstream slower.',
            'Scale the upstream or Kong if they are CPU-bound (HPA limits in `environments/<env>.ts`).',
          ],
        },
        tests: {
          fires: [{ series: latency('rest-v1', SLOW), at: '15m', alerts: [service('rest-v1')] }],
          quiet: [
            { series: latency('rest-v1', SLOW), at: '8m' },
            { series: latency('rest-v1', FAST), at: '15m' },
            { series: latency(WEBSOCKET_SERVICE, SLOW), at: '15m' },
          ],
        },
      },
      {
        alert: 'KongPrometheusShmAlmostFull',
        expr: `max by (namespace, pod) (kong_memory_lua_shared_dict_bytes{${KONG}, shared_dict="prometheus_metrics"} / kong_memory_lua_shared_dict_total_bytes{${KONG}, shared_dict="prometheus_metrics"}) > 0.9`,
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'Kong {{ $labels.pod }} has almost no room left for its metrics.',
        description:
          'The prometheus_metrics shared dictionary of Kong {{ $labels.namespace }}/{{ $labels.pod }} has been more than 90% full for 15 minutes. When it is full, Kong stops recording new metric series and the gateway alerts go blind.',
        runbook: {
          meaning:
            "Kong's prometheus plugin keeps its counters in an nginx shared memory zone. Each combination of service, route, status code and bucket is a series; more routes or codes mean more memory.",
          impact:
            'Once full, new series are dropped with "prometheus_metrics: no memory" errors in Kong\'s log: error rates and latencies of new routes or codes are missing, so KongHighErrorRate and KongHighLatencyP95 may not fire.',
          diagnosis: [
            `Kong's log: \`kubectl -n ${supabase} logs deploy/kong --tail=500 | grep -i "no memory"\`.`,
            'Series count: `count(kong_http_requests_total)` and `count(kong_request_latency_ms_bucket)`; a jump usually follows new routes or per-consumer metrics being switched on.',
          ],
          mitigation: [
            "Enlarge the `prometheus_metrics` shared dictionary in Kong's nginx settings (the gateway chart) and merge; Kong restarts.",
            'Or reduce cardinality: keep `per_consumer` off and avoid routes per tenant.',
          ],
        },
        tests: {
          fires: [{ series: sharedDict(4.75), at: '20m', alerts: [{ namespace: supabase, pod: kongPod }] }],
          quiet: [
            { series: sharedDict(4.75), at: '10m' },
            { series: sharedDict(2), at: '20m' },
          ],
        },
      },
    ],
  };
}
