// The README as a newcomer reads it in a fresh clone: the programs it says CI installs are the
// ones .ci/run installs, and neither it nor docs/ points at a folder outside the repository.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers';

/** The packages of the `apt-get install` line of .ci/run. */
function ciPackages(script: string): string[] {
  const line = script.split('\n').find((l) => /^\s*apt-get install\b/.test(l));
  if (!line) throw new Error('.ci/run has no apt-get install line');
  return line
    .replace(/[<>].*$/, '')
    .trim()
    .split(/\s+/)
    .slice(2)
    .filter((word) => !word.startsWith('-'));
}

/** The packages the README lists for .ci/run: "`.ci/run` installs those programs (`...`)". */
function readmePackages(readme: string): string[] {
  const match = /`\.ci\/run` installs those\s+programs \(`([^`]+)`\)/.exec(readme);
  if (!match) throw new Error('the README does not list the programs .ci/run installs');
  return match[1]!.trim().split(/\s+/);
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? markdownFiles(path) : entry.endsWith('.md') ? [path] : [];
  });
}

describe('README', () => {
  it('lists exactly the programs .ci/run installs', () => {
    const ci = ciPackages(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'));
    expect(ci).toContain('rclone');
    expect(readmePackages(readFileSync(join(ROOT, 'README.md'), 'utf8')).sort()).toEqual([...ci].sort());
  });

  it('reads the lists the way the test compares them', () => {
    expect(ciPackages('set -e\napt-get install -y -qq --no-install-recommends a b-c >/dev/null\n')).toEqual(['a', 'b-c']);
    expect(readmePackages('`.ci/run` installs those\nprograms (`a\nb-c`) and')).toEqual(['a', 'b-c']);
  });

  it('and docs/ name no folder outside the repository', () => {
    const outside = /\.\.\/shared|\bshared\/crds\b|DESIGN\.md|REFERENCE\.md/;
    const files = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];
    const found = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => [line, i] as const)
        .filter(([line]) => outside.test(line))
        .map(([line, i]) => `${relative(ROOT, file)}:${i + 1}: ${line.trim()}`),
    );
    expect(found).toEqual([]);
    // Relative links stay inside the repository.
    const escaping = files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\]\((\.\.\/[^)#\s]*)/g)]
        .map((m) => m[1]!)
        .filter((target) => relative(ROOT, join(file, '..', target)).startsWith('..'))
        .map((target) => `${relative(ROOT, file)}: ${target}`),
    );
    expect(escaping).toEqual([]);
  });
});
