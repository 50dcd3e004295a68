// Rules about pods: the restricted profile, host isolation, resources, probes, identity and images.
import { ALLOWED_REGISTRIES, IMAGES } from '../../lib/images';
import { IMAGE_DIGEST_EXCEPTIONS } from '../../lib/exemptions';
import { parseQuantity } from '../../lib/quantity';
import { containersOf, describe, imagesOf, LONG_RUNNING, podTemplate } from '../objects';
import { type Rule, v } from './rule';

const ALLOWED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

export const POD_RULES: readonly Rule[] = [
  {
    id: 'pod-security',
    description: 'pods run as a non-root UID/GID above 10000 with seccomp RuntimeDefault',
    refs: ['R2', 'KSV-0020', 'KSV-0021', 'KSV-0030', 'CKV_K8S_40'],
    check: (obj) => {
      const t = podTemplate(obj);
      if (!t) return [];
      const out: ReturnType<typeof v>[] = [];
      const pod = t.spec.securityContext ?? {};
      const base = `${t.path}.spec`;
      const containers = containersOf(t);
      const every = (f: (c: (typeof containers)[number]['container']) => boolean) => containers.length > 0 && containers.every((c) => f(c.container));
      if (pod.runAsNonRoot !== true && !every((c) => c.securityContext?.runAsNonRoot === true))
        out.push(v(`${base}.securityContext.runAsNonRoot`, 'must be true'));
      for (const [field, value] of [
        ['runAsUser', pod.runAsUser],
        ['runAsGroup', pod.runAsGroup],
      ] as const) {
        const effective = containers.map((c) => c.container.securityContext?.[field] ?? value);
        if (effective.some((id) => id === undefined || id <= 10000)) {
          out.push(
            v(
              `${base}.securityContext.${field}`,
              `must be set above 10000 (got ${effective.join(', ') || 'nothing'}): use NON_ROOT_ID or the image's own non-root ID`,
            ),
          );
        }
      }
      const seccompOk = (type?: string) => type === 'RuntimeDefault' || type === 'Localhost';
      if (!seccompOk(pod.seccompProfile?.type) && !every((c) => seccompOk(c.securityContext?.seccompProfile?.type))) {
        out.push(v(`${base}.securityContext.seccompProfile.type`, 'must be RuntimeDefault (pod-level or on every container)'));
      }
      return out;
    },
  },

  {
    id: 'service-account-token',
    description: 'no service-account token in the pod, except for workloads that call the Kubernetes API (exempted with the reason)',
    refs: ['R2', 'R5', 'KSV-0036', 'CKV_K8S_38'],
    check: (obj) => {
      const t = podTemplate(obj);
      if (!t || t.spec.automountServiceAccountToken === false) return [];
      return [
        v(`${t.path}.spec.automountServiceAccountToken`, 'must be false: only workloads that call the Kubernetes API get a token (exempt with a reason)'),
      ];
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
        if (sc.readOnlyRootFilesystem !== true)
          out.push(v(`${path}.securityContext.readOnlyRootFilesystem`, 'must be true: mount an emptyDir for each path the image writes'));
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
        if (type && !ALLOWED_VOLUMES.has(type))
          out.push(v(`${base}.volumes[${String(vol.name)}].${type}`, `volume type ${type} is not allowed by the restricted profile`));
      }
      for (const { path, container } of containersOf(t)) {
        for (const port of container.ports ?? []) {
          if (port.hostPort !== undefined) out.push(v(`${path}.ports[${port.containerPort}].hostPort`, 'must not be set'));
          if (port.containerPort < 1024)
            out.push(v(`${path}.ports[${port.containerPort}].containerPort`, 'must be 1024 or above (no NET_BIND_SERVICE needed)'));
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
          if (!container.readinessProbe) out.push(v(`${path}.readinessProbe`, "missing: probe the service's real readiness endpoint"));
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

  imagePinned(),
];

/** "repo:tag" of each catalogue image -> the reason lib/exemptions.ts gives for running it without a digest. */
export function digestExceptionsByRef(exceptions: Readonly<Record<string, string>> = IMAGE_DIGEST_EXCEPTIONS): Record<string, string> {
  return Object.fromEntries(
    Object.entries(exceptions).flatMap(([name, reason]) => {
      const img = (IMAGES as Record<string, { repository: string; tag: string } | undefined>)[name];
      return img ? [[`${img.repository}:${img.tag}`, reason]] : [];
    }),
  );
}

/**
 * Rule "image-pinned": allowed registry, exact tag or digest everywhere; in production a digest
 * too, unless `exceptions` ("repo:tag" -> reason) excepts the image with a non-empty reason. It
 * reads every image an object names (imagesOf): the containers of pod templates, and the image
 * fields of custom resources outside them, such as CloudNativePG's Cluster.spec.imageName.
 */
export function imagePinned(exceptions: Readonly<Record<string, string>> = digestExceptionsByRef()): Rule {
  return {
    id: 'image-pinned',
    description:
      'every image comes from an allowed registry with an exact version tag or a digest; production images carry a digest unless lib/exemptions.ts excepts them with a reason',
    refs: ['R6', 'CKV_K8S_43', 'KSV-0013', 'KSV-0125', 'OCI distribution spec (manifests by digest)'],
    check: (obj) => {
      const production = obj.metadata.labels?.['app.kubernetes.io/instance'] === 'production';
      return imagesOf(obj).flatMap(({ path, image }) => {
        const [ref = '', digest] = image.split('@');
        const slash = ref.lastIndexOf('/');
        const colon = ref.lastIndexOf(':');
        const tag = colon > slash ? ref.slice(colon + 1) : undefined;
        const registry = ref.split('/')[0] ?? '';
        const out: ReturnType<typeof v>[] = [];
        if (!(ALLOWED_REGISTRIES as readonly string[]).includes(registry))
          out.push(v(path, `"${image}" is not from an allowed registry (${ALLOWED_REGISTRIES.join(', ')}): write the registry explicitly`));
        if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) out.push(v(path, `"${image}" has a malformed digest`));
        if (!digest && (!tag || tag === 'latest' || !/\d+\.\d+/.test(tag)))
          out.push(v(path, `"${image}" is not pinned: use an exact version tag from lib/images.ts`));
        if (production && !digest) {
          const reason = Object.hasOwn(exceptions, ref) ? exceptions[ref] : undefined;
          if (reason === undefined) {
            out.push(
              v(
                path,
                `"${image}" has no digest: production runs images by digest (run \`npm run images -- pin\`), or declare it in lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS with the reason`,
              ),
            );
          } else if (reason.trim() === '') {
            out.push(v(path, `"${image}" is excepted from the digest without a reason: give the reason in lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS`));
          }
        }
        return out;
      });
    },
  };
}
