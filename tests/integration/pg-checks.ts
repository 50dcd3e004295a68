// What the PostgreSQL integration tests share: the synthesised Cluster's spec, the managed roles
// created as CloudNativePG creates them, and the check that a pgTAP run passed.
import type { SpawnSyncReturns } from 'node:child_process';
import { expect } from 'vitest';
import { find } from '../helpers';

export interface ManagedRole {
  name: string;
  login: boolean;
  superuser: boolean;
  createdb: boolean;
  createrole: boolean;
  inherit: boolean;
  replication: boolean;
  bypassrls: boolean;
  inRoles?: string[];
  passwordSecret: { name: string };
}

export interface ClusterSpec {
  instances: number;
  postgresql: { parameters: Record<string, string>; pg_hba: string[]; shared_preload_libraries: string[]; synchronous?: Record<string, unknown> };
  managed: { roles: ManagedRole[] };
}

/** The CloudNativePG Cluster of an environment, as synthesised. */
export function clusterSpec(envName: string): ClusterSpec {
  return find<{ spec: ClusterSpec }>(envName, 'Cluster', 'postgres').spec;
}

const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;

/** A test password for each managed role. */
export function testPasswords(spec: ClusterSpec): Record<string, string> {
  return Object.fromEntries(spec.managed.roles.map((r) => [r.name, `test-${r.name.replaceAll('_', '-')}`]));
}

/** CREATE ROLE statements for the Cluster's managed roles, with the attributes the operator sets. */
export function managedRolesSql(spec: ClusterSpec, passwords: Record<string, string>): string {
  return spec.managed.roles
    .map((r) => {
      const attrs = [
        r.login ? 'LOGIN' : 'NOLOGIN',
        r.superuser ? 'SUPERUSER' : 'NOSUPERUSER',
        r.createdb ? 'CREATEDB' : 'NOCREATEDB',
        r.createrole ? 'CREATEROLE' : 'NOCREATEROLE',
        r.inherit ? 'INHERIT' : 'NOINHERIT',
        r.replication ? 'REPLICATION' : 'NOREPLICATION',
        r.bypassrls ? 'BYPASSRLS' : 'NOBYPASSRLS',
      ].join(' ');
      return `CREATE ROLE ${r.name} ${attrs} PASSWORD ${quote(passwords[r.name]!)};`;
    })
    .join('\n');
}

/** A psql run of a pgTAP file succeeded, declared a plan, and every planned test printed "ok". */
export function expectTapPasses(tap: SpawnSyncReturns<string>): void {
  expect(tap.status, tap.stderr).toBe(0);
  const plan = /^1\.\.(\d+)$/m.exec(tap.stdout);
  expect(plan, tap.stdout).not.toBeNull();
  expect(
    tap.stdout.split('\n').filter((l) => l.startsWith('not ok')),
    tap.stdout,
  ).toEqual([]);
  expect(tap.stdout.split('\n').filter((l) => /^ok \d+/.test(l))).toHaveLength(Number(plan![1]));
}

/**
 * initdb's arguments for a server the tests run as the operator runs it: postgres the superuser,
 * local connections trusted and TCP ones refused until pg_hba.conf says otherwise, UTF-8 and the
 * C.UTF-8 locale; `extra` after (--data-checksums, --no-sync).
 */
export function operatorInitdbArgs(data: string, ...extra: string[]): string[] {
  return ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=reject', '--encoding=UTF8', '--locale=C.UTF-8', ...extra];
}
