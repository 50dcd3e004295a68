// A syntax error in the project's TypeScript (an environment file, most likely) as the user needs
// it: one line per error, "file:line:column: message", instead of the loader's stack trace.
// tsx (which `cdk8s synth` and `npx tsx main.ts` run) reports esbuild's transform errors as a
// TransformError whose message lists them as "/abs/file.ts:3:2: ERROR: Expected ...".
import { relative } from 'node:path';
import { PROJECT_ROOT } from './files';

/** The error's lines when it is a syntax error found while loading TypeScript, else undefined. */
export function syntaxErrorLines(error: unknown, root: string = PROJECT_ROOT): string[] | undefined {
  if ((error as { name?: unknown }).name !== 'TransformError') return undefined;
  const lines = String((error as Error).message)
    .split('\n')
    .map((line) => /^(.+?):(\d+):(\d+): ERROR: (.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([, file, line, column, text]) => `${relative(root, file!)}:${line}:${Number(column) + 1}: ${text}`);
  return lines.length > 0 ? lines : undefined;
}

/**
 * Loads a module of the project; a syntax error in it (or in what it imports) prints one line
 * per error and resolves to undefined with exit code 1. Other errors are thrown as they are.
 */
export async function loadOrReport<T>(load: () => Promise<T>, root: string = PROJECT_ROOT): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    const lines = syntaxErrorLines(error, root);
    if (!lines) throw error;
    for (const line of lines) console.error(line);
    process.exitCode = 1;
    return undefined;
  }
}
