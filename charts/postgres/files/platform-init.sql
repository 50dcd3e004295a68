-- platform-init.sql: the Supabase roles and schemas, the platform's own grants and tables, and
-- the RLS baseline. The bootstrap Job runs it with psql as supabase_admin after the image's own
-- init scripts and migrations. Idempotent: every statement can run again, on the Supabase image
-- (where most objects exist) and on vanilla PostgreSQL 15 (where none do). The login roles and
-- their passwords belong to CloudNativePG (managed roles): nothing here sets a password or the
-- attributes of a login role, and nothing touches `postgres`, the operator's superuser.
--
-- The postgres chart fills in one placeholder at synth: the schemas PostgREST serves (in the
-- RLS baseline).
\set ON_ERROR_STOP on

BEGIN;

-- The platform's private schema: helpers that must never be reachable through the API.
CREATE SCHEMA IF NOT EXISTS platform;
REVOKE ALL ON SCHEMA platform FROM PUBLIC;

-- Creates a role if it is missing, then gives it exactly the attributes named (idempotent).
CREATE OR REPLACE FUNCTION platform.ensure_role(role_name text, attributes text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
    EXECUTE format('CREATE ROLE %I', role_name);
  END IF;
  EXECUTE format('ALTER ROLE %I WITH %s', role_name, attributes);
END $$;

REVOKE ALL ON FUNCTION platform.ensure_role(text, text) FROM PUBLIC;

-- The Supabase roles that do not log in (the image creates them; a vanilla server gets them
-- here). The login roles are CloudNativePG's managed roles (charts/postgres/roles.ts).
SELECT platform.ensure_role('anon', 'NOLOGIN INHERIT NOBYPASSRLS');
SELECT platform.ensure_role('authenticated', 'NOLOGIN INHERIT NOBYPASSRLS');
SELECT platform.ensure_role('service_role', 'NOLOGIN INHERIT BYPASSRLS');
SELECT platform.ensure_role('dashboard_user', 'NOLOGIN NOSUPERUSER CREATEDB CREATEROLE REPLICATION');
SELECT platform.ensure_role('supabase_read_only_user', 'NOLOGIN BYPASSRLS NOSUPERUSER');
SELECT platform.ensure_role('pgbouncer', 'NOLOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE');

GRANT anon, authenticated, service_role TO authenticator;
GRANT pg_read_all_data TO supabase_read_only_user;

ALTER ROLE anon SET statement_timeout = '3s';
ALTER ROLE authenticated SET statement_timeout = '8s';
ALTER ROLE authenticator SET statement_timeout = '8s';
ALTER ROLE authenticator SET lock_timeout = '8s';
ALTER ROLE supabase_auth_admin SET search_path = auth;
ALTER ROLE supabase_storage_admin SET search_path = storage;
ALTER ROLE defi_app SET search_path = defi;
ALTER ROLE defi_app SET statement_timeout = '15s';
ALTER ROLE defi_app SET idle_in_transaction_session_timeout = '30s';

-- Schemas the Supabase services expect; each service migrates its own tables into them.
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION supabase_auth_admin;
CREATE SCHEMA IF NOT EXISTS storage AUTHORIZATION supabase_storage_admin;
CREATE SCHEMA IF NOT EXISTS graphql_public;
CREATE SCHEMA IF NOT EXISTS realtime;
CREATE SCHEMA IF NOT EXISTS _realtime;
CREATE SCHEMA IF NOT EXISTS pgbouncer AUTHORIZATION pgbouncer;
CREATE SCHEMA IF NOT EXISTS defi AUTHORIZATION defi_app;

GRANT USAGE ON SCHEMA public, extensions, graphql_public TO postgres, anon, authenticated, service_role;
GRANT USAGE ON SCHEMA auth, storage TO postgres, anon, authenticated, service_role, dashboard_user;
GRANT ALL ON SCHEMA auth TO supabase_auth_admin;
GRANT ALL ON SCHEMA storage TO supabase_storage_admin;

-- Supabase's default privileges: the API roles may use what the owners create in public. Row
-- level security, not these grants, is what keeps rows private (RLS baseline below).
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;

-- The backup canary: pg_cron adds a row every minute on the primary (below), and a restore
-- compares the rows it recovered with these: the newest one says how much was lost (the RPO).
-- The restore drill records its results in ops.restore_drill_runs, which the metrics read.
CREATE SCHEMA IF NOT EXISTS ops;
REVOKE ALL ON SCHEMA ops FROM PUBLIC;
CREATE TABLE IF NOT EXISTS ops.backup_canary (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  written_at timestamptz NOT NULL DEFAULT now(),
  writer text NOT NULL,
  payload text NOT NULL
);
REVOKE ALL ON ops.backup_canary FROM PUBLIC;
CREATE TABLE IF NOT EXISTS ops.restore_drill_runs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  succeeded boolean NOT NULL,
  rto_seconds double precision NOT NULL,
  rpo_seconds double precision NOT NULL,
  detail text NOT NULL DEFAULT ''
);
REVOKE ALL ON ops.restore_drill_runs FROM PUBLIC;
GRANT USAGE ON SCHEMA ops TO platform_backup;
GRANT SELECT ON ops.backup_canary TO platform_backup;
GRANT SELECT, INSERT ON ops.restore_drill_runs TO platform_backup;

-- CloudNativePG's pooler lookup function (public.user_search, which the operator creates as
-- postgres whenever it reconciles a Pooler) reads password hashes: the image's default privileges
-- in public would let the API roles call it through PostgREST. An event trigger takes the grant
-- away whenever it is (re)created, and the block after it from a function that exists already.
CREATE OR REPLACE FUNCTION platform.guard_user_search()
RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() WHERE object_type = 'function' AND object_identity LIKE 'public.user_search(%') THEN
    REVOKE ALL ON FUNCTION public.user_search(text) FROM PUBLIC, anon, authenticated, service_role;
  END IF;
END $$;
REVOKE ALL ON FUNCTION platform.guard_user_search() FROM PUBLIC;
DROP EVENT TRIGGER IF EXISTS guard_user_search;
CREATE EVENT TRIGGER guard_user_search ON ddl_command_end
  WHEN TAG IN ('CREATE FUNCTION')
  EXECUTE FUNCTION platform.guard_user_search();
DO $$
BEGIN
  IF to_regprocedure('public.user_search(text)') IS NOT NULL THEN
    REVOKE ALL ON FUNCTION public.user_search(text) FROM PUBLIC, anon, authenticated, service_role;
  END IF;
END $$;

-- Realtime listens to changes of the tables added to this publication.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    CREATE PUBLICATION supabase_realtime;
  END IF;
END $$;

-- RLS baseline (Supabase docs, "Row Level Security": auto-enable RLS with a ddl_command_end
-- event trigger; docs/data-tier.md): every table created in an exposed schema gets row level
-- security enabled at once, so a table without policies is closed to anon and authenticated
-- by default instead of open to anyone holding the anon key.
CREATE OR REPLACE FUNCTION platform.rls_auto_enable()
RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN
    SELECT * FROM pg_event_trigger_ddl_commands()
    WHERE command_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
      AND object_type IN ('table', 'partitioned table')
      AND schema_name = ANY (ARRAY[__EXPOSED_SCHEMAS__])
  LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', cmd.object_identity);
  END LOOP;
END $$;
REVOKE ALL ON FUNCTION platform.rls_auto_enable() FROM PUBLIC;

DROP EVENT TRIGGER IF EXISTS ensure_rls;
CREATE EVENT TRIGGER ensure_rls ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
  EXECUTE FUNCTION platform.rls_auto_enable();

-- The canary writer: one row a minute on whichever instance is the primary (pg_cron runs only
-- there). Where pg_cron is not installed (vanilla PostgreSQL in tests) there is no writer.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_cron') THEN
    CREATE EXTENSION IF NOT EXISTS pg_cron;
    PERFORM cron.schedule('platform-backup-canary', '* * * * *',
      $cron$INSERT INTO ops.backup_canary (writer, payload) VALUES ('pg_cron', md5(random()::text))$cron$);
  END IF;
END $$;

COMMIT;
