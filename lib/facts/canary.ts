// The api's canary release as steps of { weight, pause }: the environment gives them, the chart
// renders them into the Rollout (setWeight, pause, ..., setWeight 100) and the environment model
// refuses too few api pods for the first weight. No imports: the environment model and the charts
// both depend on this module, never the other way round.

/** One step of the canary: the share of the pods running the new version, and how long it stays there. */
export interface CanaryStep {
  /** Percent of the api's pods that run the new version during this step. */
  readonly weight: number;
  /** How long the step lasts before the next, such as "10m". */
  readonly pause: string;
}

/**
 * The weight of the last step, when every pod runs the new version and the Rollout completes
 * (https://argoproj.github.io/argo-rollouts/features/canary/#overview). It follows the
 * environment's steps; it has no pause.
 */
export const FULL_WEIGHT = 100;

/**
 * The fewest api pods for which the first step is what its weight says. Without a traffic router
 * Argo Rollouts splits traffic by pod count (Kong cannot route by version), and the first step
 * needs at least one canary pod; with N pods that pod takes 1/N of the requests, which is at most
 * the weight only from 100 / weight pods on (10 pods for a 10% first step). Argo Rollouts'
 * "best effort" split without traffic management: https://argoproj.github.io/argo-rollouts/features/canary/#overview
 */
export function minimumPodsFor(firstWeight: number): number {
  return Math.ceil(FULL_WEIGHT / firstWeight);
}

/** The share of the requests, in percent, one canary pod takes among `pods`: what the first step really sends. */
export function onePodShare(pods: number): number {
  return Math.round(FULL_WEIGHT / Math.max(pods, 1));
}

/** The weights the Rollout sets, in order: each step's, then FULL_WEIGHT. */
export function rolloutWeights(steps: readonly CanaryStep[]): number[] {
  return [...steps.map((s) => s.weight), FULL_WEIGHT];
}
