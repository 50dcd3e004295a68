// Supavisor, the connection pooler: session mode on 5432, transaction mode on 6543. At start it
// migrates its own schema in the _supabase database, creates this platform's tenant (pooler.exs,
// auth_query through pgbouncer.get_auth), then serves.
import { SUPAVISOR_METADATA_POOL } from '../../environments/capacity';
import { k8s } from 'cdk8s-plus-33';
import { projectFile } from '../../lib/files';
import { IMAGES } from '../../lib/images';
import { accessLabel, clientsOf } from '../../lib/network';
import { StatelessService } from '../../lib/stateless-service';
import { type ServiceContext, toDatabase } from './context';
import { databaseUrlEnv } from './database-env';
import { fromSecret } from './secrets';

export const POOLER_SESSION_PORT = 5432;
export const POOLER_TRANSACTION_PORT = 6543;
const API_PORT = 4000;
/** Label a pod needs for the pooler's NetworkPolicy to let it in (the product's workloads). */
export const POOLER_CLIENT_LABELS = accessLabel('pooler');
const SCRIPT_DIR = '/etc/supavisor';

export function supavisorService(ctx: ServiceContext): StatelessService {
  const c = ctx.config;
  const script = projectFile('charts/supabase/files/pooler.exs');
  const config = new k8s.KubeConfigMap(ctx.chart, 'supavisor-config', {
    metadata: ctx.chart.metadata({ objectName: 'supavisor-config', namespace: ctx.namespace, name: 'supavisor', component: 'pooler', version: IMAGES.supavisor.tag }),
    data: { 'pooler.exs': script },
  });
  return new StatelessService(ctx.chart, 'supavisor', {
    name: 'supavisor',
    component: 'pooler',
    namespace: ctx.namespace,
    version: IMAGES.supavisor.tag,
    config: c.supavisor,
    ports: [
      { name: 'session', port: POOLER_SESSION_PORT },
      { name: 'transaction', port: POOLER_TRANSACTION_PORT },
      { name: 'http', port: API_PORT },
    ],
    podLabels: ctx.db.clientLabels,
    restartOn: [script],
    network: {
      ingress: [
        // The product's workloads reach the database only through the pooler.
        { port: POOLER_SESSION_PORT, peers: [clientsOf('pooler', ctx.instance)] },
        { port: POOLER_TRANSACTION_PORT, peers: [clientsOf('pooler', ctx.instance)] },
        { port: API_PORT, peers: [ctx.prometheus] },
      ],
      egress: [toDatabase(ctx)],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      volumes: [{ name: 'config', configMap: { name: config.name } }],
      containers: [
        {
          name: 'supavisor',
          image: IMAGES.supavisor,
          command: ['/bin/sh', '-c', `/app/bin/migrate && /app/bin/supavisor eval "$(cat ${SCRIPT_DIR}/pooler.exs)" && exec /app/bin/server`],
          resources: c.supavisor.resources,
          ports: [
            { name: 'session', containerPort: POOLER_SESSION_PORT },
            { name: 'transaction', containerPort: POOLER_TRANSACTION_PORT },
            { name: 'http', containerPort: API_PORT },
          ],
          env: [
            { name: 'PORT', value: String(API_PORT) },
            { name: 'POSTGRES_HOST', value: ctx.db.host },
            { name: 'POSTGRES_PORT', value: String(ctx.db.port) },
            { name: 'POSTGRES_DB', value: 'postgres' },
            { name: 'POSTGRES_PASSWORD', valueFrom: ctx.db.passwordRef('supabase_admin') },
            { name: 'PGBOUNCER_PASSWORD', valueFrom: ctx.db.passwordRef('pgbouncer') },
            ...databaseUrlEnv(ctx, 'supabase_admin', 'DATABASE_URL', { database: '_supabase', scheme: 'ecto' }),
            { name: 'CLUSTER_POSTGRES', value: 'true' },
            fromSecret('SECRET_KEY_BASE', ctx.secrets.supavisor, 'secret-key-base'),
            fromSecret('VAULT_ENC_KEY', ctx.secrets.supavisor, 'vault-enc-key'),
            fromSecret('API_JWT_SECRET', ctx.secrets.jwt, 'jwt-secret'),
            fromSecret('METRICS_JWT_SECRET', ctx.secrets.jwt, 'jwt-secret'),
            { name: 'REGION', value: 'local' },
            { name: 'ERL_AFLAGS', value: '-proto_dist inet_tcp' },
            { name: 'POOLER_TENANT_ID', value: ctx.instance },
            { name: 'POOLER_DEFAULT_POOL_SIZE', value: String(c.pooler.defaultPoolSize) },
            { name: 'POOLER_MAX_CLIENT_CONN', value: String(c.pooler.maxClientConnections) },
            // Its own pool to the metadata database (_supabase), counted by environments/capacity.ts.
            { name: 'POOLER_DB_POOL_SIZE', value: String(SUPAVISOR_METADATA_POOL) },
            { name: 'POOLER_POOL_MODE', value: 'transaction' },
          ],
          volumeMounts: [{ name: 'config', mountPath: SCRIPT_DIR, readOnly: true }],
          writablePaths: [{ path: '/tmp' }],
          readinessProbe: { httpGet: { path: '/api/health', port: k8s.IntOrString.fromString('http') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('http') }, periodSeconds: 30, failureThreshold: 5, initialDelaySeconds: 30 },
        },
      ],
    },
  });
}
