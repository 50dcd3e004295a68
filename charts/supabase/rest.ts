// PostgREST: the REST API over the exposed schemas, logging in as authenticator and switching to
// the role in each request's JWT. The admin port serves /live, /ready and /metrics.
import { k8s } from 'cdk8s-plus-33';
import { IMAGES } from '../../lib/images';
import { StatelessService } from '../../lib/stateless-service';
import { WORKLOADS } from '../../lib/workloads';
import { databaseCa, type ServiceContext, toDatabase } from './context';
import { databaseUrlEnv } from './database-env';
import { fromSecret } from './secrets';

export const REST_PORT = 3000;
const ADMIN_PORT = 3001;

export function restService(ctx: ServiceContext): StatelessService {
  const c = ctx.config;
  const ca = databaseCa(ctx);
  return new StatelessService(ctx.chart, 'rest', {
    name: WORKLOADS.rest.name,
    component: WORKLOADS.rest.component,
    namespace: ctx.namespace,
    version: IMAGES.rest.tag,
    config: c.rest,
    ports: [
      { name: 'http', port: REST_PORT },
      { name: 'metrics', port: ADMIN_PORT },
    ],
    podLabels: ctx.db.clientLabels,
    network: {
      // Storage calls PostgREST directly, besides the gateway.
      ingress: [
        {
          port: REST_PORT,
          peers: [ctx.gateway.peer, { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'storage', 'app.kubernetes.io/instance': ctx.instance } } }],
        },
        { port: ADMIN_PORT, peers: [ctx.prometheus] },
      ],
      egress: [toDatabase(ctx)],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      volumes: [ca.volume],
      containers: [
        {
          name: 'rest',
          image: IMAGES.rest,
          resources: c.rest.resources,
          volumeMounts: [ca.mount],
          env: [
            ...databaseUrlEnv(ctx, 'authenticator', 'PGRST_DB_URI'),
            { name: 'PGRST_DB_SCHEMAS', value: ctx.db.exposedSchemas.join(',') },
            { name: 'PGRST_DB_ANON_ROLE', value: 'anon' },
            { name: 'PGRST_DB_EXTRA_SEARCH_PATH', value: 'public,extensions' },
            { name: 'PGRST_DB_MAX_ROWS', value: '1000' },
            { name: 'PGRST_DB_POOL', value: String(c.restDbPool) },
            { name: 'PGRST_DB_USE_LEGACY_GUCS', value: 'false' },
            fromSecret('PGRST_JWT_SECRET', ctx.secrets.jwt, 'jwt-secret'),
            fromSecret('PGRST_APP_SETTINGS_JWT_SECRET', ctx.secrets.jwt, 'jwt-secret'),
            { name: 'PGRST_APP_SETTINGS_JWT_EXP', value: '3600' },
            { name: 'PGRST_SERVER_PORT', value: String(REST_PORT) },
            { name: 'PGRST_ADMIN_SERVER_PORT', value: String(ADMIN_PORT) },
          ],
          readinessProbe: { httpGet: { path: '/ready', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { httpGet: { path: '/live', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 20, failureThreshold: 6 },
        },
      ],
    },
  });
}
