// The platform's policy rules, each checked against every synthesised object of every
// environment. A rule returns violations that name the object and the field; tool IDs in
// `refs` are the equivalent checks of kube-score, Trivy (KSV), Checkov (CKV) and the rule
// numbers of REFERENCE.md §4.1. An object opts out of one rule only with an annotation
// `exempt.policy.supabase-platform/<rule id>: <reason>`.
import { parseQuantity } from '../../lib/quantity';
import { ALLOWED_REGISTRIES } from '../../lib/images';
import { LABEL, MANAGED_BY, PART_OF } from '../../lib/labels';
import {
  containersOf,
  describe,
  type K8sObject,
  LONG_RUNNING,
  matches,
  podTemplate,
} from './objects';
import { crdScope, schemaErrors } from './schema';

export interface Violation {
  readonly rule: string;
  /** "Deployment supabase/kong" */
  readonly object: string;
  /** Dotted field path within the object. */
  readonly field: string;
  readonly message: string;
}

/** All objects of one environment, for rules that look across objects. */
export interface Context {
  readonly objects: readonly K8sObject[];
}

export interface Rule {
  readonly id: string;
  readonly description: string;
  readonly refs: readonly string[];
  check(obj: K8sObject, ctx: Context): Omit<Violation, 'rule' | 'object'>[];
}

export const EXEMPTION_PREFIX = 'exempt.policy.supabase-platform/';

const v = (field: string, message: string) => ({ field, message });

const CLUSTER_SCOPED_CORE = new Set([
  'Namespace',
  'PriorityClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'PersistentVolume',
  'CustomResourceDefinition',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'IngressClass',
  'RuntimeClass',
]);

export function isClusterScoped(obj: K8sObject): boolean {
  return CLUSTER_SCOPED_CORE.has(obj.kind) || crdScope(obj.apiVersion, obj.kind) === 'Cluster';
}

/** Replicas a workload can run with at least: spec.replicas, or the HPA's minReplicas. */
function minReplicas(obj: K8sObject, ctx: Context): number {
  const hpa = ctx.objects.find((o) => {
    const target = (o.spec as { scaleTargetRef?: { kind?: string; name?: string } } | undefined)?.scaleTargetRef;
    return (
      o.kind === 'HorizontalPodAutoscaler' &&
      o.metadata.namespace === obj.metadata.namespace &&
      target?.kind === obj.kind &&
      target.name === obj.metadata.name
    );
  });
  if (hpa) return (hpa.spec as { minReplicas?: number }).minReplicas ?? 1;
  return (obj.spec as { replicas?: number } | undefined)?.replicas ?? 1;
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const CDK8S_HASH = /-c8[0-9a-f]{6}$/;
const SELECTOR_KEYS = new Set<string>([LABEL.name, LABEL.instance, LABEL.component]);
const SECRET_NAME = /password|passwd|token|secret|bearer|key|credential/i;
const ALLOWED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

export const RULES: readonly Rule[] = [
  {
    id: 'schema',
    description: 'valid against the Kubernetes 1.33 schema (kubernetes-models) or its CRD schema',
    refs: ['kubeconform'],
    check: (obj) =>
      schemaErrors(obj).map((e) => {
        const i = e.indexOf(': ');
        return v(e.slice(0, i), e.slice(i + 2));
      }),
  },
  {
    id: 'explicit-name',
    description: 'every object has an explicit, valid name (not a cdk8s-generated one)',
    refs: ['DESIGN stable names'],
    check: (obj) => {
      const name = obj.metadata.name;
      if (!name) return [v('metadata.name', 'missing: give the object an explicit name')];
      if (name.length > 253 || !DNS_NAME.test(name)) return [v('metadata.name', `"${name}" is not a valid DNS name`)];
      if (CDK8S_HASH.test(name)) return [v('metadata.name', `"${name}" carries a cdk8s hash: set metadata.name explicitly`)];
      return [];
    },
  },
  {
    id: 'namespaced',
    description: 'every namespaced object sets metadata.namespace, and never "default"',
    refs: ['R9', 'KSV-0110', 'CKV_K8S_21'],
    check: (obj) => {
      if (isClusterScoped(obj)) return [];
      const ns = obj.metadata.namespace;
      if (!ns) return [v('metadata.namespace', 'missing: set the namespace explicitly')];
      if (ns === 'default') return [v('metadata.namespace', 'is "default": use one of the platform namespaces')];
      return [];
    },
  },
  {
    id: 'standard-labels',
    description: 'the six app.kubernetes.io labels on every object and pod template',
    refs: ['DESIGN labels'],
    check: (obj) => {
      const out: ReturnType<typeof v>[] = [];
      const checkLabels = (labels: Record<string, string> | undefined, path: string) => {
        for (const key of Object.values(LABEL)) {
          if (!labels?.[key]) out.push(v(`${path}.${key}`, 'missing: build metadata with PlatformChart.metadata()'));
        }
        if (labels?.[LABEL.managedBy] && labels[LABEL.managedBy] !== MANAGED_BY) out.push(v(`${path}.${LABEL.managedBy}`, `must be "${MANAGED_BY}"`));
        if (labels?.[LABEL.partOf] && labels[LABEL.partOf] !== PART_OF) out.push(v(`${path}.${LABEL.partOf}`, `must be "${PART_OF}"`));
      };
      checkLabels(obj.metadata.labels, 'metadata.labels');
      const t = podTemplate(obj);
      if (t) checkLabels(t.labels, `${t.path}.metadata.labels`);
      return out;
    },
  },
  {
    id: 'stable-selectors',
    description: 'selectors use only name, instance and component labels (never version or a pod-template hash)',
    refs: ['R11', 'DESIGN labels'],
    check: (obj) => {
      const spec = obj.spec as Record<string, unknown> | undefined;
      const selectors: [string, Record<string, string> | undefined][] = [];
      if (podTemplate(obj) && obj.kind !== 'Job' && obj.kind !== 'CronJob') {
        const sel = (spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
        if (!sel || Object.keys(sel).length === 0) return [v('spec.selector.matchLabels', 'missing: select pods by selectorLabels()')];
        selectors.push(['spec.selector.matchLabels', sel]);
      }
      if (obj.kind === 'PodDisruptionBudget') selectors.push(['spec.selector.matchLabels', (spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels]);
      if (obj.kind === 'NetworkPolicy') selectors.push(['spec.podSelector.matchLabels', (spec?.podSelector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels]);
      return selectors.flatMap(([path, sel]) =>
        Object.keys(sel ?? {})
          .filter((k) => !SELECTOR_KEYS.has(k))
          .map((k) => v(`${path}.${k}`, 'is not a stable selector label: select by name, instance and component only')),
      );
    },
  },
  {
    id: 'pod-security',
    description: 'pods run as a non-root UID/GID above 10000 with seccomp RuntimeDefault and no service-account token',
    refs: ['R2', 'KSV-0020', 'KSV-0021', 'KSV-0030', 'KSV-0036', 'CKV_K8S_38', 'CKV_K8S_40'],
    check: (obj) => {
      const t = podTemplate(obj);
      if (!t) return [];
      const out: ReturnType<typeof v>[] = [];
      const pod = t.spec.securityContext ?? {};
      const base = `${t.path}.spec`;
      const containers = containersOf(t);
      const every = (f: (c: (typeof containers)[number]['container']) => boolean) => containers.length > 0 && containers.every((c) => f(c.container));
      if (pod.runAsNonRoot !== true && !every((c) => c.securityContext?.runAsNonRoot === true)) out.push(v(`${base}.securityContext.runAsNonRoot`, 'must be true'));
      for (const [field, value] of [['runAsUser', pod.runAsUser], ['runAsGroup', pod.runAsGroup]] as const) {
        const effective = containers.map((c) => c.container.securityContext?.[field] ?? value);
        if (effective.some((id) => id === undefined || id <= 10000)) {
          out.push(v(`${base}.securityContext.${field}`, `must be set above 10000 (got ${effective.join(', ') || 'nothing'}): use NON_ROOT_ID or the image's own non-root ID`));
        }
      }
      const seccompOk = (type?: string) => type === 'RuntimeDefault' || type === 'Localhost';
      if (!seccompOk(pod.seccompProfile?.type) && !every((c) => seccompOk(c.securityContext?.seccompProfile?.type))) {
        out.push(v(`${base}.securityContext.seccompProfile.type`, 'must be RuntimeDefault (pod-level or on every container)'));
      }
      if (t.spec.automountServiceAccountToken !== false) out.push(v(`${base}.automountServiceAccountToken`, 'must be false: only workloads that call the Kubernetes API get a token (exempt with a reason)'));
      return out;
    },
  },
  {
    id: 'container-security',
    description: 'every container: no privilege, no escalation, capabilities dropped, read-only root filesystem',
    refs: ['R3', 'KSV-0001', 'KSV-0003', 'KSV-0014', 'KSV-0017', 'CKV_K8S_20', 'CKV_K8S_28'],
    check: (obj) => {
      const t = podTemplate(obj);
      if (!t) return [];
      return containersOf(t).flatMap(({ path, container }) => {
        const sc = container.securityContext ?? {};
        const out: ReturnType<typeof v>[] = [];
        if (sc.allowPrivilegeEscalation !== false) out.push(v(`${path}.securityContext.allowPrivilegeEscalation`, 'must be false'));
        if (sc.privileged === true) out.push(v(`${path}.securityContext.privileged`, 'must not be true'));
        if (sc.runAsNonRoot === false) out.push(v(`${path}.securityContext.runAsNonRoot`, 'must not be false'));
        if (sc.readOnlyRootFilesystem !== true) out.push(v(`${path}.securityContext.readOnlyRootFilesystem`, 'must be true: mount an emptyDir for each path the image writes'));
        if (!sc.capabilities?.drop?.includes('ALL')) out.push(v(`${path}.securityContext.capabilities.drop`, 'must include ALL'));
        const added = (sc.capabilities?.add ?? []).filter((c) => c !== 'NET_BIND_SERVICE');
        if (added.length) out.push(v(`${path}.securityContext.capabilities.add`, `may only add NET_BIND_SERVICE, not ${added.join(', ')}`));
        return out;
      });
    },
  },
  {
    id: 'host-isolation',
    description: 'no host namespaces, host ports or hostPath; only restricted volume types; ports at 1024 or above',
    refs: ['R4', 'KSV-0008', 'KSV-0009', 'KSV-0010', 'KSV-0023', 'KSV-0024', 'KSV-0117'],
    check: (obj) => {
      const t = podTemplate(obj);
      if (!t) return [];
      const out: ReturnType<typeof v>[] = [];
      const base = `${t.path}.spec`;
      for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
        if (t.spec[key] === true) out.push(v(`${base}.${key}`, 'must not be true'));
      }
      for (const vol of t.spec.volumes ?? []) {
        const type = Object.keys(vol).find((k) => k !== 'name');
        if (type && !ALLOWED_VOLUMES.has(type)) out.push(v(`${base}.volumes[${String(vol.name)}].${type}`, `volume type ${type} is not allowed by the restricted profile`));
      }
      for (const { path, container } of containersOf(t)) {
        for (const port of container.ports ?? []) {
          if (port.hostPort !== undefined) out.push(v(`${path}.ports[${port.containerPort}].hostPort`, 'must not be set'));
          if (port.containerPort < 1024) out.push(v(`${path}.ports[${port.containerPort}].containerPort`, 'must be 1024 or above (no NET_BIND_SERVICE needed)'));
        }
      }
      return out;
    },
  },
  {
    id: 'resources',
    description: 'every container has cpu, memory and ephemeral-storage requests and limits, limits not below requests',
    refs: ['R7', 'KSV-0011', 'KSV-0015', 'KSV-0016', 'KSV-0018', 'CKV_K8S_10', 'CKV_K8S_11', 'CKV_K8S_12', 'CKV_K8S_13'],
    check: (obj) => {
      const t = podTemplate(obj);
      if (!t) return [];
      return containersOf(t).flatMap(({ path, container }) =>
        ['cpu', 'memory', 'ephemeral-storage'].flatMap((res) => {
          const request = container.resources?.requests?.[res];
          const limit = container.resources?.limits?.[res];
          const out: ReturnType<typeof v>[] = [];
          if (request === undefined) out.push(v(`${path}.resources.requests.${res}`, 'missing: set it from the environment'));
          if (limit === undefined) out.push(v(`${path}.resources.limits.${res}`, 'missing: set it from the environment'));
          if (request !== undefined && limit !== undefined) {
            const [r, l] = [parseQuantity(String(request)), parseQuantity(String(limit))];
            if (r === undefined || l === undefined) out.push(v(`${path}.resources.${res}`, 'is not a valid quantity'));
            else if (l < r) out.push(v(`${path}.resources.limits.${res}`, `${limit} is below the request ${request}`));
          }
          return out;
        }),
      );
    },
  },
  {
    id: 'probes',
    description: 'long-running containers have a readiness and a liveness probe, and they differ',
    refs: ['R7', 'CKV_K8S_8', 'CKV_K8S_9', 'kube-score pod-probes'],
    check: (obj) => {
      const t = podTemplate(obj);
      if (!t || !LONG_RUNNING.has(obj.kind)) return [];
      return containersOf(t)
        .filter((c) => !c.init)
        .flatMap(({ path, container }) => {
          const out: ReturnType<typeof v>[] = [];
          if (!container.readinessProbe) out.push(v(`${path}.readinessProbe`, 'missing: probe the service\'s real readiness endpoint'));
          if (!container.livenessProbe) out.push(v(`${path}.livenessProbe`, 'missing: add a liveness probe'));
          if (container.readinessProbe && JSON.stringify(container.readinessProbe) === JSON.stringify(container.livenessProbe)) {
            out.push(v(`${path}.livenessProbe`, 'is the same as the readiness probe: liveness should only catch a hung process'));
          }
          return out;
        });
    },
  },
  {
    id: 'service-account',
    description: 'every workload runs as its own ServiceAccount (not shared, not default), which the platform creates',
    refs: ['R5', 'CKV_K8S_41', 'kube-linter default-service-account'],
    check: (obj, ctx) => {
      const t = podTemplate(obj);
      if (!t) return [];
      const name = t.spec.serviceAccountName;
      const field = `${t.path}.spec.serviceAccountName`;
      if (!name || name === 'default') return [v(field, 'must name the workload\'s own ServiceAccount, never "default"')];
      const out: ReturnType<typeof v>[] = [];
      const exists = ctx.objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === name && o.metadata.namespace === obj.metadata.namespace);
      if (!exists) out.push(v(field, `ServiceAccount "${name}" is not part of the platform: create it with serviceAccount()`));
      const sharers = ctx.objects.filter(
        (o) => o !== obj && o.metadata.namespace === obj.metadata.namespace && podTemplate(o)?.spec.serviceAccountName === name,
      );
      if (sharers.length) out.push(v(field, `ServiceAccount "${name}" is shared with ${sharers.map(describe).join(', ')}: give each workload its own`));
      return out;
    },
  },
  {
    id: 'no-secret-values',
    description: 'no Secret with data, and no secret-looking environment variable with a literal value',
    refs: ['R16', 'R17', 'CKV_K8S_35', 'Polaris sensitiveContainerEnvVar'],
    check: (obj) => {
      const out: ReturnType<typeof v>[] = [];
      if (obj.kind === 'Secret') {
        for (const key of ['data', 'stringData']) {
          if (obj[key] !== undefined) out.push(v(key, 'a Secret with values must never be in dist/: use an ExternalSecret (staging, production) or the CLI (dev)'));
        }
      }
      const t = podTemplate(obj);
      for (const { path, container } of t ? containersOf(t) : []) {
        // A path into a mounted volume names where a secret file is (the preferred way), not the secret.
        const mounts = ((container as { volumeMounts?: { mountPath: string }[] }).volumeMounts ?? []).map((m) => m.mountPath.replace(/\/$/, ''));
        const isMountedPath = (value: string) => mounts.some((m) => value.startsWith(`${m}/`));
        for (const env of container.env ?? []) {
          if (SECRET_NAME.test(env.name) && env.value !== undefined && !isMountedPath(env.value)) {
            out.push(v(`${path}.env[${env.name}].value`, 'looks like a secret: read it with valueFrom.secretKeyRef'));
          }
        }
      }
      return out;
    },
  },
  {
    id: 'image-pinned',
    description: 'every image comes from an allowed registry with an exact version tag or a digest',
    refs: ['R6', 'CKV_K8S_43', 'KSV-0013', 'KSV-0125'],
    check: (obj) => {
      const t = podTemplate(obj);
      if (!t) return [];
      return containersOf(t).flatMap(({ path, container }) => {
        const image = container.image ?? '';
        const [ref = '', digest] = image.split('@');
        const slash = ref.lastIndexOf('/');
        const colon = ref.lastIndexOf(':');
        const tag = colon > slash ? ref.slice(colon + 1) : undefined;
        const registry = ref.split('/')[0] ?? '';
        const out: ReturnType<typeof v>[] = [];
        if (!(ALLOWED_REGISTRIES as readonly string[]).includes(registry)) out.push(v(`${path}.image`, `"${image}" is not from an allowed registry (${ALLOWED_REGISTRIES.join(', ')}): write the registry explicitly`));
        if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) out.push(v(`${path}.image`, `"${image}" has a malformed digest`));
        if (!digest && (!tag || tag === 'latest' || !/\d+\.\d+/.test(tag))) out.push(v(`${path}.image`, `"${image}" is not pinned: use an exact version tag from lib/images.ts`));
        return out;
      });
    },
  },
  {
    id: 'availability',
    description: 'a workload with more than one replica has a PDB, hostname anti-affinity and zone spread',
    refs: ['R8', 'kube-linter no-anti-affinity', 'Polaris topologySpreadConstraint'],
    check: (obj, ctx) => {
      const t = podTemplate(obj);
      if (!t || !LONG_RUNNING.has(obj.kind) || obj.kind === 'DaemonSet' || minReplicas(obj, ctx) <= 1) return [];
      const out: ReturnType<typeof v>[] = [];
      const pdb = ctx.objects.find(
        (o) => o.kind === 'PodDisruptionBudget' && o.metadata.namespace === obj.metadata.namespace && matches((o.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? { '': 'never' }, t.labels),
      );
      if (!pdb) out.push(v('(object)', 'has more than one replica but no PodDisruptionBudget selects its pods: use availability()'));
      const anti = t.spec.affinity?.podAntiAffinity;
      const hostname = [...(anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => p.podAffinityTerm?.topologyKey), ...(anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => p.topologyKey)];
      if (!hostname.includes('kubernetes.io/hostname')) out.push(v(`${t.path}.spec.affinity.podAntiAffinity`, 'missing kubernetes.io/hostname anti-affinity'));
      if (!(t.spec.topologySpreadConstraints ?? []).some((c) => c.topologyKey === 'topology.kubernetes.io/zone')) out.push(v(`${t.path}.spec.topologySpreadConstraints`, 'missing a topology.kubernetes.io/zone spread constraint'));
      return out;
    },
  },
  {
    id: 'pdb-allows-eviction',
    description: 'a PodDisruptionBudget lets at least one pod be evicted, and never blocks on unhealthy pods',
    refs: ['R8', 'kube-linter pdb-unhealthy-pod-eviction-policy'],
    check: (obj, ctx) => {
      if (obj.kind !== 'PodDisruptionBudget') return [];
      const spec = (obj.spec ?? {}) as { maxUnavailable?: number | string; minAvailable?: number | string; unhealthyPodEvictionPolicy?: string; selector?: { matchLabels?: Record<string, string> } };
      const out: ReturnType<typeof v>[] = [];
      if (spec.unhealthyPodEvictionPolicy !== 'AlwaysAllow') out.push(v('spec.unhealthyPodEvictionPolicy', 'must be AlwaysAllow so a crash-looping pod cannot block a drain'));
      if (spec.maxUnavailable !== undefined && (spec.maxUnavailable === 0 || spec.maxUnavailable === '0%')) out.push(v('spec.maxUnavailable', 'is 0: no pod could ever be evicted'));
      if (spec.minAvailable !== undefined) {
        const targets = ctx.objects.filter((o) => LONG_RUNNING.has(o.kind) && o.metadata.namespace === obj.metadata.namespace && matches(spec.selector?.matchLabels ?? { '': 'never' }, podTemplate(o)?.labels ?? {}));
        for (const target of targets) {
          const replicas = minReplicas(target, ctx);
          if (spec.minAvailable === '100%' || (typeof spec.minAvailable === 'number' && spec.minAvailable >= replicas)) {
            out.push(v('spec.minAvailable', `${spec.minAvailable} with ${replicas} replica(s) of ${describe(target)} blocks every eviction`));
          }
        }
      }
      return out;
    },
  },
  {
    id: 'namespace-pod-security',
    description: 'every namespace enforces, audits and warns the Pod Security "restricted" profile at a pinned version',
    refs: ['R1'],
    check: (obj) => {
      if (obj.kind !== 'Namespace') return [];
      const labels = obj.metadata.labels ?? {};
      return ['enforce', 'audit', 'warn'].flatMap((mode) => {
        const key = `pod-security.kubernetes.io/${mode}`;
        const out: ReturnType<typeof v>[] = [];
        if (labels[key] !== 'restricted') out.push(v(`metadata.labels.${key}`, 'must be "restricted"'));
        if (!/^v\d+\.\d+$/.test(labels[`${key}-version`] ?? '')) out.push(v(`metadata.labels.${key}-version`, 'must pin a Kubernetes version such as v1.33'));
        return out;
      });
    },
  },
  {
    id: 'namespace-network-baseline',
    description: 'every namespace has a default-deny NetworkPolicy for ingress and egress, and DNS egress',
    refs: ['R10', 'R12'],
    check: (obj, ctx) => {
      if (obj.kind !== 'Namespace') return [];
      const policies = ctx.objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === obj.metadata.name);
      type Spec = { podSelector?: { matchLabels?: object }; policyTypes?: string[]; ingress?: unknown[]; egress?: { ports?: { port?: number; protocol?: string }[] }[] };
      const all = (s: Spec) => Object.keys(s.podSelector?.matchLabels ?? {}).length === 0;
      const deny = policies.some((p) => {
        const s = p.spec as Spec;
        return all(s) && s.policyTypes?.includes('Ingress') && s.policyTypes.includes('Egress') && !s.ingress?.length && !s.egress?.length;
      });
      const dns = policies.some((p) => {
        const s = p.spec as Spec;
        const ports = (s.egress ?? []).flatMap((e) => e.ports ?? []);
        return all(s) && ['UDP', 'TCP'].every((proto) => ports.some((port) => port.port === 53 && port.protocol === proto));
      });
      const out: ReturnType<typeof v>[] = [];
      if (!deny) out.push(v('(namespace)', 'has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)'));
      if (!dns) out.push(v('(namespace)', 'has no NetworkPolicy allowing DNS egress on UDP and TCP 53'));
      return out;
    },
  },
  {
    id: 'network-policy-coverage',
    description: 'every workload\'s pods are selected by a NetworkPolicy of their own, with ingress and egress rules',
    refs: ['R11', 'R15', 'Polaris missingNetworkPolicy'],
    check: (obj, ctx) => {
      const t = podTemplate(obj);
      if (!t) return [];
      const own = ctx.objects.some((o) => {
        if (o.kind !== 'NetworkPolicy' || o.metadata.namespace !== obj.metadata.namespace) return false;
        const s = o.spec as { podSelector?: { matchLabels?: Record<string, string> }; policyTypes?: string[] };
        const sel = s.podSelector?.matchLabels ?? {};
        return Object.keys(sel).length > 0 && matches(sel, t.labels) && !!s.policyTypes?.includes('Ingress') && !!s.policyTypes.includes('Egress');
      });
      return own ? [] : [v(`${t.path}.metadata.labels`, 'no NetworkPolicy of its own selects these pods: declare who it talks to')];
    },
  },
  {
    id: 'metrics-from-prometheus',
    description: 'a port named "metrics" admits ingress only from Prometheus in the observability namespace',
    refs: ['R14'],
    check: (obj, ctx) => {
      const t = podTemplate(obj);
      if (!t) return [];
      const metricsPorts = containersOf(t).flatMap(({ container }) => (container.ports ?? []).filter((p) => p.name === 'metrics').map((p) => p.containerPort));
      if (metricsPorts.length === 0) return [];
      type Rule = { ports?: { port?: number | string }[]; from?: { namespaceSelector?: { matchLabels?: Record<string, string> }; podSelector?: { matchLabels?: Record<string, string> } }[] };
      const out: ReturnType<typeof v>[] = [];
      for (const policy of ctx.objects) {
        if (policy.kind !== 'NetworkPolicy' || policy.metadata.namespace !== obj.metadata.namespace) continue;
        const spec = policy.spec as { podSelector?: { matchLabels?: Record<string, string> }; ingress?: Rule[] };
        if (!matches(spec.podSelector?.matchLabels, t.labels)) continue;
        (spec.ingress ?? []).forEach((rule, i) => {
          const ports = rule.ports?.map((p) => p.port);
          const coversMetrics = ports === undefined || ports.some((p) => p === 'metrics' || metricsPorts.includes(Number(p)));
          if (!coversMetrics) return;
          const onlyPrometheus =
            (rule.from ?? []).length > 0 &&
            (rule.from ?? []).every((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'prometheus' && peer.namespaceSelector?.matchLabels !== undefined);
          if (!onlyPrometheus) {
            out.push(v(`${describe(policy)} spec.ingress[${i}]`, `reaches the metrics port ${metricsPorts.join(', ')} from peers other than Prometheus: give metrics their own rule with prometheusPeer()`));
          }
        });
      }
      return out;
    },
  },
];

/** Runs every rule on every object; exemptions by annotation need a non-empty reason. */
export function checkAll(objects: readonly K8sObject[], rules: readonly Rule[] = RULES): Violation[] {
  const ctx: Context = { objects };
  const out: Violation[] = [];
  for (const obj of objects) {
    const annotations = obj.metadata.annotations ?? {};
    for (const rule of rules) {
      const reason = annotations[`${EXEMPTION_PREFIX}${rule.id}`];
      if (reason !== undefined && reason.trim().length > 0) continue;
      for (const found of rule.check(obj, ctx)) out.push({ rule: rule.id, object: describe(obj), ...found });
    }
  }
  return out;
}

/** One line per violation: "rule  Kind ns/name  field: message". */
export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((x) => `[${x.rule}] ${x.object} ${x.field}: ${x.message}`).join('\n');
}
