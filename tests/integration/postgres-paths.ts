// Moves the postgres chart's absolute paths into a folder of this machine: the one change the
// integration tests and bench:postgres make to the shipped configuration files.
import { PG_PATHS } from '../../charts/postgres/config';

/** `text` with the config, data, socket and custom-config paths under `root` (etc/, data/, run/, custom/). */
export function adaptPaths(text: string, root: string): string {
  return text
    .replaceAll(`${PG_PATHS.configDir}/`, `${root}/etc/`)
    .replaceAll(PG_PATHS.pgdata, `${root}/data`)
    .replaceAll(PG_PATHS.socketDir, `${root}/run`)
    .replaceAll(`${PG_PATHS.customDir}/`, `${root}/custom/`);
}
