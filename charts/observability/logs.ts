// Logs: Loki as a one-pod StatefulSet (config/loki.ts, retention from the environment) and
// Grafana Alloy on every node shipping the platform's pod logs to it (config/alloy.ts). Both
// configs are built from typed objects and checked at synth.
import { k8s } from 'cdk8s-plus-33';
import { DaemonSetService } from '../../lib/daemon-set';
import { IMAGES } from '../../lib/images';
import { toApiServer } from '../../lib/network';
import { READ, rolesIn } from '../../lib/rbac';
import { StatefulService } from '../../lib/stateful-set';
import { ALLOY_CONFIG_FILE, ALLOY_ENV, alloyConfig, renderAlloyConfig } from './config/alloy';
import { LOKI_CONFIG_FILE, lokiConfig, renderLokiConfig } from './config/loki';
import { COMPONENTS, type ObservabilityContext, host, peerOf } from './context';
import { METRICS_PORT_ANNOTATION } from './prometheus-config';

export const LOKI_PORT = 3100;
const LOKI_GRPC_PORT = 9095;
const LOKI_DATA = '/loki';
const ALLOY_PORT = 12345;

export function loki(ctx: ObservabilityContext): { service: StatefulService; url: string } {
  const c = ctx.config.loki;
  const file = renderLokiConfig(lokiConfig({ httpPort: LOKI_PORT, grpcPort: LOKI_GRPC_PORT, dataDir: LOKI_DATA, retention: '${LOKI_RETENTION}' }));
  const meta = (objectName: string) =>
    ctx.chart.metadata({ objectName, namespace: ctx.namespace, name: 'loki', component: COMPONENTS.loki, version: IMAGES.loki.tag });
  const configMap = new k8s.KubeConfigMap(ctx.chart, 'loki-config', { metadata: meta('loki-config'), data: { [LOKI_CONFIG_FILE]: file } });
  const service = new StatefulService(ctx.chart, 'loki', {
    name: 'loki',
    component: COMPONENTS.loki,
    namespace: ctx.namespace,
    version: IMAGES.loki.tag,
    replicas: 1,
    claims: [{ name: 'data', size: c.volumeSize, storageClassName: ctx.storageClassName }],
    ports: [{ name: 'http', port: LOKI_PORT }],
    podAnnotations: { [METRICS_PORT_ANNOTATION]: String(LOKI_PORT) },
    restartOn: [file],
    network: {
      ingress: [{ port: LOKI_PORT, peers: [peerOf(ctx, 'alloy'), peerOf(ctx, 'grafana'), ctx.prometheus] }],
      egress: [],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      volumes: [{ name: 'config', configMap: { name: configMap.name } }],
      containers: [
        {
          name: 'loki',
          image: IMAGES.loki,
          args: [`-config.file=/etc/loki/${LOKI_CONFIG_FILE}`, '-config.expand-env=true', '-target=all'],
          env: [{ name: 'LOKI_RETENTION', value: c.retention }],
          resources: c.resources,
          volumeMounts: [
            { name: 'config', mountPath: '/etc/loki', readOnly: true },
            { name: 'data', mountPath: LOKI_DATA },
          ],
          writablePaths: [{ path: '/tmp' }],
          readinessProbe: {
            httpGet: { path: '/ready', port: k8s.IntOrString.fromString('http') },
            periodSeconds: 10,
            timeoutSeconds: 3,
            initialDelaySeconds: 15,
          },
          livenessProbe: {
            httpGet: { path: '/ready', port: k8s.IntOrString.fromString('http') },
            periodSeconds: 30,
            failureThreshold: 10,
            initialDelaySeconds: 60,
          },
        },
      ],
    },
  });
  return { service, url: `http://${host(ctx, 'loki')}:${LOKI_PORT}` };
}

export function alloy(ctx: ObservabilityContext, lokiUrl: string): DaemonSetService {
  const file = renderAlloyConfig(alloyConfig());
  const meta = (objectName: string) =>
    ctx.chart.metadata({ objectName, namespace: ctx.namespace, name: 'alloy', component: COMPONENTS.alloy, version: IMAGES.alloy.tag });
  const configMap = new k8s.KubeConfigMap(ctx.chart, 'alloy-config', { metadata: meta('alloy-config'), data: { [ALLOY_CONFIG_FILE]: file } });
  const fromPod = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const daemon = new DaemonSetService(ctx.chart, 'alloy', {
    name: 'alloy',
    component: COMPONENTS.alloy,
    namespace: ctx.namespace,
    version: IMAGES.alloy.tag,
    restartOn: [file],
    network: {
      ingress: [{ port: ALLOY_PORT, peers: [ctx.prometheus] }],
      egress: [{ port: LOKI_PORT, peers: [peerOf(ctx, 'loki')] }, ...toApiServer(ctx.apiServerCidrs)],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      // Alloy tails logs through the API server (pods/log), which needs no host access.
      kubernetesApiAccess: true,
      tolerations: [{ operator: 'Exists' }],
      volumes: [{ name: 'config', configMap: { name: configMap.name } }],
      containers: [
        {
          name: 'alloy',
          image: IMAGES.alloy,
          args: [
            'run',
            `/etc/alloy/${ALLOY_CONFIG_FILE}`,
            `--server.http.listen-addr=0.0.0.0:${ALLOY_PORT}`,
            '--storage.path=/var/lib/alloy',
            '--stability.level=generally-available',
          ],
          env: [
            fromPod(ALLOY_ENV.nodeName, 'spec.nodeName'),
            { name: ALLOY_ENV.namespaces, value: ctx.watchedNamespaces.join(',') },
            { name: ALLOY_ENV.cluster, value: ctx.instance },
            { name: ALLOY_ENV.lokiPushUrl, value: `${lokiUrl}/loki/api/v1/push` },
          ],
          resources: ctx.config.alloy.resources,
          ports: [{ name: 'metrics', containerPort: ALLOY_PORT }],
          volumeMounts: [{ name: 'config', mountPath: '/etc/alloy', readOnly: true }],
          writablePaths: [{ path: '/var/lib/alloy', sizeLimit: '256Mi' }, { path: '/tmp' }],
          readinessProbe: { httpGet: { path: '/-/ready', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { httpGet: { path: '/-/healthy', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 30, failureThreshold: 6 },
        },
      ],
    },
  });
  rolesIn(daemon, meta('alloy'), ctx.watchedNamespaces, { name: daemon.serviceAccountName, namespace: ctx.namespace }, [
    { apiGroups: [''], resources: ['pods'], verbs: READ },
    { apiGroups: [''], resources: ['pods/log'], verbs: ['get', 'list', 'watch'] },
  ]);
  return daemon;
}
