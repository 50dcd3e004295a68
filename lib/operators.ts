// The operators the data layer runs under, pinned in one place: CloudNativePG and its Barman
// Cloud Plugin. Argo CD installs them (charts/gitops) from their upstream release manifests, in
// a sync wave before the data layer; the README's quick start applies the same files by hand.
// Their CRDs, imported into imports/, are at the same versions (cdk8s.yaml).

/** An operator installed from one release manifest of its upstream repository. */
export interface OperatorRelease {
  /** The Application's name (after the environment's prefix and name). */
  readonly name: string;
  readonly version: string;
  readonly repoUrl: string;
  /** Git revision holding the manifest: a tag, or the branch that keeps every release's file. */
  readonly revision: string;
  readonly path: string;
  /** The one file of `path` to apply. */
  readonly file: string;
  /** Where it runs. */
  readonly namespace: string;
}

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
  /** Installed in the operator's namespace (the plugin's docs require it); needs cert-manager. */
  barmanCloudPlugin: {
    name: 'barman-cloud-plugin',
    version: '0.14.0',
    repoUrl: 'https://github.com/cloudnative-pg/plugin-barman-cloud.git',
    revision: 'v0.14.0',
    path: '.',
    file: 'manifest.yaml',
    namespace: 'cnpg-system',
  },
} as const satisfies Record<string, OperatorRelease>;
