// What the PostgreSQL integration tests share: a test password for every login role (as the
// credentials Secret hands them to the init SQL), and the check that a pgTAP run passed.
import type { SpawnSyncReturns } from 'node:child_process';
import { expect } from 'vitest';
import { LOGIN_ROLES } from '../../charts/postgres/credentials';

/** Environment variable of each login role's password -> a test value. */
export function testPasswords(): Record<string, string> {
  return Object.fromEntries(Object.values(LOGIN_ROLES).map(({ env }) => [env, `test-${env.toLowerCase().replace(/_/g, '-')}`]));
}

/** A psql run of a pgTAP file succeeded, declared a plan, and every planned test printed "ok". */
export function expectTapPasses(tap: SpawnSyncReturns<string>): void {
  expect(tap.status, tap.stderr).toBe(0);
  const plan = /^1\.\.(\d+)$/m.exec(tap.stdout);
  expect(plan, tap.stdout).not.toBeNull();
  expect(tap.stdout.split('\n').filter((l) => l.startsWith('not ok')), tap.stdout).toEqual([]);
  expect(tap.stdout.split('\n').filter((l) => /^ok \d+/.test(l))).toHaveLength(Number(plan![1]));
}
