// The sidecars beside the WAL streamer, run as they run there (scripts from the synthesised
// ConfigMap) with the real rclone: the off-site copy against a local remote (verified backups,
// WAL with the growing .partial, dumps and Redis snapshots arrive, unfinished ones do not, nothing
// copied is ever deleted), and the metrics server, whose output promtool must accept.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SCRIPTS_CONFIG_MAP } from '../../charts/backup/backup-chart';
import { configMapData } from '../helpers';
import { freePort } from './processes';
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

describeNeeding([program('rclone', 'rclone'), program('promtool', 'prometheus')], 'backup metrics server', () => {
  it('serves the last backups and the WAL stream\'s freshness in the exposition format', async () => {
    const root = mkdtempSync(join(tmpdir(), 'backup-metrics-'));
    const script = join(root, 'serve-metrics.sh');
    writeFileSync(script, configMapData('dev', SCRIPTS_CONFIG_MAP)['serve-metrics.sh']!);
    mkdirSync(join(root, 'status'));
    mkdirSync(join(root, 'wal'));
    writeFileSync(join(root, 'status/last-base-backup'), '1764208800 20261127T020000Z\n');
    writeFileSync(join(root, 'status/last-redis-backup'), '1764209700 20261127T021500Z.rdb\n');
    writeFileSync(join(root, 'wal/000000010000000000000003.partial'), 'wal');
    const port = await freePort();
    const server = spawn('sh', [script], { env: { ...process.env, HOME: root, BACKUP_ROOT: root, METRICS_PORT: String(port) }, detached: true, stdio: 'ignore' });
    try {
      let text = '';
      for (let i = 0; i < 50 && !text.includes('wal_last_segment'); i++) {
        await new Promise((r) => setTimeout(r, 200));
        text = await fetch(`http://127.0.0.1:${port}/backup.prom`).then((r) => (r.ok ? r.text() : ''), () => '');
      }
      expect(text).toContain('platform_backup_last_success_timestamp_seconds{kind="base"} 1764208800');
      expect(text).toContain('platform_backup_last_success_timestamp_seconds{kind="redis"} 1764209700');
      const wal = Number(/platform_backup_wal_last_segment_timestamp_seconds (\d+)/.exec(text)?.[1]);
      expect(Math.abs(wal - Date.now() / 1000)).toBeLessThan(120);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    } finally {
      process.kill(-server.pid!, 'SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  }, 30_000);
});
