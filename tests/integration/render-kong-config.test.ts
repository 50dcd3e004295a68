// render-kong-config.sh, run by /bin/sh on the exact template the gateway ships: fills every
// placeholder from the environment and refuses empty or unsafe values.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PLACEHOLDERS } from '../../charts/gateway/kong-config';
import { configMapData } from '../helpers';

const files = configMapData('staging', 'kong-config');
const dir = mkdtempSync(join(tmpdir(), 'kong-render-'));
writeFileSync(join(dir, 'render.sh'), files['render-kong-config.sh']!);
writeFileSync(join(dir, 'kong.yml'), files['kong.yml']!);
const VALUES: Record<string, string> = {
  SUPABASE_ANON_KEY: 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl',
  SUPABASE_SERVICE_KEY: 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2ln-_',
  DASHBOARD_USERNAME: 'supabase',
  DASHBOARD_PASSWORD: 'test-dashboard-password',
  REDIS_PASSWORD: 'test-redis-password',
  LOADTEST_KEY: 'test-loadtest-key',
};
const render = (env: Record<string, string>) =>
  spawnSync('sh', [join(dir, 'render.sh'), join(dir, 'kong.yml'), join(dir, 'out.yml'), ...PLACEHOLDERS], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('render-kong-config.sh', () => {
  it('fills every placeholder and keeps valid YAML', () => {
    const run = render(VALUES);
    expect(run.status, run.stderr).toBe(0);
    const out = readFileSync(join(dir, 'out.yml'), 'utf8');
    expect(out).not.toContain('${');
    const config = parse(out) as { consumers: { username: string; keyauth_credentials?: { key: string }[] }[] };
    expect(config.consumers.find((c) => c.username === 'anon')!.keyauth_credentials![0]!.key).toBe(VALUES.SUPABASE_ANON_KEY);
    expect(out).toContain(`password: ${VALUES.REDIS_PASSWORD}`);
  });

  it('refuses an empty value, naming it', () => {
    const run = render({ ...VALUES, REDIS_PASSWORD: '' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('REDIS_PASSWORD is empty');
  });

  it('refuses a value that could break the YAML', () => {
    const run = render({ ...VALUES, DASHBOARD_PASSWORD: 'a: b' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('DASHBOARD_PASSWORD may only contain');
  });

  it('refuses to leave a placeholder unfilled', () => {
    const run = spawnSync('sh', [join(dir, 'render.sh'), join(dir, 'kong.yml'), join(dir, 'partial.yml'), 'SUPABASE_ANON_KEY'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...VALUES },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/unfilled placeholders: .*\$\{REDIS_PASSWORD\}/);
  });
});
