// `record-release`: writes into environments/releases/staging-completed.json that staging's
// release of one component completed, once the cluster's own object proves it. Production's
// gate in `promote` reads that record: production takes only an image whose staging release
// completed there (docs/runbooks/deployment.md, docs/decisions/0008-release-pipeline.md).
//
// The cluster-facing part is `kubectl get rollout api -n app -o json` (or `deployment worker`),
// run by .github/workflows/record-release.yml; this file only reads that JSON. Whether it proves
// a completed release is decided by pure functions over the object, tested with objects.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type AppComponent, ImageReference, Releases } from '../environments/app';
import { parseCommandArgs } from './commands';
import { UsageError } from './usage';

/** The record, beside the release files; only staging's releases are recorded. */
export const COMPLETED_FILE = join('environments', 'releases', 'staging-completed.json');

/**
 * Completed releases kept per component, most recent first. Production may roll back to any of
 * them (`promote --rollback`); older ones are dropped, and with them the right to go back that far.
 */
export const RECORD_LIMIT = 10;

/** The component's kind in the cluster: the api is released by canary, the others are Deployments. */
export const WORKLOAD_KIND: Record<AppComponent, 'Rollout' | 'Deployment'> = { api: 'Rollout', worker: 'Deployment', scheduler: 'Deployment' };

/** The environment whose completed releases are recorded, as its objects' instance label names it. */
const RECORDED_ENV = 'staging';

const Evidence = z.strictObject({
  kind: z.enum(['Rollout', 'Deployment']),
  namespace: z.string(),
  name: z.string(),
  /** metadata.generation the controller had observed. */
  generation: z.number().int(),
  /** rollout.argoproj.io/revision or deployment.kubernetes.io/revision. */
  revision: z.string().optional(),
  /** Rollout: the stable ReplicaSet's pod-template hash, equal to the current one. */
  podTemplateHash: z.string().optional(),
  /** Rollout: the canary steps it ran, all of them. */
  steps: z.number().int().optional(),
  /** Pods of the release, all updated and available. */
  replicas: z.number().int(),
});
export type Evidence = z.infer<typeof Evidence>;

export const CompletedRelease = z.strictObject({
  image: ImageReference,
  /** When the controller marked the release complete (the object's condition). */
  completedAt: z.iso.datetime(),
  /** When `record-release` wrote this entry. */
  recordedAt: z.iso.datetime(),
  evidence: Evidence,
});
export type CompletedRelease = z.infer<typeof CompletedRelease>;

const History = z.array(CompletedRelease).max(RECORD_LIMIT);
export const CompletedReleases = z.strictObject({ api: History, worker: History, scheduler: History });
export type CompletedReleases = z.infer<typeof CompletedReleases>;

export const EMPTY_RECORD: CompletedReleases = { api: [], worker: [], scheduler: [] };

/** The record's text: what `record-release` writes and a reviewer reads in the pull request. */
export function completedText(record: CompletedReleases): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

const parseJson = <T>(schema: z.ZodType<T>, text: string, file: string): T => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${file}: ${issue.path.join('.') || '(top)'} ${issue.message}`);
  }
  return parsed.data;
};

/** The completed-release record of the repository at `root`; none yet reads as empty. */
export function readCompleted(root: string): CompletedReleases {
  const path = join(root, COMPLETED_FILE);
  return existsSync(path) ? parseJson(CompletedReleases, readFileSync(path, 'utf8'), COMPLETED_FILE) : EMPTY_RECORD;
}

/** staging's release file of the repository at `root`, as it is on disk (what git holds). */
export function readStagingReleases(root: string): Releases {
  const file = join('environments', 'releases', 'staging.json');
  return parseJson(Releases, readFileSync(join(root, file), 'utf8'), file);
}

// --- Reading the object kubectl printed -------------------------------------------------------

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, key) => (isObject(v) ? v[key] : undefined), o);
const text = (o: unknown, path: string): string | undefined => {
  const v = at(o, path);
  return typeof v === 'string' ? v : undefined;
};
const count = (o: unknown, path: string): number | undefined => {
  const v = at(o, path);
  return typeof v === 'number' ? v : undefined;
};
const list = (o: unknown, path: string): unknown[] | undefined => {
  const v = at(o, path);
  return Array.isArray(v) ? v : undefined;
};
/** One key of a map such as metadata.labels, whose keys hold dots. */
const mapValue = (o: unknown, path: string, key: string): unknown => {
  const map = at(o, path);
  return isObject(map) ? map[key] : undefined;
};
const condition = (o: unknown, type: string): Json | undefined =>
  list(o, 'status.conditions')
    ?.filter(isObject)
    .find((c) => c.type === type);
const shown = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v));

export type Completion =
  { readonly completed: true; readonly completedAt: string; readonly evidence: Evidence } | { readonly completed: false; readonly reasons: readonly string[] };

/**
 * Whether `object` (a Rollout or Deployment as `kubectl get … -o json` prints it) proves that
 * staging's release `image` of `component` completed. Every unmet condition is a reason.
 *
 * Rollout (the api), per Argo Rollouts' status fields
 * (https://argo-rollouts.readthedocs.io/en/stable/features/specification/ for the spec,
 * https://argo-rollouts.readthedocs.io/en/stable/features/canary/ for steps and pauses,
 * https://argo-rollouts.readthedocs.io/en/stable/features/controller-metrics/ for when a release
 * counts as promoted or aborted; field meanings in the v1.9.1 types,
 * https://github.com/argoproj/argo-rollouts/blob/v1.9.1/pkg/apis/rollouts/v1alpha1/types.go):
 * - status.observedGeneration equals metadata.generation: the status describes this spec (the
 *   types say to trust status.phase only then);
 * - status.phase is Healthy, status.abort is not set;
 * - status.stableRS equals status.currentPodHash: the release's ReplicaSet became the stable one
 *   (while a canary runs, the stable hash differs from the current one);
 * - status.currentStepIndex equals the number of spec.strategy.canary.steps: every step ran;
 * - the Completed condition is True (its lastTransitionTime is `completedAt`).
 * The status cannot tell a canary that ran its steps from one an operator skipped with
 * `kubectl argo rollouts promote --full` (the controller sets the same fields), so the runbook
 * keeps `--full` for emergencies and says not to record such a release.
 *
 * Deployment (worker, scheduler: no canary), per "Complete Deployment" in
 * https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#complete-deployment:
 * - status.observedGeneration equals metadata.generation;
 * - status.updatedReplicas, status.replicas and status.availableReplicas all equal spec.replicas
 *   (at least 1): every pod runs the release, none of the old ones is left, all are available;
 * - the Progressing condition is True with reason NewReplicaSetAvailable (its lastUpdateTime
 *   is `completedAt`).
 *
 * Both: kind and name are the component's, the instance label is staging's, and the container
 * named after the component runs exactly `image`.
 */
export function checkCompletion(object: unknown, component: AppComponent, image: string): Completion {
  const kind = WORKLOAD_KIND[component];
  const what = `${component}'s ${kind}`;
  if (!isObject(object) || text(object, 'kind') !== kind) {
    return {
      completed: false,
      reasons: [
        `the object is ${isObject(object) ? `a ${text(object, 'kind') ?? 'thing without kind'}` : 'not an object'}, not ${what} (kubectl get ${kind.toLowerCase()} ${component} -n app -o json)`,
      ],
    };
  }
  const reasons: string[] = [];
  const name = text(object, 'metadata.name');
  if (name !== component) reasons.push(`metadata.name is ${shown(name)}, not ${component}`);
  const instance = mapValue(object, 'metadata.labels', 'app.kubernetes.io/instance');
  if (instance !== RECORDED_ENV)
    reasons.push(`the label app.kubernetes.io/instance is ${shown(instance)}, not ${RECORDED_ENV}: only staging's objects are evidence`);
  const container = list(object, 'spec.template.spec.containers')
    ?.filter(isObject)
    .find((c) => c.name === component);
  if (!container) reasons.push(`spec.template has no container named ${component}`);
  else if (container.image !== image) reasons.push(`the ${component} container runs ${shown(container.image)}, not staging's release ${image}`);

  const generation = count(object, 'metadata.generation');
  const observed = at(object, 'status.observedGeneration');
  // Argo Rollouts writes observedGeneration as a string, Kubernetes as a number.
  if (generation === undefined || String(observed) !== String(generation)) {
    reasons.push(
      `status.observedGeneration is ${shown(observed)}, metadata.generation ${shown(generation)}: the controller has not acted on the latest spec yet`,
    );
  }
  const namespace = text(object, 'metadata.namespace') ?? '';

  if (kind === 'Rollout') {
    const phase = text(object, 'status.phase');
    if (phase !== 'Healthy')
      reasons.push(`status.phase is ${shown(phase)}${text(object, 'status.message') ? ` (${text(object, 'status.message')})` : ''}, not "Healthy"`);
    if (at(object, 'status.abort') === true) reasons.push('status.abort is true: the release was aborted and the old version runs');
    const stable = text(object, 'status.stableRS');
    const current = text(object, 'status.currentPodHash');
    if (!stable || stable !== current)
      reasons.push(`status.stableRS is ${shown(stable)}, status.currentPodHash ${shown(current)}: the release's ReplicaSet is not the stable one yet`);
    const steps = list(object, 'spec.strategy.canary.steps');
    const stepIndex = count(object, 'status.currentStepIndex');
    if (!steps || steps.length === 0) reasons.push('spec.strategy.canary.steps is missing: not a canary release');
    else if (stepIndex !== steps.length)
      reasons.push(`status.currentStepIndex is ${shown(stepIndex)} of ${steps.length} canary steps: the canary has not run every step`);
    const completedCondition = condition(object, 'Completed');
    const completedAt = completedCondition?.status === 'True' ? completedCondition.lastTransitionTime : undefined;
    if (typeof completedAt !== 'string') reasons.push('the Completed condition is not True');
    if (reasons.length > 0) return { completed: false, reasons };
    return {
      completed: true,
      completedAt: completedAt as string,
      evidence: {
        kind,
        namespace,
        name: component,
        generation: generation!,
        ...revision(object, 'rollout.argoproj.io/revision'),
        podTemplateHash: stable!,
        steps: steps!.length,
        replicas: count(object, 'status.availableReplicas') ?? 0,
      },
    };
  }

  const desired = count(object, 'spec.replicas') ?? 1;
  if (desired < 1) reasons.push(`spec.replicas is ${desired}: a Deployment without pods proves nothing`);
  for (const field of ['updatedReplicas', 'replicas', 'availableReplicas']) {
    const value = count(object, `status.${field}`) ?? 0;
    if (value !== desired) reasons.push(`status.${field} is ${value}, not spec.replicas ${desired}`);
  }
  const progressing = condition(object, 'Progressing');
  const completedAt = progressing?.status === 'True' && progressing.reason === 'NewReplicaSetAvailable' ? progressing.lastUpdateTime : undefined;
  if (typeof completedAt !== 'string') {
    reasons.push(
      `the Progressing condition is ${progressing ? `${shown(progressing.status)} with reason ${shown(progressing.reason)}` : 'missing'}, not True with reason "NewReplicaSetAvailable"`,
    );
  }
  if (reasons.length > 0) return { completed: false, reasons };
  return {
    completed: true,
    completedAt: completedAt as string,
    evidence: { kind, namespace, name: component, generation: generation!, ...revision(object, 'deployment.kubernetes.io/revision'), replicas: desired },
  };
}

/** `{ revision }` from the controller's annotation, or nothing when the object has none. */
function revision(object: unknown, annotation: string): { revision?: string } {
  const value = mapValue(object, 'metadata.annotations', annotation);
  return typeof value === 'string' ? { revision: value } : {};
}

/**
 * The record with `entry` first in its component's list. An image already first is left as it
 * was (recording twice changes nothing); one further down moves to the front with the new
 * evidence (staging went back to it and it completed again). At most RECORD_LIMIT are kept.
 */
export function addCompleted(record: CompletedReleases, component: AppComponent, entry: CompletedRelease): { record: CompletedReleases; changed: boolean } {
  const history = record[component];
  if (history[0]?.image === entry.image) return { record, changed: false };
  const next = [entry, ...history.filter((e) => e.image !== entry.image)].slice(0, RECORD_LIMIT);
  return { record: { ...record, [component]: next }, changed: true };
}

// --- The command --------------------------------------------------------------------------------

export interface RecordRequest {
  readonly component: AppComponent;
  /** A file with the object as JSON, or "-" for standard input. */
  readonly object: string;
}

export function parseRecordArgs(argv: string[]): RecordRequest {
  const values = parseCommandArgs<{ component: AppComponent; object: string }>('record-release', argv, []);
  return { component: values.component, object: values.object };
}

export interface RecordDeps {
  /** The repository: environments/releases/ is read and written there. */
  readonly root: string;
  readonly now: () => Date;
  /** The object's text: the file's content, or standard input for "-". */
  readonly read: (path: string) => string;
  readonly out: (line: string) => void;
}

/** Reads the object, refuses unless it proves staging's release completed, writes the record. */
export function recordReleaseCommand(argv: string[], deps: RecordDeps): void {
  const r = parseRecordArgs(argv);
  const image = readStagingReleases(deps.root)[r.component];
  if (!image.includes('@sha256:')) {
    throw new UsageError(
      `staging's ${r.component} is ${image}, without @sha256: digest: production takes only digests, so promote the digest to staging and record that`,
    );
  }
  const source = r.object === '-' ? 'standard input' : r.object;
  let object: unknown;
  try {
    object = JSON.parse(deps.read(r.object));
  } catch (error) {
    throw new UsageError(`--object ${source} is not JSON: ${(error as Error).message}`);
  }
  const completion = checkCompletion(object, r.component, image);
  if (!completion.completed) {
    throw new UsageError(`${source} does not prove that staging's ${r.component} ${image} completed, so nothing is recorded: ${completion.reasons.join('; ')}`);
  }
  const parsed = CompletedRelease.safeParse({
    image,
    completedAt: completion.completedAt,
    recordedAt: deps.now().toISOString(),
    evidence: completion.evidence,
  });
  if (!parsed.success) throw new UsageError(`${source}: ${parsed.error.issues[0]!.path.join('.')} ${parsed.error.issues[0]!.message}`);
  const entry = parsed.data;
  const { record, changed } = addCompleted(readCompleted(deps.root), r.component, entry);
  const e = completion.evidence;
  const proof = `${e.kind} ${e.namespace}/${e.name} generation ${e.generation}${e.revision ? `, revision ${e.revision}` : ''}${e.podTemplateHash ? `, stable ${e.podTemplateHash}` : ''}${e.steps ? `, ${e.steps} of ${e.steps} steps` : ''}, ${e.replicas} pods`;
  if (!changed) {
    deps.out(`staging ${r.component}: ${image} is already the last completed release in ${COMPLETED_FILE}; nothing written`);
    return;
  }
  writeFileSync(join(deps.root, COMPLETED_FILE), completedText(record));
  deps.out(`staging ${r.component}: recorded ${image} as completed at ${completion.completedAt} (${proof}) in ${COMPLETED_FILE}`);
}
