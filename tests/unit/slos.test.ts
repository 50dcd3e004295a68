// SLOs as code: the environment's objectives become the recording rules, the burn-rate alerts and
// the SLO dashboard that ship, with the Google SRE Workbook's windows and burn rates ("Alerting on
// SLOs", https://sre.google/workbook/alerting-on-slos/); the SLIs count Kong services that exist
// and a latency threshold Kong's histogram can answer. promtool runs the alerts' cases in
// tests/integration/alert-rules.test.ts, the dashboard's queries in tests/integration/dashboards.test.ts.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KongDeclarativeConfig } from '../../charts/gateway/kong-config';
import { BURN_RATE_ALERTS, budgetOf, budgetSpent, DEFAULT_SLOS, exhaustion, recordName, SLO_WINDOWS, slos } from '../../charts/observability/slos';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { KONG_LATENCY_BUCKETS_MS } from '../../environments/slos';
import { IMAGES } from '../../lib/images';
import { configMapData, environment } from '../helpers';

interface Rule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
}

/** The shipped rules of an environment's SLO groups, by group name. */
function shippedSloGroups(env: string): Map<string, Rule[]> {
  const files = Object.entries(configMapData(env, 'prometheus-rules')).filter(([file]) => file.startsWith('slo-'));
  return new Map(files.map(([, text]) => (parse(text) as { groups: { name: string; rules: Rule[] }[] }).groups[0]!).map((g) => [g.name, g.rules]));
}

describe('the burn-rate alerts', () => {
  it("are the workbook's: page at 14.4 (1h, 5m) and 6 (6h, 30m), ticket at 3 (1d, 2h) and 1 (3d, 6h)", () => {
    expect(BURN_RATE_ALERTS).toEqual([
      { kind: 'page', long: '1h', short: '5m', burnRate: 14.4 },
      { kind: 'page', long: '6h', short: '30m', burnRate: 6 },
      { kind: 'ticket', long: '1d', short: '2h', burnRate: 3 },
      { kind: 'ticket', long: '3d', short: '6h', burnRate: 1 },
    ]);
    // Each short window is a twelfth of its long one; every window is recorded.
    for (const a of BURN_RATE_ALERTS) expect(SLO_WINDOWS).toEqual(expect.arrayContaining([a.long, a.short]));
    expect(SLO_WINDOWS).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
  });

  it('spend 2%, 5%, 10% and 10% of a 30-day budget over their long window', () => {
    expect(BURN_RATE_ALERTS.map((a) => Number(budgetSpent('30d', a).toFixed(6)))).toEqual([0.02, 0.05, 0.1, 0.1]);
    expect(exhaustion('30d', 14.4)).toBe('2.1 days');
    expect(exhaustion('30d', 6)).toBe('5 days');
    expect(exhaustion('7d', 14.4)).toBe('11.7 hours');
  });

  it('work with budgets as written, not as floats round them', () => {
    expect([99.9, 99.5, 99, 95, 99.99, 99.95].map(budgetOf)).toEqual([0.001, 0.005, 0.01, 0.05, 0.0001, 0.0005]);
  });
});

describe('the SLO model', () => {
  const all = slos({ slos: DEFAULT_SLOS, kongNamespace: 'supabase' });

  it("has API availability and latency, Auth availability and Realtime connections, production's objectives by default", () => {
    expect(all.map((s) => [s.id, s.objective, s.window, s.thresholdMs])).toEqual([
      ['apiAvailability', 99.9, '30d', undefined],
      ['apiLatency', 95, '30d', 400],
      ['authAvailability', 99.9, '30d', undefined],
      ['realtimeConnections', 99.5, '30d', undefined],
    ]);
    expect(DEFAULT_SLOS.paging).toBe(true);
  });

  it('records one error ratio per SLO and window, named level:metric:operations', () => {
    const names = all.flatMap((s) => SLO_WINDOWS.map((w) => recordName(s, w)));
    expect(new Set(names).size).toBe(names.length);
    expect(recordName(all[0]!, '5m')).toBe('slo:api_availability_error:ratio_rate5m');
  });

  it('counts the Kong services the gateway really has', () => {
    const kong = parse(configMapData('production', 'kong-config')['kong.yml']!) as KongDeclarativeConfig;
    const services = kong.services.map((s) => s.name);
    const counted = (matcher: string) => {
      const [, op, value] = /^service(=~|=)"(.*)"$/.exec(matcher)!;
      const pattern = new RegExp(`^(?:${op === '=' ? value!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : value})$`);
      return services.filter((s) => pattern.test(s));
    };
    const byId = Object.fromEntries(all.map((s) => [s.id, counted(s.services)]));
    expect(byId.apiAvailability).toEqual(['app-v1']);
    expect(byId.apiLatency).toEqual(['app-v1']);
    expect(byId.realtimeConnections).toEqual(['realtime-v1-ws']);
    // Every Auth route: the keyed one and the open ones (email links, OAuth, the JWKS).
    expect(byId.authAvailability).toEqual(services.filter((s) => s.startsWith('auth-v1')));
    expect(byId.authAvailability!.length).toBeGreaterThan(1);
  });

  it("takes the latency threshold from Kong 3.9.1's histogram buckets (re-read them when Kong changes)", () => {
    // kong/plugins/prometheus/exporter.lua at 3.9.1: request_latency_ms uses UPSTREAM_LATENCY_BUCKETS.
    expect(IMAGES.kong.tag).toBe('3.9.1');
    expect(KONG_LATENCY_BUCKETS_MS).toEqual([25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000]);
    for (const env of ENVIRONMENT_NAMES) expect(KONG_LATENCY_BUCKETS_MS).toContain(environment(env).observability.slos.apiLatency.thresholdMs);
  });
});

describe.each(ENVIRONMENT_NAMES)('%s SLO rules as shipped', (name) => {
  const env = environment(name);
  const groups = shippedSloGroups(name);
  const config = env.observability.slos;

  it('have a group per SLO: seven recorded ratios, then a page and a ticket', () => {
    expect([...groups.keys()]).toEqual(['slo-api-availability', 'slo-api-latency', 'slo-auth-availability', 'slo-realtime-connections']);
    for (const rules of groups.values()) {
      expect(rules.slice(0, 7).map((r) => r.record?.replace(/^.*ratio_rate/, ''))).toEqual([...SLO_WINDOWS]);
      expect(rules.slice(7).map((r) => r.alert?.replace(/^Slo[A-Za-z]+?(Fast|Slow)Burn$/, '$1'))).toEqual(['Fast', 'Slow']);
    }
  });

  it("alert at the environment's objectives: the page at 14.4 and 6 times the budget, the ticket at 3 and 1", () => {
    const api = groups.get('slo-api-availability')!;
    const budget = budgetOf(config.apiAvailability.objective);
    const page = api.find((r) => r.alert === 'SloApiAvailabilityFastBurn')!;
    const ticket = api.find((r) => r.alert === 'SloApiAvailabilitySlowBurn')!;
    expect(page.expr).toContain(`slo:api_availability_error:ratio_rate1h > 14.4 * ${budget}\n  and slo:api_availability_error:ratio_rate5m > 14.4 * ${budget}`);
    expect(page.expr).toContain(`slo:api_availability_error:ratio_rate6h > 6 * ${budget}\n  and slo:api_availability_error:ratio_rate30m > 6 * ${budget}`);
    expect(ticket.expr).toContain(`slo:api_availability_error:ratio_rate1d > 3 * ${budget}\n  and slo:api_availability_error:ratio_rate2h > 3 * ${budget}`);
    expect(ticket.expr).toContain(`slo:api_availability_error:ratio_rate3d > 1 * ${budget}\n  and slo:api_availability_error:ratio_rate6h > 1 * ${budget}`);
    const latency = groups.get('slo-api-latency')!.find((r) => r.record === 'slo:api_latency_error:ratio_rate5m')!;
    expect(latency.expr).toContain(`le=~"${config.apiLatency.thresholdMs}(\\\\.0)?"`);
  });

  it(`${name === 'dev' ? 'does not page' : 'pages on a fast burn'} and opens a ticket on a slow one`, () => {
    const severities = [...groups.values()]
      .flat()
      .filter((r) => r.alert)
      .map((r) => [r.alert!.endsWith('FastBurn') ? 'fast' : 'slow', r.labels!.severity]);
    expect(severities).toHaveLength(8);
    for (const [speed, severity] of severities) expect(severity).toBe(speed === 'fast' && config.paging ? 'critical' : 'warning');
    expect(config.paging).toBe(name !== 'dev');
  });
});

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly { readonly expr: string; readonly instant?: boolean; readonly legendFormat?: string }[];
}

describe.each(ENVIRONMENT_NAMES)('%s SLO dashboard', (name) => {
  const config = environment(name).observability.slos;
  const dashboard = JSON.parse(configMapData(name, 'grafana-dashboards')['slos.json']!) as { title: string; panels: Panel[] };

  it('shows per SLO its objective, the budget left over its window and the burn rate over every window', () => {
    const all = slos({ slos: config, kongNamespace: 'unused' });
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Burn-rate alerts', ...all.map((s) => `${s.title}: ${s.objective}% over ${s.window}`)]);
    for (const [i, slo] of all.entries()) {
      const start = dashboard.panels.findIndex((p) => p.title === rows[i + 1]);
      const [objective, sli, budget, burn] = dashboard.panels.slice(start + 1, start + 5);
      expect(objective!.targets![0]!.expr).toBe(`vector(${Number((slo.objective / 100).toFixed(6))})`);
      expect(sli!.title).toBe(`Over the last ${slo.window}`);
      expect(sli!.targets![0]!.expr).toContain(`[${slo.window}]`);
      expect(budget!.title).toBe('Error budget left');
      expect(budget!.targets![0]!.expr).toMatch(new RegExp(`\\[${slo.window}\\][\\s\\S]*\\) / ${slo.budget}$`));
      // A whole window of raw counters: asked for once, not at every point of the time range.
      expect([sli!.targets![0]!.instant, budget!.targets![0]!.instant]).toEqual([true, true]);
      expect(burn!.targets!.map((t) => t.expr)).toEqual(SLO_WINDOWS.map((w) => `${recordName(slo, w)} / ${slo.budget}`));
    }
  });
});
