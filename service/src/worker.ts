// Entry point of the worker image: configuration and tracing first, then the queue consumer.
import { bootstrap } from './bootstrap';

const proc = bootstrap('worker');
import('./worker-main')
  .then(({ runWorker }) => runWorker(proc))
  .catch((err: unknown) => {
    proc.log.fatal({ err }, 'worker failed to start');
    process.exit(1);
  });
