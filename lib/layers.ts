// Layers: how synth output is grouped. Each layer is one folder under dist/<env>/ and one
// Argo CD Application, synced in this order (DESIGN.md "Sync order"). "gitops" holds the Argo CD
// objects themselves (the root Application syncs it).
export const LAYERS = ['foundation', 'data', 'supabase', 'gateway', 'app', 'observability', 'backup', 'gitops'] as const;
export type Layer = (typeof LAYERS)[number];
