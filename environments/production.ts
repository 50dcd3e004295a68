// production: the DeFi product's live environment. Memory requests equal limits for the data
// tier (Guaranteed QoS, as CloudNativePG recommends for PostgreSQL).
import { namespace, PLATFORM_REPOSITORY, resources, service } from './defaults';
import productionReleases from './releases/production.json';
import type { EnvironmentInput } from './schema';

export const production = {
  name: 'production',
  namespacePrefix: '',
  // Placeholder under the reserved example.com domain: set the real public name before deploying.
  domain: 'defi.example.com',
  storage: {
    className: 'gp3',
    snapshotClassName: 'ebs-csi-snapclass',
    sizes: { postgres: '500Gi', redis: '20Gi' },
  },
  nodes: 12,
  secrets: {
    source: 'external-secrets',
    storeKind: 'ClusterSecretStore',
    storeName: 'platform-secrets',
    keyPrefix: 'production',
    refreshInterval: '1h',
  },
  namespaces: {
    supabase: namespace({
      requests: { cpu: '48', memory: '120Gi', storage: '2560Gi' },
      limits: { cpu: '180', memory: '176Gi' },
      pods: 200,
      persistentVolumeClaims: 40,
      loadBalancers: 1,
    }),
    // The product at its largest plus one load-test pod (loadtest.resources).
    app: namespace({
      requests: { cpu: '28', memory: '48Gi', storage: '0' },
      limits: { cpu: '64', memory: '96Gi' },
      pods: 150,
      persistentVolumeClaims: 0,
      loadBalancers: 0,
    }),
    observability: namespace({
      requests: { cpu: '12', memory: '48Gi', storage: '2Ti' },
      limits: { cpu: '32', memory: '96Gi' },
      pods: 80,
      persistentVolumeClaims: 20,
      loadBalancers: 0,
    }),
    'node-exporter': namespace({
      requests: { cpu: '1', memory: '1Gi', storage: '0' },
      limits: { cpu: '4', memory: '2Gi' },
      pods: 24,
      persistentVolumeClaims: 0,
      loadBalancers: 0,
    }),
  },
  supabase: {
    siteUrl: 'https://app.defi.example.com',
    disableSignup: false,
    smtp: { host: 'smtp.example.com', port: 587, adminEmail: 'ops@example.com', senderName: 'DeFi' },
    storageBackend: { kind: 's3', bucket: 'defi-production-storage', region: 'eu-central-1' },
    studioEnabled: false,
    // Database pools, sized so every pool at its largest (HPA maximum plus surge) fits in the 240
    // connections of the 16 GiB database (docs/capacity.md): PostgREST 5 per pod serves about a
    // thousand short queries a second per pod; the app's clients share the rw pooler's 20 per pod.
    restDbPool: 5,
    authDbPool: 2,
    storageDbPool: 3,
    realtimeDbPool: 2,
    auth: service(3, ['250m', '256Mi'], ['1', '512Mi'], 6),
    rest: service(4, ['500m', '512Mi'], ['2', '1Gi'], 12),
    realtime: service(3, ['500m', '1Gi'], ['2', '2Gi'], 8),
    storage: service(3, ['250m', '512Mi'], ['1', '1Gi'], 6),
    imgproxy: { requests: { cpu: '250m', memory: '512Mi', ephemeralStorage: '64Mi' }, limits: { cpu: '2', memory: '2Gi', ephemeralStorage: '1Gi' } },
    meta: service(2, ['100m', '128Mi'], ['500m', '256Mi']),
    studio: service(1, ['100m', '256Mi'], ['1', '1Gi']),
  },
  gateway: {
    kong: service(3, ['500m', '1Gi'], ['2', '2Gi'], 10),
    // The load balancer's addresses: set to the VPC's CIDR.
    // A layer-4 load balancer keeps the client's address (externalTrafficPolicy Local); Kong trusts no header.
    clientAddress: { mode: 'direct' },
    adminCidrs: ['10.8.0.0/16'],
    corsOrigins: ['https://app.defi.example.com'],
    rateLimits: { auth: 30, api: 1200 },
    tls: {
      issuer: 'letsencrypt-production',
      email: 'ops@example.com',
      dns01: { provider: 'cloudflare', apiTokenSecret: { name: 'cloudflare-api-token', key: 'api-token' } },
    },
  },
  app: {
    api: service(10, ['500m', '512Mi'], ['1', '1Gi'], 30),
    worker: service(3, ['250m', '512Mi'], ['1', '1Gi'], 10),
    scheduler: {
      resources: { requests: { cpu: '250m', memory: '256Mi', ephemeralStorage: '64Mi' }, limits: { cpu: '1', memory: '512Mi', ephemeralStorage: '256Mi' } },
    },
    // The platform repository's release workflow, called at a release tag (@vX.Y.Z), signs every product image (keyless).
    signing: { repository: PLATFORM_REPOSITORY },
    releases: productionReleases,
    canary: {
      steps: [
        { weight: 10, pause: '10m' },
        { weight: 50, pause: '20m' },
      ],
      analysis: { maxErrorRatio: 0.01, maxP95Seconds: 0.5, failureLimit: 1, inconclusiveLimit: 3 },
    },
    // Placeholders: the mainnet RPC providers, primary and fallback.
    rpcEndpoints: ['https://rpc.mainnet.example.com', 'https://rpc-fallback.mainnet.example.com'],
  },
  observability: {
    prometheus: { replicas: 2, retention: '30d', volumeSize: '500Gi', resources: resources(['2', '8Gi'], ['4', '16Gi']) },
    alertmanager: {
      replicas: 3,
      volumeSize: '5Gi',
      resources: resources(['100m', '256Mi'], ['500m', '512Mi']),
      receivers: {
        slackChannel: '#platform-alerts',
        databaseSlackChannel: '#db-alerts',
        email: { to: 'ops@example.com', from: 'alertmanager@example.com', smarthost: 'smtp.example.com:587', username: 'alertmanager' },
        watchdogEmail: 'watchdog@example.com',
        pagerduty: true,
      },
    },
    grafana: { volumeSize: '10Gi', resources: resources(['250m', '512Mi'], ['1', '1Gi']) },
    loki: { retention: '30d', volumeSize: '500Gi', resources: resources(['1', '2Gi'], ['4', '8Gi']) },
    tempo: { retention: '14d', volumeSize: '200Gi', resources: resources(['500m', '1Gi'], ['2', '4Gi']) },
    alloy: { resources: resources(['100m', '256Mi'], ['500m', '512Mi']) },
    otelCollector: { replicas: 3, resources: resources(['250m', '512Mi'], ['1', '1Gi']) },
    kubeStateMetrics: { resources: resources(['200m', '512Mi'], ['1', '1Gi']) },
    nodeExporter: { resources: resources(['50m', '64Mi'], ['250m', '128Mi']) },
    // The product's promises (docs/slos.md): a fast burn pages, a slow one opens a ticket.
    slos: {
      paging: true,
      apiAvailability: { objective: 99.9, window: '30d' },
      apiLatency: { objective: 95, thresholdMs: 400, window: '30d' },
      authAvailability: { objective: 99.9, window: '30d' },
      realtimeConnections: { objective: 99.5, window: '30d' },
    },
  },
  backup: {
    // Another region than the cluster's: the archive must survive losing the region.
    objectStore: { bucket: 'defi-production-pg-backups', region: 'eu-west-1', retentionDays: 30 },
    baseBackup: { schedule: '0 2 * * *' },
    postgresSnapshots: { schedule: '0 */6 * * *' },
    volumeSize: '50Gi',
    // Saturdays at 05:00 UTC.
    drill: { schedule: '0 5 * * 6', maxRtoMinutes: 60 },
    // Every six hours, a week's worth.
    volumeSnapshots: { schedule: '15 */6 * * *', retainCount: 28 },
    redis: { schedule: '*/15 * * * *', retainCount: 96 },
    // Redis snapshots, off site in another region than the cluster's.
    offsite: { provider: 'AWS', bucket: 'defi-production-backups', region: 'eu-west-1' },
    resources: resources(['250m', '512Mi'], ['2', '1Gi']),
    sidecarResources: resources(['50m', '64Mi'], ['500m', '256Mi']),
  },
  // Placeholder: the URL of this repository as Argo CD clones it.
  gitops: { repoUrl: 'https://git.example.com/defi/supabase-platform.git' },
  // Production's targets (the defaults): 10,000 api users, 10,000 Realtime connections, 500
  // database users, from one k6 pod sized for 10,000 virtual users.
  loadtest: {
    resources: resources(['4', '16Gi'], ['8', '24Gi']),
  },
  components: {
    postgres: {
      // Three instances on three nodes in three zones; every commit waits for one of the two
      // standbys, and only a standby the quorum proves complete is promoted: losing any one
      // machine loses no acknowledged commit.
      instances: 3,
      synchronous: { method: 'any', number: 1, dataDurability: 'required', failoverQuorum: true },
      zoneSpread: true,
      tuning: { maxConnections: 240, profile: 'oltp', storageType: 'ssd' },
      walVolumeSize: '100Gi',
      poolers: {
        rw: { instances: 3, resources: resources(['250m', '128Mi'], ['1', '512Mi']), defaultPoolSize: 15, maxClientConnections: 10000 },
        ro: { instances: 3, resources: resources(['250m', '128Mi'], ['1', '512Mi']), defaultPoolSize: 20, maxClientConnections: 10000 },
      },
      resources: {
        requests: { cpu: '4', memory: '16Gi', ephemeralStorage: '2Gi' },
        limits: { cpu: '8', memory: '16Gi', ephemeralStorage: '4Gi' },
      },
    },
    redis: {
      // A primary and two replicas on three nodes in three zones, a Sentinel beside each
      // (quorum 2), HAProxy in front: survives losing any one node.
      replicas: 3,
      zoneSpread: true,
      resources: {
        requests: { cpu: '1', memory: '4Gi', ephemeralStorage: '1Gi' },
        limits: { cpu: '2', memory: '4Gi', ephemeralStorage: '2Gi' },
      },
    },
  },
} satisfies EnvironmentInput;
