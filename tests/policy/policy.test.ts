// Every synthesised object of every environment, checked against every policy rule.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { LAYERS, ON_DEMAND_FOLDER } from '../../lib/layers';
import { environment, objectsOf } from '../helpers';
import { EXEMPTION_PREFIX, POLICY_EXCEPTIONS } from '../../lib/exemptions';
import { IMAGES, imageRef } from '../../lib/images';
import { imagesOf } from '../../checks/objects';
import { checkAll, formatViolations, RULES } from '../../checks/rules';

describe.each(ENVIRONMENT_NAMES)('%s', (env) => {
  const located = objectsOf(env);

  it('synthesises objects into layer folders and the on-demand folder', () => {
    expect(located.length).toBeGreaterThan(0);
    for (const { file } of located) expect(file).toMatch(new RegExp(`^(${[...LAYERS, ON_DEMAND_FOLDER].join('|')})/`));
  });

  it('meets every policy rule', () => {
    const network = environment(env).network;
    expect(
      formatViolations(
        checkAll(
          located.map((l) => l.object),
          RULES,
          { pods: network.podCidrs, nodes: network.nodeCidrs },
        ),
      ),
    ).toBe('');
  });

  it('runs only the images of lib/images.ts as rendered, and the product images of its releases file', () => {
    // Every image rule "image-pinned" reads, pod templates and custom resources alike: a reference
    // written anywhere else would escape the catalogue, its lock file and the weekly scan.
    const allowed = new Set([...Object.values(IMAGES).map(imageRef), ...Object.values(environment(env).app.releases)]);
    const strays = located.flatMap(({ object }) =>
      imagesOf(object)
        .filter(({ image }) => !allowed.has(image))
        .map(({ path, image }) => `${object.kind} ${object.metadata.name} ${path}: ${image}`),
    );
    expect(strays).toEqual([]);
    // The walk reaches the CloudNativePG Cluster's image, which no pod template names.
    expect(
      located.some(
        ({ object }) => object.kind === 'Cluster' && imagesOf(object).some((i) => i.path === 'spec.imageName' && i.image === imageRef(IMAGES.postgres)),
      ),
    ).toBe(true);
  });

  it('takes only the exceptions lib/exemptions.ts declares, with their reasons, and prints them', () => {
    const prefix = environment(env).namespacePrefix;
    const rules = new Set(RULES.map((r) => r.id));
    const taken = located.flatMap(({ object }) =>
      Object.entries(object.metadata.annotations ?? {})
        .filter(([key]) => key.startsWith(EXEMPTION_PREFIX))
        .map(([key, reason]) => ({
          object: `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`,
          subject: object.metadata.name!.slice(object.kind === 'Namespace' ? prefix.length : 0),
          rule: key.slice(EXEMPTION_PREFIX.length),
          reason,
        })),
    );
    console.log(
      `${env}: ${located.length} objects, ${RULES.length} rules, ${taken.length} exceptions:\n${taken.map((t) => `  ${t.object}  [${t.rule}]  ${t.reason}`).join('\n')}`,
    );
    for (const t of taken) {
      expect(rules.has(t.rule), `${t.object} is exempt from ${t.rule}, which is no rule`).toBe(true);
      expect(POLICY_EXCEPTIONS[t.subject]?.[t.rule], `${t.object} takes an exception to ${t.rule} that lib/exemptions.ts does not declare`).toBe(t.reason);
    }
  });
});
