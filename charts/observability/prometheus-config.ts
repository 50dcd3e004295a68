// prometheus.yml, built from the platform's layout. Discovery is limited to the platform's
// namespaces, plus Argo Rollouts' controller (whose metrics the release alerts read) and the
// other operators' metrics pods (operators.ts: cert-manager, Argo CD, External Secrets, Kyverno,
// CloudNativePG), each selected by its pods' name and metrics port. A platform
// workload joins by naming a container port "metrics" (or "metrics-<something>" for a second
// exporter in the same pod, such as Redis's Sentinel exporter), or, when its metrics share its
// HTTP port, by the pod annotation metrics.supabase-platform/port (and .../path for another path).
// Every series gets job (the pod's app.kubernetes.io/name), namespace, pod and container; the
// api's pods add rollouts_pod_template_hash, which the canary analysis selects by.
import { JOBS } from './metrics-catalogue';
import { OPERATOR_POD_LABEL, type OperatorTarget } from './operators';

export const PROMETHEUS_PORT = 9090;
export const RULES_DIR = '/etc/prometheus/rules';
export const SECRETS_DIR = '/etc/prometheus/secrets';
/**
 * Container ports the platform-pods job scrapes: "metrics", or "metrics-<something>" when a pod
 * has a second exporter (Redis's sentinel-exporter, port "metrics-sntl"). The container label
 * tells the two apart.
 */
export const METRICS_PORT_NAME_REGEX = 'metrics(-.+)?';
/** Pod annotations a workload sets when its metrics are not on a port named "metrics". */
export const METRICS_PORT_ANNOTATION = 'metrics.supabase-platform/port';
export const METRICS_PATH_ANNOTATION = 'metrics.supabase-platform/path';
/**
 * External label naming the Prometheus server (its pod), so that two servers' data can be told
 * apart wherever it is merged. Alerts leave without it: both servers of a pair then send the same
 * alert, and Alertmanager keeps one (the convention of the Prometheus Operator).
 */
export const REPLICA_LABEL = 'prometheus_replica';
/** The pod's name, from the downward API; Prometheus 3 expands `${VAR}` in external label values (https://prometheus.io/docs/prometheus/latest/migration/). */
export const POD_NAME_ENV = 'POD_NAME';

export interface PrometheusConfigInput {
  readonly instance: string;
  readonly scrapeInterval: string;
  /** Namespaces whose pods are discovered. */
  readonly namespaces: readonly string[];
  /** Namespace of the Argo Rollouts controller. */
  readonly rolloutsNamespace: string;
  /** The other operators' metrics endpoints (operators.ts). */
  readonly operators: readonly OperatorTarget[];
  /** host:port of each Alertmanager instance. */
  readonly alertmanagers: readonly string[];
  /** host:port of kube-state-metrics. */
  readonly kubeStateMetrics: string;
  readonly nodeExporterPort: number;
  /** Supabase services whose /metrics wants a JWT (Realtime): job name -> port name. */
  readonly jwtProtected: Readonly<Record<string, string>>;
  /** File with the JWT those services accept (a copy of the anon key). */
  readonly jwtFile: string;
}

const TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

const meta = (name: string) => `__meta_kubernetes_pod_${name}`;
const label = (name: string) => meta(`label_${name.replace(/[./-]/g, '_')}`);
const annotation = (name: string) => meta(`annotation_${name.replace(/[./-]/g, '_')}`);

/** Labels every pod target gets. */
const podLabels = [
  { source_labels: [label('app.kubernetes.io/name')], target_label: 'job' },
  // CloudNativePG names its PgBouncer pods "postgresql" whatever the Pooler's template says.
  { source_labels: [label('cnpg.io/podRole')], regex: 'pooler', target_label: 'job', replacement: JOBS.pgbouncer },
  { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
  { source_labels: [meta('name')], target_label: 'pod' },
  { source_labels: [meta('container_name')], target_label: 'container' },
  // Only the product's pods have it; an empty value sets no label.
  { source_labels: [label('rollouts-pod-template-hash')], regex: '(.+)', target_label: 'rollouts_pod_template_hash' },
];
const running = { source_labels: [meta('phase')], regex: 'Running', action: 'keep' };
const platformOnly = { source_labels: [label('app.kubernetes.io/part-of')], regex: 'supabase-platform', action: 'keep' };

export function prometheusConfig(input: PrometheusConfigInput): Record<string, unknown> {
  const pods = (namespaces: readonly string[]) => [{ role: 'pod', namespaces: { names: [...namespaces] } }];
  const nodes = [{ role: 'node' }];
  return {
    global: {
      scrape_interval: input.scrapeInterval,
      evaluation_interval: input.scrapeInterval,
      external_labels: { cluster: input.instance, [REPLICA_LABEL]: `\${${POD_NAME_ENV}}` },
    },
    rule_files: [`${RULES_DIR}/*.rules.yaml`],
    alerting: {
      alert_relabel_configs: [{ action: 'labeldrop', regex: REPLICA_LABEL }],
      alertmanagers: [{ static_configs: [{ targets: [...input.alertmanagers] }] }],
    },
    scrape_configs: [
      {
        job_name: 'platform-pods',
        kubernetes_sd_configs: pods(input.namespaces),
        relabel_configs: [
          platformOnly,
          running,
          { source_labels: [meta('container_port_name')], regex: METRICS_PORT_NAME_REGEX, action: 'keep' },
          { source_labels: [annotation(METRICS_PATH_ANNOTATION)], regex: '(.+)', target_label: '__metrics_path__' },
          ...podLabels,
        ],
      },
      {
        // Metrics on the HTTP port: the annotation names the port number; one target per pod
        // (targets that end up with the same labels are merged).
        job_name: 'platform-annotated',
        kubernetes_sd_configs: pods(input.namespaces),
        relabel_configs: [
          platformOnly,
          running,
          { source_labels: [annotation(METRICS_PORT_ANNOTATION)], regex: '\\d+', action: 'keep' },
          { source_labels: [meta('ip'), annotation(METRICS_PORT_ANNOTATION)], separator: ':', target_label: '__address__' },
          { source_labels: [annotation(METRICS_PATH_ANNOTATION)], regex: '(.+)', target_label: '__metrics_path__' },
          ...podLabels,
          { source_labels: ['__address__'], target_label: 'instance' },
        ],
      },
      {
        // Realtime and Supavisor serve /metrics on their API port to a bearer of a Supabase JWT.
        job_name: 'supabase-jwt',
        kubernetes_sd_configs: pods(input.namespaces),
        authorization: { type: 'Bearer', credentials_file: input.jwtFile },
        relabel_configs: [
          platformOnly,
          running,
          {
            source_labels: [label('app.kubernetes.io/name'), meta('container_port_name')],
            separator: ';',
            regex: Object.entries(input.jwtProtected)
              .map(([job, port]) => `${job};${port}`)
              .join('|'),
            action: 'keep',
          },
          ...podLabels,
        ],
      },
      {
        job_name: JOBS.kubeStateMetrics,
        // kube-state-metrics reports other objects: their namespace and pod labels win.
        honor_labels: true,
        static_configs: [{ targets: [input.kubeStateMetrics] }],
      },
      {
        job_name: JOBS.nodeExporter,
        kubernetes_sd_configs: nodes,
        relabel_configs: [
          {
            source_labels: ['__meta_kubernetes_node_address_InternalIP'],
            regex: '(.+)',
            replacement: `$1:${input.nodeExporterPort}`,
            target_label: '__address__',
          },
          { source_labels: ['__meta_kubernetes_node_name'], target_label: 'instance' },
        ],
      },
      ...(['kubelet', 'cadvisor'] as const).map((job) => ({
        job_name: job,
        scheme: 'https',
        kubernetes_sd_configs: nodes,
        // Kubelet serving certificates are often self-signed; the token still authenticates.
        tls_config: { ca_file: CA, insecure_skip_verify: true },
        authorization: { credentials_file: TOKEN },
        ...(job === 'cadvisor' ? { metrics_path: '/metrics/cadvisor' } : {}),
        relabel_configs: [{ source_labels: ['__meta_kubernetes_node_name'], target_label: 'instance' }],
        // Keep the volume, CPU and memory series the rules and dashboards use, nothing else.
        metric_relabel_configs: [
          {
            source_labels: ['__name__'],
            regex:
              job === 'kubelet'
                ? 'kubelet_volume_stats_.+'
                : 'container_(cpu_usage_seconds_total|cpu_cfs_.+|memory_working_set_bytes|memory_rss|network_.+_bytes_total|fs_usage_bytes|oom_events_total)',
            action: 'keep',
          },
          // Other tenants' pods on the same nodes are not the platform's business.
          { source_labels: ['namespace'], regex: input.namespaces.join('|'), action: 'keep' },
        ],
      })),
      {
        job_name: JOBS.rollouts,
        kubernetes_sd_configs: pods([input.rolloutsNamespace]),
        relabel_configs: [
          { source_labels: [label('app.kubernetes.io/name')], regex: 'argo-rollouts', action: 'keep' },
          { source_labels: [meta('container_port_name')], regex: 'metrics', action: 'keep' },
          { target_label: 'job', replacement: JOBS.rollouts },
          { source_labels: [meta('name')], target_label: 'pod' },
        ],
      },
      // One job per operator component, named as its pods are. Like the Rollouts job, no
      // namespace label: the operators' series carry the namespace of the object they describe.
      ...input.operators.map((o) => ({
        job_name: o.job,
        kubernetes_sd_configs: pods([o.namespace]),
        relabel_configs: [
          { source_labels: [label(OPERATOR_POD_LABEL)], regex: o.job, action: 'keep' },
          running,
          { source_labels: [meta('container_port_number')], regex: String(o.port), action: 'keep' },
          { source_labels: [meta('name')], target_label: 'pod' },
        ],
        metric_relabel_configs: [
          o.metrics.length
            ? { source_labels: ['__name__'], regex: o.metrics.join('|'), action: 'keep' }
            : { source_labels: ['__name__'], regex: '.+', action: 'drop' },
        ],
      })),
    ],
  };
}
