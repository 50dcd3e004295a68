// Layers: how synth output is grouped. Each layer is one folder under dist/<env>/ and one
// Argo CD Application, synced in this order (sync waves:
// https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/). "gitops" holds the Argo CD
// objects themselves (the root Application syncs it).
export const LAYERS = ['foundation', 'data', 'supabase', 'gateway', 'app', 'observability', 'backup', 'gitops'] as const;
export type Layer = (typeof LAYERS)[number];

/**
 * Folder of dist/<env>/ for objects that run only when an operator asks (restore Jobs, load
 * tests): no Application points at it, so Argo CD never applies them; the CLI does, by hand.
 */
export const ON_DEMAND_FOLDER = 'on-demand';

/** A folder of dist/<env>/: a layer (one Application each) or the on-demand folder. */
export type Folder = Layer | typeof ON_DEMAND_FOLDER;
