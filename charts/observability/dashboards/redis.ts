// Redis as redis_exporter sees it. The cache holds sessions and rate-limit counters, so memory
// against maxmemory (evictions start there) and persistence status matter more than raw speed.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { PROXY_BACKEND } from '../../redis/haproxy-config';
import { JOBS } from '../metrics-catalogue';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, okMapping, platformDashboard, sel, thresholds } from './panels';

export function redis(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  // The Redis instances' exporters (not the Sentinels' exporters, which share the job).
  const s = sel({ namespace: ctx.namespaces.supabase, job: JOBS.redis, container: 'exporter' });
  const sentinels = sel({ namespace: ctx.namespaces.supabase, job: JOBS.redis, container: 'sentinel-exporter' });
  const proxy = sel({ namespace: ctx.namespaces.supabase, job: JOBS.redisPrimary, proxy: PROXY_BACKEND });
  const perPod = (metric: string) => `sum by (pod) (rate(${metric}${s}[$__rate_interval]))`;
  const hits = `sum(rate(redis_keyspace_hits_total${s}[$__rate_interval]))`;
  const misses = `sum(rate(redis_keyspace_misses_total${s}[$__rate_interval]))`;

  return dashboardFile(
    platformDashboard('redis', 'Redis', 'The platform cache: availability, memory against maxmemory, clients, throughput, persistence.', ['redis', 'data'])
      .withRow(new RowBuilder('Status'))
      .withPanel(
        p.stat({
          title: 'Redis up',
          description: 'Whether redis_exporter could reach Redis at its last scrape.',
          queries: [{ expr: `min(redis_up${s})` }],
          mappings: okMapping('DOWN', 'UP'),
        }),
      )
      .withPanel(
        p.stat({
          title: 'Memory used of maxmemory',
          description: 'Used memory as a share of maxmemory. At 100% Redis evicts keys (or refuses writes, by policy). Empty when maxmemory is unlimited.',
          // maxmemory 0 means unlimited: no ratio rather than a division by zero.
          queries: [{ expr: `max(redis_memory_used_bytes${s} / (redis_memory_max_bytes${s} > 0))` }],
          unit: units.PercentUnit,
          thresholds: thresholds([
            [null, 'green'],
            [0.8, 'orange'],
            [0.9, 'red'],
          ]),
        }),
      )
      .withPanel(
        p.stat({
          title: 'Last RDB save and AOF write',
          description:
            'Outcome of the last RDB background save and of the last AOF write. FAILED means what is on disk is stale: usually a full volume, or a fork refused for memory.',
          queries: [
            { expr: `min(redis_rdb_last_bgsave_status${s})`, legend: 'RDB' },
            { expr: `min(redis_aof_last_write_status${s})`, legend: 'AOF' },
          ],
          mappings: okMapping('FAILED', 'OK'),
        }),
      )
      .withPanel(
        p.stat({
          title: 'Since last RDB save',
          description:
            'Time since the last successful RDB snapshot, the dump.rdb that the backup copies. With write traffic a snapshot is due at least hourly.',
          queries: [{ expr: `time() - max(redis_rdb_last_save_timestamp_seconds${s})` }],
          unit: units.Seconds,
          thresholds: thresholds([
            [null, 'green'],
            [3600, 'orange'],
          ]),
        }),
      )
      .withRow(new RowBuilder('Replication and failover (staging, production)'))
      .withPanel(
        p.timeseries({
          title: 'Role by pod',
          description:
            '1 for the instance that is the primary. Exactly one line should be at 1; a change is a failover, two at once a split brain (RedisSeveralPrimaries).',
          queries: [
            {
              expr: `max by (pod) (redis_instance_info${sel({ namespace: ctx.namespaces.supabase, job: JOBS.redis, container: 'exporter', role: 'master' })})`,
              legend: '{{pod}}',
            },
          ],
          unit: units.Short,
          min: 0,
          width: 6,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Replica lag',
          description:
            'Seconds since each replica last acknowledged the primary, as the primary sees it. Over min-replicas-max-lag (10 s) it no longer counts for min-replicas-to-write.',
          queries: [{ expr: `max by (slave_ip) (redis_connected_slave_lag_seconds${s})`, legend: '{{slave_ip}}' }],
          unit: units.Seconds,
          min: 0,
          width: 6,
        }),
      )
      .withPanel(
        p.stat({
          title: 'Sentinel quorum',
          description: 'Whether every Sentinel can reach enough others to call the primary down and authorise a failover (SENTINEL CKQUORUM).',
          queries: [{ expr: `min(redis_sentinel_master_ckquorum_status${sentinels})` }],
          mappings: okMapping('LOST', 'OK'),
          width: 6,
        }),
      )
      .withPanel(
        p.stat({
          title: 'HAProxy backends at the primary',
          description:
            'Per HAProxy pod, the Redis instances that answer role:master. 1 is right; 0 means Kong and the product have no primary (RedisProxyNoPrimary).',
          queries: [{ expr: `min(haproxy_backend_active_servers${proxy})` }],
          thresholds: thresholds([
            [null, 'red'],
            [1, 'green'],
            [2, 'red'],
          ]),
          width: 6,
        }),
      )
      .withRow(new RowBuilder('Memory and clients'))
      .withPanel(
        p.timeseries({
          title: 'Memory used vs max',
          description: 'Memory Redis uses for data and overhead, against maxmemory.',
          queries: [
            { expr: `sum by (pod) (redis_memory_used_bytes${s})`, legend: '{{pod}} used' },
            { expr: `sum by (pod) (redis_memory_max_bytes${s})`, legend: '{{pod}} maxmemory' },
          ],
          unit: units.BytesIEC,
          min: 0,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Clients',
          description: 'Connected clients, and those blocked in a blocking command (BLPOP and the like). Connected near maxclients leads to rejections.',
          queries: [
            { expr: `sum by (pod) (redis_connected_clients${s})`, legend: '{{pod}} connected' },
            { expr: `sum by (pod) (redis_blocked_clients${s})`, legend: '{{pod}} blocked' },
          ],
          unit: units.Short,
          min: 0,
        }),
      )
      .withRow(new RowBuilder('Throughput'))
      .withPanel(
        p.timeseries({
          title: 'Commands per second',
          description: 'Commands Redis processed.',
          queries: [{ expr: perPod('redis_commands_processed_total'), legend: '{{pod}}' }],
          unit: units.OpsPerSecond,
          min: 0,
          width: 6,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Keyspace hit ratio',
          description: 'Share of key lookups that found the key. A drop after a deploy or an eviction wave means the cache is cold.',
          queries: [{ expr: `${hits} / (${hits} + ${misses})`, legend: 'hit ratio' }],
          unit: units.PercentUnit,
          min: 0,
          max: 1,
          width: 6,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Evictions per second',
          description:
            "Keys removed to stay under maxmemory, by the environment's maxmemory-policy. Steady evictions mean the cache is too small for its data.",
          queries: [{ expr: perPod('redis_evicted_keys_total'), legend: '{{pod}}' }],
          unit: units.OpsPerSecond,
          min: 0,
          width: 6,
        }),
      )
      .withPanel(
        p.timeseries({
          title: 'Rejected connections (per 5 minutes)',
          description: 'Connections refused because maxclients was reached.',
          queries: [{ expr: `sum by (pod) (increase(redis_rejected_connections_total${s}[5m]))`, legend: '{{pod}}' }],
          unit: units.Short,
          min: 0,
          width: 6,
        }),
      ),
  );
}
