// The question before something that acts on production (a load test, a restore): --yes answers
// it in advance; otherwise the operator types the environment's name at a terminal. Without a
// terminal (a pipe, CI) and without --yes the command refuses rather than guess.
import { createInterface } from 'node:readline/promises';
import { UsageError } from './usage';

/** Asks `question` and resolves to the line typed; only called on a terminal. */
export type Ask = (question: string) => Promise<string>;

export interface ConfirmDeps {
  /** --yes was given. */
  readonly yes: boolean;
  /** Whether standard input is a terminal someone can answer on. */
  readonly interactive: boolean;
  readonly ask: Ask;
}

/** The environments where `what` asks first. */
export const CONFIRMED_ENVIRONMENTS: readonly string[] = ['production'];

/**
 * Resolves when `what` may go ahead in `env`: any environment but production, --yes, or the
 * environment's name typed at the terminal. Otherwise throws a UsageError saying what to do.
 */
export async function confirmAction(what: string, env: string, deps: ConfirmDeps): Promise<void> {
  if (!CONFIRMED_ENVIRONMENTS.includes(env) || deps.yes) return;
  if (!deps.interactive) {
    throw new UsageError(`${what} in ${env} needs confirmation, and standard input is not a terminal to ask on: add --yes to go ahead`);
  }
  const answer = (await deps.ask(`${what} in ${env}: type "${env}" to go ahead, anything else to stop: `)).trim();
  if (answer !== env) throw new UsageError(`stopped: the answer was ${JSON.stringify(answer)}, not "${env}"; nothing was created`);
}

/** The terminal: asks on standard error, so standard output stays the command's own. */
export const terminalAsk: Ask = async (question) => {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
};

/** What `confirmAction` needs, from the process: --yes, and whether stdin is a terminal. */
export const processConfirm = (yes: boolean): ConfirmDeps => ({ yes, interactive: process.stdin.isTTY === true, ask: terminalAsk });
