// PostgreSQL as postgres_exporter sees it: is it up, how close to max_connections, how busy, how
// well cached, and what holds WAL on disk (a stalled replication slot or archiver fills the volume).
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { JOBS } from '../metrics-catalogue';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, okMapping, platformDashboard, sel, thresholds } from './panels';

export function postgres(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const target = { namespace: ctx.namespaces.supabase, job: JOBS.postgres };
  const server = sel(target);
  const db = sel(target, 'datname=~"$datname"');
  const rate = (metric: string) => `sum by (datname) (rate(${metric}${db}[$__rate_interval]))`;

  return dashboardFile(
    platformDashboard('postgres', 'PostgreSQL', 'The platform database: availability, connections, throughput, caching, WAL retention.', ['postgres', 'data'])
      .withVariable(p.labelValues('datname', 'Database', `pg_database_size_bytes${server}`, 'datname'))
      .withRow(new RowBuilder('Server'))
      .withPanel(
        p.stat({
          title: 'PostgreSQL up',
          description: 'Whether postgres_exporter could connect to the server at its last scrape.',
          queries: [{ expr: `min(pg_up${server})` }],
          mappings: okMapping('DOWN', 'UP'),
        }),
      )
      .withPanel(
        p.stat({
          title: 'Connections used',
          description: 'Open backends as a share of max_connections. Near 100% new connections fail; the app connects through Supavisor, so look there first.',
          queries: [{ expr: `sum(pg_stat_activity_count${server}) / max(pg_settings_max_connections${server})` }],
          unit: units.PercentUnit,
          thresholds: thresholds([[null, 'green'], [0.8, 'orange'], [0.95, 'red']]),
        }),
      )
      .withPanel(
        p.stat({
          title: 'Longest transaction',
          description: 'Age of the oldest open transaction. Long transactions hold locks and stop vacuum; the alert fires after 5 minutes.',
          queries: [{ expr: `max(pg_stat_activity_max_tx_duration${sel(target, 'datname!~"template.*"')})` }],
          unit: units.Seconds,
          thresholds: thresholds([[null, 'green'], [60, 'orange'], [300, 'red']]),
        }),
      )
      .withPanel(
        p.stat({
          title: 'Since last WAL archive',
          description: 'Seconds since the archiver last shipped a WAL segment: the data a restore would lose now, when the database is writing.',
          queries: [{ expr: `max(pg_stat_archiver_last_archive_age${server})` }],
          unit: units.Seconds,
          thresholds: thresholds([[null, 'green'], [180, 'red']]),
        }),
      )
      .withRow(new RowBuilder('Connections and transactions'))
      .withPanel(
        p.timeseries({
          title: 'Connections vs max_connections',
          description: 'Backends by state against the server limit; the last superuser_reserved_connections slots are not available to clients.',
          queries: [
            { expr: `sum by (state) (pg_stat_activity_count${server})`, legend: '{{state}}' },
            { expr: `max(pg_settings_max_connections${server})`, legend: 'max_connections' },
            {
              expr: `max(pg_settings_max_connections${server}) - max(pg_settings_superuser_reserved_connections${server})`,
              legend: 'available to clients',
            },
          ],
          unit: units.Short,
          min: 0,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Transactions per second',
          description: 'Commits and rollbacks per database. A rise in rollbacks is usually failing application requests.',
          queries: [
            { expr: rate('pg_stat_database_xact_commit'), legend: '{{datname}} commits' },
            { expr: rate('pg_stat_database_xact_rollback'), legend: '{{datname}} rollbacks' },
          ],
          unit: units.OpsPerSecond,
          min: 0,
        }),
      )
      .withRow(new RowBuilder('Efficiency and locking'))
      .withPanel(
        p.timeseries({
          title: 'Cache hit ratio',
          description: 'Share of block reads served from shared_buffers. Below about 99% for an OLTP load, the working set no longer fits in memory.',
          queries: [
            {
              expr: `${rate('pg_stat_database_blks_hit')} / (${rate('pg_stat_database_blks_hit')} + ${rate('pg_stat_database_blks_read')})`,
              legend: '{{datname}}',
            },
          ],
          unit: units.PercentUnit,
          max: 1,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Deadlocks (per 5 minutes)',
          description: 'Deadlocks PostgreSQL detected and broke by aborting a transaction. Any is an application bug in lock ordering.',
          queries: [{ expr: `sum by (datname) (increase(pg_stat_database_deadlocks${db}[5m]))`, legend: '{{datname}}' }],
          unit: units.Short,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Longest transaction by database',
          description: 'Age of the oldest open transaction in each database.',
          queries: [{ expr: `max by (datname) (pg_stat_activity_max_tx_duration${db})`, legend: '{{datname}}' }],
          unit: units.Seconds,
          min: 0,
          width: 8,
        }),
      )
      .withRow(new RowBuilder('Storage and replication'))
      .withPanel(
        p.timeseries({
          title: 'Database size',
          description: 'On-disk size of each database (tables, indexes, TOAST), without WAL.',
          queries: [{ expr: `max by (datname) (pg_database_size_bytes${db})`, legend: '{{datname}}' }],
          unit: units.BytesIEC,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Replication slot WAL retained',
          description: 'WAL each slot keeps on disk because its consumer (Realtime\'s logical slot, a replica) has not confirmed it. Growth without bound fills the volume.',
          queries: [{ expr: `max by (slot_name) (pg_replication_slots_pg_wal_lsn_diff${server})`, legend: '{{slot_name}}' }],
          unit: units.BytesIEC,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Replication slots active',
          description: '1 while a consumer is connected to the slot; 0 means it retains WAL for a consumer that is gone.',
          queries: [{ expr: `max by (slot_name) (pg_replication_slots_active${server})`, legend: '{{slot_name}}' }],
          unit: units.Short,
          min: 0,
          max: 1,
          width: 8,
        }),
      ),
  );
}
