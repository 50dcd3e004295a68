// The names the operator CLI checks its arguments against before it loads anything heavy: the
// environments, the product's components and the load-test scripts. This file imports nothing,
// so `npm run cli -- --help` and a usage error answer without loading zod, cdk8s or the charts.

/** The environments, in the order they are written. */
export const ENVIRONMENT_NAMES = ['dev', 'staging', 'production'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** The product's components, in the order the release file lists them. */
export const APP_COMPONENTS = ['api', 'worker', 'scheduler'] as const;
export type AppComponent = (typeof APP_COMPONENTS)[number];

/** The k6 scripts of tests/load/ that `cli loadtest` runs. */
export const LOADTEST_SCRIPTS = ['api', 'realtime', 'database'] as const;
export type LoadtestScript = (typeof LOADTEST_SCRIPTS)[number];

/**
 * The namespaces the platform owns, by concern (docs/architecture.md). node-exporter
 * has one of its own: it is the only workload that needs the host, and the only namespace
 * whose Pod Security level is not "restricted".
 */
export const NAMESPACES = ['supabase', 'app', 'observability', 'node-exporter'] as const;
export type NamespaceKey = (typeof NAMESPACES)[number];
