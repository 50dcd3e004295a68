// The shape of the platform's alerting and recording rules, written as TypeScript data: each
// alert carries its runbook text and the promtool cases that prove it fires (and stays quiet).
// rules/index.ts turns them into Prometheus rule files; the tests and the runbook pages are
// generated from the same data.
import type { SloConfig } from '../../../environments/slos';

export type Severity = 'critical' | 'warning' | 'info';
/** Who is paged or notified; Alertmanager routes on it. */
export type Team = 'platform' | 'database' | 'app';

/** One input series in promtool notation, e.g. { series: 'up{job="x"}', values: '1x30' }. */
export interface Series {
  readonly series: string;
  readonly values: string;
}

/** A promtool case: these series, evaluated at `at` (such as "20m"). */
export interface AlertCase {
  readonly series: readonly Series[];
  readonly at: string;
  /**
   * How often promtool evaluates the rules in this case; `at` must be a multiple of it. Series
   * keep their one-minute step. Cases that span days (the SLOs' 3-day window) step coarser to
   * stay fast. @default SAMPLE_INTERVAL
   */
  readonly evaluationInterval?: string;
  /**
   * For a case where the alert fires: the labels of each firing alert, besides alertname,
   * severity and team (which are added). One entry per expected alert.
   */
  readonly alerts?: readonly Record<string, string>[];
}

export interface AlertSpec {
  /** UpperCamelCase, unique; also the runbook's file name docs/runbooks/alerts/<alert>.md. */
  readonly alert: string;
  readonly expr: string;
  /** @default fires at once */
  readonly for?: string;
  readonly severity: Severity;
  readonly team: Team;
  /** One line. May use {{ $labels.NAME }} and nothing else from Go templates. */
  readonly summary: string;
  /** A few sentences. May use {{ $labels.NAME }} and nothing else from Go templates. */
  readonly description: string;
  /** The runbook page: what it means, what breaks, how to look, what to do. */
  readonly runbook: {
    readonly meaning: string;
    readonly impact: string;
    readonly diagnosis: readonly string[];
    readonly mitigation: readonly string[];
  };
  /** At least one case that fires (with `alerts`) and one that stays quiet (no `alerts`). */
  readonly tests: { readonly fires: readonly AlertCase[]; readonly quiet: readonly AlertCase[] };
}

export interface RecordingSpec {
  /** level:metric:operations, e.g. "service:kong_http_requests:rate5m". */
  readonly record: string;
  readonly expr: string;
  /** promtool promql_expr_test cases: series, time, and the exact samples expected. */
  readonly tests: readonly {
    readonly series: readonly Series[];
    readonly at: string;
    /** As in AlertCase. @default SAMPLE_INTERVAL */
    readonly evaluationInterval?: string;
    readonly expect: readonly { readonly labels: string; readonly value: number }[];
  }[];
}

export interface RuleGroupSpec {
  /** Group name and file name stem: <name>.rules.yaml. */
  readonly name: string;
  /** @default the global evaluation interval */
  readonly interval?: string;
  readonly rules: readonly (AlertSpec | RecordingSpec)[];
}

/** What the rules need to know about the environment. */
export interface RuleContext {
  /** Base URL of docs/runbooks/alerts/ in the repository's web view, ending in "/". */
  readonly runbookBaseUrl: string;
  /** Namespaces of the platform, by concern (for selectors such as the app's). */
  readonly namespaces: { readonly supabase: string; readonly app: string; readonly observability: string };
  /** The environment's service-level objectives. @default DEFAULT_SLOS (the schema's defaults) */
  readonly slos?: SloConfig;
}

export const isAlert = (r: AlertSpec | RecordingSpec): r is AlertSpec => 'alert' in r;
