// Layers: how synth output is grouped. Each layer is one folder under dist/<env>/ and one
// Argo CD Application, synced in this order (DESIGN.md "Sync order").
export const LAYERS = ['foundation', 'data', 'supabase', 'gateway', 'app', 'observability', 'backup'] as const;
export type Layer = (typeof LAYERS)[number];
