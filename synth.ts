// Synthesis of every environment: render each into memory, then replace the output folder.
// main.ts calls `main()`; the tests and the benchmark call `synthAll()`.
import { ENVIRONMENTS } from './environments';
import { EnvironmentError } from './environments/schema';
import { renderEnvironment } from './platform';
import { type Manifests, writeOutput } from './lib/output';

/** Renders every environment, then writes them all; nothing is written if any fails. */
export function synthAll(inputs: readonly unknown[], outdir: string): Map<string, Manifests> {
  const byEnv = new Map<string, Manifests>();
  for (const input of inputs) {
    const { env, manifests } = renderEnvironment(input);
    byEnv.set(env.name, manifests);
  }
  writeOutput(outdir, byEnv);
  return byEnv;
}

/**
 * Runs synth and turns a failure into a message and an exit code: 1 for a bad environment
 * (the message names the field and the fix), 2 for anything else (a bug, with its stack).
 */
export function main(inputs: readonly unknown[] = ENVIRONMENTS, outdir = process.env.CDK8S_OUTDIR ?? 'dist'): number {
  try {
    const byEnv = synthAll(inputs, outdir);
    const summary = [...byEnv].map(([env, files]) => `${env}: ${files.size} objects`).join(', ');
    // resourceUsage().maxRSS is in KiB; the benchmark reads this line.
    const peak = (process.resourceUsage().maxRSS / 1024).toFixed(0);
    console.log(`synthesised ${summary} into ${outdir}/ (peak memory ${peak} MiB)`);
    return 0;
  } catch (error) {
    if (error instanceof EnvironmentError) {
      console.error(error.message);
      return 1;
    }
    console.error(error);
    console.error('This is a bug in a chart, not in the environment. `npx tsx main.ts` shows TypeScript line numbers.');
    return 2;
  }
}
