// PostgreSQL (StatefulSet postgres, one pod) through its postgres_exporter sidecar: the server
// down, connections near the limit, long transactions, replication slots that hold WAL back,
// deadlocks, and the exporter failing its own queries. WAL archiving is in backup.ts.
import { JOBS } from '../metrics-catalogue';
import { type Labels, series, target } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

/** A superuser psql in the server's container (the password is already in its environment). */
export function psql(ctx: RuleContext): string {
  return `kubectl -n ${ctx.namespaces.supabase} exec -it postgres-0 -c postgres -- sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" psql -h /var/run/postgresql -U supabase_admin -d postgres'`;
}

/** The exporter sidecar's scrape target. */
export function postgresTarget(ctx: RuleContext): Labels {
  return target(JOBS.postgres, ctx.namespaces.supabase, 'postgres-0', 'exporter', '10.0.2.5:9187');
}

export function postgresRules(ctx: RuleContext): RuleGroupSpec {
  const supabase = ctx.namespaces.supabase;
  const PG = `job="${JOBS.postgres}", namespace="${supabase}"`;
  const pod = postgresTarget(ctx);
  const at = { namespace: supabase, pod: 'postgres-0' };
  const connections = (active: number, idle: number) => [
    series('pg_stat_activity_count', { ...pod, datname: 'postgres', state: 'active' }, `${active}x20`),
    series('pg_stat_activity_count', { ...pod, datname: 'postgres', state: 'idle' }, `${idle}x20`),
    series('pg_settings_max_connections', pod, '100x20'),
    series('pg_settings_superuser_reserved_connections', pod, '3x20'),
  ];
  const transaction = (datname: string, seconds: number) => [series('pg_stat_activity_max_tx_duration', { ...pod, datname, state: 'idle in transaction' }, `${seconds}x20`)];
  const slot = 'supabase_realtime_messages_replication_slot';
  const retained = (retainedGiB: number, safeGiB: number) => [
    series('pg_replication_slots_pg_wal_lsn_diff', { ...pod, slot_name: slot, database: 'postgres' }, `${retainedGiB * 2 ** 30}x30`),
    series('pg_replication_slots_safe_wal_size_bytes', { ...pod, slot_name: slot, slot_type: 'logical' }, `${safeGiB * 2 ** 30}x30`),
  ];
  const slotActive = (active: number) => [series('pg_replication_slots_active', { ...pod, slot_name: 'platform_wal_stream', database: '' }, `${active}x40`)];
  const deadlocks = (perMinute: number) => [series('pg_stat_database_deadlocks', { ...pod, datid: '5', datname: 'postgres' }, `0+${perMinute}x20`)];

  return {
    name: 'postgres',
    rules: [
      {
        alert: 'PostgresDown',
        expr: `pg_up{${PG}} == 0\nor absent(pg_up{${PG}})`,
        for: '2m',
        severity: 'critical',
        team: 'database',
        summary: 'PostgreSQL in {{ $labels.namespace }} is down.',
        description:
          'For 2 minutes the postgres_exporter in {{ $labels.namespace }} has either failed to connect to PostgreSQL or not been scraped at all (the pod is gone or not answering). Every Supabase service and the api depend on it.',
        runbook: {
          meaning: `\`pg_up\` is 0 (the exporter sidecar in postgres-0 cannot connect to the server on 127.0.0.1:5432) or there is no \`pg_up\` at all (the pod does not exist, or Prometheus cannot scrape it).`,
          impact:
            'Full outage of everything that stores data: Auth logins, PostgREST queries, Realtime, Storage metadata and the api all fail. Writes made since the last archived WAL segment are at risk if the volume is lost.',
          diagnosis: [
            `Pod state: \`kubectl -n ${supabase} get pod postgres-0 -o wide\` and \`kubectl -n ${supabase} describe pod postgres-0\` (Pending, CrashLoopBackOff, OOMKilled, probe failures).`,
            `Server log: \`kubectl -n ${supabase} logs postgres-0 -c postgres\` (add \`--previous\` after a restart). "database system was interrupted; last known up at" followed by "redo starts" means crash recovery is running: wait.`,
            `Server up but exporter failing: \`kubectl -n ${supabase} logs postgres-0 -c exporter\` (password authentication failed for platform_exporter means the exporter's password and the role's differ).`,
            `Disk: a full data volume stops PostgreSQL (see KubePersistentVolumeAlmostFull): \`kubectl -n ${supabase} exec postgres-0 -c postgres -- df -h /var/lib/postgresql/data\`.`,
          ],
          mitigation: [
            'Crash recovery in progress: do nothing; the startup probe allows an hour. Deleting the pod restarts recovery from the beginning.',
            'Out of memory: raise `components.postgres.resources` in `environments/<env>.ts` and merge (the tuning follows the memory limit).',
            'Full disk: grow the volume (see KubePersistentVolumeAlmostFull); PostgreSQL starts once it has room.',
            'Pod cannot be scheduled on a lost node: see KubeNodeNotReady. If the data volume itself is lost, restore from the latest base backup and WAL (the restore runbook of the backup chart).',
          ],
        },
        tests: {
          fires: [
            { series: [series('pg_up', pod, '0x10')], at: '5m', alerts: [pod] },
            // No pg_up at all: the pod is gone.
            { series: [series('redis_up', target(JOBS.redis, supabase, 'redis-0', 'exporter', '10.0.2.6:9121'), '1x10')], at: '5m', alerts: [{ job: JOBS.postgres, namespace: supabase }] },
          ],
          quiet: [
            { series: [series('pg_up', pod, '0x10')], at: '1m' },
            { series: [series('pg_up', pod, '1x10')], at: '5m' },
          ],
        },
      },
      {
        alert: 'PostgresTooManyConnections',
        expr: [
          `sum by (namespace, pod) (pg_stat_activity_count{${PG}})`,
          '> 0.8 * (',
          `  max by (namespace, pod) (pg_settings_max_connections{${PG}})`,
          `  - max by (namespace, pod) (pg_settings_superuser_reserved_connections{${PG}})`,
          ')',
        ].join('\n'),
        for: '10m',
        severity: 'warning',
        team: 'database',
        summary: 'PostgreSQL {{ $labels.pod }} uses more than 80% of its connections.',
        description: 'PostgreSQL {{ $labels.namespace }}/{{ $labels.pod }} has had more than 80% of max_connections (less the superuser reserve) in use for 10 minutes. New connections will soon be refused.',
        runbook: {
          meaning:
            'Most connection slots are taken. Clients of this platform are meant to go through Supavisor (the api and worker always do); the Supabase services (Auth, PostgREST, Realtime, Storage, postgres-meta) hold their own pools. max_connections comes from `components.postgres.tuning.maxConnections`.',
          impact: 'At the limit, new connections fail with "sorry, too many clients already" (or "remaining connection slots are reserved"): logins, API calls and jobs fail while existing sessions continue.',
          diagnosis: [
            `Who holds them: in \`${psql(ctx)}\` run \`SELECT usename, application_name, state, count(*) FROM pg_stat_activity GROUP BY 1, 2, 3 ORDER BY 4 DESC;\`.`,
            'Many `idle` connections from one service: its pool is too large for its replica count (HPA scaled it out); many `idle in transaction`: a client leaks transactions (see PostgresLongRunningTransaction).',
            'Did Supavisor\'s pool grow? Its pool size times its replicas must fit; the max_connections budget is explained in docs/data-tier.md.',
          ],
          mitigation: [
            'End idle-in-transaction sessions of a misbehaving client: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = \'idle in transaction\' AND now() - state_change > interval \'10 minutes\';`.',
            'Lower the pool size of the service that grew, or cap its HPA; route direct clients through Supavisor.',
            'Raise max_connections in `environments/<env>.ts` only with the memory to match (each connection can use work_mem several times); it restarts PostgreSQL.',
          ],
        },
        tests: {
          fires: [{ series: connections(50, 30), at: '15m', alerts: [at] }],
          quiet: [
            { series: connections(50, 30), at: '5m' },
            { series: connections(40, 20), at: '15m' },
          ],
        },
      },
      {
        alert: 'PostgresLongRunningTransaction',
        expr: `max by (namespace, pod, datname) (pg_stat_activity_max_tx_duration{${PG}, datname!~"template0|template1"}) > 300`,
        for: '2m',
        severity: 'warning',
        team: 'database',
        summary: 'A transaction in database {{ $labels.datname }} has been open for more than 5 minutes.',
        description: 'The oldest transaction in database {{ $labels.datname }} on {{ $labels.pod }} has been open for more than 5 minutes. It holds back VACUUM and may hold locks other sessions wait for.',
        runbook: {
          meaning: 'Some session began a transaction more than five minutes ago and has not ended it, either still working (a slow query, a migration) or idle in transaction (a client that forgot to commit).',
          impact:
            'VACUUM cannot remove rows deleted after the transaction started (tables and indexes bloat), locks it holds block other writers (requests time out), and logical decoding for Realtime cannot advance past it, so its slot retains WAL.',
          diagnosis: [
            `The transactions: in \`${psql(ctx)}\` run \`SELECT pid, usename, application_name, client_addr, state, now() - xact_start AS age, wait_event_type, left(query, 120) FROM pg_stat_activity WHERE xact_start < now() - interval '5 minutes' ORDER BY xact_start;\`.`,
            'Who waits on it: `SELECT pid, pg_blocking_pids(pid), left(query, 80) FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0;`.',
            'Expected cases: a migration Job, or a logical dump by the backup role (one transaction for the whole dump) while it runs.',
          ],
          mitigation: [
            'Idle in transaction from an application: terminate it, `SELECT pg_terminate_backend(<pid>);`, and fix the client (the app team for the api and worker); set `idle_in_transaction_session_timeout` for that role if it recurs.',
            'A runaway query: `SELECT pg_cancel_backend(<pid>);` first, `pg_terminate_backend` if it does not stop.',
            'A migration or dump: let it finish unless it blocks production traffic; then cancel it and reschedule.',
          ],
        },
        tests: {
          fires: [{ series: transaction('postgres', 400), at: '5m', alerts: [{ ...at, datname: 'postgres' }] }],
          quiet: [
            { series: transaction('postgres', 400), at: '1m' },
            { series: transaction('postgres', 120), at: '5m' },
            { series: transaction('template1', 400), at: '5m' },
          ],
        },
      },
      {
        alert: 'PostgresReplicationSlotRetainingWAL',
        expr: [
          `max by (namespace, pod, slot_name) (pg_replication_slots_pg_wal_lsn_diff{${PG}})`,
          '/ (',
          `  max by (namespace, pod, slot_name) (pg_replication_slots_pg_wal_lsn_diff{${PG}})`,
          `  + max by (namespace, pod, slot_name) (pg_replication_slots_safe_wal_size_bytes{${PG}})`,
          ') > 0.5',
        ].join('\n'),
        for: '10m',
        severity: 'warning',
        team: 'database',
        summary: 'Replication slot {{ $labels.slot_name }} retains more than half the WAL it may hold.',
        description:
          'Replication slot {{ $labels.slot_name }} on {{ $labels.pod }} has held back more than half of max_slot_wal_keep_size of WAL for 10 minutes. If it reaches the limit, PostgreSQL invalidates the slot and its consumer loses its place.',
        runbook: {
          meaning:
            'The slot\'s consumer does not confirm WAL as fast as it is written, so PostgreSQL keeps the WAL since the slot\'s restart_lsn. `max_slot_wal_keep_size` (a fifth of the data volume) caps what a slot may retain; the ratio is retained / (retained + what may still be written before the cap). Consumers here: Realtime (logical slots) and the backup WAL stream (physical slot).',
          impact:
            'The WAL takes space on the data volume. At the cap the slot becomes "lost": Realtime must resynchronise and misses changes, and a lost backup stream leaves a gap in point-in-time recovery until the next base backup.',
          diagnosis: [
            `The slots: in \`${psql(ctx)}\` run \`SELECT slot_name, slot_type, active, active_pid, wal_status, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained, pg_size_pretty(safe_wal_size) AS safe FROM pg_replication_slots;\`.`,
            `Is the consumer connected? \`active\` false means nobody reads it (see PostgresInactiveReplicationSlot). For Realtime: \`kubectl -n ${supabase} logs deploy/realtime --tail=200\`.`,
            'A consumer that is connected but slow: a long transaction blocks logical decoding (PostgresLongRunningTransaction); a very high write rate (bulk import) can outrun it.',
          ],
          mitigation: [
            `Restore the consumer: restart Realtime (\`kubectl -n ${supabase} rollout restart deployment/realtime\`) or the backup WAL receiver.`,
            'End the long transaction that blocks decoding.',
            'A slot nobody will ever read again (a removed consumer): drop it, `SELECT pg_drop_replication_slot(\'<slot>\');`. Never drop the backup stream\'s slot without taking a new base backup afterwards.',
          ],
        },
        tests: {
          fires: [{ series: retained(1.5, 0.5), at: '15m', alerts: [{ ...at, slot_name: slot }] }],
          quiet: [
            { series: retained(1.5, 0.5), at: '5m' },
            { series: retained(0.25, 1.75), at: '15m' },
          ],
        },
      },
      {
        alert: 'PostgresInactiveReplicationSlot',
        expr: `max by (namespace, pod, slot_name) (pg_replication_slots_active{${PG}}) == 0`,
        for: '30m',
        severity: 'warning',
        team: 'database',
        summary: 'Replication slot {{ $labels.slot_name }} has had no consumer for 30 minutes.',
        description: 'Replication slot {{ $labels.slot_name }} on {{ $labels.pod }} has been inactive for 30 minutes: nothing reads from it, and it retains WAL until its consumer returns or the slot is dropped.',
        runbook: {
          meaning: 'No process is connected to the slot. A slot keeps all WAL its consumer has not confirmed, whether or not the consumer ever comes back.',
          impact: 'WAL piles up (PostgresReplicationSlotRetainingWAL follows). If the slot is the backup WAL stream, WAL is no longer copied off the server, so the point-in-time recovery window stops advancing (BackupWALStreamStale).',
          diagnosis: [
            `Which slot and since when: in \`${psql(ctx)}\` run \`SELECT slot_name, slot_type, database, active, wal_status, restart_lsn FROM pg_replication_slots;\`.`,
            `Its consumer: Realtime's slots belong to the realtime Deployment (\`kubectl -n ${supabase} get pods -l app.kubernetes.io/name=realtime\`); the backup stream's to the backup chart's receiver.`,
            'A slot with a name no component uses is a leftover (a removed replica, an old experiment).',
          ],
          mitigation: [
            'Bring the consumer back (restart it, fix its credentials or NetworkPolicy); the slot becomes active and the retained WAL drains.',
            'Drop a leftover slot: `SELECT pg_drop_replication_slot(\'<slot>\');`. After dropping the backup stream\'s slot, take a base backup so recovery has no gap.',
          ],
        },
        tests: {
          fires: [{ series: slotActive(0), at: '35m', alerts: [{ ...at, slot_name: 'platform_wal_stream' }] }],
          quiet: [
            { series: slotActive(0), at: '20m' },
            { series: slotActive(1), at: '35m' },
          ],
        },
      },
      {
        alert: 'PostgresDeadlocks',
        expr: `sum by (namespace, pod, datname) (increase(pg_stat_database_deadlocks{${PG}, datname!~"template0|template1"}[5m])) > 5`,
        for: '5m',
        severity: 'warning',
        team: 'database',
        summary: 'Deadlocks in database {{ $labels.datname }}.',
        description: 'Database {{ $labels.datname }} on {{ $labels.pod }} has had more than 5 deadlocks every 5 minutes for 5 minutes. Each deadlock aborts one of the transactions involved.',
        runbook: {
          meaning: 'Transactions wait on each other in a cycle; after deadlock_timeout PostgreSQL aborts one of them with "deadlock detected". A steady rate means application code takes locks in inconsistent orders.',
          impact: 'The aborted transactions fail: API requests return errors, jobs retry. For balances and positions, a client that does not retry correctly can lose or duplicate an operation.',
          diagnosis: [
            `The server log names both statements: \`kubectl -n ${supabase} logs postgres-0 -c postgres | grep -A6 "deadlock detected"\`.`,
            'Which tables: the log\'s "Process N waits for ShareLock on transaction M" lines with their CONTEXT; then find the code paths that update those tables.',
            `Did it start with a release? Compare with the api and worker release times (\`kubectl argo rollouts get rollout api -n ${ctx.namespaces.app}\`).`,
          ],
          mitigation: [
            'Short term: make sure the affected clients retry aborted transactions (SQLSTATE 40P01); roll back a release that introduced it.',
            'Fix: take row locks in a consistent order (e.g. `SELECT ... ORDER BY id FOR UPDATE`), keep transactions short, avoid updating the same rows from the api and the worker at once.',
          ],
        },
        tests: {
          fires: [{ series: deadlocks(2), at: '15m', alerts: [{ ...at, datname: 'postgres' }] }],
          quiet: [
            { series: deadlocks(2), at: '7m' },
            { series: deadlocks(0.5), at: '15m' },
          ],
        },
      },
      {
        alert: 'PostgresExporterScrapeError',
        expr: `max by (namespace, pod) (pg_exporter_last_scrape_error{${PG}}) > 0`,
        for: '30m',
        severity: 'warning',
        team: 'database',
        summary: 'postgres_exporter on {{ $labels.pod }} fails some of its queries.',
        description: 'The postgres_exporter sidecar of {{ $labels.namespace }}/{{ $labels.pod }} has reported an error on every scrape for 30 minutes: some PostgreSQL metrics are missing and alerts built on them cannot fire.',
        runbook: {
          meaning: 'The exporter connects (pg_up is 1) but at least one of its collectors\' queries fails, usually for lack of privileges or because a view changed after an upgrade.',
          impact: 'The metrics of the failing collector are missing: depending on which, WAL archiving, slot or connection alerts are blind.',
          diagnosis: [
            `The error: \`kubectl -n ${supabase} logs postgres-0 -c exporter --tail=100\` names the collector and the SQL error.`,
            `Permission denied: the platform_exporter role needs pg_monitor; check with \`SELECT pg_has_role('platform_exporter', 'pg_monitor', 'member');\` in \`${psql(ctx)}\`.`,
            'After a PostgreSQL major upgrade, collectors for removed views fail (on 17, stat_bgwriter checkpoints moved to stat_checkpointer).',
          ],
          mitigation: [
            'Grant what is missing: `GRANT pg_monitor TO platform_exporter;` (and add it to platform-init.sql if it was lost).',
            'Disable or switch the failing collector in the exporter\'s arguments in `charts/postgres/postgres-chart.ts`, then update the alert rules that used its metrics.',
          ],
        },
        tests: {
          fires: [{ series: [series('pg_exporter_last_scrape_error', pod, '1x40')], at: '35m', alerts: [at] }],
          quiet: [
            { series: [series('pg_exporter_last_scrape_error', pod, '1x40')], at: '20m' },
            { series: [series('pg_exporter_last_scrape_error', pod, '0x40')], at: '35m' },
          ],
        },
      },
    ],
  };
}
