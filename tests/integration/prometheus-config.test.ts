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
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { configMapData } from '../helpers';
import { describeNeeding, program } from './tools';

const IN_CONTAINER = ['/etc/prometheus/rules', '/etc/prometheus/secrets', '/var/run/secrets/kubernetes.io/serviceaccount'];

/** Prometheus's kubernetes_sd_config fields (docs/configuration/configuration.md) and roles. */
const SD_FIELDS = new Set(['api_server', 'role', 'kubeconfig_file', 'namespaces', 'selectors', 'attach_metadata', 'basic_auth', 'authorization', 'oauth2', 'proxy_url', 'tls_config', 'follow_redirects', 'enable_http2']);
const SD_ROLES = new Set(['node', 'service', 'pod', 'endpoints', 'endpointslice', 'ingress']);

function checkKubernetesSd(block: Record<string, unknown>, job: string): void {
  for (const key of Object.keys(block)) expect(SD_FIELDS.has(key), `${job}: unknown kubernetes_sd_configs field ${key}`).toBe(true);
  expect(SD_ROLES.has(String(block.role)), `${job}: role ${String(block.role)}`).toBe(true);
  const ns = block.namespaces as { names?: unknown; own_namespace?: unknown } | undefined;
  if (ns) {
    expect(Object.keys(ns).every((k) => k === 'names' || k === 'own_namespace'), `${job}: namespaces`).toBe(true);
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

  it('restricts discovery to the platform namespaces and the Rollouts controller', () => {
    const config = parse(configMapData('production', 'prometheus-config')['prometheus.yml']!) as { scrape_configs: { job_name: string; kubernetes_sd_configs?: { role: string; namespaces?: { names: string[] } }[] }[] };
    for (const job of config.scrape_configs) {
      for (const sd of job.kubernetes_sd_configs ?? []) {
        if (sd.role === 'node') continue;
        expect(sd.namespaces?.names, job.job_name).toBeDefined();
        for (const ns of sd.namespaces!.names) expect(['supabase', 'app', 'observability', 'argo-rollouts']).toContain(ns);
      }
    }
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
