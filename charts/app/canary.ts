// The api's canary release: the Rollout strategy (the environment's steps, each setWeight ->
// pause, then setWeight 100) and the AnalysisTemplate that judges the canary's own pods from
// Prometheus while the release runs. Without a traffic router the weights are pod counts
// (docs/reference/gateway-and-delivery.md), and Kong's metrics cannot tell versions apart, so every query selects the
// canary by its pod-template hash, a label Prometheus copies from the pod.
import type { Construct } from 'constructs';
import type { ApiObjectMetadata } from 'cdk8s';
import { ANALYSIS_WINDOW, type Canary, durationSeconds } from '../../environments/app';
import { FULL_WEIGHT, rolloutWeights } from '../../lib/facts/canary';
import { MAX_SURGE } from '../../lib/facts/rollout';
import {
  AnalysisTemplate,
  AnalysisTemplateSpecMetricsFailureLimit,
  AnalysisTemplateSpecMetricsInconclusiveLimit,
} from '../../imports/analysistemplate-argoproj.io';
import {
  type RolloutSpecStrategyCanary,
  RolloutSpecStrategyCanaryMaxSurge,
  RolloutSpecStrategyCanaryMaxUnavailable,
  RolloutSpecStrategyCanaryStepsPauseDuration,
} from '../../imports/rollout-argoproj.io';

/** Metric names the api exposes on its metrics port (the app's contract, docs/runbooks/deployment.md). */
export const API_METRICS = {
  requests: 'http_requests_total',
  durationBuckets: 'http_request_duration_seconds_bucket',
} as const;

/** The label Prometheus's scrape config copies from the pod label rollouts-pod-template-hash. */
export const HASH_LABEL = 'rollouts_pod_template_hash';
/** The analysis argument carrying the canary's hash; Argo Rollouts substitutes it into the queries. */
export const HASH_ARG = 'canary-hash';
/** Rate window of every query. */
export const WINDOW = ANALYSIS_WINDOW;
/** Requests the canary must have served in the window for a measurement to count. */
export const MIN_REQUESTS = 50;

/** One thing measured about the canary, and the largest value that still passes. */
export interface Measure {
  readonly name: string;
  readonly description: string;
  readonly query: string;
  readonly max: number;
}

/**
 * The measures, as PromQL over the canary's series. Each returns no sample when the canary
 * served fewer than MIN_REQUESTS requests in the window, so too little traffic is never a pass.
 */
export function canaryMeasures(namespace: string, thresholds: Canary['analysis']): Measure[] {
  const sel = (extra = '') => `{namespace="${namespace}",${HASH_LABEL}="{{args.${HASH_ARG}}}"${extra}}`;
  const enoughTraffic = `on() (sum(increase(${API_METRICS.requests}${sel()}[${WINDOW}])) >= ${MIN_REQUESTS})`;
  return [
    {
      name: 'error-ratio',
      description: `share of the canary's responses that are 5xx (at most ${thresholds.maxErrorRatio})`,
      // "or vector(0)": no 5xx series at all means no errors, not no data.
      query:
        `(sum(rate(${API_METRICS.requests}${sel(',code=~"5.."')}[${WINDOW}])) or vector(0))` +
        ` / sum(rate(${API_METRICS.requests}${sel()}[${WINDOW}])) and ${enoughTraffic}`,
      max: thresholds.maxErrorRatio,
    },
    {
      name: 'p95-latency',
      description: `95th percentile of the canary's response time, seconds (at most ${thresholds.maxP95Seconds})`,
      query: `histogram_quantile(0.95, sum by (le) (rate(${API_METRICS.durationBuckets}${sel()}[${WINDOW}]))) and ${enoughTraffic}`,
      max: thresholds.maxP95Seconds,
    },
  ];
}

/**
 * Argo Rollouts conditions for a measure. A result that is missing or NaN (no traffic) meets
 * neither, so the measurement is Inconclusive: never a pass, and after `inconclusiveLimit` in a
 * row the release pauses for a human (docs/reference/gateway-and-delivery.md, on the empty-result guard).
 */
export function conditions(max: number): { successCondition: string; failureCondition: string } {
  const measured = 'len(result) > 0 && !isNaN(result[0])';
  return { successCondition: `${measured} && result[0] <= ${max}`, failureCondition: `${measured} && result[0] > ${max}` };
}

export interface AnalysisProps {
  readonly metadata: ApiObjectMetadata;
  readonly namespace: string;
  readonly prometheusUrl: string;
  readonly config: Canary['analysis'];
}

/** The AnalysisTemplate the api's Rollout runs in the background. */
export function analysisTemplate(scope: Construct, props: AnalysisProps): AnalysisTemplate {
  return new AnalysisTemplate(scope, 'analysis', {
    metadata: props.metadata,
    spec: {
      args: [{ name: HASH_ARG }],
      metrics: canaryMeasures(props.namespace, props.config).map((m) => ({
        name: m.name,
        interval: props.config.interval,
        // The first rate window must be full of canary traffic before the first measurement.
        initialDelay: WINDOW,
        failureLimit: AnalysisTemplateSpecMetricsFailureLimit.fromNumber(props.config.failureLimit),
        inconclusiveLimit: AnalysisTemplateSpecMetricsInconclusiveLimit.fromNumber(props.config.inconclusiveLimit),
        ...conditions(m.max),
        provider: { prometheus: { address: props.prometheusUrl, query: m.query, timeout: 30 } },
      })),
    },
  });
}

/**
 * Each step's setWeight -> pause, then setWeight 100, with the analysis running in the background
 * from the first step; a failed measurement aborts back to the stable pods.
 */
export function canaryStrategy(config: Canary, templateName: string): RolloutSpecStrategyCanary {
  const pause = (d: string) => ({ pause: { duration: RolloutSpecStrategyCanaryStepsPauseDuration.fromString(d) } });
  return {
    steps: [...config.steps.flatMap((step) => [{ setWeight: step.weight }, pause(step.pause)]), { setWeight: FULL_WEIGHT }],
    analysis: {
      templates: [{ templateName }],
      startingStep: 1,
      args: [{ name: HASH_ARG, valueFrom: { podTemplateHashValue: 'Latest' } }],
    },
    // Bring up each step's canary pods before taking stable pods away (the basic canary's
    // surge applies because there is no traffic router).
    maxUnavailable: RolloutSpecStrategyCanaryMaxUnavailable.fromNumber(0),
    maxSurge: RolloutSpecStrategyCanaryMaxSurge.fromString(MAX_SURGE),
  };
}

/** One step of a release as it unfolds: when it starts and how many pods run the new version. */
export interface TimelineStep {
  readonly weight: number;
  /** Minutes after the release starts, not counting the time new pods take to become ready. */
  readonly atMinute: number;
  readonly canaryPods: number;
  readonly pods: number;
}

/**
 * The release's timeline for `pods` api pods: the first weight at once, each next one after the
 * pauses before it, 100% after the last. Each step also waits for its new pods to become ready,
 * which the cluster decides.
 */
export function canaryTimeline(config: Canary, pods: number): TimelineStep[] {
  const minutes = (d: string) => durationSeconds(d) / 60;
  const at = (i: number) => config.steps.slice(0, i).reduce((t, step) => t + minutes(step.pause), 0);
  return rolloutWeights(config.steps).map((weight, i) => ({ weight, atMinute: at(i), canaryPods: Math.round((pods * weight) / FULL_WEIGHT), pods }));
}
