// The repository stands alone: no code comment or document points at a folder outside it, and
// every repository path a comment or document cites exists, so a reader who follows a reference
// finds the fact it stands on (moves and renames otherwise leave references dangling).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

/** The part of a line a reader reads as prose: all of a document's, only the comment of code. */
function readable(file: string, line: string): string {
  if (file.endsWith('.md')) return line;
  const comment = /^\s*(?:\/\/|\/?\*|#)(.*)$/.exec(line) ?? /\s\/\/\s(.*)$/.exec(line);
  return comment?.[1] ?? '';
}

/**
 * Whether a cited path should exist here: its folder does. A path whose folder this repository
 * does not have (docs/src/… of CloudNativePG, lib/kernel/… of OTP) names an upstream file.
 */
function ours(path: string): boolean {
  return existsSync(join(ROOT, dirname(path)));
}

/** Tracked text files that people read: code, scripts, configuration and documents (not generated output). */
function sourceFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  return tracked.filter(
    (f) =>
      !/^(dist|imports|build)\//.test(f) &&
      !/package-lock\.json$|\.lock\.json$/.test(f) &&
      /\.(ts|mts|mjs|cjs|js|sh|sql|md|ya?ml|json|conf|cfg)$|^\.ci\/run$|Dockerfile$/.test(f),
  );
}

const OUTSIDE = /\.\.\/shared\b|\bshared\/crds\b|\bDESIGN\.md\b|\bREFERENCE\.md\b/;

/**
 * Repository paths cited in `text`: a top-level folder of this repository followed by a path that
 * ends in a file name with an extension. Globs and placeholders (<env>, *, {a,b}, ${...}) are
 * skipped, and so is the text of a Markdown link to a web address (an upstream file's path).
 */
export function citedPaths(text: string): string[] {
  const prose = text.replace(/\[[^\]]*\]\(https?:[^)]*\)/g, '');
  const found = prose.matchAll(
    /(?<![\w./@-])((?:docs|charts|lib|environments|tests|scripts|cli|bench|service|operators|checks)\/[\w./-]*\w\.(?:md|ts|mts|mjs|sh|sql|json|yaml|conf|cfg))\b/g,
  );
  return [...found].map((m) => m[1]!).filter((p) => !/[<>*{}$]/.test(p));
}

describe('the repository stands alone', () => {
  const files = sourceFiles();

  it('has no comment or document pointing at a folder outside the repository', () => {
    const found = files.flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          OUTSIDE.test(line) && file !== 'tests/unit/self-contained.test.ts' && file !== 'tests/unit/readme.test.ts'
            ? [`${file}:${i + 1}: ${line.trim()}`]
            : [],
        ),
    );
    expect(found).toEqual([]);
  });

  it('cites only repository paths that exist', () => {
    const missing = files.flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          citedPaths(readable(file, line))
            .filter((p) => ours(p) && !existsSync(join(ROOT, p)))
            .map((p) => `${file}:${i + 1}: ${p}`),
        ),
    );
    expect(missing).toEqual([]);
  });

  it('finds a cited path, skips placeholders, and reports one that is gone', () => {
    expect(citedPaths('see charts/postgres/parameters.ts (and docs/data-tier.md).')).toEqual(['charts/postgres/parameters.ts', 'docs/data-tier.md']);
    expect(citedPaths('dist/<env>/x.yaml and charts/*/files/run.sh')).toEqual([]);
    expect(citedPaths('[docs/oid-info.md](https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md)')).toEqual([]);
    const gone = citedPaths('moved: lib/no-such-file.ts')[0]!;
    expect(ours(gone) && !existsSync(join(ROOT, gone))).toBe(true);
    expect(ours('docs/src/replication.md')).toBe(false);
    expect(readable('x.ts', "const f = 'lib/x.ts'; // see lib/chart.ts")).toBe('see lib/chart.ts');
  });
});
