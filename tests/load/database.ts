// Load test of the database through PostgREST with row level security: LOADTEST_VUS users (500
// in production), each signed in through GoTrue with a JWT of its own, insert, read and delete
// rows of public.loadtest_notes at /rest/v1/ through Kong. Every user must see only its own rows:
// each read is checked row by row, a filter on other owners must come back empty, and a row
// claiming another owner must be refused. One row seen that belongs to someone else fails the
// run; so does a p95 latency or a share of failed requests past the environment's limits.
//
// Users, by LOADTEST_AUTH_MODE:
// - signup (dev, where GoTrue confirms sign-ups itself): each virtual user signs up as
//   loadtest-<run>-<vu>@<LOADTEST_EMAIL_DOMAIN> with a random password. Remove them afterwards:
//     DELETE FROM auth.users WHERE email LIKE 'loadtest-%@example.com';
// - password (staging, production: sign-ups send confirmation mail there): virtual user n signs
//   in as loadtest-<n>@<LOADTEST_EMAIL_DOMAIN> with the password in the Secret loadtest-users
//   (key password) of the app namespace. Create the users once, confirmed, with GoTrue's admin
//   API and the service role key, from an operator's machine:
//     for n in $(seq 1 500); do
//       curl -fsS -X POST "https://$DOMAIN/auth/v1/admin/users" \
//         -H "apikey: $SERVICE_ROLE_KEY" -H "Authorization: Bearer $SERVICE_ROLE_KEY" \
//         -H 'Content-Type: application/json' \
//         -d "{\"email\":\"loadtest-$n@example.com\",\"password\":\"$PASSWORD\",\"email_confirm\":true}"
//     done
//
// The table is not part of the platform's init SQL: an operator applies the SQL below once,
// as supabase_admin, before the first run (it can be applied again). It lives in public because
// PostgREST serves only the exposed schemas (public, storage, graphql_public); the platform's
// ensure_rls trigger enables row level security on it at creation, and the policies let each
// authenticated user reach only its own rows. setup() stops the run if the table is missing.
// tests/integration/loadtest-sql.test.ts runs this exact SQL on PostgreSQL 15.
//
// BEGIN loadtest SQL
// BEGIN;
// CREATE TABLE IF NOT EXISTS public.loadtest_notes (
//   id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
//   owner uuid NOT NULL DEFAULT auth.uid(),
//   run text NOT NULL CHECK (length(run) <= 100),
//   body text NOT NULL CHECK (length(body) <= 1000),
//   created_at timestamptz NOT NULL DEFAULT now()
// );
// ALTER TABLE public.loadtest_notes ENABLE ROW LEVEL SECURITY;
// CREATE INDEX IF NOT EXISTS loadtest_notes_owner_idx ON public.loadtest_notes (owner, id);
// REVOKE ALL ON public.loadtest_notes FROM anon, authenticated;
// GRANT SELECT, INSERT, DELETE ON public.loadtest_notes TO authenticated;
// DROP POLICY IF EXISTS loadtest_notes_select_own ON public.loadtest_notes;
// CREATE POLICY loadtest_notes_select_own ON public.loadtest_notes FOR SELECT TO authenticated USING ((SELECT auth.uid()) = owner);
// DROP POLICY IF EXISTS loadtest_notes_insert_own ON public.loadtest_notes;
// CREATE POLICY loadtest_notes_insert_own ON public.loadtest_notes FOR INSERT TO authenticated WITH CHECK ((SELECT auth.uid()) = owner);
// DROP POLICY IF EXISTS loadtest_notes_delete_own ON public.loadtest_notes;
// CREATE POLICY loadtest_notes_delete_own ON public.loadtest_notes FOR DELETE TO authenticated USING ((SELECT auth.uid()) = owner);
// COMMIT;
// NOTIFY pgrst, 'reload schema';
// END loadtest SQL
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import { requirePassword, sessionKeeper, userHeaders } from './lib/auth.ts';
import { BASE_URL, RUN_ID, anonHeaders, baseOptions, limitsFromEnv, loadFromEnv, numberFrom, p95Below, rampingScenario, rateBelow, required } from './lib/config.ts';

const load = loadFromEnv();
const limits = limitsFromEnv();
const thinkSeconds = numberFrom('LOADTEST_THINK_SECONDS', 0, 1);
const mode = required('LOADTEST_AUTH_MODE');
if (mode !== 'signup' && mode !== 'password') throw new Error(`LOADTEST_AUTH_MODE=${mode} must be "signup" or "password"`);
const emailDomain = required('LOADTEST_EMAIL_DOMAIN');
const TABLE = `${BASE_URL}/rest/v1/loadtest_notes`;

/** Rows of another user that a user could see, or a row claiming another owner that was stored. */
const rlsViolations = new Counter('database_rls_violations');
/** Virtual users that could not get a session (after retrying rate limits). */
const authFailures = new Rate('database_auth_failures');

export const options = baseOptions('database', rampingScenario(load), {
  'http_req_duration{kind:rest}': p95Below(limits),
  'http_req_failed{kind:rest}': rateBelow(limits),
  database_auth_failures: rateBelow(limits),
  database_rls_violations: ['count<1'],
});

interface Note {
  id: number;
  owner: string;
}

const REST = { kind: 'rest' };

/** Stops the run before any user starts when the table is missing (apply the SQL above). */
export function setup(): void {
  requirePassword(mode);
  // As anon the table answers 401 (no grant) when it exists, 404 when PostgREST does not know it.
  const res = http.get(`${TABLE}?select=id&limit=1`, { headers: anonHeaders(), tags: { name: 'probe', kind: 'setup' }, responseCallback: http.expectedStatuses(200, 401, 403, 404) });
  if (res.status === 404) {
    throw new Error('PostgREST does not know public.loadtest_notes: apply the SQL in the header of tests/load/database.ts (then NOTIFY pgrst, \'reload schema\')');
  }
}

let triedForgery = false;

const ensureSession = sessionKeeper(mode, (signup) => (signup ? `loadtest-${RUN_ID}-${__VU}@${emailDomain}`.toLowerCase() : `loadtest-${__VU}@${emailDomain}`), authFailures);

export default function (): void {
  const me = ensureSession();
  if (!me) {
    sleep(5);
    return;
  }
  const headers = { ...userHeaders(me), 'Content-Type': 'application/json' };

  // Write a row of our own; PostgREST returns it as stored.
  const inserted = http.post(TABLE, JSON.stringify({ run: RUN_ID, body: `note ${__ITER} of VU ${__VU}` }), {
    headers: { ...headers, Prefer: 'return=representation' },
    tags: { name: 'insert', ...REST },
    responseType: 'text',
  });
  const rows = inserted.status === 201 ? (inserted.json() as unknown as Note[]) : [];
  const note = rows[0];
  check(inserted, {
    'insert accepted (201)': (r) => r.status === 201,
    'inserted row is owned by the user': () => note !== undefined && note.owner === me.userId,
  });

  // Read the newest rows: every one must be ours, and the new one among them.
  const read = http.get(`${TABLE}?select=id,owner&order=id.desc&limit=20`, { headers, tags: { name: 'read-own', ...REST }, responseType: 'text' });
  const seen = read.status === 200 ? (read.json() as unknown as Note[]) : [];
  const foreign = seen.filter((n) => n.owner !== me.userId).length;
  if (foreign > 0) rlsViolations.add(foreign);
  check(read, {
    'read answers 200': (r) => r.status === 200,
    'read shows only own rows': () => foreign === 0,
    'read shows the row just written': () => note === undefined || seen.some((n) => n.id === note.id),
  });

  // Ask for other users' rows outright: row level security must answer with none.
  const probe = http.get(`${TABLE}?select=id&owner=neq.${me.userId}&limit=5`, { headers, tags: { name: 'read-others', ...REST }, responseType: 'text' });
  const others = probe.status === 200 ? (probe.json() as unknown as Note[]).length : 0;
  if (others > 0) rlsViolations.add(others);
  check(probe, { 'other users\' rows are invisible': (r) => r.status === 200 && others === 0 });

  // Once per session: a row claiming another owner must be refused (403: the insert policy).
  if (!triedForgery) {
    triedForgery = true;
    const forged = http.post(TABLE, JSON.stringify({ run: RUN_ID, body: 'forged', owner: '00000000-0000-4000-8000-000000000000' }), {
      headers,
      tags: { name: 'insert-forged', ...REST },
      responseCallback: http.expectedStatuses(403),
    });
    if (forged.status >= 200 && forged.status < 300) rlsViolations.add(1);
    check(forged, { 'a row for another owner is refused (403)': (r) => r.status === 403 });
  }

  // Remove the row again: the table stays small however long the run.
  if (note) {
    const removed = http.del(`${TABLE}?id=eq.${note.id}`, null, { headers, tags: { name: 'delete', ...REST } });
    check(removed, { 'delete answers 204': (r) => r.status === 204 });
  }
  sleep(thinkSeconds * (0.5 + Math.random()));
}
