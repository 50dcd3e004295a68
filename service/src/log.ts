// JSON lines on stdout (Alloy collects them), one logger per process, with the component and
// the environment on every line.
import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

export function createLogger(config: Pick<Config, 'component' | 'environment' | 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { component: config.component, environment: config.environment },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', 'req.headers.apikey', 'password', '*.password'], censor: '[redacted]' },
  });
}
