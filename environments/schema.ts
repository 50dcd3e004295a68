// The environment model: everything that differs between dev, staging and production, parsed
// with zod so that a bad value stops synth with one message naming the field and the fix.
// Charts never read an environment name; they get these values as props.
import { z } from 'zod';
import { AppConfig, checkDigests } from './app';
import { BackupConfig, checkBackupRoom } from './backup';
import { Cidr, Cpu, Memory, num, ResourceAmounts, Storage, wholeNumber } from './fields';
import { checkConnections } from './capacity';
import { checkBudgets } from './budget';
import { PostgresConfig, RedisConfig } from './data-tier';
import { type ClientAddress, GatewayConfig } from './gateway';
import { cidrsOverlap } from '../lib/cidr';
import { GitopsConfig } from './gitops';
import { checkLoadtestUsers, LoadtestConfig } from './loadtest';
import { ENVIRONMENT_NAMES } from './names';
import { ObservabilityConfig } from './observability';
import { checkSloWindows } from './slos';
import { crossField, followOn } from './follow-on';
import { SupabaseConfig } from './supabase';
import { maxWalSizeBytes } from '../charts/postgres/tuning';

export { ENVIRONMENT_NAMES, type EnvironmentName } from './names';

/**
 * The namespaces the platform owns, by concern (docs/architecture.md). node-exporter
 * has one of its own: it is the only workload that needs the host, and the only namespace
 * whose Pod Security level is not "restricted".
 */
export const NAMESPACES = ['supabase', 'app', 'observability', 'node-exporter'] as const;
export type NamespaceKey = (typeof NAMESPACES)[number];

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
  .superRefine(crossField((l, ctx) => {
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
  }));

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

export const EnvironmentSchema = z
  .strictObject({
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
  })
  .superRefine((env, ctx) => {
    // Each check runs through followOn: one that reads a field which already failed reports nothing.
    const check = (run: (e: typeof env) => void) => followOn(ctx, env, run);
    check((e) => {
      if (e.name !== 'dev' && !e.domain) {
        ctx.addIssue({
          code: 'custom',
          path: ['domain'],
          message: `is required for ${e.name}: set the public DNS name the gateway serves, such as "api.example.com"`,
        });
      }
    });
    check((e) => {
      if (e.name !== 'dev' && e.gateway.tls.issuer === 'self-signed') {
        ctx.addIssue({ code: 'custom', path: ['gateway', 'tls', 'issuer'], message: `"self-signed" is for dev only: ${e.name} needs a Let's Encrypt issuer` });
      } else if (e.name === 'production' && e.gateway.tls.issuer !== 'letsencrypt-production') {
        ctx.addIssue({ code: 'custom', path: ['gateway', 'tls', 'issuer'], message: 'production must use "letsencrypt-production": browsers do not trust the staging CA' });
      }
    });
    check((e) => {
      if (e.name !== 'dev' && e.gateway.adminCidrs.some((c) => c === '0.0.0.0/0' || c === '::/0')) {
        ctx.addIssue({ code: 'custom', path: ['gateway', 'adminCidrs'], message: `must not open the admin routes to the whole internet in ${e.name}: list the VPN or office ranges` });
      }
    });
    check((e) => checkCorsOrigins(e, ctx));
    check((e) => {
      if (e.name !== 'dev' && e.secrets.source === 'cli') {
        ctx.addIssue({
          code: 'custom',
          path: ['secrets', 'source'],
          message: `"cli" is for dev only: ${e.name} must use "external-secrets" so secrets come from a secret manager`,
        });
      }
    });
    const copies = [
      { path: ['components', 'postgres', 'instances'], count: (e: typeof env) => e.components.postgres.instances },
      { path: ['components', 'redis', 'replicas'], count: (e: typeof env) => e.components.redis.replicas },
      { path: ['observability', 'prometheus', 'replicas'], count: (e: typeof env) => e.observability.prometheus.replicas },
    ];
    for (const { path, count } of copies) {
      // Each instance holds a copy of the data on a node of its own (required anti-affinity).
      check((e) => {
        const n = count(e);
        if (n > e.nodes) ctx.addIssue({ code: 'custom', path, message: `${n} instances need ${n} nodes, one each, but nodes is ${e.nodes}: raise nodes or run fewer instances` });
      });
    }
    check((e) => checkClientAddress(e, ctx));
    check((e) => checkDigests(e, ctx));
    check((e) => checkBackupRoom(e, ctx));
    for (const namespace of NAMESPACES) check((e) => checkBudgets(e, [namespace], ctx));
    check((e) => checkWalRoom(e, ctx));
    check((e) => checkLoadtestUsers(e, ctx));
    check((e) => checkConnections(e, ctx));
    check((e) => checkSloWindows(e.observability, ctx));
  });

/**
 * Outside dev, browsers may call the API only from named https origins: "*" would let any site
 * call it with the user's credentials, and an http:// origin can be impersonated on the network.
 */
function checkCorsOrigins(env: { name: string; gateway: { corsOrigins: string[] } }, ctx: z.RefinementCtx): void {
  if (env.name === 'dev') return;
  env.gateway.corsOrigins.forEach((origin, i) => {
    if (origin === '*') {
      ctx.addIssue({ code: 'custom', path: ['gateway', 'corsOrigins', i], message: `"*" lets every web site call the ${env.name} API from a browser: list the product's origins, such as "https://app.example.com"` });
    } else if (origin.startsWith('http://')) {
      ctx.addIssue({ code: 'custom', path: ['gateway', 'corsOrigins', i], message: `"${origin}" is plain http, which anyone on the network can impersonate: use the https:// origin in ${env.name}` });
    }
  });
}

export type Environment = z.infer<typeof EnvironmentSchema>;

/** A load balancer range Kong believes must not hold a pod or a node: those could forge the PROXY header. */
function checkClientAddress(env: { gateway: { clientAddress: ClientAddress }; network: { podCidrs: string[]; nodeCidrs: string[] } }, ctx: z.RefinementCtx): void {
  const address = env.gateway.clientAddress;
  if (address.mode !== 'proxy-protocol') return;
  address.loadBalancerCidrs.forEach((cidr, i) => {
    const clash = [...env.network.podCidrs.map((c) => ['pod', c]), ...env.network.nodeCidrs.map((c) => ['node', c])].find(([, c]) => cidrsOverlap(cidr, c!));
    if (clash) {
      ctx.addIssue({
        code: 'custom',
        path: ['gateway', 'clientAddress', 'loadBalancerCidrs', i],
        message: `${cidr} overlaps the ${clash[0]} range ${clash[1]}: a pod or node there could forge any client's address. List only the load balancer's own addresses, and set network.${clash[0]}Cidrs to the cluster's real ranges`,
      });
    }
  });
}
export type EnvironmentInput = z.input<typeof EnvironmentSchema>;

/**
 * WAL has a volume of its own on every instance: up to max_wal_size between checkpoints (4GB web,
 * 8GB oltp), plus what replication slots and a stalled archive may hold back (a fifth of the
 * volume, max_slot_wal_keep_size). Require 2.5 x max_wal_size.
 */
function checkWalRoom(env: Environment, ctx: z.RefinementCtx): void {
  const pg = env.components.postgres;
  const maxWal = maxWalSizeBytes(pg.tuning.profile);
  if (num(pg.walVolumeSize) < 2.5 * maxWal) {
    ctx.addIssue({
      code: 'custom',
      path: ['components', 'postgres', 'walVolumeSize'],
      message: `${pg.walVolumeSize} leaves too little room for WAL with the ${pg.tuning.profile} profile (max_wal_size ${maxWal / 2 ** 30}GB): give the volume at least ${Math.ceil((2.5 * maxWal) / 2 ** 30)}Gi`,
    });
  }
}

/** A bad environment: the message lists every problem with its field path and the fix. */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

/** Parses and checks one environment; throws EnvironmentError naming each bad field. */
export function parseEnvironment(input: unknown): Environment {
  const result = EnvironmentSchema.safeParse(input);
  if (result.success) return result.data;
  const label =
    typeof input === 'object' && input !== null && typeof (input as { name?: unknown }).name === 'string'
      ? (input as { name: string }).name
      : '(unnamed)';
  // One message per field: a value that fails several checks (a pattern, then a range) is
  // reported by the first, and a container counted twice (the restore drill runs PostgreSQL's)
  // once.
  const seen = new Set<string>();
  const issues = result.error.issues.filter((issue) => {
    const key = JSON.stringify(issue.path.map(String));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const lines = issues.map((issue) => {
    const path = issue.path.map(String).join('.') || '(top level)';
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.join(', ')}: remove them or fix the spelling`
        : issue.message;
    return `  - ${path}: ${message}`;
  });
  throw new EnvironmentError(`Environment "${label}" is invalid:\n${lines.join('\n')}`);
}
