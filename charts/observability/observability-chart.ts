// Monitoring, logs and traces for one environment: Prometheus with the platform's alert and
// recording rules, Alertmanager, kube-state-metrics and node-exporter, Grafana with its
// datasources and dashboards, Loki with Alloy shipping pod logs, and the OpenTelemetry Collector
// with Tempo for traces.
//
// How a component joins: its metrics are scraped when a container port is named "metrics" (or
// its pods carry the metrics.supabase-platform/port annotation); its alerts are a rule group in
// rules/ (listed in rules/index.ts); its dashboard a file in dashboards/ (listed in
// dashboards/index.ts). Tracing clients add `tracing.clientLabels` to their pods and
// `toCollector(tracing, url)` (traces.ts) to their egress.
import type { Construct } from 'constructs';
import type { ObservabilityConfig } from '../../environments/observability';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import type { Peer } from '../../lib/network';
import { copySecret, provideSecret, type SecretSpec } from '../../lib/secrets';
import { alertmanager } from './alertmanager';
import type { ObservabilityContext } from './context';
import { dashboards } from './dashboards';
import { kubeStateMetrics, NODE_EXPORTER_PORT, nodeExporter } from './exporters';
import { DATASOURCE_UIDS, grafana } from './grafana';
import { alloy, loki } from './logs';
import { type OperatorNamespaces, operatorTargets } from './operators';
import { prometheus, prometheusEndpoints, type PrometheusEndpoints } from './prometheus';
import { ruleFiles } from './rules';
import { otelCollector, type TracingEndpoint, tempo } from './traces';

export interface ObservabilityChartProps extends ChartProps {
  /** Sizes, retention, SLOs and receivers of the stack, from the environment. */
  readonly config: ObservabilityConfig;
  /** The Supabase JWT Secret: Realtime and Supavisor want a JWT (the anon key) for /metrics. */
  readonly supabaseJwt: SecretSpec;
  /** Namespace of the Argo Rollouts controller, whose metrics the release alerts read. */
  readonly rolloutsNamespace: string;
  /** Where the other operators run, for their metrics and alerts (operators.ts). */
  readonly operatorNamespaces: OperatorNamespaces;
  /** Web address of docs/runbooks/alerts/ in this repository, ending in "/". */
  readonly runbookBaseUrl: string;
  /** Pods Prometheus accepts remote writes from (the load-test Jobs). @default none */
  readonly remoteWriteClients?: readonly Peer[];
}

export class ObservabilityChart extends PlatformChart {
  /** Where workloads send traces. */
  public readonly tracing: TracingEndpoint;
  /** Prometheus: its API, its remote-write receiver, and the peer every metrics port admits. */
  public readonly prometheus: PrometheusEndpoints;

  constructor(scope: Construct, id: string, props: ObservabilityChartProps) {
    super(scope, id, props);
    const { namespaces: ns, secretSource } = this.platform;
    this.prometheus = prometheusEndpoints(ns.observability);
    const ctx: ObservabilityContext = {
      chart: this,
      instance: this.instance,
      prefix: this.platform.prefix,
      namespace: ns.observability,
      hostNamespace: ns['node-exporter'],
      watchedNamespaces: [ns.supabase, ns.app, ns.observability],
      priorityClassName: this.platform.priorityClasses.stateless,
      storageClassName: this.platform.storage.className,
      config: props.config,
      nodeCidrs: this.platform.network.nodeCidrs,
      apiServerCidrs: this.platform.network.apiServerCidrs,
      prometheus: this.prometheus.api.peer,
    };
    const namespaces = { supabase: ns.supabase, app: ns.app, observability: ns.observability };

    const metricsJwt = copySecret(props.supabaseJwt, ns.observability, ['anon-key']);
    provideSecret(
      this,
      'metrics-jwt',
      secretSource,
      metricsJwt,
      this.metadata({ objectName: metricsJwt.name, namespace: ns.observability, name: 'prometheus', component: 'secret' }),
    );

    const am = alertmanager(ctx, secretSource);
    const ksm = kubeStateMetrics(ctx);
    nodeExporter(ctx);
    prometheus(ctx, {
      ruleFiles: ruleFiles({ runbookBaseUrl: props.runbookBaseUrl, namespaces, slos: props.config.slos }),
      alertmanagers: am.targets,
      kubeStateMetrics: ksm.target,
      nodeExporterPort: NODE_EXPORTER_PORT,
      metricsJwt,
      rolloutsNamespace: props.rolloutsNamespace,
      operators: operatorTargets(props.operatorNamespaces),
      remoteWriteClients: props.remoteWriteClients ?? [],
    });
    const logs = loki(ctx);
    alloy(ctx, logs.url);
    tempo(ctx);
    this.tracing = otelCollector(ctx).endpoint;
    grafana(ctx, dashboards({ namespaces, datasources: DATASOURCE_UIDS, slos: props.config.slos }), secretSource);
  }
}
