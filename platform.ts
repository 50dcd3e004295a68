// The whole platform for one environment: which charts exist and how their outputs feed each
// other's props. main.ts, the tests and the benchmark all build it through `renderEnvironment`.
import { ApiObject, App } from 'cdk8s';
import { AppChart } from './charts/app/app-chart';
import { BackupChart } from './charts/backup/backup-chart';
import { RECOVERY_CHECK_JOB, RESTORE_INPUTS, RESTORE_JOBS, RestoreChart } from './charts/backup/restore-chart';
import { FoundationChart } from './charts/foundation/foundation-chart';
import { PostgresChart } from './charts/postgres/postgres-chart';
import { RedisChart } from './charts/redis/redis-chart';
import { GatewayChart, PROXY_PORT, PROXY_TLS_PORT } from './charts/gateway/gateway-chart';
import { LoadtestChart, loadtestPods } from './charts/loadtest/loadtest-chart';
import { PROMETHEUS_PORT } from './charts/observability/prometheus-config';
import { GitopsChart, type KindRef, type LayerInventory } from './charts/gitops/gitops-chart';
import { ObservabilityChart } from './charts/observability/observability-chart';
import { ImagePolicyChart } from './charts/security/image-policy-chart';
import { IssuersChart } from './charts/security/issuers-chart';
import { OperatorAccessChart } from './charts/security/operator-access-chart';
import { OperatorJobPolicyChart, onDemandJobs } from './charts/security/operator-job-policy-chart';
import { jwtSecret } from './charts/supabase/secrets';
import { SupabaseChart } from './charts/supabase/supabase-chart';
import { type Environment, parseEnvironment } from './environments/schema';
import { PlatformChart } from './lib/chart';
import { platformContext } from './lib/context';
import { endpointOf, prometheusReceiver } from './lib/endpoint';
import { workload } from './lib/workloads';
import { claimOf } from './lib/stateful-set';
import { type FlowDeclaration, flowDeclarations } from './lib/network';
import { SNAPSHOT_STORES } from './charts/observability/context';
import { STORAGE_FILES_CLAIM } from './charts/supabase/storage';
import { type Layer, ON_DEMAND_FOLDER } from './lib/layers';
import { type Manifests, renderApp } from './lib/output';
import type { SecretSpec } from './lib/secrets';

/** Adds every chart of the platform for `env` to `app`. */
export function buildPlatform(app: App, env: Environment): void {
  const platform = platformContext(env);
  const foundation = new FoundationChart(app, 'foundation', {
    instance: env.name,
    prefix: env.namespacePrefix,
    namespaces: env.namespaces,
  });
  const dataTier = {
    instance: env.name,
    namespace: foundation.namespaces.supabase,
    observabilityNamespace: foundation.namespaces.observability,
    priorityClassName: foundation.priorityClasses.data,
    storageClassName: env.storage.className,
    secrets: env.secrets,
  };
  const postgres = new PostgresChart(app, 'postgres', {
    ...dataTier,
    prefix: env.namespacePrefix,
    clientNamespaces: [foundation.namespaces.app],
    config: env.components.postgres,
    dataVolumeSize: env.storage.sizes.postgres,
    backup: env.backup,
    snapshotClassName: env.storage.snapshotClassName,
    operators: env.operators,
    apiServerCidrs: env.network.apiServerCidrs,
  });
  const redis = new RedisChart(app, 'redis', {
    ...dataTier,
    config: env.components.redis,
    dataVolumeSize: env.storage.sizes.redis,
  });
  const backup = new BackupChart(app, 'backup', {
    layer: 'backup',
    platform,
    config: env.backup,
    db: postgres,
    redis,
    snapshotTargets: [
      ...SNAPSHOT_STORES.map((store) => ({ namespace: platform.namespaces.observability, claim: claimOf(store) })),
      ...(env.supabase.storageBackend.kind === 'file' ? [{ namespace: platform.namespaces.supabase, claim: STORAGE_FILES_CLAIM }] : []),
    ],
  });
  new RestoreChart(app, 'restore', {
    layer: ON_DEMAND_FOLDER,
    supportLayer: 'backup',
    platform,
    config: env.backup,
    redis,
    backupVolume: backup.backupVolume,
    db: postgres,
  });
  const observability = new ObservabilityChart(app, 'observability', {
    instance: env.name,
    prefix: env.namespacePrefix,
    namespaces: { ...foundation.namespaces, host: foundation.namespaces['node-exporter'] },
    priorityClassName: foundation.priorityClasses.stateless,
    storageClassName: env.storage.className,
    config: env.observability,
    secretSource: env.secrets,
    nodeCidrs: env.network.nodeCidrs,
    apiServerCidrs: env.network.apiServerCidrs,
    // Built before the supabase chart, which sends it traces: the same Secret, declared by one function.
    supabaseJwt: jwtSecret(foundation.namespaces.supabase),
    rolloutsNamespace: env.observability.rolloutsControllerNamespace,
    operatorNamespaces: {
      certManager: env.operators.certManagerNamespace,
      argocd: env.gitops.argocdNamespace,
      externalSecrets: env.secrets.source === 'external-secrets' ? env.observability.externalSecretsNamespace : undefined,
      kyverno: env.observability.kyvernoNamespace,
      cloudnativePg: env.operators.cnpgNamespace,
    },
    runbookBaseUrl: `${env.gitops.repoUrl.replace(/\.git$/, '')}/blob/${env.gitops.targetRevision}/docs/runbooks/alerts/`,
    remoteWriteClients: [loadtestPods(foundation.namespaces.app, env.name)],
  });
  const supabase = new SupabaseChart(app, 'supabase', {
    instance: env.name,
    namespace: foundation.namespaces.supabase,
    observabilityNamespace: foundation.namespaces.observability,
    priorityClassName: foundation.priorityClasses.stateless,
    storageClassName: env.storage.className,
    config: env.supabase,
    secretSource: env.secrets,
    db: postgres,
    publicUrl: `https://${env.domain ?? 'localhost'}`,
    gatewayUrl: `http://kong.${foundation.namespaces.supabase}.svc.cluster.local:${PROXY_PORT}`,
    tracing: observability.tracing,
  });
  const app_ = new AppChart(app, 'app', {
    instance: env.name,
    namespace: foundation.namespaces.app,
    observabilityNamespace: foundation.namespaces.observability,
    dataNamespace: foundation.namespaces.supabase,
    priorityClassName: foundation.priorityClasses.stateless,
    config: env.app,
    secretSource: env.secrets,
    db: postgres,
    redis,
    supabase,
    gatewayNamespace: foundation.namespaces.supabase,
    tracing: observability.tracing,
  });
  const issuers = new IssuersChart(app, 'issuers', { instance: env.name, prefix: env.namespacePrefix, tls: env.gateway.tls });
  // Where operators start on-demand Jobs: restores in supabase, load tests in app.
  const jobNamespaces = [foundation.namespaces.supabase, foundation.namespaces.app];
  new OperatorAccessChart(app, 'operator-access', {
    instance: env.name,
    prefix: env.namespacePrefix,
    namespaces: Object.values(foundation.namespaces),
    jobNamespaces,
  });
  new ImagePolicyChart(app, 'image-policy', {
    instance: env.name,
    prefix: env.namespacePrefix,
    appNamespace: foundation.namespaces.app,
    releases: env.app.releases,
    signing: env.app.signing,
  });
  new GatewayChart(app, 'gateway', {
    instance: env.name,
    namespace: foundation.namespaces.supabase,
    observabilityNamespace: foundation.namespaces.observability,
    priorityClassName: foundation.priorityClasses.stateless,
    config: env.gateway,
    domain: env.domain ?? 'localhost',
    issuerName: issuers.issuerName,
    supabase,
    product: app_.upstream,
    storageMaxBytes: env.supabase.fileSizeLimitBytes,
    redis,
    tracing: observability.tracing,
  });
  new LoadtestChart(app, 'loadtest', {
    layer: ON_DEMAND_FOLDER,
    // The scripts, ServiceAccounts, NetworkPolicies and the users' Secret go with the app layer.
    supportLayer: 'app',
    platform,
    config: env.loadtest,
    jwt: app_.secrets.jwt,
    gateway: endpointOf(workload(platform, 'kong'), PROXY_TLS_PORT),
    prometheus: prometheusReceiver(platform.namespaces.observability, PROMETHEUS_PORT),
  });
  // Once every on-demand chart exists: operators' Jobs must be those templates.
  new OperatorJobPolicyChart(app, 'operator-job-policy', {
    instance: env.name,
    prefix: env.namespacePrefix,
    namespaces: Object.values(foundation.namespaces),
    jobNamespaces,
    templates: onDemandJobs(app),
    inputs: { [RESTORE_JOBS.redis]: RESTORE_INPUTS.redis, [RECOVERY_CHECK_JOB]: RESTORE_INPUTS.postgres },
  });
  // Last: Argo CD's objects, from what every other chart emits.
  new GitopsChart(app, 'gitops', { instance: env.name, prefix: env.namespacePrefix, config: env.gitops, inventory: inventory(app) });
}

/** What each layer holds: kinds, namespaces and HPA targets, read from the charts' objects. */
function inventory(app: App): LayerInventory[] {
  const byLayer = new Map<Layer, { namespaced: KindRef[]; cluster: KindRef[]; namespaces: Set<string>; hpa: LayerInventory['hpaTargets'][number][] }>();
  for (const chart of app.node.children) {
    if (!(chart instanceof PlatformChart)) continue;
    const c = chart as PlatformChart;
    // Objects an operator applies by hand: no Application, so Argo CD never runs them.
    if (c.layer === ON_DEMAND_FOLDER) continue;
    const layer: Layer = c.layer;
    const entry = byLayer.get(layer) ?? { namespaced: [], cluster: [], namespaces: new Set<string>(), hpa: [] };
    byLayer.set(layer, entry);
    for (const obj of c.node.findAll()) {
      if (!(obj instanceof ApiObject)) continue;
      const ref = { group: obj.apiGroup === 'core' ? '' : obj.apiGroup, kind: obj.kind };
      const namespace = obj.metadata.namespace;
      if (namespace) {
        entry.namespaced.push(ref);
        entry.namespaces.add(namespace);
      } else entry.cluster.push(ref);
      if (obj.kind === 'HorizontalPodAutoscaler' && namespace) {
        const target = (obj.toJson() as { spec: { scaleTargetRef: { apiVersion: string; kind: string; name: string } } }).spec.scaleTargetRef;
        entry.hpa.push({ group: target.apiVersion.includes('/') ? target.apiVersion.split('/')[0]! : '', kind: target.kind, name: target.name, namespace });
      }
    }
  }
  return [...byLayer].map(([layer, e]) => ({ layer, namespacedKinds: e.namespaced, clusterKinds: e.cluster, namespaces: [...e.namespaces], hpaTargets: e.hpa }));
}

/** Every Secret the platform's workloads read in one environment (for the CLI). */
export function platformSecrets(input: unknown): { env: Environment; specs: SecretSpec[] } {
  const env = parseEnvironment(input);
  const app = new App({ outdir: env.name });
  buildPlatform(app, env);
  const specs = app.node.children.flatMap((c) => (c instanceof PlatformChart ? (c as PlatformChart).secretSpecs : []));
  return { env, specs };
}

/** Parses one environment and renders its manifests, keyed by path under dist/<env>/. */
export function renderEnvironment(input: unknown): { env: Environment; manifests: Manifests; declarations: FlowDeclaration[] } {
  const env = parseEnvironment(input);
  // outdir is unused (lib/output.ts writes the files) but must not default to process.env.
  const app = new App({ outdir: env.name });
  buildPlatform(app, env);
  return { env, manifests: renderApp(app), declarations: flowDeclarations(app) };
}
