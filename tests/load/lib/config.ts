// What every load test reads from its environment. The Job (charts/loadtest) sets these
// variables from the environment config; k6 passes the container's variables to __ENV. A
// missing or malformed one stops the test in the init context, before any virtual user starts,
// with a message naming the variable.
import type { Options, Scenario, Threshold } from 'k6/options';

/** A required variable, or an error naming it. */
export function required(name: string): string {
  const value = __ENV[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: the loadtest Job sets it (charts/loadtest/loadtest-chart.ts)`);
  return value;
}

/** An optional variable, or `fallback` when it is unset or empty. */
export function optional(name: string, fallback: string): string {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : value;
}

/** A number of at least `min`. */
export function numberFrom(name: string, min: number, fallback?: number): number {
  const text = fallback === undefined ? required(name) : optional(name, String(fallback));
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name}=${text} is not a number of at least ${min}`);
  return value;
}

/** A whole number of at least `min`. */
export function wholeNumberFrom(name: string, min: number, fallback?: number): number {
  const value = numberFrom(name, min, fallback);
  if (!Number.isInteger(value)) throw new Error(`${name}=${value} is not a whole number`);
  return value;
}

/** A duration as k6 writes it ("90s", "5m", "1h"). */
export function durationFrom(name: string): string {
  const value = required(name);
  if (!/^[1-9]\d*(s|m|h)$/.test(value)) throw new Error(`${name}=${value} is not a duration such as "90s", "5m" or "1h"`);
  return value;
}

/** Kong as the Job reaches it inside the cluster, without a trailing slash. */
export const BASE_URL = required('LOADTEST_BASE_URL').replace(/\/+$/, '');

/**
 * The load tests' API key (loadtest-key of supabase-jwt: an anon-role JWT with subject "loadtest"):
 * Kong's key-auth takes it in the apikey header (or query parameter) as the consumer "loadtest".
 */
export const ANON_KEY = required('LOADTEST_ANON_KEY');

/**
 * Names this run in metric tags, channel topics and row markers. The Job sets it to its own name
 * (a fresh one per run); it must not be made up here: each virtual user runs this init code on
 * its own, and all of them must agree on it.
 */
export const RUN_ID = required('LOADTEST_RUN_ID');

/** The environment the Job runs in (dev, staging, production), as a metric tag. */
export const ENVIRONMENT = required('LOADTEST_ENVIRONMENT');

/** The shape of one run: how many virtual users at the peak and how long each phase lasts. */
export interface Load {
  readonly vus: number;
  readonly rampUp: string;
  readonly hold: string;
  readonly rampDown: string;
}

export function loadFromEnv(): Load {
  return {
    vus: wholeNumberFrom('LOADTEST_VUS', 1),
    rampUp: durationFrom('LOADTEST_RAMP_UP'),
    hold: durationFrom('LOADTEST_HOLD'),
    rampDown: durationFrom('LOADTEST_RAMP_DOWN'),
  };
}

/** The pass/fail limits of a run, from the environment config. */
export interface Limits {
  /** 95th percentile latency limit, milliseconds. */
  readonly p95Ms: number;
  /** Highest share of failures, 0..1. */
  readonly maxErrorRate: number;
}

export function limitsFromEnv(): Limits {
  const maxErrorRate = numberFrom('LOADTEST_MAX_ERROR_RATE', 0);
  if (maxErrorRate >= 1) throw new Error(`LOADTEST_MAX_ERROR_RATE=${maxErrorRate} must be below 1 (a share: 0.01 is 1%)`);
  return { p95Ms: numberFrom('LOADTEST_P95_MS', 1), maxErrorRate };
}

/** A p95 latency threshold on a Trend metric. */
export const p95Below = (limits: Limits): Threshold[] => [`p(95)<${limits.p95Ms}`];

/** A failure-share threshold on a Rate metric. */
export const rateBelow = (limits: Limits): Threshold[] => [`rate<${limits.maxErrorRate}`];

/** Ramp to `load.vus`, hold, ramp down: one ramping-vus scenario. */
export function rampingScenario(load: Load, gracefulRampDown = '30s'): Scenario {
  return {
    executor: 'ramping-vus',
    startVUs: 0,
    stages: [
      { duration: load.rampUp, target: load.vus },
      { duration: load.hold, target: load.vus },
      { duration: load.rampDown, target: 0 },
    ],
    gracefulRampDown,
  };
}

/**
 * Options every script shares: the scenario, thresholds, and tags that become Prometheus labels
 * of the k6_* series (testid, script, environment). Kong's certificate names the public domain,
 * not the Service name the Job connects to, so the Job sets K6_INSECURE_SKIP_TLS_VERIFY.
 */
export function baseOptions(script: string, scenario: Scenario, thresholds: Record<string, Threshold[]>): Options {
  return {
    scenarios: { [script]: scenario },
    thresholds,
    tags: { testid: RUN_ID, script, environment: ENVIRONMENT },
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
    setupTimeout: '2m',
  };
}

/**
 * Headers of a request through Kong as the load tests' client. Every virtual user sends the same
 * key, and Kong counts them together as its consumer "loadtest" under the limit the environment
 * sets; no header claims another client's address (Kong would not believe one).
 */
export function anonHeaders(): Record<string, string> {
  return { apikey: ANON_KEY };
}
