// production: the DeFi product's live environment. Memory requests equal limits for the data
// tier (Guaranteed QoS, as CloudNativePG recommends for PostgreSQL).
import { namespace } from './defaults';
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
  secrets: {
    source: 'external-secrets',
    storeKind: 'ClusterSecretStore',
    storeName: 'platform-secrets',
    keyPrefix: 'production',
    refreshInterval: '1h',
  },
  namespaces: {
    supabase: namespace({
      requests: { cpu: '32', memory: '96Gi', storage: '2Ti' },
      limits: { cpu: '64', memory: '160Gi' },
      pods: 200,
      persistentVolumeClaims: 40,
      loadBalancers: 1,
    }),
    app: namespace({
      requests: { cpu: '24', memory: '48Gi', storage: '0' },
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
  },
  components: {
    postgres: {
      replicas: 1,
      tuning: { maxConnections: 240, profile: 'oltp', storageType: 'ssd' },
      resources: {
        requests: { cpu: '4', memory: '16Gi', ephemeralStorage: '2Gi' },
        limits: { cpu: '8', memory: '16Gi', ephemeralStorage: '4Gi' },
      },
    },
    redis: {
      replicas: 1,
      resources: {
        requests: { cpu: '1', memory: '4Gi', ephemeralStorage: '1Gi' },
        limits: { cpu: '2', memory: '4Gi', ephemeralStorage: '2Gi' },
      },
    },
  },
} satisfies EnvironmentInput;
