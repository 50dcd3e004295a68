// The off-site copy, run as the sidecar runs it (offsite-copy.sh from the synthesised ConfigMap)
// with the real rclone against a local remote: verified backups, WAL (the growing .partial too)
// and Redis snapshots arrive, unfinished backups do not, and nothing copied is ever deleted.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SCRIPTS_CONFIG_MAP } from '../../charts/backup/backup-chart';
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
    spawnSync('sh', [script, '--once'], {
      encoding: 'utf8',
      env: { ...process.env, HOME: root, BACKUP_ROOT: backups, OFFSITE_REMOTE: `offsite:${remote}/staging`, RCLONE_CONFIG_OFFSITE_TYPE: 'local' },
    });
  const copied = (path: string) => join(remote, 'staging', path);

  it('copies verified backups, WAL and snapshots, and leaves unfinished ones behind', () => {
    file('base/20261127T020000Z/backup_manifest', '{"PostgreSQL-Backup-Manifest-Version": 1}');
    file('base/20261127T020000Z/base/1/1259', 'relation');
    file('base/.incomplete-20261128T020000Z/backup_manifest', 'half');
    file('wal/000000010000000000000002', 'segment');
    file('wal/000000010000000000000003.partial', 'partial-1');
    file('redis/20261127T021500Z.rdb', 'REDIS0011');
    file('dump/20261129T040000Z/toc.dat', 'toc');
    file('dump/.incomplete-20261130T040000Z/toc.dat', 'half');
    file('redis/.incomplete-20261127T023000Z.rdb', 'half');
    file('status/last-base-backup', '1764208800 20261127T020000Z');

    const run = copy();
    expect(run.status, run.stderr).toBe(0);
    for (const path of ['base/20261127T020000Z/backup_manifest', 'base/20261127T020000Z/base/1/1259', 'wal/000000010000000000000002', 'wal/000000010000000000000003.partial', 'redis/20261127T021500Z.rdb', 'dump/20261129T040000Z/toc.dat', 'status/last-base-backup']) {
      expect(readFileSync(copied(path), 'utf8'), path).toBe(readFileSync(join(backups, path), 'utf8'));
    }
    expect(existsSync(copied('base/.incomplete-20261128T020000Z'))).toBe(false);
    expect(existsSync(copied('redis/.incomplete-20261127T023000Z.rdb'))).toBe(false);
    expect(existsSync(copied('dump/.incomplete-20261130T040000Z'))).toBe(false);
  });

  it('follows the growing WAL segment and never deletes what it copied', () => {
    appendFileSync(join(backups, 'wal/000000010000000000000003.partial'), '+more');
    rmSync(join(backups, 'redis/20261127T021500Z.rdb'));
    expect(copy().status).toBe(0);
    expect(readFileSync(copied('wal/000000010000000000000003.partial'), 'utf8')).toBe('partial-1+more');
    expect(existsSync(copied('redis/20261127T021500Z.rdb'))).toBe(true);
  });

  it('fails when the remote cannot be written (so the sidecar retries and its probe goes stale)', () => {
    const run = spawnSync('sh', [script, '--once'], {
      encoding: 'utf8',
      env: { ...process.env, HOME: root, BACKUP_ROOT: backups, OFFSITE_REMOTE: 'nowhere:bucket', RCLONE_CONFIG_OFFSITE_TYPE: 'local' },
    });
    expect(run.status).not.toBe(0);
  });
});
