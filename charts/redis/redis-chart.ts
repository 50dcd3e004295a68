// Redis 7 as a single-instance StatefulSet: generated redis.conf, the password from a Secret
// handed over by start-redis.sh, redis_exporter beside it, probes that tell "loading" from
// "dead", and a PDB. Clients (Kong rate limiting, the worker) use the outputs.
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { RedisConfig } from '../../environments/data-tier';
import type { Environment } from '../../environments/schema';
import { PlatformChart } from '../../lib/chart';
import { projectFile } from '../../lib/files';
import { IMAGES } from '../../lib/images';
import { accessLabel, clientsOf, prometheusPeer, workloadNetworkPolicy } from '../../lib/network';
import { provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { StatefulService } from '../../lib/stateful-set';
import { REDIS_DATA_DIR, REDIS_PORT, redisConf } from './config';

const METRICS_PORT = 9121;
const CONFIG_DIR = '/etc/redis';
const SCRIPTS_DIR = '/opt/redis-scripts';

export interface RedisChartProps {
  /** Environment name; the instance label. */
  readonly instance: string;
  /** Namespace of the data tier. */
  readonly namespace: string;
  /** Namespace whose Prometheus may scrape the exporter. */
  readonly observabilityNamespace: string;
  /** PriorityClass for data workloads (foundation). */
  readonly priorityClassName: string;
  /** Replicas, resources, maxmemory share and policy from the environment. */
  readonly config: RedisConfig;
  readonly storageClassName: string;
  readonly dataVolumeSize: string;
  /** Where the password Secret comes from. */
  readonly secrets: Environment['secrets'];
}

export class RedisChart extends PlatformChart {
  public readonly serviceName: string;
  /** Fully qualified host name of the Service. */
  public readonly host: string;
  public readonly port = REDIS_PORT;
  /** The Secret with the password, key "redis-password". */
  public readonly credentials: SecretSpec;
  /** Labels a client pod needs so Redis's NetworkPolicy lets it in. */
  public readonly clientLabels = accessLabel('redis');
  /** Memory that holds the whole dataset (the container's limit; maxmemory is a share of it): what a job loading a snapshot needs. */
  public readonly datasetMemory: string;

  constructor(scope: Construct, id: string, props: RedisChartProps) {
    super(scope, id, { layer: 'data', instance: props.instance });
    const ns = props.namespace;
    const version = IMAGES.redis.tag;
    this.datasetMemory = props.config.resources.limits.memory;
    const meta = (objectName: string) => this.metadata({ objectName, namespace: ns, name: 'redis', component: 'cache', version });

    this.credentials = {
      name: 'redis-credentials',
      namespace: ns,
      description: 'Password of the Redis default user',
      keys: [{ key: 'redis-password', description: 'password clients AUTH with', generate: { kind: 'hex', bytes: 24 } }],
    };
    provideSecret(this, 'credentials', props.secrets, this.credentials, meta(this.credentials.name));
    const password = secretKeyRef(this.credentials, 'redis-password');

    const conf = redisConf(props.config);
    const startScript = projectFile('charts/redis/files/start-redis.sh');
    const config = new k8s.KubeConfigMap(this, 'config', {
      metadata: meta('redis-config'),
      data: { 'redis.conf': conf, 'start-redis.sh': startScript },
    });

    const ping = ['redis-cli', '-h', '127.0.0.1', '-p', String(REDIS_PORT), 'ping'];
    const service = new StatefulService(this, 'redis', {
      name: 'redis',
      component: 'cache',
      namespace: ns,
      version,
      replicas: props.config.replicas,
      disruption: props.config.disruption,
      ports: [
        { name: 'redis', port: REDIS_PORT },
        { name: 'metrics', port: METRICS_PORT },
      ],
      claims: [{ name: 'data', size: props.dataVolumeSize, storageClassName: props.storageClassName }],
      restartOn: [conf, startScript],
      pod: {
        priorityClassName: props.priorityClassName,
        // Time for the final fsync and RDB save on SIGTERM.
        terminationGracePeriodSeconds: 60,
        volumes: [{ name: 'config', configMap: { name: config.name, items: [{ key: 'redis.conf', path: 'redis.conf' }] } }, { name: 'scripts', configMap: { name: config.name, items: [{ key: 'start-redis.sh', path: 'start-redis.sh' }] } }],
        containers: [
          {
            name: 'redis',
            image: IMAGES.redis,
            command: ['sh', `${SCRIPTS_DIR}/start-redis.sh`, `${CONFIG_DIR}/redis.conf`],
            env: [
              { name: 'REDIS_PASSWORD', valueFrom: password },
              // redis-cli in the probes authenticates with this.
              { name: 'REDISCLI_AUTH', valueFrom: password },
            ],
            ports: [{ name: 'redis', containerPort: REDIS_PORT }],
            resources: props.config.resources,
            volumeMounts: [
              { name: 'data', mountPath: REDIS_DATA_DIR },
              { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
              { name: 'scripts', mountPath: SCRIPTS_DIR, readOnly: true },
            ],
            writablePaths: [{ path: '/tmp', sizeLimit: '16Mi' }],
            // Loading a large AOF can take minutes: allow 30 before liveness takes over.
            startupProbe: { exec: { command: ping }, periodSeconds: 10, failureThreshold: 180, timeoutSeconds: 5 },
            // Ready only when it answers PONG (not LOADING, not an error).
            readinessProbe: { exec: { command: ['sh', '-c', `test "$(${ping.join(' ')})" = PONG`] }, periodSeconds: 10, timeoutSeconds: 5 },
            // Alive while it accepts connections at all.
            livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('redis') }, periodSeconds: 20, failureThreshold: 6 },
          },
          {
            name: 'exporter',
            image: IMAGES.redisExporter,
            env: [
              { name: 'REDIS_ADDR', value: `redis://127.0.0.1:${REDIS_PORT}` },
              { name: 'REDIS_PASSWORD', valueFrom: password },
              { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: `:${METRICS_PORT}` },
            ],
            ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
            resources: props.config.helperResources,
            readinessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 15 },
            livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 30, failureThreshold: 3 },
          },
        ],
      },
    });
    this.serviceName = service.serviceName;
    this.host = `${service.serviceName}.${ns}.svc.cluster.local`;

    workloadNetworkPolicy(service, meta('redis'), {
      selector: service.selector,
      ingress: [
        { port: REDIS_PORT, peers: [clientsOf('redis', props.instance)] },
        { port: METRICS_PORT, peers: [prometheusPeer(props.observabilityNamespace)] },
      ],
      egress: [],
    });
  }
}
