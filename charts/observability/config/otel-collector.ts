// The OpenTelemetry Collector's config.yaml, built from a typed object. The schema is the part of
// the Collector's configuration the platform uses, at the pinned version (lib/images.ts,
// opentelemetry-collector-contrib 0.158.0), written from the components' Config structs at tag
// v0.158.0 of https://github.com/open-telemetry/opentelemetry-collector/tree/v0.158.0 (receiver/
// otlpreceiver, processor/memorylimiterprocessor and internal/memorylimiter, processor/
// batchprocessor, exporter/otlpexporter, whose type is "otlp_grpc" since 0.144 with "otlp" its
// deprecated alias, config/configgrpc, config/configtls, service/telemetry/otelconftelemetry) and
// https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/v0.158.0/extension/healthcheckextension.
// Overview: https://opentelemetry.io/docs/collector/configuration/
// The Collector decodes with mapstructure's ErrorUnused (an unknown key stops it at start); here
// every object is strict, every component is looked up by its type, and every ID a pipeline names
// must be configured, as the Collector checks at start.
import { z } from 'zod';
import { parseYamlConfig, renderYaml } from './check';
import { COLLECTOR_ENV_REFERENCE, GoDuration, HostPort, Port } from './fields';

/** An endpoint written as host:port, or a whole `${env:NAME}` holding one. */
const Endpoint = z.union([HostPort, z.string().regex(new RegExp(`^${COLLECTOR_ENV_REFERENCE.source}$`))], { error: 'must be host:port or ${env:NAME}' });
/** A component with all defaults may be written `{}` or left empty (null). */
const orDefaults = <S extends z.ZodType>(schema: S) => z.union([schema, z.null()]);

const RECEIVERS = {
  otlp: z.strictObject({
    protocols: z.strictObject({
      grpc: z.strictObject({ endpoint: HostPort.optional(), max_recv_msg_size_mib: z.int().positive().optional() }).optional(),
      http: z.strictObject({ endpoint: HostPort.optional() }).optional(),
    }),
  }),
};

const PROCESSORS = {
  memory_limiter: z
    .strictObject({
      check_interval: GoDuration,
      limit_mib: z.int().positive().optional(),
      spike_limit_mib: z.int().positive().optional(),
      limit_percentage: z.int().min(1).max(100).optional(),
      spike_limit_percentage: z.int().min(1).max(100).optional(),
    })
    .superRefine((c, ctx) => {
      if (c.limit_mib === undefined && c.limit_percentage === undefined)
        ctx.addIssue({ code: 'custom', path: [], message: 'needs limit_mib or limit_percentage' });
      if (c.limit_percentage !== undefined && c.spike_limit_percentage !== undefined && c.spike_limit_percentage >= c.limit_percentage) {
        ctx.addIssue({ code: 'custom', path: ['spike_limit_percentage'], message: 'must be below limit_percentage' });
      }
    }),
  batch: orDefaults(
    z.strictObject({
      timeout: GoDuration.optional(),
      send_batch_size: z.int().positive().optional(),
      send_batch_max_size: z.int().nonnegative().optional(),
    }),
  ),
};

const EXPORTERS = {
  otlp_grpc: z.strictObject({
    endpoint: Endpoint,
    tls: z.strictObject({ insecure: z.boolean().optional(), ca_file: z.string().optional() }).optional(),
    compression: z.enum(['gzip', 'zstd', 'snappy', 'none']).optional(),
  }),
};

const EXTENSIONS = {
  health_check: z.strictObject({ endpoint: HostPort, path: z.string().startsWith('/').optional() }),
};

type Section = Readonly<Record<string, z.ZodType>>;

/** A component section ("receivers:" ...): each key is "type" or "type/name", its value that type's configuration. */
function section<S extends Section>(known: S) {
  return z.record(z.string(), z.unknown()).superRefine((entries, ctx) => {
    for (const [id, value] of Object.entries(entries)) {
      const type = id.split('/')[0]!;
      const schema = known[type];
      if (!id.match(/^[a-z0-9_]+(\/[A-Za-z0-9_.-]+)?$/)) {
        ctx.addIssue({ code: 'custom', path: [id], message: 'is not a component ID ("type" or "type/name")' });
      } else if (!schema) {
        ctx.addIssue({ code: 'custom', path: [id], message: `unknown component type "${type}" (known here: ${Object.keys(known).join(', ')})` });
      } else {
        const result = schema.safeParse(value);
        if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', path: [id, ...issue.path], message: issue.message });
      }
    }
  });
}
/** A section as written: "type" or "type/name" keys of the known types only, each with that type's configuration. */
type SectionOf<S extends Section> = { readonly [K in keyof S & string as K | `${K}/${string}`]?: z.input<S[K]> };

const Pipeline = z.strictObject({
  receivers: z.array(z.string()).min(1),
  processors: z.array(z.string()).optional(),
  exporters: z.array(z.string()).min(1),
});

const Telemetry = z.strictObject({
  logs: z.strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).optional() }).optional(),
  metrics: z
    .strictObject({
      level: z.enum(['none', 'basic', 'normal', 'detailed']).optional(),
      readers: z
        .array(z.strictObject({ pull: z.strictObject({ exporter: z.strictObject({ prometheus: z.strictObject({ host: z.string().min(1), port: Port }) }) }) }))
        .min(1),
    })
    .optional(),
});

export const CollectorConfigSchema = z
  .strictObject({
    extensions: section(EXTENSIONS).optional(),
    receivers: section(RECEIVERS),
    processors: section(PROCESSORS).optional(),
    exporters: section(EXPORTERS),
    service: z.strictObject({
      extensions: z.array(z.string()).optional(),
      telemetry: Telemetry.optional(),
      pipelines: z.record(
        z.string().regex(/^(traces|metrics|logs)(\/[A-Za-z0-9_.-]+)?$/, { error: 'must be traces, metrics or logs, optionally /name' }),
        Pipeline,
      ),
    }),
  })
  .superRefine((c, ctx) => {
    // What the Collector checks at start: every ID the service names is configured.
    const declared = (s: Record<string, unknown> | undefined) => new Set(Object.keys(s ?? {}));
    const has = { receivers: declared(c.receivers), processors: declared(c.processors), exporters: declared(c.exporters), extensions: declared(c.extensions) };
    (c.service.extensions ?? []).forEach((id, i) => {
      if (!has.extensions.has(id))
        ctx.addIssue({ code: 'custom', path: ['service', 'extensions', i], message: `names extension "${id}", which is not configured` });
    });
    for (const [name, pipeline] of Object.entries(c.service.pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        (pipeline[kind] ?? []).forEach((id, i) => {
          if (!has[kind].has(id))
            ctx.addIssue({
              code: 'custom',
              path: ['service', 'pipelines', name, kind, i],
              message: `names ${kind.slice(0, -1)} "${id}", which is not configured`,
            });
        });
      }
    }
  });

/** The configuration as written: each section's entries typed by their component type. */
export interface CollectorConfig {
  readonly extensions?: SectionOf<typeof EXTENSIONS>;
  readonly receivers: SectionOf<typeof RECEIVERS>;
  readonly processors?: SectionOf<typeof PROCESSORS>;
  readonly exporters: SectionOf<typeof EXPORTERS>;
  readonly service: z.input<typeof CollectorConfigSchema>['service'];
}

export const COLLECTOR_CONFIG_FILE = 'config.yaml';

export interface CollectorConfigInput {
  readonly otlpGrpcPort: number;
  readonly otlpHttpPort: number;
  readonly metricsPort: number;
  readonly healthPort: number;
  /** The variable holding the pod's IP, which every listener binds to. */
  readonly podIpEnv: string;
  /** The variable holding Tempo's OTLP gRPC host:port. */
  readonly tempoEndpointEnv: string;
}

/**
 * OTLP in from the platform's workloads (gRPC and HTTP), traces out to Tempo. The memory limiter
 * comes first so a burst drops spans instead of killing the pod.
 */
export function collectorConfig(input: CollectorConfigInput): CollectorConfig {
  const ip = `\${env:${input.podIpEnv}}`;
  return {
    extensions: { health_check: { endpoint: `${ip}:${input.healthPort}` } },
    receivers: { otlp: { protocols: { grpc: { endpoint: `${ip}:${input.otlpGrpcPort}` }, http: { endpoint: `${ip}:${input.otlpHttpPort}` } } } },
    processors: {
      memory_limiter: { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 25 },
      batch: {},
    },
    exporters: { 'otlp_grpc/tempo': { endpoint: `\${env:${input.tempoEndpointEnv}}`, tls: { insecure: true } } },
    service: {
      extensions: ['health_check'],
      telemetry: { metrics: { readers: [{ pull: { exporter: { prometheus: { host: ip, port: input.metricsPort } } } }] } },
      pipelines: { traces: { receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['otlp_grpc/tempo'] } },
    },
  };
}

/** config.yaml as it ships; refuses a config the schema does not accept. */
export function renderCollectorConfig(config: CollectorConfig): string {
  return renderYaml(CollectorConfigSchema, config, COLLECTOR_CONFIG_FILE, [
    "OpenTelemetry Collector: OTLP in from the platform's workloads, traces out to Tempo. The",
    'memory limiter comes first so a burst drops spans instead of killing the pod.',
    'Generated from charts/observability/config/otel-collector.ts.',
  ]);
}

/** Reads config.yaml back (the shipped text) and checks it against the schema. */
export function parseCollectorConfig(text: string): z.output<typeof CollectorConfigSchema> {
  return parseYamlConfig(CollectorConfigSchema, text, COLLECTOR_CONFIG_FILE);
}
