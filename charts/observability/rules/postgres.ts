// PostgreSQL as the CloudNativePG Cluster "postgres" (pods postgres-1, postgres-2, ...; one primary,
// the rest hot standbys) and its PgBouncer Poolers, through the metrics the instance manager and the
// pooler serve themselves: no instance or no primary, an instance down, too few synchronous
// standbys, replication lag, a failover, connections, long transactions, replication slots,
// deadlocks, failing monitoring queries, and the poolers. WAL archiving and backups are in backup.ts.
//
// Metric names as upstream emits them (see metrics-catalogue.ts): cloudnative-pg v1.30.0
// config/manager/default-monitoring.yaml (cnpg_<query>_<column>),
// pkg/management/postgres/webserver/metricserver/pg_collector.go (cnpg_collector_*) and
// pkg/management/pgbouncer/metricsserver (cnpg_pgbouncer_*).
//
// The scrape config copies no pod label but app.kubernetes.io/name (as job), so a series does not
// say which instance is the primary: cnpg_pg_replication_in_recovery (pg_is_in_recovery()) does,
// 0 on the primary and 1 on a standby, and the rules join on it.
import { RESERVED_CONNECTIONS } from '../../../lib/facts/postgres-sizing';
import { CLUSTER_NAME } from '../../postgres/postgres-chart';
import { JOBS } from '../metrics-catalogue';
import { type Labels, ksm, series, target } from './series';
import type { RuleContext, RuleGroupSpec, Series } from './types';

/** The CloudNativePG Cluster of charts/postgres; its instances are the pods <cluster>-<n>. */
export const PG_CLUSTER = CLUSTER_NAME;
/** The standbys' application_name in pg_stat_replication: CloudNativePG sets it to the pod name. */
const STANDBY_NAMES = `${PG_CLUSTER}-[0-9]+`;
/** The Poolers' Deployments (the Poolers postgres-pooler-rw and postgres-pooler-ro). */
const POOLER_DEPLOYMENTS = `${PG_CLUSTER}-pooler-[a-z]+`;

/** psql on the primary, as the postgres superuser (kubectl cnpg execs into the pod). */
export function psql(ctx: RuleContext): string {
  return `kubectl cnpg psql ${PG_CLUSTER} -n ${ctx.namespaces.supabase}`;
}

/** The operator's view of the Cluster: primary, instances, replication, WAL archiving, backups. */
export function cnpgStatus(ctx: RuleContext): string {
  return `kubectl cnpg status ${PG_CLUSTER} -n ${ctx.namespaces.supabase}`;
}

/** The scrape target of instance <cluster>-<n> (the instance manager's port "metrics", 9187). */
export function instanceTarget(ctx: RuleContext, n: number): Labels {
  return target(JOBS.postgres, ctx.namespaces.supabase, `${PG_CLUSTER}-${n}`, 'postgres', `10.0.2.${10 + n}:9187`);
}

/** The labels of a per-instance alert. */
export function instanceAt(ctx: RuleContext, n: number): Labels {
  return { namespace: ctx.namespaces.supabase, pod: `${PG_CLUSTER}-${n}` };
}

/** pg_is_in_recovery() of instance n: 0 on the primary, 1 on a standby. */
export function inRecovery(ctx: RuleContext, n: number, values: string): Series {
  return series('cnpg_pg_replication_in_recovery', instanceTarget(ctx, n), values);
}

export function postgresRules(ctx: RuleContext): RuleGroupSpec {
  const supabase = ctx.namespaces.supabase;
  const PG = `job="${JOBS.postgres}", namespace="${supabase}"`;
  const PGB = `job="${JOBS.pgbouncer}", namespace="${supabase}"`;
  const KSM = `job="${JOBS.kubeStateMetrics}", namespace="${supabase}"`;
  const status = `\`${cnpgStatus(ctx)}\``;
  const database = `\`${psql(ctx)}\``;
  const inst = (n: number) => instanceTarget(ctx, n);
  const at = (n: number) => instanceAt(ctx, n);
  const recovery = (n: number, values: string) => inRecovery(ctx, n, values);
  const up = (n: number, values: string) => series('cnpg_collector_up', { ...inst(n), cluster: PG_CLUSTER }, values);
  const cluster = { job: JOBS.postgres, namespace: supabase };
  // A healthy three-instance cluster: postgres-1 is the primary.
  const healthy = [up(1, '1x20'), up(2, '1x20'), up(3, '1x20'), recovery(1, '0x20'), recovery(2, '1x20'), recovery(3, '1x20')];
  const podInfo = (n: number) =>
    series(
      'kube_pod_info',
      ksm({ namespace: supabase, pod: `${PG_CLUSTER}-${n}`, node: `node-${n}`, created_by_kind: 'Cluster', created_by_name: PG_CLUSTER }),
      '1x20',
    );
  const syncRequired = (n: number, values: string) => series('cnpg_collector_sync_replicas', { ...inst(n), value: 'observed' }, values);
  /** A row of pg_stat_replication on the primary (postgres-1). */
  const walSender = (metric: string, applicationName: string, values: string) =>
    series(metric, { ...inst(1), usename: 'streaming_replica', application_name: applicationName, client_addr: '10.0.2.20', client_port: '43210' }, values);
  const REALTIME_SENDER = 'realtime_broadcast_changes';
  const backends = (active: number, idle: number) => [
    series(
      'cnpg_backends_total',
      { ...inst(1), datname: 'postgres', usename: 'authenticator', application_name: 'postgrest', state: 'active' },
      `${active}x20`,
    ),
    series('cnpg_backends_total', { ...inst(1), datname: 'postgres', usename: 'authenticator', application_name: 'postgrest', state: 'idle' }, `${idle}x20`),
    series('cnpg_pg_settings_setting', { ...inst(1), name: 'max_connections' }, '100x20'),
    series('cnpg_pg_settings_setting', { ...inst(1), name: 'superuser_reserved_connections' }, `${RESERVED_CONNECTIONS}x20`),
  ];
  const transaction = (datname: string, seconds: number) => [
    series(
      'cnpg_backends_max_tx_duration_seconds',
      { ...inst(1), datname, usename: 'app', application_name: 'api', state: 'idle in transaction' },
      `${seconds}x20`,
    ),
  ];
  const slot = 'supabase_realtime_messages_replication_slot';
  const retained = (retainedGiB: number, maxSlotWalKeepSizeMB: number) => [
    series(
      'cnpg_pg_replication_slots_pg_wal_lsn_diff',
      { ...inst(1), slot_name: slot, slot_type: 'logical', database: 'postgres' },
      `${retainedGiB * 2 ** 30}x30`,
    ),
    series('cnpg_pg_settings_setting', { ...inst(1), name: 'max_slot_wal_keep_size' }, `${maxSlotWalKeepSizeMB}x30`),
  ];
  const slotActive = (n: number, slotName: string, active: number) =>
    series('cnpg_pg_replication_slots_active', { ...inst(n), slot_name: slotName, slot_type: 'physical', database: '' }, `${active}x40`);
  const deadlocks = (perMinute: number) => [series('cnpg_pg_stat_database_deadlocks', { ...inst(1), datname: 'postgres' }, `0+${perMinute}x20`)];
  const pooler = (deployment: string, pod: string, n: number) =>
    target(JOBS.pgbouncer, supabase, `${deployment}-6d5f7c9b8-${pod}`, 'pgbouncer', `10.0.3.${n}:9127`);
  const RW = `${PG_CLUSTER}-pooler-rw`;
  const RO = `${PG_CLUSTER}-pooler-ro`;
  const poolerReplicas = (deployment: string, replicas: number) =>
    series('kube_deployment_spec_replicas', ksm({ namespace: supabase, deployment }), `${replicas}x20`);
  const poolerError = (deployment: string, pod: string, n: number, values: string) =>
    series('cnpg_pgbouncer_last_collection_error', pooler(deployment, pod, n), values);
  const poolers = (rw: readonly string[]) => [
    poolerReplicas(RW, 2),
    poolerReplicas(RO, 2),
    poolerError(RO, 'a1b2c', 3, '0x20'),
    poolerError(RO, 'd3e4f', 4, '0x20'),
    ...rw.map((values, i) => poolerError(RW, `x${i}y${i}z`, i + 1, values)),
  ];
  const maxWait = (seconds: number, microseconds: number) => {
    const pool = { ...pooler(RW, 'x0y0z', 1), database: 'postgres', user: 'authenticator' };
    return [series('cnpg_pgbouncer_pools_maxwait', pool, `${seconds}x20`), series('cnpg_pgbouncer_pools_maxwait_us', pool, `${microseconds}x20`)];
  };

  return {
    name: 'postgres',
    rules: [
      {
        alert: 'PostgresDown',
        expr: [
          // Standbys answer, but none of them is the primary (it is gone and none was promoted).
          `count by (job, namespace) (cnpg_pg_replication_in_recovery{${PG}} == 1)`,
          `  unless on (job, namespace) count by (job, namespace) (cnpg_pg_replication_in_recovery{${PG}} == 0)`,
          // Every instance manager answers, and reports its PostgreSQL down.
          `or max by (job, namespace) (cnpg_collector_up{${PG}}) == 0`,
          // No instance is scraped at all.
          `or absent(cnpg_collector_up{${PG}})`,
        ].join('\n'),
        for: '3m',
        severity: 'critical',
        team: 'database',
        summary: 'PostgreSQL in {{ $labels.namespace }} has no primary.',
        description:
          'For 3 minutes the PostgreSQL cluster in {{ $labels.namespace }} has had no primary that accepts writes: either no instance runs PostgreSQL, none is scraped, or the standbys run but none has been promoted. Every Supabase service and the api depend on it.',
        runbook: {
          meaning: `No instance of the CloudNativePG Cluster ${PG_CLUSTER} reports itself as primary. One of three things: every instance manager reports \`cnpg_collector_up\` 0 (PostgreSQL is not running in any pod), there is no \`cnpg_collector_up\` at all (no pod runs, or Prometheus cannot reach port 9187), or standbys answer with \`pg_is_in_recovery()\` true but no instance answers as primary (the primary is lost and the operator has not promoted a standby). A normal failover promotes a standby within about a minute and does not reach the 3 minutes (PostgresFailoverHappened reports it).`,
          impact:
            'Full outage of everything that writes, and of everything when no instance runs: Auth logins, PostgREST, Realtime, Storage metadata and the api fail. The -rw Service and the rw pooler have no endpoint; read-only traffic through the ro pooler may still work while standbys run.',
          diagnosis: [
            `The operator's view: ${status} (current and target primary, each instance's state, "Failing over" or "Switchover in progress" phases).`,
            `Pods: \`kubectl -n ${supabase} get pods -l cnpg.io/cluster=${PG_CLUSTER} -L cnpg.io/instanceRole -o wide\` and \`kubectl -n ${supabase} describe pod <pod>\` (Pending on a lost node, CrashLoopBackOff, OOMKilled, failing probes).`,
            `Instance logs: \`kubectl cnpg logs cluster ${PG_CLUSTER} -n ${supabase}\`, or one pod with \`kubectl -n ${supabase} logs <pod> -c postgres\` (add \`--previous\` after a restart). "redo starts" without "redo done" means crash recovery is still running.`,
            `Why no promotion: the operator's log (\`kubectl -n cnpg-system logs deploy/cnpg-controller-manager\`, or wherever CloudNativePG is installed). With the failover quorum on, the operator promotes only a standby the synchronous quorum proves has every acknowledged commit; if that standby is also gone it waits rather than lose data.`,
            'Full data or WAL volume: PostgreSQL stops when pg_wal cannot grow (see KubePersistentVolumeAlmostFull, PostgresWALArchivingFailing).',
          ],
          mitigation: [
            'Crash recovery in progress: wait; deleting the pod starts recovery over.',
            `A primary on a lost node: once the node is confirmed gone (KubeNodeNotReady), the operator fails over; if it does not, promote the most advanced standby by hand: \`kubectl cnpg promote ${PG_CLUSTER} <pod> -n ${supabase}\` (the status command lists each standby's received and replayed LSN; pick the highest). With the failover quorum on, this can lose commits the lost primary acknowledged: decide it with the database owner.`,
            'Out of memory or a bad configuration: fix `components.postgres` in `environments/<env>.ts` and let Argo CD sync; the operator rolls the instances.',
            'Full volume: grow it in the environment (the operator resizes the claims) so PostgreSQL can start, then fix what filled it.',
            'All instances and their volumes lost: recover a new Cluster from the object store (docs/disaster-recovery.md).',
          ],
        },
        tests: {
          fires: [
            // The primary is gone; both standbys run and wait.
            { series: [up(2, '1x20'), up(3, '1x20'), recovery(2, '1x20'), recovery(3, '1x20')], at: '5m', alerts: [cluster] },
            { series: [up(1, '0x20'), up(2, '0x20'), up(3, '0x20')], at: '5m', alerts: [cluster] },
            // Nothing scraped at all.
            { series: [series('redis_up', target(JOBS.redis, supabase, 'redis-0', 'exporter', '10.0.2.6:9121'), '1x10')], at: '5m', alerts: [cluster] },
          ],
          quiet: [
            { series: [up(2, '1x20'), up(3, '1x20'), recovery(2, '1x20'), recovery(3, '1x20')], at: '2m' },
            { series: healthy, at: '5m' },
            // A failover: postgres-1 disappears after 2 minutes, postgres-2 is promoted at 4 minutes;
            // at its last minute without a primary it is still within the 3 minutes.
            {
              series: [up(1, '1 1 stale'), up(2, '1x20'), up(3, '1x20'), recovery(1, '0 0 stale'), recovery(2, '1 1 1 1 0x16'), recovery(3, '1x20')],
              at: '3m',
            },
          ],
        },
      },
      {
        alert: 'PostgresInstanceDown',
        expr: [
          `max by (namespace, pod) (kube_pod_info{${KSM}, created_by_kind="Cluster", created_by_name="${PG_CLUSTER}"})`,
          `unless on (namespace, pod) max by (namespace, pod) (cnpg_collector_up{${PG}}) == 1`,
        ].join('\n'),
        for: '5m',
        severity: 'warning',
        team: 'database',
        summary: 'PostgreSQL instance {{ $labels.namespace }}/{{ $labels.pod }} is down.',
        description:
          'The CloudNativePG instance pod {{ $labels.namespace }}/{{ $labels.pod }} has not reported a running PostgreSQL for 5 minutes: the pod is not running, its metrics cannot be scraped, or PostgreSQL in it is down. The cluster runs on with one instance less.',
        runbook: {
          meaning: `A pod of the Cluster ${PG_CLUSTER} (kube-state-metrics lists it, owned by the Cluster) does not report \`cnpg_collector_up\` 1: it is Pending or crash looping (not scraped), its port 9187 does not answer, or the instance manager cannot connect to its PostgreSQL. If it was the primary, the operator fails over (PostgresFailoverHappened); if every instance is down, PostgresDown fires too.`,
          impact:
            'Less redundancy: one more loss may stop writes (with synchronous replication "required", too few standbys blocks every commit: PostgresNoSynchronousStandby) or the whole database. Read-only traffic on the ro pooler has one standby less.',
          diagnosis: [
            `The operator's view: ${status} (the instance's status, its WAL positions, its last error).`,
            `The pod: \`kubectl -n ${supabase} get pod <pod> -o wide\` and \`kubectl -n ${supabase} describe pod <pod>\` (Pending: its volume is bound to a zone or node that is gone; CrashLoopBackOff: read the log).`,
            `Its log: \`kubectl -n ${supabase} logs <pod> -c postgres\` (\`--previous\` after a restart). A standby that cannot follow the new timeline after a failover logs "requested timeline is not a child of this server's history"; the operator rewinds or re-clones it.`,
            `Fenced on purpose? \`kubectl -n ${supabase} get cluster ${PG_CLUSTER} -o jsonpath='{.metadata.annotations.cnpg\\.io/fencedInstances}'\` (\`cnpg_collector_fencing_on\` is 1 on a fenced pod).`,
          ],
          mitigation: [
            `A fenced instance someone forgot: \`kubectl cnpg fencing off ${PG_CLUSTER} <pod> -n ${supabase}\`.`,
            `A standby that cannot recover (damaged data, a diverged timeline the operator cannot rewind): delete its claim and pod so the operator clones it anew from the primary: \`kubectl cnpg destroy ${PG_CLUSTER} <instance-number> -n ${supabase}\`. Never on the primary.`,
            'A lost node: the pod comes back when its volume can be attached (same zone); otherwise destroy the instance as above and let the operator create a new one elsewhere.',
          ],
        },
        tests: {
          fires: [
            { series: [podInfo(1), podInfo(2), podInfo(3), up(1, '1x20'), up(2, '1x20'), up(3, '0x20')], at: '10m', alerts: [at(3)] },
            // Pending: no metrics at all.
            { series: [podInfo(1), podInfo(2), podInfo(3), up(1, '1x20'), up(2, '1x20')], at: '10m', alerts: [at(3)] },
          ],
          quiet: [
            { series: [podInfo(1), podInfo(2), podInfo(3), up(1, '1x20'), up(2, '1x20'), up(3, '0x20')], at: '3m' },
            { series: [podInfo(1), podInfo(2), podInfo(3), up(1, '1x20'), up(2, '1x20'), up(3, '1x20')], at: '10m' },
          ],
        },
      },
      {
        alert: 'PostgresNoSynchronousStandby',
        expr: [
          `max by (namespace, pod) (cnpg_collector_sync_replicas{${PG}, value="observed"})`,
          '> on (namespace, pod) (',
          `  count by (namespace, pod) (cnpg_pg_stat_replication_replay_lag_seconds{${PG}, application_name=~"${STANDBY_NAMES}"})`,
          `  or on (namespace, pod) 0 * max by (namespace, pod) (cnpg_collector_sync_replicas{${PG}, value="observed"})`,
          ')',
          `and on (namespace, pod) max by (namespace, pod) (cnpg_pg_replication_in_recovery{${PG}}) == 0`,
        ].join('\n'),
        for: '1m',
        severity: 'critical',
        team: 'database',
        summary: 'PostgreSQL primary {{ $labels.pod }} has fewer standbys than its synchronous quorum needs.',
        description:
          'The primary {{ $labels.namespace }}/{{ $labels.pod }} requires more synchronous standbys (synchronous_standby_names) than are connected to it. With dataDurability "required" every commit waits: writes hang until a standby returns.',
        runbook: {
          meaning: `On the primary, \`cnpg_collector_sync_replicas{value="observed"}\` is the number of standbys synchronous_standby_names requires (CloudNativePG writes it from \`components.postgres.synchronous\`; CloudNativePG 1.30 reports only this "observed" value). It is compared with the standbys of this cluster connected in pg_stat_replication (application_name ${STANDBY_NAMES}; Realtime's logical walsender does not count). Fewer connected than required: no commit can be confirmed. With dataDurability "preferred" the operator lowers the requirement instead, so this alert means "required".`,
          impact:
            'Every transaction that writes blocks at COMMIT (it is durable locally but not acknowledged): API writes, logins that update rows and jobs hang until their timeouts, connections pile up in the poolers (PgBouncerClientsWaiting, PostgresTooManyConnections). Reads continue.',
          diagnosis: [
            `Which standbys are missing: ${status} ("Streaming Replication status" lists the connected standbys and their sync state; "Instances status" shows the others).`,
            `On the primary: in ${database} run \`SELECT application_name, state, sync_state, replay_lag FROM pg_stat_replication;\` and \`SHOW synchronous_standby_names;\`.`,
            'The missing standbys: see PostgresInstanceDown and PostgresReplicationLag for the same pods (Pending on a lost node or zone, crash looping, or rebuilding).',
          ],
          mitigation: [
            'Bring a standby back (see PostgresInstanceDown); commits resume the moment enough standbys stream again.',
            `If none can return soon and writes matter more than the no-loss promise: set \`components.postgres.synchronous.dataDurability\` to "preferred" in \`environments/<env>.ts\` and let Argo CD sync; the operator rewrites synchronous_standby_names to the standbys that are there. Revert once the standbys are back. Never edit synchronous_standby_names by hand: the operator owns it.`,
          ],
        },
        tests: {
          fires: [
            { series: [syncRequired(1, '1x20'), recovery(1, '0x20')], at: '5m', alerts: [at(1)] },
            // Realtime's logical walsender is not a standby.
            {
              series: [syncRequired(1, '1x20'), recovery(1, '0x20'), walSender('cnpg_pg_stat_replication_replay_lag_seconds', REALTIME_SENDER, '0x20')],
              at: '5m',
              alerts: [at(1)],
            },
          ],
          quiet: [
            // Pending, not yet firing (promtool evaluates each minute: 30s would be judged at 0s).
            { series: [syncRequired(1, '1x20'), recovery(1, '0x20')], at: '0m' },
            {
              series: [syncRequired(1, '1x20'), recovery(1, '0x20'), walSender('cnpg_pg_stat_replication_replay_lag_seconds', `${PG_CLUSTER}-2`, '0x20')],
              at: '5m',
            },
            // A demoted primary keeps its last value; only the current primary counts.
            { series: [syncRequired(2, '1x20'), recovery(2, '1x20')], at: '5m' },
          ],
        },
      },
      {
        alert: 'PostgresReplicationLag',
        expr: [
          // The standby's own view: time since the last replayed transaction, while WAL waits to be replayed.
          `max by (namespace, pod) (cnpg_pg_replication_lag{${PG}}) > 30`,
          // The primary's view: how long the standby takes to replay what the primary flushed.
          `or max by (namespace, pod) (label_replace(cnpg_pg_stat_replication_replay_lag_seconds{${PG}, application_name=~"${STANDBY_NAMES}"}, "pod", "$1", "application_name", "(.+)")) > 30`,
          // A standby that receives nothing: its own lag reads 0 when it has replayed all it received.
          `or max by (namespace, pod) (cnpg_pg_replication_in_recovery{${PG}}) > on (namespace, pod) max by (namespace, pod) (cnpg_pg_replication_is_wal_receiver_up{${PG}})`,
        ].join('\n'),
        for: '2m',
        severity: 'warning',
        team: 'database',
        summary: 'PostgreSQL standby {{ $labels.pod }} is more than 30 seconds behind the primary, or not streaming.',
        description:
          'The standby {{ $labels.namespace }}/{{ $labels.pod }} has been more than 30 seconds behind the primary, or has had no WAL receiver, for 2 minutes. Reads from it are stale, and it is a poor candidate for failover.',
        runbook: {
          meaning:
            "One of three signals for the same standby: its own `cnpg_pg_replication_lag` (seconds since the last replayed commit while received WAL awaits replay) is over 30 s; the primary's pg_stat_replication `replay_lag` for it (application_name is the pod name) is over 30 s; or it is in recovery with no WAL receiver (`cnpg_pg_replication_is_wal_receiver_up` 0), i.e. it is not streaming at all and its own lag figure is meaningless.",
          impact:
            'Queries through the ro pooler return stale data. If it is a synchronous standby, commits wait for it (the quorum may fall back on the other standby). A standby far behind takes long to promote, and with the failover quorum it may not be eligible: the cluster is less available than it looks.',
          diagnosis: [
            `${status}: per standby the received and replayed LSN and the streaming state.`,
            `On the primary: in ${database} run \`SELECT application_name, state, sent_lsn, replay_lsn, write_lag, flush_lag, replay_lag FROM pg_stat_replication;\` (a missing row means the standby is not connected).`,
            `On the standby: \`kubectl cnpg psql ${PG_CLUSTER} -n ${supabase} --replica\` picks a standby; or read its log, \`kubectl -n ${supabase} logs <pod> -c postgres\` ("could not connect to the primary server", "requested WAL segment has already been removed", replay conflicts).`,
            'Replay is slow (receive far ahead of replay): a long query on the standby conflicting with replay (max_standby_streaming_delay), or an I/O-starved volume; received is slow: network or a primary writing faster than the link carries (bulk import).',
          ],
          mitigation: [
            'A bulk load: the lag drains after it; pause it if a synchronous standby holds up commits.',
            'Long standby queries holding replay: cancel them, or move them elsewhere.',
            `A standby that lost its place ("WAL segment has already been removed") restores from the WAL archive by itself; if it cannot, rebuild it: \`kubectl cnpg destroy ${PG_CLUSTER} <instance-number> -n ${supabase}\` and the operator clones a new one.`,
          ],
        },
        tests: {
          fires: [
            { series: [series('cnpg_pg_replication_lag', inst(2), '60x20')], at: '5m', alerts: [at(2)] },
            { series: [walSender('cnpg_pg_stat_replication_replay_lag_seconds', `${PG_CLUSTER}-3`, '45x20')], at: '5m', alerts: [at(3)] },
            { series: [recovery(3, '1x20'), series('cnpg_pg_replication_is_wal_receiver_up', inst(3), '0x20')], at: '5m', alerts: [at(3)] },
          ],
          quiet: [
            { series: [series('cnpg_pg_replication_lag', inst(2), '60x20')], at: '1m' },
            {
              series: [
                series('cnpg_pg_replication_lag', inst(2), '10x20'),
                walSender('cnpg_pg_stat_replication_replay_lag_seconds', `${PG_CLUSTER}-2`, '5x20'),
                recovery(2, '1x20'),
                series('cnpg_pg_replication_is_wal_receiver_up', inst(2), '1x20'),
              ],
              at: '5m',
            },
            // Realtime's walsender is not a standby.
            { series: [walSender('cnpg_pg_stat_replication_replay_lag_seconds', REALTIME_SENDER, '600x20')], at: '5m' },
          ],
        },
      },
      {
        alert: 'PostgresFailoverHappened',
        expr: [
          `max by (namespace, pod) (changes(cnpg_pg_replication_in_recovery{${PG}}[15m])) > 0`,
          `and on (namespace, pod) max by (namespace, pod) (cnpg_pg_replication_in_recovery{${PG}}) == 0`,
        ].join('\n'),
        severity: 'warning',
        team: 'database',
        summary: 'PostgreSQL instance {{ $labels.pod }} has been promoted to primary.',
        description:
          'In the last 15 minutes the standby {{ $labels.namespace }}/{{ $labels.pod }} left recovery and became the primary: a failover or a switchover happened. Check why, and that clients and Realtime followed.',
        runbook: {
          meaning:
            '`pg_is_in_recovery()` of this instance went from true to false. Only a promotion does that: a failover after the primary was lost, or a switchover (`kubectl cnpg promote`, a rolling update with primaryUpdateMethod "switchover", a node drain). A restarted primary is never seen in recovery (PostgreSQL refuses connections during crash recovery), and a restarted standby stays in recovery, so neither shows here. The timeline increases at the same moment; CloudNativePG does not export it, the status command shows it.',
          impact:
            'Writes failed for the seconds the promotion took; clients reconnect through the -rw Service and the rw pooler. Realtime\'s logical replication slot lives only on the old primary (PostgreSQL before 17 does not carry logical slots over), so Realtime must create a new one: changes made during the switch may not be broadcast. With synchronous replication "required" and the failover quorum, no acknowledged commit is lost.',
          diagnosis: [
            `Current primary, timeline and the instances: ${status}; the Cluster's events: \`kubectl -n ${supabase} get events --field-selector involvedObject.name=${PG_CLUSTER} --sort-by=.lastTimestamp\`.`,
            `Why the old primary went: its pod's events and log (\`kubectl -n ${supabase} describe pod <old-primary>\`, \`kubectl -n ${supabase} logs <old-primary> -c postgres --previous\`), KubeNodeNotReady for its node, OOMKilled.`,
            "Planned? A rolling update of the Cluster (an image or configuration change synced by Argo CD), a node drain, or someone's `kubectl cnpg promote`.",
            `Realtime: \`kubectl -n ${supabase} logs deploy/realtime --tail=200\` and, in ${database}, \`SELECT slot_name, active FROM pg_replication_slots;\`.`,
          ],
          mitigation: [
            'Nothing to do for a planned switchover. After an unplanned one, fix the cause (see PostgresInstanceDown for the old primary, which the operator turns into a standby).',
            `If Realtime does not recover its slot, restart it: \`kubectl -n ${supabase} rollout restart deployment/realtime\`.`,
            `To move the primary back (e.g. to its preferred zone), at a quiet moment: \`kubectl cnpg promote ${PG_CLUSTER} <pod> -n ${supabase}\`.`,
          ],
        },
        tests: {
          fires: [
            // postgres-1 fails after 5 minutes and comes back as a standby; postgres-2 is promoted.
            { series: [recovery(1, '0x5 1x20'), recovery(2, '1x5 0x20'), recovery(3, '1x25')], at: '10m', alerts: [at(2)] },
          ],
          quiet: [
            { series: [recovery(1, '0x5 1x20'), recovery(2, '1x5 0x20'), recovery(3, '1x25')], at: '25m' },
            // The primary restarts in place: it is never seen in recovery.
            { series: [recovery(1, '0x5 _x3 0x10'), recovery(2, '1x20')], at: '10m' },
          ],
        },
      },
      {
        alert: 'PostgresTooManyConnections',
        expr: [
          `sum by (namespace, pod) (cnpg_backends_total{${PG}})`,
          '> 0.8 * (',
          `  max by (namespace, pod) (cnpg_pg_settings_setting{${PG}, name="max_connections"})`,
          `  - max by (namespace, pod) (cnpg_pg_settings_setting{${PG}, name="superuser_reserved_connections"})`,
          ')',
        ].join('\n'),
        for: '10m',
        severity: 'warning',
        team: 'database',
        summary: 'PostgreSQL {{ $labels.pod }} uses more than 80% of its connections.',
        description:
          'PostgreSQL {{ $labels.namespace }}/{{ $labels.pod }} has had more than 80% of max_connections (less the superuser reserve) in use for 10 minutes. New connections will soon be refused.',
        runbook: {
          meaning:
            'Most connection slots of this instance are taken (`cnpg_backends_total`, client backends by state, against the `max_connections` setting). The api and worker connect through the PgBouncer poolers, whose server pools are sized to fit; the Supabase services (Auth, PostgREST, Realtime, Storage, postgres-meta) hold their own pools. max_connections comes from `components.postgres.tuning.maxConnections`; the budget is in docs/capacity.md.',
          impact:
            'At the limit, new connections fail with "sorry, too many clients already" (or "remaining connection slots are reserved"): logins, API calls and jobs fail while existing sessions continue.',
          diagnosis: [
            `Who holds them: in ${database} run \`SELECT usename, application_name, client_addr, state, count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC;\` (the poolers connect from their pod addresses).`,
            'Many `idle` connections from one service: its pool is too large for its replica count (an HPA scaled it out); many `idle in transaction`: a client leaks transactions (see PostgresLongRunningTransaction).',
            'The poolers: each pod opens up to default_pool_size per database and user; more pooler pods means more server connections.',
          ],
          mitigation: [
            "End idle-in-transaction sessions of a misbehaving client: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction' AND now() - state_change > interval '10 minutes';`.",
            'Lower the pool size of the service that grew, or cap its HPA; route direct clients through the poolers.',
            'Raise maxConnections in `environments/<env>.ts` only with the memory to match (each connection can use work_mem several times); the operator restarts the instances, standbys first.',
          ],
        },
        tests: {
          fires: [{ series: backends(50, 30), at: '15m', alerts: [at(1)] }],
          quiet: [
            { series: backends(50, 30), at: '5m' },
            { series: backends(40, 20), at: '15m' },
          ],
        },
      },
      {
        alert: 'PostgresLongRunningTransaction',
        expr: `max by (namespace, pod, datname) (cnpg_backends_max_tx_duration_seconds{${PG}, datname!~"template0|template1"}) > 300`,
        for: '2m',
        severity: 'warning',
        team: 'database',
        summary: 'A transaction in database {{ $labels.datname }} has been open for more than 5 minutes.',
        description:
          'The oldest transaction in database {{ $labels.datname }} on {{ $labels.pod }} has been open for more than 5 minutes. It holds back VACUUM and may hold locks other sessions wait for.',
        runbook: {
          meaning:
            'Some session began a transaction more than five minutes ago and has not ended it, either still working (a slow query, a migration) or idle in transaction (a client that forgot to commit). On a standby it is a long read-only query.',
          impact:
            'VACUUM cannot remove rows deleted after the transaction started (tables and indexes bloat), locks it holds block other writers (requests time out), and logical decoding for Realtime cannot advance past it, so its slot retains WAL. On a standby, it delays replay or gets cancelled.',
          diagnosis: [
            `The transactions: in ${database} (add \`--replica\` for a standby) run \`SELECT pid, usename, application_name, client_addr, state, now() - xact_start AS age, wait_event_type, left(query, 120) FROM pg_stat_activity WHERE xact_start < now() - interval '5 minutes' ORDER BY xact_start;\`.`,
            'Who waits on it: `SELECT pid, pg_blocking_pids(pid), left(query, 80) FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0;`.',
            'Expected cases: a migration Job, a long report on a standby.',
          ],
          mitigation: [
            'Idle in transaction from an application: terminate it, `SELECT pg_terminate_backend(<pid>);`, and fix the client (the app team for the api and worker); set `idle_in_transaction_session_timeout` for that role if it recurs.',
            'A runaway query: `SELECT pg_cancel_backend(<pid>);` first, `pg_terminate_backend` if it does not stop.',
            'A migration: let it finish unless it blocks production traffic; then cancel it and reschedule.',
          ],
        },
        tests: {
          fires: [{ series: transaction('postgres', 400), at: '5m', alerts: [{ ...at(1), datname: 'postgres' }] }],
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
          `max by (namespace, pod, slot_name) (cnpg_pg_replication_slots_pg_wal_lsn_diff{${PG}})`,
          '/ on (namespace, pod) group_left ()',
          // max_slot_wal_keep_size in MB; -1 (unlimited) drops out.
          `  (max by (namespace, pod) (cnpg_pg_settings_setting{${PG}, name="max_slot_wal_keep_size"}) * 1048576 > 0)`,
          '> 0.5',
        ].join('\n'),
        for: '10m',
        severity: 'warning',
        team: 'database',
        summary: 'Replication slot {{ $labels.slot_name }} retains more than half the WAL it may hold.',
        description:
          'Replication slot {{ $labels.slot_name }} on {{ $labels.pod }} has held back more than half of max_slot_wal_keep_size of WAL for 10 minutes. If it reaches the limit, PostgreSQL invalidates the slot and its consumer loses its place.',
        runbook: {
          meaning:
            "The slot's consumer does not confirm WAL as fast as it is written, so PostgreSQL keeps the WAL since the slot's restart_lsn (`cnpg_pg_replication_slots_pg_wal_lsn_diff`). `max_slot_wal_keep_size` caps what a slot may retain; the ratio is retained / cap. Consumers here: Realtime (its logical slot, e.g. supabase_realtime_messages_replication_slot) and, with CloudNativePG's high-availability slots, each standby (physical slots _cnpg_*).",
          impact:
            'The WAL takes space on the WAL volume. At the cap the slot becomes "lost": Realtime must resynchronise and misses changes; a standby whose slot is lost must fetch WAL from the archive or be rebuilt.',
          diagnosis: [
            `The slots: in ${database} run \`SELECT slot_name, slot_type, active, active_pid, wal_status, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained, pg_size_pretty(safe_wal_size) AS safe FROM pg_replication_slots;\`.`,
            `Is the consumer connected? \`active\` false means nobody reads it (see PostgresInactiveReplicationSlot). For Realtime: \`kubectl -n ${supabase} logs deploy/realtime --tail=200\`; for a _cnpg_ slot: that standby (PostgresReplicationLag, PostgresInstanceDown).`,
            'A consumer that is connected but slow: a long transaction blocks logical decoding (PostgresLongRunningTransaction); a very high write rate (bulk import) can outrun it.',
          ],
          mitigation: [
            `Restore the consumer: restart Realtime (\`kubectl -n ${supabase} rollout restart deployment/realtime\`), or bring the standby back.`,
            'End the long transaction that blocks decoding.',
            "A slot nobody will ever read again (a removed consumer): drop it, `SELECT pg_drop_replication_slot('<slot>');`. Leave the _cnpg_ slots to the operator.",
          ],
        },
        tests: {
          fires: [{ series: retained(1.5, 2048), at: '15m', alerts: [{ ...at(1), slot_name: slot }] }],
          quiet: [
            { series: retained(1.5, 2048), at: '5m' },
            { series: retained(0.25, 2048), at: '15m' },
            // Unlimited (-1): nothing to measure against.
            { series: retained(1.5, -1), at: '15m' },
          ],
        },
      },
      {
        alert: 'PostgresInactiveReplicationSlot',
        expr: [
          `max by (namespace, pod, slot_name) (cnpg_pg_replication_slots_active{${PG}}) == 0`,
          // Standbys keep copies of the primary's slots that nobody reads there.
          `and on (namespace, pod) max by (namespace, pod) (cnpg_pg_replication_in_recovery{${PG}}) == 0`,
        ].join('\n'),
        for: '30m',
        severity: 'warning',
        team: 'database',
        summary: 'Replication slot {{ $labels.slot_name }} has had no consumer for 30 minutes.',
        description:
          'Replication slot {{ $labels.slot_name }} on the primary {{ $labels.pod }} has been inactive for 30 minutes: nothing reads from it, and it retains WAL until its consumer returns or the slot is dropped.',
        runbook: {
          meaning:
            'No process is connected to the slot on the primary. A slot keeps all WAL its consumer has not confirmed, whether or not the consumer ever comes back. A _cnpg_<instance> slot belongs to a standby that is down; other slots belong to Realtime or are leftovers.',
          impact: 'WAL piles up on the WAL volume (PostgresReplicationSlotRetainingWAL follows), until max_slot_wal_keep_size invalidates the slot.',
          diagnosis: [
            `Which slot and since when: in ${database} run \`SELECT slot_name, slot_type, database, active, wal_status, restart_lsn FROM pg_replication_slots;\`.`,
            `Its consumer: Realtime's slots belong to the realtime Deployment (\`kubectl -n ${supabase} get pods -l app.kubernetes.io/name=realtime\`); a _cnpg_ slot to the standby of that name (${status}).`,
            'A slot with a name no component uses is a leftover (an old experiment, a removed consumer).',
          ],
          mitigation: [
            'Bring the consumer back (restart it, fix its credentials or NetworkPolicy); the slot becomes active and the retained WAL drains.',
            "Drop a leftover slot: `SELECT pg_drop_replication_slot('<slot>');`. The operator manages the _cnpg_ slots: it drops the slot of an instance it removes.",
          ],
        },
        tests: {
          fires: [{ series: [slotActive(1, '_cnpg_postgres_3', 0), recovery(1, '0x40')], at: '35m', alerts: [{ ...at(1), slot_name: '_cnpg_postgres_3' }] }],
          quiet: [
            { series: [slotActive(1, '_cnpg_postgres_3', 0), recovery(1, '0x40')], at: '20m' },
            { series: [slotActive(1, '_cnpg_postgres_3', 1), recovery(1, '0x40')], at: '35m' },
            // The standby's copy of the slot is never active there.
            { series: [slotActive(2, '_cnpg_postgres_3', 0), recovery(2, '1x40')], at: '35m' },
          ],
        },
      },
      {
        alert: 'PostgresDeadlocks',
        expr: `sum by (namespace, pod, datname) (increase(cnpg_pg_stat_database_deadlocks{${PG}, datname!~"template0|template1"}[5m])) > 5`,
        for: '5m',
        severity: 'warning',
        team: 'database',
        summary: 'Deadlocks in database {{ $labels.datname }}.',
        description:
          'Database {{ $labels.datname }} on {{ $labels.pod }} has had more than 5 deadlocks every 5 minutes for 5 minutes. Each deadlock aborts one of the transactions involved.',
        runbook: {
          meaning:
            'Transactions wait on each other in a cycle; after deadlock_timeout PostgreSQL aborts one of them with "deadlock detected". A steady rate means application code takes locks in inconsistent orders.',
          impact:
            'The aborted transactions fail: API requests return errors, jobs retry. For balances and positions, a client that does not retry correctly can lose or duplicate an operation.',
          diagnosis: [
            `The server log names both statements: \`kubectl -n ${supabase} logs <pod> -c postgres | grep -A6 "deadlock detected"\` (CloudNativePG logs JSON lines; the message and detail are in the record).`,
            'Which tables: the log\'s "Process N waits for ShareLock on transaction M" lines with their CONTEXT; then find the code paths that update those tables.',
            `Did it start with a release? Compare with the api and worker release times (\`kubectl argo rollouts get rollout api -n ${ctx.namespaces.app}\`).`,
          ],
          mitigation: [
            'Short term: make sure the affected clients retry aborted transactions (SQLSTATE 40P01); roll back a release that introduced it.',
            'Fix: take row locks in a consistent order (e.g. `SELECT ... ORDER BY id FOR UPDATE`), keep transactions short, avoid updating the same rows from the api and the worker at once.',
          ],
        },
        tests: {
          fires: [{ series: deadlocks(2), at: '15m', alerts: [{ ...at(1), datname: 'postgres' }] }],
          quiet: [
            { series: deadlocks(2), at: '7m' },
            { series: deadlocks(0.5), at: '15m' },
          ],
        },
      },
      {
        alert: 'PostgresMonitoringQueriesFailing',
        expr: [
          `max by (namespace, pod) (cnpg_last_error{${PG}}) == 1`,
          // While PostgreSQL is down every query fails: PostgresInstanceDown says so.
          `and on (namespace, pod) max by (namespace, pod) (cnpg_collector_up{${PG}}) == 1`,
        ].join('\n'),
        for: '30m',
        severity: 'warning',
        team: 'database',
        summary: 'Monitoring queries fail on PostgreSQL instance {{ $labels.pod }}.',
        description:
          'For 30 minutes at least one monitoring query of {{ $labels.namespace }}/{{ $labels.pod }} has failed on every run: the metrics it provides are missing and the alerts built on them cannot fire.',
        runbook: {
          meaning:
            "PostgreSQL is up, but a query of the instance manager's exporter fails: one of CloudNativePG's default queries or one of the platform's own (the backup canary and the restore drill results, from the Cluster's monitoring ConfigMap). `cnpg_errors_total` names the query and the error in its errorUserQueries label.",
          impact:
            'The metrics of the failing query are missing: depending on which, the backup canary, restore drill, replication or connection alerts are blind.',
          diagnosis: [
            'Which query: `cnpg_errors_total` in Prometheus (its label carries the query name and the SQL error).',
            `The instance manager's log: \`kubectl -n ${supabase} logs <pod> -c postgres | grep -i "error collecting user query"\`.`,
            "Permission denied or a missing relation: the platform's queries read the ops schema (ops.backup_canary, the drill results) as the monitoring role; a migration that dropped or renamed them breaks the query.",
          ],
          mitigation: [
            'Fix the query in the monitoring ConfigMap of charts/postgres (and the rules that use its metrics), or restore the object it reads; the operator reloads the ConfigMap without a restart.',
            'Grant the monitoring role what it lacks (CloudNativePG connects as the pg_monitor member it manages).',
          ],
        },
        tests: {
          fires: [{ series: [series('cnpg_last_error', inst(1), '1x40'), up(1, '1x40')], at: '35m', alerts: [at(1)] }],
          quiet: [
            { series: [series('cnpg_last_error', inst(1), '1x40'), up(1, '1x40')], at: '20m' },
            { series: [series('cnpg_last_error', inst(1), '0x40'), up(1, '1x40')], at: '35m' },
            // PostgreSQL itself is down.
            { series: [series('cnpg_last_error', inst(1), '1x40'), up(1, '0x40')], at: '35m' },
          ],
        },
      },
      {
        alert: 'PgBouncerDown',
        expr: [
          `max by (namespace, deployment) (kube_deployment_spec_replicas{${KSM}, deployment=~"${POOLER_DEPLOYMENTS}"}) > 0`,
          'unless on (namespace, deployment) count by (namespace, deployment) (',
          // A pooler pod that is scraped and whose PgBouncer answers its admin console.
          `  label_replace(max by (namespace, pod) (cnpg_pgbouncer_last_collection_error{${PGB}}) == 0, "deployment", "$1", "pod", "([a-z0-9-]+)-[a-z0-9]+-[a-z0-9]+")`,
          ')',
        ].join('\n'),
        for: '2m',
        severity: 'critical',
        team: 'database',
        summary: 'Pooler {{ $labels.namespace }}/{{ $labels.deployment }} has no working PgBouncer.',
        description:
          'For 2 minutes no pod of the PgBouncer pooler {{ $labels.namespace }}/{{ $labels.deployment }} has been both scraped and answering: clients that connect through it cannot reach PostgreSQL.',
        runbook: {
          meaning:
            "The Pooler's Deployment wants pods, but none of them reports `cnpg_pgbouncer_last_collection_error` 0: the pods are not running or not scraped (port 9127), or PgBouncer inside does not answer its admin console. (CloudNativePG 1.30 defines cnpg_pgbouncer_up but does not serve it.) The rw pooler carries the api's and worker's writes; the ro pooler their reads from standbys.",
          impact:
            'Every client of that pooler fails to connect: through the rw pooler, the api and worker cannot write; through the ro pooler, read paths fail. Clients that connect to PostgreSQL directly (the Supabase services) are not affected.',
          diagnosis: [
            `The pods: \`kubectl -n ${supabase} get pods -l cnpg.io/poolerName=<pooler> -o wide\` and \`kubectl -n ${supabase} describe pod <pod>\`.`,
            `The Pooler: \`kubectl -n ${supabase} describe pooler <pooler>\` and its log, \`kubectl -n ${supabase} logs deploy/<pooler> -c pgbouncer\` (authentication to PostgreSQL failing, "no more connections allowed", TLS errors).`,
            `Is PostgreSQL there? The rw pooler follows the -rw Service: without a primary (PostgresDown) it has nowhere to connect.`,
          ],
          mitigation: [
            'Pods crash looping or Pending: fix the cause (resources in `components.postgres.poolers` of `environments/<env>.ts`, node capacity).',
            'Authentication failures: the pooler reads passwords through its auth_query user, which the operator manages; check the Cluster and Pooler status for errors about the pgbouncer user and its Secret.',
            `Restart the pooler once the cause is fixed: \`kubectl -n ${supabase} rollout restart deployment/<pooler>\`.`,
          ],
        },
        tests: {
          fires: [
            { series: poolers(['1x20', '1x20']), at: '5m', alerts: [{ namespace: supabase, deployment: RW }] },
            // Not scraped at all.
            { series: poolers([]), at: '5m', alerts: [{ namespace: supabase, deployment: RW }] },
          ],
          quiet: [
            { series: poolers(['1x20', '1x20']), at: '1m' },
            // One of the two rw pods is enough to serve.
            { series: poolers(['1x20', '0x20']), at: '5m' },
            // Scaled to zero on purpose.
            { series: [poolerReplicas(RW, 0), poolerReplicas(RO, 2), poolerError(RO, 'a1b2c', 3, '0x20')], at: '5m' },
          ],
        },
      },
      {
        alert: 'PgBouncerClientsWaiting',
        expr: `max by (namespace, pod, database) (cnpg_pgbouncer_pools_maxwait{${PGB}} + cnpg_pgbouncer_pools_maxwait_us{${PGB}} / 1e6) > 1`,
        for: '5m',
        severity: 'warning',
        team: 'database',
        summary: 'Clients of PgBouncer {{ $labels.pod }} wait more than a second for a server connection.',
        description:
          'For 5 minutes the oldest client waiting in PgBouncer {{ $labels.namespace }}/{{ $labels.pod }} for database {{ $labels.database }} has waited more than a second: the pool is saturated.',
        runbook: {
          meaning:
            'PgBouncer queues a client transaction when all default_pool_size server connections of its pool are busy; `maxwait` (+ `maxwait_us`) is how long the oldest queued client has waited. Over a second, continuously, means the pool cannot keep up: PostgreSQL is slow, or the pool is too small for the load.',
          impact:
            'Every query through this pooler waits before it starts: API latency rises (KongHighLatencyP95), and clients with short timeouts fail. If the queue keeps growing, max_client_conn is reached and new clients are refused.',
          diagnosis: [
            'The pools: `cnpg_pgbouncer_pools_cl_waiting` and `cnpg_pgbouncer_pools_sv_active` per pod on the PostgreSQL dashboard; all servers active with clients waiting is saturation.',
            `Slow queries on PostgreSQL hold the servers: in ${database} run \`SELECT state, wait_event_type, count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2;\`; locks (PostgresLongRunningTransaction), commits waiting for a synchronous standby (PostgresNoSynchronousStandby).`,
            `PgBouncer's own view: \`kubectl -n ${supabase} exec -it <pod> -c pgbouncer -- psql -c 'SHOW POOLS;'\` (the container's environment points psql at the admin console).`,
          ],
          mitigation: [
            'Fix the slow queries or the blocking transaction first; a bigger pool only adds load to a database that is already the bottleneck.',
            "If PostgreSQL has headroom (connections and CPU), raise the pooler's defaultPoolSize or instances in `environments/<env>.ts` within max_connections (docs/capacity.md).",
          ],
        },
        tests: {
          fires: [{ series: maxWait(2, 500000), at: '10m', alerts: [{ namespace: supabase, pod: `${RW}-6d5f7c9b8-x0y0z`, database: 'postgres' }] }],
          quiet: [
            { series: maxWait(2, 500000), at: '3m' },
            { series: maxWait(0, 800000), at: '10m' },
          ],
        },
      },
    ],
  };
}
