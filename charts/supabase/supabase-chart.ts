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
import type { Environment } from '../../environments/schema';
import type { SupabaseConfig } from '../../environments/supabase';
import { PlatformChart } from '../../lib/chart';
import { podsOf, prometheusPeer } from '../../lib/network';
import { provideSecret, type SecretSpec } from '../../lib/secrets';
import type { StatelessService } from '../../lib/stateless-service';
import type { TracingEndpoint } from '../observability/traces';
import { authService, AUTH_PORT } from './auth';
import type { DatabaseEndpoint, ServiceContext } from './context';
import { META_PORT, metaService } from './meta';
import { REALTIME_PORT, REALTIME_TENANT, realtimeService } from './realtime';
import { REST_PORT, restService } from './rest';
import { type SupabaseSecrets, supabaseSecrets } from './secrets';
import { STORAGE_PORT, storageService } from './storage';
import { STUDIO_PORT, studioService } from './studio';

export interface SupabaseChartProps {
  readonly instance: string;
  readonly namespace: string;
  readonly observabilityNamespace: string;
  /** PriorityClass for stateless workloads (foundation). */
  readonly priorityClassName: string;
  readonly storageClassName: string;
  readonly config: SupabaseConfig;
  /** Where the Secrets come from. */
  readonly secretSource: Environment['secrets'];
  /** The postgres chart's outputs. */
  readonly db: DatabaseEndpoint;
  /** Public base URL of the gateway, e.g. "https://defi.example.com". */
  readonly publicUrl: string;
  /** In-cluster URL of the gateway, for Studio. */
  readonly gatewayUrl: string;
  /** The OpenTelemetry Collector, for the services that export traces (Auth, Realtime, Storage, imgproxy). */
  readonly tracing: TracingEndpoint;
}

/** An upstream the gateway routes to. */
export interface Upstream {
  readonly service: string;
  readonly port: number;
  /** In-cluster host name: its first label is what Realtime takes as the tenant. */
  readonly host: string;
}

export class SupabaseChart extends PlatformChart {
  public readonly secrets: SupabaseSecrets;
  /** Services the gateway routes to, by name; `studio` only when enabled. */
  public readonly upstreams: Readonly<Record<'auth' | 'rest' | 'realtime' | 'storage' | 'meta', Upstream>> & { readonly studio?: Upstream };
  /** The Realtime tenant, which must equal the first label of `upstreams.realtime.host`. */
  public readonly realtimeTenant = REALTIME_TENANT;
  public readonly services: StatelessService[];

  constructor(scope: Construct, id: string, props: SupabaseChartProps) {
    super(scope, id, { layer: 'supabase', instance: props.instance });
    const ns = props.namespace;
    this.secrets = supabaseSecrets(ns, { smtp: props.config.smtp !== undefined, s3: props.config.storageBackend.kind === 's3' });
    for (const spec of Object.values(this.secrets).filter((s): s is SecretSpec => s !== undefined)) {
      provideSecret(this, `secret-${spec.name}`, props.secretSource, spec, this.metadata({ objectName: spec.name, namespace: ns, name: 'supabase', component: 'secret' }));
    }

    const ctx: ServiceContext = {
      chart: this,
      instance: props.instance,
      namespace: ns,
      priorityClassName: props.priorityClassName,
      storageClassName: props.storageClassName,
      config: props.config,
      secrets: this.secrets,
      db: props.db,
      publicUrl: props.publicUrl,
      gateway: podsOf(ns, props.instance, 'kong', 'gateway'),
      prometheus: prometheusPeer(props.observabilityNamespace),
      tracing: props.tracing,
    };
    this.services = [authService(ctx), restService(ctx), realtimeService(ctx), storageService(ctx), metaService(ctx)];
    if (props.config.studioEnabled) this.services.push(studioService(ctx, props.gatewayUrl));

    const upstream = (service: string, port: number): Upstream => ({ service, port, host: `${service}.${ns}.svc.cluster.local` });
    this.upstreams = {
      auth: upstream('auth', AUTH_PORT),
      rest: upstream('rest', REST_PORT),
      realtime: upstream('realtime', REALTIME_PORT),
      storage: upstream('storage', STORAGE_PORT),
      meta: upstream('meta', META_PORT),
      ...(props.config.studioEnabled ? { studio: upstream('studio', STUDIO_PORT) } : {}),
    };
  }
}
