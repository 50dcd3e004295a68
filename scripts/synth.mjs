// `npm run synth`: compiles main.ts and the project's TypeScript into one CommonJS file with
// esbuild (node_modules stay external and load natively), then runs it in this process.
// Measured by `npm run bench:synth`: much faster than running main.ts through tsx, whose loader
// hooks slow every require. No type checking here: `npm run typecheck` does that.
//
// The bundle is rebuilt only when the content of one of its source files changed: the hashes
// of the inputs esbuild reported last time are compared first (build/main.inputs.json).
import { buildSync } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'build', 'main.js');
const inputsFile = join(root, 'build', 'main.inputs.json');

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

const previous = existsSync(inputsFile) && existsSync(outfile) ? JSON.parse(readFileSync(inputsFile, 'utf8')) : undefined;
if (!previous || fingerprint(previous.inputs) !== previous.fingerprint) {
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: ['main.ts'],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs).sort();
  writeFileSync(inputsFile, JSON.stringify({ inputs, fingerprint: fingerprint(inputs) }));
}
// No source maps: enabling them makes Node parse the large inline maps that cdk8s ships, which
// costs more than the whole synth. The bundle keeps a "// charts/…" comment above each source
// file, and `npx tsx main.ts` gives TypeScript line numbers when a chart bug needs them.
createRequire(import.meta.url)(outfile);
