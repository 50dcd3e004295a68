// The api's resource: a user's DeFi positions (an amount of an asset in a protocol on a chain).
// Create and delete through the rw pooler, list and read through the ro pooler; every statement
// runs as the caller (asUser), so row level security decides which rows exist for them: another
// user's position is "not found", never "forbidden", and an insert for another owner fails.
// Reads from a standby can miss a position committed a moment ago: a read by id that finds
// nothing asks the primary before answering 404.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from './auth';
import { asUser, type Pools } from './db';

export interface Position {
  id: string;
  owner_id: string;
  chain: string;
  protocol: string;
  asset: string;
  /** Decimal string: up to 60 integer and 18 fraction digits, never a float. */
  amount: string;
  opened_at: string;
}

const COLUMNS =
  'id, owner_id, chain, protocol, asset, amount::text AS amount, to_char(opened_at AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') AS opened_at';
const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

const positionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    owner_id: { type: 'string' },
    chain: { type: 'string' },
    protocol: { type: 'string' },
    asset: { type: 'string' },
    amount: { type: 'string' },
    opened_at: { type: 'string' },
  },
} as const;

const newPosition = {
  type: 'object',
  additionalProperties: false,
  required: ['chain', 'protocol', 'asset', 'amount'],
  properties: {
    chain: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' },
    protocol: { type: 'string', pattern: '^[a-z0-9.-]{1,64}$' },
    asset: { type: 'string', pattern: '^[A-Za-z0-9.]{1,16}$' },
    amount: { type: 'string', pattern: '^(?=.*[1-9])[0-9]{1,60}(\\.[0-9]{1,18})?$' },
  },
} as const;

const byId = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: UUID_PATTERN } } } as const;

export const POSITION_ROUTES = [
  { method: 'GET', url: '/positions' },
  { method: 'POST', url: '/positions' },
  { method: 'GET', url: '/positions/:id' },
  { method: 'DELETE', url: '/positions/:id' },
] as const;

/**
 * The routes, in a scope whose requests are authenticated first (401 before any validation of
 * the request, so an anonymous caller learns nothing about the API's shape).
 */
export async function positionRoutes(app: FastifyInstance, pools: Pools, authenticate: (authorization: string | undefined) => Promise<Caller>): Promise<void> {
  await app.register((scope, _options, done) => {
    const callers = new WeakMap<FastifyRequest, Caller>();
    scope.addHook('onRequest', async (request) => {
      callers.set(request, await authenticate(request.headers.authorization));
    });
    routes(scope, pools, (request) => callers.get(request)!);
    done();
  });
}

function routes(app: FastifyInstance, pools: Pools, callerOf: (request: FastifyRequest) => Caller): void {
  app.get<{ Querystring: { limit?: string } }>(
    '/positions',
    {
      schema: {
        // Query values are strings (no type coercion): 1 to 200.
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^([1-9][0-9]?|1[0-9][0-9]|200)$' } } },
        response: { 200: { type: 'object', properties: { positions: { type: 'array', items: positionSchema } } } },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const rows = await asUser(
        pools.read,
        caller.sub,
        'read',
        async (c) =>
          (await c.query<Position>(`SELECT ${COLUMNS} FROM defi.positions ORDER BY opened_at DESC, id DESC LIMIT $1`, [Number(request.query.limit ?? 50)]))
            .rows,
      );
      return { positions: rows };
    },
  );

  app.post<{ Body: { chain: string; protocol: string; asset: string; amount: string } }>(
    '/positions',
    { schema: { body: newPosition, response: { 201: positionSchema } } },
    async (request, reply) => {
      const caller = callerOf(request);
      const { chain, protocol, asset, amount } = request.body;
      const row = await asUser(
        pools.write,
        caller.sub,
        'write',
        async (c) =>
          (
            await c.query<Position>(`INSERT INTO defi.positions (chain, protocol, asset, amount) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`, [
              chain,
              protocol,
              asset,
              amount,
            ])
          ).rows[0]!,
      );
      return reply.code(201).header('location', `positions/${row.id}`).send(row);
    },
  );

  app.get<{ Params: { id: string } }>('/positions/:id', { schema: { params: byId, response: { 200: positionSchema } } }, async (request, reply) => {
    const caller = callerOf(request);
    const find = (pool: Pools['read']) =>
      asUser(
        pool,
        caller.sub,
        'read',
        async (c) => (await c.query<Position>(`SELECT ${COLUMNS} FROM defi.positions WHERE id = $1`, [request.params.id])).rows[0],
      );
    const row = (await find(pools.read)) ?? (await find(pools.write));
    if (!row) return reply.code(404).send({ error: 'no such position' });
    return row;
  });

  app.delete<{ Params: { id: string } }>('/positions/:id', { schema: { params: byId } }, async (request, reply) => {
    const caller = callerOf(request);
    const deleted = await asUser(
      pools.write,
      caller.sub,
      'write',
      async (c) => (await c.query('DELETE FROM defi.positions WHERE id = $1', [request.params.id])).rowCount ?? 0,
    );
    if (deleted === 0) return reply.code(404).send({ error: 'no such position' });
    return reply.code(204).send();
  });
}
