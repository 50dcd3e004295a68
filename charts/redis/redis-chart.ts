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
import { IMAGES } from '../../lib/images';
import { accessLabel, clientsOf, type Peer, type PortRule } from '../../lib/network';
import { provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { headlessServiceName, StatefulService } from '../../lib/stateful-set';
import { isReplicated, REDIS_PORT, redisCredentials, redisFiles } from './config';
import { METRICS_PORT, redisContainers, SENTINEL_METRICS_PORT } from './containers';
import { PrimaryProxy } from './primary-proxy';
import { PRIMARY_NAME, SENTINEL_PORT } from './sentinel-config';

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

/**
 * Redis as the backup and restore charts see it: the clients' view plus the StatefulSet (its pods
 * and claims) and the memory a job loading a snapshot needs.
 */
export interface RedisStore extends RedisEndpoints {
  readonly statefulSetName: string;
  readonly datasetMemory: string;
}

export class RedisChart extends PlatformChart implements RedisStore {
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

    this.credentials = redisCredentials(ns);
    provideSecret(this, 'credentials', secretSource, this.credentials, meta(this.credentials.name));
    const password = secretKeyRef(this.credentials, 'redis-password');

    const files = redisFiles(c);
    const config = new k8s.KubeConfigMap(this, 'config', { metadata: meta('redis-config'), data: files });

    // Stable names: "<pod>.<headless service>.<namespace>.svc.cluster.local".
    const name = 'redis';
    const stableHost = (pod: string) => podHost(pod, headlessServiceName(name), ns);
    const pods = Array.from({ length: c.replicas }, (_, i) => `${name}-${i}`);
    const instanceAddresses = pods.map((p) => `${stableHost(p)}:${REDIS_PORT}`);
    const sentinelAddresses = pods.map((p) => `${stableHost(p)}:${SENTINEL_PORT}`);
    this.statefulSetName = name;

    const self = peerOf({ namespace: ns, instance: this.instance, name, component: 'cache' });
    this.instances = { addresses: instanceAddresses, peer: self, clientLabels: accessLabel('redis-instances') };
    if (replicated) this.sentinels = { addresses: sentinelAddresses, primaryName: PRIMARY_NAME };

    // Built first: the instances' NetworkPolicy admits the proxy's pods.
    const proxy = replicated
      ? new PrimaryProxy(this, 'primary-proxy', {
          instance: this.instance,
          namespace: ns,
          prometheus,
          priorityClassName: priorityClasses.data,
          config: c.proxy,
          servers: pods.map((pod) => ({ name: pod, host: stableHost(pod), port: REDIS_PORT })),
          password,
          redis: { port: REDIS_PORT, peer: self },
          clients: clientsOf('redis', this.instance),
        })
      : undefined;
    const primaryClients: Peer = proxy?.peer ?? clientsOf('redis', this.instance);
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
      ports: [
        { name: 'redis', port: REDIS_PORT },
        ...(replicated ? [{ name: 'sentinel', port: SENTINEL_PORT, container: 'sentinel' }] : []),
        { name: 'metrics', port: METRICS_PORT, container: 'exporter' },
      ],
      claims: [{ name: 'data', size: props.dataVolumeSize, storageClassName: storage.className }],
      restartOn: Object.values(files),
      network: {
        ingress,
        // Replication (a replica connects to the primary) and Sentinel: instances and Sentinels of the set.
        egress: replicated
          ? [
              { port: REDIS_PORT, peers: [self] },
              { port: SENTINEL_PORT, peers: [self] },
            ]
          : [],
      },
      pod: {
        priorityClassName: priorityClasses.data,
        // The handover (at most 20 s), then the final fsync and RDB save on SIGTERM (and a primary's wait for its replicas).
        terminationGracePeriodSeconds: 60,
        volumes: [{ name: 'config', configMap: { name: config.name } }],
        containers: redisContainers({ config: c, password, instanceAddresses, sentinelAddresses, announceHost: stableHost('$(POD_NAME)') }),
      },
    });
    this.serviceName = proxy?.serviceName ?? service.serviceName;
    this.peer = proxy?.peer ?? self;
    this.host = serviceHost(this.serviceName, ns);
  }
}
