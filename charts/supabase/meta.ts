// postgres-meta: the database-management API behind Studio; reachable only through the
// gateway's admin route (/pg/) and from Studio.
import { k8s } from 'cdk8s-plus-33';
import { IMAGES } from '../../lib/images';
import { StatelessService } from '../../lib/stateless-service';
import { peerOf } from '../../lib/endpoint';
import { workload, WORKLOADS } from '../../lib/workloads';
import { type ServiceContext, toDatabase } from './context';
import { fromSecret } from './secrets';

export const META_PORT = 8080;

export function metaService(ctx: ServiceContext): StatelessService {
  const c = ctx.config;
  return new StatelessService(ctx.chart, 'meta', {
    name: WORKLOADS.meta.name,
    component: WORKLOADS.meta.component,
    namespace: ctx.namespace,
    version: IMAGES.meta.tag,
    config: c.meta,
    ports: [{ name: 'http', port: META_PORT }],
    podLabels: ctx.db.clientLabels,
    network: {
      ingress: [{ port: META_PORT, peers: [ctx.gateway.peer, ...(c.studioEnabled ? [peerOf(workload(ctx.platform, 'studio'))] : [])] }],
      egress: [toDatabase(ctx)],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      containers: [
        {
          name: 'meta',
          image: IMAGES.meta,
          resources: c.meta.resources,
          env: [
            { name: 'PG_META_PORT', value: String(META_PORT) },
            { name: 'PG_META_DB_HOST', value: ctx.db.host },
            { name: 'PG_META_DB_PORT', value: String(ctx.db.port) },
            { name: 'PG_META_DB_NAME', value: 'postgres' },
            { name: 'PG_META_DB_USER', value: 'supabase_admin' },
            { name: 'PG_META_DB_PASSWORD', valueFrom: ctx.db.passwordRef('supabase_admin') },
            // Verifies the server; the CA is PEM text here, not a path.
            { name: 'PG_META_DB_SSL_MODE', value: 'verify-full' },
            { name: 'PG_META_DB_SSL_ROOT_CERT', valueFrom: { secretKeyRef: { name: ctx.db.tlsFor(ctx.namespace).caSecretName, key: 'ca.crt' } } },
            fromSecret('CRYPTO_KEY', ctx.secrets.meta, 'crypto-key'),
          ],
          writablePaths: [{ path: '/tmp' }],
          // postgres-meta has no health endpoint upstream: the port answering is the signal.
          readinessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('http') }, periodSeconds: 10 },
          livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('http') }, periodSeconds: 30, failureThreshold: 5 },
        },
      ],
    },
  });
}
