// prometheus.yml, extracted from the synthesised ConfigMap, checked by the real promtool together
// with the rule files it loads (from the synthesised rules ConfigMap). promtool also checks that
// credential files exist, so the in-container paths are pointed at files in a scratch folder.
// Debian builds Prometheus without Kubernetes discovery ("field kubernetes_sd_configs not
// found"), so each kubernetes_sd_configs block is checked here against the upstream field set
// and then swapped for a file_sd_configs block; everything else, relabelling included, is
// checked by promtool as it ships.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { METRIC_CATALOGUE } from '../../charts/observability/metrics-catalogue';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { configMapData } from '../helpers';
import { describeNeeding, program } from './tools';

/**
 * The operators' metrics endpoints as their installs at the documented versions serve them (pod
 * label app.kubernetes.io/name = job, port), the default namespaces, and the metrics each job keeps:
 * cert-manager v1.21.1 (deploy/charts/cert-manager/templates/deployment.yaml, "http-metrics"),
 * Argo CD v3.5.1 (manifests/install.yaml), External Secrets chart 2.9.0 (values
 * metrics.listen.port), Kyverno v1.19.0 (values admissionController.metering.port), CloudNativePG
 * 1.30.0 (releases/cnpg-1.30.0.yaml).
 */
const OPERATOR_SCRAPES: { job: string; namespace: string; port: number; metrics: readonly string[] }[] = [
  { job: 'cert-manager', namespace: 'cert-manager', port: 9402, metrics: METRIC_CATALOGUE.certManager },
  { job: 'argocd-application-controller', namespace: 'argocd', port: 8082, metrics: METRIC_CATALOGUE.argocd },
  { job: 'argocd-server', namespace: 'argocd', port: 8083, metrics: [] },
  { job: 'argocd-repo-server', namespace: 'argocd', port: 8084, metrics: METRIC_CATALOGUE.argocdRepoServer },
  { job: 'external-secrets', namespace: 'external-secrets', port: 8080, metrics: METRIC_CATALOGUE.externalSecrets },
  { job: 'kyverno-admission-controller', namespace: 'kyverno', port: 8000, metrics: METRIC_CATALOGUE.kyverno },
  { job: 'cloudnative-pg', namespace: 'cnpg-system', port: 8080, metrics: METRIC_CATALOGUE.cnpgOperator },
];

const IN_CONTAINER = ['/etc/prometheus/rules', '/etc/prometheus/secrets', '/var/run/secrets/kubernetes.io/serviceaccount'];

/** Prometheus's kubernetes_sd_config fields (docs/configuration/configuration.md) and roles. */
const SD_FIELDS = new Set([
  'api_server',
  'role',
  'kubeconfig_file',
  'namespaces',
  'selectors',
  'attach_metadata',
  'basic_auth',
  'authorization',
  'oauth2',
  'proxy_url',
  'tls_config',
  'follow_redirects',
  'enable_http2',
]);
const SD_ROLES = new Set(['node', 'service', 'pod', 'endpoints', 'endpointslice', 'ingress']);

function checkKubernetesSd(block: Record<string, unknown>, job: string): void {
  for (const key of Object.keys(block)) expect(SD_FIELDS.has(key), `${job}: unknown kubernetes_sd_configs field ${key}`).toBe(true);
  expect(SD_ROLES.has(String(block.role)), `${job}: role ${String(block.role)}`).toBe(true);
  const ns = block.namespaces as { names?: unknown; own_namespace?: unknown } | undefined;
  if (ns) {
    expect(
      Object.keys(ns).every((k) => k === 'names' || k === 'own_namespace'),
      `${job}: namespaces`,
    ).toBe(true);
    expect(Array.isArray(ns.names) && ns.names.every((n) => typeof n === 'string' && /^[a-z0-9-]+$/.test(n)), `${job}: namespaces.names`).toBe(true);
  }
}

describeNeeding([program('promtool', 'prometheus')], 'Prometheus configuration in promtool', () => {
  const root = mkdtempSync(join(tmpdir(), 'promtool-config-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  for (const env of ENVIRONMENT_NAMES) {
    it(`${env}: promtool check config accepts prometheus.yml and every rule file it loads`, () => {
      const dir = join(root, env);
      const local = (path: string) => join(dir, path.replace(/^\//, ''));
      for (const path of IN_CONTAINER) mkdirSync(local(path), { recursive: true });
      for (const [file, text] of Object.entries(configMapData(env, 'prometheus-rules'))) writeFileSync(join(local('/etc/prometheus/rules'), file), text);
      for (const file of ['anon-key', 'token', 'ca.crt']) {
        writeFileSync(join(local(file === 'anon-key' ? '/etc/prometheus/secrets' : '/var/run/secrets/kubernetes.io/serviceaccount'), file), 'x');
      }
      let text = configMapData(env, 'prometheus-config')['prometheus.yml']!;
      for (const path of IN_CONTAINER) text = text.replaceAll(path, local(path));
      const parsed = parse(text) as { scrape_configs: Record<string, unknown>[] };
      const targets = join(dir, 'targets.json');
      writeFileSync(targets, '[]');
      for (const job of parsed.scrape_configs) {
        const sd = job.kubernetes_sd_configs as Record<string, unknown>[] | undefined;
        if (!sd) continue;
        for (const block of sd) checkKubernetesSd(block, String(job.job_name));
        delete job.kubernetes_sd_configs;
        job.file_sd_configs = [{ files: [targets] }];
      }
      const config = join(dir, 'prometheus.yml');
      writeFileSync(config, stringify(parsed));

      const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      const rules = Object.keys(configMapData(env, 'prometheus-rules')).length;
      expect(check.stdout).toContain(`SUCCESS: ${rules} rule files found`);
    });
  }

  it("restricts discovery to the platform namespaces, and each operator job to its operator's namespace", () => {
    const config = parse(configMapData('production', 'prometheus-config')['prometheus.yml']!) as {
      scrape_configs: { job_name: string; kubernetes_sd_configs?: { role: string; namespaces?: { names: string[] } }[] }[];
    };
    const operators = new Map([...OPERATOR_SCRAPES.map((o) => [o.job, o.namespace] as const), ['argo-rollouts', 'argo-rollouts'] as const]);
    for (const job of config.scrape_configs) {
      for (const sd of job.kubernetes_sd_configs ?? []) {
        if (sd.role === 'node') continue;
        expect(sd.namespaces?.names, job.job_name).toBeDefined();
        const allowed = operators.has(job.job_name) ? [operators.get(job.job_name)!] : ['supabase', 'app', 'observability'];
        for (const ns of sd.namespaces!.names) expect(allowed, job.job_name).toContain(ns);
      }
    }
  });

  it.each(ENVIRONMENT_NAMES)("%s: scrapes each operator's pods on the metrics port of its upstream install, keeping only the catalogue's metrics", (env) => {
    type Relabel = { source_labels?: string[]; regex?: string; action?: string; target_label?: string };
    const config = parse(configMapData(env, 'prometheus-config')['prometheus.yml']!) as {
      scrape_configs: {
        job_name: string;
        kubernetes_sd_configs?: { namespaces?: { names: string[] } }[];
        relabel_configs?: Relabel[];
        metric_relabel_configs?: Relabel[];
      }[];
    };
    // External Secrets only where the environment's secrets come from it.
    const expected = OPERATOR_SCRAPES.filter((o) => o.job !== 'external-secrets' || env !== 'dev');
    const jobs = new Map(config.scrape_configs.map((j) => [j.job_name, j]));
    for (const o of expected) {
      const job = jobs.get(o.job);
      expect(job, o.job).toBeDefined();
      expect(
        job!.kubernetes_sd_configs?.map((sd) => sd.namespaces?.names),
        o.job,
      ).toEqual([[o.namespace]]);
      const keeps = (job!.relabel_configs ?? []).filter((r) => r.action === 'keep');
      expect(keeps, o.job).toEqual(
        expect.arrayContaining([
          { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], regex: o.job, action: 'keep' },
          { source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: String(o.port), action: 'keep' },
        ]),
      );
      // No namespace label of the target: the series' own namespace is the object's.
      expect((job!.relabel_configs ?? []).map((r) => r.target_label)).not.toContain('namespace');
      const kept = o.metrics.length
        ? { source_labels: ['__name__'], regex: o.metrics.join('|'), action: 'keep' }
        : { source_labels: ['__name__'], regex: '.+', action: 'drop' };
      expect(job!.metric_relabel_configs, o.job).toEqual([kept]);
    }
    // Jobs that discover pods outside the platform's namespaces (node discovery has no namespaces).
    const operatorJobs = config.scrape_configs.filter((j) =>
      j.kubernetes_sd_configs?.some((sd) => sd.namespaces && !sd.namespaces.names.every((n) => ['supabase', 'app', 'observability'].includes(n))),
    );
    expect(operatorJobs.map((j) => j.job_name).sort()).toEqual([...expected.map((o) => o.job), 'argo-rollouts'].sort());
  });

  it('a misspelt discovery field or role is caught', () => {
    expect(() => checkKubernetesSd({ role: 'pods' }, 'x')).toThrow(/role pods/);
    expect(() => checkKubernetesSd({ role: 'pod', namespace: { names: ['a'] } }, 'x')).toThrow(/unknown kubernetes_sd_configs field namespace/);
  });

  it('a broken config fails the check (the test can fail)', () => {
    const file = join(root, 'broken.yml');
    writeFileSync(file, 'scrape_configs:\n  - job_name: x\n    scrape_interval: often\n');
    expect(spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' }).status).not.toBe(0);
  });
});
