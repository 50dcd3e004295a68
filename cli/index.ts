// The operator CLI: one entry point, one command per task, parsed by commander (cli/commands.ts
// describes every command and option). `npm run cli` runs it through scripts/cli.mjs (a bundle,
// like synth's); `npx tsx cli/index.ts` runs the same code from source.
//   npm run cli -- --help                  (and npm run cli -- <command> --help)
//   npm run cli -- apply --env dev [--dry-run] [--prune] [--layer NAME] [--context NAME]
//   npm run cli -- status --env dev [--context NAME]
//   npm run cli -- secrets --env dev [--rotate] [--dry-run] [--set SECRET/KEY=VALUE] [--context NAME]
//   npm run promote -- --env staging --component api --image REPO@sha256:...
//   npm run promote -- --env production --component api --image REPO@sha256:... [--rollback]
//   npm run cli -- record-release --component api --object rollout.json|-
//   npm run cli -- restore --env production --store postgres [--to latest|TIME|LSN] [--apply] [--yes]
//   npm run cli -- restore --env production --store redis [--backup NAME] [--force] [--apply] [--yes]
//   npm run cli -- loadtest --env staging --script api|realtime|database [--print] [--yes]
// Each command's module is loaded only when that command runs: help and usage errors load
// commander and the names in environments/names.ts, not the charts or client-node
// (bench/cli-help.ts measures it).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ENVIRONMENT_NAMES } from '../environments/names';
import { version } from '../package.json';
import { COMMAND_NAMES, type CommandName, commanderMessage, commandFor, npmSwallowedFlags, parseDuration, PROGRAM } from './commands';
import { type ConfirmDeps, processConfirm } from './confirm';

export interface Print {
  /** Standard output, as text (lines end in "\n"). */
  readonly out: (text: string) => void;
  /** One line of standard error. */
  readonly err: (line: string) => void;
}

export interface Runtime {
  readonly print: Print;
  readonly confirm: (yes: boolean) => ConfirmDeps;
}

const PROCESS_PRINT: Print = { out: (text) => process.stdout.write(text), err: (line) => console.error(line) };

type Options = Record<string, unknown> & { requestTimeout?: string };
type Runner = (argv: string[], options: Options, runtime: Runtime) => Promise<number>;

/** A cluster factory for the command: the kubeconfig context it names, with its request timeout. */
async function clusterFactory(options: Options) {
  const { connect } = await import('./kube');
  const timeoutMs = parseDuration(options.requestTimeout ?? '0');
  return (context?: string) => connect(context, { timeoutMs });
}

const lines = (print: Print) => (line: string) => print.out(`${line}\n`);

/** What apply, status and loadtest each take alike: the project, the environments, the cluster and where lines go. */
async function clusterCommandDeps(options: Options, print: Print) {
  const { PROJECT_ROOT } = await import('../lib/files');
  return { root: PROJECT_ROOT, envNames: ENVIRONMENT_NAMES, cluster: await clusterFactory(options), out: lines(print) };
}

/** What each command runs, loaded when it runs. */
const RUNNERS: Record<CommandName, Runner> = {
  async apply(argv, options, { print }) {
    const [{ applyCommand }, { environmentInput }, { renderEnvironment }, deps] = await Promise.all([
      import('./apply'),
      import('../environments'),
      import('../platform'),
      clusterCommandDeps(options, print),
    ]);
    const render = (env: string) => renderEnvironment(environmentInput(env)).manifests;
    return applyCommand(argv, { ...deps, render });
  },
  async status(argv, options, { print }) {
    const [{ statusCommand }, deps] = await Promise.all([import('./status'), clusterCommandDeps(options, print)]);
    return statusCommand(argv, { ...deps, now: () => new Date() });
  },
  async secrets(argv, options, { print }) {
    const { secretsCommand } = await import('./secrets');
    await secretsCommand(argv, await clusterFactory(options), lines(print));
    return 0;
  },
  async promote(argv, _options, { print }) {
    const [{ promoteCommand }, { ENVIRONMENTS }, { PROJECT_ROOT }] = await Promise.all([
      import('./promote'),
      import('../environments'),
      import('../lib/files'),
    ]);
    promoteCommand(argv, ENVIRONMENTS, PROJECT_ROOT, lines(print));
    return 0;
  },
  async 'record-release'(argv, _options, { print }) {
    const [{ recordReleaseCommand }, { PROJECT_ROOT }] = await Promise.all([import('./record-release'), import('../lib/files')]);
    recordReleaseCommand(argv, { root: PROJECT_ROOT, now: () => new Date(), read: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'), out: lines(print) });
    return 0;
  },
  async restore(argv, options, { print, confirm }) {
    const { restoreCommand } = await import('./restore');
    await restoreCommand(argv, await clusterFactory(options), lines(print), print.err, confirm);
    return 0;
  },
  async loadtest(argv, options, { print, confirm }) {
    const [{ loadtestCommand }, deps] = await Promise.all([import('./loadtest'), clusterCommandDeps(options, print)]);
    return loadtestCommand(argv, { ...deps, write: print.out, confirm });
  },
};

/** A mistake of the caller (exit code 2) rather than a failure (1), known by name so that no heavy module is loaded to tell. */
const isUsageError = (error: unknown) => ['UsageError', 'EnvironmentError'].includes((error as Error).name);

const AFTER_HELP = `
Run "${PROGRAM} <command> --help" for a command's options. Through npm, put -- before the flags.
Exit codes: 0 success, 1 failure or not ready (status), 2 wrong usage.
`;

/** The program: every command of cli/commands.ts, each running `run` with its parsed options. */
function program(print: Print, run: (name: CommandName, options: Options) => Promise<void>): Command {
  const output = { writeOut: print.out, writeErr: (text: string) => print.err(text.trimEnd()), outputError: () => undefined };
  const root = new Command(PROGRAM)
    .usage('<command> [options]')
    .description('Operate the platform: apply and check an environment, create its Secrets, release, restore, load test.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .helpCommand(false)
    .addHelpText('after', AFTER_HELP)
    .exitOverride()
    .configureOutput(output);
  for (const name of COMMAND_NAMES) {
    const command = commandFor(name, ENVIRONMENT_NAMES).exitOverride().configureOutput(output);
    command.action((options: Options) => run(name, options));
    root.addCommand(command);
  }
  return root;
}

/** Runs one command; returns the exit code (2: wrong usage). Errors are printed as one line, never with a stack trace. */
export async function main(argv: string[], runtime: Partial<Runtime> = {}, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const print = runtime.print ?? PROCESS_PRINT;
  const full: Runtime = { print, confirm: runtime.confirm ?? processConfirm };
  const swallowed = npmSwallowedFlags(argv, env);
  if (swallowed) {
    print.err(`error: ${swallowed}`);
    return 2;
  }
  let code = 0;
  const root = program(print, async (name, options) => {
    const own = argv[0] === name ? argv.slice(1) : argv.slice(argv.indexOf(name) + 1);
    code = await RUNNERS[name](own, options, full);
  });
  try {
    await root.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      // No command at all: commander printed the help to standard error.
      if (error.code === 'commander.help' || error.code === 'commander.executeSubCommandAsync') return 2;
      const name = COMMAND_NAMES.find((n) => n === argv[0]);
      print.err(`error: ${commanderMessage(error)} (see ${PROGRAM} ${name ? `${name} ` : ''}--help)`);
      return 2;
    }
    // Cluster errors are one line already (kube.ts); an invalid environment lists its fields, one a line.
    print.err(`error: ${String((error as Error).message ?? error)}`);
    return isUsageError(error) ? 2 : 1;
  }
}

/**
 * Runs the CLI as a program: the exit code is main's, and a reader that stops early (`| head`)
 * ends it quietly instead of with an EPIPE stack trace.
 */
export function run(argv: string[]): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  void main(argv).then((code) => (process.exitCode = code));
}

if (require.main === module) run(process.argv.slice(2));
