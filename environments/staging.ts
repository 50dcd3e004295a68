// staging: production's shape at a smaller size, on its own cluster. Secrets come from the
// secret manager through External Secrets.
import { namespace, PLATFORM_REPOSITORY, resources, service } from './defaults';
import stagingReleases from './releases/staging.json';
import type { EnvironmentInput } from './schema';

export const staging = {
  name: 'staging',
  namespacePrefix: '',
  // Placeholder under the reserved example.com domain: set the real public name before deploying.
  domain: 'staging.defi.example.com',
  storage: {
    className: 'gp3',
    snapshotClassName: 'ebs-csi-snapclass',
    sizes: { postgres: '50Gi', redis: '5Gi' },
  },
  nodes: 6,
  secrets: {
    source: 'external-secrets',
    storeKind: 'ClusterSecretStore',
    storeName: 'platform-secrets',
    keyPrefix: 'staging',
    refreshInterval: '1h',
  },
  namespaces: {
    supabase: namespace({
      requests: { cpu: '12', memory: '24Gi', storage: '400Gi' },
      limits: { cpu: '60', memory: '44Gi' },
      pods: 80,
      persistentVolumeClaims: 20,
      loadBalancers: 1,
    }),
    // The product at its largest plus one load-test pod (loadtest.resources).
    app: namespace({
      requests: { cpu: '5', memory: '10Gi', storage: '0' },
      limits: { cpu: '20', memory: '22Gi' },
      pods: 60,
      persistentVolumeClaims: 0,
      loadBalancers: 0,
    }),
    observability: namespace({
      requests: { cpu: '4', memory: '12Gi', storage: '300Gi' },
      limits: { cpu: '12', memory: '24Gi' },
      pods: 40,
      persistentVolumeClaims: 12,
      loadBalancers: 0,
    }),
    'node-exporter': namespace({
      requests: { cpu: '500m', memory: '512Mi', storage: '0' },
      limits: { cpu: '2', memory: '1Gi' },
      pods: 12,
      persistentVolumeClaims: 0,
      loadBalancers: 0,
    }),
  },
  supabase: {
    siteUrl: 'https://app.staging.defi.example.com',
    smtp: { host: 'smtp.example.com', port: 587, adminEmail: 'ops@example.com', senderName: 'DeFi staging' },
    storageBackend: { kind: 's3', bucket: 'defi-staging-storage', region: 'eu-central-1' },
    // Database pools, sized so every pool at its largest fits in max_connections (docs/capacity.md).
    restDbPool: 4,
    authDbPool: 3,
    storageDbPool: 3,
    realtimeDbPool: 3,
    studioEnabled: true,
    auth: service(2, ['100m', '128Mi'], ['1', '256Mi'], 4),
    rest: service(2, ['250m', '256Mi'], ['1', '512Mi'], 6),
    realtime: service(2, ['250m', '512Mi'], ['1', '1Gi'], 4),
    storage: service(2, ['100m', '256Mi'], ['1', '1Gi'], 4),
    imgproxy: { requests: { cpu: '100m', memory: '256Mi', ephemeralStorage: '64Mi' }, limits: { cpu: '1', memory: '1Gi', ephemeralStorage: '512Mi' } },
    meta: service(1, ['50m', '128Mi'], ['500m', '256Mi']),
    studio: service(1, ['100m', '256Mi'], ['1', '1Gi']),
  },
  gateway: {
    kong: service(2, ['250m', '512Mi'], ['1', '1Gi'], 4),
    // The load balancer's addresses: set to the VPC's CIDR.
    // A layer-4 load balancer keeps the client's address (externalTrafficPolicy Local); Kong trusts no header.
    clientAddress: { mode: 'direct' },
    adminCidrs: ['10.8.0.0/16'],
    // The product's web app (supabase.siteUrl): staging, like production, names its origins.
    corsOrigins: ['https://app.staging.defi.example.com'],
    tls: {
      issuer: 'letsencrypt-staging',
      email: 'ops@example.com',
      dns01: { provider: 'cloudflare', apiTokenSecret: { name: 'cloudflare-api-token', key: 'api-token' } },
    },
  },
  app: {
    api: service(10, ['100m', '192Mi'], ['500m', '512Mi'], 20),
    worker: service(2, ['100m', '256Mi'], ['500m', '512Mi'], 4),
    scheduler: {
      resources: { requests: { cpu: '100m', memory: '128Mi', ephemeralStorage: '64Mi' }, limits: { cpu: '500m', memory: '256Mi', ephemeralStorage: '256Mi' } },
    },
    // The platform repository's release workflow, called at a release tag (@vX.Y.Z), signs every product image (keyless).
    signing: { repository: PLATFORM_REPOSITORY },
    releases: stagingReleases,
    canary: {
      steps: [
        { weight: 10, pause: '5m' },
        { weight: 50, pause: '10m' },
      ],
      analysis: { maxErrorRatio: 0.01, maxP95Seconds: 0.5 },
    },
    // Placeholder: a testnet RPC provider.
    rpcEndpoints: ['https://rpc.testnet.example.com'],
  },
  observability: {
    prometheus: { retention: '15d', volumeSize: '100Gi', resources: resources(['1', '4Gi'], ['2', '8Gi']) },
    alertmanager: {
      replicas: 2,
      volumeSize: '2Gi',
      resources: resources(['50m', '128Mi'], ['250m', '256Mi']),
      receivers: {
        slackChannel: '#platform-staging',
        email: { to: 'ops@example.com', from: 'alertmanager@example.com', smarthost: 'smtp.example.com:587', username: 'alertmanager' },
        watchdogEmail: 'watchdog@example.com',
        pagerduty: false,
      },
    },
    grafana: { volumeSize: '5Gi', resources: resources(['100m', '256Mi'], ['1', '512Mi']) },
    loki: { retention: '7d', volumeSize: '100Gi', resources: resources(['500m', '1Gi'], ['2', '2Gi']) },
    tempo: { retention: '72h', volumeSize: '50Gi', resources: resources(['250m', '512Mi'], ['1', '1Gi']) },
    alloy: { resources: resources(['100m', '256Mi'], ['500m', '512Mi']) },
    otelCollector: { replicas: 2, resources: resources(['100m', '256Mi'], ['500m', '512Mi']) },
    kubeStateMetrics: { resources: resources(['100m', '256Mi'], ['500m', '512Mi']) },
    nodeExporter: { resources: resources(['50m', '64Mi'], ['250m', '128Mi']) },
    // Looser than production (smaller pods, load tests that push past capacity); windows fit in
    // Prometheus's 15 days. A fast burn pages like staging's other critical alerts (by mail).
    slos: {
      apiAvailability: { objective: 99.5, window: '14d' },
      apiLatency: { objective: 95, thresholdMs: 700, window: '14d' },
      authAvailability: { objective: 99.5, window: '14d' },
      realtimeConnections: { objective: 99, window: '14d' },
    },
  },
  backup: {
    objectStore: { bucket: 'defi-staging-pg-backups', region: 'eu-west-1', retentionDays: 14 },
    baseBackup: { schedule: '0 2 * * *' },
    postgresSnapshots: { schedule: '0 */6 * * *' },
    volumeSize: '10Gi',
    // Saturdays at 05:00 UTC.
    drill: { schedule: '0 5 * * 6', maxRtoMinutes: 15 },
    volumeSnapshots: { schedule: '15 3 * * *', retainCount: 7 },
    redis: { schedule: '15 * * * *', retainCount: 24 },
    offsite: { provider: 'AWS', bucket: 'defi-staging-backups', region: 'eu-west-1' },
    resources: resources(['100m', '256Mi'], ['1', '512Mi']),
    sidecarResources: resources(['25m', '64Mi'], ['250m', '256Mi']),
  },
  // Placeholder: the URL of this repository as Argo CD clones it.
  gitops: { repoUrl: 'https://git.example.com/defi/supabase-platform.git' },
  // A fifth of production's load, on production's limits.
  loadtest: {
    resources: resources(['1', '2Gi'], ['4', '6Gi']),
    api: { vus: 2000 },
    realtime: { vus: 2000 },
    database: { vus: 100 },
  },
  components: {
    postgres: {
      // A primary and one standby: a node loss fails over; preferred durability keeps writing
      // (asynchronously) while the standby is away.
      instances: 2,
      synchronous: { method: 'any', number: 1, dataDurability: 'preferred' },
      tuning: { maxConnections: 150, profile: 'web', storageType: 'ssd' },
      walVolumeSize: '20Gi',
      poolers: {
        rw: { instances: 2, resources: resources(['50m', '64Mi'], ['500m', '256Mi']), defaultPoolSize: 10, maxClientConnections: 2000 },
        ro: { instances: 2, resources: resources(['50m', '64Mi'], ['500m', '256Mi']), defaultPoolSize: 10, maxClientConnections: 2000 },
      },
      resources: {
        requests: { cpu: '1', memory: '2Gi', ephemeralStorage: '1Gi' },
        limits: { cpu: '2', memory: '2Gi', ephemeralStorage: '2Gi' },
      },
    },
    redis: {
      // A primary and two replicas on three nodes, a Sentinel beside each
      // (quorum 2), HAProxy in front: survives losing any one node.
      replicas: 3,
      resources: {
        requests: { cpu: '250m', memory: '512Mi', ephemeralStorage: '256Mi' },
        limits: { cpu: '1', memory: '512Mi', ephemeralStorage: '1Gi' },
      },
    },
  },
} satisfies EnvironmentInput;
