// What an environment asks of each namespace: every pod the platform can run at once (stateless
// services at their autoscaling maximum plus the rollout surge of lib/facts/rollout.ts), with
// its containers' resources and its volumes. Synth checks these against the namespace quotas and
// LimitRanges, which the API server would otherwise enforce only at deploy time, one rejected pod
// at a time.
import type { z } from 'zod';
import { podsDuringRollout as surge } from '../lib/facts/rollout';
import { num, type Resources } from './fields';
import type { NamespaceKey } from './names';
import type { Environment } from './shape';

interface PodBudget {
  /** Path of the component in the environment. */
  readonly path: readonly string[];
  /** What the pods are, for messages ("postgres", "rw pooler", "restore drill"); defaults to the path's last part. */
  readonly name?: string;
  readonly namespace: NamespaceKey;
  readonly pods: number;
  /** Each container's resources and the field path they come from. */
  readonly containers: readonly { readonly resources: Resources; readonly path: readonly string[] }[];
  /** Volume bytes and claims, in total (not per pod). */
  readonly storage: number;
  readonly claims: number;
}

export function podBudgets(env: Environment): PodBudget[] {
  const pg = env.components.postgres;
  const redis = env.components.redis;
  const replicatedRedis = redis.replicas > 1;
  const poolers = Object.entries(pg.poolers).map(([name, p]): PodBudget => ({
    path: ['components', 'postgres', 'poolers', name],
    name: `${name} pooler`,
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
    {
      path: ['components', 'postgres', 'helperResources'],
      name: 'bootstrap Job',
      namespace: 'supabase',
      pods: 1,
      containers: [{ resources: pg.helperResources, path: ['components', 'postgres', 'helperResources'] }],
      storage: 0,
      claims: 0,
    },
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
      ? [
          {
            path: ['components', 'redis', 'proxy'],
            name: 'redis proxy',
            namespace: 'supabase' as const,
            pods: surge(redis.proxy.replicas),
            containers: [{ resources: redis.proxy.resources, path: ['components', 'redis', 'proxy', 'resources'] }],
            storage: 0,
            claims: 0,
          },
        ]
      : []),
  ];
  const s = env.supabase;
  const stateless = (
    path: string[],
    svc: { replicas: number; autoscaling?: { maxReplicas: number }; resources: Resources },
    extra: PodBudget['containers'] = [],
    storage = 0,
    claims = 0,
    namespace: NamespaceKey = 'supabase',
  ): PodBudget => ({
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
    stateless(
      ['supabase', 'storage'],
      s.storage,
      [{ resources: s.imgproxy, path: ['supabase', 'imgproxy'] }],
      fileBackend ? num(fileBackend.size) : 0,
      fileBackend ? 1 : 0,
    ),
    stateless(['supabase', 'meta'], s.meta),
    ...(s.studioEnabled ? [stateless(['supabase', 'studio'], s.studio)] : []),
    stateless(['gateway', 'kong'], env.gateway.kong),
    stateless(['app', 'api'], env.app.api, [], 0, 0, 'app'),
    stateless(['app', 'worker'], env.app.worker, [], 0, 0, 'app'),
    // The scheduler is one pod, replaced with Recreate: no surge.
    {
      path: ['app', 'scheduler'],
      namespace: 'app',
      pods: 1,
      containers: [{ resources: env.app.scheduler.resources, path: ['app', 'scheduler', 'resources'] }],
      storage: 0,
      claims: 0,
    },
    // One load-test pod (k6, charts/loadtest): the Jobs run on demand, one at a time, next to the
    // product at its largest; counting it here keeps the quota from refusing the pod mid-release.
    {
      path: ['loadtest'],
      name: 'load test',
      namespace: 'app',
      pods: 1,
      containers: [{ resources: env.loadtest.resources, path: ['loadtest', 'resources'] }],
      storage: 0,
      claims: 0,
    },
    ...observabilityBudgets(env),
    // The Redis snapshot volume, and one backup Job at a time (a snapshot, the drill's steps).
    {
      path: ['backup'],
      name: 'backup Job',
      namespace: 'supabase',
      pods: 1,
      containers: [{ resources: env.backup.resources, path: ['backup', 'resources'] }],
      storage: num(env.backup.volumeSize),
      claims: 1,
    },
    // The volume snapshot CronJob (kubectl).
    {
      path: ['backup'],
      name: 'volume snapshot Job',
      namespace: 'supabase',
      pods: 1,
      containers: [{ resources: env.backup.sidecarResources, path: ['backup', 'sidecarResources'] }],
      storage: 0,
      claims: 0,
    },
    // The weekly restore drill's scratch Cluster: one instance with a data and a WAL volume as big as the database's.
    ...(env.backup.objectStore
      ? [
          {
            path: ['backup', 'drill'],
            name: 'restore drill',
            namespace: 'supabase' as const,
            pods: 1,
            containers: [
              { resources: pg.resources, path: ['components', 'postgres', 'resources'] },
              { resources: pg.archiverResources, path: ['components', 'postgres', 'archiverResources'] },
            ],
            storage: num(env.storage.sizes.postgres) + num(pg.walVolumeSize),
            claims: 2,
          },
        ]
      : []),
  ];
}

/**
 * A figure in the unit `like` is written in ("400Gi", "4000m", "16"), so a message compares
 * like with like: 9085Gi against 400Gi, not 9754944471040 bytes. A figure without a suffix
 * gets `noun` ("cores", "pods").
 */
export function inUnitOf(value: number, like: string, noun = ''): string {
  const suffix = /(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])$/.exec(like)?.[1] ?? '';
  const unit = num(`1${suffix}`);
  return `${Number((value / unit).toFixed(2))}${suffix || (noun ? ` ${noun}` : '')}`;
}

/** Each contributor once, largest first, with its pods and its share in the unit of `like`. */
function contributors(members: readonly PodBudget[], amount: (b: PodBudget) => number, like: string, noun: string): string {
  const byName = new Map<string, { pods: number; amount: number }>();
  for (const b of members) {
    const value = amount(b);
    if (value <= 0) continue;
    const name = b.name ?? b.path.at(-1)!;
    const entry = byName.get(name) ?? { pods: 0, amount: 0 };
    byName.set(name, { pods: entry.pods + b.pods, amount: entry.amount + value });
  }
  return [...byName]
    .sort(([, x], [, y]) => y.amount - x.amount)
    .map(([name, e]) => (noun === 'pods' ? `${name} ${e.pods}` : `${name} ${e.pods} pod${e.pods === 1 ? '' : 's'} ${inUnitOf(e.amount, like, noun)}`))
    .join(', ');
}

/** Adds an issue for every quota the pods overflow and every container above its LimitRange max. */
export function checkBudgets(env: Environment, namespaces: readonly NamespaceKey[], ctx: z.RefinementCtx): void {
  const budgets = podBudgets(env);
  for (const ns of namespaces) {
    const members = budgets.filter((b) => b.namespace === ns);
    const quota = env.namespaces[ns].quota;
    const limitMax = env.namespaces[ns].limitRange.max;
    const perPod = (pick: (r: Resources) => string) => (b: PodBudget) => b.pods * b.containers.reduce((c, x) => c + num(pick(x.resources)), 0);
    const checks: [string[], (b: PodBudget) => number, string, string][] = [
      [['requests', 'cpu'], perPod((r) => r.requests.cpu), quota.requests.cpu, 'cores'],
      [['requests', 'memory'], perPod((r) => r.requests.memory), quota.requests.memory, 'bytes'],
      [['limits', 'cpu'], perPod((r) => r.limits.cpu), quota.limits.cpu, 'cores'],
      [['limits', 'memory'], perPod((r) => r.limits.memory), quota.limits.memory, 'bytes'],
      [['requests', 'storage'], (b) => b.storage, quota.requests.storage, 'bytes'],
      [['persistentVolumeClaims'], (b) => b.claims, String(quota.persistentVolumeClaims), 'volume claims'],
      [['pods'], (b) => b.pods, String(quota.pods), 'pods'],
    ];
    // A container above its LimitRange max cannot run at all: that one message, not also the
    // quota sums it inflates.
    let aboveMax = false;
    for (const b of members) {
      for (const c of b.containers) {
        for (const key of ['cpu', 'memory'] as const) {
          if (num(c.resources.limits[key]) > num(limitMax[key])) {
            aboveMax = true;
            ctx.addIssue({
              code: 'custom',
              path: [...c.path, 'limits', key],
              message: `${c.resources.limits[key]} is above the ${ns} namespace's LimitRange max ${limitMax[key]}: the API server would reject the pod; lower it or raise namespaces.${ns}.limitRange.max.${key}`,
            });
          }
        }
      }
    }
    if (aboveMax) continue;
    for (const [path, amount, allowed, noun] of checks) {
      const needed = members.reduce((t, b) => t + amount(b), 0);
      if (needed > num(allowed)) {
        ctx.addIssue({
          code: 'custom',
          path: ['namespaces', ns, 'quota', ...path],
          message: `${allowed} is less than the ${inUnitOf(needed, allowed, noun)} the ${ns} pods need at their largest (stateless services at their maximum replicas plus rollout surge): ${contributors(members, amount, allowed, noun)}; raise the quota or shrink those components`,
        });
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
    pods('prometheus', o.prometheus.replicas, o.prometheus.volumeSize),
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
