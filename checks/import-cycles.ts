// The import graph of the repository's own source and the cycles in it. A cycle between modules
// makes their load order depend on which one is imported first (a constant read before it is set
// is `undefined`), and it welds layers together so that none of them can move or be tested alone.
// tests/unit/import-cycles.test.ts fails on any cycle found here.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const SOURCE = /\.(ts|mts|mjs)$/;
/** Never source of the project: dependencies, generated code (cdk8s import) and build output. */
const SKIPPED_NAMES = new Set(['node_modules', '.git']);
const SKIPPED_PATHS = new Set(['dist', 'imports', 'build', 'coverage', 'service/dist']);
/** How a relative specifier without a source extension may name a file. */
const CANDIDATES = ['', '.ts', '.mts', '.mjs', '/index.ts', '/index.mts', '/index.mjs'];

/** Every source file under `root` (a path relative to it, with forward slashes). */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path).split(sep).join('/');
      if (SKIPPED_NAMES.has(name) || SKIPPED_PATHS.has(rel)) continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(rel);
    }
  };
  walk(root);
  return out;
}

/** The project file a relative specifier names, or undefined (a JSON file, a package). */
function resolveSpecifier(root: string, from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(root, dirname(from), specifier);
  // TypeScript ESM style: `./x.js` names ./x.ts.
  const stripped = base.replace(/\.(m?js)$/, '');
  for (const path of [...CANDIDATES.map((c) => base + c), ...CANDIDATES.slice(1).map((c) => stripped + c)]) {
    if (SOURCE.test(path) && existsSync(path) && statSync(path).isFile()) return relative(root, path).split(sep).join('/');
  }
  return undefined;
}

/**
 * File -> the project files it imports: static imports and re-exports (type-only ones too: they
 * still tie the two modules' layers together), `import()` and `require()` of a relative path.
 */
export function importGraph(root: string, files: readonly string[] = sourceFiles(root)): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    const targets = info.importedFiles.map((f) => resolveSpecifier(root, file, f.fileName)).filter((t): t is string => t !== undefined);
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

/**
 * Each cycle of the graph, as one strongly connected component (the files that reach each
 * other), sorted, with one concrete path through it (first file repeated at the end).
 */
export interface Cycle {
  readonly files: readonly string[];
  readonly path: readonly string[];
}

/** The cycles of `graph` (Tarjan's strongly connected components of more than one file, or a self-import). */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): Cycle[] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return components
    .filter((c) => c.length > 1 || (graph.get(c[0]!) ?? []).includes(c[0]!))
    .map((c) => {
      const files = [...c].sort();
      return { files, path: pathThrough(graph, new Set(files), files[0]!) };
    })
    .sort((a, b) => a.files[0]!.localeCompare(b.files[0]!));
}

/** A shortest path from `start` back to itself inside one component (breadth first). */
function pathThrough(graph: ReadonlyMap<string, readonly string[]>, members: ReadonlySet<string>, start: string): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at = v; at !== start; at = previous.get(at)!) path.push(at);
        return [start, ...path.slice(1).reverse(), start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

/** One line per cycle: "a.ts -> b.ts -> a.ts (files: a.ts, b.ts)". */
export function formatCycle(cycle: Cycle): string {
  return `${cycle.path.join(' -> ')}${cycle.files.length > cycle.path.length - 1 ? ` (all of: ${cycle.files.join(', ')})` : ''}`;
}
