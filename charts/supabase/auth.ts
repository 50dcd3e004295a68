// Auth (GoTrue): sign-up, sign-in and tokens; migrates the auth schema itself at start.
import { k8s } from 'cdk8s-plus-33';
import { IMAGES } from '../../lib/images';
import { StatelessService } from '../../lib/stateless-service';
import { INTERNET } from '../../lib/network';
import { databaseCa, otelEnv, type ServiceContext, toDatabase, traceEgress } from './context';
import { databaseUrlEnv } from './database-env';
import { fromSecret } from './secrets';

export const AUTH_PORT = 9999;
const METRICS_PORT = 9100;

export function authService(ctx: ServiceContext): StatelessService {
  const c = ctx.config;
  const smtp =
    c.smtp && ctx.secrets.smtp
      ? [
          { name: 'GOTRUE_SMTP_HOST', value: c.smtp.host },
          { name: 'GOTRUE_SMTP_PORT', value: String(c.smtp.port) },
          { name: 'GOTRUE_SMTP_ADMIN_EMAIL', value: c.smtp.adminEmail },
          { name: 'GOTRUE_SMTP_SENDER_NAME', value: c.smtp.senderName },
          fromSecret('GOTRUE_SMTP_USER', ctx.secrets.smtp, 'username'),
          fromSecret('GOTRUE_SMTP_PASS', ctx.secrets.smtp, 'password'),
        ]
      : [];
  const ca = databaseCa(ctx);
  return new StatelessService(ctx.chart, 'auth', {
    name: 'auth',
    component: 'auth',
    namespace: ctx.namespace,
    version: IMAGES.auth.tag,
    config: c.auth,
    ports: [
      { name: 'http', port: AUTH_PORT },
      { name: 'metrics', port: METRICS_PORT },
    ],
    podLabels: { ...ctx.db.clientLabels, ...ctx.tracing.clientLabels },
    network: {
      ingress: [
        { port: AUTH_PORT, peers: [ctx.gateway.peer] },
        { port: METRICS_PORT, peers: [ctx.prometheus] },
      ],
      egress: [toDatabase(ctx), ...(smtp.length ? [{ port: c.smtp!.port, peers: [INTERNET] }] : []), traceEgress(ctx, 'http')],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      volumes: [ca.volume],
      containers: [
        {
          name: 'auth',
          image: IMAGES.auth,
          resources: c.auth.resources,
          env: [
            { name: 'GOTRUE_API_HOST', value: '0.0.0.0' },
            { name: 'GOTRUE_API_PORT', value: String(AUTH_PORT) },
            { name: 'API_EXTERNAL_URL', value: ctx.publicUrl },
            { name: 'GOTRUE_DB_DRIVER', value: 'postgres' },
            // Bounded (upstream's default is unlimited): environments/capacity.ts counts it.
            { name: 'GOTRUE_DB_MAX_POOL_SIZE', value: String(ctx.config.authDbPool) },
            ...databaseUrlEnv(ctx, 'supabase_auth_admin', 'GOTRUE_DB_DATABASE_URL'),
            { name: 'GOTRUE_SITE_URL', value: c.siteUrl },
            { name: 'GOTRUE_URI_ALLOW_LIST', value: c.redirectUrls.join(',') },
            { name: 'GOTRUE_DISABLE_SIGNUP', value: String(c.disableSignup) },
            { name: 'GOTRUE_JWT_ADMIN_ROLES', value: 'service_role' },
            { name: 'GOTRUE_JWT_AUD', value: 'authenticated' },
            { name: 'GOTRUE_JWT_DEFAULT_GROUP_NAME', value: 'authenticated' },
            { name: 'GOTRUE_JWT_EXP', value: '3600' },
            fromSecret('GOTRUE_JWT_SECRET', ctx.secrets.jwt, 'jwt-secret'),
            { name: 'GOTRUE_EXTERNAL_EMAIL_ENABLED', value: 'true' },
            { name: 'GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED', value: 'false' },
            { name: 'GOTRUE_MAILER_AUTOCONFIRM', value: String(c.mailerAutoconfirm) },
            { name: 'GOTRUE_MAILER_URLPATHS_INVITE', value: '/auth/v1/verify' },
            { name: 'GOTRUE_MAILER_URLPATHS_CONFIRMATION', value: '/auth/v1/verify' },
            { name: 'GOTRUE_MAILER_URLPATHS_RECOVERY', value: '/auth/v1/verify' },
            { name: 'GOTRUE_MAILER_URLPATHS_EMAIL_CHANGE', value: '/auth/v1/verify' },
            { name: 'GOTRUE_EXTERNAL_PHONE_ENABLED', value: 'false' },
            { name: 'GOTRUE_SMS_AUTOCONFIRM', value: 'false' },
            ...smtp,
            { name: 'GOTRUE_METRICS_ENABLED', value: 'true' },
            { name: 'GOTRUE_METRICS_EXPORTER', value: 'prometheus' },
            { name: 'OTEL_EXPORTER_PROMETHEUS_HOST', value: '0.0.0.0' },
            { name: 'OTEL_EXPORTER_PROMETHEUS_PORT', value: String(METRICS_PORT) },
            // Traces over OTLP/HTTP; the exporter reads the standard OTEL_* variables:
            // https://github.com/supabase/auth/blob/v2.189.0/internal/observability/tracing.go
            { name: 'GOTRUE_TRACING_ENABLED', value: 'true' },
            { name: 'GOTRUE_TRACING_EXPORTER', value: 'opentelemetry' },
            ...otelEnv(ctx, 'auth', 'http'),
            // The request ID in every log line is the traceparent Kong sends, so Grafana links a
            // log line to its trace:
            // https://github.com/supabase/auth/blob/v2.189.0/internal/observability/request-logger.go
            { name: 'GOTRUE_API_REQUEST_ID_HEADER', value: 'traceparent' },
          ],
          volumeMounts: [ca.mount],
          writablePaths: [{ path: '/tmp' }],
          readinessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromString('http') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('http') }, periodSeconds: 20, failureThreshold: 6 },
        },
      ],
    },
  });
}
