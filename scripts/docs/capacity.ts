// The capacity and cost pages: connection budget, load model, nodes, and what each environment costs.
import { parse } from 'yaml';
import { environmentInput } from '../../environments';
import { type Environment } from '../../environments/schema';
import { renderEnvironment } from '../../platform';
import { quantity } from '../../lib/quantity';
import { connectionBudget, nodePlan, poolerClients, servicePlan } from '../../environments/capacity';
import { RESERVED_CONNECTIONS } from '../../lib/facts/postgres-sizing';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Every pool that can open a PostgreSQL connection, per environment. */
export function connectionTable(envs: readonly Environment[]): string {
  const budgets = envs.map((e) => connectionBudget(e));
  const whos = budgets[0]!.uses.map((u) => u.who);
  const rows = whos.map(
    (who) =>
      `| ${who} | ${budgets
        .map((b) => {
          const u = b.uses.find((x) => x.who === who)!;
          return `${u.connections} (${u.how})`;
        })
        .join(' | ')} |`,
  );
  return [
    `| pool | ${envs.map((e) => e.name).join(' | ')} |`,
    `| --- | ${envs.map(() => '---').join(' | ')} |`,
    ...rows,
    `| **total** | ${budgets.map((b) => `**${b.total}** of ${b.available} (max_connections ${b.max} − ${RESERVED_CONNECTIONS} reserved)`).join(' | ')} |`,
  ].join('\n');
}

/** The load model against each environment's maximum pods. */
export function serviceTable(envs: readonly Environment[]): string {
  const plans = envs.map((e) => servicePlan(e));
  const rows = plans[0]!.map(
    (row, i) =>
      `| ${row.service} | ${row.load} | ${row.needed} | ${plans.map((p) => `${p[i]!.max}${p[i]!.max >= row.needed ? '' : ' (below)'} × ${p[i]!.memory}`).join(' | ')} |`,
  );
  return [
    `| service | load | pods needed | ${envs.map((e) => `${e.name}: max pods × memory limit`).join(' | ')} |`,
    `| --- | --- | --- | ${envs.map(() => '---').join(' | ')} |`,
    ...rows,
  ].join('\n');
}

export function nodeTable(envs: readonly Environment[]): string {
  const rows = envs.map((e) => {
    const n = nodePlan(e);
    const p = poolerClients(e);
    return `| ${e.name} | ${fmt(n.cpu, 1)} | ${fmt(n.memoryGiB, 1)} | ${n.needed} | ${n.max} | ${p.clients} of ${fmt(p.limit)} |`;
  });
  return [
    '| environment | CPU requested (cores) | memory requested (GiB) | nodes needed | nodes allowed (`nodes`) | app clients of the rw pooler |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** Hourly list prices the cost table uses: per-resource on-demand (AWS Fargate, us-east-1, 2025) and gp3 storage. */
const PRICES = { vcpuHour: 0.04048, gibHour: 0.004445, storageGibMonth: 0.08, controlPlaneHour: 0.1, hoursPerMonth: 730 } as const;

interface Resources {
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}
interface RunningObject {
  kind: string;
  metadata: { name: string };
  spec?: {
    replicas?: number;
    minReplicas?: number;
    scaleTargetRef?: { kind: string; name: string };
    template?: { spec: { containers: Resources[] } };
    volumeClaimTemplates?: { spec: { resources: { requests: { storage: string } } } }[];
    resources?: { requests: { storage: string } } & Resources['resources'];
    /** CloudNativePG: instances of a Cluster or pods of a Pooler. */
    instances?: number;
    storage?: { size: string };
    walStorage?: { size: string };
  };
}

/** The containers CloudNativePG runs for a Cluster (PostgreSQL) or a Pooler (PgBouncer), with their volumes. */
function operatedPods(o: RunningObject): { replicas: number; containers: Resources[]; storage: number } | undefined {
  if (o.kind === 'Cluster') {
    const s = o.spec!;
    return {
      replicas: s.instances ?? 1,
      containers: [{ resources: s.resources! }],
      storage: quantity(s.storage!.size) + (s.walStorage ? quantity(s.walStorage.size) : 0),
    };
  }
  if (o.kind === 'Pooler') {
    const c = (o.spec as unknown as { template: { spec: { containers: Resources[] } } }).template.spec.containers;
    return { replicas: o.spec!.instances ?? 1, containers: c, storage: 0 };
  }
  return undefined;
}

/** Requests and limits of what runs all the time (replicas as configured, DaemonSets on every node), from the synthesised objects. */
function resourceTotals(env: Environment): { cpuReq: number; memReq: number; cpuLim: number; memLim: number; storage: number } {
  const { manifests } = renderEnvironment(environmentInput(env.name));
  const objects = [...manifests.entries()].filter(([file]) => !file.startsWith('on-demand/')).map(([, text]) => parse(text) as RunningObject);
  const t = { cpuReq: 0, memReq: 0, cpuLim: 0, memLim: 0, storage: 0 };
  // Autoscaled workloads carry no replicas of their own: their HPA's minimum is what runs.
  const minimum = new Map(
    objects
      .filter((o) => o.kind === 'HorizontalPodAutoscaler')
      .map((h) => [`${h.spec!.scaleTargetRef!.kind}/${h.spec!.scaleTargetRef!.name}`, h.spec!.minReplicas ?? 1]),
  );
  for (const o of objects) {
    const operated = operatedPods(o);
    if (operated) {
      for (const c of operated.containers) {
        t.cpuReq += operated.replicas * quantity(c.resources.requests.cpu!);
        t.memReq += operated.replicas * quantity(c.resources.requests.memory!);
        t.cpuLim += operated.replicas * quantity(c.resources.limits.cpu!);
        t.memLim += operated.replicas * quantity(c.resources.limits.memory!);
      }
      t.storage += operated.replicas * operated.storage;
      continue;
    }
    const replicas =
      o.kind === 'DaemonSet'
        ? env.nodes
        : ['Deployment', 'StatefulSet', 'Rollout'].includes(o.kind)
          ? (o.spec?.replicas ?? minimum.get(`${o.kind}/${o.metadata.name}`) ?? 1)
          : 0;
    if (replicas > 0) {
      for (const c of o.spec!.template!.spec.containers) {
        t.cpuReq += replicas * quantity(c.resources.requests.cpu!);
        t.memReq += replicas * quantity(c.resources.requests.memory!);
        t.cpuLim += replicas * quantity(c.resources.limits.cpu!);
        t.memLim += replicas * quantity(c.resources.limits.memory!);
      }
      for (const claim of o.spec!.volumeClaimTemplates ?? []) t.storage += replicas * quantity(claim.spec.resources.requests.storage);
    }
    if (o.kind === 'PersistentVolumeClaim') t.storage += quantity(o.spec!.resources!.requests.storage);
  }
  return t;
}

export function costTable(envs: readonly Environment[]): string {
  const rows = envs.map((e) => {
    const t = resourceTotals(e);
    const gib = 2 ** 30;
    const compute = (t.cpuReq * PRICES.vcpuHour + (t.memReq / gib) * PRICES.gibHour) * PRICES.hoursPerMonth;
    const storage = (t.storage / gib) * PRICES.storageGibMonth;
    const total = compute + storage + PRICES.controlPlaneHour * PRICES.hoursPerMonth;
    return `| ${e.name} | ${fmt(t.cpuReq, 2)} / ${fmt(t.cpuLim, 1)} | ${fmt(t.memReq / gib, 1)} / ${fmt(t.memLim / gib, 1)} | ${fmt(t.storage / gib)} | $${fmt(compute)} | $${fmt(storage)} | $${fmt(total)} |`;
  });
  return [
    '| environment | CPU cores, requests / limits | memory GiB, requests / limits | volumes GiB | compute / month | volumes / month | total / month (with control plane) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
