// Workloads of the platform's namespaces as Kubernetes sees them (kube-state-metrics and the
// kubelet): crash loops, missing replicas, stuck rollouts, maxed-out autoscalers, filling volumes,
// failed Jobs; plus per-namespace CPU and memory recorded for the dashboards. Every rule
// aggregates to the object's identity (namespace and name), so extra labels kube-state-metrics
// adds (uid, reason) or a second copy of it during its own rollout never split or reset an alert.
import { JOBS } from '../metrics-catalogue';
import { ksm, series } from './series';
import type { RuleContext, RuleGroupSpec } from './types';

export function kubernetesRules(ctx: RuleContext): RuleGroupSpec {
  const { supabase, app, observability: obs } = ctx.namespaces;
  const inPlatform = `namespace=~"${supabase}|${app}|${obs}"`;
  const KSM = `job="${JOBS.kubeStateMetrics}", ${inPlatform}`;
  const KUBELET = `job="${JOBS.kubelet}", ${inPlatform}`;
  const CADVISOR = `job="${JOBS.cadvisor}", container!="", container!="POD"`;
  const deployment = (metric: string, name: string, values: string) => series(metric, ksm({ namespace: supabase, deployment: name }), values);
  const statefulset = (metric: string, values: string) => series(metric, ksm({ namespace: supabase, statefulset: 'postgres' }), values);
  const hpa = (current: number, min: number, max: number) => [
    series('kube_horizontalpodautoscaler_status_current_replicas', ksm({ namespace: supabase, horizontalpodautoscaler: 'kong' }), `${current}x30`),
    series('kube_horizontalpodautoscaler_spec_min_replicas', ksm({ namespace: supabase, horizontalpodautoscaler: 'kong' }), `${min}x30`),
    series('kube_horizontalpodautoscaler_spec_max_replicas', ksm({ namespace: supabase, horizontalpodautoscaler: 'kong' }), `${max}x30`),
  ];
  const volume = (pvc: string, available: string, capacity = 10 * 2 ** 30) => {
    const labels = { job: JOBS.kubelet, instance: 'ip-10-0-1-10', namespace: supabase, persistentvolumeclaim: pvc };
    return [
      series('kubelet_volume_stats_available_bytes', labels, available),
      series('kubelet_volume_stats_capacity_bytes', labels, `${capacity}x100`),
      // Only "is anything stored at all" matters to the rules.
      series('kubelet_volume_stats_used_bytes', labels, `${capacity / 2}x100`),
    ];
  };
  const crashLoop = (namespace: string, reason: string) => [
    series('kube_pod_container_status_waiting_reason', ksm({ namespace, pod: 'auth-5d8f9c7b6-k2j4x', container: 'auth', reason, uid: '3f1c' }), '1x30'),
  ];
  /** The Progressing condition of the worker Deployment, as kube-state-metrics reports it: one series per status. */
  const progressing = (ok: boolean) =>
    (['true', 'false'] as const).map((status) =>
      series(
        'kube_deployment_status_condition',
        ksm({ namespace: app, deployment: 'worker', condition: 'Progressing', status, reason: ok ? 'NewReplicaSetAvailable' : 'ProgressDeadlineExceeded' }),
        `${(status === 'true') === ok ? 1 : 0}x30`,
      ),
    );
  const failedJob = (value: number) => [
    series(
      'kube_job_failed',
      ksm({ namespace: supabase, job_name: 'postgres-basebackup-29012460', condition: 'true', reason: 'BackoffLimitExceeded' }),
      `${value}x30`,
    ),
  ];
  const byNamespace = (metric: string) => `sum by (namespace) (${metric})`;

  return {
    name: 'kubernetes',
    rules: [
      {
        record: 'namespace:container_cpu_usage_seconds:rate5m',
        expr: byNamespace(`rate(container_cpu_usage_seconds_total{${CADVISOR}}[5m])`),
        tests: [
          {
            series: [
              series('container_cpu_usage_seconds_total', { job: JOBS.cadvisor, namespace: supabase, pod: 'postgres-0', container: 'postgres' }, '0+60x10'),
              series('container_cpu_usage_seconds_total', { job: JOBS.cadvisor, namespace: supabase, pod: 'postgres-0', container: 'exporter' }, '0+30x10'),
              // The pod's own cgroup (container="") repeats its containers' usage: not counted twice.
              series('container_cpu_usage_seconds_total', { job: JOBS.cadvisor, namespace: supabase, pod: 'postgres-0', container: '' }, '0+90x10'),
              series('container_cpu_usage_seconds_total', { job: JOBS.cadvisor, namespace: app, pod: 'worker-7c9-2x', container: 'worker' }, '0+6x10'),
            ],
            at: '10m',
            expect: [
              { labels: `{namespace="${supabase}"}`, value: 1.5 },
              { labels: `{namespace="${app}"}`, value: 0.1 },
            ],
          },
        ],
      },
      {
        record: 'namespace:container_memory_working_set_bytes:sum',
        expr: byNamespace(`container_memory_working_set_bytes{${CADVISOR}}`),
        tests: [
          {
            series: [
              series('container_memory_working_set_bytes', { job: JOBS.cadvisor, namespace: supabase, pod: 'redis-0', container: 'redis' }, '300x5'),
              series('container_memory_working_set_bytes', { job: JOBS.cadvisor, namespace: supabase, pod: 'redis-0', container: 'exporter' }, '20x5'),
              series('container_memory_working_set_bytes', { job: JOBS.cadvisor, namespace: supabase, pod: 'redis-0', container: 'POD' }, '1x5'),
            ],
            at: '5m',
            expect: [{ labels: `{namespace="${supabase}"}`, value: 320 }],
          },
        ],
      },
      {
        alert: 'KubePodCrashLooping',
        expr: `max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{${KSM}, reason="CrashLoopBackOff"}[5m])) >= 1`,
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} is crash looping.',
        description:
          'Container {{ $labels.container }} in pod {{ $labels.namespace }}/{{ $labels.pod }} has been in CrashLoopBackOff for 15 minutes: it starts, exits, and Kubernetes waits ever longer before starting it again.',
        runbook: {
          meaning:
            'The container keeps exiting (error, failed liveness probe or OOM kill) and the kubelet restarts it with an exponential back-off of up to five minutes. The alert looks at the last five minutes, so the short "Running" spells between crashes do not resolve it.',
          impact: `The pod serves nothing while it crash loops. Deployments with more replicas keep serving at reduced capacity; the singletons do not: postgres-0 in ${supabase} means the database is down, redis-0 in a one-instance environment (dev) means the cache is down, the scheduler in ${app} means no scheduled jobs run. With three Redis instances (staging, production) one crash-looping redis pod costs redundancy, and a failover if it held the primary (RedisFailoverHappened).`,
          diagnosis: [
            'Why did the last run end: `kubectl -n <namespace> describe pod <pod>`; look at "Last State" (exit code, reason OOMKilled) and the events (failed probes, failed mounts).',
            'What did it print before it died: `kubectl -n <namespace> logs <pod> -c <container> --previous`.',
            'Exit code 137 with reason OOMKilled: compare `container_memory_working_set_bytes` with the limit in the environment file (`environments/<env>.ts`).',
            `A Supabase service (auth, rest, realtime, storage) that cannot reach PostgreSQL crash loops too: check postgres-0 first (\`kubectl -n ${supabase} get pod postgres-0\`).`,
            'Missing Secret or key: the events say `secret "..." not found` or `couldn\'t find key`; dev Secrets come from `npm run cli -- secrets --env dev`, the others from External Secrets (`kubectl -n <namespace> get externalsecrets`).',
          ],
          mitigation: [
            "If a release caused it, roll back through Git (revert the promote commit, see docs/runbooks/deployment.md); `kubectl rollout undo` only lasts until Argo CD's next sync.",
            "If it is out of memory, raise the container's memory in `environments/<env>.ts`, run `npm run synth` and merge; the quota check in synth tells you if the namespace has room.",
            'If a dependency is down (database, cache, Secret), fix that; the pod recovers by itself at its next restart, or at once with `kubectl -n <namespace> delete pod <pod>`.',
          ],
        },
        tests: {
          fires: [
            { series: crashLoop(supabase, 'CrashLoopBackOff'), at: '20m', alerts: [{ namespace: supabase, pod: 'auth-5d8f9c7b6-k2j4x', container: 'auth' }] },
          ],
          quiet: [
            { series: crashLoop(supabase, 'CrashLoopBackOff'), at: '10m' },
            { series: crashLoop(supabase, 'ContainerCreating'), at: '20m' },
            // Outside the platform's namespaces: not ours to page on.
            { series: crashLoop('kube-system', 'CrashLoopBackOff'), at: '20m' },
          ],
        },
      },
      {
        alert: 'KubeDeploymentReplicasMismatch',
        expr: [
          `max by (namespace, deployment) (kube_deployment_spec_replicas{${KSM}})`,
          `  > max by (namespace, deployment) (kube_deployment_status_replicas_available{${KSM}})`,
          'and on (namespace, deployment)',
          `  max by (namespace, deployment) (changes(kube_deployment_status_replicas_updated{${KSM}}[10m])) == 0`,
        ].join('\n'),
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has fewer available replicas than it wants.',
        description:
          'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has had fewer available replicas than desired for 15 minutes while no rollout was making progress.',
        runbook: {
          meaning:
            'Some replicas of the Deployment are not available (not created, not scheduled, or not ready) and nothing is rolling out, so Kubernetes is not about to fix it by itself.',
          impact: `Less capacity and less redundancy: the PodDisruptionBudget may now block node drains, and one more failure can take the service down. For Kong in ${supabase} it means fewer gateways for all public traffic.`,
          diagnosis: [
            'Which pods are missing and why: `kubectl -n <namespace> get pods -l app.kubernetes.io/name=<deployment> -o wide` and `kubectl -n <namespace> describe deployment <deployment>`.',
            "Pending pods: `kubectl -n <namespace> describe pod <pod>` shows the scheduler's reason (insufficient CPU or memory, anti-affinity or zone spread that no node satisfies, quota exceeded).",
            'Quota: `kubectl -n <namespace> describe resourcequota platform-quota`; a ReplicaSet that cannot create pods says so in `kubectl -n <namespace> get events --field-selector reason=FailedCreate`.',
            'Pods running but not ready: their readiness probe fails; read their logs.',
          ],
          mitigation: [
            'Not enough nodes: add capacity (node group size) or lower requests in the environment file; anti-affinity spreads replicas across hosts, so N replicas need N schedulable nodes.',
            'Quota too small: raise the namespace quota in `environments/<env>.ts`; synth checks that the components fit it.',
            'Failing readiness: fix the dependency or roll back the release through Git.',
          ],
        },
        tests: {
          fires: [
            {
              series: [
                deployment('kube_deployment_spec_replicas', 'rest', '3x40'),
                deployment('kube_deployment_status_replicas_available', 'rest', '2x40'),
                deployment('kube_deployment_status_replicas_updated', 'rest', '3x40'),
              ],
              at: '30m',
              alerts: [{ namespace: supabase, deployment: 'rest' }],
            },
          ],
          quiet: [
            {
              series: [
                deployment('kube_deployment_spec_replicas', 'rest', '3x40'),
                deployment('kube_deployment_status_replicas_available', 'rest', '2x40'),
                deployment('kube_deployment_status_replicas_updated', 'rest', '3x40'),
              ],
              at: '10m',
            },
            // A rollout in progress: updated replicas keep changing.
            {
              series: [
                deployment('kube_deployment_spec_replicas', 'rest', '3x40'),
                deployment('kube_deployment_status_replicas_available', 'rest', '2x40'),
                deployment('kube_deployment_status_replicas_updated', 'rest', Array.from({ length: 40 }, (_, i) => (i % 3) + 1).join(' ')),
              ],
              at: '30m',
            },
          ],
        },
      },
      {
        alert: 'KubeStatefulSetReplicasMismatch',
        expr: [
          `max by (namespace, statefulset) (kube_statefulset_status_replicas_ready{${KSM}})`,
          `  != max by (namespace, statefulset) (kube_statefulset_replicas{${KSM}})`,
          'and on (namespace, statefulset)',
          `  max by (namespace, statefulset) (changes(kube_statefulset_status_replicas_updated{${KSM}}[10m])) == 0`,
        ].join('\n'),
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} does not have its replicas ready.',
        description: 'StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has had a different number of ready replicas than desired for 15 minutes.',
        runbook: {
          meaning: `The StatefulSet's pods are not all ready. In this platform the StatefulSets are postgres and redis in ${supabase} (redis: one pod in dev; in staging and production three, redis-0..2, a primary and two replicas with a Sentinel beside each), and the observability chart's stateful services in ${obs}.`,
          impact:
            'With one replica, not ready means down: no PostgreSQL means Auth, PostgREST, Realtime, Storage and the api fail; no Redis (dev) means the api and worker lose their cache and queues. PostgresDown or RedisDown fire as well. With three Redis instances one pod not ready costs redundancy: if it held the primary the Sentinels promote a replica, and RedisNoPrimary fires if they do not.',
          diagnosis: [
            'Pod state: `kubectl -n <namespace> get pods -l app.kubernetes.io/name=<statefulset> -o wide` and `kubectl -n <namespace> describe pod <pod>` for the one not ready.',
            'Pending with "volume node affinity conflict": the PersistentVolume is bound to a zone with no schedulable node; check `kubectl get pv` and the nodes of that zone.',
            `Running but not ready: PostgreSQL may be replaying WAL after a crash (the startup probe allows an hour); \`kubectl -n ${supabase} logs postgres-0 -c postgres\` shows "redo in progress". Redis answers LOADING while it reads its AOF.`,
            'Stuck rollout: a StatefulSet replaces pods one at a time and waits for readiness; `kubectl -n <namespace> rollout status statefulset/<statefulset>`.',
          ],
          mitigation: [
            'Let crash recovery finish; do not delete a pod that is replaying WAL, it starts over.',
            "Zone or capacity problems: add a node in the volume's zone, or free resources; never delete the PersistentVolumeClaim, it holds the data.",
            'A bad configuration change (the pod restarts on every change of its ConfigMap): revert it in Git and let Argo CD sync; if the pod is stuck on the broken revision, delete the pod after the revert so it restarts with the fixed one.',
          ],
        },
        tests: {
          fires: [
            {
              series: [
                statefulset('kube_statefulset_replicas', '1x40'),
                statefulset('kube_statefulset_status_replicas_ready', '0x40'),
                statefulset('kube_statefulset_status_replicas_updated', '1x40'),
              ],
              at: '20m',
              alerts: [{ namespace: supabase, statefulset: 'postgres' }],
            },
          ],
          quiet: [
            {
              series: [
                statefulset('kube_statefulset_replicas', '1x40'),
                statefulset('kube_statefulset_status_replicas_ready', '0x40'),
                statefulset('kube_statefulset_status_replicas_updated', '1x40'),
              ],
              at: '14m',
            },
            {
              series: [
                statefulset('kube_statefulset_replicas', '1x40'),
                statefulset('kube_statefulset_status_replicas_ready', '1x40'),
                statefulset('kube_statefulset_status_replicas_updated', '1x40'),
              ],
              at: '20m',
            },
          ],
        },
      },
      {
        alert: 'KubeDeploymentRolloutStuck',
        expr: `max by (namespace, deployment) (kube_deployment_status_condition{${KSM}, condition="Progressing", status="false"}) == 1`,
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'Rollout of Deployment {{ $labels.namespace }}/{{ $labels.deployment }} is stuck.',
        description:
          'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has exceeded its progress deadline: new pods do not become ready, and the rollout has stopped.',
        runbook: {
          meaning:
            "The Deployment's Progressing condition is False: the new ReplicaSet did not make progress within `progressDeadlineSeconds` (10 minutes by default). Kubernetes does not roll back by itself; old pods keep serving.",
          impact:
            'The change that was being deployed (image, configuration, Secret checksum) is not live, and the Deployment runs mixed versions until someone acts. Argo CD shows the application as Progressing or Degraded.',
          diagnosis: [
            'The reason: `kubectl -n <namespace> describe deployment <deployment>` (Conditions: ProgressDeadlineExceeded, ReplicaSetCreateError).',
            'The new pods: `kubectl -n <namespace> get pods -l app.kubernetes.io/name=<deployment>` and, for the newest ones, `describe` and `logs`.',
            'Image problems show as ErrImagePull/ImagePullBackOff: check the digest in `environments/releases/<env>.json` or `lib/images.ts`.',
          ],
          mitigation: [
            'Revert the commit that changed the Deployment and merge; Argo CD rolls back to the previous ReplicaSet.',
            'If the new version needs something missing (Secret key, migration), add it and re-sync; the rollout resumes by itself once pods become ready.',
          ],
        },
        tests: {
          fires: [{ series: progressing(false), at: '20m', alerts: [{ namespace: app, deployment: 'worker' }] }],
          quiet: [
            { series: progressing(false), at: '10m' },
            { series: progressing(true), at: '20m' },
          ],
        },
      },
      {
        alert: 'KubeHpaMaxedOut',
        expr: [
          `max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{${KSM}})`,
          `  == max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{${KSM}})`,
          'and on (namespace, horizontalpodautoscaler)',
          `  max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{${KSM}})`,
          `  != max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_min_replicas{${KSM}})`,
        ].join('\n'),
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has been at its maximum for 15 minutes.',
        description:
          'HorizontalPodAutoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run at its maximum replica count for 15 minutes: if load grows further, it cannot add pods.',
        runbook: {
          meaning:
            "Load (CPU or memory against the requests) stays above the HPA's target even with the maximum number of replicas. HPAs exist in staging and production for Kong, the Supabase services and the api and worker.",
          impact: 'No headroom: more traffic means higher latency and errors (KongHighLatencyP95, KongHighErrorRate). Not an outage by itself.',
          diagnosis: [
            'Current metrics against targets: `kubectl -n <namespace> describe hpa <hpa>`.',
            'Is the load real? Compare request rates on the gateway dashboard (`service:kong_http_requests:rate5m`) with last week; look for a single consumer or route driving it.',
            'Is a dependency slow? Pods waiting on PostgreSQL burn no CPU but hold connections; check PostgresTooManyConnections and PostgresLongRunningTransaction.',
          ],
          mitigation: [
            'Genuine growth: raise `maxReplicas` (and the namespace quota) in `environments/<env>.ts`, synth, merge; check that the nodes can hold the extra pods.',
            "Abusive traffic: tighten the gateway's rate limits (`environments/<env>.ts`, gateway rateLimits) rather than scaling for it.",
            'Inefficient release: roll back through Git.',
          ],
        },
        tests: {
          fires: [{ series: hpa(6, 2, 6), at: '20m', alerts: [{ namespace: supabase, horizontalpodautoscaler: 'kong' }] }],
          quiet: [
            { series: hpa(6, 2, 6), at: '10m' },
            { series: hpa(4, 2, 6), at: '20m' },
            // A fixed-size HPA (min = max) is always "at max" by design.
            { series: hpa(2, 2, 2), at: '20m' },
          ],
        },
      },
      {
        alert: 'KubePersistentVolumeAlmostFull',
        expr: [
          'max by (namespace, persistentvolumeclaim) (',
          `  kubelet_volume_stats_available_bytes{${KUBELET}} / kubelet_volume_stats_capacity_bytes{${KUBELET}} < 0.03`,
          `  and kubelet_volume_stats_used_bytes{${KUBELET}} > 0`,
          ')',
        ].join('\n'),
        for: '1m',
        severity: 'critical',
        team: 'platform',
        summary: 'Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is almost full.',
        description:
          'PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 3% free space. Writes will fail when it is full.',
        runbook: {
          meaning: `The volume behind the claim is more than 97% full. The claims that matter most: \`data-postgres-0\` and \`data-redis-<n>\` (one per Redis instance) in ${supabase}, \`storage-files\` (Storage API objects), and the time-series and log volumes in ${obs}.`,
          impact:
            'When full: PostgreSQL cannot write WAL and stops (PANIC), Redis fails AOF writes and refuses writes, Storage uploads fail, Prometheus stops ingesting. This is an outage in minutes.',
          diagnosis: [
            'How full, and how fast: the volume dashboard, or `kubelet_volume_stats_available_bytes{persistentvolumeclaim="<pvc>"}` over the last day.',
            `PostgreSQL: what takes the space — \`kubectl -n ${supabase} exec postgres-0 -c postgres -- du -sh /var/lib/postgresql/data/pgdata/pg_wal /var/lib/postgresql/data/pgdata/base\`. A large pg_wal means WAL is retained: see PostgresReplicationSlotRetainingWAL and PostgresWALArchiveFailing.`,
            `Redis: \`kubectl -n ${supabase} exec <pod> -c redis -- du -sh /data/appendonlydir /data/dump.rdb\` (the pod of the claim data-<pod>); an AOF far larger than the dataset waits for a rewrite.`,
            'Can the volume grow: `kubectl get storageclass <class> -o jsonpath={.allowVolumeExpansion}`.',
          ],
          mitigation: [
            'Grow the volume: raise the size in `environments/<env>.ts` (`storage.sizes`) and merge. A StatefulSet\'s claim template cannot change in place: also patch the live claim, `kubectl -n <namespace> patch pvc <pvc> -p \'{"spec":{"resources":{"requests":{"storage":"<new size>"}}}}\'`, and wait for the resize to finish.',
            'PostgreSQL WAL: fix the cause (drop an abandoned replication slot, repair archiving); never delete files from pg_wal by hand.',
            'Redis: `redis-cli BGREWRITEAOF` compacts the AOF if there is room for the rewrite.',
          ],
        },
        tests: {
          fires: [
            { series: volume('data-postgres-0', `${2 ** 28}x10`), at: '2m', alerts: [{ namespace: supabase, persistentvolumeclaim: 'data-postgres-0' }] },
          ],
          quiet: [{ series: volume('data-postgres-0', `${2 ** 30}x10`), at: '2m' }],
        },
      },
      {
        alert: 'KubePersistentVolumeFillingUp',
        expr: [
          'max by (namespace, persistentvolumeclaim) (',
          `  kubelet_volume_stats_available_bytes{${KUBELET}} / kubelet_volume_stats_capacity_bytes{${KUBELET}} < 0.15`,
          `  and kubelet_volume_stats_used_bytes{${KUBELET}} > 0`,
          `  and predict_linear(kubelet_volume_stats_available_bytes{${KUBELET}}[6h], 4 * 24 * 3600) < 0`,
          ')',
        ].join('\n'),
        for: '1h',
        severity: 'warning',
        team: 'platform',
        summary: 'Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} will be full within four days.',
        description:
          'PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 15% free space and, at the rate of the last six hours, will be full within four days.',
        runbook: {
          meaning:
            'Less than 15% free and the trend of the last six hours reaches zero within four days. This is the early warning before KubePersistentVolumeAlmostFull.',
          impact: 'None yet. If nothing changes, the volume fills up and its workload stops writing (see KubePersistentVolumeAlmostFull).',
          diagnosis: [
            'Look at the growth over a week, not six hours: a one-off import or a backfill may explain the trend and end soon.',
            `PostgreSQL: largest databases and tables — \`SELECT datname, pg_size_pretty(pg_database_size(datname)) FROM pg_database\`; WAL kept by slots — see PostgresReplicationSlotRetainingWAL.`,
            `Prometheus or log storage in ${obs}: retention versus ingest; a new high-cardinality metric shows in \`prometheus_tsdb_head_series\`.`,
          ],
          mitigation: [
            'Plan the resize now, in working hours: raise `storage.sizes` in `environments/<env>.ts`, merge, and patch the live claim of the StatefulSet (see KubePersistentVolumeAlmostFull).',
            'Or free space: remove data that should not be there (old partitions, dead tuples after a large delete need VACUUM), shorten retention.',
          ],
        },
        tests: {
          fires: [
            {
              series: volume('data-redis-0', `${14 * 2 ** 30}-${10 * 2 ** 20}x80`, 100 * 2 ** 30),
              at: '70m',
              alerts: [{ namespace: supabase, persistentvolumeclaim: 'data-redis-0' }],
            },
          ],
          quiet: [
            { series: volume('data-redis-0', `${14 * 2 ** 30}-${10 * 2 ** 20}x80`, 100 * 2 ** 30), at: '50m' },
            // Nearly full but not growing: nothing to predict.
            { series: volume('data-redis-0', `${10 * 2 ** 30}x80`, 100 * 2 ** 30), at: '70m' },
          ],
        },
      },
      {
        alert: 'KubeJobFailed',
        expr: `max by (namespace, job_name) (kube_job_failed{${KSM}, condition="true"}) > 0`,
        for: '15m',
        severity: 'warning',
        team: 'platform',
        summary: 'Job {{ $labels.namespace }}/{{ $labels.job_name }} failed.',
        description:
          'Job {{ $labels.namespace }}/{{ $labels.job_name }} has failed (its backoff limit or deadline was reached). The alert lasts as long as the failed Job object exists.',
        runbook: {
          meaning: `A Job ended in the Failed condition. In this platform Jobs come from CronJobs (backups and the weekly restore drill in ${supabase}) and from operator actions (restores, load tests).`,
          impact: 'Whatever the Job should have done did not happen. A failed backup Job also raises BackupCronJobStale after a day if no later run succeeds.',
          diagnosis: [
            'Why: `kubectl -n <namespace> describe job <job>` (BackoffLimitExceeded, DeadlineExceeded) and the logs of its last pod, `kubectl -n <namespace> logs job/<job>`.',
            'Is it a one-off? `kubectl -n <namespace> get jobs --sort-by=.status.startTime` shows whether later runs of the same CronJob succeeded.',
          ],
          mitigation: [
            'Fix the cause (credentials, network policy, full target bucket), then rerun a CronJob by hand: `kubectl -n <namespace> create job --from=cronjob/<cronjob> <cronjob>-manual-$(date +%s)`.',
            "When the failure is understood, delete the failed Job (`kubectl -n <namespace> delete job <job>`) to resolve the alert; the CronJob's history limit removes it eventually anyway.",
          ],
        },
        tests: {
          fires: [{ series: failedJob(1), at: '20m', alerts: [{ namespace: supabase, job_name: 'postgres-basebackup-29012460' }] }],
          quiet: [
            { series: failedJob(1), at: '10m' },
            { series: failedJob(0), at: '20m' },
          ],
        },
      },
    ],
  };
}
