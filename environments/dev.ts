// dev: a laptop cluster (kind or k3d). Namespace quotas add up to 4 CPU and 8 GiB of requests,
// the platform's budget for dev (docs/capacity.md), so a component that grows past it fails synth.
import { namespace, PLATFORM_REPOSITORY, resources, service } from './defaults';
import devReleases from './releases/dev.json';
import type { EnvironmentInput } from './schema';

export const dev = {
  name: 'dev',
  namespacePrefix: '',
  storage: {
    className: 'standard',
    snapshotClassName: 'csi-hostpath-snapclass',
    sizes: { postgres: '10Gi', redis: '1Gi' },
  },
  nodes: 1,
  secrets: { source: 'cli' },
  namespaces: {
    supabase: namespace({
      requests: { cpu: '2500m', memory: '5Gi', storage: '56Gi' },
      limits: { cpu: '14', memory: '12Gi' },
      pods: 40,
      persistentVolumeClaims: 10,
      loadBalancers: 1,
    }),
    app: namespace({
      requests: { cpu: '400m', memory: '1Gi', storage: '0' },
      limits: { cpu: '4', memory: '3Gi' },
      pods: 20,
      persistentVolumeClaims: 0,
      loadBalancers: 0,
    }),
    observability: namespace({
      requests: { cpu: '1', memory: '1792Mi', storage: '30Gi' },
      limits: { cpu: '4', memory: '4Gi' },
      pods: 20,
      persistentVolumeClaims: 8,
      loadBalancers: 0,
    }),
    'node-exporter': namespace({
      requests: { cpu: '100m', memory: '256Mi', storage: '0' },
      limits: { cpu: '500m', memory: '512Mi' },
      pods: 4,
      persistentVolumeClaims: 0,
      loadBalancers: 0,
    }),
  },
  supabase: {
    siteUrl: 'http://localhost:3000',
    mailerAutoconfirm: true,
    storageBackend: { kind: 'file', size: '5Gi' },
    // Database pools, sized so every pool at its largest fits in max_connections (docs/capacity.md).
    restDbPool: 5,
    authDbPool: 3,
    storageDbPool: 3,
    realtimeDbPool: 2,
    studioEnabled: true,
    auth: service(1, ['50m', '64Mi'], ['500m', '256Mi']),
    rest: service(1, ['50m', '64Mi'], ['500m', '256Mi']),
    realtime: service(1, ['100m', '256Mi'], ['1', '512Mi']),
    storage: service(1, ['50m', '128Mi'], ['500m', '512Mi']),
    imgproxy: { requests: { cpu: '50m', memory: '128Mi', ephemeralStorage: '64Mi' }, limits: { cpu: '500m', memory: '512Mi', ephemeralStorage: '256Mi' } },
    meta: service(1, ['25m', '64Mi'], ['250m', '256Mi']),
    studio: service(1, ['50m', '256Mi'], ['500m', '512Mi']),
  },
  gateway: {
    kong: service(1, ['100m', '256Mi'], ['1', '512Mi']),
    adminCidrs: ['0.0.0.0/0'],
    tls: { issuer: 'self-signed' },
  },
  app: {
    // The quick start builds the images and loads them into kind (README).
    localImages: true,
    // Ten small api pods: the canary's first step is one of them (see environments/app.ts).
    api: service(10, ['10m', '48Mi'], ['200m', '128Mi']),
    worker: service(1, ['25m', '64Mi'], ['250m', '256Mi']),
    scheduler: {
      resources: { requests: { cpu: '25m', memory: '64Mi', ephemeralStorage: '64Mi' }, limits: { cpu: '250m', memory: '256Mi', ephemeralStorage: '256Mi' } },
    },
    // Dev runs local builds too: unsigned images are reported, not refused.
    // Otherwise as elsewhere: the platform repository's release workflow, called at a release tag, signs every product image (keyless).
    signing: { repository: PLATFORM_REPOSITORY, failureAction: 'Audit' },
    releases: devReleases,
    canary: {
      steps: [
        { weight: 10, pause: '3m' },
        { weight: 50, pause: '3m' },
      ],
      analysis: { maxErrorRatio: 0.02, maxP95Seconds: 1 },
    },
    // Placeholder: a testnet RPC provider.
    rpcEndpoints: ['https://rpc.testnet.example.com'],
    logLevel: 'debug',
  },
  observability: {
    prometheus: { retention: '7d', volumeSize: '10Gi', resources: resources(['200m', '512Mi'], ['1', '1Gi']) },
    alertmanager: {
      replicas: 1,
      volumeSize: '1Gi',
      // No receivers: dev's alerts are looked at in Alertmanager and Grafana, never sent.
      resources: resources(['25m', '64Mi'], ['100m', '128Mi']),
    },
    grafana: { volumeSize: '1Gi', resources: resources(['50m', '128Mi'], ['500m', '256Mi']) },
    loki: { retention: '72h', volumeSize: '10Gi', resources: resources(['100m', '256Mi'], ['500m', '512Mi']) },
    tempo: { retention: '24h', volumeSize: '5Gi', resources: resources(['50m', '128Mi'], ['500m', '256Mi']) },
    alloy: { resources: resources(['50m', '128Mi'], ['250m', '256Mi']) },
    otelCollector: { replicas: 1, resources: resources(['25m', '64Mi'], ['250m', '256Mi']) },
    kubeStateMetrics: { resources: resources(['25m', '64Mi'], ['100m', '128Mi']) },
    nodeExporter: { resources: resources(['25m', '32Mi'], ['100m', '64Mi']) },
    // Laptop traffic is too thin for tight objectives, and nobody is on call for dev: a fast burn
    // is a warning like a slow one. Windows fit in Prometheus's 7 days.
    slos: {
      paging: false,
      apiAvailability: { objective: 99, window: '7d' },
      apiLatency: { objective: 95, thresholdMs: 1000, window: '7d' },
      authAvailability: { objective: 99, window: '7d' },
      realtimeConnections: { objective: 99, window: '7d' },
    },
  },
  backup: {
    // No object store on a laptop: no WAL archive, no base backups, no drill (see
    // docs/runbooks/backup.md to add a local S3-compatible store).
    baseBackup: { schedule: '0 2 * * *' },
    volumeSize: '2Gi',
    drill: { schedule: '0 5 * * 6', maxRtoMinutes: 15 },
    volumeSnapshots: { schedule: '15 3 * * *', retainCount: 3 },
    redis: { schedule: '30 * * * *', retainCount: 3 },
    resources: resources(['25m', '64Mi'], ['500m', '256Mi']),
    sidecarResources: resources(['10m', '32Mi'], ['100m', '128Mi']),
  },
  // Placeholder: the URL of this repository as Argo CD clones it.
  gitops: { repoUrl: 'https://git.example.com/defi/supabase-platform.git' },
  // A laptop: a few users per script, short runs; sign-ups are confirmed at once here.
  loadtest: {
    resources: resources(['100m', '128Mi'], ['500m', '512Mi']),
    deadlineMargin: '10m',
    api: { vus: 50, rampUp: '30s', hold: '2m', rampDown: '30s' },
    realtime: { vus: 50, rampUp: '30s', hold: '2m', rampDown: '30s', channelSize: 10, sessionSeconds: 60 },
    database: { vus: 20, rampUp: '30s', hold: '2m', rampDown: '30s', users: 'signup' },
  },
  components: {
    postgres: {
      instances: 1,
      tuning: { maxConnections: 100, profile: 'web', storageType: 'ssd' },
      walVolumeSize: '10Gi',
      resources: {
        requests: { cpu: '250m', memory: '512Mi', ephemeralStorage: '256Mi' },
        limits: { cpu: '1', memory: '1Gi', ephemeralStorage: '1Gi' },
      },
      // The product's pooler: one PgBouncer pod on a laptop.
      poolers: { rw: { instances: 1, resources: resources(['25m', '32Mi'], ['250m', '128Mi']), defaultPoolSize: 10, maxClientConnections: 200 } },
    },
    redis: {
      replicas: 1,
      resources: {
        requests: { cpu: '50m', memory: '128Mi', ephemeralStorage: '64Mi' },
        limits: { cpu: '250m', memory: '256Mi', ephemeralStorage: '256Mi' },
      },
    },
  },
} satisfies EnvironmentInput;
