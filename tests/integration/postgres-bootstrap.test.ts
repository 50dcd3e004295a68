// bootstrap-supabase.sh, the Job that applies the Supabase image's migrations to a CloudNativePG
// cluster, against real PostgreSQL 15 servers set up as the operator leaves them: postgres is
// initdb's superuser, supabase_admin a superuser with a password, the managed roles exist with
// passwords. The image's /docker-entrypoint-initdb.d is played by fixtures/bootstrap/ (same
// layout and file names, SQL that logs which file ran as which role). Each case copies one
// initdb'd template into its own cluster. Runs as the unprivileged "postgres" user when root.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chownTree, freePort, run, tempDirFor } from '../../harness/processes';
import { describeNeeding, program } from './tools';

const ROOT = resolve(__dirname, '../..');
const SCRIPT = join(ROOT, 'charts/postgres/files/bootstrap-supabase.sh');
const FIXTURES = join(ROOT, 'tests/integration/fixtures/bootstrap');
const BIN = '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';
const ADMIN_PASSWORD = 'test-supabase-admin';
const IMAGE_TAG = '15.8.1.085';
/** Roles the operator creates before the Job: three the fixtures create unconditionally, one conditionally. */
const MANAGED_ROLES = ['authenticator', 'supabase_auth_admin', 'pgbouncer', 'supabase_functions_admin'];
const MARKER = 'platform.supabase_bootstrap';

/** What the fixtures log in public.bootstrap_order, in order: file, current_user, session_user. */
const INIT_SCRIPTS = ['00-schema.sql', '00000000000000-initial-schema.sql', '00000000000001-auth-schema.sql', '00000000000003-post-setup.sql'];
const MIGRATIONS = ['00-extension.sql', '20211115181400_update-auth-permissions.sql', '20230529180330_alter_api_roles_for_inherit.sql'];
const EXPECTED_ORDER = [
  ...INIT_SCRIPTS.map((f) => `${f}|postgres|postgres`),
  ...MIGRATIONS.map((f) => `${f}|supabase_admin|supabase_admin`),
  'platform-init.sql|supabase_admin|supabase_admin',
];

interface Cluster {
  readonly name: string;
  readonly data: string;
  readonly port: number;
  readonly socketDir: string;
  /** The fake /docker-entrypoint-initdb.d of this case. */
  readonly db: string;
}

describeNeeding(
  [
    program(`${BIN}/postgres`, 'postgresql-15'),
    program(`${BIN}/psql`, 'postgresql-client-15'),
    program(`${BIN}/pg_dumpall`, 'postgresql-client-15'),
    program('bash', 'bash'),
    program('sha256sum', 'coreutils'),
  ],
  'bootstrap-supabase.sh against PostgreSQL 15 as CloudNativePG leaves it',
  () => {
    let work = '';
    let template = '';
    let script = '';
    const clusters: Cluster[] = [];

    beforeAll(() => {
      work = tempDirFor(OS_USER, 'pg-bootstrap-');
      template = join(work, 'template');
      const init = run(OS_USER, `${BIN}/initdb`, [
        '-D',
        template,
        '-U',
        'postgres',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        '--no-sync',
      ]);
      expect(init.status, init.stderr).toBe(0);
      // No autovacuum: an ANALYZE would write, and the "second run writes nothing" case counts transactions.
      writeFileSync(join(template, 'postgresql.auto.conf'), "listen_addresses = '127.0.0.1'\nautovacuum = off\nfsync = off\nshared_buffers = 16MB\n");
      writeFileSync(join(template, 'pg_hba.conf'), 'local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
      script = join(work, 'bootstrap-supabase.sh');
      cpSync(SCRIPT, script);
      chownTree(work, OS_USER);
    });

    afterAll(() => {
      for (const c of clusters) run(OS_USER, `${BIN}/pg_ctl`, ['-D', c.data, '-m', 'immediate', '-w', 'stop']);
      if (work) rmSync(work, { recursive: true, force: true });
    });

    /**
     * SQL as supabase_admin over TCP (checks still work when a case demotes postgres), or as
     * postgres over the socket (trusted) to set a cluster up; throws on error.
     */
    function psql(c: Cluster, sql: string, as: 'supabase_admin' | 'postgres' = 'supabase_admin'): string {
      const where = as === 'postgres' ? ['-h', c.socketDir, '-U', 'postgres'] : ['-h', '127.0.0.1', '-U', 'supabase_admin'];
      const out = run(OS_USER, `${BIN}/psql`, ['-X', '-At', '-v', 'ON_ERROR_STOP=1', ...where, '-p', String(c.port), '-d', 'postgres', '-c', sql], {
        PGPASSWORD: ADMIN_PASSWORD,
        PGSSLMODE: 'disable',
      });
      if (out.status !== 0) throw new Error(`psql on ${c.name} failed: ${out.stderr}\n${sql}`);
      return out.stdout.trim();
    }
    const rows = (c: Cluster, sql: string) =>
      psql(c, sql)
        .split('\n')
        .filter((l) => l !== '');

    /**
     * A running cluster as the operator leaves it (managed roles with passwords), `setup` SQL run
     * after, and a copy of the fixtures with `files` overridden (relative path -> content).
     */
    async function cluster(name: string, setup = '', files: Record<string, string> = {}): Promise<Cluster> {
      const dir = join(work, name);
      const c: Cluster = { name, data: join(dir, 'data'), port: await freePort(), socketDir: join(dir, 'run'), db: join(dir, 'docker-entrypoint-initdb.d') };
      mkdirSync(c.socketDir, { recursive: true });
      cpSync(template, c.data, { recursive: true });
      cpSync(FIXTURES, c.db, { recursive: true });
      for (const [path, content] of Object.entries(files)) writeFileSync(join(c.db, path), content);
      chownTree(dir, OS_USER);
      const start = run(OS_USER, `${BIN}/pg_ctl`, [
        '-D',
        c.data,
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${c.port} -c unix_socket_directories=${c.socketDir}`,
        'start',
      ]);
      expect(start.status, start.stdout + start.stderr).toBe(0);
      clusters.push(c);
      psql(c, `CREATE ROLE supabase_admin SUPERUSER LOGIN PASSWORD '${ADMIN_PASSWORD}'`, 'postgres');
      for (const role of MANAGED_ROLES) psql(c, `CREATE ROLE ${role} LOGIN PASSWORD 'managed-${role}'`, 'postgres');
      if (setup) psql(c, setup, 'postgres');
      return c;
    }

    /** Runs the script as the Job does, with the Job's environment (no TLS here). */
    function bootstrap(c: Cluster, env: NodeJS.ProcessEnv = {}) {
      const result = run(OS_USER, 'bash', [script], {
        PATH: `${BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        PGHOST: '127.0.0.1',
        PGPORT: String(c.port),
        PGDATABASE: 'postgres',
        PGUSER: 'supabase_admin',
        PGPASSWORD: ADMIN_PASSWORD,
        PGSSLMODE: 'disable',
        PGOPTIONS: '',
        MIGRATIONS_DIR: c.db,
        PLATFORM_INIT_SQL: join(c.db, 'platform-init.sql'),
        MANAGED_ROLES: MANAGED_ROLES.join(' '),
        IMAGE_TAG,
        BOOTSTRAP_WAIT_SECONDS: '30',
        ...env,
      });
      return { ...result, output: `${result.stdout}${result.stderr}` };
    }

    const order = (c: Cluster) => rows(c, "SELECT file || '|' || run_as || '|' || session_as FROM public.bootstrap_order ORDER BY seq");
    const marker = (c: Cluster) => rows(c, `SELECT phase || '/' || file || '|' || status FROM ${MARKER} ORDER BY recorded_at, phase, file`);
    const isComplete = (c: Cluster) => psql(c, `SELECT count(*) FROM ${MARKER} WHERE phase = 'complete'`) === '1';
    const postgresIsSuperuser = (c: Cluster) => psql(c, "SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'") === 't';

    describe('a first run on a new cluster', () => {
      let c: Cluster;
      let first: ReturnType<typeof bootstrap>;

      beforeAll(async () => {
        c = await cluster('first');
        first = bootstrap(c);
      });

      it('succeeds and logs each file with the role it ran as', () => {
        expect(first.status, first.output).toBe(0);
        expect(first.stdout).toContain('applying init-scripts/00-schema.sql as postgres');
        expect(first.stdout).toContain('applied init-scripts/00000000000000-initial-schema.sql as postgres');
        expect(first.stdout).toContain('applied migrations/00-extension.sql as supabase_admin');
        expect(first.stdout).toContain('applied platform/platform-init.sql as supabase_admin');
        expect(first.stdout).toMatch(/complete: image 15\.8\.1\.085/);
      });

      it('runs init-scripts as postgres, then migrations as supabase_admin, then the platform SQL, in C-locale order', () => {
        expect(order(c)).toEqual(EXPECTED_ORDER);
      });

      it('leaves objects of init-scripts owned by postgres and of migrations by supabase_admin', () => {
        expect(
          rows(c, "SELECT relname || '|' || relowner::regrole FROM pg_class WHERE relname IN ('init_probe', 'bootstrap_order', 'migration_probe') ORDER BY 1"),
        ).toEqual(['bootstrap_order|postgres', 'init_probe|postgres', 'migration_probe|supabase_admin']);
        expect(psql(c, "SELECT proowner::regrole FROM pg_proc WHERE proname = 'migration_fn'")).toBe('supabase_admin');
      });

      it('records every file with its sha256, the demote file as skipped with the reason, and completion with the image tag', () => {
        expect(marker(c)).toEqual([
          ...INIT_SCRIPTS.map((f) => `init-scripts/${f}|applied`),
          'migrations/00-extension.sql|applied',
          'migrations/10000000000000_demote-postgres.sql|skipped',
          ...MIGRATIONS.slice(1).map((f) => `migrations/${f}|applied`),
          'platform/platform-init.sql|applied',
          'complete/complete|complete',
        ]);
        const sum = run(OS_USER, 'sha256sum', [join(c.db, 'init-scripts/00-schema.sql')]).stdout.split(' ')[0];
        expect(psql(c, `SELECT sha256 FROM ${MARKER} WHERE file = '00-schema.sql'`)).toBe(sum);
        expect(psql(c, `SELECT note FROM ${MARKER} WHERE file LIKE '%demote-postgres%'`)).toMatch(/postgres must stay SUPERUSER/);
        expect(psql(c, `SELECT image_tag FROM ${MARKER} WHERE phase = 'complete'`)).toBe(IMAGE_TAG);
      });

      it('does not run the demote file: postgres stays a superuser', () => {
        expect(first.stdout).toContain('skipped migrations/10000000000000_demote-postgres.sql');
        expect(order(c).join('\n')).not.toContain('demote');
        expect(postgresIsSuperuser(c)).toBe(true);
      });

      it('lets the image files create the managed roles the operator had created (dropped in the same transaction)', () => {
        // Created again by the files as upstream does: attributes and memberships of the file, no
        // password until the operator reconciles its spec.
        expect(
          rows(
            c,
            "SELECT rolname || '|' || rolinherit || '|' || rolcanlogin || '|' || (rolpassword IS NULL) FROM pg_authid WHERE rolname IN ('authenticator', 'supabase_auth_admin', 'pgbouncer') ORDER BY 1",
          ),
        ).toEqual(['authenticator|false|true|true', 'pgbouncer|true|true|true', 'supabase_auth_admin|false|true|true']);
        expect(psql(c, "SELECT pg_has_role('authenticator', 'anon', 'MEMBER')")).toBe('t');
        expect(psql(c, "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'auth'")).toBe('supabase_auth_admin');
        expect(first.stdout).toContain('creates role authenticator, which the operator already created');
        expect(psql(c, `SELECT note FROM ${MARKER} WHERE file = '00000000000000-initial-schema.sql'`)).toMatch(/dropped managed role\(s\) authenticator/);
      });

      it('leaves a managed role alone when the file creates it only if missing', () => {
        expect(psql(c, "SELECT rolpassword IS NOT NULL AND rolinherit FROM pg_authid WHERE rolname = 'supabase_functions_admin'")).toBe('t');
      });

      it('changes nothing on a second run: same dump, no transaction written, says so', () => {
        const snapshot = () => {
          const dump = run(OS_USER, `${BIN}/pg_dumpall`, ['-h', c.socketDir, '-p', String(c.port), '-U', 'postgres']);
          expect(dump.status, dump.stderr).toBe(0);
          // Newer pg_dump releases fence the output with a random \restrict key per run.
          const text = dump.stdout.replace(/^\\(un)?restrict \S+$/gm, '\\$1restrict KEY');
          return { dump: text, nextXid: psql(c, 'SELECT pg_snapshot_xmax(pg_current_snapshot())') };
        };
        const before = snapshot();
        const second = bootstrap(c);
        expect(second.status, second.output).toBe(0);
        expect(second.stdout).toContain('already complete (bootstrapped with image 15.8.1.085); nothing to do');
        expect(second.stdout).not.toContain('applying');
        const after = snapshot();
        expect(after.nextXid).toBe(before.nextXid);
        expect(after.dump).toBe(before.dump);
      });
    });

    it('stops at a failing migration, naming it, and continues from it once fixed', async () => {
      const broken = '20220101000000_broken.sql';
      const c = await cluster('failing', '', {
        [`migrations/${broken}`]: `INSERT INTO public.bootstrap_order (file) VALUES ('${broken}');\nSELECT * FROM no_such_table;\n`,
      });

      const failed = bootstrap(c);
      expect(failed.status).not.toBe(0);
      expect(failed.stderr).toContain(`migrations/${broken} failed as supabase_admin`);
      expect(failed.stderr).toContain('relation "no_such_table" does not exist');
      expect(failed.stderr).toContain('not complete');
      // Applied up to the file before it; the failed file's own work rolled back, nothing after it.
      const applied = order(c);
      expect(applied).toEqual(EXPECTED_ORDER.slice(0, INIT_SCRIPTS.length + 2));
      expect(isComplete(c)).toBe(false);
      expect(psql(c, `SELECT count(*) FROM ${MARKER} WHERE file = '${broken}'`)).toBe('0');
      expect(psql(c, "SELECT to_regclass('platform.platform_probe') IS NULL")).toBe('t');

      writeFileSync(join(c.db, 'migrations', broken), `INSERT INTO public.bootstrap_order (file) VALUES ('${broken}');\n`);
      const fixed = bootstrap(c);
      expect(fixed.status, fixed.output).toBe(0);
      expect(fixed.stdout).toContain('skip init-scripts/00000000000000-initial-schema.sql: already applied');
      expect(fixed.stdout).toContain(`applied migrations/${broken} as supabase_admin`);
      // Every file exactly once, the fixed one in its place.
      const expected = [...EXPECTED_ORDER];
      expected.splice(INIT_SCRIPTS.length + 2, 0, `${broken}|supabase_admin|supabase_admin`);
      expect(order(c)).toEqual(expected);
      expect(isComplete(c)).toBe(true);
    });

    it('runs a file with its own BEGIN/COMMIT outside the wrapping transaction, recording it only once it succeeded', async () => {
      const own = '20220202000000_own-transaction.sql';
      const body = `BEGIN;\nINSERT INTO public.bootstrap_order (file) VALUES ('${own}');\nCOMMIT;\n`;
      const c = await cluster('own-transaction', '', { [`migrations/${own}`]: `${body}SELECT * FROM no_such_table;\n` });
      const failed = bootstrap(c);
      expect(failed.status).not.toBe(0);
      expect(failed.stderr).toContain(
        `migrations/${own} failed as supabase_admin (psql's error above); it ran without a wrapping transaction (it has its own BEGIN/COMMIT) and may be partly applied`,
      );
      expect(psql(c, `SELECT count(*) FROM ${MARKER} WHERE file = '${own}'`)).toBe('0');
      expect(isComplete(c)).toBe(false);

      writeFileSync(join(c.db, 'migrations', own), body);
      const fixed = bootstrap(c);
      expect(fixed.status, fixed.output).toBe(0);
      expect(fixed.stdout).toContain(`applying migrations/${own} as supabase_admin`);
      expect(fixed.stdout).toContain('without a wrapping transaction because it has its own BEGIN/COMMIT');
      expect(psql(c, `SELECT status || '|' || note FROM ${MARKER} WHERE file = '${own}'`)).toBe(
        'applied|run without a wrapping transaction: it has its own BEGIN/COMMIT',
      );
      // Partly applied by the failed run (its own COMMIT), then again by the fixed one: the log says so.
      expect(psql(c, `SELECT count(*) FROM public.bootstrap_order WHERE file = '${own}'`)).toBe('2');
      expect(isComplete(c)).toBe(true);
    });

    it('rolls back a file that demotes postgres under another name, and names it', async () => {
      const sneaky = '20240101000000_tighten-postgres.sql';
      const c = await cluster('sneaky', '', { [`migrations/${sneaky}`]: 'ALTER ROLE postgres NOSUPERUSER;\n' });
      const result = bootstrap(c);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(`role postgres is not a superuser after migrations/${sneaky}`);
      expect(postgresIsSuperuser(c)).toBe(true);
      expect(isComplete(c)).toBe(false);
    });

    it('fails loudly, without the complete marker, when the platform SQL demotes postgres', async () => {
      const c = await cluster('platform-demotes', '', { 'platform-init.sql': 'ALTER ROLE postgres NOSUPERUSER;\n' });
      const result = bootstrap(c);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('role postgres is NOT a superuser after the bootstrap');
      expect(isComplete(c)).toBe(false);
    });

    it('refuses to drop a managed role that owns an object, naming it, and applies nothing of that file', async () => {
      const c = await cluster(
        'owner',
        'CREATE TABLE public.owned_by_authenticator (id int); ALTER TABLE public.owned_by_authenticator OWNER TO authenticator;',
      );
      const result = bootstrap(c);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(
        'init-scripts/00000000000000-initial-schema.sql creates role authenticator, which already exists; refusing to drop it because owns table owned_by_authenticator',
      );
      expect(psql(c, "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'authenticator'")).toBe('t');
      expect(psql(c, "SELECT to_regclass('public.init_probe') IS NULL")).toBe('t');
      expect(psql(c, `SELECT count(*) FROM ${MARKER} WHERE file = '00000000000000-initial-schema.sql'`)).toBe('0');
      expect(isComplete(c)).toBe(false);
    });

    it('never drops an existing role that is not a managed role', async () => {
      const c = await cluster('unmanaged', 'CREATE ROLE anon NOLOGIN');
      const result = bootstrap(c);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('creates role anon, which already exists; refusing to drop it because it is not in MANAGED_ROLES');
      expect(psql(c, "SELECT count(*) FROM pg_roles WHERE rolname = 'anon'")).toBe('1');
      expect(isComplete(c)).toBe(false);
    });

    it('waits a bounded time for a server that does not answer', async () => {
      const port = await freePort();
      const result = bootstrap({ name: 'none', data: '', port, socketDir: '', db: FIXTURES }, { BOOTSTRAP_WAIT_SECONDS: '1' });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(`127.0.0.1:${port} did not accept connections as a primary (not in recovery) within 1 s`);
    });
  },
);
