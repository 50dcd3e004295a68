// The reachability matrix: from the synthesised NetworkPolicies alone (checks/reachability.ts, with
// Kubernetes' semantics), which workload can open which port on which other workload, compared
// with the intended matrix in docs/network.md. A flow the policies allow that the page does not
// list fails, and so does a listed flow the policies block. Cluster DNS is checked on its own:
// every workload must reach kube-dns on 53 over UDP and TCP.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REALTIME_CLUSTER_PORTS, REALTIME_PORT } from '../../charts/supabase/realtime';
import { ENVIRONMENT_NAMES, parseEnvironment } from '../../environments/schema';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../../environments';
import { effectiveFlows, type Flow, flowKey, intendedFlows, workloadId, workloadsFrom } from '../../checks/reachability';
import { renderEnvironment } from '../../platform';
import { objectsOf, ROOT } from '../helpers';
import type { K8sObject } from '../../checks/objects';

const DNS = 'kube-system/{k8s-app=kube-dns}';

/** The intended flows of each environment, as docs/network.md lists them. */
function intendedFromDocs(): Map<string, Set<string>> {
  const text = readFileSync(join(ROOT, 'docs/network.md'), 'utf8');
  const table = /<!-- generated:flow-table -->\n([\s\S]*?)<!-- \/generated:flow-table -->/.exec(text)?.[1];
  if (!table) throw new Error('docs/network.md has no flow table: run npm run docs');
  const [header, , ...rows] = table.trim().split('\n');
  const envs = header!
    .split('|')
    .map((c) => c.trim())
    .slice(4, -1);
  const out = new Map(envs.map((e) => [e, new Set<string>()]));
  for (const row of rows) {
    const cells = row
      .split('|')
      .map((c) => c.trim())
      .slice(1, -1);
    const flow = { from: cells[0]!, to: cells[1]!, port: cells[2]! };
    envs.forEach((env, i) => cells[3 + i] === 'yes' && out.get(env)!.add(flowKey(flow)));
  }
  return out;
}

/** Flows allowed but not intended, and intended but blocked. */
function differences(allowed: readonly Flow[], intended: ReadonlySet<string>): { notIntended: string[]; blocked: string[] } {
  const keys = new Set(allowed.map(flowKey));
  return { notIntended: [...keys].filter((k) => !intended.has(k)), blocked: [...intended].filter((k) => !keys.has(k)) };
}

const objects = (env: string): K8sObject[] => objectsOf(env).map((l) => l.object);
const withoutDns = (flows: readonly Flow[]) => flows.filter((f) => f.to !== DNS);

describe('reachability matrix', () => {
  const intended = intendedFromDocs();

  it.each(ENVIRONMENT_NAMES)('%s: the policies allow exactly the flows docs/network.md lists', (env) => {
    expect(intended.has(env), `docs/network.md has a column for ${env}`).toBe(true);
    const { notIntended, blocked } = differences(withoutDns(effectiveFlows(objects(env))), intended.get(env)!);
    expect(notIntended, 'allowed by the NetworkPolicies but not in docs/network.md').toEqual([]);
    expect(blocked, 'listed in docs/network.md but blocked by the NetworkPolicies').toEqual([]);
    expect(intended.get(env)!.size).toBeGreaterThan(50);
  });

  // Redis with replicas: Kong reaches only HAProxy (one address for the primary); the product also
  // the Sentinels and the instances they name; the instances and Sentinels reach each other
  // (replication, monitoring, gossip); the backup reaches the instances (it picks a replica).
  it.each(['staging', 'production'])("%s: Redis flows are exactly the replicated set's", (env) => {
    const redisFlows = withoutDns(effectiveFlows(objects(env)))
      .map(flowKey)
      .filter((k) => / -> supabase\/redis(-primary)?:/.test(k) || k.startsWith('supabase/redis'))
      .filter((k) => !k.includes('internet'))
      .sort();
    const app = ['api', 'scheduler', 'worker'].flatMap((w) => [
      `app/${w} -> supabase/redis-primary:6379`,
      `app/${w} -> supabase/redis:26379`,
      `app/${w} -> supabase/redis:6379`,
    ]);
    expect(redisFlows).toEqual(
      [
        ...app,
        'observability/prometheus -> supabase/redis-primary:8404',
        'observability/prometheus -> supabase/redis:9121',
        'observability/prometheus -> supabase/redis:9355',
        'supabase/kong -> supabase/redis-primary:6379',
        'supabase/redis -> supabase/redis:26379',
        'supabase/redis -> supabase/redis:6379',
        'supabase/redis-backup -> supabase/redis:6379',
        'supabase/redis-primary -> supabase/redis:6379',
      ].sort(),
    );
  });

  // The operators run in namespaces of their own, from their upstream installs: Prometheus reaches
  // each one's metrics pods on the metrics port of that install and on nothing else there; no
  // platform workload other than Prometheus reaches them (the CloudNativePG operator calling the
  // instances is a flow into the platform). External Secrets runs only where secrets come from it.
  it.each(ENVIRONMENT_NAMES)('%s: Prometheus reaches each operator on its metrics port, and nothing else of theirs', (env) => {
    const operatorNamespaces = ['cert-manager', 'argocd', 'argo-rollouts', 'external-secrets', 'kyverno', 'cnpg-system'];
    const toOperators = withoutDns(effectiveFlows(objects(env)))
      .filter((f) => operatorNamespaces.some((ns) => f.to.startsWith(`${ns}/`)))
      .map(flowKey)
      .sort();
    expect(toOperators).toEqual(
      [
        'observability/prometheus -> argo-rollouts/argo-rollouts:8090',
        'observability/prometheus -> argocd/argocd-application-controller:8082',
        'observability/prometheus -> argocd/argocd-repo-server:8084',
        'observability/prometheus -> argocd/argocd-server:8083',
        'observability/prometheus -> cert-manager/cert-manager:9402',
        'observability/prometheus -> cnpg-system/cloudnative-pg:8080',
        ...(env === 'dev' ? [] : ['observability/prometheus -> external-secrets/external-secrets:8080']),
        'observability/prometheus -> kyverno/kyverno-admission-controller:8000',
      ].sort(),
    );
  });

  // Realtime with several pods: one Erlang cluster, so its pods reach each other on EPMD, the
  // fixed distribution port and gen_rpc (which carries broadcasts and presence), and on nothing
  // else; every other workload still reaches Realtime on its API port alone.
  it('lets Realtime pods reach each other on exactly EPMD, the distribution port and gen_rpc wherever it runs several', () => {
    const clustered = ENVIRONMENTS.map(parseEnvironment).filter(
      (e) => Math.max(e.supabase.realtime.replicas, e.supabase.realtime.autoscaling?.maxReplicas ?? 0) > 1,
    );
    expect(clustered.map((e) => e.name)).toEqual(expect.arrayContaining(['staging', 'production']));
    const { epmd, distribution, genRpc } = REALTIME_CLUSTER_PORTS;
    for (const { name: env } of clustered) {
      const flows = withoutDns(effectiveFlows(objects(env)));
      const between = flows.map(flowKey).filter((k) => k.startsWith('supabase/realtime -> supabase/realtime:'));
      expect(between.sort(), env).toEqual([epmd, distribution, genRpc].map((p) => `supabase/realtime -> supabase/realtime:${p}`).sort());
      const fromOthers = new Set(flows.filter((f) => f.to === 'supabase/realtime' && f.from !== 'supabase/realtime').map((f) => f.port));
      expect([...fromOthers], env).toEqual([String(REALTIME_PORT)]);
    }
  });

  it.each(ENVIRONMENT_NAMES)('%s: every workload resolves names through the cluster DNS, over UDP and TCP', (env) => {
    const flows = effectiveFlows(objects(env));
    for (const w of workloadsFrom(objects(env))) {
      const ports = flows.filter((f) => f.from === workloadId(w) && f.to === DNS).map((f) => f.port);
      expect(ports.sort(), workloadId(w)).toEqual(['53', '53/UDP']);
    }
  });

  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))(
    '%s: every declared call with a port is admitted by the workload it names, and every admission is used',
    (_name, input) => {
      const { manifests, declarations } = renderEnvironment(input);
      const objs = [...manifests.values()].map((t) => parse(t) as K8sObject);
      const flows = intendedFlows(objs, declarations);
      // Pods on the host network are reached at their node's address (an address-range flow).
      const hostNetwork = new Set(
        objs.filter((o) => JSON.stringify(o.spec ?? {}).includes('"hostNetwork":true')).map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
      );
      const unused: string[] = [];
      for (const d of declarations) {
        const self = `${d.namespace}/${d.workload}`;
        if (hostNetwork.has(self)) continue;
        for (const [direction, rules] of [
          ['egress', d.egress],
          ['ingress', d.ingress],
        ] as const) {
          for (const rule of rules) {
            if (!rule.ports || rule.peers.length === 0 || rule.peers.some((p) => p.ipBlock)) continue;
            for (const { port, protocol } of rule.ports) {
              const name = protocol === 'TCP' ? String(port) : `${port}/${protocol}`;
              const used = flows.some((f) => f.port === name && (direction === 'egress' ? f.from === self : f.to === self));
              if (!used) unused.push(`${self} ${direction} on ${name}`);
            }
          }
        }
      }
      expect(unused, 'declared, but the other side does not declare it').toEqual([]);
    },
  );

  it('lets only Kong be reached from outside the cluster, on its TLS port', () => {
    for (const env of ENVIRONMENT_NAMES) {
      const fromOutside = effectiveFlows(objects(env)).filter((f) => !f.from.includes('/') || f.from.startsWith('argo-rollouts/'));
      expect(fromOutside.map(flowKey)).toEqual(['anywhere -> supabase/kong:8443', 'argo-rollouts/argo-rollouts -> observability/prometheus:9090']);
    }
  });

  it('catches a policy that opens more than was declared', () => {
    const opened: K8sObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-all-in', namespace: 'supabase' },
      spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] },
    };
    const { notIntended } = differences(withoutDns(effectiveFlows([...objects('production'), opened])), intended.get('production')!);
    // The api's own egress still limits it; Prometheus (egress to every port) now reaches more.
    expect(notIntended).toContain('observability/prometheus -> supabase/postgres:5432');
    expect(notIntended.length).toBeGreaterThan(5);
  });

  it('catches a flow that one side no longer admits', () => {
    const broken = objects('production').map((o) =>
      o.kind === 'NetworkPolicy' && o.metadata.name === 'postgres' ? { ...o, spec: { ...(o.spec as object), ingress: [] } } : o,
    );
    const { blocked } = differences(withoutDns(effectiveFlows(broken)), intended.get('production')!);
    expect(blocked).toEqual(
      expect.arrayContaining([
        'supabase/auth -> supabase/postgres:5432',
        'supabase/postgres-pooler-rw -> supabase/postgres:5432',
        'supabase/postgres -> supabase/postgres:5432',
      ]),
    );
  });
});

describe('NetworkPolicy semantics', () => {
  const pod = (namespace: string, name: string, ports: number[] = [], labels: Record<string, string> = {}): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      template: {
        metadata: { labels: { app: name, ...labels } },
        spec: { containers: [{ name, ports: ports.map((p) => ({ containerPort: p, name: `p${p}` })) }] },
      },
    },
  });
  const policy = (namespace: string, app: string, spec: object): K8sObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: app, namespace },
    spec: { podSelector: { matchLabels: { app } }, policyTypes: ['Ingress', 'Egress'], ...spec },
  });
  const keys = (objs: K8sObject[]) => effectiveFlows(objs).map(flowKey);

  it('leaves a pod no policy selects open, in both directions', () => {
    expect(keys([pod('a', 'client'), pod('a', 'server', [80])])).toEqual(['a/client -> a/server:80', 'a/server -> a/server:80']);
  });

  it('needs the source to allow egress and the destination to allow ingress', () => {
    const egressOnly = [
      pod('a', 'client'),
      pod('a', 'server', [80]),
      policy('a', 'client', { egress: [{ to: [{ podSelector: { matchLabels: { app: 'server' } } }] }] }),
      policy('a', 'server', {}),
    ];
    expect(keys(egressOnly)).toEqual([]);
    const both = [
      ...egressOnly.slice(0, 3),
      policy('a', 'server', { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 'p80' }] }] }),
    ];
    expect(keys(both)).toEqual(['a/client -> a/server:80']);
  });

  it('reads namespaceSelector and podSelector in one peer as AND, and a bare podSelector as the policy namespace', () => {
    const ns = (name: string, labels: Record<string, string>): K8sObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    const objs = [
      ns('a', { team: 'x' }),
      ns('b', { team: 'x' }),
      pod('a', 'client'),
      pod('b', 'client'),
      pod('b', 'other'),
      pod('a', 'server', [80]),
      policy('a', 'server', { ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'x' } }, podSelector: { matchLabels: { app: 'client' } } }] }] }),
    ];
    expect(keys(objs)).toEqual(['a/client -> a/server:80', 'b/client -> a/server:80']);
    const sameNamespaceOnly = [...objs.slice(0, 6), policy('a', 'server', { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] })];
    expect(keys(sameNamespaceOnly)).toEqual(['a/client -> a/server:80']);
  });

  it('names address ranges and rules without peers', () => {
    const objs = [
      pod('a', 'edge', [443]),
      policy('a', 'edge', {
        ingress: [{ ports: [{ port: 443 }] }],
        egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 587 }] }],
      }),
    ];
    expect(keys(objs)).toEqual(['a/edge -> internet:587', 'anywhere -> a/edge:443']);
  });
});
