// The platform context: what every chart built after the foundation shares, made once from the
// environment by platform.ts and held by the base chart (lib/chart.ts). Charts read it instead of
// passing the same instance, namespace, priority class, storage and secret-source props along.
import type { Environment, NamespaceKey } from '../environments/schema';
import { NAMESPACES } from '../environments/schema';
import { prefixed } from './names';

/** Names of the two PriorityClasses (created by the foundation chart). */
export interface PriorityClasses {
  /** Databases and caches: pre-empt stateless pods when a node is full. */
  readonly data: string;
  /** Everything else. */
  readonly stateless: string;
}

export interface PlatformContext {
  /** The environment name: the app.kubernetes.io/instance label of every object. */
  readonly instance: string;
  /** Prepended to the names of namespaces and cluster-scoped objects. */
  readonly prefix: string;
  /** Namespace name per concern (created by the foundation chart). */
  readonly namespaces: Readonly<Record<NamespaceKey, string>>;
  readonly priorityClasses: PriorityClasses;
  /** The cluster's StorageClass and VolumeSnapshotClass. */
  readonly storage: { readonly className: string; readonly snapshotClassName: string };
  /** Where Secrets' values come from: the CLI (dev) or External Secrets. */
  readonly secretSource: Environment['secrets'];
  /** The cluster's node and API server addresses, for policies that admit or reach them. */
  readonly network: { readonly nodeCidrs: readonly string[]; readonly apiServerCidrs: readonly string[] };
}

/** The namespace names for an environment prefix: one per concern. */
function namespaceNames(prefix: string): Readonly<Record<NamespaceKey, string>> {
  return Object.fromEntries(NAMESPACES.map((key) => [key, prefixed(prefix, key)])) as Record<NamespaceKey, string>;
}

/** The PriorityClass names for an environment prefix. */
function priorityClassNames(prefix: string): PriorityClasses {
  return { data: prefixed(prefix, 'platform-data'), stateless: prefixed(prefix, 'platform-stateless') };
}

/** The context of one environment. */
export function platformContext(env: Environment): PlatformContext {
  return {
    instance: env.name,
    prefix: env.namespacePrefix,
    namespaces: namespaceNames(env.namespacePrefix),
    priorityClasses: priorityClassNames(env.namespacePrefix),
    storage: { className: env.storage.className, snapshotClassName: env.storage.snapshotClassName },
    secretSource: env.secrets,
    network: { nodeCidrs: env.network.nodeCidrs, apiServerCidrs: env.network.apiServerCidrs },
  };
}
