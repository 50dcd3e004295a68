// prepare-custom-config.sh, run by /bin/sh as the postgres chart ships it: copies the image's
// files, writes the pgsodium root key once, and refuses to replace a different key.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configMapData } from '../helpers';

const script = configMapData('production', 'postgres-config')['prepare-custom-config.sh']!;
const KEY = 'a'.repeat(64);
let dir = '';
const run = (key: string | undefined) =>
  spawnSync('sh', [join(dir, 'prepare.sh'), join(dir, 'image'), join(dir, 'volume')], { encoding: 'utf8', env: { PATH: process.env.PATH, ...(key === undefined ? {} : { PGSODIUM_ROOT_KEY: key }) } });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pg-custom-'));
  mkdirSync(join(dir, 'image/extension-custom-scripts'), { recursive: true });
  mkdirSync(join(dir, 'volume'));
  writeFileSync(join(dir, 'image/supautils.conf'), 'supautils.reserved_roles = x\n');
  writeFileSync(join(dir, 'image/extension-custom-scripts/after-create.sql'), 'select 1;\n');
  writeFileSync(join(dir, 'prepare.sh'), script);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('prepare-custom-config.sh', () => {
  it("copies the image's files and writes the key, readable only by its owner", () => {
    const result = run(KEY);
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(join(dir, 'volume/supautils.conf'), 'utf8')).toContain('reserved_roles');
    expect(existsSync(join(dir, 'volume/extension-custom-scripts/after-create.sql'))).toBe(true);
    expect(readFileSync(join(dir, 'volume/pgsodium_root.key'), 'utf8')).toBe(KEY);
    expect(statSync(join(dir, 'volume/pgsodium_root.key')).mode & 0o077).toBe(0);
  });

  it('starts again with the same key, and refreshes the image files', () => {
    expect(run(KEY).status).toBe(0);
    writeFileSync(join(dir, 'image/supautils.conf'), 'new version\n');
    expect(run(KEY).status).toBe(0);
    expect(readFileSync(join(dir, 'volume/supautils.conf'), 'utf8')).toBe('new version\n');
  });

  it('refuses to replace a different key already on the volume', () => {
    writeFileSync(join(dir, 'volume/pgsodium_root.key'), 'b'.repeat(64));
    const result = run(KEY);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('differs from the postgres-pgsodium Secret');
    expect(readFileSync(join(dir, 'volume/pgsodium_root.key'), 'utf8')).toBe('b'.repeat(64));
  });

  it.each([[undefined], [''], ['xyz'], ['A'.repeat(64)], ['a'.repeat(63)]])('refuses a malformed key %j', (key) => {
    const result = run(key);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/PGSODIUM_ROOT_KEY/);
    expect(existsSync(join(dir, 'volume/pgsodium_root.key'))).toBe(false);
  });
});
