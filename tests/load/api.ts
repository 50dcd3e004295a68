// Load test of the product's api through Kong: virtual users ramp up to LOADTEST_VUS (10,000 in
// production), each sending GET requests to the paths in LOADTEST_API_PATHS (under /app/v1/,
// with the anon key as Kong's apikey) and waiting LOADTEST_THINK_SECONDS between them. The run
// fails when the p95 latency or the share of failed requests passes the environment's limits.
//
// Run by the Job loadtest-api (charts/loadtest); by hand, against a port-forward to Kong:
//   LOADTEST_BASE_URL=https://localhost:8443 LOADTEST_ANON_KEY=... LOADTEST_RUN_ID=manual \
//   LOADTEST_ENVIRONMENT=dev LOADTEST_VUS=10 LOADTEST_RAMP_UP=30s LOADTEST_HOLD=1m \
//   LOADTEST_RAMP_DOWN=30s LOADTEST_P95_MS=500 LOADTEST_MAX_ERROR_RATE=0.01 \
//   LOADTEST_API_PATHS=/app/v1/healthz K6_INSECURE_SKIP_TLS_VERIFY=true k6 run tests/load/api.ts
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { BASE_URL, anonHeaders, baseOptions, limitsFromEnv, loadFromEnv, numberFrom, p95Below, rampingScenario, rateBelow, required } from './lib/config.ts';

const load = loadFromEnv();
const limits = limitsFromEnv();
const thinkSeconds = numberFrom('LOADTEST_THINK_SECONDS', 0, 1);
const paths = required('LOADTEST_API_PATHS')
  .split(',')
  .map((p) => p.trim())
  .filter((p) => p.length > 0);
for (const path of paths) {
  if (!path.startsWith('/app/v1/')) throw new Error(`LOADTEST_API_PATHS: ${path} is not under /app/v1/, the product's route at Kong`);
}

/** Responses Kong's rate limit turned away: counted apart, since they point at the limits, not the api. */
const rateLimited = new Counter('api_rate_limited');

export const options = {
  ...baseOptions('api', rampingScenario(load), {
    http_req_duration: p95Below(limits),
    http_req_failed: rateBelow(limits),
  }),
  // Only the status matters: keeping 10,000 users' bodies costs memory and time.
  discardResponseBodies: true,
};

export default function (): void {
  const path = paths[Math.floor(Math.random() * paths.length)]!;
  // One name per path, so the series stay few however the query strings vary.
  const res = http.get(`${BASE_URL}${path}`, { headers: anonHeaders(), tags: { name: path.split('?')[0]! } });
  if (res.status === 429) rateLimited.add(1);
  check(res, {
    'api answers 2xx': (r) => r.status >= 200 && r.status < 300,
    'not rate limited by Kong': (r) => r.status !== 429,
  });
  sleep(thinkSeconds * (0.5 + Math.random()));
}
