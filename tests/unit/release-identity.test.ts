// The signer identity the admission policy accepts is exactly the one GitHub and Fulcio give the
// release workflow when it is called the documented way: at a release tag of the platform
// repository, `uses: <owner>/<repo>/.github/workflows/image-release.yml@vX.Y.Z`
// (docs/decisions/0007-release-signing-identity.md). Every other way of calling it, and every
// lookalike, is refused.
//
// Where the certificate identity comes from:
// - GitHub's OIDC token of a job in a called (reusable) workflow carries `job_workflow_ref`, "the
//   ref path to the reusable workflow", and `job_workflow_sha`, "the commit SHA for the reusable
//   workflow file"; `ref`, `repository` and `workflow_ref` describe the caller
//   (https://docs.github.com/en/actions/reference/security/oidc#oidc-token-claims). GitHub's example
//   token of a called workflow: "job_workflow_ref": "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main"
//   (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/using-openid-connect-with-reusable-workflows).
// - The caller writes `{owner}/{repo}/.github/workflows/{filename}@{ref}`, where {ref} is a SHA, a
//   release tag or a branch name, a tag winning over a branch of the same name, and no
//   `refs/heads`/`refs/tags` prefix; `./.github/workflows/{filename}` in the same repository runs
//   the file from the caller's own commit
//   (https://docs.github.com/en/actions/how-tos/reuse-automations/reuse-workflows). The token names
//   a tag or a branch fully qualified (`refs/tags/v1.4.0`, `refs/heads/main`, as in the example
//   above) and a commit as the bare SHA: slsa-github-generator, which reads the ref out of
//   `job_workflow_ref`, logs "BUILDER_REF: bdd89e60dc5387d8f819bebc702987956bcd4913" for a call
//   pinned at that commit (https://github.com/slsa-framework/slsa-github-generator/issues/722), and
//   its own tests read "vitejs/vite/.github/workflows/publish.yml@refs/tags/create-vite@5.0.0-beta.0"
//   (a tag with an `@` in it) out of the claim
//   (https://github.com/slsa-framework/slsa-github-generator/blob/main/.github/actions/detect-workflow-js/__tests__/main.test.ts).
// - Fulcio writes `{{ .url }}/{{ .job_workflow_ref }}` with url https://github.com as the
//   certificate's one Subject Alternative Name
//   (https://github.com/sigstore/fulcio/blob/main/config/identity/config.yaml), and the same value
//   as Build Signer URI (OID 1.3.6.1.4.1.57264.1.9); `job_workflow_sha` becomes Build Signer Digest
//   (.10), the caller's `ref` Source Repository Ref (.14) and its repository Source Repository URI
//   (.12) (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). The issuer is
//   https://token.actions.githubusercontent.com.
// - cosign, under Kyverno, compares the issuer exactly and matches the SAN with Go's
//   regexp.MatchString, which is not anchored (CheckCertificatePolicy in
//   https://github.com/sigstore/cosign/blob/main/pkg/cosign/verify.go). The pattern therefore
//   carries ^ and $, and keeps to a subset that means the same in Go's RE2 syntax
//   (https://pkg.go.dev/regexp/syntax) and in JavaScript: literal characters, `\.`, `[0-9]` and
//   `[1-9]`, groups with `|`, `*`, `^` first and `$` last. Without the m flag `$` matches only at
//   the end of the text in both (in Go like `\z`, not Perl's `\Z`), so a trailing newline fails
//   in both. This test checks the subset, then evaluates the pattern with JavaScript's RegExp.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../../environments';
import { PLATFORM_REPOSITORY } from '../../environments/defaults';
import { parseEnvironment } from '../../environments/schema';
import {
  GITHUB_ACTIONS_ISSUER,
  RELEASE_ATTESTATIONS,
  RELEASE_TAG,
  RELEASE_WORKFLOW,
  SIGNER_SUBJECT_TEMPLATE,
  releaseWorkflowCall,
  signerIdentity,
  signerSubjectRegExp,
} from '../../lib/release-signing';
import { objectsOf, ROOT } from '../helpers';

// ---------------------------------------------------------------------------------------------
// GitHub and Fulcio, as documented above.

/** A repository on GitHub: the tags and branches a `uses:` ref can name. */
interface Repository {
  readonly name: string;
  readonly tags: readonly string[];
  readonly branches: readonly string[];
}

/** The job that calls the workflow: its repository and the ref its run was started for (`github.ref`). */
interface Caller {
  readonly repository: string;
  readonly ref: string;
}

const SHA = /^[0-9a-f]{40}$/;

/** The `job_workflow_ref` claim of a job in the workflow that `uses` calls. */
function jobWorkflowRef(uses: string, caller: Caller, repositories: readonly Repository[]): string {
  if (uses.startsWith('./')) return `${caller.repository}/${uses.slice(2)}@${caller.ref}`;
  const at = uses.indexOf('@');
  const [path, ref] = [uses.slice(0, at), uses.slice(at + 1)];
  if (/^refs\//.test(ref)) throw new Error(`GitHub refuses "${uses}": no refs/ prefix in uses`);
  const repository = repositories.find((r) => path.startsWith(`${r.name}/`));
  if (!repository) throw new Error(`no repository for ${uses}`);
  if (SHA.test(ref)) return `${path}@${ref}`;
  if (repository.tags.includes(ref)) return `${path}@refs/tags/${ref}`; // a tag wins over a branch
  if (repository.branches.includes(ref)) return `${path}@refs/heads/${ref}`;
  throw new Error(`${repository.name} has no ref ${ref}`);
}

/** The certificate's Subject Alternative Name: Fulcio's template for GitHub Actions. */
const certificateIdentity = (claim: string) => `https://github.com/${claim}`;

/** cosign's subject check: Go's regexp.MatchString, unanchored (the pattern anchors itself). */
const matches = (pattern: string, san: string) => new RegExp(pattern).test(san);

/** True when `pattern` keeps to the subset that behaves the same in Go's RE2 and in JavaScript. */
function portable(pattern: string): boolean {
  if (!pattern.startsWith('^') || !pattern.endsWith('$')) return false;
  const token = /\\\.|\[[01]-9\]|[()|*]|[A-Za-z0-9/:@_-]/y;
  const body = pattern.slice(1, -1);
  for (let i = 0; i < body.length;) {
    token.lastIndex = i;
    const m = token.exec(body);
    if (!m) return false;
    i += m[0].length;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The repositories and the calls.

const COMMIT = 'bdd89e60dc5387d8f819bebc702987956bcd4913';
const [owner, name] = PLATFORM_REPOSITORY.split('/') as [string, string];
const APP = `${owner}/api`;
const tags = [
  'v1.4.0',
  'v0.0.0',
  'v10.20.30',
  'v1',
  'v1.4',
  'v1.2.3-evil',
  'v1.2.3-rc.1',
  'v1.2.3+build.7',
  'v01.2.3',
  'V1.2.3',
  'v1.2.3.4',
  'v1.2.3@evil',
  'release-1.4.0',
];
const PLATFORM: Repository = { name: PLATFORM_REPOSITORY, tags, branches: ['main', 'v9.9.9', 'release'] };
const FORK: Repository = { name: `attacker/${name}`, tags, branches: ['main'] };
const LOOKALIKES: Repository[] = [`${owner}/${name}-fork`, `${owner}/${name}x`, `${owner}x/${name}`, `${owner}/${name.replace('-', '.')}`].map((n) => ({
  name: n,
  tags,
  branches: ['main'],
}));
const REPOSITORIES = [PLATFORM, FORK, ...LOOKALIKES];
const fromApp: Caller = { repository: APP, ref: 'refs/tags/v2.0.0' };

interface Case {
  readonly what: string;
  readonly uses: string;
  readonly caller: Caller;
}

const workflow = (repository: string, ref: string, file = RELEASE_WORKFLOW) => `${repository}/${file}@${ref}`;

/** Calls the policy must accept: a release tag of the platform repository. */
const ACCEPTED: Case[] = [
  { what: 'the app calls a release tag', uses: releaseWorkflowCall(PLATFORM_REPOSITORY, 'v1.4.0'), caller: fromApp },
  { what: 'the app calls v0.0.0', uses: workflow(PLATFORM_REPOSITORY, 'v0.0.0'), caller: fromApp },
  { what: 'the app calls a tag with several digits', uses: workflow(PLATFORM_REPOSITORY, 'v10.20.30'), caller: { repository: APP, ref: 'refs/heads/main' } },
  // Caller and callee in the same repository: the file runs at the caller's commit, under its ref.
  {
    what: 'the platform repository calls it locally from a run of its release tag',
    uses: `./${RELEASE_WORKFLOW}`,
    caller: { repository: PLATFORM_REPOSITORY, ref: 'refs/tags/v1.4.0' },
  },
  {
    what: 'the platform repository calls its own release tag',
    uses: workflow(PLATFORM_REPOSITORY, 'v1.4.0'),
    caller: { repository: PLATFORM_REPOSITORY, ref: 'refs/heads/main' },
  },
];

/** Calls GitHub would run, whose signatures the policy must refuse. */
const REFUSED: Case[] = [
  { what: 'a branch (main)', uses: workflow(PLATFORM_REPOSITORY, 'main'), caller: fromApp },
  { what: 'another branch', uses: workflow(PLATFORM_REPOSITORY, 'release'), caller: fromApp },
  { what: 'a branch named like a release tag', uses: workflow(PLATFORM_REPOSITORY, 'v9.9.9'), caller: fromApp },
  { what: 'a commit SHA', uses: workflow(PLATFORM_REPOSITORY, COMMIT), caller: fromApp },
  { what: 'a major-only tag', uses: workflow(PLATFORM_REPOSITORY, 'v1'), caller: fromApp },
  { what: 'a major.minor tag', uses: workflow(PLATFORM_REPOSITORY, 'v1.4'), caller: fromApp },
  { what: 'a tag that only starts like a release (v1.2.3-evil)', uses: workflow(PLATFORM_REPOSITORY, 'v1.2.3-evil'), caller: fromApp },
  { what: 'a pre-release tag', uses: workflow(PLATFORM_REPOSITORY, 'v1.2.3-rc.1'), caller: fromApp },
  { what: 'a tag with build metadata', uses: workflow(PLATFORM_REPOSITORY, 'v1.2.3+build.7'), caller: fromApp },
  { what: 'a tag with a leading zero', uses: workflow(PLATFORM_REPOSITORY, 'v01.2.3'), caller: fromApp },
  { what: 'a tag with a capital V', uses: workflow(PLATFORM_REPOSITORY, 'V1.2.3'), caller: fromApp },
  { what: 'a tag with four numbers', uses: workflow(PLATFORM_REPOSITORY, 'v1.2.3.4'), caller: fromApp },
  { what: 'a tag with an @ after the version', uses: workflow(PLATFORM_REPOSITORY, 'v1.2.3@evil'), caller: fromApp },
  { what: 'a tag of another scheme', uses: workflow(PLATFORM_REPOSITORY, 'release-1.4.0'), caller: fromApp },
  { what: 'a fork at the same tag', uses: workflow(FORK.name, 'v1.4.0'), caller: fromApp },
  ...LOOKALIKES.map((r) => ({ what: `a lookalike repository ${r.name}`, uses: workflow(r.name, 'v1.4.0'), caller: fromApp })),
  { what: 'another workflow of the platform repository', uses: workflow(PLATFORM_REPOSITORY, 'v1.4.0', '.github/workflows/promote.yml'), caller: fromApp },
  { what: 'the release workflow under a .yaml name', uses: workflow(PLATFORM_REPOSITORY, 'v1.4.0', '.github/workflows/image-release.yaml'), caller: fromApp },
  { what: 'a workflow in another folder', uses: workflow(PLATFORM_REPOSITORY, 'v1.4.0', '.github/workflows/old/image-release.yml'), caller: fromApp },
  {
    what: 'a path that climbs out and back',
    uses: workflow(PLATFORM_REPOSITORY, 'v1.4.0', '.github/workflows/../workflows/image-release.yml'),
    caller: fromApp,
  },
  { what: 'a local call from a run on main', uses: `./${RELEASE_WORKFLOW}`, caller: { repository: PLATFORM_REPOSITORY, ref: 'refs/heads/main' } },
  { what: 'a local call from a pull request', uses: `./${RELEASE_WORKFLOW}`, caller: { repository: PLATFORM_REPOSITORY, ref: 'refs/pull/12/merge' } },
  { what: 'a local copy in the app repository at a release tag', uses: `./${RELEASE_WORKFLOW}`, caller: { repository: APP, ref: 'refs/tags/v1.4.0' } },
];

/** Identities no call above produces, written out: what the pattern's anchors and escapes stop. */
const RELEASE = signerIdentity(PLATFORM_REPOSITORY, 'refs/tags/v1.4.0');
const FORGED: [string, string][] = [
  ['a trailing newline', `${RELEASE}\n`],
  ['a suffix after the tag', `${RELEASE}/../../heads/main`],
  ['the identity inside another URL', `https://evil.example/${RELEASE}`],
  ['another host that starts like github.com', RELEASE.replace('https://github.com/', 'https://github.com.evil.example/')],
  ['a dot that is not a dot (github.com)', RELEASE.replace('github.com', 'githubxcom')],
  ['a dot that is not a dot (.yml)', RELEASE.replace('image-release.yml', 'image-releasexyml')],
  ['plain http', RELEASE.replace('https://', 'http://')],
  ['the tag written without refs/tags/', RELEASE.replace('@refs/tags/', '@')],
  ['a tag path that is a branch path', RELEASE.replace('refs/tags/', 'refs/heads/')],
  ['the tag named twice', `${RELEASE}@refs/tags/v1.4.0`],
  ['an empty identity', ''],
];

// ---------------------------------------------------------------------------------------------

/** Each environment's identity checks, as synthesised and as committed in dist/. */
const environments = ENVIRONMENTS.map((input) => {
  const env = parseEnvironment(input);
  const policy = objectsOf(env.name).find(
    (l) => l.object.kind === 'ClusterPolicy' && l.object.metadata.name === `${env.namespacePrefix}verify-product-images`,
  )!.object;
  const dir = join(ROOT, 'dist', env.name, 'foundation');
  const file = readdirSync(dir).find((f) => f === `ClusterPolicy.${env.namespacePrefix}verify-product-images.yaml`)!;
  const committed = parse(readFileSync(join(dir, file), 'utf8')) as typeof policy;
  return { name: env.name, repository: env.app.signing.repository, synthesised: keylessOf(policy), committed: keylessOf(committed) };
});

/** Every keyless entry of a verify-images policy: the signature's attestors and the attestations'. */
function keylessOf(policy: object): Record<string, unknown>[] {
  type Attestor = { entries: { keyless: Record<string, unknown> }[] };
  const rules = ((policy as { spec: unknown }).spec as { rules: { verifyImages: { attestors: Attestor[]; attestations: { attestors: Attestor[] }[] }[] }[] })
    .rules;
  return rules
    .flatMap((r) => r.verifyImages.flatMap((v) => [...v.attestors, ...v.attestations.flatMap((a) => a.attestors)]))
    .flatMap((a) => a.entries.map((e) => e.keyless));
}

describe.each(environments)('$name admission identity', ({ name: envName, repository, synthesised, committed }) => {
  const pattern = synthesised[0]!.subjectRegExp as string;

  it('is one issuer and one anchored pattern, derived from the platform repository, the same in dist/', () => {
    expect(repository).toBe(PLATFORM_REPOSITORY);
    expect(synthesised.length).toBe(1 + RELEASE_ATTESTATIONS.length); // the signature and each attestation
    for (const keyless of [...synthesised, ...committed]) {
      expect(keyless.issuer).toBe(GITHUB_ACTIONS_ISSUER);
      expect(keyless.subjectRegExp).toBe(signerSubjectRegExp(repository));
      expect(keyless).not.toHaveProperty('subject');
      expect(keyless).not.toHaveProperty('issuerRegExp');
    }
    expect(pattern, envName).toBe(signerSubjectRegExp(PLATFORM_REPOSITORY));
  });

  it('keeps to regular-expression syntax that Go RE2 and JavaScript read alike', () => {
    expect(portable(pattern), pattern).toBe(true);
  });

  it.each(ACCEPTED)('accepts: $what', ({ uses, caller }) => {
    const san = certificateIdentity(jobWorkflowRef(uses, caller, REPOSITORIES));
    expect(san).toMatch(/@refs\/tags\/v[0-9]+\.[0-9]+\.[0-9]+$/);
    expect(matches(pattern, san), san).toBe(true);
  });

  it.each(REFUSED)('refuses: $what', ({ uses, caller }) => {
    const san = certificateIdentity(jobWorkflowRef(uses, caller, REPOSITORIES));
    expect(matches(pattern, san), san).toBe(false);
  });

  it.each(FORGED)('refuses: %s', (_, san) => {
    expect(matches(pattern, san), JSON.stringify(san)).toBe(false);
  });
});

describe('the model of GitHub and Fulcio', () => {
  it('gives the documented example its documented claim, and a tag precedence over a branch of the same name', () => {
    const octo: Repository = { name: 'octo-org/octo-automation', tags: ['main-tag'], branches: ['main'] };
    expect(
      jobWorkflowRef('octo-org/octo-automation/.github/workflows/oidc.yml@main', { repository: 'octo-org/octo-repo', ref: 'refs/heads/main' }, [octo]),
    ).toBe('octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main');
    const both: Repository = { name: PLATFORM_REPOSITORY, tags: ['v1.4.0'], branches: ['v1.4.0'] };
    expect(jobWorkflowRef(workflow(PLATFORM_REPOSITORY, 'v1.4.0'), fromApp, [both])).toBe(`${PLATFORM_REPOSITORY}/${RELEASE_WORKFLOW}@refs/tags/v1.4.0`);
    expect(jobWorkflowRef(workflow(PLATFORM_REPOSITORY, COMMIT), fromApp, [both])).toBe(`${PLATFORM_REPOSITORY}/${RELEASE_WORKFLOW}@${COMMIT}`);
    expect(() => jobWorkflowRef(workflow(PLATFORM_REPOSITORY, 'refs/tags/v1.4.0'), fromApp, [both])).toThrow(/no refs\/ prefix/);
    expect(certificateIdentity(`${PLATFORM_REPOSITORY}/${RELEASE_WORKFLOW}@refs/tags/v1.4.0`)).toBe(RELEASE);
  });

  it('tells the portable subset from Go- or JavaScript-only syntax', () => {
    expect(portable(SIGNER_SUBJECT_TEMPLATE.replace('{repository}', 'a/b'))).toBe(true);
    for (const p of ['^a.b$', '^a\\d$', '^(?i)a$', '^a$|^b$', '^a[^b]$', '^a\\b$', '^a+$', 'a$', '^a', '^a\\z$']) expect(portable(p), p).toBe(false);
  });

  it('writes the release tag as a whole: v and three numbers, no leading zeros', () => {
    const tag = new RegExp(`^${RELEASE_TAG}$`);
    expect(['v0.0.0', 'v1.4.0', 'v10.20.30'].every((t) => tag.test(t))).toBe(true);
    expect(['v1', 'v1.4', 'v01.2.3', 'v1.2.3-rc.1', 'V1.2.3', 'v1.2.3.4', '1.2.3'].some((t) => tag.test(t))).toBe(false);
  });
});

describe('the release workflow says and checks the same convention', () => {
  const text = readFileSync(join(ROOT, RELEASE_WORKFLOW), 'utf8');
  const header = text.slice(0, text.indexOf('\nname:'));

  it('its header shows a call at a release tag, never at a commit or a branch', () => {
    const calls = [...header.matchAll(/uses: (.+)$/gm)].map((m) => m[1]!.trim());
    expect(calls.length).toBe(1);
    const uses = calls[0]!.replace('<owner>/<this repository>', PLATFORM_REPOSITORY);
    expect(uses.slice(uses.indexOf('@') + 1)).toMatch(new RegExp(`^${RELEASE_TAG}$`));
    const san = certificateIdentity(jobWorkflowRef(uses, fromApp, REPOSITORIES));
    for (const env of environments) expect(matches(env.synthesised[0]!.subjectRegExp as string, san), `${env.name}: ${san}`).toBe(true);
    expect(header).toContain('platform-repository: <owner>/<this repository>');
    expect(header).not.toMatch(/@<sha>/);
  });

  it('checks its signature with the issuer and pattern of lib/release-signing.ts, before asking for a promotion', () => {
    const wf = parse(text) as { jobs: { publish: { steps: { name?: string; env?: Record<string, string>; run?: string }[] } } };
    const steps = wf.jobs.publish.steps;
    const check = steps.findIndex((s) => s.run?.includes('cosign verify'));
    expect(check).toBeGreaterThan(steps.findIndex((s) => s.run?.includes('cosign sign')));
    const step = steps[check]!;
    expect(step.env!.SIGNER_ISSUER).toBe(GITHUB_ACTIONS_ISSUER);
    expect(step.env!.SIGNER_PATTERN).toBe(SIGNER_SUBJECT_TEMPLATE);
    expect(step.env!.PLATFORM_REPOSITORY).toBe('${{ inputs.platform-repository }}');
    // The shell lines that fill in the repository give exactly the policy's pattern.
    const [escape, fill] = step.run!.split('\n') as [string, string];
    for (const repository of [PLATFORM_REPOSITORY, 'example-defi/supabase.platform']) {
      const script = `${escape}\n${fill}\nprintf '%s' "$pattern"`;
      const out = execFileSync('bash', ['-c', script], {
        env: { PATH: process.env.PATH, PLATFORM_REPOSITORY: repository, SIGNER_PATTERN: step.env!.SIGNER_PATTERN! },
        encoding: 'utf8',
      });
      expect(out).toBe(signerSubjectRegExp(repository));
    }
  });

  it.each(['docs/runbooks/deployment.md', 'docs/security.md'])('%s shows the same call', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const refs = [...text.matchAll(/uses: [^\n`]*image-release\.yml@([^\s`]+)/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(ref).toMatch(new RegExp(`^(${RELEASE_TAG}|vX\\.Y\\.Z)$`));
  });
});
