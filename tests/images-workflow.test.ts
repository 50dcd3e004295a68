// The weekly images workflow (.github/workflows/images.yml): what it promises, read from the file,
// and its shell steps run with bash against stand-ins for npm and gh (no runner here can run the
// workflow). tests/workflows.test.ts lints it and checks the SHA pinning like every workflow.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './helpers';

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | boolean>;
  env?: Record<string, string>;
  'continue-on-error'?: boolean;
}
interface Job {
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  outputs?: Record<string, string>;
  strategy?: { 'fail-fast'?: boolean; matrix?: Record<string, unknown> };
  steps: Step[];
}
interface Workflow {
  on: { schedule?: { cron: string }[]; workflow_dispatch?: unknown };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

const wf = parse(readFileSync(join(ROOT, '.github/workflows/images.yml'), 'utf8')) as Workflow;
const { pin, list, scan, report } = wf.jobs as Record<'pin' | 'list' | 'scan' | 'report', Job>;
const uses = (job: Job, action: string) => job.steps.filter((s) => s.uses?.startsWith(`${action}@`));
const byId = (job: Job, id: string) => job.steps.find((s) => s.id === id)!;

describe('images.yml', () => {
  it('runs weekly and by hand', () => {
    expect(Object.keys(wf.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    const [cron] = wf.on.schedule!;
    // minute hour * * weekday: once a week
    expect(cron!.cron).toMatch(/^\d+ \d+ \* \* [0-6]$/);
  });

  it('grants nothing at the top and each job only what it needs', () => {
    expect(wf.permissions).toEqual({});
    expect(Object.keys(wf.jobs)).toEqual(['pin', 'list', 'scan', 'report']);
    expect(pin.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
    expect(list.permissions).toEqual({ contents: 'read' });
    expect(scan.permissions).toEqual({ contents: 'read', 'security-events': 'write' });
    expect(report.permissions).toEqual({ issues: 'write' });
  });

  it('passes inputs and image references to shells only through environment variables', () => {
    for (const [name, job] of Object.entries(wf.jobs)) {
      for (const step of job.steps.filter((s) => s.run)) expect(step.run, `${name}: ${step.name ?? step.run}`).not.toContain('${{');
    }
  });

  it('re-pins on the runner and opens a pull request that adds the lock file only, with what the command printed', () => {
    const run = byId(pin, 'pin').run!;
    expect(run).toContain('npm run --silent images -- pin');
    const [pr] = uses(pin, 'peter-evans/create-pull-request');
    expect(pr!.with!['add-paths']).toBe('lib/images.lock.json');
    expect(pr!.with!.body).toContain('${{ steps.pin.outputs.summary }}');
    expect(pr!.with!.body).toContain('IMAGE_DIGEST_EXCEPTIONS');
    // The pull request comes before the step that fails the job on an image that could not be pinned.
    const fail = pin.steps.findIndex((s) => s.if === "steps.pin.outputs.exit-code != '0'");
    expect(fail).toBeGreaterThan(pin.steps.indexOf(pr!));
    expect(pin.steps[fail]!.run).toMatch(/exit 1$/m);
  });

  it('scans the matrix the list command prints, one job per image, the others going on when one fails', () => {
    expect(byId(list, 'list').run).toContain('npm run --silent images -- list --json');
    expect(list.outputs).toEqual({ images: '${{ steps.list.outputs.images }}' });
    expect(scan.needs).toBe('list');
    expect(scan.strategy).toEqual({ 'fail-fast': false, matrix: { image: '${{ fromJSON(needs.list.outputs.images) }}' } });
  });

  it('gates each image on Trivy and on Grype: HIGH or CRITICAL with a fix fails, the second scanner runs after the first failed', () => {
    const [trivy] = uses(scan, 'aquasecurity/trivy-action');
    const [grype] = uses(scan, 'anchore/scan-action');
    expect(trivy!.with).toMatchObject({
      'scan-type': 'image',
      'image-ref': '${{ matrix.image.ref }}',
      severity: 'HIGH,CRITICAL',
      'ignore-unfixed': true,
      'exit-code': '1',
      format: 'sarif',
      output: 'trivy.sarif',
      'limit-severities-for-sarif': 'true',
    });
    expect(grype!.with).toMatchObject({
      image: '${{ matrix.image.ref }}',
      'severity-cutoff': 'high',
      'only-fixed': 'true',
      'fail-build': 'true',
      'output-format': 'sarif',
      'output-file': 'grype.sarif',
    });
    expect(grype!.uses).toBe('anchore/scan-action@e1165082ffb1fe366ebaf02d8526e7c4989ea9d2');
    expect(grype!.if).toBe('${{ !cancelled() }}');
    // A finding fails the job: neither scanner is allowed to fail quietly.
    for (const s of [trivy!, grype!]) expect(s['continue-on-error']).toBeUndefined();
  });

  it("uploads each scanner's SARIF to code scanning under a category per scanner and image, also after a failed scan", () => {
    const uploads = uses(scan, 'github/codeql-action/upload-sarif');
    expect(uploads.map((s) => [s.with!.sarif_file, s.with!.category])).toEqual([
      ['trivy.sarif', 'trivy-image-${{ matrix.image.name }}'],
      ['grype.sarif', 'grype-image-${{ matrix.image.name }}'],
    ]);
    for (const s of uploads) expect(s.if).toMatch(/^\$\{\{ !cancelled\(\) && hashFiles\('(trivy|grype)\.sarif'\) != '' \}\}$/);
    const [artifact] = uses(scan, 'actions/upload-artifact');
    expect(artifact!.if).toBe('${{ !cancelled() }}');
    expect(artifact!.with!.name).toBe('scan-${{ matrix.image.name }}');
  });

  it('opens or updates one issue with gh and the workflow token, also when scans failed', () => {
    expect(report.needs).toEqual(['list', 'scan']);
    expect(report.if).toBe("${{ !cancelled() && needs.list.result == 'success' }}");
    const [download] = uses(report, 'actions/download-artifact');
    expect(download!.with).toMatchObject({ pattern: 'scan-*', 'merge-multiple': true });
    const step = report.steps.at(-1)!;
    expect(step.env).toMatchObject({ GH_TOKEN: '${{ github.token }}', IMAGES: '${{ needs.list.outputs.images }}' });
    expect(step.run).toContain('gh issue create --title "$TITLE"');
    expect(step.run).toContain('gh issue edit "$existing"');
  });
});

describe('images.yml shell steps, run with bash', () => {
  let temp: string;
  let bin: string;
  beforeEach(() => {
    temp = mkdtempSync(join(tmpdir(), 'images-workflow-'));
    bin = join(temp, 'bin');
    mkdirSync(bin);
  });
  afterEach(() => rmSync(temp, { recursive: true, force: true }));

  const stub = (name: string, script: string) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${script}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  /**
   * Runs a step's script as GitHub's runner does (`bash -e`), in `cwd`, with the stand-ins first
   * on PATH. Standard input is /dev/null: on a socket (what Node's pipes are) bash reads ~/.bashrc.
   */
  const runStep = (step: Step, env: Record<string, string>, cwd = temp) =>
    spawnSync('bash', ['-e', '-c', step.run!], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: temp, GITHUB_OUTPUT: join(temp, 'output'), GITHUB_STEP_SUMMARY: join(temp, 'summary'), ...env },
      encoding: 'utf8',
    });

  it('pin: hands the printed lines and the exit code on, without failing before the pull request', () => {
    stub(
      'npm',
      'echo "lib/images.lock.json: 1 of 2 images carry a digest"; echo "redis now has a digest: remove it from lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS"; echo "error: docker.io/kong/kong:3.9.1: the registry answered HTTP 503" >&2; exit 1',
    );
    const r = runStep(byId(pin, 'pin'), {});
    expect(r.status).toBe(0);
    const output = readFileSync(join(temp, 'output'), 'utf8');
    expect(output).toMatch(/^exit-code=1$/m);
    const m = /^summary<<(PIN_[0-9a-f]{32})\n([\s\S]*)\n\1\n$/m.exec(output);
    expect(m?.[2]).toBe(
      'lib/images.lock.json: 1 of 2 images carry a digest\nredis now has a digest: remove it from lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS\nerror: docker.io/kong/kong:3.9.1: the registry answered HTTP 503',
    );
  });

  it("list: passes the command's JSON on as the job output, and refuses anything else", () => {
    const images = '[{"name":"redis","ref":"docker.io/library/redis:7.4.7-alpine"}]';
    stub('npm', `echo '${images}'`);
    expect(runStep(byId(list, 'list'), {}).status).toBe(0);
    expect(readFileSync(join(temp, 'output'), 'utf8')).toBe(`images=${images}\n`);
    stub('npm', "echo '> supabase-platform images'");
    expect(runStep(byId(list, 'list'), {}).status).not.toBe(0);
  });

  describe('record and report', () => {
    const images = [
      { name: 'postgres', ref: 'docker.io/supabase/postgres:15.8.1.085' },
      { name: 'redis', ref: `docker.io/library/redis:7.4.7-alpine@sha256:${'a'.repeat(64)}` },
      { name: 'kong', ref: 'docker.io/kong/kong:3.9.1' },
      { name: 'k6', ref: 'docker.io/grafana/k6:1.3.0' },
    ];
    const record = scan.steps.find((s) => s.name === 'Record the outcome for the report')!;
    const reportStep = report.steps.at(-1)!;
    const ghLog = () => (existsSync(join(temp, 'gh.log')) ? readFileSync(join(temp, 'gh.log'), 'utf8') : '');

    /** Records one image's outcome as the scan job does, into the report job's download folder. */
    const recordScan = (name: string, trivy: string, grype: string, reports: ('trivy' | 'grype')[]) => {
      const ws = join(temp, `ws-${name}`);
      mkdirSync(ws);
      for (const r of reports) writeFileSync(join(ws, `${r}.sarif`), '{"runs":[]}');
      const ref = images.find((i) => i.name === name)!.ref;
      const r = runStep(record, { NAME: name, REF: ref, TRIVY: trivy, GRYPE: grype }, ws);
      expect(r.stderr).toBe('');
      mkdirSync(join(temp, 'results'), { recursive: true });
      writeFileSync(join(temp, 'results', `${name}.json`), readFileSync(join(temp, 'result', `${name}.json`)));
    };
    /** gh: `issue list` answers with the open issues given; every call and any body file is logged. */
    const fakeGh = (openIssues: { number: number; title: string }[]) =>
      stub(
        'gh',
        `echo "gh $*" >> "${join(temp, 'gh.log')}"
if [ "$1 $2" = "issue list" ]; then echo '${JSON.stringify(openIssues)}'; fi
while [ $# -gt 0 ]; do if [ "$1" = --body-file ]; then cat "$2" >> "${join(temp, 'gh.log')}"; fi; shift; done`,
      );
    const runReport = () =>
      runStep(reportStep, {
        ...reportStep.env,
        IMAGES: JSON.stringify(images),
        RUN_URL: 'https://github.com/acme/platform/actions/runs/1',
        GH_TOKEN: 'unused',
        GH_REPO: 'acme/platform',
      });
    const title = reportStep.env!.TITLE!;

    it('opens the issue listing only the images that did not pass, and why', () => {
      fakeGh([{ number: 3, title: `${title} (old)` }]);
      recordScan('postgres', 'failure', 'failure', ['trivy', 'grype']);
      recordScan('redis', 'success', 'success', ['trivy', 'grype']);
      recordScan('kong', 'success', 'failure', ['trivy']);
      // k6's scan job never got to record anything.
      const r = runReport();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const log = ghLog();
      expect(log).toContain(`gh issue create --title ${title} --body-file`);
      expect(log).toContain('| postgres | `docker.io/supabase/postgres:15.8.1.085` | **fixable HIGH/CRITICAL** | **fixable HIGH/CRITICAL** |');
      expect(log).toContain('| kong | `docker.io/kong/kong:3.9.1` | passed | **no report** (failure) |');
      expect(log).toContain('| k6 | `docker.io/grafana/k6:1.3.0` | **no result** | **no result** |');
      expect(log).not.toContain('| redis |');
      expect(log).toContain('did not pass these of the 4 platform images');
      expect(readFileSync(join(temp, 'summary'), 'utf8')).toContain('| postgres |');
    });

    it('updates the open issue of the same title instead of opening another', () => {
      fakeGh([{ number: 7, title }]);
      recordScan('postgres', 'failure', 'success', ['trivy', 'grype']);
      for (const name of ['redis', 'kong', 'k6']) recordScan(name, 'success', 'success', ['trivy', 'grype']);
      expect(runReport().status).toBe(0);
      const log = ghLog();
      expect(log).toMatch(/^gh issue edit 7 --body-file /m);
      expect(log).not.toContain('issue create');
      expect(log).toContain('| postgres | `docker.io/supabase/postgres:15.8.1.085` | **fixable HIGH/CRITICAL** | passed |');
    });

    it('closes the issue when every image passes both scanners, and opens none', () => {
      fakeGh([{ number: 7, title }]);
      for (const { name } of images) recordScan(name, 'success', 'success', ['trivy', 'grype']);
      expect(runReport().status).toBe(0);
      expect(ghLog()).toMatch(
        /^gh issue close 7 --comment The scan of https:\/\/github\.com\/acme\/platform\/actions\/runs\/1 found no HIGH or CRITICAL vulnerability with a fix in any of the 4 images\.$/m,
      );
      fakeGh([]);
      rmSync(join(temp, 'gh.log'));
      expect(runReport().status).toBe(0);
      expect(ghLog()).toBe(`gh issue list --state open --search "${title}" in:title --json number,title\n`);
    });
  });
});
