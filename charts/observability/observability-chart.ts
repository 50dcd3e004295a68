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
import type { Environment } from '../../environments/schema';
import { PlatformChart } from '../../lib/chart';
import { type Peer, prometheusPeer } from '../../lib/network';
import { copySecret, provideSecret, type SecretSpec } from '../../lib/secrets';
import { alertmanager } from './alertmanager';
import type { ObservabilityContext } from './context';
import { dashboards } from './dashboards';
import { kubeStateMetrics, NODE_EXPORTER_PORT, nodeExporter } from './exporters';
import { DATASOURCE_UIDS, grafana } from './grafana';
import { alloy, loki } from './logs';
import { type OperatorNamespaces, operatorTargets } from './operators';
import { prometheus } from './prometheus';
import { ruleFiles } from './rules';
import { otelCollector, type TracingEndpoint, tempo } from './traces';

export interface ObservabilityChartProps {
  readonly instance: string;
  readonly prefix: string;
  readonly namespaces: { readonly supabase: string; readonly app: string; readonly observability: string; readonly host: string };
  readonly priorityClassName: string;
  readonly storageClassName: string;
  readonly config: ObservabilityConfig;
  readonly secretSource: Environment['secrets'];
  readonly nodeCidrs: readonly string[];
  readonly apiServerCidrs: readonly string[];
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

  constructor(scope: Construct, id: string, props: ObservabilityChartProps) {
    super(scope, id, { layer: 'observability', instance: props.instance });
    const ns = props.namespaces;
    const ctx: ObservabilityContext = {
      chart: this,
      instance: props.instance,
      prefix: props.prefix,
      namespace: ns.observability,
      hostNamespace: ns.host,
      watchedNamespaces: [ns.supabase, ns.app, ns.observability],
      priorityClassName: props.priorityClassName,
      storageClassName: props.storageClassName,
      config: props.config,
      nodeCidrs: props.nodeCidrs,
      apiServerCidrs: props.apiServerCidrs,
      prometheus: prometheusPeer(ns.observability),
    };
    const namespaces = { supabase: ns.supabase, app: ns.app, observability: ns.observability };

    const metricsJwt = copySecret(props.supabaseJwt, ns.observability, ['anon-key']);
    provideSecret(this, 'metrics-jwt', props.secretSource, metricsJwt, this.metadata({ objectName: metricsJwt.name, namespace: ns.observability, name: 'prometheus', component: 'secret' }));

    const am = alertmanager(ctx, props.secretSource);
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
    grafana(ctx, dashboards({ namespaces, datasources: DATASOURCE_UIDS, slos: props.config.slos }), props.secretSource);
  }
}
