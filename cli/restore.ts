// `restore`: fills in the on-demand restore objects of dist/<env>/on-demand/ (which Argo CD never
// syncs) with what the operator chose, and prints them or applies them.
// - postgres: the recovery Cluster (a NEW Cluster bootstrapped from the object store, never the
//   running one) with the recovery target, and the Job that checks what it reached against what
//   the archive holds (it fails loudly on any shortfall).
// - redis: the restore Job with the snapshot, under a fresh name.
// What to send is decided here, with the objects it would send; the cluster call is kube.ts's apply.
import { parse } from 'yaml';
import { RECOVERY_CHECK_JOB, RESTORE_JOBS } from '../charts/backup/restore-chart';
import { RECOVERY_CLUSTERS, type RecoveryTarget, recoveryTargetSpec } from '../charts/postgres/recovery';
import { ENVIRONMENTS, environmentInput } from '../environments';
import { type Manifests, manifestYaml } from '../lib/output';
import { renderEnvironment } from '../platform';
import { parseCommandArgs, type Store } from './commands';
import { confirmAction, type ConfirmDeps, processConfirm } from './confirm';
import type { ObjectAccess } from './kube';
import { UsageError } from './usage';

export { STORES, type Store } from './commands';

export interface RestoreRequest {
  readonly env: string;
  readonly store: Store;
  /** postgres: what recovery stops at. */
  readonly target?: RecoveryTarget;
  /** redis: the snapshot name, or "latest". */
  readonly backup?: string;
  readonly force: boolean;
  readonly apply: boolean;
  /** Production: create the objects without asking. */
  readonly yes?: boolean;
  readonly context?: string;
}

/** An RFC 3339 timestamp with an explicit offset: recovery must not depend on a server's time zone. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** A WAL position as PostgreSQL writes it. */
const LSN = /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/;

/** "latest", a time or an LSN, or a UsageError saying what to write. */
export function parseTarget(text: string): RecoveryTarget {
  if (text === 'latest') return { kind: 'latest' };
  if (LSN.test(text)) return { kind: 'lsn', lsn: text.toUpperCase() };
  if (TIMESTAMP.test(text) && !Number.isNaN(Date.parse(text))) return { kind: 'time', time: text };
  throw new UsageError(`--to ${text}: write "latest", an RFC 3339 time with its offset such as 2026-11-27T14:05:00Z, or an LSN such as 0/5000060`);
}

export function parseRestoreArgs(argv: string[], envNames: readonly string[]): RestoreRequest {
  const values = parseCommandArgs<{
    env: string;
    store: Store;
    to?: string;
    backup?: string;
    force?: boolean;
    apply?: boolean;
    yes?: boolean;
    context?: string;
  }>('restore', argv, envNames);
  const common = {
    env: values.env,
    force: values.force ?? false,
    apply: values.apply ?? false,
    ...(values.yes ? { yes: true } : {}),
    ...(values.context ? { context: values.context } : {}),
  };
  if (values.store === 'postgres') {
    if (values.backup)
      throw new UsageError(
        `--backup ${values.backup}: postgres recovers from the newest base backup that reaches the target: choose the target with --to, not a backup`,
      );
    if (values.force) throw new UsageError('postgres restores into a new Cluster and never overwrites anything: --force is for redis');
    return { ...common, store: 'postgres', target: parseTarget(values.to ?? 'latest') };
  }
  if (values.to) throw new UsageError(`--to ${values.to}: Redis restores a whole snapshot: choose it with --backup <name> (or latest); --to is for postgres`);
  const backup = values.backup ?? 'latest';
  if (backup !== 'latest' && !/^\d{8}T\d{6}Z(\.rdb)?$/.test(backup)) {
    throw new UsageError(`--backup ${backup}: name a snapshot as listed in the backup volume, such as 20261127T020000Z, or "latest"`);
  }
  return { ...common, store: 'redis', backup };
}

interface Manifest {
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}
interface JobObject {
  metadata: { name: string; namespace: string };
  spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
}

/** The on-demand object of `kind` and `name`, or an error naming what is missing. */
function onDemandObject<T>(onDemand: Manifests, env: string, kind: string, name: string): T {
  const file = [...onDemand.keys()].find((f) => new RegExp(`^on-demand/${kind}\\.[^.]+\\.${name}\\.yaml$`).test(f));
  if (!file) {
    if (kind === 'Cluster') throw new UsageError(`${env} has no object store (backup.objectStore), so there is nothing to recover PostgreSQL from`);
    throw new Error(`internal: no ${kind} ${name} in dist/${env}/on-demand`);
  }
  return parse(onDemand.get(file)!) as T;
}

const stamp = (now: Date) => now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase();

/** What to send: the filled-in objects, in the order they must be created. */
export function restoreObjects(onDemand: Manifests, request: RestoreRequest, now: Date): Record<string, unknown>[] {
  if (request.store === 'postgres') {
    const target = request.target ?? { kind: 'latest' };
    const cluster = onDemandObject<Manifest & { spec: { bootstrap: { recovery: Record<string, unknown> } } }>(
      onDemand,
      request.env,
      'Cluster',
      RECOVERY_CLUSTERS.restore,
    );
    const spec = recoveryTargetSpec(target);
    // The CRD's own spelling (targetLSN), as the template is plain YAML.
    if (spec) cluster.spec.bootstrap.recovery.recoveryTarget = spec.targetTime ? { targetTime: spec.targetTime } : { targetLSN: spec.targetLsn };
    const job = onDemandObject<JobObject>(onDemand, request.env, 'Job', RECOVERY_CHECK_JOB);
    setEnv(job, RECOVERY_CHECK_JOB, { RECOVERY_TARGET: target.kind === 'latest' ? 'latest' : target.kind === 'time' ? target.time : target.lsn });
    job.metadata.name = `${RECOVERY_CHECK_JOB}-${stamp(now)}`;
    return [cluster as unknown as Record<string, unknown>, job as unknown as Record<string, unknown>];
  }
  const job = onDemandObject<JobObject>(onDemand, request.env, 'Job', RESTORE_JOBS.redis);
  const backup = request.backup ?? 'latest';
  setEnv(job, RESTORE_JOBS.redis, {
    RESTORE_SNAPSHOT: backup === 'latest' || backup.endsWith('.rdb') ? backup : `${backup}.rdb`,
    RESTORE_FORCE: String(request.force),
  });
  job.metadata.name = `${RESTORE_JOBS.redis}-${stamp(now)}`;
  return [job as unknown as Record<string, unknown>];
}

function setEnv(job: JobObject, template: string, values: Record<string, string>): void {
  const env = job.spec.template.spec.containers[0]!.env;
  for (const [name, value] of Object.entries(values)) {
    const entry = env.find((e) => e.name === name);
    if (!entry) throw new Error(`internal: ${template} has no ${name}`);
    entry.value = value;
  }
}

/** What must be true before and after, printed with the objects. */
export function restoreChecklist(request: RestoreRequest, namespace: string, redisInstances = 1): string[] {
  if (request.store === 'postgres') {
    const t = request.target ?? { kind: 'latest' };
    const to = t.kind === 'latest' ? 'the newest archived WAL' : t.kind === 'time' ? t.time : `LSN ${t.lsn}`;
    return [
      `Recovering postgres of ${request.env} into a NEW Cluster ${RECOVERY_CLUSTERS.restore}, up to ${to}. The running Cluster is not touched.`,
      `1. Delete an earlier recovery first if there is one: kubectl -n ${namespace} delete cluster/${RECOVERY_CLUSTERS.restore}.`,
      `2. Create the Cluster and the check Job below (--apply does), then follow: kubectl -n ${namespace} get cluster ${RECOVERY_CLUSTERS.restore} -w and kubectl -n ${namespace} logs -f job/<check job>.`,
      '3. The check Job fails, naming LSNs and segments, when the recovery fell short of the archive or of the target: do not use such a copy.',
      '4. Then read what you need from it, or promote it to the platform database: docs/runbooks/postgres.md.',
    ];
  }
  const workload = 'statefulset/redis';
  const several = redisInstances > 1;
  return [
    `Restoring redis in ${request.env} from ${request.backup ?? 'latest'} into redis-0's volume.`,
    `1. Pause Argo CD's automated sync of the ${request.env}-data Application, or it will start ${workload} again.`,
    several
      ? `2. Stop the store: kubectl -n ${namespace} scale ${workload} --replicas=0, and wait until all ${redisInstances} pods are gone (with them the Sentinels' memory of the old primary).`
      : `2. Stop the store: kubectl -n ${namespace} scale ${workload} --replicas=0, and wait until its pod is gone.`,
    `3. Run the Job below${request.force ? '' : ' (it refuses a data directory that holds data; --force allows it)'}, and follow it: kubectl -n ${namespace} logs -f job/<name>.`,
    several
      ? `4. Start the store: kubectl -n ${namespace} scale ${workload} --replicas=${redisInstances}. redis-0 starts first and, with no Sentinel naming another primary, becomes the primary with the restored data; the replicas then resync from it, replacing what they held.`
      : `4. Start the store: kubectl -n ${namespace} scale ${workload} --replicas=1.`,
    '5. Check the data, then resume the automated sync. docs/runbooks/backup.md has the details.',
  ];
}

export function formatObject(object: Record<string, unknown>): string {
  return `---\n${manifestYaml(object).trimEnd()}`;
}

/**
 * `restore`: prints the filled-in objects with the checklist, or creates them with --apply (in
 * production only once confirmed: --yes, or the environment's name typed at a terminal).
 */
export async function restoreCommand(
  argv: string[],
  cluster: (context?: string) => Pick<ObjectAccess, 'apply'>,
  out: (line: string) => void,
  note: (line: string) => void,
  confirm: (yes: boolean) => ConfirmDeps = processConfirm,
): Promise<void> {
  const request = parseRestoreArgs(
    argv,
    ENVIRONMENTS.map((e) => e.name),
  );
  const input = environmentInput(request.env);
  const { manifests, env } = renderEnvironment(input);
  const objects = restoreObjects(manifests, request, new Date());
  const namespace = (objects[0] as unknown as Manifest).metadata.namespace;
  for (const line of restoreChecklist(request, namespace, env.components.redis.replicas)) note(line);
  if (!request.apply) {
    for (const o of objects) out(formatObject(o));
    return;
  }
  await confirmAction(`restoring ${request.store}`, request.env, confirm(request.yes ?? false));
  const api = cluster(request.context);
  for (const o of objects) {
    await api.apply(o, false);
    const m = o as unknown as Manifest & { kind: string };
    note(`created ${m.kind.toLowerCase()}/${m.metadata.name} in ${namespace}`);
  }
}
