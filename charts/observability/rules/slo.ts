// The environment's service-level objectives as rules: each SLO's error ratio recorded over the
// seven windows of the Google SRE Workbook's multiwindow, multi-burn-rate alerts ("Alerting on
// SLOs", https://sre.google/workbook/alerting-on-slos/), a page when the budget burns fast and a
// ticket when it burns slowly (charts/observability/slos.ts). The promtool cases are computed
// from each SLO's budget: a fast burn pages at the minute the workbook's arithmetic says, a slow
// burn opens a ticket after 36 hours and never pages, and an error rate within the budget stays
// quiet. Each rule group holds one SLO, so promtool steps only its nine rules through a case.
import { JOBS } from '../metrics-catalogue';
import { BURN_RATE_ALERTS, type BurnKind, DEFAULT_SLOS, exhaustion, recordName, SLO_WINDOWS, type Slo, type SloWindow, slos, windowMinutes } from '../slos';
import { type Labels, series, target } from './series';
import type { AlertCase, AlertSpec, RecordingSpec, RuleContext, RuleGroupSpec, Series, Severity } from './types';

/** Valid requests a minute in the cases unless a phase says otherwise. */
const TRAFFIC = 7680;
/** Client errors a minute in every availability case: never counted, so they must not move a ratio. */
const CLIENT_ERRORS = 960;
/**
 * Evaluation step (minutes) of the cases that span days. promtool evaluates every rule of the
 * file at every step from 0 to the case's time, so its run time is rules times steps.
 */
const COARSE = 120;

/** A stretch of traffic in which a share of the valid requests is bad. */
interface Phase {
  readonly minutes: number;
  readonly errorRatio: number;
  /** @default TRAFFIC */
  readonly perMinute?: number;
}

/** Cumulative counter values, one a minute from minute 0, in promtool's expanding notation. */
function counter(phases: readonly { minutes: number; perMinute: number }[]): string {
  let value = 0;
  const parts: string[] = [];
  phases.forEach(({ minutes, perMinute }, i) => {
    // The first phase also writes minute 0; each later one starts a minute after the previous.
    const start = i === 0 ? value : value + perMinute;
    const steps = i === 0 ? minutes : minutes - 1;
    parts.push(steps === 0 ? `${start}` : `${start}+${perMinute}x${steps}`);
    value += perMinute * minutes;
  });
  return parts.join(' ');
}

const total = (phases: readonly Phase[]) => phases.reduce((sum, p) => sum + p.minutes, 0);

/** bad and valid requests Kong counted up to minute t. */
function counts(phases: readonly Phase[], t: number): { bad: number; valid: number } {
  let bad = 0;
  let valid = 0;
  let left = t;
  for (const p of phases) {
    const m = Math.min(left, p.minutes);
    bad += m * p.errorRatio * (p.perMinute ?? TRAFFIC);
    valid += m * (p.perMinute ?? TRAFFIC);
    left -= m;
  }
  return { bad, valid };
}

/**
 * The error ratio promtool computes over a window ending at minute t: the counters' increase
 * over [t - window, t] (all of the data when the window reaches before the first sample, whose
 * extrapolation scales both counters alike).
 */
function ratioAt(phases: readonly Phase[], window: SloWindow, t: number): number {
  const end = counts(phases, t);
  const start = counts(phases, Math.max(0, t - windowMinutes(window)));
  return (end.bad - start.bad) / (end.valid - start.valid);
}

type Verdict = 'fires' | 'quiet' | 'too close to call';

/** Whether the alert of this kind fires at minute t, by the workbook's arithmetic. */
function verdict(phases: readonly Phase[], budget: number, kind: BurnKind, t: number): Verdict {
  const margin = 1e-9;
  let close = false;
  for (const a of BURN_RATE_ALERTS.filter((x) => x.kind === kind)) {
    const threshold = a.burnRate * budget;
    const ratios = [ratioAt(phases, a.long, t), ratioAt(phases, a.short, t)];
    if (ratios.every((r) => r > threshold * (1 + margin))) return 'fires';
    if (!ratios.some((r) => r < threshold * (1 - margin))) close = true;
  }
  return close ? 'too close to call' : 'quiet';
}

/** The first minute on the step's grid at which the alert fires, and the last one before it at which it is clearly quiet. */
function firstFiring(phases: readonly Phase[], budget: number, kind: BurnKind, step: number): { quiet: number; fires: number } {
  let quiet = 0;
  for (let t = step; t <= total(phases); t += step) {
    const v = verdict(phases, budget, kind, t);
    if (v === 'fires') return { quiet, fires: t };
    if (v === 'quiet') quiet = t;
  }
  throw new Error(`the ${kind} alert never fires on ${JSON.stringify(phases)}`);
}

/** "6h4m" for promtool, from minutes. */
function duration(minutes: number): string {
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d ? `${d}d` : '', h ? `${h}h` : '', m || (!d && !h) ? `${m}m` : ''].join('');
}

const pct = (share: number) => `${Number((share * 100).toPrecision(4))}%`;

/** What each SLO's runbook says about its own upstream. */
function upstream(ctx: RuleContext, slo: Slo): { impact: string; diagnosis: string[]; mitigation: string[] } {
  const supabase = ctx.namespaces.supabase;
  const app = ctx.namespaces.app;
  switch (slo.id) {
    case 'apiAvailability':
    case 'apiLatency':
      return {
        impact: 'Users of the product see failing or slow API calls: every call of the web app to its own api passes app-v1.',
        diagnosis: [
          `The api's pods: \`kubectl -n ${app} get pods -l app.kubernetes.io/name=api\` (readiness, restarts) and its own view by release, the api panels of the gateway dashboard (\`http_requests_total\` by \`rollouts_pod_template_hash\`).`,
          `A release in progress or just finished: \`kubectl argo rollouts get rollout api -n ${app}\`; a canary's analysis aborts on errors or slowness by itself (RolloutDegraded), but only while it runs.`,
          "Its dependencies: PostgreSQL through PgBouncer (PostgresDown, PostgresTooManyConnections, PostgresLongRunningTransaction), Redis (RedisDown) and the RPC providers named in the app's environment.",
        ],
        mitigation: [
          `A bad release: \`kubectl argo rollouts abort api -n ${app}\` returns traffic to the stable pods at once; then revert the promote commit in Git (docs/runbooks/deployment.md).`,
          'Saturation (CPU, the database pool): scale the api (`app.api` in `environments/<env>.ts`, KubeHpaMaxedOut) or the database pooler.',
        ],
      };
    case 'authAvailability':
      return {
        impact:
          'Users cannot sign up, sign in or refresh their sessions: a session that cannot be refreshed ends, so logged-in users fall out of the product too.',
        diagnosis: [
          `Auth's pods: \`kubectl -n ${supabase} get pods -l app.kubernetes.io/name=auth\` and \`kubectl -n ${supabase} logs deploy/auth --tail=200\` (database errors, mailer errors).`,
          'Its database: GoTrue fails every request without PostgreSQL (PostgresDown, PostgresTooManyConnections); sign-ups also need the mail relay (`global_auth_email_send_errors_total`).',
        ],
        mitigation: [
          'Roll back a GoTrue upgrade (its image in `lib/images.ts`) or a change to its settings, and let Argo CD sync.',
          'Fix the database or the mail relay as their own runbooks say; Auth recovers by itself once they answer.',
        ],
      };
    case 'realtimeConnections':
      return {
        impact:
          'Clients cannot open Realtime websockets: live updates (prices, positions, presence) stop for every client that reconnects, and clients retry in a loop.',
        diagnosis: [
          `Realtime's pods: \`kubectl -n ${supabase} get pods -l app.kubernetes.io/name=realtime\` and \`kubectl -n ${supabase} logs deploy/realtime --tail=200\`.`,
          'Realtime needs its tenant\'s database connection and its cluster peers: PostgresDown, and whether the pods see each other (docs/reference/realtime.md, "Checking the cluster").',
          "Kong's side: 502/504 on realtime-v1-ws with no upstream address in Kong's log mean Realtime's pods are not ready or not reachable (its NetworkPolicy admits Kong on port 4000).",
        ],
        mitigation: [
          'Roll back a Realtime upgrade (its image in `lib/images.ts`) and let Argo CD sync.',
          `Pods stuck after a database outage: restart them one at a time (\`kubectl -n ${supabase} rollout restart deployment/realtime\`); clients reconnect on their own.`,
        ],
      };
  }
}

/**
 * The cases' series: Kong's counters for the SLO's services under these phases, plus another
 * service failing all along. Where an SLO counts several services, the good requests go to the
 * first and the bad ones to the second, so that a ratio leaving either out is wrong.
 */
function traffic(ctx: RuleContext, slo: Slo, phases: readonly Phase[], options: { noServerErrorSeries?: boolean } = {}): Series[] {
  const pod = target(JOBS.kong, ctx.namespaces.supabase, 'kong-6c9f7d8b4-q7w2e', 'kong', '10.0.2.9:8100');
  const services = SAMPLE_SERVICES[slo.id];
  const minutes = total(phases);
  const good = (p: Phase) => (1 - p.errorRatio) * (p.perMinute ?? TRAFFIC);
  const bad = (p: Phase) => p.errorRatio * (p.perMinute ?? TRAFFIC);
  const of = (perMinute: (p: Phase) => number) => counter(phases.map((p) => ({ minutes: p.minutes, perMinute: perMinute(p) })));
  // The counters of service i: its good requests, its bad ones, all of them.
  const goodOf = (i: number) => of((p) => (services.length === 1 || i === 0 ? good(p) : 0));
  const badOf = (i: number) => of((p) => (services.length === 1 || i === 1 ? bad(p) : 0));
  const allOf = (i: number) => of((p) => (services.length === 1 ? good(p) + bad(p) : i === 0 ? good(p) : bad(p)));
  const steady = (perMinute: number) => counter([{ minutes, perMinute }]);
  const requests = (service: string, code: string, values: string) =>
    series('kong_http_requests_total', { ...pod, service, route: `${service}-all`, code, source: 'service', workspace: 'default', consumer: '' }, values);
  const bucket = (service: string, le: string, values: string) =>
    series('kong_request_latency_ms_bucket', { ...pod, service, route: `${service}-all`, workspace: 'default', le }, values);
  const count = (service: string, values: string) =>
    series('kong_request_latency_ms_count', { ...pod, service, route: `${service}-all`, workspace: 'default' }, values);
  // rest-v1 is not part of any SLO: its failures must not move a ratio.
  const other = 'rest-v1';
  if (slo.kind === 'latency') {
    const le = String(slo.thresholdMs);
    return [
      ...services.flatMap((s, i) => [bucket(s, le, goodOf(i)), bucket(s, '+Inf', allOf(i)), count(s, allOf(i))]),
      bucket(other, le, steady(0)),
      count(other, steady(TRAFFIC)),
    ];
  }
  return [
    ...services.flatMap((s, i) => [
      requests(s, slo.id === 'realtimeConnections' ? '101' : '200', goodOf(i)),
      ...(options.noServerErrorSeries ? [] : [requests(s, '503', badOf(i))]),
      requests(s, '401', steady(CLIENT_ERRORS / services.length)),
    ]),
    requests(other, '502', steady(TRAFFIC)),
  ];
}

/** A traffic profile in which one of the alerts fires, with the minute it fires and the last step before at which it is quiet. */
interface BurnCase {
  readonly kind: BurnKind;
  readonly phases: readonly Phase[];
  /** Evaluation step in minutes; fires and quiet are on its grid. */
  readonly step: number;
  readonly fires: number;
  readonly quiet: number;
}

/**
 * The cases that fire, timed by the workbook's arithmetic (and checked by promtool), each also
 * shown quiet a step earlier. Six clean hours (three days for the ticket) come first, so that
 * every window of the alert holds history, as it does in production:
 * - a full outage pages when the hour's ratio passes 14.4 times the budget: within a minute where
 *   the budget is 0.1% (after 52 s of errors), after 43.2 minutes where it is 5%;
 * - 20 times the budget after six clean hours pages when the hour's ratio passes 14.4 times the
 *   budget: after 14.4/20 of an hour, 43.2 minutes (on a 4-minute grid: at 44);
 * - twice the budget after three clean days opens a ticket when the 3 days' ratio passes the
 *   budget: after 36 hours (on a 2-hour grid: at 38, quiet at 34).
 */
function burnCases(slo: Slo): BurnCase[] {
  const timed = (kind: BurnKind, phases: Phase[], step: number): BurnCase => ({ kind, phases, step, ...firstFiring(phases, slo.budget, kind, step) });
  return [
    timed(
      'page',
      [
        { minutes: 360, errorRatio: 0 },
        { minutes: 60, errorRatio: 1 },
      ],
      1,
    ),
    timed(
      'page',
      [
        { minutes: 360, errorRatio: 0 },
        { minutes: 120, errorRatio: Math.min(1, 20 * slo.budget) },
      ],
      4,
    ),
    timed(
      'ticket',
      [
        { minutes: 4320, errorRatio: 0 },
        { minutes: 2400, errorRatio: 2 * slo.budget },
      ],
      COARSE,
    ),
  ];
}

/**
 * When each firing case's alert fires and when it is still quiet, in minutes after its errors
 * began, for the docs (docs/slos.md): the times the promtool cases prove.
 */
export function burnCaseTimes(slo: Slo): { what: string; kind: BurnKind; step: number; quiet: number; fires: number }[] {
  const what = ['a full outage after 6 clean hours', '20 times the budget after 6 clean hours', 'twice the budget after 3 clean days'];
  return burnCases(slo).map((c, i) => {
    const start = c.phases[0]!.minutes;
    return { what: what[i]!, kind: c.kind, step: c.step, quiet: c.quiet - start, fires: c.fires - start };
  });
}

/** Traffic on which an alert must stay quiet. */
const QUIET: readonly {
  readonly what: string;
  readonly kind: BurnKind | 'both';
  readonly phases: (budget: number) => Phase[];
  readonly at: number;
  readonly step: number;
}[] = [
  // The short window forgets a short outage: seven minutes after one minute of errors, nothing
  // pages (the 6 hours before keep the 6-hour window honest, as in production).
  {
    what: 'a one-minute outage, 7 minutes later',
    kind: 'page',
    phases: () => [
      { minutes: 360, errorRatio: 0 },
      { minutes: 1, errorRatio: 1 },
      { minutes: 10, errorRatio: 0 },
    ],
    at: 368,
    step: 4,
  },
  // Just under the budget for four days: what the budget is for. (At exactly the budget the
  // ratio equals the ticket's threshold, and which side of it a float lands on is chance.)
  { what: 'an error rate of 0.95 times the budget', kind: 'both', phases: (budget) => [{ minutes: 5760, errorRatio: 0.95 * budget }], at: 5760, step: COARSE },
];

/** Kong services the cases' traffic is spread over: every service an SLO counts is exercised. */
const SAMPLE_SERVICES: Record<Slo['id'], readonly string[]> = {
  apiAvailability: ['app-v1'],
  apiLatency: ['app-v1'],
  authAvailability: ['auth-v1', 'auth-v1-open-callback'],
  realtimeConnections: ['realtime-v1-ws'],
};

function recordings(ctx: RuleContext, slo: Slo): RecordingSpec[] {
  const labels = `{namespace="${ctx.namespaces.supabase}",job="${JOBS.kong}"}`;
  return SLO_WINDOWS.map((window) => {
    const w = windowMinutes(window);
    // Only errors for a window and a half, then only good requests for the rest of the second
    // window, as many as the errors in it: exactly 1/2 over the window, more over a longer one
    // and less over a shorter one. (Exactly: promtool compares floats exactly, and rates of equal
    // increases over the same range are equal floats.)
    const half = Math.floor(w / 2);
    const phases: Phase[] = [
      { minutes: w + half, errorRatio: 1 },
      { minutes: w - half, errorRatio: 0, perMinute: (TRAFFIC * half) / (w - half) },
    ];
    // Only the value at the end counts: evaluated at 0 and then at the end.
    const at = duration(2 * w);
    const tests: RecordingSpec['tests'][number][] = [{ series: traffic(ctx, slo, phases), at, evaluationInterval: at, expect: [{ labels, value: 0.5 }] }];
    if (slo.kind === 'availability' && window === '5m') {
      // Kong makes a code's series at its first response: traffic that never failed has no 5xx series.
      tests.push({
        series: traffic(ctx, slo, [{ minutes: 10, errorRatio: 0 }], { noServerErrorSeries: true }),
        at: '10m',
        evaluationInterval: '10m',
        expect: [{ labels, value: 0 }],
      });
    }
    return { record: recordName(slo, window), expr: slo.errorRatio(window), tests };
  });
}

function burnAlert(ctx: RuleContext, slo: Slo, kind: BurnKind, paging: boolean): AlertSpec {
  const conditions = BURN_RATE_ALERTS.filter((a) => a.kind === kind);
  const threshold = (burnRate: number) => `${burnRate} * ${slo.budget}`;
  const expr = conditions
    .map((a) => `(\n  ${recordName(slo, a.long)} > ${threshold(a.burnRate)}\n  and ${recordName(slo, a.short)} > ${threshold(a.burnRate)}\n)`)
    .join('\nor\n');
  const fast = kind === 'page';
  const severity: Severity = fast && paging ? 'critical' : 'warning';
  const bad = slo.kind === 'latency' ? `requests slower than ${slo.thresholdMs} ms` : '5xx responses';
  const words = { '5m': '5 minutes', '30m': '30 minutes', '1h': 'hour', '2h': '2 hours', '6h': '6 hours', '1d': 'day', '3d': '3 days' } as const;
  const over = conditions.map((a) => `more than ${pct(a.burnRate * slo.budget)} over the last ${words[a.long]} and the last ${words[a.short]}`).join(', or ');
  const burns = conditions
    .map((a) =>
      a.burnRate === 1 ? `that rate itself in exactly ${slo.window}` : `${a.burnRate} times that rate spends it in ${exhaustion(slo.window, a.burnRate)}`,
    )
    .join(', ');
  const objective = `${slo.objective}% over ${slo.window}`;
  const alertLabels: Labels = { namespace: ctx.namespaces.supabase, job: JOBS.kong };
  const records = SLO_WINDOWS.map((w) => `\`${recordName(slo, w)}\``).join(', ');
  const own = upstream(ctx, slo);
  const cases = burnCases(slo);
  const mine = cases.filter((c) => c.kind === kind);
  const others = cases.filter((c) => c.kind !== kind);
  const toCase = (c: BurnCase, at: number): AlertCase => ({
    series: traffic(ctx, slo, c.phases),
    at: duration(at),
    ...(c.step === 1 ? {} : { evaluationInterval: duration(c.step) }),
  });
  const tests: AlertSpec['tests'] = {
    fires: mine.map((c) => ({ ...toCase(c, c.fires), alerts: [alertLabels] })),
    quiet: [
      // Not yet: the same traffic a step before the alert fires.
      ...mine.map((c) => toCase(c, c.quiet)),
      // What pages does not have to open a ticket and the other way round; what is quiet for both is.
      ...others.filter((c) => verdict(c.phases, slo.budget, kind, c.fires) === 'quiet').map((c) => toCase(c, c.fires)),
      ...QUIET.filter((q) => q.kind === kind || q.kind === 'both').map((q) => {
        const phases = q.phases(slo.budget);
        if (verdict(phases, slo.budget, kind, q.at) !== 'quiet')
          throw new Error(`${slo.name}: ${q.what} is not clearly quiet for the ${kind} alert at ${q.at}m`);
        return toCase({ kind, phases, step: q.step, fires: q.at, quiet: q.at }, q.at);
      }),
    ],
  };

  return {
    alert: `Slo${slo.name}${fast ? 'FastBurn' : 'SlowBurn'}`,
    expr,
    severity,
    team: slo.id.startsWith('api') ? 'app' : 'platform',
    summary: fast
      ? `${slo.title} (${objective}) is spending its error budget fast: at this rate it is gone in ${exhaustion(slo.window, 6)} or less.`
      : `${slo.title} (${objective}) is spending its error budget too fast to last: at this rate it runs out before its ${slo.window} window ends.`,
    description: `In {{ $labels.namespace }}, among the requests Kong routed to ${slo.route}, ${bad} were ${over}. The objective allows ${pct(slo.budget)} over ${slo.window}: ${burns}.`,
    runbook: {
      meaning:
        `The ${slo.title} SLO asks that ${slo.objective}% of the events over ${slo.window} be good, where a good event is ${slo.sli}. The error budget is the ${pct(slo.budget)} that may be bad; a burn rate of 1 spends it in exactly ${slo.window}. ` +
        (fast
          ? `This is the page of the Google SRE Workbook's multiwindow, multi-burn-rate alerts ("Alerting on SLOs"): over an hour the budget burns at more than 14.4 times that rate, or over 6 hours at more than 6 times (a 30-day budget loses 2% or 5% of itself in that time), and the short window (5 or 30 minutes) shows it is still burning, so the page resolves within minutes of the errors stopping. The recorded ratios are ${records}.`
          : `This is the ticket of the Google SRE Workbook's multiwindow, multi-burn-rate alerts ("Alerting on SLOs"): over a day the budget burns at more than 3 times that rate, or over 3 days at more than the rate that spends it exactly (10% of a 30-day budget either way), and the short window (2 or 6 hours) shows it is still burning. Nothing is down hard enough to page: at this rate the budget still lasts days. The recorded ratios are ${records}.`),
      impact: fast
        ? `${own.impact} At this rate the budget of the whole window is gone within ${exhaustion(slo.window, 6)}; the SLO is then missed for the window and risky changes wait (docs/slos.md).`
        : `Some users see ${bad} now and then. Left alone the budget runs out before the window ends and the SLO is missed; fix it during working hours.`,
      diagnosis: [
        `How fast and since when: the SLO dashboard (Grafana, "Service-level objectives") shows the budget left and the burn rate over each window; in Prometheus the burn rate is a ratio divided by the budget, e.g. \`${recordName(slo, fast ? '1h' : '1d')} / ${slo.budget}\`.`,
        slo.kind === 'latency'
          ? `Where the time goes: \`histogram_quantile(0.95, sum by (le) (rate(kong_upstream_latency_ms_bucket{${slo.services}}[5m])))\` (the api) against the same over \`kong_kong_latency_ms_bucket\` (Kong's plugins).`
          : `Which codes, and from whom: \`sum by (code, source) (rate(kong_http_requests_total{${slo.services}}[5m]))\`; 502/503/504 from source "kong" mean the upstream was unreachable or not ready, 500 from "service" its own failure.`,
        ...own.diagnosis,
        'Everything failing at once, in every service: Kong itself (KongHighErrorRate on every service, its pods) or the database.',
      ],
      mitigation: [
        ...own.mitigation,
        `Afterwards, write down the budget spent (the SLO dashboard); an objective that no longer fits is changed in \`observability.slos\` of \`environments/<env>.ts\` (docs/slos.md).`,
      ],
    },
    tests,
  };
}

/** One group per SLO (slo-api-availability, ...): its seven recorded ratios, then its two alerts, which read them. */
export function sloRules(ctx: RuleContext): RuleGroupSpec[] {
  const config = ctx.slos ?? DEFAULT_SLOS;
  return slos({ slos: config, kongNamespace: ctx.namespaces.supabase }).map((slo) => ({
    name: `slo-${slo.key.replaceAll('_', '-')}`,
    rules: [...recordings(ctx, slo), burnAlert(ctx, slo, 'page', config.paging), burnAlert(ctx, slo, 'ticket', config.paging)],
  }));
}
