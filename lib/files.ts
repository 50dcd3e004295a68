// Files that charts mount (SQL, scripts, config templates) live beside their chart and are read
// at synth, so the tests run the same bytes that ship. Paths are relative to the project root:
// this module sits one folder below it both as TypeScript (lib/) and when scripts/synth.mjs
// compiles it into build/.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '..');

/** The text of a file given relative to the project root, e.g. "charts/postgres/files/platform-init.sql". */
export function projectFile(relativePath: string): string {
  return readFileSync(join(PROJECT_ROOT, relativePath), 'utf8');
}
