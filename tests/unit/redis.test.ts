// The redis chart: redis.conf from the environment, the password handed over on stdin, and
// the StatefulSet.
import { describe, expect, it } from 'vitest';
import { maxmemoryBytes, redisConf } from '../../charts/redis/config';
import { parseEnvironment } from '../../environments/schema';
import { staging } from '../../environments/staging';
import { configMapData, objectsOf } from '../helpers';

describe('redis.conf', () => {
  const env = parseEnvironment(staging);
  const conf = redisConf(env.components.redis);
  const directives = conf.split('\n').filter((l) => l && !l.startsWith('#'));

  it('sets maxmemory to the configured share of the memory limit', () => {
    expect(maxmemoryBytes({ resources: env.components.redis.resources, maxmemoryPercent: 70 })).toBe(Math.floor(512 * 2 ** 20 * 0.7));
    expect(directives).toContain(`maxmemory ${Math.floor(512 * 2 ** 20 * 0.7)}`);
    expect(directives).toContain('maxmemory-policy noeviction');
  });

  it('persists with AOF every second and RDB, and disables the commands that wipe data', () => {
    expect(directives).toEqual(expect.arrayContaining(['appendonly yes', 'appendfsync everysec', 'no-appendfsync-on-rewrite no', 'rename-command FLUSHALL ""', 'rename-command FLUSHDB ""']));
  });

  it('holds no password and no trailing comments (Redis rejects them)', () => {
    expect(conf).not.toMatch(/requirepass/);
    expect(directives.every((d) => !d.includes(' # '))).toBe(true);
  });
});

describe('redis chart', () => {
  const sts = objectsOf('dev').find((l) => l.object.kind === 'StatefulSet' && l.object.metadata.name === 'redis')!.object as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const container = sts.spec.template.spec.containers[0];

  it('starts through start-redis.sh with the password from the Secret', () => {
    expect(container.command).toEqual(['sh', '/opt/redis-scripts/start-redis.sh', '/etc/redis/redis.conf']);
    expect(container.env.find((e: { name: string }) => e.name === 'REDIS_PASSWORD').valueFrom).toEqual({ secretKeyRef: { name: 'redis-credentials', key: 'redis-password' } });
    expect(configMapData('dev', 'redis-config')['start-redis.sh']).toContain('exec redis-server');
  });

  it('is ready only on PONG, alive while it accepts connections', () => {
    expect(container.readinessProbe.exec.command.join(' ')).toContain('= PONG');
    expect(container.livenessProbe.tcpSocket.port).toBe('redis');
  });
});
