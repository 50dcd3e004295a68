-- pgTAP: row level security on a sample table, acting as users the way PostgREST does
-- (SET LOCAL ROLE to the JWT's role, request.jwt.claims set to the JWT's claims). A user reads
-- and writes only its own rows, anon reads nothing, service_role bypasses. Rolled back.
\set ON_ERROR_STOP on
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;

-- auth.uid() as GoTrue defines it, only where GoTrue has not (vanilla PostgreSQL in tests).
DO $$
BEGIN
  IF to_regprocedure('auth.uid()') IS NULL THEN
    CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $f$
      SELECT nullif(coalesce(current_setting('request.jwt.claim.sub', true), (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')), '')::uuid
    $f$;
    GRANT EXECUTE ON FUNCTION auth.uid() TO anon, authenticated, service_role;
  END IF;
END $$;

-- The sample table, written the way docs/data-tier.md ("Row level security") asks: policies per
-- role, (select auth.uid()), an index on the policy column. ensure_rls has already enabled RLS on it.
CREATE TABLE public.wallets (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner uuid NOT NULL DEFAULT auth.uid(),
  label text NOT NULL
);
CREATE INDEX wallets_owner_idx ON public.wallets (owner);
CREATE POLICY wallets_select_own ON public.wallets FOR SELECT TO authenticated USING ((SELECT auth.uid()) = owner);
CREATE POLICY wallets_insert_own ON public.wallets FOR INSERT TO authenticated WITH CHECK ((SELECT auth.uid()) = owner);
CREATE POLICY wallets_update_own ON public.wallets FOR UPDATE TO authenticated USING ((SELECT auth.uid()) = owner) WITH CHECK ((SELECT auth.uid()) = owner);
CREATE POLICY wallets_delete_own ON public.wallets FOR DELETE TO authenticated USING ((SELECT auth.uid()) = owner);

SELECT plan(14);
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'public.wallets'::regclass), 'wallets has RLS enabled');

-- Alice
SELECT set_config('request.jwt.claims', '{"sub":"11111111-1111-4111-8111-111111111111","role":"authenticated"}', true);
SET LOCAL ROLE authenticated;
SELECT lives_ok($$INSERT INTO public.wallets (label) VALUES ('alice-1'), ('alice-2')$$, 'alice inserts her own rows');
SELECT results_eq('SELECT count(*)::int FROM public.wallets', ARRAY[2], 'alice sees her two rows');
SELECT throws_ok($$INSERT INTO public.wallets (owner, label) VALUES ('22222222-2222-4222-8222-222222222222', 'forged')$$, '42501', NULL, 'alice cannot insert a row owned by bob');
RESET ROLE;

-- Bob
SELECT set_config('request.jwt.claims', '{"sub":"22222222-2222-4222-8222-222222222222","role":"authenticated"}', true);
SET LOCAL ROLE authenticated;
SELECT lives_ok($$INSERT INTO public.wallets (label) VALUES ('bob-1')$$, 'bob inserts his own row');
SELECT results_eq('SELECT label FROM public.wallets', ARRAY['bob-1'], 'bob sees only his row');
SELECT is_empty($$UPDATE public.wallets SET label = 'stolen' WHERE label = 'alice-1' RETURNING id$$, 'bob cannot update alice''s row');
SELECT is_empty($$DELETE FROM public.wallets WHERE label LIKE 'alice%' RETURNING id$$, 'bob cannot delete alice''s rows');
SELECT throws_ok($$UPDATE public.wallets SET owner = '11111111-1111-4111-8111-111111111111' WHERE label = 'bob-1'$$, '42501', NULL, 'bob cannot hand his row to alice');
RESET ROLE;

-- anon
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SET LOCAL ROLE anon;
SELECT is_empty('SELECT * FROM public.wallets', 'anon reads nothing');
SELECT throws_ok($$INSERT INTO public.wallets (owner, label) VALUES ('11111111-1111-4111-8111-111111111111', 'anon')$$, '42501', NULL, 'anon cannot write');
RESET ROLE;

-- service_role
SELECT set_config('request.jwt.claims', '{"role":"service_role"}', true);
SET LOCAL ROLE service_role;
SELECT results_eq('SELECT count(*)::int FROM public.wallets', ARRAY[3], 'service_role sees every row');
RESET ROLE;

SELECT results_eq($$SELECT label FROM public.wallets WHERE owner = '11111111-1111-4111-8111-111111111111' ORDER BY label$$, ARRAY['alice-1', 'alice-2'], 'alice''s rows are untouched');
SELECT results_eq($$SELECT label FROM public.wallets WHERE owner = '22222222-2222-4222-8222-222222222222'$$, ARRAY['bob-1'], 'bob''s row is still his');

SELECT * FROM finish();
ROLLBACK;
