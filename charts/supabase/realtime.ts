// Realtime: websockets for broadcast, presence and database changes. Its tenant is the first
// DNS label of the Host header Kong sends, which is this Service's name; SELF_HOST_TENANT_NAME
// seeds exactly that tenant. Started without the image's run.sh, whose unconditional sudo
// cannot work with no privilege escalation (supabase/realtime#2063).
import { k8s } from 'cdk8s-plus-33';
import { IMAGES } from '../../lib/images';
import { StatelessService } from '../../lib/stateless-service';
import { databaseCa, type ServiceContext, toDatabase } from './context';
import { fromSecret } from './secrets';

export const REALTIME_PORT = 4000;
export const REALTIME_SERVICE = 'realtime';

/** The tenant Realtime serves: the first label of the host name Kong's upstream uses. */
export const REALTIME_TENANT = REALTIME_SERVICE;

/**
 * The seeded tenant's database connection is plain text upstream (the self-host seed writes
 * `ssl_enforced: false`, and re-seeds at every start), which the database's TLS-only pg_hba
 * refuses. After the seed, the tenant's extension settings are switched to TLS (Realtime then
 * connects with `verify: :verify_none`: encrypted, the server not verified; its own repository
 * connection verifies, DB_SSL_CA_CERT). The statement is exported for the test that runs it.
 */
export const REALTIME_TENANT_TLS = {
  sql: 'UPDATE _realtime.extensions SET settings = jsonb_set(settings, ARRAY[$1::text], to_jsonb($2::boolean)) WHERE type = $3',
  /** The parameters, as Elixir terms (no quote in the statement: it sits in a shell word). */
  params: ['"ssl_enforced"', 'true', '"postgres_cdc_rls"'],
} as const;

/** The container's start: migrate, seed the tenant, switch its connection to TLS, serve. */
export function realtimeStartCommand(): string {
  const t = REALTIME_TENANT_TLS;
  const tenantTls = `Ecto.Migrator.with_repo(Realtime.Repo, fn repo -> repo.query!("${t.sql}", [${t.params.join(', ')}]) end)`;
  return `/app/bin/migrate && /app/bin/realtime eval "Realtime.Release.seeds(Realtime.Repo)" && /app/bin/realtime eval '${tenantTls}' && exec /app/bin/server`;
}

export function realtimeService(ctx: ServiceContext): StatelessService {
  const c = ctx.config;
  const ca = databaseCa(ctx);
  return new StatelessService(ctx.chart, 'realtime', {
    name: REALTIME_SERVICE,
    component: 'realtime',
    namespace: ctx.namespace,
    version: IMAGES.realtime.tag,
    config: c.realtime,
    ports: [{ name: 'http', port: REALTIME_PORT }],
    podLabels: ctx.db.clientLabels,
    network: {
      // Prometheus scrapes /metrics on the API port (with a JWT).
      ingress: [{ port: REALTIME_PORT, peers: [ctx.gateway, ctx.prometheus] }],
      egress: [toDatabase(ctx)],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      volumes: [ca.volume],
      containers: [
        {
          name: 'realtime',
          image: IMAGES.realtime,
          command: ['/bin/sh', '-c', realtimeStartCommand()],
          resources: c.realtime.resources,
          ports: [{ name: 'http', containerPort: REALTIME_PORT }],
          env: [
            { name: 'PORT', value: String(REALTIME_PORT) },
            { name: 'DB_HOST', value: ctx.db.host },
            { name: 'DB_POOL_SIZE', value: String(ctx.config.realtimeDbPool) },
            { name: 'DB_PORT', value: String(ctx.db.port) },
            { name: 'DB_USER', value: 'supabase_admin' },
            { name: 'DB_PASSWORD', valueFrom: ctx.db.passwordRef('supabase_admin') },
            { name: 'DB_NAME', value: 'postgres' },
            // Its own connections verify the server (Postgrex verify_peer with this CA).
            { name: 'DB_SSL', value: 'true' },
            { name: 'DB_SSL_CA_CERT', value: ca.caFile },
            { name: 'DB_AFTER_CONNECT_QUERY', value: 'SET search_path TO _realtime' },
            fromSecret('DB_ENC_KEY', ctx.secrets.realtime, 'db-enc-key'),
            fromSecret('API_JWT_SECRET', ctx.secrets.jwt, 'jwt-secret'),
            fromSecret('METRICS_JWT_SECRET', ctx.secrets.jwt, 'jwt-secret'),
            fromSecret('SECRET_KEY_BASE', ctx.secrets.realtime, 'secret-key-base'),
            { name: 'ERL_AFLAGS', value: '-proto_dist inet_tcp' },
            { name: 'DNS_NODES', value: "''" },
            { name: 'RLIMIT_NOFILE', value: '10000' },
            { name: 'APP_NAME', value: 'realtime' },
            { name: 'SEED_SELF_HOST', value: 'true' },
            { name: 'SELF_HOST_TENANT_NAME', value: REALTIME_TENANT },
            { name: 'RUN_JANITOR', value: 'true' },
            { name: 'DISABLE_HEALTHCHECK_LOGGING', value: 'true' },
          ],
          volumeMounts: [ca.mount],
          writablePaths: [{ path: '/tmp' }],
          // The health endpoint needs the anon key in a header, which a probe cannot read from a
          // Secret: readiness checks the port answers, liveness allows a longer stall.
          readinessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('http') }, periodSeconds: 10 },
          livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('http') }, periodSeconds: 30, failureThreshold: 5, initialDelaySeconds: 30 },
        },
      ],
    },
  });
}
