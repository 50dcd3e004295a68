// Explicit container resources from the environment: requests and limits for cpu, memory and
// ephemeral-storage on every container, exactly as written in the environment file (never
// cdk8s-plus's generic 1 CPU / 512Mi defaults).
import { k8s } from 'cdk8s-plus-33';
import type { Resources } from '../environments/fields';
import { quantity } from './quantity';

/** cpu, memory and ephemeral-storage as Kubernetes quantities, keyed the way the API spells them. */
export function resourceAmounts(a: Resources['requests']): Record<string, k8s.Quantity> {
  return {
    cpu: k8s.Quantity.fromString(a.cpu),
    memory: k8s.Quantity.fromString(a.memory),
    'ephemeral-storage': k8s.Quantity.fromString(a.ephemeralStorage),
  };
}

export function containerResources(r: Resources): k8s.ResourceRequirements {
  return { requests: resourceAmounts(r.requests), limits: resourceAmounts(r.limits) };
}

/**
 * The same resources for a field of an imported CRD (CloudNativePG's): its generated quantity
 * classes serialise `.value`, as k8s.Quantity does, so the one conversion serves every CRD.
 */
export function crdResources<T>(r: Resources): T {
  return containerResources(r) as unknown as T;
}

/**
 * `r` with its memory request and limit raised to at least `memory` (a job that must hold a
 * dataset of that size); everything else unchanged.
 */
export function withMemoryAtLeast(r: Resources, memory: string): Resources {
  const atLeast = (m: string) => (quantity(m) >= quantity(memory) ? m : memory);
  return { requests: { ...r.requests, memory: atLeast(r.requests.memory) }, limits: { ...r.limits, memory: atLeast(r.limits.memory) } };
}
