// Realtime's pods form one Erlang cluster (docs/reference/realtime.md): in every environment, from
// the synthesised objects, the headless Service the DNS strategy polls, the settings that name
// each node and find the others, the cookie from its Secret, the cluster ports on the container
// and in the Service, and a NetworkPolicy that opens exactly those ports to exactly Realtime's
// own pods. The fixed distribution port is checked by running the start command with stand-ins.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REALTIME_CLUSTER_PORTS, REALTIME_CLUSTER_SERVICE, REALTIME_NODE_BASENAME, REALTIME_SERVICE } from '../../charts/supabase/realtime';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { effectiveFlows, flowKey } from '../../checks/reachability';
import { platformSecrets } from '../../platform';
import { environmentInput, find, objectsOf, tryFind } from '../helpers';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const COOKIE_SECRET_NAME = 'supabase-realtime-cluster';
const COOKIE_KEY = 'erlang-cookie';
const CLUSTER_PORTS = Object.values(REALTIME_CLUSTER_PORTS).sort((a, b) => a - b);

function realtimeOf(env: string) {
  const objects = objectsOf(env).map((l) => l.object as Obj);
  const deployment = find<Obj>(env, 'Deployment', REALTIME_SERVICE);
  const container = deployment.spec.template.spec.containers.find((c: Obj) => c.name === 'realtime');
  const vars: Record<string, Obj> = Object.fromEntries(container.env.map((e: Obj) => [e.name, e]));
  return {
    objects,
    deployment,
    container,
    vars,
    namespace: deployment.metadata.namespace as string,
    selector: deployment.spec.selector.matchLabels as Record<string, string>,
  };
}

/** A NetworkPolicy peer that is exactly Realtime's own pods, in its own namespace. */
const ownPods = (namespace: string, selector: Record<string, string>) => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
  podSelector: { matchLabels: selector },
});

describe.each(ENVIRONMENT_NAMES)('%s: Realtime forms one cluster', (env) => {
  const r = realtimeOf(env);

  it('has a headless Service over its pods, ready or not, on the cluster ports', () => {
    const service = tryFind<Obj>(env, 'Service', REALTIME_CLUSTER_SERVICE);
    expect(service, `Service ${REALTIME_CLUSTER_SERVICE}`).toBeDefined();
    expect(service!.metadata.namespace).toBe(r.namespace);
    expect(service!.spec.clusterIP).toBe('None');
    expect(service!.spec.publishNotReadyAddresses).toBe(true);
    expect(service!.spec.selector).toEqual(r.selector);
    expect(service!.spec.ports.map((p: Obj) => p.port).sort()).toEqual(CLUSTER_PORTS);
    // Each Service port leads to the container port of the same number.
    const byName = Object.fromEntries(r.container.ports.map((p: Obj) => [p.name, p.containerPort]));
    for (const p of service!.spec.ports) expect(byName[p.targetPort], p.name).toBe(p.port);
  });

  it('declares the API and cluster ports on the container', () => {
    expect(r.container.ports.map((p: Obj) => [p.containerPort, p.protocol ?? 'TCP']).sort()).toEqual([4000, ...CLUSTER_PORTS].map((p) => [p, 'TCP']).sort());
  });

  it('names each node after its pod address and finds the others in the headless Service', () => {
    // rel/env.sh.eex: RELEASE_NODE=<APP_NAME>@<POD_IP>; the DNS strategy: <APP_NAME>@<A record>.
    expect(r.vars.POD_IP!.valueFrom).toEqual({ fieldRef: { fieldPath: 'status.podIP' } });
    expect(r.vars.APP_NAME!.value).toBe(REALTIME_NODE_BASENAME);
    expect(r.vars.NODE_NAME, 'NODE_NAME would override APP_NAME in the node name only').toBeUndefined();
    expect(r.vars.CLUSTER_STRATEGIES!.value).toBe('DNS');
    expect(r.vars.DNS_NODES!.value).toBe(`${REALTIME_CLUSTER_SERVICE}.${r.namespace}.svc.cluster.local`);
    // Without a region Realtime broadcasts to no other node.
    expect(r.vars.REGION!.value).toMatch(/^\S+$/);
    // IPv4 distribution, as the pod addresses are.
    expect(r.vars.ERL_AFLAGS!.value).toBe('-proto_dist inet_tcp');
    expect(r.vars.GEN_RPC_TCP_SERVER_PORT!.value).toBe(String(REALTIME_CLUSTER_PORTS.genRpc));
    expect(r.vars.GEN_RPC_TCP_CLIENT_PORT!.value).toBe(String(REALTIME_CLUSTER_PORTS.genRpc));
    expect(r.vars.GEN_RPC_SSL_SERVER_PORT, 'gen_rpc over TLS would use other ports').toBeUndefined();
  });

  it('reads the cookie from its Secret, and from nowhere else', () => {
    expect(r.vars.RELEASE_COOKIE).toEqual({ name: 'RELEASE_COOKIE', valueFrom: { secretKeyRef: { name: COOKIE_SECRET_NAME, key: COOKIE_KEY } } });
    const spec = platformSecrets(environmentInput(env)).specs.filter((s) => s.name === COOKIE_SECRET_NAME);
    expect(spec).toHaveLength(1);
    expect(spec[0]).toMatchObject({ namespace: r.namespace, keys: [{ key: COOKIE_KEY, generate: { kind: 'hex' } }] });
    const external = tryFind(env, 'ExternalSecret', COOKIE_SECRET_NAME);
    expect(external !== undefined, 'an ExternalSecret exactly where the environment reads Secrets from a manager').toBe(env !== 'dev');
    for (const o of r.objects.filter((x) => x.kind === 'ConfigMap')) expect(JSON.stringify(o.data ?? {})).not.toMatch(/COOKIE|setcookie/i);
    expect(JSON.stringify(r.container.command)).not.toMatch(/cookie/i);
  });

  it('admits exactly its own pods on exactly the cluster ports, in both directions', () => {
    const policy = find<Obj>(env, 'NetworkPolicy', REALTIME_SERVICE);
    expect(policy.spec.podSelector.matchLabels).toEqual(r.selector);
    const own = ownPods(r.namespace, r.selector);
    for (const [direction, peersOf] of [
      ['ingress', 'from'],
      ['egress', 'to'],
    ] as const) {
      const rules: Obj[] = policy.spec[direction];
      const clusterRules = rules.filter((rule) => rule.ports?.some((p: Obj) => CLUSTER_PORTS.includes(p.port)));
      expect(clusterRules.flatMap((rule) => rule.ports.map((p: Obj) => `${p.port}/${p.protocol}`)).sort(), direction).toEqual(
        CLUSTER_PORTS.map((p) => `${p}/TCP`),
      );
      for (const rule of clusterRules) expect(rule[peersOf], direction).toEqual([own]);
      // Its own pods appear in no other rule.
      const selfRules = rules.filter((rule) => (rule[peersOf] ?? []).some((p: Obj) => isDeepStrictEqual(p, own)));
      expect(selfRules, direction).toEqual(clusterRules);
    }
    // What the policies allow, all together: only Realtime reaches the cluster ports.
    const onClusterPorts = effectiveFlows(r.objects as never)
      .filter((f) => f.to.endsWith(`/${REALTIME_SERVICE}`) && CLUSTER_PORTS.map(String).includes(f.port))
      .map(flowKey)
      .sort();
    const self = `${r.namespace}/${REALTIME_SERVICE}`;
    expect(onClusterPorts).toEqual(CLUSTER_PORTS.map((p) => `${self} -> ${self}:${p}`));
  });
});

describe('the start command pins the distribution port for the server alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'realtime-cluster-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'calls');
  for (const program of ['migrate', 'realtime', 'server']) {
    writeFileSync(join(dir, program), `#!/bin/sh\nprintf '%s [%s]\\n' "${program}" "$ELIXIR_ERL_OPTIONS" >> "${log}"\n`);
    chmodSync(join(dir, program), 0o755);
  }

  it.each(ENVIRONMENT_NAMES)('%s', (env) => {
    rmSync(log, { force: true });
    const command: string[] = realtimeOf(env).container.command;
    const run = spawnSync('sh', ['-c', command[2]!.replaceAll('/app/bin/', `${dir}/`)], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(run.status, run.stderr).toBe(0);
    const port = REALTIME_CLUSTER_PORTS.distribution;
    // The eval steps start no distribution; a remote shell must not inherit the port either.
    expect(readFileSync(log, 'utf8')).toBe(
      ['migrate []', 'realtime []', 'realtime []', `server [-kernel inet_dist_listen_min ${port} inet_dist_listen_max ${port}]`, ''].join('\n'),
    );
  });
});
