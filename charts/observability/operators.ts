// The operators the platform runs under, as Prometheus scrapes them: cert-manager, Argo CD,
// External Secrets, Kyverno and CloudNativePG (Argo Rollouts has its own job in
// prometheus-config.ts). They run in namespaces of their own that this repository does not
// generate, from their upstream install manifests; each target below is the pods' label and
// metrics port of the install at the version the platform documents (README, "Quick start"):
// - cert-manager v1.21.1 (cert-manager.yaml is rendered from deploy/charts/cert-manager):
//   templates/deployment.yaml, the controller's container port "http-metrics" 9402, pods
//   app.kubernetes.io/name=cert-manager (the cainjector and webhook are named apart).
// - Argo CD v3.5.1 manifests/install.yaml: unnamed container ports 8082
//   (argocd-application-controller), 8083 (argocd-server), 8084 (argocd-repo-server); the
//   install's own NetworkPolicies already admit 8082 and 8084 from every namespace, and
//   argocd-server from anywhere.
// - External Secrets Helm chart 2.9.0: templates/deployment.yaml, port "metrics"
//   (values metrics.listen.port 8080), pods app.kubernetes.io/name=external-secrets.
// - Kyverno v1.19.0 install.yaml (`helm template kyverno --namespace kyverno charts/kyverno`):
//   the admission controller's port "metrics-port" (values admissionController.metering.port
//   8000), pods app.kubernetes.io/name=kyverno-admission-controller.
// - CloudNativePG 1.30.0 releases/cnpg-1.30.0.yaml: port "metrics" 8080, pods
//   app.kubernetes.io/name=cloudnative-pg (docs/src/monitoring.md). The Barman Cloud Plugin
//   0.14.0's Deployment serves no metrics (internal/cmd/operator/main.go: --metrics-bind-address
//   defaults to "0", which manifest.yaml keeps); its backup gauges come from the PostgreSQL
//   instances' exporter (job postgres).
// Each job keeps only the metrics the catalogue lists for it: the operators export a great deal
// (Go runtime, every Kubernetes request) that nothing here reads.
import { JOBS, METRIC_CATALOGUE } from './metrics-catalogue';

/** Where each operator runs (their namespaces are not the platform's). */
export interface OperatorNamespaces {
  readonly certManager: string;
  readonly argocd: string;
  /** Only where the environment's secrets come from External Secrets. */
  readonly externalSecrets?: string;
  readonly kyverno: string;
  readonly cloudnativePg: string;
}

/** One scrape target: the pods of one operator component and their metrics port. */
export interface OperatorTarget {
  /** The job label, which is also the pods' app.kubernetes.io/name. */
  readonly job: string;
  readonly namespace: string;
  readonly port: number;
  /** The metric names kept from its scrape. */
  readonly metrics: readonly string[];
}

export function operatorTargets(ns: OperatorNamespaces): OperatorTarget[] {
  return [
    { job: JOBS.certManager, namespace: ns.certManager, port: 9402, metrics: METRIC_CATALOGUE.certManager },
    { job: JOBS.argocdApplicationController, namespace: ns.argocd, port: 8082, metrics: METRIC_CATALOGUE.argocd },
    // Scraped for up alone: no Argo CD UI, API or CLI while it is down.
    { job: JOBS.argocdServer, namespace: ns.argocd, port: 8083, metrics: [] },
    { job: JOBS.argocdRepoServer, namespace: ns.argocd, port: 8084, metrics: METRIC_CATALOGUE.argocdRepoServer },
    ...(ns.externalSecrets ? [{ job: JOBS.externalSecrets, namespace: ns.externalSecrets, port: 8080, metrics: METRIC_CATALOGUE.externalSecrets }] : []),
    { job: JOBS.kyverno, namespace: ns.kyverno, port: 8000, metrics: METRIC_CATALOGUE.kyverno },
    { job: JOBS.cnpgOperator, namespace: ns.cloudnativePg, port: 8080, metrics: METRIC_CATALOGUE.cnpgOperator },
  ];
}

/** The pod label every operator target is selected by, in its scrape job and NetworkPolicy rule. */
export const OPERATOR_POD_LABEL = 'app.kubernetes.io/name';

/**
 * Every operator job, Argo Rollouts' included: the operators' alerts watch them, and TargetDown
 * leaves them to OperatorDown.
 */
export const OPERATOR_JOBS = [
  JOBS.certManager,
  JOBS.argocdApplicationController,
  JOBS.argocdServer,
  JOBS.argocdRepoServer,
  JOBS.externalSecrets,
  JOBS.kyverno,
  JOBS.cnpgOperator,
  JOBS.rollouts,
] as const;

/**
 * The operators every environment needs, whatever its settings: the database's TLS, the GitOps
 * sync, admission of the product's images and operators' Jobs, the database itself and the
 * canary. External Secrets is missing from dev, where secrets come from the CLI.
 */
export const REQUIRED_OPERATOR_JOBS = OPERATOR_JOBS.filter((job) => job !== JOBS.externalSecrets);
