// Operators cannot escalate: the operator group may create Jobs in the job namespaces
// (charts/security/operator-access-chart.ts), and a Job may run any image, mount any Secret of
// its namespace, use any ServiceAccount and wear any workload's labels to pass the
// NetworkPolicies. This Kyverno ClusterPolicy holds a Job that a member of the operator group
// creates or changes to one of the shipped on-demand templates (dist/<env>/on-demand/, made by
// the restore and load-test charts): its ServiceAccount must be a template's, and everything of
// that template's pod that grants something (images, commands, environment and where each
// variable comes from, Secrets, ConfigMaps and volumes of each type, mounts, security contexts,
// labels) must be the template's. Only the Job's name and the environment values `npm run cli`
// fills in (the restore target or snapshot) may differ, plus what the API server fills in
// itself and what grants nothing (resources, pull policy, termination message, file modes).
// Operators may create no Pod or other workload (their Role does not allow it; the policy
// refuses it too).
//
// Every expected value is derived from the synthesised template objects: each condition is a
// JMESPath projection of the admitted Job, and its expected value is that projection evaluated
// on the template (lib/jmespath.ts evaluates it as Kyverno's fork of go-jmespath does). Kyverno's
// Equals compares lists with reflect.DeepEqual, so every projection is a list of lists of
// strings: scalars go through to_string() (a missing field reads "null", not false or "").
// Kyverno's `{{ }}` variables allow no nested braces, so the projections use multi-select lists
// only. Jobs created by anyone else (Argo CD, the CronJob controller for the restore drill) are
// not matched: `match` names the operator group (Kyverno: match.any[].subjects,
// https://kyverno.io/docs/policy-types/cluster-policy/match-exclude/), which needs
// `background: false` (https://kyverno.io/docs/policy-types/cluster-policy/variables/).
import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import {
  ClusterPolicy,
  ClusterPolicySpecFailurePolicy,
  ClusterPolicySpecRulesMatchAnyResourcesOperations as Operation,
  ClusterPolicySpecRulesValidateFailureAction,
} from '../../imports/clusterpolicy-kyverno.io';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { IMAGES, imageRef } from '../../lib/images';
import { type Json, search } from '../../lib/jmespath';
import { ON_DEMAND_FOLDER } from '../../lib/layers';
import { prefixed } from '../../lib/names';
import { operatorGroup } from './operator-access-chart';

/** The labels the API server adds to a Job's pod template (kubernetes pkg/registry/batch/job/strategy.go, generateSelector). */
export const JOB_CONTROLLER_LABELS = ['batch.kubernetes.io/controller-uid', 'batch.kubernetes.io/job-name', 'controller-uid', 'job-name'] as const;

/**
 * Keys of the pod template an operator's Job may have although the template does not pin them:
 * what the API server fills in (kubernetes pkg/apis/core/v1/defaults.go: SetDefaults_PodSpec,
 * SetDefaults_Container, the volume sources' defaultMode, ObjectFieldSelector's apiVersion; the
 * serialised template's creationTimestamp) and what grants nothing (resources, bounded by the
 * namespace's ResourceQuota and LimitRange; an emptyDir's size and medium). Paths are from the
 * pod template; `containers` stands for initContainers too.
 */
export const FREE_KEYS: Readonly<Record<string, readonly string[]>> = {
  metadata: ['creationTimestamp'],
  'metadata.labels': JOB_CONTROLLER_LABELS,
  spec: ['dnsPolicy', 'schedulerName', 'terminationGracePeriodSeconds'],
  'spec.containers[]': ['imagePullPolicy', 'resources', 'terminationMessagePath', 'terminationMessagePolicy'],
  'spec.containers[].env[].valueFrom.fieldRef': ['apiVersion'],
  'spec.volumes[].configMap': ['defaultMode'],
  'spec.volumes[].secret': ['defaultMode'],
  'spec.volumes[].emptyDir': ['medium', 'sizeLimit'],
};

/** Workloads operators never create (their Role grants Jobs only). */
export const OPERATOR_FORBIDDEN_KINDS = ['Pod', 'CronJob', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController'] as const;

/** A synthesised on-demand Job, as it is written to dist/<env>/on-demand/. */
export interface JobTemplate {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: {
    readonly backoffLimit?: number;
    readonly template: { readonly metadata?: Record<string, Json>; readonly spec: Record<string, Json> & { serviceAccountName?: string } };
  };
}

export interface OperatorJobPolicyChartProps extends ChartProps {
  /** Where operators may create Jobs (their Role). */
  readonly jobNamespaces: readonly string[];
  /** The on-demand Job templates (`onDemandJobs(app)`). */
  readonly templates: readonly JobTemplate[];
  /** Per template name, the environment variables whose values `npm run cli` sets. */
  readonly inputs: Readonly<Record<string, readonly string[]>>;
}

/** The Jobs of every on-demand chart of `scope`'s app, as they synthesise. */
export function onDemandJobs(scope: Construct): JobTemplate[] {
  return (
    scope.node.root.node
      .findAll()
      // By the chart's folder: cdk8s's Chart answers instanceof for every chart.
      .filter((c): c is ApiObject => c instanceof ApiObject && c.kind === 'Job' && (Chart.of(c) as PlatformChart).layer === ON_DEMAND_FOLDER)
      .map((o) => o.toJson() as JobTemplate)
  );
}

/** One Kyverno condition. */
export interface Condition {
  readonly key: string;
  readonly operator: 'Equals' | 'NotEquals' | 'AnyIn' | 'AnyNotIn';
  readonly value: Json;
  readonly message?: string;
}

const POD = 'request.object.spec.template';
const isScalar = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const field = (key: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key));
const raw = (s: string) => `'${s.replace(/'/g, "\\'")}'`;
/** The FREE_KEYS entry of a path (initContainers read as containers). */
const freeAt = (path: string) => FREE_KEYS[path.replace(/^spec\.initContainers\[\]/, 'spec.containers[]')] ?? [];

/** The projections that pin one template's pod, and the keys each of its objects may have. */
export function templateConditions(template: JobTemplate, inputs: readonly string[] = []): Condition[] {
  const keyChecks: Condition[] = [];
  const what = `${template.metadata.namespace}/${template.metadata.name}`;

  /** The JMESPath (relative to the parent) that projects `expr` given the template's values there. */
  const project = (expr: string, values: (Json | undefined)[], path: string): string => {
    const present = values.filter((v): v is Json => v !== undefined && v !== null);
    if (present.every(isScalar)) return `to_string(${expr})`;
    if (present.every(Array.isArray)) {
      const items = present.flat();
      if (items.every(isScalar)) return `${expr} || \`[]\``;
      if (items.every(isObject)) return `${expr}[]${objectRhs(items, `${path}[]`)} || \`[]\``;
    }
    if (present.every(isObject)) return `${expr}${objectRhs(present, path)} || \`[]\``;
    throw new Error(`${what}: ${path} mixes types; the operator-job policy cannot project it`);
  };

  /** The keys the objects at `path` may have: the template's and the free ones. */
  const keysCheck = (path: string, keys: readonly string[]) => {
    const allowed = [...new Set([...keys, ...freeAt(path)])].sort();
    const keysOf = /\[\]/.test(path) ? `${POD}.${path}.keys(@)[]` : `${POD}.${path}.keys(@)`;
    keyChecks.push({ key: `{{ ${keysOf} }}`, operator: 'AnyNotIn', value: allowed, message: `${path} may hold only ${allowed.join(', ')}` });
  };

  /** `.[...]`: the pinned keys of these objects, in order; and the keys they may have. */
  const objectRhs = (objects: Record<string, Json>[], path: string): string => {
    const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))].sort();
    const free = freeAt(path);
    const envInputs = /^spec\.(init)?[cC]ontainers\[\]$/.test(path) && inputs.length > 0 && keys.includes('env');
    const excluded = /\.env\[\]$/.test(path) && inputs.length > 0 ? ['value'] : [];
    keysCheck(path, keys);
    const pinned = keys.filter((k) => !free.includes(k) && !excluded.includes(k));
    const items = pinned.map((k) =>
      project(
        field(k),
        objects.map((o) => o[k]),
        `${path}.${field(k)}`,
      ),
    );
    // The values of the variables `npm run cli` fills in are free; every other variable's value is pinned.
    if (envInputs) items.push(`env[?${inputs.map((name) => `name != ${raw(name)}`).join(' && ')}].to_string(value) || \`[]\``);
    return items.length ? `.[${items.join(', ')}]` : '.[type(@)]';
  };

  const pod = template.spec.template as unknown as Record<string, Record<string, Json>>;
  const conditions: Condition[] = [];
  const pin = (path: string, value: Json, message: string) => {
    const key = `[${project(`${POD}.${path}`, [value], path)}]`;
    conditions.push({ key: `{{ ${key} }}`, operator: 'NotEquals', value: search(key, { request: { object: template as unknown as Json } }), message });
  };
  for (const part of ['metadata', 'spec'] as const) {
    const object = pod[part] ?? {};
    keysCheck(part, Object.keys(object));
    for (const [key, value] of Object.entries(object).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (freeAt(part).includes(key)) continue;
      pin(`${part}.${field(key)}`, value, `${part === 'metadata' ? "the pod's " : ''}${key} must be the template's`);
    }
  }
  // The Job runs its pod once, as the template does, and selects its own pods.
  const backoffLimit = template.spec.backoffLimit;
  if (backoffLimit === undefined) throw new Error(`${what}: an on-demand Job sets backoffLimit (the API server's default retries it six times)`);
  const job =
    '[to_string(request.object.spec.backoffLimit), to_string(request.object.spec.parallelism || `1`), to_string(request.object.spec.completions || `1`), to_string(request.object.spec.manualSelector || `false`)]';
  conditions.unshift({
    key: `{{ ${job} }}`,
    operator: 'NotEquals',
    value: search(job, { request: { object: template as unknown as Json } }),
    message: "the Job runs one pod, with the template's backoffLimit, and selects its own pods",
  });
  for (const c of [...conditions, ...keyChecks]) assertLiteral(c.value, what);
  return [...conditions, ...keyChecks];
}

/** Kyverno substitutes `{{ }}` and `$( )` in a condition's value too: a template value must hold neither. */
function assertLiteral(value: Json, what: string): void {
  if (value === null) throw new Error(`${what}: an expected value is null (cdk8s would drop it)`);
  if (typeof value === 'string' && /\{\{|\$\(/.test(value))
    throw new Error(`${what}: "${value}" would be read by Kyverno as a variable; the operator-job policy cannot pin it`);
  if (Array.isArray(value)) value.forEach((v) => assertLiteral(v, what));
}

/** Every image the platform pins (lib/images.ts), as pods name them. */
const PINNED_IMAGES = new Set(Object.values(IMAGES).map(imageRef));

/**
 * Refuses templates the policy could not tell apart or could not vouch for: one without a
 * ServiceAccount, one outside the namespaces operators start Jobs in, two sharing a
 * ServiceAccount, or one running an image that is not pinned.
 */
function assertTemplates(templates: readonly JobTemplate[], jobNamespaces: readonly string[]): void {
  for (const t of templates) {
    const sa = t.spec.template.spec.serviceAccountName;
    if (!sa) throw new Error(`on-demand Job ${t.metadata.name} names no ServiceAccount`);
    if (!jobNamespaces.includes(t.metadata.namespace))
      throw new Error(`on-demand Job ${t.metadata.name} is in ${t.metadata.namespace}, where operators cannot create Jobs`);
    const shared = templates.find((o) => o !== t && o.metadata.namespace === t.metadata.namespace && o.spec.template.spec.serviceAccountName === sa);
    if (shared)
      throw new Error(`on-demand Jobs ${t.metadata.name} and ${shared.metadata.name} share the ServiceAccount ${sa}: the policy tells templates apart by it`);
    const pod = t.spec.template.spec as { containers?: { image: string }[]; initContainers?: { image: string }[] };
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      if (!PINNED_IMAGES.has(c.image)) throw new Error(`on-demand Job ${t.metadata.name} runs ${c.image}, which is not pinned in lib/images.ts`);
    }
  }
}

export class OperatorJobPolicyChart extends PlatformChart {
  public readonly policyName: string;

  constructor(scope: Construct, id: string, props: OperatorJobPolicyChartProps) {
    super(scope, id, props);
    const prefix = this.platform.prefix;
    const namespaces = Object.values(this.platform.namespaces);
    this.policyName = prefixed(prefix, 'operator-jobs-from-templates');
    const group = operatorGroup(prefix);
    const subjects = [{ kind: 'Group', name: group }];
    const operations = [Operation.CREATE, Operation.UPDATE];
    const enforce = (message: string, conditions: Condition[]) => ({
      failureAction: ClusterPolicySpecRulesValidateFailureAction.ENFORCE,
      // An operator's change to an existing Job is judged on the new Job alone.
      allowExistingViolations: false,
      message,
      deny: { conditions: { any: conditions } },
    });

    const templates = [...props.templates].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    assertTemplates(templates, props.jobNamespaces);

    const rules = [
      // Their ServiceAccount must be one of the templates' in the namespace.
      ...props.jobNamespaces.map((ns) => {
        const accounts = templates.filter((t) => t.metadata.namespace === ns).map((t) => t.spec.template.spec.serviceAccountName!);
        return {
          name: `service-account-${ns}`,
          match: { any: [{ resources: { kinds: ['Job'], namespaces: [ns], operations }, subjects }] },
          skipBackgroundRequests: true,
          validate: enforce(
            `An operator's Job in ${ns} runs as the ServiceAccount of an on-demand template (${accounts.join(', ') || 'none here'}); create it with npm run cli.`,
            [{ key: "{{ request.object.spec.template.spec.serviceAccountName || '' }}", operator: 'AnyNotIn', value: accounts }],
          ),
        };
      }),
      // With a template's ServiceAccount, it must be that template.
      ...templates.map((t) => {
        const inputs = props.inputs[t.metadata.name] ?? [];
        const sa = t.spec.template.spec.serviceAccountName!;
        return {
          name: `template-${t.metadata.name}`,
          match: { any: [{ resources: { kinds: ['Job'], namespaces: [t.metadata.namespace], operations }, subjects }] },
          preconditions: { all: [{ key: '{{ [request.object.spec.template.spec.serviceAccountName] }}', operator: 'Equals', value: [sa] }] },
          skipBackgroundRequests: true,
          validate: enforce(
            `An operator's Job with the ServiceAccount ${sa} must be the on-demand template ${t.metadata.name} (dist/${this.instance}/on-demand/) with only its name${inputs.length ? ` and the values of ${inputs.join(', ')}` : ''} changed, as npm run cli creates it`,
            templateConditions(t, inputs),
          ),
        };
      }),
      // No Pod or other workload, and no Job where operators start none.
      {
        name: 'no-other-workloads',
        match: {
          any: [
            { resources: { kinds: [...OPERATOR_FORBIDDEN_KINDS], namespaces, operations }, subjects },
            ...(namespaces.some((ns) => !props.jobNamespaces.includes(ns))
              ? [{ resources: { kinds: ['Job'], namespaces: namespaces.filter((ns) => !props.jobNamespaces.includes(ns)), operations }, subjects }]
              : []),
          ],
        },
        skipBackgroundRequests: true,
        validate: enforce('Operators start on-demand Jobs only (npm run cli restore, loadtest); workloads are deployed by Argo CD.', [
          { key: '{{ request.operation }}', operator: 'AnyIn', value: ['CREATE', 'UPDATE'] },
        ]),
      },
    ];

    new ClusterPolicy(this, 'policy', {
      metadata: this.metadata({
        objectName: this.policyName,
        name: 'kyverno',
        component: 'operator-policy',
        annotations: {
          'policies.kyverno.io/title': 'Operators start the on-demand templates only',
          'policies.kyverno.io/description': `Jobs that the group ${group} creates or changes must be one of the on-demand templates, unchanged but for their name and the values npm run cli sets; that group creates no other workload.`,
          // The rules name their kinds; Kyverno must not derive Job or CronJob rules from the Pod one.
          'pod-policies.kyverno.io/autogen-controllers': 'none',
        },
      }),
      spec: {
        admission: true,
        // request.userInfo exists only at admission.
        background: false,
        emitWarning: false,
        // Kyverno unreachable: operators' Jobs are refused rather than admitted unchecked.
        failurePolicy: ClusterPolicySpecFailurePolicy.FAIL,
        webhookTimeoutSeconds: 10,
        rules,
      },
    });
  }
}
