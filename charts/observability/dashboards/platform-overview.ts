// The first screen of an incident: is anything down, what is alerting, and which namespace is
// short of pods, CPU or memory. Detail lives in the per-component dashboards.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, platformDashboard, sel, thresholds } from './panels';

export function platformOverview(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const ns = Object.values(ctx.namespaces).join('|');
  const inPlatform = (...matchers: string[]) => sel({}, `namespace=~"${ns}"`, ...matchers);
  // kube-state-metrics keeps finished pods until they are deleted; their requests hold nothing.
  const live = `on (namespace, pod) group_left () (kube_pod_status_phase${inPlatform('phase=~"Pending|Running"')} == 1)`;
  const requests = (resource: string) => `sum by (namespace) (kube_pod_container_resource_requests${inPlatform(`resource="${resource}"`)} * ${live})`;
  // cAdvisor also reports the pod's sandbox and cgroup totals, without a container name.
  const containers = inPlatform('container!=""', 'container!="POD"');

  return dashboardFile(
    platformDashboard('platform-overview', 'Platform overview', 'Targets, alerts, pods and resources of every platform namespace.', ['overview'])
      .withRow(new RowBuilder('Health'))
      .withPanel(
        p.stat({
          title: 'Targets up per job',
          description: "Share of each job's scrape targets that answered the last scrape. Below 100% a target is down: its metrics and alerts are blind.",
          queries: [{ expr: 'sum by (job) (up) / count by (job) (up)', legend: '{{job}}' }],
          unit: units.PercentUnit,
          thresholds: thresholds([
            [null, 'red'],
            [1, 'green'],
          ]),
          width: 16,
          height: 6,
        }),
      )
      .withPanel(
        p.countExpectingNone({
          title: 'Firing alerts by severity',
          description: 'Alerts firing now (the Watchdog and InfoInhibitor, which always fire by design, excluded). Details in Alertmanager.',
          queries: [{ expr: 'sum by (severity) (ALERTS{alertstate="firing",alertname!~"Watchdog|InfoInhibitor"})', legend: '{{severity}}' }],
          color: 'red',
          width: 8,
          height: 6,
        }),
      )
      .withRow(new RowBuilder('Pods'))
      .withPanel(
        p.timeseries({
          title: 'Pods not ready by namespace',
          description: 'Pods waiting to be scheduled or started, and running pods that fail their readiness probe (so receive no traffic).',
          queries: [
            { expr: `sum by (namespace) (kube_pod_status_phase${inPlatform('phase="Pending"')})`, legend: '{{namespace}} pending' },
            {
              expr: `sum by (namespace) (kube_pod_status_ready${inPlatform('condition="false"')} and on (namespace, pod) (kube_pod_status_phase{phase="Running"} == 1))`,
              legend: '{{namespace}} running, not ready',
            },
          ],
          unit: units.Short,
          min: 0,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Container restarts (per hour)',
          description: 'Restarts in the hour before each point, per pod. A rising line is a crash loop or an OOM kill: see the waiting reasons.',
          queries: [
            { expr: `sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total${inPlatform()}[1h])) > 0`, legend: '{{namespace}}/{{pod}}' },
          ],
          unit: units.Short,
          min: 0,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Containers waiting, by reason',
          description: 'Containers that are not running and why (CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError...).',
          queries: [{ expr: `sum by (namespace, reason) (kube_pod_container_status_waiting_reason${inPlatform()}) > 0`, legend: '{{namespace}}: {{reason}}' }],
          unit: units.Short,
          min: 0,
          width: 24,
        }),
      )
      .withRow(new RowBuilder('Resources'))
      .withPanel(
        p.timeseries({
          title: 'CPU by namespace vs requests',
          description:
            "CPU cores used (solid) against the cores the namespace's running pods request. Use far above requests means throttling and noisy neighbours.",
          queries: [
            { expr: `sum by (namespace) (rate(container_cpu_usage_seconds_total${containers}[$__rate_interval]))`, legend: '{{namespace}} used' },
            { expr: requests('cpu'), legend: '{{namespace}} requested' },
          ],
          unit: units.Short,
          min: 0,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Memory by namespace vs requests',
          description: "Working-set memory (what the OOM killer counts) against the memory the namespace's running pods request.",
          queries: [
            { expr: `sum by (namespace) (container_memory_working_set_bytes${containers})`, legend: '{{namespace}} used' },
            { expr: requests('memory'), legend: '{{namespace}} requested' },
          ],
          unit: units.BytesIEC,
          min: 0,
        }),
      ),
  );
}
