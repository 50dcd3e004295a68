// The off-site copy of Redis snapshots, run as the redis-backup CronJob runs it after each
// snapshot (the script from the synthesised ConfigMap) with the real rclone against a local
// remote: verified snapshots arrive, unfinished ones do not, nothing copied is ever deleted.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SCRIPTS_CONFIG_MAP } from '../../charts/backup/layout';
import { configMapData } from '../helpers';
import { describeNeeding, program } from './tools';

describeNeeding([program('rclone', 'rclone')], 'off-site copy with rclone', () => {
  const root = mkdtempSync(join(tmpdir(), 'offsite-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const backups = join(root, 'backups');
  const remote = join(root, 'bucket');
  const script = join(root, 'offsite-copy.sh');
  writeFileSync(script, configMapData('staging', SCRIPTS_CONFIG_MAP)['offsite-copy.sh']!);
  const file = (path: string, text: string) => {
    mkdirSync(join(backups, path, '..'), { recursive: true });
    writeFileSync(join(backups, path), text);
  };
  const copy = () =>
    spawnSync('sh', [script], {
      encoding: 'utf8',
      env: { ...process.env, HOME: root, BACKUP_ROOT: backups, OFFSITE_REMOTE: `offsite:${remote}/staging`, RCLONE_CONFIG_OFFSITE_TYPE: 'local' },
    });
  const copied = (path: string) => join(remote, 'staging', path);

  it('copies verified snapshots and the status, and leaves unfinished ones behind', () => {
    file('redis/20261127T021500Z.rdb', 'REDIS0011');
    file('redis/.incomplete-20261127T023000Z.rdb', 'half');
    file('status/last-redis-backup', '1764208800 20261127T021500Z.rdb');

    const run = copy();
    expect(run.status, run.stderr).toBe(0);
    for (const path of ['redis/20261127T021500Z.rdb', 'status/last-redis-backup']) {
      expect(readFileSync(copied(path), 'utf8'), path).toBe(readFileSync(join(backups, path), 'utf8'));
    }
    expect(existsSync(copied('redis/.incomplete-20261127T023000Z.rdb'))).toBe(false);
  });

  it('never deletes what it copied', () => {
    file('redis/20261127T031500Z.rdb', 'REDIS0011-newer');
    rmSync(join(backups, 'redis/20261127T021500Z.rdb'));
    expect(copy().status).toBe(0);
    expect(existsSync(copied('redis/20261127T021500Z.rdb'))).toBe(true);
    expect(readFileSync(copied('redis/20261127T031500Z.rdb'), 'utf8')).toBe('REDIS0011-newer');
  });

  it('fails when the remote cannot be written (so the Job fails and the CronJob alert fires)', () => {
    const run = spawnSync('sh', [script], {
      encoding: 'utf8',
      env: { ...process.env, HOME: root, BACKUP_ROOT: backups, OFFSITE_REMOTE: 'nowhere:bucket', RCLONE_CONFIG_OFFSITE_TYPE: 'local' },
    });
    expect(run.status).not.toBe(0);
  });
});
