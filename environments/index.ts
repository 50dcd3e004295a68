// The environments the platform is synthesised for, in the order they are written.
import { dev } from './dev';
import { production } from './production';
import type { EnvironmentInput } from './schema';
import { staging } from './staging';

export const ENVIRONMENTS: readonly EnvironmentInput[] = [dev, staging, production];
