// The DeFi product in the app namespace: the api (HTTP behind Kong at /app/v1/, released by
// canary with Prometheus analysis), the worker (consumes jobs from Redis) and the scheduler (one
// pod, replaced with Recreate so two never run at once). Each reaches the database only through
// the PgBouncer poolers as the defi_app role, and Redis with its password; both by Secret
// reference, the Secrets repeated into this namespace from the data tier's.
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { AppComponent, AppConfig } from '../../environments/app';
import type { Resources } from '../../environments/fields';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { type Endpoint, ingressFrom, serviceEndpoint, urlOf } from '../../lib/endpoint';
import { imageVersion, parseImageRef } from '../../lib/images';
import { INTERNET, type PortRule } from '../../lib/network';
import { copySecret, provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { StatelessService, type StatelessServiceProps } from '../../lib/stateless-service';
import { workload as tableWorkload } from '../../lib/workloads';
import type { RedisEndpoints } from '../redis/redis-chart';
import type { DatabaseEndpoints } from '../postgres/postgres-chart';
import type { SupabaseChart } from '../supabase/supabase-chart';
import type { TracingEndpoint } from '../observability/traces';
import { analysisTemplate, canaryStrategy } from './canary';

/** The api's HTTP port (Kong's upstream) and every component's metrics and health port. */
export const API_PORT = 8080;
export const METRICS_PORT = 9090;
/** Redis database the product uses (Kong's rate limits keep 0). */
const REDIS_DB = 1;

export interface AppChartProps extends ChartProps {
  /** The product's releases, replicas, canary analysis and settings from the environment. */
  readonly config: AppConfig;
  /** The database: the product's role Secret, the poolers and the CA (tlsFor). */
  readonly db: DatabaseEndpoints;
  /** Redis: the primary's address, and with replicas the Sentinels (the product's client can follow failovers itself). */
  readonly redis: RedisEndpoints;
  /** Supabase's Secrets: the api verifies Supabase's JWTs; the load tests use its key. */
  readonly supabase: Pick<SupabaseChart, 'secrets'>;
  /** The OpenTelemetry Collector the components send traces to. */
  readonly tracing: TracingEndpoint;
  /** Prometheus: it scrapes the components, and the canary analysis queries it. */
  readonly prometheus: Endpoint;
}

export class AppChart extends PlatformChart {
  /** The api as Kong routes to it. */
  public readonly upstream: Endpoint;
  public readonly workloads: Readonly<Record<AppComponent, StatelessService>>;
  /** The Secrets this chart repeats into the app namespace (other charts of that namespace read them too). */
  public readonly secrets: Readonly<Record<'db' | 'redis' | 'jwt', SecretSpec>>;

  constructor(scope: Construct, id: string, props: AppChartProps) {
    super(scope, id, props);
    const ns = this.platform.namespaces.app;
    const c = props.config;
    const meta = (objectName: string, name: string, component: string, version?: string) =>
      this.metadata({ objectName, namespace: ns, name, component, version });

    // Secrets readable in this namespace: the same entries of the secret manager (or, in dev,
    // values the CLI copies), holding only the keys the product needs.
    const copies = {
      db: copySecret(props.db.roleSecrets.defi_app, ns, ['password']),
      redis: copySecret(props.redis.credentials, ns, ['redis-password']),
      // loadtest-key: the load tests (charts/loadtest) call Kong with it from this namespace. One
      // copy per Secret and namespace: a second declaration of supabase-jwt here would overwrite this one.
      jwt: copySecret(props.supabase.secrets.jwt, ns, ['jwt-secret', 'loadtest-key']),
    };
    this.secrets = copies;
    for (const spec of Object.values(copies)) provideSecret(this, `secret-${spec.name}`, this.platform.secretSource, spec, meta(spec.name, 'defi', 'secret'));

    const prometheus = props.prometheus.peer;
    const redis = props.redis;
    // The primary's address; with Sentinels also the Sentinels and the instances they name.
    const toRedis: PortRule[] = [
      { port: redis.port, peers: [redis.peer] },
      ...(redis.sentinels ? [{ port: redis.port, peers: [redis.instances.peer] }, { port: redis.sentinelPort, peers: [redis.instances.peer] }] : []),
    ];
    const redisLabels = { ...redis.clientLabels, ...(redis.sentinels ? redis.instances.clientLabels : {}) };
    const toRpc: PortRule = { port: 443, peers: [INTERNET] };
    const toCollector: PortRule = { port: Number(new URL(props.tracing.otlpHttpUrl).port), peers: [props.tracing.peer] };
    // Writes through the rw pooler (the primary), reads through the ro pooler (the standbys;
    // the primary's pooler where there are none), both TLS with the server verified.
    const tls = props.db.tlsFor(ns);
    const rw = props.db.poolers.rw;
    const ro = props.db.poolers.ro ?? rw;
    const url = (p: Endpoint) => `postgres://defi_app:$(DATABASE_PASSWORD)@${p.host}:${p.port}/postgres?sslmode=verify-full&sslrootcert=${tls.caFile}`;
    const database = () => ({
      env: [
        { name: 'DATABASE_PASSWORD', valueFrom: secretKeyRef(copies.db, 'password') },
        { name: 'DATABASE_URL', value: url(rw) },
        { name: 'DATABASE_READ_URL', value: url(ro) },
        // The most connections one pod may hold: docs/capacity.md counts them against the rw pooler.
        { name: 'DATABASE_POOL_SIZE', value: String(c.databasePoolSize) },
      ],
      egress: [{ port: rw.port, peers: [rw.peer] }, ...(ro === rw ? [] : [{ port: ro.port, peers: [ro.peer] }])],
    });
    const common = (component: AppComponent): k8s.EnvVar[] => [
      { name: 'APP_ENV', value: this.instance },
      { name: 'APP_COMPONENT', value: component },
      { name: 'LOG_LEVEL', value: c.logLevel },
      { name: 'METRICS_PORT', value: String(METRICS_PORT) },
      { name: 'REDIS_HOST', value: props.redis.host },
      { name: 'REDIS_PORT', value: String(props.redis.port) },
      { name: 'REDIS_DB', value: String(REDIS_DB) },
      { name: 'REDIS_PASSWORD', valueFrom: secretKeyRef(copies.redis, 'redis-password') },
      // Empty with one instance. Queue writes confirm with WAIT (docs/data-tier.md, the durability contract).
      { name: 'REDIS_SENTINELS', value: (redis.sentinels?.addresses ?? []).join(',') },
      { name: 'REDIS_SENTINEL_PRIMARY', value: redis.sentinels?.primaryName ?? '' },
      { name: 'OTEL_SERVICE_NAME', value: component },
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: props.tracing.otlpHttpUrl },
      { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf' },
      { name: 'OTEL_RESOURCE_ATTRIBUTES', value: `deployment.environment=${this.instance}` },
    ];
    const health = (port: string, path: string): k8s.Probe => ({ httpGet: { path, port: k8s.IntOrString.fromString(port) }, periodSeconds: 10, timeoutSeconds: 3 });

    const workload = (component: AppComponent, spec: {
      role: string;
      config: StatelessServiceProps['config'] & { resources: Resources };
      ports: { name: string; port: number }[];
      env: k8s.EnvVar[];
      ingress: PortRule[];
      egress: PortRule[];
      probes: Pick<k8s.Container, 'readinessProbe' | 'livenessProbe'>;
      extra?: Pick<StatelessServiceProps, 'canary' | 'strategy' | 'pdbForSingleReplica'>;
      terminationGracePeriodSeconds?: number;
    }) => {
      const image = parseImageRef(c.releases[component]);
      return new StatelessService(this, component, {
        name: component,
        component: spec.role,
        namespace: ns,
        version: imageVersion(image),
        config: spec.config,
        ports: spec.ports,
        podLabels: { ...rw.clientLabels, ...ro.clientLabels, ...redisLabels, ...props.tracing.clientLabels },
        network: { ingress: spec.ingress, egress: [...spec.egress, toCollector] },
        ...spec.extra,
        pod: {
          priorityClassName: this.platform.priorityClasses.stateless,
          terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
          volumes: [{ name: 'postgres-ca', secret: { secretName: tls.caSecretName, items: [{ key: 'ca.crt', path: 'ca.crt' }] } }],
          containers: [
            {
              name: component,
              image,
              // A local build loaded onto the node has no registry to pull from (dev's quick start).
              ...(c.localImages ? { imagePullPolicy: 'IfNotPresent' as const } : {}),
              resources: spec.config.resources,
              env: [...common(component), ...spec.env],
              ...spec.probes,
              volumeMounts: [{ name: 'postgres-ca', mountPath: tls.mountPath, readOnly: true }],
              writablePaths: [{ path: '/tmp' }],
            },
          ],
        },
      });
    };

    const apiDb = database();
    const analysisName = 'api-canary';
    analysisTemplate(this, {
      metadata: meta(analysisName, 'api', 'release'),
      namespace: ns,
      prometheusUrl: urlOf(props.prometheus),
      config: c.canary.analysis,
    });
    const api = workload('api', {
      role: 'api',
      config: c.api,
      ports: [
        { name: 'http', port: API_PORT },
        { name: 'metrics', port: METRICS_PORT },
      ],
      env: [
        { name: 'PORT', value: String(API_PORT) },
        { name: 'SUPABASE_JWT_SECRET', valueFrom: secretKeyRef(copies.jwt, 'jwt-secret') },
        ...apiDb.env,
      ],
      ingress: [
        // Kong, built later by the gateway chart, is the api's only client.
        ingressFrom(tableWorkload(this.platform, 'kong'), API_PORT),
        { port: METRICS_PORT, peers: [prometheus] },
      ],
      egress: [...apiDb.egress, ...toRedis],
      probes: { readinessProbe: health('http', '/readyz'), livenessProbe: { ...health('http', '/healthz'), failureThreshold: 6 } },
      extra: { canary: canaryStrategy(c.canary, analysisName) },
      // Kong stops sending new requests before the pod exits; in-flight ones finish.
      terminationGracePeriodSeconds: 30,
    });

    const workerDb = database();
    const rpc = { name: 'RPC_URLS', value: c.rpcEndpoints.join(',') };
    const worker = workload('worker', {
      role: 'worker',
      config: c.worker,
      ports: [{ name: 'metrics', port: METRICS_PORT }],
      env: [rpc, ...workerDb.env],
      ingress: [{ port: METRICS_PORT, peers: [prometheus] }],
      egress: [...workerDb.egress, ...toRedis, toRpc],
      probes: { readinessProbe: health('metrics', '/readyz'), livenessProbe: { ...health('metrics', '/healthz'), failureThreshold: 6 } },
      // A job in flight finishes (or goes back to the queue) before the pod is killed.
      terminationGracePeriodSeconds: 120,
    });

    // The same rw pooler (transaction mode): the scheduler's leader lease is a row it renews
    // (service/src/scheduler-main.ts), since a session advisory lock would stay on whichever
    // server connection took it.
    const schedulerDb = database();
    const scheduler = workload('scheduler', {
      role: 'scheduler',
      config: { replicas: 1, resources: c.scheduler.resources },
      ports: [{ name: 'metrics', port: METRICS_PORT }],
      env: [rpc, ...schedulerDb.env],
      ingress: [{ port: METRICS_PORT, peers: [prometheus] }],
      egress: [...schedulerDb.egress, ...toRedis, toRpc],
      probes: { readinessProbe: health('metrics', '/readyz'), livenessProbe: { ...health('metrics', '/healthz'), failureThreshold: 6 } },
      extra: { strategy: 'Recreate', pdbForSingleReplica: true },
      terminationGracePeriodSeconds: 60,
    });

    this.workloads = { api, worker, scheduler };
    // Kong's pods call it; the api admits them by their identity, so no client labels.
    this.upstream = serviceEndpoint(ns, api, API_PORT);
  }
}
