// The environment's service-level objectives: per SLO its objective, how much of the error budget
// is left over the window, and how fast it burns over each window of the burn-rate alerts (the
// Google SRE Workbook, "Alerting on SLOs", https://sre.google/workbook/alerting-on-slos/). The
// burn rates read the recorded ratios (rules/slo.ts); the budget over the whole window is one
// instant query over Kong's counters, since no window that long is recorded.
import { GraphThresholdsStyleConfigBuilder, GraphThresholdsStyleMode } from '@grafana/grafana-foundation-sdk/common';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { BURN_RATE_ALERTS, DEFAULT_SLOS, recordName, SLO_WINDOWS, slos } from '../slos';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, platformDashboard, thresholds } from './panels';

/** Decimal places of an objective such as 99.95 (2), so that it shows as written. */
const decimalsOf = (objective: number) => (String(objective).split('.')[1] ?? '').length;

export function sloDashboard(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const all = slos({ slos: ctx.slos ?? DEFAULT_SLOS, kongNamespace: ctx.namespaces.supabase });
  const burnSteps = [...new Set(BURN_RATE_ALERTS.map((a) => a.burnRate))].sort((a, b) => a - b);
  const builder = platformDashboard(
    'slos',
    'Service-level objectives',
    'Each SLO: its objective, the error budget left over its window and how fast it burns. The burn-rate alerts page above 14.4 (1h and 5m) or 6 (6h and 30m) and open a ticket above 3 (1d and 2h) or 1 (3d and 6h).',
    ['slo', 'kong'],
  )
    .time({ from: 'now-7d', to: 'now' })
    .withRow(new RowBuilder('Burn-rate alerts'))
    .withPanel(
      p.table({
        title: 'Burn-rate alerts firing',
        description: 'The SLO alerts firing now: a FastBurn at severity critical pages, a SlowBurn (warning) is a ticket. Empty is good.',
        queries: [{ expr: 'sum by (alertname, severity, namespace) (ALERTS{alertname=~"Slo[A-Za-z]+", alertstate="firing"})' }],
        width: 24,
        height: 5,
      }),
    );

  for (const slo of all) {
    const decimals = decimalsOf(slo.objective);
    const objective = Number((slo.objective / 100).toFixed(6));
    const ratio = slo.errorRatio(slo.window);
    const what = slo.kind === 'latency' ? `requests answered within ${slo.thresholdMs} ms` : 'requests that did not fail';
    builder
      .withRow(new RowBuilder(`${slo.title}: ${slo.objective}% over ${slo.window}`))
      .withPanel(
        p
          .stat({
            title: 'Objective',
            description: `${slo.objective}% of ${slo.route}: a good event is ${slo.sli}. Set in observability.slos.${slo.id} of the environment.`,
            queries: [{ expr: `vector(${objective})` }],
            unit: units.PercentUnit,
            thresholds: thresholds([[null, 'blue']]),
            width: 4,
            height: 8,
          })
          .decimals(decimals),
      )
      .withPanel(
        p
          .stat({
            title: `Over the last ${slo.window}`,
            description: `Share of ${what} over the SLO's whole window (4xx, the client's errors, left out). Red below the objective.`,
            queries: [{ expr: `1 - (\n${ratio}\n)` }],
            unit: units.PercentUnit,
            thresholds: thresholds([
              [null, 'red'],
              [objective, 'green'],
            ]),
            noValue: 'no traffic',
            instant: true,
            width: 4,
            height: 8,
          })
          .decimals(decimals + 1),
      )
      .withPanel(
        p
          .stat({
            title: 'Error budget left',
            description: `The share of the ${slo.window} budget (${Number((slo.budget * 100).toPrecision(4))}% of the events may be bad) not yet spent. Below 0 the SLO is missed for the window.`,
            queries: [{ expr: `1 - (\n${ratio}\n) / ${slo.budget}` }],
            unit: units.PercentUnit,
            thresholds: thresholds([
              [null, 'red'],
              [0, 'orange'],
              [0.25, 'green'],
            ]),
            noValue: 'no traffic',
            instant: true,
            width: 4,
            height: 8,
          })
          .decimals(1),
      )
      .withPanel(
        p
          .timeseries({
            title: 'Burn rate by window',
            description:
              "Error ratio over each window divided by the budget: 1 spends the budget exactly over the SLO window. The dashed lines are the alerts' thresholds; an alert needs its long and its short window above the same line (14.4: 1h and 5m, 6: 6h and 30m, 3: 1d and 2h, 1: 3d and 6h).",
            queries: SLO_WINDOWS.map((w) => ({ expr: `${recordName(slo, w)} / ${slo.budget}`, legend: w })),
            min: 0,
            width: 12,
            height: 8,
          })
          .thresholds(thresholds([[null, 'green'], ...burnSteps.map((b, i): [number, string] => [b, ['yellow', 'orange', 'red', 'dark-red'][i] ?? 'red'])]))
          .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed)),
      );
  }
  return dashboardFile(builder);
}
