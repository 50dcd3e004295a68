// Traces to the OpenTelemetry Collector over OTLP/HTTP (protobuf), from the OpenTelemetry Node
// SDK with the http, pg and ioredis instrumentations. Started before any of those modules is
// loaded (the entry points load the rest of the program afterwards), so their require hooks
// patch them. Only traces: metrics are Prometheus's (scraped from /metrics), logs go to stdout.
// https://opentelemetry.io/docs/languages/js/getting-started/nodejs/
import { hostname } from 'node:os';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Config } from './config';
import { HEALTH_PATH, METRICS_PATH, READY_PATH } from './contract';

export interface Telemetry {
  /** Sends the spans still buffered; resolves (never rejects) within `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<void>;
}

const UNTRACED = new Set([HEALTH_PATH, READY_PATH, METRICS_PATH]);

export function startTelemetry(config: Config): Telemetry {
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      ...config.otel.resourceAttributes,
      [ATTR_SERVICE_NAME]: config.otel.serviceName,
      'service.instance.id': hostname(),
    }),
    autoDetectResources: false,
    traceExporter: new OTLPTraceExporter({ url: config.otel.tracesUrl, timeoutMillis: 5000 }),
    // Given empty, so that the SDK does not start its default OTLP metric and log exporters.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED.has((req.url ?? '').split('?')[0] ?? ''),
      }),
      // Statement text without values: parameters may hold users' data.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return {
    shutdown: (timeoutMs) => Promise.race([sdk.shutdown().catch(() => undefined), new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]),
  };
}
