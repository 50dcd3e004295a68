-- platform-init.sql: the Supabase roles and schemas, the platform's own roles, and the RLS
-- baseline. Runs with psql as the bootstrap superuser (supabase_admin) after the image's own
-- init scripts, on the first boot of an empty data directory. Idempotent: every statement can
-- run again, on the Supabase image (where most objects exist) and on vanilla PostgreSQL 15
-- (where none do). Passwords come from the environment of the psql process, never from here.
--
-- The postgres chart fills in two placeholders at synth: the schemas PostgREST serves (in the
-- RLS baseline) and the password statements, one pair per login role of credentials.ts.
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

-- Sets a login role's password; an empty one is a deployment error, not a role without login.
CREATE OR REPLACE FUNCTION platform.set_password(role_name text, password text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  IF coalesce(password, '') = '' THEN
    RAISE EXCEPTION 'no password for role %: set its key in the postgres credentials Secret', role_name;
  END IF;
  EXECUTE format('ALTER ROLE %I WITH PASSWORD %L', role_name, password);
END $$;
REVOKE ALL ON FUNCTION platform.ensure_role(text, text), platform.set_password(text, text) FROM PUBLIC;

-- Supabase roles (REFERENCE.md §2.5). supabase_admin is the bootstrap superuser.
SELECT platform.ensure_role('postgres', 'NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS');
SELECT platform.ensure_role('anon', 'NOLOGIN INHERIT NOBYPASSRLS');
SELECT platform.ensure_role('authenticated', 'NOLOGIN INHERIT NOBYPASSRLS');
SELECT platform.ensure_role('service_role', 'NOLOGIN INHERIT BYPASSRLS');
SELECT platform.ensure_role('authenticator', 'LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS');
SELECT platform.ensure_role('supabase_auth_admin', 'LOGIN NOINHERIT CREATEROLE NOSUPERUSER');
SELECT platform.ensure_role('supabase_storage_admin', 'LOGIN NOINHERIT CREATEROLE NOSUPERUSER');
SELECT platform.ensure_role('supabase_functions_admin', 'LOGIN NOINHERIT CREATEROLE NOSUPERUSER');
SELECT platform.ensure_role('pgbouncer', 'LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE');
SELECT platform.ensure_role('dashboard_user', 'NOLOGIN NOSUPERUSER CREATEDB CREATEROLE REPLICATION');
SELECT platform.ensure_role('supabase_read_only_user', 'NOLOGIN BYPASSRLS NOSUPERUSER');

-- The platform's own roles: base backups and WAL streaming, and the metrics exporter.
SELECT platform.ensure_role('platform_backup', 'LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS');
SELECT platform.ensure_role('platform_exporter', 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS');
-- The product (api, worker, scheduler): owns its own schema, reaches nothing of Supabase's.
SELECT platform.ensure_role('defi_app', 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS');

GRANT anon, authenticated, service_role TO authenticator;
GRANT pg_read_all_data TO supabase_read_only_user, platform_backup;
GRANT pg_monitor TO platform_exporter;

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

-- The backup canary: the WAL streamer's pod adds a row every minute, and the weekly restore drill
-- compares the rows of a restored copy with these (count and checksum up to a marker row it
-- writes just before its restore point). Only platform_backup writes here; the drill also prunes
-- rows older than its retention, inside the same locked transaction.
CREATE SCHEMA IF NOT EXISTS ops;
REVOKE ALL ON SCHEMA ops FROM PUBLIC;
CREATE TABLE IF NOT EXISTS ops.backup_canary (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  written_at timestamptz NOT NULL DEFAULT now(),
  writer text NOT NULL,
  payload text NOT NULL
);
REVOKE ALL ON ops.backup_canary FROM PUBLIC;
GRANT USAGE ON SCHEMA ops TO platform_backup;
GRANT SELECT, INSERT, DELETE ON ops.backup_canary TO platform_backup;
-- The drill names the point its restore replays to (PostgreSQL 15 lets a superuser grant this).
GRANT EXECUTE ON FUNCTION pg_catalog.pg_create_restore_point(text) TO platform_backup;

-- Supavisor's auth_query: looks up a user's password hash, callable only by pgbouncer.
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_usename text)
RETURNS TABLE (username text, password text) LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  RETURN QUERY SELECT s.usename::text, s.passwd::text FROM pg_catalog.pg_shadow s WHERE s.usename = p_usename;
END $$;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO pgbouncer;

-- Realtime listens to changes of the tables added to this publication.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    CREATE PUBLICATION supabase_realtime;
  END IF;
END $$;

-- RLS baseline (REFERENCE.md §4.6): every table created in an exposed schema gets row level
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

COMMIT;

-- Passwords of the login roles, from the psql process's environment (the credentials Secret):
-- for each role, `\set pw` from its variable, then platform.set_password(role, :'pw').
__SET_PASSWORDS__
\unset pw

-- Databases and schemas of Supavisor and the analytics service, outside the application database.
SELECT 'CREATE DATABASE _supabase WITH OWNER supabase_admin'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '_supabase') \gexec
\connect _supabase
CREATE SCHEMA IF NOT EXISTS _supavisor;
CREATE SCHEMA IF NOT EXISTS _analytics;
\connect postgres
