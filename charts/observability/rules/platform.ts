// The monitoring pipeline watching itself: the dead man's switch, scrape targets that stopped
// answering, and rules that fail to evaluate (which would silently keep other alerts quiet).
import { JOBS } from '../metrics-catalogue';
import { OPERATOR_JOBS } from '../operators';
import { series, target } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

export function platformRules(ctx: RuleContext): RuleGroupSpec {
  const obs = ctx.namespaces.observability;
  const prometheusPod = target(JOBS.prometheus, obs, 'prometheus-0', 'prometheus', '10.0.3.20:9090');
  // node-exporter targets are nodes: no namespace, the node's name as instance.
  const nodeExporters = (down: number) =>
    Array.from({ length: 11 }, (_, i) => series('up', { job: JOBS.nodeExporter, instance: `ip-10-0-1-${i + 10}` }, i < down ? '0x20' : '1x20'));
  const ruleGroup = '/etc/prometheus/rules/postgres.rules.yaml;postgres';
  // The operators' jobs have OperatorDown (operators.ts), with their own runbook.
  const UP = `up{job!~"${OPERATOR_JOBS.join('|')}"}`;
  return {
    name: 'platform',
    rules: [
      {
        alert: 'Watchdog',
        expr: 'vector(1)',
        severity: 'info',
        team: 'platform',
        summary: 'Always firing: proves that Prometheus evaluates rules and Alertmanager delivers them.',
        description:
          "This alert fires all the time on purpose. Alertmanager routes it to the dead man's switch, which raises the alarm when the Watchdog stops arriving, i.e. when Prometheus or Alertmanager is down or cannot notify.",
        runbook: {
          meaning:
            "A dead man's switch. `vector(1)` is always true, so as long as Prometheus evaluates the platform group and Alertmanager can deliver notifications, the Watchdog reaches the heartbeat receiver that Alertmanager routes it to (never a person). The alert is the signal that everything works; its absence is the problem.",
          impact:
            'None while it fires. If the heartbeat service reports that the Watchdog stopped arriving, every other alert of the platform may be silent too: nobody would be told about a database outage.',
          diagnosis: [
            `Check that Prometheus and Alertmanager run: \`kubectl -n ${obs} get pods\` (look for restarts and Pending pods).`,
            `Check that Prometheus has loaded the rules: \`kubectl -n ${obs} port-forward svc/prometheus 9090\` and open \`/rules\` (the platform group must be listed, with no evaluation error), or \`/api/v1/rules\`.`,
            'Check that Prometheus reaches Alertmanager: `prometheus_notifications_alertmanagers_discovered` must be at least 1 and `rate(prometheus_notifications_dropped_total[5m])` zero.',
            `Check Alertmanager's delivery: \`kubectl -n ${obs} logs -l app.kubernetes.io/name=alertmanager\` for errors from the heartbeat receiver, and \`alertmanager_notifications_failed_total\`.`,
          ],
          mitigation: [
            `Restart whichever of Prometheus and Alertmanager is unhealthy (\`kubectl -n ${obs} delete pod -l app.kubernetes.io/name=<prometheus or alertmanager>\`; its controller recreates it) and check its logs for the cause (configuration reload failure, full volume, OOM kill).`,
            'If the rules failed to load, fix the rule in `charts/observability/rules/`, run `npm test` (promtool checks every rule) and merge; Argo CD syncs the ConfigMap.',
            "If only the heartbeat receiver is unreachable (network policy, expired token), fix its configuration; until then the platform is alerting but its dead man's switch is blind.",
          ],
        },
        tests: { fires: [{ series: [], at: '1m', alerts: [{}] }], quiet: [] },
      },
      {
        alert: 'TargetDown',
        expr: `100 * (count by (job, namespace) (${UP} == 0) / count by (job, namespace) (${UP})) > 10`,
        for: '10m',
        severity: 'warning',
        team: 'platform',
        summary: 'More than 10% of the {{ $labels.job }} targets are down.',
        description:
          'Prometheus has failed to scrape more than 10% of the {{ $labels.job }} targets for 10 minutes. Their metrics are missing, so alerts that depend on them cannot fire.',
        runbook: {
          meaning:
            "Scrapes of a job's targets fail (`up == 0`): the pod does not answer on its metrics port, answers with an error, or takes longer than the scrape timeout. Each job is one kind of workload (`postgres`, `kong`, `api`, `node-exporter`, ...). The operators' jobs (cert-manager, Argo CD, Kyverno, ...) are OperatorDown's.",
          impact:
            'Missing metrics: dashboards show gaps and the alerts built on that job stay quiet even if the workload is broken. For a single-instance job such as `postgres` or `redis` it usually means the workload itself is in trouble.',
          diagnosis: [
            `See which targets fail and why: port-forward Prometheus (\`kubectl -n ${obs} port-forward svc/prometheus 9090\`) and open \`/targets\`; the "Error" column says timeout, connection refused or HTTP status.`,
            'Look at the pods of the job: `kubectl -n <namespace> get pods -l app.kubernetes.io/name=<job> -o wide` and `kubectl -n <namespace> describe pod <pod>`.',
            'A sidecar exporter (postgres, redis) may be down while the server runs: `kubectl -n <namespace> logs <pod> -c exporter`.',
            'node-exporter, kubelet and cadvisor targets are nodes (`instance` is the node name): check the node (`kubectl describe node <instance>`, KubeNodeNotReady) and, for node-exporter, its DaemonSet pod on that node.',
            `Connection refused or timeouts on every target of a namespace point at the NetworkPolicy: each workload admits its metrics port only from the ${obs} namespace (\`kubectl -n <namespace> get networkpolicy <job> -o yaml\`).`,
          ],
          mitigation: [
            "Fix the workload the way its own alert's runbook says (PostgresDown, RedisDown, KubePodCrashLooping, ...).",
            'If only the exporter container fails, restart the pod at a quiet moment (`kubectl -n <namespace> delete pod <pod>`) after reading its logs; for the postgres and redis StatefulSets this restarts the server too.',
            'If a NetworkPolicy change blocked scraping, fix the chart that owns it and let Argo CD sync; never edit the policy in the cluster, Argo CD would revert it.',
          ],
        },
        tests: {
          fires: [
            {
              series: [series('up', target(JOBS.postgres, ctx.namespaces.supabase, 'postgres-0', 'exporter', '10.0.2.5:9187'), '0x20')],
              at: '12m',
              alerts: [{ job: JOBS.postgres, namespace: ctx.namespaces.supabase }],
            },
            { series: nodeExporters(2), at: '15m', alerts: [{ job: JOBS.nodeExporter }] },
          ],
          quiet: [
            // Not yet: down for less than 10 minutes.
            { series: [series('up', target(JOBS.postgres, ctx.namespaces.supabase, 'postgres-0', 'exporter', '10.0.2.5:9187'), '0x20')], at: '9m' },
            // One of eleven node exporters (9%) is under the threshold.
            { series: nodeExporters(1), at: '15m' },
            // An operator: OperatorDown says it.
            { series: [series('up', { job: JOBS.certManager, pod: 'cert-manager-7d9c5b6f4-x2k8p', instance: '10.0.5.7:9402' }, '0x20')], at: '12m' },
          ],
        },
      },
      {
        alert: 'PrometheusRuleEvaluationFailures',
        expr: `sum by (namespace, pod, rule_group) (increase(prometheus_rule_evaluation_failures_total{job="${JOBS.prometheus}"}[5m])) > 0`,
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'Prometheus {{ $labels.pod }} fails to evaluate rules of {{ $labels.rule_group }}.',
        description:
          'Rules of group {{ $labels.rule_group }} have failed to evaluate in {{ $labels.pod }} for 15 minutes. A failing alert rule never fires, whatever the state of what it watches.',
        runbook: {
          meaning:
            'An expression in the named rule group returns an error at evaluation time. promtool in `npm test` proves every rule against test data, so in production the cause is nearly always the data: duplicate series ("many-to-many matching not allowed", e.g. two kube-state-metrics replicas or a second scrape of the same target) or a label that changed.',
          impact: 'The alerts (or recording rules) of that group are blind: they will not fire and the dashboards built on recorded series show gaps.',
          diagnosis: [
            `Read the error: \`kubectl -n ${obs} logs <pod> -c prometheus | grep -i "rule"\`, or open \`/rules\` in the Prometheus UI (port-forward \`svc/prometheus 9090\`), which shows the last error of each rule.`,
            'For "many-to-many" errors, find the duplicate: run the rule\'s inner selectors in the UI and look for two series differing only in `instance`, `pod` or `job`.',
            'Check whether a new scrape job or a second kube-state-metrics appeared: `count by (job) (up)`.',
          ],
          mitigation: [
            'Remove the duplicate source (scale the extra exporter down, drop the second scrape job), or make the rule robust with an explicit `max by (...)`/`on (...)` in `charts/observability/rules/`, add a promtool case reproducing the duplicate, and merge.',
            'After the fix, `increase(prometheus_rule_evaluation_failures_total[5m])` returns to 0 and the alert resolves on its own.',
          ],
        },
        tests: {
          fires: [
            {
              series: [series('prometheus_rule_evaluation_failures_total', { ...prometheusPod, rule_group: ruleGroup }, '0+1x30')],
              at: '20m',
              alerts: [{ namespace: obs, pod: 'prometheus-0', rule_group: ruleGroup }],
            },
          ],
          quiet: [
            { series: [series('prometheus_rule_evaluation_failures_total', { ...prometheusPod, rule_group: ruleGroup }, '0+1x30')], at: '10m' },
            // Failures long ago: the counter no longer moves.
            { series: [series('prometheus_rule_evaluation_failures_total', { ...prometheusPod, rule_group: ruleGroup }, '7x30')], at: '20m' },
          ],
        },
      },
    ],
  };
}
