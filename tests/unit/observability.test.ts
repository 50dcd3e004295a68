// The observability chart: what each environment gets, the one host-access exception, the
// read-only permissions, and the wiring of scrapes, logs and traces.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { JOBS } from '../../charts/observability/metrics-catalogue';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { configMapData, environment, find, objectsOf, tryFind } from '../helpers';

type Obj = any; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each(ENVIRONMENT_NAMES)('observability in %s', (env) => {
  it('runs every component of the stack', () => {
    for (const [kind, name] of [
      ['StatefulSet', 'prometheus'],
      ['StatefulSet', 'alertmanager'],
      ['StatefulSet', 'grafana'],
      ['StatefulSet', 'loki'],
      ['StatefulSet', 'tempo'],
      ['Deployment', 'kube-state-metrics'],
      ['Deployment', 'otel-collector'],
      ['DaemonSet', 'alloy'],
      ['DaemonSet', 'node-exporter'],
    ] as const) {
      expect(find<Obj>(env, kind, name), `${kind} ${name}`).toBeDefined();
    }
  });

  it('sizes retention and volumes from the environment', () => {
    const o = environment(env).observability;
    const prom = find<Obj>(env, 'StatefulSet', 'prometheus');
    expect(prom.spec.template.spec.containers[0].args).toContain(`--storage.tsdb.retention.time=${o.prometheus.retention}`);
    expect(prom.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(o.prometheus.volumeSize);
    expect(find<Obj>(env, 'StatefulSet', 'loki').spec.template.spec.containers[0].env).toContainEqual({ name: 'LOKI_RETENTION', value: o.loki.retention });
    expect(find<Obj>(env, 'StatefulSet', 'alertmanager').spec.replicas).toBe(o.alertmanager.replicas);
  });

  it('confines host access to node-exporter, in its own namespace, declared with a reason', () => {
    const hostPods = objectsOf(env).filter((l) => {
      const spec = (l.object as Obj).spec?.template?.spec;
      return spec?.hostNetwork || spec?.hostPID || spec?.volumes?.some((v: Obj) => v.hostPath);
    });
    expect(hostPods.map((l) => `${l.object.kind}/${l.object.metadata.namespace}/${l.object.metadata.name}`)).toEqual(['DaemonSet/node-exporter/node-exporter']);
    const ds = find<Obj>(env, 'DaemonSet', 'node-exporter');
    expect(ds.metadata.annotations['exempt.policy.supabase-platform/host-isolation']).toMatch(/node metrics/);
    expect(
      ds.spec.template.spec.volumes.every(
        (v: Obj) => !v.hostPath || ds.spec.template.spec.containers[0].volumeMounts.find((m: Obj) => m.name === v.name).readOnly,
      ),
    ).toBe(true);
    const ns = find<Obj>(env, 'Namespace', 'node-exporter');
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    expect(ns.metadata.labels['pod-security.kubernetes.io/warn']).toBe('restricted');
    expect(find<Obj>(env, 'Namespace', 'observability').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('grants only read access to the API, with no wildcards', () => {
    // The monitoring stack's own roles (the backup layer's snapshot Role writes VolumeSnapshots: tests/unit/backup.test.ts).
    const roles = objectsOf(env)
      .filter((l) => l.file.startsWith('observability/') && (l.object.kind === 'ClusterRole' || l.object.kind === 'Role'))
      .map((l) => l.object as Obj);
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      for (const rule of role.rules) {
        expect(
          rule.verbs.every((v: string) => ['get', 'list', 'watch'].includes(v)),
          role.metadata.name,
        ).toBe(true);
        expect([...rule.resources, ...rule.apiGroups, ...rule.verbs]).not.toContain('*');
      }
    }
  });

  it('scrapes the product by pod-template hash and keeps the canary analysis label', () => {
    const config = parse(configMapData(env, 'prometheus-config')['prometheus.yml']!);
    const pods = config.scrape_configs.find((j: Obj) => j.job_name === 'platform-pods');
    expect(pods.relabel_configs).toContainEqual({
      source_labels: ['__meta_kubernetes_pod_label_rollouts_pod_template_hash'],
      regex: '(.+)',
      target_label: 'rollouts_pod_template_hash',
    });
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toHaveLength(environment(env).observability.alertmanager.replicas);
  });

  it('scrapes ports named metrics or metrics-<something>: Redis, its Sentinels and the primary proxy under their jobs', () => {
    const config = parse(configMapData(env, 'prometheus-config')['prometheus.yml']!);
    const pods = config.scrape_configs.find((j: Obj) => j.job_name === 'platform-pods');
    const keep = pods.relabel_configs.find((r: Obj) => r.action === 'keep' && r.source_labels?.[0] === '__meta_kubernetes_pod_container_port_name');
    // Prometheus anchors relabelling regexes at both ends.
    const scraped = (port: string) => new RegExp(`^(?:${keep.regex})$`).test(port);
    expect(['metrics', 'metrics-sntl'].filter(scraped)).toEqual(['metrics', 'metrics-sntl']);
    expect(['redis', 'sentinel', 'metrics-', 'metricsx', 'http-metrics'].filter(scraped)).toEqual([]);
    // Which containers of a workload Prometheus scrapes, and the job their series get.
    const targets = (kind: string, name: string) => {
      const template = tryFind<Obj>(env, kind, name)?.spec.template;
      if (!template) return undefined;
      return {
        job: template.metadata.labels['app.kubernetes.io/name'],
        partOf: template.metadata.labels['app.kubernetes.io/part-of'],
        containers: template.spec.containers.filter((c: Obj) => (c.ports ?? []).some((p: Obj) => scraped(p.name))).map((c: Obj) => c.name),
      };
    };
    const replicated = environment(env).components.redis.replicas > 1;
    const partOf = 'supabase-platform';
    expect(targets('StatefulSet', 'redis')).toEqual({ job: JOBS.redis, partOf, containers: replicated ? ['exporter', 'sentinel-exporter'] : ['exporter'] });
    expect(targets('Deployment', JOBS.redisPrimary)).toEqual(replicated ? { job: JOBS.redisPrimary, partOf, containers: ['haproxy'] } : undefined);
  });

  it('provisions Grafana with its datasources and every dashboard, admin credentials by reference', () => {
    const provisioning = configMapData(env, 'grafana-provisioning');
    const datasources = parse(provisioning['datasources.yaml']!).datasources.map((d: Obj) => d.type);
    expect(datasources).toEqual(expect.arrayContaining(['prometheus', 'loki', 'tempo']));
    expect(Object.keys(configMapData(env, 'grafana-dashboards')).length).toBeGreaterThanOrEqual(5);
    const vars = find<Obj>(env, 'StatefulSet', 'grafana').spec.template.spec.containers[0].env;
    expect(vars.find((v: Obj) => v.name === 'GF_SECURITY_ADMIN_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'grafana-admin', key: 'admin-password' });
  });

  it("points the app's traces at the collector and lets them through", () => {
    const api = find<Obj>(env, 'Rollout', 'api').spec.template;
    const endpoint = api.spec.containers[0].env.find((v: Obj) => v.name === 'OTEL_EXPORTER_OTLP_ENDPOINT').value;
    expect(endpoint).toBe('http://otel-collector.observability.svc.cluster.local:4318');
    expect(api.metadata.labels['access.supabase-platform/tracing']).toBe('true');
    const collector = find<Obj>(env, 'NetworkPolicy', 'otel-collector');
    const otlp = collector.spec.ingress.find((r: Obj) => r.ports[0].port === 4318);
    expect(otlp.from[0].podSelector.matchLabels).toEqual({ 'access.supabase-platform/tracing': 'true' });
  });

  it('ships logs through the API server, from the platform namespaces only', () => {
    const alloy = find<Obj>(env, 'DaemonSet', 'alloy').spec.template.spec;
    expect(alloy.volumes.some((v: Obj) => v.hostPath)).toBe(false);
    expect(alloy.containers[0].env).toContainEqual({ name: 'WATCHED_NAMESPACES', value: 'supabase,app,observability' });
  });
});
