// Rules about namespaces and network policies.
import { containersOf, describe, matches, podTemplate } from '../objects';
import { type Rule, v } from './rule';

export const NETWORK_RULES: readonly Rule[] = [
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
      type Spec = {
        podSelector?: { matchLabels?: object };
        policyTypes?: string[];
        ingress?: unknown[];
        egress?: { ports?: { port?: number; protocol?: string }[] }[];
      };
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
    description: "every workload's pods are selected by a NetworkPolicy of their own, with ingress and egress rules",
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
      type Rule = {
        ports?: { port?: number | string }[];
        from?: { namespaceSelector?: { matchLabels?: Record<string, string> }; podSelector?: { matchLabels?: Record<string, string> } }[];
      };
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
            (rule.from ?? []).every(
              (peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'prometheus' && peer.namespaceSelector?.matchLabels !== undefined,
            );
          if (!onlyPrometheus) {
            out.push(
              v(
                `${describe(policy)} spec.ingress[${i}]`,
                `reaches the metrics port ${metricsPorts.join(', ')} from peers other than Prometheus: give metrics their own rule admitting the observability chart's prometheus.api.peer`,
              ),
            );
          }
        });
      }
      return out;
    },
  },
];
