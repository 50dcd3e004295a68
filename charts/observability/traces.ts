// Traces: the OpenTelemetry Collector takes OTLP from the platform's workloads (pods with the
// "tracing" access label) and sends it to Tempo, a one-pod StatefulSet keeping blocks on its
// volume for the environment's retention. Both configs are built from typed objects and checked
// at synth (config/tempo.ts, config/otel-collector.ts).
import { k8s } from 'cdk8s-plus-33';
import { retentionHours } from '../../environments/observability';
import { IMAGES } from '../../lib/images';
import { accessLabel, clientsOf, type Peer, type PortRule } from '../../lib/network';
import { StatefulService } from '../../lib/stateful-set';
import { StatelessService } from '../../lib/stateless-service';
import { COLLECTOR_CONFIG_FILE, collectorConfig, renderCollectorConfig } from './config/otel-collector';
import { renderTempoConfig, TEMPO_CONFIG_FILE, tempoConfig } from './config/tempo';
import { COMPONENTS, type ObservabilityContext, host, peerOf } from './context';
import { METRICS_PORT_ANNOTATION } from './prometheus-config';

export const TEMPO_PORT = 3200;
const OTLP_GRPC = 4317;
const OTLP_HTTP = 4318;
const COLLECTOR_METRICS = 8888;
const COLLECTOR_HEALTH = 13133;
const TEMPO_DATA = '/var/tempo';

/** Where a workload sends traces, and the label its pods need for the collector to let them in. */
export interface TracingEndpoint {
  /** OTLP over HTTP, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly otlpHttpUrl: string;
  /** OTLP over gRPC, for senders whose exporter speaks only gRPC (Storage). */
  readonly otlpGrpcUrl: string;
  readonly clientLabels: Record<string, string>;
  /** The collector's pods, for the sender's egress policy. */
  readonly peer: Peer;
  /**
   * Share of traces kept where a trace starts (Kong for every API request; a service for work it
   * starts itself); everything downstream follows the caller's decision.
   */
  readonly samplingRate: number;
}

/** The egress rule a sender needs to reach the collector at `url` (one of the endpoint's URLs). */
export function toCollector(tracing: TracingEndpoint, url: string): PortRule {
  return { port: Number(new URL(url).port), peers: [tracing.peer] };
}

export function tempo(ctx: ObservabilityContext): { service: StatefulService; url: string } {
  const c = ctx.config.tempo;
  const file = renderTempoConfig(
    tempoConfig({ httpPort: TEMPO_PORT, otlpGrpcPort: OTLP_GRPC, otlpHttpPort: OTLP_HTTP, dataDir: TEMPO_DATA, retention: '${TEMPO_RETENTION}' }),
  );
  const meta = (objectName: string) =>
    ctx.chart.metadata({ objectName, namespace: ctx.namespace, name: 'tempo', component: COMPONENTS.tempo, version: IMAGES.tempo.tag });
  const configMap = new k8s.KubeConfigMap(ctx.chart, 'tempo-config', { metadata: meta('tempo-config'), data: { [TEMPO_CONFIG_FILE]: file } });
  const service = new StatefulService(ctx.chart, 'tempo', {
    name: 'tempo',
    component: COMPONENTS.tempo,
    namespace: ctx.namespace,
    version: IMAGES.tempo.tag,
    replicas: 1,
    claims: [{ name: 'data', size: c.volumeSize, storageClassName: ctx.storageClassName }],
    ports: [
      { name: 'http', port: TEMPO_PORT },
      { name: 'otlp-grpc', port: OTLP_GRPC },
    ],
    podAnnotations: { [METRICS_PORT_ANNOTATION]: String(TEMPO_PORT) },
    restartOn: [file],
    network: {
      ingress: [
        { port: OTLP_GRPC, peers: [peerOf(ctx, 'otel-collector')] },
        { port: TEMPO_PORT, peers: [peerOf(ctx, 'grafana'), ctx.prometheus] },
      ],
      egress: [],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      volumes: [{ name: 'config', configMap: { name: configMap.name } }],
      containers: [
        {
          name: 'tempo',
          image: IMAGES.tempo,
          args: [`-config.file=/etc/tempo/${TEMPO_CONFIG_FILE}`, '-config.expand-env=true'],
          env: [{ name: 'TEMPO_RETENTION', value: `${retentionHours(c.retention)}h` }],
          resources: c.resources,
          volumeMounts: [
            { name: 'config', mountPath: '/etc/tempo', readOnly: true },
            { name: 'data', mountPath: TEMPO_DATA },
          ],
          writablePaths: [{ path: '/tmp' }],
          readinessProbe: {
            httpGet: { path: '/ready', port: k8s.IntOrString.fromString('http') },
            periodSeconds: 10,
            timeoutSeconds: 3,
            initialDelaySeconds: 15,
          },
          livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('http') }, periodSeconds: 30, failureThreshold: 6 },
        },
      ],
    },
  });
  return { service, url: `http://${host(ctx, 'tempo')}:${TEMPO_PORT}` };
}

export function otelCollector(ctx: ObservabilityContext): { service: StatelessService; endpoint: TracingEndpoint } {
  const c = ctx.config.otelCollector;
  const env = { podIp: 'MY_POD_IP', tempo: 'TEMPO_OTLP_ENDPOINT' } as const;
  const file = renderCollectorConfig(
    collectorConfig({
      otlpGrpcPort: OTLP_GRPC,
      otlpHttpPort: OTLP_HTTP,
      metricsPort: COLLECTOR_METRICS,
      healthPort: COLLECTOR_HEALTH,
      podIpEnv: env.podIp,
      tempoEndpointEnv: env.tempo,
    }),
  );
  const meta = (objectName: string) =>
    ctx.chart.metadata({
      objectName,
      namespace: ctx.namespace,
      name: 'otel-collector',
      component: COMPONENTS['otel-collector'],
      version: IMAGES.otelCollector.tag,
    });
  const configMap = new k8s.KubeConfigMap(ctx.chart, 'otel-collector-config', {
    metadata: meta('otel-collector-config'),
    data: { [COLLECTOR_CONFIG_FILE]: file },
  });
  const senders = clientsOf('tracing', ctx.instance);
  const service = new StatelessService(ctx.chart, 'otel-collector', {
    name: 'otel-collector',
    component: COMPONENTS['otel-collector'],
    namespace: ctx.namespace,
    version: IMAGES.otelCollector.tag,
    config: { replicas: c.replicas },
    ports: [
      { name: 'otlp-grpc', port: OTLP_GRPC },
      { name: 'otlp-http', port: OTLP_HTTP },
      { name: 'metrics', port: COLLECTOR_METRICS },
    ],
    restartOn: [file],
    network: {
      // OTLP over HTTP for most senders; over gRPC for Storage, whose exporter speaks only gRPC.
      ingress: [
        { port: OTLP_HTTP, peers: [senders] },
        { port: OTLP_GRPC, peers: [senders] },
        { port: COLLECTOR_METRICS, peers: [ctx.prometheus] },
      ],
      egress: [{ port: OTLP_GRPC, peers: [peerOf(ctx, 'tempo')] }],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      volumes: [{ name: 'config', configMap: { name: configMap.name } }],
      containers: [
        {
          name: 'otel-collector',
          image: IMAGES.otelCollector,
          args: [`--config=/etc/otelcol/${COLLECTOR_CONFIG_FILE}`],
          env: [
            { name: env.podIp, valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: env.tempo, value: `${host(ctx, 'tempo')}:${OTLP_GRPC}` },
          ],
          resources: c.resources,
          // Not on the Service: the kubelet's probes only.
          ports: [{ name: 'health', containerPort: COLLECTOR_HEALTH }],
          volumeMounts: [{ name: 'config', mountPath: '/etc/otelcol', readOnly: true }],
          readinessProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromString('health') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromString('health') }, periodSeconds: 30, failureThreshold: 6 },
        },
      ],
    },
  });
  return {
    service,
    endpoint: {
      otlpHttpUrl: `http://${host(ctx, 'otel-collector')}:${OTLP_HTTP}`,
      otlpGrpcUrl: `http://${host(ctx, 'otel-collector')}:${OTLP_GRPC}`,
      clientLabels: accessLabel('tracing'),
      peer: peerOf(ctx, 'otel-collector'),
      samplingRate: ctx.config.tracing.samplingRate,
    },
  };
}
