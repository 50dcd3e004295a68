// The synthesised objects of each environment, rendered in memory by the function `npm run synth`
// uses and parsed from their YAML text: what the tests, the benches and the checks read. Each
// environment is rendered at most once per process and parsed once, on first use: rendering all
// three and re-parsing every file on each lookup used to dominate the slow test files.
import { parse } from 'yaml';
import { ENVIRONMENTS, environmentInput } from '../environments';
import type { Manifests } from '../lib/output';
import { renderEnvironment } from '../platform';
import type { K8sObject, Located } from './objects';

const manifestsByEnv = new Map<string, Manifests>();
const objectsByEnv = new Map<string, readonly Located[]>();

/** The environment file's input (what renderEnvironment and platformSecrets take) of `name`. */

/** dist/<env>/ file path -> YAML text, of one environment. */
export function manifestsOf(env: string): Manifests {
  let manifests = manifestsByEnv.get(env);
  if (!manifests) {
    manifests = renderEnvironment(environmentInput(env)).manifests;
    manifestsByEnv.set(env, manifests);
  }
  return manifests;
}

/** dist/<env>/ file path -> YAML text, for every environment (in the order they are written). */
export function renderedManifests(): Map<string, Manifests> {
  return new Map(ENVIRONMENTS.map((e) => [e.name, manifestsOf(e.name)]));
}

/**
 * Freezes a parsed object and everything in it: the objects are shared by every reader in the
 * process, so a reader that changed one would change what the next one sees. Frozen, such a
 * write throws where it happens instead.
 */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Parses rendered files into objects, one per file (fresh, unshared objects). */
export function parseManifests(env: string, manifests: Manifests): Located[] {
  return [...manifests].map(([file, text]) => ({ env, file, object: parse(text) as K8sObject }));
}

/** Every synthesised object of one environment, parsed once and frozen (see deepFreeze). */
export function objectsOf(env: string): readonly Located[] {
  let objects = objectsByEnv.get(env);
  if (!objects) {
    objects = deepFreeze(parseManifests(env, manifestsOf(env)));
    objectsByEnv.set(env, objects);
  }
  return objects;
}

const matches = (o: K8sObject, kind: string, name: string, namespace: string | undefined): boolean =>
  o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace);

/** The object of `kind` named `name` (in `namespace`, when given) with its file; throws when there is none. */
export function locate(env: string, kind: string, name: string, namespace?: string): Located {
  const found = objectsOf(env).find((l) => matches(l.object, kind, name, namespace));
  if (!found) throw new Error(`${env} has no ${kind} ${namespace ?? '*'}/${name}`);
  return found;
}

/**
 * The object of `kind` named `name` (in `namespace`, when given) of one environment, typed as the
 * caller reads it; throws, naming what is missing, when there is none.
 */
export function find<T = K8sObject>(env: string, kind: string, name: string, namespace?: string): T {
  return locate(env, kind, name, namespace).object as T;
}

/** As `find`, but undefined when there is no such object (for tests that expect none). */
export function tryFind<T = K8sObject>(env: string, kind: string, name: string, namespace?: string): T | undefined {
  return objectsOf(env).find((l) => matches(l.object, kind, name, namespace))?.object as T | undefined;
}

/** Every object of `kind` of one environment, in file order. */
export function findAll<T = K8sObject>(env: string, kind: string): T[] {
  return objectsOf(env)
    .filter((l) => l.object.kind === kind)
    .map((l) => l.object as T);
}
