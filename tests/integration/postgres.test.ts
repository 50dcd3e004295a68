// PostgreSQL 15 with the exact files the postgres chart ships, for every environment: the
// server starts with the generated postgresql.conf, pg_hba.conf and pg_ident.conf (paths moved
// into a temporary folder, nothing else changed), the init SQL runs twice, and pgTAP proves the
// roles, schemas and the RLS baseline. Runs as the unprivileged "postgres" user when root.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPOSED_SCHEMAS } from '../../charts/postgres/postgres-chart';
import { LOGIN_ROLES } from '../../charts/postgres/credentials';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { configMapData, ROOT } from '../helpers';
import { adaptPaths } from './postgres-paths';
import { chownTree, freePort, run, tempDirFor } from './processes';
import { expectTapPasses, testPasswords } from './pg-checks';
import { describeNeeding, packageFile, program } from './tools';

const BIN = '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

/**
 * The one thing changed for this machine, on the command line and never in the files: a
 * shared_buffers larger than half the free memory here is scaled down to that.
 */
function testMachineOverrides(postgresqlConf: string): string[] {
  const sb = /^shared_buffers = '?(\d+)(kB|MB|GB)'?/m.exec(postgresqlConf);
  if (!sb) throw new Error('postgresql.conf sets no shared_buffers');
  const bytes = Number(sb[1]) * { kB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30 }[sb[2] as 'kB' | 'MB' | 'GB'];
  const budget = Math.floor(freemem() / 2 / 2 ** 20);
  return bytes / 2 ** 20 > budget ? ['-c', `shared_buffers=${budget}MB`] : [];
}

const PASSWORDS = testPasswords();

describeNeeding(
  [
    program(`${BIN}/postgres`, 'postgresql-15'),
    program(`${BIN}/psql`, 'postgresql-client-15'),
    packageFile('/usr/share/postgresql/15/extension/pgtap.control', 'pgTAP for PostgreSQL 15', 'postgresql-15-pgtap'),
  ],
  'PostgreSQL 15 with the generated configuration',
  () => {
    describe.each(ENVIRONMENT_NAMES)('%s', (envName) => {
      const files = configMapData(envName, 'postgres-config');
      const initSql = configMapData(envName, 'postgres-init')['platform-init.sql']!;
      let root = '';
      let port = 0;
      const psql = (args: string[], env: NodeJS.ProcessEnv = {}) =>
        run(OS_USER, `${BIN}/psql`, ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'supabase_admin', '-d', 'postgres', ...args], {
          PGPASSWORD: PASSWORDS.POSTGRES_PASSWORD,
          ...env,
        });

      beforeAll(async () => {
        root = tempDirFor(OS_USER, `pg-${envName}-`);
        port = await freePort();
        for (const dir of ['etc', 'etc/conf.d', 'run', 'custom']) mkdirSync(join(root, dir), { recursive: true });
        for (const name of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) writeFileSync(join(root, 'etc', name), adaptPaths(files[name]!, root));
        // conf.d/ stays empty: supabase.conf preloads the image's extensions, absent here.
        writeFileSync(join(root, 'initdb.pw'), PASSWORDS.POSTGRES_PASSWORD!);
        writeFileSync(join(root, 'init.sql'), initSql);
        copyFileSync(join(ROOT, 'tests/integration/sql/postgres-baseline.sql'), join(root, 'baseline.sql'));
        copyFileSync(join(ROOT, 'tests/integration/sql/rls-own-rows.sql'), join(root, 'rls.sql'));
        chownTree(root, OS_USER);

        const initdb = run(OS_USER, `${BIN}/initdb`, ['-D', join(root, 'data'), '-U', 'supabase_admin', `--pwfile=${join(root, 'initdb.pw')}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C.UTF-8']);
        expect(initdb.status, initdb.stderr).toBe(0);
        const overrides = [...testMachineOverrides(files['postgresql.conf']!), '-p', String(port), '-c', 'listen_addresses=127.0.0.1'];
        const start = run(OS_USER, `${BIN}/pg_ctl`, ['-D', join(root, 'etc'), '-l', join(root, 'server.log'), '-w', '-t', '60', '-o', overrides.join(' '), 'start']);
        const log = existsSync(join(root, 'server.log')) ? readFileSync(join(root, 'server.log'), 'utf8') : '';
        expect(start.status, `${start.stdout}${start.stderr}\n${log}`).toBe(0);
      });

      afterAll(() => {
        if (!root) return;
        run(OS_USER, `${BIN}/pg_ctl`, ['-D', join(root, 'etc'), '-m', 'fast', '-w', 'stop']);
        rmSync(root, { recursive: true, force: true });
      });

      it('runs with the generated tuning', () => {
        const show = psql(['-At', '-c', "SELECT name || '=' || setting || coalesce(unit, '') FROM pg_settings WHERE name IN ('max_connections', 'wal_level', 'work_mem', 'max_wal_senders', 'password_encryption') ORDER BY name"]);
        expect(show.status, show.stderr).toBe(0);
        const max = /^max_connections = (\d+)/m.exec(files['postgresql.conf']!)?.[1];
        expect(show.stdout).toContain(`max_connections=${max}`);
        expect(show.stdout).toContain('wal_level=logical');
        expect(show.stdout).toContain('password_encryption=scram-sha-256');
      });

      it('parses pg_hba.conf without errors, with a replication line for the backup role only', () => {
        const rules = psql(['-At', '-F', '|', '-c', 'SELECT type, database::text, user_name::text, coalesce(error, \'\') FROM pg_hba_file_rules ORDER BY line_number']);
        expect(rules.status, rules.stderr).toBe(0);
        const rows = rules.stdout.trim().split('\n').map((l) => l.split('|'));
        expect(rows.filter((r) => r[3] !== '')).toEqual([]);
        const replication = rows.filter((r) => r[1] === '{replication}');
        expect(replication.length).toBeGreaterThan(0);
        expect(new Set(replication.map((r) => r[2]))).toEqual(new Set(['{platform_backup}']));
      });

      it('runs the init SQL, and again (it is idempotent)', () => {
        for (let i = 0; i < 2; i++) {
          const init = psql(['-q', '-f', join(root, 'init.sql')], PASSWORDS);
          expect(init.status, init.stderr).toBe(0);
        }
      });

      it('passes the pgTAP baseline: roles, schemas, and RLS closing new tables to anon', () => {
        const tap = psql(['-q', '-At', '-f', join(root, 'baseline.sql')]);
        expectTapPasses(tap);
      });

      it('keeps each user to its own rows (pgTAP, claims set as PostgREST sets them)', () => {
        const tap = psql(['-q', '-At', '-f', join(root, 'rls.sql')]);
        expectTapPasses(tap);
      });

      it('lets each service role log in with its own password', () => {
        for (const role of ['authenticator', 'supabase_auth_admin', 'platform_exporter', 'defi_app'] as const) {
          const login = run(OS_USER, `${BIN}/psql`, ['-X', '-At', '-h', '127.0.0.1', '-p', String(port), '-U', role, '-d', 'postgres', '-c', 'SELECT current_user'], {
            PGPASSWORD: PASSWORDS[LOGIN_ROLES[role].env],
          });
          expect(login.stdout.trim(), login.stderr).toBe(role);
        }
        const wrong = run(OS_USER, `${BIN}/psql`, ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'authenticator', '-d', 'postgres', '-c', 'SELECT 1'], { PGPASSWORD: 'wrong' });
        expect(wrong.status).not.toBe(0);
        expect(wrong.stderr).toContain('password authentication failed');
      });

      it('stops the init SQL when a password is missing, naming the role', () => {
        const env = { ...PASSWORDS, AUTHENTICATOR_PASSWORD: '' };
        const init = psql(['-q', '-f', join(root, 'init.sql')], env);
        expect(init.status).not.toBe(0);
        expect(init.stderr).toContain('no password for role authenticator');
      });

      it('reads the Supabase drop-in as valid configuration (which only the image can load)', () => {
        // A second config folder with the drop-in in conf.d/ and an empty supautils.conf where the
        // image keeps its own; postgres -C parses every file without starting a server.
        const full = join(root, 'full');
        mkdirSync(join(full, 'etc/conf.d'), { recursive: true });
        mkdirSync(join(full, 'custom'), { recursive: true });
        for (const name of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) writeFileSync(join(full, 'etc', name), adaptPaths(files[name]!, root).replaceAll(`${root}/etc/`, `${full}/etc/`));
        writeFileSync(join(full, 'etc/conf.d/supabase.conf'), adaptPaths(files['supabase.conf']!, full));
        writeFileSync(join(full, 'custom/supautils.conf'), '');
        chownTree(full, OS_USER);
        const show = (name: string) => run(OS_USER, `${BIN}/postgres`, ['-D', join(full, 'etc'), '-C', name]);
        const preload = show('shared_preload_libraries');
        expect(preload.status, preload.stderr).toBe(0);
        expect(preload.stdout).toContain('pgsodium');
        expect(show('session_preload_libraries').stdout.trim()).toBe('supautils');
      });

      it('enables RLS exactly on the exposed schemas the chart declares', () => {
        expect(initSql).toContain(`ARRAY[${EXPOSED_SCHEMAS.map((s) => `'${s}'`).join(', ')}]`);
      });
    });
  },
);
