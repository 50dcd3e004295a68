// Building blocks for the promtool cases in the rule groups. A case's series carry the labels the
// platform's scrape config (prometheus-config.ts) gives each kind of target, so the labels a case
// expects on its alert are the labels the real alert carries.
import { JOBS } from '../metrics-catalogue';
import type { Series } from './types';

/**
 * The step of every case's series: "0+1x30" is 31 samples one minute apart. promtool's clock
 * (and time()) starts at 0, so a freshness case writes its timestamps as negative numbers.
 */
export const SAMPLE_INTERVAL = '1m';

export type Labels = Readonly<Record<string, string>>;

/** One input series: `name{a="1",b="2"}` and its values. */
export function series(name: string, labels: Labels, values: string): Series {
  const set = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return { series: `${name}{${set.join(',')}}`, values };
}

/** The labels of every series of a platform pod's metrics port. */
export function target(job: string, namespace: string, pod: string, container: string, instance: string): Labels {
  return { job, namespace, pod, container, instance };
}

/**
 * A kube-state-metrics series: scraped as one static target with honor_labels, it carries the
 * object's own labels (namespace, pod, deployment, ...) plus only job and instance.
 */
export function ksm(own: Labels): Labels {
  return { job: JOBS.kubeStateMetrics, instance: 'kube-state-metrics:8080', ...own };
}
