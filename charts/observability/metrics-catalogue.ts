// Every metric name the platform's Prometheus can hold, by the job that exposes it. Alert rules
// and dashboard panels may use only these (and the platform's recording rules): a test reads
// every expression and fails on a name no exporter provides, which is how a renamed metric
// (Kong 2.x -> 3.x, redis_exporter flags) is caught before it silently never fires.
//
// Every scraped series carries the labels job (below), namespace, pod, container and instance;
// series of the product's pods also carry rollouts_pod_template_hash.

import { CUSTOM_QUERIES } from '../postgres/monitoring';

/** Histograms expose _bucket, _sum and _count; listed once by base name here. */
const histogram = (base: string) => [`${base}_bucket`, `${base}_sum`, `${base}_count`];

export const METRIC_CATALOGUE = {
  /** Prometheus's own synthetic series, for every target. */
  scrape: ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_series_added'],
  /** Rule evaluation: ALERTS and ALERTS_FOR_STATE. */
  alerting: ['ALERTS', 'ALERTS_FOR_STATE'],
  /**
   * PostgreSQL: the CloudNativePG 1.30 instance manager's exporter in every instance pod (job
   * postgres, port "metrics" 9187). Names as upstream emits them (cloudnative-pg v1.30.0):
   * - cnpg_collector_*: pkg/management/postgres/webserver/metricserver/pg_collector.go (namespace
   *   "cnpg", subsystem "collector"); sync_replicas carries only value="observed" (the number in
   *   synchronous_standby_names, set on the primary only) although docs/src/monitoring.md still
   *   shows min/max/expected. The three *_backup_* / first_recoverability_point gauges are
   *   deprecated and, with the Barman Cloud Plugin, follow only volume-snapshot backups.
   * - cnpg_last_error, cnpg_errors_total, ...: the queries collector itself
   *   (pkg/management/postgres/metrics/collector.go, NewQueriesCollector("cnpg", ...)).
   * - cnpg_<query>_<column>: the default monitoring queries, config/manager/default-monitoring.yaml
   *   (COUNTER columns get no _total suffix). pg_stat_archiver runs on the primary only
   *   (predicate_query), pg_stat_replication on the primary only (primary: true).
   * - cnpg_platform_*: the platform's own custom queries (the Cluster's monitoring ConfigMap):
   *   the backup canary (pg_cron writes ops.backup_canary every minute on the primary) and the
   *   result of the last restore drill.
   */
  postgres: [
    'cnpg_collector_up',
    'cnpg_collector_last_collection_error',
    'cnpg_collector_collection_errors_total',
    'cnpg_collector_collections_total',
    'cnpg_collector_collection_duration_seconds',
    'cnpg_collector_manual_switchover_required',
    'cnpg_collector_sync_replicas',
    'cnpg_collector_replica_mode',
    'cnpg_collector_fencing_on',
    'cnpg_collector_nodes_used',
    'cnpg_collector_postgres_version',
    'cnpg_collector_pg_wal',
    'cnpg_collector_pg_wal_archive_status',
    'cnpg_collector_wal_records',
    'cnpg_collector_wal_fpi',
    'cnpg_collector_wal_bytes',
    'cnpg_collector_wal_buffers_full',
    'cnpg_collector_first_recoverability_point',
    'cnpg_collector_last_available_backup_timestamp',
    'cnpg_collector_last_failed_backup_timestamp',
    'cnpg_collector_lo_pages',
    'cnpg_last_error',
    'cnpg_errors_total',
    'cnpg_last_update_timestamp',
    'cnpg_backends_total',
    'cnpg_backends_max_tx_duration_seconds',
    'cnpg_backends_waiting_total',
    'cnpg_pg_database_size_bytes',
    'cnpg_pg_database_xid_age',
    'cnpg_pg_database_mxid_age',
    'cnpg_pg_postmaster_start_time',
    'cnpg_pg_replication_lag',
    'cnpg_pg_replication_in_recovery',
    'cnpg_pg_replication_is_wal_receiver_up',
    'cnpg_pg_replication_streaming_replicas',
    'cnpg_pg_replication_slots_active',
    'cnpg_pg_replication_slots_pg_wal_lsn_diff',
    'cnpg_pg_stat_archiver_archived_count',
    'cnpg_pg_stat_archiver_failed_count',
    'cnpg_pg_stat_archiver_seconds_since_last_archival',
    'cnpg_pg_stat_archiver_seconds_since_last_failure',
    'cnpg_pg_stat_archiver_last_archived_time',
    'cnpg_pg_stat_archiver_last_failed_time',
    'cnpg_pg_stat_archiver_last_archived_wal_start_lsn',
    'cnpg_pg_stat_archiver_last_failed_wal_start_lsn',
    'cnpg_pg_stat_archiver_stats_reset_time',
    // pg_stat_bgwriter before PostgreSQL 17 (checkpoints move to pg_stat_checkpointer on 17).
    'cnpg_pg_stat_bgwriter_checkpoints_timed',
    'cnpg_pg_stat_bgwriter_checkpoints_req',
    'cnpg_pg_stat_bgwriter_buffers_checkpoint',
    'cnpg_pg_stat_bgwriter_buffers_clean',
    'cnpg_pg_stat_bgwriter_buffers_backend',
    'cnpg_pg_stat_bgwriter_buffers_alloc',
    'cnpg_pg_stat_checkpointer_checkpoints_timed',
    'cnpg_pg_stat_checkpointer_checkpoints_req',
    'cnpg_pg_stat_database_xact_commit',
    'cnpg_pg_stat_database_xact_rollback',
    'cnpg_pg_stat_database_blks_read',
    'cnpg_pg_stat_database_blks_hit',
    'cnpg_pg_stat_database_tup_returned',
    'cnpg_pg_stat_database_tup_fetched',
    'cnpg_pg_stat_database_tup_inserted',
    'cnpg_pg_stat_database_tup_updated',
    'cnpg_pg_stat_database_tup_deleted',
    'cnpg_pg_stat_database_conflicts',
    'cnpg_pg_stat_database_temp_files',
    'cnpg_pg_stat_database_temp_bytes',
    'cnpg_pg_stat_database_deadlocks',
    'cnpg_pg_stat_database_blk_read_time',
    'cnpg_pg_stat_database_blk_write_time',
    'cnpg_pg_stat_replication_backend_start',
    'cnpg_pg_stat_replication_backend_xmin_age',
    'cnpg_pg_stat_replication_sent_diff_bytes',
    'cnpg_pg_stat_replication_write_diff_bytes',
    'cnpg_pg_stat_replication_flush_diff_bytes',
    'cnpg_pg_stat_replication_replay_diff_bytes',
    'cnpg_pg_stat_replication_write_lag_seconds',
    'cnpg_pg_stat_replication_flush_lag_seconds',
    'cnpg_pg_stat_replication_replay_lag_seconds',
    'cnpg_pg_settings_setting',
    'cnpg_pg_extensions_update_available',
    // The platform's own queries (charts/postgres/monitoring.ts): query q, column c → cnpg_q_c.
    ...Object.entries(CUSTOM_QUERIES).flatMap(([query, q]) => q.metrics.map((m) => `cnpg_${query}_${m.column}`)),
  ],
  /**
   * The Barman Cloud Plugin 0.14 (WAL archive and base backups in the object store), served by the
   * same instance exporter (job postgres) on every instance: plugin-barman-cloud v0.14.0
   * web/docs/observability.md and internal/cnpgi/instance/metrics.go. They replace the deprecated
   * cnpg_collector_* backup gauges, which the plugin's backups do not update. 0 until the object
   * store has a backup.
   */
  barman: [
    'barman_cloud_cloudnative_pg_io_first_recoverability_point',
    'barman_cloud_cloudnative_pg_io_last_available_backup_timestamp',
    'barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp',
  ],
  /**
   * PgBouncer of the CloudNativePG Poolers (job pgbouncer, port "metrics" 9127): cloudnative-pg
   * v1.30.0 pkg/management/pgbouncer/metricsserver (lists.go, pools.go, stats.go,
   * pgbouncer_collector.go; docs/src/connection_pooling.md). The stats are gauges of PgBouncer's
   * running totals. cnpg_pgbouncer_up is defined there but never registered, so it is not served:
   * cnpg_pgbouncer_last_collection_error (1 when PgBouncer's admin console does not answer) is.
   */
  pgbouncer: [
    'cnpg_pgbouncer_last_collection_error',
    'cnpg_pgbouncer_collection_errors_total',
    'cnpg_pgbouncer_collections_total',
    'cnpg_pgbouncer_collection_duration_seconds',
    'cnpg_pgbouncer_lists_databases',
    'cnpg_pgbouncer_lists_users',
    'cnpg_pgbouncer_lists_pools',
    'cnpg_pgbouncer_lists_free_clients',
    'cnpg_pgbouncer_lists_used_clients',
    'cnpg_pgbouncer_lists_login_clients',
    'cnpg_pgbouncer_lists_free_servers',
    'cnpg_pgbouncer_lists_used_servers',
    'cnpg_pgbouncer_pools_cl_active',
    'cnpg_pgbouncer_pools_cl_waiting',
    'cnpg_pgbouncer_pools_cl_cancel_req',
    'cnpg_pgbouncer_pools_sv_active',
    'cnpg_pgbouncer_pools_sv_idle',
    'cnpg_pgbouncer_pools_sv_used',
    'cnpg_pgbouncer_pools_sv_tested',
    'cnpg_pgbouncer_pools_sv_login',
    'cnpg_pgbouncer_pools_maxwait',
    'cnpg_pgbouncer_pools_maxwait_us',
    'cnpg_pgbouncer_pools_pool_mode',
    'cnpg_pgbouncer_stats_total_xact_count',
    'cnpg_pgbouncer_stats_total_query_count',
    'cnpg_pgbouncer_stats_total_received',
    'cnpg_pgbouncer_stats_total_sent',
    'cnpg_pgbouncer_stats_total_xact_time',
    'cnpg_pgbouncer_stats_total_query_time',
    'cnpg_pgbouncer_stats_total_wait_time',
    'cnpg_pgbouncer_stats_avg_xact_count',
    'cnpg_pgbouncer_stats_avg_query_count',
    'cnpg_pgbouncer_stats_avg_xact_time',
    'cnpg_pgbouncer_stats_avg_query_time',
    'cnpg_pgbouncer_stats_avg_wait_time',
  ],
  /** redis_exporter v1.89 (without system metrics: use redis_memory_max_bytes). */
  redis: [
    'redis_up',
    'redis_uptime_in_seconds',
    'redis_memory_used_bytes',
    'redis_memory_max_bytes',
    'redis_connected_clients',
    'redis_blocked_clients',
    'redis_rejected_connections_total',
    'redis_commands_processed_total',
    'redis_commands_total',
    'redis_commands_duration_seconds_total',
    'redis_keyspace_hits_total',
    'redis_keyspace_misses_total',
    'redis_evicted_keys_total',
    'redis_expired_keys_total',
    'redis_db_keys',
    'redis_rdb_last_bgsave_status',
    'redis_rdb_last_save_timestamp_seconds',
    'redis_rdb_changes_since_last_save',
    'redis_aof_enabled',
    'redis_aof_last_write_status',
    'redis_aof_last_bgrewrite_status',
    'redis_master_link_up',
    'redis_net_input_bytes_total',
    'redis_net_output_bytes_total',
    // Replication (INFO replication and INFO server): role "master" or "slave", redis_mode
    // "standalone" for Redis itself ("sentinel" from the sentinel-exporter, with an empty role).
    'redis_instance_info',
    'redis_connected_slaves',
    'redis_connected_slave_lag_seconds',
  ],
  /**
   * redis_exporter v1.89 pointed at the Sentinel beside each replicated Redis instance (job redis,
   * container sentinel-exporter, port "metrics-sntl" 9355), from SENTINEL MASTERS and SENTINEL
   * CKQUORUM: master_status 1 when the Sentinel sees the primary ok (0 with master_status
   * sdown/odown), ok_sentinels counts itself and the peers it does not think down,
   * ckquorum_status 1 when CKQUORUM succeeds (label message), config_epoch rises with each
   * failover. The same exporter also serves redis_up (whether it reaches its Sentinel) and
   * redis_instance_info with redis_mode="sentinel".
   */
  sentinel: [
    'redis_sentinel_masters',
    'redis_sentinel_tilt',
    'redis_sentinel_master_status',
    'redis_sentinel_master_ok_sentinels',
    'redis_sentinel_master_ok_slaves',
    'redis_sentinel_master_ckquorum_status',
    'redis_sentinel_master_config_epoch',
  ],
  /**
   * HAProxy 3.0's built-in Prometheus exporter (promex) in the redis-primary pods (job
   * redis-primary, port "metrics" 8404, /metrics). active_servers counts the backend's servers
   * that are UP with a weight above 0; the status gauges have one series per state (label
   * state), the current one 1.
   */
  haproxy: ['haproxy_backend_active_servers', 'haproxy_backend_status', 'haproxy_server_status'],
  /** Kong 3.9 prometheus plugin with status code, latency and bandwidth metrics (docs/reference/gateway-and-delivery.md). */
  kong: [
    'kong_http_requests_total',
    ...histogram('kong_request_latency_ms'),
    ...histogram('kong_upstream_latency_ms'),
    ...histogram('kong_kong_latency_ms'),
    'kong_bandwidth_bytes',
    'kong_nginx_connections_total',
    'kong_nginx_requests_total',
    'kong_datastore_reachable',
    'kong_memory_lua_shared_dict_bytes',
    'kong_memory_lua_shared_dict_total_bytes',
    'kong_memory_workers_lua_vms_bytes',
    'kong_node_info',
  ],
  /** The product's api (the contract in docs/runbooks/deployment.md). */
  app: ['http_requests_total', ...histogram('http_request_duration_seconds')],
  /** kube-state-metrics v2.19 (the subset the rules and dashboards use). */
  kubeStateMetrics: [
    'kube_pod_info',
    'kube_pod_owner',
    'kube_pod_status_phase',
    'kube_pod_status_ready',
    'kube_pod_container_status_waiting_reason',
    'kube_pod_container_status_restarts_total',
    'kube_pod_container_status_last_terminated_reason',
    'kube_pod_container_resource_requests',
    'kube_pod_container_resource_limits',
    'kube_deployment_spec_replicas',
    'kube_deployment_status_replicas',
    'kube_deployment_status_replicas_available',
    'kube_deployment_status_replicas_updated',
    'kube_deployment_status_condition',
    'kube_statefulset_replicas',
    'kube_statefulset_status_replicas_ready',
    'kube_statefulset_status_replicas_updated',
    'kube_daemonset_status_desired_number_scheduled',
    'kube_daemonset_status_number_ready',
    'kube_daemonset_status_number_misscheduled',
    'kube_horizontalpodautoscaler_spec_max_replicas',
    'kube_horizontalpodautoscaler_spec_min_replicas',
    'kube_horizontalpodautoscaler_status_current_replicas',
    'kube_horizontalpodautoscaler_status_desired_replicas',
    'kube_job_failed',
    'kube_job_status_failed',
    'kube_job_status_succeeded',
    'kube_job_status_active',
    'kube_job_status_start_time',
    'kube_job_status_completion_time',
    'kube_cronjob_status_last_successful_time',
    'kube_cronjob_status_last_schedule_time',
    'kube_cronjob_next_schedule_time',
    'kube_cronjob_created',
    'kube_cronjob_spec_suspend',
    'kube_node_info',
    'kube_node_status_condition',
    'kube_node_spec_unschedulable',
    'kube_node_status_allocatable',
    'kube_node_status_capacity',
    'kube_persistentvolumeclaim_info',
    'kube_persistentvolumeclaim_labels',
    'kube_persistentvolumeclaim_access_mode',
    'kube_persistentvolumeclaim_status_phase',
    'kube_persistentvolumeclaim_resource_requests_storage_bytes',
    'kube_resourcequota',
    'kube_namespace_status_phase',
  ],
  /** Kubelet (volume stats) and its cAdvisor endpoint (containers). */
  kubelet: [
    'kubelet_volume_stats_available_bytes',
    'kubelet_volume_stats_capacity_bytes',
    'kubelet_volume_stats_used_bytes',
    'kubelet_volume_stats_inodes',
    'kubelet_volume_stats_inodes_free',
    'kubelet_volume_stats_inodes_used',
    'container_cpu_usage_seconds_total',
    'container_cpu_cfs_periods_total',
    'container_cpu_cfs_throttled_periods_total',
    'container_memory_working_set_bytes',
    'container_memory_rss',
    'container_network_receive_bytes_total',
    'container_network_transmit_bytes_total',
    'container_fs_usage_bytes',
    'container_oom_events_total',
  ],
  /** node-exporter v1.12. */
  node: [
    'node_cpu_seconds_total',
    'node_load1',
    'node_load5',
    'node_load15',
    'node_memory_MemAvailable_bytes',
    'node_memory_MemTotal_bytes',
    'node_filesystem_avail_bytes',
    'node_filesystem_size_bytes',
    'node_filesystem_readonly',
    'node_filesystem_files',
    'node_filesystem_files_free',
    'node_disk_io_time_seconds_total',
    'node_disk_read_bytes_total',
    'node_disk_written_bytes_total',
    'node_network_receive_bytes_total',
    'node_network_transmit_bytes_total',
    'node_timex_sync_status',
    'node_timex_maxerror_seconds',
    'node_timex_offset_seconds',
    'node_uname_info',
    'node_boot_time_seconds',
  ],
  /** Argo Rollouts controller (docs/reference/gateway-and-delivery.md). */
  rollouts: ['rollout_info', 'rollout_phase', 'analysis_run_info', 'analysis_run_phase', 'analysis_run_metric_phase', ...histogram('rollout_reconcile')],
  /** Prometheus and Alertmanager about themselves. */
  prometheus: [
    'prometheus_config_last_reload_successful',
    'prometheus_rule_evaluation_failures_total',
    'prometheus_rule_group_last_duration_seconds',
    'prometheus_tsdb_head_series',
    'prometheus_notifications_dropped_total',
    'prometheus_notifications_alertmanagers_discovered',
    'prometheus_target_scrape_pool_exceeded_target_limit_total',
    'alertmanager_config_last_reload_successful',
    'alertmanager_notifications_failed_total',
    'alertmanager_notifications_total',
  ],
} as const satisfies Record<string, readonly string[]>;

/** Every metric name in the catalogue. */
export const CATALOGUE_METRICS: ReadonlySet<string> = new Set(Object.values(METRIC_CATALOGUE).flat());

/**
 * The job label of each scrape target, as the Prometheus config sets it. Workloads of the
 * platform are scraped by convention (a container port named "metrics"; job = the pod's
 * app.kubernetes.io/name), so their job is their name.
 */
export const JOBS = {
  /** The CloudNativePG instances (the Cluster's inheritedMetadata sets app.kubernetes.io/name=postgres). */
  postgres: 'postgres',
  /**
   * PgBouncer of the CloudNativePG Poolers. The operator overwrites app.kubernetes.io/name on
   * Pooler pods with "postgresql" (cloudnative-pg v1.30.0 pkg/specs/pgbouncer/deployments.go), so
   * the scrape config names this job from the pods' cnpg.io/podRole=pooler instead.
   */
  pgbouncer: 'pgbouncer',
  /** Redis and, with replicas, the Sentinels: containers exporter and sentinel-exporter of the redis pods. */
  redis: 'redis',
  /** The HAProxy pods in front of replicated Redis (charts/redis/primary-proxy.ts). */
  redisPrimary: 'redis-primary',
  kong: 'kong',
  auth: 'auth',
  rest: 'rest',
  realtime: 'realtime',
  api: 'api',
  worker: 'worker',
  scheduler: 'scheduler',
  kubeStateMetrics: 'kube-state-metrics',
  nodeExporter: 'node-exporter',
  kubelet: 'kubelet',
  cadvisor: 'cadvisor',
  prometheus: 'prometheus',
  alertmanager: 'alertmanager',
  rollouts: 'argo-rollouts',
} as const;
