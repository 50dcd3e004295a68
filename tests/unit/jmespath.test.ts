// lib/jmespath.ts: the JMESPath the operator-job policy uses, with the behaviour of Kyverno's fork
// of go-jmespath (a missing key is an error unless `||`, a function, a list or a projection
// swallows it), and the shapes of the JMESPath specification's examples (jmespath.org/specification).
import { describe, expect, it } from 'vitest';
import { isFalse, type Json, NotFoundError, search } from '../../lib/jmespath';

const pod = {
  spec: {
    containers: [
      {
        name: 'a',
        image: 'x:1',
        env: [
          { name: 'A', value: '1' },
          { name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ],
      },
      { name: 'b', image: 'y:2' },
    ],
    automountServiceAccountToken: false,
  },
} as unknown as Json;

describe('JMESPath as Kyverno evaluates it', () => {
  it('fails on a missing key at the top, and recovers with || or inside lists, functions and projections', () => {
    expect(() => search('spec.initContainers', pod)).toThrow(NotFoundError);
    expect(() => search('spec.nothing.below', pod)).toThrow('Unknown key "nothing" in path');
    expect(search("spec.serviceAccountName || ''", pod)).toBe('');
    expect(search('[spec.serviceAccountName]', pod)).toEqual([null]);
    expect(search('to_string(spec.serviceAccountName)', pod)).toBe('null');
    expect(search('spec.initContainers[].image', pod)).toBeNull();
    expect(search('spec.containers[].env[].valueFrom.secretKeyRef.name', pod)).toEqual(['s']);
  });

  it('projects, flattens and filters like the specification', () => {
    expect(search('spec.containers[].[to_string(name), image]', pod)).toEqual([
      ['a', 'x:1'],
      ['b', 'y:2'],
    ]);
    expect(search('spec.containers[].env[].name', pod)).toEqual(['A', 'S']);
    expect(search('spec.containers[].keys(@)[]', pod)).toEqual(['name', 'image', 'env', 'name', 'image']);
    expect(search("spec.containers[].[env[?name != 'A'].to_string(value) || `[]`]", pod)).toEqual([[['null']], [[]]]);
    expect(search("spec.containers[?name == 'b'].image", pod)).toEqual(['y:2']);
    expect(search('spec.containers[].env[].valueFrom.[secretKeyRef.[to_string(key)] || `[]`]', pod)).toEqual([[['k']]]);
    expect(search('[to_string(spec.automountServiceAccountToken), to_string(`12345`), sort(keys(spec))]', pod)).toEqual([
      'false',
      '12345',
      ['automountServiceAccountToken', 'containers'],
    ]);
    expect(search('type(spec)', pod)).toBe('object');
    expect(search('spec.containers | length(@)', pod)).toBe(2);
  });

  it('treats null, false, empty strings, lists and objects as false', () => {
    for (const v of [null, false, '', [], {}]) expect(isFalse(v)).toBe(true);
    for (const v of [0, 'x', [0], { a: 1 }, true]) expect(isFalse(v)).toBe(false);
    expect(search('a || `7`', { a: 0 })).toBe(0);
  });

  it('refuses what it does not implement rather than guessing', () => {
    expect(() => search('spec.{a: b}', pod)).toThrow(/supported/);
    expect(() => search('spec.containers[0]', pod)).toThrow(/supported/);
    expect(() => search('spec.containers[*].name', pod)).toThrow(/supported/);
    expect(() => search('nope(@)', pod)).toThrow('unknown function');
    expect(() => search('keys(spec.containers)', pod)).toThrow('invalid type');
  });
});
