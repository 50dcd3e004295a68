// Backups and their proof. PostgreSQL: WAL archiving to the object store (the RPO) and the daily
// base backups (a CloudNativePG ScheduledBackup through the Barman Cloud Plugin: the RTO's starting
// point), the backup canary the drill measures the RPO with, and the weekly restore drill. Redis
// snapshots and the volume snapshots: their CronJobs.
//
// Sources: WAL archiving from CloudNativePG's default query pg_stat_archiver (runs on the primary
// only) and cnpg_collector_pg_wal_archive_status / cnpg_collector_wal_bytes (cloudnative-pg
// v1.30.0 config/manager/default-monitoring.yaml, pkg/management/postgres/webserver/metricserver);
// base backups from the plugin's barman_cloud_cloudnative_pg_io_* gauges (plugin-barman-cloud
// v0.14.0 web/docs/observability.md; the older cnpg_collector_*_backup_* gauges do not follow the
// plugin's backups); the canary and the drill from the platform's custom queries
// (cnpg_platform_*); the CronJobs from kube-state-metrics.
//
// The backup chart's contract with these rules: in the supabase namespace, the CronJobs
// redis-backup and volume-snapshots succeed at least daily, and the drill is the CronJob
// postgres-restore-drill.
// Freshness rules compare timestamps with time(); promtool's clock starts at 0, so their cases
// give "long ago" as negative timestamps.
import { DRILL } from '../../backup/drill';
import { BARMAN_PLUGIN } from '../../postgres/object-store';
import { JOBS } from '../metrics-catalogue';
import { cnpgStatus, inRecovery, instanceAt, instanceTarget, PG_CLUSTER, psql } from './postgres';
import { ksm, series } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

const DAY = 24 * 3600;
const DRILL_CRONJOB = DRILL;
/** CronJobs that must succeed at least daily. */
const DAILY_CRONJOBS = ['redis-backup', 'volume-snapshots'];

export function backupRules(ctx: RuleContext): RuleGroupSpec {
  const supabase = ctx.namespaces.supabase;
  const PG = `job="${JOBS.postgres}", namespace="${supabase}"`;
  const KSM = `job="${JOBS.kubeStateMetrics}", namespace="${supabase}"`;
  const status = `\`${cnpgStatus(ctx)}\``;
  const database = `\`${psql(ctx)}\``;
  const primary = instanceTarget(ctx, 1);
  const at = instanceAt(ctx, 1);
  const cluster = { job: JOBS.postgres, namespace: supabase };
  const archiver = (lastArchived: string, lastFailed: string) => [
    series('cnpg_pg_stat_archiver_last_archived_time', primary, lastArchived),
    series('cnpg_pg_stat_archiver_last_failed_time', primary, lastFailed),
  ];
  const late = (sinceLastArchival: string, ready: number, walBytesPerMinute: number) => [
    series('cnpg_pg_stat_archiver_seconds_since_last_archival', primary, sinceLastArchival),
    series('cnpg_collector_pg_wal_archive_status', { ...primary, value: 'ready' }, `${ready}x20`),
    series('cnpg_collector_pg_wal_archive_status', { ...primary, value: 'done' }, '40x20'),
    series('cnpg_collector_wal_bytes', { ...primary, stats_reset: '2026-01-01T00:00:00Z' }, `${2 ** 30}+${walBytesPerMinute}x20`),
  ];
  // The plugin's gauges: the same value on every instance.
  const barman = (metric: string, value: number) =>
    [1, 2, 3].map((n) => series(`barman_cloud_cloudnative_pg_io_${metric}`, instanceTarget(ctx, n), `${value}x20`));
  const backups = (lastAvailable: number, lastFailed: number) => [
    ...barman('last_available_backup_timestamp', lastAvailable),
    ...barman('last_failed_backup_timestamp', lastFailed),
  ];
  const platform = (metric: string, n: number, value: string) => series(`cnpg_platform_${metric}`, instanceTarget(ctx, n), value);
  const cronjob = (name: string, metric: string, value: number) => [series(metric, ksm({ namespace: supabase, cronjob: name }), `${value}x80`)];
  const drill = (succeeded: number, lastRun: number) => [
    platform('restore_drill_succeeded', 1, `${succeeded}x20`),
    platform('restore_drill_last_run_timestamp_seconds', 1, `${lastRun}x20`),
  ];
  const drillSuccess = (lastSuccess: number, cronJobCreated?: number) => [
    platform('restore_drill_last_success_timestamp_seconds', 1, `${lastSuccess}x20`),
    ...(cronJobCreated === undefined ? [] : cronjob(DRILL_CRONJOB, 'kube_cronjob_created', cronJobCreated)),
  ];
  const runDrill = `\`kubectl -n ${supabase} create job --from=cronjob/${DRILL_CRONJOB} ${DRILL_CRONJOB}-manual-$(date +%s)\``;
  const backupNow = `\`kubectl cnpg backup ${PG_CLUSTER} -n ${supabase} --method plugin --plugin-name ${BARMAN_PLUGIN}\``;

  return {
    name: 'backup',
    rules: [
      {
        alert: 'PostgresWALArchivingFailing',
        expr: [
          `max by (namespace, pod) (cnpg_pg_stat_archiver_last_failed_time{${PG}})`,
          `> max by (namespace, pod) (cnpg_pg_stat_archiver_last_archived_time{${PG}})`,
        ].join('\n'),
        for: '5m',
        severity: 'critical',
        team: 'database',
        summary: 'PostgreSQL primary {{ $labels.pod }} fails to archive WAL.',
        description:
          'For 5 minutes the last WAL archiving attempt of {{ $labels.namespace }}/{{ $labels.pod }} has been a failure. WAL that is not archived cannot be restored, so the recovery point stops advancing and pg_wal grows.',
        runbook: {
          meaning: `PostgreSQL hands every completed WAL segment to archive_command, which CloudNativePG routes to the Barman Cloud Plugin's sidecar (container plugin-barman-cloud), which uploads it to the object store. A failed segment is retried forever. pg_stat_archiver's last_failed_time newer than last_archived_time (\`cnpg_pg_stat_archiver_*\`, reported by the primary only) means the retries keep failing.`,
          impact:
            'Point-in-time recovery ends at the last archived segment: losing the cluster now loses every write since (the RPO is unbounded). Unarchived WAL stays in pg_wal and fills the WAL volume, and then PostgreSQL stops. Base backups need the archive too, so they fail as well.',
          diagnosis: [
            `${status}: "Continuous Backup status" shows the working-archive state, the last archived and the last failed WAL.`,
            `The error: \`kubectl -n ${supabase} logs <primary> -c plugin-barman-cloud --tail=200\` (credentials, bucket permissions, network, TLS) and \`kubectl -n ${supabase} logs <primary> -c postgres | grep -i archive\`. The primary is \`kubectl -n ${supabase} get cluster ${PG_CLUSTER} -o jsonpath='{.status.currentPrimary}'\`.`,
            `The object store configuration: \`kubectl -n ${supabase} describe objectstores.barmancloud.cnpg.io\` and the Cluster's ContinuousArchiving condition (\`kubectl -n ${supabase} get cluster ${PG_CLUSTER} -o jsonpath='{.status.conditions}'\`).`,
            `How much is waiting: \`cnpg_collector_pg_wal_archive_status{value="ready"}\`, or in ${database} \`SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready';\`.`,
          ],
          mitigation: [
            'Fix the cause the log names: rotate the object-store credentials Secret (postgres-object-store), restore the bucket policy, open the NetworkPolicy egress to the store.',
            'Archiving resumes on its own once an upload succeeds; watch the ready count drain. If the WAL volume is close to full, grow it first (KubePersistentVolumeAlmostFull).',
            `After a long outage take a base backup at once so restores do not depend on replaying the whole gap: ${backupNow}.`,
          ],
        },
        tests: {
          fires: [{ series: archiver('-600x20', '0+60x20'), at: '10m', alerts: [at] }],
          quiet: [
            { series: archiver('-600x20', '0+60x20'), at: '3m' },
            // An old failure, archived successfully since.
            { series: archiver('0+60x20', '-900x20'), at: '10m' },
          ],
        },
      },
      {
        alert: 'PostgresWALArchivingLate',
        expr: [
          `max by (namespace, pod) (cnpg_pg_stat_archiver_seconds_since_last_archival{${PG}}) > 180`,
          'and on (namespace, pod) (',
          // Completed segments wait for the archiver ...
          `  max by (namespace, pod) (cnpg_collector_pg_wal_archive_status{${PG}, value="ready"}) > 0`,
          // ... or WAL is written (archive_timeout should have switched it into a segment).
          `  or sum by (namespace, pod) (increase(cnpg_collector_wal_bytes{${PG}}[3m])) > 0`,
          ')',
        ].join('\n'),
        for: '1m',
        severity: 'critical',
        team: 'database',
        summary: 'PostgreSQL primary {{ $labels.pod }} writes WAL but has archived nothing for 3 minutes.',
        description:
          'PostgreSQL {{ $labels.namespace }}/{{ $labels.pod }} has WAL to archive but its last successful archive is more than 180 seconds old (archive_timeout is 60 seconds). The recovery point is falling behind.',
        runbook: {
          meaning:
            'With archive_timeout = 60 s, a primary that writes anything (the backup canary writes every minute) switches and archives a segment at least every minute. No archive for three minutes while segments wait (`cnpg_collector_pg_wal_archive_status{value="ready"}`) or WAL is written (`cnpg_collector_wal_bytes`) means archiving is stuck or far behind, even if no attempt has failed yet (a hanging upload).',
          impact: 'The RPO promise (about a minute) is broken: losing the cluster now loses everything written since the last archived segment.',
          diagnosis: [
            `${status} (last archived WAL and its time), and in ${database} \`SELECT * FROM pg_stat_archiver;\`.`,
            `A hanging upload: \`kubectl -n ${supabase} logs <primary> -c plugin-barman-cloud --tail=200\` (retries, timeouts to the object store endpoint).`,
            'Slow uploads: a write burst (bulk import) produces segments faster than the store accepts them; compare `rate(cnpg_collector_wal_bytes[5m])` with the upload bandwidth; the ready count grows.',
            'Nothing ready but WAL written: archive_timeout is not set as expected (`SHOW archive_timeout;`).',
          ],
          mitigation: [
            `A hung upload: fix the network or store that made it hang; if the sidecar stays stuck, a switchover (\`kubectl cnpg promote ${PG_CLUSTER} <standby> -n ${supabase}\`) moves archiving to another instance's sidecar; afterwards check the archive for a gap (the status command's last archived WAL) and take a base backup if there is one (see PostgresBackupTooOld).`,
            'A backlog from a burst: it drains by itself; pause the bulk job if the backlog keeps growing.',
          ],
        },
        tests: {
          fires: [
            { series: late('0+60x20', 2, 0), at: '10m', alerts: [at] },
            { series: late('0+60x20', 0, 2 ** 20), at: '10m', alerts: [at] },
          ],
          quiet: [
            { series: late('0+60x20', 2, 0), at: '3m' },
            { series: late('30x20', 2, 2 ** 20), at: '10m' },
            // Idle: nothing written, nothing waiting.
            { series: late('0+60x20', 0, 0), at: '10m' },
          ],
        },
      },
      {
        alert: 'PostgresBackupTooOld',
        expr: `time() - max by (job, namespace) (barman_cloud_cloudnative_pg_io_last_available_backup_timestamp{${PG}}) > 26 * 3600`,
        for: '10m',
        severity: 'critical',
        team: 'database',
        summary: 'The newest PostgreSQL base backup in {{ $labels.namespace }} is more than 26 hours old.',
        description:
          'The newest base backup of the PostgreSQL cluster in {{ $labels.namespace }} in the object store is more than 26 hours old, so at least one daily backup is missing.',
        runbook: {
          meaning: `The Barman Cloud Plugin reports when the newest base backup in the object store finished (\`barman_cloud_cloudnative_pg_io_last_available_backup_timestamp\`, 0 when the store holds none). The ScheduledBackup takes one daily (02:00 UTC); older than a day plus two hours means the last run failed, did not start, or is stuck.`,
          impact:
            'A restore starts from an older base backup and replays more WAL: it takes longer (RTO) and depends on a longer WAL chain. Retention removes old backups on schedule, so a long gap can leave fewer restore points than promised.',
          diagnosis: [
            `The runs: \`kubectl -n ${supabase} get backups.postgresql.cnpg.io --sort-by=.metadata.creationTimestamp\` (phase, error) and \`kubectl -n ${supabase} describe backup <backup>\`.`,
            `The schedule: \`kubectl -n ${supabase} get scheduledbackups.postgresql.cnpg.io\` (suspended? last schedule time?).`,
            `The backup's log: the plugin sidecar of the instance that ran it, \`kubectl -n ${supabase} logs <pod> -c plugin-barman-cloud\` (barman-cloud-backup errors).`,
            `${status}: the first recoverability point and the last successful backup as the operator sees them; PostgresWALArchivingFailing, if firing, is the cause.`,
          ],
          mitigation: [
            `Fix the cause, then take a backup now: ${backupNow}, and watch \`kubectl -n ${supabase} get backups.postgresql.cnpg.io -w\` until it is completed.`,
            'Resume a suspended ScheduledBackup by syncing the postgres application in Argo CD (Git never suspends it).',
          ],
        },
        tests: {
          fires: [{ series: backups(-27 * 3600, 0), at: '15m', alerts: [cluster] }],
          quiet: [
            { series: backups(-27 * 3600, 0), at: '5m' },
            { series: backups(-3600, 0), at: '15m' },
          ],
        },
      },
      {
        alert: 'PostgresBackupFailed',
        expr: [
          `max by (job, namespace) (barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp{${PG}})`,
          `> max by (job, namespace) (barman_cloud_cloudnative_pg_io_last_available_backup_timestamp{${PG}})`,
        ].join('\n'),
        severity: 'warning',
        team: 'database',
        summary: 'The last PostgreSQL base backup in {{ $labels.namespace }} failed.',
        description:
          'The most recent base backup attempt of the PostgreSQL cluster in {{ $labels.namespace }} failed after the last successful one. The alert clears when a backup succeeds.',
        runbook: {
          meaning:
            'The Barman Cloud Plugin records the time of the last failed backup (`barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp`); it is newer than the last successful one. Scheduled and on-demand backups both count.',
          impact:
            'Nothing is lost yet: the previous backup and the WAL archive still allow a restore. If the next scheduled backup fails too, PostgresBackupTooOld follows.',
          diagnosis: [
            `The failed Backup: \`kubectl -n ${supabase} get backups.postgresql.cnpg.io --sort-by=.metadata.creationTimestamp\` and \`kubectl -n ${supabase} describe backup <backup>\` (status.error).`,
            `The plugin's log on the instance that ran it: \`kubectl -n ${supabase} logs <pod> -c plugin-barman-cloud\` (credentials, bucket, space, a standby too far behind for a standby backup).`,
          ],
          mitigation: [`Fix the cause and take a backup now: ${backupNow}; the alert clears when it completes.`],
        },
        tests: {
          // No time() here: plain positive timestamps.
          fires: [{ series: backups(90000, 100000), at: '5m', alerts: [cluster] }],
          quiet: [
            // Never failed (0).
            { series: backups(90000, 0), at: '5m' },
            // Failed once, succeeded since.
            { series: backups(90000, 50000), at: '5m' },
          ],
        },
      },
      {
        alert: 'BackupCanaryStale',
        expr: [
          `time() - max by (namespace, pod) (cnpg_platform_backup_canary_newest_timestamp_seconds{${PG}}) > 300`,
          `and on (namespace, pod) max by (namespace, pod) (cnpg_pg_replication_in_recovery{${PG}}) == 0`,
        ].join('\n'),
        for: '2m',
        severity: 'warning',
        team: 'database',
        summary: 'The backup canary on PostgreSQL primary {{ $labels.pod }} has not been written for 5 minutes.',
        description:
          'The newest row of ops.backup_canary on the primary {{ $labels.namespace }}/{{ $labels.pod }} is more than 5 minutes old: pg_cron no longer writes it, or the primary cannot write.',
        runbook: {
          meaning:
            "A pg_cron job on the primary inserts a row into ops.backup_canary every minute; the platform's monitoring query reports the newest row's time (`cnpg_platform_backup_canary_newest_timestamp_seconds`). The restore drill compares the canary rows it restores with the database to measure the RPO, and the steady writes keep archive_timeout switching WAL every minute.",
          impact:
            'The drill can no longer prove the RPO (RestoreDrillFailed follows at the next drill). If the primary cannot write at all (a full volume, commits blocked waiting for a synchronous standby), applications are failing too.',
          diagnosis: [
            `The job and its runs: in ${database} run \`SELECT jobid, jobname, schedule, active FROM cron.job;\` and \`SELECT status, return_message, start_time FROM cron.job_run_details ORDER BY start_time DESC LIMIT 10;\`.`,
            `Can the primary write? PostgresNoSynchronousStandby, KubePersistentVolumeAlmostFull; in ${database} \`SELECT pg_is_in_recovery();\` and \`SHOW default_transaction_read_only;\`.`,
            'After a failover pg_cron runs on the new primary (cron.database_name, the launcher starts with the promotion); the alert follows the current primary.',
          ],
          mitigation: [
            "A disabled or missing cron job: recreate it as the platform's SQL defines it (charts/postgres) rather than by hand, so Git stays the source.",
            'Blocked writes: fix the cause (see the alerts named above); the canary resumes by itself.',
          ],
        },
        tests: {
          fires: [{ series: [platform('backup_canary_newest_timestamp_seconds', 1, '-600x20'), inRecovery(ctx, 1, '0x20')], at: '10m', alerts: [at] }],
          quiet: [
            { series: [platform('backup_canary_newest_timestamp_seconds', 1, '-600x20'), inRecovery(ctx, 1, '0x20')], at: '1m' },
            { series: [platform('backup_canary_newest_timestamp_seconds', 1, '0+60x20'), inRecovery(ctx, 1, '0x20')], at: '10m' },
            // A standby's copy is as old as its replay; only the primary counts.
            { series: [platform('backup_canary_newest_timestamp_seconds', 2, '-600x20'), inRecovery(ctx, 2, '1x20')], at: '10m' },
          ],
        },
      },
      {
        alert: 'BackupCronJobStale',
        expr: `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${KSM}, cronjob=~"${DAILY_CRONJOBS.join('|')}"}) > 26 * 3600`,
        for: '10m',
        severity: 'critical',
        team: 'database',
        summary: 'Backup CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded for 26 hours.',
        description:
          'The last successful run of backup CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} is more than 26 hours old, so at least one daily backup is missing.',
        runbook: {
          meaning: `The CronJobs ${DAILY_CRONJOBS.join(' and ')} (Redis snapshots, CSI snapshots of the other volumes) run at least daily. The last successful completion, as kube-state-metrics reports it, is older than a day plus two hours of slack. PostgreSQL's base backups are not CronJobs: PostgresBackupTooOld watches them.`,
          impact:
            'Redis: a restore loses everything since the last good snapshot (its queues and cached state). Volume snapshots: Prometheus, Grafana, Loki (and Storage files where they live on a volume) restore to an older state.',
          diagnosis: [
            `Recent runs: \`kubectl -n ${supabase} get jobs --sort-by=.status.startTime | grep <cronjob>\`; a failed one has its own KubeJobFailed alert and logs (\`kubectl -n ${supabase} logs job/<job>\`).`,
            `Not scheduled at all: \`kubectl -n ${supabase} get cronjob <cronjob>\` (SUSPEND true: BackupCronJobSuspended; LAST SCHEDULE old: missed start deadline, e.g. after controller downtime).`,
            'Runs that never finish: `activeDeadlineSeconds` kills them; look for DeadlineExceeded and the snapshot or copy throughput.',
          ],
          mitigation: [
            `Fix the cause, then run it now: \`kubectl -n ${supabase} create job --from=cronjob/<cronjob> <cronjob>-manual-$(date +%s)\` and watch it to completion.`,
            'Confirm the new snapshot exists (the Redis backup volume and its off-site copy, or `kubectl get volumesnapshots -A`) before closing the incident.',
          ],
        },
        tests: {
          fires: [
            {
              series: cronjob('redis-backup', 'kube_cronjob_status_last_successful_time', -27 * 3600),
              at: '15m',
              alerts: [{ namespace: supabase, cronjob: 'redis-backup' }],
            },
          ],
          quiet: [
            { series: cronjob('redis-backup', 'kube_cronjob_status_last_successful_time', -27 * 3600), at: '5m' },
            { series: cronjob('volume-snapshots', 'kube_cronjob_status_last_successful_time', -3600), at: '15m' },
            // The weekly drill is not a daily backup.
            { series: cronjob(DRILL_CRONJOB, 'kube_cronjob_status_last_successful_time', -3 * DAY), at: '15m' },
          ],
        },
      },
      {
        alert: 'BackupCronJobSuspended',
        expr: `max by (namespace, cronjob) (kube_cronjob_spec_suspend{${KSM}, cronjob=~"${[...DAILY_CRONJOBS, DRILL_CRONJOB].join('|')}"}) == 1`,
        for: '1h',
        severity: 'warning',
        team: 'database',
        summary: 'Backup CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} is suspended.',
        description: 'Backup CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has been suspended for an hour: it will not run until someone resumes it.',
        runbook: {
          meaning:
            'Someone set `spec.suspend: true` on the CronJob (for maintenance, a restore, or by a manual patch). Git does not suspend backups, so this is a change made in the cluster.',
          impact: `No new snapshots (or, for ${DRILL_CRONJOB}, no restore drills); after a day BackupCronJobStale (or after eight days RestoreDrillStale) fires. Argo CD shows the object OutOfSync.`,
          diagnosis: [
            `Who and when: \`kubectl -n ${supabase} get cronjob <cronjob> -o yaml\` (managedFields name the field manager) and the Argo CD history of the backup application.`,
          ],
          mitigation: [
            `If the maintenance is over, resume it: sync the backup application in Argo CD, or \`kubectl -n ${supabase} patch cronjob <cronjob> -p '{"spec":{"suspend":false}}'\`.`,
            'Then run it once by hand (see BackupCronJobStale) so the gap closes now rather than at the next schedule.',
          ],
        },
        tests: {
          fires: [{ series: cronjob('redis-backup', 'kube_cronjob_spec_suspend', 1), at: '1h5m', alerts: [{ namespace: supabase, cronjob: 'redis-backup' }] }],
          quiet: [
            { series: cronjob('redis-backup', 'kube_cronjob_spec_suspend', 1), at: '30m' },
            { series: cronjob('redis-backup', 'kube_cronjob_spec_suspend', 0), at: '1h5m' },
          ],
        },
      },
      {
        alert: 'RestoreDrillFailed',
        expr: [
          `max by (job, namespace) (cnpg_platform_restore_drill_succeeded{${PG}}) == 0`,
          // The monitoring query reports 0 for everything until a drill has run.
          `and on (job, namespace) max by (job, namespace) (cnpg_platform_restore_drill_last_run_timestamp_seconds{${PG}}) > 0`,
        ].join('\n'),
        severity: 'warning',
        team: 'database',
        summary: 'The last restore drill failed.',
        description:
          'The last weekly restore drill in {{ $labels.namespace }} failed: the backup could not be restored, the restored data did not match, or the restore took longer than allowed.',
        runbook: {
          meaning: `The weekly CronJob ${DRILL_CRONJOB} recovers a scratch CloudNativePG Cluster from the object store (the newest base backup and the archived WAL), checks the point it reached and the canary rows of ops.backup_canary against the database, runs pg_amcheck, records the RTO and RPO, and deletes the scratch Cluster. Each run is recorded in ops.restore_drill_runs and reported by the platform's monitoring query: \`cnpg_platform_restore_drill_succeeded\` is 0 when any step of the latest run failed or the restore took longer than backup.drill.maxRtoMinutes (and also before any drill has run, which \`cnpg_platform_restore_drill_last_run_timestamp_seconds\` 0 tells apart).`,
          impact:
            'Nothing is broken in production, but it is no longer proven that the backups can be restored, or within the RTO. Until a drill passes, treat the backups as suspect.',
          diagnosis: [
            `The drill's log names the failed step: \`kubectl -n ${supabase} logs job/<latest ${DRILL_CRONJOB} job>\`.`,
            'Restore failed: a base backup the plugin cannot read, a gap in the archived WAL (PostgresWALArchivingFailing at the time), or the scratch Cluster could not be scheduled (resources, quota).',
            'Canary mismatch or RPO too large: the canary stopped (BackupCanaryStale) or WAL archiving lagged (PostgresWALArchivingLate); a mismatch with no restore error is the most serious finding: escalate.',
            'Too slow: `cnpg_platform_restore_drill_rto_seconds` over the last weeks; growth with database size means the base backup cadence or the restore resources need a change.',
          ],
          mitigation: [
            `Fix the cause and rerun the drill: ${runDrill}; the alert resolves when it passes.`,
            `If backups are found unrestorable, take a new base backup immediately (\`kubectl cnpg backup ${PG_CLUSTER} -n ${supabase} --method plugin --plugin-name ${BARMAN_PLUGIN}\`) and verify it with a drill before anything else.`,
          ],
        },
        tests: {
          // No time() here: plain positive timestamps.
          fires: [{ series: drill(0, 90000), at: '5m', alerts: [cluster] }],
          quiet: [
            { series: drill(1, 90000), at: '5m' },
            // No drill has run yet (dev has none at all).
            { series: drill(0, 0), at: '5m' },
          ],
        },
      },
      {
        alert: 'RestoreDrillStale',
        expr: [
          `time() - max by (namespace) (cnpg_platform_restore_drill_last_success_timestamp_seconds{${PG}}) > 8 * 24 * 3600`,
          // Only where the drill's CronJob exists (not in dev), and has had 8 days to pass once.
          `and on (namespace) time() - max by (namespace) (kube_cronjob_created{${KSM}, cronjob="${DRILL_CRONJOB}"}) > 8 * 24 * 3600`,
        ].join('\n'),
        for: '10m',
        severity: 'warning',
        team: 'database',
        summary: 'No restore drill has succeeded for 8 days.',
        description: 'No weekly restore drill in {{ $labels.namespace }} has completed successfully for more than 8 days.',
        runbook: {
          meaning: `The drill runs weekly; the last successful one (\`cnpg_platform_restore_drill_last_success_timestamp_seconds\`, from ops.restore_drill_runs; 0 when none has passed) is more than a week plus a day old while the CronJob ${DRILL_CRONJOB} has existed for longer than that: drills failed (RestoreDrillFailed), were not scheduled, or never finish. Environments without the drill (no object store) have no CronJob and no alert.`,
          impact: 'The backups have not been proven restorable for over a week.',
          diagnosis: [
            `\`kubectl -n ${supabase} get cronjob ${DRILL_CRONJOB}\` (suspended? last schedule?) and \`kubectl -n ${supabase} get jobs --sort-by=.status.startTime | grep ${DRILL_CRONJOB}\`.`,
            'A drill that is always killed by its deadline: compare its duration with `activeDeadlineSeconds`; a scratch Cluster left behind by a killed drill: `kubectl -n <drill namespace> get clusters.postgresql.cnpg.io`.',
          ],
          mitigation: [`Fix the cause and run the drill by hand: ${runDrill}.`],
        },
        tests: {
          fires: [{ series: drillSuccess(-9 * DAY, -90 * DAY), at: '15m', alerts: [{ namespace: supabase }] }],
          quiet: [
            { series: drillSuccess(-9 * DAY, -90 * DAY), at: '5m' },
            { series: drillSuccess(-3 * DAY, -90 * DAY), at: '15m' },
            // Never succeeded (the query's 0 is 1970), but the CronJob is two days old.
            { series: drillSuccess(-1e9, -2 * DAY), at: '15m' },
            // No drill CronJob (dev).
            { series: drillSuccess(-1e9), at: '15m' },
          ],
        },
      },
    ],
  };
}
