// The operator CLI: one entry point, one subcommand per task; this file only dispatches.
//   npm run cli -- --help
//   npm run cli -- apply --env dev [--dry-run] [--prune] [--layer NAME] [--context NAME]
//   npm run cli -- status --env dev [--context NAME]
//   npm run cli -- secrets --env dev [--rotate] [--dry-run] [--set SECRET/KEY=VALUE] [--context NAME]
//   npm run promote -- --env staging --component api --image REPO@sha256:...
//   npm run promote -- --env production --component api --image REPO@sha256:... [--rollback]
//   npm run cli -- record-release --component api --object rollout.json|-
//   npm run cli -- restore --env production --store postgres [--to latest|TIME|LSN] [--apply]
//   npm run cli -- restore --env production --store redis [--backup NAME] [--force] [--apply]
//   npm run cli -- loadtest --env staging --script api|realtime|database [--print] [--context NAME]
import { readFileSync } from 'node:fs';
import { ENVIRONMENTS } from '../environments';
import { EnvironmentError } from '../environments/schema';
import { PROJECT_ROOT } from '../lib/files';
import { renderEnvironment } from '../platform';
import { applyCommand } from './apply';
import { HELP } from './help';
import { loadtestCommand } from './loadtest';
import { connect } from './kube';
import { promoteCommand } from './promote';
import { recordReleaseCommand } from './record-release';
import { restoreCommand } from './restore';
import { secretsCommand } from './secrets';
import { statusCommand } from './status';
import { UsageError } from './usage';

const ENV_NAMES = ENVIRONMENTS.map((e) => e.name);
const out = (line: string) => console.log(line);
const note = (line: string) => console.error(line);

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  apply: (argv) =>
    applyCommand(argv, { root: PROJECT_ROOT, envNames: ENV_NAMES, cluster: connect, out, render: (env) => renderEnvironment(ENVIRONMENTS.find((e) => e.name === env)).manifests }),
  status: (argv) => statusCommand(argv, { root: PROJECT_ROOT, envNames: ENV_NAMES, cluster: connect, out, now: () => new Date() }),
  secrets: async (argv) => (await secretsCommand(argv, connect, out), 0),
  promote: (argv) => (promoteCommand(argv, ENVIRONMENTS, PROJECT_ROOT, out), Promise.resolve(0)),
  'record-release': (argv) =>
    (recordReleaseCommand(argv, { root: PROJECT_ROOT, now: () => new Date(), read: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'), out }), Promise.resolve(0)),
  restore: async (argv) => (await restoreCommand(argv, connect, out, note), 0),
  loadtest: (argv) => loadtestCommand(argv, { root: PROJECT_ROOT, envNames: ENV_NAMES, cluster: connect, out, write: (text) => process.stdout.write(text) }),
};

const isParseError = (error: unknown) => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
};
const isUsageError = (error: unknown) => error instanceof UsageError || error instanceof EnvironmentError || isParseError(error);

/** Runs one command; returns the exit code (2: wrong usage). Errors are printed as one line. */
export async function main(argv: string[], print: { out: (text: string) => void; err: (line: string) => void } = { out: (t) => process.stdout.write(t), err: note }): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || (Object.hasOwn(COMMANDS, command) && (rest.includes('-h') || rest.includes('--help')))) {
    print.out(HELP);
    return command ? 0 : 2;
  }
  try {
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new UsageError(`unknown command "${command}": use one of ${Object.keys(COMMANDS).join(', ')} (see --help)`);
    return await run(rest);
  } catch (error) {
    // No stack trace. Cluster errors are one line already (kube.ts); node:util's parse errors
    // add advice about "--" after their first sentence; `secrets` lists several problems, one a line.
    let message = String((error as Error).message ?? error);
    if (isParseError(error)) message = `${message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '')} (see --help)`;
    print.err(`error: ${message}`);
    return isUsageError(error) ? 2 : 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
