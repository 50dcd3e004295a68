// PostgreSQL 15 with the exact settings of each environment's CloudNativePG Cluster: the server
// starts with every entry of spec.postgresql.parameters (the operator's own fixed settings added
// as it would, and the libraries only the Supabase image has left out), TLS on, and the pg_hba
// rules in the operator's order; the managed roles are created as the operator creates them from
// the spec and their Secrets; the platform's init SQL runs twice; pgTAP proves the roles, schemas
// and the RLS baseline; the custom metrics queries run. Runs as the unprivileged "postgres" user
// when root.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPOSED_SCHEMAS } from '../../charts/postgres/bootstrap';
import { CUSTOM_QUERIES } from '../../charts/postgres/monitoring';
import { REALTIME_TENANT_TLS } from '../../charts/supabase/realtime';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { configMapData, ROOT } from '../helpers';
import { chownTree, freePort, localhostCertificates, run, superuserPsqlArgs, tempDirFor } from '../../harness/processes';
import { clusterSpec, expectTapPasses, managedRolesSql, operatorInitdbArgs, testPasswords } from './pg-checks';
import { describeNeeding, packageFile, program } from './tools';

const BIN = '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

/** Libraries only the Supabase image has: a vanilla server cannot load them. */
const IMAGE_ONLY = new Set(['session_preload_libraries']);

/** A memory setting larger than half the free memory here is scaled down to that, on the command line only. */
function fitToMachine(parameters: Record<string, string>): Record<string, string> {
  const sb = /^(\d+)(kB|MB|GB)$/.exec(parameters.shared_buffers ?? '');
  if (!sb) throw new Error('the Cluster sets no shared_buffers');
  const mb = (Number(sb[1]) * { kB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30 }[sb[2] as 'kB' | 'MB' | 'GB']) / 2 ** 20;
  const budget = Math.floor(freemem() / 2 / 2 ** 20);
  return mb > budget ? { ...parameters, shared_buffers: `${budget}MB`, huge_pages: 'off' } : parameters;
}

const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;

describeNeeding(
  [
    program(`${BIN}/postgres`, 'postgresql-15'),
    program(`${BIN}/psql`, 'postgresql-client-15'),
    program('openssl', 'openssl'),
    packageFile('/usr/share/postgresql/15/extension/pgtap.control', 'pgTAP for PostgreSQL 15', 'postgresql-15-pgtap'),
  ],
  'PostgreSQL 15 with the Cluster settings',
  () => {
    describe.each(ENVIRONMENT_NAMES)('%s', (envName) => {
      const spec = clusterSpec(envName);
      const initSql = configMapData(envName, 'postgres-bootstrap')['platform-init.sql']!;
      const passwords = testPasswords(spec);
      let root = '';
      let port = 0;
      const psqlAs = (user: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
        run(OS_USER, `${BIN}/psql`, ['-X', '-v', 'ON_ERROR_STOP=1', ...args], {
          PGHOST: 'localhost',
          PGPORT: String(port),
          PGDATABASE: 'postgres',
          PGUSER: user,
          PGPASSWORD: passwords[user] ?? '',
          PGSSLMODE: 'verify-full',
          PGSSLROOTCERT: join(root, 'ca.crt'),
          ...env,
        });
      const admin = (args: string[]) => psqlAs('supabase_admin', args);
      /** The operator's own connection: postgres over the local socket. */
      const operator = (sql: string) => run(OS_USER, `${BIN}/psql`, superuserPsqlArgs(join(root, 'run'), port, ['-v', 'ON_ERROR_STOP=1'], ['-c', sql]));

      beforeAll(async () => {
        root = tempDirFor(OS_USER, `pg-${envName}-`);
        port = await freePort();
        // A CA and a server certificate for "localhost", as cert-manager issues them.
        localhostCertificates(root);
        copyFileSync(join(ROOT, 'tests/integration/sql/postgres-baseline.sql'), join(root, 'baseline.sql'));
        copyFileSync(join(ROOT, 'tests/integration/sql/rls-own-rows.sql'), join(root, 'rls.sql'));
        writeFileSync(join(root, 'init.sql'), initSql);
        execFileSync('mkdir', ['-p', join(root, 'run')]);
        chownTree(root, OS_USER);

        const initdb = run(OS_USER, `${BIN}/initdb`, operatorInitdbArgs(join(root, 'data'), '--data-checksums'));
        expect(initdb.status, initdb.stderr).toBe(0);
        // What the operator writes itself, then the Cluster's parameters.
        const fixed: Record<string, string> = {
          listen_addresses: 'localhost',
          port: String(port),
          unix_socket_directories: join(root, 'run'),
          ssl: 'on',
          ssl_cert_file: join(root, 'server.crt'),
          ssl_key_file: join(root, 'server.key'),
          ssl_ca_file: join(root, 'ca.crt'),
          ssl_min_protocol_version: 'TLSv1.3',
          hot_standby: 'on',
          archive_mode: 'off',
        };
        const params = fitToMachine(Object.fromEntries(Object.entries(spec.postgresql.parameters).filter(([k]) => !IMAGE_ONLY.has(k))));
        const conf = Object.entries({ ...fixed, ...params }).map(([k, v]) => `${k} = ${quote(v)}`);
        writeFileSync(join(root, 'data/postgresql.auto.conf'), `${conf.join('\n')}\n`);
        // The operator's order: its local rule first, the Cluster's rules, its catch-all last.
        writeFileSync(join(root, 'data/pg_hba.conf'), ['local all postgres trust', ...spec.postgresql.pg_hba, 'host all all all scram-sha-256', ''].join('\n'));
        chownTree(root, OS_USER);
        const start = run(OS_USER, `${BIN}/pg_ctl`, ['-D', join(root, 'data'), '-l', join(root, 'server.log'), '-w', '-t', '60', 'start']);
        const log = existsSync(join(root, 'server.log')) ? readFileSync(join(root, 'server.log'), 'utf8') : '';
        expect(start.status, `${start.stdout}${start.stderr}\n${log}`).toBe(0);

        // The managed roles, as the operator creates them from the spec and each role's Secret.
        const created = operator(managedRolesSql(spec, passwords));
        expect(created.status, created.stderr).toBe(0);
      });

      afterAll(() => {
        if (!root) return;
        run(OS_USER, `${BIN}/pg_ctl`, ['-D', join(root, 'data'), '-m', 'fast', '-w', 'stop']);
        rmSync(root, { recursive: true, force: true });
      });

      it('runs with every parameter of the Cluster', () => {
        const show = admin(['-At', '-c', 'SELECT name, setting, unit FROM pg_settings']);
        expect(show.status, show.stderr).toBe(0);
        const settings = new Map(
          show.stdout
            .trim()
            .split('\n')
            .map(
              (l) =>
                l
                  .split('|')
                  .slice(0, 2)
                  .map((x, i) => (i === 0 ? x.toLowerCase() : x)) as [string, string],
            ),
        );
        expect(settings.get('max_connections')).toBe(spec.postgresql.parameters.max_connections);
        expect(settings.get('wal_level')).toBe('logical');
        expect(settings.get('password_encryption')).toBe('scram-sha-256');
        expect(settings.get('synchronous_commit')).toBe('on');
        // Every parameter is one the server knows (it refuses to start on a bad value; an unknown
        // name would only be a placeholder setting). Values are compared for the ones above.
        const unknown = Object.keys(spec.postgresql.parameters).filter((k) => !k.includes('.') && !IMAGE_ONLY.has(k) && !settings.has(k));
        expect(unknown).toEqual([]);
      });

      it('parses the pg_hba rules without errors', () => {
        const rules = admin(['-At', '-F', '|', '-c', "SELECT line_number, type, coalesce(error, '') FROM pg_hba_file_rules ORDER BY line_number"]);
        expect(rules.status, rules.stderr).toBe(0);
        expect(
          rules.stdout
            .trim()
            .split('\n')
            .filter((l) => l.split('|')[2] !== ''),
        ).toEqual([]);
      });

      it('refuses connections without TLS, and postgres over the network even with TLS', () => {
        const plain = psqlAs('authenticator', ['-c', 'SELECT 1'], { PGSSLMODE: 'disable' });
        expect(plain.status).not.toBe(0);
        expect(plain.stderr).toMatch(/pg_hba\.conf rejects connection/);
        const superuser = psqlAs('postgres', ['-c', 'SELECT 1'], { PGPASSWORD: 'anything' });
        expect(superuser.status).not.toBe(0);
        expect(superuser.stderr).toMatch(/pg_hba\.conf rejects connection/);
        const unknown = operator("CREATE ROLE outsider LOGIN PASSWORD 'x'");
        expect(unknown.status, unknown.stderr).toBe(0);
        const outsider = psqlAs('outsider', ['-c', 'SELECT 1'], { PGPASSWORD: 'x' });
        expect(outsider.status).not.toBe(0);
        expect(outsider.stderr).toMatch(/pg_hba\.conf rejects connection/);
        operator('DROP ROLE outsider');
      });

      it('runs the init SQL, and again (it is idempotent)', () => {
        for (let i = 0; i < 2; i++) {
          const init = admin(['-q', '-f', join(root, 'init.sql')]);
          expect(init.status, init.stderr).toBe(0);
        }
      });

      it("keeps CloudNativePG's pooler lookup function from the API roles, however often the operator recreates it", () => {
        // As the operator creates it (charts/postgres/files/platform-init.sql explains the risk).
        const create = `CREATE OR REPLACE FUNCTION public.user_search(uname TEXT) RETURNS TABLE (usename name, passwd text) LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS 'SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = $1'`;
        for (let i = 0; i < 2; i++) {
          const made = operator(create);
          expect(made.status, made.stderr).toBe(0);
          const anon = operator(
            "SELECT has_function_privilege('anon', 'public.user_search(text)', 'EXECUTE') OR has_function_privilege('authenticated', 'public.user_search(text)', 'EXECUTE') OR has_function_privilege('service_role', 'public.user_search(text)', 'EXECUTE')",
          );
          expect(anon.stdout).toMatch(/^\s*f\s*$/m);
        }
        operator('DROP FUNCTION public.user_search(text)');
      });

      it("switches Realtime's seeded tenant to TLS with the statement its start command runs", () => {
        // The table as Realtime's migration creates it (settings is an Ecto :map, jsonb).
        const setup = admin([
          '-c',
          'CREATE TABLE IF NOT EXISTS _realtime.extensions (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), type varchar, settings jsonb, tenant_external_id varchar); TRUNCATE _realtime.extensions; INSERT INTO _realtime.extensions (type, settings) VALUES (\'postgres_cdc_rls\', \'{"db_host": "encrypted", "ssl_enforced": false}\'), (\'other\', \'{"ssl_enforced": false}\')',
        ]);
        expect(setup.status, setup.stderr).toBe(0);
        // Elixir's terms as SQL literals: "text" -> 'text', true -> true.
        const args = REALTIME_TENANT_TLS.params.map((p) => p.replace(/^"(.*)"$/, "'$1'")).join(', ');
        const run = admin(['-c', `PREPARE tenant_tls(text, boolean, text) AS ${REALTIME_TENANT_TLS.sql}`, '-c', `EXECUTE tenant_tls(${args})`]);
        expect(run.status, run.stderr).toBe(0);
        const rows = admin([
          '-At',
          '-c',
          "SELECT type || '=' || (settings ->> 'ssl_enforced') || '/' || coalesce(settings ->> 'db_host', '-') FROM _realtime.extensions ORDER BY type",
        ]);
        expect(rows.stdout.trim().split('\n')).toEqual(['other=false/-', 'postgres_cdc_rls=true/encrypted']);
        admin(['-c', 'DROP TABLE _realtime.extensions']);
      });

      it('passes the pgTAP baseline: roles, schemas, and RLS closing new tables to anon', () => {
        expectTapPasses(admin(['-q', '-At', '-f', join(root, 'baseline.sql')]));
      });

      it('keeps each user to its own rows (pgTAP, claims set as PostgREST sets them)', () => {
        expectTapPasses(admin(['-q', '-At', '-f', join(root, 'rls.sql')]));
      });

      it('lets each managed role log in over TLS with its own password, and no other', () => {
        for (const r of spec.managed.roles) {
          const login = psqlAs(r.name, ['-At', '-c', 'SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()']);
          expect(login.stdout.trim(), login.stderr).toBe(`${r.name}|t`);
        }
        const wrong = psqlAs('authenticator', ['-c', 'SELECT 1'], { PGPASSWORD: 'wrong' });
        expect(wrong.status).not.toBe(0);
        expect(wrong.stderr).toContain('password authentication failed');
      });

      it('serves the custom metrics queries (as the operator runs them, on the primary)', () => {
        const queries = parse(configMapData(envName, 'postgres-custom-queries').queries!) as Record<
          string,
          { query: string; metrics: Record<string, unknown>[] }
        >;
        expect(Object.keys(queries).sort()).toEqual(Object.keys(CUSTOM_QUERIES).sort());
        for (const [name, q] of Object.entries(queries)) {
          const out = operator(q.query.replace(/;?\s*$/, ';'));
          expect(out.status, `${name}: ${out.stderr}`).toBe(0);
          const columns = q.metrics.map((m) => Object.keys(m)[0]!);
          for (const column of columns) expect(out.stdout, name).toContain(column);
        }
      });

      it('enables RLS exactly on the exposed schemas the chart declares', () => {
        expect(initSql).toContain(`ARRAY[${EXPOSED_SCHEMAS.map((s) => `'${s}'`).join(', ')}]`);
      });
    });
  },
);
