// The capacity plan (environments/capacity.ts, docs/capacity.md) against the synthesised objects:
// each pool the plan counts is the pool the chart sets, at the replicas the HPA allows; every
// environment's pools fit in max_connections; production's maximums carry the load model; and an
// environment that overcommits the database is refused with the field to change.
import { describe, expect, it } from 'vitest';
import { connectionBudget, nodePlan, poolerClients, servicePlan, standbyConnectionBudget } from '../../environments/capacity';
import { production } from '../../environments/production';
import { parseEnvironment } from '../../environments/schema';
import { RESERVED_CONNECTIONS } from '../../lib/facts/postgres-sizing';
import { podsDuringRollout } from '../../lib/facts/rollout';
import { environments, objectsOf } from '../helpers';
import type { K8sObject } from '../../checks/objects';

type Workload = K8sObject & { spec: { replicas?: number; template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } } };

/** A pool setting as the chart ships it, and the most pods of its workload (HPA maximum or replicas, plus surge). */
function shipped(objects: K8sObject[], kind: string, name: string, variable: string): { pool: number; pods: number } {
  const workload = objects.find((o) => o.kind === kind && o.metadata.name === name) as Workload;
  const value = workload.spec.template.spec.containers.flatMap((c) => c.env ?? []).find((e) => e.name === variable)?.value;
  if (value === undefined) throw new Error(`${kind} ${name} sets no ${variable}`);
  const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && (o.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name);
  const most = hpa ? (hpa.spec as { maxReplicas: number }).maxReplicas : (workload.spec.replicas ?? 1);
  return { pool: Number(value), pods: podsDuringRollout(most) };
}

describe.each(environments())('%s', (name, env) => {
  const objects = objectsOf(name).map((l) => l.object);
  const budget = connectionBudget(env);
  const counted = (who: string) => budget.uses.find((u) => u.who === who)!.connections;

  it('counts the pools the charts set, at the replicas the autoscalers allow', () => {
    const rest = shipped(objects, 'Deployment', 'rest', 'PGRST_DB_POOL');
    expect(counted('PostgREST')).toBe(rest.pool * rest.pods);
    const auth = shipped(objects, 'Deployment', 'auth', 'GOTRUE_DB_MAX_POOL_SIZE');
    expect(counted('Auth (GoTrue)')).toBe(auth.pool * auth.pods);
    const storage = shipped(objects, 'Deployment', 'storage', 'DATABASE_MAX_CONNECTIONS');
    expect(counted('Storage')).toBe(storage.pool * storage.pods);
    const realtime = shipped(objects, 'Deployment', 'realtime', 'DB_POOL_SIZE');
    expect(counted('Realtime')).toBeGreaterThanOrEqual(realtime.pool * realtime.pods);
    // Each PgBouncer pod opens at most max_db_connections, at its instances plus surge.
    const pooler = (
      objects.find((o) => o.kind === 'Pooler' && o.metadata.name === 'postgres-pooler-rw') as unknown as {
        spec: { instances: number; pgbouncer: { parameters: Record<string, string> } };
      }
    ).spec;
    expect(pooler.pgbouncer.parameters.max_db_connections).toBe(pooler.pgbouncer.parameters.default_pool_size);
    expect(counted('PgBouncer rw pooler')).toBe(Number(pooler.pgbouncer.parameters.max_db_connections) * podsDuringRollout(pooler.instances));
    const cluster = objects.find((o) => o.kind === 'Cluster') as unknown as { spec: { postgresql: { parameters: Record<string, string> } } };
    expect(budget.max).toBe(Number(cluster.spec.postgresql.parameters.max_connections));
  });

  it('fits every pool in max_connections minus the reserved ones', () => {
    console.log(`${name}: ${budget.total} of ${budget.available} connections (${budget.uses.map((u) => `${u.who} ${u.connections}`).join(', ')})`);
    expect(budget.available).toBe(budget.max - RESERVED_CONNECTIONS);
    expect(budget.total).toBeLessThanOrEqual(budget.available);
    const standby = standbyConnectionBudget(env);
    expect(standby.total).toBeLessThanOrEqual(standby.available);
    const clients = poolerClients(env);
    expect(clients.clients).toBeLessThanOrEqual(clients.limit);
  });
});

describe('production carries the load model', () => {
  const env = parseEnvironment(production);

  it('with every service below its maximum pods', () => {
    for (const row of servicePlan(env)) expect(row.needed, `${row.service}: ${row.load}`).toBeLessThanOrEqual(row.max);
  });

  it('on the nodes the environment allows', () => {
    const plan = nodePlan(env);
    expect(plan.needed).toBeLessThanOrEqual(plan.max);
    expect(plan.cpu).toBeGreaterThan(10);
  });

  it('refuses pools that overcommit the database, naming the field to change', () => {
    const bigger = structuredClone(production);
    bigger.supabase.restDbPool = 40;
    expect(() => parseEnvironment(bigger)).toThrow(
      /components\.postgres\.tuning\.maxConnections: 240 \(237 after 3 reserved\) is less than the \d+ connections .*supabase\.restDbPool/,
    );
    const fewClients = structuredClone(production);
    fewClients.components.postgres.poolers.rw.maxClientConnections = 200;
    expect(() => parseEnvironment(fewClients)).toThrow(
      /components\.postgres\.poolers\.rw\.maxClientConnections: 200 per pod \(400 with one of the 3 pooler pods lost\) is less than the 520 client connections/,
    );
    const roHeavy = structuredClone(production);
    roHeavy.components.postgres.poolers.ro.defaultPoolSize = 100;
    expect(() => parseEnvironment(roHeavy)).toThrow(
      /the pools of a standby can open .*PgBouncer ro pooler 400.*components\.postgres\.poolers\.ro\.defaultPoolSize/,
    );
  });
});
