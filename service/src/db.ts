// PostgreSQL through the poolers as defi_app: writes through DATABASE_URL (the rw pooler, in
// PgBouncer's transaction mode), reads through DATABASE_READ_URL (the ro pooler). Transaction
// mode hands each transaction to any server connection, so nothing here keeps session state:
// settings are set with set_config(..., true) inside a transaction, locks are transaction
// locks, statements are unnamed (no server-side prepared statements).
// https://www.pgbouncer.org/features.html
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { CommonConfig, DatabaseEndpoint } from './config';

export type Pool = pg.Pool;
export type Client = pg.PoolClient;

function ssl(endpoint: DatabaseEndpoint): false | ConnectionOptions {
  switch (endpoint.sslmode) {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { ca: readFileSync(endpoint.sslrootcert!, 'utf8'), rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ca: readFileSync(endpoint.sslrootcert!, 'utf8'), rejectUnauthorized: true, servername: endpoint.host };
  }
}

export interface Pools {
  readonly write: Pool;
  readonly read: Pool;
  end(): Promise<void>;
}

export function createPools(config: CommonConfig, applicationName: string, onError: (err: Error) => void): Pools {
  const pool = (endpoint: DatabaseEndpoint) => {
    const p = new pg.Pool({
      host: endpoint.host,
      port: endpoint.port,
      database: endpoint.database,
      user: endpoint.user,
      password: config.database.password,
      ssl: ssl(endpoint),
      // PgBouncer passes application_name on; other startup parameters it would refuse.
      application_name: applicationName,
      max: config.database.poolSize,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    });
    // An idle connection that breaks (pooler restart, failover) is dropped from the pool; the
    // next query opens a new one.
    p.on('error', onError);
    return p;
  };
  const write = pool(config.database.write);
  const read = pool(config.database.read);
  return { write, read, end: async () => void (await Promise.allSettled([write.end(), read.end()])) };
}

/**
 * Runs `work` in one transaction whose RLS identity is `sub` (the user's id, from the verified
 * JWT): set_config('request.jwt.claim.sub', sub, true) lasts until the transaction ends, as
 * PostgREST passes claims to Supabase's policies.
 * https://supabase.com/docs/guides/database/postgres/row-level-security
 */
export async function asUser<T>(pool: Pool, sub: string, mode: 'read' | 'write', work: (client: Client) => Promise<T>): Promise<T> {
  return transaction(pool, mode, async (client) => {
    await client.query("SELECT set_config('request.jwt.claim.sub', $1, true)", [sub]);
    return work(client);
  });
}

export async function transaction<T>(pool: Pool, mode: 'read' | 'write', work: (client: Client) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(mode === 'read' ? 'BEGIN READ ONLY' : 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/** SELECT 1 within `timeoutMs`. */
export async function ping(pool: Pool, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      pool.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** SQLSTATE classes that mean the database is unreachable or overloaded, not that the request is wrong. */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  if (/^(08|53|57P0[1-4])/.test(code) || code === '57014') return true;
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(code)) return true;
  const message = err instanceof Error ? err.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout/i.test(message);
}
