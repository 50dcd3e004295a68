// Redis (StatefulSet redis, one pod) through its redis_exporter sidecar. The exporter runs without
// system metrics, so memory is measured against maxmemory (redis_memory_max_bytes), which is what
// matters anyway: with the platform's default policy noeviction, writes fail at maxmemory.
// Persistence alerts matter doubly here: redis.conf sets stop-writes-on-bgsave-error, so a failed
// snapshot makes Redis refuse writes, and a failed AOF write does the same.
import { JOBS } from '../metrics-catalogue';
import { series, target } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

export function redisRules(ctx: RuleContext): RuleGroupSpec {
  const supabase = ctx.namespaces.supabase;
  const RD = `job="${JOBS.redis}", namespace="${supabase}"`;
  const exporter = target(JOBS.redis, supabase, 'redis-0', 'exporter', '10.0.2.6:9121');
  const at = { namespace: supabase, pod: 'redis-0' };
  const cli = `kubectl -n ${supabase} exec -it redis-0 -c redis -- redis-cli`;
  const memory = (usedMiB: number, maxMiB: number) => [
    series('redis_memory_used_bytes', exporter, `${usedMiB * 2 ** 20}x20`),
    series('redis_memory_max_bytes', exporter, `${maxMiB * 2 ** 20}x20`),
  ];
  const gauge = (metric: string, value: number) => [series(metric, exporter, `${value}x20`)];

  return {
    name: 'redis',
    rules: [
      {
        alert: 'RedisDown',
        expr: `redis_up{${RD}} == 0\nor absent(redis_up{${RD}})`,
        for: '2m',
        severity: 'critical',
        team: 'database',
        summary: 'Redis in {{ $labels.namespace }} is down.',
        description: 'For 2 minutes the redis_exporter in {{ $labels.namespace }} has either failed to reach Redis or not been scraped at all (the pod is gone or not answering). The api and worker depend on it.',
        runbook: {
          meaning: '`redis_up` is 0 (the exporter sidecar in redis-0 cannot talk to Redis on 127.0.0.1:6379) or missing (the pod does not exist or cannot be scraped).',
          impact: `The api loses its cache and the worker its queues: requests slow down or fail, background jobs stop. Data is safe on the volume (AOF, fsync every second) unless the volume is lost.`,
          diagnosis: [
            `Pod state: \`kubectl -n ${supabase} get pod redis-0 -o wide\`, \`kubectl -n ${supabase} describe pod redis-0\`.`,
            `Redis log: \`kubectl -n ${supabase} logs redis-0 -c redis\` (add \`--previous\` after a restart). "Loading AOF" means it is reading its data back: the startup probe waits up to 30 minutes.`,
            `Redis up but exporter failing: \`kubectl -n ${supabase} logs redis-0 -c exporter\` (WRONGPASS means the exporter's password differs from the server's).`,
            `A corrupt AOF stops startup with "Bad file format reading the append only file": read the Redis part of docs/data-tier.md before touching files.`,
          ],
          mitigation: [
            'Loading: wait. OOMKilled: raise `components.redis.resources` in `environments/<env>.ts` (maxmemory follows the limit) and merge.',
            `Corrupt AOF tail: \`kubectl -n ${supabase} exec -it redis-0 -c redis -- redis-check-aof --fix /data/appendonlydir/<file>.incr.aof\` after copying the directory aside; aof-load-truncated already covers a torn last write.`,
            'Volume lost: restore the latest RDB backup (with AOF temporarily off, since Redis ignores dump.rdb when AOF is on).',
          ],
        },
        tests: {
          fires: [
            { series: gauge('redis_up', 0), at: '5m', alerts: [exporter] },
            { series: [], at: '5m', alerts: [{ job: JOBS.redis, namespace: supabase }] },
          ],
          quiet: [
            { series: gauge('redis_up', 0), at: '1m' },
            { series: gauge('redis_up', 1), at: '5m' },
          ],
        },
      },
      {
        alert: 'RedisMemoryHigh',
        expr: `max by (namespace, pod) (redis_memory_used_bytes{${RD}}) / max by (namespace, pod) (redis_memory_max_bytes{${RD}} > 0) > 0.9`,
        for: '5m',
        severity: 'critical',
        team: 'database',
        summary: 'Redis {{ $labels.pod }} uses more than 90% of maxmemory.',
        description: 'Redis {{ $labels.namespace }}/{{ $labels.pod }} has used more than 90% of its maxmemory for 5 minutes. With the noeviction policy, writes fail with OOM errors once it is full.',
        runbook: {
          meaning: 'The dataset approaches `maxmemory`, which the chart sets to a share of the container\'s memory limit (`components.redis.maxmemoryPercent`). The policy is `noeviction` unless the environment chose another: Redis never drops keys by itself.',
          impact: 'At maxmemory every write command fails with "OOM command not allowed": the worker cannot enqueue jobs and the api cannot cache or rate-limit. Reads keep working.',
          diagnosis: [
            `Memory breakdown: \`${cli} INFO memory\` (used_memory, used_memory_peak, maxmemory, mem_fragmentation_ratio).`,
            `What is big: \`${cli} --bigkeys\` and \`${cli} INFO keyspace\` (keys and keys with expiry per database).`,
            'Growth over time: `redis_memory_used_bytes` and `redis_db_keys` on the data dashboard; a queue that only grows means the worker is not consuming (check the worker pods in the app namespace).',
          ],
          mitigation: [
            'Drain what should not be there: a stuck queue (fix and scale the worker), keys written without TTL (fix the writer, then delete them with `UNLINK` in batches; FLUSHALL and FLUSHDB are disabled on purpose).',
            'Raise the memory limit (and so maxmemory) in `environments/<env>.ts` and merge; the pod restarts and reloads its AOF.',
          ],
        },
        tests: {
          fires: [{ series: memory(950, 1000), at: '10m', alerts: [at] }],
          quiet: [
            { series: memory(950, 1000), at: '3m' },
            { series: memory(500, 1000), at: '10m' },
            // maxmemory 0 means no limit: the ratio is meaningless.
            { series: memory(950, 0), at: '10m' },
          ],
        },
      },
      {
        alert: 'RedisRejectedConnections',
        expr: `sum by (namespace, pod) (increase(redis_rejected_connections_total{${RD}}[5m])) > 0`,
        severity: 'warning',
        team: 'database',
        summary: 'Redis {{ $labels.pod }} is rejecting connections.',
        description: 'Redis {{ $labels.namespace }}/{{ $labels.pod }} rejected client connections in the last 5 minutes because it reached maxclients.',
        runbook: {
          meaning: 'A client tried to connect while Redis already had `maxclients` connections (10000 by default), so Redis closed the new connection at once.',
          impact: 'Clients that cannot connect fail their requests or jobs. Usually one client leaks connections and the others suffer.',
          diagnosis: [
            `Connections by client: \`${cli} CLIENT LIST\` — group the output by \`addr\` and \`name\`; \`${cli} INFO clients\` shows connected_clients and maxclients.`,
            'Map the addresses to pods: `kubectl get pods -A -o wide | grep <ip>`; the api and worker in the app namespace are the usual clients.',
          ],
          mitigation: [
            'Restart the leaking client (`kubectl -n <namespace> rollout restart deployment/<name>`, or abort the api release) and fix its pool size or connection reuse.',
            `As a stop-gap, close idle connections: \`${cli} CLIENT KILL ADDR <ip:port>\` for the offender's connections.`,
          ],
        },
        tests: {
          fires: [{ series: [series('redis_rejected_connections_total', exporter, '0 0 0 5 10 15 20 25 30 35 40')], at: '8m', alerts: [at] }],
          quiet: [{ series: [series('redis_rejected_connections_total', exporter, '12x10')], at: '8m' }],
        },
      },
      {
        alert: 'RedisRdbBgsaveFailed',
        expr: `max by (namespace, pod) (redis_rdb_last_bgsave_status{${RD}}) == 0`,
        for: '1m',
        severity: 'critical',
        team: 'database',
        summary: 'Redis {{ $labels.pod }} failed its last RDB snapshot and refuses writes.',
        description: 'The last background save (RDB snapshot) of Redis {{ $labels.namespace }}/{{ $labels.pod }} failed. With stop-writes-on-bgsave-error, Redis refuses writes until a snapshot succeeds.',
        runbook: {
          meaning: 'The forked child that writes `dump.rdb` failed: no disk space, an I/O error, or the fork itself failed for lack of memory. The backup job copies this file, so it is also the Redis backup.',
          impact: 'Writes fail with "MISCONF Redis is configured to save RDB snapshots, but it\'s currently unable to persist to disk": the worker cannot enqueue, the api cannot cache. The backup would copy a stale snapshot.',
          diagnosis: [
            `Status: \`${cli} INFO persistence\` (rdb_last_bgsave_status, rdb_last_bgsave_time_sec, rdb_changes_since_last_save).`,
            `Why: \`kubectl -n ${supabase} logs redis-0 -c redis | grep -i -E "background saving|fork|error"\`.`,
            `Disk: \`kubectl -n ${supabase} exec redis-0 -c redis -- df -h /data\` (see KubePersistentVolumeAlmostFull); fork failures show "Can't save in background: fork: Cannot allocate memory".`,
          ],
          mitigation: [
            'Free or grow the volume, or give the pod memory headroom above maxmemory for the fork (lower `maxmemoryPercent` or raise the limit in `environments/<env>.ts`).',
            `Then trigger a snapshot: \`${cli} BGSAVE\`; when it succeeds, writes are accepted again and the alert resolves.`,
          ],
        },
        tests: {
          fires: [{ series: gauge('redis_rdb_last_bgsave_status', 0), at: '3m', alerts: [at] }],
          quiet: [{ series: gauge('redis_rdb_last_bgsave_status', 1), at: '3m' }],
        },
      },
      {
        alert: 'RedisAofWriteFailed',
        expr: `max by (namespace, pod) (redis_aof_last_write_status{${RD}}) == 0`,
        for: '1m',
        severity: 'critical',
        team: 'database',
        summary: 'Redis {{ $labels.pod }} cannot write its append-only file.',
        description: 'The last write to the append-only file of Redis {{ $labels.namespace }}/{{ $labels.pod }} failed. Redis refuses writes while it cannot log them, and acknowledged writes are not durable.',
        runbook: {
          meaning: 'Redis could not append to (or fsync) the AOF in `/data/appendonlydir`: the volume is full or failing. The AOF is what makes writes survive a restart (at most one second lost).',
          impact: 'Redis answers writes with errors until the AOF write succeeds again; anything written in memory since the failure is lost if the pod restarts now.',
          diagnosis: [
            `Status: \`${cli} INFO persistence\` (aof_last_write_status, aof_last_bgrewrite_status, aof_current_size).`,
            `Disk: \`kubectl -n ${supabase} exec redis-0 -c redis -- df -h /data\`; the log names the error: \`kubectl -n ${supabase} logs redis-0 -c redis | grep -i aof\`.`,
            'Node or volume errors: `kubectl describe node <node>` and the cloud console for the disk.',
          ],
          mitigation: [
            'Give the volume room (grow it, see KubePersistentVolumeAlmostFull); Redis retries the write by itself and recovers.',
            `Do not restart the pod while the AOF is failing: the unwritten data is only in memory. If the volume itself is broken, copy the data off first: \`kubectl -n ${supabase} exec redis-0 -c redis -- redis-cli --rdb - > redis-$(date +%s).rdb\` streams a snapshot to your machine (BGSAVE would write to the same broken disk).`,
          ],
        },
        tests: {
          fires: [{ series: gauge('redis_aof_last_write_status', 0), at: '3m', alerts: [at] }],
          quiet: [{ series: gauge('redis_aof_last_write_status', 1), at: '3m' }],
        },
      },
    ],
  };
}
