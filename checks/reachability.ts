// Who can open which port on whom, computed from NetworkPolicy objects with the Kubernetes
// semantics (https://kubernetes.io/docs/concepts/services-networking/network-policies/): a pod
// selected by no policy of a type is open in that
// direction; policies add up; a connection needs the source's egress AND the destination's
// ingress to allow it; namespaceSelector and podSelector in one peer both have to match; an
// ipBlock peer stands for addresses outside the cluster. Used by the reachability test (over the
// synthesised policies) and by `npm run docs` (over the declarations that generate them).
// Cluster DNS (every pod to kube-dns on 53) is left out: the namespace baseline grants it alike.
import { parse } from 'yaml';
import type { FlowDeclaration } from '../lib/network';

/** A label selector as NetworkPolicies carry it. */
export interface Selector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

export interface PolicyPeer {
  readonly podSelector?: Selector;
  readonly namespaceSelector?: Selector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

export interface PolicyPort {
  readonly port?: number | string;
  readonly protocol?: string;
}

export interface PolicyRule {
  readonly ports?: readonly PolicyPort[];
  readonly peers?: readonly PolicyPeer[];
}

/** One NetworkPolicy (or one workload's declaration) in a form independent of direction names. */
export interface Policy {
  readonly namespace: string;
  readonly podSelector: Selector;
  readonly policyTypes: readonly ('Ingress' | 'Egress')[];
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

/** A pod-bearing object: its namespace, name, pod labels and the ports its containers declare. */
export interface Workload {
  readonly namespace: string;
  readonly name: string;
  readonly kind: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly port: number; readonly name?: string; readonly protocol: string }[];
}

/** One allowed connection: "namespace/name" or an address range, to a port. */
export interface Flow {
  readonly from: string;
  readonly to: string;
  readonly port: string;
}

export const workloadId = (w: Pick<Workload, 'namespace' | 'name'>) => `${w.namespace}/${w.name}`;

/** The internet as the platform's policies name it: everything but the private ranges and the metadata address. */
export const INTERNET_NAME = 'internet';

/** A rule without peers: any source or destination, the internet included. */
export const ANYWHERE = 'anywhere';

const describeSelector = (s: Selector) =>
  `{${Object.entries(s.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`;

/** How an address range shows in the matrix. */
export function addressName(block: NonNullable<PolicyPeer['ipBlock']>): string {
  return block.cidr === '0.0.0.0/0' ? INTERNET_NAME : block.cidr;
}

export function matches(selector: Selector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    const ok = { In: inValues, NotIn: !inValues, Exists: has, DoesNotExist: !has }[e.operator];
    if (ok === undefined) throw new Error(`selector operator ${e.operator} is not understood`);
    if (!ok) return false;
  }
  return true;
}

/** Whether `peer` (in a policy of `policyNamespace`) stands for pods of `w`. */
function peerSelects(peer: PolicyPeer, policyNamespace: string, w: Workload, namespaceLabels: (ns: string) => Record<string, string>): boolean {
  if (peer.ipBlock) return false;
  const inNamespace = peer.namespaceSelector ? matches(peer.namespaceSelector, namespaceLabels(w.namespace)) : w.namespace === policyNamespace;
  return inNamespace && matches(peer.podSelector, w.labels);
}

function portMatches(ports: readonly PolicyPort[] | undefined, port: Workload['ports'][number]): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some(
    (p) => (p.protocol ?? 'TCP') === port.protocol && (p.port === undefined || p.port === port.port || (port.name !== undefined && p.port === port.name)),
  );
}

/** Everything about one environment the evaluation needs. */
export interface Network {
  readonly workloads: readonly Workload[];
  /** Labels of each namespace; `kubernetes.io/metadata.name` is added for every namespace. */
  readonly namespaceLabels: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * Every flow between the workloads, and between workloads and address ranges, that `policiesOf`
 * allows. `policiesOf(w, direction)` returns the policies that apply to `w` in that direction
 * (all the namespace's policies that select it, or only its own declaration); an empty list
 * means `w` is not isolated in that direction.
 */
export function flows(net: Network, policiesOf: (w: Workload, direction: 'Ingress' | 'Egress') => readonly Policy[]): Flow[] {
  const nsLabels = (ns: string) => ({ ...(net.namespaceLabels[ns] ?? {}), 'kubernetes.io/metadata.name': ns });
  const out = new Map<string, Flow>();
  const add = (f: Flow) => out.set(`${f.from}|${f.to}|${f.port}`, f);
  const rulesOf = (w: Workload, direction: 'Ingress' | 'Egress') => {
    const policies = policiesOf(w, direction);
    if (policies.length === 0) return undefined;
    return policies.flatMap((p) => (direction === 'Ingress' ? p.ingress : p.egress).map((r) => ({ rule: r, namespace: p.namespace })));
  };
  const allows = (rules: ReturnType<typeof rulesOf>, peer: Workload, port: Workload['ports'][number]) =>
    rules === undefined ||
    rules.some(
      ({ rule, namespace }) =>
        (rule.peers === undefined || rule.peers.length === 0 || rule.peers.some((p) => peerSelects(p, namespace, peer, nsLabels))) &&
        portMatches(rule.ports, port),
    );

  for (const source of net.workloads) {
    const egress = rulesOf(source, 'Egress');
    // A workload's own pods talking to each other (Alertmanager's gossip) count too.
    for (const target of net.workloads) {
      const ingress = rulesOf(target, 'Ingress');
      for (const port of target.ports) {
        if (allows(egress, target, port) && allows(ingress, source, port)) add({ from: workloadId(source), to: workloadId(target), port: portName(port) });
      }
    }
    // Peers that are not workloads of the platform: address ranges, other namespaces' pods, anyone.
    for (const { rule, namespace } of egress ?? []) {
      for (const other of outsidePeers(rule, namespace))
        for (const port of rule.ports ?? [{}]) add({ from: workloadId(source), to: other, port: portName(port) });
    }
    const ingress = rulesOf(source, 'Ingress');
    for (const { rule, namespace } of ingress ?? []) {
      for (const other of outsidePeers(rule, namespace)) {
        for (const port of source.ports.filter((p) => portMatches(rule.ports, p))) add({ from: other, to: workloadId(source), port: portName(port) });
      }
    }
  }
  /** The peers of a rule that stand for nothing among the workloads, by name. */
  function outsidePeers(rule: PolicyRule, namespace: string): string[] {
    if (!rule.peers || rule.peers.length === 0) return [ANYWHERE];
    return rule.peers.flatMap((peer) => {
      if (peer.ipBlock) return [addressName(peer.ipBlock)];
      if (net.workloads.some((w) => peerSelects(peer, namespace, w, nsLabels))) return [];
      const ns = peer.namespaceSelector
        ? (peer.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name'] ?? describeSelector(peer.namespaceSelector))
        : namespace;
      const pods = peer.podSelector ? (peer.podSelector.matchLabels?.['app.kubernetes.io/name'] ?? describeSelector(peer.podSelector)) : '*';
      return [`${ns}/${pods}`];
    });
  }
  return [...out.values()].sort(compareFlows);
}

function portName(p: { port?: number | string; protocol?: string }): string {
  if (p.port === undefined) return 'any';
  return (p.protocol ?? 'TCP') === 'TCP' ? String(p.port) : `${p.port}/${p.protocol}`;
}

export function compareFlows(a: Flow, b: Flow): number {
  return a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.port.localeCompare(b.port, undefined, { numeric: true });
}

export const flowKey = (f: Flow) => `${f.from} -> ${f.to}:${f.port}`;

/** The NetworkPolicy objects of a manifest set, in the direction-neutral form. */
export function policiesFrom(objects: readonly { kind: string; metadata: { namespace?: string }; spec?: unknown }[]): Policy[] {
  return objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => {
      const spec = o.spec as {
        podSelector: Selector;
        policyTypes?: ('Ingress' | 'Egress')[];
        ingress?: { from?: PolicyPeer[]; ports?: PolicyPort[] }[];
        egress?: { to?: PolicyPeer[]; ports?: PolicyPort[] }[];
      };
      return {
        namespace: o.metadata.namespace!,
        podSelector: spec.podSelector,
        // Without policyTypes: Ingress always, Egress when it has egress rules.
        policyTypes: spec.policyTypes ?? ['Ingress', ...(spec.egress ? (['Egress'] as const) : [])],
        ingress: (spec.ingress ?? []).map((r) => ({ ports: r.ports, peers: r.from })),
        egress: (spec.egress ?? []).map((r) => ({ ports: r.ports, peers: r.to })),
      };
    });
}

/** The policies of `all` that apply to `w` in `direction`. */
export function applying(all: readonly Policy[], w: Workload, direction: 'Ingress' | 'Egress'): Policy[] {
  return all.filter((p) => p.namespace === w.namespace && p.policyTypes.includes(direction) && matches(p.podSelector, w.labels));
}

interface PodTemplateHolder {
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
}

/**
 * The pods CloudNativePG makes for its objects, as it labels them (cloudnative-pg v1.30.0
 * pkg/specs/pods.go and pkg/specs/pgbouncer/deployments.go; docs/reference/cloudnativepg.md): a
 * Cluster's instances carry its inheritedMetadata labels and the operator's own; a Pooler's pods
 * carry its template's labels with name, instance, component and managed-by overwritten.
 */
function operatorWorkloads(o: PodTemplateHolder): Workload[] {
  const apiVersion = (o as { apiVersion?: string }).apiVersion;
  if (apiVersion !== 'postgresql.cnpg.io/v1' || (o.kind !== 'Cluster' && o.kind !== 'Pooler')) return [];
  const spec = (o.spec ?? {}) as {
    inheritedMetadata?: { labels?: Record<string, string> };
    cluster?: { name: string };
    template?: { metadata?: { labels?: Record<string, string> } };
  };
  const name = o.metadata.name!;
  if (o.kind === 'Cluster') {
    return [
      {
        namespace: o.metadata.namespace!,
        name,
        kind: o.kind,
        labels: { ...spec.inheritedMetadata?.labels, 'cnpg.io/cluster': name, 'cnpg.io/podRole': 'instance' },
        ports: [
          { port: 5432, name: 'postgresql', protocol: 'TCP' },
          { port: 9187, name: 'metrics', protocol: 'TCP' },
          { port: 8000, name: 'status', protocol: 'TCP' },
        ],
      },
    ];
  }
  const labels = {
    ...spec.template?.metadata?.labels,
    'app.kubernetes.io/name': 'postgresql',
    'app.kubernetes.io/instance': spec.cluster?.name ?? '',
    'app.kubernetes.io/component': 'pooler',
    'app.kubernetes.io/managed-by': 'cloudnative-pg',
    'cnpg.io/poolerName': name,
    'cnpg.io/cluster': spec.cluster?.name ?? '',
    'cnpg.io/podRole': 'pooler',
  };
  return [
    {
      namespace: o.metadata.namespace!,
      name,
      kind: o.kind,
      labels,
      ports: [
        { port: 5432, name: 'pgbouncer', protocol: 'TCP' },
        { port: 9127, name: 'metrics', protocol: 'TCP' },
      ],
    },
  ];
}

/** The pod-bearing objects (Deployments, StatefulSets, DaemonSets, Rollouts, Jobs, CronJobs, CloudNativePG Clusters and Poolers) of a manifest set. */
export function workloadsFrom(objects: readonly PodTemplateHolder[]): Workload[] {
  type Template = {
    metadata?: { labels?: Record<string, string> };
    spec: { containers: { ports?: { containerPort: number; name?: string; protocol?: string }[] }[] };
  };
  const templateOf = (o: PodTemplateHolder): Template | undefined => {
    const spec = o.spec as { template?: Template; jobTemplate?: { spec: { template: Template } } } | undefined;
    if (['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout', 'Job'].includes(o.kind)) return spec?.template;
    if (o.kind === 'CronJob') return spec?.jobTemplate?.spec.template;
    return undefined;
  };
  return objects.flatMap((o) => {
    const operated = operatorWorkloads(o);
    if (operated.length) return operated;
    // A Cluster a workload creates at run time from a manifest it is shipped (the restore drill's
    // scratch Cluster) runs pods too.
    if (o.kind === 'ConfigMap') {
      const data = Object.values((o as { data?: Record<string, string> }).data ?? {});
      return data.filter((text) => /^kind: Cluster$/m.test(text)).flatMap((text) => operatorWorkloads(parse(text) as PodTemplateHolder));
    }
    const t = templateOf(o);
    if (!t) return [];
    return [
      {
        namespace: o.metadata.namespace!,
        name: o.metadata.name!,
        kind: o.kind,
        labels: t.metadata?.labels ?? {},
        ports: t.spec.containers.flatMap((c) =>
          (c.ports ?? []).map((p) => ({ port: p.containerPort, ...(p.name ? { name: p.name } : {}), protocol: p.protocol ?? 'TCP' })),
        ),
      },
    ];
  });
}

type ManifestObject = PodTemplateHolder & { apiVersion?: string };

function networkOf(objects: readonly ManifestObject[]): Network {
  const namespaceLabels = Object.fromEntries(objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name!, o.metadata.labels ?? {}]));
  return { workloads: workloadsFrom(objects), namespaceLabels };
}

/** What the synthesised NetworkPolicies allow, all of them together. */
export function effectiveFlows(objects: readonly ManifestObject[]): Flow[] {
  const policies = policiesFrom(objects);
  return flows(networkOf(objects), (w, direction) => applying(policies, w, direction));
}

/**
 * What the workloads declared (lib/network.ts workloadNetworkPolicy): a flow is intended when the
 * source declares the call and the destination declares that it admits it, each in its own
 * declaration, whatever policies were generated from them.
 */
export function intendedFlows(objects: readonly ManifestObject[], declarations: readonly FlowDeclaration[]): Flow[] {
  const byWorkload = new Map(declarations.map((d) => [`${d.namespace}/${d.workload}`, d]));
  return flows(networkOf(objects), (w) => {
    const d = byWorkload.get(workloadId(w));
    if (!d) throw new Error(`${workloadId(w)} (${w.kind}) declares no network flows: give it a workloadNetworkPolicy`);
    return [{ namespace: d.namespace, podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: d.ingress, egress: d.egress }];
  });
}
