// Rules about every object: schema validity, names, namespaces, labels, selectors and secrets.
import { LABEL, MANAGED_BY, PART_OF } from '../../lib/labels';
import { containersOf, podTemplate } from '../objects';
import { schemaErrors } from '../schema';
import { isClusterScoped, type Rule, v } from './rule';

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const CDK8S_HASH = /-c8[0-9a-f]{6}$/;
/**
 * Selector labels: the stable three, and on CloudNativePG's pods the operator's own (it overwrites
 * the app.kubernetes.io labels of pooler pods, and these are the ones it keeps stable).
 */
const SELECTOR_KEYS = new Set<string>([LABEL.name, LABEL.instance, LABEL.component, 'cnpg.io/cluster', 'cnpg.io/podRole', 'cnpg.io/poolerName']);
const SECRET_NAME = /password|passwd|token|secret|bearer|key|credential/i;

export const OBJECT_RULES: readonly Rule[] = [
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
      if (obj.kind === 'PodDisruptionBudget')
        selectors.push(['spec.selector.matchLabels', (spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels]);
      if (obj.kind === 'NetworkPolicy')
        selectors.push(['spec.podSelector.matchLabels', (spec?.podSelector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels]);
      return selectors.flatMap(([path, sel]) =>
        Object.keys(sel ?? {})
          .filter((k) => !SELECTOR_KEYS.has(k))
          .map((k) => v(`${path}.${k}`, 'is not a stable selector label: select by name, instance and component only')),
      );
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
          if (obj[key] !== undefined)
            out.push(v(key, 'a Secret with values must never be in dist/: use an ExternalSecret (staging, production) or the CLI (dev)'));
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
];
