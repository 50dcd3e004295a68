// Every synthesised object of every environment, checked against every policy rule.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { LAYERS, ON_DEMAND_FOLDER } from '../../lib/layers';
import { objectsOf } from '../helpers';
import { EXEMPTION_PREFIX, POLICY_EXCEPTIONS } from '../../lib/policy';
import { parseEnvironment } from '../../environments/schema';
import { ENVIRONMENTS } from '../../environments';
import { checkAll, formatViolations, RULES } from './rules';

describe.each(ENVIRONMENT_NAMES)('%s', (env) => {
  const located = objectsOf(env);

  it('synthesises objects into layer folders and the on-demand folder', () => {
    expect(located.length).toBeGreaterThan(0);
    for (const { file } of located) expect(file).toMatch(new RegExp(`^(${[...LAYERS, ON_DEMAND_FOLDER].join('|')})/`));
  });

  it('meets every policy rule', () => {
    const network = parseEnvironment(ENVIRONMENTS.find((e) => e.name === env)!).network;
    expect(formatViolations(checkAll(located.map((l) => l.object), RULES, { pods: network.podCidrs, nodes: network.nodeCidrs }))).toBe('');
  });

  it('takes only the exceptions lib/policy.ts declares, with their reasons, and prints them', () => {
    const prefix = parseEnvironment(ENVIRONMENTS.find((e) => e.name === env)!).namespacePrefix;
    const rules = new Set(RULES.map((r) => r.id));
    const taken = located.flatMap(({ object }) =>
      Object.entries(object.metadata.annotations ?? {})
        .filter(([key]) => key.startsWith(EXEMPTION_PREFIX))
        .map(([key, reason]) => ({ object: `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`, subject: object.metadata.name!.slice(object.kind === 'Namespace' ? prefix.length : 0), rule: key.slice(EXEMPTION_PREFIX.length), reason })),
    );
    console.log(`${env}: ${located.length} objects, ${RULES.length} rules, ${taken.length} exceptions:\n${taken.map((t) => `  ${t.object}  [${t.rule}]  ${t.reason}`).join('\n')}`);
    for (const t of taken) {
      expect(rules.has(t.rule), `${t.object} is exempt from ${t.rule}, which is no rule`).toBe(true);
      expect(POLICY_EXCEPTIONS[t.subject]?.[t.rule], `${t.object} takes an exception to ${t.rule} that lib/policy.ts does not declare`).toBe(t.reason);
    }
  });
});
