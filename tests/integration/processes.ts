// Running real servers in tests: as an unprivileged user when the tests run as root (PostgreSQL
// refuses to run as root), on a free loopback port, in a temporary folder.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
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
