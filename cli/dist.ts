// dist/<env>/ as committed: the files on disk, parsed, each with the folder (layer or on-demand)
// it sits in. apply and status read these bytes rather than a fresh render because they are what
// Argo CD syncs; a render serves only to notice that they are stale.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type Folder, LAYERS, ON_DEMAND_FOLDER } from '../lib/layers';
import type { Manifests } from '../lib/output';
import type { KubeObject } from './kube';
import { diffManifests, readDist } from './promote';
import { UsageError } from './usage';

export interface DistObject {
  /** Path under dist/<env>/, e.g. "data/StatefulSet.supabase.postgres.yaml". */
  readonly file: string;
  readonly folder: Folder;
  readonly object: KubeObject;
}

/** The YAML files of dist/<env>/ on disk; a one-line error if the folder is missing. */
export function readDistFiles(root: string, env: string): Manifests {
  const dir = join(root, 'dist', env);
  if (!existsSync(dir)) throw new UsageError(`dist/${env}/ does not exist: run npm run synth to generate it`);
  return new Map([...readDist(dir)].filter(([file]) => file.endsWith('.yaml')));
}

export function parseDist(files: Manifests, env: string): DistObject[] {
  const folders: readonly string[] = [...LAYERS, ON_DEMAND_FOLDER];
  return [...files].map(([file, text]) => {
    const folder = file.split(/[\\/]/)[0]!;
    if (!folders.includes(folder))
      throw new UsageError(`dist/${env}/${file} is in no layer folder (${folders.join(', ')}): run npm run synth to regenerate dist/${env}/`);
    const object = parse(text) as KubeObject | null;
    if (!object?.kind || !object.apiVersion || !object.metadata?.name)
      throw new UsageError(`dist/${env}/${file} is not a Kubernetes object: run npm run synth to regenerate it`);
    return { file, folder: folder as Folder, object };
  });
}

/** Refuses when the committed files differ from what the TypeScript renders now. */
export function assertFresh(env: string, onDisk: Manifests, rendered: Manifests): void {
  const diff = diffManifests(onDisk, rendered);
  const files = [...diff.changed, ...diff.added.map((f) => `${f} (missing)`), ...diff.removed.map((f) => `${f} (no longer rendered)`)];
  if (files.length === 0) return;
  const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? `, and ${files.length - 3} more` : '');
  throw new UsageError(
    `dist/${env}/ is stale: ${files.length} file(s) differ from what the TypeScript renders now (${shown}); run npm run synth, review and commit, then try again`,
  );
}

export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

/** Identity of an object across API versions: group, kind, namespace, name. */
export function objectKey(o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${groupOf(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** "Kind namespace/name" or "Kind name", as the output names objects. */
export function describeObject(o: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}
