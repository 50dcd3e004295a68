// The environment the backup scripts get in the cluster, read from the synthesised CronJob and
// pointed at a local server: every variable the chart sets keeps its value, except the address
// of the database, the backup volume's path and the password (a Secret reference there).
import { objectsOf } from '../helpers';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

interface EnvVar {
  name: string;
  value?: string;
}

type Containers = { containers: { name: string; env?: EnvVar[] }[] };

/**
 * The env of `workload`'s first container in `environment` (a CronJob, or the WAL streamer's
 * Deployment with `container`), for a database on 127.0.0.1:`port`.
 */
export function backupScriptEnv(
  environment: string,
  local: { backupRoot: string; port: number; password: string },
  extra: NodeJS.ProcessEnv = {},
  workload = 'postgres-base-backup',
  container?: string,
): NodeJS.ProcessEnv {
  const found = objectsOf(environment).find((l) => ['CronJob', 'Deployment'].includes(l.object.kind) && l.object.metadata.name === workload)?.object as
    | { kind: string; spec: { jobTemplate?: { spec: { template: { spec: Containers } } }; template?: { spec: Containers } } }
    | undefined;
  if (!found) throw new Error(`${environment} has no CronJob or Deployment ${workload}`);
  const pod = found.spec.jobTemplate?.spec.template.spec ?? found.spec.template!.spec;
  const shipped = pod.containers.find((c) => container === undefined || c.name === container);
  if (!shipped) throw new Error(`${workload} in ${environment} has no container ${container}`);
  const values = Object.fromEntries((shipped.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
  return {
    ...values,
    PATH: `${PG_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    PGHOST: '127.0.0.1',
    PGPORT: String(local.port),
    PGPASSWORD: local.password,
    BACKUP_ROOT: local.backupRoot,
    ...extra,
  };
}
