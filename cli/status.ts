// `status`: every workload in the environment's namespaces (Deployments, StatefulSets,
// DaemonSets, Argo Rollouts, CronJobs, CloudNativePG Clusters and Poolers) with ready/desired
// replicas, a Rollout's phase and step, a Cluster's phase and primary, a CronJob's last schedule
// and last success; workloads dist/<env>/ declares but the cluster lacks; the age of the last
// PostgreSQL base backup and Redis snapshot. Exit code 0 only when everything is ready.
// The report is a pure function of the listed objects and a clock, tested with canned objects.
import { ON_DEMAND_FOLDER } from '../lib/layers';
import { type DistObject, objectKey, parseDist, readDistFiles } from './dist';
import type { KubeObject, ObjectAccess } from './kube';
import { parseCommandArgs } from './commands';
import { UsageError } from './usage';

export interface StatusRequest {
  readonly env: string;
  readonly context?: string;
}

export function parseStatusArgs(argv: string[], envNames: readonly string[]): StatusRequest {
  const values = parseCommandArgs<{ env: string; context?: string }>('status', argv, envNames);
  return { env: values.env, ...(values.context ? { context: values.context } : {}) };
}

export const WORKLOAD_KINDS = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' },
  { apiVersion: 'batch/v1', kind: 'CronJob' },
  { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster' },
  { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Pooler' },
] as const;
const KINDS: readonly string[] = WORKLOAD_KINDS.map((k) => k.kind);
/** CloudNativePG's backups, listed for the backup lines (not workloads). */
const BACKUP_KIND = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Backup' } as const;

/** The CronJobs whose last success the report states on its own. */
export const BACKUP_JOBS = [{ name: 'redis-backup', what: 'redis backup' }] as const;

/** The environment's namespaces: the Namespaces of dist/<env>/foundation. */
export function environmentNamespaces(dist: readonly DistObject[], env: string): string[] {
  const names = dist.filter((d) => d.folder === 'foundation' && d.object.kind === 'Namespace').map((d) => d.object.metadata.name);
  if (names.length === 0) throw new UsageError(`dist/${env}/foundation/ holds no Namespace: run npm run synth to regenerate dist/${env}/`);
  return names.sort();
}

export interface Row {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  /** "ready/desired", or "-" for a CronJob or a missing workload. */
  readonly ready: string;
  readonly state: 'ready' | 'NOT READY' | 'missing';
  readonly detail: string;
}

const field = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
const num = (o: unknown, path: string, fallback = 0): number => {
  const v = field(o, path);
  return typeof v === 'number' ? v : fallback;
};
const text = (o: unknown, path: string): string | undefined => {
  const v = field(o, path);
  return typeof v === 'string' ? v : undefined;
};

/** "45s", "12m", "5h12m", "3d4h": how long ago, in kubectl's style. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24 ? `${h % 24}h` : ''}`;
}

const ago = (time: string | undefined, now: Date) => (time ? `${formatAge(now.getTime() - Date.parse(time))} ago` : 'never');

/** A row for a workload with replicas; `healthy` is false when its own status says otherwise (`detail` says why). */
function replicaRow(o: KubeObject, desired: number, ready: number, updated: number, healthy: boolean, detail: string[]): Row {
  const reasons: string[] = [];
  const generation = o.metadata.generation;
  if (o.kind !== 'Rollout' && generation !== undefined && num(o, 'status.observedGeneration') < generation)
    reasons.push('change not yet seen by its controller');
  if (desired === 0) reasons.push(o.kind === 'DaemonSet' ? 'no node runs it' : 'scaled to 0');
  else if (updated < desired) reasons.push(`updating: ${updated} of ${desired} updated`);
  const ok = healthy && reasons.length === 0 && ready >= desired;
  return {
    namespace: o.metadata.namespace ?? '',
    kind: o.kind,
    name: o.metadata.name,
    ready: `${ready}/${desired}`,
    state: ok ? 'ready' : 'NOT READY',
    detail: [...detail, ...reasons].join(', '),
  };
}

function cronJobRow(o: KubeObject, now: Date): Row {
  const suspended = field(o, 'spec.suspend') === true;
  const lastSchedule = text(o, 'status.lastScheduleTime');
  const lastSuccess = text(o, 'status.lastSuccessfulTime');
  const running = (field(o, 'status.active') as unknown[] | undefined)?.length ?? 0;
  const failed = !!lastSchedule && running === 0 && (!lastSuccess || Date.parse(lastSuccess) < Date.parse(lastSchedule));
  const detail = [
    ...(suspended ? ['suspended'] : []),
    ...(failed ? ['last run did not succeed'] : []),
    `last schedule ${ago(lastSchedule, now)}`,
    `last success ${ago(lastSuccess, now)}`,
    ...(running ? [`${running} running`] : []),
  ];
  return {
    namespace: o.metadata.namespace ?? '',
    kind: o.kind,
    name: o.metadata.name,
    ready: '-',
    state: suspended || failed ? 'NOT READY' : 'ready',
    detail: detail.join(', '),
  };
}

/** One workload's row; `now` dates the CronJob runs. */
export function workloadRow(o: KubeObject, now: Date): Row {
  const desired = num(o, 'spec.replicas', 1);
  switch (o.kind) {
    case 'Deployment': {
      const stuck = ((field(o, 'status.conditions') as { type: string; status: string; reason?: string }[] | undefined) ?? []).find(
        (c) => c.type === 'Progressing' && c.status === 'False',
      );
      return replicaRow(o, desired, num(o, 'status.readyReplicas'), num(o, 'status.updatedReplicas'), !stuck, stuck ? [stuck.reason ?? 'not progressing'] : []);
    }
    case 'StatefulSet':
      return replicaRow(o, desired, num(o, 'status.readyReplicas'), num(o, 'status.updatedReplicas'), true, []);
    case 'DaemonSet':
      return replicaRow(o, num(o, 'status.desiredNumberScheduled'), num(o, 'status.numberReady'), num(o, 'status.updatedNumberScheduled'), true, []);
    case 'Rollout': {
      const phase = text(o, 'status.phase') ?? 'no phase yet';
      const steps = (field(o, 'spec.strategy.canary.steps') as unknown[] | undefined)?.length;
      const detail = [phase];
      if (steps !== undefined) detail.push(`step ${num(o, 'status.currentStepIndex')}/${steps}`);
      const message = text(o, 'status.message');
      if (message && phase !== 'Healthy') detail.push(message);
      return replicaRow(o, desired, num(o, 'status.readyReplicas'), num(o, 'status.updatedReplicas', desired), phase === 'Healthy', detail);
    }
    case 'CronJob':
      return cronJobRow(o, now);
    case 'Cluster': {
      // CloudNativePG's phase names the healthy state in words.
      const phase = text(o, 'status.phase') ?? 'no phase yet';
      const primary = text(o, 'status.currentPrimary');
      const detail = [phase, ...(primary ? [`primary ${primary}`] : [])];
      const instances = num(o, 'spec.instances', 1);
      return replicaRow(o, instances, num(o, 'status.readyInstances'), instances, phase === 'Cluster in healthy state', detail);
    }
    case 'Pooler':
      return replicaRow(o, num(o, 'spec.instances', 1), num(o, 'status.instances'), num(o, 'spec.instances', 1), true, []);
    default:
      throw new Error(`internal: ${o.kind} is not a workload kind`);
  }
}

/** Column-aligned lines, two spaces between columns. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

/** The newest completed CloudNativePG Backup, and a failure newer than it. */
function postgresBackupLine(live: readonly KubeObject[], now: Date): string[] {
  const backups = live.filter((o) => o.kind === 'Backup');
  const stopped = (o: KubeObject) => text(o, 'status.stoppedAt') ?? '';
  const newest = (phase: string) => backups.filter((o) => text(o, 'status.phase') === phase).sort((a, b) => stopped(b).localeCompare(stopped(a)))[0];
  const done = newest('completed');
  const failed = newest('failed');
  const last = done ? `last success ${ago(stopped(done), now)}, at ${stopped(done)} (${done.metadata.name})` : 'never succeeded';
  return [
    '  postgres base backup (Backup objects)',
    failed && (!done || stopped(failed) > stopped(done)) ? `${last}; FAILED since: ${failed.metadata.name}` : last,
  ];
}

export interface StatusReport {
  readonly lines: string[];
  readonly ok: boolean;
}

/**
 * The report from the workloads listed in the environment's namespaces. `unserved` names the
 * workload kinds the cluster does not serve (their CRD is missing).
 */
export function statusReport(
  env: string,
  dist: readonly DistObject[],
  live: readonly KubeObject[],
  now: Date,
  unserved: ReadonlySet<string> = new Set(),
): StatusReport {
  const expected = dist.filter((d) => d.folder !== ON_DEMAND_FOLDER && KINDS.includes(d.object.kind)).map((d) => d.object);
  const declared = new Set(expected.map(objectKey));
  const present = new Set(live.map(objectKey));
  const rows: Row[] = [
    ...live
      .filter((o) => KINDS.includes(o.kind))
      .map((o) => {
        const row = workloadRow(o, now);
        return declared.has(objectKey(o)) ? row : { ...row, detail: [row.detail, `not in dist/${env}/`].filter(Boolean).join(', ') };
      }),
    ...expected
      .filter((o) => !present.has(objectKey(o)))
      .map((o): Row => ({
        namespace: o.metadata.namespace ?? '',
        kind: o.kind,
        name: o.metadata.name,
        ready: '-',
        state: 'missing',
        detail: unserved.has(o.kind) ? `the cluster does not serve ${o.apiVersion} ${o.kind}` : `in dist/${env}/, not in the cluster`,
      })),
  ].sort((a, b) => a.namespace.localeCompare(b.namespace) || KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || a.name.localeCompare(b.name));

  const backups = BACKUP_JOBS.map(({ name, what }) => {
    const job = live.find((o) => o.kind === 'CronJob' && o.metadata.name === name);
    const success = job && text(job, 'status.lastSuccessfulTime');
    return [`  ${what} (${name})`, !job ? 'no such CronJob in the cluster' : success ? `last success ${ago(success, now)}, at ${success}` : 'never succeeded'];
  });
  if (dist.some((d) => d.object.kind === 'ScheduledBackup')) backups.unshift(postgresBackupLine(live, now));

  const bad = rows.filter((r) => r.state !== 'ready');
  const named = bad.slice(0, 5).map((r) => `${r.kind} ${r.namespace}/${r.name} (${r.state === 'missing' ? 'missing' : r.detail || `${r.ready} ready`})`);
  const summary =
    rows.length === 0
      ? `no workloads of ${env} in the cluster or in dist/${env}/`
      : bad.length === 0
        ? `all ${rows.length} workloads of ${env} are ready`
        : `${bad.length} of ${rows.length} workloads of ${env} are not ready: ${named.join('; ')}${bad.length > 5 ? `; and ${bad.length - 5} more` : ''}`;
  return {
    lines: [
      ...alignColumns([
        ['NAMESPACE', 'KIND', 'NAME', 'READY', 'STATE', 'DETAIL'],
        ...rows.map((r) => [r.namespace, r.kind, r.name, r.ready, r.state, r.detail]),
      ]),
      '',
      'backups:',
      ...alignColumns(backups),
      '',
      summary,
    ],
    ok: rows.length > 0 && bad.length === 0,
  };
}

export interface StatusDeps {
  readonly root: string;
  readonly envNames: readonly string[];
  readonly cluster: (context?: string) => Pick<ObjectAccess, 'list'>;
  readonly out: (line: string) => void;
  readonly now: () => Date;
}

/** Returns the exit code: 0 when every workload is ready, 1 otherwise. */
export async function statusCommand(argv: string[], deps: StatusDeps): Promise<number> {
  const request = parseStatusArgs(argv, deps.envNames);
  const dist = parseDist(readDistFiles(deps.root, request.env), request.env);
  const namespaces = environmentNamespaces(dist, request.env);
  const cluster = deps.cluster(request.context);
  const live: KubeObject[] = [];
  const unserved = new Set<string>();
  for (const { apiVersion, kind } of WORKLOAD_KINDS) {
    for (const namespace of namespaces) {
      const items = await cluster.list(apiVersion, kind, { namespace });
      if (!items) {
        unserved.add(kind);
        break;
      }
      live.push(...items.map((o) => ({ ...o, apiVersion, kind })));
    }
  }
  for (const namespace of namespaces) {
    const items = await cluster.list(BACKUP_KIND.apiVersion, BACKUP_KIND.kind, { namespace });
    if (items) live.push(...items.map((o) => ({ ...o, ...BACKUP_KIND })));
  }
  const report = statusReport(request.env, dist, live, deps.now(), unserved);
  for (const line of report.lines) deps.out(line);
  return report.ok ? 0 : 1;
}
