// Redis 7 as a StatefulSet. One instance in dev; with replicas (staging, production) a primary
// and replicas on separate nodes (and zones), a Sentinel beside each instance that promotes a
// replica when the primary is lost, and HAProxy pods (primary-proxy.ts) that give clients without
// Sentinel support one address that follows the primary. Generated redis.conf and sentinel
// configuration, the password from a Secret handed over by the start scripts, redis_exporter
// beside Redis and beside Sentinel, probes that tell "loading" from "dead", and a PDB.
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { RedisConfig } from '../../environments/data-tier';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { type Endpoint, peerOf, podHost, serviceHost } from '../../lib/endpoint';
import { projectFile } from '../../lib/files';
import { IMAGES } from '../../lib/images';
import { accessLabel, clientsOf, type Peer, type PortRule, workloadNetworkPolicy } from '../../lib/network';
import type { ContainerSpec } from '../../lib/pod';
import { provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { headlessServiceName, StatefulService } from '../../lib/stateful-set';
import { isReplicated, REDIS_DATA_DIR, REDIS_PORT, redisConf } from './config';
import { PrimaryProxy } from './primary-proxy';
import { PRIMARY_NAME, SENTINEL_PORT, sentinelConf, sentinelPrimaryConf, sentinelQuorum } from './sentinel-config';

const METRICS_PORT = 9121;
const SENTINEL_METRICS_PORT = 9355;
/** The ConfigMap's files, configuration and scripts alike (the scripts find each other beside themselves). */
const CONFIG_DIR = '/etc/redis';
const SENTINEL_STATE_DIR = '/var/lib/sentinel';
/** The scripts the pods run, from charts/redis/files. */
export const REDIS_SCRIPTS = ['start-redis.sh', 'stop-redis.sh', 'start-sentinel.sh', 'find-primary.sh'] as const;

export interface RedisChartProps extends ChartProps {
  /** Instances, resources, maxmemory, replication, Sentinel and proxy settings from the environment. */
  readonly config: RedisConfig;
  /** Size of each instance's data volume. */
  readonly dataVolumeSize: string;
  /** Prometheus, which scrapes the exporters and HAProxy. */
  readonly prometheus: Endpoint;
}

/** The Sentinels, for clients that ask them where the primary is (the product). */
export interface RedisSentinels {
  /** "host:port" of every Sentinel. */
  readonly addresses: readonly string[];
  /** The name they monitor the primary under. */
  readonly primaryName: string;
}

/**
 * Redis as its clients see it (the gateway and app charts): the primary's one address, and with
 * replicas the instances and Sentinels, for clients that follow failovers themselves.
 */
export interface RedisEndpoints extends Endpoint {
  /** The Redis instances ("host:port", the pods' stable names), their pods and client labels. */
  readonly instances: { readonly addresses: readonly string[]; readonly peer: Peer; readonly clientLabels: Record<string, string> };
  /** The Sentinels, with replicas; undefined for one instance. Reached with `instances.clientLabels`. */
  readonly sentinels?: RedisSentinels;
  /** The Sentinels' port. */
  readonly sentinelPort: number;
  /** The Secret with the password, key "redis-password". */
  readonly credentials: SecretSpec;
}

export class RedisChart extends PlatformChart implements RedisEndpoints {
  /** The primary's address: HAProxy in front of the set, or the one instance's Service. */
  public readonly serviceName: string;
  /** Fully qualified host name of the primary's address. */
  public readonly host: string;
  public readonly port = REDIS_PORT;
  /** The pods behind the primary's address, for a client's egress rule. */
  public readonly peer: Peer;
  /** Labels a client pod needs so the primary's address lets it in. */
  public readonly clientLabels = accessLabel('redis');
  /** The Redis instances themselves ("host:port", the pods' stable names), e.g. for a backup taken from a replica. */
  public readonly instances: { readonly addresses: readonly string[]; readonly peer: Peer; readonly clientLabels: Record<string, string> };
  /** The Sentinels, with replicas; undefined for one instance. Reached with `instances.clientLabels`. */
  public readonly sentinels?: RedisSentinels;
  public readonly sentinelPort = SENTINEL_PORT;
  /** The Secret with the password, key "redis-password" (clients, replication and Sentinels). */
  public readonly credentials: SecretSpec;
  /** Memory that holds the whole dataset (the container's limit; maxmemory is a share of it): what a job loading a snapshot needs. */
  public readonly datasetMemory: string;
  /** The StatefulSet: its pods are "<name>-<ordinal>", their claims "data-<name>-<ordinal>". */
  public readonly statefulSetName: string;

  constructor(scope: Construct, id: string, props: RedisChartProps) {
    super(scope, id, props);
    const { namespaces, priorityClasses, storage, secretSource } = this.platform;
    const ns = namespaces.supabase;
    const prometheus = props.prometheus.peer;
    const c = props.config;
    const version = IMAGES.redis.tag;
    const replicated = isReplicated(c);
    this.datasetMemory = c.resources.limits.memory;
    const meta = (objectName: string) => this.metadata({ objectName, namespace: ns, name: 'redis', component: 'cache', version });

    this.credentials = {
      name: 'redis-credentials',
      namespace: ns,
      description: 'Password of the Redis default user, of replication and of the Sentinels',
      keys: [{ key: 'redis-password', description: 'password clients AUTH with', generate: { kind: 'hex', bytes: 24 } }],
    };
    provideSecret(this, 'credentials', secretSource, this.credentials, meta(this.credentials.name));
    const password = secretKeyRef(this.credentials, 'redis-password');

    const conf = redisConf(c);
    const scripts = Object.fromEntries(REDIS_SCRIPTS.map((s) => [s, projectFile(`charts/redis/files/${s}`)]));
    const files: Record<string, string> = { 'redis.conf': conf, ...scripts, ...(replicated ? { 'sentinel.conf': sentinelConf(), 'sentinel-primary.conf': sentinelPrimaryConf(c) } : {}) };
    const config = new k8s.KubeConfigMap(this, 'config', { metadata: meta('redis-config'), data: files });

    // Stable names: "<pod>.<headless service>.<namespace>.svc.cluster.local".
    const name = 'redis';
    const stableHost = (pod: string) => podHost(pod, headlessServiceName(name), ns);
    const pods = Array.from({ length: c.replicas }, (_, i) => `${name}-${i}`);
    const instanceAddresses = pods.map((p) => `${stableHost(p)}:${REDIS_PORT}`);
    const sentinelAddresses = pods.map((p) => `${stableHost(p)}:${SENTINEL_PORT}`);
    this.statefulSetName = name;

    const topology: k8s.EnvVar[] = replicated
      ? [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'REDIS_PRIMARY_NAME', value: PRIMARY_NAME },
          { name: 'REDIS_HOSTS', value: instanceAddresses.join(' ') },
          { name: 'SENTINEL_HOSTS', value: sentinelAddresses.join(' ') },
        ]
      : [];
    const cli = (port: number) => ['redis-cli', '-h', '127.0.0.1', '-p', String(port), 'ping'];
    const pongProbe = (port: number): k8s.Probe => ({ exec: { command: ['sh', '-c', `test "$(${cli(port).join(' ')})" = PONG`] }, periodSeconds: 10, timeoutSeconds: 5 });
    const configMount = { name: 'config', mountPath: CONFIG_DIR, readOnly: true };
    const exporter = (containerName: string, port: number, portName: string, target: number): ContainerSpec => ({
      name: containerName,
      image: IMAGES.redisExporter,
      env: [
        { name: 'REDIS_ADDR', value: `redis://127.0.0.1:${target}` },
        { name: 'REDIS_PASSWORD', valueFrom: password },
        { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: `:${port}` },
      ],
      ports: [{ name: portName, containerPort: port }],
      resources: c.helperResources,
      readinessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromString(portName) }, periodSeconds: 15 },
      livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString(portName) }, periodSeconds: 30, failureThreshold: 3 },
    });

    const redis: ContainerSpec = {
      name: 'redis',
      image: IMAGES.redis,
      command: ['sh', `${CONFIG_DIR}/start-redis.sh`, `${CONFIG_DIR}/redis.conf`],
      env: [
        { name: 'REDIS_PASSWORD', valueFrom: password },
        // redis-cli in the probes authenticates with this.
        { name: 'REDISCLI_AUTH', valueFrom: password },
        ...topology,
        ...(replicated ? [{ name: 'REDIS_ANNOUNCE_HOST', value: stableHost('$(POD_NAME)') }, { name: 'REDIS_ANNOUNCE_PORT', value: String(REDIS_PORT) }] : []),
      ],
      ports: [{ name: 'redis', containerPort: REDIS_PORT }],
      resources: c.resources,
      volumeMounts: [{ name: 'data', mountPath: REDIS_DATA_DIR }, configMount],
      writablePaths: [{ path: '/tmp', sizeLimit: '16Mi' }],
      // Loading a large AOF can take minutes: allow 30 before liveness takes over.
      startupProbe: { exec: { command: cli(REDIS_PORT) }, periodSeconds: 10, failureThreshold: 180, timeoutSeconds: 5 },
      // Ready only when it answers PONG (not LOADING, not an error).
      readinessProbe: pongProbe(REDIS_PORT),
      // Alive while it accepts connections at all.
      livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('redis') }, periodSeconds: 20, failureThreshold: 6 },
      // A primary that is asked to stop hands over to a replica first (a switchover, not a failover).
      ...(replicated ? { lifecycle: { preStop: { exec: { command: ['sh', `${CONFIG_DIR}/stop-redis.sh`, String(REDIS_PORT)] } } } } : {}),
    };
    const sentinel: ContainerSpec = {
      name: 'sentinel',
      image: IMAGES.redis,
      command: ['sh', `${CONFIG_DIR}/start-sentinel.sh`, CONFIG_DIR],
      env: [
        { name: 'REDIS_PASSWORD', valueFrom: password },
        { name: 'REDISCLI_AUTH', valueFrom: password },
        ...topology,
        { name: 'REDIS_BOOTSTRAP_PRIMARY', value: instanceAddresses[0] ?? '' },
        { name: 'SENTINEL_QUORUM', value: String(sentinelQuorum(c)) },
        { name: 'SENTINEL_STATE_DIR', value: SENTINEL_STATE_DIR },
        { name: 'SENTINEL_ANNOUNCE_HOST', value: stableHost('$(POD_NAME)') },
        { name: 'SENTINEL_ANNOUNCE_PORT', value: String(SENTINEL_PORT) },
      ],
      ports: [{ name: 'sentinel', containerPort: SENTINEL_PORT }],
      resources: c.sentinel.resources,
      volumeMounts: [configMount],
      // What this Sentinel learned survives a container restart, not a new pod (which asks the others).
      writablePaths: [{ path: SENTINEL_STATE_DIR, sizeLimit: '16Mi' }],
      readinessProbe: pongProbe(SENTINEL_PORT),
      livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('sentinel') }, periodSeconds: 20, failureThreshold: 6 },
    };

    const service = new StatefulService(this, 'redis', {
      name,
      component: 'cache',
      namespace: ns,
      version,
      replicas: c.replicas,
      disruption: c.disruption,
      spread: c.zoneSpread ? 'zones' : 'nodes',
      // With replicas, only the primary takes writes: clients use HAProxy or the Sentinels.
      clientService: !replicated,
      ports: [{ name: 'redis', port: REDIS_PORT }, ...(replicated ? [{ name: 'sentinel', port: SENTINEL_PORT }] : []), { name: 'metrics', port: METRICS_PORT }],
      claims: [{ name: 'data', size: props.dataVolumeSize, storageClassName: storage.className }],
      restartOn: Object.values(files),
      pod: {
        priorityClassName: priorityClasses.data,
        // The handover (at most 20 s), then the final fsync and RDB save on SIGTERM (and a primary's wait for its replicas).
        terminationGracePeriodSeconds: 60,
        volumes: [{ name: 'config', configMap: { name: config.name } }],
        containers: [
          redis,
          exporter('exporter', METRICS_PORT, 'metrics', REDIS_PORT),
          // Port name: Prometheus scrapes ports named metrics or metrics-<something> (15 characters at most).
          ...(replicated ? [sentinel, exporter('sentinel-exporter', SENTINEL_METRICS_PORT, 'metrics-sntl', SENTINEL_PORT)] : []),
        ],
      },
    });
    const self = peerOf({ namespace: ns, instance: this.instance, name, component: 'cache' });
    this.instances = { addresses: instanceAddresses, peer: self, clientLabels: accessLabel('redis-instances') };
    if (replicated) this.sentinels = { addresses: sentinelAddresses, primaryName: PRIMARY_NAME };

    let primaryClients: Peer = clientsOf('redis', this.instance);
    if (replicated) {
      const proxy = new PrimaryProxy(this, 'primary-proxy', {
        instance: this.instance,
        namespace: ns,
        prometheus,
        priorityClassName: priorityClasses.data,
        config: c.proxy,
        servers: pods.map((pod) => ({ name: pod, host: stableHost(pod), port: REDIS_PORT })),
        password,
        redis: { port: REDIS_PORT, peer: self },
        clients: clientsOf('redis', this.instance),
      });
      this.serviceName = proxy.serviceName;
      this.peer = proxy.peer;
      primaryClients = proxy.peer;
    } else {
      this.serviceName = service.serviceName;
      this.peer = self;
    }
    this.host = serviceHost(this.serviceName, ns);

    const instanceClients = clientsOf('redis-instances', this.instance);
    const ingress: PortRule[] = [
      // The primary's address: the proxy pods, or with one instance the clients themselves.
      { port: REDIS_PORT, peers: [primaryClients, instanceClients, ...(replicated ? [self] : [])] },
      { port: METRICS_PORT, peers: [prometheus] },
      ...(replicated
        ? [
            // Sentinels talk to each other and to every instance; Sentinel-aware clients ask them.
            { port: SENTINEL_PORT, peers: [self, instanceClients] },
            { port: SENTINEL_METRICS_PORT, peers: [prometheus] },
          ]
        : []),
    ];
    workloadNetworkPolicy(service, meta(name), {
      selector: service.selector,
      ingress,
      // Replication (a replica connects to the primary) and Sentinel: instances and Sentinels of the set.
      egress: replicated ? [{ port: REDIS_PORT, peers: [self] }, { port: SENTINEL_PORT, peers: [self] }] : [],
    });
  }
}
