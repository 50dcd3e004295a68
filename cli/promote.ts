// `promote`: puts a new image of one product component into an environment's release file
// (environments/releases/<env>.json), re-synthesises dist/, and prints which files changed.
// Production takes only staging's release once it completed in staging (the record written by
// `record-release`), or with --rollback an image that completed in staging before.
// What to write is decided by pure functions tested with the objects they produce.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type AppComponent, ImageReference, type Releases, requiresDigest } from '../environments/app';
import { type EnvironmentInput, parseEnvironment } from '../environments/schema';
import type { Manifests } from '../lib/output';
import { synthAll } from '../synth';
import { COMPLETED_FILE, type CompletedReleases, RECORD_LIMIT, readCompleted, readStagingReleases } from './record-release';
import { parseCommandArgs } from './commands';
import { UsageError } from './usage';

export interface Promotion {
  readonly env: string;
  readonly component: AppComponent;
  readonly image: string;
  /** Production only: go back to an image that completed in staging before (not staging's current release). */
  readonly rollback?: boolean;
}

export function parsePromoteArgs(argv: string[], envNames: readonly string[]): Promotion {
  const values = parseCommandArgs<{ env: string; component: AppComponent; image: string; rollback?: boolean }>('promote', argv, envNames);
  if (values.rollback && values.env !== 'production') {
    throw new UsageError(`--rollback is for production only: ${values.env} takes any image, so promote the previous digest without it`);
  }
  return { env: values.env, component: values.component, image: values.image, rollback: values.rollback ?? false };
}

/** What production's gate reads: staging's release file and the record of its completed releases. */
export interface StagingReleases {
  readonly releases: Releases;
  readonly completed: CompletedReleases;
}

/**
 * Production's release gate; throws a UsageError that says what to do.
 * - A promotion: the image must be staging's current release of the component, and the record
 *   must name it as completed in staging (its canary, for the api; its rollout, for the others).
 * - A rollback (--rollback): the image must be one of the completed releases the record keeps
 *   (the last RECORD_LIMIT per component), whatever staging runs now.
 */
export function checkProductionGate(p: Promotion, staging: StagingReleases): void {
  const history = staging.completed[p.component];
  const completed = history.some((e) => e.image === p.image);
  const what = p.component === 'api' ? 'canary' : 'rollout';
  const record = `${COMPLETED_FILE} (the record-release workflow writes it)`;
  if (p.rollback) {
    if (completed) return;
    const kept = history.length === 0 ? 'it records none yet' : `it keeps the last ${RECORD_LIMIT}: ${history.map((e) => e.image).join(', ')}`;
    throw new UsageError(
      `--rollback ${p.image}: that image never completed a ${what} in staging according to ${record}; ${kept}. Production rolls back only to an image that completed in staging`,
    );
  }
  const current = staging.releases[p.component];
  if (p.image !== current) {
    throw new UsageError(
      `--image ${p.image} is not staging's release of ${p.component} (${current}): production takes only the image staging runs, once its ${what} completed there. ` +
        `Promote it to staging first (npm run promote -- --env staging --component ${p.component} --image ${p.image}), let the ${what} complete and record it; ` +
        `to roll production back to an image that completed in staging before, add --rollback`,
    );
  }
  if (!completed) {
    const last = history[0] ? `the last completed ${p.component} there is ${history[0].image}` : `it records no completed ${p.component} yet`;
    throw new UsageError(
      `staging's ${p.component} ${p.image} has not completed its ${what} according to ${record}; ${last}. ` +
        `Wait until staging's ${what} completes, run the record-release workflow for ${p.component} and merge its pull request, then promote again`,
    );
  }
}

/**
 * The environment with the new image in its release file. Refuses a malformed reference; outside
 * dev, a tag without digest (what the environment's admission policy and the tests refuse, see
 * requiresDigest); for production, anything production's gate refuses (`staging` is required
 * there); the whole environment must still parse.
 */
export function promote(p: Promotion, input: EnvironmentInput, staging?: StagingReleases): { input: EnvironmentInput; releases: Releases; previous: string } {
  const ref = ImageReference.safeParse(p.image);
  if (!ref.success) throw new UsageError(`--image: ${ref.error.issues[0]!.message}`);
  if (requiresDigest(p.env) && !p.image.includes('@sha256:')) {
    throw new UsageError(
      `--image ${p.image} has no digest: ${p.env} runs only images pinned by @sha256: digest (its image policy refuses a tag alone, and a tag can be moved to other bytes): promote REPO@sha256:<digest> as the image release printed it`,
    );
  }
  if (p.env === 'production') {
    if (!staging) throw new Error("production's gate needs staging's release file and completed-release record");
    checkProductionGate(p, staging);
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

/**
 * Re-synthesises every environment into `<root>/dist`, writes the release file, prints the diff.
 * Production's gate reads staging's files under `root`, as git holds them. Every check runs, and
 * every environment renders in memory, before anything is written: a refusal leaves the release
 * file and dist/ as they were.
 */
export function promoteCommand(argv: string[], inputs: readonly EnvironmentInput[], root: string, out: (line: string) => void): void {
  const p = parsePromoteArgs(
    argv,
    inputs.map((e) => e.name),
  );
  const current = inputs.find((e) => e.name === p.env)!;
  const staging = p.env === 'production' ? { releases: readStagingReleases(root), completed: readCompleted(root) } : undefined;
  const { input, releases, previous } = promote(p, current, staging);
  const before = readDist(join(root, 'dist', p.env));
  const rendered = synthAll(
    inputs.map((e) => (e.name === p.env ? input : e)),
    join(root, 'dist'),
  );
  writeFileSync(join(root, 'environments', 'releases', `${p.env}.json`), releasesText(releases));
  out(`${p.env} ${p.component}: ${previous} -> ${p.image}${p.rollback ? ' (rollback to a release that completed in staging)' : ''}`);
  for (const line of formatDiff(p.env, diffManifests(before, rendered.get(p.env)!))) out(line);
}
