// Redis (StatefulSet redis) through the redis_exporter sidecars. Dev runs one pod (redis-0:
// containers redis and exporter); staging and production run three (redis-0..2), a primary and two
// replicas, each pod with a Sentinel (container sentinel, monitoring the primary as "platform")
// and a second redis_exporter pointed at it (container sentinel-exporter, port "metrics-sntl"),
// plus the HAProxy pods redis-primary that send clients to whichever instance answers
// role:master. Both exporters of a pod are scraped under job redis, so every rule about Redis
// itself selects container="exporter": the sentinel-exporter's redis_up says whether the Sentinel
// answers, not Redis, and it also serves redis_connected_clients, redis_rejected_connections_total
// and the like for the Sentinel process.
//
// The exporter runs without system metrics, so memory is measured against maxmemory
// (redis_memory_max_bytes), which is what matters anyway: with the platform's default policy
// noeviction, writes fail at maxmemory. Persistence alerts matter doubly here: redis.conf sets
// stop-writes-on-bgsave-error, so a failed snapshot makes Redis refuse writes, and a failed AOF
// write does the same. Replication and failover: no primary, two primaries, a replica cut off
// from its primary, Sentinels that cannot fail over, a failover (informational), and HAProxy
// without a primary to send clients to. docs/runbooks/redis-failover.md is the procedure.
import { PROXY_BACKEND } from '../../redis/haproxy-config';
import { PRIMARY_NAME, SENTINEL_PORT } from '../../redis/sentinel-config';
import { JOBS } from '../metrics-catalogue';
import { series, target } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

/** The failover procedure (written beside the Redis chart). */
const FAILOVER_RUNBOOK = 'docs/runbooks/redis-failover.md';

export function redisRules(ctx: RuleContext): RuleGroupSpec {
  const supabase = ctx.namespaces.supabase;
  /** Redis itself: the exporter beside each instance. */
  const RD = `job="${JOBS.redis}", namespace="${supabase}", container="exporter"`;
  /** The Sentinels: the exporter beside each Sentinel (staging, production). */
  const SN = `job="${JOBS.redis}", namespace="${supabase}", container="sentinel-exporter"`;
  /** HAProxy's backend of the Redis instances, in the redis-primary pods. */
  const PX = `job="${JOBS.redisPrimary}", namespace="${supabase}", proxy="${PROXY_BACKEND}"`;
  const inst = (n: number) => target(JOBS.redis, supabase, `redis-${n}`, 'exporter', `10.0.2.${6 + n}:9121`);
  const sntl = (n: number, ip = 6 + n) => target(JOBS.redis, supabase, `redis-${n}`, 'sentinel-exporter', `10.0.2.${ip}:9355`);
  const exporter = inst(0);
  const at = { namespace: supabase, pod: 'redis-0' };
  const podAt = (n: number) => ({ namespace: supabase, pod: `redis-${n}` });
  const cli = (pod = '<pod>') => `kubectl -n ${supabase} exec -it ${pod} -c redis -- redis-cli`;
  /** redis-cli against the Sentinel in redis-0 (any Sentinel answers the same; REDISCLI_AUTH is set in the container). */
  const sentinel = (command: string, pod = 'redis-0') => `\`kubectl -n ${supabase} exec ${pod} -c sentinel -- redis-cli -p ${SENTINEL_PORT} ${command}\``;
  const replication = (pod = '<pod>') => `\`kubectl -n ${supabase} exec ${pod} -c redis -- redis-cli INFO replication\``;
  const proxyLogs = `\`kubectl -n ${supabase} logs deploy/${JOBS.redisPrimary}\``;
  const memory = (usedMiB: number, maxMiB: number) => [
    series('redis_memory_used_bytes', exporter, `${usedMiB * 2 ** 20}x20`),
    series('redis_memory_max_bytes', exporter, `${maxMiB * 2 ** 20}x20`),
  ];
  const gauge = (metric: string, value: number) => [series(metric, exporter, `${value}x20`)];
  /** INFO of instance n as its exporter reports it (value 1; the labels say what it is). */
  const info = (n: number, role: 'master' | 'slave', values: string) =>
    series(
      'redis_instance_info',
      { ...inst(n), role, redis_mode: 'standalone', redis_version: '7.4.7', run_id: `${n}f3c1a9e7d2b4c6a8e0f1d3b5c7a9e1f3d5b7c9a0`, tcp_port: '6379' },
      values,
    );
  /** The Sentinel's own INFO: redis_mode sentinel, no role. */
  const sentinelInfo = (n: number, values: string) =>
    series(
      'redis_instance_info',
      { ...sntl(n), redis_mode: 'sentinel', redis_version: '7.4.7', run_id: `${n}a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0`, tcp_port: `${SENTINEL_PORT}` },
      values,
    );
  const linkUp = (n: number, values: string) =>
    series('redis_master_link_up', { ...inst(n), master_host: `redis-0.redis-headless.${supabase}.svc.cluster.local`, master_port: '6379' }, values);
  const CKQUORUM_OK = 'OK 3 usable Sentinels. Quorum and failover authorization can be reached';
  const CKQUORUM_FAILED =
    'NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master. Not enough available Sentinels to reach the majority and authorize a failover';
  const ckquorum = (n: number, ok: boolean, values: string) =>
    series('redis_sentinel_master_ckquorum_status', { ...sntl(n), master_name: PRIMARY_NAME, message: ok ? CKQUORUM_OK : CKQUORUM_FAILED }, values);
  const sentinelUp = (n: number, values: string) => series('redis_up', sntl(n), values);
  const primaryAddress = `redis-0.redis-headless.${supabase}.svc.cluster.local:6379`;
  const epoch = (n: number, values: string, ip?: number) =>
    series('redis_sentinel_master_config_epoch', { ...sntl(n, ip), master_name: PRIMARY_NAME, master_address: primaryAddress }, values);
  const proxyPod = (suffix: string, n: number) =>
    target(JOBS.redisPrimary, supabase, `${JOBS.redisPrimary}-7c9d8f6b5-${suffix}`, 'haproxy', `10.0.4.${n}:8404`);
  const activeServers = (suffix: string, n: number, values: string, proxy = PROXY_BACKEND) =>
    series('haproxy_backend_active_servers', { ...proxyPod(suffix, n), proxy }, values);
  const namespaceOnly = { namespace: supabase };
  // A healthy replicated set: redis-0 is the primary.
  const healthyRoles = [
    info(0, 'master', '1x20'),
    info(1, 'slave', '1x20'),
    info(2, 'slave', '1x20'),
    sentinelInfo(0, '1x20'),
    sentinelInfo(1, '1x20'),
    sentinelInfo(2, '1x20'),
  ];
  const healthySentinels = [0, 1, 2].flatMap((n) => [sentinelUp(n, '1x20'), ckquorum(n, true, '1x20')]);

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
        description:
          'For 2 minutes a redis_exporter in {{ $labels.namespace }} has failed to reach its Redis instance, or no Redis exporter has been scraped at all (the pods are gone or not answering). With one instance (dev) the api and worker have no Redis; with replicas, Sentinel promotes a replica if the instance was the primary.',
        runbook: {
          meaning:
            "`redis_up` of a container `exporter` is 0 (the sidecar in that redis pod cannot talk to Redis on 127.0.0.1:6379) or no such series exists at all (no redis pod runs or none can be scraped). The Sentinel's exporter (container `sentinel-exporter`) has a `redis_up` of its own, about the Sentinel; it is not counted here.",
          impact: `With one instance (dev): the api loses its cache and the worker its queues, requests slow down or fail, background jobs stop. With three instances (staging, production): a replica down costs redundancy only; the primary down means writes fail until Sentinel promotes a replica (seconds; RedisFailoverHappened, or RedisNoPrimary if it does not). Data is safe on the volume (AOF, fsync every second) unless the volume is lost.`,
          diagnosis: [
            `Pod state: \`kubectl -n ${supabase} get pods -l app.kubernetes.io/name=${JOBS.redis} -o wide\`, \`kubectl -n ${supabase} describe pod <pod>\`.`,
            `Redis log: \`kubectl -n ${supabase} logs <pod> -c redis\` (add \`--previous\` after a restart). "Loading AOF" means it is reading its data back: the startup probe waits up to 30 minutes.`,
            `Redis up but exporter failing: \`kubectl -n ${supabase} logs <pod> -c exporter\` (WRONGPASS means the exporter's password differs from the server's).`,
            `Was it the primary? ${sentinel(`SENTINEL MASTER ${PRIMARY_NAME}`)} names the current primary (ip, flags), ${sentinel(`SENTINEL REPLICAS ${PRIMARY_NAME}`)} the replicas and their state.`,
            `A corrupt AOF stops startup with "Bad file format reading the append only file": read the Redis part of docs/data-tier.md before touching files.`,
          ],
          mitigation: [
            'Loading: wait. OOMKilled: raise `components.redis.resources` in `environments/<env>.ts` (maxmemory follows the limit) and merge.',
            `Corrupt AOF tail: \`kubectl -n ${supabase} exec -it <pod> -c redis -- redis-check-aof --fix /data/appendonlydir/<file>.incr.aof\` after copying the directory aside; aof-load-truncated already covers a torn last write. On a replica it is simpler to let it resync: move the AOF aside and it loads a full copy from the primary.`,
            `Volume lost: a replica resyncs from the primary once its claim and pod are recreated; with one instance, or every volume lost, restore the latest snapshot with the restore Job (\`npm run cli -- restore --store redis\`, docs/runbooks/backup.md), which builds the append-only file from it. Failover steps: ${FAILOVER_RUNBOOK}.`,
          ],
        },
        tests: {
          fires: [
            { series: gauge('redis_up', 0), at: '5m', alerts: [exporter] },
            { series: [], at: '5m', alerts: [{ job: JOBS.redis, namespace: supabase, container: 'exporter' }] },
            // Only the Sentinels answer: that is not Redis being up.
            { series: [sentinelUp(0, '1x20'), sentinelUp(1, '1x20')], at: '5m', alerts: [{ job: JOBS.redis, namespace: supabase, container: 'exporter' }] },
            // One replica of three is down: that pod, once.
            {
              series: [series('redis_up', inst(0), '1x20'), series('redis_up', inst(1), '1x20'), series('redis_up', inst(2), '0x20'), sentinelUp(2, '1x20')],
              at: '5m',
              alerts: [inst(2)],
            },
          ],
          quiet: [
            { series: gauge('redis_up', 0), at: '1m' },
            { series: gauge('redis_up', 1), at: '5m' },
            // A Sentinel that does not answer is not Redis being down.
            { series: [series('redis_up', inst(0), '1x20'), sentinelUp(0, '0x20')], at: '5m' },
          ],
        },
      },
      {
        alert: 'RedisNoPrimary',
        expr: [
          `count by (namespace) (redis_instance_info{${RD}, redis_mode="standalone"})`,
          `unless on (namespace) count by (namespace) (redis_instance_info{${RD}, redis_mode="standalone", role="master"})`,
        ].join('\n'),
        for: '1m',
        severity: 'critical',
        team: 'database',
        summary: 'No Redis instance in {{ $labels.namespace }} is the primary.',
        description:
          'Redis instances in {{ $labels.namespace }} answer, but for a minute none of them has reported role master: every one is a replica, so every write fails and the redis-primary proxy has nowhere to send clients.',
        runbook: {
          meaning: `The exporters reach their Redis instances (\`redis_instance_info\` with redis_mode standalone exists) but none reports \`role="master"\`. The Sentinels (quorum 2 of 3 in staging and production) promote a replica within seconds of losing the primary (down-after 5 s by default); a minute without one means they could not: too few Sentinels agree (RedisSentinelQuorumLost), the failover keeps failing (failover-timeout), or no replica is eligible (all disconnected from the old primary for too long). When no instance answers at all, RedisDown fires instead.`,
          impact:
            "Every write fails (\"READONLY You can't write against a read only replica\"), and the redis-primary proxy has no server (RedisProxyNoPrimary): Kong's rate limiting and the product's cache, sessions and queues fail or fall back. Reads from replicas still work for clients that use them.",
          diagnosis: [
            `What the Sentinels think: ${sentinel(`SENTINEL MASTER ${PRIMARY_NAME}`)} (ip, flags such as s_down, o_down, failover_in_progress, num-other-sentinels, quorum) and ${sentinel(`SENTINEL REPLICAS ${PRIMARY_NAME}`)}; ask another pod's Sentinel too (\`redis-1\`, \`redis-2\`).`,
            `Can they fail over: ${sentinel(`SENTINEL CKQUORUM ${PRIMARY_NAME}`)}.`,
            `Each instance's view: ${replication('redis-0')} (and redis-1, redis-2): role, master_host, master_link_status, master_last_io_seconds_ago.`,
            `The failover attempts: \`kubectl -n ${supabase} logs redis-0 -c sentinel\` ("+sdown", "+odown", "+try-failover", "-failover-abort-no-good-slave", "+switch-master").`,
          ],
          mitigation: [
            `Follow ${FAILOVER_RUNBOOK}.`,
            `Sentinels without quorum: bring the missing Sentinel containers back first (RedisSentinelQuorumLost); they then fail over by themselves.`,
            `Force a failover from one Sentinel, which needs no agreement: ${sentinel(`SENTINEL FAILOVER ${PRIMARY_NAME}`)}; it promotes the best replica it can reach. Promote by hand (\`REPLICAOF NO ONE\` on a replica) only if the Sentinels cannot, and tell them afterwards as the failover runbook says.`,
          ],
        },
        tests: {
          fires: [
            // The primary redis-0 vanished at 5 minutes and no replica was promoted.
            {
              series: [info(0, 'master', '1x4 stale'), info(1, 'slave', '1x20'), info(2, 'slave', '1x20'), sentinelInfo(0, '1x20')],
              at: '8m',
              alerts: [namespaceOnly],
            },
          ],
          quiet: [
            { series: healthyRoles, at: '8m' },
            // Dev: one instance, the primary.
            { series: [info(0, 'master', '1x20')], at: '8m' },
            // A failover: no primary for one sample, then redis-1 is promoted.
            { series: [info(0, 'master', '1x4 stale'), info(1, 'slave', '1x5 stale'), info(1, 'master', '_x6 1x14'), info(2, 'slave', '1x20')], at: '7m' },
            // Only the Sentinels are scraped (Redis itself is down: RedisDown says so).
            { series: [sentinelInfo(0, '1x20'), sentinelInfo(1, '1x20')], at: '8m' },
          ],
        },
      },
      {
        alert: 'RedisSeveralPrimaries',
        expr: `count by (namespace) (redis_instance_info{${RD}, redis_mode="standalone", role="master"}) > 1`,
        for: '2m',
        severity: 'critical',
        team: 'database',
        summary: 'More than one Redis instance in {{ $labels.namespace }} is a primary.',
        description:
          'For 2 minutes more than one Redis instance in {{ $labels.namespace }} has reported role master: a split brain. Writes that reach the one the Sentinels no longer follow are lost when it rejoins as a replica.',
        runbook: {
          meaning: `Two (or more) instances report \`role="master"\`. The usual cause is an old primary cut off from the Sentinels (a network partition or a paused node) while they promoted a replica: it still believes it is the primary until a Sentinel reaches it and turns it into a replica. With \`min-replicas-to-write\` (1 by default) an isolated old primary refuses writes once no replica has acknowledged it for \`min-replicas-max-lag\` seconds (10 by default), which bounds what can be lost; lasting 2 minutes means it is still isolated from the Sentinels, or someone ran \`REPLICAOF NO ONE\`.`,
          impact:
            'Clients that still reach the old primary (directly, or through a proxy pod whose health check reaches it) write data that is discarded when it rejoins as a replica; after min-replicas-max-lag those writes fail with "NOREPLICAS" instead. The redis-primary proxy sends clients to the first server that answers role:master, so the two proxy pods may disagree.',
          diagnosis: [
            `Which primary the Sentinels follow: ${sentinel(`SENTINEL GET-MASTER-ADDR-BY-NAME ${PRIMARY_NAME}`)} and ${sentinel(`SENTINEL MASTER ${PRIMARY_NAME}`)} (config-epoch); ask each pod's Sentinel.`,
            `Each instance: ${replication('redis-0')} (and redis-1, redis-2): role, connected_slaves, and min_slaves_good_slaves on a primary.`,
            `Where the proxy sends clients: ${proxyLogs} ("Server ${PROXY_BACKEND}/redis-N is UP/DOWN") and \`haproxy_server_status{proxy="${PROXY_BACKEND}", state="UP"}\` per server.`,
            'The network: is the node of the old primary NotReady or partitioned (KubeNodeNotReady), are NetworkPolicies in the way.',
          ],
          mitigation: [
            `Follow ${FAILOVER_RUNBOOK}. Do not promote anything else by hand.`,
            'Restore connectivity between the old primary and the Sentinels; a Sentinel then reconfigures it as a replica of the current primary by itself (it logs "+convert-to-slave").',
            `If it cannot be reached in time, stop it taking clients: delete that pod (\`kubectl -n ${supabase} delete pod <pod>\`); it comes back as a replica of the primary the Sentinels name. Writes it accepted alone are lost either way.`,
          ],
        },
        tests: {
          fires: [{ series: [info(0, 'master', '1x20'), info(1, 'master', '1x20'), info(2, 'slave', '1x20')], at: '5m', alerts: [namespaceOnly] }],
          quiet: [
            { series: [info(0, 'master', '1x20'), info(1, 'master', '1x20'), info(2, 'slave', '1x20')], at: '1m' },
            { series: healthyRoles, at: '5m' },
            // The old primary comes back still a primary for a minute before a Sentinel demotes it.
            {
              series: [
                info(0, 'master', '1x2 stale _ 1 stale'),
                info(0, 'slave', '_x6 1x14'),
                info(1, 'master', '_x3 1x17'),
                info(1, 'slave', '1x2 stale'),
                info(2, 'slave', '1x20'),
              ],
              at: '6m',
            },
          ],
        },
      },
      {
        alert: 'RedisReplicaDisconnected',
        expr: `max by (namespace, pod) (redis_master_link_up{${RD}}) == 0`,
        for: '2m',
        severity: 'warning',
        team: 'database',
        summary: 'Redis replica {{ $labels.pod }} is not connected to its primary.',
        description:
          'The replication link of Redis replica {{ $labels.namespace }}/{{ $labels.pod }} to its primary has been down for 2 minutes: it serves stale data and would not be a safe candidate in a failover.',
        runbook: {
          meaning:
            '`master_link_status` in INFO replication of this replica is "down": it cannot connect or authenticate to the primary it is configured to follow, or it is still loading a full copy (a full resynchronisation after a failover or a long disconnection reports the link down until the copy is loaded). Only replicas have this metric.',
          impact: `Less redundancy: a failover now may promote a replica that is behind, or leave none to promote. The primary counts only replicas at most min-replicas-max-lag seconds behind: with every replica disconnected it refuses writes ("NOREPLICAS Not enough good replicas to write") because min-replicas-to-write is 1.`,
          diagnosis: [
            `The replica's view: ${replication()} (master_host, master_link_status, master_link_down_since_seconds, master_sync_in_progress).`,
            `Its log: \`kubectl -n ${supabase} logs <pod> -c redis\` ("Connecting to MASTER", "Error condition on socket for SYNC", "MASTER aborted replication with an error: NOAUTH/WRONGPASS", "Full resync").`,
            `Does it follow the primary the Sentinels name: ${sentinel(`SENTINEL REPLICAS ${PRIMARY_NAME}`)} (flags, master-link-status) and ${sentinel(`SENTINEL MASTER ${PRIMARY_NAME}`)}.`,
            `The primary's side: ${replication('<primary pod>')} (connected_slaves, each slaveN line with state and lag).`,
          ],
          mitigation: [
            'A full resync in progress: wait; a large dataset takes minutes (the disk and network speed bound it).',
            `A replica that follows a host which is no longer the primary: the Sentinels correct it within seconds once they reach it; if not, see RedisSeveralPrimaries and ${FAILOVER_RUNBOOK}.`,
            `Authentication errors after a password rotation: restart the pods one at a time, replicas first (\`kubectl -n ${supabase} delete pod <pod>\`), so every instance and Sentinel reads the same password.`,
          ],
        },
        tests: {
          fires: [{ series: [linkUp(1, '1x20'), linkUp(2, '0x20')], at: '5m', alerts: [podAt(2)] }],
          quiet: [
            { series: [linkUp(1, '1x20'), linkUp(2, '0x20')], at: '1m' },
            { series: [linkUp(1, '1x20'), linkUp(2, '1x20')], at: '5m' },
          ],
        },
      },
      {
        alert: 'RedisSentinelDown',
        expr: `max by (namespace, pod) (redis_up{${SN}}) == 0`,
        for: '5m',
        severity: 'warning',
        team: 'database',
        summary: 'The Redis Sentinel in {{ $labels.pod }} does not answer.',
        description:
          'For 5 minutes the exporter beside the Sentinel in {{ $labels.namespace }}/{{ $labels.pod }} has failed to reach it. One Sentinel less: losing one more leaves too few to fail over.',
        runbook: {
          meaning: `\`redis_up\` of the container \`sentinel-exporter\` is 0: the Sentinel on port ${SENTINEL_PORT} of that pod does not answer the exporter (crashed, restarting, or refusing the password). Redis in the same pod may be fine (RedisDown watches it).`,
          impact:
            'A failover needs a majority of the Sentinels (2 of 3) to agree; with one missing the others still can, with two missing they cannot (RedisSentinelQuorumLost). Sentinel-aware clients skip it.',
          diagnosis: [
            `The container: \`kubectl -n ${supabase} describe pod <pod>\` (restarts, failing readiness probe) and \`kubectl -n ${supabase} logs <pod> -c sentinel\` (add \`--previous\`).`,
            `The exporter's side: \`kubectl -n ${supabase} logs <pod> -c sentinel-exporter\` (WRONGPASS means its password differs from the Sentinel's).`,
            `The others still see a quorum: ${sentinel(`SENTINEL CKQUORUM ${PRIMARY_NAME}`, '<another pod>')}.`,
          ],
          mitigation: [
            `Fix what the log says and restart the pod at a quiet moment (\`kubectl -n ${supabase} delete pod <pod>\`); if that pod holds the primary, the Sentinels fail over first. Its Sentinel learns the others and the primary again at start.`,
          ],
        },
        tests: {
          fires: [{ series: [sentinelUp(0, '1x20'), sentinelUp(1, '0x20'), series('redis_up', inst(1), '1x20')], at: '8m', alerts: [podAt(1)] }],
          quiet: [
            { series: [sentinelUp(0, '1x20'), sentinelUp(1, '0x20'), series('redis_up', inst(1), '1x20')], at: '3m' },
            // Redis down but its Sentinel fine: RedisDown's business.
            { series: [sentinelUp(1, '1x20'), series('redis_up', inst(1), '0x20')], at: '8m' },
          ],
        },
      },
      {
        alert: 'RedisSentinelQuorumLost',
        expr: [
          `max by (namespace, pod, master_name) (redis_sentinel_master_ckquorum_status{${SN}}) == 0`,
          'or on (namespace)',
          `(count by (namespace) (redis_up{${SN}} == 0) > count by (namespace) (redis_up{${SN}}) / 2)`,
        ].join('\n'),
        for: '2m',
        severity: 'critical',
        team: 'database',
        summary: 'Redis Sentinels in {{ $labels.namespace }} cannot fail over.',
        description:
          'For 2 minutes a Sentinel in {{ $labels.namespace }} has reported that SENTINEL CKQUORUM fails, or most Sentinels do not answer: if the primary is lost now, no replica is promoted and Redis stops taking writes.',
        runbook: {
          meaning: `\`redis_sentinel_master_ckquorum_status\` is 0: the Sentinel that reports it counts too few reachable Sentinels to reach the quorum (2) or the majority needed to authorise a failover (its \`message\` label is the CKQUORUM answer). Or more than half of the Sentinel exporters cannot reach their Sentinel, in which case no Sentinel is left to ask.`,
          impact:
            'Nothing fails yet: the primary keeps serving. But a failover cannot happen: if the primary goes now, writes stop until it comes back or someone promotes a replica by hand (RedisNoPrimary).',
          diagnosis: [
            `Ask each Sentinel: ${sentinel(`SENTINEL CKQUORUM ${PRIMARY_NAME}`)} (and in redis-1, redis-2): "OK n usable Sentinels" or "NOQUORUM ...".`,
            `What each knows: ${sentinel(`SENTINEL MASTER ${PRIMARY_NAME}`)} (num-other-sentinels, quorum) and \`SENTINEL SENTINELS ${PRIMARY_NAME}\` with the same command (each peer's flags and last-ok-ping-reply).`,
            `Sentinel containers: \`kubectl -n ${supabase} get pods -l app.kubernetes.io/name=${JOBS.redis} -o wide\`, \`kubectl -n ${supabase} logs <pod> -c sentinel\` ("+sdown sentinel", "-sdown sentinel").`,
            `Sentinels that cannot reach each other on port ${SENTINEL_PORT}: the NetworkPolicy redis (\`kubectl -n ${supabase} get networkpolicy ${JOBS.redis} -o yaml\`), DNS of the redis-headless Service.`,
          ],
          mitigation: [
            'Bring the missing Sentinels back (RedisSentinelDown for each); they rejoin by themselves and CKQUORUM answers OK again.',
            `Until then, avoid anything that restarts the primary (node drains, Redis upgrades). If the primary is lost meanwhile, promote by hand as ${FAILOVER_RUNBOOK} says.`,
          ],
        },
        tests: {
          fires: [
            // Sentinels 1 and 2 are down; the one left reports no quorum (once: not also for the namespace).
            {
              series: [sentinelUp(0, '1x20'), sentinelUp(1, '0x20'), sentinelUp(2, '0x20'), ckquorum(0, false, '0x20')],
              at: '5m',
              alerts: [{ ...podAt(0), master_name: PRIMARY_NAME }],
            },
            // No Sentinel answers at all.
            { series: [sentinelUp(0, '0x20'), sentinelUp(1, '0x20'), sentinelUp(2, '0x20')], at: '5m', alerts: [namespaceOnly] },
          ],
          quiet: [
            { series: [sentinelUp(0, '1x20'), sentinelUp(1, '0x20'), sentinelUp(2, '0x20'), ckquorum(0, false, '0x20')], at: '1m' },
            { series: healthySentinels, at: '5m' },
            // One Sentinel of three down: the other two still reach the quorum.
            { series: [sentinelUp(0, '1x20'), sentinelUp(1, '1x20'), sentinelUp(2, '0x20'), ckquorum(0, true, '1x20'), ckquorum(1, true, '1x20')], at: '5m' },
            // A brief NOQUORUM that recovers (the message changes with the answer).
            { series: [sentinelUp(0, '1x20'), ckquorum(0, false, '0 0 stale'), ckquorum(0, true, '_ _ 1x18')], at: '5m' },
          ],
        },
      },
      {
        alert: 'RedisFailoverHappened',
        expr: [
          `max by (namespace, master_name) (redis_sentinel_master_config_epoch{${SN}})`,
          `> max by (namespace, master_name) (redis_sentinel_master_config_epoch{${SN}} offset 15m)`,
        ].join('\n'),
        severity: 'warning',
        team: 'database',
        summary: 'The Redis Sentinels in {{ $labels.namespace }} switched the primary {{ $labels.master_name }}.',
        description:
          'In the last 15 minutes the highest configuration epoch the Sentinels in {{ $labels.namespace }} report for {{ $labels.master_name }} rose: a failover promoted another instance. Check why, and that clients followed.',
        runbook: {
          meaning:
            "Every failover (automatic, or `SENTINEL FAILOVER`) gives the primary's configuration a new, higher epoch, which every Sentinel learns. The alert compares the highest epoch any Sentinel reports now with the highest 15 minutes ago, so a Sentinel that starts afresh and reports 0 until it learns the epoch from its peers does not trigger it. It resolves by itself 15 minutes after the failover.",
          impact:
            'Writes failed for the seconds the switch took (down-after 5 s plus the election); the redis-primary proxy cut connections to the old primary and sends new ones to the new primary. Writes the old primary acknowledged but had not replicated are lost (asynchronous replication, bounded by min-replicas-max-lag).',
          diagnosis: [
            `The new primary and epoch: ${sentinel(`SENTINEL MASTER ${PRIMARY_NAME}`)} (ip, config-epoch) and ${sentinel(`SENTINEL REPLICAS ${PRIMARY_NAME}`)}.`,
            `Why: \`kubectl -n ${supabase} logs redis-0 -c sentinel\` ("+sdown master", "+odown", "+elected-leader", "+selected-slave", "+switch-master"), and the old primary's pod (\`kubectl -n ${supabase} describe pod <pod>\`, OOMKilled, KubeNodeNotReady).`,
            `Clients followed: ${proxyLogs} ("${PROXY_BACKEND}/redis-N is UP"), and the api's and Kong's error rates.`,
          ],
          mitigation: [
            `Nothing to do for a planned failover (a node drain, a rolling update). After an unplanned one, fix the cause; the old primary rejoins as a replica (RedisReplicaDisconnected until it has synchronised). ${FAILOVER_RUNBOOK} has the details.`,
          ],
        },
        tests: {
          fires: [
            // redis-0's and redis-1's Sentinels move to epoch 2 at 11 minutes; redis-2's lags behind.
            {
              series: [epoch(0, '1x10 2x20'), epoch(1, '1x10 2x20'), epoch(2, '1x30')],
              at: '15m',
              alerts: [{ namespace: supabase, master_name: PRIMARY_NAME }],
            },
          ],
          quiet: [
            { series: [epoch(0, '1x10 2x20'), epoch(1, '1x10 2x20'), epoch(2, '1x30')], at: '30m' },
            // A fresh Sentinel reports 0 until it learns epoch 3 from the others.
            { series: [epoch(0, '3x30'), epoch(1, '3x30'), epoch(2, '0x5 3x25')], at: '18m' },
            // A replaced Sentinel pod (a new address) starts at 0.
            { series: [epoch(0, '3x30'), epoch(1, '3x30'), epoch(2, '3x9 stale'), epoch(2, '_x12 0 0 3x15', 20)], at: '20m' },
          ],
        },
      },
      {
        alert: 'RedisProxyNoPrimary',
        expr: `max by (namespace, pod) (haproxy_backend_active_servers{${PX}}) == 0`,
        for: '1m',
        severity: 'critical',
        team: 'database',
        summary: 'HAProxy {{ $labels.pod }} has no Redis primary to send clients to.',
        description:
          "For a minute the HAProxy pod {{ $labels.namespace }}/{{ $labels.pod }} has had no server up in its backend: no Redis instance passes its role:master check, so clients of the primary's address (Kong's rate limiting, the product) cannot use Redis.",
        runbook: {
          meaning: `\`haproxy_backend_active_servers\` of the backend ${PROXY_BACKEND} is 0 in this pod: every Redis instance fails HAProxy's health check (connect, AUTH, INFO replication must say role:master, every second; two failures mark a server down). During a failover this lasts a few seconds; a minute means no instance is the primary (RedisNoPrimary), or this pod cannot check them (DNS, the password, the NetworkPolicy).`,
          impact:
            "Connections to the primary's address are refused or cut: Kong's rate limiting cannot count (it fails open or closed as configured), the product loses its cache, sessions and queues. Clients that ask the Sentinels directly are not affected.",
          diagnosis: [
            `HAProxy's view: ${proxyLogs} ("Server ${PROXY_BACKEND}/redis-N is DOWN, reason: Layer7 ... " with the check's answer, "backend ${PROXY_BACKEND} has no server available!"); \`haproxy_server_status{proxy="${PROXY_BACKEND}"}\` per server and state.`,
            `Is there a primary: ${sentinel(`SENTINEL MASTER ${PRIMARY_NAME}`)} and ${replication('redis-0')} (and redis-1, redis-2).`,
            `Only one proxy pod affected: \`kubectl -n ${supabase} get pods -l app.kubernetes.io/name=${JOBS.redisPrimary} -o wide\` and its log (DNS resolution of the redis-headless names, "-ERR invalid password" / WRONGPASS after a password rotation).`,
          ],
          mitigation: [
            `No primary: see RedisNoPrimary and ${FAILOVER_RUNBOOK}; HAProxy follows within two seconds of a promotion.`,
            `A primary exists but the checks fail: after a password rotation HAProxy still sends the old one (it reads REDIS_PASSWORD at start): \`kubectl -n ${supabase} rollout restart deployment/${JOBS.redisPrimary}\`. Otherwise fix DNS or the NetworkPolicy the log points at.`,
          ],
        },
        tests: {
          fires: [
            {
              series: [activeServers('x2x4z', 1, '1x5 0x15'), activeServers('q7w8e', 2, '1x5 0x15')],
              at: '9m',
              alerts: [
                { namespace: supabase, pod: `${JOBS.redisPrimary}-7c9d8f6b5-x2x4z` },
                { namespace: supabase, pod: `${JOBS.redisPrimary}-7c9d8f6b5-q7w8e` },
              ],
            },
          ],
          quiet: [
            // A failover: one sample without a primary.
            { series: [activeServers('x2x4z', 1, '1x5 0 1x14'), activeServers('q7w8e', 2, '1x20')], at: '7m' },
            { series: [activeServers('x2x4z', 1, '1x20'), activeServers('q7w8e', 2, '1x20')], at: '9m' },
            // Another backend without servers is not Redis's.
            { series: [activeServers('x2x4z', 1, '0x20', 'stats')], at: '9m' },
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
        description:
          'Redis {{ $labels.namespace }}/{{ $labels.pod }} has used more than 90% of its maxmemory for 5 minutes. With the noeviction policy, writes fail with OOM errors once it is full.',
        runbook: {
          meaning:
            "The dataset approaches `maxmemory`, which the chart sets to a share of the container's memory limit (`components.redis.maxmemoryPercent`). The policy is `noeviction` unless the environment chose another: Redis never drops keys by itself.",
          impact:
            'At maxmemory every write command fails with "OOM command not allowed": the worker cannot enqueue jobs and the api cannot cache or rate-limit. Reads keep working.',
          diagnosis: [
            `Memory breakdown: \`${cli()} INFO memory\` (used_memory, used_memory_peak, maxmemory, mem_fragmentation_ratio).`,
            `What is big: \`${cli()} --bigkeys\` and \`${cli()} INFO keyspace\` (keys and keys with expiry per database).`,
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
            `Connections by client: \`${cli()} CLIENT LIST\` — group the output by \`addr\` and \`name\`; \`${cli()} INFO clients\` shows connected_clients and maxclients.`,
            'Map the addresses to pods: `kubectl get pods -A -o wide | grep <ip>`; the api and worker in the app namespace are the usual clients.',
          ],
          mitigation: [
            'Restart the leaking client (`kubectl -n <namespace> rollout restart deployment/<name>`, or abort the api release) and fix its pool size or connection reuse.',
            `As a stop-gap, close idle connections: \`${cli()} CLIENT KILL ADDR <ip:port>\` for the offender's connections.`,
          ],
        },
        tests: {
          fires: [{ series: [series('redis_rejected_connections_total', exporter, '0 0 0 5 10 15 20 25 30 35 40')], at: '8m', alerts: [at] }],
          quiet: [
            { series: [series('redis_rejected_connections_total', exporter, '12x10')], at: '8m' },
            // The Sentinel's own counter (its exporter serves the same name) is not Redis's.
            {
              series: [
                series('redis_rejected_connections_total', exporter, '12x10'),
                series('redis_rejected_connections_total', sntl(0), '0 0 0 5 10 15 20 25 30 35 40'),
              ],
              at: '8m',
            },
          ],
        },
      },
      {
        alert: 'RedisRdbBgsaveFailed',
        expr: `max by (namespace, pod) (redis_rdb_last_bgsave_status{${RD}}) == 0`,
        for: '1m',
        severity: 'critical',
        team: 'database',
        summary: 'Redis {{ $labels.pod }} failed its last RDB snapshot and refuses writes.',
        description:
          'The last background save (RDB snapshot) of Redis {{ $labels.namespace }}/{{ $labels.pod }} failed. With stop-writes-on-bgsave-error, Redis refuses writes until a snapshot succeeds.',
        runbook: {
          meaning:
            'The forked child that writes `dump.rdb` failed: no disk space, an I/O error, or the fork itself failed for lack of memory. The backup job copies this file, so it is also the Redis backup.',
          impact:
            'On the primary, writes fail with "MISCONF Redis is configured to save RDB snapshots, but it\'s currently unable to persist to disk": the worker cannot enqueue, the api cannot cache. On any instance, a backup taken from it would copy a stale snapshot.',
          diagnosis: [
            `Status: \`${cli()} INFO persistence\` (rdb_last_bgsave_status, rdb_last_bgsave_time_sec, rdb_changes_since_last_save).`,
            `Why: \`kubectl -n ${supabase} logs <pod> -c redis | grep -i -E "background saving|fork|error"\`.`,
            `Disk: \`kubectl -n ${supabase} exec <pod> -c redis -- df -h /data\` (see KubePersistentVolumeAlmostFull); fork failures show "Can't save in background: fork: Cannot allocate memory".`,
          ],
          mitigation: [
            'Free or grow the volume, or give the pod memory headroom above maxmemory for the fork (lower `maxmemoryPercent` or raise the limit in `environments/<env>.ts`).',
            `Then trigger a snapshot: \`${cli()} BGSAVE\`; when it succeeds, writes are accepted again and the alert resolves.`,
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
        description:
          'The last write to the append-only file of Redis {{ $labels.namespace }}/{{ $labels.pod }} failed. Redis refuses writes while it cannot log them, and acknowledged writes are not durable.',
        runbook: {
          meaning:
            'Redis could not append to (or fsync) the AOF in `/data/appendonlydir`: the volume is full or failing. The AOF is what makes writes survive a restart (at most one second lost).',
          impact:
            'On the primary, Redis answers writes with errors until the AOF write succeeds again; anything written in memory since the failure is lost if the pod restarts now (on a replica it is still on the primary and the other replica).',
          diagnosis: [
            `Status: \`${cli()} INFO persistence\` (aof_last_write_status, aof_last_bgrewrite_status, aof_current_size).`,
            `Disk: \`kubectl -n ${supabase} exec <pod> -c redis -- df -h /data\`; the log names the error: \`kubectl -n ${supabase} logs <pod> -c redis | grep -i aof\`.`,
            'Node or volume errors: `kubectl describe node <node>` and the cloud console for the disk.',
          ],
          mitigation: [
            'Give the volume room (grow it, see KubePersistentVolumeAlmostFull); Redis retries the write by itself and recovers.',
            `Do not restart the pod while the AOF is failing: the unwritten data is only in memory. If the volume itself is broken, copy the data off first: \`kubectl -n ${supabase} exec <pod> -c redis -- redis-cli --rdb - > redis-$(date +%s).rdb\` streams a snapshot to your machine (BGSAVE would write to the same broken disk).`,
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
