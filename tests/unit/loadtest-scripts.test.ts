// The k6 scripts of tests/load/ as k6 gets them: they type-check against @types/k6 with their own
// tsconfig (no Node, no DOM), a type error in such a script does fail that check, they import
// only k6 modules and each other (by file name, with .ts), each file turns into JavaScript on its
// own (k6 strips the types one file at a time), and every variable a script reads is one its Job
// sets.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { loadtestFiles, LOADTEST_JOBS } from '../../charts/loadtest/loadtest-chart';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { LOADTEST_SCRIPTS } from '../../environments/loadtest';
import { find, ROOT } from '../helpers';

const LOAD = join(ROOT, 'tests/load');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
/**
 * tsc on a project, started at once: the three type checks of this file run side by side instead
 * of one after the other (each is a separate tsc process of several seconds).
 */
const tsc = (project: string): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, [TSC, '-p', project], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
const source = (path: string) => readFileSync(join(LOAD, path), 'utf8');
const files = loadtestFiles().map((f) => f.path);

/** Module specifiers of `import ... from '...'` and `import '...'` statements (`typeOnly`: those of `import type`). */
const importsOf = (text: string, kind: 'all' | 'values' = 'all') =>
  [...text.matchAll(/^\s*import\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)].filter((m) => kind === 'all' || !m[1]).map((m) => m[2]!);

describe('type checking with tests/load/tsconfig.json', () => {
  const scripts = tsc(join(LOAD, 'tsconfig.json'));

  it('passes for the scripts as they are', async () => {
    const run = await scripts;
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  describe('catches a script that misuses k6', () => {
    const dir = mkdtempSync(join(tmpdir(), 'k6-typecheck-'));
    // After both checks have ended, also when a test of them was filtered out.
    afterAll(async () => {
      await Promise.allSettled([good, broken]);
      rmSync(dir, { recursive: true, force: true });
    });
    // The same settings, aimed at the snippets; types from this repository's node_modules.
    const project = (entry: string) => {
      const path = join(dir, `tsconfig.${entry}.json`);
      writeFileSync(
        path,
        JSON.stringify({
          extends: join(LOAD, 'tsconfig.json'),
          compilerOptions: { typeRoots: [join(ROOT, 'node_modules/@types')] },
          include: [],
          files: [join(dir, `${entry}.ts`), join(LOAD, 'types/console.d.ts')],
        }),
      );
      return path;
    };
    writeFileSync(
      join(dir, 'good.ts'),
      "import http from 'k6/http';\nexport default function (): void {\n  http.get('https://kong:8443/app/v1/healthz', { timeout: '10s' });\n}\n",
    );
    writeFileSync(
      join(dir, 'broken.ts'),
      "import http from 'k6/http';\nexport default function (): void {\n  http.get('https://kong:8443/app/v1/healthz', { timeout: true });\n}\n",
    );
    const good = tsc(project('good'));
    const broken = tsc(project('broken'));

    it("passes a correct snippet with these settings (so the failure below is the snippet's)", async () => {
      const run = await good;
      expect(run.stdout + run.stderr).toBe('');
      expect(run.status).toBe(0);
    });

    it('fails a snippet that passes a wrong type to http.get, naming the line', async () => {
      const run = await broken;
      expect(run.status).not.toBe(0);
      expect(run.stdout).toMatch(/broken\.ts\(3,\d+\): error TS2\d+/);
    });
  });
});

describe.each(files)('tests/load/%s', (path) => {
  const text = source(path);

  it('imports only k6 modules and other scripts, by file name', () => {
    for (const spec of importsOf(text)) {
      if (spec === 'k6' || spec.startsWith('k6/')) {
        expect(spec, 'k6/x/ modules are extensions the pinned k6 image lacks').not.toMatch(/^k6\/x\//);
        continue;
      }
      expect(spec, `${path} imports ${spec}: only k6/* modules and relative .ts files run in k6`).toMatch(/^\.\.?\/.*\.ts$/);
      const target = posix.normalize(posix.join(posix.dirname(path), spec));
      expect(files, `${path} imports ${spec}, which the ConfigMap does not ship`).toContain(target);
    }
    expect(text).not.toMatch(/\brequire\s*\(|\bprocess\.|\bnode:/);
  });

  it('turns into JavaScript on its own, keeping its imports', () => {
    const out = transformSync(text, { loader: 'ts', format: 'esm', sourcefile: path });
    expect(importsOf(out.code).sort()).toEqual(importsOf(text, 'values').sort());
  });
});

/** The variables a script and the libraries it imports read through tests/load/lib/config.ts's helpers. */
function variablesRead(path: string, seen = new Set<string>()): Set<string> {
  if (seen.has(path)) return new Set();
  seen.add(path);
  const text = source(path);
  const names = new Set([...text.matchAll(/\b(?:required|optional|numberFrom|wholeNumberFrom|durationFrom)\('([A-Z0-9_]+)'/g)].map((m) => m[1]!));
  for (const spec of importsOf(text).filter((s) => s.startsWith('.'))) {
    for (const n of variablesRead(posix.normalize(posix.join(dirname(path), spec)), seen)) names.add(n);
  }
  return names;
}

describe.each(ENVIRONMENT_NAMES)('%s', (envName) => {
  it.each(LOADTEST_SCRIPTS)('the Job of %s.ts sets every variable the script reads', (script) => {
    const job = find(envName, 'Job', LOADTEST_JOBS[script]);
    const set = new Set(
      (job.spec as { template: { spec: { containers: { env: { name: string }[] }[] } } }).template.spec.containers[0]!.env.map((e) => e.name),
    );
    const read = variablesRead(`${script}.ts`);
    expect(read.size).toBeGreaterThan(8);
    // LOADTEST_USER_PASSWORD is read only when users sign in with a password.
    const env = Object.fromEntries(
      (job.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }).template.spec.containers[0]!.env.map((e) => [
        e.name,
        e.value,
      ]),
    );
    const missing = [...read].filter((name) => !set.has(name) && !(name === 'LOADTEST_USER_PASSWORD' && env.LOADTEST_AUTH_MODE === 'signup'));
    expect(missing).toEqual([]);
  });
});
