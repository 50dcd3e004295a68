// The cdk8s app: synthesises the platform for every environment into dist/<env>/<layer>/
// (or under $CDK8S_OUTDIR when `cdk8s synth` runs it). `npm run synth` runs this same file
// through scripts/synth.mjs, which precompiles it first (see README, "How synth runs").
import { main } from './lib/synth';

process.exitCode = main();
