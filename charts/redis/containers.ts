// The containers of every Redis pod: Redis itself, with replicas a Sentinel beside it, and a
// redis_exporter beside each. The start scripts (charts/redis/files) read the topology from the
// environment: every instance's and Sentinel's stable address, and the pod's own.
import { k8s } from 'cdk8s-plus-33';
import type { RedisConfig } from '../../environments/data-tier';
import { IMAGES } from '../../lib/images';
import type { ContainerSpec } from '../../lib/pod';
import { isReplicated, REDIS_DATA_DIR, REDIS_PORT } from './config';
import { PRIMARY_NAME, SENTINEL_PORT, sentinelQuorum } from './sentinel-config';

/** redis_exporter's port beside Redis. */
export const METRICS_PORT = 9121;
/** redis_exporter's port beside Sentinel. */
export const SENTINEL_METRICS_PORT = 9355;
/** The ConfigMap's files, configuration and scripts alike (the scripts find each other beside themselves). */
const CONFIG_DIR = '/etc/redis';
const SENTINEL_STATE_DIR = '/var/lib/sentinel';

export interface RedisContainersProps {
  /** Instances, resources and Sentinel settings from the environment. */
  readonly config: RedisConfig;
  /** The password, from the credentials Secret. */
  readonly password: k8s.EnvVarSource;
  /** "host:port" of every instance, by the pods' stable names. */
  readonly instanceAddresses: readonly string[];
  /** "host:port" of every Sentinel, by the pods' stable names. */
  readonly sentinelAddresses: readonly string[];
  /** The pod's own stable name, with $(POD_NAME) standing for the pod's name. */
  readonly announceHost: string;
}

/** Redis and its exporter; with replicas also Sentinel and its exporter. */
export function redisContainers(props: RedisContainersProps): ContainerSpec[] {
  const { config: c, password, instanceAddresses, sentinelAddresses } = props;
  const replicated = isReplicated(c);
  const topology: k8s.EnvVar[] = replicated
    ? [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'REDIS_PRIMARY_NAME', value: PRIMARY_NAME },
        { name: 'REDIS_HOSTS', value: instanceAddresses.join(' ') },
        { name: 'SENTINEL_HOSTS', value: sentinelAddresses.join(' ') },
      ]
    : [];
  const cli = (port: number) => ['redis-cli', '-h', '127.0.0.1', '-p', String(port), 'ping'];
  const pongProbe = (port: number): k8s.Probe => ({
    exec: { command: ['sh', '-c', `test "$(${cli(port).join(' ')})" = PONG`] },
    periodSeconds: 10,
    timeoutSeconds: 5,
  });
  const configMount = { name: 'config', mountPath: CONFIG_DIR, readOnly: true };
  const exporter = (containerName: string, port: number, portName: string, target: number): ContainerSpec => ({
    name: containerName,
    image: IMAGES.redisExporter,
    env: [
      { name: 'REDIS_ADDR', value: `redis://127.0.0.1:${target}` },
      { name: 'REDIS_PASSWORD', valueFrom: password },
      { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: `:${port}` },
    ],
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
      ...(replicated
        ? [
            { name: 'REDIS_ANNOUNCE_HOST', value: props.announceHost },
            { name: 'REDIS_ANNOUNCE_PORT', value: String(REDIS_PORT) },
          ]
        : []),
    ],
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
      { name: 'SENTINEL_ANNOUNCE_HOST', value: props.announceHost },
      { name: 'SENTINEL_ANNOUNCE_PORT', value: String(SENTINEL_PORT) },
    ],
    resources: c.sentinel.resources,
    volumeMounts: [configMount],
    // What this Sentinel learned survives a container restart, not a new pod (which asks the others).
    writablePaths: [{ path: SENTINEL_STATE_DIR, sizeLimit: '16Mi' }],
    readinessProbe: pongProbe(SENTINEL_PORT),
    livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('sentinel') }, periodSeconds: 20, failureThreshold: 6 },
  };

  return [
    redis,
    exporter('exporter', METRICS_PORT, 'metrics', REDIS_PORT),
    // Port name: Prometheus scrapes ports named metrics or metrics-<something> (15 characters at most).
    // No Service exposes the Sentinels' metrics: Prometheus scrapes the pods' port of that name.
    ...(replicated
      ? [
          sentinel,
          {
            ...exporter('sentinel-exporter', SENTINEL_METRICS_PORT, 'metrics-sntl', SENTINEL_PORT),
            ports: [{ name: 'metrics-sntl', containerPort: SENTINEL_METRICS_PORT }],
          },
        ]
      : []),
  ];
}
