// How many pods a Deployment or Rollout runs while it replaces its pods. The charts render this
// surge into every RollingUpdate Deployment and the api's Rollout, and the environment model
// counts it in the connection budget and the namespace quotas; both read it here. No imports:
// the environment model and the charts both depend on this module, never the other way round.

/**
 * maxSurge of every rolling update, in percent of the desired replicas. 25% is Kubernetes'
 * default for a Deployment (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#max-surge)
 * and Argo Rollouts' for a canary (maxSurge in https://argoproj.github.io/argo-rollouts/features/specification/),
 * so the Deployments the charts do not write themselves (CloudNativePG's PgBouncer poolers) surge
 * by the same amount.
 */
export const MAX_SURGE_PERCENT = 25;

/** MAX_SURGE_PERCENT as the IntOrString the manifests carry. */
export const MAX_SURGE = `${MAX_SURGE_PERCENT}%`;

/**
 * The most pods a workload of `replicas` runs during a rollout: the surge rounds up, as both
 * Kubernetes ("the absolute number is calculated from the percentage by rounding up", link
 * above) and Argo Rollouts do. maxUnavailable 0 keeps every old pod until its replacement is ready.
 */
export function podsDuringRollout(replicas: number): number {
  return replicas + Math.ceil((replicas * MAX_SURGE_PERCENT) / 100);
}
