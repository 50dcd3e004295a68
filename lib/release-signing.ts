// Who signs the product's images, in one place. The release workflow
// (.github/workflows/image-release.yml) is a reusable workflow that the app's repository calls at
// a release tag of the platform repository, `@vMAJOR.MINOR.PATCH`
// (docs/decisions/0007-release-signing-identity.md). It signs keylessly with GitHub's OIDC token,
// and Fulcio writes that token's `job_workflow_ref` into the certificate:
//
//   https://github.com/<owner>/<repo>/.github/workflows/image-release.yml@refs/tags/vX.Y.Z
//
// Fulcio's SAN template for GitHub Actions is "{{ .url }}/{{ .job_workflow_ref }}" with url
// https://github.com (https://github.com/sigstore/fulcio/blob/main/config/identity/config.yaml);
// `job_workflow_ref` is the called workflow's path and the ref the caller used, fully qualified
// (https://docs.github.com/en/actions/reference/security/oidc#oidc-token-claims).
//
// The environment names the platform repository (environments/app.ts, `app.signing.repository`);
// the Kyverno policy (charts/security/image-policy-chart.ts), the workflow's own check of its
// signature and the tests take everything else from here.

/** The OIDC issuer of GitHub Actions tokens, which Fulcio writes into the certificate. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/** The reusable release workflow, relative to the platform repository's root. */
export const RELEASE_WORKFLOW = '.github/workflows/image-release.yml';

/**
 * The release tags callers call the workflow at, as a regular expression: `v` and three numbers
 * without leading zeros, nothing before or after (no `-rc.1`, no `+build`, no `v1` or `v1.4`).
 */
export const RELEASE_TAG = 'v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)';

/** A GitHub repository as owner/name: GitHub's character sets for both, and no name "." or "..". */
export const GITHUB_REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;

/**
 * The identity pattern with the repository left out as `{repository}`: the workflow's own check
 * holds a copy of it (a test keeps the two equal). Only the regular-expression features that mean
 * the same in Go's RE2, which Kyverno and cosign use, and in JavaScript: literal characters, `\.`,
 * `[0-9]`, `[1-9]`, groups with `|`, `*`, `^` at the start and `$` at the end.
 */
export const SIGNER_SUBJECT_TEMPLATE = `^https://github\\.com/{repository}/${escapeRegExp(RELEASE_WORKFLOW)}@refs/tags/${RELEASE_TAG}$`;

/** `text` as a regular expression that matches exactly it. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What a caller writes after `uses:` to call the release workflow at `tag`. */
export function releaseWorkflowCall(repository: string, tag: string): string {
  return `${repository}/${RELEASE_WORKFLOW}@${tag}`;
}

/** The certificate identity (SAN) of a signature made by the release workflow run at `gitRef`. */
export function signerIdentity(repository: string, gitRef: string): string {
  return `https://github.com/${repository}/${RELEASE_WORKFLOW}@${gitRef}`;
}

/** The anchored regular expression Kyverno matches the certificate identity against. */
export function signerSubjectRegExp(repository: string): string {
  if (!GITHUB_REPOSITORY.test(repository)) throw new Error(`"${repository}" is not a GitHub repository as owner/name`);
  return SIGNER_SUBJECT_TEMPLATE.replace('{repository}', escapeRegExp(repository));
}

/**
 * What the release workflow attests on each image index, besides its signature: one attestation of
 * each type per architecture, all by the signer identity above. `cosignType` is what
 * `cosign attest --type` takes, `predicateType` what cosign writes into the in-toto statement and
 * what Kyverno's `attestations[].type` matches (cosign's well-known predicate types,
 * https://github.com/sigstore/cosign/blob/main/pkg/cosign/attestation/attestation.go), `file` the
 * predicate file's suffix in the workflow (`sbom-<arch>.<file>`; `provenance` is BuildKit's SLSA v1
 * provenance, https://docs.docker.com/build/metadata/attestations/slsa-provenance/). The workflow
 * holds a copy as `type:file` words (a test keeps the two equal).
 */
export const RELEASE_ATTESTATIONS = [
  { cosignType: 'spdxjson', predicateType: 'https://spdx.dev/Document', file: 'spdx.json', what: 'SBOM, SPDX-JSON' },
  { cosignType: 'cyclonedx', predicateType: 'https://cyclonedx.org/bom', file: 'cdx.json', what: 'SBOM, CycloneDX JSON' },
  { cosignType: 'slsaprovenance1', predicateType: 'https://slsa.dev/provenance/v1', file: 'provenance', what: 'SLSA v1 build provenance' },
] as const;
