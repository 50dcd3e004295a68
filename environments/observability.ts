// Environment settings of monitoring, logs and traces: how long each store keeps data and how
// big its volume is, the size of every component, and where alerts go.
import { z } from 'zod';
import { Resources, Storage, wholeNumber } from './fields';
import { SloConfig } from './slos';

/** Retention as Prometheus, Loki and Tempo write it: "15d", "72h". */
const Retention = z.string().regex(/^[1-9]\d*(h|d)$/, { error: 'must be a retention such as "15d" or "72h"' });

const Store = z.strictObject({ retention: Retention, volumeSize: Storage, resources: Resources });
const Sized = z.strictObject({ resources: Resources });

/** Where alerts go; every credential is read from the Secret alertmanager-receivers. */
export const Receivers = z.strictObject({
  /** Slack channel of warnings (the webhook URL is the Secret's slack-webhook-url). */
  slackChannel: z.string().regex(/^#[a-z0-9_-]+$/, { error: 'must be a Slack channel such as "#platform-alerts"' }),
  /** Slack channel of the database team's alerts. @default the same channel */
  databaseSlackChannel: z
    .string()
    .regex(/^#[a-z0-9_-]+$/, { error: 'must be a Slack channel such as "#db-alerts"' })
    .optional(),
  /** Mail for warnings and a copy of every critical alert (password: smtp-password). */
  email: z.strictObject({
    to: z.email({ error: 'must be an email address' }),
    from: z.email({ error: 'must be an email address' }),
    /** host:port of the mail relay. */
    smarthost: z.string().regex(/^[a-z0-9.-]+:\d+$/, { error: 'must be host:port such as "smtp.example.com:587"' }),
    username: z.string().min(1),
  }),
  /** Address of the dead-man's switch: it alarms when the Watchdog alert stops arriving. */
  watchdogEmail: z.email({ error: "must be the email address of a dead-man's switch (e.g. a healthchecks.io check)" }),
  /** Page critical alerts through PagerDuty (routing key: pagerduty-routing-key). */
  pagerduty: z.boolean(),
});
export type Receivers = z.infer<typeof Receivers>;

export const ObservabilityConfig = z.strictObject({
  /** Namespace of the cluster's Argo Rollouts controller (scraped for the release alerts). @default "argo-rollouts" */
  rolloutsControllerNamespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'must be a namespace name' })
    .default('argo-rollouts'),
  /**
   * Namespace of External Secrets (its Helm chart's documented install: `-n external-secrets`),
   * scraped for the ExternalSecret sync alerts where the environment's secrets come from it.
   * Argo CD's, cert-manager's and CloudNativePG's namespaces are `gitops.argocdNamespace` and
   * `operators.*Namespace`. @default "external-secrets"
   */
  externalSecretsNamespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'must be a namespace name' })
    .default('external-secrets'),
  /** Namespace of Kyverno (its install.yaml's), scraped for the admission alerts. @default "kyverno" */
  kyvernoNamespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'must be a namespace name' })
    .default('kyverno'),
  /** How often Prometheus scrapes and evaluates rules. @default "30s" */
  scrapeInterval: z
    .string()
    .regex(/^[1-9]\d*s$/, { error: 'must be seconds such as "30s"' })
    .default('30s'),
  prometheus: Store.extend({
    /**
     * Prometheus servers, each scraping everything and evaluating every rule on its own volume, on
     * nodes of their own; Alertmanager sends each alert once. 1 or 2 (a third adds nothing but
     * cost: any one of them holds the whole picture). @default 1
     */
    replicas: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 or 2 (Prometheus servers, each a full copy)' }).default(1),
  }),
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
  tracing: z
    .strictObject({
      /**
       * Share of traces kept, decided where a trace starts: Kong for every API request (its
       * tracing_sampling_rate), a Supabase service for work it starts itself
       * (OTEL_TRACES_SAMPLER_ARG); every service follows the decision its caller passes on.
       * @default 0.1
       */
      samplingRate: z.number().min(0, { error: 'must be between 0 and 1' }).max(1, { error: 'must be between 0 and 1' }).default(0.1),
    })
    .prefault({}),
  kubeStateMetrics: Sized,
  nodeExporter: Sized,
  /** Service-level objectives, their burn-rate alerts and the SLO dashboard (docs/slos.md). @default production's objectives, paging on */
  slos: SloConfig,
});
export type ObservabilityConfig = z.infer<typeof ObservabilityConfig>;

/** Retention in hours (Loki and Tempo take hours). */
export function retentionHours(retention: string): number {
  return Number(retention.slice(0, -1)) * (retention.endsWith('d') ? 24 : 1);
}
