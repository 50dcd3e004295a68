// Configuration, only from the environment variables the app chart sets (charts/app/app-chart.ts);
// a test compares ENV_VARS with the env of the synthesised Rollout and Deployments of every
// environment, both ways, and no other file of this package reads process.env. This module
// imports nothing, so that test can load it without the service's dependencies.

export type Component = 'api' | 'worker' | 'scheduler';
export const COMPONENTS: readonly Component[] = ['api', 'worker', 'scheduler'];

/** What each variable is for, per component that reads it. */
const COMMON = {
  APP_ENV: 'the environment (dev, staging, production): log field and trace resource attribute',
  APP_COMPONENT: 'which entry point this pod runs; the process refuses to start as another',
  LOG_LEVEL: 'debug, info, warn or error',
  METRICS_PORT: 'the port of /metrics (and, for the worker and scheduler, /healthz and /readyz)',
  REDIS_HOST: "the primary's address (redis-primary where Redis has replicas, else the instance)",
  REDIS_PORT: "the primary's port",
  REDIS_DB: 'the product database (Kong keeps 0)',
  REDIS_PASSWORD: 'the password of Redis and of its Sentinels',
  REDIS_SENTINELS: 'comma-separated host:port of every Sentinel; empty with one instance',
  REDIS_SENTINEL_PRIMARY: 'the name the Sentinels monitor; empty with one instance',
  OTEL_SERVICE_NAME: 'service.name of the traces',
  OTEL_EXPORTER_OTLP_ENDPOINT: "the Collector's OTLP/HTTP base URL; traces go to <it>/v1/traces",
  OTEL_EXPORTER_OTLP_PROTOCOL: 'must be http/protobuf, the only exporter bundled',
  OTEL_RESOURCE_ATTRIBUTES: 'key=value pairs added to every span (deployment.environment)',
  DATABASE_PASSWORD: "the defi_app role's password (also substituted into the URLs by the kubelet)",
  DATABASE_URL: 'the rw pooler (the primary): every write, migrations, the scheduler lease',
  DATABASE_READ_URL: 'the ro pooler (the standbys; the rw pooler where there are none): reads',
  DATABASE_POOL_SIZE: 'the most connections this pod opens to the rw pooler (docs/capacity.md); the read pool gets as many',
} as const;

const PER_COMPONENT = {
  api: {
    PORT: 'the HTTP port Kong sends /app/v1/ to (the prefix stripped)',
    SUPABASE_JWT_SECRET: "the HS256 secret of Supabase Auth's access tokens",
  },
  worker: { RPC_URLS: 'comma-separated URLs of the blockchain JSON-RPC endpoints the worker may call (a job naming another is refused)' },
  scheduler: { RPC_URLS: 'comma-separated URLs of the blockchain JSON-RPC endpoints: one chain-head job per endpoint each period' },
} as const;

type CommonVar = keyof typeof COMMON;
type KeysOf<T> = T extends unknown ? keyof T : never;
export type EnvName = CommonVar | KeysOf<(typeof PER_COMPONENT)[Component]>;

/** Every variable each component reads, and why. */
export const ENV_VARS: Readonly<Record<Component, Readonly<Record<string, string>>>> = {
  api: { ...COMMON, ...PER_COMPONENT.api },
  worker: { ...COMMON, ...PER_COMPONENT.worker },
  scheduler: { ...COMMON, ...PER_COMPONENT.scheduler },
};

/**
 * Seconds each component takes at most from SIGTERM to exit. A test holds each below the pod's
 * terminationGracePeriodSeconds in the chart (api 30, worker 120, scheduler 60), leaving the
 * kubelet time before SIGKILL.
 */
export const SHUTDOWN_SECONDS: Readonly<Record<Component, number>> = { api: 25, worker: 110, scheduler: 50 };

/**
 * The api keeps serving this long after SIGTERM, answering /readyz with 503, so that the
 * endpoint is removed from Kong's upstream before the server stops accepting connections.
 */
export const API_DRAIN_SECONDS = 5;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface DatabaseEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** sslmode from the URL; verify-full and verify-ca read the CA from sslrootcert. */
  readonly sslmode: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  readonly sslrootcert?: string;
}

export interface RedisSettings {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly password: string;
  /** Empty: connect to host:port. Otherwise ask these Sentinels for `primaryName`. */
  readonly sentinels: readonly { host: string; port: number }[];
  readonly primaryName: string;
}

export interface CommonConfig {
  readonly environment: string;
  readonly logLevel: LogLevel;
  readonly metricsPort: number;
  readonly redis: RedisSettings;
  readonly database: { readonly write: DatabaseEndpoint; readonly read: DatabaseEndpoint; readonly password: string; readonly poolSize: number };
  readonly otel: { readonly serviceName: string; readonly tracesUrl: string; readonly resourceAttributes: Readonly<Record<string, string>> };
}

export interface ApiConfig extends CommonConfig {
  readonly component: 'api';
  readonly port: number;
  readonly jwtSecret: string;
}
export interface WorkerConfig extends CommonConfig {
  readonly component: 'worker';
  readonly rpcUrls: readonly string[];
}
export interface SchedulerConfig extends CommonConfig {
  readonly component: 'scheduler';
  readonly rpcUrls: readonly string[];
}
export type Config = ApiConfig | WorkerConfig | SchedulerConfig;
type ConfigOf<C extends Component> = Extract<Config, { component: C }>;

/** Every problem found, one line each, so one failed start names them all. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Reads the configuration of `component` from `env` (process.env by default). */
export function loadConfig<C extends Component>(component: C, env: NodeJS.ProcessEnv = process.env): ConfigOf<C> {
  const problems: string[] = [];
  const allowed = ENV_VARS[component];
  const get = (name: EnvName, optional = false): string => {
    if (!(name in allowed)) throw new Error(`${component} does not read ${name}: add it to ENV_VARS and to the app chart first`);
    const value = env[name];
    if (value === undefined || (value === '' && !optional)) {
      problems.push(`${name} is not set (${allowed[name]})`);
      return '';
    }
    return value;
  };
  const int = (name: EnvName, min: number, max: number): number => {
    const text = get(name);
    const n = Number(text);
    if (text !== '' && (!Number.isInteger(n) || n < min || n > max)) problems.push(`${name}=${text} is not a whole number from ${min} to ${max}`);
    return n;
  };

  const declared = get('APP_COMPONENT');
  if (declared !== '' && declared !== component)
    problems.push(`APP_COMPONENT=${declared}, but this is the ${component} entry point: the pod runs the wrong image`);
  const level = get('LOG_LEVEL');
  if (level !== '' && !['debug', 'info', 'warn', 'error'].includes(level)) problems.push(`LOG_LEVEL=${level} is not debug, info, warn or error`);

  const password = get('DATABASE_PASSWORD');
  const database = {
    write: databaseEndpoint('DATABASE_URL', get('DATABASE_URL'), problems),
    read: databaseEndpoint('DATABASE_READ_URL', get('DATABASE_READ_URL'), problems),
    password,
    poolSize: int('DATABASE_POOL_SIZE', 1, 1000),
  };

  const sentinelsText = get('REDIS_SENTINELS', true);
  const sentinels = sentinelsText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^(.+):(\d+)$/.exec(s);
      if (!m) {
        problems.push(`REDIS_SENTINELS: "${s}" is not host:port`);
        return { host: s, port: 0 };
      }
      return { host: m[1]!, port: Number(m[2]) };
    });
  const primaryName = get('REDIS_SENTINEL_PRIMARY', true);
  if (sentinels.length > 0 && primaryName === '') problems.push('REDIS_SENTINEL_PRIMARY is empty while REDIS_SENTINELS names Sentinels');
  const redis: RedisSettings = {
    host: get('REDIS_HOST'),
    port: int('REDIS_PORT', 1, 65535),
    db: int('REDIS_DB', 0, 15),
    password: get('REDIS_PASSWORD'),
    sentinels,
    primaryName,
  };

  const protocol = get('OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol !== '' && protocol !== 'http/protobuf') problems.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: only http/protobuf is bundled`);
  const endpoint = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (endpoint !== '' && !/^https?:\/\/[^/]+/.test(endpoint)) problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint} is not an http(s) URL`);
  const resourceAttributes = Object.fromEntries(
    get('OTEL_RESOURCE_ATTRIBUTES', true)
      .split(',')
      .filter((p) => p.includes('='))
      .map((p) => [decodeURIComponent(p.slice(0, p.indexOf('=')).trim()), decodeURIComponent(p.slice(p.indexOf('=') + 1).trim())]),
  );

  const common: CommonConfig = {
    environment: get('APP_ENV'),
    logLevel: (level || 'info') as LogLevel,
    metricsPort: int('METRICS_PORT', 1, 65535),
    redis,
    database,
    otel: { serviceName: get('OTEL_SERVICE_NAME'), tracesUrl: `${endpoint.replace(/\/+$/, '')}/v1/traces`, resourceAttributes },
  };

  let config: Config;
  if (component === 'api') {
    const jwtSecret = get('SUPABASE_JWT_SECRET');
    if (jwtSecret !== '' && jwtSecret.length < 32) problems.push('SUPABASE_JWT_SECRET is shorter than 32 characters (Supabase requires at least 32)');
    config = { ...common, component: 'api', port: int('PORT', 1, 65535), jwtSecret };
    if (config.port === config.metricsPort) problems.push(`PORT and METRICS_PORT are both ${config.port}`);
  } else {
    const rpcUrls = get('RPC_URLS')
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
    for (const u of rpcUrls) if (!/^https?:\/\/[^/]+/.test(u)) problems.push(`RPC_URLS: "${u}" is not a URL`);
    const worker: WorkerConfig | SchedulerConfig = component === 'worker' ? { ...common, component, rpcUrls } : { ...common, component: 'scheduler', rpcUrls };
    config = worker;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config as ConfigOf<C>;
}

/** postgres://<user>@<host>:<port>/<database>?sslmode=...&sslrootcert=... (the password is taken from DATABASE_PASSWORD). */
function databaseEndpoint(name: string, text: string, problems: string[]): DatabaseEndpoint {
  const fallback: DatabaseEndpoint = { host: '', port: 0, database: '', user: '', sslmode: 'verify-full' };
  if (text === '') return fallback;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The message must not echo the URL: the kubelet has substituted the password into it.
    problems.push(`${name} is not a URL`);
    return fallback;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') problems.push(`${name} is not a postgres:// URL`);
  const sslmode = url.searchParams.get('sslmode') ?? 'verify-full';
  if (!['disable', 'require', 'verify-ca', 'verify-full'].includes(sslmode))
    problems.push(`${name}: sslmode=${sslmode} is not disable, require, verify-ca or verify-full`);
  const sslrootcert = url.searchParams.get('sslrootcert') ?? undefined;
  if ((sslmode === 'verify-full' || sslmode === 'verify-ca') && !sslrootcert) problems.push(`${name}: sslmode=${sslmode} needs sslrootcert (the CA file)`);
  return {
    host: url.hostname,
    port: url.port === '' ? 5432 : Number(url.port),
    database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
    user: decodeURIComponent(url.username),
    sslmode: sslmode as DatabaseEndpoint['sslmode'],
    ...(sslrootcert ? { sslrootcert } : {}),
  };
}
