// Entry point of the api image: configuration and tracing first, then the server.
import { bootstrap } from './bootstrap';

const proc = bootstrap('api');
import('./api-server')
  .then(({ runApi }) => runApi(proc))
  .catch((err: unknown) => {
    proc.log.fatal({ err }, 'api failed to start');
    process.exit(1);
  });
