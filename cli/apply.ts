// `apply`: server-side apply of dist/<env>/ in the order Argo CD syncs it (layer by layer in
// sync-wave order; inside a layer by sync-wave annotation, kind, name), never on-demand/. Before
// applying it prints the prune plan: labelled objects in the cluster that dist/<env>/ no longer
// holds. It deletes them only with --prune, after every layer applied (as PruneLast), and never
// objects that hold data. What to send is decided by pure functions tested with fake Clusters.
import { LAYER_WAVES } from '../charts/gitops/gitops-chart';
import { LABEL, PART_OF } from '../lib/labels';
import { type Layer, LAYERS, ON_DEMAND_FOLDER } from '../lib/layers';
import type { Manifests } from '../lib/output';
import { assertFresh, describeObject, type DistObject, groupOf, objectKey, parseDist, readDistFiles } from './dist';
import { FIELD_MANAGER, type KubeObject, type ObjectAccess } from './kube';
import { parseCommandArgs } from './commands';
import { UsageError } from './usage';

export interface ApplyRequest {
  readonly env: string;
  readonly dryRun: boolean;
  readonly prune: boolean;
  readonly layer?: Layer;
  readonly context?: string;
}

export function parseApplyArgs(argv: string[], envNames: readonly string[]): ApplyRequest {
  const values = parseCommandArgs<{ env: string; dryRun?: boolean; prune?: boolean; layer?: Layer; context?: string }>('apply', argv, envNames);
  if (values.prune && values.layer)
    throw new UsageError(`--prune works on the whole environment, not one layer: drop --layer ${values.layer} (the prune plan is printed either way)`);
  return {
    env: values.env,
    dryRun: values.dryRun ?? false,
    prune: values.prune ?? false,
    ...(values.layer ? { layer: values.layer } : {}),
    ...(values.context ? { context: values.context } : {}),
  };
}

/** Argo CD's kind order inside one sync wave (gitops-engine sync_tasks.go); other kinds come after. */
const KIND_ORDER = [
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
];
const kindRank = (kind: string) => (KIND_ORDER.includes(kind) ? KIND_ORDER.indexOf(kind) - KIND_ORDER.length : 0);

/** The object's own sync wave inside its layer (annotation argocd.argoproj.io/sync-wave, default 0). */
export function syncWave(o: KubeObject): number {
  const value = Number.parseInt(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? '0', 10);
  return Number.isNaN(value) ? 0 : value;
}

export interface LayerStep {
  readonly layer: Layer;
  readonly wave: number;
  readonly objects: readonly KubeObject[];
}

/** What to apply, in order: the layers by their Applications' sync waves, never on-demand. */
export function applyPlan(dist: readonly DistObject[], only?: Layer): LayerStep[] {
  const layers = [...LAYERS].filter((l) => !only || l === only).sort((a, b) => LAYER_WAVES[a] - LAYER_WAVES[b]);
  return layers
    .map((layer) => ({
      layer,
      wave: LAYER_WAVES[layer],
      objects: dist
        .filter((d) => d.folder === layer)
        .map((d) => d.object)
        .sort(
          (a, b) =>
            syncWave(a) - syncWave(b) ||
            kindRank(a.kind) - kindRank(b.kind) ||
            a.metadata.name.localeCompare(b.metadata.name) ||
            (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? ''),
        ),
    }))
    .filter((step) => step.objects.length > 0);
}

/** The label selector of this platform's objects of one environment. */
export const platformSelector = (env: string): string => `${LABEL.partOf}=${PART_OF},${LABEL.instance}=${env}`;

/** The kinds to look for orphans among: every kind the environment's layers hold. */
export function pruneKinds(dist: readonly DistObject[]): { apiVersion: string; kind: string }[] {
  const kinds = new Map<string, { apiVersion: string; kind: string }>();
  for (const { folder, object } of dist) {
    if (folder !== ON_DEMAND_FOLDER) kinds.set(`${groupOf(object.apiVersion)}/${object.kind}`, { apiVersion: object.apiVersion, kind: object.kind });
  }
  return [...kinds.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, k]) => k);
}

export interface PrunePlan {
  readonly remove: readonly KubeObject[];
  readonly keep: readonly { readonly object: KubeObject; readonly reason: string }[];
}

const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const DATA_KINDS = ['Namespace', 'PersistentVolumeClaim'];

/**
 * Labelled objects of `env` in the cluster that dist/<env>/ (any folder) does not hold. Not
 * orphans: objects a controller owns, the CLI's own Secrets, a StatefulSet's claims from its
 * volumeClaimTemplates, and Jobs made from an on-demand template. Kept, with the reason: objects
 * whose sync-options say Prune=false or Delete=false, and any namespace or volume claim (data).
 */
export function planPrune(dist: readonly DistObject[], live: readonly KubeObject[], env: string): PrunePlan {
  const inDist = new Set(dist.map((d) => objectKey(d.object)));
  const claims = dist
    .filter((d) => d.object.kind === 'StatefulSet')
    .flatMap((d) => {
      const templates = ((d.object.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] } | undefined)?.volumeClaimTemplates ?? []).map(
        (t) => t.metadata.name,
      );
      return templates.map((t) => ({ namespace: d.object.metadata.namespace, pattern: new RegExp(`^${escape(`${t}-${d.object.metadata.name}`)}-\\d+$`) }));
    });
  const templates = dist.filter((d) => d.folder === ON_DEMAND_FOLDER).map((d) => d.object);
  const orphans = live.filter((o) => {
    const labels = o.metadata.labels ?? {};
    if (labels[LABEL.partOf] !== PART_OF || labels[LABEL.instance] !== env) return false;
    if (inDist.has(objectKey(o)) || (o.metadata.ownerReferences ?? []).length > 0 || labels[LABEL.managedBy] === FIELD_MANAGER) return false;
    if (o.kind === 'PersistentVolumeClaim' && claims.some((c) => c.namespace === o.metadata.namespace && c.pattern.test(o.metadata.name))) return false;
    const fromTemplate = (t: KubeObject) =>
      groupOf(t.apiVersion) === groupOf(o.apiVersion) &&
      t.kind === o.kind &&
      t.metadata.namespace === o.metadata.namespace &&
      o.metadata.name.startsWith(`${t.metadata.name}-`);
    return !templates.some(fromTemplate);
  });
  const remove: KubeObject[] = [];
  const keep: { object: KubeObject; reason: string }[] = [];
  for (const object of orphans.sort((a, b) => objectKey(a).localeCompare(objectKey(b)))) {
    const options = (object.metadata.annotations?.[SYNC_OPTIONS] ?? '').split(',').map((s) => s.trim());
    if (options.includes('Prune=false') || options.includes('Delete=false'))
      keep.push({ object, reason: `${SYNC_OPTIONS} says ${object.metadata.annotations![SYNC_OPTIONS]}` });
    else if (groupOf(object.apiVersion) === '' && DATA_KINDS.includes(object.kind))
      keep.push({ object, reason: 'may hold data: delete it by hand if you mean to' });
    else remove.push(object);
  }
  return { remove, keep };
}

export function formatPrunePlan(plan: PrunePlan, request: ApplyRequest): string[] {
  const total = plan.remove.length + plan.keep.length;
  if (total === 0) return [`prune plan: nothing to prune (every labelled object of ${request.env} in the cluster is in dist/${request.env}/)`];
  const what =
    plan.remove.length === 0
      ? 'nothing to delete'
      : !request.prune
        ? `${plan.remove.length} to delete: nothing is deleted without --prune`
        : request.dryRun
          ? `${plan.remove.length} to delete after the apply (server dry run)`
          : `${plan.remove.length} to delete after the apply (--prune)`;
  return [
    `prune plan: ${total} labelled object(s) of ${request.env} in the cluster are not in dist/${request.env}/`,
    ...plan.remove.map((o) => `  delete ${describeObject(o)}`),
    ...plan.keep.map((k) => `  keep   ${describeObject(k.object)}: ${k.reason}, never deleted`),
    `  ${what}`,
  ];
}

export interface ApplyDeps {
  /** The repository root, which holds dist/. */
  readonly root: string;
  readonly envNames: readonly string[];
  readonly cluster: (context?: string) => ObjectAccess;
  readonly out: (line: string) => void;
  /** What synth would write for an environment now; dist/ is refused if it differs. */
  readonly render?: (env: string) => Manifests;
}

const firstLine = (error: unknown) => String((error as Error).message ?? error).split('\n')[0];

/** Returns the exit code: 0 when every object applied (and every planned deletion succeeded). */
export async function applyCommand(argv: string[], deps: ApplyDeps): Promise<number> {
  const request = parseApplyArgs(argv, deps.envNames);
  const files = readDistFiles(deps.root, request.env);
  if (deps.render) assertFresh(request.env, files, deps.render(request.env));
  const dist = parseDist(files, request.env);
  const steps = applyPlan(dist, request.layer);
  const cluster = deps.cluster(request.context);
  const out = deps.out;
  const mode = request.dryRun ? ' (server dry run)' : '';

  const live: KubeObject[] = [];
  for (const { apiVersion, kind } of pruneKinds(dist))
    live.push(...((await cluster.list(apiVersion, kind, { labelSelector: platformSelector(request.env) })) ?? []));
  const prune = planPrune(dist, live, request.env);
  for (const line of formatPrunePlan(prune, request)) out(line);

  let applied = 0;
  for (const step of steps) {
    const failures: string[] = [];
    for (const object of step.objects) {
      try {
        await cluster.apply(object, false, request.dryRun);
        applied++;
      } catch (error) {
        failures.push(`  failed ${describeObject(object)}: ${firstLine(error)}`);
      }
    }
    const done = step.objects.length - failures.length;
    out(`wave ${step.wave} ${step.layer}: ${done} of ${step.objects.length} applied${mode}${failures.length ? `, ${failures.length} failed` : ''}`);
    for (const line of failures) out(line);
    if (failures.length) {
      const rest = steps.slice(steps.indexOf(step) + 1).map((s) => s.layer);
      out(
        `stopped after ${step.layer}: ${rest.length ? `${rest.join(', ')} not applied (they depend on it)` : 'it is the last layer'}${request.prune ? '; nothing pruned' : ''}`,
      );
      return 1;
    }
  }

  let deleted = 0;
  if (request.prune) {
    for (const object of prune.remove) {
      try {
        await cluster.delete(
          {
            apiVersion: object.apiVersion,
            kind: object.kind,
            name: object.metadata.name,
            ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
          },
          request.dryRun,
        );
        deleted++;
      } catch (error) {
        out(`  failed to delete ${describeObject(object)}: ${firstLine(error)}`);
      }
    }
  }
  out(
    `applied ${applied} object(s) of ${request.env} in ${steps.length} layer(s)${mode}${request.prune ? `; pruned ${deleted} of ${prune.remove.length}` : ''}`,
  );
  return request.prune && deleted < prune.remove.length ? 1 : 0;
}
