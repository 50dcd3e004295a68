// Each chart's constructor reads top to bottom in one screen: at most 100 lines (after Prettier).
// What a chart builds in detail lives in functions and files beside it (the Cluster spec in
// charts/postgres/cluster.ts, the product's components in charts/app/components.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const LIMIT = 100;

/** Line count of every class constructor in `text`, from `constructor(` to its closing brace. */
export function constructorLengths(text: string): { line: number; lines: number }[] {
  const lines = text.split('\n');
  const found: { line: number; lines: number }[] = [];
  lines.forEach((l, i) => {
    const m = /^(\s*)constructor\(/.exec(l);
    if (!m) return;
    const end = lines.findIndex((x, j) => j > i && x === `${m[1]}}`);
    if (end < 0) throw new Error(`constructor at line ${i + 1} has no closing brace at its indentation`);
    found.push({ line: i + 1, lines: end - i + 1 });
  });
  return found;
}

describe('chart constructors', () => {
  it(`are at most ${LIMIT} lines`, () => {
    const files = readdirSync(join(ROOT, 'charts'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const long = files.flatMap((f) => {
      const path = join(ROOT, 'charts', f);
      return constructorLengths(readFileSync(path, 'utf8'))
        .filter((c) => c.lines > LIMIT)
        .map((c) => `${relative(ROOT, path)}:${c.line}: ${c.lines} lines`);
    });
    expect(files.length).toBeGreaterThan(20);
    expect(long).toEqual([]);
  });

  it('measures a constructor from its line to its closing brace', () => {
    const text = ['class A {', '  constructor() {', '    a();', '    b();', '  }', '}'].join('\n');
    expect(constructorLengths(text)).toEqual([{ line: 2, lines: 4 }]);
  });
});
