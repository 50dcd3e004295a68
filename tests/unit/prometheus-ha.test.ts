// Prometheus as a pair in production: two servers on two nodes, each naming itself in the
// external label the alerts leave without (the pair's behaviour with real programs:
// tests/integration/prometheus-ha.test.ts); one server elsewhere.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { POD_NAME_ENV, REPLICA_LABEL } from '../../charts/observability/prometheus-config';
import { configMapData, environments, find } from '../helpers';

interface StatefulSet {
  spec: {
    replicas: number;
    template: {
      spec: {
        affinity?: { podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string }[] } };
        containers: { name: string; env?: { name: string; valueFrom?: unknown }[] }[];
      };
    };
  };
}

describe.each(environments())('%s Prometheus', (name, env) => {
  const set = find<StatefulSet>(name, 'StatefulSet', 'prometheus');
  const expected = name === 'production' ? 2 : 1;

  it(`runs ${expected} server(s), as the environment says`, () => {
    expect(env.observability.prometheus.replicas).toBe(expected);
    expect(set.spec.replicas).toBe(expected);
  });

  it('keeps a pair on two nodes', () => {
    const required = set.spec.template.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    expect(required.map((r) => r.topologyKey)).toEqual(expected > 1 ? ['kubernetes.io/hostname'] : []);
  });

  it('names each server by its pod in the replica label, which alerts drop', () => {
    const container = set.spec.template.spec.containers.find((c) => c.name === 'prometheus')!;
    expect(container.env).toContainEqual({ name: POD_NAME_ENV, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    const config = parse(configMapData(name, 'prometheus-config')['prometheus.yml']!) as {
      global: { external_labels: Record<string, string> };
      alerting: { alert_relabel_configs: unknown[] };
    };
    expect(config.global.external_labels[REPLICA_LABEL]).toBe(`\${${POD_NAME_ENV}}`);
    expect(config.alerting.alert_relabel_configs).toEqual([{ action: 'labeldrop', regex: REPLICA_LABEL }]);
  });
});
