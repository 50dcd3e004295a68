// Admission control for the product's own images: a Kyverno ClusterPolicy that lets a pod in the
// app namespace start only when each of its product images carries a Cosign keyless signature by
// the release workflow, called at a release tag of the platform repository, and attestations by the
// same identity of its SBOM (SPDX-JSON and CycloneDX) and SLSA build provenance. The identity comes from lib/release-signing.ts
// (docs/decisions/0007-release-signing-identity.md). Third-party images (Supabase, Kong, Redis,
// ...) are not signed by their publishers in a way the platform can rely on; they are pinned in
// lib/images.ts instead.
//
// Argo CD must stay in sync with what Kyverno stores: mutateDigest is off (Kyverno would
// otherwise rewrite the pods' image tags to digests), and the fields Kyverno fills in with its
// defaults are written out here with those values.
import type { Construct } from 'constructs';
import type { AppConfig } from '../../environments/app';
import {
  ClusterPolicy,
  ClusterPolicySpecFailurePolicy,
  ClusterPolicySpecRulesVerifyImagesFailureAction,
  ClusterPolicySpecRulesVerifyImagesType,
} from '../../imports/clusterpolicy-kyverno.io';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { parseImageRef } from '../../lib/images';
import { prefixed } from '../../lib/names';
import { GITHUB_ACTIONS_ISSUER, RELEASE_ATTESTATIONS, signerSubjectRegExp } from '../../lib/release-signing';

/** Public-good Sigstore transparency log, where keyless signatures are recorded. */
export const REKOR_URL = 'https://rekor.sigstore.dev';

export interface ImagePolicyChartProps extends ChartProps {
  /** The product's images: their repositories are the ones verified. */
  readonly releases: AppConfig['releases'];
  /** Who signs the product's images, and whether an unsigned one is refused or reported. */
  readonly signing: AppConfig['signing'];
}

export class ImagePolicyChart extends PlatformChart {
  public readonly policyName: string;

  constructor(scope: Construct, id: string, props: ImagePolicyChartProps) {
    super(scope, id, props);
    this.policyName = prefixed(this.platform.prefix, 'verify-product-images');
    // Every tag and digest of each product repository.
    const repositories = [...new Set(Object.values(props.releases).map((ref) => parseImageRef(ref).repository))].sort();
    const attestor = {
      // cosign compares the issuer exactly and matches the subject with Go's regexp, unanchored:
      // the expression carries its own ^ and $ (CheckCertificatePolicy in
      // https://github.com/sigstore/cosign/blob/main/pkg/cosign/verify.go).
      entries: [{ keyless: { issuer: GITHUB_ACTIONS_ISSUER, subjectRegExp: signerSubjectRegExp(props.signing.repository), rekor: { url: REKOR_URL } } }],
    };
    new ClusterPolicy(this, 'verify-product-images', {
      metadata: this.metadata({
        objectName: this.policyName,
        name: 'kyverno',
        component: 'image-policy',
        annotations: {
          'policies.kyverno.io/title': 'Verify the product images',
          'policies.kyverno.io/description':
            'Pods in the app namespace run product images only when the release workflow, called at a release tag of the platform repository, signed them (Cosign keyless) and attested their SBOM (SPDX-JSON, CycloneDX) and SLSA build provenance.',
        },
      }),
      spec: {
        admission: true,
        // Signatures are checked when pods are admitted; scanning existing pods would only report.
        background: false,
        emitWarning: false,
        // Kyverno unreachable: pods are refused rather than admitted unchecked.
        failurePolicy: ClusterPolicySpecFailurePolicy.FAIL,
        webhookTimeoutSeconds: 30,
        rules: [
          {
            name: 'signed-by-release-workflow',
            match: { any: [{ resources: { kinds: ['Pod'], namespaces: [this.platform.namespaces.app] } }] },
            verifyImages: [
              {
                imageReferences: repositories.map((r) => `${r}*`),
                type: ClusterPolicySpecRulesVerifyImagesType.COSIGN,
                failureAction:
                  props.signing.failureAction === 'Enforce'
                    ? ClusterPolicySpecRulesVerifyImagesFailureAction.ENFORCE
                    : ClusterPolicySpecRulesVerifyImagesFailureAction.AUDIT,
                mutateDigest: false,
                verifyDigest: true,
                required: true,
                useCache: true,
                attestors: [attestor],
                attestations: RELEASE_ATTESTATIONS.map((a) => ({ type: a.predicateType, attestors: [attestor] })),
              },
            ],
          },
        ],
      },
    });
  }
}
