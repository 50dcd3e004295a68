// Availability from the replica count: a workload with more than one replica gets a
// PodDisruptionBudget, preferred hostname anti-affinity and zone topology spread (docs/security.md, rule "availability";
// both forms, because kube-linter accepts only the first and Polaris only the second).
import type { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { z } from 'zod';
import type { Disruption } from '../environments/fields';

export interface AvailabilityProps {
  /** Replicas and disruption budget from the environment. */
  readonly workload: { readonly replicas: number; readonly disruption?: z.infer<typeof Disruption> };
  /**
   * Give a single-replica workload a PDB too (maxUnavailable 1 unless the environment says
   * otherwise), as Bitnami does for a database primary: it takes effect as soon as replicas grow
   * and declares the disruption policy in one place. @default false
   */
  readonly pdbForSingleReplica?: boolean;
  /** The workload's stable selector labels (`selectorLabels`). */
  readonly selector: Record<string, string>;
  /** Metadata for the PodDisruptionBudget (same name and namespace as the workload). */
  readonly metadata: ApiObjectMetadata;
  /**
   * How strictly replicas are kept apart. "preferred": one per node and an even spread over zones
   * where the scheduler can. "nodes": never two on one node (a replica stays pending rather than
   * share). "zones": never two on one node nor in one zone (needs as many zones as replicas), for
   * replicas that hold a copy of the data. @default "preferred"
   */
  readonly spread?: 'preferred' | 'nodes' | 'zones';
}

/** Scheduling fields for the pod spec; the PDB is created in `scope` with id "pdb". */
export interface Placement {
  readonly affinity?: k8s.Affinity;
  readonly topologySpreadConstraints?: k8s.TopologySpreadConstraint[];
}

export function availability(scope: Construct, props: AvailabilityProps): Placement {
  const several = props.workload.replicas > 1;
  if (!several && !props.pdbForSingleReplica) return {};
  const disruption = props.workload.disruption ?? { maxUnavailable: 1 };
  new k8s.KubePodDisruptionBudget(scope, 'pdb', {
    metadata: props.metadata,
    spec: {
      selector: { matchLabels: props.selector },
      ...('maxUnavailable' in disruption
        ? { maxUnavailable: k8s.IntOrString.fromNumber(disruption.maxUnavailable) }
        : { minAvailable: k8s.IntOrString.fromNumber(disruption.minAvailable) }),
      // A crash-looping pod must not block a node drain (kube-linter pdb-unhealthy-pod-eviction-policy).
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
  if (!several) return {};
  const spread = props.spread ?? 'preferred';
  const onePerNode = { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: props.selector } };
  return {
    affinity: {
      podAntiAffinity:
        spread === 'preferred'
          ? { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: onePerNode }] }
          : { requiredDuringSchedulingIgnoredDuringExecution: [onePerNode] },
    },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        // Soft unless required, so a single-zone cluster (dev on kind) still schedules every replica.
        whenUnsatisfiable: spread === 'zones' ? 'DoNotSchedule' : 'ScheduleAnyway',
        labelSelector: { matchLabels: props.selector },
      },
    ],
  };
}
