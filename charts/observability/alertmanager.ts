// Alertmanager as a StatefulSet: with more than one replica the pods gossip on 9094 and send each
// notification once. Routing and receivers come from alertmanager-config.ts; every credential is
// a file from the alertmanager-receivers Secret.
import { k8s } from 'cdk8s-plus-33';
import { stringify } from 'yaml';
import { podHost } from '../../lib/endpoint';
import { IMAGES } from '../../lib/images';
import { INTERNET, type PortRule } from '../../lib/network';
import { provideSecret, type SecretSpec } from '../../lib/secrets';
import { headlessServiceName, StatefulService } from '../../lib/stateful-set';
import type { Environment } from '../../environments/schema';
import { alertmanagerConfig, RECEIVER_SECRET_KEYS } from './alertmanager-config';
import { COMPONENTS, type ObservabilityContext, host, peerOf } from './context';
import { METRICS_PORT_ANNOTATION } from './prometheus-config';

export const ALERTMANAGER_PORT = 9093;
const CLUSTER_PORT = 9094;
const SECRETS_DIR = '/etc/alertmanager/secrets';

export function alertmanager(ctx: ObservabilityContext, secretSource: Environment['secrets']): { service: StatefulService; targets: string[]; config: string } {
  const c = ctx.config.alertmanager;
  const meta = (objectName: string) =>
    ctx.chart.metadata({ objectName, namespace: ctx.namespace, name: 'alertmanager', component: COMPONENTS.alertmanager, version: IMAGES.alertmanager.tag });
  const receivers = c.receivers;
  const secret: SecretSpec | undefined = receivers && {
    name: 'alertmanager-receivers',
    namespace: ctx.namespace,
    description: 'Credentials of the alert receivers',
    keys: [
      {
        key: RECEIVER_SECRET_KEYS.slack,
        description: 'Slack incoming-webhook URL',
        generate: { kind: 'provided', hint: 'the Slack app of the alert channels' },
      },
      { key: RECEIVER_SECRET_KEYS.smtp, description: 'password of the mail relay', generate: { kind: 'provided', hint: 'the mail provider' } },
      ...(receivers.pagerduty
        ? [
            {
              key: RECEIVER_SECRET_KEYS.pagerduty,
              description: 'PagerDuty Events v2 routing key',
              generate: { kind: 'provided' as const, hint: 'the PagerDuty service of the platform' },
            },
          ]
        : []),
    ],
  };
  if (secret) provideSecret(ctx.chart, 'alertmanager-receivers', secretSource, secret, meta(secret.name));

  const config = stringify(alertmanagerConfig(receivers, SECRETS_DIR), { lineWidth: 0 });
  const configMap = new k8s.KubeConfigMap(ctx.chart, 'alertmanager-config', { metadata: meta('alertmanager-config'), data: { 'alertmanager.yml': config } });
  const pods = Array.from({ length: c.replicas }, (_, i) => podHost(`alertmanager-${i}`, headlessServiceName('alertmanager'), ctx.namespace));
  const clustered = c.replicas > 1;

  const self = peerOf(ctx, 'alertmanager');
  // Slack and PagerDuty over HTTPS, mail to the relay; nothing without receivers.
  const notify: PortRule[] = receivers
    ? [
        { port: 443, peers: [INTERNET] },
        { port: Number(receivers.email.smarthost.split(':')[1]), peers: [INTERNET] },
      ]
    : [];
  const gossip: PortRule[] = clustered ? (['TCP', 'UDP'] as const).map((protocol) => ({ port: CLUSTER_PORT, protocol, peers: [self] })) : [];

  const service = new StatefulService(ctx.chart, 'alertmanager', {
    name: 'alertmanager',
    component: COMPONENTS.alertmanager,
    namespace: ctx.namespace,
    version: IMAGES.alertmanager.tag,
    replicas: c.replicas,
    claims: [{ name: 'data', size: c.volumeSize, storageClassName: ctx.storageClassName }],
    ports: [{ name: 'http', port: ALERTMANAGER_PORT }, ...(clustered ? [{ name: 'cluster', port: CLUSTER_PORT }] : [])],
    podAnnotations: { [METRICS_PORT_ANNOTATION]: String(ALERTMANAGER_PORT) },
    restartOn: [config],
    network: {
      ingress: [{ port: ALERTMANAGER_PORT, peers: [ctx.prometheus, peerOf(ctx, 'grafana')] }, ...gossip],
      egress: [...gossip, ...notify],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      volumes: [{ name: 'config', configMap: { name: configMap.name } }, ...(secret ? [{ name: 'secrets', secret: { secretName: secret.name } }] : [])],
      containers: [
        {
          name: 'alertmanager',
          image: IMAGES.alertmanager,
          args: [
            '--config.file=/etc/alertmanager/alertmanager.yml',
            '--storage.path=/alertmanager',
            `--web.listen-address=:${ALERTMANAGER_PORT}`,
            `--web.external-url=http://${host(ctx, 'alertmanager')}:${ALERTMANAGER_PORT}`,
            // One pod: no gossip. Several: each knows every peer by its stable DNS name.
            ...(clustered
              ? [`--cluster.listen-address=:${CLUSTER_PORT}`, ...pods.map((p) => `--cluster.peer=${p}:${CLUSTER_PORT}`)]
              : ['--cluster.listen-address=']),
          ],
          resources: c.resources,
          // Gossip runs over TCP and UDP on the same port.
          // Gossip runs over UDP too, which the Service's port (TCP) does not cover.
          ports: clustered ? [{ name: 'cluster-udp', containerPort: CLUSTER_PORT, protocol: 'UDP' }] : [],
          volumeMounts: [
            { name: 'config', mountPath: '/etc/alertmanager', readOnly: true },
            ...(secret ? [{ name: 'secrets', mountPath: SECRETS_DIR, readOnly: true }] : []),
            { name: 'data', mountPath: '/alertmanager' },
          ],
          readinessProbe: { httpGet: { path: '/-/ready', port: k8s.IntOrString.fromString('http') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { httpGet: { path: '/-/healthy', port: k8s.IntOrString.fromString('http') }, periodSeconds: 30, failureThreshold: 6 },
        },
      ],
    },
  });
  return { service, targets: pods.map((p) => `${p}:${ALERTMANAGER_PORT}`), config };
}
