// NetworkPolicy building blocks. Each namespace starts from deny-all with DNS egress allowed;
// every workload then adds its own policy from its declared peers (docs/network.md, docs/security.md).
import type { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';

/** Deny all ingress and egress for every pod of the namespace (R10). */
export function defaultDenyAll(scope: Construct, id: string, metadata: ApiObjectMetadata): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, id, {
    metadata,
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  });
}

/** Let every pod of the namespace resolve names through the cluster DNS in kube-system (R12). */
export function allowDnsEgress(scope: Construct, id: string, metadata: ApiObjectMetadata): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, id, {
    metadata,
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
            { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
          ],
        },
      ],
    },
  });
}

/** Label a client pod carries to be let in by `service`'s NetworkPolicy: { "access.supabase-platform/<service>": "true" }. */
export function accessLabel(service: string): Record<string, string> {
  return { [`access.supabase-platform/${service}`]: 'true' };
}

/** Where a connection may come from (or go to). */
export type Peer = k8s.NetworkPolicyPeer;

/** Pods of this platform instance that carry `accessLabel(service)`, in any of its namespaces. */
export function clientsOf(service: string, instance: string): Peer {
  return {
    namespaceSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'supabase-platform', 'app.kubernetes.io/instance': instance } },
    podSelector: { matchLabels: accessLabel(service) },
  };
}

/**
 * The internet, for SMTP and S3: any address outside the private ranges and the cloud metadata
 * endpoint (docs/network.md; the metadata address hands out node credentials on every major cloud).
 */
export const INTERNET: Peer = { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.169.254/32'] } };

/** Addresses in `cidrs` (the cluster's nodes, or its API server). */
export function addressesIn(cidrs: readonly string[]): Peer[] {
  return cidrs.map((cidr) => ({ ipBlock: { cidr } }));
}

/** Egress to the Kubernetes API server, for workloads that watch it (its port differs by distribution). */
export function toApiServer(cidrs: readonly string[]): PortRule[] {
  return [443, 6443].map((port) => ({ port, peers: addressesIn(cidrs) }));
}

export interface PortRule {
  /** @default every port (only where the peers' own policies narrow it, as for metrics scrapes) */
  readonly port?: number;
  readonly peers: readonly Peer[];
  /** @default TCP */
  readonly protocol?: 'TCP' | 'UDP';
}

/**
 * A workload's own NetworkPolicy: exactly the ingress and egress it declares, on top of the
 * namespace's default deny (R11). No egress rules means it may open no connections (DNS stays
 * allowed by the namespace policy).
 */
export function workloadNetworkPolicy(
  scope: Construct,
  metadata: ApiObjectMetadata,
  props: { selector: Record<string, string>; ingress: readonly PortRule[]; egress: readonly PortRule[] },
): k8s.KubeNetworkPolicy {
  const rule = (r: PortRule) => ({
    ports: r.port === undefined ? undefined : [{ protocol: r.protocol ?? 'TCP', port: k8s.IntOrString.fromNumber(r.port) }],
    peers: [...r.peers],
  });
  const policy = new k8s.KubeNetworkPolicy(scope, 'network-policy', {
    metadata,
    spec: {
      podSelector: { matchLabels: props.selector },
      policyTypes: ['Ingress', 'Egress'],
      ingress: props.ingress.map(rule).map(({ ports, peers }) => ({ ports, from: peers })),
      egress: props.egress.map(rule).map(({ ports, peers }) => ({ ports, to: peers })),
    },
  });
  // The declaration itself, keyed by the workload that made it, for the intended reachability
  // matrix (docs/network.md): the test then checks the policies against it.
  const declaration: FlowDeclaration = {
    namespace: metadata.namespace!,
    workload: metadata.name!,
    ingress: props.ingress.map((r) => ({ ports: portsOf(r), peers: r.peers })),
    egress: props.egress.map((r) => ({ ports: portsOf(r), peers: r.peers })),
  };
  policy.node.addMetadata(FLOW_DECLARATION, declaration);
  return policy;
}

const portsOf = (r: PortRule) => (r.port === undefined ? undefined : [{ port: r.port, protocol: r.protocol ?? 'TCP' }]);

/** Construct metadata type under which `workloadNetworkPolicy` records what a workload declared. */
export const FLOW_DECLARATION = 'supabase-platform/flow-declaration';

/** What one workload declared: whom it admits and whom it calls, on which ports. */
export interface FlowDeclaration {
  readonly namespace: string;
  /** The workload's object name (its Deployment, StatefulSet, Rollout, CronJob, ...). */
  readonly workload: string;
  readonly ingress: readonly { readonly ports?: readonly { port: number; protocol: string }[]; readonly peers: readonly Peer[] }[];
  readonly egress: readonly { readonly ports?: readonly { port: number; protocol: string }[]; readonly peers: readonly Peer[] }[];
}

/** Every declaration made under `root` (an App after the platform was built). */
export function flowDeclarations(root: Construct): FlowDeclaration[] {
  return root.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === FLOW_DECLARATION).map((m) => m.data as FlowDeclaration));
}
