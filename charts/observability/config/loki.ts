// loki.yaml, built from a typed object. The schema is the part of Loki's configuration reference
// the platform uses, at the pinned version (lib/images.ts, Loki 3.7):
// https://grafana.com/docs/loki/v3.7.x/configure/ (the same text as
// https://github.com/grafana/loki/blob/v3.7.6/docs/sources/shared/configuration.md). Every object is strict, as Loki itself reads the
// file (yaml.UnmarshalStrict: an unknown key stops it at start), so a misspelt key fails at synth,
// and in the editor where the object is written.
import { z } from 'zod';
import { parseYamlConfig, renderYaml } from './check';
import { AbsolutePath, LogLevel, Port, PromDuration, PromDurationOrEnv } from './fields';

const Server = z.strictObject({
  http_listen_port: Port.optional(),
  grpc_listen_port: Port.optional(),
  log_level: LogLevel.optional(),
});

const Common = z.strictObject({
  path_prefix: AbsolutePath.optional(),
  replication_factor: z.int().min(1).optional(),
  ring: z.strictObject({ kvstore: z.strictObject({ store: z.enum(['consul', 'etcd', 'inmemory', 'memberlist', 'multi']) }) }).optional(),
  storage: z.strictObject({ filesystem: z.strictObject({ chunks_directory: AbsolutePath, rules_directory: AbsolutePath }) }).optional(),
});

/** One period_config: which index and chunk store hold the data from `from` on. */
const PeriodConfig = z.strictObject({
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a day, YYYY-MM-DD' }),
  store: z.enum(['tsdb', 'boltdb-shipper']),
  object_store: z.enum(['aws', 's3', 'azure', 'gcs', 'alibabacloud', 'bos', 'cos', 'swift', 'filesystem']),
  schema: z.enum(['v11', 'v12', 'v13']),
  index: z.strictObject({ prefix: z.string(), period: PromDuration }),
});

const Limits = z.strictObject({
  retention_period: PromDurationOrEnv.optional(),
  reject_old_samples: z.boolean().optional(),
  reject_old_samples_max_age: PromDurationOrEnv.optional(),
  ingestion_rate_mb: z.number().positive().optional(),
  ingestion_burst_size_mb: z.number().positive().optional(),
  max_query_lookback: PromDurationOrEnv.optional(),
});

const Compactor = z.strictObject({
  working_directory: AbsolutePath.optional(),
  retention_enabled: z.boolean().optional(),
  /** Required when retention is enabled (the reference: "delete_request_store"). */
  delete_request_store: z.string().optional(),
});

export const LokiConfigSchema = z
  .strictObject({
    auth_enabled: z.boolean().optional(),
    server: Server.optional(),
    common: Common.optional(),
    schema_config: z.strictObject({ configs: z.array(PeriodConfig).min(1) }),
    limits_config: Limits.optional(),
    compactor: Compactor.optional(),
    analytics: z.strictObject({ reporting_enabled: z.boolean() }).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.compactor?.retention_enabled && !c.compactor.delete_request_store) {
      ctx.addIssue({ code: 'custom', path: ['compactor', 'delete_request_store'], message: 'is required when retention_enabled is true' });
    }
    c.schema_config.configs.forEach((p, i) => {
      if (p.store === 'tsdb' && p.index.period !== '24h')
        ctx.addIssue({ code: 'custom', path: ['schema_config', 'configs', i, 'index', 'period'], message: 'must be 24h for the tsdb store' });
    });
  });
export type LokiConfig = z.input<typeof LokiConfigSchema>;

export const LOKI_CONFIG_FILE = 'loki.yaml';

export interface LokiConfigInput {
  readonly httpPort: number;
  readonly grpcPort: number;
  /** Where the pod's volume is mounted: chunks, index, rules and the compactor's work. */
  readonly dataDir: string;
  /** How long logs are kept: a `${NAME}` Loki fills from its environment (-config.expand-env=true). */
  readonly retention: string;
}

/** Loki as one process (-target=all) keeping chunks and its TSDB index on the pod's volume. */
export function lokiConfig(input: LokiConfigInput): LokiConfig {
  const dir = input.dataDir;
  return {
    auth_enabled: false,
    server: { http_listen_port: input.httpPort, grpc_listen_port: input.grpcPort, log_level: 'warn' },
    common: {
      path_prefix: dir,
      replication_factor: 1,
      ring: { kvstore: { store: 'inmemory' } },
      storage: { filesystem: { chunks_directory: `${dir}/chunks`, rules_directory: `${dir}/rules` } },
    },
    schema_config: { configs: [{ from: '2025-01-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } }] },
    limits_config: {
      retention_period: input.retention,
      reject_old_samples: true,
      reject_old_samples_max_age: '168h',
      ingestion_rate_mb: 8,
      ingestion_burst_size_mb: 16,
      max_query_lookback: input.retention,
    },
    compactor: { working_directory: `${dir}/compactor`, retention_enabled: true, delete_request_store: 'filesystem' },
    analytics: { reporting_enabled: false },
  };
}

/** loki.yaml as it ships; refuses a config the schema does not accept. */
export function renderLokiConfig(config: LokiConfig): string {
  return renderYaml(LokiConfigSchema, config, LOKI_CONFIG_FILE, [
    "Loki as one process (-target=all) keeping chunks and its TSDB index on the pod's volume.",
    "${LOKI_RETENTION} is expanded from the container's environment (-config.expand-env=true);",
    'the compactor deletes what is older. Generated from charts/observability/config/loki.ts.',
  ]);
}

/** Reads loki.yaml back (the shipped text) and checks it against the schema. */
export function parseLokiConfig(text: string): z.output<typeof LokiConfigSchema> {
  return parseYamlConfig(LokiConfigSchema, text, LOKI_CONFIG_FILE);
}
