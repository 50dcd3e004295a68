// The server settings of the Cluster (`spec.postgresql.parameters`) and its preload list, built
// from the environment: the PGTune resources, WAL and archiving, safety, logging, and what the
// Supabase image's own postgresql.conf sets, which CloudNativePG does not read (it writes its
// own configuration), so every setting the image relies on is restated here. None of
// CloudNativePG's fixed parameters may appear (cnpg-fixed-parameters.ts; a test checks).
import { maxSlotWalKeepSizeMB, RESERVED_CONNECTIONS } from '../../lib/facts/postgres-sizing';
import { type Setting, tune, type TuningInput } from './tuning';

/** Where the pgsodium/Vault root key and its getkey script are mounted (the Cluster's projected volume). */
export const PGSODIUM_PATHS = {
  /** CloudNativePG mounts `projectedVolumeTemplate` here. */
  projected: '/projected',
  key: '/projected/pgsodium/root.key',
  getkey: '/projected/pgsodium/getkey.sh',
} as const;

/** The RPO bound of the WAL archive alone: a segment is archived at least this often when there is traffic. */
export const ARCHIVE_TIMEOUT_SECONDS = 60;

export interface ParametersInput extends TuningInput {
  /** Size of each instance's WAL volume, bytes: replication slots may hold back at most a fifth of it. */
  readonly walVolumeBytes: number;
  /** log_min_duration_statement, ms (-1 off). */
  readonly logMinDurationMs: number;
  /** Whether WAL is archived (archive_timeout only matters then). */
  readonly archiving: boolean;
}

const set = (name: string, value: string | number, why: string): Setting => ({ name, value: String(value), why });

/**
 * The libraries the Supabase image preloads (its postgresql.conf): a library missing from the
 * list breaks the extensions that need it (pg_cron, pg_net, pgsodium and Vault, timescaledb). The
 * image's postgresql.conf, in its order.
 * CloudNativePG adds its own (pg_stat_statements, pgaudit, auto_explain) when it manages them,
 * which this list already names.
 */
export const SHARED_PRELOAD_LIBRARIES = [
  'pg_stat_statements',
  'pgaudit',
  'plpgsql',
  'plpgsql_check',
  'pg_cron',
  'pg_net',
  'pgsodium',
  'timescaledb',
  'auto_explain',
  'pg_tle',
  'plan_filter',
  'supabase_vault',
] as const;

/**
 * What the Supabase image's postgresql.conf, its Dockerfile and supautils.conf set (at the pinned
 * tag; docs/reference/cloudnativepg.md), restated: CloudNativePG writes its own configuration and
 * reads none of the image's files. The getkey scripts are the platform's own (one shared key).
 */
export function supabaseImageSettings(): Setting[] {
  const image = 'as the image sets it';
  return [
    set('session_preload_libraries', 'supautils', 'guards reserved roles and privileged extensions (image Dockerfile)'),
    set('supautils.extensions_parameter_overrides', '{"pg_cron":{"schema":"pg_catalog"}}', image),
    set('supautils.policy_grants', POLICY_GRANTS, image),
    set('supautils.drop_trigger_grants', POLICY_GRANTS, image),
    set(
      'supautils.privileged_extensions',
      'address_standardizer, address_standardizer_data_us, autoinc, bloom, btree_gin, btree_gist, citext, cube, dblink, dict_int, dict_xsyn, earthdistance, fuzzystrmatch, hstore, http, hypopg, index_advisor, insert_username, intarray, isn, ltree, moddatetime, orioledb, pg_buffercache, pg_cron, pg_graphql, pg_hashids, pg_jsonschema, pg_net, pg_prewarm, pg_repack, pg_stat_monitor, pg_stat_statements, pg_tle, pg_trgm, pg_walinspect, pgaudit, pgcrypto, pgjwt, pgroonga, pgroonga_database, pgrouting, pgrowlocks, pgsodium, pgstattuple, pgtap, plcoffee, pljava, plls, plpgsql_check, plv8, postgis, postgis_raster, postgis_sfcgal, postgis_tiger_geocoder, postgis_topology, postgres_fdw, refint, rum, seg, sslinfo, supabase_vault, supautils, tablefunc, tcn, timescaledb, tsm_system_rows, tsm_system_time, unaccent, uuid-ossp, vector, wrappers',
      image,
    ),
    set('supautils.privileged_extensions_custom_scripts_path', '/etc/postgresql-custom/extension-custom-scripts', image),
    set('supautils.privileged_extensions_superuser', 'supabase_admin', image),
    set('supautils.privileged_role', 'postgres', image),
    set(
      'supautils.privileged_role_allowed_configs',
      'auto_explain.*, log_lock_waits, log_min_duration_statement, log_min_messages, log_replication_commands, log_statement, log_temp_files, pg_net.batch_size, pg_net.ttl, pg_stat_statements.*, pgaudit.log, pgaudit.log_catalog, pgaudit.log_client, pgaudit.log_level, pgaudit.log_relation, pgaudit.log_rows, pgaudit.log_statement, pgaudit.log_statement_once, pgaudit.role, pgrst.*, plan_filter.*, safeupdate.enabled, session_replication_role, track_io_timing, wal_compression',
      image,
    ),
    set(
      'supautils.reserved_memberships',
      'pg_read_server_files, pg_write_server_files, pg_execute_server_program, supabase_admin, supabase_auth_admin, supabase_storage_admin, supabase_read_only_user, supabase_realtime_admin, supabase_replication_admin, dashboard_user, pgbouncer, authenticator',
      image,
    ),
    set(
      'supautils.reserved_roles',
      'supabase_admin, supabase_auth_admin, supabase_storage_admin, supabase_read_only_user, supabase_realtime_admin, supabase_replication_admin, dashboard_user, pgbouncer, service_role*, authenticator*, authenticated*, anon*',
      image,
    ),
    set('pgsodium.getkey_script', PGSODIUM_PATHS.getkey, 'reads the one root key every instance and restore shares (Secret postgres-pgsodium)'),
    set('vault.getkey_script', PGSODIUM_PATHS.getkey, 'Vault derives its key from the same root key'),
    set('cron.database_name', 'postgres', 'pg_cron jobs run in the postgres database (image postgresql.conf)'),
    set('auto_explain.log_min_duration', '10s', 'plans of very slow statements (image postgresql.conf)'),
  ];
}

const POLICY_GRANTS =
  '{"postgres":["auth.audit_log_entries","auth.identities","auth.refresh_tokens","auth.sessions","auth.users","realtime.messages","storage.buckets","storage.migrations","storage.objects","storage.s3_multipart_uploads","storage.s3_multipart_uploads_parts"]}';

/** Every entry of `spec.postgresql.parameters`, with the reason for each (docs/data-tier.md). */
export function clusterSettings(input: ParametersInput): Setting[] {
  const slotLimit = maxSlotWalKeepSizeMB(input.walVolumeBytes);
  return [
    set('superuser_reserved_connections', RESERVED_CONNECTIONS, 'room for the operator when max_connections is reached'),
    set('password_encryption', 'scram-sha-256', 'no md5 hashes'),
    ...tune(input),
    set('wal_level', 'logical', 'Realtime reads changes through logical replication'),
    set('max_wal_senders', 10, 'standbys, base backups and Realtime'),
    set('max_replication_slots', 10, "the standbys' slots, Realtime's and spare"),
    set('max_slot_wal_keep_size', `${slotLimit}MB`, 'a stalled slot may hold back at most 1/5 of the WAL volume'),
    set('synchronous_commit', 'on', 'a commit is flushed (on the synchronous standbys too) before it is acknowledged'),
    set('wal_log_hints', 'on', 'lets pg_rewind resynchronise a former primary'),
    ...(input.archiving
      ? [
          set(
            'archive_timeout',
            `${ARCHIVE_TIMEOUT_SECONDS}s`,
            'with traffic, a WAL segment reaches the object store at least once a minute (RPO of the archive alone)',
          ),
        ]
      : []),
    set('idle_in_transaction_session_timeout', '10min', 'a forgotten open transaction cannot hold locks and bloat for ever'),
    set('timezone', 'UTC', 'one time zone everywhere'),
    set('log_timezone', 'UTC', 'one time zone everywhere'),
    set('log_min_duration_statement', input.logMinDurationMs, 'slow queries, from the environment'),
    set('log_checkpoints', 'on', 'checkpoint pressure shows in the logs'),
    set('log_lock_waits', 'on', 'lock waits longer than deadlock_timeout'),
    set('log_temp_files', '10MB', 'queries spilling work_mem to disk'),
    set('log_autovacuum_min_duration', '10s', 'slow autovacuum runs'),
    ...supabaseImageSettings(),
  ];
}

/** `spec.postgresql.parameters`: every value a string, as the CRD takes them. */
export function clusterParameters(input: ParametersInput): Record<string, string> {
  const settings = clusterSettings(input);
  const seen = new Set<string>();
  for (const s of settings) {
    if (seen.has(s.name)) throw new Error(`internal: parameter ${s.name} is set twice`);
    seen.add(s.name);
  }
  return Object.fromEntries(settings.map((s) => [s.name, s.value]));
}
