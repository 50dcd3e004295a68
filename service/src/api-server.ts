// The api: positions over HTTP on PORT (Kong's upstream, /app/v1/ stripped), /healthz and
// /readyz for the kubelet on the same port, /metrics on METRICS_PORT. At start it applies the
// migrations, then listens. On SIGTERM it answers /readyz with 503 for API_DRAIN_SECONDS while
// still serving (the endpoint leaves the Service), then stops accepting connections, lets the
// requests in flight finish, and closes its pools.
import Fastify, { type FastifyBaseLogger, type FastifyError } from 'fastify';
import { type Process, onShutdown, sleep } from './bootstrap';
import { API_DRAIN_SECONDS } from './config';
import { HEALTH_PATH, READY_PATH } from './contract';
import { tokenVerifier, Unauthorized } from './auth';
import { createPools, isUnavailable, ping } from './db';
import { closeServer, createRegistry, httpMetrics, startMetricsServer } from './metrics';
import { migrate } from './migrations';
import { POSITION_ROUTES, positionRoutes } from './positions';
import { createRedis, pingRedis } from './redis';

/** SQLSTATEs that are the request's fault. */
const BAD_INPUT = new Set(['22P02', '22003', '23514', '23502']);

export async function runApi(proc: Process<'api'>): Promise<void> {
  const { config, log } = proc;
  const pools = createPools(config, 'api', (err) => log.warn({ err }, 'idle database connection failed'));
  const redis = createRedis(config.redis, 'api');
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const registry = createRegistry();
  const metrics = httpMetrics(registry);
  let draining = false;

  const logger: FastifyBaseLogger = log;
  const app = Fastify({
    loggerInstance: logger,
    disableRequestLogging: true,
    // Longer than Kong's upstream keepalive idle timeout (60 s): the api never closes a kept-alive
    // connection that Kong is about to reuse (which Kong would answer with a 502).
    keepAliveTimeout: 65_000,
    bodyLimit: 1024 * 1024,
    // Requests on open connections are still served while closing; Kong stops sending new ones.
    return503OnClosing: false,
    // Reject unknown properties rather than drop them silently, and a number where a decimal
    // string is expected rather than convert it (a JSON number has already lost digits).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route !== HEALTH_PATH && route !== READY_PATH) metrics.observe(request.method, route ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof Unauthorized) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: err.message });
    if (err.validation) return reply.code(400).send({ error: err.message });
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return reply.code(err.statusCode).send({ error: err.message });
    const code = (err as { code?: string }).code ?? '';
    // A row for another owner: the insert policy refused it.
    if (code === '42501') return reply.code(403).send({ error: 'not allowed' });
    if (BAD_INPUT.has(code)) return reply.code(400).send({ error: 'invalid value' });
    if (isUnavailable(err)) {
      request.log.warn({ err, route: request.routeOptions.url }, 'dependency unavailable');
      return reply.code(503).header('retry-after', '1').send({ error: 'temporarily unavailable, retry' });
    }
    request.log.error({ err, route: request.routeOptions.url }, 'request failed');
    return reply.code(500).send({ error: 'internal error' });
  });

  const ready = async () => {
    if (draining) throw new Error('shutting down');
    await Promise.all([ping(pools.write, 2000), ping(pools.read, 2000), pingRedis(redis, 2000)]);
  };
  app.get(HEALTH_PATH, () => ({ status: 'ok' }));
  app.get(READY_PATH, async (_request, reply) => {
    try {
      await ready();
      return { status: 'ready' };
    } catch (err) {
      return reply.code(503).send({ status: 'not ready', reason: err instanceof Error ? err.message : String(err) });
    }
  });
  await positionRoutes(app, pools, tokenVerifier(config.jwtSecret));
  for (const r of POSITION_ROUTES) metrics.declare(r.method, r.url);

  const applied = await migrate(pools.write, log);
  log.info({ applied }, 'database schema up to date');
  const metricsServer = await startMetricsServer(config.metricsPort, registry, { live: () => true, ready });
  await app.listen({ port: config.port, host: '0.0.0.0' });
  log.info({ port: config.port, metricsPort: config.metricsPort }, 'api listening');

  onShutdown(proc, async () => {
    draining = true;
    await sleep(API_DRAIN_SECONDS * 1000);
    await app.close();
    await closeServer(metricsServer);
    await Promise.allSettled([pools.end(), redis.quit()]);
  });
}
