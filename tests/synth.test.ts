// Synth as a person runs it: the committed dist/ is what a fresh synth writes, `cdk8s synth`
// produces the same files, a bad environment stops synth with one readable message per mistake
// and writes nothing, and a syntax error in an environment file is one line without a stack trace.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { staging } from '../environments/staging';
import { OUTPUT_MARKER } from '../lib/output';
import { renderedManifests, ROOT } from './helpers';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every file a fresh synth writes, keyed by path under the output folder. */
function expectedFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [env, manifests] of renderedManifests()) {
    for (const [file, text] of manifests) out.set(`${env}/${file}`, text);
  }
  return out;
}

function compare(dir: string): string[] {
  const expected = expectedFiles();
  const problems: string[] = [];
  const present = filesUnder(dir)
    .map((f) => relative(dir, f))
    .filter((f) => f !== OUTPUT_MARKER);
  for (const file of present) {
    const want = expected.get(file);
    if (want === undefined) problems.push(`${file}: not written by synth any more`);
    else if (readFileSync(join(dir, file), 'utf8') !== want) problems.push(`${file}: differs from a fresh synth`);
  }
  for (const file of expected.keys()) if (!present.includes(file)) problems.push(`${file}: missing`);
  return problems;
}

/** Runs synth (tests/fixtures/synth-with-env.ts) on an environment written to a JSON file; `out` is where it would write. */
function synthWithEnv(env: unknown): { run: SpawnSyncReturns<string>; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bad-env-'));
  writeFileSync(join(dir, 'env.json'), JSON.stringify(env));
  const out = join(dir, 'out');
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'tests/fixtures/synth-with-env.ts', join(dir, 'env.json'), out], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { run, out };
}

describe('synth', () => {
  it('committed dist/ is up to date (run `npm run synth` and commit dist/ if this fails)', () => {
    expect(compare(join(ROOT, 'dist'))).toEqual([]);
  });

  it('`cdk8s synth` writes the same files to its --output folder', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cdk8s-')), 'out');
    const run = spawnSync('npx', ['cdk8s', 'synth', '--output', out], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(compare(out)).toEqual([]);
  });

  it('writes manifests that Kubernetes reads as written: YAML 1.1 (its parser) and 1.2 give the same objects', () => {
    const differ: string[] = [];
    for (const [file, text] of expectedFiles()) {
      const read = (version: '1.1' | '1.2') => JSON.stringify(parseAllDocuments(text, { version }).map((d) => d.toJS()));
      if (read('1.1') !== read('1.2')) differ.push(file);
    }
    expect(differ).toEqual([]);
    // The trap is real: an unquoted "off" is a boolean to YAML 1.1.
    expect(parseAllDocuments('jit: off', { version: '1.1' })[0]!.toJS()).toEqual({ jit: false });
  });

  it('stops on a bad environment with one message naming the field and the fix, no stack trace', () => {
    const broken = structuredClone(staging) as Record<string, unknown> & typeof staging;
    broken.components.postgres.instances = -2;
    delete (broken as Record<string, unknown>).domain;
    const { run, out } = synthWithEnv(broken);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Environment "staging" is invalid:');
    expect(run.stderr).toContain('components.postgres.instances: must be 1 or more (instances), got -2');
    expect(run.stderr).toContain('domain: is required for staging');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    [
      'a cron schedule Kubernetes refuses',
      (e: Broken) => (e.backup.redis.schedule = '61 * * * *'),
      'backup.redis.schedule: "61 * * * *" is not a valid schedule',
    ],
    [
      'a CIDR with a prefix beyond 32',
      (e: Broken) => (e.gateway.adminCidrs = ['10.0.0.0/33']),
      'gateway.adminCidrs.0: "10.0.0.0/33": the prefix length must be a whole number from 0 to 32',
    ],
    [
      'CORS open to every site outside dev',
      (e: Broken) => (e.gateway.corsOrigins = ['*']),
      'gateway.corsOrigins.0: "*" lets every web site call the staging API',
    ],
    [
      'a release without digest outside dev',
      (e: Broken) => (e.app.releases.api = 'ghcr.io/example-defi/api:1.2.3'),
      'app.releases.api: "ghcr.io/example-defi/api:1.2.3" has no digest',
    ],
    ['zero nodes, without a follow-on per replicated store', (e: Broken) => (e.nodes = 0), 'nodes: must be 1 or more (nodes), got 0'],
  ])('refuses %s with one message and writes nothing', (_what, breakIt, says) => {
    const broken = structuredClone(staging) as Broken;
    breakIt(broken);
    const { run, out } = synthWithEnv(broken);
    expect(run.status).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual(['Environment "staging" is invalid:', expect.stringContaining(`  - ${says}`)]);
    expect(existsSync(out)).toBe(false);
  });

  it('reports a syntax error in an environment file as one line, file:line:column, through the bundle and through tsx', () => {
    const dir = mkdtempSync(join(ROOT, 'build', 'syntax-'));
    try {
      writeFileSync(join(dir, 'env.ts'), "export const env = {\n  name: 'dev'\n  nodes: 1,\n};\n");
      writeFileSync(
        join(dir, 'main.ts'),
        "import { loadOrReport } from '../../lib/syntax-error';\nvoid loadOrReport(() => import('./env')).then((m) => m && console.log(m.env));\n",
      );
      const file = relative(ROOT, join(dir, 'env.ts'));
      const expected = `${file}:3:3: Expected "}" but found "nodes"`;
      // npm run synth and npm run cli: scripts/bundle.mjs compiles with esbuild.
      const bundled = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { bundle } from './scripts/bundle.mjs'; bundle(${JSON.stringify(relative(ROOT, join(dir, 'main.ts')))}, 'syntax-test');`,
        ],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(bundled.status).toBe(1);
      expect(bundled.stderr.trimEnd().split('\n')).toEqual([expected]);
      // cdk8s synth: npx tsx main.ts, which loads the app through loadOrReport.
      const tsx = spawnSync(process.execPath, ['--import', 'tsx', join(dir, 'main.ts')], { cwd: ROOT, encoding: 'utf8' });
      expect(tsx.status).toBe(1);
      expect(tsx.stderr.trimEnd().split('\n')).toEqual([expected]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

type Broken = Record<string, unknown> & typeof staging & { gateway: { corsOrigins: string[]; adminCidrs: string[] } };
