// Auth (GoTrue) as it reports itself: requests by route and status with their latency, the
// password checks behind sign-ins, the mail it sends, and its database pool. Metric names:
// metrics-catalogue.ts (supabase/auth v2.189.0 through the OpenTelemetry Prometheus exporter).
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { JOBS } from '../metrics-catalogue';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, platformDashboard, sel, thresholds } from './panels';
import { withWorkload } from './workload';

export function auth(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const target = { namespace: ctx.namespaces.supabase, job: JOBS.auth };
  const s = sel(target);
  const rate = (metric: string, by: string, ...matchers: string[]) => `sum by (${by}) (rate(${metric}${sel(target, ...matchers)}[$__rate_interval]))`;
  const total = (metric: string, ...matchers: string[]) => `sum(rate(${metric}${sel(target, ...matchers)}[$__rate_interval]))`;
  const quantile = (q: number, by: string[] = []) =>
    `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (rate(http_server_request_duration_seconds_bucket${s}[$__rate_interval])))`;

  const dashboard = platformDashboard(
    'auth',
    'Auth (GoTrue)',
    'Supabase Auth: requests by route and status with their latency, password checks, mail, its database pool and its pods.',
    ['auth', 'supabase'],
  )
    .withRow(new RowBuilder('Status'))
    .withPanel(
      p.countExpectingSome({
        title: 'Auth pods reporting',
        description:
          "Auth pods whose metrics Prometheus scraped at the last attempt. Healthy: the Deployment's pod count. 0 is an Auth outage or a blocked metrics port (TargetDown).",
        queries: [{ expr: `count(up${s} == 1)` }],
      }),
    )
    .withPanel(
      p.stat({
        title: 'Requests per second',
        description:
          'Requests Auth answered (sign-ups, sign-ins, token refreshes, user calls), all pods. Token refreshes make a steady floor while users are signed in.',
        queries: [{ expr: total('http_server_request_duration_seconds_count') }],
        unit: units.RequestsPerSecond,
      }),
    )
    .withPanel(
      p.errorShare({
        title: '5xx share',
        description:
          "Share of responses that are server errors. Healthy: 0; a few in a thousand during a database failover. 4xx (wrong password, expired token) are the client's and not counted here.",
        errors: total('http_status_codes_total', 'code=~"5.."'),
        all: total('http_status_codes_total'),
      }),
    )
    .withPanel(
      p.stat({
        title: 'Latency p95',
        description:
          'Time Auth takes to answer, 95th percentile over all routes (without Kong). Healthy: well under a second; sign-in and sign-up hash a password (bcrypt), which alone takes tens of milliseconds.',
        queries: [{ expr: quantile(0.95) }],
        unit: units.Seconds,
        thresholds: thresholds([
          [null, 'green'],
          [0.5, 'orange'],
          [2, 'red'],
        ]),
      }),
    )
    .withRow(new RowBuilder('Requests'))
    .withPanel(
      p.timeseries({
        title: 'Requests by route',
        description:
          'Requests per second per route pattern (/token, /user, /signup...). A jump on /token with grant_type=password and a high failed-password rate below is a credential-stuffing attempt.',
        queries: [{ expr: rate('http_server_request_duration_seconds_count', 'http_route'), legend: '{{http_route}}' }],
        unit: units.RequestsPerSecond,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Responses by status code',
        description:
          "Responses per second by HTTP status. 400/401/422 are the client's (bad credentials, expired tokens); 429 is Auth's own rate limit; any 5xx is Auth or its database failing.",
        queries: [{ expr: rate('http_status_codes_total', 'code'), legend: '{{code}}' }],
        unit: units.RequestsPerSecond,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Latency p50, p95, p99',
        description:
          'Request duration percentiles over all routes. Healthy: p99 under a second. A rise on every route together points at the database (pool below); on one route, at what that route does (mail for /recover, hashing for /token).',
        queries: [
          { expr: quantile(0.5), legend: 'p50' },
          { expr: quantile(0.95), legend: 'p95' },
          { expr: quantile(0.99), legend: 'p99' },
        ],
        unit: units.Seconds,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Server errors by route',
        description: 'Responses with a 5xx status per second, by route. Healthy: no line at all.',
        queries: [{ expr: rate('http_status_codes_total', 'http_route', 'code=~"5.."'), legend: '{{http_route}}' }],
        unit: units.RequestsPerSecond,
        min: 0,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Latency p95 by route',
        description:
          '95th percentile of the request duration per route. Routes that send mail (/recover, /otp, /signup with confirmation) wait for the SMTP server.',
        queries: [{ expr: quantile(0.95, ['http_route']), legend: '{{http_route}}' }],
        unit: units.Seconds,
        min: 0,
      }),
    )
    .withRow(new RowBuilder('Sign-ins and mail'))
    .withPanel(
      p.timeseries({
        title: 'Password checks',
        description:
          'Password comparisons per second (sign-ins with a password), by whether the password matched, and new password hashes (sign-ups, password changes). Healthy: mismatches a small share of checks; a surge of mismatches is guessing or credential stuffing.',
        queries: [
          { expr: rate('gotrue_compare_hash_and_password_completed_total', 'match'), legend: 'checked, match={{match}}' },
          { expr: total('gotrue_generate_from_password_completed_total'), legend: 'hashed' },
        ],
        unit: units.OpsPerSecond,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Mail sent and failed',
        description:
          "Mails Auth sent per second by kind (confirmation, recovery, magic link, invite...) and failures to send them. Healthy: no failures; failures mean users wait for mails that never come (SMTP credentials, the provider's limits). Empty where no SMTP server is configured.",
        queries: [
          { expr: rate('global_auth_email_send_operations_total', 'type'), legend: 'sent {{type}}' },
          { expr: rate('global_auth_email_send_errors_total', 'type'), legend: 'failed {{type}}' },
        ],
        unit: units.OpsPerSecond,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Mail rate limit hits (per 5 minutes)',
        description:
          'Requests Auth refused because its mail rate limit (GOTRUE_RATE_LIMIT_EMAIL_SENT) was reached. Healthy: none; a steady count means real users cannot get their mail, or someone is triggering mails in bulk.',
        queries: [{ expr: `sum(increase(gotrue_email_rate_limit_counter_total${s}[5m]))`, legend: 'refused' }],
        unit: units.Short,
        min: 0,
        width: 8,
      }),
    )
    .withRow(new RowBuilder('Database pool'))
    .withPanel(
      p.timeseries({
        title: 'Database connections',
        description:
          "Connections of each pod's pool in use and idle, and the pool's limit (GOTRUE_DB_MAX_POOL_SIZE, counted in the capacity plan). Healthy: in use well below the limit; at the limit requests queue for a connection (next panel).",
        queries: [
          { expr: `sum by (pod, status) (db_sql_connection_open${s})`, legend: '{{pod}} {{status}}' },
          { expr: `max(db_sql_connection_max_open${s})`, legend: 'limit per pod' },
        ],
        unit: units.Short,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Waits for a connection',
        description:
          'How often a request had to wait for a free connection of the pool, and how long on average. Healthy: zero. Waits mean the pool is too small for the load or queries are slow.',
        queries: [
          { expr: `sum by (pod) (rate(db_sql_connection_wait_total${s}[$__rate_interval]))`, legend: '{{pod}} waits/s' },
          {
            expr: `sum by (pod) (rate(db_sql_connection_wait_duration_milliseconds_total${s}[$__rate_interval])) / sum by (pod) (rate(db_sql_connection_wait_total${s}[$__rate_interval]))`,
            legend: '{{pod}} mean wait (ms)',
          },
        ],
        unit: units.Short,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Database call latency p95',
        description:
          'Duration of the SQL calls Auth makes, 95th percentile per kind of call (query, exec, commit...), and the rate of calls that failed. Healthy: milliseconds and no errors; slow calls with a healthy database point at the pooler or the network.',
        queries: [
          {
            expr: `histogram_quantile(0.95, sum by (method, le) (rate(db_sql_latency_milliseconds_bucket${s}[$__rate_interval])))`,
            legend: '{{method}} p95 (ms)',
          },
          { expr: `sum(rate(db_sql_latency_milliseconds_count${sel(target, 'status="error"')}[$__rate_interval]))`, legend: 'failed calls/s' },
        ],
        unit: units.Short,
        min: 0,
        width: 8,
      }),
    );

  return dashboardFile(withWorkload(dashboard, p, ctx, { deployment: 'auth', containers: ['auth'] }));
}
