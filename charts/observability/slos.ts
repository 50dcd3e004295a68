// The platform's service-level objectives as the rules and the SLO dashboard read them: what each
// SLI counts (Kong's own series, the one place every public request passes), its error ratio
// over the windows of the Google SRE Workbook, "Alerting on SLOs"
// (https://sre.google/workbook/alerting-on-slos/), and the multiwindow, multi-burn-rate alerts
// built on them. The objectives themselves are the environment's (environments/slos.ts).
import { SloConfig, windowDays } from '../../environments/slos';
import { JOBS } from './metrics-catalogue';

/** The windows each SLO's error ratio is recorded over: the alerts' long and short windows. */
export const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
export type SloWindow = (typeof SLO_WINDOWS)[number];

/** Minutes in a window such as "6h" or "3d". */
export function windowMinutes(window: string): number {
  const n = Number(window.slice(0, -1));
  return n * { m: 1, h: 60, d: 1440 }[window.slice(-1) as 'm' | 'h' | 'd'];
}

export type BurnKind = 'page' | 'ticket';

/**
 * The burn-rate alerts, from the workbook's recommended parameters: an alert fires when the error
 * ratio over both its long and its short window exceeds burnRate times the budget (the share of
 * requests the objective allows to fail). A burn rate of 1 spends the budget in exactly the
 * window; 14.4 over 1 hour spends 2% of a 30-day budget. The short window (1/12 of the long
 * one) makes the alert stop soon after the burn stops.
 */
export const BURN_RATE_ALERTS: readonly { readonly kind: BurnKind; readonly long: SloWindow; readonly short: SloWindow; readonly burnRate: number }[] = [
  { kind: 'page', long: '1h', short: '5m', burnRate: 14.4 },
  { kind: 'page', long: '6h', short: '30m', burnRate: 6 },
  { kind: 'ticket', long: '1d', short: '2h', burnRate: 3 },
  { kind: 'ticket', long: '3d', short: '6h', burnRate: 1 },
];

export type SloId = Exclude<keyof SloConfig, 'paging'>;

/** What the SLOs need to know about the environment. */
export interface SloContext {
  readonly slos: SloConfig;
  /** Namespace of Kong (the supabase namespace). */
  readonly kongNamespace: string;
}

/** One SLO with the environment's objective: names, what it counts and the PromQL of its error ratio. */
export interface Slo {
  readonly id: SloId;
  /** snake_case, in recording rule names: slo:<key>_error:ratio_rate<window>. */
  readonly key: string;
  /** UpperCamelCase, in alert names: Slo<name>FastBurn. */
  readonly name: string;
  /** "API availability". */
  readonly title: string;
  /** Percent: 99.9. */
  readonly objective: number;
  /** The rolling window: "30d". */
  readonly window: string;
  /** The share of events the objective allows to be bad: 0.001 for 99.9%. */
  readonly budget: number;
  readonly kind: 'availability' | 'latency';
  /** The latency SLO's threshold in ms. */
  readonly thresholdMs?: number;
  /** Kong's service label of the requests counted, as a matcher: service="app-v1". */
  readonly services: string;
  /** The Kong services in words, for runbooks: "app-v1 (/app/v1/, the product's api)". */
  readonly route: string;
  /** What a good event is, in one sentence. */
  readonly sli: string;
  /** The error ratio (bad / valid events) over a PromQL range such as "1h" or "30d". */
  readonly errorRatio: (range: string) => string;
}

/** The objective's budget as a share, rounded so that 99.9 gives 0.001 and not 0.0009999999999999432. */
export function budgetOf(objective: number): number {
  return Number(((100 - objective) / 100).toFixed(8));
}

/** The recorded error ratio of an SLO over one window. */
export function recordName(slo: Pick<Slo, 'key'>, window: SloWindow): string {
  return `slo:${slo.key}_error:ratio_rate${window}`;
}

/** 4xx are the client's errors (bad key, rate limit, expired token): not events the platform is judged by. */
const NOT_CLIENT_ERROR = 'code!~"4[0-9][0-9]"';
const SERVER_ERROR = 'code=~"5[0-9][0-9]"';
/** Where the labels of the recorded ratios come from: one series per Kong namespace. */
const BY = 'sum by (namespace, job)';

export function slos(ctx: SloContext): Slo[] {
  const kong = (services: string, ...matchers: string[]) => `{${[`job="${JOBS.kong}"`, `namespace="${ctx.kongNamespace}"`, services, ...matchers].join(', ')}}`;
  /** 5xx over everything but 4xx; a service with traffic but no 5xx series yet has a ratio of 0, not none. */
  const availability = (services: string) => (range: string) => {
    const valid = `${BY} (rate(kong_http_requests_total${kong(services, NOT_CLIENT_ERROR)}[${range}]))`;
    return `(${BY} (rate(kong_http_requests_total${kong(services, SERVER_ERROR)}[${range}])) or 0 * ${valid})\n/ ${valid}`;
  };
  /**
   * Requests slower than the threshold: all requests minus those in the threshold's bucket.
   * Prometheus 3 stores the bucket bound Kong writes as le="400" as le="400.0"; both match.
   */
  const latency = (services: string, thresholdMs: number) => (range: string) =>
    `1 - ${BY} (rate(kong_request_latency_ms_bucket${kong(services, `le=~"${thresholdMs}(\\\\.0)?"`)}[${range}]))\n/ ${BY} (rate(kong_request_latency_ms_count${kong(services)}[${range}]))`;
  const c = ctx.slos;
  const api = 'service="app-v1"';
  return [
    {
      id: 'apiAvailability',
      key: 'api_availability',
      name: 'ApiAvailability',
      title: 'API availability',
      objective: c.apiAvailability.objective,
      window: c.apiAvailability.window,
      budget: budgetOf(c.apiAvailability.objective),
      kind: 'availability',
      services: api,
      route: "app-v1 (/app/v1/, the product's api)",
      sli: "a request Kong routed to the product's api (app-v1) that did not end in a 5xx; 4xx are the client's errors and are not counted at all",
      errorRatio: availability(api),
    },
    {
      id: 'apiLatency',
      key: 'api_latency',
      name: 'ApiLatency',
      title: 'API latency',
      objective: c.apiLatency.objective,
      window: c.apiLatency.window,
      budget: budgetOf(c.apiLatency.objective),
      kind: 'latency',
      thresholdMs: c.apiLatency.thresholdMs,
      services: api,
      route: "app-v1 (/app/v1/, the product's api)",
      sli: `a request Kong routed to the product's api (app-v1) that was answered within ${c.apiLatency.thresholdMs} ms, Kong's total request time (kong_request_latency_ms: Kong's own work, the api's, and the transfer to the client)`,
      errorRatio: latency(api, c.apiLatency.thresholdMs),
    },
    {
      id: 'authAvailability',
      key: 'auth_availability',
      name: 'AuthAvailability',
      title: 'Auth availability',
      objective: c.authAvailability.objective,
      window: c.authAvailability.window,
      budget: budgetOf(c.authAvailability.objective),
      kind: 'availability',
      services: 'service=~"auth-v1(-open-[a-z0-9-]+)?"',
      route: 'auth-v1 and auth-v1-open-* (/auth/v1/, GoTrue)',
      sli: 'a request Kong routed to Auth (GoTrue: auth-v1 and the open auth-v1-open-* routes for email links, OAuth and the JWKS) that did not end in a 5xx; 4xx are not counted',
      errorRatio: availability('service=~"auth-v1(-open-[a-z0-9-]+)?"'),
    },
    {
      id: 'realtimeConnections',
      key: 'realtime_connections',
      name: 'RealtimeConnections',
      title: 'Realtime connections',
      objective: c.realtimeConnections.objective,
      window: c.realtimeConnections.window,
      budget: budgetOf(c.realtimeConnections.objective),
      kind: 'availability',
      services: 'service="realtime-v1-ws"',
      route: 'realtime-v1-ws (/realtime/v1/, the websocket)',
      sli: "a websocket connection to Realtime through Kong (realtime-v1-ws) that was not refused with a 5xx: 101 is an upgrade that worked; 4xx (a bad or expired token, an unknown tenant, rate limits) are the client's and are not counted. Kong logs an upgraded connection when it closes",
      errorRatio: availability('service="realtime-v1-ws"'),
    },
  ];
}

/** The SLOs of an environment where none are declared: the schema's defaults (production's). */
export const DEFAULT_SLOS: SloConfig = SloConfig.parse({});

/** How long a burn rate takes to spend the whole budget of a window, in words: "2.1 days". */
export function exhaustion(window: string, burnRate: number): string {
  const hours = (windowDays(window) * 24) / burnRate;
  return hours < 48 ? `${Number(hours.toFixed(1))} hours` : `${Number((hours / 24).toFixed(1))} days`;
}

/** The share of a window's budget an alert's long window spends at its burn rate: 0.02 for 14.4 over 1h of 30d. */
export function budgetSpent(window: string, alert: { long: SloWindow; burnRate: number }): number {
  return (alert.burnRate * windowMinutes(alert.long)) / (windowDays(window) * 1440);
}
