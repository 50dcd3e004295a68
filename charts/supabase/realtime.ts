// Realtime: websockets for broadcast, presence and database changes. Its tenant is the first
// DNS label of the Host header Kong sends, which is this Service's name; SELF_HOST_TENANT_NAME
// seeds exactly that tenant. Started without the image's run.sh, whose unconditional sudo
// cannot work with no privilege escalation (supabase/realtime#2063).
//
// Its pods form one Erlang cluster, so a broadcast or presence change reaches the clients of every
// pod: libcluster's DNS strategy finds the others through a headless Service, each node is
// realtime@<pod IP>, the cookie comes from a Secret, and the pods reach each other on EPMD, a
// fixed distribution port and gen_rpc, which carries the broadcasts (docs/reference/realtime.md).
import { k8s } from 'cdk8s-plus-33';
import { IMAGES } from '../../lib/images';
import { peerOf, serviceHost } from '../../lib/endpoint';
import type { PortRule } from '../../lib/network';
import { servicePorts } from '../../lib/stateful-set';
import { StatelessService } from '../../lib/stateless-service';
import { databaseCa, otelEnv, type ServiceContext, toDatabase, traceEgress } from './context';
import { fromSecret } from './secrets';

export const REALTIME_PORT = 4000;
export const REALTIME_SERVICE = 'realtime';
const COMPONENT = 'realtime';

/** The headless Service whose A records (one per pod) libcluster's DNS strategy polls. */
export const REALTIME_CLUSTER_SERVICE = `${REALTIME_SERVICE}-headless`;

/**
 * The ports Realtime's pods use between each other, and nothing else does: EPMD (the Erlang port
 * mapper every node starts), Erlang distribution pinned to one port (it picks a random one
 * otherwise), and gen_rpc, which carries broadcasts, presence and cross-node calls.
 */
export const REALTIME_CLUSTER_PORTS = { epmd: 4369, distribution: 4370, genRpc: 5369 } as const;

/**
 * The first half of every node's name (APP_NAME): env.sh makes the node `<APP_NAME>@<POD_IP>`,
 * and the DNS strategy names the pods it finds `<APP_NAME>@<A record>`: the two must agree.
 */
export const REALTIME_NODE_BASENAME = 'realtime';

/**
 * Realtime's region, a label that groups nodes, not a cloud region: broadcasts go to the nodes of
 * the sender's region, and none at all when REGION is unset. The self-host seed places the tenant
 * in "us-east-1", which Realtime maps to "us-east-1": with the same value here the tenant's
 * database connection is placed on one of these nodes.
 */
export const REALTIME_REGION = 'us-east-1';

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

/**
 * Erlang options of the server alone: distribution on its one fixed port. Only the server gets
 * them (as Elixir's release documentation advises): a remote shell in the pod
 * (`bin/realtime remote`) starts a node of its own, which could not bind the same port.
 */
export const REALTIME_SERVER_ERL_OPTIONS = `-kernel inet_dist_listen_min ${REALTIME_CLUSTER_PORTS.distribution} inet_dist_listen_max ${REALTIME_CLUSTER_PORTS.distribution}`;

/** The container's start: migrate, seed the tenant, switch its connection to TLS, serve. */
export function realtimeStartCommand(): string {
  const t = REALTIME_TENANT_TLS;
  const tenantTls = `Ecto.Migrator.with_repo(Realtime.Repo, fn repo -> repo.query!("${t.sql}", [${t.params.join(', ')}]) end)`;
  return `/app/bin/migrate && /app/bin/realtime eval "Realtime.Release.seeds(Realtime.Repo)" && /app/bin/realtime eval '${tenantTls}' && exec env ELIXIR_ERL_OPTIONS="${REALTIME_SERVER_ERL_OPTIONS}" /app/bin/server`;
}

/** The container ports of the cluster, named. */
const CLUSTER_PORT_NAMES = { epmd: 'epmd', distribution: 'erlang-dist', genRpc: 'gen-rpc' } as const;

export function realtimeService(ctx: ServiceContext): StatelessService {
  const c = ctx.config;
  const ca = databaseCa(ctx);
  const clusterPorts = (Object.keys(REALTIME_CLUSTER_PORTS) as (keyof typeof REALTIME_CLUSTER_PORTS)[]).map((k) => ({
    name: CLUSTER_PORT_NAMES[k],
    port: REALTIME_CLUSTER_PORTS[k],
  }));
  // Realtime's own pods, on the cluster ports only, in both directions.
  const self = peerOf({ namespace: ctx.namespace, instance: ctx.instance, name: REALTIME_SERVICE, component: COMPONENT });
  const cluster: PortRule[] = clusterPorts.map(({ port }) => ({ port, peers: [self] }));
  const service = new StatelessService(ctx.chart, 'realtime', {
    name: REALTIME_SERVICE,
    component: COMPONENT,
    namespace: ctx.namespace,
    version: IMAGES.realtime.tag,
    config: c.realtime,
    ports: [{ name: 'http', port: REALTIME_PORT }],
    podLabels: { ...ctx.db.clientLabels, ...ctx.tracing.clientLabels },
    network: {
      // Prometheus scrapes /metrics on the API port (with a JWT).
      ingress: [{ port: REALTIME_PORT, peers: [ctx.gateway.peer, ctx.prometheus] }, ...cluster],
      egress: [toDatabase(ctx), ...cluster, traceEgress(ctx, 'http')],
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
          // The Erlang cluster's ports: on the cluster's own headless Service below, not the client one.
          ports: clusterPorts.map(({ name, port }) => ({ name, containerPort: port })),
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
            // Distribution over IPv4 (the image defaults to IPv6, inet6_tcp).
            { name: 'ERL_AFLAGS', value: '-proto_dist inet_tcp' },
            // The cluster: env.sh names the node <APP_NAME>@<POD_IP>; libcluster's DNS strategy
            // (instead of the default POSTGRES, which holds two more database connections per pod
            // and names its channel after the cookie) polls the headless Service's A records.
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'APP_NAME', value: REALTIME_NODE_BASENAME },
            { name: 'CLUSTER_STRATEGIES', value: 'DNS' },
            { name: 'DNS_NODES', value: serviceHost(REALTIME_CLUSTER_SERVICE, ctx.namespace) },
            { name: 'REGION', value: REALTIME_REGION },
            fromSecret('RELEASE_COOKIE', ctx.secrets.realtimeCluster, 'erlang-cookie'),
            { name: 'GEN_RPC_TCP_SERVER_PORT', value: String(REALTIME_CLUSTER_PORTS.genRpc) },
            { name: 'GEN_RPC_TCP_CLIENT_PORT', value: String(REALTIME_CLUSTER_PORTS.genRpc) },
            { name: 'RLIMIT_NOFILE', value: '10000' },
            { name: 'SEED_SELF_HOST', value: 'true' },
            { name: 'SELF_HOST_TENANT_NAME', value: REALTIME_TENANT },
            { name: 'RUN_JANITOR', value: 'true' },
            { name: 'DISABLE_HEALTHCHECK_LOGGING', value: 'true' },
            // Traces (Phoenix, Cowboy and Ecto spans) over OTLP/HTTP; the exporter is off unless
            // named: https://github.com/supabase/realtime/blob/v2.102.3/ENVS.md (OTEL_TRACES_EXPORTER).
            { name: 'OTEL_TRACES_EXPORTER', value: 'otlp' },
            ...otelEnv(ctx, 'realtime', 'http'),
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
  // Every pod that has an address, ready or not: the DNS strategy disconnects a node whose record
  // disappears, so a pod that fails its readiness probe for a moment would otherwise be cut off
  // from the cluster while it still serves its websockets. A starting pod that is not listening
  // yet only costs the others a failed connection attempt every 5 s.
  new k8s.KubeService(service, 'headless-service', {
    metadata: ctx.chart.metadata({
      name: REALTIME_SERVICE,
      component: COMPONENT,
      version: IMAGES.realtime.tag,
      objectName: REALTIME_CLUSTER_SERVICE,
      namespace: ctx.namespace,
    }),
    spec: {
      clusterIp: 'None',
      publishNotReadyAddresses: true,
      selector: service.selector,
      ports: servicePorts(clusterPorts),
    },
  });
  return service;
}
