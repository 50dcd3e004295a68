// `promote`: the digest rules, unknown components, and a real run into a scratch copy of the
// repository's release files and dist/: the written release file still parses, and the diff
// summary names exactly the files whose bytes changed.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffManifests, formatDiff, parsePromoteArgs, promote, promoteCommand } from '../../cli/promote';
import { ENVIRONMENTS } from '../../environments';
import { parseEnvironment } from '../../environments/schema';
import { ROOT } from '../helpers';

const NAMES = ENVIRONMENTS.map((e) => e.name);
const byName = (name: string) => ENVIRONMENTS.find((e) => e.name === name)!;
const DIGEST = `sha256:${'ab12'.repeat(16)}`;

describe('promote rules', () => {
  it('refuses an unknown component or environment, naming the valid ones', () => {
    expect(() => parsePromoteArgs(['--env', 'staging', '--component', 'frontend', '--image', 'x'], NAMES)).toThrow(
      '--component frontend is not a component of the product: use one of api, worker, scheduler',
    );
    expect(() => parsePromoteArgs(['--env', 'qa', '--component', 'api', '--image', 'x'], NAMES)).toThrow('--env must be one of dev, staging, production');
    expect(() => parsePromoteArgs(['--env', 'dev', '--component', 'api'], NAMES)).toThrow('--image is required');
  });

  it('refuses a tag without digest for production, and accepts it for dev', () => {
    expect(() => promote({ env: 'production', component: 'api', image: 'ghcr.io/example-defi/api:1.2.3' }, byName('production'))).toThrow(
      'has no digest: production runs only images pinned by @sha256: digest',
    );
    expect(promote({ env: 'dev', component: 'api', image: 'ghcr.io/example-defi/api:1.2.3' }, byName('dev')).releases.api).toBe('ghcr.io/example-defi/api:1.2.3');
  });

  it('refuses a malformed reference or "latest"', () => {
    expect(() => promote({ env: 'staging', component: 'worker', image: 'ghcr.io/example-defi/worker@sha256:123' }, byName('staging'))).toThrow('is not an image reference');
    expect(() => promote({ env: 'dev', component: 'worker', image: 'ghcr.io/example-defi/worker:latest' }, byName('dev'))).toThrow('"latest" is not a version');
  });

  it('changes only the promoted component', () => {
    const before = byName('production').app.releases;
    const { releases, previous } = promote({ env: 'production', component: 'worker', image: `ghcr.io/example-defi/worker:1.3.0@${DIGEST}` }, byName('production'));
    expect(previous).toBe(before.worker);
    expect(releases).toEqual({ ...before, worker: `ghcr.io/example-defi/worker:1.3.0@${DIGEST}` });
  });

  it('summarises a dist/ diff', () => {
    const diff = diffManifests(new Map([['a', '1'], ['b', '2']]), new Map([['a', '1'], ['b', '3'], ['c', '4']]));
    expect(diff).toEqual({ added: ['c'], changed: ['b'], removed: [] });
    expect(formatDiff('dev', diff)).toEqual(['dist/dev/: 1 changed, 1 added, 0 removed', '  M b', '  A c']);
    expect(formatDiff('dev', { added: [], changed: [], removed: [] })).toEqual(['dist/dev/ unchanged']);
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
    expect(written.worker).toBe(byName('staging').app.releases.worker);
    expect(parseEnvironment({ ...byName('staging'), app: { ...byName('staging').app, releases: written } }).app.releases.api).toBe(image);

    expect(lines[0]).toBe(`staging api: ${byName('staging').app.releases.api} -> ${image}`);
    expect(lines).toContain('  M app/Rollout.app.api.yaml');
    expect(lines.some((l) => /^ {2}[MAD] (?!app\/)/.test(l))).toBe(false);
    expect(readFileSync(join(root, 'dist', 'staging', 'app', 'Rollout.app.api.yaml'), 'utf8')).toContain(`image: ${image}`);
    // The other environments are synthesised unchanged.
    expect(readFileSync(join(root, 'dist', 'production', 'app', 'Rollout.app.api.yaml'), 'utf8')).toBe(readFileSync(join(ROOT, 'dist', 'production', 'app', 'Rollout.app.api.yaml'), 'utf8'));
  });

  it('writes nothing when it refuses', () => {
    const before = readFileSync(join(root, 'environments', 'releases', 'production.json'), 'utf8');
    expect(() => promoteCommand(['--env', 'production', '--component', 'api', '--image', 'ghcr.io/example-defi/api:9.9.9'], ENVIRONMENTS, root, () => undefined)).toThrow('has no digest');
    expect(readFileSync(join(root, 'environments', 'releases', 'production.json'), 'utf8')).toBe(before);
    expect(existsSync(join(root, 'dist', 'production'))).toBe(true);
  });
});
