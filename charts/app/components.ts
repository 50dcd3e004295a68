// How each product component is built: one StatelessService whose pod reaches the database through
// the PgBouncer poolers (writes rw, reads ro), Redis (the primary, and the Sentinels with
// replicas), and the OpenTelemetry Collector, serves its metrics to Prometheus, and answers
// /readyz and /healthz. The app chart then only says what differs per component.
import { k8s } from 'cdk8s-plus-33';
import type { Resources } from '../../environments/fields';
import type { PlatformChart } from '../../lib/chart';
import { type Endpoint, egressTo } from '../../lib/endpoint';
import { imageVersion, parseImageRef } from '../../lib/images';
import type { PortRule } from '../../lib/network';
import { secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { StatelessService, type StatelessServiceProps } from '../../lib/stateless-service';
import type { AppComponent, AppConfig } from '../../environments/app';
import type { TracingEndpoint } from '../observability/traces';
import type { DatabaseEndpoints } from '../postgres/postgres-chart';
import type { RedisEndpoints } from '../redis/redis-chart';

/** Every component's metrics and health port. */
export const METRICS_PORT = 9090;
/** Redis database the product uses (Kong's rate limits keep 0). */
const REDIS_DB = 1;

/** The services every component uses, and the product's settings. */
export interface ProductServices {
  /** The product's releases, replicas, canary analysis and settings from the environment. */
  readonly config: AppConfig;
  /** The database: the product's role Secret, the poolers and the CA (tlsFor). */
  readonly db: DatabaseEndpoints;
  /** Redis: the primary's address, and with replicas the Sentinels (the product's client can follow failovers itself). */
  readonly redis: RedisEndpoints;
  /** The OpenTelemetry Collector the components send traces to. */
  readonly tracing: TracingEndpoint;
  /** Prometheus: it scrapes the components, and the canary analysis queries it. */
  readonly prometheus: Endpoint;
}

/** What differs between the components. */
export interface ComponentSpec {
  /** The component label (api, worker, scheduler). */
  readonly role: string;
  readonly config: StatelessServiceProps['config'] & { readonly resources: Resources };
  /** The component's own settings, before the database's. */
  readonly env: k8s.EnvVar[];
  /** Ports besides metrics. @default none */
  readonly ports?: { name: string; port: number }[];
  /** Who may call it besides Prometheus. @default nobody */
  readonly ingress?: PortRule[];
  /** Where it connects besides the database, Redis and the Collector. @default nowhere */
  readonly egress?: PortRule[];
  /** The named port its /readyz and /healthz answer on. */
  readonly healthPort: string;
  /** Release and disruption settings. @default a rolling Deployment */
  readonly extra?: Pick<StatelessServiceProps, 'canary' | 'strategy' | 'pdbForSingleReplica'>;
  /** How long a stopping pod has to finish its work. @default Kubernetes' 30 s */
  readonly terminationGracePeriodSeconds?: number;
}

/** The Secrets the components read, as repeated into the app namespace. */
export interface ComponentSecrets {
  readonly db: SecretSpec;
  readonly redis: SecretSpec;
}

/** A builder of the product's components in `chart`, wired to the shared services in `props`. */
export function componentBuilder(chart: PlatformChart, props: ProductServices, secrets: ComponentSecrets) {
  const ns = chart.platform.namespaces.app;
  const c = props.config;
  const redis = props.redis;
  // The primary's address; with Sentinels also the Sentinels and the instances they name.
  const toRedis: PortRule[] = [
    egressTo(redis),
    ...(redis.sentinels
      ? [
          { port: redis.port, peers: [redis.instances.peer] },
          { port: redis.sentinelPort, peers: [redis.instances.peer] },
        ]
      : []),
  ];
  const redisLabels = { ...redis.clientLabels, ...(redis.sentinels ? redis.instances.clientLabels : {}) };
  const toCollector: PortRule = { port: Number(new URL(props.tracing.otlpHttpUrl).port), peers: [props.tracing.peer] };
  // Writes through the rw pooler (the primary), reads through the ro pooler (the standbys;
  // the primary's pooler where there are none), both TLS with the server verified.
  const tls = props.db.tlsFor(ns);
  const rw = props.db.poolers.rw;
  const ro = props.db.poolers.ro ?? rw;
  const url = (p: Endpoint) => `postgres://defi_app:$(DATABASE_PASSWORD)@${p.host}:${p.port}/postgres?sslmode=verify-full&sslrootcert=${tls.caFile}`;
  const databaseEnv: k8s.EnvVar[] = [
    { name: 'DATABASE_PASSWORD', valueFrom: secretKeyRef(secrets.db, 'password') },
    { name: 'DATABASE_URL', value: url(rw) },
    { name: 'DATABASE_READ_URL', value: url(ro) },
    // The most connections one pod may hold: docs/capacity.md counts them against the rw pooler.
    { name: 'DATABASE_POOL_SIZE', value: String(c.databasePoolSize) },
  ];
  const toDatabase = [egressTo(rw), ...(ro === rw ? [] : [egressTo(ro)])];
  const common = (component: AppComponent): k8s.EnvVar[] => [
    { name: 'APP_ENV', value: chart.instance },
    { name: 'APP_COMPONENT', value: component },
    { name: 'LOG_LEVEL', value: c.logLevel },
    { name: 'METRICS_PORT', value: String(METRICS_PORT) },
    { name: 'REDIS_HOST', value: redis.host },
    { name: 'REDIS_PORT', value: String(redis.port) },
    { name: 'REDIS_DB', value: String(REDIS_DB) },
    { name: 'REDIS_PASSWORD', valueFrom: secretKeyRef(secrets.redis, 'redis-password') },
    // Empty with one instance. Queue writes confirm with WAIT (docs/data-tier.md, the durability contract).
    { name: 'REDIS_SENTINELS', value: (redis.sentinels?.addresses ?? []).join(',') },
    { name: 'REDIS_SENTINEL_PRIMARY', value: redis.sentinels?.primaryName ?? '' },
    { name: 'OTEL_SERVICE_NAME', value: component },
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: props.tracing.otlpHttpUrl },
    { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf' },
    { name: 'OTEL_RESOURCE_ATTRIBUTES', value: `deployment.environment=${chart.instance}` },
  ];
  const health = (path: string, port: string): k8s.Probe => ({
    httpGet: { path, port: k8s.IntOrString.fromString(port) },
    periodSeconds: 10,
    timeoutSeconds: 3,
  });

  return (component: AppComponent, spec: ComponentSpec): StatelessService => {
    const image = parseImageRef(c.releases[component]);
    return new StatelessService(chart, component, {
      name: component,
      component: spec.role,
      namespace: ns,
      version: imageVersion(image),
      config: spec.config,
      ports: [...(spec.ports ?? []), { name: 'metrics', port: METRICS_PORT }],
      podLabels: { ...rw.clientLabels, ...ro.clientLabels, ...redisLabels, ...props.tracing.clientLabels },
      network: {
        ingress: [...(spec.ingress ?? []), { port: METRICS_PORT, peers: [props.prometheus.peer] }],
        egress: [...toDatabase, ...toRedis, ...(spec.egress ?? []), toCollector],
      },
      ...spec.extra,
      pod: {
        priorityClassName: chart.platform.priorityClasses.stateless,
        terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
        volumes: [{ name: 'postgres-ca', secret: { secretName: tls.caSecretName, items: [{ key: 'ca.crt', path: 'ca.crt' }] } }],
        containers: [
          {
            name: component,
            image,
            // A local build loaded onto the node has no registry to pull from (dev's quick start).
            ...(c.localImages ? { imagePullPolicy: 'IfNotPresent' as const } : {}),
            resources: spec.config.resources,
            env: [...common(component), ...spec.env, ...databaseEnv],
            readinessProbe: health('/readyz', spec.healthPort),
            livenessProbe: { ...health('/healthz', spec.healthPort), failureThreshold: 6 },
            volumeMounts: [{ name: 'postgres-ca', mountPath: tls.mountPath, readOnly: true }],
            writablePaths: [{ path: '/tmp' }],
          },
        ],
      },
    });
  };
}
