// Availability from the replica count: a workload with more than one replica gets a
// PodDisruptionBudget, preferred hostname anti-affinity and zone topology spread (REFERENCE.md R8;
// both forms, because kube-linter accepts only the first and Polaris only the second).
import type { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { Workload } from '../environments/schema';

export interface AvailabilityProps {
  /** Replicas and disruption budget from the environment. */
  readonly workload: Pick<Workload, 'replicas' | 'disruption'>;
  /** The workload's stable selector labels (`selectorLabels`). */
  readonly selector: Record<string, string>;
  /** Metadata for the PodDisruptionBudget (same name and namespace as the workload). */
  readonly metadata: ApiObjectMetadata;
}

/** Scheduling fields for the pod spec; the PDB is created in `scope` with id "pdb". */
export interface Placement {
  readonly affinity?: k8s.Affinity;
  readonly topologySpreadConstraints?: k8s.TopologySpreadConstraint[];
}

export function availability(scope: Construct, props: AvailabilityProps): Placement {
  if (props.workload.replicas <= 1) return {};
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
  return {
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: props.selector } },
          },
        ],
      },
    },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        // Soft, so a single-zone cluster (dev on kind) still schedules every replica.
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: props.selector },
      },
    ],
  };
}
