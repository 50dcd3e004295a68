// Redis with the exact redis.conf and start script the redis chart ships, for every
// environment: the data directory moved into a temporary folder, and on the command line only
// a free loopback port. Proves AOF, maxmemory and its policy, disabled commands, the password,
// and that data written survives a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISABLED_COMMANDS, isReplicated, maxmemoryBytes, REDIS_DATA_DIR } from '../../charts/redis/config';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { configMapData, environment } from '../helpers';
import { asUser, chownTree, freePort, run, tempDirFor, userExists } from '../../harness/processes';
import { describeNeeding, program } from './tools';

const OS_USER = userExists('redis') ? 'redis' : 'nobody';
const PASSWORD = 'test0123456789abcdef';

describeNeeding([program('redis-server', 'redis-server'), program('redis-cli', 'redis-tools')], 'Redis 7 with the generated configuration', () => {
  describe.each(ENVIRONMENT_NAMES)('%s', (envName) => {
    const env = environment(envName);
    const files = configMapData(envName, 'redis-config');
    let root = '';
    let port = 0;
    let server: ChildProcess | undefined;
    const cli = (args: string[], auth = true) =>
      run(OS_USER, 'redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], auth ? { REDISCLI_AUTH: PASSWORD } : { REDISCLI_AUTH: '' });

    const start = async () => {
      // One instance here: with replicas (staging, production) min-replicas-to-write would refuse
      // every write, so it is lifted; replication itself is tested in redis-failover.test.ts.
      const alone = isReplicated(env.components.redis) ? ['--min-replicas-to-write', '0'] : [];
      const [cmd, argv] = asUser(OS_USER, 'sh', [
        join(root, 'start-redis.sh'),
        join(root, 'redis.conf'),
        ...alone,
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
      ]);
      server = spawn(cmd, argv, { env: { ...process.env, REDIS_PASSWORD: PASSWORD }, stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        if (cli(['ping']).stdout.trim() === 'PONG') return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('redis did not answer PONG');
    };
    const stop = async () => {
      cli(['shutdown']);
      await new Promise<void>((r) => (server?.exitCode !== null ? r() : server.once('exit', () => r())));
    };

    beforeAll(async () => {
      root = tempDirFor(OS_USER, `redis-${envName}-`);
      port = await freePort();
      writeFileSync(join(root, 'redis.conf'), files['redis.conf']!.replaceAll(`dir ${REDIS_DATA_DIR}`, `dir ${root}`));
      writeFileSync(join(root, 'start-redis.sh'), files['start-redis.sh']!);
      chownTree(root, OS_USER);
      await start();
    });
    afterAll(async () => {
      if (server && server.exitCode === null) await stop();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it('requires the password', () => {
      expect(cli(['ping'], false).stdout).toContain('NOAUTH');
      const wrong = run(OS_USER, 'redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { REDISCLI_AUTH: 'wrong' });
      expect(wrong.stdout + wrong.stderr).toMatch(/WRONGPASS/);
      expect(wrong.stdout).not.toContain('PONG');
      expect(cli(['ping']).stdout.trim()).toBe('PONG');
    });

    it('keeps an append-only file, fsynced every second, and RDB snapshots', () => {
      expect(cli(['config', 'get', 'appendonly']).stdout).toMatch(/appendonly\s+yes/);
      expect(cli(['config', 'get', 'appendfsync']).stdout).toMatch(/appendfsync\s+everysec/);
      expect(cli(['config', 'get', 'save']).stdout).toMatch(/save\s+3600 1 300 100 60 10000/);
      expect(cli(['info', 'persistence']).stdout).toContain('aof_enabled:1');
    });

    it('uses the maxmemory and policy the environment gives', () => {
      const expected = maxmemoryBytes(env.components.redis);
      expect(cli(['config', 'get', 'maxmemory']).stdout.split('\n')[1]?.trim()).toBe(String(expected));
      expect(cli(['config', 'get', 'maxmemory-policy']).stdout.split('\n')[1]?.trim()).toBe(env.components.redis.maxmemoryPolicy);
    });

    it.each(DISABLED_COMMANDS)('refuses %s', (command) => {
      expect(cli([command]).stdout).toMatch(/unknown command/i);
    });

    it('keeps data across a restart', async () => {
      expect(cli(['set', 'probe', envName]).stdout.trim()).toBe('OK');
      await stop();
      expect(existsSync(join(root, 'appendonlydir'))).toBe(true);
      await start();
      expect(cli(['get', 'probe']).stdout.trim()).toBe(envName);
    });
  });

  it('refuses to start without a password', () => {
    const result = run(OS_USER, 'sh', [join(__dirname, '../../charts/redis/files/start-redis.sh'), '/nonexistent.conf'], { REDIS_PASSWORD: '' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('REDIS_PASSWORD is empty');
  });
});
