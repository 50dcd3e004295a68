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
  /**
   * Auth (GoTrue v2.189.0, job auth, port "metrics" 9100). GOTRUE_METRICS_EXPORTER=prometheus
   * serves the OpenTelemetry SDK's instruments through go.opentelemetry.io/otel/exporters/prometheus
   * v0.48.0 (supabase/auth internal/observability/metrics.go), which turns dots into underscores,
   * appends the unit ("s" _seconds, "ms" _milliseconds) and gives counters _total:
   * - http_server_request_duration_seconds: otelhttp v0.64.0 (semantic conventions v1.37
   *   http.server.request.duration), labels http_route, http_request_method,
   *   http_response_status_code (internal/observability/request-tracing.go adds http_route);
   * - http_status_codes_total: request-tracing.go, labels code and http_route;
   * - gotrue_running (always 1) and global_auth_version_*: metrics.go, internal/utilities/version;
   * - gotrue_{compare_hash_and_password,generate_from_password}_{submitted,completed}_total:
   *   internal/crypto/password.go; a completed comparison carries match="true"|"false";
   * - global_auth_email_send_{operations,errors}_total (label type): internal/api/mail.go;
   *   gotrue_email_rate_limit_counter_total: internal/api/middleware.go;
   * - db_sql_*: github.com/XSAM/otelsql v0.26.0 (instruments.go, sql.go), registered on the
   *   connection pool (internal/storage/dial.go): connections by status="inuse"|"idle", the
   *   pool's limit, waits for a connection, and call latency by method and status="ok"|"error".
   */
  auth: [
    ...histogram('http_server_request_duration_seconds'),
    'http_status_codes_total',
    'gotrue_running',
    'global_auth_version_major',
    'global_auth_version_minor',
    'global_auth_version_patch',
    'gotrue_compare_hash_and_password_submitted_total',
    'gotrue_compare_hash_and_password_completed_total',
    'gotrue_generate_from_password_submitted_total',
    'gotrue_generate_from_password_completed_total',
    'global_auth_email_send_operations_total',
    'global_auth_email_send_errors_total',
    'gotrue_email_rate_limit_counter_total',
    'db_sql_connection_open',
    'db_sql_connection_max_open',
    'db_sql_connection_wait_total',
    'db_sql_connection_wait_duration_milliseconds_total',
    ...histogram('db_sql_latency_milliseconds'),
  ],
  /**
   * Realtime v2.102.3 (job realtime, /metrics on port "http" 4000 with a JWT). PromEx plugins
   * (lib/realtime/monitoring/prom_ex.ex, tenant_prom_ex.ex, prom_ex/plugins/*.ex; the BEAM plugin
   * of prom_ex 1.11.0 lib/prom_ex/plugins/beam.ex with prefix beam), written by
   * lib/realtime/monitoring/prometheus.ex: a metric's name is its parts joined by "_", with no
   * _total or unit suffix added (OBSERVABILITY_METRICS.md lists them). Every series carries the
   * global tags region, host (the node's pod IP) and id (config/runtime.exs metrics_tags). The
   * metrics controller (lib/realtime_web/controllers/metrics_controller.ex) answers with the
   * series of every node of the Erlang cluster, so each pod's scrape repeats every node's series:
   * queries take one copy per node (max without (instance, pod)) before they add nodes up.
   */
  realtime: [
    'realtime_connections_global_connected',
    'realtime_connections_global_connected_cluster',
    'realtime_tenants_connected',
    'realtime_channel_global_events',
    'realtime_channel_global_presence_events',
    'realtime_channel_global_db_events',
    'realtime_channel_global_joins',
    'realtime_channel_global_input_bytes',
    'realtime_channel_global_output_bytes',
    'realtime_channel_global_error',
    ...histogram('realtime_global_rpc'),
    ...histogram('realtime_payload_size'),
    ...histogram('realtime_replication_poller_query_duration'),
    ...histogram('realtime_tenants_broadcast_from_database_latency_committed_at'),
    'phoenix_connections_total',
    'phoenix_connections_active',
    'phoenix_connections_max',
    'phoenix_channel_joined_total',
    ...histogram('phoenix_channel_handled_in_duration_milliseconds'),
    ...histogram('phoenix_socket_connected_duration_milliseconds'),
    'beam_memory_allocated_bytes',
    'beam_memory_processes_total_bytes',
    'beam_memory_binary_total_bytes',
    'beam_memory_ets_total_bytes',
    'beam_stats_process_count',
    'beam_stats_run_queue_count',
    'beam_system_process_limit_info',
    'dist_queue_size',
    'dist_send_pending_bytes',
    'gen_rpc_queue_size_bytes',
  ],
  /**
   * imgproxy v3.30.1 beside Storage (job storage, container imgproxy, port "metrics" 8081),
   * IMGPROXY_PROMETHEUS_NAMESPACE=imgproxy: metrics/prometheus/prometheus.go (errors_total by
   * type; workers_utilization in percent) and vips/vips.go. Storage API itself serves no metrics
   * here: its /metrics needs OTEL_METRICS_ENABLED and PROMETHEUS_METRICS_ENABLED (supabase/storage
   * v1.60.4 src/internal/monitoring/otel-metrics.ts), which the platform does not set.
   */
  imgproxy: [
    'imgproxy_requests_total',
    'imgproxy_status_codes_total',
    'imgproxy_errors_total',
    ...histogram('imgproxy_request_duration_seconds'),
    ...histogram('imgproxy_download_duration_seconds'),
    ...histogram('imgproxy_processing_duration_seconds'),
    'imgproxy_requests_in_progress',
    'imgproxy_images_in_progress',
    'imgproxy_workers',
    'imgproxy_workers_utilization',
    'imgproxy_vips_memory_bytes',
  ],
  /** The product's api (the contract in docs/runbooks/deployment.md). */
  app: ['http_requests_total', ...histogram('http_request_duration_seconds')],
  /**
   * The product's worker (job worker, port "metrics"; service/src/metrics.ts, names from
   * service/src/contract.ts WORKER_METRICS): worker_jobs_total{kind, outcome} (outcome succeeded,
   * failed, duplicate or rejected; a series appears with its first job), the histogram
   * worker_job_duration_seconds{kind}, and two gauges: worker_queue_depth (the stream's length,
   * the same on every worker pod; no sample while Redis does not answer) and
   * worker_jobs_in_flight (this pod's).
   */
  worker: ['worker_jobs_total', ...histogram('worker_job_duration_seconds'), 'worker_queue_depth', 'worker_jobs_in_flight'],
  /**
   * The product's scheduler (job scheduler, port "metrics"; SCHEDULER_METRICS): the gauge
   * scheduler_last_run_timestamp_seconds{schedule} (Unix seconds of the schedule's last complete
   * enqueue; no series before the first), the counter scheduler_runs_total{schedule, outcome}
   * (enqueued, duplicate, not_durable, failed), and scheduler_is_leader (1 while the pod holds the
   * lease). process_start_time_seconds is prom-client's default process metric, which every
   * component serves; the stall alert falls back to it before the first run.
   */
  scheduler: ['scheduler_last_run_timestamp_seconds', 'scheduler_runs_total', 'scheduler_is_leader', 'process_start_time_seconds'],
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
  /*
   * The operators the platform runs under (charts/observability/operators.ts). Their scrape jobs
   * keep only the names listed here (metric_relabel_configs), so the catalogue is also what is
   * stored. Their series carry job, pod and instance but no namespace of the target: the
   * `namespace` label, where there is one, is the namespace of the object the series is about
   * (a Certificate, an Application, an ExternalSecret).
   */
  /**
   * cert-manager v1.21.1 controller (job cert-manager, port 9402): internal/collectors/
   * certificate_collector.go (expiration and renewal are Unix times, 0 until the Certificate has
   * a certificate; ready_status has one series per condition True/False/Unknown, the current one
   * 1) and pkg/metrics/metrics.go (the sync counters, without a _total suffix).
   */
  certManager: [
    'certmanager_certificate_expiration_timestamp_seconds',
    'certmanager_certificate_renewal_timestamp_seconds',
    'certmanager_certificate_ready_status',
    'certmanager_controller_sync_call_count',
    'certmanager_controller_sync_error_count',
  ],
  /**
   * Argo CD v3.5.1 application controller (job argocd-application-controller, port 8082):
   * controller/metrics/metrics.go. argocd_app_info is 1 per Application with labels namespace
   * and name (the Application's), project, sync_status (Synced, OutOfSync, Unknown) and
   * health_status (Healthy, Progressing, Degraded, Suspended, Missing, Unknown).
   */
  argocd: ['argocd_app_info', 'argocd_app_sync_total'],
  /** Argo CD v3.5.1 repo server (job argocd-repo-server, port 8084): reposerver/metrics/metrics.go. */
  argocdRepoServer: ['argocd_git_request_total', 'argocd_git_fetch_fail_total'],
  /**
   * External Secrets v2.9.0 controller (job external-secrets, port "metrics" 8080):
   * pkg/controllers/externalsecret/esmetrics/esmetrics.go and secretstore/cssmetrics, ssmetrics.
   * status_condition carries name, namespace, condition and status; for condition="Ready" the
   * series of the current status is 1 and the other 0. sync_calls_error has no _total suffix.
   */
  externalSecrets: [
    'externalsecret_status_condition',
    'externalsecret_sync_calls_total',
    'externalsecret_sync_calls_error',
    'clustersecretstore_status_condition',
    'secretstore_status_condition',
  ],
  /**
   * Kyverno v1.19.0 admission controller (job kyverno-admission-controller, port "metrics-port"
   * 8000), OpenTelemetry instruments exported for Prometheus (pkg/metrics/admission.go,
   * policy_engine.go): requests carry resource_kind, resource_namespace,
   * resource_request_operation and request_allowed ("true"/"false"); policy results carry
   * policy_name, rule_name, rule_result (pass, fail, warn, error, skip), rule_execution_cause,
   * resource_namespace and policy_validation_mode ("enforce" only when a validate rule enforces).
   */
  kyverno: ['kyverno_admission_requests_total', 'kyverno_policy_results_total', ...histogram('kyverno_admission_review_duration_seconds')],
  /**
   * CloudNativePG 1.30.0 operator (job cloudnative-pg, port "metrics" 8080): only
   * controller-runtime's (v0.24) metrics (docs/src/monitoring.md, "Monitoring the CloudNativePG
   * operator"), label controller (cluster, backup, scheduledbackup, pooler, ...); errors_total
   * starts at 0 for every controller. The Barman Cloud Plugin's Deployment serves none at v0.14.0
   * (--metrics-bind-address defaults to "0"); its backup gauges come from the instances (barman).
   */
  cnpgOperator: ['controller_runtime_reconcile_total', 'controller_runtime_reconcile_errors_total'],
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
  /** Storage's pods; only their imgproxy container serves metrics (container="imgproxy"). */
  storage: 'storage',
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
  // The operators (charts/observability/operators.ts): each job is its pods' app.kubernetes.io/name.
  certManager: 'cert-manager',
  argocdApplicationController: 'argocd-application-controller',
  argocdServer: 'argocd-server',
  argocdRepoServer: 'argocd-repo-server',
  externalSecrets: 'external-secrets',
  kyverno: 'kyverno-admission-controller',
  cnpgOperator: 'cloudnative-pg',
} as const;
