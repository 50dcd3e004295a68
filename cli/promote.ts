// `promote`: puts a new image of one product component into an environment's release file
// (environments/releases/<env>.json), re-synthesises dist/, and prints which files changed.
// What to write is decided by pure functions tested with the objects they produce.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { APP_COMPONENTS, type AppComponent, ImageReference, type Releases } from '../environments/app';
import { type EnvironmentInput, parseEnvironment } from '../environments/schema';
import type { Manifests } from '../lib/output';
import { synthAll } from '../lib/synth';
import { UsageError } from './usage';

export interface Promotion {
  readonly env: string;
  readonly component: AppComponent;
  readonly image: string;
}

export function parsePromoteArgs(argv: string[], envNames: readonly string[]): Promotion {
  const { values } = parseArgs({ args: argv, options: { env: { type: 'string' }, component: { type: 'string' }, image: { type: 'string' } }, strict: true });
  if (!values.env || !envNames.includes(values.env)) throw new UsageError(`--env must be one of ${envNames.join(', ')}`);
  if (!values.component || !(APP_COMPONENTS as readonly string[]).includes(values.component)) {
    throw new UsageError(`--component ${values.component ?? '(missing)'} is not a component of the product: use one of ${APP_COMPONENTS.join(', ')}`);
  }
  if (!values.image) throw new UsageError('--image is required: the image reference the release printed, REPO@sha256:<64 hex>');
  return { env: values.env, component: values.component as AppComponent, image: values.image };
}

/**
 * The environment with the new image in its release file. Refuses a malformed reference, and a
 * tag without digest for production; the whole environment must still parse.
 */
export function promote(p: Promotion, input: EnvironmentInput): { input: EnvironmentInput; releases: Releases; previous: string } {
  const ref = ImageReference.safeParse(p.image);
  if (!ref.success) throw new UsageError(`--image: ${ref.error.issues[0]!.message}`);
  if (p.env === 'production' && !p.image.includes('@sha256:')) {
    throw new UsageError(`--image ${p.image} has no digest: production runs only images pinned by @sha256: digest (a tag can be moved to other bytes)`);
  }
  const releases = { ...input.app.releases, [p.component]: p.image };
  const next = { ...input, app: { ...input.app, releases } };
  parseEnvironment(next);
  return { input: next, releases, previous: input.app.releases[p.component] };
}

/** The release file's text: what `promote` writes and a reviewer reads in the pull request. */
export function releasesText(releases: Releases): string {
  return `${JSON.stringify(releases, null, 2)}\n`;
}

export interface DistDiff {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
}

/** Which files of dist/<env>/ differ between two renders. */
export function diffManifests(before: Manifests, after: Manifests): DistDiff {
  return {
    added: [...after.keys()].filter((f) => !before.has(f)),
    changed: [...after.keys()].filter((f) => before.has(f) && before.get(f) !== after.get(f)),
    removed: [...before.keys()].filter((f) => !after.has(f)),
  };
}

export function formatDiff(env: string, diff: DistDiff): string[] {
  const total = diff.added.length + diff.changed.length + diff.removed.length;
  if (total === 0) return [`dist/${env}/ unchanged`];
  return [
    `dist/${env}/: ${diff.changed.length} changed, ${diff.added.length} added, ${diff.removed.length} removed`,
    ...diff.changed.map((f) => `  M ${f}`),
    ...diff.added.map((f) => `  A ${f}`),
    ...diff.removed.map((f) => `  D ${f}`),
  ];
}

/** The files under dist/<env>/ as they are on disk (what git would compare against). */
export function readDist(dir: string): Manifests {
  const files: Manifests = new Map();
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

/** Writes the release file, re-synthesises every environment into `<root>/dist`, prints the diff. */
export function promoteCommand(argv: string[], inputs: readonly EnvironmentInput[], root: string, out: (line: string) => void): void {
  const p = parsePromoteArgs(argv, inputs.map((e) => e.name));
  const current = inputs.find((e) => e.name === p.env)!;
  const { input, releases, previous } = promote(p, current);
  const before = readDist(join(root, 'dist', p.env));
  writeFileSync(join(root, 'environments', 'releases', `${p.env}.json`), releasesText(releases));
  const rendered = synthAll(inputs.map((e) => (e.name === p.env ? input : e)), join(root, 'dist'));
  out(`${p.env} ${p.component}: ${previous} -> ${p.image}`);
  for (const line of formatDiff(p.env, diffManifests(before, rendered.get(p.env)!))) out(line);
}
