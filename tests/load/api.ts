// Load test of the product's api (service/) through Kong: virtual users ramp up to LOADTEST_VUS
// (10,000 in production), each signed in through GoTrue, and use the api as its app does, at
// /app/v1/ with the anon key for Kong and the user's JWT for the api: every iteration lists the
// user's positions (GET /app/v1/positions), and one in WRITE_EVERY opens a position (POST), reads
// it back (GET /app/v1/positions/<id>) and closes it again (DELETE), so the table stays small
// however long the run. Every position a user sees must be its own; one seen that belongs to
// someone else fails the run, as does a p95 latency or a share of failed requests past the
// environment's limits. Between iterations a user waits LOADTEST_THINK_SECONDS on average.
//
// Users, as the database test gets them (LOADTEST_AUTH_MODE): "signup" (dev) signs up a fresh
// user per virtual user; "password" (staging, production) signs in as one of the LOADTEST_USERS
// provisioned users loadtest-<n>@<LOADTEST_EMAIL_DOMAIN> (tests/load/database.ts says how to
// create them), virtual user v as user ((v - 1) mod LOADTEST_USERS) + 1, so several virtual
// users share a user, as several devices of one person would.
//
// Run by the Job loadtest-api (charts/loadtest); by hand, against a port-forward to Kong:
//   LOADTEST_BASE_URL=https://localhost:8443 LOADTEST_ANON_KEY=... LOADTEST_RUN_ID=manual \
//   LOADTEST_ENVIRONMENT=dev LOADTEST_VUS=10 LOADTEST_RAMP_UP=30s LOADTEST_HOLD=1m \
//   LOADTEST_RAMP_DOWN=30s LOADTEST_P95_MS=500 LOADTEST_MAX_ERROR_RATE=0.01 \
//   LOADTEST_AUTH_MODE=signup LOADTEST_EMAIL_DOMAIN=example.com LOADTEST_USERS=10 \
//   K6_INSECURE_SKIP_TLS_VERIFY=true k6 run tests/load/api.ts
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import { type Session, requirePassword, sessionKeeper, userHeaders } from './lib/auth.ts';
import { BASE_URL, RUN_ID, baseOptions, limitsFromEnv, loadFromEnv, numberFrom, p95Below, rampingScenario, rateBelow, required, wholeNumberFrom } from './lib/config.ts';

const load = loadFromEnv();
const limits = limitsFromEnv();
const thinkSeconds = numberFrom('LOADTEST_THINK_SECONDS', 0, 1);
const mode = required('LOADTEST_AUTH_MODE');
if (mode !== 'signup' && mode !== 'password') throw new Error(`LOADTEST_AUTH_MODE=${mode} must be "signup" or "password"`);
const emailDomain = required('LOADTEST_EMAIL_DOMAIN');
const users = wholeNumberFrom('LOADTEST_USERS', 1);
const POSITIONS = `${BASE_URL}/app/v1/positions`;
/** One iteration in this many also opens, reads and closes a position. */
const WRITE_EVERY = 10;

/** Positions of another user that a user could see. */
const rlsViolations = new Counter('api_rls_violations');
/** Virtual users that could not get a session (after retrying rate limits). */
const authFailures = new Rate('api_auth_failures');
/** Responses Kong's rate limit turned away: counted apart, since they point at the limits, not the api. */
const rateLimited = new Counter('api_rate_limited');

export const options = baseOptions('api', rampingScenario(load), {
  'http_req_duration{kind:api}': p95Below(limits),
  'http_req_failed{kind:api}': rateBelow(limits),
  api_auth_failures: rateBelow(limits),
  api_rls_violations: ['count<1'],
});

interface Position {
  id: string;
  owner_id: string;
}

const API = { kind: 'api' };

/** Stops the run before any user starts when provisioned users have no password to sign in with. */
export function setup(): void {
  requirePassword(mode);
}

const ensureSession = sessionKeeper(
  mode,
  (signup) => (signup ? `loadtest-api-${RUN_ID}-${__VU}@${emailDomain}`.toLowerCase() : `loadtest-${((__VU - 1) % users) + 1}@${emailDomain}`),
  authFailures,
);

function countForeign(me: Session, positions: Position[]): number {
  const foreign = positions.filter((p) => p.owner_id !== me.userId).length;
  if (foreign > 0) rlsViolations.add(foreign);
  return foreign;
}

export default function (): void {
  const me = ensureSession();
  if (!me) {
    sleep(5);
    return;
  }
  const headers = { ...userHeaders(me), 'Content-Type': 'application/json' };

  const list = http.get(`${POSITIONS}?limit=20`, { headers, tags: { name: 'list', ...API }, responseType: 'text' });
  if (list.status === 429) rateLimited.add(1);
  const seen = list.status === 200 ? (list.json('positions') as unknown as Position[]) : [];
  check(list, {
    'list answers 200': (r) => r.status === 200,
    'list shows only own positions': () => countForeign(me, seen) === 0,
  });

  if (__ITER % WRITE_EVERY === 0) {
    const opened = http.post(POSITIONS, JSON.stringify({ chain: 'ethereum', protocol: 'aave-v3', asset: 'USDC', amount: '100.5' }), {
      headers,
      tags: { name: 'open', ...API },
      responseType: 'text',
    });
    const position = opened.status === 201 ? (opened.json() as unknown as Position) : undefined;
    check(opened, {
      'open answers 201': (r) => r.status === 201,
      'opened position is the user\'s': () => position !== undefined && position.owner_id === me.userId,
    });
    if (position) {
      const read = http.get(`${POSITIONS}/${position.id}`, { headers, tags: { name: 'read', ...API }, responseType: 'text' });
      check(read, { 'read answers 200': (r) => r.status === 200 });
      const closed = http.del(`${POSITIONS}/${position.id}`, null, { headers, tags: { name: 'close', ...API } });
      check(closed, { 'close answers 204': (r) => r.status === 204 });
    }
  }
  sleep(thinkSeconds * (0.5 + Math.random()));
}
