// No import cycles in the repository's own source (checks/import-cycles.ts walks every .ts, .mts
// and .mjs file's relative imports). The first part proves that the check can fail: it builds a
// small tree with a cycle in a temporary folder and expects it found.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cycle, findCycles, formatCycle, importGraph } from '../../checks/import-cycles';

// Not ROOT from ../helpers: that module loads the whole platform, which this test never renders.
const ROOT = resolve(__dirname, '../..');

describe('the import-cycle check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-cycles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (files: Record<string, string>): void => {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
  };

  it('finds a cycle through a re-export, a type-only import and an index file, and names its path', () => {
    write({
      'a.ts': "import { b } from './lib/b';\nexport const a = b;\n",
      'lib/b.ts': "export { c as b } from '../c';\n",
      'c.ts': "import type { A } from './d';\nexport const c = 1;\n",
      'd/index.ts': "import { a } from '../a';\nexport type A = typeof a;\n",
      'free.mjs': "import { a } from './a.ts';\nimport 'node:fs';\nimport data from './data.json';\n",
      'data.json': '{}',
      'node_modules/x/index.ts': "import '../../a';\n",
    });
    const graph = importGraph(dir);
    expect([...graph.keys()]).not.toContain('node_modules/x/index.ts');
    expect(graph.get('free.mjs')).toEqual(['a.ts']);
    const cycles = findCycles(graph);
    expect(cycles.map((c) => c.files)).toEqual([['a.ts', 'c.ts', 'd/index.ts', 'lib/b.ts']]);
    expect(formatCycle(cycles[0]!)).toBe('a.ts -> lib/b.ts -> c.ts -> d/index.ts -> a.ts');
  });

  it('finds a dynamic import and a require that close a cycle, and a file importing itself', () => {
    write({
      'e.mts': "export const load = () => import('./f.mjs');\n",
      'f.mjs': "const { load } = require('./e.mts');\nexport default load;\n",
      'g.ts': "import { g } from './g';\nexport const h = g;\n",
    });
    const cycles = findCycles(importGraph(dir, ['e.mts', 'f.mjs', 'g.ts']));
    expect(cycles.map((c) => c.path)).toEqual([
      ['e.mts', 'f.mjs', 'e.mts'],
      ['g.ts', 'g.ts'],
    ]);
  });
});

/** [importer prefix, imported prefixes it must not reach, why]: the layers of the repository. */
const LAYERS: readonly (readonly [string, readonly string[], string])[] = [
  [
    'lib/',
    ['charts/', 'platform.ts', 'synth.ts', 'checks/', 'harness/', 'tests/', 'scripts/', 'cli/', 'bench/'],
    'the kit is below the charts and knows nothing of what checks or runs them',
  ],
  [
    'charts/',
    ['platform.ts', 'synth.ts', 'checks/', 'harness/', 'tests/', 'scripts/', 'cli/', 'bench/'],
    "charts declare objects; verifying them is the checks' job",
  ],
  ['environments/', ['checks/', 'harness/', 'tests/', 'scripts/', 'cli/', 'bench/'], 'environment facts are data for the app'],
  ['platform.ts', ['checks/', 'harness/', 'tests/', 'scripts/', 'cli/', 'bench/'], 'the app does not load the checks'],
  ['synth.ts', ['checks/', 'harness/', 'tests/', 'scripts/', 'cli/', 'bench/'], 'the app does not load the checks'],
  ['checks/', ['tests/', 'bench/', 'scripts/', 'cli/'], 'tests, docs and CI all use the checks'],
  ['harness/', ['tests/', 'bench/'], 'tests and benches both use it'],
  ['bench/', ['tests/'], 'benches run without the test suite'],
  ['scripts/', ['tests/'], 'the docs and the build run without the test suite'],
  ['cli/', ['tests/', 'checks/', 'harness/'], 'the operator CLI ships without the checks'],
];

describe('the repository', () => {
  const graph = importGraph(ROOT);
  const cycles: Cycle[] = findCycles(graph);

  it('keeps its layers: no import reaches a layer above or beside it', () => {
    const wrong = [...graph].flatMap(([file, targets]) =>
      LAYERS.filter(([from]) => file.startsWith(from)).flatMap(([, banned, why]) =>
        targets.filter((t) => banned.some((b) => t.startsWith(b))).map((t) => `${file} -> ${t} (${why})`),
      ),
    );
    expect(wrong).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(cycles.map(formatCycle), 'import cycles: break each (a type or constant both sides need goes in a module of its own)').toEqual([]);
  });
});
