// The fields of an environment, each checked on its own; environments/schema.ts adds the checks
// that span several of them. The budget and capacity checks read an environment by this type,
// so they need not import the schema that runs them (which would make an import cycle).
import { z } from 'zod';
import { AppConfig } from './app';
import { BackupConfig } from './backup';
import { Cidr, Cpu, Memory, num, ResourceAmounts, Storage, wholeNumber } from './fields';
import { crossField } from './follow-on';
import { PostgresConfig, RedisConfig } from './data-tier';
import { GatewayConfig } from './gateway';
import { GitopsConfig } from './gitops';
import { LoadtestConfig } from './loadtest';
import { ENVIRONMENT_NAMES } from './names';
import { ObservabilityConfig } from './observability';
import { SupabaseConfig } from './supabase';

/** RFC 1918 private address ranges. */
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Per-namespace ResourceQuota; the sum of the namespace's components must fit inside it. */
const Quota = z.strictObject({
  requests: z.strictObject({ cpu: Cpu, memory: Memory, storage: Storage }),
  limits: z.strictObject({ cpu: Cpu, memory: Memory }),
  pods: wholeNumber('pods', 1),
  persistentVolumeClaims: wholeNumber('claims', 0),
  /** LoadBalancer Services allowed (the gateway's edge). */
  loadBalancers: wholeNumber('LoadBalancer Services', 0),
});

/**
 * Per-namespace LimitRange: the defaults a container gets if a chart forgot to set resources
 * (the policy tests make sure none does) and the largest container allowed.
 */
const LimitRange = z
  .strictObject({
    defaultRequest: ResourceAmounts,
    defaultLimit: ResourceAmounts,
    max: z.strictObject({ cpu: Cpu, memory: Memory }),
  })
  .superRefine(
    crossField((l, ctx) => {
      for (const key of ['cpu', 'memory', 'ephemeralStorage'] as const) {
        if (num(l.defaultLimit[key]) < num(l.defaultRequest[key])) {
          ctx.addIssue({
            code: 'custom',
            path: ['defaultLimit', key],
            message: `${l.defaultLimit[key]} is below defaultRequest.${key} ${l.defaultRequest[key]}: raise the default limit`,
          });
        }
      }
      for (const key of ['cpu', 'memory'] as const) {
        if (num(l.defaultLimit[key]) > num(l.max[key])) {
          ctx.addIssue({
            code: 'custom',
            path: ['defaultLimit', key],
            message: `${l.defaultLimit[key]} is above max.${key} ${l.max[key]}: the API server would reject every defaulted pod`,
          });
        }
      }
    }),
  );

const NamespaceConfig = z.strictObject({ quota: Quota, limitRange: LimitRange });

/** Where the platform's secrets come from. No secret value is ever part of the manifests. */
const Secrets = z.discriminatedUnion(
  'source',
  [
    /** Secrets created in the cluster by `cli secrets` (dev only). */
    z.strictObject({ source: z.literal('cli') }),
    /** External Secrets Operator syncs them from a secret manager through a (Cluster)SecretStore. */
    z.strictObject({
      source: z.literal('external-secrets'),
      storeKind: z.enum(['ClusterSecretStore', 'SecretStore']),
      storeName: z.string().regex(DNS_SUBDOMAIN, { error: 'must be a Kubernetes object name (lowercase, digits, "-", ".")' }),
      /** Prefix of every remote key, e.g. "production/supabase". */
      keyPrefix: z.string().min(1, { error: 'must name the folder of this environment in the secret manager' }),
      refreshInterval: z.string().regex(/^\d+(s|m|h)$/, { error: 'must be a duration such as "1h" or "15m"' }),
    }),
  ],
  { error: 'must have source "cli" (dev) or "external-secrets"' },
);

export const EnvironmentShape = z.strictObject({
  name: z.enum(ENVIRONMENT_NAMES, { error: `must be one of ${ENVIRONMENT_NAMES.join(', ')}` }),
  /** Prepended to every namespace and cluster-scoped name, so several environments can share a cluster. */
  namespacePrefix: z
    .string()
    .max(20, { error: 'must be at most 20 characters' })
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?-)?$/, {
      error: 'must be empty or lowercase letters, digits and "-" ending in "-", such as "team-a-"',
    }),
  /** Public DNS domain of the gateway; required outside dev. */
  domain: z.string().regex(DNS_SUBDOMAIN, { error: 'must be a DNS name such as "api.example.com"' }).optional(),
  storage: z.strictObject({
    className: z.string().regex(DNS_SUBDOMAIN, { error: 'must name a StorageClass of the cluster' }),
    snapshotClassName: z.string().regex(DNS_SUBDOMAIN, { error: 'must name a VolumeSnapshotClass of the cluster' }),
    sizes: z.strictObject({ postgres: Storage, redis: Storage }),
  }),
  secrets: Secrets,
  namespaces: z.strictObject({ supabase: NamespaceConfig, app: NamespaceConfig, observability: NamespaceConfig, 'node-exporter': NamespaceConfig }),
  /** The most nodes the cluster scales to: every DaemonSet runs one pod on each (quota budgets). */
  nodes: wholeNumber('nodes', 1),
  network: z
    .strictObject({
      /** Addresses of the nodes: Prometheus scrapes the kubelet and node-exporter there. @default the private ranges */
      nodeCidrs: z.array(Cidr).min(1).default(PRIVATE_RANGES),
      /** Addresses of the Kubernetes API server, for the workloads that watch it. @default the private ranges */
      apiServerCidrs: z.array(Cidr).min(1).default(PRIVATE_RANGES),
      /** Addresses of the pods: no range here may ever be trusted for a client's address. @default the private ranges */
      podCidrs: z.array(Cidr).min(1).default(PRIVATE_RANGES),
    })
    .prefault({}),
  supabase: SupabaseConfig,
  gateway: GatewayConfig,
  /** The product: api, worker, scheduler, their images and the canary. */
  app: AppConfig,
  /** Monitoring, logs and traces. */
  observability: ObservabilityConfig,
  /** Backups of the data tier. */
  backup: BackupConfig,
  gitops: GitopsConfig,
  /**
   * The operators the platform runs under and where they live: CloudNativePG calls the database
   * instances (NetworkPolicy), cert-manager keeps the database CA. @default cnpg-system, cert-manager
   */
  operators: z
    .strictObject({
      cnpgNamespace: z.string().regex(DNS_SUBDOMAIN, { error: 'must be a namespace name' }).default('cnpg-system'),
      certManagerNamespace: z.string().regex(DNS_SUBDOMAIN, { error: 'must be a namespace name' }).default('cert-manager'),
    })
    .default({ cnpgNamespace: 'cnpg-system', certManagerNamespace: 'cert-manager' }),
  /** The load tests: users, durations and pass limits of each script, and the k6 pod's size. */
  loadtest: LoadtestConfig,
  components: z.strictObject({ postgres: PostgresConfig, redis: RedisConfig }),
});

/** An environment as parsed, with its defaults filled in. */
export type Environment = z.infer<typeof EnvironmentShape>;
