// `restore`: fills in a restore Job from dist/<env>/on-demand/ (which Argo CD never syncs) with
// the snapshot the operator chose, under a fresh name, and prints it or applies it. Redis only:
// PostgreSQL recovers into a new CloudNativePG Cluster from its object store
// (docs/runbooks/backup.md). What to send is
// decided here, with the objects it would send; the cluster call is kube.ts's apply.
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { RESTORE_INPUTS, RESTORE_JOBS } from '../charts/backup/restore-chart';
import { ENVIRONMENTS } from '../environments';
import type { Manifests } from '../lib/output';
import { renderEnvironment } from '../platform';
import type { ObjectAccess } from './kube';
import { UsageError } from './usage';

export type Store = keyof typeof RESTORE_JOBS;

export interface RestoreRequest {
  readonly env: string;
  readonly store: Store;
  /** Snapshot name, or "latest". */
  readonly backup: string;
  readonly force: boolean;
  readonly apply: boolean;
  readonly context?: string;
}

export function parseRestoreArgs(argv: string[], envNames: readonly string[]): RestoreRequest {
  const { values } = parseArgs({
    args: argv,
    options: {
      env: { type: 'string' },
      store: { type: 'string' },
      backup: { type: 'string', default: 'latest' },
      force: { type: 'boolean', default: false },
      apply: { type: 'boolean', default: false },
      context: { type: 'string' },
    },
    strict: true,
  });
  if (!values.env || !envNames.includes(values.env)) throw new UsageError(`--env must be one of ${envNames.join(', ')}`);
  const stores = Object.keys(RESTORE_JOBS);
  if (values.store === 'postgres') {
    throw new UsageError('PostgreSQL is restored into a new CloudNativePG Cluster from its object store, never in place: follow docs/runbooks/backup.md');
  }
  if (!values.store || !stores.includes(values.store)) throw new UsageError(`--store must be one of ${stores.join(', ')}`);
  const store = values.store as Store;
  if (values.backup !== 'latest' && !/^\d{8}T\d{6}Z(\.rdb)?$/.test(values.backup)) {
    throw new UsageError(`--backup ${values.backup}: name a snapshot as listed in the backup volume, such as 20261127T020000Z, or "latest"`);
  }
  return {
    env: values.env,
    store,
    backup: values.backup,
    force: values.force,
    apply: values.apply,
    ...(values.context ? { context: values.context } : {}),
  };
}

interface JobObject {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
}

/** The Job to run: the on-demand template with the request's values and a name of its own. */
export function restoreJob(onDemand: Manifests, request: RestoreRequest, now: Date): Record<string, unknown> {
  const template = RESTORE_JOBS[request.store];
  const file = [...onDemand.keys()].find((f) => new RegExp(`^on-demand/Job\\.[^.]+\\.${template}\\.yaml$`).test(f));
  if (!file) throw new Error(`internal: no ${template} Job in dist/${request.env}/on-demand`);
  const job = parse(onDemand.get(file)!) as JobObject;
  const values: Record<string, string> = { RESTORE_SNAPSHOT: request.backup === 'latest' || request.backup.endsWith('.rdb') ? request.backup : `${request.backup}.rdb`, RESTORE_FORCE: String(request.force) };
  const env = job.spec.template.spec.containers[0]!.env;
  for (const name of RESTORE_INPUTS[request.store]) {
    const entry = env.find((e) => e.name === name);
    if (!entry) throw new Error(`internal: ${template} has no ${name}`);
    entry.value = values[name];
  }
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase();
  job.metadata.name = `${template}-${stamp}`;
  return job as unknown as Record<string, unknown>;
}

/** What must be true before the Job runs, printed with it. */
export function restoreChecklist(request: RestoreRequest, namespace: string): string[] {
  const workload = 'statefulset/redis';
  return [
    `Restoring ${request.store} in ${request.env} from ${request.backup}.`,
    `1. Pause Argo CD's automated sync of the ${request.env}-data Application, or it will start ${workload} again.`,
    `2. Stop the store: kubectl -n ${namespace} scale ${workload} --replicas=0, and wait until its pod is gone.`,
    `3. Run the Job below${request.force ? '' : ' (it refuses a data directory that holds data; --force allows it)'}, and follow it: kubectl -n ${namespace} logs -f job/<name>.`,
    `4. Start the store: kubectl -n ${namespace} scale ${workload} --replicas=1.`,
    `5. Check the data, then resume the automated sync. docs/runbooks/backup.md has the details.`,
  ];
}

export function formatJob(job: Record<string, unknown>): string {
  return `---\n${stringify(job, { lineWidth: 0 }).trimEnd()}`;
}

/** `restore`: prints the filled-in Job with its checklist, or creates it with --apply. */
export async function restoreCommand(argv: string[], cluster: (context?: string) => Pick<ObjectAccess, 'apply'>, out: (line: string) => void, note: (line: string) => void): Promise<void> {
  const request = parseRestoreArgs(argv, ENVIRONMENTS.map((e) => e.name));
  const { manifests } = renderEnvironment(ENVIRONMENTS.find((e) => e.name === request.env));
  const job = restoreJob(manifests, request, new Date());
  const namespace = (job as { metadata: { namespace: string } }).metadata.namespace;
  for (const line of restoreChecklist(request, namespace)) note(line);
  if (!request.apply) {
    out(formatJob(job));
    return;
  }
  await cluster(request.context).apply(job, false);
  note(`created job/${(job as { metadata: { name: string } }).metadata.name} in ${namespace}`);
}
