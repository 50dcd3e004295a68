// The generated parts of docs/ match the code (run `npm run docs` if this fails): the generated
// sections of hand-written pages, and the alert runbooks, which are generated whole.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillPage, GENERATED_PAGES, generatedSections, RUNBOOK_DIR, RUNBOOK_MARKER, runbookChanges, runbookPages } from '../scripts/docs';
import { ROOT } from './helpers';

describe('generated docs', () => {
  const sections = generatedSections();

  it.each(GENERATED_PAGES)('%s is up to date', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    expect(text).toMatch(/<!-- generated:/);
    expect(fillPage(text, sections)).toBe(text);
  });

  it('notices a stale section', () => {
    const stale = '<!-- generated:tuning-table -->\nold numbers\n<!-- /generated:tuning-table -->\n';
    expect(fillPage(stale, sections)).not.toBe(stale);
  });
});

describe('alert runbooks', () => {
  const pages = runbookPages();

  it(`${RUNBOOK_DIR}/ holds exactly the generated pages, up to date`, () => {
    const changes = runbookChanges(join(ROOT, RUNBOOK_DIR), pages);
    expect(changes, 'run `npm run docs`').toEqual([]);
  });

  it('notices a missing page, a stale page and the page of a removed alert, and leaves hand-written files alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbooks-'));
    try {
      for (const [file, text] of Object.entries(pages)) writeFileSync(join(dir, file), text);
      rmSync(join(dir, 'Watchdog.md'));
      writeFileSync(join(dir, 'TargetDown.md'), `${pages['TargetDown.md']}\nan edit by hand\n`);
      writeFileSync(join(dir, 'OldAlert.md'), `${RUNBOOK_MARKER}\n# OldAlert\n`);
      writeFileSync(join(dir, 'notes.md'), '# Notes kept by hand\n');
      expect(runbookChanges(dir, pages)).toEqual([
        { file: 'Watchdog.md', action: 'write' },
        { file: 'TargetDown.md', action: 'write' },
        { file: 'OldAlert.md', action: 'remove' },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
