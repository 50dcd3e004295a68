// The database connection budget: every pool that can open a server connection to PostgreSQL,
// at its service's autoscaling maximum plus the rollout surge (lib/facts/rollout.ts), must fit
// in max_connections minus the connections reserved for superusers. The primary carries the Supabase services'
// direct pools and the rw PgBouncer pooler; a standby carries the ro pooler (all of it, when
// the others are away). Synth refuses an environment that does not fit; docs/capacity.md shows
// the table. postgres-meta's and Realtime's tenant connections are upstream defaults (noted).
import type { z } from 'zod';
import { RESERVED_CONNECTIONS } from '../lib/facts/postgres-sizing';
import { podsDuringRollout as surge } from '../lib/facts/rollout';
import { podBudgets } from './budget';
import { num, type Resources } from './fields';
import type { Environment } from './shape';

/** postgres-meta keeps node-postgres' default pool of 10 per process (upstream default). */
export const META_POOL = 10;
/** Realtime's tenant: replication reader, subscription and authorization pools (estimate, whole cluster). */
export const REALTIME_TENANT_CONNECTIONS = 5;
/**
 * Connections of the platform's own operations on the primary: CloudNativePG's instance manager
 * and metrics queries (2), pg_cron's launcher and a running job (2), the restore drill's report
 * (1), the bootstrap Job (1).
 */
const OPERATIONS_CONNECTIONS = 6;

export interface ConnectionUse {
  readonly who: string;
  /** Where the number comes from, for the table. */
  readonly how: string;
  readonly connections: number;
  /** The environment field that changes it. */
  readonly field?: readonly string[];
}

const maxPods = (svc: { replicas: number; autoscaling?: { maxReplicas: number } }) => surge(svc.autoscaling?.maxReplicas ?? svc.replicas);
type PoolerConfig = Environment['components']['postgres']['poolers']['rw'];
const poolerUse = (name: 'rw' | 'ro', p: PoolerConfig): ConnectionUse => ({
  who: `PgBouncer ${name} pooler`,
  how: `${p.defaultPoolSize} × ${surge(p.instances)} pods (max_db_connections each)`,
  connections: p.defaultPoolSize * surge(p.instances),
  field: ['components', 'postgres', 'poolers', name, 'defaultPoolSize'],
});

/** Every client of the primary, at its largest. */
export function connectionUses(env: Environment): ConnectionUse[] {
  const s = env.supabase;
  const pods = maxPods;
  return [
    { who: 'PostgREST', how: `${s.restDbPool} × ${pods(s.rest)} pods`, connections: s.restDbPool * pods(s.rest), field: ['supabase', 'restDbPool'] },
    { who: 'Auth (GoTrue)', how: `${s.authDbPool} × ${pods(s.auth)} pods`, connections: s.authDbPool * pods(s.auth), field: ['supabase', 'authDbPool'] },
    {
      who: 'Storage',
      how: `${s.storageDbPool} × ${pods(s.storage)} pods`,
      connections: s.storageDbPool * pods(s.storage),
      field: ['supabase', 'storageDbPool'],
    },
    {
      who: 'Realtime',
      how: `${s.realtimeDbPool} × ${pods(s.realtime)} pods + ${REALTIME_TENANT_CONNECTIONS} for the tenant (estimate)`,
      connections: s.realtimeDbPool * pods(s.realtime) + REALTIME_TENANT_CONNECTIONS,
      field: ['supabase', 'realtimeDbPool'],
    },
    { who: 'postgres-meta', how: `${META_POOL} (upstream default) × ${pods(s.meta)} pods`, connections: META_POOL * pods(s.meta) },
    poolerUse('rw', env.components.postgres.poolers.rw),
    { who: 'Operations', how: 'instance manager and metrics, pg_cron, restore drill report, bootstrap Job', connections: OPERATIONS_CONNECTIONS },
  ];
}

/** Every client of one standby: the whole ro pooler (when the other standbys are away) and the metrics queries. */
export function standbyConnectionUses(env: Environment): ConnectionUse[] {
  const ro = env.components.postgres.poolers.ro;
  return [...(ro ? [poolerUse('ro', ro)] : []), { who: 'Operations', how: 'instance manager and metrics', connections: 2 }];
}

export interface ConnectionBudget {
  readonly uses: ConnectionUse[];
  readonly total: number;
  readonly available: number;
  readonly max: number;
}

const budgetOf = (env: Environment, uses: ConnectionUse[]): ConnectionBudget => {
  const max = env.components.postgres.tuning.maxConnections;
  return { uses, total: uses.reduce((t, u) => t + u.connections, 0), available: max - RESERVED_CONNECTIONS, max };
};

/** The primary's budget. */
export function connectionBudget(env: Environment): ConnectionBudget {
  return budgetOf(env, connectionUses(env));
}

/** One standby's budget (the same max_connections: a standby must allow as many as the primary). */
export function standbyConnectionBudget(env: Environment): ConnectionBudget {
  return budgetOf(env, standbyConnectionUses(env));
}

/** Adds an issue when the pools at their largest do not fit in max_connections, or the app's clients not in the rw pooler. */
export function checkConnections(env: Environment, ctx: z.RefinementCtx): void {
  const p = poolerClients(env);
  if (p.clients > p.limit) {
    ctx.addIssue({
      code: 'custom',
      path: ['components', 'postgres', 'poolers', 'rw', 'maxClientConnections'],
      message: `${p.perPod} per pod (${p.limit} with one of the ${p.pods} pooler pods lost) is less than the ${p.clients} client connections the app's pods can open at their maximum plus surge (app.databasePoolSize ${env.app.databasePoolSize} each): raise it or lower app.databasePoolSize`,
    });
  }
  for (const [budget, where] of [
    [connectionBudget(env), 'the primary'],
    [standbyConnectionBudget(env), 'a standby'],
  ] as const) {
    if (budget.total <= budget.available) continue;
    const largest = [...budget.uses].sort((x, y) => y.connections - x.connections).filter((u) => u.field)[0]!;
    ctx.addIssue({
      code: 'custom',
      path: ['components', 'postgres', 'tuning', 'maxConnections'],
      message: `${budget.max} (${budget.available} after ${RESERVED_CONNECTIONS} reserved) is less than the ${budget.total} connections the pools of ${where} can open at their autoscaling maximum plus rollout surge (${budget.uses.map((u) => `${u.who} ${u.connections}`).join(', ')}): raise it with the memory limit, or shrink pools, largest first (${largest.field!.join('.')})`,
    });
  }
}

/**
 * The load the production plan is for, and what one pod of each service is planned to carry.
 * Planning figures, not measurements: the k6 load tests (tests/load) measure the real ones, which
 * replace these. Each user keeps one Realtime connection and makes a request every 5 s at peak.
 */
export const LOAD_MODEL = {
  users: 10_000,
  requestsPerUserPerSecond: 0.2,
  /** Share of the requests per service behind Kong. */
  share: { rest: 0.5, api: 0.3, auth: 0.1, storage: 0.1 },
  /** Requests a second one pod serves at its CPU limit (Realtime: connections). */
  perPod: { kong: 1000, rest: 250, api: 100, auth: 100, storage: 100, realtimeConnections: 2000 },
  /** Pods run at most this busy, as the HPAs' CPU target keeps them. */
  utilisation: 0.7,
} as const;

export interface ServicePlan {
  readonly service: string;
  readonly load: string;
  /** Pods the load needs at the planned utilisation. */
  readonly needed: number;
  /** What the environment allows: the HPA maximum (or the fixed replicas). */
  readonly max: number;
  /** Memory limit of one pod. */
  readonly memory: string;
  readonly field: readonly string[];
}

/** For each service in front of the users: the pods the load model needs and the maximum the environment allows. */
export function servicePlan(env: Environment): ServicePlan[] {
  const m = LOAD_MODEL;
  const rps = m.users * m.requestsPerUserPerSecond;
  const pods = (load: number, perPod: number) => Math.ceil(load / (perPod * m.utilisation));
  const max = (svc: { replicas: number; autoscaling?: { maxReplicas: number }; resources: Resources }) => svc.autoscaling?.maxReplicas ?? svc.replicas;
  const row = (service: string, load: number, unit: string, perPod: number, svc: Parameters<typeof max>[0], field: string[]): ServicePlan => ({
    service,
    load: `${Math.round(load).toLocaleString('en-US')} ${unit}`,
    needed: pods(load, perPod),
    max: max(svc),
    memory: svc.resources.limits.memory,
    field,
  });
  const s = env.supabase;
  return [
    row('Kong', rps, 'req/s', m.perPod.kong, env.gateway.kong, ['gateway', 'kong']),
    row('PostgREST', rps * m.share.rest, 'req/s', m.perPod.rest, s.rest, ['supabase', 'rest']),
    row('api', rps * m.share.api, 'req/s', m.perPod.api, env.app.api, ['app', 'api']),
    row('Auth', rps * m.share.auth, 'req/s', m.perPod.auth, s.auth, ['supabase', 'auth']),
    row('Storage', rps * m.share.storage, 'req/s', m.perPod.storage, s.storage, ['supabase', 'storage']),
    row('Realtime', m.users, 'connections', m.perPod.realtimeConnections, s.realtime, ['supabase', 'realtime']),
  ];
}

/**
 * Client connections the product's pods can open to the rw pooler at their largest, against what
 * its pods accept with one of them lost (all of them when there is only one).
 */
export function poolerClients(env: Environment): { clients: number; limit: number; perPod: number; pods: number } {
  const a = env.app;
  const rw = env.components.postgres.poolers.rw;
  const clients = (maxPods(a.api) + maxPods(a.worker) + 1) * a.databasePoolSize;
  const surviving = rw.instances > 1 ? rw.instances - 1 : 1;
  return { clients, limit: rw.maxClientConnections * surviving, perPod: rw.maxClientConnections, pods: rw.instances };
}

/** The node the plan assumes: a general-purpose 16 vCPU, 64 GiB machine, of which 90% is allocatable. */
export const NODE = { name: '16 vCPU, 64 GiB (m6i.4xlarge class)', cpu: 16, memoryGiB: 64, allocatable: 0.9 } as const;

/** Requests of every pod the environment can run at once (budgets: maximum replicas plus surge), and the nodes they need. */
export function nodePlan(env: Environment): { cpu: number; memoryGiB: number; needed: number; max: number } {
  const budgets = podBudgets(env);
  const sum = (pick: (r: Resources) => string) => budgets.reduce((t, b) => t + b.pods * b.containers.reduce((c, x) => c + num(pick(x.resources)), 0), 0);
  const cpu = sum((r) => r.requests.cpu);
  const memoryGiB = sum((r) => r.requests.memory) / 2 ** 30;
  const needed = Math.ceil(Math.max(cpu / (NODE.cpu * NODE.allocatable), memoryGiB / (NODE.memoryGiB * NODE.allocatable)));
  return { cpu, memoryGiB, needed, max: env.nodes };
}
