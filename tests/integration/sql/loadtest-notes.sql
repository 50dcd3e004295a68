-- pgTAP: public.loadtest_notes as the SQL in tests/load/database.ts's header creates it, used the
-- way the database load test uses it through PostgREST (SET LOCAL ROLE to the JWT's role,
-- request.jwt.claims set to its claims): each user inserts, reads and deletes only its own rows,
-- a filter on other owners finds nothing, a row for another owner is refused, anon gets nothing.
-- Rolled back.
\set ON_ERROR_STOP on
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;

SELECT plan(16);
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'public.loadtest_notes'::regclass), 'loadtest_notes has RLS enabled');
SELECT is((SELECT count(*)::int FROM pg_policies WHERE schemaname = 'public' AND tablename = 'loadtest_notes'), 3, 'one policy each for select, insert and delete');

-- User A: writes two rows with the owner taken from the JWT, as the script does.
SELECT set_config('request.jwt.claims', '{"sub":"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa","role":"authenticated"}', true);
SET LOCAL ROLE authenticated;
SELECT lives_ok($$INSERT INTO public.loadtest_notes (run, body) VALUES ('run-1', 'a-1'), ('run-1', 'a-2')$$, 'user A inserts rows without naming the owner');
SELECT results_eq($$SELECT owner::text FROM public.loadtest_notes ORDER BY id$$, ARRAY['aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'], 'the rows belong to user A');
RESET ROLE;

-- User B
SELECT set_config('request.jwt.claims', '{"sub":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb","role":"authenticated"}', true);
SET LOCAL ROLE authenticated;
SELECT lives_ok($$INSERT INTO public.loadtest_notes (run, body) VALUES ('run-1', 'b-1')$$, 'user B inserts a row');
SELECT results_eq($$SELECT body FROM public.loadtest_notes ORDER BY id DESC LIMIT 20$$, ARRAY['b-1'], 'user B reads only its own row');
SELECT is_empty($$SELECT id FROM public.loadtest_notes WHERE owner <> 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' LIMIT 5$$, 'a filter on other owners finds nothing');
SELECT throws_ok($$INSERT INTO public.loadtest_notes (run, body, owner) VALUES ('run-1', 'forged', '00000000-0000-4000-8000-000000000000')$$, '42501', NULL, 'a row for another owner is refused');
SELECT is_empty($$DELETE FROM public.loadtest_notes WHERE body LIKE 'a-%' RETURNING id$$, 'user B cannot delete user A''s rows');
SELECT throws_ok($$UPDATE public.loadtest_notes SET body = 'changed'$$, '42501', NULL, 'nobody may update (the test never does)');
RESET ROLE;

SELECT set_config('request.jwt.claims', '{"sub":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb","role":"authenticated"}', true);
SET LOCAL ROLE authenticated;
SELECT isnt_empty($$DELETE FROM public.loadtest_notes WHERE body = 'b-1' RETURNING id$$, 'user B deletes its own row');
RESET ROLE;

-- anon: no grant at all.
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SET LOCAL ROLE anon;
SELECT throws_ok($$SELECT id FROM public.loadtest_notes$$, '42501', NULL, 'anon cannot read the table');
SELECT throws_ok($$INSERT INTO public.loadtest_notes (run, body, owner) VALUES ('run-1', 'anon', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa')$$, '42501', NULL, 'anon cannot write');
RESET ROLE;

SELECT results_eq($$SELECT body FROM public.loadtest_notes ORDER BY id$$, ARRAY['a-1', 'a-2'], 'user A''s rows are untouched, user B''s is gone');
SELECT throws_ok($$INSERT INTO public.loadtest_notes (run, body, owner) VALUES ('run-1', repeat('x', 1001), 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa')$$, '23514', NULL, 'bodies are bounded');
SELECT has_index('public', 'loadtest_notes', 'loadtest_notes_owner_idx', 'the policy column is indexed');

SELECT * FROM finish();
ROLLBACK;
