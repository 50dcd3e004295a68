-- pgTAP: what the managed roles (as CloudNativePG creates them) and platform-init.sql must leave
-- behind, checked on a live PostgreSQL 15. Runs as supabase_admin inside a transaction that is
-- rolled back.
\set ON_ERROR_STOP on
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(63);

-- Roles exist.
SELECT has_role(r) FROM unnest(ARRAY[
  'postgres', 'anon', 'authenticated', 'service_role', 'authenticator', 'supabase_auth_admin',
  'supabase_storage_admin', 'supabase_functions_admin', 'pgbouncer', 'platform_backup', 'defi_app', 'supabase_admin'
]) AS r;

-- ... with the intended attributes.
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'anon'), false, 'anon cannot log in');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'authenticated'), false, 'authenticated cannot log in');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'service_role'), false, 'service_role cannot log in');
SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'service_role'), true, 'service_role bypasses RLS');
SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'anon'), false, 'anon is subject to RLS');
SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'authenticated'), false, 'authenticated is subject to RLS');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'authenticator'), true, 'authenticator logs in');
SELECT is((SELECT rolinherit FROM pg_roles WHERE rolname = 'authenticator'), false, 'authenticator has no rights of its own until it switches role');
SELECT is_member_of('anon', 'authenticator');
SELECT is_member_of('authenticated', 'authenticator');
SELECT is_member_of('service_role', 'authenticator');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'), true, 'postgres stays the operator''s superuser');
SELECT ok((SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'postgres'), 'postgres has no password (no remote login)');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'authenticator'), false, 'authenticator is not a superuser');
SELECT is((SELECT rolreplication FROM pg_roles WHERE rolname = 'platform_backup'), false, 'platform_backup opens no replication connections');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'platform_backup'), false, 'platform_backup is not a superuser');
SELECT has_table('ops', 'backup_canary', 'the restore drill has its canary table');
SELECT has_table('ops', 'restore_drill_runs', 'the restore drill records its results');
SELECT ok(has_table_privilege('platform_backup', 'ops.backup_canary', 'SELECT') AND has_table_privilege('platform_backup', 'ops.restore_drill_runs', 'INSERT'), 'platform_backup reads the canary and records drill results');
SELECT ok(NOT (has_table_privilege('platform_backup', 'ops.backup_canary', 'UPDATE') OR has_table_privilege('platform_backup', 'ops.backup_canary', 'DELETE') OR has_table_privilege('platform_backup', 'ops.restore_drill_runs', 'UPDATE')), 'platform_backup cannot rewrite canary rows or drill results');
SELECT ok(NOT (has_schema_privilege('anon', 'ops', 'USAGE') OR has_schema_privilege('authenticated', 'ops', 'USAGE') OR has_schema_privilege('defi_app', 'ops', 'USAGE')), 'the API roles and the app cannot reach the ops schema');
SELECT is((SELECT rolsuper OR rolcreaterole OR rolreplication OR rolbypassrls FROM pg_roles WHERE rolname = 'platform_backup'), false, 'platform_backup has no privileged attribute');
SELECT is((SELECT rolsuper OR rolcreaterole OR rolreplication OR rolbypassrls OR rolcreatedb FROM pg_roles WHERE rolname = 'defi_app'), false, 'defi_app has no privileged attribute');
SELECT schema_owner_is('defi', 'defi_app');
SELECT ok(NOT has_schema_privilege('defi_app', 'auth', 'USAGE'), 'defi_app cannot reach the auth schema');
SELECT ok(NOT has_schema_privilege('defi_app', 'storage', 'USAGE'), 'defi_app cannot reach the storage schema');
SELECT ok((SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = 'defi_app' AND s.setdatabase = 0) @> ARRAY['statement_timeout=15s', 'search_path=defi'], 'defi_app works in its schema with a 15s statement timeout');
SELECT ok((SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = 'anon' AND s.setdatabase = 0) @> ARRAY['statement_timeout=3s'], 'anon statements time out after 3s');
SELECT ok((SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = 'authenticated' AND s.setdatabase = 0) @> ARRAY['statement_timeout=8s'], 'authenticated statements time out after 8s');
SELECT ok((SELECT rolpassword FROM pg_authid WHERE rolname = 'authenticator') LIKE 'SCRAM-SHA-256$%', 'authenticator has a SCRAM password');

-- Schemas and their owners.
SELECT has_schema(s) FROM unnest(ARRAY['auth', 'storage', 'extensions', 'graphql_public', '_realtime', 'pgbouncer', 'platform']) AS s;
SELECT schema_owner_is('auth', 'supabase_auth_admin');
SELECT schema_owner_is('storage', 'supabase_storage_admin');
SELECT ok(NOT has_schema_privilege('anon', 'platform', 'USAGE'), 'anon cannot reach the private platform schema');
SELECT ok(NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'pgbouncer'), 'pgbouncer (Supavisor''s old lookup role) cannot log in');
SELECT ok(EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime'), 'the supabase_realtime publication exists');
SELECT ok(EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'ensure_rls' AND evtenabled <> 'D'), 'the ensure_rls event trigger is enabled');

-- The RLS baseline: a new table in an exposed schema is closed until it gets policies.
CREATE TABLE public.rls_probe (id int PRIMARY KEY, secret text);
INSERT INTO public.rls_probe VALUES (1, 'a'), (2, 'b');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'public.rls_probe'::regclass), 'CREATE TABLE in public enables RLS');
CREATE TABLE public.rls_probe_copy AS SELECT * FROM public.rls_probe;
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'public.rls_probe_copy'::regclass), 'CREATE TABLE AS in public enables RLS');
CREATE TABLE graphql_public.rls_probe (id int);
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'graphql_public.rls_probe'::regclass), 'CREATE TABLE in graphql_public enables RLS');
CREATE SCHEMA internal_probe;
CREATE TABLE internal_probe.t (id int);
SELECT ok(NOT (SELECT relrowsecurity FROM pg_class WHERE oid = 'internal_probe.t'::regclass), 'tables outside the exposed schemas are left alone');
SELECT ok(has_table_privilege('anon', 'public.rls_probe', 'SELECT'), 'anon holds the SELECT grant (Supabase default privileges), so only RLS stands in the way');

SET LOCAL ROLE anon;
SELECT is_empty('SELECT * FROM public.rls_probe', 'anon reads no rows of a table without policies');
RESET ROLE;
SET LOCAL ROLE authenticated;
SELECT is_empty('SELECT * FROM public.rls_probe', 'authenticated reads no rows of a table without policies');
RESET ROLE;
SET LOCAL ROLE service_role;
SELECT results_eq('SELECT count(*)::int FROM public.rls_probe', ARRAY[2], 'service_role reads every row');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
