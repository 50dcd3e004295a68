// Service-level objectives of the environment: what share of requests through Kong must succeed
// (or be fast enough) over a rolling window. Synth turns them into recording rules, burn-rate
// alerts that page on a fast burn and open a ticket on a slow one, and the SLO dashboard
// (charts/observability/slos.ts, docs/slos.md).
import { z } from 'zod';

/**
 * The bucket bounds (ms) of Kong's kong_request_latency_ms histogram: Kong 3.9.1
 * kong/plugins/prometheus/exporter.lua, UPSTREAM_LATENCY_BUCKETS (the prometheus plugin has no
 * setting for them). A latency threshold must be one of them: the share of requests faster than
 * the threshold is read from the bucket with that bound, and between bounds there is nothing to read.
 */
export const KONG_LATENCY_BUCKETS_MS = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000] as const;

/** The lowest and highest objective, in percent. */
export const OBJECTIVE_RANGE = { min: 95, max: 99.99 } as const;
/** The shortest and longest window, in days. */
export const WINDOW_DAYS = { min: 7, max: 90 } as const;

const Objective = z
  .number({ error: 'must be a percentage such as 99.9' })
  .min(OBJECTIVE_RANGE.min, {
    error: `must be ${OBJECTIVE_RANGE.min} or more (a percentage such as 99.9): below ${OBJECTIVE_RANGE.min}% the fast-burn page (14.4 times the budget) would need nearly every request to fail`,
  })
  .max(OBJECTIVE_RANGE.max, {
    error: `must be ${OBJECTIVE_RANGE.max} or less: a tighter objective leaves a budget of a few minutes a month, less than the alerts' 5-minute window can see`,
  });

/** The rolling window an objective holds over, in whole days: "30d". */
const Window = z
  .string({ error: 'must be whole days such as "30d"' })
  .regex(/^[1-9]\d*d$/, { error: 'must be whole days such as "30d"' })
  .refine((w) => windowDays(w) >= WINDOW_DAYS.min && windowDays(w) <= WINDOW_DAYS.max, {
    error: (issue) =>
      `${String(issue.input)} is out of range: use ${WINDOW_DAYS.min}d to ${WINDOW_DAYS.max}d (the slow-burn ticket looks back 3 days, and Prometheus keeps the whole window)`,
  });

const LatencyThreshold = z.number({ error: 'must be milliseconds such as 400' }).refine((ms) => (KONG_LATENCY_BUCKETS_MS as readonly number[]).includes(ms), {
  error: (issue) =>
    `${String(issue.input)} ms is not a bucket bound of Kong's latency histogram, so the share of faster requests cannot be read: use one of ${KONG_LATENCY_BUCKETS_MS.join(', ')}`,
});

/** An objective on the share of requests that do not fail (5xx) over the window. */
const availability = (defaultObjective: number) =>
  z
    .strictObject({
      /** Percentage of requests (4xx, the client's errors, left out) that must not end in a 5xx. */
      objective: Objective.default(defaultObjective),
      /** The rolling window the objective holds over. @default "30d" */
      window: Window.default('30d'),
    })
    .prefault({});

export const SloConfig = z
  .strictObject({
    /**
     * Whether a fast burn pages: true makes it severity critical (PagerDuty where the environment
     * has it); false makes it a warning like the slow burn, sent to chat and mail, never paged.
     * @default true
     */
    paging: z.boolean().default(true),
    /** The product's api through Kong (service app-v1, /app/v1/). @default 99.9% over 30d */
    apiAvailability: availability(99.9),
    /** The product's api through Kong: the share of requests answered within thresholdMs. @default 95% within 400 ms over 30d (the p95) */
    apiLatency: z
      .strictObject({
        /** Percentage of requests that must be answered within thresholdMs: 95 makes thresholdMs the p95. @default 95 */
        objective: Objective.default(95),
        /** Kong's total request time (its own plus the api's); one of KONG_LATENCY_BUCKETS_MS. @default 400 */
        thresholdMs: LatencyThreshold.default(400),
        /** @default "30d" */
        window: Window.default('30d'),
      })
      .prefault({}),
    /** Auth (GoTrue) through Kong: services auth-v1 and auth-v1-open-*. @default 99.9% over 30d */
    authAvailability: availability(99.9),
    /** Realtime websocket connections through Kong (service realtime-v1-ws): upgrades not refused with a 5xx. @default 99.5% over 30d */
    realtimeConnections: availability(99.5),
  })
  .prefault({});
export type SloConfig = z.infer<typeof SloConfig>;
export type SloConfigInput = z.input<typeof SloConfig>;

/** "30d" -> 30. */
export function windowDays(window: string): number {
  return Number(window.slice(0, -1));
}

/**
 * The budget over the window needs the whole window of history: a window longer than
 * Prometheus keeps would silently be computed over less.
 */
export function checkSloWindows(observability: { prometheus: { retention: string }; slos: SloConfig }, ctx: z.RefinementCtx): void {
  const retention = observability.prometheus.retention;
  const keptHours = Number(retention.slice(0, -1)) * (retention.endsWith('d') ? 24 : 1);
  for (const [name, slo] of Object.entries(observability.slos)) {
    if (typeof slo !== 'object' || windowDays(slo.window) * 24 <= keptHours) continue;
    ctx.addIssue({
      code: 'custom',
      path: ['observability', 'slos', name, 'window'],
      message: `${slo.window} is longer than Prometheus keeps data (observability.prometheus.retention ${retention}), so the error budget over it cannot be computed: shorten the window or raise the retention`,
    });
  }
}
