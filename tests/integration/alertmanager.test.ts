// Alertmanager's configuration, extracted from the synthesised ConfigMap, checked by the real
// amtool: it loads, and the routing tree sends a critical database alert to the pager and the
// database team, a warning to the platform channel, info nowhere, and the Watchdog to the
// dead-man's switch. Inhibition: a critical alert silences the same alert's warning.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RECEIVERS } from '../../charts/observability/alertmanager-config';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { configMapData, environment } from '../helpers';
import { describeNeeding, program } from './tools';

const CASES: { alert: string; labels: string[]; expect: string[] }[] = [
  {
    alert: 'a critical database alert',
    labels: ['alertname=PostgreSQLDown', 'severity=critical', 'team=database', 'namespace=supabase'],
    expect: [RECEIVERS.page, RECEIVERS.database],
  },
  {
    alert: 'a critical platform alert',
    labels: ['alertname=KubePersistentVolumeFillingUp', 'severity=critical', 'team=platform', 'namespace=supabase'],
    expect: [RECEIVERS.page, RECEIVERS.platform],
  },
  {
    alert: 'a database warning',
    labels: ['alertname=PostgresLongRunningTransaction', 'severity=warning', 'team=database', 'namespace=supabase'],
    expect: [RECEIVERS.database],
  },
  { alert: 'a platform warning', labels: ['alertname=KubePodCrashLooping', 'severity=warning', 'team=app', 'namespace=app'], expect: [RECEIVERS.platform] },
  { alert: 'an info alert', labels: ['alertname=CPUThrottlingHigh', 'severity=info', 'team=platform'], expect: [RECEIVERS.none] },
  { alert: 'the Watchdog', labels: ['alertname=Watchdog', 'severity=info', 'team=platform'], expect: [RECEIVERS.watchdog] },
];

describeNeeding([program('amtool', 'prometheus-alertmanager')], 'Alertmanager configuration in amtool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'amtool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const amtool = (args: string[]) => spawnSync('amtool', args, { encoding: 'utf8' });

  for (const env of ENVIRONMENT_NAMES) {
    const file = join(dir, `${env}.yml`);
    const text = configMapData(env, 'alertmanager-config')['alertmanager.yml']!;
    writeFileSync(file, text);

    it(`${env}: amtool check-config accepts it`, () => {
      const check = amtool(['check-config', file]);
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toContain('SUCCESS');
    });

    // dev has no receivers: every alert stays in Alertmanager.
    const sends = environment(env).observability.alertmanager.receivers !== undefined;
    it.each(CASES)(`${env}: routes $alert`, ({ labels, expect: receivers }) => {
      const routed = amtool(['config', 'routes', 'test', `--config.file=${file}`, ...labels]);
      expect(routed.status, routed.stderr).toBe(0);
      expect(routed.stdout.trim().split(',')).toEqual(sends ? receivers : [RECEIVERS.none]);
    });

    if (!sends) return;

    it(`${env}: a wrong expectation fails (the routing test can fail)`, () => {
      const routed = amtool([
        'config',
        'routes',
        'test',
        `--config.file=${file}`,
        '--verify.receivers=platform',
        'alertname=PostgreSQLDown',
        'severity=critical',
        'team=database',
      ]);
      expect(routed.status).not.toBe(0);
    });

    it(`${env}: critical inhibits the warning of the same alert and of the same job, never the reverse`, () => {
      const config = parse(text) as { inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[] };
      const critToWarn = config.inhibit_rules.filter(
        (r) => r.source_matchers.includes('severity="critical"') && r.target_matchers.includes('severity="warning"'),
      );
      expect(critToWarn.map((r) => r.equal)).toEqual([
        ['alertname', 'namespace'],
        ['namespace', 'job'],
      ]);
      expect(config.inhibit_rules.some((r) => r.source_matchers.includes('severity="warning"') && r.target_matchers.includes('severity="critical"'))).toBe(
        false,
      );
    });
  }

  it('pages through PagerDuty only where the environment has it, with the key from a file', () => {
    const receivers = (env: string) =>
      (
        parse(configMapData(env, 'alertmanager-config')['alertmanager.yml']!) as {
          receivers: { name: string; pagerduty_configs?: { routing_key_file: string }[] }[];
        }
      ).receivers;
    expect(receivers('production').find((r) => r.name === RECEIVERS.page)!.pagerduty_configs![0]!.routing_key_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
    expect(receivers('dev').find((r) => r.name === RECEIVERS.page)!.pagerduty_configs).toBeUndefined();
  });
});
