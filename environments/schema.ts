// The environment model: everything that differs between dev, staging and production, parsed
// with zod so that a bad value stops synth with one message naming the field and the fix.
// Charts never read an environment name; they get these values as props. The fields are in
// environments/shape.ts; this module adds the checks that span several of them.
import type { z } from 'zod';
import { checkDigests } from './app';
import { checkBackupRoom } from './backup';
import { num } from './fields';
import { checkConnections } from './capacity';
import { checkBudgets } from './budget';
import type { ClientAddress } from './gateway';
import { cidrsOverlap } from '../lib/cidr';
import { WAL_SIZES, WAL_VOLUME_ROOM } from '../lib/facts/postgres-sizing';
import { checkLoadtestUsers } from './loadtest';
import { NAMESPACES } from './names';
import { checkSloWindows } from './slos';
import { followOn } from './follow-on';
import { EnvironmentShape } from './shape';

export { ENVIRONMENT_NAMES, type EnvironmentName, NAMESPACES, type NamespaceKey } from './names';

export const EnvironmentSchema = EnvironmentShape.superRefine((env, ctx) => {
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
      ctx.addIssue({
        code: 'custom',
        path: ['gateway', 'tls', 'issuer'],
        message: 'production must use "letsencrypt-production": browsers do not trust the staging CA',
      });
    }
  });
  check((e) => {
    if (e.name !== 'dev' && e.gateway.adminCidrs.some((c) => c === '0.0.0.0/0' || c === '::/0')) {
      ctx.addIssue({
        code: 'custom',
        path: ['gateway', 'adminCidrs'],
        message: `must not open the admin routes to the whole internet in ${e.name}: list the VPN or office ranges`,
      });
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
      if (n > e.nodes)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${n} instances need ${n} nodes, one each, but nodes is ${e.nodes}: raise nodes or run fewer instances`,
        });
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
      ctx.addIssue({
        code: 'custom',
        path: ['gateway', 'corsOrigins', i],
        message: `"*" lets every web site call the ${env.name} API from a browser: list the product's origins, such as "https://app.example.com"`,
      });
    } else if (origin.startsWith('http://')) {
      ctx.addIssue({
        code: 'custom',
        path: ['gateway', 'corsOrigins', i],
        message: `"${origin}" is plain http, which anyone on the network can impersonate: use the https:// origin in ${env.name}`,
      });
    }
  });
}

export type Environment = z.infer<typeof EnvironmentSchema>;

/** A load balancer range Kong believes must not hold a pod or a node: those could forge the PROXY header. */
function checkClientAddress(
  env: { gateway: { clientAddress: ClientAddress }; network: { podCidrs: string[]; nodeCidrs: string[] } },
  ctx: z.RefinementCtx,
): void {
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
 * WAL has a volume of its own on every instance: up to max_wal_size between checkpoints (the
 * profile's WAL_SIZES, as the Cluster's parameters render them), plus what replication slots and
 * a stalled archive may hold back (a fifth of the volume, max_slot_wal_keep_size). Require
 * WAL_VOLUME_ROOM x max_wal_size.
 */
function checkWalRoom(env: Environment, ctx: z.RefinementCtx): void {
  const pg = env.components.postgres;
  const maxWal = WAL_SIZES[pg.tuning.profile].max;
  if (num(pg.walVolumeSize) < WAL_VOLUME_ROOM * maxWal) {
    ctx.addIssue({
      code: 'custom',
      path: ['components', 'postgres', 'walVolumeSize'],
      message: `${pg.walVolumeSize} leaves too little room for WAL with the ${pg.tuning.profile} profile (max_wal_size ${maxWal / 2 ** 30}GB): give the volume at least ${Math.ceil((WAL_VOLUME_ROOM * maxWal) / 2 ** 30)}Gi`,
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
    typeof input === 'object' && input !== null && typeof (input as { name?: unknown }).name === 'string' ? (input as { name: string }).name : '(unnamed)';
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
    const message = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}: remove them or fix the spelling` : issue.message;
    return `  - ${path}: ${message}`;
  });
  throw new EnvironmentError(`Environment "${label}" is invalid:\n${lines.join('\n')}`);
}
