// The product's tables in the defi schema, which the platform creates owned by defi_app
// (charts/postgres/files/platform-init.sql) and leaves to the product. Every process runs the
// migrations at start, in one transaction under a transaction-level advisory lock (the only kind
// that works through the pooler's transaction mode): the first pod applies what is missing, the
// others wait for it and find nothing to do. Migrations are append-only; a release that needs a
// change adds one, compatible with the previous release's code (the canary runs both at once).
//
// positions has row level security, forced because defi_app owns the table (an owner bypasses
// RLS otherwise): each statement sees and writes only the rows of the user whose id the
// transaction set in request.jwt.claim.sub, as Supabase's auth.uid() reads it.
// https://www.postgresql.org/docs/15/ddl-rowsecurity.html
import type { Logger } from './log';
import { type Pool, transaction } from './db';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'positions under row level security',
    sql: `
CREATE FUNCTION defi.current_user_id() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
CREATE TABLE defi.positions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL DEFAULT defi.current_user_id(),
  chain text NOT NULL CHECK (chain ~ '^[a-z0-9-]{1,32}$'),
  protocol text NOT NULL CHECK (protocol ~ '^[a-z0-9.-]{1,64}$'),
  asset text NOT NULL CHECK (asset ~ '^[A-Za-z0-9.]{1,16}$'),
  amount numeric(78, 18) NOT NULL CHECK (amount > 0),
  opened_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX positions_owner_opened ON defi.positions (owner_id, opened_at DESC, id DESC);
ALTER TABLE defi.positions ENABLE ROW LEVEL SECURITY;
ALTER TABLE defi.positions FORCE ROW LEVEL SECURITY;
CREATE POLICY positions_select_own ON defi.positions FOR SELECT USING (owner_id = (SELECT defi.current_user_id()));
CREATE POLICY positions_insert_own ON defi.positions FOR INSERT WITH CHECK (owner_id = (SELECT defi.current_user_id()));
CREATE POLICY positions_delete_own ON defi.positions FOR DELETE USING (owner_id = (SELECT defi.current_user_id()));
`,
  },
  {
    version: 2,
    name: 'jobs, chain heads and the scheduler lease',
    sql: `
CREATE TABLE defi.job_runs (
  job_id text PRIMARY KEY,
  kind text NOT NULL,
  outcome text NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_runs_finished ON defi.job_runs (finished_at);
CREATE TABLE defi.chain_heads (
  job_id text PRIMARY KEY,
  endpoint text NOT NULL,
  block_number numeric(30, 0) NOT NULL,
  observed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chain_heads_endpoint_observed ON defi.chain_heads (endpoint, observed_at DESC);
CREATE TABLE defi.scheduler_leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);
`,
  },
];

/** Applies the missing migrations; returns the versions it applied. */
export async function migrate(pool: Pool, log: Logger): Promise<number[]> {
  return transaction(pool, 'write', async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('defi.schema_migrations'))");
    await client.query(
      'CREATE TABLE IF NOT EXISTS defi.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM defi.schema_migrations')).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO defi.schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      log.info({ version: m.version, name: m.name }, 'applied migration');
      applied.push(m.version);
    }
    const newest = Math.max(...MIGRATIONS.map((m) => m.version));
    const ahead = [...done].filter((v) => v > newest);
    // A newer release already migrated (this pod is the old version of a canary): fine, the
    // migrations are backward compatible; say so.
    if (ahead.length > 0) log.info({ versions: ahead }, 'database has migrations newer than this release');
    return applied;
  });
}
