// The service (service/), built with tsc and started with node as its three images would start
// it, against PostgreSQL 15 and Redis 7 on loopback. Each process gets exactly the environment
// the app chart gives its pod in dev (the synthesised Rollout and Deployments, with the
// kubelet's $(VAR) expansion), only the addresses, ports and secrets replaced by the test's; the
// database is set up as the platform sets it up (the Cluster's pg_hba and TLS, the managed
// roles, platform-init.sql), Redis runs dev's redis.conf. Proven here: positions created and
// read through the api with Supabase-style JWTs, row level security between users (through the
// api and in the database itself), a job from the scheduler through the queue to the worker,
// traces reaching an OTLP receiver, the api's own /metrics judged by the canary
// AnalysisTemplate's queries in promtool (a healthy burst passes, 5% errors fail), and each
// component stopping cleanly on SIGTERM.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { REDIS_DATA_DIR } from '../../charts/redis/config';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { API_DRAIN_SECONDS, SHUTDOWN_SECONDS } from '../../service/src/config';
import { HTTP_DURATION, HTTP_REQUESTS, QUEUE, SCHEDULER_METRICS, TARGET_LABELS, WORKER_METRICS } from '../../service/src/contract';
import { type AppWorkload, appEnv, kubeletEnv } from '../app-workloads';
import { configMapData, findAll, ROOT } from '../helpers';
import { clusterSpec, managedRolesSql, operatorInitdbArgs, testPasswords } from './pg-checks';
import { asUser, chownTree, freePort, localhostCertificates, run, superuserPsqlArgs, tempDirFor, userExists } from '../../harness/processes';
import { describeNeeding, program } from './tools';

const BIN = '/usr/lib/postgresql/15/bin';
const PG_USER = 'postgres';
const REDIS_USER = userExists('redis') ? 'redis' : 'nobody';
const ENV = 'dev';
const SERVICE = join(ROOT, 'service');
const JWT_SECRET = 'test-jwt-secret-with-at-least-32-characters';
const REDIS_PASSWORD = 'test-redis-0123456789abcdef';
/** The RPC endpoint's path stands for a provider's API key: it must never be stored or logged. */
const RPC_KEY = 'v3/secret-key-0123';
const BLOCK = 0x1234abcn;
const USER_A = '11111111-1111-4111-8111-111111111111';
const USER_B = '22222222-2222-4222-8222-222222222222';

interface Component {
  readonly name: AppWorkload;
  readonly child: ChildProcess;
  readonly metricsPort: number;
  readonly port?: number;
  readonly output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/** A Supabase Auth access token for `sub`, signed as GoTrue signs them (HS256, the project's secret). */
function token(sub: string, claims: Record<string, unknown> = {}, secret = JWT_SECRET): Promise<string> {
  return new SignJWT({ role: 'authenticated', email: `${sub.slice(0, 4)}@example.com`, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

/** A server on loopback that records each request (an OTLP receiver, a JSON-RPC node). */
async function recorder(
  answer: (req: IncomingMessage, body: Buffer) => { status: number; body: string },
): Promise<{ server: Server; port: number; seen: { path: string; type: string; body: Buffer }[] }> {
  const seen: { path: string; type: string; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ path: req.url ?? '', type: String(req.headers['content-type'] ?? ''), body });
      const a = answer(req, body);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port, seen };
}

/** Prometheus text format to samples (name, labels, value); comments skipped. */
function parseExposition(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(l);
      if (!m) throw new Error(`not a sample: ${l}`);
      const labels: Record<string, string> = {};
      for (const p of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[p[1]!] = p[2]!.replace(/\\(.)/g, '$1');
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

describeNeeding(
  [
    program(`${BIN}/postgres`, 'postgresql-15'),
    program(`${BIN}/psql`, 'postgresql-client-15'),
    program('openssl', 'openssl'),
    program('redis-server', 'redis-server'),
    program('redis-cli', 'redis-tools'),
    program('redis-sentinel', 'redis-sentinel'),
    program('promtool', 'prometheus'),
  ],
  'the service (api, worker, scheduler) against PostgreSQL 15 and Redis 7',
  () => {
    const spec = clusterSpec(ENV);
    const passwords = testPasswords(spec);
    let root = '';
    let redisRoot = '';
    let pgPort = 0;
    let redisPort = 0;
    let redisServer: ChildProcess | undefined;
    let collector: Awaited<ReturnType<typeof recorder>>;
    let rpc: Awaited<ReturnType<typeof recorder>>;
    const running: Component[] = [];

    const psqlArgs = (user: string, args: string[]) =>
      run(PG_USER, `${BIN}/psql`, ['-X', '-v', 'ON_ERROR_STOP=1', '-At', ...args], {
        PGHOST: 'localhost',
        PGPORT: String(pgPort),
        PGDATABASE: 'postgres',
        PGUSER: user,
        PGPASSWORD: passwords[user] ?? '',
        PGSSLMODE: 'verify-full',
        PGSSLROOTCERT: join(root, 'ca.crt'),
      });
    const psql = (user: string, sql: string, extra: string[] = []) => psqlArgs(user, [...extra, '-c', sql]);
    const admin = (sql: string) => {
      const r = psql('supabase_admin', sql);
      if (r.status !== 0) throw new Error(`${sql}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const redisCli = (...args: string[]) =>
      run(REDIS_USER, 'redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), '-n', '1', ...args], { REDISCLI_AUTH: REDIS_PASSWORD });

    /** The pod's environment in dev, pointed at the test's servers. */
    const envFor = (component: AppWorkload, ports: { port?: number; metricsPort: number }, env = ENV, redis = { port: () => redisPort, sentinels: '' }) => {
      const secrets: Record<string, string> = { password: passwords.defi_app!, 'redis-password': REDIS_PASSWORD, 'jwt-secret': JWT_SECRET };
      return kubeletEnv(
        appEnv(env, component),
        (_name, key) => secrets[key] ?? `no test value for ${key}`,
        (name, value) => {
          switch (name) {
            case 'DATABASE_URL':
            case 'DATABASE_READ_URL': {
              const url = new URL(value.replace('$(DATABASE_PASSWORD)', 'PLACEHOLDER'));
              url.hostname = 'localhost';
              url.port = String(pgPort);
              url.searchParams.set('sslrootcert', join(root, 'ca.crt'));
              return url.toString().replace('PLACEHOLDER', '$(DATABASE_PASSWORD)');
            }
            case 'REDIS_HOST':
              return '127.0.0.1';
            case 'REDIS_PORT':
              return String(redis.port());
            case 'REDIS_SENTINELS':
              return value === '' ? '' : redis.sentinels;
            case 'PORT':
              return String(ports.port);
            case 'METRICS_PORT':
              return String(ports.metricsPort);
            case 'OTEL_EXPORTER_OTLP_ENDPOINT':
              return `http://127.0.0.1:${collector.port}`;
            case 'RPC_URLS':
              return `http://127.0.0.1:${rpc.port}/${RPC_KEY}`;
            default:
              return value;
          }
        },
      );
    };

    /** Starts node on the component's entry point with only the pod's environment. */
    const start = async (
      name: AppWorkload,
      waitReady = true,
      environment?: (ports: { port?: number; metricsPort: number }) => Record<string, string>,
    ): Promise<Component> => {
      const metricsPort = await freePort();
      const port = name === 'api' ? await freePort() : undefined;
      const env = environment ? environment({ port, metricsPort }) : envFor(name, { port, metricsPort });
      const child = spawn(process.execPath, ['--enable-source-maps', join(SERVICE, 'dist', `${name}.js`)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const output: string[] = [];
      const keep = (b: Buffer) => output.push(...b.toString().split('\n').filter(Boolean));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) =>
        child.once('exit', (code, signal) => r({ code, signal, at: Date.now() })),
      );
      const c: Component = { name, child, metricsPort, ...(port ? { port } : {}), output, exited };
      running.push(c);
      if (waitReady) {
        const readyUrl = `http://127.0.0.1:${port ?? metricsPort}/readyz`;
        await until(`${name} ready (${output.slice(-5).join(' | ')})`, async () => {
          if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${output.slice(-10).join('\n')}`);
          return (await fetch(readyUrl)).status === 200 || undefined;
        });
      }
      return c;
    };
    const stopAll = async () => {
      for (const c of running) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
      await Promise.all(running.map((c) => c.exited));
      running.length = 0;
    };
    const metricsOf = async (c: Component) => parseExposition(await (await fetch(`http://127.0.0.1:${c.metricsPort}/metrics`)).text());

    beforeAll(async () => {
      // The service as its image builds it (tsc to dist/); its dependencies come with the root
      // npm ci (the postinstall script installs service/).
      expect(
        existsSync(join(SERVICE, 'node_modules/.bin/tsc')),
        'service/node_modules is missing: run npm ci (its postinstall installs service/) or npm ci --prefix service',
      ).toBe(true);
      const build = spawnSync(process.execPath, [join(SERVICE, 'node_modules/typescript/bin/tsc'), '-p', SERVICE], { encoding: 'utf8' });
      expect(build.status, build.stdout + build.stderr).toBe(0);

      // PostgreSQL as the operator runs it: TLS with a certificate for "localhost" from a test
      // CA, the Cluster's pg_hba, the managed roles, then the bootstrap Job's platform-init.sql.
      root = tempDirFor(PG_USER, 'service-pg-');
      pgPort = await freePort();
      localhostCertificates(root);
      execFileSync('chmod', ['644', join(root, 'ca.crt')]);
      writeFileSync(join(root, 'init.sql'), configMapData(ENV, 'postgres-bootstrap')['platform-init.sql']!);
      mkdirSync(join(root, 'run'));
      chownTree(root, PG_USER);
      const initdb = run(PG_USER, `${BIN}/initdb`, operatorInitdbArgs(join(root, 'data')));
      expect(initdb.status, initdb.stderr).toBe(0);
      const conf = {
        listen_addresses: 'localhost',
        port: String(pgPort),
        unix_socket_directories: join(root, 'run'),
        ssl: 'on',
        ssl_cert_file: join(root, 'server.crt'),
        ssl_key_file: join(root, 'server.key'),
        ssl_min_protocol_version: 'TLSv1.3',
        password_encryption: 'scram-sha-256',
        max_connections: '100',
        fsync: 'off',
      };
      writeFileSync(
        join(root, 'data/postgresql.auto.conf'),
        Object.entries(conf)
          .map(([k, v]) => `${k} = '${v}'`)
          .join('\n') + '\n',
      );
      writeFileSync(join(root, 'data/pg_hba.conf'), ['local all postgres trust', ...spec.postgresql.pg_hba, 'host all all all scram-sha-256', ''].join('\n'));
      chownTree(root, PG_USER);
      const started = run(PG_USER, `${BIN}/pg_ctl`, ['-D', join(root, 'data'), '-l', join(root, 'server.log'), '-w', '-t', '60', 'start']);
      expect(started.status, started.stdout + started.stderr).toBe(0);
      const roles = run(
        PG_USER,
        `${BIN}/psql`,
        superuserPsqlArgs(join(root, 'run'), pgPort, ['-v', 'ON_ERROR_STOP=1'], ['-c', managedRolesSql(spec, passwords)]),
      );
      expect(roles.status, roles.stderr).toBe(0);
      const init = psqlArgs('supabase_admin', ['-q', '-f', join(root, 'init.sql')]);
      expect(init.status, init.stderr).toBe(0);

      // Redis with dev's redis.conf and start script (the password on standard input).
      redisRoot = tempDirFor(REDIS_USER, 'service-redis-');
      redisPort = await freePort();
      const files = configMapData(ENV, 'redis-config');
      writeFileSync(join(redisRoot, 'redis.conf'), files['redis.conf']!.replaceAll(`dir ${REDIS_DATA_DIR}`, `dir ${redisRoot}`));
      writeFileSync(join(redisRoot, 'start-redis.sh'), files['start-redis.sh']!);
      chownTree(redisRoot, REDIS_USER);
      const [cmd, argv] = asUser(REDIS_USER, 'sh', [
        join(redisRoot, 'start-redis.sh'),
        join(redisRoot, 'redis.conf'),
        '--port',
        String(redisPort),
        '--bind',
        '127.0.0.1',
      ]);
      redisServer = spawn(cmd, argv, { env: { ...process.env, REDIS_PASSWORD }, stdio: 'ignore' });
      await until('redis', () => redisCli('ping').stdout.trim() === 'PONG' || undefined);

      collector = await recorder(() => ({ status: 200, body: '{}' }));
      rpc = await recorder((req, body) => {
        const call = JSON.parse(body.toString() || '{}') as { id?: number; method?: string };
        if (req.url !== `/${RPC_KEY}` || call.method !== 'eth_blockNumber') return { status: 404, body: '{}' };
        return { status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: call.id, result: `0x${BLOCK.toString(16)}` }) };
      });
    });

    afterAll(async () => {
      await stopAll();
      collector?.server.close();
      rpc?.server.close();
      if (redisServer && redisServer.exitCode === null) {
        redisCli('shutdown', 'nosave');
        await new Promise<void>((r) => (redisServer!.exitCode !== null ? r() : redisServer!.once('exit', () => r())));
      }
      if (root) run(PG_USER, `${BIN}/pg_ctl`, ['-D', join(root, 'data'), '-m', 'immediate', '-w', 'stop']);
      for (const dir of [root, redisRoot]) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    describe('the api', () => {
      let api: Component;
      const call = async (method: string, path: string, opts: { token?: string; body?: unknown } = {}) => {
        const res = await fetch(`http://127.0.0.1:${api.port}${path}`, {
          method,
          headers: {
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        });
        const text = await res.text();
        return {
          status: res.status,
          body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { positions?: Record<string, unknown>[] },
          headers: res.headers,
        };
      };
      const position = { chain: 'ethereum', protocol: 'aave-v3', asset: 'USDC', amount: '1250.5' };

      beforeAll(async () => {
        api = await start('api');
      });

      it('migrates the defi schema once, owned by defi_app, under forced row level security', async () => {
        expect(admin('SELECT version FROM defi.schema_migrations ORDER BY version')).toBe('1\n2');
        expect(admin("SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'defi.positions'::regclass")).toBe(
          't|t|defi_app',
        );
        expect(admin("SELECT rolbypassrls FROM pg_roles WHERE rolname = 'defi_app'")).toBe('f');
        // A second process finds nothing to do (the worker migrates at start too).
        const worker = await start('worker');
        expect(worker.output.join('\n')).not.toMatch(/applied migration/);
        expect(admin('SELECT count(*) FROM defi.schema_migrations')).toBe('2');
      });

      it('answers /healthz and /readyz, and neither counts as traffic', async () => {
        expect((await call('GET', '/healthz')).status).toBe(200);
        expect((await call('GET', '/readyz')).status).toBe(200);
        const series = (await metricsOf(api)).filter((s) => s.name === HTTP_REQUESTS && /healthz|readyz/.test(s.labels.route ?? ''));
        expect(series).toEqual([]);
      });

      it('refuses requests without a valid user token (401 before anything else)', async () => {
        expect((await call('GET', '/positions')).status).toBe(401);
        expect((await call('POST', '/positions', { body: { nonsense: true } })).status).toBe(401);
        expect((await call('GET', '/positions', { token: await token(USER_A, {}, 'another-secret-of-at-least-32-characters') })).status).toBe(401);
        expect((await call('GET', '/positions', { token: await token(USER_A, { role: 'anon' }) })).status).toBe(401);
        expect((await call('GET', '/positions', { token: await token('not-a-uuid') })).status).toBe(401);
        const expired = await new SignJWT({ role: 'authenticated' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(USER_A)
          .setAudience('authenticated')
          .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
          .sign(new TextEncoder().encode(JWT_SECRET));
        const res = await call('GET', '/positions', { token: expired });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      });

      it('creates, lists and reads positions with a signed JWT', async () => {
        const a = await token(USER_A);
        const created = await call('POST', '/positions', { token: a, body: position });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        expect(created.body).toMatchObject({ ...position, amount: '1250.500000000000000000', owner_id: USER_A });
        expect(created.headers.get('location')).toBe(`positions/${String(created.body.id)}`);
        const read = await call('GET', `/positions/${String(created.body.id)}`, { token: a });
        expect(read.status).toBe(200);
        expect(read.body).toEqual(created.body);
        const list = await call('GET', '/positions', { token: a });
        expect(list.status).toBe(200);
        expect(list.body.positions!.map((p) => p.id)).toContain(created.body.id);
        expect((await call('POST', '/positions', { token: a, body: { ...position, amount: '-1' } })).status).toBe(400);
        expect((await call('POST', '/positions', { token: a, body: { ...position, amount: 1 } })).status).toBe(400);
        expect((await call('GET', '/positions/not-a-uuid', { token: a })).status).toBe(400);
        for (const limit of ['0', '201', 'x']) expect((await call('GET', `/positions?limit=${limit}`, { token: a })).status, limit).toBe(400);
        expect((await call('GET', '/positions?limit=1', { token: a })).body.positions).toHaveLength(1);
      });

      it("never shows a user another user's positions, nor lets one write or delete as another", async () => {
        const [a, b] = [await token(USER_A), await token(USER_B)];
        const mine = await call('POST', '/positions', { token: a, body: position });
        const theirs = await call('POST', '/positions', { token: b, body: { ...position, asset: 'WETH' } });
        expect([mine.status, theirs.status]).toEqual([201, 201]);
        const listA = (await call('GET', '/positions?limit=200', { token: a })).body.positions!;
        const listB = (await call('GET', '/positions?limit=200', { token: b })).body.positions!;
        expect(listA.length).toBeGreaterThan(0);
        expect(listA.every((p) => p.owner_id === USER_A)).toBe(true);
        expect(listB.map((p) => p.id)).toEqual([theirs.body.id]);
        // Another user's row does not exist for you: 404 on read and delete, and it stays.
        expect((await call('GET', `/positions/${String(theirs.body.id)}`, { token: a })).status).toBe(404);
        expect((await call('DELETE', `/positions/${String(theirs.body.id)}`, { token: a })).status).toBe(404);
        expect((await call('GET', `/positions/${String(theirs.body.id)}`, { token: b })).status).toBe(200);
        // The owner is the token's subject, never the body's.
        expect((await call('POST', '/positions', { token: a, body: { ...position, owner_id: USER_B } })).status).toBe(400);
        expect((await call('DELETE', `/positions/${String(mine.body.id)}`, { token: a })).status).toBe(204);
        expect((await call('GET', `/positions/${String(mine.body.id)}`, { token: a })).status).toBe(404);
      });

      it('keeps users apart in the database itself, as defi_app (the policies, not the api, decide)', () => {
        const asDefiApp = (sub: string | undefined, sql: string) =>
          psql('defi_app', `BEGIN; ${sub ? `SELECT set_config('request.jwt.claim.sub', '${sub}', true);` : ''} ${sql}; COMMIT;`, ['-q']);
        const count = (sub: string | undefined, where = '') => asDefiApp(sub, `SELECT count(*) FROM defi.positions ${where}`).stdout.trim().split('\n').pop();
        expect(Number(admin('SELECT count(*) FROM defi.positions'))).toBeGreaterThan(Number(count(USER_B)));
        expect(count(USER_B, `WHERE owner_id <> '${USER_B}'`)).toBe('0');
        expect(count(undefined)).toBe('0');
        const forged = asDefiApp(
          USER_A,
          `INSERT INTO defi.positions (owner_id, chain, protocol, asset, amount) VALUES ('${USER_B}', 'ethereum', 'aave-v3', 'DAI', 1)`,
        );
        expect(forged.status).not.toBe(0);
        expect(forged.stderr).toMatch(/violates row-level security policy/);
        const update = asDefiApp(USER_A, `UPDATE defi.positions SET owner_id = '${USER_A}' WHERE owner_id = '${USER_B}' RETURNING id`);
        expect(update.status, update.stderr).toBe(0);
        expect(count(USER_B)).toBe('1');
      });

      it('exposes the HTTP metrics the canary and the dashboards query, and none of the target labels', async () => {
        const samples = await metricsOf(api);
        const names = new Set(samples.map((s) => s.name));
        for (const n of [HTTP_REQUESTS, `${HTTP_DURATION}_bucket`, `${HTTP_DURATION}_sum`, `${HTTP_DURATION}_count`]) expect(names.has(n), n).toBe(true);
        const created = samples.find(
          (s) => s.name === HTTP_REQUESTS && s.labels.route === '/positions' && s.labels.method === 'POST' && s.labels.code === '201',
        );
        expect(created?.value).toBeGreaterThanOrEqual(3);
        // Declared at zero before the first error, so the first 5xx is a change rate() sees.
        expect(
          samples.find((s) => s.name === HTTP_REQUESTS && s.labels.route === '/positions/:id' && s.labels.method === 'DELETE' && s.labels.code === '500')
            ?.value,
        ).toBe(0);
        expect(samples.filter((s) => TARGET_LABELS.some((l) => l in s.labels)).map((s) => s.name)).toEqual([]);
      });

      it('sends traces to the OTLP endpoint over HTTP/protobuf', async () => {
        const traces = await until('a trace export', () => collector.seen.find((r) => r.path === '/v1/traces'), 15_000);
        expect(traces.type).toBe('application/x-protobuf');
        expect(traces.body.toString('latin1')).toContain('api');
      });

      describe("canary analysis on the api's own metrics (promtool)", () => {
        const HASH = 'canary7f9c';
        const STEP_SECONDS = 30;
        /** Scrapes of one burst, each taken after a chunk of requests. */
        const burst = async (opts: { chunks: number; perChunk: number; errorsPerChunk: number }) => {
          const service = await start('api');
          const tokens = [await token(USER_A), await token(USER_B)];
          const scrapes = [await metricsOf(service)];
          const ids: string[] = [];
          const one = async (i: number) => {
            const t = tokens[i % 2]!;
            const path = `http://127.0.0.1:${service.port}`;
            const headers = { authorization: `Bearer ${t}`, 'content-type': 'application/json' };
            if (i % 5 === 0 || ids.length === 0) {
              const res = await fetch(`${path}/positions`, { method: 'POST', headers, body: JSON.stringify(position) });
              if (res.status === 201) ids.push(String(((await res.json()) as { id: string }).id));
              return res.status;
            }
            const res =
              i % 3 === 0 ? await fetch(`${path}/positions/${ids[i % ids.length]}`, { headers }) : await fetch(`${path}/positions?limit=20`, { headers });
            await res.arrayBuffer();
            return res.status;
          };
          const statuses: number[] = [];
          for (let chunk = 0; chunk < opts.chunks; chunk++) {
            for (let i = 0; i < opts.perChunk - opts.errorsPerChunk; i += 10)
              statuses.push(
                ...(await Promise.all(Array.from({ length: Math.min(10, opts.perChunk - opts.errorsPerChunk - i) }, (_, k) => one(chunk * 1000 + i + k)))),
              );
            if (opts.errorsPerChunk > 0) {
              // A broken release, as the database sees it: the table it queries is gone.
              admin('ALTER TABLE defi.positions RENAME TO positions_moved');
              try {
                for (let i = 0; i < opts.errorsPerChunk; i++) statuses.push(await one(chunk * 1000 + 500 + i));
              } finally {
                admin('ALTER TABLE defi.positions_moved RENAME TO positions');
              }
            }
            scrapes.push(await metricsOf(service));
          }
          service.child.kill('SIGKILL');
          await service.exited;
          return { scrapes, statuses };
        };

        /** The scrapes as Prometheus would have stored them, one every STEP_SECONDS, with the target's labels. */
        const inputSeries = (scrapes: ReturnType<typeof parseExposition>[]) => {
          const wanted = new Set([HTTP_REQUESTS, `${HTTP_DURATION}_bucket`]);
          const series = new Map<string, (number | undefined)[]>();
          scrapes.forEach((samples, step) => {
            for (const s of samples.filter((x) => wanted.has(x.name))) {
              const labels = {
                ...s.labels,
                namespace: 'app',
                job: 'api',
                pod: `api-${HASH}-x`,
                container: 'api',
                instance: '10.0.0.1:9090',
                rollouts_pod_template_hash: HASH,
              };
              const key = `${s.name}{${Object.entries(labels)
                .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
                .join(',')}}`;
              const values = series.get(key) ?? Array.from({ length: scrapes.length }, () => undefined);
              values[step] = s.value;
              series.set(key, values);
            }
          });
          // A series absent from a scrape has no sample there ("_"), as in Prometheus.
          return [...series].map(([key, values]) => ({ series: key, values: values.map((v) => (v === undefined ? '_' : String(v))).join(' ') }));
        };

        /**
         * Runs each environment's analysis queries on the input in promtool, as two alerts per
         * measure (<measure>_pass when the value is <= its max, <measure>_fail when above; no
         * value fires neither, which Argo Rollouts counts as inconclusive), and expects `verdicts`.
         */
        const analyse = (env: string, input: { series: string; values: string }[], steps: number, verdicts: Record<string, 'pass' | 'fail'>) => {
          const template = findAll(env, 'AnalysisTemplate')[0]! as unknown as {
            spec: { metrics: { name: string; successCondition: string; provider: { prometheus: { query: string } } }[] };
          };
          expect(template.spec.metrics.map((m) => m.name).sort()).toEqual(Object.keys(verdicts).sort());
          const alert = (metric: string, verdict: string) => `${metric.replace(/-/g, '_')}_${verdict}`;
          const rules = template.spec.metrics.flatMap((m) => {
            const max = Number(/<= ([0-9.]+)$/.exec(m.successCondition)![1]);
            // What Argo Rollouts sends: the template with the canary's hash filled in.
            const query = m.provider.prometheus.query.replaceAll('{{args.canary-hash}}', HASH);
            return [
              { alert: alert(m.name, 'pass'), expr: `(${query}) <= ${max}` },
              { alert: alert(m.name, 'fail'), expr: `(${query}) > ${max}` },
            ];
          });
          const rulesFile = join(dir, `${env}-rules.yml`);
          writeFileSync(rulesFile, stringify({ groups: [{ name: 'canary', rules }] }));
          const testFile = join(dir, `${env}-test.yml`);
          const alert_rule_test = template.spec.metrics.flatMap((m) =>
            (['pass', 'fail'] as const).map((v) => ({
              eval_time: `${steps * STEP_SECONDS}s`,
              alertname: alert(m.name, v),
              exp_alerts: verdicts[m.name] === v ? [{ exp_labels: {} }] : [],
            })),
          );
          writeFileSync(
            testFile,
            stringify({
              rule_files: [rulesFile],
              evaluation_interval: `${STEP_SECONDS}s`,
              tests: [{ interval: `${STEP_SECONDS}s`, input_series: input, alert_rule_test }],
            }),
          );
          return spawnSync('promtool', ['test', 'rules', testFile], { encoding: 'utf8' });
        };

        let dir = '';
        beforeAll(() => {
          dir = join(root, 'promtool');
          mkdirSync(dir, { recursive: true });
        });

        it("passes a healthy burst in every environment's analysis", async () => {
          const { scrapes, statuses } = await burst({ chunks: 6, perChunk: 100, errorsPerChunk: 0 });
          expect(statuses.filter((s) => s >= 500)).toEqual([]);
          const input = inputSeries(scrapes);
          for (const env of ENVIRONMENT_NAMES) {
            const r = analyse(env, input, scrapes.length - 1, { 'error-ratio': 'pass', 'p95-latency': 'pass' });
            expect(r.status, `${env}: ${r.stdout}${r.stderr}`).toBe(0);
          }
        });

        it("fails a burst with 5% errors in every environment's analysis (and the test can tell)", async () => {
          const { scrapes, statuses } = await burst({ chunks: 6, perChunk: 100, errorsPerChunk: 5 });
          expect(statuses.length).toBe(600);
          expect(statuses.filter((s) => s >= 500).length).toBe(30);
          const input = inputSeries(scrapes);
          for (const env of ENVIRONMENT_NAMES) {
            const r = analyse(env, input, scrapes.length - 1, { 'error-ratio': 'fail', 'p95-latency': 'pass' });
            expect(r.status, `${env}: ${r.stdout}${r.stderr}`).toBe(0);
          }
          // Expecting a pass on the same data must fail: the check above is not vacuous.
          expect(analyse('production', input, scrapes.length - 1, { 'error-ratio': 'pass', 'p95-latency': 'pass' }).status).not.toBe(0);
        });
      });

      it(`drains on SIGTERM: /readyz 503, requests still served for ${API_DRAIN_SECONDS} s, then exits 0 within its budget`, async () => {
        const a = await token(USER_A);
        const sent = Date.now();
        api.child.kill('SIGTERM');
        await until('readyz 503 after SIGTERM', async () => (await fetch(`http://127.0.0.1:${api.port}/readyz`)).status === 503 || undefined, 5000);
        expect((await call('GET', '/positions', { token: a })).status).toBe(200);
        const exit = await api.exited;
        expect(exit.code, api.output.slice(-5).join('\n')).toBe(0);
        expect(exit.at - sent).toBeGreaterThanOrEqual(API_DRAIN_SECONDS * 1000 - 200);
        expect(exit.at - sent).toBeLessThan(SHUTDOWN_SECONDS.api * 1000);
      });
    });

    describe('scheduler → queue → worker', () => {
      let scheduler: Component;
      let worker: Component;

      beforeAll(async () => {
        await stopAll();
        scheduler = await start('scheduler');
        worker = await start('worker');
      });

      it('enqueues a chain-head job per RPC endpoint, which the worker does and records once', async () => {
        const row = await until(
          'a chain head recorded',
          () => admin("SELECT job_id || '|' || endpoint || '|' || block_number FROM defi.chain_heads ORDER BY observed_at DESC LIMIT 1") || undefined,
        );
        const [jobId, endpoint, block] = row.split('|');
        expect(jobId).toMatch(/^chain-head:0:\d+$/);
        expect(endpoint).toBe(`127.0.0.1:${rpc.port}`);
        expect(block).toBe(BLOCK.toString());
        expect(admin(`SELECT outcome FROM defi.job_runs WHERE job_id = '${jobId}'`)).toBe('succeeded');
        // The provider's key in the URL is neither stored, nor logged, nor queued.
        expect(admin(`SELECT count(*) FROM defi.chain_heads WHERE endpoint LIKE '%secret%'`)).toBe('0');
        expect([...scheduler.output, ...worker.output].join('\n')).not.toContain(RPC_KEY);
        expect(redisCli('xrange', QUEUE.stream, '-', '+').stdout).not.toContain('secret');
        expect(rpc.seen.some((r) => r.path === `/${RPC_KEY}`)).toBe(true);
      });

      it('acknowledges and deletes finished jobs, and does a job delivered twice once', async () => {
        await until('an empty queue', () => redisCli('xlen', QUEUE.stream).stdout.trim() === '0' || undefined);
        const done = admin("SELECT job_id FROM defi.job_runs WHERE kind = 'chain-head' LIMIT 1");
        // The same id again, as a redelivery after a lost acknowledgement would bring it.
        expect(redisCli('xadd', QUEUE.stream, '*', 'id', done, 'kind', 'chain-head', 'payload', '{"endpoint":0}', 'enqueued_at', '0').status).toBe(0);
        await until(
          'the duplicate counted',
          async () => (await metricsOf(worker)).find((s) => s.name === WORKER_METRICS.jobs && s.labels.outcome === 'duplicate')?.value === 1 || undefined,
        );
        expect(admin(`SELECT count(*) FROM defi.chain_heads WHERE job_id = '${done}'`)).toBe('1');
        // A job naming an endpoint the worker does not have is refused, not called.
        redisCli('xadd', QUEUE.stream, '*', 'id', 'chain-head:7:1', 'kind', 'chain-head', 'payload', '{"endpoint":7}', 'enqueued_at', '0');
        await until(
          'the rejection counted',
          async () => (await metricsOf(worker)).find((s) => s.name === WORKER_METRICS.jobs && s.labels.outcome === 'rejected')?.value === 1 || undefined,
        );
      });

      it('exports the queue depth, job outcomes and the last run of each schedule', async () => {
        const w = await metricsOf(worker);
        expect(
          w.find((s) => s.name === WORKER_METRICS.jobs && s.labels.kind === 'chain-head' && s.labels.outcome === 'succeeded')?.value,
        ).toBeGreaterThanOrEqual(1);
        expect(w.find((s) => s.name === WORKER_METRICS.queueDepth)?.value).toBe(0);
        expect(w.some((s) => s.name === `${WORKER_METRICS.jobDuration}_count`)).toBe(true);
        const s = await metricsOf(scheduler);
        const last = s.find((x) => x.name === SCHEDULER_METRICS.lastRun && x.labels.schedule === 'chain-head')?.value ?? 0;
        expect(Date.now() / 1000 - last).toBeLessThan(60);
        expect(s.find((x) => x.name === SCHEDULER_METRICS.leader)?.value).toBe(1);
      });

      it('runs one scheduler at a time: a second one waits for the lease', async () => {
        const second = await start('scheduler');
        await sleep(1500);
        expect((await metricsOf(second)).find((x) => x.name === SCHEDULER_METRICS.leader)?.value).toBe(0);
        expect(admin('SELECT count(*) FROM defi.scheduler_leases')).toBe('1');
        second.child.kill('SIGTERM');
        expect((await second.exited).code).toBe(0);
        // Stopping the follower leaves the leader's lease alone.
        expect((await metricsOf(scheduler)).find((x) => x.name === SCHEDULER_METRICS.leader)?.value).toBe(1);
      });

      it('stop on SIGTERM within their budgets, the scheduler handing its lease over', async () => {
        const sent = Date.now();
        scheduler.child.kill('SIGTERM');
        worker.child.kill('SIGTERM');
        const [s, w] = [await scheduler.exited, await worker.exited];
        expect(s.code, scheduler.output.slice(-5).join('\n')).toBe(0);
        expect(w.code, worker.output.slice(-5).join('\n')).toBe(0);
        expect(s.at - sent).toBeLessThan(SHUTDOWN_SECONDS.scheduler * 1000);
        expect(w.at - sent).toBeLessThan(SHUTDOWN_SECONDS.worker * 1000);
        expect(admin('SELECT count(*) FROM defi.scheduler_leases')).toBe('0');
      });
    });

    describe("with Sentinels (staging's environment): queue writes confirmed by a replica", () => {
      // A primary, its replica and a Sentinel that monitors them under the chart's name; the
      // scheduler and worker get staging's env, REDIS_SENTINELS pointed at that Sentinel.
      let dir = '';
      const ports = { primary: 0, replica: 0, sentinel: 0 };
      const servers: ChildProcess[] = [];
      const cliAt = (port: number, ...args: string[]) =>
        run(REDIS_USER, 'redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { REDISCLI_AUTH: REDIS_PASSWORD });
      const serve = (program: string, args: string[]) => {
        const [cmd, argv] = asUser(REDIS_USER, program, args);
        const child = spawn(cmd, argv, { stdio: 'ignore' });
        servers.push(child);
        return child;
      };
      let scheduler: Component;
      let worker: Component;
      /** When this block started, by the database's clock: its jobs are the ones recorded after. */
      let since = '';

      beforeAll(async () => {
        await stopAll();
        since = admin('SELECT now()');
        dir = tempDirFor(REDIS_USER, 'service-sentinel-');
        for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
        const common = [
          '--bind',
          '127.0.0.1',
          '--requirepass',
          REDIS_PASSWORD,
          '--masterauth',
          REDIS_PASSWORD,
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
        ];
        serve('redis-server', ['--port', String(ports.primary), ...common, '--dbfilename', 'primary.rdb']);
        serve('redis-server', ['--port', String(ports.replica), ...common, '--dbfilename', 'replica.rdb', '--replicaof', '127.0.0.1', String(ports.primary)]);
        await until('the replica in sync', () => /master_link_status:up/.test(cliAt(ports.replica, 'info', 'replication').stdout) || undefined);
        const name = appEnv('staging', 'worker').find((v) => v.name === 'REDIS_SENTINEL_PRIMARY')!.value!;
        writeFileSync(
          join(dir, 'sentinel.conf'),
          [
            `port ${ports.sentinel}`,
            'bind 127.0.0.1',
            `requirepass ${REDIS_PASSWORD}`,
            `sentinel monitor ${name} 127.0.0.1 ${ports.primary} 1`,
            `sentinel auth-pass ${name} ${REDIS_PASSWORD}`,
            '',
          ].join('\n'),
        );
        chownTree(dir, REDIS_USER);
        serve('redis-sentinel', [join(dir, 'sentinel.conf')]);
        await until(
          'the Sentinel naming the primary',
          () => cliAt(ports.sentinel, 'sentinel', 'get-master-addr-by-name', name).stdout.includes(String(ports.primary)) || undefined,
        );
        const staging = (component: AppWorkload) => (p: { port?: number; metricsPort: number }) =>
          envFor(component, p, 'staging', { port: () => ports.primary, sentinels: `127.0.0.1:${ports.sentinel}` });
        scheduler = await start('scheduler', true, staging('scheduler'));
        worker = await start('worker', true, staging('worker'));
      });

      afterAll(async () => {
        await stopAll();
        for (const child of servers) if (child.exitCode === null) child.kill('SIGKILL');
        await Promise.all(servers.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r)))));
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it('enqueues through the primary the Sentinel names, each job on the replica before it counts, and the worker does it', async () => {
        const jobId = await until(
          'a chain head recorded through Sentinel',
          () => admin(`SELECT job_id FROM defi.chain_heads WHERE observed_at > '${since}' ORDER BY observed_at DESC LIMIT 1`) || undefined,
        );
        expect(cliAt(ports.replica, '-n', '1', 'exists', `${QUEUE.dedupePrefix}${jobId}`).stdout.trim()).toBe('1');
        const runs = (await metricsOf(scheduler)).filter((x) => x.name === SCHEDULER_METRICS.runs && x.labels.outcome === 'enqueued');
        expect(runs.length).toBeGreaterThan(0);
        expect(worker.output.join('\n')).toMatch(/"outcome":"succeeded"/);
      });

      it('counts a period as not durable while no replica confirms, and retries it', async () => {
        cliAt(ports.replica, 'shutdown', 'nosave');
        await until(
          'a write the replica did not confirm',
          async () =>
            ((await metricsOf(scheduler)).find(
              (x) => x.name === SCHEDULER_METRICS.runs && x.labels.schedule === 'chain-head' && x.labels.outcome === 'not_durable',
            )?.value ?? 0) >= 2 || undefined,
          25_000,
        );
        expect(scheduler.output.join('\n')).toMatch(/replicas confirmed it within 1000 ms/);
      });
    });
  },
);
