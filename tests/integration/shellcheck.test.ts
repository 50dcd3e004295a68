// Every shell script the project ships or runs passes shellcheck (the exact files, unchanged).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers';
import { describeNeeding, program } from './tools';

const SKIP = new Set(['node_modules', 'dist', 'imports', '.git', 'build']);

function shellScripts(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    if (SKIP.has(entry)) return [];
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return shellScripts(path);
    const isShell = entry.endsWith('.sh') || /^#!.*\b(ba)?sh\b/.test(readFileSync(path, 'utf8').split('\n', 1)[0] ?? '');
    return isShell ? [path] : [];
  });
}

describeNeeding([program('shellcheck', 'shellcheck')], 'shell scripts', () => {
  const scripts = shellScripts(ROOT);

  it('finds the scripts', () => {
    expect(scripts.map((s) => relative(ROOT, s))).toEqual(expect.arrayContaining(['.ci/run']));
  });

  it.each(scripts.map((s) => [relative(ROOT, s), s]))('%s passes shellcheck', (_name, path) => {
    const run = spawnSync('shellcheck', ['--severity=style', '--external-sources', path], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
