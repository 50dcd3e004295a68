// Rules about availability: disruption budgets and spread of multi-replica workloads.
import { describe, LONG_RUNNING, matches, podTemplate } from '../objects';
import { minReplicas, type Rule, v } from './rule';

export const AVAILABILITY_RULES: readonly Rule[] = [
  {
    id: 'availability',
    description: 'a workload with more than one replica has a PDB, hostname anti-affinity and zone spread',
    refs: ['R8', 'kube-linter no-anti-affinity', 'Polaris topologySpreadConstraint'],
    check: (obj, ctx) => {
      const t = podTemplate(obj);
      if (!t || !LONG_RUNNING.has(obj.kind) || obj.kind === 'DaemonSet' || minReplicas(obj, ctx) <= 1) return [];
      const out: ReturnType<typeof v>[] = [];
      const pdb = ctx.objects.find(
        (o) =>
          o.kind === 'PodDisruptionBudget' &&
          o.metadata.namespace === obj.metadata.namespace &&
          matches((o.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? { '': 'never' }, t.labels),
      );
      if (!pdb) out.push(v('(object)', 'has more than one replica but no PodDisruptionBudget selects its pods: use availability()'));
      const anti = t.spec.affinity?.podAntiAffinity;
      const hostname = [
        ...(anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => p.podAffinityTerm?.topologyKey),
        ...(anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => p.topologyKey),
      ];
      if (!hostname.includes('kubernetes.io/hostname')) out.push(v(`${t.path}.spec.affinity.podAntiAffinity`, 'missing kubernetes.io/hostname anti-affinity'));
      if (!(t.spec.topologySpreadConstraints ?? []).some((c) => c.topologyKey === 'topology.kubernetes.io/zone'))
        out.push(v(`${t.path}.spec.topologySpreadConstraints`, 'missing a topology.kubernetes.io/zone spread constraint'));
      return out;
    },
  },

  {
    id: 'pdb-allows-eviction',
    description: 'a PodDisruptionBudget lets at least one pod be evicted, and never blocks on unhealthy pods',
    refs: ['R8', 'kube-linter pdb-unhealthy-pod-eviction-policy'],
    check: (obj, ctx) => {
      if (obj.kind !== 'PodDisruptionBudget') return [];
      const spec = (obj.spec ?? {}) as {
        maxUnavailable?: number | string;
        minAvailable?: number | string;
        unhealthyPodEvictionPolicy?: string;
        selector?: { matchLabels?: Record<string, string> };
      };
      const out: ReturnType<typeof v>[] = [];
      if (spec.unhealthyPodEvictionPolicy !== 'AlwaysAllow')
        out.push(v('spec.unhealthyPodEvictionPolicy', 'must be AlwaysAllow so a crash-looping pod cannot block a drain'));
      if (spec.maxUnavailable !== undefined && (spec.maxUnavailable === 0 || spec.maxUnavailable === '0%'))
        out.push(v('spec.maxUnavailable', 'is 0: no pod could ever be evicted'));
      if (spec.minAvailable !== undefined) {
        const targets = ctx.objects.filter(
          (o) =>
            LONG_RUNNING.has(o.kind) &&
            o.metadata.namespace === obj.metadata.namespace &&
            matches(spec.selector?.matchLabels ?? { '': 'never' }, podTemplate(o)?.labels ?? {}),
        );
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
];
