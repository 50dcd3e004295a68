// Every synthesised object of every environment, checked against every policy rule.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { LAYERS, ON_DEMAND_FOLDER } from '../../lib/layers';
import { objectsOf } from '../helpers';
import { checkAll, formatViolations } from './rules';

describe.each(ENVIRONMENT_NAMES)('%s', (env) => {
  const located = objectsOf(env);

  it('synthesises objects into layer folders and the on-demand folder', () => {
    expect(located.length).toBeGreaterThan(0);
    for (const { file } of located) expect(file).toMatch(new RegExp(`^(${[...LAYERS, ON_DEMAND_FOLDER].join('|')})/`));
  });

  it('meets every policy rule', () => {
    expect(formatViolations(checkAll(located.map((l) => l.object)))).toBe('');
  });
});
