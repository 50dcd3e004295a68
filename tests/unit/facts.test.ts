// The facts of lib/facts/ against what ships: each number the environment checks assume (rollout
// surge, reserved connections, WAL sizes, the shared_buffers share, the canary's first weight)
// is read back from the synthesised objects, so a chart that stops rendering the fact, or renders
// another value, fails here rather than leaving the check to approve a plan the cluster runs
// differently.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { podBudgets } from '../../environments/budget';
import { connectionBudget } from '../../environments/capacity';
import { dev } from '../../environments/dev';
import { ENVIRONMENT_NAMES, parseEnvironment } from '../../environments/schema';
import { BACKUP_ROLE, LOGIN_ROLES } from '../../charts/postgres/roles';
import { FULL_WEIGHT, minimumPodsFor, rolloutWeights } from '../../lib/facts/canary';
import { maxSlotWalKeepSizeMB, RESERVED_CONNECTIONS, SHARED_BUFFERS_SHARE, WAL_SIZES } from '../../lib/facts/postgres-sizing';
import { MAX_SURGE, MAX_SURGE_PERCENT, podsDuringRollout } from '../../lib/facts/rollout';
import { quantity } from '../../lib/quantity';
import { environment, find as findObject, findAll, ROOT, tryFind } from '../helpers';

type Obj = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Bytes of a PostgreSQL size as the parameters carry it ("512MB", "4GB", "7864kB"). */
function pgBytes(value: string): number {
  const m = /^(\d+)(kB|MB|GB)$/.exec(value);
  if (!m) throw new Error(`not a PostgreSQL size: ${value}`);
  return Number(m[1]) * { kB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30 }[m[2] as 'kB' | 'MB' | 'GB'];
}

/**
 * The most pods a rolling update runs, computed as Kubernetes does from the maxSurge a manifest
 * carries (a percentage rounds up): written here apart from lib/facts/rollout.ts on purpose.
 */
function kubernetesSurge(maxSurge: string | number, replicas: number): number {
  if (typeof maxSurge === 'number') return replicas + maxSurge;
  const percent = /^(\d+)%$/.exec(maxSurge);
  if (!percent) throw new Error(`maxSurge ${maxSurge} is neither a number nor a percentage`);
  return replicas + Math.ceil((replicas * Number(percent[1])) / 100);
}

/** Kubernetes' default maxSurge of a Deployment, which applies where a manifest sets none (the PgBouncer poolers' Deployments). */
const KUBERNETES_DEFAULT_MAX_SURGE = '25%';

/** Each budget entry counted with rollout surge, and the workload that renders it. */
const SURGING: Record<string, { kind: 'Deployment' | 'Rollout'; name: string }> = {
  'supabase.auth': { kind: 'Deployment', name: 'auth' },
  'supabase.rest': { kind: 'Deployment', name: 'rest' },
  'supabase.realtime': { kind: 'Deployment', name: 'realtime' },
  'supabase.storage': { kind: 'Deployment', name: 'storage' },
  'supabase.meta': { kind: 'Deployment', name: 'meta' },
  'supabase.studio': { kind: 'Deployment', name: 'studio' },
  'gateway.kong': { kind: 'Deployment', name: 'kong' },
  'app.api': { kind: 'Rollout', name: 'api' },
  'app.worker': { kind: 'Deployment', name: 'worker' },
  'components.redis.proxy': { kind: 'Deployment', name: 'redis-primary' },
  'observability.otelCollector': { kind: 'Deployment', name: 'otel-collector' },
  'observability.kubeStateMetrics': { kind: 'Deployment', name: 'kube-state-metrics' },
};

describe.each(ENVIRONMENT_NAMES)('facts in %s', (name) => {
  const env = environment(name);
  const find = (kind: string, objectName: string): Obj => findObject<Obj>(name, kind, objectName);
  const cluster = () => find('Cluster', 'postgres');
  const parameters = (): Record<string, string> => cluster().spec.postgresql.parameters;

  it('renders the surge the budget counts, and the budget counts what Kubernetes runs at that surge', () => {
    const budgets = podBudgets(env);
    let compared = 0;
    for (const [path, workload] of Object.entries(SURGING)) {
      const budget = budgets.find((b) => b.path.join('.') === path);
      const object = tryFind<Obj>(name, workload.kind, workload.name);
      // Optional components (Studio, the Redis proxy) are in both or in neither.
      expect(Boolean(budget), `${path} in the budget vs ${workload.kind} ${workload.name} rendered`).toBe(Boolean(object));
      if (!budget || !object) continue;
      const hpa = findAll<Obj>(name, 'HorizontalPodAutoscaler').find(
        (o) => o.spec.scaleTargetRef.name === workload.name && o.spec.scaleTargetRef.kind === workload.kind,
      );
      const most = hpa ? hpa.spec.maxReplicas : object.spec.replicas;
      if (object.spec.strategy.type === 'Recreate') {
        // Storage on a file volume (dev) is replaced, not surged: the budget's surge is room to spare.
        expect(budget.pods, `${path}: Recreate`).toBeGreaterThanOrEqual(most);
        continue;
      }
      const maxSurge = workload.kind === 'Rollout' ? object.spec.strategy.canary.maxSurge : object.spec.strategy.rollingUpdate.maxSurge;
      expect(maxSurge, `${workload.kind} ${workload.name}`).toBe(MAX_SURGE);
      expect(budget.pods, `${path}: pods at ${most} replicas plus ${maxSurge}`).toBe(kubernetesSurge(maxSurge, most));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(8);
  });

  it("counts the poolers at Kubernetes' default surge, which is the one MAX_SURGE states", () => {
    // CloudNativePG creates each pooler's Deployment; with no deploymentStrategy in the Pooler it
    // takes Kubernetes' default, so the budget's surge is right for the poolers only while the
    // fact equals that default.
    expect(MAX_SURGE).toBe(KUBERNETES_DEFAULT_MAX_SURGE);
    for (const [kind, pooler] of Object.entries(env.components.postgres.poolers)) {
      const object = find('Pooler', `postgres-pooler-${kind}`);
      expect(object.spec.deploymentStrategy, `Pooler ${kind}`).toBeUndefined();
      const budget = podBudgets(env).find((b) => b.path.join('.') === `components.postgres.poolers.${kind}`)!;
      expect(budget.pods).toBe(kubernetesSurge(KUBERNETES_DEFAULT_MAX_SURGE, object.spec.instances));
      expect(object.spec.instances).toBe(pooler.instances);
    }
  });

  it('reserves in the connection budget the connections the Cluster reserves for superusers', () => {
    const reserved = Number(parameters().superuser_reserved_connections);
    expect(reserved).toBe(RESERVED_CONNECTIONS);
    const budget = connectionBudget(env);
    expect(budget.max).toBe(Number(parameters().max_connections));
    expect(budget.available).toBe(budget.max - reserved);
  });

  it("renders the WAL sizes of the environment's profile, the ones the WAL volume check assumes", () => {
    const profile = env.components.postgres.tuning.profile;
    expect(pgBytes(parameters().max_wal_size!)).toBe(WAL_SIZES[profile].max);
    expect(pgBytes(parameters().min_wal_size!)).toBe(WAL_SIZES[profile].min);
  });

  it('lets replication slots hold back a fifth of the WAL volume the Cluster claims, as the capacity table says', () => {
    const walVolume = quantity(cluster().spec.walStorage.size);
    expect(walVolume).toBe(quantity(env.components.postgres.walVolumeSize));
    expect(parameters().max_slot_wal_keep_size).toBe(`${Math.floor(walVolume / 5 / 2 ** 20)}MB`);
    expect(parameters().max_slot_wal_keep_size).toBe(`${maxSlotWalKeepSizeMB(walVolume)}MB`);
  });

  it("renders shared_buffers as the share of the memory limit, on the Cluster and on the drill's scratch Cluster", () => {
    const limit = quantity(cluster().spec.resources.limits.memory);
    expect(pgBytes(parameters().shared_buffers!)).toBe(Math.floor(limit * SHARED_BUFFERS_SHARE));
    const drill = tryFind<Obj>(name, 'ConfigMap', 'postgres-restore-drill');
    if (!env.backup.objectStore) {
      expect(drill).toBeUndefined();
      return;
    }
    const scratch: Obj = parse(drill.data['cluster.yaml']);
    const scratchLimit = quantity(scratch.spec.resources.limits.memory);
    expect(pgBytes(scratch.spec.postgresql.parameters.shared_buffers)).toBe(Math.floor(scratchLimit * SHARED_BUFFERS_SHARE));
  });

  it("renders the model's canary steps, first weight first, and refuses fewer api pods than that weight needs", () => {
    const steps = find('Rollout', 'api').spec.strategy.canary.steps as Obj[];
    const weights = steps.filter((s) => 'setWeight' in s).map((s) => s.setWeight as number);
    expect(weights[0]).toBe(env.app.canary.steps[0]!.weight);
    expect(weights).toEqual(rolloutWeights(env.app.canary.steps));
    expect(weights.at(-1)).toBe(FULL_WEIGHT);
    expect(steps.filter((s) => 'pause' in s).map((s) => s.pause.duration)).toEqual(env.app.canary.steps.map((s) => s.pause));
    // The environment runs at least the pods the rendered first weight needs.
    expect(env.app.api.autoscaling?.minReplicas ?? env.app.api.replicas).toBeGreaterThanOrEqual(minimumPodsFor(weights[0]!));
  });

  it('logs the restore drill in as the one backup role, a managed role of the Cluster', () => {
    if (!env.backup.objectStore) return;
    const check = find('CronJob', 'postgres-restore-drill').spec.jobTemplate.spec.template.spec.initContainers.find((c: Obj) => c.name === 'check');
    const user = check.env.find((e: Obj) => e.name === 'RECORD_USER');
    expect(user.value).toBe(BACKUP_ROLE);
    expect(cluster().spec.managed.roles.map((r: Obj) => r.name)).toContain(BACKUP_ROLE);
    expect(Object.keys(LOGIN_ROLES)).toContain(BACKUP_ROLE);
  });
});

describe('the model checks at the boundary of each fact', () => {
  /** The message parsing `input` fails with, or undefined when it parses. */
  const refusal = (input: unknown): string | undefined => {
    try {
      parseEnvironment(input);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };
  const devCopy = () => structuredClone(dev) as Obj;

  it('computes the surge as Kubernetes rounds MAX_SURGE', () => {
    for (let replicas = 0; replicas <= 64; replicas++) expect(podsDuringRollout(replicas), `${replicas} replicas`).toBe(kubernetesSurge(MAX_SURGE, replicas));
    expect(MAX_SURGE).toBe(`${MAX_SURGE_PERCENT}%`);
  });

  it('accepts a WAL volume of 2.5 x the rendered max_wal_size and refuses one MiB less', () => {
    const rendered = findObject<Obj>('dev', 'Cluster', 'postgres');
    const least = (2.5 * pgBytes(rendered.spec.postgresql.parameters.max_wal_size)) / 2 ** 20;
    const at = devCopy();
    at.components.postgres.walVolumeSize = `${least}Mi`;
    expect(refusal(at)).toBeUndefined();
    const below = devCopy();
    below.components.postgres.walVolumeSize = `${least - 1}Mi`;
    expect(refusal(below)).toContain('components.postgres.walVolumeSize');
    expect(refusal(below)).toContain('leaves too little room for WAL');
  });

  it('derives the api pod minimum from the first weight: refused one pod below, accepted at it', () => {
    const rendered = findObject<Obj>('dev', 'Rollout', 'api');
    const first = rendered.spec.strategy.canary.steps[0].setWeight as number;
    const cases: [number, Obj][] = [[first, devCopy()]];
    // Another first weight moves the minimum with it (4 pods for 25%): the rule is not a fixed 10.
    const other = devCopy();
    other.app.canary.steps[0].weight = 25;
    cases.push([25, other]);
    for (const [weight, base] of cases) {
      const least = minimumPodsFor(weight);
      expect(base.app.api.autoscaling).toBeUndefined();
      const below = structuredClone(base);
      below.app.api.replicas = least - 1;
      expect(refusal(below), `${weight}% with ${least - 1} pods`).toContain(`the ${weight}% step sends`);
      expect(refusal(below)).toContain(`run at least ${least} api pods`);
      const at = structuredClone(base);
      at.app.api.replicas = least;
      expect(refusal(at), `${weight}% with ${least} pods`).toBeUndefined();
    }
    expect(minimumPodsFor(10)).toBe(10);
  });
});

describe('where the facts live', () => {
  /** The project files `file` imports by relative path, `import type` included. */
  const relativeImports = (file: string): string[] =>
    [...readFileSync(file, 'utf8').matchAll(/(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]/g)]
      .map((m) => resolve(dirname(file), m[1]!))
      .map((target) => [`${target}.ts`, join(target, 'index.ts')].find((candidate) => existsSync(candidate))!)
      .filter(Boolean);

  it('keeps lib/facts/ free of imports, so the model and the charts can both depend on it', () => {
    const dir = join(ROOT, 'lib', 'facts');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files).toEqual(expect.arrayContaining(['canary.ts', 'postgres-sizing.ts', 'rollout.ts']));
    for (const f of files) expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/^\s*(import|export .* from)\b/m);
  });

  it('lets the budget and capacity checks run without importing the schema that runs them (no cycle)', () => {
    const schema = join(ROOT, 'environments', 'schema.ts');
    for (const start of ['budget.ts', 'capacity.ts', 'shape.ts']) {
      const seen = new Set<string>();
      const queue = [join(ROOT, 'environments', start)];
      while (queue.length > 0) {
        const file = queue.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        queue.push(...relativeImports(file));
      }
      expect(
        [...seen].map((f) => relative(ROOT, f)),
        start,
      ).not.toContain(relative(ROOT, schema));
    }
  });
});
