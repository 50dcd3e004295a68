// `npm run synth`: compiles main.ts and the project's TypeScript into one CommonJS file with
// esbuild (node_modules stay external and load natively), then runs it in this process.
// Measured by `npm run bench:synth`: about a third of the time of running main.ts through tsx,
// whose loader hooks slow every require. No type checking here: `npm run typecheck` does that.
import { buildSync } from 'esbuild';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'build', 'main.js');

buildSync({
  absWorkingDir: root,
  entryPoints: ['main.ts'],
  outfile,
  bundle: true,
  packages: 'external',
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
});
// No source maps: enabling them makes Node parse the large inline maps that cdk8s ships, which
// costs more than the whole synth. The bundle keeps a "// charts/…" comment above each source
// file, and `npx tsx main.ts` gives TypeScript line numbers when a chart bug needs them.
createRequire(import.meta.url)(outfile);
