// What the policy rules read: synthesised Kubernetes objects, and the pod templates inside
// workloads, with the path of each field so that a violation can name it.

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** An object and where it came from (dist/<env>/<file>), for messages. */
export interface Located {
  readonly env: string;
  readonly file: string;
  readonly object: K8sObject;
}

/** Kinds that run pods, and where their pod template is. */
const POD_TEMPLATE_PATHS: Record<string, string[]> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
  Rollout: ['spec', 'template'],
};

/** Workloads that run until stopped (as opposed to Jobs): they need probes and availability. */
export const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout']);

export interface Container {
  name: string;
  image?: string;
  ports?: { containerPort: number; hostPort?: number; name?: string }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type?: string };
  };
  readinessProbe?: unknown;
  livenessProbe?: unknown;
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: Container['securityContext'] & { fsGroup?: number };
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Record<string, unknown>[];
  affinity?: {
    podAntiAffinity?: {
      preferredDuringSchedulingIgnoredDuringExecution?: { podAffinityTerm?: { topologyKey?: string } }[];
      requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey?: string }[];
    };
  };
  topologySpreadConstraints?: { topologyKey?: string }[];
}

export interface PodTemplate {
  /** Dotted path of the template, e.g. "spec.template". */
  readonly path: string;
  readonly labels: Record<string, string>;
  readonly spec: PodSpec;
}

export function podTemplate(obj: K8sObject): PodTemplate | undefined {
  const path = POD_TEMPLATE_PATHS[obj.kind];
  if (!path) return undefined;
  let node: unknown = obj;
  for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
  const template = (node ?? {}) as { metadata?: { labels?: Record<string, string> }; spec?: PodSpec };
  return { path: path.join('.'), labels: template.metadata?.labels ?? {}, spec: template.spec ?? {} };
}

/** Every container of a pod, init containers included, with the field path of each. */
export function containersOf(t: PodTemplate): { path: string; container: Container; init: boolean }[] {
  const list = (key: 'containers' | 'initContainers') =>
    (t.spec[key] ?? []).map((container) => ({
      path: `${t.path}.spec.${key}[${container.name}]`,
      container,
      init: key === 'initContainers',
    }));
  return [...list('initContainers'), ...list('containers')];
}

/** Kinds whose `image` keys are patterns or data, not images the cluster runs. */
const NOT_IMAGE_REFERENCES = new Set([
  'ConfigMap',
  'Secret',
  'CustomResourceDefinition',
  'ClusterPolicy',
  'Policy',
  'ValidatingAdmissionPolicy',
  'MutatingAdmissionPolicy',
]);

/**
 * Every image an object names, with the field path of each. The containers of its pod template,
 * as containersOf names them ("" for a container without an image); anywhere else in the object,
 * each string under a key `image` or `imageName`, and the `reference` of an `image` object (an
 * image volume, a CloudNativePG extension). That reaches the images outside pod templates:
 * CloudNativePG Cluster.spec.imageName, an ImageCatalog's spec.images[].image, a Pooler's
 * spec.pgbouncer.image and the containers of its spec.template, and any pod template of a kind
 * POD_TEMPLATE_PATHS does not list.
 */
export function imagesOf(obj: K8sObject): { path: string; image: string }[] {
  if (NOT_IMAGE_REFERENCES.has(obj.kind)) return [];
  const t = podTemplate(obj);
  const out = t ? containersOf(t).map(({ path, container }) => ({ path: `${path}.image`, image: container.image ?? '' })) : [];
  const skip = t ? POD_TEMPLATE_PATHS[obj.kind]!.join('.') : undefined;
  const visit = (node: unknown, path: string): void => {
    if (path === skip || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        const name = (item as { name?: unknown } | null)?.name;
        visit(item, typeof name === 'string' ? `${path}[${name}]` : `${path}.${i}`);
      });
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      if (!path && key === 'metadata') continue;
      const field = path ? `${path}.${key}` : key;
      if ((key === 'image' || key === 'imageName') && typeof value === 'string') out.push({ path: field, image: value });
      else if (key === 'image' && typeof (value as { reference?: unknown } | null)?.reference === 'string')
        out.push({ path: `${field}.reference`, image: (value as { reference: string }).reference });
      else visit(value, field);
    }
  };
  visit(obj, '');
  return out;
}

/** "Deployment supabase/kong" */
export function describe(obj: K8sObject): string {
  const ns = obj.metadata.namespace ? `${obj.metadata.namespace}/` : '';
  return `${obj.kind} ${ns}${obj.metadata.name ?? '(unnamed)'}`;
}

/** True if every label of `selector` is on `labels`. An empty selector matches everything. */
export function matches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}
