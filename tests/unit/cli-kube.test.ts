// The thin cluster layer against a stand-in API server on localhost: the bytes a server-side
// apply sends (every field of dist's objects, including the ones client-node's models rename),
// the query of a dry run, lists as plain JSON, a kind the cluster does not serve, deletes, and
// errors as one line; and a server that accepts connections and never answers, which every call
// gives up on after the request timeout.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readDistFiles } from '../../cli/dist';
import { type Cluster, connect, FIELD_MANAGER, toWire } from '../../cli/kube';
import { ROOT } from '../helpers';

interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  body: string;
}

const RESOURCES: Record<string, { name: string; kind: string; namespaced: boolean }[]> = {
  '/api/v1': [
    { name: 'limitranges', kind: 'LimitRange', namespaced: true },
    { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
  ],
  '/apis/networking.k8s.io/v1': [{ name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true }],
  '/apis/apps/v1': [{ name: 'deployments', kind: 'Deployment', namespaced: true }],
  '/apis/batch/v1': [{ name: 'jobs', kind: 'Job', namespaced: true }],
};

const DEPLOYMENTS = {
  apiVersion: 'apps/v1',
  kind: 'DeploymentList',
  metadata: {},
  items: [
    {
      metadata: { name: 'auth', namespace: 'supabase', generation: 2 },
      spec: { replicas: 2, selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [] } } },
      status: { readyReplicas: 2, conditions: [{ type: 'Available', status: 'True', lastUpdateTime: '2026-11-27T10:00:00Z' }] },
    },
  ],
};

describe('kube.ts against a stand-in API server', () => {
  const requests: Request[] = [];
  let server: Server;
  let dir: string;
  let cluster: Cluster;
  const previous = process.env.KUBECONFIG;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://localhost');
        requests.push({ method: req.method!, path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], body });
        const send = (status: number, payload: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(payload));
        };
        const resources = RESOURCES[url.pathname];
        if (req.method === 'GET' && resources)
          return send(200, {
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion: url.pathname.replace(/^\/apis?\//, ''),
            resources: resources.map((r) => ({ ...r, singularName: '', verbs: ['get', 'list', 'patch', 'delete'] })),
          });
        if (req.method === 'GET' && url.pathname === '/apis/apps/v1/namespaces/supabase/deployments') return send(200, DEPLOYMENTS);
        if (req.method === 'GET' && url.pathname === '/api/v1/namespaces/supabase/pods/loadtest-api-x/log') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('line 1\n');
          return setTimeout(() => res.end('line 2\n'), 20);
        }
        if (req.method === 'PATCH' && url.pathname.endsWith('/configmaps/refused'))
          return send(422, { kind: 'Status', status: 'Failure', message: 'ConfigMap "refused" is invalid: data: Too long\nmore', code: 422 });
        if (req.method === 'PATCH') return send(200, JSON.parse(body));
        if (req.method === 'POST') return send(201, { ...JSON.parse(body), status: { startTime: '2026-11-27T10:00:00Z' } });
        if (req.method === 'DELETE') return send(200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
        return send(404, { kind: 'Status', status: 'Failure', message: 'the server could not find the requested resource', code: 404 });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(join(tmpdir(), 'cli-kube-'));
    const port = (server.address() as AddressInfo).port;
    writeFileSync(
      join(dir, 'config'),
      `apiVersion: v1\nkind: Config\nclusters: [{ name: local, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: here, context: { cluster: local, user: u } }, { name: other, context: { cluster: local, user: u } }]\ncurrent-context: other\n`,
    );
    process.env.KUBECONFIG = join(dir, 'config');
    cluster = connect('here');
  });

  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
    if (previous === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = previous;
  });

  const dev = (file: string) => parse(readDistFiles(ROOT, 'dev').get(file)!) as Record<string, unknown>;

  it('sends a NetworkPolicy by server-side apply with its "from" rules intact, as the field manager, dry run when asked', async () => {
    const policy = dev('app/NetworkPolicy.app.api.yaml');
    expect(JSON.stringify(policy)).toContain('"from"');
    await cluster.apply(policy, false, true);
    const sent = requests.filter((r) => r.method === 'PATCH').at(-1)!;
    expect(sent.path).toBe('/apis/networking.k8s.io/v1/namespaces/app/networkpolicies/api');
    expect(sent.contentType).toBe('application/apply-patch+yaml');
    expect(Object.fromEntries(sent.query)).toEqual({ fieldManager: FIELD_MANAGER, force: 'false', dryRun: 'All' });
    expect(JSON.parse(sent.body)).toEqual(policy);
  });

  it('sends a LimitRange with its "default" limits, and no dryRun without one', async () => {
    const limits = dev('foundation/LimitRange.app.platform-limits.yaml');
    await cluster.apply(limits, false);
    const sent = requests.filter((r) => r.method === 'PATCH').at(-1)!;
    expect(JSON.parse(sent.body)).toEqual(limits);
    expect(sent.query.has('dryRun')).toBe(false);
  });

  it('lists objects as plain JSON with apiVersion and kind, by label selector', async () => {
    const items = await cluster.list('apps/v1', 'Deployment', { namespace: 'supabase', labelSelector: 'a=b' });
    expect(items).toHaveLength(1);
    expect(items![0]).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'auth' }, status: { readyReplicas: 2 } });
    expect((items![0]!.status as { conditions: { lastUpdateTime: unknown }[] }).conditions[0]!.lastUpdateTime).toBe('2026-11-27T10:00:00.000Z');
    expect(requests.at(-1)!.query.get('labelSelector')).toBe('a=b');
  });

  it('returns undefined for a kind the cluster does not serve', async () => {
    expect(await cluster.list('argoproj.io/v1alpha1', 'Rollout', { namespace: 'app' })).toBeUndefined();
  });

  it('deletes in the background, dry run when asked', async () => {
    await cluster.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'old', namespace: 'supabase' }, true);
    const sent = requests.at(-1)!;
    expect([sent.method, sent.path, sent.query.get('dryRun'), sent.query.get('propagationPolicy')]).toEqual([
      'DELETE',
      '/api/v1/namespaces/supabase/configmaps/old',
      'All',
      'Background',
    ]);
  });

  it("creates a Job under its own name and follows its pod's log to the end", async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'loadtest-api-x', namespace: 'supabase' },
      spec: { template: { spec: { containers: [{ name: 'k6', image: 'k6' }], restartPolicy: 'Never' } } },
    };
    const created = await cluster.create(job);
    const post = requests.at(-1)!;
    expect([post.method, post.path, post.query.get('fieldManager'), post.query.has('dryRun')]).toEqual([
      'POST',
      '/apis/batch/v1/namespaces/supabase/jobs',
      FIELD_MANAGER,
      false,
    ]);
    expect(JSON.parse(post.body)).toEqual(job);
    expect(created).toMatchObject({ kind: 'Job', metadata: { name: 'loadtest-api-x' }, status: { startTime: '2026-11-27T10:00:00.000Z' } });
    const log: string[] = [];
    await cluster.streamLog('supabase', 'loadtest-api-x', 'k6', (t) => log.push(t), { follow: true });
    expect(log.join('')).toBe('line 1\nline 2\n');
    expect(Object.fromEntries(requests.at(-1)!.query)).toMatchObject({ container: 'k6', follow: 'true' });
  });

  it("turns a refusal into one line with the status and the server's message", async () => {
    await expect(cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'refused', namespace: 'x' } }, false)).rejects.toThrow(
      /^HTTP 422: ConfigMap "refused" is invalid: data: Too long$/,
    );
  });

  it('says which kind the cluster does not serve when applying one', async () => {
    await expect(cluster.apply({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'api', namespace: 'app' } }, false)).rejects.toThrow(
      /^the cluster does not serve argoproj.io\/v1alpha1\/Rollout \(is its CRD installed\?\)$/,
    );
    await expect(cluster.apply({ apiVersion: 'apps/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'app' } }, false)).rejects.toThrow(
      /^the cluster does not serve apps\/v1 Widget/,
    );
  });

  it('refuses an object client-node would change, naming the field', () => {
    expect(() => toWire({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 1, notAField: true } })).toThrow(
      'client-node would not send spec.notAField of Deployment x as written',
    );
  });

  it('sends every object of dist/ unchanged', () => {
    for (const env of ['dev', 'staging', 'production']) {
      for (const [file, text] of readDistFiles(ROOT, env)) {
        const object = parse(text) as Record<string, unknown>;
        expect(() => toWire(object), `${env}/${file}`).not.toThrow();
      }
    }
  });

  it('names an unknown context and a missing kubeconfig in one line', () => {
    expect(() => connect('nope')).toThrow('the kubeconfig has no context "nope"; it has: here, other');
    process.env.KUBECONFIG = join(dir, 'missing');
    try {
      expect(() => connect()).toThrow(/^cannot read the kubeconfig .*missing: ENOENT/);
    } finally {
      process.env.KUBECONFIG = join(dir, 'config');
    }
  });
});

// An API server that accepts the connection and never answers: every kind of call gives up
// after the request timeout with one line naming the server, and leaves nothing open.
describe('kube.ts against a server that never answers', () => {
  let silent: NetServer;
  const sockets = new Set<Socket>();
  let dir: string;
  let server: string;
  const previous = process.env.KUBECONFIG;

  beforeAll(async () => {
    silent = createNetServer((socket) => {
      // Reads (and ignores) the request, so that it notices when the client hangs up.
      sockets.add(socket);
      socket.resume();
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    server = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'cli-kube-silent-'));
    writeFileSync(
      join(dir, 'config'),
      `apiVersion: v1\nkind: Config\nclusters: [{ name: silent, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: silent, context: { cluster: silent, user: u } }]\ncurrent-context: silent\n`,
    );
    process.env.KUBECONFIG = join(dir, 'config');
  });

  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
    rmSync(dir, { recursive: true, force: true });
    if (previous === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = previous;
  });

  const message = `the cluster at ${'SERVER'} did not answer within 0.3 s`;
  const calls: [string, (c: Cluster) => Promise<unknown>][] = [
    ['list', (c) => c.list('apps/v1', 'Deployment', { namespace: 'supabase' })],
    ['apply', (c) => c.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'supabase' }, data: {} }, false)],
    ['secretKeys', (c) => c.secretKeys('supabase', 'supabase-jwt')],
    ['streamLog', (c) => c.streamLog('supabase', 'p', 'c', () => undefined)],
  ];

  it.each(calls)('%s gives up after the request timeout, naming the server', async (_name, call) => {
    const started = Date.now();
    const error = await call(connect(undefined, { timeoutMs: 300 })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(new RegExp(`^${message.replace('SERVER', server).replace(/\./g, '\\.')}: .*--request-timeout`));
    expect(Date.now() - started).toBeLessThan(10_000);
    // The request's socket is closed, so a CLI process ends instead of waiting on it.
    for (let i = 0; i < 100 && sockets.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sockets.size).toBe(0);
  });

  it('the CLI exits 1 with that one line, the timeout taken from --request-timeout or KUBE_REQUEST_TIMEOUT', () => {
    for (const [args, env] of [
      [['status', '--env', 'dev', '--request-timeout', '300ms'], {}],
      [['status', '--env', 'dev'], { KUBE_REQUEST_TIMEOUT: '300ms' }],
    ] as const) {
      const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'cli.mjs'), ...args], {
        env: { ...process.env, npm_lifecycle_event: '', ...env, KUBECONFIG: join(dir, 'config') },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(message.replace('SERVER', server))]);
    }
  });
});
