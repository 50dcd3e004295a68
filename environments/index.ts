// The environments the platform is synthesised for, in the order they are written.
import { dev } from './dev';
import { production } from './production';
import type { EnvironmentInput } from './schema';
import { staging } from './staging';

export const ENVIRONMENTS: readonly EnvironmentInput[] = [dev, staging, production];

/** The environment named `name`, as written; throws naming the ones there are. */
export function environmentInput(name: string): EnvironmentInput {
  const input = ENVIRONMENTS.find((e) => e.name === name);
  if (!input) throw new Error(`no environment ${name} (there are ${ENVIRONMENTS.map((e) => e.name).join(', ')})`);
  return input;
}
