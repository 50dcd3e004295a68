// Backups and their proof: PostgreSQL's WAL archiving (the RPO), the WAL stream and the daily base
// backups (the RTO's starting point), and the weekly restore drill. The backup chart's contract
// with these rules: its CronJobs run in the supabase namespace, every CronJob whose name contains
// "backup" succeeds at least daily, the drill is the CronJob postgres-restore-drill, and the jobs
// expose the platform_backup_* and platform_restore_drill_* metrics of the catalogue.
// Freshness rules compare timestamps with time(); promtool's clock starts at 0, so their cases
// give "long ago" as negative timestamps.
import { JOBS } from '../metrics-catalogue';
import { psql, postgresTarget } from './postgres';
import { ksm, series, target } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

const DAY = 24 * 3600;
const DRILL_CRONJOB = 'postgres-restore-drill';

export function backupRules(ctx: RuleContext): RuleGroupSpec {
  const supabase = ctx.namespaces.supabase;
  const PG = `job="${JOBS.postgres}", namespace="${supabase}"`;
  const KSM = `job="${JOBS.kubeStateMetrics}", namespace="${supabase}"`;
  const BACKUP_CRONJOBS = `cronjob=~"[a-z0-9-]*backup[a-z0-9-]*"`;
  const pg = postgresTarget(ctx);
  const at = { namespace: supabase, pod: 'postgres-0' };
  const walWritten = (bytesPerMinute: number) => series('pg_xlog_location_bytes', pg, `${2 ** 32}+${bytesPerMinute}x20`);
  const archiver = (ageValues: string, bytesPerMinute: number) => [series('pg_stat_archiver_last_archive_age', pg, ageValues), walWritten(bytesPerMinute)];
  const backupPod = target('postgres-backup', supabase, 'postgres-wal-stream-0', 'wal-stream', '10.0.2.12:9101');
  const stream = (lastSegment: string, bytesPerMinute: number) => [series('platform_backup_wal_last_segment_timestamp_seconds', backupPod, lastSegment), walWritten(bytesPerMinute)];
  const cronjob = (name: string, metric: string, value: number) => [series(metric, ksm({ namespace: supabase, cronjob: name }), `${value}x80`)];
  const reported = (metric: string, value: number) => [series(metric, { ...backupPod, kind: 'base' }, `${value}x20`)];
  const reportedLabels = { job: 'postgres-backup', namespace: supabase, kind: 'base' };
  const database = `\`${psql(ctx)}\``;

  return {
    name: 'backup',
    rules: [
      {
        alert: 'PostgresWALArchiveFailing',
        expr: `sum by (namespace, pod) (increase(pg_stat_archiver_failed_count{${PG}}[5m])) > 0`,
        for: '5m',
        severity: 'critical',
        team: 'database',
        summary: 'PostgreSQL {{ $labels.pod }} fails to archive WAL.',
        description: 'archive_command has been failing on {{ $labels.namespace }}/{{ $labels.pod }} for 5 minutes. WAL that is not archived cannot be restored, so the recovery point stops advancing and pg_wal grows.',
        runbook: {
          meaning: 'PostgreSQL runs archive_command for every completed WAL segment and retries a failing segment forever; `pg_stat_archiver.failed_count` counts the failures.',
          impact: 'Point-in-time recovery ends at the last archived segment: losing the volume now loses every write since (RPO unbounded). Unarchived WAL stays in pg_wal and fills the data volume.',
          diagnosis: [
            `The failure: in ${database} run \`SELECT last_archived_wal, last_archived_time, last_failed_wal, last_failed_time FROM pg_stat_archiver;\`.`,
            `The error text: \`kubectl -n ${supabase} logs postgres-0 -c postgres | grep -i -E "archive command failed|archiver"\` (bucket credentials, network, missing binary).`,
            `How much is waiting: \`SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready';\` in the same psql.`,
          ],
          mitigation: [
            'Fix the cause the log names: rotate the object-store credentials Secret, open the NetworkPolicy egress to the store, restore the bucket\'s permissions.',
            'Archiving resumes on its own once the command succeeds; watch `.ready` files drain. If pg_wal is close to filling the volume, grow the volume first (KubePersistentVolumeAlmostFull).',
            'Take a new base backup after a long outage so restores do not depend on replaying the whole gap.',
          ],
        },
        tests: {
          fires: [{ series: [series('pg_stat_archiver_failed_count', pg, '0+1x20')], at: '10m', alerts: [at] }],
          quiet: [
            { series: [series('pg_stat_archiver_failed_count', pg, '0+1x20')], at: '4m' },
            { series: [series('pg_stat_archiver_failed_count', pg, '3x20')], at: '10m' },
          ],
        },
      },
      {
        alert: 'PostgresWALArchiveStale',
        expr: [
          `max by (namespace, pod) (pg_stat_archiver_last_archive_age{${PG}}) > 180`,
          // An idle database writes no WAL, so nothing to archive is not a failure.
          `and on (namespace, pod) sum by (namespace, pod) (increase(pg_xlog_location_bytes{${PG}}[5m])) > 0`,
        ].join('\n'),
        for: '1m',
        severity: 'critical',
        team: 'database',
        summary: 'PostgreSQL {{ $labels.pod }} writes WAL but has archived nothing for 3 minutes.',
        description: 'PostgreSQL {{ $labels.namespace }}/{{ $labels.pod }} is writing WAL but its last successful archive is more than 180 seconds old (archive_timeout is 60 seconds). The recovery point is falling behind.',
        runbook: {
          meaning: 'With archive_timeout = 60 s, a database that writes anything switches and archives a segment at least every minute. No archive for three minutes while WAL advances means archiving is stuck or far behind, even if it reports no failures (a hanging archive_command).',
          impact: 'The RPO promise (about a minute) is broken: a lost volume now loses everything written since the last archived segment.',
          diagnosis: [
            `Archiver state: in ${database} run \`SELECT * FROM pg_stat_archiver;\` and count waiting segments with \`SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready';\`.`,
            `A hanging archive_command shows as a long-lived child process: \`kubectl -n ${supabase} exec postgres-0 -c postgres -- ps -ef | grep -i archiv\`.`,
            'Slow uploads: a write burst (bulk import) can produce segments faster than the object store accepts them; compare `rate(pg_xlog_location_bytes[5m])` with the upload bandwidth.',
          ],
          mitigation: [
            'A hanging upload: kill the archive_command child process (PostgreSQL retries the segment); fix the network or store that made it hang.',
            'A backlog from a burst: it drains by itself; pause the bulk job if the backlog keeps growing.',
          ],
        },
        tests: {
          fires: [{ series: archiver('0+60x20', 2 ** 20), at: '10m', alerts: [at] }],
          quiet: [
            { series: archiver('0+60x20', 2 ** 20), at: '3m' },
            { series: archiver('30x20', 2 ** 20), at: '10m' },
            // Idle database: no WAL written, nothing to archive.
            { series: archiver('0+60x20', 0), at: '10m' },
          ],
        },
      },
      {
        alert: 'BackupWALStreamStale',
        expr: [
          `time() - max by (namespace) (platform_backup_wal_last_segment_timestamp_seconds{namespace="${supabase}"}) > 300`,
          `and on (namespace) sum by (namespace) (increase(pg_xlog_location_bytes{${PG}}[5m])) > 0`,
        ].join('\n'),
        for: '2m',
        severity: 'critical',
        team: 'database',
        summary: 'The backup WAL stream in {{ $labels.namespace }} has stored nothing for 5 minutes.',
        description: 'PostgreSQL in {{ $labels.namespace }} is writing WAL, but the backup WAL stream has not completed a segment for more than 5 minutes. Point-in-time recovery is falling behind.',
        runbook: {
          meaning: 'The backup chart streams WAL off the server (pg_receivewal-style, through a replication slot) and reports when it last stored a complete segment. Nothing stored for five minutes while the database writes means the stream is down or stuck.',
          impact: 'The recovery point stops advancing; the slot behind the stream retains WAL on the data volume (PostgresInactiveReplicationSlot, PostgresReplicationSlotRetainingWAL follow).',
          diagnosis: [
            `The receiver (a pod of the backup chart): \`kubectl -n ${supabase} get pods -o wide | grep -i wal\`, then its logs (authentication failed, replication connection refused, storage errors).`,
            `The slot: in ${database} run \`SELECT slot_name, active, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) FROM pg_replication_slots;\`; active false means the receiver is not connected.`,
            'Replication access: the backup role connects with `host replication platform_backup` in pg_hba.conf, and max_wal_senders must leave a sender free.',
          ],
          mitigation: [
            'Restart the receiver once its cause is fixed; it resumes from the slot\'s position, so nothing is lost while the slot holds the WAL.',
            'If the slot was lost (wal_status "lost"), recreate it and take a base backup at once: the stream has a gap that only a new base backup closes.',
          ],
        },
        tests: {
          fires: [{ series: stream('0x20', 2 ** 20), at: '10m', alerts: [{ namespace: supabase }] }],
          quiet: [
            { series: stream('0x20', 2 ** 20), at: '6m' },
            // The stored segment's time keeps up with the clock.
            { series: stream('0+60x20', 2 ** 20), at: '10m' },
            { series: stream('0x20', 0), at: '10m' },
          ],
        },
      },
      {
        alert: 'BackupCronJobStale',
        expr: `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${KSM}, ${BACKUP_CRONJOBS}}) > 26 * 3600`,
        for: '10m',
        severity: 'critical',
        team: 'database',
        summary: 'Backup CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded for 26 hours.',
        description: 'The last successful run of backup CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} is more than 26 hours old, so at least one daily backup is missing.',
        runbook: {
          meaning: 'Every backup CronJob runs at least daily (the base backup at 02:00). Its last successful completion, as kube-state-metrics reports it, is older than a day plus two hours of slack.',
          impact: 'Restores would start from an older base backup and replay more WAL: the restore takes longer (RTO) and depends on a longer, unverified WAL chain.',
          diagnosis: [
            `Recent runs: \`kubectl -n ${supabase} get jobs --sort-by=.status.startTime | grep <cronjob>\`; a failed one has its own KubeJobFailed alert and logs (\`kubectl -n ${supabase} logs job/<job>\`).`,
            `Not scheduled at all: \`kubectl -n ${supabase} get cronjob <cronjob>\` (SUSPEND true: BackupCronJobSuspended; LAST SCHEDULE old: missed start deadline, e.g. after controller downtime).`,
            'Runs that never finish: `activeDeadlineSeconds` kills them; look for DeadlineExceeded and the backup\'s throughput.',
          ],
          mitigation: [
            `Fix the cause, then run a backup now: \`kubectl -n ${supabase} create job --from=cronjob/<cronjob> <cronjob>-manual-$(date +%s)\` and watch it to completion.`,
            'Confirm the new backup is listed in the backup store before closing the incident.',
          ],
        },
        tests: {
          fires: [{ series: cronjob('postgres-basebackup', 'kube_cronjob_status_last_successful_time', -27 * 3600), at: '15m', alerts: [{ namespace: supabase, cronjob: 'postgres-basebackup' }] }],
          quiet: [
            { series: cronjob('postgres-basebackup', 'kube_cronjob_status_last_successful_time', -27 * 3600), at: '5m' },
            { series: cronjob('postgres-basebackup', 'kube_cronjob_status_last_successful_time', -3600), at: '15m' },
            // The weekly drill is not a daily backup.
            { series: cronjob(DRILL_CRONJOB, 'kube_cronjob_status_last_successful_time', -3 * DAY), at: '15m' },
          ],
        },
      },
      {
        alert: 'BackupCronJobSuspended',
        expr: `max by (namespace, cronjob) (kube_cronjob_spec_suspend{${KSM}, ${BACKUP_CRONJOBS}}) == 1`,
        for: '1h',
        severity: 'warning',
        team: 'database',
        summary: 'Backup CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} is suspended.',
        description: 'Backup CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has been suspended for an hour: it will not run until someone resumes it.',
        runbook: {
          meaning: 'Someone set `spec.suspend: true` on the CronJob (for maintenance, a restore, or by a manual patch). Git does not suspend backups, so this is a change made in the cluster.',
          impact: 'No new backups; after a day BackupCronJobStale fires. Argo CD shows the object OutOfSync.',
          diagnosis: [`Who and when: \`kubectl -n ${supabase} get cronjob <cronjob> -o yaml\` (managedFields name the field manager) and the Argo CD history of the backup application.`],
          mitigation: [
            `If the maintenance is over, resume it: sync the backup application in Argo CD, or \`kubectl -n ${supabase} patch cronjob <cronjob> -p '{"spec":{"suspend":false}}'\`.`,
            'Then run one backup by hand (see BackupCronJobStale) so the gap closes now rather than at the next schedule.',
          ],
        },
        tests: {
          fires: [{ series: cronjob('postgres-basebackup', 'kube_cronjob_spec_suspend', 1), at: '1h5m', alerts: [{ namespace: supabase, cronjob: 'postgres-basebackup' }] }],
          quiet: [
            { series: cronjob('postgres-basebackup', 'kube_cronjob_spec_suspend', 1), at: '30m' },
            { series: cronjob('postgres-basebackup', 'kube_cronjob_spec_suspend', 0), at: '1h5m' },
          ],
        },
      },
      {
        alert: 'BackupStale',
        expr: `time() - max without (instance, pod, container) (platform_backup_last_success_timestamp_seconds{namespace="${supabase}"}) > 26 * 3600`,
        for: '10m',
        severity: 'critical',
        team: 'database',
        summary: 'The last successful {{ $labels.job }} backup is more than 26 hours old.',
        description: 'The backup job {{ $labels.job }} in {{ $labels.namespace }} last reported a successful, verified backup more than 26 hours ago.',
        runbook: {
          meaning: 'The backup jobs set `platform_backup_last_success_timestamp_seconds` only after the upload is complete and verified. Unlike BackupCronJobStale, this also catches jobs that exit 0 without producing a usable backup.',
          impact: 'The newest restorable base backup is more than a day old: restores take longer and depend on more WAL.',
          diagnosis: [
            'Which backups: the labels of the alert name the job and kind; `platform_backup_last_success_timestamp_seconds` in Prometheus shows each one\'s last success.',
            `The latest runs and their logs: \`kubectl -n ${supabase} get jobs --sort-by=.status.startTime\`, \`kubectl -n ${supabase} logs job/<job>\` (verification failures are logged before the job exits).`,
            'Is the metric scraped at all? TargetDown for the job, or a missing series, means the alert may be stale rather than the backup.',
          ],
          mitigation: ['Fix the failing step (upload, verification), run a backup by hand (see BackupCronJobStale) and check that the metric moves.'],
        },
        tests: {
          fires: [{ series: reported('platform_backup_last_success_timestamp_seconds', -27 * 3600), at: '15m', alerts: [reportedLabels] }],
          quiet: [
            { series: reported('platform_backup_last_success_timestamp_seconds', -27 * 3600), at: '5m' },
            { series: reported('platform_backup_last_success_timestamp_seconds', -3600), at: '15m' },
          ],
        },
      },
      {
        alert: 'RestoreDrillFailed',
        expr: `max without (instance, pod, container) (platform_restore_drill_success{namespace="${supabase}"}) == 0`,
        severity: 'warning',
        team: 'database',
        summary: 'The last restore drill failed.',
        description: 'The last weekly restore drill in {{ $labels.namespace }} failed: a backup could not be restored, or the restored data did not match, or the restore took longer than allowed.',
        runbook: {
          meaning: `The weekly CronJob ${DRILL_CRONJOB} creates a restore point in the database, restores the newest base backup and the streamed WAL to it in a scratch volume, compares the rows of the canary table ops.backup_canary (count and checksum) with the database, and runs pg_amcheck on every table and index. It reports success 0 if any step fails, if the canary writer beside the WAL streamer has stopped, or if the restore takes longer than the environment's backup.drill.maxRtoMinutes.`,
          impact: 'Nothing is broken in production, but it is no longer proven that the backups can be restored, or within the RTO. Until a drill passes, treat the backups as suspect.',
          diagnosis: [
            `The drill's log names the failed step: \`kubectl -n ${supabase} logs job/<latest ${DRILL_CRONJOB} job>\`.`,
            'Restore failed: a damaged base backup (pg_verifybackup names the file), a gap in the streamed WAL (the restore log warns of it), or a restore point the WAL stream never received (the streamer is down: BackupWALStreamStale).',
            `Canary stale: the backup-canary container of the postgres-wal-stream pod cannot write (\`kubectl -n ${supabase} logs deploy/postgres-wal-stream -c backup-canary\`).`,
            'Data mismatch: compare the canary counts in the log; a mismatch with no restore error is the most serious finding: escalate.',
            'Too slow: `platform_restore_drill_rto_seconds` over the last weeks; growth with database size means the base backup cadence or parallelism needs a change.',
          ],
          mitigation: [
            `Fix the cause and rerun the drill: \`kubectl -n ${supabase} create job --from=cronjob/${DRILL_CRONJOB} ${DRILL_CRONJOB}-manual-$(date +%s)\`; the alert resolves when it passes.`,
            'If backups are found unrestorable, take a new base backup immediately and verify it with a drill before anything else.',
          ],
        },
        tests: {
          fires: [{ series: reported('platform_restore_drill_success', 0), at: '5m', alerts: [reportedLabels] }],
          quiet: [{ series: reported('platform_restore_drill_success', 1), at: '5m' }],
        },
      },
      {
        alert: 'RestoreDrillStale',
        expr: `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${KSM}, cronjob="${DRILL_CRONJOB}"}) > 8 * 24 * 3600`,
        for: '10m',
        severity: 'warning',
        team: 'database',
        summary: 'No restore drill has succeeded for 8 days.',
        description: 'The weekly restore drill {{ $labels.namespace }}/{{ $labels.cronjob }} has not completed successfully for more than 8 days.',
        runbook: {
          meaning: `The drill runs weekly; its CronJob's last successful completion is more than a week plus a day old: it failed (RestoreDrillFailed), was not scheduled, or never finishes.`,
          impact: 'The backups have not been proven restorable for over a week.',
          diagnosis: [
            `\`kubectl -n ${supabase} get cronjob ${DRILL_CRONJOB}\` (suspended? last schedule?) and \`kubectl -n ${supabase} get jobs --sort-by=.status.startTime | grep ${DRILL_CRONJOB}\`.`,
            'A drill that is always killed by its deadline: compare its duration with `activeDeadlineSeconds`.',
          ],
          mitigation: [`Fix the cause and run the drill by hand: \`kubectl -n ${supabase} create job --from=cronjob/${DRILL_CRONJOB} ${DRILL_CRONJOB}-manual-$(date +%s)\`.`],
        },
        tests: {
          fires: [{ series: cronjob(DRILL_CRONJOB, 'kube_cronjob_status_last_successful_time', -9 * DAY), at: '15m', alerts: [{ namespace: supabase, cronjob: DRILL_CRONJOB }] }],
          quiet: [
            { series: cronjob(DRILL_CRONJOB, 'kube_cronjob_status_last_successful_time', -9 * DAY), at: '5m' },
            { series: cronjob(DRILL_CRONJOB, 'kube_cronjob_status_last_successful_time', -3 * DAY), at: '15m' },
          ],
        },
      },
    ],
  };
}
