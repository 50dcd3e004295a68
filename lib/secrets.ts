// Secrets by reference. A chart declares the Secret it reads (name and keys, how each key is
// generated); where the values come from is the environment's choice: in dev the operator CLI
// creates the Secret in the cluster, in staging and production an External Secrets
// `ExternalSecret` syncs it from the secret manager. No value is ever part of the manifests.
import { type ApiObjectMetadata, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../environments/schema';
import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
  ExternalSecretSpecTargetDeletionPolicy,
  ExternalSecretSpecTargetTemplateMergePolicy,
} from '../imports/externalsecret-external-secrets.io';

/** How a key's value is made when the CLI generates it (dev) or an operator seeds the manager. */
export type Generator =
  /** n random bytes, hex encoded (2n characters). */
  | { readonly kind: 'hex'; readonly bytes: number }
  /** n random bytes, base64 encoded. */
  | { readonly kind: 'base64'; readonly bytes: number }
  /** A fixed, non-secret value (a user name). */
  | { readonly kind: 'text'; readonly value: string }
  /** A Supabase API key: an HS256 JWT for `role`, signed with another key of the same Secret. */
  | { readonly kind: 'jwt'; readonly role: 'anon' | 'service_role'; readonly signingKey: string; readonly subject?: string }
  /** Comes from outside (an SMTP password, S3 keys): the operator supplies it; `hint` says where from. */
  | { readonly kind: 'provided'; readonly hint: string };

export interface SecretKeySpec {
  readonly key: string;
  readonly description: string;
  readonly generate: Generator;
}

export interface SecretSpec {
  /** Name of the Kubernetes Secret, and of the entry in the secret manager under the environment's prefix. */
  readonly name: string;
  readonly namespace: string;
  readonly description: string;
  readonly keys: readonly SecretKeySpec[];
  /**
   * Namespace of the Secret of the same name whose values this one repeats, for a workload in
   * another namespace (a Secret is readable only in its own). External Secrets reads the same
   * remote entry; the CLI copies the values. @default none: the values are this Secret's own
   */
  readonly copyOf?: string;
  /** The Secret's type, for consumers that check it (CloudNativePG's role passwords). @default Opaque */
  readonly type?: 'kubernetes.io/basic-auth';
  /** Labels the Secret itself carries (e.g. cnpg.io/reload, so the operator sees a rotation). @default none */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The same Secret, with only `keys`, for pods in `namespace`. */
export function copySecret(source: SecretSpec, namespace: string, keys: readonly string[]): SecretSpec {
  const picked = source.keys.filter((k) => keys.includes(k.key));
  if (picked.length !== keys.length)
    throw new Error(`internal: ${source.name} has no key(s) ${keys.filter((k) => !picked.some((p) => p.key === k)).join(', ')}`);
  return {
    name: source.name,
    namespace,
    description: `${source.description} (copy for ${namespace}: ${keys.join(', ')})`,
    keys: picked,
    copyOf: source.namespace,
    ...(source.type ? { type: source.type } : {}),
  };
}

/** A key reference for a container's env (valueFrom.secretKeyRef). */
export function secretKeyRef(spec: SecretSpec, key: string): { secretKeyRef: { name: string; key: string } } {
  if (!spec.keys.some((k) => k.key === key)) throw new Error(`internal: Secret ${spec.name} declares no key "${key}"`);
  return { secretKeyRef: { name: spec.name, key } };
}

/**
 * What a chart keeps of the Secrets its workloads read: PlatformChart has it (lib/chart.ts). Stated
 * here rather than imported, since lib/chart.ts imports this module's types: the two would
 * otherwise import each other.
 */
export interface SecretRegistry {
  readonly secretSpecs: SecretSpec[];
}

/**
 * Makes the declared Secret available: an ExternalSecret when the environment uses External
 * Secrets, nothing in the manifests when the CLI creates it (dev). The synced Secret is
 * orphaned and retained: deleting the ExternalSecret must never delete a database's credentials.
 */
export function provideSecret(scope: Construct, id: string, source: Environment['secrets'], spec: SecretSpec, metadata: ApiObjectMetadata): void {
  const chart = Chart.of(scope) as Chart & Partial<SecretRegistry>;
  if (!chart.secretSpecs) throw new Error(`internal: ${scope.node.path} is not inside a PlatformChart`);
  chart.secretSpecs.push(spec);
  if (source.source === 'cli') return;
  new ExternalSecret(scope, id, {
    metadata,
    spec: {
      refreshInterval: source.refreshInterval,
      secretStoreRef: {
        kind:
          source.storeKind === 'ClusterSecretStore'
            ? ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE
            : ExternalSecretSpecSecretStoreRefKind.SECRET_STORE,
        name: source.storeName,
      },
      target: {
        name: spec.name,
        creationPolicy: ExternalSecretSpecTargetCreationPolicy.ORPHAN,
        deletionPolicy: ExternalSecretSpecTargetDeletionPolicy.RETAIN,
        // Type and labels only; the keys still come from `data` below (Merge).
        ...(spec.type || spec.labels
          ? {
              template: {
                mergePolicy: ExternalSecretSpecTargetTemplateMergePolicy.MERGE,
                ...(spec.type ? { type: spec.type } : {}),
                ...(spec.labels ? { metadata: { labels: { ...spec.labels } } } : {}),
              },
            }
          : {}),
      },
      data: spec.keys.map((k) => ({ secretKey: k.key, remoteRef: { key: `${source.keyPrefix}/${spec.name}`, property: k.key } })),
    },
  });
}
