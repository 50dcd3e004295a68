// Admission control for the product's own images (REFERENCE.md R22): a Kyverno ClusterPolicy
// that lets a pod in the app namespace start only when each of its product images carries a
// Cosign keyless signature by the release workflow and a CycloneDX SBOM attestation by the same
// identity. Third-party images (Supabase, Kong, Redis, ...) are not signed by their publishers in
// a way the platform can rely on; they are pinned in lib/images.ts instead.
//
// Argo CD must stay in sync with what Kyverno stores (R25): mutateDigest is off (Kyverno would
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
import { PlatformChart } from '../../lib/chart';
import { parseImageRef } from '../../lib/images';
import { prefixed } from '../../lib/names';

/** Public-good Sigstore transparency log, where keyless signatures are recorded. */
export const REKOR_URL = 'https://rekor.sigstore.dev';
/** The predicate type `cosign attest --type cyclonedx` writes. */
export const CYCLONEDX_PREDICATE = 'https://cyclonedx.org/bom';

export interface ImagePolicyChartProps {
  readonly instance: string;
  /** Prefix of cluster-scoped names. */
  readonly prefix: string;
  /** The namespace the product runs in. */
  readonly appNamespace: string;
  readonly releases: AppConfig['releases'];
  readonly signing: AppConfig['signing'];
}

export class ImagePolicyChart extends PlatformChart {
  public readonly policyName: string;

  constructor(scope: Construct, id: string, props: ImagePolicyChartProps) {
    super(scope, id, { layer: 'foundation', instance: props.instance });
    this.policyName = prefixed(props.prefix, 'verify-product-images');
    // Every tag and digest of each product repository.
    const repositories = [...new Set(Object.values(props.releases).map((ref) => parseImageRef(ref).repository))].sort();
    const attestor = {
      entries: [{ keyless: { issuer: props.signing.issuer, subjectRegExp: props.signing.subjectRegExp, rekor: { url: REKOR_URL } } }],
    };
    new ClusterPolicy(this, 'verify-product-images', {
      metadata: this.metadata({
        objectName: this.policyName,
        name: 'kyverno',
        component: 'image-policy',
        annotations: {
          'policies.kyverno.io/title': 'Verify the product images',
          'policies.kyverno.io/description': 'Pods in the app namespace run product images only when the release workflow signed them (Cosign keyless) and attested their CycloneDX SBOM.',
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
            match: { any: [{ resources: { kinds: ['Pod'], namespaces: [props.appNamespace] } }] },
            verifyImages: [
              {
                imageReferences: repositories.map((r) => `${r}*`),
                type: ClusterPolicySpecRulesVerifyImagesType.COSIGN,
                failureAction: props.signing.failureAction === 'Enforce' ? ClusterPolicySpecRulesVerifyImagesFailureAction.ENFORCE : ClusterPolicySpecRulesVerifyImagesFailureAction.AUDIT,
                mutateDigest: false,
                verifyDigest: true,
                required: true,
                useCache: true,
                attestors: [attestor],
                attestations: [{ type: CYCLONEDX_PREDICATE, attestors: [attestor] }],
              },
            ],
          },
        ],
      },
    });
  }
}
