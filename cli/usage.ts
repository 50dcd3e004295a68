// A mistake in how the CLI was called: printed as one line, exit code 2.
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The --env value, which must name one of the environments. */
export function requireEnv(value: string | undefined, envNames: readonly string[]): string {
  if (!value || !envNames.includes(value)) throw new UsageError(`--env must be one of ${envNames.join(', ')}`);
  return value;
}
