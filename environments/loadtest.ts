// Environment settings of the load tests (tests/load/, run by the Jobs of charts/loadtest): how
// many virtual users each script ramps to and for how long, the limits that pass or fail a run,
// and the size of the k6 pod. The defaults are production's targets: 10,000 users on the api,
// 10,000 Realtime connections, 500 database users.
import { z } from 'zod';
import { Resources, wholeNumber } from './fields';
import { crossField } from './follow-on';

/** A duration as k6 and the Job deadline take it: "90s", "5m", "1h". */
const Duration = z.string().regex(/^[1-9]\d*(s|m|h)$/, { error: 'must be a duration such as "5m", "90s" or "1h"' });

/** Seconds in a Duration (already validated). */
export const loadtestSeconds = (d: string): number => Number(d.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[d.slice(-1) as 's' | 'm' | 'h'];

/** What passes a run. */
const Limits = (p95Ms: number) =>
  z
    .strictObject({
      /** 95th percentile latency limit, milliseconds. */
      p95Ms: wholeNumber('milliseconds', 1).default(p95Ms),
      /** Highest share of failures, 0..1 (0.01 is 1%). @default 0.01 */
      maxErrorRate: z
        .number({ error: 'must be a share such as 0.01 (1%)' })
        .min(0, { error: 'must be 0 or more' })
        .lt(1, { error: 'must be below 1 (a share: 0.01 is 1%)' })
        .default(0.01),
    })
    .prefault({});

/** The ramp: up to `vus` over `rampUp`, held for `hold`, down over `rampDown`. */
const shape = (vus: number, rampUp: string, hold: string) => ({
  /** Virtual users at the peak. @default api 10000, realtime 10000 (connections), database 500 */
  vus: wholeNumber('virtual users', 1).default(vus),
  /** Time to ramp up to `vus`. @default api "5m", realtime "5m", database "2m" */
  rampUp: Duration.default(rampUp),
  /** Time held at `vus`. @default api "10m", realtime "10m", database "5m" */
  hold: Duration.default(hold),
  /** Time to ramp down to none. @default "1m" */
  rampDown: Duration.default('1m'),
});

export const LoadtestConfig = z.strictObject({
  /**
   * The k6 container of each load-test Job. One load test runs at a time: the app namespace's
   * quota counts one such pod (environments/budget.ts), so a run is never refused for room.
   */
  resources: Resources,
  /** How long a Job may run past its planned end (ramps, hold, last sessions) before it is stopped. @default "15m" */
  deadlineMargin: Duration.default('15m'),
  /**
   * tests/load/api.ts: the product's api (service/) at /app/v1/ through Kong, as signed-in users
   * listing, opening, reading and closing positions. Its users are the database test's
   * (database.users and database.emailDomain): with "password", virtual users share the
   * database.vus provisioned users.
   */
  api: z
    .strictObject({
      ...shape(10_000, '5m', '10m'),
      /** Mean pause of a virtual user between iterations, seconds. @default 1 */
      thinkSeconds: z.number().min(0, { error: 'must be 0 or more (seconds)' }).default(1),
      /** p95 of request latency @default 500 ms; share of failed requests @default 0.01. */
      thresholds: Limits(500),
    })
    .prefault({}),
  /** tests/load/realtime.ts: websocket connections to Realtime through Kong. */
  realtime: z
    .strictObject({
      ...shape(10_000, '5m', '10m'),
      /**
       * Connections per channel; the first of each channel broadcasts (one VU in channelSize).
       * Realtime refuses more than TENANT_MAX_CONCURRENT_USERS (200 by default) per channel. @default 100
       */
      channelSize: wholeNumber('connections per channel', 2).default(100),
      /** Seconds between a sender's broadcasts. @default 5 */
      broadcastIntervalSeconds: wholeNumber('seconds', 1).default(5),
      /** How long each connection stays open before it reconnects, seconds. @default 300 */
      sessionSeconds: wholeNumber('seconds', 30).default(300),
      /** p95 of the channel join round trip @default 1000 ms; share of failed sessions @default 0.01. */
      thresholds: Limits(1000),
    })
    .prefault({})
    .superRefine(
      crossField((r, ctx) => {
        if (r.sessionSeconds < 3 * r.broadcastIntervalSeconds) {
          ctx.addIssue({
            code: 'custom',
            path: ['sessionSeconds'],
            message: `${r.sessionSeconds} is shorter than three broadcast intervals (${3 * r.broadcastIntervalSeconds}): a session must see broadcasts to be judged`,
          });
        }
      }),
    ),
  /** tests/load/database.ts: users reading and writing their own rows through PostgREST with RLS. */
  database: z
    .strictObject({
      ...shape(500, '2m', '5m'),
      /**
       * How each virtual user gets its JWT: "signup" signs up a fresh user (only where GoTrue
       * confirms sign-ups itself: supabase.mailerAutoconfirm); "password" signs in as a user
       * provisioned beforehand, with the password in the Secret loadtest-users. @default "password"
       */
      users: z.enum(['signup', 'password'], { error: 'must be "signup" or "password"' }).default('password'),
      /** Domain of the load-test users' e-mail addresses. @default "example.com" */
      emailDomain: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/, { error: 'must be a domain such as "example.com"' })
        .default('example.com'),
      /** Mean pause of a user between iterations (insert, reads, delete), seconds. @default 1 */
      thinkSeconds: z.number().min(0, { error: 'must be 0 or more (seconds)' }).default(1),
      /** p95 of PostgREST request latency @default 300 ms; share of failed requests @default 0.01. */
      thresholds: Limits(300),
    })
    .prefault({}),
});
export type LoadtestConfig = z.infer<typeof LoadtestConfig>;

/** The scripts of tests/load/ the loadtest chart runs, each as a Job of its own. */
export { LOADTEST_SCRIPTS, type LoadtestScript } from './names';

/** Sign-ups get a session at once only where GoTrue confirms them itself. */
export function checkLoadtestUsers(
  env: { loadtest: LoadtestConfig; supabase: { mailerAutoconfirm: boolean; disableSignup: boolean } },
  ctx: z.RefinementCtx,
): void {
  if (env.loadtest.database.users !== 'signup') return;
  if (!env.supabase.mailerAutoconfirm || env.supabase.disableSignup) {
    ctx.addIssue({
      code: 'custom',
      path: ['loadtest', 'database', 'users'],
      message: `"signup" needs GoTrue to confirm sign-ups itself (supabase.mailerAutoconfirm true, disableSignup false): otherwise it mails every test user and gives no session; use "password" with provisioned users`,
    });
  }
}
