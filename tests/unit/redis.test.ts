// The redis chart: redis.conf from the environment, the password handed over on stdin, and
// the StatefulSet.
import { describe, expect, it } from 'vitest';
import { maxmemoryBytes, redisConf } from '../../charts/redis/config';
import { parseEnvironment } from '../../environments/schema';
import { staging } from '../../environments/staging';
import { configMapData, find, tryFind } from '../helpers';

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
    expect(directives).toEqual(
      expect.arrayContaining([
        'appendonly yes',
        'appendfsync everysec',
        'no-appendfsync-on-rewrite no',
        'rename-command FLUSHALL ""',
        'rename-command FLUSHDB ""',
      ]),
    );
  });

  it('holds no password and no trailing comments (Redis rejects them)', () => {
    expect(conf).not.toMatch(/requirepass/);
    expect(directives.every((d) => !d.includes(' # '))).toBe(true);
  });
});

describe('redis chart', () => {
  const sts = find<Record<string, any>>('dev', 'StatefulSet', 'redis'); // eslint-disable-line @typescript-eslint/no-explicit-any
  const container = sts.spec.template.spec.containers[0];

  it('starts through start-redis.sh with the password from the Secret', () => {
    expect(container.command).toEqual(['sh', '/etc/redis/start-redis.sh', '/etc/redis/redis.conf']);
    expect(container.env.find((e: { name: string }) => e.name === 'REDIS_PASSWORD').valueFrom).toEqual({
      secretKeyRef: { name: 'redis-credentials', key: 'redis-password' },
    });
    expect(configMapData('dev', 'redis-config')['start-redis.sh']).toContain('exec redis-server');
  });

  it('is ready only on PONG, alive while it accepts connections', () => {
    expect(container.readinessProbe.exec.command.join(' ')).toContain('= PONG');
    expect(container.livenessProbe.tcpSocket.port).toBe('redis');
  });
});

// With replicas (staging, production): a primary, replicas and a Sentinel beside each, on
// separate nodes (and zones in production), HAProxy as the one address, backups from the instances.
describe.each(['staging', 'production'] as const)('%s: Redis with replicas', (envName) => {
  type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const sts = find<Obj>(envName, 'StatefulSet', 'redis');
  const pod = sts.spec.template.spec;
  const containers = Object.fromEntries(pod.containers.map((c: Obj) => [c.name, c]));
  const envOf = (c: Obj) => Object.fromEntries(c.env.filter((e: Obj) => 'value' in e).map((e: Obj) => [e.name, e.value]));
  const ns = sts.metadata.namespace;
  const hosts = (port: number) => [0, 1, 2].map((i) => `redis-${i}.redis-headless.${ns}.svc.cluster.local:${port}`);

  it('runs three instances, never two on one node, production one per zone', () => {
    expect(sts.spec.replicas).toBe(3);
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
    expect(pod.topologySpreadConstraints[0].whenUnsatisfiable).toBe(envName === 'production' ? 'DoNotSchedule' : 'ScheduleAnyway');
    expect(Object.keys(containers)).toEqual(['redis', 'exporter', 'sentinel', 'sentinel-exporter']);
    expect(find<Obj>(envName, 'PodDisruptionBudget', 'redis').spec.maxUnavailable).toBe(1);
  });

  it('has no Service that would send clients to a random instance; HAProxy is the address', () => {
    expect(tryFind(envName, 'Service', 'redis')).toBeUndefined();
    const proxy = find<Obj>(envName, 'Deployment', 'redis-primary');
    expect(proxy.spec.replicas).toBe(2);
    expect(proxy.spec.template.spec.containers[0].image).toMatch(/^docker\.io\/library\/haproxy:3\.0\.\d+-alpine$/);
    const cfg = configMapData(envName, 'redis-primary-config')['haproxy.cfg']!;
    for (const h of hosts(6379)) expect(cfg).toContain(` ${h}`);
    expect(cfg).toContain('tcp-check expect string role:master');
    expect(cfg).toContain('on-marked-down shutdown-sessions');
    const kong = configMapData(envName, 'kong-config');
    expect(Object.values(kong).join('\n')).toContain(`redis-primary.${ns}.svc.cluster.local`);
  });

  it('tells every instance and Sentinel where the others are, by stable name', () => {
    for (const c of [containers.redis, containers.sentinel]) {
      expect(envOf(c).SENTINEL_HOSTS).toBe(hosts(26379).join(' '));
      expect(envOf(c).REDIS_HOSTS).toBe(hosts(6379).join(' '));
      expect(envOf(c).REDIS_PRIMARY_NAME).toBe('platform');
    }
    expect(envOf(containers.sentinel).SENTINEL_QUORUM).toBe('2');
    expect(envOf(containers.sentinel).REDIS_BOOTSTRAP_PRIMARY).toBe(hosts(6379)[0]);
    expect(envOf(containers.redis).REDIS_ANNOUNCE_HOST).toBe(`$(POD_NAME).redis-headless.${ns}.svc.cluster.local`);
  });

  it('keeps every password out of the ConfigMaps', () => {
    const files = { ...configMapData(envName, 'redis-config'), ...configMapData(envName, 'redis-primary-config') };
    const configs = Object.entries(files).filter(([name]) => /\.(conf|cfg)$/.test(name));
    expect(configs.map(([name]) => name).sort()).toEqual(['haproxy.cfg', 'redis.conf', 'sentinel-primary.conf', 'sentinel.conf']);
    for (const [name, content] of configs) {
      expect(content, name).not.toMatch(/^\s*(requirepass|masterauth|sentinel auth-pass)\s+\S/m);
    }
    expect(files['haproxy.cfg']).toContain('"AUTH ${REDIS_PASSWORD}\\r\\n"');
  });

  it('gives the product the Sentinels and the backup every instance', () => {
    const worker = find<Obj>(envName, 'Deployment', 'worker');
    expect(envOf(worker.spec.template.spec.containers[0]).REDIS_SENTINELS).toBe(hosts(26379).join(','));
    expect(envOf(worker.spec.template.spec.containers[0]).REDIS_HOST).toBe(`redis-primary.${ns}.svc.cluster.local`);
    const backup = find<Obj>(envName, 'CronJob', 'redis-backup');
    const job = backup.spec.jobTemplate.spec.template.spec;
    const main = [...(job.initContainers ?? []), ...job.containers].find((c: Obj) => c.env?.some((e: Obj) => e.name === 'REDIS_HOSTS'));
    expect(envOf(main).REDIS_HOSTS).toBe(hosts(6379).join(' '));
  });
});
