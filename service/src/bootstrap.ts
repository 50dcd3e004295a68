// The first thing every entry point runs: configuration (a bad one stops the process with every
// problem named), the logger, then tracing, before pg, ioredis or http are loaded. Then SIGTERM
// handling: the component's stop function runs once, under a hard deadline below the pod's
// terminationGracePeriodSeconds (SHUTDOWN_SECONDS), after which the process exits anyway.
import { type Component, type Config, ConfigError, loadConfig, SHUTDOWN_SECONDS } from './config';
import { createLogger, type Logger } from './log';
import { startTelemetry, type Telemetry } from './telemetry';

export interface Process<C extends Component> {
  readonly config: Extract<Config, { component: C }>;
  readonly log: Logger;
  readonly telemetry: Telemetry;
}

export function bootstrap<C extends Component>(component: C): Process<C> {
  let config: Extract<Config, { component: C }>;
  try {
    config = loadConfig(component);
  } catch (err) {
    const msg = err instanceof ConfigError ? err.message : String(err);
    process.stderr.write(`${JSON.stringify({ level: 'fatal', component, time: new Date().toISOString(), msg })}\n`);
    process.exit(1);
  }
  const log = createLogger(config);
  const telemetry = startTelemetry(config);
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled promise rejection');
    process.exit(1);
  });
  return { config, log, telemetry };
}

/**
 * Runs `stop` on the first SIGTERM or SIGINT and exits 0 when it resolves, 1 when it throws or
 * when SHUTDOWN_SECONDS pass first. Returns a function that starts the same shutdown (for a
 * fatal error of the component itself).
 */
export function onShutdown<C extends Component>(proc: Process<C>, stop: (deadline: number) => Promise<void>): (reason: string) => void {
  let started = false;
  const budgetMs = SHUTDOWN_SECONDS[proc.config.component] * 1000;
  const shutdown = (reason: string) => {
    if (started) return;
    started = true;
    const deadline = Date.now() + budgetMs;
    proc.log.info({ reason, budgetSeconds: budgetMs / 1000 }, 'shutting down');
    setTimeout(() => {
      proc.log.error({ budgetSeconds: budgetMs / 1000 }, 'shutdown did not finish in time, exiting');
      process.exit(1);
    }, budgetMs).unref();
    stop(deadline)
      .then(async () => {
        await proc.telemetry.shutdown(Math.max(0, Math.min(3000, deadline - Date.now())));
        proc.log.info('stopped');
        process.exit(reason === 'fatal' ? 1 : 0);
      })
      .catch((err: unknown) => {
        proc.log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return shutdown;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
