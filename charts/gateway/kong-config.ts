// Kong's declarative configuration (DB-less), built from the Supabase services the supabase
// chart exposes: routes and their plugins as in upstream Supabase self-hosting, hardened as Kong
// 3.9 allows (docs/reference/gateway-and-delivery.md): rate limits by client IP kept in Redis, a
// request size limit on every route, ip-restriction on the admin routes, Prometheus metrics, traces
// to the OpenTelemetry Collector. Keys and passwords are
// `${NAME}` placeholders that render-kong-config.sh fills from Secrets when the pod starts.

export interface KongPlugin {
  readonly name: string;
  readonly config?: Record<string, unknown>;
}
export interface KongRoute {
  readonly name: string;
  readonly paths: string[];
  readonly strip_path: boolean;
  readonly protocols?: string[];
}
export interface KongService {
  readonly name: string;
  readonly url: string;
  readonly routes: KongRoute[];
  readonly plugins: KongPlugin[];
  readonly read_timeout?: number;
}
export interface KongConsumer {
  readonly username: string;
  readonly keyauth_credentials?: { key: string }[];
  readonly basicauth_credentials?: { username: string; password: string }[];
  readonly acls?: { group: string }[];
  /** Plugins for this consumer only; they take precedence over the same plugin on a service. */
  readonly plugins?: KongPlugin[];
}
export interface KongDeclarativeConfig {
  readonly _format_version: '3.0';
  readonly _transform: true;
  readonly consumers: KongConsumer[];
  readonly services: KongService[];
  readonly plugins: KongPlugin[];
}

/** Environment variables render-kong-config.sh substitutes; each comes from a Secret. */
export const PLACEHOLDERS = [
  'SUPABASE_ANON_KEY',
  'SUPABASE_SERVICE_KEY',
  'DASHBOARD_USERNAME',
  'DASHBOARD_PASSWORD',
  'REDIS_PASSWORD',
  'LOADTEST_KEY',
] as const;
/** The load tests' consumer: its own API key (an anon-role JWT), its own rate limit. */
export const LOADTEST_CONSUMER = 'loadtest';
const ph = (name: (typeof PLACEHOLDERS)[number]) => `\${${name}}`;

/** GoTrue paths a browser reaches without an API key (email links, OAuth, the JWKS). */
export const OPEN_AUTH_PATHS = ['verify', 'callback', 'authorize', '.well-known/jwks.json'] as const;

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

export interface KongConfigInput {
  readonly upstreams: { auth: Upstream; rest: Upstream; realtime: Upstream; storage: Upstream; meta: Upstream; studio?: Upstream };
  /** The product's api, served at /app/v1/. */
  readonly product: Upstream;
  readonly redis: { host: string; port: number };
  readonly corsOrigins: readonly string[];
  /** Requests per minute per client IP; loadtest: for the load tests' consumer, all its clients together. */
  readonly rateLimits: { auth: number; api: number; loadtest: number };
  readonly adminCidrs: readonly string[];
  /** Storage's upload limit in bytes; the storage route allows that plus 1 MB of form overhead. */
  readonly storageMaxBytes: number;
  /** Where the opentelemetry plugin sends spans (OTLP over HTTP), and the deployment.environment they carry. */
  readonly tracing: { readonly tracesEndpoint: string; readonly environment: string };
}

/**
 * Kong's opentelemetry plugin, global: a span for every request (and its upstream call) to the
 * Collector over OTLP/HTTP (https://docs.konghq.com/hub/kong-inc/opentelemetry/; its schema at 3.9.1:
 * https://github.com/Kong/kong/blob/3.9.1/kong/plugins/opentelemetry/schema.lua). At the edge no client's trace context is
 * believed (extract: none), so nobody outside can choose a trace ID or force sampling; Kong starts
 * every trace, samples it at tracing_sampling_rate and passes W3C traceparent upstream, which the
 * services follow.
 */
export function openTelemetryPlugin(tracing: KongConfigInput['tracing']): KongPlugin {
  return {
    name: 'opentelemetry',
    config: {
      traces_endpoint: tracing.tracesEndpoint,
      resource_attributes: { 'service.name': 'kong', 'deployment.environment': tracing.environment },
      // A client's tracestate belongs to the traceparent Kong replaces.
      propagation: { extract: [], clear: ['tracestate'], inject: ['w3c'], default_format: 'w3c' },
    },
  };
}

const MB = 1024 * 1024;
/** Body size limit of API routes, in MB. */
export const API_BODY_LIMIT_MB = 1;

export function kongConfig(input: KongConfigInput): KongDeclarativeConfig {
  const url = (u: Upstream, path = '/') => `http://${u.host}:${u.port}${path}`;
  const cors: KongPlugin = { name: 'cors', config: { origins: [...input.corsOrigins], credentials: true, max_age: 3600 } };
  const sizeLimit = (megabytes: number): KongPlugin => ({
    name: 'request-size-limiting',
    config: { allowed_payload_size: megabytes, size_unit: 'megabytes', require_content_length: false },
  });
  const rateLimit = (perMinute: number, limitBy: 'ip' | 'consumer' = 'ip'): KongPlugin => ({
    name: 'rate-limiting',
    config: {
      minute: perMinute,
      limit_by: limitBy,
      policy: 'redis',
      redis: { host: input.redis.host, port: input.redis.port, password: ph('REDIS_PASSWORD'), database: 0, timeout: 2000 },
      // Serve requests when Redis is briefly unreachable rather than fail the whole API.
      fault_tolerant: true,
      hide_client_headers: false,
    },
  });
  const keyAuth = (hideCredentials: boolean): KongPlugin => ({ name: 'key-auth', config: { hide_credentials: hideCredentials, key_names: ['apikey'] } });
  const acl = (...groups: string[]): KongPlugin => ({ name: 'acl', config: { hide_groups_header: true, allow: groups } });
  const adminOnly: KongPlugin = { name: 'ip-restriction', config: { allow: [...input.adminCidrs] } };
  const api = sizeLimit(API_BODY_LIMIT_MB);
  const route = (name: string, paths: string[], protocols?: string[]): KongRoute => ({ name, paths, strip_path: true, ...(protocols ? { protocols } : {}) });
  const { auth, rest, realtime, storage, meta, studio } = input.upstreams;

  const services: KongService[] = [
    ...OPEN_AUTH_PATHS.map((path) => ({
      name: `auth-v1-open-${path.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`,
      url: url(auth, `/${path}`),
      routes: [route(`auth-v1-open-${path.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`, [`/auth/v1/${path}`])],
      plugins: [cors, api, rateLimit(input.rateLimits.auth)],
    })),
    {
      name: 'auth-v1',
      url: url(auth),
      routes: [route('auth-v1-all', ['/auth/v1/'])],
      plugins: [cors, keyAuth(false), acl('admin', 'anon'), api, rateLimit(input.rateLimits.auth)],
    },
    {
      name: 'rest-v1',
      url: url(rest),
      routes: [route('rest-v1-all', ['/rest/v1/'])],
      plugins: [cors, keyAuth(true), acl('admin', 'anon'), api, rateLimit(input.rateLimits.api)],
    },
    {
      name: 'graphql-v1',
      url: url(rest, '/rpc/graphql'),
      routes: [route('graphql-v1-all', ['/graphql/v1'])],
      plugins: [
        cors,
        keyAuth(true),
        { name: 'request-transformer', config: { add: { headers: ['Content-Profile:graphql_public'] } } },
        acl('admin', 'anon'),
        api,
        rateLimit(input.rateLimits.api),
      ],
    },
    {
      name: 'realtime-v1-ws',
      url: `ws://${realtime.host}:${realtime.port}/socket`,
      routes: [route('realtime-v1-ws', ['/realtime/v1/'], ['http', 'https'])],
      plugins: [cors, keyAuth(false), acl('admin', 'anon'), api, rateLimit(input.rateLimits.api)],
    },
    {
      name: 'realtime-v1-rest',
      url: url(realtime, '/api'),
      routes: [route('realtime-v1-rest', ['/realtime/v1/api'])],
      plugins: [cors, keyAuth(false), acl('admin', 'anon'), api, rateLimit(input.rateLimits.api)],
    },
    {
      // Tenant management and the API description stay inside the cluster.
      name: 'realtime-v1-blocked',
      url: url(realtime, '/api'),
      routes: [route('realtime-v1-blocked', ['/realtime/v1/api/tenants', '/realtime/v1/api/openapi'])],
      plugins: [api, { name: 'request-termination', config: { status_code: 403, message: 'Forbidden' } }],
    },
    {
      // Storage checks the JWT itself (signed URLs and S3 requests carry no apikey).
      name: 'storage-v1',
      url: url(storage),
      routes: [route('storage-v1-all', ['/storage/v1/'])],
      plugins: [cors, sizeLimit(Math.ceil(input.storageMaxBytes / MB) + 1), rateLimit(input.rateLimits.api)],
      read_timeout: 300_000,
    },
    // The product's api: the same keys as the Supabase APIs; the api checks the user's JWT itself.
    {
      name: 'app-v1',
      url: url(input.product),
      routes: [route('app-v1-all', ['/app/v1/'])],
      plugins: [cors, keyAuth(true), acl('admin', 'anon'), api, rateLimit(input.rateLimits.api)],
    },
    { name: 'meta', url: url(meta), routes: [route('meta-all', ['/pg/'])], plugins: [adminOnly, keyAuth(true), acl('admin'), api] },
    ...(studio
      ? [
          {
            name: 'mcp-blocker',
            url: url(studio, '/api/mcp'),
            routes: [route('mcp-blocker', ['/api/mcp', '/mcp'])],
            plugins: [api, { name: 'request-termination', config: { status_code: 403, message: 'Forbidden' } }],
          },
          {
            name: 'dashboard',
            url: url(studio),
            routes: [route('dashboard-all', ['/'])],
            plugins: [adminOnly, cors, { name: 'basic-auth', config: { hide_credentials: true } }, api],
          },
        ]
      : []),
  ];

  return {
    _format_version: '3.0',
    _transform: true,
    consumers: [
      ...(studio ? [{ username: 'DASHBOARD', basicauth_credentials: [{ username: ph('DASHBOARD_USERNAME'), password: ph('DASHBOARD_PASSWORD') }] }] : []),
      { username: 'anon', keyauth_credentials: [{ key: ph('SUPABASE_ANON_KEY') }], acls: [{ group: 'anon' }] },
      { username: 'service_role', keyauth_credentials: [{ key: ph('SUPABASE_SERVICE_KEY') }], acls: [{ group: 'admin' }] },
      // The load tests: an anon client that is counted as one consumer with its own limit, so they
      // need not pose as many addresses (a consumer's plugin outranks the services' per-IP limit).
      {
        username: LOADTEST_CONSUMER,
        keyauth_credentials: [{ key: ph('LOADTEST_KEY') }],
        acls: [{ group: 'anon' }],
        plugins: [rateLimit(input.rateLimits.loadtest, 'consumer')],
      },
    ],
    services,
    plugins: [
      {
        name: 'prometheus',
        config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, upstream_health_metrics: false, per_consumer: false },
      },
      openTelemetryPlugin(input.tracing),
    ],
  };
}

/** Every plugin the configuration uses, sorted: exactly what KONG_PLUGINS must list. */
export function pluginsUsed(config: KongDeclarativeConfig): string[] {
  const names = new Set([
    ...config.plugins.map((p) => p.name),
    ...config.services.flatMap((s) => s.plugins.map((p) => p.name)),
    ...config.consumers.flatMap((c) => (c.plugins ?? []).map((p) => p.name)),
  ]);
  if (config.consumers.some((c) => c.keyauth_credentials)) names.add('key-auth');
  if (config.consumers.some((c) => c.basicauth_credentials)) names.add('basic-auth');
  if (config.consumers.some((c) => c.acls)) names.add('acl');
  return [...names].sort();
}
