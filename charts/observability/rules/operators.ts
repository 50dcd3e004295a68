// The operators the platform runs under (charts/observability/operators.ts): cert-manager's
// certificates (expiring within 14 days, a renewal that is overdue, a certificate not Ready), Argo
// CD's Applications (out of sync, Degraded), ExternalSecrets that fail to sync, Kyverno refusing
// or failing to evaluate requests in the platform's namespaces, CloudNativePG's operator failing to
// reconcile, and any operator that is down or not scraped at all. PostgreSQL's own alerts (the
// Cluster's instances, replication, failover) are in postgres.ts, the Barman Cloud Plugin's
// backups in backup.ts, Argo Rollouts' releases in rollouts.ts.
//
// Metric names and labels as each operator emits them at the documented version (see
// metrics-catalogue.ts). The operators' jobs add no namespace label: `namespace`, where a series
// has one, is the namespace of the Certificate, Application or ExternalSecret it describes. Each
// operator watches the whole cluster, so these alerts cover every object it manages, not only the
// platform's; Kyverno's are limited to the platform's namespaces.
import { JOBS } from '../metrics-catalogue';
import { OPERATOR_JOBS, REQUIRED_OPERATOR_JOBS } from '../operators';
import { type Labels, series } from './series';
import type { RuleContext, RuleGroupSpec, Series } from './types';

const DAY = 24 * 3600;

/** An operator's scrape target: job, pod and address, no namespace (prometheus-config.ts). */
function operatorTarget(job: string, pod: string, instance: string): Labels {
  return { job, pod, instance };
}

export function operatorRules(ctx: RuleContext): RuleGroupSpec {
  const { supabase, app } = ctx.namespaces;
  const platformNamespaces = [ctx.namespaces.supabase, ctx.namespaces.app, ctx.namespaces.observability].join('|');
  const job = (name: string) => `job="${name}"`;

  // cert-manager: every Certificate's series carry its namespace and name and its issuer.
  const certManager = operatorTarget(JOBS.certManager, 'cert-manager-7d9c5b6f4-x2k8p', '10.0.5.7:9402');
  const kongTls = { namespace: supabase, name: 'kong-tls' };
  const certificate = { ...certManager, ...kongTls, issuer_name: 'letsencrypt-production', issuer_kind: 'ClusterIssuer', issuer_group: 'cert-manager.io' };
  const expiration = (value: number) => [series('certmanager_certificate_expiration_timestamp_seconds', certificate, `${value}x120`)];
  const renewal = (value: number) => [series('certmanager_certificate_renewal_timestamp_seconds', certificate, `${value}x120`)];
  // One series per condition status; the current one is 1.
  const ready = (status: 'True' | 'False' | 'Unknown') =>
    (['True', 'False', 'Unknown'] as const).map((condition) =>
      series('certmanager_certificate_ready_status', { ...certificate, condition }, `${condition === status ? 1 : 0}x60`),
    );

  // Argo CD: argocd_app_info is 1 for each Application, with its current sync and health status.
  const controller = operatorTarget(JOBS.argocdApplicationController, 'argocd-application-controller-0', '10.0.6.4:8082');
  const appLabels = { namespace: 'argocd', name: 'production-app', project: 'platform-production' };
  const appInfo = (sync: string, health: string) => [
    series(
      'argocd_app_info',
      {
        ...controller,
        ...appLabels,
        autosync_enabled: 'true',
        repo: 'https://git.example.com/defi/supabase-platform',
        dest_server: 'https://kubernetes.default.svc',
        dest_namespace: app,
        sync_status: sync,
        health_status: health,
      },
      '1x60',
    ),
  ];

  // External Secrets: for condition Ready, the series of the current status is 1, the other 0.
  const eso = operatorTarget(JOBS.externalSecrets, 'external-secrets-6b8d9c7f5-p4t2m', '10.0.5.9:8080');
  const jwtSecret = { namespace: supabase, name: 'supabase-jwt' };
  const esReady = (isReady: boolean) => [
    series('externalsecret_status_condition', { ...eso, ...jwtSecret, condition: 'Ready', status: 'True' }, `${isReady ? 1 : 0}x30`),
    series('externalsecret_status_condition', { ...eso, ...jwtSecret, condition: 'Ready', status: 'False' }, `${isReady ? 0 : 1}x30`),
  ];

  // Kyverno: a counter per request shape; a new shape appears with its first request.
  const kyverno = operatorTarget(JOBS.kyverno, 'kyverno-admission-controller-5f6d8b9c7-h2j4k', '10.0.5.11:8000');
  const KYVERNO = job(JOBS.kyverno);
  const DENIED = `${KYVERNO}, request_allowed="false", resource_namespace=~"${platformNamespaces}"`;
  const requests = (namespace: string, allowed: boolean, values: string) => [
    series(
      'kyverno_admission_requests_total',
      {
        ...kyverno,
        request_allowed: String(allowed),
        request_webhook: 'MutatingWebhookConfiguration',
        resource_kind: 'Pod',
        resource_namespace: namespace,
        resource_request_operation: 'create',
      },
      values,
    ),
  ];
  const policyResults = (result: string, values: string) => [
    series(
      'kyverno_policy_results_total',
      {
        ...kyverno,
        policy_name: 'verify-product-images',
        policy_namespace: '-',
        policy_type: 'cluster',
        policy_validation_mode: 'audit',
        policy_background_mode: 'false',
        resource_kind: 'Pod',
        resource_namespace: app,
        resource_request_operation: 'create',
        rule_name: 'signed-by-release-workflow',
        rule_result: result,
        rule_type: 'imageVerify',
        rule_execution_cause: 'admission_request',
        dry_run: 'false',
      },
      values,
    ),
  ];

  // CloudNativePG's operator: controller-runtime's counters, per controller.
  const cnpg = operatorTarget(JOBS.cnpgOperator, 'cnpg-controller-manager-6c9f7d8b5-q7w2n', '10.0.7.2:8080');
  const reconcileErrors = (values: string) => [series('controller_runtime_reconcile_errors_total', { ...cnpg, controller: 'cluster' }, values)];

  // Every operator every environment runs answers, except `down` (0) and `missing` (no target).
  const POD: Record<string, string> = {
    [JOBS.certManager]: 'cert-manager-7d9c5b6f4-x2k8p',
    [JOBS.argocdApplicationController]: 'argocd-application-controller-0',
    [JOBS.argocdServer]: 'argocd-server-7c9f8d6b5-w3r5t',
    [JOBS.argocdRepoServer]: 'argocd-repo-server-5d7b9c8f6-z6x8v',
    [JOBS.kyverno]: 'kyverno-admission-controller-5f6d8b9c7-h2j4k',
    [JOBS.cnpgOperator]: 'cnpg-controller-manager-6c9f7d8b5-q7w2n',
    [JOBS.rollouts]: 'argo-rollouts-5b7d9f6c8-m4n8r',
  };
  const upOf = (name: string, i: number) => operatorTarget(name, POD[name]!, `10.0.8.${i + 2}:9000`);
  const operators = (down?: string, missing?: string): Series[] =>
    REQUIRED_OPERATOR_JOBS.flatMap((name, i) => (name === missing ? [] : [series('up', upOf(name, i), name === down ? '0x20' : '1x20')]));

  return {
    name: 'operators',
    rules: [
      {
        alert: 'CertificateExpiringSoon',
        expr: `max by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds{${job(JOBS.certManager)}} > 0) - time() < 14 * ${DAY}`,
        severity: 'warning',
        team: 'platform',
        summary: 'Certificate {{ $labels.namespace }}/{{ $labels.name }} expires within 14 days.',
        description:
          'The certificate cert-manager keeps for Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 14 days (or has expired). cert-manager renews every certificate of the platform at least 15 days ahead, so renewal has been failing for a day or more.',
        runbook: {
          meaning:
            "cert-manager reports the notAfter time of each Certificate's current certificate (`certmanager_certificate_expiration_timestamp_seconds`, 0 until one is issued). Less than 14 days are left. Every Certificate of the platform renews before that: Kong's public certificate and the PostgreSQL server certificate 30 days ahead (`renewBefore`), the CA bundle at two thirds of its lifetime, the Barman Cloud Plugin's certificates 15 days ahead (its manifest). So renewal has failed for at least a day, and CertificateRenewalOverdue has been firing since.",
          impact:
            "At expiry: for `kong-tls`, every client of the public API, Auth, Realtime and Storage gets a TLS error (a full outage for users); for the PostgreSQL server certificate and CA, clients that verify them (every Supabase service and the product) cannot connect to the database; for the Barman Cloud Plugin's certificates in the CloudNativePG namespace, WAL archiving and backups stop.",
          diagnosis: [
            'Which certificate and why it is not renewed: `kubectl -n <namespace> describe certificate <name>` (the Ready and Issuing conditions and events), then `kubectl -n <namespace> get certificaterequests,orders,challenges` and `describe` the newest of each.',
            "Let's Encrypt (the gateway's issuer): a pending Challenge says why DNS-01 fails (DNS provider credentials in the ClusterIssuer's Secret, a rate limit, a CAA record); `kubectl describe clusterissuer <issuer>` shows whether the ACME account is registered.",
            'cert-manager itself: `kubectl -n cert-manager logs deploy/cert-manager` (or wherever it runs, `operators.certManagerNamespace`), and OperatorDown for the cert-manager job.',
          ],
          mitigation: [
            'Fix the cause (issuer credentials, DNS, rate limit), then renew at once: `cmctl renew -n <namespace> <name>` (or `kubectl cert-manager renew`); the alert resolves when the new certificate is stored.',
            'Kong reloads its certificate from the Secret; check the served certificate with `openssl s_client -connect <domain>:443 -servername <domain> </dev/null | openssl x509 -noout -enddate`.',
            'If the public certificate will expire before the issuer is fixed, issue one from another ACME issuer (a second ClusterIssuer in charts/security) rather than letting it lapse.',
          ],
        },
        tests: {
          fires: [{ series: expiration(13 * DAY), at: '10m', alerts: [kongTls] }],
          quiet: [
            { series: expiration(30 * DAY), at: '10m' },
            // Not issued yet: 0, which CertificateNotReady covers.
            { series: expiration(0), at: '10m' },
          ],
        },
      },
      {
        alert: 'CertificateRenewalOverdue',
        expr: `max by (namespace, name) (certmanager_certificate_renewal_timestamp_seconds{${job(JOBS.certManager)}} > 0) < time() - 3600`,
        severity: 'warning',
        team: 'platform',
        summary: 'Certificate {{ $labels.namespace }}/{{ $labels.name }} is overdue for renewal.',
        description:
          'cert-manager should have renewed Certificate {{ $labels.namespace }}/{{ $labels.name }} more than an hour ago and has not: its renewals are failing. The current certificate is still valid and stays Ready until it expires.',
        runbook: {
          meaning:
            'cert-manager records when each Certificate is due for renewal (`certmanager_certificate_renewal_timestamp_seconds`, from its notAfter and `renewBefore`) and moves that time forward once a new certificate is stored. It is more than an hour in the past: every attempt since has failed, and cert-manager retries with a growing back-off. The Certificate stays Ready meanwhile (its current certificate is valid), so this is the first sign.',
          impact:
            "None yet: the current certificate is valid until CertificateExpiringSoon and then expiry. Left alone it expires: for Kong's that is an outage of the public API; for the database's, clients stop connecting.",
          diagnosis: [
            "`kubectl -n <namespace> describe certificate <name>`: the Issuing condition's message and the events say which step fails.",
            'The newest CertificateRequest, and for ACME its Order and Challenge: `kubectl -n <namespace> get certificaterequests,orders,challenges` and `describe` them (DNS-01 failing, issuer not ready, rate limited).',
            'The issuer: `kubectl describe clusterissuer <issuer>` (or `issuer` in the namespace) must be Ready.',
          ],
          mitigation: [
            "Fix the issuer or the DNS-01 solver's credentials, then `cmctl renew -n <namespace> <name>` to retry at once rather than waiting for the back-off.",
            'A CA issuer (the PostgreSQL CA in the cert-manager namespace) that is not Ready usually means its CA Secret is missing or was rotated by hand: restore it from the Certificate that issues it.',
          ],
        },
        tests: {
          // Due at 1 minute, never renewed.
          fires: [{ series: renewal(60), at: '90m', alerts: [kongTls] }],
          quiet: [
            // Due, but within the hour a renewal may take.
            { series: renewal(60), at: '30m' },
            { series: renewal(20 * DAY), at: '90m' },
            { series: renewal(0), at: '90m' },
          ],
        },
      },
      {
        alert: 'CertificateNotReady',
        expr: `max by (namespace, name) (certmanager_certificate_ready_status{${job(JOBS.certManager)}, condition="False"}) == 1`,
        for: '30m',
        severity: 'warning',
        team: 'platform',
        summary: 'Certificate {{ $labels.namespace }}/{{ $labels.name }} has not been Ready for 30 minutes.',
        description:
          'Certificate {{ $labels.namespace }}/{{ $labels.name }} has been Ready=False for 30 minutes: its Secret holds no valid certificate matching the spec (never issued, expired, or the spec changed and reissuing fails).',
        runbook: {
          meaning:
            "cert-manager reports each Certificate's Ready condition (`certmanager_certificate_ready_status`, one series per status, the current one 1). False means the Secret does not hold a certificate that is valid and matches the Certificate: it was never issued, it has expired, or the spec changed (names, key) and the new one cannot be issued. A renewal of a still-valid certificate keeps Ready True (CertificateRenewalOverdue covers that).",
          impact:
            "Whatever mounts the Secret has no certificate or an outdated one: a new environment's gateway serves no valid TLS, the database CA bundle is missing for clients, the Barman Cloud Plugin's client and server certificates are missing (no WAL archiving).",
          diagnosis: [
            "`kubectl -n <namespace> describe certificate <name>` (Ready's reason and message, Issuing, events) and `kubectl -n <namespace> get secret <secretName>`.",
            "The chain below it: `kubectl -n <namespace> get certificaterequests,orders,challenges`, and the issuer's readiness (`kubectl get clusterissuers`).",
          ],
          mitigation: [
            'Fix the issuer or the spec (a Certificate is generated by the charts: fix it there and let Argo CD sync), then `cmctl renew -n <namespace> <name>`.',
            'A Secret edited by hand (wrong key type, missing data) is reissued by cert-manager once deleted: `kubectl -n <namespace> delete secret <secretName>` at a quiet moment.',
          ],
        },
        tests: {
          fires: [{ series: ready('False'), at: '35m', alerts: [kongTls] }],
          quiet: [
            // Issuing can take a few minutes (DNS-01 propagation).
            { series: ready('False'), at: '20m' },
            { series: ready('True'), at: '35m' },
          ],
        },
      },
      {
        alert: 'ArgoCDApplicationOutOfSync',
        expr: `max by (namespace, name, project) (argocd_app_info{${job(JOBS.argocdApplicationController)}, sync_status="OutOfSync"}) == 1`,
        for: '30m',
        severity: 'warning',
        team: 'platform',
        summary: 'Argo CD Application {{ $labels.name }} has been OutOfSync for 30 minutes.',
        description:
          'Application {{ $labels.namespace }}/{{ $labels.name }} (project {{ $labels.project }}) has differed from Git for 30 minutes although it syncs automatically: a sync keeps failing, or something in the cluster keeps changing what Argo CD applies.',
        runbook: {
          meaning:
            "Argo CD's application controller reports each Application with its sync status (`argocd_app_info{sync_status}`). Every Application of the platform syncs automatically with self-heal, so a difference normally lasts seconds to minutes (sync waves, the api's canary). OutOfSync for 30 minutes means the sync fails (a manifest the API server or an admission webhook refuses, a missing CRD or namespace, the project forbidding a kind), or another controller or a person keeps changing a field Argo CD owns.",
          impact:
            'What runs is not what `dist/` says: a merged change (a release, a fix, a policy) is not live. If the sync fails part way, later sync waves (later layers) are held back too.',
          diagnosis: [
            "`argocd app get <name> --show-operation` (or the UI): the last sync's result, message and each resource's status; `argocd app diff <name>` for what differs.",
            "A refused resource: the message names the API server or webhook that refused it (Kyverno: KyvernoAdmissionDenied; a CRD missing: the operators' Applications, project `operators-<env>`).",
            'A field that keeps changing: `argocd app diff` after a sync shows the same field again; find its writer with `kubectl get <kind> <name> -o yaml --show-managed-fields`.',
            'The repo server failing to read Git: `argocd-repo-server` logs, and the Git fetch failures on the Operators dashboard.',
          ],
          mitigation: [
            'Fix the cause in the chart that generates the resource (never by hand in the cluster: self-heal reverts it), run `npm run synth`, merge; Argo CD syncs.',
            'A field legitimately owned by another controller: have the chart leave it out, or add an `ignoreDifferences` entry in charts/gitops.',
            'A sync stuck on a hook or a wave: `argocd app terminate-op <name>`, then `argocd app sync <name>`.',
          ],
        },
        tests: {
          fires: [{ series: appInfo('OutOfSync', 'Healthy'), at: '35m', alerts: [appLabels] }],
          quiet: [
            { series: appInfo('OutOfSync', 'Healthy'), at: '20m' },
            { series: appInfo('Synced', 'Healthy'), at: '35m' },
          ],
        },
      },
      {
        alert: 'ArgoCDApplicationDegraded',
        expr: `max by (namespace, name, project) (argocd_app_info{${job(JOBS.argocdApplicationController)}, health_status="Degraded"}) == 1`,
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'Argo CD Application {{ $labels.name }} has been Degraded for 15 minutes.',
        description:
          'Application {{ $labels.namespace }}/{{ $labels.name }} (project {{ $labels.project }}) has been Degraded for 15 minutes: at least one of its resources is unhealthy (a Deployment without its replicas, a failed Job, a Degraded Rollout, a CloudNativePG Cluster in trouble).',
        runbook: {
          meaning:
            "Argo CD rolls its resources' health up to the Application (`argocd_app_info{health_status}`): Degraded means at least one resource reports failure, e.g. a Deployment past its progress deadline, a StatefulSet or CloudNativePG Cluster not ready, a failed Job, a Degraded Rollout (an aborted canary), a PVC that cannot bind.",
          impact:
            'Depends on the resource: the alert of the workload itself (KubeDeploymentRolloutStuck, RolloutDegraded, PostgresInstanceDown, ...) tells what users feel. A Degraded Application also holds back later sync waves.',
          diagnosis: [
            "`argocd app get <name>`: the resources that are not Healthy and their messages (or the UI's tree view).",
            "Then the resource itself: `kubectl -n <namespace> describe <kind> <name>` and its events; the workload's own alert, if it fires, has the runbook.",
          ],
          mitigation: [
            "Follow the runbook of the unhealthy workload's alert. A Degraded api Rollout stays Degraded until Git names a good image again (RolloutDegraded).",
            "A resource that is healthy but reported Degraded (a custom health check that does not know a new status): fix the health check in Argo CD's `argocd-cm`.",
          ],
        },
        tests: {
          fires: [{ series: appInfo('Synced', 'Degraded'), at: '20m', alerts: [appLabels] }],
          quiet: [
            { series: appInfo('Synced', 'Degraded'), at: '10m' },
            { series: appInfo('Synced', 'Progressing'), at: '20m' },
          ],
        },
      },
      {
        alert: 'ExternalSecretSyncFailed',
        expr: `max by (namespace, name) (externalsecret_status_condition{${job(JOBS.externalSecrets)}, condition="Ready", status="False"}) == 1`,
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'ExternalSecret {{ $labels.namespace }}/{{ $labels.name }} fails to sync.',
        description:
          'ExternalSecret {{ $labels.namespace }}/{{ $labels.name }} has been not Ready for 15 minutes: External Secrets cannot read it from the secret manager or cannot write the Secret. The Secret keeps its last value; a rotated secret does not arrive.',
        runbook: {
          meaning:
            'External Secrets reports the Ready condition of every ExternalSecret (`externalsecret_status_condition{condition="Ready"}`, the series of the current status 1). False means the last refresh failed: the ClusterSecretStore `platform-secrets` is not ready (the secret manager unreachable or its credentials wrong), the remote key or property does not exist, or the Secret cannot be written.',
          impact:
            'The Secret keeps its last synced value, so running pods are unaffected. A rotation done in the secret manager does not reach the cluster (pods keep the old credential, which stops working once the old one is revoked); a new ExternalSecret has no Secret at all, and pods that mount it do not start.',
          diagnosis: [
            '`kubectl -n <namespace> describe externalsecret <name>`: the Ready condition\'s message (e.g. "could not get secret data from provider", "key not found").',
            'The store: `kubectl get clustersecretstore platform-secrets` must be Ready; if not, `kubectl describe` it, and check its credentials and the network path to the secret manager.',
            'The controller: `kubectl -n external-secrets logs deploy/external-secrets` (or wherever it runs, `observability.externalSecretsNamespace`); OperatorDown for the external-secrets job.',
          ],
          mitigation: [
            'A missing key: create it in the secret manager under the name the ExternalSecret asks for (docs/gateway-and-secrets.md lists each), then `kubectl -n <namespace> annotate externalsecret <name> force-sync=$(date +%s) --overwrite`.',
            'Store credentials: fix them where the ClusterSecretStore reads them, then force a sync as above.',
          ],
        },
        tests: {
          fires: [{ series: esReady(false), at: '20m', alerts: [jwtSecret] }],
          quiet: [
            { series: esReady(false), at: '10m' },
            { series: esReady(true), at: '20m' },
          ],
        },
      },
      {
        alert: 'KyvernoAdmissionDenied',
        expr: [
          // Requests refused in the last 10 minutes; a request shape seen for the first time counts from 0.
          `sum by (resource_namespace, resource_kind) (`,
          `  (kyverno_admission_requests_total{${DENIED}}`,
          `    - (kyverno_admission_requests_total{${DENIED}} offset 10m or kyverno_admission_requests_total{${DENIED}} * 0))`,
          `  > 0`,
          `)`,
        ].join('\n'),
        severity: 'warning',
        team: 'platform',
        summary: 'Kyverno refused {{ $labels.resource_kind }} requests in {{ $labels.resource_namespace }}.',
        description:
          "Kyverno's admission webhooks refused requests for {{ $labels.resource_kind }} objects in {{ $labels.resource_namespace }} in the last 10 minutes: a product image that is not signed by the release workflow, or an operator's Job that is not one of the on-demand templates. Whatever asked for it did not get it.",
        runbook: {
          meaning:
            "Kyverno counts every admission request it answers (`kyverno_admission_requests_total`, label `request_allowed`). In the platform's namespaces its policies refuse product pods whose image is not signed and attested by the release workflow (`verify-product-images`) and Jobs that operators create unless they are the on-demand templates (`operator-jobs-from-templates`). A refusal there is either an attempt to run something unverified or a legitimate change the policies do not know yet.",
          impact:
            "The refused object does not exist: a release's pods are not created (the Rollout or ReplicaSet keeps retrying), a scaled-up or rescheduled pod does not start, an operator's restore or load test does not run. If the request was not legitimate, the policy did its job and the question is who made it.",
          diagnosis: [
            'What was refused and why: `kubectl -n <namespace> get events --field-selector reason=PolicyViolation` and the owner\'s events (`kubectl -n <namespace> describe replicaset <name>` shows "admission webhook ... denied the request" with the rule\'s message).',
            "Kyverno's side: `kubectl -n kyverno logs deploy/kyverno-admission-controller | grep -i denied` (or wherever it runs, `observability.kyvernoNamespace`).",
            'For an image: was it built and signed by the release workflow? `cosign verify <image> --certificate-identity-regexp ... --certificate-oidc-issuer https://token.actions.githubusercontent.com` (docs/security.md has the exact identity); a digest promoted by `npm run promote` from another build is refused.',
            "For a Job: who created it (the API server's audit log) and how it differs from its template in `dist/<env>/on-demand/`, which `npm run cli` starts unchanged but for its name and settings.",
          ],
          mitigation: [
            'An unsigned or foreign image: do not bypass the policy; release the image through `.github/workflows/image-release.yml` and promote its digest.',
            'A legitimate object the policy does not yet allow: change the policy in charts/security (with its tests), merge, let Argo CD sync; never delete or edit the ClusterPolicy in the cluster.',
            'An attempt nobody owns: treat it as a security incident (docs/security.md).',
          ],
        },
        tests: {
          fires: [
            // A first refusal at 20 minutes, of a request shape never seen before.
            { series: requests(app, false, '_x20 1x20'), at: '25m', alerts: [{ resource_namespace: app, resource_kind: 'Pod' }] },
            // One more refusal of a known shape.
            { series: requests(supabase, false, '3x10 4x20'), at: '15m', alerts: [{ resource_namespace: supabase, resource_kind: 'Pod' }] },
          ],
          quiet: [
            // The refusal is 15 minutes old.
            { series: requests(app, false, '_x20 1x20'), at: '35m' },
            // Another tenant's namespace.
            { series: requests('kube-system', false, '_x20 1x20'), at: '25m' },
            { series: requests(app, true, '0+5x40'), at: '25m' },
          ],
        },
      },
      {
        alert: 'KyvernoPolicyErrors',
        expr: `sum by (policy_name, rule_name) (increase(kyverno_policy_results_total{${KYVERNO}, rule_result="error", resource_namespace=~"${platformNamespaces}"}[5m])) > 0`,
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'Kyverno rule {{ $labels.policy_name }}/{{ $labels.rule_name }} fails to evaluate.',
        description:
          "Rule {{ $labels.rule_name }} of Kyverno policy {{ $labels.policy_name }} has ended in error for 15 minutes on requests in the platform's namespaces: it cannot reach what it checks against (the image registry, the transparency log) or it is broken. The policies fail closed, so the requests it errs on are refused.",
        runbook: {
          meaning:
            "Kyverno counts each rule's result per request (`kyverno_policy_results_total{rule_result}`: pass, fail, warn, error, skip). Error means the rule could not be evaluated: for `verify-product-images` the registry, the Rekor transparency log or the signature lookup failed; for a validate rule a JMESPath or variable error. The platform's policies use failurePolicy Fail, so these requests are refused rather than let through.",
          impact:
            "Product pods (image verification) or operators' Jobs are refused for as long as the rule errs: releases, scale-ups and rescheduled pods of the api, worker and scheduler do not start.",
          diagnosis: [
            '`kubectl -n kyverno logs deploy/kyverno-admission-controller | grep -i error` around the failures (the rule and the reason: timeout, TLS, 401 from the registry, Rekor unreachable).',
            "Egress of the Kyverno admission controller to the registry and `rekor.sigstore.dev` (its namespace's NetworkPolicy and the cluster's egress).",
            'A rule changed recently in charts/security: `git log -p charts/security/` and its policy tests.',
          ],
          mitigation: [
            "Restore the path to the registry or Rekor; a registry credential that expired goes in the Secret Kyverno's `--imagePullSecrets` names.",
            'A broken rule: revert the change to charts/security and merge; Argo CD syncs the ClusterPolicy.',
          ],
        },
        tests: {
          fires: [
            {
              series: policyResults('error', '0+1x40'),
              at: '20m',
              alerts: [{ policy_name: 'verify-product-images', rule_name: 'signed-by-release-workflow' }],
            },
          ],
          quiet: [
            { series: policyResults('error', '0+1x40'), at: '10m' },
            // Errors long ago: the counter no longer moves.
            { series: policyResults('error', '5x40'), at: '20m' },
            { series: policyResults('pass', '0+1x40'), at: '20m' },
          ],
        },
      },
      {
        alert: 'CloudNativePGReconcileErrors',
        expr: `sum by (controller) (increase(controller_runtime_reconcile_errors_total{${job(JOBS.cnpgOperator)}}[20m])) > 0`,
        for: '30m',
        severity: 'warning',
        team: 'database',
        summary: 'The CloudNativePG operator keeps failing to reconcile {{ $labels.controller }} objects.',
        description:
          "CloudNativePG's {{ $labels.controller }} controller has returned reconcile errors for 30 minutes. While it fails, the operator may not act on that object: no failover, no scaling, no backup of the Cluster it cannot reconcile.",
        runbook: {
          meaning:
            "The CloudNativePG operator serves controller-runtime's metrics; `controller_runtime_reconcile_errors_total{controller}` counts reconciles of a Cluster, Backup, ScheduledBackup, Pooler, ... that ended in an error. controller-runtime retries with a back-off of at most about 17 minutes, so errors in every 20-minute window for 30 minutes mean an object that cannot be reconciled at all, not a passing conflict.",
          impact:
            'For the Cluster controller: the operator may not carry out a failover, a switchover, a resize or a configuration change, and may not update the Services that point at the primary. For Backup and ScheduledBackup: backups do not start (PostgresBackupTooOld follows). For Pooler: PgBouncer changes are not applied.',
          diagnosis: [
            '`kubectl -n cnpg-system logs deploy/cnpg-controller-manager | grep -i error` (or wherever the operator runs, `operators.cnpgNamespace`): the object and the error.',
            `The object's own status: \`kubectl cnpg status postgres -n ${supabase}\`, \`kubectl -n ${supabase} get backups,scheduledbackups,poolers\` and \`describe\` the failing one.`,
            "Frequent causes: the Barman Cloud Plugin unreachable (its Deployment or its cert-manager certificates in the operator's namespace: CertificateNotReady), a quota or LimitRange refusing a pod or PVC, a storage class that cannot resize.",
          ],
          mitigation: [
            "Fix the cause the log names (the plugin's pod or certificates, the quota in `environments/<env>.ts`), then the operator reconciles on its next retry; `kubectl cnpg reload postgres -n <namespace>` asks for one at once.",
            'An operator bug at the pinned version: check the release notes of the next patch release (lib/operators.ts pins it).',
          ],
        },
        tests: {
          fires: [{ series: reconcileErrors('0+1x60'), at: '40m', alerts: [{ controller: 'cluster' }] }],
          quiet: [
            { series: reconcileErrors('0+1x60'), at: '20m' },
            // One error at 11 minutes, then none.
            { series: reconcileErrors('0x10 1x50'), at: '40m' },
          ],
        },
      },
      {
        alert: 'OperatorDown',
        expr: [
          `up{job=~"${OPERATOR_JOBS.join('|')}"} == 0`,
          // No target at all for an operator every environment runs: not installed, or not where the environment says.
          ...REQUIRED_OPERATOR_JOBS.map((name) => `or absent(up{job="${name}"})`),
        ].join('\n'),
        for: '10m',
        severity: 'warning',
        team: 'platform',
        summary: 'Operator {{ $labels.job }} is down or not scraped.',
        description:
          'For 10 minutes Prometheus has either failed to scrape the {{ $labels.job }} pods or found none. While an operator is down nothing it manages is reconciled, and its own alerts (certificates, Applications, ExternalSecrets, admission, CloudNativePG) are blind.',
        runbook: {
          meaning:
            "Each operator the platform runs under is scraped in its own namespace (charts/observability/operators.ts): cert-manager, Argo CD's application controller, server and repo server, External Secrets (staging, production), Kyverno's admission controller, CloudNativePG's operator and Argo Rollouts. Either a target answers no scrape (`up == 0`: the pod is not ready, crash looping, or a NetworkPolicy in the operator's namespace does not admit Prometheus), or there is no target at all for an operator every environment needs: it is not installed, has no running pod, or runs in another namespace than the environment says (`observability.*Namespace`, `operators.*Namespace`, `gitops.argocdNamespace`).",
          impact:
            "cert-manager: no issuance or renewal. Argo CD: no syncs (merged changes do not reach the cluster) and no UI. External Secrets: no refresh of Secrets. Kyverno: with its webhooks failing closed, product pods and operators' Jobs are refused (no scale-up, no rescheduling). CloudNativePG: no failover, no scheduled backups, no configuration changes. Argo Rollouts: releases stop. And the operator's own alerts cannot fire.",
          diagnosis: [
            `Port-forward Prometheus (\`kubectl -n ${ctx.namespaces.observability} port-forward svc/prometheus 9090\`) and open \`/targets\`: the operator's job shows the scrape error; no entry at all means discovery found no pod with that name and port in the configured namespace.`,
            "The operator's pods: `kubectl -n <namespace> get pods -l app.kubernetes.io/name=<job>` and `describe`/`logs` them.",
            "Connection refused or timeouts while the pods run: the operator's namespace has a NetworkPolicy that does not admit the platform's Prometheus on the metrics port (docs/network.md lists each port).",
            "No target: compare the namespace the operator runs in (`kubectl get pods -A -l app.kubernetes.io/name=<job>`) with the environment's setting.",
          ],
          mitigation: [
            'Restart or repair the operator as its project documents (its install manifest at the version README.md pins).',
            "Admit Prometheus in the operator's namespace: a NetworkPolicy ingress rule from pods `app.kubernetes.io/name: prometheus` in the observability namespace on the metrics port.",
            "Set the environment's namespace to where the operator really runs and let Argo CD sync.",
          ],
        },
        tests: {
          fires: [
            {
              series: operators(JOBS.certManager),
              at: '12m',
              alerts: [
                {
                  job: JOBS.certManager,
                  pod: POD[JOBS.certManager]!,
                  instance: upOf(JOBS.certManager, REQUIRED_OPERATOR_JOBS.indexOf(JOBS.certManager)).instance!,
                },
              ],
            },
            { series: operators(undefined, JOBS.kyverno), at: '12m', alerts: [{ job: JOBS.kyverno }] },
          ],
          quiet: [
            { series: operators(JOBS.certManager), at: '8m' },
            // Every operator answers; External Secrets runs only where secrets come from it.
            { series: operators(), at: '12m' },
          ],
        },
      },
    ],
  };
}
