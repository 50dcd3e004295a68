// The cluster's nodes: readiness (kube-state-metrics) and, from node-exporter, disks, memory and
// the clock. node-exporter is scraped per node with the node's name as `instance`.
import { JOBS } from '../metrics-catalogue';
import { ksm, series } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

export function nodeRules(ctx: RuleContext): RuleGroupSpec {
  const NE = `job="${JOBS.nodeExporter}"`;
  // Real disks only: memory-backed and container image filesystems fill and empty by design.
  const FS = `${NE}, fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"`;

  const exporter = { job: JOBS.nodeExporter, instance: 'ip-10-0-1-10' };
  const disk = { ...exporter, device: '/dev/nvme0n1p1', fstype: 'ext4', mountpoint: '/' };
  const filesystem = (avail: string, readonly = 0, size = 100 * 2 ** 30) => [
    series('node_filesystem_avail_bytes', disk, avail),
    series('node_filesystem_size_bytes', disk, `${size}x100`),
    series('node_filesystem_readonly', disk, `${readonly}x100`),
  ];
  const memory = (availableGiB: number) => [
    series('node_memory_MemAvailable_bytes', exporter, `${availableGiB * 2 ** 30}x30`),
    series('node_memory_MemTotal_bytes', exporter, `${32 * 2 ** 30}x30`),
  ];
  const clock = (maxErrorSeconds: number) => [
    series('node_timex_sync_status', exporter, '0x30'),
    series('node_timex_maxerror_seconds', exporter, `${maxErrorSeconds}x30`),
  ];
  const node = (ready: number, unschedulable: number) => [
    series('kube_node_status_condition', ksm({ node: 'ip-10-0-1-10', condition: 'Ready', status: 'true' }), `${ready}x30`),
    series('kube_node_spec_unschedulable', ksm({ node: 'ip-10-0-1-10' }), `${unschedulable}x30`),
  ];

  return {
    name: 'node',
    rules: [
      {
        alert: 'KubeNodeNotReady',
        expr: [
          `max by (node) (kube_node_status_condition{job="${JOBS.kubeStateMetrics}", condition="Ready", status="true"}) == 0`,
          'and on (node)',
          `max by (node) (kube_node_spec_unschedulable{job="${JOBS.kubeStateMetrics}"}) == 0`,
        ].join('\n'),
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'Node {{ $labels.node }} is not ready.',
        description: 'Node {{ $labels.node }} has not been Ready for 15 minutes although it is schedulable (not cordoned for maintenance).',
        runbook: {
          meaning:
            'The kubelet on the node stopped reporting Ready: it lost contact with the API server, or reports disk, memory or PID pressure, or its container runtime is broken. Cordoned nodes are ignored, so planned maintenance does not page.',
          impact: `After about five minutes Kubernetes evicts the node's pods. Stateless pods move elsewhere; postgres-0 and the redis pods in ${ctx.namespaces.supabase} can only start where their volume can be attached (same zone), so a lost node can mean a database outage until the volume is released. Redis in staging and production runs three instances on separate nodes: if the node held the primary, the Sentinels promote a replica within seconds (RedisFailoverHappened) and the set runs on with one instance less.`,
          diagnosis: [
            'Conditions and events: `kubectl describe node <node>` (Ready reason, MemoryPressure, DiskPressure, PIDPressure, "Kubelet stopped posting node status").',
            'What ran there: `kubectl get pods -A -o wide --field-selector spec.nodeName=<node>`; check postgres-0 and the redis pods first.',
            'The machine itself: the cloud console (instance status checks), or the kubelet and runtime logs on the host (`journalctl -u kubelet -u containerd`).',
          ],
          mitigation: [
            'If the machine is gone or unresponsive, drain and replace it: `kubectl drain <node> --ignore-daemonsets --delete-emptydir-data`, then delete the node so the node group creates a new one.',
            'A StatefulSet pod stuck Terminating on a dead node blocks its replacement: once you are sure the machine is off, `kubectl -n <namespace> delete pod <pod> --force --grace-period=0` lets it start elsewhere (never while the old one may still be writing).',
            'Pressure conditions: free disk (images, logs) or memory on the node, or replace it with a larger one.',
          ],
        },
        tests: {
          fires: [{ series: node(0, 0), at: '20m', alerts: [{ node: 'ip-10-0-1-10' }] }],
          quiet: [
            { series: node(0, 0), at: '10m' },
            // Cordoned for maintenance.
            { series: node(0, 1), at: '20m' },
            { series: node(1, 0), at: '20m' },
          ],
        },
      },
      {
        alert: 'NodeFilesystemAlmostOutOfSpace',
        expr: [`node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}} * 100 < 3`, `and node_filesystem_readonly{${FS}} == 0`].join('\n'),
        for: '30m',
        severity: 'critical',
        team: 'platform',
        summary: 'Filesystem {{ $labels.mountpoint }} on node {{ $labels.instance }} is almost full.',
        description:
          'Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on node {{ $labels.instance }} has had less than 3% free space for 30 minutes.',
        runbook: {
          meaning:
            'A writable disk of the node is more than 97% full. On the root or container filesystem the kubelet soon starts evicting pods and garbage-collecting images.',
          impact:
            'Pods on the node get evicted (DiskPressure), new pods cannot pull images, logs are lost. If the filesystem holds volumes (local storage), their workloads stop writing.',
          diagnosis: [
            'What is large: from a debug pod on the node, `kubectl debug node/<node> -it --image=busybox -- du -xh -d2 /host/var | sort -h | tail`; usual suspects are container images (/var/lib/containerd), pod logs (/var/log/pods) and emptyDir volumes (/var/lib/kubelet/pods).',
            'A pod writing a huge emptyDir: `kubectl get pods -A -o wide --field-selector spec.nodeName=<node>`; the platform sets sizeLimit on its emptyDirs, a pod without one is suspicious.',
            'Is the kubelet already evicting: `kubectl describe node <node>` (DiskPressure condition, eviction events).',
          ],
          mitigation: [
            'Remove unused images: `crictl rmi --prune` on the node (the kubelet does this itself above its GC threshold).',
            'Delete the offending pod so its emptyDir is freed, then fix its sizeLimit or logging in its chart.',
            'Replace the node with one with a larger disk (node group template), draining it first.',
          ],
        },
        tests: {
          fires: [{ series: filesystem(`${2 * 2 ** 30}x60`), at: '40m', alerts: [disk] }],
          quiet: [
            { series: filesystem(`${2 * 2 ** 30}x60`), at: '20m' },
            { series: filesystem(`${10 * 2 ** 30}x60`), at: '40m' },
            // A read-only filesystem (e.g. a mounted image) is full by design.
            { series: filesystem(`${2 * 2 ** 30}x60`, 1), at: '40m' },
          ],
        },
      },
      {
        alert: 'NodeFilesystemSpaceFillingUp',
        expr: [
          `node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}} * 100 < 15`,
          `and predict_linear(node_filesystem_avail_bytes{${FS}}[6h], 24 * 60 * 60) < 0`,
          `and node_filesystem_readonly{${FS}} == 0`,
        ].join('\n'),
        for: '1h',
        severity: 'warning',
        team: 'platform',
        summary: 'Filesystem {{ $labels.mountpoint }} on node {{ $labels.instance }} will be full within a day.',
        description:
          'Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on node {{ $labels.instance }} has less than 15% free space and, at the rate of the last six hours, will be full within 24 hours.',
        runbook: {
          meaning: 'Less than 15% free and the six-hour trend reaches zero within a day: the early warning before NodeFilesystemAlmostOutOfSpace.',
          impact: 'None yet; within a day the node starts evicting pods.',
          diagnosis: [
            'Find what grows, as for NodeFilesystemAlmostOutOfSpace: images, pod logs or emptyDir volumes (`kubectl debug node/<node> -it --image=busybox -- du -xh -d2 /host/var`).',
            'A log storm from one pod grows /var/log/pods quickly: `kubectl logs --tail=20` of the busiest pods on the node, or the log volume by pod in Grafana.',
          ],
          mitigation: [
            'Stop the growth at its source (a chatty pod: fix its log level; many images: prune), or replace the node with a larger disk in working hours.',
          ],
        },
        tests: {
          fires: [{ series: filesystem(`${14 * 2 ** 30}-${20 * 2 ** 20}x80`), at: '70m', alerts: [disk] }],
          quiet: [
            { series: filesystem(`${14 * 2 ** 30}-${20 * 2 ** 20}x80`), at: '50m' },
            { series: filesystem(`${10 * 2 ** 30}x80`), at: '70m' },
          ],
        },
      },
      {
        alert: 'NodeMemoryHighUtilization',
        expr: `100 - node_memory_MemAvailable_bytes{${NE}} / node_memory_MemTotal_bytes{${NE}} * 100 > 90`,
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'Node {{ $labels.instance }} has used more than 90% of its memory for 15 minutes.',
        description:
          'Node {{ $labels.instance }} has had less than 10% of its memory available for 15 minutes; the kernel may soon kill processes and the kubelet evict pods.',
        runbook: {
          meaning:
            "MemAvailable (free memory plus what the kernel can reclaim) has stayed below 10% of the node's memory. Pods use more than their requests, or the node is overcommitted by limits.",
          impact:
            'The kubelet evicts pods under MemoryPressure (BestEffort and Burstable first) and the kernel OOM killer may kill containers. PostgreSQL killed by the OOM killer restarts with crash recovery.',
          diagnosis: [
            'Who uses it: `kubectl top pods -A --sort-by=memory` and, for the node, `kubectl describe node <node>` (Allocated resources: requests and limits against allocatable).',
            'Per namespace over time: `namespace:container_memory_working_set_bytes:sum` on the resources dashboard.',
            'Recent OOM kills: `container_oom_events_total` or `kubectl get events -A --field-selector reason=OOMKilling`.',
          ],
          mitigation: [
            'A pod far above its request: lower its usage or raise its request (and limit) in `environments/<env>.ts` so the scheduler places it honestly.',
            'Move load off the node: `kubectl drain <node> --ignore-daemonsets --delete-emptydir-data` at a quiet moment, then uncordon; or add nodes.',
          ],
        },
        tests: {
          fires: [{ series: memory(2), at: '20m', alerts: [exporter] }],
          quiet: [
            { series: memory(2), at: '10m' },
            { series: memory(8), at: '20m' },
          ],
        },
      },
      {
        alert: 'NodeClockNotSynchronising',
        expr: [`min_over_time(node_timex_sync_status{${NE}}[5m]) == 0`, `and node_timex_maxerror_seconds{${NE}} >= 16`].join('\n'),
        for: '10m',
        severity: 'warning',
        team: 'platform',
        summary: 'The clock of node {{ $labels.instance }} is not synchronising.',
        description: 'The clock of node {{ $labels.instance }} has not been synchronised by NTP for 10 minutes and its estimated error has reached 16 seconds.',
        runbook: {
          meaning:
            'The kernel reports the clock as unsynchronised and its maximum error is at least 16 seconds: chrony or systemd-timesyncd on the node cannot reach its time source.',
          impact:
            'Time matters here: JWTs issued by Auth carry iat/exp and are rejected by PostgREST or Realtime on another node when clocks disagree, signed transactions and quotes carry deadlines, TLS certificates look not-yet-valid or expired, and logs and traces from the node sort wrongly.',
          diagnosis: [
            'On the node (`kubectl debug node/<node> -it --image=busybox`, then `chroot /host`): `chronyc tracking` and `chronyc sources`, or `timedatectl timesync-status`.',
            'Can the node reach its NTP servers (UDP 123)? Cloud providers offer a link-local time source (169.254.169.123 on AWS); a firewall change may have blocked it.',
            'Compare with another node: `node_timex_offset_seconds` for all nodes.',
          ],
          mitigation: [
            'Restore the time source (firewall, chrony configuration) and restart the time daemon on the node.',
            'If the node stays out of sync, cordon and drain it so no signing or token-issuing pod runs there: `kubectl cordon <node>`, `kubectl drain <node> --ignore-daemonsets --delete-emptydir-data`.',
          ],
        },
        tests: {
          fires: [{ series: clock(16), at: '15m', alerts: [exporter] }],
          quiet: [
            { series: clock(16), at: '8m' },
            // Not synchronised right now, but the error is still small (the daemon just restarted).
            { series: clock(0.5), at: '15m' },
          ],
        },
      },
    ],
  };
}
