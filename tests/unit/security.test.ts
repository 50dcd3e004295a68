// The admission policy for the product's images (charts/security/image-policy-chart.ts): which
// images it covers, whose signature it accepts, and that it leaves the pods as Argo CD wrote them.
import { describe, expect, it } from 'vitest';
import { IMAGES, imageRef } from '../../lib/images';
import { signerSubjectRegExp } from '../../lib/release-signing';
import { environments, objectsOf } from '../helpers';

interface VerifyImages {
  imageReferences: string[];
  failureAction: string;
  mutateDigest: boolean;
  verifyDigest: boolean;
  required: boolean;
  attestors: { entries: { keyless: { issuer: string; subjectRegExp: string } }[] }[];
  attestations: { type: string; attestors: { entries: { keyless: { issuer: string; subjectRegExp: string } }[] }[] }[];
}

/** Kyverno's imageReferences wildcard: `*` matches any run of characters. */
const wildcard = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
  );

describe.each(environments())('%s', (name, env) => {
  const objects = objectsOf(name).map((l) => l.object);
  const policy = objects.find((o) => o.kind === 'ClusterPolicy' && o.metadata.name === `${env.namespacePrefix}verify-product-images`)!;
  const rule = (policy.spec as { rules: { match: { any: { resources: { namespaces: string[] } }[] }; verifyImages: VerifyImages[] }[] }).rules[0]!;
  const verify = rule.verifyImages[0]!;
  const covered = (image: string) => verify.imageReferences.some((r) => wildcard(r).test(image));

  it('covers every image the product runs, in the app namespace, and none of the platform images', () => {
    expect(rule.match.any[0]!.resources.namespaces).toEqual([`${env.namespacePrefix}app`]);
    const appImages = objects
      .filter((o) => o.metadata.namespace === `${env.namespacePrefix}app` && ['Rollout', 'Deployment'].includes(o.kind))
      .flatMap((o) => (o.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers.map((c) => c.image));
    expect(appImages.length).toBe(3);
    for (const image of appImages) expect(covered(image), image).toBe(true);
    for (const image of Object.values(IMAGES)) expect(covered(imageRef(image)), imageRef(image)).toBe(false);
  });

  it('accepts only the release workflow of the platform repository, at a release tag, as the signer', () => {
    // Every calling convention and lookalike: tests/unit/release-identity.test.ts.
    for (const keyless of [verify.attestors[0]!.entries[0]!.keyless, ...verify.attestations.map((a) => a.attestors[0]!.entries[0]!.keyless)]) {
      expect(keyless.issuer).toBe('https://token.actions.githubusercontent.com');
      expect(keyless.subjectRegExp).toBe(signerSubjectRegExp(env.app.signing.repository));
    }
    const subject = new RegExp(verify.attestors[0]!.entries[0]!.keyless.subjectRegExp);
    expect(subject.test('https://github.com/example-defi/supabase-platform/.github/workflows/image-release.yml@refs/tags/v1.4.0')).toBe(true);
    // A branch, a commit, a fork, another workflow of the repository.
    expect(subject.test('https://github.com/example-defi/supabase-platform/.github/workflows/image-release.yml@refs/heads/main')).toBe(false);
    expect(subject.test('https://github.com/example-defi/supabase-platform/.github/workflows/image-release.yml@bdd89e60dc5387d8f819bebc702987956bcd4913')).toBe(
      false,
    );
    expect(subject.test('https://github.com/attacker/supabase-platform/.github/workflows/image-release.yml@refs/tags/v1.4.0')).toBe(false);
    expect(subject.test('https://github.com/example-defi/supabase-platform/.github/workflows/ci.yml@refs/tags/v1.4.0')).toBe(false);
    // Written out, not taken from lib/release-signing.ts: these are what cosign writes for spdxjson, cyclonedx and slsaprovenance1.
    expect(verify.attestations.map((a) => a.type)).toEqual(['https://spdx.dev/Document', 'https://cyclonedx.org/bom', 'https://slsa.dev/provenance/v1']);
  });

  it('refuses unsigned images outside dev, fails closed, and never rewrites the pods (Argo CD stays in sync)', () => {
    expect(verify.failureAction).toBe(name === 'dev' ? 'Audit' : 'Enforce');
    expect(verify.mutateDigest).toBe(false);
    expect(verify.verifyDigest).toBe(true);
    expect(verify.required).toBe(true);
    expect((policy.spec as { failurePolicy: string }).failurePolicy).toBe('Fail');
  });
});

describe.each(environments())('%s operator access', (name, env) => {
  const objects = objectsOf(name).map((l) => l.object);
  const group = `${env.namespacePrefix}supabase-platform-operators`;
  const bindings = objects.filter((o) => o.kind === 'RoleBinding' && (o as unknown as { subjects: { name: string }[] }).subjects.some((s) => s.name === group));

  it('lets operators read every platform namespace and nothing cluster-wide', () => {
    const namespaces = objects
      .filter((o) => o.kind === 'Namespace')
      .map((o) => o.metadata.name)
      .sort();
    const reading = bindings
      .filter((b) => (b as unknown as { roleRef: { kind: string } }).roleRef.kind === 'ClusterRole')
      .map((b) => b.metadata.namespace)
      .sort();
    expect(reading).toEqual(namespaces);
    expect(objects.some((o) => o.kind === 'ClusterRoleBinding' && JSON.stringify(o).includes(group))).toBe(false);
    const reader = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === `${env.namespacePrefix}platform-operator-read`) as unknown as {
      rules: { verbs: string[]; resources: string[] }[];
    };
    for (const rule of reader.rules) expect(rule.verbs).toEqual(['get', 'list', 'watch']);
    expect(reader.rules.flatMap((r) => r.resources)).not.toContain('secrets');
  });

  it('lets operators start on-demand Jobs only where restores and load tests run', () => {
    const roles = objects.filter((o) => o.kind === 'Role' && o.metadata.name === 'platform-operator-jobs');
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual([`${env.namespacePrefix}app`, `${env.namespacePrefix}supabase`].sort());
    for (const role of roles)
      expect((role as unknown as { rules: unknown[] }).rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'patch', 'delete'] }]);
  });
});
