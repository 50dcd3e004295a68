// The DeFi product in the app namespace: the api (HTTP behind Kong at /app/v1/, released by
// canary with Prometheus analysis), the worker (consumes jobs from Redis) and the scheduler (one
// pod, replaced with Recreate so two never run at once). Each reaches the database only through
// the PgBouncer poolers as the defi_app role, and Redis with its password; both by Secret
// reference, the Secrets repeated into this namespace from the data tier's.
import type { Construct } from 'constructs';
import type { AppComponent } from '../../environments/app';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { type Endpoint, ingressFrom, serviceEndpoint, urlOf } from '../../lib/endpoint';
import { INTERNET, type PortRule } from '../../lib/network';
import { copySecret, provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import type { StatelessService } from '../../lib/stateless-service';
import { workload as tableWorkload } from '../../lib/workloads';
import type { SupabaseChart } from '../supabase/supabase-chart';
import { analysisTemplate, canaryStrategy } from './canary';
import { componentBuilder, type ProductServices } from './components';

/** The api's HTTP port (Kong's upstream). */
export const API_PORT = 8080;
export { METRICS_PORT } from './components';

export interface AppChartProps extends ChartProps, ProductServices {
  /** Supabase's Secrets: the api verifies Supabase's JWTs; the load tests use its key. */
  readonly supabase: Pick<SupabaseChart, 'secrets'>;
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

    const workload = componentBuilder(this, props, copies);
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
      ports: [{ name: 'http', port: API_PORT }],
      env: [
        { name: 'PORT', value: String(API_PORT) },
        { name: 'SUPABASE_JWT_SECRET', valueFrom: secretKeyRef(copies.jwt, 'jwt-secret') },
      ],
      // Kong, built later by the gateway chart, is the api's only client.
      ingress: [ingressFrom(tableWorkload(this.platform, 'kong'), API_PORT)],
      healthPort: 'http',
      extra: { canary: canaryStrategy(c.canary, analysisName) },
      // Kong stops sending new requests before the pod exits; in-flight ones finish.
      terminationGracePeriodSeconds: 30,
    });

    const rpc = { name: 'RPC_URLS', value: c.rpcEndpoints.join(',') };
    const toRpc: PortRule = { port: 443, peers: [INTERNET] };
    const worker = workload('worker', {
      role: 'worker',
      config: c.worker,
      env: [rpc],
      egress: [toRpc],
      healthPort: 'metrics',
      // A job in flight finishes (or goes back to the queue) before the pod is killed.
      terminationGracePeriodSeconds: 120,
    });

    // The same rw pooler (transaction mode): the scheduler's leader lease is a row it renews
    // (service/src/scheduler-main.ts), since a session advisory lock would stay on whichever
    // server connection took it.
    const scheduler = workload('scheduler', {
      role: 'scheduler',
      config: { replicas: 1, resources: c.scheduler.resources },
      env: [rpc],
      egress: [toRpc],
      healthPort: 'metrics',
      extra: { strategy: 'Recreate', pdbForSingleReplica: true },
      terminationGracePeriodSeconds: 60,
    });

    this.workloads = { api, worker, scheduler };
    // Kong's pods call it; the api admits them by their identity, so no client labels.
    this.upstream = serviceEndpoint(ns, api, API_PORT);
  }
}
