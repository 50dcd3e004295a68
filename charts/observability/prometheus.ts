// Prometheus as a StatefulSet: the generated prometheus.yml, the rule files, retention and volume
// from the environment, read-only discovery of the platform's pods and nodes. With two replicas
// (production) each server scrapes every target and evaluates every rule on its own volume, on a
// node of its own: losing a node loses neither metrics nor alerts. Each names itself in the external
// label prometheus_replica, which alerts leave without, so Alertmanager receives the same alert
// twice and sends it once (docs/decisions/0003-observability.md). Clients reach either server
// through the Service; the load tests' remote write goes to replica 0 only (see `prometheusEndpoints`).
import { k8s } from 'cdk8s-plus-33';
import { stringify } from 'yaml';
import { type Endpoint, podHost, serviceHost } from '../../lib/endpoint';
import { IMAGES } from '../../lib/images';
import { LABEL } from '../../lib/labels';
import { addressesIn, type Peer, type PortRule, toApiServer } from '../../lib/network';
import { quantity } from '../../lib/quantity';
import { clusterRoleFor, READ } from '../../lib/rbac';
import { headlessServiceName, StatefulService } from '../../lib/stateful-set';
import { prefixed } from '../../lib/names';
import type { SecretSpec } from '../../lib/secrets';
import { COMPONENTS, type ObservabilityContext, host, peerOf } from './context';
import { OPERATOR_POD_LABEL, type OperatorTarget } from './operators';
import { METRICS_PORT_ANNOTATION, POD_NAME_ENV, PROMETHEUS_PORT, RULES_DIR, SECRETS_DIR, prometheusConfig } from './prometheus-config';

export interface PrometheusProps {
  readonly ruleFiles: Readonly<Record<string, string>>;
  readonly alertmanagers: readonly string[];
  readonly kubeStateMetrics: string;
  readonly nodeExporterPort: number;
  /** The copy of the anon key Realtime and Supavisor accept for /metrics. */
  readonly metricsJwt: SecretSpec;
  readonly rolloutsNamespace: string;
  /** The other operators' metrics endpoints, in namespaces of their own. */
  readonly operators: readonly OperatorTarget[];
  /** Pods that push metrics by remote write (the load-test Jobs). */
  readonly remoteWriteClients: readonly Peer[];
}

/** Where clients reach Prometheus. */
export interface PrometheusEndpoints {
  /**
   * The HTTP API through the Service, either server of a pair (Grafana and the Rollouts analysis
   * query it). Its peer is what every metrics port of the platform admits.
   */
  readonly api: Endpoint;
  /**
   * The first server alone, by its pod's stable name: the load tests push their results here.
   * Pushed samples land only on the server that receives them (the Service would pick one at
   * random per connection, and a pair would each hold part of a run); Grafana's
   * "Prometheus (load tests)" datasource reads the same server.
   */
  readonly receiver: Endpoint;
}

/** Prometheus's endpoints in the observability namespace `namespace`. */
export function prometheusEndpoints(namespace: string): PrometheusEndpoints {
  // Selected by name alone, in its namespace: the scrape rules of every workload say so.
  const peer: Peer = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    podSelector: { matchLabels: { [LABEL.name]: PROMETHEUS } },
  };
  const receiverHost = podHost(`${PROMETHEUS}-0`, headlessServiceName(PROMETHEUS), namespace);
  return {
    api: { host: serviceHost(PROMETHEUS, namespace), port: PROMETHEUS_PORT, peer, clientLabels: {} },
    receiver: { host: receiverHost, port: PROMETHEUS_PORT, peer, clientLabels: {} },
  };
}

const PROMETHEUS = 'prometheus';
const CONFIG_DIR = '/etc/prometheus';
const DATA_DIR = '/prometheus';
/** Ports Prometheus scrapes on the nodes: node-exporter and the kubelet. */
const NODE_PORTS = (nodeExporterPort: number) => [nodeExporterPort, 10250];

export function prometheus(ctx: ObservabilityContext, props: PrometheusProps): StatefulService {
  const c = ctx.config.prometheus;
  const meta = (objectName: string) =>
    ctx.chart.metadata({ objectName, namespace: ctx.namespace, name: 'prometheus', component: COMPONENTS.prometheus, version: IMAGES.prometheus.tag });
  const config = stringify(
    prometheusConfig({
      instance: ctx.instance,
      scrapeInterval: ctx.config.scrapeInterval,
      namespaces: ctx.watchedNamespaces,
      rolloutsNamespace: props.rolloutsNamespace,
      operators: props.operators,
      alertmanagers: props.alertmanagers,
      kubeStateMetrics: props.kubeStateMetrics,
      nodeExporterPort: props.nodeExporterPort,
      jwtProtected: { realtime: 'http' },
      jwtFile: `${SECRETS_DIR}/anon-key`,
    }),
    { lineWidth: 0 },
  );
  const configMap = new k8s.KubeConfigMap(ctx.chart, 'prometheus-config', { metadata: meta('prometheus-config'), data: { 'prometheus.yml': config } });
  const rules = new k8s.KubeConfigMap(ctx.chart, 'prometheus-rules', { metadata: meta('prometheus-rules'), data: { ...props.ruleFiles } });

  const ingress: PortRule[] = [
    // Grafana reads it; the Rollouts analysis queries it; Prometheus scrapes itself.
    { port: PROMETHEUS_PORT, peers: [peerOf(ctx, 'grafana'), rolloutsController(props.rolloutsNamespace), ctx.prometheus] },
    // Remote write from the load-test Jobs, only where there are any.
    ...(props.remoteWriteClients.length ? [{ port: PROMETHEUS_PORT, peers: props.remoteWriteClients }] : []),
  ];
  const egress: PortRule[] = [
    // Every metrics port of the platform: each workload's own policy admits only Prometheus.
    { peers: ctx.watchedNamespaces.map((namespace) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } })) },
    { port: ROLLOUTS_METRICS_PORT, peers: [rolloutsController(props.rolloutsNamespace)] },
    // The operators' metrics ports; their namespaces' own policies (not generated here) must
    // admit Prometheus too (docs/network.md).
    ...props.operators.map((o) => ({ port: o.port, peers: [operatorPods(o)] })),
    ...NODE_PORTS(props.nodeExporterPort).map((port) => ({ port, peers: addressesIn(ctx.nodeCidrs) })),
    ...toApiServer(ctx.apiServerCidrs),
  ];

  const service = new StatefulService(ctx.chart, 'prometheus', {
    name: 'prometheus',
    component: COMPONENTS.prometheus,
    namespace: ctx.namespace,
    version: IMAGES.prometheus.tag,
    replicas: c.replicas,
    // A pair is worth having only on two nodes.
    spread: c.replicas > 1 ? 'nodes' : undefined,
    claims: [{ name: 'data', size: c.volumeSize, storageClassName: ctx.storageClassName }],
    ports: [{ name: 'http', port: PROMETHEUS_PORT }],
    podAnnotations: { [METRICS_PORT_ANNOTATION]: String(PROMETHEUS_PORT) },
    restartOn: [config, ...Object.values(props.ruleFiles)],
    network: { ingress, egress },
    pod: {
      priorityClassName: ctx.priorityClassName,
      // Discovery of pods and nodes, and the kubelet's metrics, go through the API with its token.
      kubernetesApiAccess: true,
      volumes: [
        { name: 'config', configMap: { name: configMap.name } },
        { name: 'rules', configMap: { name: rules.name } },
        { name: 'secrets', secret: { secretName: props.metricsJwt.name } },
      ],
      containers: [
        {
          name: 'prometheus',
          image: IMAGES.prometheus,
          args: [
            `--config.file=${CONFIG_DIR}/prometheus.yml`,
            `--storage.tsdb.path=${DATA_DIR}`,
            `--storage.tsdb.retention.time=${c.retention}`,
            // Keep a margin below the volume: Prometheus stops ingesting when the disk is full.
            `--storage.tsdb.retention.size=${retentionSize(c.volumeSize)}`,
            `--web.listen-address=:${PROMETHEUS_PORT}`,
            `--web.external-url=http://${host(ctx, 'prometheus')}:${PROMETHEUS_PORT}`,
            // POST /api/v1/write: k6 load tests push their metrics here (charts/loadtest).
            '--web.enable-remote-write-receiver',
          ],
          // The external label prometheus_replica (prometheus-config.ts).
          env: [{ name: POD_NAME_ENV, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          resources: c.resources,
          volumeMounts: [
            { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
            { name: 'rules', mountPath: RULES_DIR, readOnly: true },
            { name: 'secrets', mountPath: SECRETS_DIR, readOnly: true },
            { name: 'data', mountPath: DATA_DIR },
          ],
          writablePaths: [{ path: '/tmp' }],
          readinessProbe: { httpGet: { path: '/-/ready', port: k8s.IntOrString.fromString('http') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { httpGet: { path: '/-/healthy', port: k8s.IntOrString.fromString('http') }, periodSeconds: 30, failureThreshold: 6 },
          // WAL replay after a restart can take minutes on a large head block.
          startupProbe: { httpGet: { path: '/-/ready', port: k8s.IntOrString.fromString('http') }, periodSeconds: 10, failureThreshold: 60 },
        },
      ],
    },
  });

  clusterRoleFor(ctx.chart, { ...meta(prefixed(ctx.prefix, 'prometheus')) }, { name: 'prometheus', namespace: ctx.namespace }, [
    { apiGroups: [''], resources: ['pods', 'services', 'endpoints', 'nodes'], verbs: READ },
    { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
  ]);

  return service;
}

/** 85% of the volume, as Prometheus writes sizes ("85GB"). */
function retentionSize(volume: string): string {
  return `${Math.floor((quantity(volume) * 0.85) / 1e9)}GB`;
}

/** Metrics port of the Argo Rollouts controller (its install manifest). */
const ROLLOUTS_METRICS_PORT = 8090;

/** The Argo Rollouts controller: it runs the canary analysis queries against Prometheus. */
function rolloutsController(namespace: string): Peer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'argo-rollouts' } },
  };
}

/** The pods of one operator target. */
function operatorPods(o: OperatorTarget): Peer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': o.namespace } },
    podSelector: { matchLabels: { [OPERATOR_POD_LABEL]: o.job } },
  };
}
