// Compiles a TypeScript entry point and the project's TypeScript it imports into one CommonJS file
// under build/ with esbuild (node_modules stay external and load natively), for `npm run synth`
// (scripts/synth.mjs) and `npm run cli` (scripts/cli.mjs). Node then runs plain JavaScript:
// much faster to start than tsx, whose loader hooks slow every require (bench/synth.ts,
// bench/cli-help.ts).
//
// The bundle is rebuilt only when the content of one of its source files changed: the hashes
// of the inputs esbuild reported last time are compared first (build/<name>.inputs.json).
// A syntax error in a source file (an environment file, say) is one line per error,
// "file:line:column: message", and exit code 1: no stack trace.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** sha256 of every input file's content, or undefined if one is gone. */
function fingerprint(inputs) {
  const hash = createHash('sha256');
  for (const input of inputs) {
    const path = join(root, input);
    if (!existsSync(path)) return undefined;
    hash.update(input).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

/** "file:line:column: message" for each error of an esbuild build failure (columns from 1). */
export function buildErrorLines(failure) {
  return (failure.errors ?? []).map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ${e.text}` : e.text));
}

/**
 * build/<name>.js from `entry` (relative to the project root), rebuilt when a source changed;
 * returns its path. On a syntax error prints one line per error and exits with code 1.
 */
export function bundle(entry, name) {
  const outfile = join(root, 'build', `${name}.js`);
  const inputsFile = join(root, 'build', `${name}.inputs.json`);
  const previous = existsSync(inputsFile) && existsSync(outfile) ? JSON.parse(readFileSync(inputsFile, 'utf8')) : undefined;
  if (previous && fingerprint(previous.inputs) === previous.fingerprint) return outfile;
  // esbuild is loaded only to build: a run that reuses the bundle does not pay for it.
  const { buildSync } = require('esbuild');
  mkdirSync(join(root, 'build'), { recursive: true });
  // Written beside, then renamed: two runs at once never load a half-written bundle.
  const temporary = `${outfile}.${process.pid}.tmp`;
  let result;
  try {
    result = buildSync({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile: temporary,
      bundle: true,
      packages: 'external',
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      metafile: true,
      logLevel: 'silent',
    });
  } catch (failure) {
    const lines = buildErrorLines(failure);
    if (lines.length === 0) throw failure;
    for (const line of lines) process.stderr.write(`${line}\n`);
    process.exit(1);
  }
  renameSync(temporary, outfile);
  const inputs = Object.keys(result.metafile.inputs).sort();
  writeFileSync(inputsFile, JSON.stringify({ inputs, fingerprint: fingerprint(inputs) }));
  return outfile;
}
