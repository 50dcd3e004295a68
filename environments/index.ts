// The environments the platform is synthesised for, in the order they are written.
import { dev } from './dev';
import { production } from './production';
import { staging } from './staging';

export const ENVIRONMENTS: readonly unknown[] = [dev, staging, production];
