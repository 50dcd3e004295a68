// PostgreSQL as the CloudNativePG Cluster reports itself (the instance manager's exporter in every
// instance, the Barman Cloud Plugin's backup gauges, the platform's monitoring queries) and its
// PgBouncer poolers: which instance is primary, are enough standbys streaming and how far behind,
// connections and throughput, pooler saturation, WAL archiving and backups, what holds WAL on disk.
// Metric names: metrics-catalogue.ts (cloudnative-pg v1.30.0, plugin-barman-cloud v0.14.0).
import { MappingType, RowBuilder, type ValueMapping } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { JOBS } from '../metrics-catalogue';
import { PG_CLUSTER } from '../rules/postgres';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, okMapping, platformDashboard, sel, thresholds } from './panels';

/** pg_is_in_recovery(): 0 is the primary, 1 a standby. */
const ROLE_MAPPING: ValueMapping[] = [
  { type: MappingType.ValueToText, options: { '0': { text: 'PRIMARY', color: 'blue', index: 0 }, '1': { text: 'STANDBY', color: 'green', index: 1 } } },
];

export function postgres(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const target = { namespace: ctx.namespaces.supabase, job: JOBS.postgres };
  const server = sel(target);
  const db = sel(target, 'datname=~"$datname"');
  // The cluster's standbys in the primary's pg_stat_replication (Realtime's walsender is not one).
  const standbys = sel(target, `application_name=~"${PG_CLUSTER}-[0-9]+"`);
  const primaryOnly = `and on (pod) cnpg_pg_replication_in_recovery${server} == 0`;
  const pgb = sel({ namespace: ctx.namespaces.supabase, job: JOBS.pgbouncer });
  const rate = (metric: string) => `sum by (datname) (rate(${metric}${db}[$__rate_interval]))`;
  const perPooler = (metric: string) => `sum by (pod) (${metric}${pgb})`;

  return dashboardFile(
    platformDashboard(
      'postgres',
      'PostgreSQL',
      'The platform database (CloudNativePG): instances and roles, replication, connections, throughput, the PgBouncer poolers, WAL archiving and backups, WAL retention.',
      ['postgres', 'data'],
    )
      .withVariable(p.labelValues('datname', 'Database', `cnpg_pg_database_size_bytes${server}`, 'datname'))
      .withRow(new RowBuilder('Cluster'))
      .withPanel(
        p.countExpectingSome({
          title: 'Instances running PostgreSQL',
          description:
            "Instances whose instance manager reports PostgreSQL up. Compare with the Cluster's instances (3 in production): one less is PostgresInstanceDown, none is PostgresDown.",
          queries: [{ expr: `count(cnpg_collector_up${server} == 1)` }],
        }),
      )
      .withPanel(
        p.stat({
          title: 'Role by instance',
          description:
            'pg_is_in_recovery() of each instance: exactly one PRIMARY. A different pod than yesterday means a failover or switchover happened (PostgresFailoverHappened).',
          queries: [{ expr: `max by (pod) (cnpg_pg_replication_in_recovery${server})`, legend: '{{pod}}' }],
          mappings: ROLE_MAPPING,
        }),
      )
      .withPanel(
        p.stat({
          title: 'Synchronous standbys: required / connected',
          description:
            'Standbys synchronous_standby_names requires on the primary, and the cluster\'s standbys connected to it. Fewer connected than required: with dataDurability "required" every commit waits (PostgresNoSynchronousStandby).',
          queries: [
            { expr: `max(cnpg_collector_sync_replicas${sel(target, 'value="observed"')} ${primaryOnly})`, legend: 'required' },
            { expr: `count(cnpg_pg_stat_replication_replay_lag_seconds${standbys})`, legend: 'connected' },
          ],
          noValue: '0',
        }),
      )
      .withPanel(
        p.stat({
          title: 'Since last WAL archive',
          description:
            'Seconds since the primary last archived a WAL segment to the object store: about the data a restore would lose now. archive_timeout is 60 s; the alert fires past 180 s while WAL waits.',
          queries: [{ expr: `max(cnpg_pg_stat_archiver_seconds_since_last_archival${server})` }],
          unit: units.Seconds,
          thresholds: thresholds([
            [null, 'green'],
            [120, 'orange'],
            [180, 'red'],
          ]),
        }),
      )
      .withRow(new RowBuilder('Replication'))
      .withPanel(
        p.timeseries({
          title: 'Replication lag (seconds)',
          description:
            "Each standby's own lag (time since the last replayed commit while WAL waits to be replayed) and the primary's view (replay_lag per standby). Reads through the ro pooler are this stale; the alert fires past 30 s.",
          queries: [
            { expr: `max by (pod) (cnpg_pg_replication_lag${server})`, legend: '{{pod}} (standby)' },
            { expr: `max by (application_name) (cnpg_pg_stat_replication_replay_lag_seconds${standbys})`, legend: '{{application_name}} (primary)' },
          ],
          unit: units.Seconds,
          min: 0,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Replication lag (bytes)',
          description: 'WAL the primary has written that each standby has not yet flushed or replayed. Flush lag on a synchronous standby delays commits.',
          queries: [
            { expr: `max by (application_name) (cnpg_pg_stat_replication_flush_diff_bytes${standbys})`, legend: '{{application_name}} flush' },
            { expr: `max by (application_name) (cnpg_pg_stat_replication_replay_diff_bytes${standbys})`, legend: '{{application_name}} replay' },
          ],
          unit: units.BytesIEC,
          min: 0,
        }),
      )
      .withRow(new RowBuilder('Connections and transactions'))
      .withPanel(
        p.timeseries({
          title: 'Connections vs max_connections',
          description:
            'Client backends per instance against the limit; the last superuser_reserved_connections slots are not available to clients. The api and worker connect through the poolers.',
          queries: [
            { expr: `sum by (pod) (cnpg_backends_total${server})`, legend: '{{pod}}' },
            { expr: `max(cnpg_pg_settings_setting${sel(target, 'name="max_connections"')})`, legend: 'max_connections' },
            {
              expr: `max(cnpg_pg_settings_setting${sel(target, 'name="max_connections"')}) - max(cnpg_pg_settings_setting${sel(target, 'name="superuser_reserved_connections"')})`,
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
          description:
            'Commits and rollbacks per database, on all instances (standbys count their read-only transactions). A rise in rollbacks is usually failing application requests.',
          queries: [
            { expr: rate('cnpg_pg_stat_database_xact_commit'), legend: '{{datname}} commits' },
            { expr: rate('cnpg_pg_stat_database_xact_rollback'), legend: '{{datname}} rollbacks' },
          ],
          unit: units.OpsPerSecond,
          min: 0,
        }),
      )
      .withRow(new RowBuilder('Poolers (PgBouncer)'))
      .withPanel(
        p.timeseries({
          title: 'Pooler clients',
          description:
            'Client connections per pooler pod: active (linked to a server connection) and waiting (queued for one). Waiting clients that persist mean the pool is saturated.',
          queries: [
            { expr: perPooler('cnpg_pgbouncer_pools_cl_active'), legend: '{{pod}} active' },
            { expr: perPooler('cnpg_pgbouncer_pools_cl_waiting'), legend: '{{pod}} waiting' },
          ],
          unit: units.Short,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Longest client wait',
          description:
            'How long the oldest queued client of each pooler pod has waited for a server connection. The alert fires past a second for 5 minutes (PgBouncerClientsWaiting).',
          queries: [{ expr: `max by (pod) (cnpg_pgbouncer_pools_maxwait${pgb} + cnpg_pgbouncer_pools_maxwait_us${pgb} / 1e6)`, legend: '{{pod}}' }],
          unit: units.Seconds,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Pooler server connections',
          description:
            'Connections each pooler pod holds to PostgreSQL: active (serving a client) and idle (ready). All active with clients waiting: the pool is too small or PostgreSQL too slow.',
          queries: [
            { expr: perPooler('cnpg_pgbouncer_pools_sv_active'), legend: '{{pod}} active' },
            { expr: perPooler('cnpg_pgbouncer_pools_sv_idle'), legend: '{{pod}} idle' },
          ],
          unit: units.Short,
          min: 0,
          width: 8,
        }),
      )
      .withRow(new RowBuilder('Backups'))
      .withPanel(
        p.stat({
          title: 'Last base backup age',
          description:
            'Age of the newest base backup in the object store (Barman Cloud Plugin). Backups run daily; the alert fires past 26 hours. Empty without an object store (dev).',
          // 0 until the object store holds a backup: no age rather than 56 years.
          queries: [{ expr: `time() - (max(barman_cloud_cloudnative_pg_io_last_available_backup_timestamp${server}) > 0)` }],
          unit: units.Seconds,
          thresholds: thresholds([
            [null, 'green'],
            [26 * 3600, 'red'],
          ]),
        }),
      )
      .withPanel(
        p.stat({
          title: 'Recovery window',
          description: 'How far back a point-in-time recovery can go: the age of the first recoverability point (the oldest base backup retention keeps).',
          queries: [{ expr: `time() - (max(barman_cloud_cloudnative_pg_io_first_recoverability_point${server}) > 0)` }],
          unit: units.Seconds,
        }),
      )
      .withPanel(
        p.stat({
          title: 'Last restore drill',
          description:
            'Outcome of the last weekly restore drill (a scratch Cluster recovered from the object store and checked). FAILED: the backups are not proven restorable (RestoreDrillFailed). Environments without an object store have no drill.',
          // The query reports 0 before any drill has run: show nothing then.
          queries: [
            { expr: `max(cnpg_platform_restore_drill_succeeded${server}) and max(cnpg_platform_restore_drill_last_run_timestamp_seconds${server}) > 0` },
          ],
          mappings: okMapping('FAILED', 'PASSED'),
          noValue: 'NO DRILL YET',
        }),
      )
      .withPanel(
        p.stat({
          title: 'Backup canary age',
          description:
            'Age of the newest ops.backup_canary row on the primary (pg_cron writes one a minute; the drill measures the RPO with them). Past 5 minutes: BackupCanaryStale.',
          queries: [{ expr: `time() - max(cnpg_platform_backup_canary_newest_timestamp_seconds${server} ${primaryOnly})` }],
          unit: units.Seconds,
          thresholds: thresholds([
            [null, 'green'],
            [120, 'orange'],
            [300, 'red'],
          ]),
        }),
      )
      .withRow(new RowBuilder('WAL'))
      .withPanel(
        p.timeseries({
          title: 'WAL archived and failed (per minute)',
          description:
            'Segments the primary archived to the object store, and failed attempts. Any failure that persists stops the recovery point (PostgresWALArchivingFailing).',
          queries: [
            { expr: `sum(rate(cnpg_pg_stat_archiver_archived_count${server}[$__rate_interval])) * 60`, legend: 'archived' },
            { expr: `sum(rate(cnpg_pg_stat_archiver_failed_count${server}[$__rate_interval])) * 60`, legend: 'failed' },
          ],
          unit: units.Short,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'WAL segments waiting for the archiver',
          description: 'Completed segments in pg_wal/archive_status not yet archived (.ready). Growing: archiving is failing or slower than WAL is written.',
          queries: [{ expr: `max by (pod) (cnpg_collector_pg_wal_archive_status${sel(target, 'value="ready"')})`, legend: '{{pod}}' }],
          unit: units.Short,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'WAL written',
          description: 'WAL each instance generates (pg_stat_wal; only the primary writes). Bursts explain archiving backlogs and replication lag.',
          queries: [{ expr: `sum by (pod) (rate(cnpg_collector_wal_bytes${server}[$__rate_interval]))`, legend: '{{pod}}' }],
          unit: units.BytesPerSecondIEC,
          min: 0,
          width: 8,
        }),
      )
      .withRow(new RowBuilder('Efficiency and locking'))
      .withPanel(
        p.timeseries({
          title: 'Cache hit ratio',
          description: 'Share of block reads served from shared_buffers. Below about 99% for an OLTP load, the working set no longer fits in memory.',
          queries: [
            {
              expr: `${rate('cnpg_pg_stat_database_blks_hit')} / (${rate('cnpg_pg_stat_database_blks_hit')} + ${rate('cnpg_pg_stat_database_blks_read')})`,
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
          queries: [{ expr: `sum by (datname) (increase(cnpg_pg_stat_database_deadlocks${db}[5m]))`, legend: '{{datname}}' }],
          unit: units.Short,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Longest transaction by database',
          description:
            'Age of the oldest open transaction in each database, on any instance. Long transactions hold locks and stop vacuum; the alert fires after 5 minutes.',
          queries: [{ expr: `max by (datname) (cnpg_backends_max_tx_duration_seconds${db})`, legend: '{{datname}}' }],
          unit: units.Seconds,
          min: 0,
          width: 8,
        }),
      )
      .withRow(new RowBuilder('Storage and replication slots'))
      .withPanel(
        p.timeseries({
          title: 'Database size',
          description: 'On-disk size of each database (tables, indexes, TOAST), without WAL.',
          queries: [{ expr: `max by (datname) (cnpg_pg_database_size_bytes${db})`, legend: '{{datname}}' }],
          unit: units.BytesIEC,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'WAL on disk and held by slots',
          description:
            "The size of pg_wal per instance, and the WAL each replication slot keeps because its consumer (Realtime's logical slot, a standby's _cnpg_ slot) has not confirmed it. Growth without bound fills the WAL volume.",
          queries: [
            { expr: `max by (pod) (cnpg_collector_pg_wal${sel(target, 'value="size"')})`, legend: '{{pod}} pg_wal' },
            { expr: `max by (pod, slot_name) (cnpg_pg_replication_slots_pg_wal_lsn_diff${server})`, legend: '{{pod}} {{slot_name}}' },
          ],
          unit: units.BytesIEC,
          min: 0,
          width: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Replication slots active (primary)',
          description: '1 while a consumer is connected to the slot on the primary; 0 means it retains WAL for a consumer that is gone.',
          queries: [{ expr: `max by (slot_name) (cnpg_pg_replication_slots_active${server} ${primaryOnly})`, legend: '{{slot_name}}' }],
          unit: units.Short,
          min: 0,
          max: 1,
          width: 8,
        }),
      ),
  );
}
