// Releases as they happen: where the api's Rollout is in its canary steps, what its analysis runs
// concluded, how the canary's pods compare with the stable ones, and whether the Deployments
// (worker, scheduler, Supabase services) finished rolling out.
import { CustomVariableBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { HASH_LABEL } from '../../app/canary';
import { JOBS } from '../metrics-catalogue';
import { apiQueries } from './gateway-api';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, platformDashboard, sel } from './panels';

export function releases(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const app = sel({ namespace: ctx.namespaces.app });
  const api = apiQueries(ctx);
  const hash = `{{${HASH_LABEL}}}`;
  const deployments = sel({ namespace: '$namespace' });
  const replicas = (metric: string) => `max by (deployment) (${metric}${deployments})`;
  const { app: appNs, supabase } = ctx.namespaces;

  return dashboardFile(
    platformDashboard('releases', 'Releases', 'Canary progress of the api, its analysis, canary against stable, and Deployment rollouts.', ['releases', 'api'])
      .withVariable(
        new CustomVariableBuilder('namespace')
          .label('Deployments in')
          .values(`${appNs},${supabase}`)
          .current({ text: appNs, value: appNs })
          .options([appNs, supabase].map((ns) => ({ text: ns, value: ns, selected: ns === appNs }))),
      )
      .withRow(new RowBuilder('Rollout'))
      .withPanel(
        p.table({
          title: 'Rollout phase',
          description: 'Each Rollout and its phase now: Paused during a canary pause, Degraded after an abort (Git still names the aborted image).',
          queries: [{ expr: `max by (name, phase, strategy) (rollout_info${app})` }],
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Rollout phase over time',
          description: 'One line per phase a Rollout was in; a release shows as Progressing and Paused steps ending in Healthy, or in Degraded.',
          queries: [{ expr: `max by (name, phase) (rollout_info${app})`, legend: '{{name}}: {{phase}}' }],
          unit: units.Short,
          min: 0,
          max: 1,
          width: 16,
        }),
      )
      .withPanel(
        p.countExpectingNone({
          title: 'Failed analysis runs',
          description: 'Analysis runs whose measurements failed or errored; each one aborted its release. `kubectl describe analysisrun` shows the values.',
          queries: [{ expr: `sum(analysis_run_phase${sel({ namespace: appNs }, 'phase=~"Failed|Error"')})` }],
          color: 'red',
          width: 8,
          height: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Analysis runs by phase',
          description: 'Analysis runs per phase: Running while a canary step is measured, then Successful, Inconclusive (paused for a human), Failed or Error.',
          queries: [{ expr: `sum by (phase) (analysis_run_phase${app})`, legend: '{{phase}}' }],
          unit: units.Short,
          min: 0,
          width: 16,
        }),
      )
      .withRow(new RowBuilder('Canary vs stable (api, by pod-template hash)'))
      .withPanel(
        p.timeseries({
          title: 'API pods per hash',
          description: 'Scraped api pods per pod-template hash: the canary weight as a pod count (10% then 50% then all).',
          queries: [{ expr: `count by (${HASH_LABEL}) (up${sel({ namespace: appNs, job: JOBS.api })})`, legend: hash }],
          unit: units.Short,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Error ratio, canary vs stable',
          description: "Share of 5xx responses per hash, the analysis's error-ratio measure over the dashboard's interval instead of its window.",
          queries: [{ expr: api.errorRatio, legend: hash }],
          unit: units.PercentUnit,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'p95 latency, canary vs stable',
          description: "The 95th percentile response time per hash, the analysis's p95-latency measure.",
          queries: [{ expr: api.durationQuantile(0.95), legend: hash }],
          unit: units.Seconds,
          min: 0,
          width: 8,
        }),
      )
      .withRow(new RowBuilder('Deployments in $namespace'))
      .withPanel(
        p.timeseries({
          title: 'Deployment replicas: desired, updated, available',
          description:
            'A finished rollout has updated = available = desired. Updated stuck below desired is a rollout that cannot progress (image, probe, quota).',
          queries: [
            { expr: replicas('kube_deployment_spec_replicas'), legend: '{{deployment}} desired' },
            { expr: replicas('kube_deployment_status_replicas_updated'), legend: '{{deployment}} updated' },
            { expr: replicas('kube_deployment_status_replicas_available'), legend: '{{deployment}} available' },
          ],
          unit: units.Short,
          min: 0,
          width: 16,
        }),
      )
      .withPanel(
        p.countExpectingNone({
          title: 'Deployments short of available replicas',
          description: 'Deployments with fewer available replicas than desired, now.',
          queries: [{ expr: `count(${replicas('kube_deployment_spec_replicas')} > ${replicas('kube_deployment_status_replicas_available')})` }],
          color: 'orange',
          width: 8,
          height: 8,
        }),
      ),
  );
}
