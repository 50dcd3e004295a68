// The Redis backup, run as the CronJob runs it: redis-backup.sh from the synthesised ConfigMap,
// against a real Redis 7 started with the generated configuration and password, with the env the
// CronJob sets (with redis-load-check.sh beside it). The snapshot is then loaded into a second, empty Redis (AOF off, the restore
// procedure of docs/runbooks/backup.md), which must hold every key with its value and TTL.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDIS_DATA_DIR } from '../../charts/redis/config';
import { configMapData } from '../helpers';
import { asUser, chownTree, freePort, run, tempDirFor, userExists } from '../../harness/processes';
import { describeNeeding, program } from './tools';

const OS_USER = userExists('redis') ? 'redis' : 'nobody';
const PASSWORD = 'backup-test-password';
// production's redis.conf, run here as one instance: without replicas its min-replicas-to-write
// would refuse every write. The backup from a replica has its own test below.
const ALONE = ['--min-replicas-to-write', '0'];

describeNeeding(
  [program('redis-server', 'redis-server'), program('redis-cli', 'redis-tools'), program('redis-check-rdb', 'redis-server')],
  'Redis backup round trip',
  () => {
    let root = '';
    const servers: ChildProcess[] = [];
    const ports: number[] = [];
    const cli = (port: number, args: string[]) => run(OS_USER, 'redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { REDISCLI_AUTH: PASSWORD });
    const waitFor = async (port: number) => {
      for (let i = 0; i < 100; i++) {
        if (cli(port, ['ping']).stdout.trim() === 'PONG') return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`redis on ${port} did not answer`);
    };
    const backup = (port: number, keep: number | string, env: NodeJS.ProcessEnv = {}) =>
      run(OS_USER, 'sh', [join(root, 'redis-backup.sh')], {
        REDISCLI_AUTH: PASSWORD,
        REDIS_HOSTS: `127.0.0.1:${port}`,
        BACKUP_ROOT: join(root, 'backups'),
        REDIS_RETAIN_COUNT: String(keep),
        ...env,
      });
    const snapshots = () =>
      readdirSync(join(root, 'backups/redis'))
        .filter((f) => f.endsWith('.rdb'))
        .sort();
    let source = 0;
    /** The source Redis, as production starts it (start-redis.sh, its redis.conf, the password in its env), on `source`. */
    const startSource = async () => {
      const [cmd, argv] = asUser(OS_USER, 'sh', [
        join(root, 'start-redis.sh'),
        join(root, 'redis.conf'),
        ...ALONE,
        '--port',
        String(source),
        '--bind',
        '127.0.0.1',
      ]);
      servers.push(spawn(cmd, argv, { env: { ...process.env, REDIS_PASSWORD: PASSWORD }, stdio: 'ignore' }));
      await waitFor(source);
    };

    beforeAll(async () => {
      root = tempDirFor(OS_USER, 'redis-backup-');
      const files = configMapData('production', 'redis-config');
      writeFileSync(join(root, 'redis.conf'), files['redis.conf']!.replaceAll(`dir ${REDIS_DATA_DIR}`, `dir ${join(root, 'data')}`));
      writeFileSync(join(root, 'start-redis.sh'), files['start-redis.sh']!);
      const scripts = configMapData('production', 'backup-scripts');
      writeFileSync(join(root, 'redis-backup.sh'), scripts['redis-backup.sh']!);
      writeFileSync(join(root, 'restore-redis.sh'), scripts['restore-redis.sh']!);
      writeFileSync(join(root, 'redis-load-check.sh'), scripts['redis-load-check.sh']!);
      // A redis-cli that appends bytes to what --rdb receives: a snapshot redis-check-rdb passes
      // and a restored Redis refuses to load as its AOF base.
      mkdirSync(join(root, 'trailing-bin'));
      writeFileSync(
        join(root, 'trailing-bin/redis-cli'),
        `#!/bin/sh\nout=''\nprev=''\nfor a in "$@"; do [ "$prev" = --rdb ] && out=$a; prev=$a; done\n${spawnSync('sh', ['-c', 'command -v redis-cli'], { encoding: 'utf8' }).stdout.trim()} "$@" || exit\n[ -z "$out" ] || printf 'trailing' >>"$out"\n`,
        { mode: 0o755 },
      );
      run('root', 'mkdir', ['-p', join(root, 'data'), join(root, 'restore')]);
      chownTree(root, OS_USER);
      source = await freePort();
      ports.push(source);
      await startSource();
    }, 30_000);

    afterAll(() => {
      // runuser does not pass signals on to redis-server: ask each server to stop.
      for (const port of ports) cli(port, ['shutdown', 'nosave']);
      for (const s of servers) if (s.exitCode === null) s.kill('SIGKILL');
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it('snapshots every key, and a fresh Redis loaded from the snapshot holds them all', async () => {
      const expected: Record<string, string> = {};
      for (let i = 0; i < 500; i++) expected[`price:${i}`] = String(i * 1.5);
      // One redis-cli for all writes (a process per key would take most of a minute).
      const load = run(
        OS_USER,
        'redis-cli',
        ['-h', '127.0.0.1', '-p', String(source)],
        { REDISCLI_AUTH: PASSWORD },
        Object.entries(expected)
          .map(([k, v]) => `SET ${k} ${v}`)
          .join('\n'),
      );
      expect(load.status, load.stderr).toBe(0);
      cli(source, ['hset', 'pool:eth-usdc', 'reserve0', '1000', 'reserve1', '2500000']);
      cli(source, ['rpush', 'jobs:settle', 'tx1', 'tx2', 'tx3']);
      cli(source, ['set', 'session:abc', 'alive', 'EX', '3600']);

      const result = backup(source, 3);
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/verified \(\d+ bytes\)/);
      expect(snapshots()).toHaveLength(1);
      expect(existsSync(join(root, 'backups/status/last-redis-backup'))).toBe(true);

      // Restore as the runbook says: AOF off, the snapshot as dump file, then start.
      const restorePort = await freePort();
      ports.push(restorePort);
      run(OS_USER, 'cp', [join(root, 'backups/redis', snapshots()[0]!), join(root, 'restore/dump.rdb')]);
      const [cmd, argv] = asUser(OS_USER, 'redis-server', [
        '--port',
        String(restorePort),
        '--bind',
        '127.0.0.1',
        '--dir',
        join(root, 'restore'),
        '--dbfilename',
        'dump.rdb',
        '--appendonly',
        'no',
        '--save',
        '',
        '--requirepass',
        PASSWORD,
      ]);
      servers.push(spawn(cmd, argv, { stdio: 'ignore' }));
      await waitFor(restorePort);

      expect(cli(restorePort, ['dbsize']).stdout.trim()).toBe(cli(source, ['dbsize']).stdout.trim());
      const keys = Object.keys(expected);
      expect(
        cli(restorePort, ['mget', ...keys])
          .stdout.trim()
          .split('\n'),
      ).toEqual(keys.map((k) => expected[k]));
      expect(cli(restorePort, ['hgetall', 'pool:eth-usdc']).stdout.trim().split('\n')).toEqual(['reserve0', '1000', 'reserve1', '2500000']);
      expect(cli(restorePort, ['lrange', 'jobs:settle', '0', '-1']).stdout.trim().split('\n')).toEqual(['tx1', 'tx2', 'tx3']);
      expect(Number(cli(restorePort, ['ttl', 'session:abc']).stdout.trim())).toBeGreaterThan(3500);
    }, 60_000);

    it('restores a snapshot into the data directory of a stopped Redis, which then starts with its own configuration (AOF on)', async () => {
      const before = cli(source, ['dbsize']).stdout.trim();
      expect(backup(source, 5).status).toBe(0);
      cli(source, ['set', 'written:after-the-snapshot', 'x']);
      const restoreEnv = { REDIS_DATA: join(root, 'data'), BACKUP_ROOT: join(root, 'backups') };

      // Stopped Redis, data present: refused without the flag, untouched.
      cli(source, ['shutdown']);
      await new Promise((r) => setTimeout(r, 500));
      const refused = run(OS_USER, 'sh', [join(root, 'restore-redis.sh')], restoreEnv);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/holds data .*set RESTORE_FORCE=true to move it aside/);
      expect(existsSync(join(root, 'data/appendonlydir'))).toBe(true);

      // What an interrupted restore left beside the data: removed, the data itself moved aside.
      run(OS_USER, 'mkdir', ['-p', join(root, 'data/.restore-staging-20200101T000000Z/appendonlydir')]);
      const restored = run(OS_USER, 'sh', [join(root, 'restore-redis.sh')], { ...restoreEnv, RESTORE_FORCE: 'true' });
      expect(restored.status, restored.stderr).toBe(0);
      expect(restored.stdout).toContain('.restore-staging-20200101T000000Z, left by an interrupted restore');
      expect(readdirSync(join(root, 'data')).filter((f) => f.startsWith('.restore-staging-'))).toEqual([]);
      expect(readdirSync(join(root, 'data')).some((f) => f.startsWith('before-restore-'))).toBe(true);

      await startSource();
      expect(cli(source, ['config', 'get', 'appendonly']).stdout).toMatch(/appendonly\s+yes/);
      expect(cli(source, ['dbsize']).stdout.trim()).toBe(before);
      expect(cli(source, ['exists', 'written:after-the-snapshot']).stdout.trim()).toBe('0');
      expect(cli(source, ['get', 'price:10']).stdout.trim()).toBe('15');
    }, 60_000);

    it('refuses a snapshot with trailing bytes, which redis-check-rdb passes and Redis will not load as its AOF base; the data directory is untouched', () => {
      const good = join(root, 'backups/redis', snapshots().at(-1)!);
      const bad = join(root, 'backups/redis/29991231T235958Z.rdb');
      writeFileSync(bad, Buffer.concat([readFileSync(good), Buffer.from('trailing')]));
      chownTree(join(root, 'backups'), OS_USER);
      expect(run(OS_USER, 'redis-check-rdb', [bad]).stdout).toMatch(/RDB looks OK/);
      const before = readdirSync(join(root, 'data')).sort();
      const manifest = readFileSync(join(root, 'data/appendonlydir/appendonly.aof.manifest'), 'utf8');
      const refused = run(OS_USER, 'sh', [join(root, 'restore-redis.sh')], {
        REDIS_DATA: join(root, 'data'),
        BACKUP_ROOT: join(root, 'backups'),
        RESTORE_FORCE: 'true',
      });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/Bad file format reading the append only file/);
      expect(refused.stderr).toContain('did not load snapshot 29991231T235958Z.rdb: restore refused');
      expect(readdirSync(join(root, 'data')).sort()).toEqual(before);
      expect(readFileSync(join(root, 'data/appendonlydir/appendonly.aof.manifest'), 'utf8')).toBe(manifest);
      rmSync(bad);
    });

    it('does not keep a snapshot that a scratch Redis will not load, and deletes nothing', () => {
      const before = snapshots();
      const out = backup(source, 1, { PATH: `${join(root, 'trailing-bin')}:${process.env.PATH}` });
      expect(out.status, out.stdout + out.stderr).toBe(1);
      expect(out.stderr).toMatch(/Bad file format reading the append only file/);
      expect(out.stderr).toContain('a scratch redis-server did not load the snapshot, not kept');
      expect(snapshots()).toEqual(before);
      expect(readdirSync(join(root, 'backups/redis')).filter((f) => f.startsWith('.'))).toEqual([]);
    });

    it.each(['0', '-1', '', 'two'])('refuses retain count %j before taking or deleting anything', (keep) => {
      const before = snapshots();
      const out = backup(source, keep);
      expect(out.status).not.toBe(0);
      expect(out.stderr).toMatch(keep === '' ? /REDIS_RETAIN_COUNT/ : /REDIS_RETAIN_COUNT is '.*': it must be a whole number of at least 1/);
      expect(snapshots()).toEqual(before);
    });

    it('refuses a snapshot that fails redis-check-rdb', () => {
      writeFileSync(join(root, 'backups/redis/29991231T235959Z.rdb'), 'REDIS0011 not really');
      chownTree(join(root, 'backups'), OS_USER);
      const refused = run(OS_USER, 'sh', [join(root, 'restore-redis.sh')], {
        REDIS_DATA: join(root, 'restore'),
        BACKUP_ROOT: join(root, 'backups'),
        RESTORE_FORCE: 'true',
      });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('snapshot 29991231T235959Z.rdb failed redis-check-rdb: restore refused');
      rmSync(join(root, 'backups/redis/29991231T235959Z.rdb'));
    });

    it('removes what a run killed mid-way left behind, and nothing else', () => {
      const folder = join(root, 'backups/redis');
      const before = snapshots();
      writeFileSync(join(folder, '.incomplete-20200101T000000Z.rdb'), 'half a snapshot');
      mkdirSync(join(folder, '.check-20200101T000000Z/appendonlydir'), { recursive: true });
      chownTree(join(root, 'backups'), OS_USER);
      const out = backup(source, 10);
      expect(out.status, out.stderr).toBe(0);
      expect(out.stdout).toContain('.incomplete-20200101T000000Z.rdb, left by an interrupted run');
      expect(readdirSync(folder).filter((f) => f.startsWith('.'))).toEqual([]);
      expect(snapshots()).toEqual(expect.arrayContaining(before));
      expect(snapshots()).toHaveLength(before.length + 1);
    }, 30_000);

    it('keeps only the newest snapshots', async () => {
      for (let i = 0; i < 2; i++) {
        await new Promise((r) => setTimeout(r, 1100)); // names have one-second resolution
        expect(backup(source, 2).status).toBe(0);
      }
      const kept = snapshots();
      expect(kept).toHaveLength(2);
      expect(kept.every((f) => /^\d{8}T\d{6}Z\.rdb$/.test(f))).toBe(true);
      // Keeping 1: the snapshot just taken, and only it.
      await new Promise((r) => setTimeout(r, 1100));
      const last = backup(source, 1);
      expect(last.status, last.stderr).toBe(0);
      const stamp = /into .*\/(\d{8}T\d{6}Z\.rdb)/.exec(last.stdout)?.[1];
      expect(snapshots()).toEqual([stamp]);
    }, 60_000);
    it('takes the snapshot from a replica in sync, and refuses rather than fork the primary when none is', async () => {
      // A replica of the source, started as the StatefulSet's replicas are (the shipped config; its primary on the command line).
      const replica = await freePort();
      ports.push(replica);
      run('root', 'mkdir', ['-p', join(root, 'replica')]);
      chownTree(join(root, 'replica'), OS_USER);
      const [cmd, argv] = asUser(OS_USER, 'sh', [
        join(root, 'start-redis.sh'),
        join(root, 'redis.conf'),
        '--port',
        String(replica),
        '--bind',
        '127.0.0.1',
        '--dir',
        join(root, 'replica'),
        '--replicaof',
        '127.0.0.1',
        String(source),
        '--masterauth',
        PASSWORD,
      ]);
      servers.push(spawn(cmd, argv, { env: { ...process.env, REDIS_PASSWORD: PASSWORD }, stdio: 'ignore' }));
      await waitFor(replica);
      for (let i = 0; i < 100 && !cli(replica, ['info', 'replication']).stdout.includes('master_link_status:up'); i++)
        await new Promise((r) => setTimeout(r, 100));
      cli(source, ['set', 'written:before-the-replica-snapshot', 'yes']);
      await new Promise((r) => setTimeout(r, 300));
      const both = `127.0.0.1:${source} 127.0.0.1:${replica}`;

      // Full syncs each server served: redis-cli --rdb is one, on whichever server it asks.
      const fullSyncs = (port: number) => Number(/sync_full:(\d+)/.exec(cli(port, ['info', 'stats']).stdout)?.[1]);
      const [sourceBefore, replicaBefore] = [fullSyncs(source), fullSyncs(replica)];
      const taken = backup(source, 10, { REDIS_HOSTS: both });
      expect(taken.status, taken.stderr).toBe(0);
      expect(taken.stdout).toContain(`snapshot of 127.0.0.1:${replica} into`);
      expect(fullSyncs(source)).toBe(sourceBefore);
      expect(fullSyncs(replica)).toBe(replicaBefore + 1);

      // The replica loses its primary: no snapshot, nothing deleted, a message that says why.
      const before = snapshots();
      cli(replica, ['replicaof', '127.0.0.1', String(await freePort())]);
      const refused = backup(source, 1, { REDIS_HOSTS: both });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('no replica of');
      expect(refused.stderr).toContain('the primary is never forked');
      expect(snapshots()).toEqual(before);
    }, 60_000);
  },
);
