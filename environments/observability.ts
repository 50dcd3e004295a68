// Environment settings of monitoring, logs and traces: how long each store keeps data and how
// big its volume is, the size of every component, and where alerts go.
import { z } from 'zod';
import { Resources, Storage, wholeNumber } from './fields';

/** Retention as Prometheus, Loki and Tempo write it: "15d", "72h". */
const Retention = z.string().regex(/^[1-9]\d*(h|d)$/, { error: 'must be a retention such as "15d" or "72h"' });

const Store = z.strictObject({ retention: Retention, volumeSize: Storage, resources: Resources });
const Sized = z.strictObject({ resources: Resources });

/** Where alerts go; every credential is read from the Secret alertmanager-receivers. */
export const Receivers = z.strictObject({
  /** Slack channel of warnings (the webhook URL is the Secret's slack-webhook-url). */
  slackChannel: z.string().regex(/^#[a-z0-9_-]+$/, { error: 'must be a Slack channel such as "#platform-alerts"' }),
  /** Slack channel of the database team's alerts. @default the same channel */
  databaseSlackChannel: z.string().regex(/^#[a-z0-9_-]+$/, { error: 'must be a Slack channel such as "#db-alerts"' }).optional(),
  /** Mail for warnings and a copy of every critical alert (password: smtp-password). */
  email: z.strictObject({
    to: z.email({ error: 'must be an email address' }),
    from: z.email({ error: 'must be an email address' }),
    /** host:port of the mail relay. */
    smarthost: z.string().regex(/^[a-z0-9.-]+:\d+$/, { error: 'must be host:port such as "smtp.example.com:587"' }),
    username: z.string().min(1),
  }),
  /** Address of the dead-man's switch: it alarms when the Watchdog alert stops arriving. */
  watchdogEmail: z.email({ error: 'must be the email address of a dead-man\'s switch (e.g. a healthchecks.io check)' }),
  /** Page critical alerts through PagerDuty (routing key: pagerduty-routing-key). */
  pagerduty: z.boolean(),
});
export type Receivers = z.infer<typeof Receivers>;

export const ObservabilityConfig = z.strictObject({
  /** Namespace of the cluster's Argo Rollouts controller (scraped for the release alerts). @default "argo-rollouts" */
  rolloutsControllerNamespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'must be a namespace name' }).default('argo-rollouts'),
  /** How often Prometheus scrapes and evaluates rules. @default "30s" */
  scrapeInterval: z.string().regex(/^[1-9]\d*s$/, { error: 'must be seconds such as "30s"' }).default('30s'),
  prometheus: Store,
  alertmanager: z.strictObject({
    /** Alertmanager instances; with more than one they form a cluster and deduplicate. */
    replicas: wholeNumber('pods', 1),
    resources: Resources,
    volumeSize: Storage,
    /** Where alerts go. @default nowhere: alerts are only seen in Alertmanager and Grafana (dev) */
    receivers: Receivers.optional(),
  }),
  grafana: z.strictObject({ resources: Resources, volumeSize: Storage }),
  loki: Store,
  tempo: Store,
  alloy: Sized,
  otelCollector: z.strictObject({ replicas: wholeNumber('pods', 1), resources: Resources }),
  kubeStateMetrics: Sized,
  nodeExporter: Sized,
});
export type ObservabilityConfig = z.infer<typeof ObservabilityConfig>;

/** Retention in hours (Loki and Tempo take hours). */
export function retentionHours(retention: string): number {
  return Number(retention.slice(0, -1)) * (retention.endsWith('d') ? 24 : 1);
}
