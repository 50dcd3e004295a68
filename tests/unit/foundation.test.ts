// The foundation chart: namespaces, their guard rails and the priority classes, per environment.
import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { FoundationChart, POD_SECURITY_VERSION } from '../../charts/foundation/foundation-chart';
import { dev } from '../../environments/dev';
import { parseEnvironment } from '../../environments/schema';
import { platformContext } from '../../lib/context';
import { production } from '../../environments/production';
import { renderApp } from '../../lib/output';
import { parseManifests } from '../helpers';
import type { K8sObject } from '../../checks/objects';

function foundation(input: unknown, prefix?: string): { chart: FoundationChart; objects: K8sObject[] } {
  const env = parseEnvironment(input);
  const app = new App({ outdir: 'unused' });
  const platform = platformContext({ ...env, namespacePrefix: prefix ?? env.namespacePrefix });
  const chart = new FoundationChart(app, 'foundation', { layer: 'foundation', platform, limits: env.namespaces });
  return { chart, objects: parseManifests(env.name, renderApp(app)).map((l) => l.object) };
}

const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

describe('foundation chart', () => {
  it("creates the namespaces with the restricted profile enforced, except node-exporter's (audited as restricted)", () => {
    const { objects } = foundation(production);
    const namespaces = byKind(objects, 'Namespace');
    expect(namespaces.map((n) => n.metadata.name).sort()).toEqual(['app', 'node-exporter', 'observability', 'supabase']);
    for (const ns of namespaces) {
      expect(ns.metadata.labels).toMatchObject({
        'pod-security.kubernetes.io/enforce': ns.metadata.name === 'node-exporter' ? 'privileged' : 'restricted',
        'pod-security.kubernetes.io/enforce-version': POD_SECURITY_VERSION,
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      });
      // Argo CD must never prune a namespace: that would delete its volumes.
      expect(ns.metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
    }
  });

  it('puts a quota from the environment in each namespace', () => {
    const { objects } = foundation(production);
    const quota = byKind(objects, 'ResourceQuota').find((q) => q.metadata.namespace === 'supabase');
    expect((quota?.spec as { hard: Record<string, string> }).hard).toMatchObject({
      'requests.cpu': '48',
      'requests.memory': '120Gi',
      'requests.storage': '2560Gi',
      'services.nodeports': '0',
      'services.loadbalancers': '1',
    });
  });

  it('prefixes namespaces and priority classes so environments can share a cluster', () => {
    const { chart, objects } = foundation(dev, 'team-a-');
    expect(chart.namespaces).toEqual({
      supabase: 'team-a-supabase',
      app: 'team-a-app',
      observability: 'team-a-observability',
      'node-exporter': 'team-a-node-exporter',
    });
    expect(chart.priorityClasses).toEqual({ data: 'team-a-platform-data', stateless: 'team-a-platform-stateless' });
    const namespaced = objects.filter((o) => o.metadata.namespace);
    expect(new Set(namespaced.map((o) => o.metadata.namespace))).toEqual(new Set(Object.values(chart.namespaces)));
    expect(
      byKind(objects, 'PriorityClass')
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['team-a-platform-data', 'team-a-platform-stateless']);
  });

  it('ranks data workloads above stateless ones', () => {
    const { objects } = foundation(dev);
    const value = (name: string) => (byKind(objects, 'PriorityClass').find((p) => p.metadata.name === name) as unknown as { value: number }).value;
    expect(value('platform-data')).toBeGreaterThan(value('platform-stateless'));
  });
});
