// The cdk8s app: synthesises the platform for every environment into dist/<env>/<layer>/
// (or under $CDK8S_OUTDIR when `cdk8s synth` runs it). `npm run synth` runs this same file
// through scripts/synth.mjs, which precompiles it first (see README, "How synth runs").
// The app is loaded through loadOrReport: a syntax error in an environment file is one line
// (file:line:column: message), not tsx's stack trace.
import { loadOrReport } from './lib/syntax-error';

void loadOrReport(() => import('./synth')).then((synth) => {
  if (synth) process.exitCode = synth.main();
});
