// alertmanager.yml: where each alert goes. Critical alerts page (PagerDuty where the environment
// has it, otherwise mail) and also go to chat; warnings go to the owning team's Slack channel
// and mail; info alerts only exist to be looked at in Grafana; the Watchdog goes to a
// dead-man's switch that raises the alarm when it stops arriving. A critical alert silences the
// warnings of the same alert and of the same job in the same namespace. Credentials are files
// from the Secret alertmanager-receivers, never values in the config.
import type { Receivers } from '../../environments/observability';

export const RECEIVER_SECRET_KEYS = {
  slack: 'slack-webhook-url',
  smtp: 'smtp-password',
  pagerduty: 'pagerduty-routing-key',
} as const;

/** Receiver names, for the routing tests and the runbook. */
export const RECEIVERS = {
  none: 'null',
  watchdog: 'watchdog',
  platform: 'platform',
  database: 'database',
  page: 'page',
} as const;

/** Without receivers (dev) every alert is kept in Alertmanager and sent nowhere. */
export function alertmanagerConfig(receivers: Receivers | undefined, secretsDir: string): Record<string, unknown> {
  if (!receivers) {
    return { route: { receiver: RECEIVERS.none, group_by: ['alertname', 'namespace'] }, receivers: [{ name: RECEIVERS.none }] };
  }
  const file = (key: string) => `${secretsDir}/${key}`;
  const slack = (channel: string) => ({
    api_url_file: file(RECEIVER_SECRET_KEYS.slack),
    channel,
    send_resolved: true,
    title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})',
    text: '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}',
  });
  const email = { to: receivers.email.to, send_resolved: true };
  return {
    global: {
      resolve_timeout: '5m',
      smtp_smarthost: receivers.email.smarthost,
      smtp_from: receivers.email.from,
      smtp_auth_username: receivers.email.username,
      smtp_auth_password_file: file(RECEIVER_SECRET_KEYS.smtp),
      smtp_require_tls: true,
    },
    route: {
      receiver: RECEIVERS.platform,
      group_by: ['alertname', 'namespace'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        { receiver: RECEIVERS.watchdog, matchers: ['alertname="Watchdog"'], group_wait: '0s', group_interval: '1m', repeat_interval: '5m' },
        { receiver: RECEIVERS.none, matchers: ['severity="info"'] },
        // Page first, then let the same alert also reach the team's channel.
        { receiver: RECEIVERS.page, matchers: ['severity="critical"'], repeat_interval: '1h', continue: true },
        { receiver: RECEIVERS.database, matchers: ['team="database"'] },
        // Also the catch-all for critical alerts, which matched the pager route above.
        { receiver: RECEIVERS.platform, matchers: ['severity=~"critical|warning"'] },
      ],
    },
    inhibit_rules: [
      { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['alertname', 'namespace'] },
      { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['namespace', 'job'] },
      { source_matchers: ['severity="warning"'], target_matchers: ['severity="info"'], equal: ['alertname', 'namespace'] },
    ],
    receivers: [
      { name: RECEIVERS.none },
      // Alertmanager 0.25 (the oldest it must load, Debian's amtool) has no url_file for
      // webhooks, so the dead-man's switch is pinged by mail, which such services accept.
      { name: RECEIVERS.watchdog, email_configs: [{ to: receivers.watchdogEmail, send_resolved: false }] },
      { name: RECEIVERS.platform, slack_configs: [slack(receivers.slackChannel)], email_configs: [email] },
      { name: RECEIVERS.database, slack_configs: [slack(receivers.databaseSlackChannel ?? receivers.slackChannel)], email_configs: [email] },
      {
        name: RECEIVERS.page,
        ...(receivers.pagerduty
          ? {
              pagerduty_configs: [
                { routing_key_file: file(RECEIVER_SECRET_KEYS.pagerduty), send_resolved: true, description: '{{ .CommonAnnotations.summary }}' },
              ],
            }
          : { email_configs: [{ ...email, headers: { Subject: '[PAGE] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})' } }] }),
      },
    ],
  };
}
