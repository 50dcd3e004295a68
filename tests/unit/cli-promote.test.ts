// `promote`: the digest rules, unknown components, production's gate (staging's release, once it
// completed there; a rollback to an image that completed there before), and a real run into a
// scratch copy of the repository's release files and dist/: the written release file still
// parses, the diff summary names exactly the files whose bytes changed, and a refusal writes nothing.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkProductionGate, diffManifests, formatDiff, parsePromoteArgs, promote, promoteCommand, type StagingReleases } from '../../cli/promote';
import { COMPLETED_FILE, type CompletedRelease, EMPTY_RECORD } from '../../cli/record-release';
import { ENVIRONMENTS } from '../../environments';
import type { AppComponent } from '../../environments/app';
import { parseEnvironment } from '../../environments/schema';
import { environmentInput, ROOT } from '../helpers';

const NAMES = ENVIRONMENTS.map((e) => e.name);
const DIGEST = `sha256:${'ab12'.repeat(16)}`;
const image = (component: AppComponent, n: number) => `ghcr.io/example-defi/${component}:1.${n}.0@sha256:${n.toString(16).padStart(4, '0').repeat(16)}`;

/** A record entry as `record-release` writes it. */
const completed = (component: AppComponent, n: number): CompletedRelease => ({
  image: image(component, n),
  completedAt: '2026-03-02T10:15:00Z',
  recordedAt: '2026-03-02T10:20:00.000Z',
  evidence: { kind: component === 'api' ? 'Rollout' : 'Deployment', namespace: 'app', name: component, generation: n, replicas: 10 },
});

/** Staging runs release 3 of the api, which completed, after 2 and 1, which completed before. */
const STAGING: StagingReleases = {
  releases: { ...environmentInput('staging').app.releases, api: image('api', 3), worker: image('worker', 3) },
  completed: { ...EMPTY_RECORD, api: [completed('api', 3), completed('api', 2), completed('api', 1)], worker: [completed('worker', 3)] },
};
const toProduction = (component: AppComponent, n: number, rollback = false) => ({ env: 'production', component, image: image(component, n), rollback });

describe('promote rules', () => {
  it('refuses an unknown component or environment, naming the valid ones', () => {
    expect(() => parsePromoteArgs(['--env', 'staging', '--component', 'frontend', '--image', 'x'], NAMES)).toThrow(
      "option '--component <name>' argument 'frontend' is invalid. Allowed choices are api, worker, scheduler.",
    );
    expect(() => parsePromoteArgs(['--env', 'qa', '--component', 'api', '--image', 'x'], NAMES)).toThrow(
      "option '--env <name>' argument 'qa' is invalid. Allowed choices are dev, staging, production.",
    );
    expect(() => parsePromoteArgs(['--env', 'dev', '--component', 'api'], NAMES)).toThrow("required option '--image <ref>' not specified");
  });

  it("refuses a tag without digest outside dev, as staging's and production's image policy and tests do, and accepts it for dev", () => {
    expect(() => promote({ env: 'production', component: 'api', image: 'ghcr.io/example-defi/api:1.2.3' }, environmentInput('production'), STAGING)).toThrow(
      'has no digest: production runs only images pinned by @sha256: digest',
    );
    expect(() => promote({ env: 'staging', component: 'api', image: 'ghcr.io/example-defi/api:1.2.3' }, environmentInput('staging'))).toThrow(
      '--image ghcr.io/example-defi/api:1.2.3 has no digest: staging runs only images pinned by @sha256: digest (its image policy refuses a tag alone',
    );
    // The same rule in the environment model: synth refuses a staging release file without digests.
    const tagged = {
      ...environmentInput('staging'),
      app: { ...environmentInput('staging').app, releases: { ...environmentInput('staging').app.releases, worker: 'ghcr.io/example-defi/worker:1.2.3' } },
    };
    expect(() => parseEnvironment(tagged)).toThrow(
      'app.releases.worker: "ghcr.io/example-defi/worker:1.2.3" has no digest; staging runs only images pinned by @sha256: digest',
    );
    expect(promote({ env: 'dev', component: 'api', image: 'ghcr.io/example-defi/api:1.2.3' }, environmentInput('dev')).releases.api).toBe(
      'ghcr.io/example-defi/api:1.2.3',
    );
  });

  it('refuses a malformed reference or "latest"', () => {
    expect(() => promote({ env: 'staging', component: 'worker', image: 'ghcr.io/example-defi/worker@sha256:123' }, environmentInput('staging'))).toThrow(
      'is not an image reference',
    );
    expect(() => promote({ env: 'dev', component: 'worker', image: 'ghcr.io/example-defi/worker:latest' }, environmentInput('dev'))).toThrow(
      '"latest" is not a version',
    );
  });

  it('changes only the promoted component', () => {
    const before = environmentInput('production').app.releases;
    const { releases, previous } = promote(toProduction('worker', 3), environmentInput('production'), STAGING);
    expect(previous).toBe(before.worker);
    expect(releases).toEqual({ ...before, worker: image('worker', 3) });
  });

  it('summarises a dist/ diff', () => {
    const diff = diffManifests(
      new Map([
        ['a', '1'],
        ['b', '2'],
      ]),
      new Map([
        ['a', '1'],
        ['b', '3'],
        ['c', '4'],
      ]),
    );
    expect(diff).toEqual({ added: ['c'], changed: ['b'], removed: [] });
    expect(formatDiff('dev', diff)).toEqual(['dist/dev/: 1 changed, 1 added, 0 removed', '  M b', '  A c']);
    expect(formatDiff('dev', { added: [], changed: [], removed: [] })).toEqual(['dist/dev/ unchanged']);
  });
});

describe("production's gate", () => {
  const production = environmentInput('production');

  it("refuses an image that is not staging's release, saying how to get it there", () => {
    expect(() => promote(toProduction('api', 4), production, STAGING)).toThrow(
      `--image ${image('api', 4)} is not staging's release of api (${image('api', 3)}): production takes only the image staging runs, once its canary completed there. ` +
        `Promote it to staging first (npm run promote -- --env staging --component api --image ${image('api', 4)}), let the canary complete and record it; ` +
        'to roll production back to an image that completed in staging before, add --rollback',
    );
  });

  it("refuses staging's release when it never completed there", () => {
    expect(() =>
      checkProductionGate(toProduction('scheduler', 3), { ...STAGING, releases: { ...STAGING.releases, scheduler: image('scheduler', 3) } }),
    ).toThrow(
      `staging's scheduler ${image('scheduler', 3)} has not completed its rollout according to ${COMPLETED_FILE} (the record-release workflow writes it); it records no completed scheduler yet. ` +
        "Wait until staging's rollout completes, run the record-release workflow for scheduler and merge its pull request, then promote again",
    );
  });

  it("refuses staging's release when the record names another image", () => {
    const staging = { ...STAGING, releases: { ...STAGING.releases, worker: image('worker', 4) } };
    expect(() => promote(toProduction('worker', 4), production, staging)).toThrow(
      `staging's worker ${image('worker', 4)} has not completed its rollout according to ${COMPLETED_FILE} (the record-release workflow writes it); the last completed worker there is ${image('worker', 3)}.`,
    );
  });

  it("allows staging's release once it completed", () => {
    expect(promote(toProduction('api', 3), production, STAGING).releases.api).toBe(image('api', 3));
    expect(() => checkProductionGate(toProduction('worker', 3), STAGING)).not.toThrow();
  });

  it('allows a rollback to a digest that completed in staging before, only with --rollback', () => {
    expect(promote(toProduction('api', 2, true), production, STAGING).releases.api).toBe(image('api', 2));
    expect(promote(toProduction('api', 1, true), production, STAGING).releases.api).toBe(image('api', 1));
    expect(() => promote(toProduction('api', 2), production, STAGING)).toThrow("is not staging's release of api");
  });

  it('refuses a rollback to a digest that never completed in staging', () => {
    expect(() => promote(toProduction('api', 7, true), production, STAGING)).toThrow(
      `--rollback ${image('api', 7)}: that image never completed a canary in staging according to ${COMPLETED_FILE} (the record-release workflow writes it); ` +
        `it keeps the last 10: ${image('api', 3)}, ${image('api', 2)}, ${image('api', 1)}. Production rolls back only to an image that completed in staging`,
    );
    expect(() => promote(toProduction('scheduler', 1, true), production, STAGING)).toThrow('it records none yet');
  });

  it('takes --rollback for production only, and leaves dev and staging ungated', () => {
    expect(parsePromoteArgs(['--env', 'production', '--component', 'api', '--image', 'x', '--rollback'], NAMES).rollback).toBe(true);
    expect(parsePromoteArgs(['--env', 'production', '--component', 'api', '--image', 'x'], NAMES).rollback).toBe(false);
    expect(() => parsePromoteArgs(['--env', 'staging', '--component', 'api', '--image', 'x', '--rollback'], NAMES)).toThrow(
      '--rollback is for production only: staging takes any image, so promote the previous digest without it',
    );
    // Neither needs staging's record: a staging release is how an image gets there.
    expect(promote({ env: 'staging', component: 'api', image: image('api', 9) }, environmentInput('staging')).releases.api).toBe(image('api', 9));
    expect(promote({ env: 'dev', component: 'api', image: 'ghcr.io/example-defi/api:9.0.0' }, environmentInput('dev')).releases.api).toBe(
      'ghcr.io/example-defi/api:9.0.0',
    );
  });
});

describe('promote into a scratch copy of the repository', () => {
  const root = mkdtempSync(join(tmpdir(), 'promote-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'environments'), { recursive: true });
  cpSync(join(ROOT, 'environments', 'releases'), join(root, 'environments', 'releases'), { recursive: true });
  cpSync(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true });

  it('writes a release file that still parses, re-synthesises, and names what changed', () => {
    const image = `ghcr.io/example-defi/api@${DIGEST}`;
    const lines: string[] = [];
    promoteCommand(['--env', 'staging', '--component', 'api', '--image', image], ENVIRONMENTS, root, (l) => lines.push(l));
    const written = JSON.parse(readFileSync(join(root, 'environments', 'releases', 'staging.json'), 'utf8'));
    expect(written.api).toBe(image);
    expect(written.worker).toBe(environmentInput('staging').app.releases.worker);
    expect(parseEnvironment({ ...environmentInput('staging'), app: { ...environmentInput('staging').app, releases: written } }).app.releases.api).toBe(image);

    expect(lines[0]).toBe(`staging api: ${environmentInput('staging').app.releases.api} -> ${image}`);
    expect(lines).toContain('  M app/Rollout.app.api.yaml');
    expect(lines.some((l) => /^ {2}[MAD] (?!app\/)/.test(l))).toBe(false);
    expect(readFileSync(join(root, 'dist', 'staging', 'app', 'Rollout.app.api.yaml'), 'utf8')).toContain(`image: ${image}`);
    // The other environments are synthesised unchanged.
    expect(readFileSync(join(root, 'dist', 'production', 'app', 'Rollout.app.api.yaml'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'dist', 'production', 'app', 'Rollout.app.api.yaml'), 'utf8'),
    );
  });

  it('writes nothing when it refuses', () => {
    const before = readFileSync(join(root, 'environments', 'releases', 'production.json'), 'utf8');
    expect(() =>
      promoteCommand(['--env', 'production', '--component', 'api', '--image', 'ghcr.io/example-defi/api:9.9.9'], ENVIRONMENTS, root, () => undefined),
    ).toThrow('has no digest');
    expect(readFileSync(join(root, 'environments', 'releases', 'production.json'), 'utf8')).toBe(before);
    expect(existsSync(join(root, 'dist', 'production'))).toBe(true);
  });

  it('refuses a staging tag without digest before writing the release file or dist/', () => {
    const release = join(root, 'environments', 'releases', 'staging.json');
    const worker = join(root, 'dist', 'staging', 'app', 'Deployment.app.worker.yaml');
    const before = { release: readFileSync(release, 'utf8'), worker: readFileSync(worker, 'utf8') };
    expect(() =>
      promoteCommand(['--env', 'staging', '--component', 'worker', '--image', 'ghcr.io/example-defi/worker:2.0.0'], ENVIRONMENTS, root, () => undefined),
    ).toThrow('has no digest: staging runs only images pinned by @sha256: digest');
    expect({ release: readFileSync(release, 'utf8'), worker: readFileSync(worker, 'utf8') }).toEqual(before);
  });

  it('writes no release file when synth fails after the checks passed', () => {
    const release = join(root, 'environments', 'releases', 'dev.json');
    const before = readFileSync(release, 'utf8');
    // Another environment that no longer renders: synth refuses, so the release must not move either.
    const broken = ENVIRONMENTS.map((e) => (e.name === 'production' ? { ...e, nodes: 0 } : e));
    expect(() => promoteCommand(['--env', 'dev', '--component', 'api', '--image', 'ghcr.io/example-defi/api:9.9.9'], broken, root, () => undefined)).toThrow(
      'nodes: must be 1 or more',
    );
    expect(readFileSync(release, 'utf8')).toBe(before);
  });

  it("gates production on the scratch copy's staging release and record, writing nothing until both agree", () => {
    // Staging runs `staged`; the scratch record names nothing yet.
    const staged = `ghcr.io/example-defi/api@${DIGEST}`;
    const stagingFile = join(root, 'environments', 'releases', 'staging.json');
    writeFileSync(stagingFile, JSON.stringify({ ...JSON.parse(readFileSync(stagingFile, 'utf8')), api: staged }));
    const release = join(root, 'environments', 'releases', 'production.json');
    const rollout = join(root, 'dist', 'production', 'app', 'Rollout.app.api.yaml');
    const before = { release: readFileSync(release, 'utf8'), rollout: readFileSync(rollout, 'utf8') };
    const run = (...extra: string[]) =>
      promoteCommand(['--env', 'production', '--component', 'api', '--image', staged, ...extra], ENVIRONMENTS, root, () => undefined);
    const unchanged = () => expect({ release: readFileSync(release, 'utf8'), rollout: readFileSync(rollout, 'utf8') }).toEqual(before);

    expect(run).toThrow(`staging's api ${staged} has not completed its canary`);
    unchanged();
    expect(() => run('--rollback')).toThrow('that image never completed a canary in staging');
    unchanged();
    writeFileSync(
      join(root, COMPLETED_FILE),
      JSON.stringify({ ...EMPTY_RECORD, api: [{ ...completed('api', 1), image: `ghcr.io/example-defi/api:0.9.0@${DIGEST.replace('ab12', 'cd34')}` }] }),
    );
    expect(run).toThrow('the last completed api there is ghcr.io/example-defi/api:0.9.0@');
    unchanged();

    writeFileSync(join(root, COMPLETED_FILE), JSON.stringify({ ...EMPTY_RECORD, api: [{ ...completed('api', 1), image: staged }] }));
    const lines: string[] = [];
    promoteCommand(['--env', 'production', '--component', 'api', '--image', staged], ENVIRONMENTS, root, (l) => lines.push(l));
    expect(lines[0]).toBe(`production api: ${environmentInput('production').app.releases.api} -> ${staged}`);
    expect(JSON.parse(readFileSync(release, 'utf8')).api).toBe(staged);
    expect(readFileSync(rollout, 'utf8')).toContain(`image: ${staged}`);
  });
});
