// Synthesises the platform for every environment into dist/<env>/<layer>/ (or under
// $CDK8S_OUTDIR when run by `cdk8s synth`). A bad environment stops synth with one message
// that names the field and the fix; no stack trace.
import { ENVIRONMENTS } from './environments';
import { EnvironmentError } from './environments/schema';
import type { Manifests } from './lib/output';
import { writeOutput } from './lib/output';
import { renderEnvironment } from './platform';

export function synthAll(inputs: readonly unknown[], outdir: string): Map<string, Manifests> {
  const byEnv = new Map<string, Manifests>();
  for (const input of inputs) {
    const { env, manifests } = renderEnvironment(input);
    byEnv.set(env.name, manifests);
  }
  writeOutput(outdir, byEnv);
  return byEnv;
}

/** Runs synth and turns a failure into a message and an exit code. */
export function main(inputs: readonly unknown[] = ENVIRONMENTS, outdir = process.env.CDK8S_OUTDIR ?? 'dist'): number {
  try {
    const byEnv = synthAll(inputs, outdir);
    const summary = [...byEnv].map(([env, files]) => `${env}: ${files.size} objects`).join(', ');
    console.log(`synthesised ${summary} into ${outdir}/`);
    return 0;
  } catch (error) {
    if (error instanceof EnvironmentError) {
      console.error(error.message);
      return 1;
    }
    // Anything else is a bug in a chart: keep the stack trace for whoever fixes it.
    console.error(error);
    return 2;
  }
}

if (require.main === module) {
  process.exitCode = main();
}
