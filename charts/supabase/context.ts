// What every Supabase service builder gets: where it runs, how to reach the database, the
// declared Secrets, and the peers the network policies name.
import type { DatabaseEndpoints } from '../postgres/postgres-chart';
import type { SupabaseConfig } from '../../environments/supabase';
import type { PlatformChart } from '../../lib/chart';
import type { k8s } from 'cdk8s-plus-33';
import type { PlatformContext } from '../../lib/context';
import type { Endpoint } from '../../lib/endpoint';
import type { Peer, PortRule } from '../../lib/network';
import { toCollector, type TracingEndpoint } from '../observability/traces';
import type { SupabaseSecrets } from './secrets';

export interface ServiceContext {
  readonly chart: PlatformChart;
  /** The platform context, for the workloads of this chart that another service names before it exists. */
  readonly platform: PlatformContext;
  readonly instance: string;
  readonly namespace: string;
  readonly priorityClassName: string;
  /** StorageClass of volumes (Storage's file backend). */
  readonly storageClassName: string;
  readonly config: SupabaseConfig;
  readonly secrets: SupabaseSecrets;
  readonly db: DatabaseEndpoints;
  /** The public base URL of the gateway, e.g. "https://defi.example.com". */
  readonly publicUrl: string;
  /** Kong: every service admits its pods on its API port; Studio calls its proxy. */
  readonly gateway: Endpoint;
  /** Prometheus, for metrics ports. */
  readonly prometheus: Peer;
  /** The OpenTelemetry Collector, for the services that export traces. */
  readonly tracing: TracingEndpoint;
}

/**
 * A service's traces: the OpenTelemetry SDK variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/) for the
 * collector's OTLP endpoint over `protocol`, the service's name (the name of its container, which
 * Grafana's trace-to-logs link looks logs up by) and the platform's sampling: a trace Kong started
 * keeps Kong's decision, one the service starts itself is kept at the environment's rate. Its
 * pods also need `tracing.clientLabels` and the egress rule `traceEgress` gives.
 */
export function otelEnv(ctx: Pick<ServiceContext, 'instance' | 'tracing'>, serviceName: string, protocol: 'http' | 'grpc'): k8s.EnvVar[] {
  return [
    { name: 'OTEL_SERVICE_NAME', value: serviceName },
    { name: 'OTEL_RESOURCE_ATTRIBUTES', value: `deployment.environment=${ctx.instance}` },
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: protocol === 'http' ? ctx.tracing.otlpHttpUrl : ctx.tracing.otlpGrpcUrl },
    { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: protocol === 'http' ? 'http/protobuf' : 'grpc' },
    ...samplerEnv(ctx),
  ];
}

/** OTEL_TRACES_SAMPLER: follow the caller's decision, keep the environment's share of the traces the service starts. */
export function samplerEnv(ctx: Pick<ServiceContext, 'tracing'>): k8s.EnvVar[] {
  return [
    { name: 'OTEL_TRACES_SAMPLER', value: 'parentbased_traceidratio' },
    { name: 'OTEL_TRACES_SAMPLER_ARG', value: String(ctx.tracing.samplingRate) },
  ];
}

/** Egress to the collector over `protocol`. */
export function traceEgress(ctx: Pick<ServiceContext, 'tracing'>, protocol: 'http' | 'grpc'): PortRule {
  return toCollector(ctx.tracing, protocol === 'http' ? ctx.tracing.otlpHttpUrl : ctx.tracing.otlpGrpcUrl);
}

/** Egress to the database's instances on the database port. */
export function toDatabase(ctx: ServiceContext) {
  return { port: ctx.db.port, peers: [ctx.db.peer] };
}

/** The CA volume and mount every database client needs to verify the server (sslmode=verify-full). */
export function databaseCa(ctx: ServiceContext): { volume: k8s.Volume; mount: k8s.VolumeMount; caFile: string } {
  const tls = ctx.db.tlsFor(ctx.namespace);
  return {
    // World-readable: some images run their steps as another user (Realtime's as nobody).
    volume: { name: 'postgres-ca', secret: { secretName: tls.caSecretName, items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } },
    mount: { name: 'postgres-ca', mountPath: tls.mountPath, readOnly: true },
    caFile: tls.caFile,
  };
}
