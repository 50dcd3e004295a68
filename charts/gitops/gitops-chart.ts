// Argo CD's view of the platform, per environment: an AppProject that allows exactly the
// namespaces and kinds the platform emits, one Application per layer folder of dist/<env>/ in
// sync-wave order, and a root Application ("app of apps") for this gitops folder itself, which
// an operator applies once. Nothing here deletes data: no cascading finalizers, namespaces and
// volumes are protected by their own Prune=false annotations, and pruning runs last.
import type { Construct } from 'constructs';
import type { GitopsConfig } from '../../environments/gitops';
import { Application } from '../../imports/application-argoproj.io';
import { AppProject } from '../../imports/appproject-argoproj.io';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { LAYERS, type Layer } from '../../lib/layers';
import { prefixed } from '../../lib/names';
import { OPERATORS, type OperatorRelease, operatorFolder } from '../../lib/operators';

/** A kind the platform emits. */
export interface KindRef {
  readonly group: string;
  readonly kind: string;
}

/** What one layer folder holds, as the gitops chart needs to know it. */
export interface LayerInventory {
  readonly layer: Layer;
  readonly namespacedKinds: readonly KindRef[];
  readonly clusterKinds: readonly KindRef[];
  readonly namespaces: readonly string[];
  /** Deployments and Rollouts whose replica count an HPA owns: Argo CD must ignore that field. */
  readonly hpaTargets: readonly { readonly group: string; readonly kind: string; readonly name: string; readonly namespace: string }[];
}

export interface GitopsChartProps extends ChartProps {
  /** The repository, revision and cluster Argo CD syncs from and to. */
  readonly config: GitopsConfig;
  /** The layers that have objects, in any order. */
  readonly inventory: readonly LayerInventory[];
}

/** Sync wave of each layer's Application: foundation first, then data, services, edge, app. */
export const LAYER_WAVES: Readonly<Record<Layer, number>> = Object.fromEntries(LAYERS.map((l, i) => [l, i])) as Record<Layer, number>;
/** The operators' Applications sync before every layer (the data layer's Cluster needs them). */
export const OPERATORS_WAVE = -1;

const SYNC_OPTIONS = ['ServerSideApply=true', 'PruneLast=true', 'CreateNamespace=false', 'RespectIgnoreDifferences=true'];
const RETRY = { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } };

export class GitopsChart extends PlatformChart {
  public readonly projectName: string;
  /** Application name per layer. */
  public readonly applications: Readonly<Partial<Record<Layer, string>>>;

  constructor(scope: Construct, id: string, props: GitopsChartProps) {
    super(scope, id, props);
    const prefix = this.platform.prefix;
    const instance = this.instance;
    const ns = props.config.argocdNamespace;
    const meta = (objectName: string, annotations?: Record<string, string>) =>
      this.metadata({ objectName, namespace: ns, name: 'argocd', component: 'gitops', annotations });
    const source = (layer: Layer) => ({ repoUrl: props.config.repoUrl, targetRevision: props.config.targetRevision, path: `dist/${instance}/${layer}` });
    const layers = props.inventory.filter((l) => l.layer !== 'gitops').sort((a, b) => LAYER_WAVES[a.layer] - LAYER_WAVES[b.layer]);

    this.projectName = prefixed(prefix, `platform-${instance}`);
    const unique = (kinds: readonly KindRef[]) =>
      [...new Map(kinds.map((k) => [`${k.group}/${k.kind}`, k])).values()].sort((a, b) => `${a.group}/${a.kind}`.localeCompare(`${b.group}/${b.kind}`));
    const namespaces = [...new Set(layers.flatMap((l) => l.namespaces))].sort();
    new AppProject(this, 'project', {
      metadata: meta(this.projectName),
      spec: {
        description: `The Supabase platform, ${instance}: only its namespaces and the kinds it emits`,
        sourceRepos: [props.config.repoUrl],
        destinations: namespaces.map((namespace) => ({ server: props.config.destinationServer, namespace })),
        clusterResourceWhitelist: unique(layers.flatMap((l) => l.clusterKinds)),
        namespaceResourceWhitelist: unique(layers.flatMap((l) => l.namespacedKinds)),
      },
    });

    const applications: Partial<Record<Layer, string>> = {};
    for (const l of layers) {
      const name = prefixed(prefix, `${instance}-${l.layer}`);
      applications[l.layer] = name;
      new Application(this, `app-${l.layer}`, {
        metadata: meta(name, { 'argocd.argoproj.io/sync-wave': String(LAYER_WAVES[l.layer]) }),
        spec: {
          project: this.projectName,
          source: source(l.layer),
          destination: { server: props.config.destinationServer },
          syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: SYNC_OPTIONS, retry: RETRY },
          ...(l.hpaTargets.length
            ? {
                ignoreDifferences: l.hpaTargets.map((t) => ({
                  group: t.group,
                  kind: t.kind,
                  name: t.name,
                  namespace: t.namespace,
                  jsonPointers: ['/spec/replicas'],
                })),
              }
            : {}),
        },
      });
    }
    this.applications = applications;

    // The operators the data layer needs, from their upstream release manifests, in a project of
    // their own: they install CRDs, webhooks and cluster roles, which the platform's project
    // does not allow, and only from their repositories (or this one's kustomization of a release asset).
    const operatorsProject = prefixed(prefix, `operators-${instance}`);
    const releases: readonly OperatorRelease[] = Object.values(OPERATORS);
    const operatorSource = (r: OperatorRelease) =>
      'manifestUrl' in r
        ? { repoUrl: props.config.repoUrl, targetRevision: props.config.targetRevision, path: operatorFolder(r) }
        : { repoUrl: r.repoUrl, targetRevision: r.revision, path: r.path, directory: { include: r.file } };
    new AppProject(this, 'operators-project', {
      metadata: meta(operatorsProject),
      spec: {
        description: `The operators the platform (${instance}) runs under: CloudNativePG and its Barman Cloud Plugin`,
        sourceRepos: [...new Set(releases.map((r) => operatorSource(r).repoUrl))],
        destinations: [...new Set(releases.map((r) => r.namespace))].map((namespace) => ({ server: props.config.destinationServer, namespace })),
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
        namespaceResourceWhitelist: [{ group: '*', kind: '*' }],
      },
    });
    for (const r of releases) {
      new Application(this, `operator-${r.name}`, {
        metadata: meta(prefixed(prefix, `${instance}-${r.name}`), { 'argocd.argoproj.io/sync-wave': String(OPERATORS_WAVE) }),
        spec: {
          project: operatorsProject,
          source: operatorSource(r),
          destination: { server: props.config.destinationServer, namespace: r.namespace },
          // Operators are never pruned by a platform sync: removing one would orphan the database.
          syncPolicy: { automated: { prune: false, selfHeal: true }, syncOptions: ['ServerSideApply=true', 'CreateNamespace=true'], retry: RETRY },
        },
      });
    }

    // The root: applied once by hand, then it keeps this folder (the project and the
    // Applications above) in sync. It sits in Argo CD's default project, which must exist
    // before the platform's own project does.
    new Application(this, 'root', {
      metadata: meta(prefixed(prefix, `${instance}-platform`)),
      spec: {
        project: 'default',
        source: source('gitops'),
        destination: { server: props.config.destinationServer, namespace: ns },
        syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true', 'PruneLast=true'], retry: RETRY },
      },
    });
  }
}
