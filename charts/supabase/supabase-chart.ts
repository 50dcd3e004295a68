// The Supabase services (Auth, PostgREST, Realtime, Storage with imgproxy, postgres-meta,
// Studio) in the "supabase" layer, wired to the data tier through its outputs, with
// their Secrets declared once and provided by the environment's secret source.
//
// Traces: every service whose pinned version exports OpenTelemetry traces sends them to the
// collector (Auth, Realtime, Storage and its imgproxy), under the trace Kong started for the
// request. PostgREST 14 has no tracing (its server-trace-header only copies a request header to
// the response), postgres-meta reports errors to Sentry only, and Studio exports spans only to
// Langfuse for its AI assistant: they stay out.
import type { Construct } from 'constructs';
import type { SupabaseConfig } from '../../environments/supabase';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { type Endpoint, serviceEndpoint } from '../../lib/endpoint';
import { provideSecret, type SecretSpec } from '../../lib/secrets';
import type { StatelessService } from '../../lib/stateless-service';
import type { TracingEndpoint } from '../observability/traces';
import type { DatabaseEndpoints } from '../postgres/postgres-chart';
import { authService, AUTH_PORT } from './auth';
import type { ServiceContext } from './context';
import { META_PORT, metaService } from './meta';
import { REALTIME_PORT, REALTIME_TENANT, realtimeService } from './realtime';
import { REST_PORT, restService } from './rest';
import { type SupabaseSecrets, supabaseSecrets } from './secrets';
import { STORAGE_PORT, storageService } from './storage';
import { STUDIO_PORT, studioService } from './studio';

export interface SupabaseChartProps extends ChartProps {
  /** The services' settings from the environment. */
  readonly config: SupabaseConfig;
  /** The database (the postgres chart). */
  readonly db: DatabaseEndpoints;
  /** Public base URL of the gateway, e.g. "https://defi.example.com". */
  readonly publicUrl: string;
  /** Kong's proxy (built later, by the gateway chart): every service admits it; Studio calls it. */
  readonly gateway: Endpoint;
  /** The OpenTelemetry Collector, for the services that export traces (Auth, Realtime, Storage, imgproxy). */
  readonly tracing: TracingEndpoint;
  /** Prometheus, which scrapes the services' metrics ports. */
  readonly prometheus: Endpoint;
}

/** The services the gateway routes to; `studio` only when enabled. */
export type Upstreams = Readonly<Record<'auth' | 'rest' | 'realtime' | 'storage' | 'meta', Endpoint>> & { readonly studio?: Endpoint };

export class SupabaseChart extends PlatformChart {
  public readonly secrets: SupabaseSecrets;
  /** Services the gateway routes to, by name; `studio` only when enabled. */
  public readonly upstreams: Upstreams;
  /** The Realtime tenant, which must equal the first label of `upstreams.realtime.host`. */
  public readonly realtimeTenant = REALTIME_TENANT;
  /** Every service's workload. */
  public readonly services: StatelessService[];

  constructor(scope: Construct, id: string, props: SupabaseChartProps) {
    super(scope, id, props);
    const ns = this.platform.namespaces.supabase;
    this.secrets = supabaseSecrets(ns, { smtp: props.config.smtp !== undefined, s3: props.config.storageBackend.kind === 's3' });
    for (const spec of Object.values(this.secrets).filter((s): s is SecretSpec => s !== undefined)) {
      provideSecret(
        this,
        `secret-${spec.name}`,
        this.platform.secretSource,
        spec,
        this.metadata({ objectName: spec.name, namespace: ns, name: 'supabase', component: 'secret' }),
      );
    }

    const ctx: ServiceContext = {
      chart: this,
      platform: this.platform,
      instance: this.instance,
      namespace: ns,
      priorityClassName: this.platform.priorityClasses.stateless,
      storageClassName: this.platform.storage.className,
      config: props.config,
      secrets: this.secrets,
      db: props.db,
      publicUrl: props.publicUrl,
      gateway: props.gateway,
      prometheus: props.prometheus.peer,
      tracing: props.tracing,
    };
    const [auth, rest, realtime, storage, meta] = [authService(ctx), restService(ctx), realtimeService(ctx), storageService(ctx), metaService(ctx)];
    const studio = props.config.studioEnabled ? studioService(ctx) : undefined;
    this.services = [auth, rest, realtime, storage, meta, ...(studio ? [studio] : [])];

    // Kong's pods call them; each admits Kong by its own identity, so no client labels.
    const upstream = (service: StatelessService, port: number) => serviceEndpoint(ns, service, port);
    this.upstreams = {
      auth: upstream(auth, AUTH_PORT),
      rest: upstream(rest, REST_PORT),
      realtime: upstream(realtime, REALTIME_PORT),
      storage: upstream(storage, STORAGE_PORT),
      meta: upstream(meta, META_PORT),
      ...(studio ? { studio: upstream(studio, STUDIO_PORT) } : {}),
    };
  }
}
