// The platform's own metrics from the database, as CloudNativePG custom queries (each query
// `q` with column `c` becomes the metric cnpg_q_c on every instance's :9187, run on the primary
// only): the newest backup canary row, which pg_cron writes every minute, and the last restore
// drill's result, which the drill records in ops.restore_drill_runs. The alerts watch both.
import { stringify } from 'yaml';

export const CUSTOM_QUERIES_KEY = 'queries';

interface Query {
  readonly query: string;
  readonly metrics: readonly { readonly column: string; readonly description: string }[];
}

const latestRun = (column: string) => `(SELECT ${column} FROM ops.restore_drill_runs ORDER BY finished_at DESC LIMIT 1)`;

export const CUSTOM_QUERIES: Readonly<Record<string, Query>> = {
  platform_backup_canary: {
    query: 'SELECT coalesce(extract(epoch FROM max(written_at)), 0) AS newest_timestamp_seconds FROM ops.backup_canary',
    metrics: [{ column: 'newest_timestamp_seconds', description: 'When the newest backup canary row was written (pg_cron, every minute)' }],
  },
  platform_restore_drill: {
    query: [
      'SELECT coalesce((SELECT extract(epoch FROM max(finished_at)) FROM ops.restore_drill_runs), 0) AS last_run_timestamp_seconds,',
      '  coalesce((SELECT extract(epoch FROM max(finished_at)) FROM ops.restore_drill_runs WHERE succeeded), 0) AS last_success_timestamp_seconds,',
      `  coalesce(${latestRun('succeeded::int')}, 0) AS succeeded,`,
      `  coalesce(${latestRun('rto_seconds')}, 0) AS rto_seconds,`,
      `  coalesce(${latestRun('rpo_seconds')}, 0) AS rpo_seconds`,
    ].join('\n'),
    metrics: [
      { column: 'last_run_timestamp_seconds', description: 'When the last restore drill finished' },
      { column: 'last_success_timestamp_seconds', description: 'When the last successful restore drill finished' },
      { column: 'succeeded', description: '1 when the last restore drill passed every check' },
      { column: 'rto_seconds', description: 'Time the last drill took from creating the scratch Cluster to its being ready' },
      { column: 'rpo_seconds', description: 'Age of the newest canary row the last drill recovered, at the drill start' },
    ],
  },
};

/** The ConfigMap value CloudNativePG reads (its custom-queries format). */
export function customQueriesYaml(): string {
  const doc = Object.fromEntries(
    Object.entries(CUSTOM_QUERIES).map(([name, q]) => [
      name,
      { query: q.query, primary: true, metrics: q.metrics.map((m) => ({ [m.column]: { usage: 'GAUGE', description: m.description } })) },
    ]),
  );
  return stringify(doc, { lineWidth: 0 });
}
