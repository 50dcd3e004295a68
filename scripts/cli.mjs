// `npm run cli` and `npm run promote`: compiles cli/index.ts and the project's TypeScript into
// build/cli.js with esbuild (scripts/bundle.mjs; rebuilt only when a source file changed) and
// runs it. Each command's module stays behind a lazy import inside the bundle, so `--help` and a
// usage error run commander and a few lists of names, not the charts or client-node
// (bench/cli-help.ts measures it).
import { createRequire } from 'node:module';
import process from 'node:process';
import { bundle } from './bundle.mjs';

const outfile = bundle('cli/index.ts', 'cli');
createRequire(import.meta.url)(outfile).run(process.argv.slice(2));
