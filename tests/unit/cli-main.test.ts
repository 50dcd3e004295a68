// The entry point: --help lists the commands and `<command> --help` that command's options;
// --version; wrong usage and cluster errors are one line each (no stack trace), echoing the bad
// value, with exit code 2 for usage and 1 for the rest; flags npm kept for itself (no "--") get
// a hint; a reader that closes the pipe early (`| head -1`) ends the CLI quietly; help and usage
// errors load no command module; production load tests and restores ask first.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, npmSwallowedFlags } from '../../cli/commands';
import { confirmAction, type ConfirmDeps } from '../../cli/confirm';
import { main } from '../../cli/index';
import { version } from '../../package.json';
import { ROOT } from '../helpers';

const NO_NPM = {} as NodeJS.ProcessEnv;

async function run(argv: string[], options: { env?: NodeJS.ProcessEnv; confirm?: (yes: boolean) => ConfirmDeps } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    { print: { out: (t) => out.push(t), err: (l) => err.push(l) }, ...(options.confirm ? { confirm: options.confirm } : {}) },
    options.env ?? NO_NPM,
  );
  return { code, out: out.join(''), err };
}

/** Runs the CLI as `npm run cli` does: node scripts/cli.mjs (the bundle). */
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(ROOT, 'scripts', 'cli.mjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, npm_lifecycle_event: '', ...env },
    timeout: 60_000,
  });

describe('cli entry point', () => {
  it("lists every command in --help, and each command's own options in <command> --help", async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    for (const command of COMMAND_NAMES) expect(out).toMatch(new RegExp(`^  ${command} \\[options\\] +\\S`, 'm'));
    expect(out).toContain('Exit codes: 0 success, 1 failure or not ready (status), 2 wrong usage.');
    const apply = await run(['apply', '--help']);
    expect(apply.code).toBe(0);
    expect(apply.out).toMatch(/^Usage: npm run cli -- apply \[options\]/);
    for (const option of ['--env <name>', '--layer <name>', '--dry-run', '--prune', '--context <name>', '--request-timeout <duration>'])
      expect(apply.out).toContain(option);
    // Only apply's: not the options of other commands, and much shorter than the whole page was.
    for (const other of ['--rotate', '--component', '--store', '--rollback', '--object']) expect(apply.out).not.toContain(other);
    const promote = (await run(['promote', '--help'])).out;
    for (const option of ['--component <name>', '--image <ref>', '--rollback']) expect(promote).toContain(option);
    expect(promote).not.toContain('--request-timeout');
    expect((await run([])).code).toBe(2);
  });

  it('prints the version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, out: `${version}\n`, err: [] });
  });

  it('refuses an unknown command or option and a bad value in one line, echoing it, with exit code 2', async () => {
    expect(await run(['deploy'])).toEqual({
      code: 2,
      out: '',
      err: [expect.stringMatching(/^error: unknown command 'deploy' .*\(see npm run cli -- --help\)$/)],
    });
    expect(await run(['aply'])).toEqual({ code: 2, out: '', err: ["error: unknown command 'aply' (Did you mean apply?) (see npm run cli -- --help)"] });
    expect(await run(['status', '--env', 'dev', '--all'])).toEqual({
      code: 2,
      out: '',
      err: ["error: unknown option '--all' (see npm run cli -- status --help)"],
    });
    expect(await run(['apply'])).toEqual({ code: 2, out: '', err: ["error: required option '--env <name>' not specified (see npm run cli -- apply --help)"] });
    expect(await run(['apply', '--env', 'qa'])).toEqual({
      code: 2,
      out: '',
      err: ["error: option '--env <name>' argument 'qa' is invalid. Allowed choices are dev, staging, production. (see npm run cli -- apply --help)"],
    });
    expect((await run(['apply', '--env', 'dev', '--layer', 'on-demand'])).err).toEqual([
      expect.stringMatching(/^error: option '--layer <name>' argument 'on-demand' is invalid\. on-demand objects are never applied/),
    ]);
    expect((await run(['loadtest', '--env', 'dev', '--script', 'soak'])).err).toEqual([
      expect.stringContaining("argument 'soak' is invalid. Allowed choices are api, realtime, database."),
    ]);
    expect((await run(['status', '--env', 'dev', '--request-timeout', '5x'])).err).toEqual([
      expect.stringContaining("argument '5x' is invalid. write a duration such as 30s"),
    ]);
    expect((await run(['status', '--env', 'dev', 'now'])).err).toEqual([
      expect.stringContaining("too many arguments for 'status'. Expected 0 arguments but got 1."),
    ]);
    expect(await run(['toString'])).toMatchObject({ code: 2 });
  });

  it('reports an unreadable kubeconfig in one line with exit code 1', async () => {
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = '/nonexistent/kubeconfig';
    try {
      const { code, err } = await run(['status', '--env', 'dev']);
      expect(code).toBe(1);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(/^error: cannot read the kubeconfig \/nonexistent\/kubeconfig: ENOENT/);
    } finally {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    }
  });
});

describe('flags npm kept for itself', () => {
  // `npm run cli apply --env dev --dry-run` runs the CLI with "apply dev" and exports
  // npm_config_env=true, npm_config_dry_run=true (npm's own "yes" setting is always there, empty).
  const npm = (config: Record<string, string>) => ({ npm_lifecycle_event: 'cli', npm_config_yes: '', ...config }) as NodeJS.ProcessEnv;

  it('says to put -- before the flags, with the command it would have been', async () => {
    expect(await run(['apply', 'dev'], { env: npm({ npm_config_env: 'true', npm_config_dry_run: 'true' }) })).toEqual({
      code: 2,
      out: '',
      err: ['error: npm kept --env, --dry-run for itself, so the CLI never saw them: put -- before the flags: npm run cli -- apply --env dev --dry-run'],
    });
    expect(npmSwallowedFlags(['dev'], npm({ npm_config_env: 'true' }))).toBe(
      'npm kept --env for itself, so the CLI never saw it: put -- before the flags: npm run cli -- --env dev',
    );
    expect(npmSwallowedFlags(['promote'], { npm_lifecycle_event: 'promote', npm_config_env: 'staging' })).toMatch(
      /put -- before the flags: npm run promote -- --env staging$/,
    );
  });

  it('stays quiet when the flags did arrive, or outside npm', () => {
    expect(npmSwallowedFlags(['apply', '--env', 'dev'], npm({}))).toBeUndefined();
    expect(npmSwallowedFlags(['apply', '--env=dev'], npm({ npm_config_env: 'dev' }))).toBeUndefined();
    expect(npmSwallowedFlags(['apply', 'dev'], { npm_config_env: 'true' })).toBeUndefined();
  });

  it('answers `npm run cli apply --env dev` through npm itself', () => {
    const result = spawnSync('npm', ['run', '-s', 'cli', 'apply', '--env', 'dev'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe('error: npm kept --env for itself, so the CLI never saw it: put -- before the flags: npm run cli -- apply --env dev');
  });
});

describe('the CLI as a program', () => {
  it('ends quietly when the reader closes the pipe before the help is written (| head -1)', async () => {
    const child = spawn('npm', ['run', '-s', 'cli', '--', '--help'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // Close the reading end at once: every write of the help meets a closed pipe (EPIPE).
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('loads no command module, no chart and no Kubernetes client for help and usage errors', () => {
    const preload = join(ROOT, 'tests', 'fixtures', 'loaded-packages.cjs');
    const loaded = (args: string[]) => {
      const result = spawnSync(process.execPath, ['--require', preload, join(ROOT, 'scripts', 'cli.mjs'), ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, npm_lifecycle_event: '' },
        timeout: 60_000,
      });
      return JSON.parse(result.stderr.trim().split('\n').at(-1)!) as string[];
    };
    for (const args of [['--help'], ['apply', '--help'], ['apply', '--env', 'qa'], ['status', '--bogus']])
      expect(loaded(args), args.join(' ')).toEqual(['commander']);
    // A command that runs does load what it needs: the check above can fail.
    expect(loaded(['record-release', '--component', 'api', '--object', '/nonexistent'])).toContain('zod');
  });

  it('refuses a production load test or restore without --yes when nobody can be asked, before creating anything', () => {
    const loadtest = cli(['loadtest', '--env', 'production', '--script', 'api'], { KUBECONFIG: '/nonexistent' });
    expect(loadtest.status).toBe(2);
    expect(loadtest.stderr.trim()).toBe(
      'error: the api load test in production needs confirmation, and standard input is not a terminal to ask on: add --yes to go ahead',
    );
    const restore = cli(['restore', '--env', 'production', '--store', 'postgres', '--apply'], { KUBECONFIG: '/nonexistent' });
    expect(restore.status).toBe(2);
    expect(restore.stderr.trim().split('\n').at(-1)).toBe(
      'error: restoring postgres in production needs confirmation, and standard input is not a terminal to ask on: add --yes to go ahead',
    );
    // With --yes it goes on, to the cluster (here: no kubeconfig).
    const yes = cli(['loadtest', '--env', 'production', '--script', 'api', '--yes'], { KUBECONFIG: '/nonexistent' });
    expect(yes.status).toBe(1);
    expect(yes.stderr).toContain('error: cannot read the kubeconfig /nonexistent');
  });
});

describe('confirmation', () => {
  const asked: string[] = [];
  const deps = (answer: string, interactive = true, yes = false): ConfirmDeps => ({ yes, interactive, ask: (q) => (asked.push(q), Promise.resolve(answer)) });

  it("asks only in production, and goes ahead only on the environment's name", async () => {
    await confirmAction('the api load test', 'staging', deps('no'));
    expect(asked).toEqual([]);
    await confirmAction('the api load test', 'production', deps('production\n'));
    expect(asked).toEqual(['the api load test in production: type "production" to go ahead, anything else to stop: ']);
    await expect(confirmAction('the api load test', 'production', deps('y'))).rejects.toThrow(
      'stopped: the answer was "y", not "production"; nothing was created',
    );
    await confirmAction('restoring redis', 'production', deps('', false, true));
    await expect(confirmAction('restoring redis', 'production', deps('', false))).rejects.toThrow('add --yes to go ahead');
  });

  it('creates nothing when the answer is no', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-confirm-'));
    try {
      writeFileSync(join(dir, 'config'), 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
      const previous = process.env.KUBECONFIG;
      process.env.KUBECONFIG = join(dir, 'config');
      try {
        const result = await run(['restore', '--env', 'production', '--store', 'redis', '--apply'], { confirm: () => deps('nope') });
        expect(result.code).toBe(2);
        expect(result.err.at(-1)).toBe('error: stopped: the answer was "nope", not "production"; nothing was created');
      } finally {
        if (previous === undefined) delete process.env.KUBECONFIG;
        else process.env.KUBECONFIG = previous;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
