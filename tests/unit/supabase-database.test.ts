// The Supabase services' database connections: every one over TLS with the server verified where
// the service can (the CA mounted or passed), and Realtime's seeded tenant switched to TLS by its
// start command, whose shell quoting is run by a real sh with stand-ins for the image's programs.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REALTIME_TENANT_TLS } from '../../charts/supabase/realtime';
import { find } from '../helpers';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const container = (name: string) => find<Obj>('production', 'Deployment', name).spec.template.spec.containers[0];
const env = (name: string) => Object.fromEntries(container(name).env.map((e: Obj) => [e.name, e.value ?? e.valueFrom]));

describe('Supabase services reach the database over TLS', () => {
  it('verifies the server in Auth, PostgREST and Storage URLs, with the CA mounted', () => {
    for (const [name, variable] of [
      ['auth', 'GOTRUE_DB_DATABASE_URL'],
      ['rest', 'PGRST_DB_URI'],
      ['storage', 'DATABASE_URL'],
    ] as const) {
      expect(env(name)[variable], name).toMatch(
        /^postgres:\/\/[a-z_]+:\$\(DB_PASSWORD\)@postgres-rw\.supabase\.svc\.cluster\.local:5432\/postgres\?sslmode=verify-full&sslrootcert=\/etc\/postgres-ca\/ca\.crt$/,
      );
      expect(container(name).volumeMounts.some((m: Obj) => m.mountPath === '/etc/postgres-ca')).toBe(true);
    }
    expect(env('realtime')).toMatchObject({ DB_SSL: 'true', DB_SSL_CA_CERT: '/etc/postgres-ca/ca.crt' });
    expect(env('meta')).toMatchObject({
      PG_META_DB_SSL_MODE: 'verify-full',
      PG_META_DB_SSL_ROOT_CERT: { secretKeyRef: { name: 'postgres-server-tls', key: 'ca.crt' } },
    });
  });

  describe("Realtime's start command", () => {
    const dir = mkdtempSync(join(tmpdir(), 'realtime-start-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, 'calls');
    for (const program of ['migrate', 'realtime', 'server']) {
      writeFileSync(join(dir, program), `#!/bin/sh\nprintf '%s\\n' "${program}" >> "${log}"\nfor a in "$@"; do printf '  [%s]\\n' "$a" >> "${log}"; done\n`);
      chmodSync(join(dir, program), 0o755);
    }
    const command: string[] = container('realtime').command;

    it('migrates, seeds, switches the tenant to TLS with one intact Elixir argument, then serves', () => {
      expect(command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
      const run = spawnSync('sh', ['-c', command[2]!.replaceAll('/app/bin/', `${dir}/`)], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const calls = readFileSync(log, 'utf8');
      const elixir = `Ecto.Migrator.with_repo(Realtime.Repo, fn repo -> repo.query!("${REALTIME_TENANT_TLS.sql}", [${REALTIME_TENANT_TLS.params.join(', ')}]) end)`;
      expect(calls).toBe(
        ['migrate', 'realtime', '  [eval]', '  [Realtime.Release.seeds(Realtime.Repo)]', 'realtime', '  [eval]', `  [${elixir}]`, 'server', ''].join('\n'),
      );
    });
  });
});
