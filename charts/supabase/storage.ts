// Storage API with imgproxy beside it in the same pod. With the file backend (dev) both
// containers mount the same volume, which is why imgproxy is a sidecar: a ReadWriteOnce volume
// can only be shared inside one pod. With S3 both read the bucket.
import { k8s } from 'cdk8s-plus-33';
import { IMAGES } from '../../lib/images';
import { StatelessService } from '../../lib/stateless-service';
import { egressTo, endpointOf, urlOf } from '../../lib/endpoint';
import { INTERNET } from '../../lib/network';
import { workload } from '../../lib/workloads';
import { databaseCa, otelEnv, samplerEnv, type ServiceContext, toDatabase, traceEgress } from './context';
import { databaseUrlEnv } from './database-env';
import { REST_PORT } from './rest';
import { fromSecret } from './secrets';

export const STORAGE_PORT = 5000;
const IMGPROXY_PORT = 5001;
const IMGPROXY_METRICS_PORT = 8081;
const FILES = '/var/lib/storage';
/** The volume of the file backend. */
export const STORAGE_FILES_CLAIM = 'storage-files';

export function storageService(ctx: ServiceContext): StatelessService {
  const c = ctx.config;
  const backend = c.storageBackend;
  const s3 = backend.kind === 's3' ? backend : undefined;
  const s3Secret = ctx.secrets.s3;
  const awsEnv =
    s3 && s3Secret
      ? [
          fromSecret('AWS_ACCESS_KEY_ID', s3Secret, 'access-key-id'),
          fromSecret('AWS_SECRET_ACCESS_KEY', s3Secret, 'secret-access-key'),
          { name: 'AWS_DEFAULT_REGION', value: s3.region },
        ]
      : [];
  const filesMount = s3 ? [] : [{ name: 'files', mountPath: FILES }];
  const rest = endpointOf(workload(ctx.platform, 'rest'), REST_PORT);

  if (!s3) {
    // Holds users' files: never pruned or deleted by Argo CD.
    new k8s.KubePersistentVolumeClaim(ctx.chart, 'storage-files', {
      metadata: ctx.chart.metadata({
        objectName: STORAGE_FILES_CLAIM,
        namespace: ctx.namespace,
        name: 'storage',
        component: 'storage',
        version: IMAGES.storage.tag,
        annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' },
      }),
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: ctx.storageClassName,
        resources: { requests: { storage: k8s.Quantity.fromString(backend.kind === 'file' ? backend.size : '0') } },
      },
    });
  }

  const ca = databaseCa(ctx);
  return new StatelessService(ctx.chart, 'storage', {
    name: 'storage',
    component: 'storage',
    namespace: ctx.namespace,
    version: IMAGES.storage.tag,
    config: c.storage,
    strategy: s3 ? 'RollingUpdate' : 'Recreate',
    ports: [{ name: 'http', port: STORAGE_PORT }],
    podLabels: { ...ctx.db.clientLabels, ...ctx.tracing.clientLabels },
    network: {
      ingress: [
        { port: STORAGE_PORT, peers: [ctx.gateway.peer] },
        { port: IMGPROXY_METRICS_PORT, peers: [ctx.prometheus] },
      ],
      // Both containers send traces over OTLP/gRPC: Storage's exporter speaks nothing else.
      egress: [toDatabase(ctx), egressTo(rest), ...(s3 ? [{ port: 443, peers: [INTERNET] }] : []), traceEgress(ctx, 'grpc')],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      volumes: [ca.volume, ...(s3 ? [] : [{ name: 'files', persistentVolumeClaim: { claimName: STORAGE_FILES_CLAIM } }])],
      containers: [
        {
          name: 'storage',
          image: IMAGES.storage,
          resources: c.storage.resources,
          env: [
            { name: 'SERVER_PORT', value: String(STORAGE_PORT) },
            fromSecret('ANON_KEY', ctx.secrets.jwt, 'anon-key'),
            fromSecret('SERVICE_KEY', ctx.secrets.jwt, 'service-role-key'),
            fromSecret('PGRST_JWT_SECRET', ctx.secrets.jwt, 'jwt-secret'),
            fromSecret('AUTH_JWT_SECRET', ctx.secrets.jwt, 'jwt-secret'),
            { name: 'POSTGREST_URL', value: urlOf(rest) },
            ...databaseUrlEnv(ctx, 'supabase_storage_admin', 'DATABASE_URL'),
            { name: 'DATABASE_MAX_CONNECTIONS', value: String(ctx.config.storageDbPool) },
            { name: 'STORAGE_PUBLIC_URL', value: `${ctx.publicUrl}/storage/v1` },
            { name: 'REQUEST_ALLOW_X_FORWARDED_PATH', value: 'true' },
            { name: 'FILE_SIZE_LIMIT', value: String(c.fileSizeLimitBytes) },
            { name: 'TENANT_ID', value: 'stub' },
            { name: 'ENABLE_IMAGE_TRANSFORMATION', value: 'true' },
            { name: 'IMGPROXY_URL', value: `http://127.0.0.1:${IMGPROXY_PORT}` },
            // Traces over OTLP/gRPC (its only exporter), named after the container:
            // https://github.com/supabase/storage/blob/v1.60.4/src/internal/monitoring/otel-tracing.ts
            { name: 'TRACING_ENABLED', value: 'true' },
            { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', value: ctx.tracing.otlpGrpcUrl },
            { name: 'SERVICE_NAME', value: 'storage' },
            { name: 'OTEL_RESOURCE_ATTRIBUTES', value: `deployment.environment=${ctx.instance}` },
            ...samplerEnv(ctx),
            // The request ID in every log line is the traceparent Kong sends, so Grafana links a
            // log line to its trace (REQUEST_TRACE_HEADER, Fastify's request ID header).
            { name: 'REQUEST_TRACE_HEADER', value: 'traceparent' },
            ...(s3
              ? [
                  { name: 'STORAGE_BACKEND', value: 's3' },
                  { name: 'GLOBAL_S3_BUCKET', value: s3.bucket },
                  { name: 'REGION', value: s3.region },
                  ...(s3.endpoint ? [{ name: 'GLOBAL_S3_ENDPOINT', value: s3.endpoint }] : []),
                  { name: 'GLOBAL_S3_FORCE_PATH_STYLE', value: String(s3.forcePathStyle) },
                  ...awsEnv,
                ]
              : [
                  { name: 'STORAGE_BACKEND', value: 'file' },
                  { name: 'GLOBAL_S3_BUCKET', value: 'stub' },
                  { name: 'REGION', value: 'stub' },
                  { name: 'FILE_STORAGE_BACKEND_PATH', value: FILES },
                ]),
          ],
          volumeMounts: [ca.mount, ...filesMount],
          writablePaths: [{ path: '/tmp', sizeLimit: '1Gi' }],
          readinessProbe: { httpGet: { path: '/status', port: k8s.IntOrString.fromString('http') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('http') }, periodSeconds: 20, failureThreshold: 6 },
        },
        {
          name: 'imgproxy',
          image: IMAGES.imgproxy,
          resources: c.imgproxy,
          ports: [
            { name: 'imgproxy', containerPort: IMGPROXY_PORT },
            { name: 'metrics', containerPort: IMGPROXY_METRICS_PORT },
          ],
          env: [
            { name: 'IMGPROXY_BIND', value: `127.0.0.1:${IMGPROXY_PORT}` },
            // Its own listener for Prometheus (imgproxy docs, "Prometheus": IMGPROXY_PROMETHEUS_BIND); the API stays on loopback.
            { name: 'IMGPROXY_PROMETHEUS_BIND', value: `:${IMGPROXY_METRICS_PORT}` },
            // Its metrics are otherwise unprefixed (requests_total, errors_total, workers...): named imgproxy_*.
            { name: 'IMGPROXY_PROMETHEUS_NAMESPACE', value: 'imgproxy' },
            { name: 'IMGPROXY_LOCAL_FILESYSTEM_ROOT', value: '/' },
            { name: 'IMGPROXY_USE_ETAG', value: 'true' },
            { name: 'IMGPROXY_ENABLE_WEBP_DETECTION', value: 'true' },
            { name: 'IMGPROXY_MAX_SRC_RESOLUTION', value: '16.8' },
            // Traces over OTLP/gRPC, under Storage's span (it passes traceparent on), with W3C's
            // random trace IDs rather than X-Ray's: https://docs.imgproxy.net/latest/monitoring/open_telemetry
            { name: 'IMGPROXY_OPEN_TELEMETRY_ENABLE', value: 'true' },
            { name: 'IMGPROXY_OPEN_TELEMETRY_TRACE_ID_GENERATOR', value: 'random' },
            { name: 'OTEL_PROPAGATORS', value: 'tracecontext' },
            ...otelEnv(ctx, 'imgproxy', 'grpc'),
            ...(s3 ? [{ name: 'IMGPROXY_USE_S3', value: 'true' }, ...awsEnv] : []),
          ],
          volumeMounts: filesMount.map((m) => ({ ...m, readOnly: true })),
          writablePaths: [{ path: '/tmp', sizeLimit: '1Gi' }],
          readinessProbe: { exec: { command: ['imgproxy', 'health'] }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { exec: { command: ['imgproxy', 'health'] }, periodSeconds: 30, failureThreshold: 5, timeoutSeconds: 5 },
        },
      ],
    },
  });
}
