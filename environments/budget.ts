// What an environment asks of each namespace: every pod the platform can run at once (stateless
// services at their autoscaling maximum plus the 25% rollout surge), with its containers'
// resources and its volumes. Synth checks these against the namespace quotas and LimitRanges,
// which the API server would otherwise enforce only at deploy time, one rejected pod at a time.
import type { z } from 'zod';
import { num, type Resources } from './fields';
import type { Environment, NamespaceKey } from './schema';

interface PodBudget {
  /** Path of the component in the environment, for messages. */
  readonly path: readonly string[];
  readonly namespace: NamespaceKey;
  readonly pods: number;
  /** Each container's resources and the field path they come from. */
  readonly containers: readonly { readonly resources: Resources; readonly path: readonly string[] }[];
  /** Volume bytes and claims, in total (not per pod). */
  readonly storage: number;
  readonly claims: number;
}

const surge = (n: number) => Math.ceil(n * 1.25);

export function podBudgets(env: Environment): PodBudget[] {
  const pg = env.components.postgres;
  const redis = env.components.redis;
  const replicatedRedis = redis.replicas > 1;
  const poolers = Object.entries(pg.poolers).map(([name, p]): PodBudget => ({
    path: ['components', 'postgres', 'poolers', name],
    namespace: 'supabase',
    pods: surge(p.instances),
    containers: [{ resources: p.resources, path: ['components', 'postgres', 'poolers', name, 'resources'] }],
    storage: 0,
    claims: 0,
  }));
  const data: PodBudget[] = [
    // Each instance: PostgreSQL, the barman-cloud sidecar when there is an object store, a data and a WAL volume.
    {
      path: ['components', 'postgres'],
      namespace: 'supabase',
      pods: pg.instances,
      containers: [
        { resources: pg.resources, path: ['components', 'postgres', 'resources'] },
        ...(env.backup.objectStore ? [{ resources: pg.archiverResources, path: ['components', 'postgres', 'archiverResources'] }] : []),
      ],
      storage: (num(env.storage.sizes.postgres) + num(pg.walVolumeSize)) * pg.instances,
      claims: 2 * pg.instances,
    },
    ...poolers,
    // The bootstrap Job (Supabase's migrations), once per sync.
    { path: ['components', 'postgres', 'helperResources'], namespace: 'supabase', pods: 1, containers: [{ resources: pg.helperResources, path: ['components', 'postgres', 'helperResources'] }], storage: 0, claims: 0 },
    // Each instance: Redis and its exporter; with replicas also a Sentinel and its exporter.
    {
      path: ['components', 'redis'],
      namespace: 'supabase',
      pods: redis.replicas,
      containers: [
        { resources: redis.resources, path: ['components', 'redis', 'resources'] },
        { resources: redis.helperResources, path: ['components', 'redis', 'helperResources'] },
        ...(replicatedRedis
          ? [
              { resources: redis.sentinel.resources, path: ['components', 'redis', 'sentinel', 'resources'] },
              { resources: redis.helperResources, path: ['components', 'redis', 'helperResources'] },
            ]
          : []),
      ],
      storage: num(env.storage.sizes.redis) * redis.replicas,
      claims: redis.replicas,
    },
    // The HAProxy pods in front of a replicated Redis (a Deployment: rollout surge).
    ...(replicatedRedis
      ? [{ path: ['components', 'redis', 'proxy'], namespace: 'supabase' as const, pods: surge(redis.proxy.replicas), containers: [{ resources: redis.proxy.resources, path: ['components', 'redis', 'proxy', 'resources'] }], storage: 0, claims: 0 }]
      : []),
  ];
  const s = env.supabase;
  const stateless = (path: string[], svc: { replicas: number; autoscaling?: { maxReplicas: number }; resources: Resources }, extra: PodBudget['containers'] = [], storage = 0, claims = 0, namespace: NamespaceKey = 'supabase'): PodBudget => ({
    path,
    namespace,
    pods: surge(svc.autoscaling?.maxReplicas ?? svc.replicas),
    containers: [{ resources: svc.resources, path: [...path, 'resources'] }, ...extra],
    storage,
    claims,
  });
  const fileBackend = s.storageBackend.kind === 'file' ? s.storageBackend : undefined;
  return [
    ...data,
    stateless(['supabase', 'auth'], s.auth),
    stateless(['supabase', 'rest'], s.rest),
    stateless(['supabase', 'realtime'], s.realtime),
    stateless(['supabase', 'storage'], s.storage, [{ resources: s.imgproxy, path: ['supabase', 'imgproxy'] }], fileBackend ? num(fileBackend.size) : 0, fileBackend ? 1 : 0),
    stateless(['supabase', 'meta'], s.meta),
    ...(s.studioEnabled ? [stateless(['supabase', 'studio'], s.studio)] : []),
    stateless(['gateway', 'kong'], env.gateway.kong),
    stateless(['app', 'api'], env.app.api, [], 0, 0, 'app'),
    stateless(['app', 'worker'], env.app.worker, [], 0, 0, 'app'),
    // The scheduler is one pod, replaced with Recreate: no surge.
    { path: ['app', 'scheduler'], namespace: 'app', pods: 1, containers: [{ resources: env.app.scheduler.resources, path: ['app', 'scheduler', 'resources'] }], storage: 0, claims: 0 },
    // One load-test pod (k6, charts/loadtest): the Jobs run on demand, one at a time, next to the
    // product at its largest; counting it here keeps the quota from refusing the pod mid-release.
    { path: ['loadtest'], namespace: 'app', pods: 1, containers: [{ resources: env.loadtest.resources, path: ['loadtest', 'resources'] }], storage: 0, claims: 0 },
    ...observabilityBudgets(env),
    // The Redis snapshot volume, and one backup Job at a time (a snapshot, the drill's steps).
    { path: ['backup'], namespace: 'supabase', pods: 1, containers: [{ resources: env.backup.resources, path: ['backup', 'resources'] }], storage: num(env.backup.volumeSize), claims: 1 },
    // The volume snapshot CronJob (kubectl).
    { path: ['backup'], namespace: 'supabase', pods: 1, containers: [{ resources: env.backup.sidecarResources, path: ['backup', 'sidecarResources'] }], storage: 0, claims: 0 },
    // The weekly restore drill's scratch Cluster: one instance with a data and a WAL volume as big as the database's.
    ...(env.backup.objectStore
      ? [
          {
            path: ['backup', 'drill'],
            namespace: 'supabase' as const,
            pods: 1,
            containers: [{ resources: pg.resources, path: ['components', 'postgres', 'resources'] }, { resources: pg.archiverResources, path: ['components', 'postgres', 'archiverResources'] }],
            storage: num(env.storage.sizes.postgres) + num(pg.walVolumeSize),
            claims: 2,
          },
        ]
      : []),
  ];
}

/** Adds an issue for every quota the pods overflow and every container above its LimitRange max. */
export function checkBudgets(env: Environment, namespaces: readonly NamespaceKey[], ctx: z.RefinementCtx): void {
  const budgets = podBudgets(env);
  for (const ns of namespaces) {
    const members = budgets.filter((b) => b.namespace === ns);
    const quota = env.namespaces[ns].quota;
    const limitMax = env.namespaces[ns].limitRange.max;
    const sum = (pick: (r: Resources) => string) => members.reduce((t, b) => t + b.pods * b.containers.reduce((c, x) => c + num(pick(x.resources)), 0), 0);
    const checks: [string[], number, string, string][] = [
      [['requests', 'cpu'], sum((r) => r.requests.cpu), quota.requests.cpu, 'cores'],
      [['requests', 'memory'], sum((r) => r.requests.memory), quota.requests.memory, 'bytes'],
      [['limits', 'cpu'], sum((r) => r.limits.cpu), quota.limits.cpu, 'cores'],
      [['limits', 'memory'], sum((r) => r.limits.memory), quota.limits.memory, 'bytes'],
      [['requests', 'storage'], members.reduce((t, b) => t + b.storage, 0), quota.requests.storage, 'bytes'],
      [['persistentVolumeClaims'], members.reduce((t, b) => t + b.claims, 0), String(quota.persistentVolumeClaims), 'claims'],
      [['pods'], members.reduce((t, b) => t + b.pods, 0), String(quota.pods), 'pods'],
    ];
    const who = members.map((b) => b.path.at(-1)).join(' + ');
    for (const [path, needed, allowed, unit] of checks) {
      if (needed > num(allowed)) {
        ctx.addIssue({
          code: 'custom',
          path: ['namespaces', ns, 'quota', ...path],
          message: `${allowed} is less than the ${who} pods need (${Number(needed.toFixed(3))} ${unit}, stateless services counted at their maximum replicas plus rollout surge): raise the quota or shrink those components`,
        });
      }
    }
    for (const b of members) {
      for (const c of b.containers) {
        for (const key of ['cpu', 'memory'] as const) {
          if (num(c.resources.limits[key]) > num(limitMax[key])) {
            ctx.addIssue({
              code: 'custom',
              path: [...c.path, 'limits', key],
              message: `${c.resources.limits[key]} is above the ${ns} namespace's LimitRange max ${limitMax[key]}: the API server would reject the pod; lower it or raise namespaces.${ns}.limitRange.max.${key}`,
            });
          }
        }
      }
    }
  }
}

/** Monitoring, logs and traces: stores with one volume per pod, DaemonSets with one pod per node. */
function observabilityBudgets(env: Environment): PodBudget[] {
  const o = env.observability;
  const pods = (name: keyof typeof o, count: number, volume?: string, namespace: NamespaceKey = 'observability'): PodBudget => ({
    path: ['observability', name],
    namespace,
    pods: count,
    containers: [{ resources: (o[name] as { resources: Resources }).resources, path: ['observability', name, 'resources'] }],
    storage: volume ? num(volume) * count : 0,
    claims: volume ? count : 0,
  });
  return [
    pods('prometheus', 1, o.prometheus.volumeSize),
    pods('alertmanager', o.alertmanager.replicas, o.alertmanager.volumeSize),
    pods('grafana', 1, o.grafana.volumeSize),
    pods('loki', 1, o.loki.volumeSize),
    pods('tempo', 1, o.tempo.volumeSize),
    pods('otelCollector', surge(o.otelCollector.replicas)),
    pods('kubeStateMetrics', surge(1)),
    pods('alloy', env.nodes),
    pods('nodeExporter', env.nodes, undefined, 'node-exporter'),
  ];
}
