// The release gates as the workflows carry them: the four stages by name (test, build,
// deploy-staging, deploy-production), each deploy job bound to the GitHub environment of its
// stage and running the same promote command, and record-release.yml, which reads staging's
// object with a read-only kubeconfig and a verified kubectl and proposes the record. actionlint
// and the SHA pinning of every workflow are checked in workflows.test.ts; here, also that no
// action is pinned to a SHA that no other workflow of the repository uses.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMPLETED_FILE, parseRecordArgs } from '../cli/record-release';
import { parsePromoteArgs } from '../cli/promote';
import { ROOT } from './helpers';

const DIR = join(ROOT, '.github/workflows');

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface Job {
  if?: string;
  environment?: string | { name: string };
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, { inputs?: Record<string, { type?: string; options?: string[]; default?: unknown }> } | null>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const text = (file: string) => readFileSync(join(DIR, file), 'utf8');
const workflow = (file: string) => parse(text(file)) as Workflow;
const usesLines = (source: string) => [...source.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)/gm)].map((m) => m[1]!);

/** `${{ … }}` written into a run: script, where an input would become shell code. */
export function expressionsInScripts(wf: Workflow): string[] {
  return Object.entries(wf.jobs).flatMap(([name, job]) => (job.steps ?? []).filter((s) => s.run?.includes('${{')).map((s) => `${name}: ${s.name ?? s.run}`));
}

/** The deploy-<env> jobs: each runs only for its environment input, inside the GitHub environment of that name. */
export function stageBindings(wf: Workflow): Record<string, { if?: string; environment?: string }> {
  return Object.fromEntries(
    Object.entries(wf.jobs)
      .filter(([name]) => name.startsWith('deploy-'))
      .map(([name, job]) => [name, { if: job.if, environment: typeof job.environment === 'string' ? job.environment : job.environment?.name }]),
  );
}

describe('the four stages are named in the workflows', () => {
  it('test (ci.yml), build (image-release.yml), deploy-staging and deploy-production (promote.yml)', () => {
    expect(Object.keys(workflow('ci.yml').jobs)).toContain('test');
    expect(Object.keys(workflow('image-release.yml').jobs)).toContain('build');
    expect(Object.keys(workflow('promote.yml').jobs)).toEqual(['deploy-dev', 'deploy-staging', 'deploy-production']);
  });
});

describe('promote.yml', () => {
  const wf = workflow('promote.yml');
  const envs = wf.on.workflow_dispatch!.inputs!.environment!.options!;

  it('has one deploy job per environment, run only for that environment, inside its GitHub environment', () => {
    expect(envs).toEqual(['dev', 'staging', 'production']);
    expect(stageBindings(wf)).toEqual(Object.fromEntries(envs.map((env) => [`deploy-${env}`, { if: `inputs.environment == '${env}'`, environment: env }])));
  });

  it('notices a deploy job bound to the wrong environment (the check can fail)', () => {
    const broken = structuredClone(wf);
    broken.jobs['deploy-production']!.environment = 'staging';
    delete broken.jobs['deploy-staging']!.if;
    expect(stageBindings(broken)['deploy-production']).toEqual({ if: "inputs.environment == 'production'", environment: 'staging' });
    expect(stageBindings(broken)['deploy-staging']!.if).toBeUndefined();
  });

  it('runs the same steps in every deploy job: the promote command, then a pull request', () => {
    const [first, ...rest] = Object.values(wf.jobs);
    for (const job of rest) expect(job.steps).toEqual(first!.steps);
    for (const job of Object.values(wf.jobs)) expect(job.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
    const steps = first!.steps!;
    const promote = steps.find((s) => s.id === 'promote')!;
    expect(promote.run).toContain('npm run --silent promote -- --env "$ENVIRONMENT" --component "$COMPONENT" --image "$IMAGE" "${rollback[@]}"');
    expect(promote.run).toContain('if [ "$ROLLBACK" = \'true\' ]; then rollback=(--rollback); fi');
    expect(promote.env).toEqual({
      ENVIRONMENT: '${{ inputs.environment }}',
      COMPONENT: '${{ inputs.component }}',
      IMAGE: '${{ inputs.image }}',
      ROLLBACK: '${{ inputs.rollback }}',
    });
    expect(steps.at(-1)!.uses).toMatch(/^peter-evans\/create-pull-request@[0-9a-f]{40}$/);
    expect(wf.on.workflow_dispatch!.inputs!.rollback).toMatchObject({ type: 'boolean', default: false });
  });

  it('passes the CLI exactly the options it takes, --rollback for production only', () => {
    expect(parsePromoteArgs(['--env', 'production', '--component', 'api', '--image', 'x', '--rollback'], envs)).toMatchObject({
      env: 'production',
      rollback: true,
    });
    expect(() => parsePromoteArgs(['--env', 'staging', '--component', 'api', '--image', 'x', '--rollback'], envs)).toThrow('--rollback is for production only');
  });
});

describe('record-release.yml', () => {
  const wf = workflow('record-release.yml');
  const job = wf.jobs['record-staging']!;
  const steps = job.steps!;
  const index = (find: (s: Step) => boolean) => steps.findIndex(find);

  it('runs in the staging environment, for one component at a time', () => {
    expect(Object.keys(wf.on)).toEqual(['workflow_dispatch']);
    expect(wf.on.workflow_dispatch!.inputs!.component!.options).toEqual(['api', 'worker', 'scheduler']);
    expect(job.environment).toBe('staging');
    expect(wf.permissions).toEqual({ contents: 'read' });
    expect(job.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
  });

  it('installs a fixed kubectl from dl.k8s.io and checks it against the sha256 published for that version', () => {
    const install = steps.find((s) => s.run?.includes('dl.k8s.io'))!;
    expect(install.env!.KUBECTL_VERSION).toMatch(/^v1\.\d+\.\d+$/);
    expect(install.run).toContain('base="https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64"');
    expect(install.run).toContain('"$base/kubectl.sha256"');
    expect(install.run).toMatch(/sha256sum --check --strict\n/);
    // The check comes before the binary is made executable or put on the PATH.
    expect(install.run!.indexOf('sha256sum --check')).toBeLessThan(install.run!.indexOf('chmod'));
  });

  it('reads the object with the read-only kubeconfig, before any npm package runs, and removes it', () => {
    const read = steps.find((s) => s.env?.KUBECONFIG_CONTENT)!;
    expect(read.env!.KUBECONFIG_CONTENT).toBe('${{ secrets.STAGING_READONLY_KUBECONFIG }}');
    expect(steps.filter((s) => JSON.stringify(s).includes('secrets.'))).toEqual([read]);
    expect(read.run).toContain('api) kind=rollout ;;');
    expect(read.run).toContain('*) kind=deployment ;;');
    expect(read.run).toContain('kubectl get "$kind" "$COMPONENT" --namespace app --output json > "$RUNNER_TEMP/object.json"');
    expect(read.run).toContain('trap \'rm -f "$KUBECONFIG"\' EXIT');
    expect(index((s) => s === read)).toBeGreaterThan(index((s) => Boolean(s.run?.includes('dl.k8s.io'))));
    expect(index((s) => s === read)).toBeLessThan(index((s) => s.run === 'npm ci'));
  });

  it('runs the record command and proposes only the record file', () => {
    const record = steps.find((s) => s.id === 'record')!;
    expect(record.run).toContain('npm run --silent cli -- record-release --component "$COMPONENT" --object "$RUNNER_TEMP/object.json"');
    expect(parseRecordArgs(['--component', 'api', '--object', '/tmp/object.json'])).toEqual({ component: 'api', object: '/tmp/object.json' });
    const pr = steps.at(-1)!;
    expect(pr.uses).toMatch(/^peter-evans\/create-pull-request@/);
    expect(pr.with!['add-paths']!.trim()).toBe(COMPLETED_FILE);
  });
});

describe('promote.yml and record-release.yml', () => {
  const files = ['promote.yml', 'record-release.yml'];

  it.each(files)('%s gives inputs and secrets to the shell only through environment variables', (file) => {
    expect(expressionsInScripts(workflow(file))).toEqual([]);
  });

  it('notices an input written into a script (the check can fail)', () => {
    const broken = structuredClone(workflow('promote.yml'));
    broken.jobs['deploy-dev']!.steps![3]!.run = 'npm run promote -- --image ${{ inputs.image }}';
    expect(expressionsInScripts(broken)).toEqual(['deploy-dev: Write the release file and re-synthesise dist/']);
  });

  it.each(files)('%s pins every action to a commit another workflow of the repository pins it to', (file) => {
    const others = readdirSync(DIR)
      .filter((f) => f !== file && /\.ya?ml$/.test(f))
      .flatMap((f) => usesLines(text(f)));
    for (const uses of usesLines(text(file))) expect(others, uses).toContain(uses);
  });

  it('open pull requests with the same create-pull-request commit', () => {
    const pr = (file: string) => usesLines(text(file)).filter((u) => u.startsWith('peter-evans/create-pull-request@'));
    expect(new Set([...pr('promote.yml'), ...pr('record-release.yml')]).size).toBe(1);
  });
});
