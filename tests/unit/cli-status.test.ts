// `status`: the table from canned Deployments, StatefulSets, DaemonSets, Rollouts, CronJobs and
// CloudNativePG Clusters and Backups (ready/desired, Rollout phase and step, Cluster phase and
// primary, CronJob ages against an injected clock), workloads dist
// declares but the cluster lacks, the backup ages, the exit code, and the refusals.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { KubeObject, ListQuery, ObjectAccess } from '../../cli/kube';
import { alignColumns, formatAge, statusCommand, workloadRow } from '../../cli/status';
import { ROOT } from '../helpers';

const NAMES = ['dev', 'staging', 'production'];
const NOW = new Date('2026-11-27T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600_000).toISOString();

const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace: string | undefined,
  rest: Record<string, unknown> = {},
  generation?: number,
): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}), ...(generation ? { generation } : {}) },
  ...rest,
});
const deployment = (name: string, ns: string, replicas: number, ready: number, updated = replicas) =>
  obj(
    'apps/v1',
    'Deployment',
    name,
    ns,
    { spec: { replicas }, status: { observedGeneration: 2, readyReplicas: ready, updatedReplicas: updated, availableReplicas: ready } },
    2,
  );
const statefulSet = (name: string, replicas: number, ready: number) =>
  obj(
    'apps/v1',
    'StatefulSet',
    name,
    'supabase',
    { spec: { replicas }, status: { observedGeneration: 1, readyReplicas: ready, updatedReplicas: replicas } },
    1,
  );
const rollout = (phase: string, step: number, ready: number, message?: string) =>
  obj('argoproj.io/v1alpha1', 'Rollout', 'api', 'app', {
    spec: { replicas: 3, strategy: { canary: { steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { pause: {} }, { setWeight: 100 }] } } },
    status: { phase, currentStepIndex: step, readyReplicas: ready, updatedReplicas: 3, ...(message ? { message } : {}) },
  });
const cronJob = (name: string, lastSchedule?: string, lastSuccess?: string, extra: Record<string, unknown> = {}) =>
  obj('batch/v1', 'CronJob', name, 'supabase', {
    spec: { schedule: '0 2 * * *', ...extra },
    status: { ...(lastSchedule ? { lastScheduleTime: lastSchedule } : {}), ...(lastSuccess ? { lastSuccessfulTime: lastSuccess } : {}) },
  });
const cluster = (phase: string, instances: number, ready: number) =>
  obj('postgresql.cnpg.io/v1', 'Cluster', 'postgres', 'supabase', {
    spec: { instances },
    status: { phase, readyInstances: ready, currentPrimary: 'postgres-2' },
  });
const backup = (name: string, phase: string, stoppedAt: string) =>
  obj('postgresql.cnpg.io/v1', 'Backup', name, 'supabase', { spec: { cluster: { name: 'postgres' } }, status: { phase, stoppedAt } });
const daemonSet = (desired: number, ready: number) =>
  obj(
    'apps/v1',
    'DaemonSet',
    'node-exporter',
    'node-exporter',
    { status: { observedGeneration: 1, desiredNumberScheduled: desired, numberReady: ready, updatedNumberScheduled: desired } },
    1,
  );

/** dist/dev/ of a small environment: two namespaces, one workload of each kind, three CronJobs. */
const DIST: Record<string, KubeObject> = {
  'foundation/Namespace.supabase.yaml': obj('v1', 'Namespace', 'supabase', undefined),
  'foundation/Namespace.app.yaml': obj('v1', 'Namespace', 'app', undefined),
  'foundation/Namespace.node-exporter.yaml': obj('v1', 'Namespace', 'node-exporter', undefined),
  'supabase/Deployment.supabase.auth.yaml': deployment('auth', 'supabase', 2, 0),
  'data/StatefulSet.supabase.postgres.yaml': statefulSet('postgres', 1, 0),
  'data/Cluster.supabase.postgres.yaml': cluster('', 3, 0),
  'backup/ScheduledBackup.supabase.postgres-daily.yaml': obj('postgresql.cnpg.io/v1', 'ScheduledBackup', 'postgres-daily', 'supabase'),
  'app/Rollout.app.api.yaml': rollout('', 0, 0),
  'app/Deployment.app.worker.yaml': deployment('worker', 'app', 1, 0),
  'observability/DaemonSet.node-exporter.node-exporter.yaml': daemonSet(0, 0),
  'backup/CronJob.supabase.postgres-base-backup.yaml': cronJob('postgres-base-backup'),
  'backup/CronJob.supabase.redis-backup.yaml': cronJob('redis-backup'),
  'backup/CronJob.supabase.postgres-restore-drill.yaml': cronJob('postgres-restore-drill'),
  'on-demand/Job.supabase.postgres-restore.yaml': obj('batch/v1', 'Job', 'postgres-restore', 'supabase'),
};

function scratchRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'cli-status-'));
  for (const [file, object] of Object.entries(DIST)) {
    mkdirSync(join(root, 'dist', 'dev', file.split('/')[0]!), { recursive: true });
    writeFileSync(join(root, 'dist', 'dev', file), stringify(object));
  }
  return root;
}

/** Returns the canned objects of the kind and namespace asked for; kinds in `unserved` are not served. */
function fakeCluster(live: KubeObject[], unserved: string[] = []) {
  const queries: { kind: string; query: ListQuery | undefined }[] = [];
  const cluster: Pick<ObjectAccess, 'list'> = {
    list: (_apiVersion, kind, query) => {
      queries.push({ kind, query });
      if (unserved.includes(kind)) return Promise.resolve(undefined);
      return Promise.resolve(live.filter((o) => o.kind === kind && o.metadata.namespace === query?.namespace));
    },
  };
  return { cluster, queries };
}

async function run(argv: string[], root: string, cluster: Pick<ObjectAccess, 'list'>) {
  const lines: string[] = [];
  const code = await statusCommand(argv, { root, envNames: NAMES, cluster: () => cluster, out: (l) => lines.push(l), now: () => NOW });
  return { code, lines };
}

const HEALTHY: KubeObject[] = [
  deployment('auth', 'supabase', 2, 2),
  statefulSet('postgres', 1, 1),
  cluster('Cluster in healthy state', 3, 3),
  backup('postgres-daily-1', 'completed', hoursAgo(33)),
  backup('postgres-daily-2', 'completed', hoursAgo(9.5)),
  rollout('Healthy', 5, 3),
  deployment('worker', 'app', 1, 1),
  daemonSet(3, 3),
  cronJob('postgres-base-backup', hoursAgo(10), hoursAgo(9.5)),
  cronJob('redis-backup', hoursAgo(1), hoursAgo(0.75)),
  cronJob('postgres-restore-drill', hoursAgo(72), hoursAgo(70)),
];

describe('status command', () => {
  const root = scratchRoot();
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints an aligned table, the backup ages and a summary, and exits 0 when everything is ready', async () => {
    const { code, lines } = await run(['--env', 'dev'], root, fakeCluster(HEALTHY).cluster);
    expect(lines.slice(0, 10)).toEqual([
      'NAMESPACE      KIND         NAME                    READY  STATE  DETAIL',
      'app            Deployment   worker                  1/1    ready',
      'app            Rollout      api                     3/3    ready  Healthy, step 5/5',
      'node-exporter  DaemonSet    node-exporter           3/3    ready',
      'supabase       Deployment   auth                    2/2    ready',
      'supabase       StatefulSet  postgres                1/1    ready',
      'supabase       CronJob      postgres-base-backup    -      ready  last schedule 10h ago, last success 9h30m ago',
      'supabase       CronJob      postgres-restore-drill  -      ready  last schedule 3d ago, last success 2d22h ago',
      'supabase       CronJob      redis-backup            -      ready  last schedule 1h ago, last success 45m ago',
      'supabase       Cluster      postgres                3/3    ready  Cluster in healthy state, primary postgres-2',
    ]);
    expect(lines).toContain(`  postgres base backup (Backup objects)  last success 9h30m ago, at ${hoursAgo(9.5)} (postgres-daily-2)`);
    expect(lines).toContain(`  redis backup (redis-backup)            last success 45m ago, at ${hoursAgo(0.75)}`);
    expect(lines.at(-1)).toBe('all 9 workloads of dev are ready');
    expect(code).toBe(0);
  });

  it('asks for every workload kind in every namespace of the environment', async () => {
    const fake = fakeCluster(HEALTHY);
    await run(['--env', 'dev'], root, fake.cluster);
    const asked = new Set(fake.queries.map((q) => `${q.kind}@${q.query?.namespace}`));
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout', 'CronJob', 'Cluster', 'Pooler', 'Backup']) {
      for (const ns of ['app', 'node-exporter', 'supabase']) expect(asked).toContain(`${kind}@${ns}`);
    }
    expect(fake.queries.every((q) => q.query?.labelSelector === undefined)).toBe(true);
  });

  it('exits 1 and names what is not ready: replicas short, a paused canary, a failed backup run, a workload missing', async () => {
    const live = [
      deployment('auth', 'supabase', 2, 1),
      statefulSet('postgres', 1, 1),
      cluster('Waiting for the instances to become active', 3, 2),
      backup('postgres-daily-1', 'completed', hoursAgo(33)),
      backup('postgres-daily-2', 'failed', hoursAgo(9.5)),
      rollout('Paused', 1, 1, 'CanaryPauseStep'),
      daemonSet(3, 3),
      cronJob('postgres-base-backup', hoursAgo(10), hoursAgo(34)),
      cronJob('redis-backup', hoursAgo(1), hoursAgo(0.75), { suspend: true }),
      cronJob('postgres-restore-drill', hoursAgo(72), hoursAgo(70)),
      deployment('debug', 'app', 1, 1),
    ];
    const { code, lines } = await run(['--env', 'dev'], root, fakeCluster(live).cluster);
    expect(code).toBe(1);
    const row = (name: string) => lines.find((l) => new RegExp(`^\\S+\\s+\\S+\\s+${name}\\s`).test(l))!.replace(/\s+/g, ' ');
    expect(row('auth')).toBe('supabase Deployment auth 1/2 NOT READY');
    expect(row('api')).toBe('app Rollout api 1/3 NOT READY Paused, step 1/5, CanaryPauseStep');
    expect(row('worker')).toBe('app Deployment worker - missing in dist/dev/, not in the cluster');
    expect(row('debug')).toBe('app Deployment debug 1/1 ready not in dist/dev/');
    expect(row('postgres-base-backup')).toBe(
      'supabase CronJob postgres-base-backup - NOT READY last run did not succeed, last schedule 10h ago, last success 1d10h ago',
    );
    expect(row('redis-backup')).toBe('supabase CronJob redis-backup - NOT READY suspended, last schedule 1h ago, last success 45m ago');
    expect(lines.find((l) => /StatefulSet\s+postgres/.test(l))!.replace(/\s+/g, ' ')).toBe('supabase StatefulSet postgres 1/1 ready');
    expect(lines.find((l) => /Cluster\s+postgres/.test(l))!.replace(/\s+/g, ' ')).toBe(
      'supabase Cluster postgres 2/3 NOT READY Waiting for the instances to become active, primary postgres-2',
    );
    expect(lines.find((l) => l.includes('postgres base backup'))!.replace(/\s+/g, ' ')).toBe(
      `postgres base backup (Backup objects) last success 1d9h ago, at ${hoursAgo(33)} (postgres-daily-1); FAILED since: postgres-daily-2`
        .replace(/^/, ' ')
        .replace(/\s+/g, ' '),
    );
    expect(lines.at(-1)).toBe(
      '6 of 10 workloads of dev are not ready: Deployment app/worker (missing); Rollout app/api (Paused, step 1/5, CanaryPauseStep); Deployment supabase/auth (1/2 ready); CronJob supabase/postgres-base-backup (last run did not succeed, last schedule 10h ago, last success 1d10h ago); CronJob supabase/redis-backup (suspended, last schedule 1h ago, last success 45m ago); and 1 more',
    );
  });

  it('says so when the cluster does not serve Rollouts, and when a backup never ran', async () => {
    const live = HEALTHY.filter((o) => o.kind !== 'Rollout' && o.metadata.name !== 'redis-backup').concat(cronJob('redis-backup'));
    const { code, lines } = await run(['--env', 'dev'], root, fakeCluster(live, ['Rollout']).cluster);
    expect(code).toBe(1);
    expect(lines.find((l) => l.includes(' api '))!.replace(/\s+/g, ' ')).toBe(
      'app Rollout api - missing the cluster does not serve argoproj.io/v1alpha1 Rollout',
    );
    expect(lines.find((l) => l.includes(' redis-backup '))!.replace(/\s+/g, ' ')).toBe(
      'supabase CronJob redis-backup - ready last schedule never, last success never',
    );
    expect(lines).toContain('  redis backup (redis-backup)            never succeeded');
  });

  it("finds the namespaces and workloads of the repository's dist/dev/", async () => {
    const fake = fakeCluster([]);
    const { code, lines } = await run(['--env', 'dev'], ROOT, fake.cluster);
    expect(code).toBe(1);
    expect(new Set(fake.queries.map((q) => q.query?.namespace))).toEqual(new Set(['app', 'node-exporter', 'observability', 'supabase']));
    expect(lines.find((l) => /\sCluster\s+postgres\s/.test(l))).toMatch(/missing/);
    expect(lines.find((l) => /\sPooler\s+postgres-pooler-rw\s/.test(l))).toMatch(/missing/);
    expect(lines).toContain('  redis backup (redis-backup)  no such CronJob in the cluster');
  });
});

describe('workload rows', () => {
  it('counts a Deployment that has not rolled out yet, or is stuck, as not ready', () => {
    const behind = { ...deployment('a', 'x', 2, 2, 1) };
    expect(workloadRow(behind, NOW)).toMatchObject({ ready: '2/2', state: 'NOT READY', detail: 'updating: 1 of 2 updated' });
    const unseen = { ...deployment('a', 'x', 2, 2), metadata: { name: 'a', namespace: 'x', generation: 3 } };
    expect(workloadRow(unseen, NOW)).toMatchObject({ state: 'NOT READY', detail: 'change not yet seen by its controller' });
    const stuck = deployment('a', 'x', 1, 1);
    (stuck.status as Record<string, unknown>).conditions = [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }];
    expect(workloadRow(stuck, NOW)).toMatchObject({ state: 'NOT READY', detail: 'ProgressDeadlineExceeded' });
    expect(workloadRow(deployment('a', 'x', 0, 0), NOW)).toMatchObject({ ready: '0/0', state: 'NOT READY', detail: 'scaled to 0' });
    expect(workloadRow(daemonSet(0, 0), NOW)).toMatchObject({ state: 'NOT READY', detail: 'no node runs it' });
    expect(workloadRow(deployment('a', 'x', 3, 3), NOW)).toMatchObject({ ready: '3/3', state: 'ready', detail: '' });
  });

  it('treats a running CronJob as fine and a Rollout that is Healthy but short of replicas as not ready', () => {
    const running = cronJob('c', hoursAgo(0.1), hoursAgo(24));
    (running.status as Record<string, unknown>).active = [{ name: 'c-1' }];
    expect(workloadRow(running, NOW)).toMatchObject({ state: 'ready', detail: 'last schedule 6m ago, last success 1d ago, 1 running' });
    expect(workloadRow(rollout('Healthy', 5, 2), NOW)).toMatchObject({ ready: '2/3', state: 'NOT READY' });
    expect(workloadRow(rollout('Degraded', 2, 3, 'RolloutAborted'), NOW)).toMatchObject({
      ready: '3/3',
      state: 'NOT READY',
      detail: 'Degraded, step 2/5, RolloutAborted',
    });
  });

  it('formats ages like kubectl and aligns columns', () => {
    expect([0, 45e3, 12 * 60e3, 5 * 3600e3 + 12 * 60e3, 5 * 3600e3, 76 * 3600e3, 48 * 3600e3, -5e3].map(formatAge)).toEqual([
      '0s',
      '45s',
      '12m',
      '5h12m',
      '5h',
      '3d4h',
      '2d',
      '0s',
    ]);
    expect(
      alignColumns([
        ['A', 'BB'],
        ['CCC', 'D'],
      ]),
    ).toEqual(['A    BB', 'CCC  D']);
  });
});

describe('status refuses', () => {
  const noCluster = () => {
    throw new Error('no cluster should be contacted');
  };
  const refuse = (argv: string[], root = ROOT) => statusCommand(argv, { root, envNames: NAMES, cluster: noCluster, out: () => undefined, now: () => NOW });

  it('a missing or unknown environment, an unknown option, a stray argument', async () => {
    await expect(refuse([])).rejects.toThrow("required option '--env <name>' not specified");
    await expect(refuse(['--env', 'test'])).rejects.toThrow("option '--env <name>' argument 'test' is invalid. Allowed choices are dev, staging, production.");
    await expect(refuse(['--env', 'dev', '--watch'])).rejects.toThrow("unknown option '--watch'");
    await expect(refuse(['--env', 'dev', 'now'])).rejects.toThrow('too many arguments. Expected 0 arguments but got 1.');
  });

  it('a missing dist folder, naming npm run synth', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cli-status-empty-'));
    try {
      await expect(refuse(['--env', 'dev'], empty)).rejects.toThrow('dist/dev/ does not exist: run npm run synth to generate it');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
