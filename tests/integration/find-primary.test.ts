// find-primary.sh as the start scripts source it, with a stand-in redis-cli that answers SENTINEL
// MASTER in full, cut short (as when `timeout` kills it mid-reply on a busy node), or not at all.
// A reply without the replica count must count as no answer: read as "no replicas", it would let
// a restarted primary come back as the primary with less data than its replicas.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configMapData } from '../helpers';

const FULL = [
  'name',
  'platform',
  'ip',
  'redis-1.example',
  'port',
  '6379',
  'runid',
  'abc',
  'flags',
  'master',
  'config-epoch',
  '7',
  'num-slaves',
  '2',
  'num-other-sentinels',
  '2',
];

describe('find-primary.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'find-primary-'));
  writeFileSync(join(dir, 'find-primary.sh'), configMapData('production', 'redis-config')['find-primary.sh']!);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A redis-cli that prints the given lines for the Sentinel on port 1, and fails for any other.
  const ask = (lines: string[]) => {
    writeFileSync(
      join(dir, 'redis-cli'),
      `#!/bin/sh\ncase " $* " in *" -p 1 "*) printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} ;; *) exit 1 ;; esac\n`,
    );
    chmodSync(join(dir, 'redis-cli'), 0o755);
    return spawnSync('sh', ['-c', `. ${join(dir, 'find-primary.sh')} && primary_from_sentinels`], {
      encoding: 'utf8',
      env: { PATH: `${dir}:${process.env.PATH}`, REDIS_PASSWORD: 'p', SENTINEL_HOSTS: 'sentinel-a:1 sentinel-b:2', REDIS_PRIMARY_NAME: 'platform' },
    });
  };

  it('names the primary, its port and its replica count from a full answer', () => {
    const out = ask(FULL);
    expect(out.status).toBe(0);
    expect(out.stdout.trim()).toBe('redis-1.example 6379 2');
  });

  it.each([
    ['before the replica count', FULL.slice(0, 12)],
    ['inside the replica count', FULL.slice(0, 13)],
    ['before the configuration epoch', FULL.slice(0, 10)],
  ])('treats an answer cut short %s as no answer', (_, lines) => {
    const out = ask(lines);
    expect(out.status).toBe(1);
    expect(out.stdout.trim()).toBe('');
  });
});
