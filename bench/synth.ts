// Synth benchmark: runs a full synth of every environment several times with each way of
// running it, and prints the median wall time, the peak memory of the synth process, the object
// count per environment and milliseconds per object; then the same per-object cost measured
// in-process (warm, without process start-up). Targets (README, "How synth runs"): under 1.5 s for all
// environments, per object no slower than `helm template` on the community Supabase chart
// (about 1.1 ms), peak memory under 400 MiB.
//   npm run bench:synth            (BENCH_RUNS=N to change the number of runs, default 7)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { ENVIRONMENTS } from '../environments';
import { renderEnvironment } from '../platform';

const ROOT = join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

// Each way an engineer runs synth. `cdk8s synth` runs cdk8s.yaml's app (the same bundle as
// `npm run synth`) under the cdk8s CLI, which prints no summary line: its objects are counted
// from the files written, and its peak memory is the CLI's child and not reported.
const MODES: { name: string; command: (outdir: string) => string[] }[] = [
  { name: 'npm run synth (esbuild bundle, node)', command: () => ['npm', 'run', '-s', 'synth'] },
  { name: 'node scripts/synth.mjs (same, no npm)', command: () => ['node', 'scripts/synth.mjs'] },
  { name: 'cdk8s synth (cdk8s.yaml app)', command: (outdir) => ['node_modules/.bin/cdk8s', 'synth', '--output', outdir] },
  { name: 'tsx main.ts (unbundled, for reference)', command: () => ['node_modules/.bin/tsx', 'main.ts'] },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface Run {
  seconds: number;
  peakMiB: number;
  objects: Record<string, number>;
}

/** Objects per environment, counted from the files under `dist` (one object per file). */
function countFiles(dist: string): Record<string, number> {
  const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
  const counts: Record<string, number> = {};
  for (const f of files) counts[f.split(sep)[0]!] = (counts[f.split(sep)[0]!] ?? 0) + 1;
  return counts;
}

function runOnce(mode: (typeof MODES)[number]): Run {
  const outdir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  const dist = join(outdir, 'dist');
  const command = mode.command(dist);
  try {
    const start = process.hrtime.bigint();
    const run = spawnSync(command[0]!, command.slice(1), { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK8S_OUTDIR: dist } });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (run.status !== 0) throw new Error(`${command.join(' ')} failed:\n${run.stdout}${run.stderr}`);
    const line = run.stdout.split('\n').find((l) => l.startsWith('synthesised '));
    const objects = line ? Object.fromEntries([...line.matchAll(/(\w+): (\d+) objects/g)].map((m) => [m[1]!, Number(m[2])])) : countFiles(dist);
    if (Object.keys(objects).length === 0) throw new Error(`${command.join(' ')} wrote no objects:\n${run.stdout}`);
    const peak = line ? /peak memory (\d+) MiB/.exec(line) : null;
    return { seconds, peakMiB: Number(peak?.[1] ?? Number.NaN), objects };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

console.log(`synth benchmark: ${RUNS} runs per mode, ${process.version}, ${cpus().length} cores\n`);
let counts: Record<string, number> = {};
for (const mode of MODES) {
  runOnce(mode); // warm the file cache and tsx's transform cache
  const runs = Array.from({ length: RUNS }, () => runOnce(mode));
  counts = runs[0]!.objects;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const wall = median(runs.map((r) => r.seconds));
  console.log(
    `${mode.name.padEnd(40)} median ${wall.toFixed(3)} s  (min ${Math.min(...runs.map((r) => r.seconds)).toFixed(3)}, max ${Math.max(...runs.map((r) => r.seconds)).toFixed(3)})  ` +
      `${((wall * 1000) / total).toFixed(2)} ms/object  peak ${Number.isNaN(runs[0]!.peakMiB) ? 'n/a' : `${median(runs.map((r) => r.peakMiB)).toFixed(0)} MiB`}`,
  );
}
const total = Object.values(counts).reduce((a, b) => a + b, 0);
console.log(
  `\nobjects: ${Object.entries(counts)
    .map(([env, n]) => `${env} ${n}`)
    .join(', ')} (total ${total})`,
);

// In-process: render every environment again and again in this (already warm) process.
const inProcess: number[] = [];
for (let i = 0; i < Math.max(RUNS, 5); i++) {
  const start = process.hrtime.bigint();
  for (const env of ENVIRONMENTS) renderEnvironment(env);
  inProcess.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const warm = median(inProcess);
console.log(`in-process render of all environments (warm): median ${warm.toFixed(1)} ms, ${(warm / total).toFixed(3)} ms/object`);
