// Backups and restores, store by store: how old the newest good copy of each is (PostgreSQL's WAL
// archive and base backups in the object store, its volume snapshots, Redis snapshots with their
// off-site copy, the volume snapshots of the other stores), WAL archiving, the backup and restore
// Jobs, what the backups hold, and the weekly restore drill's result, RTO and RPO.
//
// Sources (metrics-catalogue.ts): CloudNativePG's pg_stat_archiver and WAL gauges and its
// volume-snapshot backup gauge (cloudnative-pg v1.30.0), the Barman Cloud Plugin's backup gauges
// (plugin-barman-cloud v0.14.0), the platform's monitoring queries (charts/postgres/monitoring.ts:
// the drill's result), kube-state-metrics for the CronJobs and Jobs, the kubelet for volumes.
// The alerts on the same data: rules/backup.ts.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { BACKUP_CLAIM } from '../../backup/layout';
import { DRILL, DRILL_MAX_RPO_SECONDS } from '../../backup/drill';
import { RECOVERY_CHECK_JOB, RESTORE_JOBS } from '../../backup/restore-chart';
import { JOBS } from '../metrics-catalogue';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, okMapping, platformDashboard, sel, thresholds } from './panels';

const HOUR = 3600;
const DAY = 24 * HOUR;
/** The backup CronJobs of the backup chart (rules/backup.ts watches the same ones). */
export const BACKUP_CRONJOBS = { redis: 'redis-backup', volumes: 'volume-snapshots' } as const;
/** Daily backups alert past a day plus two hours (PostgresBackupTooOld, BackupCronJobStale). */
const DAILY_LIMIT = 26 * HOUR;

export function backups(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const namespace = ctx.namespaces.supabase;
  const pg = sel({ namespace, job: JOBS.postgres });
  const ksm = (...matchers: string[]) => sel({ job: JOBS.kubeStateMetrics, namespace }, ...matchers);
  const cronjob = (name: string) => ksm(`cronjob="${name}"`);
  const cronjobs = `cronjob=~"${[BACKUP_CRONJOBS.redis, BACKUP_CRONJOBS.volumes, DRILL].join('|')}"`;
  const restoreJobs = `job_name=~"${[RESTORE_JOBS.redis, RECOVERY_CHECK_JOB].join('|')}"`;
  // Jobs a CronJob starts are named <cronjob>-<minutes>, manual runs <cronjob>-manual-<time>.
  const allJobs = `job_name=~"(${[BACKUP_CRONJOBS.redis, BACKUP_CRONJOBS.volumes, DRILL].join('|')})-.+|${[RESTORE_JOBS.redis, RECOVERY_CHECK_JOB].join('|')}"`;
  const backupVolume = (metric: string) => `max(${metric}${sel({ job: JOBS.kubelet, namespace, persistentvolumeclaim: BACKUP_CLAIM })})`;
  // Timestamps that are 0 until there is something to report: no age rather than 56 years.
  const age = (timestamp: string) => `time() - (${timestamp} > 0)`;
  const ages = {
    wal: `max(cnpg_pg_stat_archiver_seconds_since_last_archival${pg})`,
    baseBackup: age(`max(barman_cloud_cloudnative_pg_io_last_available_backup_timestamp${pg})`),
    pgSnapshot: age(`max(cnpg_collector_last_available_backup_timestamp${pg})`),
    redis: age(`max(kube_cronjob_status_last_successful_time${cronjob(BACKUP_CRONJOBS.redis)})`),
    volumes: age(`max(kube_cronjob_status_last_successful_time${cronjob(BACKUP_CRONJOBS.volumes)})`),
    drill: age(`max(cnpg_platform_restore_drill_last_success_timestamp_seconds${pg})`),
  };
  const drillRan = `max(cnpg_platform_restore_drill_last_run_timestamp_seconds${pg}) > 0`;
  const ageStat = (title: string, description: string, expr: string, limits: readonly [number, number], noValue: string) =>
    p.stat({
      title,
      description,
      queries: [{ expr }],
      unit: units.Seconds,
      width: 4,
      noValue,
      thresholds: thresholds([
        [null, 'green'],
        [limits[0], 'orange'],
        [limits[1], 'red'],
      ]),
    });

  return dashboardFile(
    platformDashboard(
      'backups',
      'Backups and restores',
      'The newest good copy of every store, WAL archiving, the backup and restore Jobs, backup sizes, and the weekly restore drill (result, RTO, RPO).',
      ['backup', 'data'],
    )
      .withRow(new RowBuilder('Newest good copy of each store'))
      .withPanel(
        ageStat(
          'PostgreSQL WAL (object store)',
          'Seconds since the primary last archived a WAL segment to the object store (in another region): about the data a restore would lose now. Healthy: under 2 minutes (archive_timeout is 60 s and the backup canary writes every minute); PostgresWALArchivingLate fires past 180 s while WAL waits.',
          ages.wal,
          [120, 180],
          'no archive',
        ),
      )
      .withPanel(
        ageStat(
          'PostgreSQL base backup (object store)',
          "Age of the newest base backup in the object store (Barman Cloud Plugin, daily ScheduledBackup). A restore replays the WAL archived since it, so its age is the restore time's largest part. Healthy: under a day; PostgresBackupTooOld fires past 26 hours. None without an object store (dev).",
          ages.baseBackup,
          [25 * HOUR, DAILY_LIMIT],
          'no object store',
        ),
      )
      .withPanel(
        ageStat(
          'PostgreSQL volume snapshot',
          'Age of the newest volume-snapshot backup of PostgreSQL (a ScheduledBackup every 6 hours where the StorageClass can snapshot): the fastest restore, in this cluster only. Healthy: under 7 hours. None where no snapshot backups are configured.',
          ages.pgSnapshot,
          [7 * HOUR, DAILY_LIMIT],
          'not configured',
        ),
      )
      .withPanel(
        ageStat(
          'Redis snapshot and off-site copy',
          `Time since the ${BACKUP_CRONJOBS.redis} CronJob last succeeded: it takes an RDB snapshot from a replica, checks it, and where an off-site bucket is configured (staging, production) copies the snapshots there as its last step, so this is also the off-site copy's age. Healthy: under a day; BackupCronJobStale fires past 26 hours.`,
          ages.redis,
          [25 * HOUR, DAILY_LIMIT],
          'never succeeded',
        ),
      )
      .withPanel(
        ageStat(
          'Volume snapshots',
          `Time since the ${BACKUP_CRONJOBS.volumes} CronJob last succeeded: CSI snapshots of the volumes the database backups do not cover (Prometheus, Grafana, Loki, and Storage's files on a volume). Healthy: under a day; BackupCronJobStale fires past 26 hours.`,
          ages.volumes,
          [25 * HOUR, DAILY_LIMIT],
          'never succeeded',
        ),
      )
      .withPanel(
        ageStat(
          'Last passed restore drill',
          'Age of the last restore drill that passed every check: the last time the backups were proven restorable. Healthy: under a week (the drill is weekly); RestoreDrillStale fires past 8 days. None without an object store (dev).',
          ages.drill,
          [7 * DAY + 6 * HOUR, 8 * DAY],
          'none passed yet',
        ),
      )
      .withPanel(
        p.timeseries({
          title: 'Age of the newest copy, over time',
          description:
            "The same ages over time. Healthy: a saw-tooth that drops back at each backup and stays under the 26-hour line (the daily backups' alert); a line that keeps rising has missed its backups. WAL stays near the bottom.",
          queries: [
            { expr: ages.wal, legend: 'PostgreSQL WAL' },
            { expr: ages.baseBackup, legend: 'PostgreSQL base backup' },
            { expr: ages.pgSnapshot, legend: 'PostgreSQL volume snapshot' },
            { expr: ages.redis, legend: 'Redis snapshot and off-site copy' },
            { expr: ages.volumes, legend: 'volume snapshots' },
            { expr: `vector(${DAILY_LIMIT})`, legend: '26 hours' },
          ],
          unit: units.Seconds,
          min: 0,
          width: 24,
        }),
      )
      .withRow(new RowBuilder('WAL archiving'))
      .withPanel(
        p.stat({
          title: 'Last WAL archive attempt',
          description:
            "Whether the primary's last attempt to archive a WAL segment succeeded (pg_stat_archiver: last archived newer than last failed). FAILING for 5 minutes is PostgresWALArchivingFailing: the recovery point stops moving and pg_wal fills.",
          queries: [{ expr: `max(cnpg_pg_stat_archiver_last_archived_time${pg}) >= bool max(cnpg_pg_stat_archiver_last_failed_time${pg})` }],
          mappings: okMapping('FAILING', 'OK'),
          height: 8,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Seconds since last WAL archive',
          description: "The primary's time since it last archived a segment (the RPO right now). Healthy: a saw-tooth under 2 minutes.",
          queries: [{ expr: `max by (pod) (cnpg_pg_stat_archiver_seconds_since_last_archival${pg})`, legend: '{{pod}}' }],
          unit: units.Seconds,
          min: 0,
          width: 6,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'WAL archived and failed (per minute)',
          description: 'Segments archived to the object store per minute, and failed attempts. Healthy: at least one a minute (archive_timeout), no failures.',
          queries: [
            { expr: `sum(rate(cnpg_pg_stat_archiver_archived_count${pg}[$__rate_interval])) * 60`, legend: 'archived' },
            { expr: `sum(rate(cnpg_pg_stat_archiver_failed_count${pg}[$__rate_interval])) * 60`, legend: 'failed' },
          ],
          unit: units.Short,
          min: 0,
          width: 6,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'WAL segments waiting for the archiver',
          description:
            'Completed segments not yet archived (pg_wal/archive_status .ready) on each instance. Healthy: 0 or 1; a growing backlog means archiving fails or is slower than WAL is written.',
          queries: [
            { expr: `max by (pod) (cnpg_collector_pg_wal_archive_status${sel({ namespace, job: JOBS.postgres, value: 'ready' })})`, legend: '{{pod}}' },
          ],
          unit: units.Short,
          min: 0,
          width: 6,
        }),
      )
      .withRow(new RowBuilder('Backup and restore Jobs'))
      .withPanel(
        p.countExpectingNone({
          title: 'Backup CronJobs suspended',
          description:
            'Backup and drill CronJobs someone suspended in the cluster (Git never does). Healthy: 0; a suspended one takes no backups (BackupCronJobSuspended after an hour).',
          queries: [{ expr: `count(kube_cronjob_spec_suspend${ksm(cronjobs)} == 1)` }],
          color: 'red',
        }),
      )
      .withPanel(
        p.countExpectingNone({
          title: 'Failed Jobs still listed',
          description:
            'Backup, drill and restore Jobs whose pods failed, among the Jobs Kubernetes still keeps (the last 3 failed runs of each CronJob). Healthy: 0; each one has a KubeJobFailed alert and its logs tell why.',
          queries: [{ expr: `count(kube_job_status_failed${ksm(allJobs)} > 0)` }],
          color: 'red',
        }),
      )
      .withPanel(
        p.countExpectingNone({
          title: 'Restore Jobs running',
          description: `On-demand restores in progress (\`npm run cli -- restore\`: the Jobs ${RESTORE_JOBS.redis} and ${RECOVERY_CHECK_JOB}). Healthy: 0 outside a restore.`,
          queries: [{ expr: `sum(kube_job_status_active${ksm(restoreJobs)})` }],
          color: 'blue',
        }),
      )
      .withPanel(
        p.stat({
          title: 'Last on-demand restore',
          description:
            'Whether each restore Job that still exists has succeeded. A restore Job is deleted before the next restore, so this is the last restore of each store; nothing shown when none has run.',
          queries: [{ expr: `max by (job_name) (kube_job_status_succeeded${ksm(restoreJobs)} > bool 0)`, legend: '{{job_name}}' }],
          mappings: okMapping('NOT SUCCEEDED', 'SUCCEEDED'),
          noValue: 'none',
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Duration of recent Jobs',
          description:
            'How long each finished backup, drill and restore Job took (the Jobs Kubernetes still keeps). Healthy: about the same from run to run; growth follows the data, and a run that nears its deadline (4 hours) will be killed and retried.',
          queries: [
            { expr: `max by (job_name) (kube_job_status_completion_time${ksm(allJobs)} - kube_job_status_start_time${ksm(allJobs)})`, legend: '{{job_name}}' },
          ],
          unit: units.Seconds,
          min: 0,
          width: 24,
        }),
      )
      .withRow(new RowBuilder('What the backups hold'))
      .withPanel(
        p.timeseries({
          title: 'Database size and WAL written',
          description:
            "The PostgreSQL databases' size (what a base backup copies) and the WAL written per hour (what the archive grows by, and what a restore replays per hour since the last base backup). Healthy: steady growth that the object store's retention and the RTO allow for.",
          queries: [
            { expr: `sum(max by (datname) (cnpg_pg_database_size_bytes${pg}))`, legend: 'databases' },
            { expr: `sum(rate(cnpg_collector_wal_bytes${pg}[1h])) * 3600`, legend: 'WAL per hour' },
          ],
          unit: units.BytesIEC,
          min: 0,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Redis snapshot volume',
          description: `Bytes used on the ${BACKUP_CLAIM} volume, which keeps the last Redis snapshots, against its size. Healthy: well under the size (it must hold the kept snapshots plus one more being written).`,
          queries: [
            { expr: backupVolume('kubelet_volume_stats_used_bytes'), legend: 'used' },
            { expr: backupVolume('kubelet_volume_stats_capacity_bytes'), legend: 'capacity' },
          ],
          unit: units.BytesIEC,
          min: 0,
        }),
      )
      .withRow(new RowBuilder('Restore drill'))
      .withPanel(
        p.stat({
          title: 'Last drill',
          description: `Outcome of the last weekly restore drill (${DRILL}: a scratch Cluster recovered from the object store, checked against the canary rows and with pg_amcheck). FAILED is RestoreDrillFailed: the backups are not proven restorable. None without an object store (dev).`,
          queries: [{ expr: `max(cnpg_platform_restore_drill_succeeded${pg}) and ${drillRan}` }],
          mappings: okMapping('FAILED', 'PASSED'),
          noValue: 'NO DRILL YET',
        }),
      )
      .withPanel(
        p.stat({
          title: 'Last drill: time to restore (RTO)',
          description:
            "Time the last drill took from creating the scratch Cluster to its being ready. Healthy: under the environment's backup.drill.maxRtoMinutes (a slower restore fails the drill); it grows with the database and with the WAL since the last base backup.",
          queries: [{ expr: `max(cnpg_platform_restore_drill_rto_seconds${pg}) and ${drillRan}` }],
          unit: units.Seconds,
        }),
      )
      .withPanel(
        p.stat({
          title: 'Last drill: data lost (RPO)',
          description: `Age of the newest canary row the last drill recovered, at the drill's start: the writes a restore would have lost. Healthy: about a minute or two; the drill fails past ${DRILL_MAX_RPO_SECONDS} s.`,
          queries: [{ expr: `max(cnpg_platform_restore_drill_rpo_seconds${pg}) and ${drillRan}` }],
          unit: units.Seconds,
          thresholds: thresholds([
            [null, 'green'],
            [DRILL_MAX_RPO_SECONDS / 2, 'orange'],
            [DRILL_MAX_RPO_SECONDS, 'red'],
          ]),
        }),
      )
      .withPanel(
        p.stat({
          title: 'Last drill ran',
          description:
            'Time since the last drill finished, passed or not. Healthy: under a week; older means the drill CronJob is suspended, was not scheduled, or never finishes.',
          queries: [{ expr: age(`max(cnpg_platform_restore_drill_last_run_timestamp_seconds${pg})`) }],
          unit: units.Seconds,
          noValue: 'NO DRILL YET',
          thresholds: thresholds([
            [null, 'green'],
            [7 * DAY + 6 * HOUR, 'orange'],
            [8 * DAY, 'red'],
          ]),
        }),
      )
      .withPanel(
        p
          .timeseries({
            title: 'Drill RTO and RPO, last 30 days',
            description:
              'The restore time and data loss each weekly drill measured, as far back as Prometheus keeps data. Healthy: flat; a rising RTO calls for more frequent base backups or more restore resources before it reaches the limit.',
            queries: [
              { expr: `max(cnpg_platform_restore_drill_rto_seconds${pg}) and ${drillRan}`, legend: 'RTO' },
              { expr: `max(cnpg_platform_restore_drill_rpo_seconds${pg}) and ${drillRan}`, legend: 'RPO' },
            ],
            unit: units.Seconds,
            min: 0,
            width: 24,
          })
          .timeFrom('30d'),
      ),
  );
}
