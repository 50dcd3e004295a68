// The job queue: a Redis stream read by one consumer group of workers. An entry stays in the
// group's pending list until a worker acknowledges it, and a worker that dies holding one loses
// it to another after CLAIM_IDLE_MS (XAUTOCLAIM); acknowledged entries are deleted, so the
// stream's length is the work not yet done. Every job has an id derived from what it is for
// (chain-head:<endpoint>:<period start>): enqueueing an id again does nothing, and the worker
// records each id it finished in PostgreSQL, so a job delivered twice is done once.
// https://redis.io/docs/latest/develop/data-types/streams/
import { type JobKind, QUEUE } from './contract';
import type { Redis } from './redis';

export interface Job {
  readonly id: string;
  readonly kind: JobKind;
  readonly payload: Record<string, unknown>;
  readonly enqueuedAt: number;
}

export interface Delivery extends Job {
  /** The stream entry id, for acknowledging. */
  readonly entryId: string;
}

/** Pending jobs idle this long belong to a worker that is gone: another one claims them. */
export const CLAIM_IDLE_MS = 150_000;

/** The write is on the primary, but no replica confirmed it: a failover may lose it. */
export class NotDurableError extends Error {}

// SET the id's marker only if it is new, and only then add the entry: one atomic step.
const ENQUEUE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  return redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'kind', ARGV[3], 'payload', ARGV[4], 'enqueued_at', ARGV[5])
end
return false`;

/**
 * Adds the job unless its id was enqueued before (returns false then). With `replicas` 1, the
 * write (or the earlier one of the same id) must then be confirmed by a replica within
 * `waitMs` (WAIT), else NotDurableError: the caller retries, which is safe because the id is
 * deduplicated on the primary that has it, and added again by a new primary that lost it.
 */
export async function enqueue(redis: Redis, job: Omit<Job, 'enqueuedAt'>, replicas: number, waitMs = 1000): Promise<boolean> {
  const added = (await redis.eval(
    ENQUEUE,
    2,
    `${QUEUE.dedupePrefix}${job.id}`,
    QUEUE.stream,
    job.id,
    String(QUEUE.dedupeSeconds),
    job.kind,
    JSON.stringify(job.payload),
    String(Date.now()),
  )) as string | null;
  if (replicas > 0) {
    // WAIT counts the replicas holding every write of this connection so far.
    const acked = (await redis.call('WAIT', String(replicas), String(waitMs))) as number;
    if (acked < replicas) throw new NotDurableError(`job ${job.id}: ${acked} of ${replicas} replicas confirmed it within ${waitMs} ms`);
  }
  return added !== null;
}

/** Creates the consumer group (from the stream's start, so jobs added before it are read too). */
export async function ensureGroup(redis: Redis): Promise<void> {
  try {
    await redis.xgroup('CREATE', QUEUE.stream, QUEUE.group, '0', 'MKSTREAM');
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('BUSYGROUP')) throw err;
  }
}

type Entry = [id: string, fields: string[]];

function parse(entry: Entry): Delivery | undefined {
  const [entryId, fields] = entry;
  if (!fields) return undefined;
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  let payload: Record<string, unknown> = {};
  try {
    payload = JSON.parse(f.payload ?? '{}') as Record<string, unknown>;
  } catch {
    payload = {};
  }
  return { entryId, id: f.id ?? entryId, kind: (f.kind ?? 'unknown') as JobKind, payload, enqueuedAt: Number(f.enqueued_at ?? 0) };
}

/** The next new job for `consumer`, waiting up to `blockMs` (on a connection used for nothing else). */
export async function nextJob(redis: Redis, consumer: string, blockMs: number): Promise<Delivery | undefined> {
  const reply = (await redis.xreadgroup('GROUP', QUEUE.group, consumer, 'COUNT', '1', 'BLOCK', String(blockMs), 'STREAMS', QUEUE.stream, '>')) as
    [string, Entry[]][] | null;
  const entry = reply?.[0]?.[1]?.[0];
  return entry ? parse(entry) : undefined;
}

/** Jobs other consumers took and left unacknowledged for CLAIM_IDLE_MS, now this consumer's. */
export async function claimAbandoned(redis: Redis, consumer: string, count: number): Promise<Delivery[]> {
  const reply = (await redis.xautoclaim(QUEUE.stream, QUEUE.group, consumer, CLAIM_IDLE_MS, '0-0', 'COUNT', count)) as [string, Entry[], string[]?];
  return (reply[1] ?? []).map(parse).filter((d): d is Delivery => d !== undefined);
}

/** Acknowledges and deletes the entry (the job is done, or will never be). */
export async function finish(redis: Redis, entryId: string): Promise<void> {
  await redis.multi().xack(QUEUE.stream, QUEUE.group, entryId).xdel(QUEUE.stream, entryId).exec();
}

/** Jobs not finished yet: waiting or being worked on. */
export async function depth(redis: Redis): Promise<number> {
  return redis.xlen(QUEUE.stream);
}
