// The primary's address for clients that do not speak Sentinel (Kong's rate limiting): HAProxy
// pods that health-check every Redis instance for "role:master" each second and send connections
// only there (haproxy-config.ts). Two pods by default, spread over nodes; they hold no state, so
// losing one loses only its connections.
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { RedisConfig } from '../../environments/data-tier';
import type { PlatformChart } from '../../lib/chart';
import { peerOf } from '../../lib/endpoint';
import { IMAGES } from '../../lib/images';
import type { Peer } from '../../lib/network';
import { StatelessService } from '../../lib/stateless-service';
import { haproxyConfig, PROXY_HEALTH_PATH, PROXY_METRICS_PORT, PROXY_PORT, type ProxyServer } from './haproxy-config';

const CONFIG_DIR = '/usr/local/etc/haproxy';
export const PROXY_NAME = 'redis-primary';
const COMPONENT = 'cache-proxy';

export interface PrimaryProxyProps {
  readonly instance: string;
  readonly namespace: string;
  /** Prometheus's pods, which scrape HAProxy's metrics. */
  readonly prometheus: Peer;
  /** PriorityClass: it is on the data path like Redis itself. */
  readonly priorityClassName: string;
  /** Pods and resources from the environment (`components.redis.proxy`). */
  readonly config: RedisConfig['proxy'];
  /** The Redis instances, by stable pod name. */
  readonly servers: readonly ProxyServer[];
  /** The Redis password, for the health check's AUTH. */
  readonly password: k8s.EnvVarSource;
  /** The instances' port and pods, for the egress rule. */
  readonly redis: { readonly port: number; readonly peer: Peer };
  /** Who may connect. */
  readonly clients: Peer;
}

export class PrimaryProxy extends Construct {
  public readonly serviceName: string;
  /** The HAProxy pods, for a client's egress rule and Redis's ingress rule. */
  public readonly peer: Peer;

  constructor(chart: PlatformChart, id: string, props: PrimaryProxyProps) {
    super(chart, id);
    const version = IMAGES.haproxy.tag;
    const cfg = haproxyConfig({ servers: props.servers });
    const config = new k8s.KubeConfigMap(this, 'config', {
      metadata: chart.metadata({ objectName: `${PROXY_NAME}-config`, namespace: props.namespace, name: PROXY_NAME, component: COMPONENT, version }),
      data: { 'haproxy.cfg': cfg },
    });
    const service = new StatelessService(chart, 'primary-proxy-service', {
      name: PROXY_NAME,
      component: COMPONENT,
      namespace: props.namespace,
      version,
      config: { replicas: props.config.replicas },
      ports: [
        { name: 'redis', port: PROXY_PORT },
        { name: 'metrics', port: PROXY_METRICS_PORT },
      ],
      restartOn: [cfg],
      network: {
        ingress: [
          { port: PROXY_PORT, peers: [props.clients] },
          { port: PROXY_METRICS_PORT, peers: [props.prometheus] },
        ],
        egress: [{ port: props.redis.port, peers: [props.redis.peer] }],
      },
      pod: {
        priorityClassName: props.priorityClassName,
        volumes: [{ name: 'config', configMap: { name: config.name } }],
        containers: [
          {
            name: 'haproxy',
            image: IMAGES.haproxy,
            // -W master-worker (reloads), -db stay in the foreground and log to stdout.
            command: ['haproxy', '-W', '-db', '-f', `${CONFIG_DIR}/haproxy.cfg`],
            env: [{ name: 'REDIS_PASSWORD', valueFrom: props.password }],
            resources: props.config.resources,
            volumeMounts: [{ name: 'config', mountPath: CONFIG_DIR, readOnly: true }],
            readinessProbe: { httpGet: { path: PROXY_HEALTH_PATH, port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 5 },
            livenessProbe: { httpGet: { path: PROXY_HEALTH_PATH, port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 20, failureThreshold: 3 },
          },
        ],
      },
    });
    this.serviceName = service.serviceName;
    this.peer = peerOf({ namespace: props.namespace, instance: props.instance, name: PROXY_NAME, component: COMPONENT });
  }
}
