// Studio, the dashboard: optional per environment, reachable only through the gateway's
// basic-auth route (its NetworkPolicy admits nothing else).
import { k8s } from 'cdk8s-plus-33';
import { IMAGES } from '../../lib/images';
import { StatelessService } from '../../lib/stateless-service';
import { egressTo, endpointOf, urlOf } from '../../lib/endpoint';
import { workload, WORKLOADS } from '../../lib/workloads';
import { type ServiceContext, toDatabase } from './context';
import { META_PORT } from './meta';
import { fromSecret } from './secrets';

export const STUDIO_PORT = 3000;

export function studioService(ctx: ServiceContext): StatelessService {
  const c = ctx.config;
  const meta = endpointOf(workload(ctx.platform, 'meta'), META_PORT);
  return new StatelessService(ctx.chart, 'studio', {
    name: WORKLOADS.studio.name,
    component: WORKLOADS.studio.component,
    namespace: ctx.namespace,
    version: IMAGES.studio.tag,
    config: c.studio,
    ports: [{ name: 'http', port: STUDIO_PORT }],
    podLabels: ctx.db.clientLabels,
    network: {
      ingress: [{ port: STUDIO_PORT, peers: [ctx.gateway.peer] }],
      egress: [toDatabase(ctx), egressTo(meta), egressTo(ctx.gateway)],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      containers: [
        {
          name: 'studio',
          image: IMAGES.studio,
          resources: c.studio.resources,
          env: [
            { name: 'HOSTNAME', value: '0.0.0.0' },
            { name: 'STUDIO_PG_META_URL', value: urlOf(meta) },
            { name: 'POSTGRES_HOST', value: ctx.db.host },
            { name: 'POSTGRES_PORT', value: String(ctx.db.port) },
            { name: 'POSTGRES_DB', value: 'postgres' },
            { name: 'POSTGRES_PASSWORD', valueFrom: ctx.db.passwordRef('supabase_admin') },
            { name: 'POSTGRES_USER_READ_WRITE', value: 'supabase_admin' },
            { name: 'POSTGRES_SSL', value: 'verify-full' },
            fromSecret('PG_META_CRYPTO_KEY', ctx.secrets.meta, 'crypto-key'),
            { name: 'DEFAULT_ORGANIZATION_NAME', value: 'DeFi' },
            { name: 'DEFAULT_PROJECT_NAME', value: ctx.instance },
            { name: 'SUPABASE_URL', value: urlOf(ctx.gateway) },
            { name: 'SUPABASE_PUBLIC_URL', value: ctx.publicUrl },
            fromSecret('SUPABASE_ANON_KEY', ctx.secrets.jwt, 'anon-key'),
            fromSecret('SUPABASE_SERVICE_KEY', ctx.secrets.jwt, 'service-role-key'),
            fromSecret('AUTH_JWT_SECRET', ctx.secrets.jwt, 'jwt-secret'),
            { name: 'NEXT_PUBLIC_ENABLE_LOGS', value: 'false' },
            { name: 'NEXT_ANALYTICS_BACKEND_PROVIDER', value: 'postgres' },
            { name: 'NEXT_TELEMETRY_DISABLED', value: '1' },
          ],
          writablePaths: [{ path: '/tmp', sizeLimit: '256Mi' }],
          readinessProbe: { httpGet: { path: '/api/platform/profile', port: k8s.IntOrString.fromString('http') }, periodSeconds: 10, timeoutSeconds: 5 },
          livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('http') }, periodSeconds: 30, failureThreshold: 5 },
        },
      ],
    },
  });
}
