// The whole platform for one environment: which charts exist and how their outputs feed each
// other's props. main.ts, the tests and the benchmark all build it through `renderEnvironment`.
import { ApiObject, App } from 'cdk8s';
import { AppChart } from './charts/app/app-chart';
import { BackupChart } from './charts/backup/backup-chart';
import { RECOVERY_CHECK_JOB, RESTORE_INPUTS, RESTORE_JOBS, RestoreChart } from './charts/backup/restore-chart';
import { FoundationChart } from './charts/foundation/foundation-chart';
import { PostgresChart } from './charts/postgres/postgres-chart';
import { RedisChart } from './charts/redis/redis-chart';
import { GatewayChart, kongEndpoint, PROXY_TLS_PORT } from './charts/gateway/gateway-chart';
import { LoadtestChart, loadtestPods } from './charts/loadtest/loadtest-chart';
import { prometheusEndpoints } from './charts/observability/prometheus';
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
import { claimOf } from './lib/stateful-set';
import { type FlowDeclaration, flowDeclarations } from './lib/network';
import { SNAPSHOT_STORES } from './charts/observability/context';
import { STORAGE_FILES_CLAIM } from './charts/supabase/storage';
import { type Folder, type Layer, ON_DEMAND_FOLDER } from './lib/layers';
import { type Manifests, renderApp } from './lib/output';
import type { SecretSpec } from './lib/secrets';

/** Adds every chart of the platform for `env` to `app`. */
export function buildPlatform(app: App, env: Environment): void {
  // Made once: every chart reads its instance, namespaces, priority classes, storage, secret
  // source and cluster addresses from here. `at(layer)` is also where each chart is given the
  // layer it synthesises into, that is the Argo CD Application that applies it.
  const platform = platformContext(env);
  const at = (layer: Folder) => ({ layer, platform });

  new FoundationChart(app, 'foundation', { ...at('foundation'), limits: env.namespaces });
  // A function of the platform, like Kong's endpoint: the charts built before the observability
  // chart (every metrics port admits Prometheus) name the very endpoint it exports.
  const prometheus = prometheusEndpoints(platform.namespaces.observability).api;
  const postgres = new PostgresChart(app, 'postgres', {
    ...at('data'),
    clientNamespaces: [platform.namespaces.app],
    config: env.components.postgres,
    dataVolumeSize: env.storage.sizes.postgres,
    backup: env.backup,
    operators: env.operators,
    prometheus,
  });
  const redis = new RedisChart(app, 'redis', { ...at('data'), config: env.components.redis, dataVolumeSize: env.storage.sizes.redis, prometheus });
  const backup = new BackupChart(app, 'backup', {
    ...at('backup'),
    config: env.backup,
    db: postgres,
    redis,
    snapshotTargets: [
      ...SNAPSHOT_STORES.map((store) => ({ namespace: platform.namespaces.observability, claim: claimOf(store) })),
      ...(env.supabase.storageBackend.kind === 'file' ? [{ namespace: platform.namespaces.supabase, claim: STORAGE_FILES_CLAIM }] : []),
    ],
  });
  new RestoreChart(app, 'restore', {
    ...at(ON_DEMAND_FOLDER),
    supportLayer: 'backup',
    config: env.backup,
    redis,
    backupVolume: backup.backupVolume,
    db: postgres,
  });
  const observability = new ObservabilityChart(app, 'observability', {
    ...at('observability'),
    config: env.observability,
    // Built before the supabase chart, which sends it traces: the same Secret, declared by one function.
    supabaseJwt: jwtSecret(platform.namespaces.supabase),
    rolloutsNamespace: env.observability.rolloutsControllerNamespace,
    operatorNamespaces: {
      certManager: env.operators.certManagerNamespace,
      argocd: env.gitops.argocdNamespace,
      externalSecrets: env.secrets.source === 'external-secrets' ? env.observability.externalSecretsNamespace : undefined,
      kyverno: env.observability.kyvernoNamespace,
      cloudnativePg: env.operators.cnpgNamespace,
    },
    runbookBaseUrl: `${env.gitops.repoUrl.replace(/\.git$/, '')}/blob/${env.gitops.targetRevision}/docs/runbooks/alerts/`,
    remoteWriteClients: [loadtestPods(platform)],
  });
  const supabase = new SupabaseChart(app, 'supabase', {
    ...at('supabase'),
    config: env.supabase,
    db: postgres,
    publicUrl: `https://${env.domain ?? 'localhost'}`,
    gateway: kongEndpoint(platform),
    tracing: observability.tracing,
    prometheus,
  });
  const app_ = new AppChart(app, 'app', {
    ...at('app'),
    config: env.app,
    db: postgres,
    redis,
    supabase,
    tracing: observability.tracing,
    prometheus,
  });
  const issuers = new IssuersChart(app, 'issuers', { ...at('foundation'), tls: env.gateway.tls });
  // Where operators start on-demand Jobs: restores in supabase, load tests in app.
  const jobNamespaces = [platform.namespaces.supabase, platform.namespaces.app];
  new OperatorAccessChart(app, 'operator-access', { ...at('foundation'), jobNamespaces });
  new ImagePolicyChart(app, 'image-policy', { ...at('foundation'), releases: env.app.releases, signing: env.app.signing });
  new GatewayChart(app, 'gateway', {
    ...at('gateway'),
    config: env.gateway,
    domain: env.domain ?? 'localhost',
    issuerName: issuers.issuerName,
    supabase,
    product: app_.upstream,
    storageMaxBytes: env.supabase.fileSizeLimitBytes,
    redis,
    tracing: observability.tracing,
    prometheus,
  });
  new LoadtestChart(app, 'loadtest', {
    ...at(ON_DEMAND_FOLDER),
    // The scripts, ServiceAccounts, NetworkPolicies and the users' Secret go with the app layer.
    supportLayer: 'app',
    config: env.loadtest,
    jwt: app_.secrets.jwt,
    gateway: { ...kongEndpoint(platform), port: PROXY_TLS_PORT },
    prometheus: observability.prometheus.receiver,
  });
  // Once every on-demand chart exists: operators' Jobs must be those templates.
  new OperatorJobPolicyChart(app, 'operator-job-policy', {
    ...at('foundation'),
    jobNamespaces,
    templates: onDemandJobs(app),
    inputs: { [RESTORE_JOBS.redis]: RESTORE_INPUTS.redis, [RECOVERY_CHECK_JOB]: RESTORE_INPUTS.postgres },
  });
  // Last: Argo CD's objects, from what every other chart emits.
  new GitopsChart(app, 'gitops', { ...at('gitops'), config: env.gitops, inventory: inventory(app) });
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
  return [...byLayer].map(([layer, e]) => ({
    layer,
    namespacedKinds: e.namespaced,
    clusterKinds: e.cluster,
    namespaces: [...e.namespaces],
    hpaTargets: e.hpa,
  }));
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
