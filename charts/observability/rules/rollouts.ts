// Releases of the api through Argo Rollouts: a Rollout left Degraded (an aborted canary, or one
// past its progress deadline) and a failed canary analysis. The controller's series carry the
// Rollout's own namespace and name: its scrape job adds no namespace label of its own.
import { JOBS } from '../metrics-catalogue';
import { series } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

export function rolloutsRules(ctx: RuleContext): RuleGroupSpec {
  const app = ctx.namespaces.app;
  const ROLLOUTS = `job="${JOBS.rollouts}"`;
  const controller = { job: JOBS.rollouts, pod: 'argo-rollouts-5b7d9f6c8-m4n8r', instance: '10.0.4.3:8090', namespace: app };
  const rollout = (phase: string) => [series('rollout_info', { ...controller, name: 'api', phase, strategy: 'canary', traffic_router: '' }, '1x20')];
  const analysisRun = (phase: string) => [series('analysis_run_info', { ...controller, name: 'api-6d8f7c9b5-4', phase }, '1x120')];

  return {
    name: 'rollouts',
    rules: [
      {
        alert: 'RolloutDegraded',
        expr: `max by (namespace, name) (rollout_info{${ROLLOUTS}, phase="Degraded"}) == 1`,
        for: '1m',
        severity: 'warning',
        team: 'app',
        summary: 'Rollout {{ $labels.namespace }}/{{ $labels.name }} is Degraded.',
        description:
          'Rollout {{ $labels.namespace }}/{{ $labels.name }} is Degraded: its canary was aborted (by a failed analysis or by hand) or it missed its progress deadline. The previous version keeps serving.',
        runbook: {
          meaning:
            'Argo Rollouts marks a Rollout Degraded when a release was aborted (a failed AnalysisRun aborts the canary automatically) or its pods did not become available in time. The stable ReplicaSet (the old version) serves all traffic again.',
          impact:
            'The new version of the api is not live, and the Rollout stays Degraded for as long as Git names the rejected image: Argo CD shows the app layer Degraded and later releases wait. Users are served by the previous version.',
          diagnosis: [
            `What happened: \`kubectl argo rollouts get rollout api -n ${app}\` (the status message says "RolloutAborted" and which step, or "ProgressDeadlineExceeded").`,
            `The analysis behind an abort: \`kubectl get analysisruns -n ${app}\` and \`kubectl describe analysisrun -n ${app} <name>\` (each measurement, its value and which condition failed).`,
            `The canary pods' own view: \`kubectl logs -n ${app} -l app.kubernetes.io/name=api,rollouts-pod-template-hash=<canary hash> --tail=200\`.`,
          ],
          mitigation: [
            'Make Git the truth again: revert the promote commit (or promote the previous digest with `npm run promote`) and merge; the Rollout becomes Healthy. See docs/runbooks/deployment.md.',
            `If the analysis was wrong rather than the release (Prometheus unreachable, no traffic), fix that and run the release again: \`kubectl argo rollouts retry rollout api -n ${app}\`.`,
          ],
        },
        tests: {
          fires: [{ series: rollout('Degraded'), at: '5m', alerts: [{ namespace: app, name: 'api' }] }],
          quiet: [
            { series: rollout('Paused'), at: '5m' },
            { series: rollout('Healthy'), at: '5m' },
          ],
        },
      },
      {
        alert: 'RolloutAnalysisRunFailed',
        expr: [
          `max by (namespace, name) (analysis_run_info{${ROLLOUTS}, phase=~"Failed|Error"}) == 1`,
          // A failed AnalysisRun object lives on (Argo Rollouts keeps the last few): only its first hour is news.
          `unless on (namespace, name) max by (namespace, name) (analysis_run_info{${ROLLOUTS}, phase=~"Failed|Error"} offset 1h)`,
        ].join('\n'),
        severity: 'warning',
        team: 'app',
        summary: 'Canary analysis {{ $labels.namespace }}/{{ $labels.name }} failed.',
        description:
          "AnalysisRun {{ $labels.namespace }}/{{ $labels.name }} ended Failed or Error in the last hour: the canary's error ratio or p95 latency crossed its limit, or the measurement itself failed. Its release was aborted.",
        runbook: {
          meaning:
            "The AnalysisRun that Argo Rollouts starts for every canary step measured the canary pods' 5xx ratio and p95 latency in Prometheus. Failed: a value crossed the limit more often than the failure limit allows. Error: the queries themselves failed repeatedly (Prometheus unreachable or returning errors).",
          impact:
            'The release was stopped and the api rolled back to the stable version (RolloutDegraded follows). Nothing is broken for users; the change is not shipped.',
          diagnosis: [
            `The measurements: \`kubectl describe analysisrun -n ${app} <name>\` lists each measurement's value, phase and message.`,
            "Failed: look at the canary's errors and latency in Grafana (api dashboard, filtered by rollouts_pod_template_hash) and its logs; compare with the stable version.",
            'Error: the Rollouts controller cannot reach Prometheus (NetworkPolicy in the observability namespace, Prometheus down); see docs/runbooks/deployment.md "When the analysis itself is wrong".',
          ],
          mitigation: [
            'A real regression: fix it in the product and release again; revert the promote commit meanwhile so Git matches what runs.',
            `A broken measurement: fix the path to Prometheus, then \`kubectl argo rollouts retry rollout api -n ${app}\`.`,
          ],
        },
        tests: {
          fires: [{ series: analysisRun('Failed'), at: '30m', alerts: [{ namespace: app, name: 'api-6d8f7c9b5-4' }] }],
          quiet: [
            { series: analysisRun('Successful'), at: '30m' },
            // The same failed run an hour later is old news.
            { series: analysisRun('Failed'), at: '90m' },
          ],
        },
      },
    ],
  };
}
