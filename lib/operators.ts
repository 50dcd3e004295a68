// The operators the data layer runs under, pinned in one place: CloudNativePG and its Barman
// Cloud Plugin. Argo CD installs them (charts/gitops) from their upstream release manifests, in
// a sync wave before the data layer; the README's quick start applies the same files by hand.
// Their CRDs, imported into imports/, are at the same versions (cdk8s.yaml).

/** An operator installed from one release manifest. */
interface OperatorBase {
  /** The Application's name (after the environment's prefix and name). */
  readonly name: string;
  readonly version: string;
  /** Where it runs. */
  readonly namespace: string;
}

/** A release manifest kept in a file of the upstream git repository. */
export interface GitOperatorRelease extends OperatorBase {
  readonly repoUrl: string;
  /** Git revision holding the manifest: a tag, or the branch that keeps every release's file. */
  readonly revision: string;
  readonly path: string;
  /** The one file of `path` to apply. */
  readonly file: string;
}

/**
 * A release manifest published only as a release asset (the file of the same name in git is a
 * development build). Argo CD reads it through a kustomization in this repository,
 * `operators/<name>/kustomization.yaml`, whose one resource is `manifestUrl`.
 */
export interface AssetOperatorRelease extends OperatorBase {
  readonly manifestUrl: string;
  /** The upstream repository, for people and the AppProject's description. */
  readonly upstream: string;
}

export type OperatorRelease = GitOperatorRelease | AssetOperatorRelease;

/** The folder of this repository holding an asset release's kustomization. */
export const operatorFolder = (r: AssetOperatorRelease): string => `operators/${r.name}`;

export const OPERATORS = {
  /** The release manifests live in `releases/` of the main branch, one immutable file per version. */
  cloudnativePg: {
    name: 'cloudnative-pg',
    version: '1.30.0',
    repoUrl: 'https://github.com/cloudnative-pg/cloudnative-pg.git',
    revision: 'main',
    path: 'releases',
    file: 'cnpg-1.30.0.yaml',
    namespace: 'cnpg-system',
  },
  /**
   * Installed in the operator's namespace (the plugin's docs require it); needs cert-manager.
   * The release asset, not `manifest.yaml` at the git tag: that file runs the development images
   * `plugin-barman-cloud-testing:main` and `plugin-barman-cloud-sidecar-testing:main`; the release
   * workflow builds the asset with the release's images
   * (https://github.com/cloudnative-pg/plugin-barman-cloud/blob/v0.14.0/.github/workflows/release-publish.yml;
   * install instructions: https://cloudnative-pg.io/plugin-barman-cloud/docs/installation/).
   */
  barmanCloudPlugin: {
    name: 'barman-cloud-plugin',
    version: '0.14.0',
    upstream: 'https://github.com/cloudnative-pg/plugin-barman-cloud',
    manifestUrl: 'https://github.com/cloudnative-pg/plugin-barman-cloud/releases/download/v0.14.0/manifest.yaml',
    namespace: 'cnpg-system',
  },
} as const satisfies Record<string, OperatorRelease>;
