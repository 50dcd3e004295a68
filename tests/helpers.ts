// Shared test helpers: the synthesised objects of every environment (checks/rendered.ts: each
// environment rendered once per test file, in memory, by the function `npm run synth` uses, and
// parsed once), a typed finder over them, and the one lookup of an environment by name.
import { resolve } from 'node:path';
import { ENVIRONMENTS, environmentInput } from '../environments';
import { type Environment, parseEnvironment } from '../environments/schema';
import { deepFreeze, find } from '../checks/rendered';

export { environmentInput } from '../environments';
export { find, findAll, locate, manifestsOf, objectsOf, parseManifests, renderedManifests, tryFind } from '../checks/rendered';

export const ROOT = resolve(__dirname, '..');

const parsed = new Map<string, Environment>();

/** The parsed environment `name`: parsed once per test file, and frozen since every test shares it. */
export function environment(name: string): Environment {
  let env = parsed.get(name);
  if (!env) {
    env = deepFreeze(parseEnvironment(environmentInput(name)));
    parsed.set(name, env);
  }
  return env;
}

/** [name, parsed environment] of every environment, in the order they are written (for describe.each). */
export function environments(): (readonly [string, Environment])[] {
  return ENVIRONMENTS.map((e) => [e.name, environment(e.name)] as const);
}

/** The data of a synthesised ConfigMap: the exact bytes that ship. */
export function configMapData(env: string, name: string): Record<string, string> {
  return find<{ data: Record<string, string> }>(env, 'ConfigMap', name).data;
}
