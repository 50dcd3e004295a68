// The SQL an operator applies before the database load test (the header of
// tests/load/database.ts, taken from there byte for byte) on PostgreSQL 15 with the platform's
// init SQL: it applies cleanly and again, and the rows it guards stay with their owners when
// used as the test uses them (pgTAP, claims set as PostgREST sets them). Runs as the
// unprivileged "postgres" user when root.
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { configMapData, ROOT } from '../helpers';
import { chownTree, freePort, run, superuserPsqlArgs, tempDirFor } from '../../harness/processes';
import { clusterSpec, expectTapPasses, managedRolesSql, testPasswords } from './pg-checks';
import { describeNeeding, packageFile, program } from './tools';

const BIN = '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

/** The SQL between the BEGIN and END markers of the script's header, without the comment marks. */
export function loadtestSql(): string {
  const text = readFileSync(join(ROOT, 'tests/load/database.ts'), 'utf8');
  const block = /^\/\/ BEGIN loadtest SQL\n([\s\S]*?)^\/\/ END loadtest SQL$/m.exec(text)?.[1];
  if (!block) throw new Error('tests/load/database.ts has no "// BEGIN loadtest SQL" ... "// END loadtest SQL" block');
  return block.replace(/^\/\/ ?/gm, '');
}

// auth.uid() as GoTrue defines it, which vanilla PostgreSQL lacks (as in sql/rls-own-rows.sql).
const AUTH_UID = `CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $f$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.sub', true), (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')), '')::uuid
$f$;
GRANT EXECUTE ON FUNCTION auth.uid() TO anon, authenticated, service_role;
`;

describeNeeding(
  [
    program(`${BIN}/postgres`, 'postgresql-15'),
    program(`${BIN}/psql`, 'postgresql-client-15'),
    packageFile('/usr/share/postgresql/15/extension/pgtap.control', 'pgTAP for PostgreSQL 15', 'postgresql-15-pgtap'),
  ],
  'the load-test table on PostgreSQL 15',
  () => {
    let root = '';
    let port = 0;
    const psql = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      run(
        OS_USER,
        `${BIN}/psql`,
        ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'supabase_admin', '-d', 'postgres', ...args],
        env,
      );

    beforeAll(async () => {
      root = tempDirFor(OS_USER, 'pg-loadtest-');
      port = await freePort();
      writeFileSync(join(root, 'init.sql'), configMapData('dev', 'postgres-bootstrap')['platform-init.sql']!);
      const spec = clusterSpec('dev');
      writeFileSync(join(root, 'roles.sql'), managedRolesSql(spec, testPasswords(spec)));
      writeFileSync(join(root, 'auth-uid.sql'), AUTH_UID);
      writeFileSync(join(root, 'loadtest.sql'), loadtestSql());
      copyFileSync(join(ROOT, 'tests/integration/sql/loadtest-notes.sql'), join(root, 'checks.sql'));
      chownTree(root, OS_USER);
      const initdb = run(OS_USER, `${BIN}/initdb`, ['-D', join(root, 'data'), '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8']);
      expect(initdb.status, initdb.stderr).toBe(0);
      const options = ['-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${root}`, '-c', 'wal_level=logical'].join(' ');
      const start = run(OS_USER, `${BIN}/pg_ctl`, ['-D', join(root, 'data'), '-l', join(root, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
      expect(start.status, `${start.stdout}${start.stderr}`).toBe(0);
      // The operator's superuser creates the managed roles (supabase_admin among them).
      const roles = run(OS_USER, `${BIN}/psql`, superuserPsqlArgs('127.0.0.1', port, ['-v', 'ON_ERROR_STOP=1'], ['-q', '-f', join(root, 'roles.sql')]));
      expect(roles.status, roles.stderr).toBe(0);
      const init = psql(['-q', '-f', join(root, 'init.sql')]);
      expect(init.status, init.stderr).toBe(0);
      const uid = psql(['-q', '-f', join(root, 'auth-uid.sql')]);
      expect(uid.status, uid.stderr).toBe(0);
    });

    afterAll(() => {
      if (!root) return;
      run(OS_USER, `${BIN}/pg_ctl`, ['-D', join(root, 'data'), '-m', 'fast', '-w', 'stop']);
      rmSync(root, { recursive: true, force: true });
    });

    it('finds the SQL in the script header', () => {
      expect(loadtestSql()).toMatch(/^BEGIN;\nCREATE TABLE IF NOT EXISTS public\.loadtest_notes/);
    });

    it('applies, and again (an operator may run it twice)', () => {
      for (let i = 0; i < 2; i++) {
        const apply = psql(['-q', '-f', join(root, 'loadtest.sql')]);
        expect(apply.status, apply.stderr).toBe(0);
      }
    });

    it('keeps each load-test user to its own rows (pgTAP)', () => {
      const tap = psql(['-q', '-At', '-f', join(root, 'checks.sql')]);
      expectTapPasses(tap);
    });
  },
);
