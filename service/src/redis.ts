// Redis for the job queue, following the platform's durability contract (docs/data-tier.md,
// "Redis durability contract"): with Sentinels configured (staging, production) the client asks
// them for the primary (ioredis speaks the Sentinel client protocol, and follows +switch-master),
// and a write that must survive a failover is confirmed with WAIT 1; with one instance (dev:
// REDIS_SENTINELS empty) it connects to REDIS_HOST and there is no replica to wait for.
// Connections cut by a failover reconnect; a READONLY answer (this connection reached a demoted
// primary) reconnects and resends. https://redis.io/docs/latest/develop/reference/sentinel-clients/
import Redis, { type RedisOptions } from 'ioredis';
import type { RedisSettings } from './config';

export type { Redis };

/** Replicas a durable write must reach: 1 with Sentinels, 0 with one instance. */
export function requiredReplicas(settings: RedisSettings): number {
  return settings.sentinels.length > 0 ? 1 : 0;
}

export function createRedis(settings: RedisSettings, connectionName: string, extra: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    db: settings.db,
    password: settings.password,
    connectionName,
    connectTimeout: 5000,
    // Back off up to 2 s between attempts, forever: a failover takes seconds.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    reconnectOnError: (err) => (/^READONLY|^LOADING/.test(err.message) ? 2 : false),
    maxRetriesPerRequest: 3,
    ...extra,
  };
  if (settings.sentinels.length === 0) return new Redis({ ...common, host: settings.host, port: settings.port });
  return new Redis({
    ...common,
    sentinels: settings.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: settings.primaryName,
    role: 'master',
    // The Sentinels require the same password (requirepass, charts/redis/files/start-sentinel.sh).
    sentinelPassword: settings.password,
    sentinelRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    failoverDetector: true,
  });
}

/** PING within `timeoutMs`. */
export async function pingRedis(redis: Redis, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
