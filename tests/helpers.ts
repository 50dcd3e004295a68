// Shared test helpers: the synthesised objects of every environment, rendered once per test
// file in memory (the same function `npm run synth` uses), and parsed from their YAML text.
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../environments';
import type { Manifests } from '../lib/output';
import { renderEnvironment } from '../platform';
import type { K8sObject, Located } from './policy/objects';

export const ROOT = resolve(__dirname, '..');

let rendered: Map<string, Manifests> | undefined;

/** dist/<env>/ file path -> YAML text, for every environment. */
export function renderedManifests(): Map<string, Manifests> {
  if (!rendered) {
    rendered = new Map();
    for (const input of ENVIRONMENTS) {
      const { env, manifests } = renderEnvironment(input);
      rendered.set(env.name, manifests);
    }
  }
  return rendered;
}

/** Parses rendered files into objects, one per file. */
export function parseManifests(env: string, manifests: Manifests): Located[] {
  return [...manifests].map(([file, text]) => ({ env, file, object: parse(text) as K8sObject }));
}

/** Every synthesised object of one environment. */
export function objectsOf(env: string): Located[] {
  const manifests = renderedManifests().get(env);
  if (!manifests) throw new Error(`no environment ${env}`);
  return parseManifests(env, manifests);
}

/** The data of a synthesised ConfigMap: the exact bytes that ship. */
export function configMapData(env: string, name: string): Record<string, string> {
  const found = objectsOf(env).find((l) => l.object.kind === 'ConfigMap' && l.object.metadata.name === name);
  if (!found) throw new Error(`${env} has no ConfigMap ${name}`);
  return (found.object as unknown as { data: Record<string, string> }).data;
}
