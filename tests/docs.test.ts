// The generated sections of docs/ match the code (run `npm run docs` if this fails).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillPage, GENERATED_PAGES, generatedSections } from '../scripts/docs';
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
