// tempo.yaml, built from a typed object. The schema is the part of Tempo's configuration the
// platform uses, at the pinned version (lib/images.ts, Tempo 2.10):
// https://grafana.com/docs/tempo/v2.10.x/configuration/ and its manifest of every option,
// https://github.com/grafana/tempo/blob/v2.10.8/docs/sources/tempo/configuration/manifest.md
// Tempo reads the file with yaml.UnmarshalStrict, so an unknown key stops it at start; here every
// object is strict too, and a misspelt key fails at synth. The distributor's receivers are the
// OpenTelemetry Collector's OTLP receiver configuration, passed through:
// https://github.com/open-telemetry/opentelemetry-collector/blob/main/receiver/otlpreceiver/README.md
import { z } from 'zod';
import { parseYamlConfig, renderYaml } from './check';
import { AbsolutePath, GoDuration, GoDurationOrEnv, HostPort, LogLevel, Port } from './fields';

const OtlpReceiver = z.strictObject({
  protocols: z.strictObject({
    grpc: z.strictObject({ endpoint: HostPort }).optional(),
    http: z.strictObject({ endpoint: HostPort }).optional(),
  }),
});

export const TempoConfigSchema = z
  .strictObject({
    stream_over_http_enabled: z.boolean().optional(),
    server: z.strictObject({ http_listen_port: Port.optional(), log_level: LogLevel.optional() }).optional(),
    distributor: z.strictObject({ receivers: z.strictObject({ otlp: OtlpReceiver }) }).optional(),
    ingester: z.strictObject({ max_block_duration: GoDuration.optional() }).optional(),
    compactor: z.strictObject({ compaction: z.strictObject({ block_retention: GoDurationOrEnv.optional() }) }).optional(),
    storage: z.strictObject({
      trace: z.strictObject({
        backend: z.enum(['local', 's3', 'gcs', 'azure']),
        wal: z.strictObject({ path: AbsolutePath }),
        local: z.strictObject({ path: AbsolutePath }).optional(),
      }),
    }),
    usage_report: z.strictObject({ reporting_enabled: z.boolean() }).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.storage.trace.backend === 'local' && !c.storage.trace.local)
      ctx.addIssue({ code: 'custom', path: ['storage', 'trace', 'local'], message: 'is required with backend "local"' });
  });
export type TempoConfig = z.input<typeof TempoConfigSchema>;

export const TEMPO_CONFIG_FILE = 'tempo.yaml';

export interface TempoConfigInput {
  readonly httpPort: number;
  readonly otlpGrpcPort: number;
  readonly otlpHttpPort: number;
  /** Where the pod's volume is mounted: the WAL and the blocks. */
  readonly dataDir: string;
  /** How long traces are kept: a `${NAME}` Tempo fills from its environment (-config.expand-env=true). */
  readonly retention: string;
}

/** Tempo as one process: OTLP in from the OpenTelemetry Collector, blocks on the pod's volume. */
export function tempoConfig(input: TempoConfigInput): TempoConfig {
  return {
    stream_over_http_enabled: true,
    server: { http_listen_port: input.httpPort, log_level: 'warn' },
    distributor: {
      receivers: { otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${input.otlpGrpcPort}` }, http: { endpoint: `0.0.0.0:${input.otlpHttpPort}` } } } },
    },
    ingester: { max_block_duration: '5m' },
    compactor: { compaction: { block_retention: input.retention } },
    storage: { trace: { backend: 'local', wal: { path: `${input.dataDir}/wal` }, local: { path: `${input.dataDir}/blocks` } } },
    usage_report: { reporting_enabled: false },
  };
}

/** tempo.yaml as it ships; refuses a config the schema does not accept. */
export function renderTempoConfig(config: TempoConfig): string {
  return renderYaml(TempoConfigSchema, config, TEMPO_CONFIG_FILE, [
    "Tempo as one process: OTLP in from the OpenTelemetry Collector, blocks on the pod's volume.",
    "${TEMPO_RETENTION} is expanded from the container's environment (-config.expand-env=true).",
    'Generated from charts/observability/config/tempo.ts.',
  ]);
}

/** Reads tempo.yaml back (the shipped text) and checks it against the schema. */
export function parseTempoConfig(text: string): z.output<typeof TempoConfigSchema> {
  return parseYamlConfig(TempoConfigSchema, text, TEMPO_CONFIG_FILE);
}
