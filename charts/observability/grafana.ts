// Grafana as a one-pod StatefulSet (its database and plugins on a volume), with the datasources
// (Prometheus, Loki, Tempo) and the platform's dashboards provisioned from ConfigMaps: what is in
// git is what Grafana shows. The admin credentials come from the grafana-admin Secret.
import { k8s } from 'cdk8s-plus-33';
import { stringify } from 'yaml';
import type { Environment } from '../../environments/schema';
import { IMAGES } from '../../lib/images';
import { urlOf } from '../../lib/endpoint';
import { provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { StatefulService } from '../../lib/stateful-set';
import { ALERTMANAGER_PORT } from './alertmanager';
import type { ObservabilityContext } from './context';
import { COMPONENTS, host, peerOf } from './context';
import type { DashboardFile } from './dashboards';
import { LOKI_PORT } from './logs';
import { prometheusEndpoints } from './prometheus';
import { METRICS_PORT_ANNOTATION, PROMETHEUS_PORT } from './prometheus-config';
import { TEMPO_PORT } from './traces';

const GRAFANA_PORT = 3000;
const PROVISIONING = '/etc/grafana/provisioning';
const DASHBOARDS_DIR = '/var/lib/grafana-dashboards';

/** UIDs of the provisioned datasources, which the dashboards reference. */
export const DATASOURCE_UIDS = { prometheus: 'prometheus', prometheusLoadTests: 'prometheus-loadtests', loki: 'loki', tempo: 'tempo' } as const;

/**
 * A trace ID in a log line: `trace_id`, `traceId`, `traceID` or `trace.id` followed by 32 hex
 * digits (the product's logs), or a W3C traceparent `00-<trace id>-<span id>-<flags>` in Auth's
 * `request_id` and Storage's `traceId` (both set to the traceparent Kong sends). The first group is
 * the trace ID. Grafana runs it as a JavaScript regular expression.
 */
export const TRACE_ID_PATTERN = '(?:[Tt]race[_.]?[Ii][Dd]|request_id)"?\\s*[:=]\\s*"?(?:00-)?([0-9a-f]{32})\\b';

/**
 * Loki's derived field: a trace ID found in a log line links to that trace in Tempo
 * (https://grafana.com/docs/grafana/latest/datasources/loki/configure-loki-data-source/#derived-fields).
 * Provisioning expands $VAR and ${VAR} from Grafana's environment, so the link's own variable is
 * written with $$ (https://grafana.com/docs/grafana/latest/administration/provisioning/#using-environment-variables).
 */
export const TRACE_ID_FIELD = {
  name: 'TraceID',
  matcherType: 'regex',
  matcherRegex: TRACE_ID_PATTERN,
  datasourceUid: DATASOURCE_UIDS.tempo,
  url: '$${__value.raw}',
  urlDisplayLabel: 'View trace',
} as const;

/**
 * Tempo's link from a span to its logs
 * (https://grafana.com/docs/grafana/latest/datasources/tempo/configure-tempo-data-source/#trace-to-logs):
 * the lines of the span's container (every sender names its service after its container, the label
 * Alloy gives each line) that carry the trace ID, from a minute before the span to a minute after.
 */
export const TRACES_TO_LOGS = {
  datasourceUid: DATASOURCE_UIDS.loki,
  tags: [{ key: 'service.name', value: 'container' }],
  filterByTraceID: true,
  filterBySpanID: false,
  spanStartTimeShift: '-1m',
  spanEndTimeShift: '1m',
} as const;

export function grafana(ctx: ObservabilityContext, dashboards: readonly DashboardFile[], secretSource: Environment['secrets']): StatefulService {
  const c = ctx.config.grafana;
  const meta = (objectName: string) =>
    ctx.chart.metadata({ objectName, namespace: ctx.namespace, name: 'grafana', component: COMPONENTS.grafana, version: IMAGES.grafana.tag });
  const admin: SecretSpec = {
    name: 'grafana-admin',
    namespace: ctx.namespace,
    description: "Grafana's admin account",
    keys: [
      { key: 'admin-user', description: 'admin user name', generate: { kind: 'text', value: 'admin' } },
      { key: 'admin-password', description: 'admin password', generate: { kind: 'hex', bytes: 24 } },
    ],
  };
  provideSecret(ctx.chart, 'grafana-admin', secretSource, admin, meta(admin.name));

  const datasources = stringify({
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        type: 'prometheus',
        uid: DATASOURCE_UIDS.prometheus,
        access: 'proxy',
        url: `http://${host(ctx, 'prometheus')}:${PROMETHEUS_PORT}`,
        isDefault: true,
        editable: false,
      },
      // The server the load tests write their results to (either server holds everything else).
      {
        name: 'Prometheus (load tests)',
        type: 'prometheus',
        uid: DATASOURCE_UIDS.prometheusLoadTests,
        access: 'proxy',
        url: urlOf(prometheusEndpoints(ctx.namespace).receiver),
        editable: false,
      },
      {
        name: 'Loki',
        type: 'loki',
        uid: DATASOURCE_UIDS.loki,
        access: 'proxy',
        url: `http://${host(ctx, 'loki')}:${LOKI_PORT}`,
        editable: false,
        jsonData: { derivedFields: [TRACE_ID_FIELD] },
      },
      {
        name: 'Tempo',
        type: 'tempo',
        uid: DATASOURCE_UIDS.tempo,
        access: 'proxy',
        url: `http://${host(ctx, 'tempo')}:${TEMPO_PORT}`,
        editable: false,
        jsonData: { tracesToLogsV2: TRACES_TO_LOGS, serviceMap: { datasourceUid: DATASOURCE_UIDS.prometheus } },
      },
      {
        name: 'Alertmanager',
        type: 'alertmanager',
        uid: 'alertmanager',
        access: 'proxy',
        url: `http://${host(ctx, 'alertmanager')}:${ALERTMANAGER_PORT}`,
        editable: false,
        jsonData: { implementation: 'prometheus' },
      },
    ],
  });
  const providers = stringify({
    apiVersion: 1,
    providers: [{ name: 'platform', folder: 'Platform', type: 'file', disableDeletion: true, allowUiUpdates: false, options: { path: DASHBOARDS_DIR } }],
  });
  const dashboardData = Object.fromEntries(dashboards.map((d) => [d.file, JSON.stringify(d.json, null, 2)]));
  const provisioning = new k8s.KubeConfigMap(ctx.chart, 'grafana-provisioning', {
    metadata: meta('grafana-provisioning'),
    data: { 'datasources.yaml': datasources, 'dashboards.yaml': providers },
  });
  const dashboardMap = new k8s.KubeConfigMap(ctx.chart, 'grafana-dashboards', { metadata: meta('grafana-dashboards'), data: dashboardData });
  const env = (name: string, value: string) => ({ name, value });

  const service = new StatefulService(ctx.chart, 'grafana', {
    name: 'grafana',
    component: COMPONENTS.grafana,
    namespace: ctx.namespace,
    version: IMAGES.grafana.tag,
    replicas: 1,
    claims: [{ name: 'data', size: c.volumeSize, storageClassName: ctx.storageClassName }],
    ports: [{ name: 'http', port: GRAFANA_PORT }],
    podAnnotations: { [METRICS_PORT_ANNOTATION]: String(GRAFANA_PORT) },
    restartOn: [datasources, providers, ...Object.values(dashboardData)],
    // Reached with `kubectl port-forward`, which policies do not filter; Prometheus scrapes it.
    network: {
      ingress: [{ port: GRAFANA_PORT, peers: [ctx.prometheus] }],
      egress: [
        { port: PROMETHEUS_PORT, peers: [peerOf(ctx, 'prometheus')] },
        { port: LOKI_PORT, peers: [peerOf(ctx, 'loki')] },
        { port: TEMPO_PORT, peers: [peerOf(ctx, 'tempo')] },
        { port: ALERTMANAGER_PORT, peers: [peerOf(ctx, 'alertmanager')] },
      ],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      volumes: [
        {
          name: 'provisioning',
          configMap: {
            name: provisioning.name,
            items: [
              { key: 'datasources.yaml', path: 'datasources/datasources.yaml' },
              { key: 'dashboards.yaml', path: 'dashboards/dashboards.yaml' },
            ],
          },
        },
        { name: 'dashboards', configMap: { name: dashboardMap.name } },
      ],
      containers: [
        {
          name: 'grafana',
          image: IMAGES.grafana,
          env: [
            { name: 'GF_SECURITY_ADMIN_USER', valueFrom: secretKeyRef(admin, 'admin-user') },
            { name: 'GF_SECURITY_ADMIN_PASSWORD', valueFrom: secretKeyRef(admin, 'admin-password') },
            env('GF_SERVER_HTTP_PORT', String(GRAFANA_PORT)),
            env('GF_PATHS_DATA', '/var/lib/grafana'),
            env('GF_PATHS_PROVISIONING', PROVISIONING),
            env('GF_PATHS_LOGS', '/tmp/grafana-logs'),
            env('GF_LOG_MODE', 'console'),
            env('GF_USERS_ALLOW_SIGN_UP', 'false'),
            env('GF_AUTH_ANONYMOUS_ENABLED', 'false'),
            env('GF_ANALYTICS_REPORTING_ENABLED', 'false'),
            env('GF_ANALYTICS_CHECK_FOR_UPDATES', 'false'),
            env('GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES', 'false'),
            env('GF_SECURITY_COOKIE_SECURE', 'true'),
            env('GF_SECURITY_DISABLE_GRAVATAR', 'true'),
          ],
          resources: c.resources,
          volumeMounts: [
            { name: 'provisioning', mountPath: PROVISIONING, readOnly: true },
            { name: 'dashboards', mountPath: DASHBOARDS_DIR, readOnly: true },
            { name: 'data', mountPath: '/var/lib/grafana' },
          ],
          writablePaths: [{ path: '/tmp' }],
          readinessProbe: { httpGet: { path: '/api/health', port: k8s.IntOrString.fromString('http') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: {
            httpGet: { path: '/api/health', port: k8s.IntOrString.fromString('http') },
            periodSeconds: 30,
            failureThreshold: 6,
            initialDelaySeconds: 30,
          },
        },
      ],
    },
  });
  return service;
}
