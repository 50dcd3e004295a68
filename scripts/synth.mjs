// `npm run synth`: compiles main.ts and the project's TypeScript into one CommonJS file with
// esbuild (scripts/bundle.mjs: node_modules stay external and load natively; rebuilt only when
// a source file changed), then runs it in this process. Measured by `npm run bench:synth`: much
// faster than running main.ts through tsx, whose loader hooks slow every require. No type
// checking here: `npm run typecheck` does that. A syntax error in an environment file is one
// line, "file:line:column: message".
import { createRequire } from 'node:module';
import { bundle } from './bundle.mjs';

const outfile = bundle('main.ts', 'main');
// No source maps: enabling them makes Node parse the large inline maps that cdk8s ships, which
// costs more than the whole synth. The bundle keeps a "// charts/…" comment above each source
// file, and `npx tsx main.ts` gives TypeScript line numbers when a chart bug needs them.
createRequire(import.meta.url)(outfile);
