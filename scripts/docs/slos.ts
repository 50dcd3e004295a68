// Tables of docs/slos.md: each environment's objectives, the burn-rate alerts, and the times the
// promtool cases prove (from the same data as the rules and their cases).
import { burnCaseTimes } from '../../charts/observability/rules/slo';
import { BURN_RATE_ALERTS, budgetSpent, exhaustion, slos } from '../../charts/observability/slos';
import type { Environment } from '../../environments/schema';

const pct = (share: number) => `${Number((share * 100).toPrecision(4))}%`;

/** Minutes in words: "52 min", "38 h". */
function minutes(m: number): string {
  return m < 120 ? `${m} min` : `${Number((m / 60).toFixed(1))} h`;
}

/** The SLOs of every environment, side by side. */
export function sloTable(envs: Environment[]): string {
  const per = envs.map((e) => slos({ slos: e.observability.slos, kongNamespace: 'supabase' }));
  const rows = per[0]!.map((slo, i) => {
    const cells = per.map((list) => {
      const s = list[i]!;
      return s.kind === 'latency' ? `${s.objective}% within ${s.thresholdMs} ms over ${s.window}` : `${s.objective}% over ${s.window}`;
    });
    return `| ${slo.title} | ${slo.route} | ${cells.join(' | ')} |`;
  });
  return [
    `| SLO | Kong service | ${envs.map((e) => e.name).join(' | ')} |`,
    `| --- | --- |${envs.map(() => ' --- |').join('')}`,
    ...rows,
    `| a fast burn | | ${envs.map((e) => (e.observability.slos.paging ? 'pages (critical)' : 'warning, no page')).join(' | ')} |`,
  ].join('\n');
}

/** The burn-rate alerts, with what they mean for a 30-day window and a 99.9% objective. */
export function burnTable(): string {
  return [
    '| alert | severity | long window | short window | burn rate | budget of a 30d window spent over the long window | error ratio that fires at 99.9% | a 30d budget lasts |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...BURN_RATE_ALERTS.map(
      (a) =>
        `| ${a.kind === 'page' ? '`Slo*FastBurn` (page)' : '`Slo*SlowBurn` (ticket)'} | ${a.kind === 'page' ? 'critical' : 'warning'} | ${a.long} | ${a.short} | ${a.burnRate} | ${pct(budgetSpent('30d', a))} | ${pct(a.burnRate * 0.001)} | ${exhaustion('30d', a.burnRate)} |`,
    ),
  ].join('\n');
}

/** The firing cases of every SLO of one environment and when each fires, after its errors began. */
export function caseTable(env: Environment): string {
  const list = slos({ slos: env.observability.slos, kongNamespace: 'supabase' });
  return [
    '| SLO | budget | traffic | alert | quiet at | fires at | evaluated every |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...list.flatMap((slo) =>
      burnCaseTimes(slo).map(
        (c) =>
          `| ${slo.title} | ${pct(slo.budget)} | ${c.what} | ${c.kind === 'page' ? `\`Slo${slo.name}FastBurn\`` : `\`Slo${slo.name}SlowBurn\``} | ${minutes(c.quiet)} | ${minutes(c.fires)} | ${minutes(c.step)} |`,
      ),
    ),
  ].join('\n');
}
