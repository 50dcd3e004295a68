// Running real servers in the integration tests and the benches: as an unprivileged user when
// we run as root (PostgreSQL refuses to run as root), on a free loopback port, in a temporary
// folder. Here rather than under tests/, since bench/ uses it too and must not depend on tests.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const isRoot = process.getuid?.() === 0;

/** argv that runs `command` as `user` when we are root, and as ourselves otherwise. */
export function asUser(user: string, command: string, args: readonly string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', user, '--', command, ...args]] : [command, [...args]];
}

/** Runs a command to completion (as `user` when root) and returns its result without throwing. */
export function run(user: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): SpawnSyncReturns<string> {
  const [cmd, argv] = asUser(user, command, args);
  return spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, input, timeout: 120_000 });
}

/** A temporary folder owned by `user` (recursively, when we are root). */
export function tempDirFor(user: string, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chownTree(dir, user);
  return dir;
}

export function chownTree(path: string, user: string): void {
  if (!isRoot) return;
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  const walk = (p: string) => {
    chownSync(p, uid, gid);
    if (statSync(p).isDirectory()) for (const entry of readdirSync(p)) walk(join(p, entry));
  };
  walk(path);
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether a user exists on this machine. */
export function userExists(user: string): boolean {
  return spawnSync('id', ['-u', user], { stdio: 'ignore' }).status === 0;
}

/**
 * A test CA and a server certificate for "localhost" signed by it, in `dir`, as cert-manager
 * issues them for PostgreSQL: ca.crt, server.crt and server.key (mode 600, which PostgreSQL demands).
 */
export function localhostCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test postgres CA');
  ssl('req', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
  chmodSync(join(dir, 'server.key'), 0o600);
}

/** The last `lines` lines of a file (a server's log), or a note that there is no such file. */
export function tail(path: string, lines = 30): string {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n') : `(no ${path})`;
}

/**
 * psql's arguments for the operator's own session: the postgres superuser on database postgres,
 * over `host` (a socket folder or an address) and `port`, without ~/.psqlrc (-X). `options` come
 * before the connection (-At, -v ON_ERROR_STOP=1, ...), `command` after it (-c SQL, -f file, ...).
 */
export function superuserPsqlArgs(host: string, port: number, options: readonly string[], command: readonly string[]): string[] {
  return ['-X', ...options, '-h', host, '-p', String(port), '-U', 'postgres', '-d', 'postgres', ...command];
}

/** A PostgreSQL server started on a data folder, listening on a socket in `socketDir`. */
export interface LocalServer {
  readonly name: string;
  readonly data: string;
  readonly port: number;
  readonly socketDir: string;
  readonly log: string;
}

/**
 * Whether a server recovering from an archive has promoted: pg_is_in_recovery() is false (a server
 * that does not answer yet has not). One that stopped instead (its data folder has no
 * postmaster.pid) throws, with the end of its log. psql is `psql` run as `user`.
 */
export function hasPromoted(user: string, psql: string, server: LocalServer): boolean {
  if (!existsSync(join(server.data, 'postmaster.pid'))) throw new Error(`${server.name} stopped during recovery:\n${tail(server.log)}`);
  return run(user, psql, superuserPsqlArgs(server.socketDir, server.port, ['-At'], ['-c', 'SELECT pg_is_in_recovery()'])).stdout.trim() === 'f';
}
