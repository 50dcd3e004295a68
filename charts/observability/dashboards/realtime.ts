// Realtime as its nodes report themselves: the Erlang cluster they form, websocket clients and
// channels, messages by kind, latencies, and the Erlang VM. Metric names: metrics-catalogue.ts
// (supabase/realtime v2.102.3, PromEx).
//
// Every pod's /metrics answers with the series of every node of the cluster (each tagged with the
// node's own host label), so Prometheus holds one copy of a node's series per pod it scrapes.
// Each query first keeps one copy per node, `max without (instance, pod)` (the labels that tell
// the scraping pods apart), and only then adds nodes up. The exception is the cluster panel,
// which is about the scraping pods themselves: how many nodes each one reports, and `up`.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { REALTIME_SERVICE } from '../../supabase/realtime';
import { JOBS } from '../metrics-catalogue';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, platformDashboard, sel, thresholds } from './panels';
import { withWorkload } from './workload';

/** The same series repeated by every scraping pod, kept once per node. */
export const ONE_COPY_PER_NODE = 'max without (instance, pod)';

export function realtime(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const s = sel({ namespace: ctx.namespaces.supabase, job: JOBS.realtime });
  /** One series per node (and per label of the metric's own). */
  const once = (expr: string) => `${ONE_COPY_PER_NODE} (${expr})`;
  const perNode = (metric: string) => `max by (host) (${once(`${metric}${s}`)})`;
  const rateOnce = (metric: string) => once(`rate(${metric}${s}[$__rate_interval])`);
  const cluster = (metric: string) => `sum(${once(`${metric}${s}`)})`;
  const quantile = (q: number, histogram: string, by: string[] = []) =>
    `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (${rateOnce(`${histogram}_bucket`)}))`;
  const dedupNote = "Every pod reports every node, so the query keeps one copy per node (label host, the node's pod IP) before adding them up.";

  const dashboard = platformDashboard(
    'realtime',
    'Realtime',
    'Supabase Realtime: the Erlang cluster of its pods, websocket clients and channels, broadcast, presence and Postgres Changes traffic, latencies, and the Erlang VM.',
    ['realtime', 'supabase'],
  )
    .withRow(new RowBuilder('Cluster'))
    .withPanel(
      p.stat({
        title: 'Cluster: nodes seen / pods',
        description:
          'The fewest nodes any pod reports (each pod answers for itself and every node it is connected to), and the Realtime pods Prometheus scraped. Healthy: the two are equal. Fewer nodes seen: a pod is cut off from the others, and broadcasts and presence do not reach its clients (the cluster ports in its NetworkPolicy, the headless Service, the cluster Secret supabase-realtime-cluster).',
        queries: [
          { expr: `min(count by (pod) (beam_stats_process_count${s}))`, legend: 'nodes seen' },
          { expr: `count(up${s} == 1)`, legend: 'pods' },
        ],
        noValue: '0',
      }),
    )
    .withPanel(
      p.stat({
        title: 'Websocket clients',
        description: `Clients connected by websocket, all nodes. ${dedupNote} Follows the product's traffic; a sudden drop to 0 with users online is an outage.`,
        queries: [{ expr: cluster('realtime_connections_global_connected') }],
        noValue: '0',
        unit: units.Short,
      }),
    )
    .withPanel(
      p.stat({
        title: 'Tenant connected to the database',
        description:
          "Nodes holding the tenant's database connection (Realtime connects when the first client joins and lets go some time after the last leaves). Healthy: 1 while clients are connected, 0 when none are; 0 with clients connected means broadcasts from the database and Postgres Changes have stopped.",
        queries: [{ expr: cluster('realtime_tenants_connected') }],
        noValue: '0',
      }),
    )
    .withPanel(
      p.stat({
        title: 'Channel errors (last hour)',
        description: `Errors while clients joined channels (bad or expired token, authorization refused, rate limits, the tenant's database unreachable). ${dedupNote} Healthy: a handful from expired tokens; by code in the panel below.`,
        queries: [{ expr: `sum(${once(`increase(realtime_channel_global_error${s}[1h])`)})` }],
        noValue: '0',
        unit: units.Short,
        thresholds: thresholds([
          [null, 'green'],
          [10, 'orange'],
          [100, 'red'],
        ]),
      }),
    )
    .withRow(new RowBuilder('Clients and channels'))
    .withPanel(
      p.timeseries({
        title: 'Websocket clients by node',
        description: `Clients connected to each node. ${dedupNote} Healthy: spread over the nodes; after a pod restarts its clients reconnect elsewhere and return slowly.`,
        queries: [{ expr: perNode('realtime_connections_global_connected'), legend: 'node {{host}}' }],
        unit: units.Short,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Open connections against the limit',
        description:
          "Connections open on each node's HTTP listener (websockets and plain requests) and the listener's limit. Healthy: far below the limit; near it new connections queue.",
        queries: [
          { expr: perNode('phoenix_connections_total'), legend: 'node {{host}} open' },
          { expr: `max(${once(`phoenix_connections_max${s}`)})`, legend: 'limit per node' },
        ],
        unit: units.Short,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Channel joins',
        description: `Channel joins per second by result. ${dedupNote} Healthy: errors a small share; a rise in errors with the Realtime logs naming RLS or tokens is the clients' side, with database errors it is ours.`,
        queries: [{ expr: `sum by (result) (${rateOnce('phoenix_channel_joined_total')})`, legend: '{{result}}' }],
        unit: units.OpsPerSecond,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Messages by kind',
        description: `Broadcast, presence and Postgres Changes messages per second, all nodes. ${dedupNote} Follows what the product sends; Postgres Changes at 0 while rows change means the tenant lost its replication.`,
        queries: [
          { expr: `sum(${rateOnce('realtime_channel_global_events')})`, legend: 'broadcast' },
          { expr: `sum(${rateOnce('realtime_channel_global_presence_events')})`, legend: 'presence' },
          { expr: `sum(${rateOnce('realtime_channel_global_db_events')})`, legend: 'postgres changes' },
        ],
        unit: units.OpsPerSecond,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Traffic in and out',
        description: `Bytes the nodes receive from and send to clients. ${dedupNote} Output grows with the number of subscribers of each message.`,
        queries: [
          { expr: `sum(${rateOnce('realtime_channel_global_input_bytes')})`, legend: 'in' },
          { expr: `sum(${rateOnce('realtime_channel_global_output_bytes')})`, legend: 'out' },
        ],
        unit: units.BytesPerSecondIEC,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Channel errors by code',
        description: `Channel errors per second by error code (Realtime's error codes, such as an unauthorized join or a rate limit). ${dedupNote} Healthy: no line or a thin one.`,
        queries: [{ expr: `sum by (code) (${rateOnce('realtime_channel_global_error')})`, legend: '{{code}}' }],
        unit: units.OpsPerSecond,
        min: 0,
        width: 8,
      }),
    )
    .withRow(new RowBuilder('Latency'))
    .withPanel(
      p.timeseries({
        title: 'Socket connect and message handling p95',
        description: `95th percentile of the time to accept a websocket, and of the time a channel takes to handle a client's message. ${dedupNote} Healthy: milliseconds; slow joins that need authorization wait for the database.`,
        queries: [
          { expr: quantile(0.95, 'phoenix_socket_connected_duration_milliseconds'), legend: 'socket connect' },
          { expr: quantile(0.95, 'phoenix_channel_handled_in_duration_milliseconds'), legend: 'message handling' },
        ],
        unit: units.Milliseconds,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'From the database to clients p95',
        description: `95th percentile of the time from a transaction's commit to its broadcast (Broadcast from the database), and of Postgres Changes' polling query. ${dedupNote} Empty when the product uses neither. Healthy: under a second; growth means replication lag or a busy database.`,
        queries: [
          { expr: quantile(0.95, 'realtime_tenants_broadcast_from_database_latency_committed_at'), legend: 'commit to broadcast' },
          { expr: quantile(0.95, 'realtime_replication_poller_query_duration'), legend: 'changes polling query' },
        ],
        unit: units.Milliseconds,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Calls between nodes',
        description: `Calls a node makes to another (gen_rpc and Erlang RPC), per second by outcome, and their 95th percentile. ${dedupNote} Healthy: no failures; failures mean a node is unreachable or overloaded.`,
        queries: [
          { expr: `sum by (success) (${rateOnce('realtime_global_rpc_count')})`, legend: 'success={{success}}' },
          { expr: quantile(0.95, 'realtime_global_rpc'), legend: 'p95 (ms)' },
        ],
        unit: units.Short,
        min: 0,
        width: 8,
      }),
    )
    .withRow(new RowBuilder('Erlang VM'))
    .withPanel(
      p.timeseries({
        title: 'Memory by node',
        description: `Memory the Erlang VM has allocated on each node, and the part held by processes (one or more per client) and binaries (messages in flight). ${dedupNote} Healthy: follows the number of clients; growth without clients is a leak.`,
        queries: [
          { expr: perNode('beam_memory_allocated_bytes'), legend: 'node {{host}} total' },
          { expr: perNode('beam_memory_processes_total_bytes'), legend: 'node {{host}} processes' },
          { expr: perNode('beam_memory_binary_total_bytes'), legend: 'node {{host}} binaries' },
        ],
        unit: units.BytesIEC,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Run queue by node',
        description: `Erlang processes ready to run and waiting for a scheduler, on each node (normal and dirty schedulers). ${dedupNote} Healthy: near 0; a standing queue means the node has too little CPU.`,
        queries: [{ expr: `sum by (host) (${once(`beam_stats_run_queue_count${s}`)})`, legend: 'node {{host}}' }],
        unit: units.Short,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Queues to other nodes',
        description: `Bytes waiting to be sent from one node to another, over Erlang distribution and gen_rpc (which carries broadcasts). ${dedupNote} Healthy: near 0; a queue that grows means the receiving node cannot keep up or the network between them is slow.`,
        queries: [
          { expr: `sum by (origin_node, target_node) (${once(`dist_queue_size${s}`)})`, legend: 'dist {{origin_node}} to {{target_node}}' },
          { expr: `sum by (origin_node, target_node) (${once(`gen_rpc_queue_size_bytes${s}`)})`, legend: 'gen_rpc {{origin_node}} to {{target_node}}' },
        ],
        unit: units.BytesIEC,
        min: 0,
        width: 8,
      }),
    );

  return dashboardFile(withWorkload(dashboard, p, ctx, { deployment: REALTIME_SERVICE, containers: ['realtime'] }));
}
