// The environment the backup scripts get in the cluster, read from the synthesised CronJob and
// pointed at a local server: every variable the chart sets keeps its value, except the address
// of the database, the backup volume's path and the password (a Secret reference there).
import { objectsOf } from '../helpers';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

interface EnvVar {
  name: string;
  value?: string;
}

/** `postgres-base-backup`'s container env in `environment`, for a database on 127.0.0.1:`port`. */
export function backupScriptEnv(environment: string, local: { backupRoot: string; port: number; password: string }, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const job = objectsOf(environment).find((l) => l.object.kind === 'CronJob' && l.object.metadata.name === 'postgres-base-backup')?.object as
    | { spec: { jobTemplate: { spec: { template: { spec: { containers: { env: EnvVar[] }[] } } } } } }
    | undefined;
  if (!job) throw new Error(`${environment} has no CronJob postgres-base-backup`);
  const shipped = Object.fromEntries(job.spec.jobTemplate.spec.template.spec.containers[0]!.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
  return {
    ...shipped,
    PATH: `${PG_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    PGHOST: '127.0.0.1',
    PGPORT: String(local.port),
    PGPASSWORD: local.password,
    BACKUP_ROOT: local.backupRoot,
    ...extra,
  };
}
