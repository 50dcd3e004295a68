// Two Prometheus servers and one alert: production's pair must reach Alertmanager as one alert,
// keep it alive when either server is lost, and Alertmanager's cluster must notify once. Real
// prometheus and prometheus-alertmanager from Debian, on loopback. The Prometheus configuration's
// `global.external_labels` and `alerting.alert_relabel_configs` are production's as synthesised;
// what a machine without Kubernetes cannot run is replaced: no scrape jobs (Debian's Prometheus
// has no Kubernetes discovery), the Alertmanagers' addresses, one always-firing test rule, and
// intervals of a second. A control pair without the relabelling shows what the test would see if
// the replica label reached Alertmanager: two alerts instead of one.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { POD_NAME_ENV, REPLICA_LABEL } from '../../charts/observability/prometheus-config';
import { configMapData, environment } from '../helpers';
import { freePort } from '../../harness/processes';
import { describeNeeding, program } from './tools';

interface PromConfig {
  global: { external_labels: Record<string, string>; [k: string]: unknown };
  alerting: { alert_relabel_configs?: unknown[]; alertmanagers: unknown[] };
  [k: string]: unknown;
}
interface AmAlert {
  labels: Record<string, string>;
  endsAt: string;
  status: { state: string };
}
interface Notification {
  status: string;
  alerts: { labels: Record<string, string> }[];
}

const production = environment('production');
const shipped = parse(configMapData('production', 'prometheus-config')['prometheus.yml']!) as PromConfig;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

/** Prometheus 2 expands ${VAR} in external labels only behind a feature flag; 3 always does. */
function featureFlags(): string[] {
  const out = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  const major = Number(/version (\d+)\./.exec(out.stdout + out.stderr)?.[1] ?? '3');
  return major < 3 ? ['--enable-feature=expand-external-labels'] : [];
}

describeNeeding(
  [program('prometheus', 'prometheus'), program('prometheus-alertmanager', 'prometheus-alertmanager')],
  'Prometheus pair and Alertmanager cluster',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'prometheus-ha-'));
    const children: ChildProcess[] = [];
    const notifications: Notification[] = [];
    let webhook: Server;
    const am: { api: string }[] = [];
    const prom: { name: string; api: string; child: ChildProcess }[] = [];

    const start = (command: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
      const child = spawn(command, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      child.on('exit', (code) => {
        if (code !== null && code !== 0) process.stderr.write(`${command} exited ${code}: ${log}\n`);
      });
      children.push(child);
      return child;
    };

    beforeAll(async () => {
      const hook = await freePort();
      webhook = createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          notifications.push(JSON.parse(body) as Notification);
          res.end();
        });
      }).listen(hook, '127.0.0.1');

      // Two Alertmanagers in one cluster, as production's StatefulSet runs them (there, three).
      const ports = await Promise.all([0, 1].map(async () => ({ web: await freePort(), cluster: await freePort() })));
      const amConfig = join(dir, 'alertmanager.yml');
      writeFileSync(
        amConfig,
        stringify({
          route: { receiver: 'hook', group_by: ['alertname'], group_wait: '1s', group_interval: '1m', repeat_interval: '1h' },
          receivers: [{ name: 'hook', webhook_configs: [{ url: `http://127.0.0.1:${hook}/`, send_resolved: false }] }],
        }),
      );
      ports.forEach((p, i) => {
        const storage = join(dir, `am-${i}`);
        mkdirSync(storage);
        const peer = ports[1 - i]!;
        start('prometheus-alertmanager', [
          `--config.file=${amConfig}`,
          `--storage.path=${storage}`,
          `--web.listen-address=127.0.0.1:${p.web}`,
          `--cluster.listen-address=127.0.0.1:${p.cluster}`,
          `--cluster.advertise-address=127.0.0.1:${p.cluster}`,
          `--cluster.peer=127.0.0.1:${peer.cluster}`,
          '--cluster.peer-timeout=2s',
        ]);
        am.push({ api: `http://127.0.0.1:${p.web}` });
      });
      for (const a of am) await until(`Alertmanager ${a.api}`, async () => ((await fetch(`${a.api}/-/ready`)).ok ? true : undefined));

      const targets = ports.map((p) => `127.0.0.1:${p.web}`);
      const launch = async (name: string, alert: string, relabel: boolean) => {
        const rules = join(dir, `${name}.rules.yaml`);
        writeFileSync(
          rules,
          stringify({ groups: [{ name: 'ha', rules: [{ alert, expr: 'vector(1)', labels: { severity: 'critical', team: 'platform' } }] }] }),
        );
        const config: PromConfig = {
          global: { ...shipped.global, scrape_interval: '1s', evaluation_interval: '1s' },
          rule_files: [rules],
          alerting: {
            ...(relabel ? { alert_relabel_configs: shipped.alerting.alert_relabel_configs } : {}),
            alertmanagers: [{ static_configs: [{ targets }] }],
          },
        };
        const file = join(dir, `${name}.yml`);
        writeFileSync(file, stringify(config));
        const web = await freePort();
        const data = join(dir, name);
        mkdirSync(data);
        const child = start(
          'prometheus',
          [`--config.file=${file}`, `--storage.tsdb.path=${data}`, `--web.listen-address=127.0.0.1:${web}`, '--rules.alert.resend-delay=1s', ...featureFlags()],
          { [POD_NAME_ENV]: name.replace(/^control-/, '') },
        );
        prom.push({ name, api: `http://127.0.0.1:${web}`, child });
      };
      await launch('prometheus-0', 'HAProbe', true);
      await launch('prometheus-1', 'HAProbe', true);
      await launch('control-prometheus-0', 'HAProbeWithReplicaLabel', false);
      await launch('control-prometheus-1', 'HAProbeWithReplicaLabel', false);
      for (const p of prom) await until(`${p.name} ready`, async () => ((await fetch(`${p.api}/-/ready`)).ok ? true : undefined));
    }, 60_000);

    afterAll(() => {
      for (const child of children) child.kill('SIGKILL');
      webhook?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const alertsIn = async (api: string, alertname: string) =>
      (await getJson<AmAlert[]>(`${api}/api/v2/alerts?filter=${encodeURIComponent(`alertname="${alertname}"`)}`)).filter((a) => a.status.state === 'active');

    it('ships a replica label from the pod name, and alerts leave without it', () => {
      expect(production.observability.prometheus.replicas).toBe(2);
      expect(shipped.global.external_labels).toEqual({ cluster: production.name, [REPLICA_LABEL]: `\${${POD_NAME_ENV}}` });
      expect(shipped.alerting.alert_relabel_configs).toEqual([{ action: 'labeldrop', regex: REPLICA_LABEL }]);
    });

    it('both servers send the alert, and every Alertmanager holds it once, without the replica label', async () => {
      for (const p of prom.slice(0, 2)) {
        await until(`${p.name} to have sent notifications`, async () => {
          // Its own /metrics: these servers scrape nothing, themselves included.
          const text = await (await fetch(`${p.api}/metrics`)).text();
          const sent = [...text.matchAll(/^prometheus_notifications_sent_total\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
          return sent > 0 ? true : undefined;
        });
      }
      for (const a of am) {
        const alerts = await until('HAProbe in Alertmanager', async () => ((await alertsIn(a.api, 'HAProbe')).length ? alertsIn(a.api, 'HAProbe') : undefined));
        expect(alerts).toHaveLength(1);
        expect(alerts[0]!.labels).toEqual({ alertname: 'HAProbe', severity: 'critical', team: 'platform', cluster: production.name });
      }
    }, 60_000);

    it('without the relabelling the two servers would be two alerts (the control pair)', async () => {
      const alerts = await until('both control alerts', async () => {
        const found = await alertsIn(am[0]!.api, 'HAProbeWithReplicaLabel');
        return found.length >= 2 ? found : undefined;
      });
      expect(alerts.map((a) => a.labels[REPLICA_LABEL]).sort()).toEqual(['prometheus-0', 'prometheus-1']);
    }, 60_000);

    it('the Alertmanager cluster notifies once', async () => {
      const first = await until('a notification of HAProbe', () =>
        Promise.resolve(notifications.some((n) => n.alerts.some((x) => x.labels.alertname === 'HAProbe')) ? true : undefined),
      );
      expect(first).toBe(true);
      // The second Alertmanager would send after its peer-timeout position (2 s) had the first not gossiped its log.
      await sleep(6_000);
      const sent = notifications.filter((n) => n.alerts.some((x) => x.labels.alertname === 'HAProbe'));
      expect(sent).toHaveLength(1);
      expect(sent[0]!.alerts).toHaveLength(1);
    }, 60_000);

    it('losing either server keeps the alert alive: the survivor keeps renewing it', async () => {
      const endsAt = async (alertname: string) => (await alertsIn(am[0]!.api, alertname)).map((a) => Date.parse(a.endsAt));
      prom[0]!.child.kill('SIGKILL');
      // The control pair goes entirely: what an alert nobody renews looks like.
      prom[2]!.child.kill('SIGKILL');
      prom[3]!.child.kill('SIGKILL');
      const killedAt = Date.now();
      // Prometheus sends endsAt 4 resend intervals (4 s here) ahead of each send: an endsAt more
      // than 6 s after the kill can only come from a server still running.
      const renewedAfterKill = killedAt + 6_000;
      await until('the survivor to renew the alert', async () => ((await endsAt('HAProbe')).some((t) => t > renewedAfterKill) ? true : undefined));
      // The control alerts were never renewed: they have expired, or still end within the window.
      for (const t of await endsAt('HAProbeWithReplicaLabel')) expect(t).toBeLessThanOrEqual(renewedAfterKill);
      expect(await alertsIn(am[1]!.api, 'HAProbe')).toHaveLength(1);
    }, 60_000);
  },
);
