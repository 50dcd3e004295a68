// The operators the platform runs under, as the alerts of rules/operators.ts see them: whether
// each is scraped and up, certificates and their expiry, Argo CD's Applications, ExternalSecrets,
// Kyverno's admission decisions, and CloudNativePG's operator reconciling. Each operator watches
// the whole cluster, so the panels show every object it manages; Kyverno's refusals are those in
// the platform's namespaces.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { JOBS } from '../metrics-catalogue';
import { OPERATOR_JOBS } from '../operators';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, okMapping, platformDashboard, sel, thresholds } from './panels';

export function operators(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const job = (name: string, ...matchers: string[]) => sel({ job: name }, ...matchers);
  const certs = job(JOBS.certManager);
  const apps = job(JOBS.argocdApplicationController);
  const eso = job(JOBS.externalSecrets);
  const kyverno = job(JOBS.kyverno);
  const cnpg = job(JOBS.cnpgOperator);
  const platformNamespaces = `resource_namespace=~"${[ctx.namespaces.supabase, ctx.namespaces.app, ctx.namespaces.observability].join('|')}"`;

  return dashboardFile(
    platformDashboard(
      'operators',
      'Operators',
      'cert-manager, Argo CD, External Secrets, Kyverno, CloudNativePG and Argo Rollouts: up, certificates, Applications, secret syncs, admission, reconciles.',
      ['operators'],
    )
      .withRow(new RowBuilder('Status'))
      .withPanel(
        p.stat({
          title: 'Operators up',
          description:
            "Per operator job, whether every pod answered its last scrape. DOWN: the pods are not ready or the operator's namespace does not admit Prometheus; a job missing here is not scraped at all (OperatorDown). External Secrets is scraped only where secrets come from it.",
          queries: [{ expr: `min by (job) (up${sel({}, `job=~"${OPERATOR_JOBS.join('|')}"`)})`, legend: '{{job}}' }],
          mappings: okMapping('DOWN', 'UP'),
          width: 24,
        }),
      )
      .withRow(new RowBuilder('Certificates (cert-manager)'))
      .withPanel(
        p.stat({
          title: 'Days until expiry',
          description:
            "Each Certificate's current certificate, days left. cert-manager renews 15 to 30 days ahead, so under 14 days means renewals are failing (CertificateExpiringSoon).",
          queries: [
            {
              expr: `sort((max by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds${certs} > 0) - time()) / 86400)`,
              legend: '{{namespace}}/{{name}}',
            },
          ],
          unit: units.Short,
          thresholds: thresholds([
            [null, 'red'],
            [3, 'orange'],
            [14, 'green'],
          ]),
          width: 12,
          height: 6,
        }),
      )
      .withPanel(
        p.table({
          title: 'Certificates not Ready',
          description: 'Certificates whose Ready condition is False or Unknown, with their issuer (CertificateNotReady). Empty is good.',
          queries: [
            {
              expr: `max by (namespace, name, issuer_name, condition) (certmanager_certificate_ready_status${job(JOBS.certManager, 'condition!="True"')} == 1)`,
            },
          ],
          width: 6,
          height: 6,
        }),
      )
      .withPanel(
        p.table({
          title: 'Renewals overdue',
          description:
            'Certificates whose renewal time passed more than an hour ago: renewals are failing while the current certificate is still valid (CertificateRenewalOverdue). Empty is good.',
          queries: [{ expr: `max by (namespace, name, issuer_name) (certmanager_certificate_renewal_timestamp_seconds${certs} > 0) < time() - 3600` }],
          width: 6,
          height: 6,
        }),
      )
      .withRow(new RowBuilder('Applications (Argo CD)'))
      .withPanel(
        p.countExpectingNone({
          title: 'Applications out of sync',
          description: 'Applications whose live state differs from Git. Brief during a sync; lasting, a sync that fails (ArgoCDApplicationOutOfSync).',
          queries: [{ expr: `count(argocd_app_info${job(JOBS.argocdApplicationController, 'sync_status!="Synced"')})` }],
          color: 'orange',
          width: 6,
        }),
      )
      .withPanel(
        p.countExpectingNone({
          title: 'Applications not healthy',
          description: 'Applications whose health is not Healthy: Progressing during a release, Degraded when a resource failed (ArgoCDApplicationDegraded).',
          queries: [{ expr: `count(argocd_app_info${job(JOBS.argocdApplicationController, 'health_status!="Healthy"')})` }],
          color: 'orange',
          width: 6,
        }),
      )
      .withPanel(
        p.table({
          title: 'Applications not Synced and Healthy',
          description: 'Each Application whose sync or health status is not the good one, with both statuses.',
          queries: [
            {
              expr: `max by (name, project, sync_status, health_status) (argocd_app_info${job(JOBS.argocdApplicationController, 'sync_status!="Synced"')} or argocd_app_info${job(JOBS.argocdApplicationController, 'health_status!="Healthy"')})`,
            },
          ],
          width: 12,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Syncs by phase',
          description:
            'Sync operations Argo CD finished, by result. Failed or Error syncs are retried; a steady stream of them is an Application that cannot be applied.',
          queries: [{ expr: `sum by (phase) (increase(argocd_app_sync_total${apps}[$__rate_interval]))`, legend: '{{phase}}' }],
          unit: units.Short,
          min: 0,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Git fetch failures',
          description: 'Failed fetches of the platform repository (and any other) by the repo server: Applications then show Unknown or stale state.',
          queries: [{ expr: `sum by (repo) (increase(argocd_git_fetch_fail_total${job(JOBS.argocdRepoServer)}[$__rate_interval]))`, legend: '{{repo}}' }],
          unit: units.Short,
          min: 0,
        }),
      )
      .withRow(new RowBuilder('Secrets (External Secrets; staging, production)'))
      .withPanel(
        p.countExpectingNone({
          title: 'ExternalSecrets not Ready',
          description: 'ExternalSecrets whose last refresh failed: their Secrets keep the last value, rotations do not arrive (ExternalSecretSyncFailed).',
          queries: [{ expr: `count(externalsecret_status_condition${job(JOBS.externalSecrets, 'condition="Ready"', 'status="False"')} == 1)` }],
          color: 'red',
          width: 6,
        }),
      )
      .withPanel(
        p.stat({
          title: 'Secret stores Ready',
          description:
            'The ClusterSecretStore every ExternalSecret reads from (and any SecretStore). NOT READY: the secret manager is unreachable or its credentials are wrong, and every sync fails.',
          queries: [
            {
              expr: `max by (name) (clustersecretstore_status_condition${job(JOBS.externalSecrets, 'condition="Ready"', 'status="True"')})`,
              legend: '{{name}}',
            },
            {
              expr: `max by (namespace, name) (secretstore_status_condition${job(JOBS.externalSecrets, 'condition="Ready"', 'status="True"')})`,
              legend: '{{namespace}}/{{name}}',
            },
          ],
          mappings: okMapping('NOT READY', 'READY'),
          width: 6,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Sync errors by namespace',
          description:
            "Failed refreshes per second. Each ExternalSecret refreshes on its interval; errors that persist show here before the alert's 15 minutes.",
          queries: [{ expr: `sum by (namespace) (rate(externalsecret_sync_calls_error${eso}[$__rate_interval]))`, legend: '{{namespace}}' }],
          unit: units.RequestsPerSecond,
          min: 0,
          width: 12,
        }),
      )
      .withRow(new RowBuilder('Admission (Kyverno)'))
      .withPanel(
        p.timeseries({
          title: 'Admission requests by decision',
          description: "Requests Kyverno's webhooks answered in the whole cluster, allowed or refused.",
          queries: [
            { expr: `sum by (request_allowed) (rate(kyverno_admission_requests_total${kyverno}[$__rate_interval]))`, legend: 'allowed={{request_allowed}}' },
          ],
          unit: units.RequestsPerSecond,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: "Refused in the platform's namespaces",
          description:
            "Requests refused by the platform's policies (unsigned product images, Jobs that are not the on-demand templates), by namespace and kind (KyvernoAdmissionDenied).",
          queries: [
            {
              expr: `sum by (resource_namespace, resource_kind) (increase(kyverno_admission_requests_total${job(JOBS.kyverno, 'request_allowed="false"', platformNamespaces)}[$__rate_interval]))`,
              legend: '{{resource_namespace}} {{resource_kind}}',
            },
          ],
          unit: units.Short,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: "Rule errors in the platform's namespaces",
          description:
            'Rule evaluations that ended in error (registry or transparency log unreachable, a broken rule): with failurePolicy Fail the request is refused (KyvernoPolicyErrors).',
          queries: [
            {
              expr: `sum by (policy_name, rule_name) (increase(kyverno_policy_results_total${job(JOBS.kyverno, 'rule_result="error"', platformNamespaces)}[$__rate_interval]))`,
              legend: '{{policy_name}}/{{rule_name}}',
            },
          ],
          unit: units.Short,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Admission review p95',
          description:
            'How long Kyverno takes to answer a request, 95th percentile. Image verification calls the registry and Rekor; near the webhook timeout (10 s, 30 s for images) requests start failing.',
          queries: [
            {
              expr: `histogram_quantile(0.95, sum by (le) (rate(kyverno_admission_review_duration_seconds_bucket${kyverno}[$__rate_interval])))`,
              legend: 'p95',
            },
          ],
          unit: units.Seconds,
          min: 0,
          width: 12,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Policy results by result',
          description: "Rule results for requests in the platform's namespaces: pass, fail (a refusal by an enforcing rule), error, skip.",
          queries: [
            {
              expr: `sum by (rule_result) (rate(kyverno_policy_results_total${job(JOBS.kyverno, platformNamespaces)}[$__rate_interval]))`,
              legend: '{{rule_result}}',
            },
          ],
          unit: units.OpsPerSecond,
          min: 0,
          width: 12,
        }),
      )
      .withRow(new RowBuilder('CloudNativePG operator'))
      .withPanel(
        p.timeseries({
          title: 'Reconcile errors by controller',
          description:
            'Reconciles of Clusters, Backups, ScheduledBackups, Poolers ... that ended in an error. Errors that do not stop mean the operator cannot act on an object: no failover, no backup (CloudNativePGReconcileErrors).',
          queries: [{ expr: `sum by (controller) (increase(controller_runtime_reconcile_errors_total${cnpg}[$__rate_interval]))`, legend: '{{controller}}' }],
          unit: units.Short,
          min: 0,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Reconciles by result',
          description: 'Reconciles per second, by controller and result (success, requeue, requeue_after, error).',
          queries: [
            { expr: `sum by (controller, result) (rate(controller_runtime_reconcile_total${cnpg}[$__rate_interval]))`, legend: '{{controller}} {{result}}' },
          ],
          unit: units.OpsPerSecond,
          min: 0,
        }),
      ),
  );
}
