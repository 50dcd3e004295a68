// Entry point of the scheduler image: configuration and tracing first, then the schedules.
import { bootstrap } from './bootstrap';

const proc = bootstrap('scheduler');
import('./scheduler-main')
  .then(({ runScheduler }) => runScheduler(proc))
  .catch((err: unknown) => {
    proc.log.fatal({ err }, 'scheduler failed to start');
    process.exit(1);
  });
