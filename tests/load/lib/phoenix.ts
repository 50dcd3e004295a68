// Realtime's wire protocol: Phoenix channels over a websocket, serializer version 1.0.0 (each
// message one JSON object: topic, event, payload, ref, join_ref). Only what the load test uses:
// joining a broadcast channel, heartbeats, sending and reading broadcasts.

export interface PhoenixMessage {
  readonly topic: string;
  readonly event: string;
  readonly payload: Record<string, unknown>;
  readonly ref: string | null;
  readonly join_ref?: string | null;
}

/** Realtime's websocket endpoint through Kong: /realtime/v1/ is routed to Realtime's /socket. */
export function socketUrl(baseUrl: string, anonKey: string): string {
  const ws = baseUrl.replace(/^http/, 'ws');
  return `${ws}/realtime/v1/websocket?apikey=${encodeURIComponent(anonKey)}&vsn=1.0.0`;
}

/** Joins `topic` ("realtime:<name>") for broadcasts only, not echoing our own. */
export function join(topic: string, ref: string, accessToken: string): PhoenixMessage {
  return {
    topic,
    event: 'phx_join',
    payload: {
      config: { broadcast: { self: false, ack: false }, presence: { key: '' }, postgres_changes: [], private: false },
      access_token: accessToken,
    },
    ref,
    join_ref: ref,
  };
}

/** Keeps the socket alive: Phoenix closes one that sends nothing for 60 s. */
export function heartbeat(ref: string): PhoenixMessage {
  return { topic: 'phoenix', event: 'heartbeat', payload: {}, ref };
}

/** A broadcast to every other member of the channel. */
export function broadcast(topic: string, ref: string, joinRef: string, event: string, payload: Record<string, unknown>): PhoenixMessage {
  return { topic, event: 'broadcast', payload: { type: 'broadcast', event, payload }, ref, join_ref: joinRef };
}

export function leave(topic: string, ref: string, joinRef: string): PhoenixMessage {
  return { topic, event: 'phx_leave', payload: {}, ref, join_ref: joinRef };
}

export const encode = (message: PhoenixMessage): string => JSON.stringify(message);

/** A message from the server, or undefined for anything that is not a Phoenix message. */
export function decode(text: string): PhoenixMessage | undefined {
  try {
    const value = JSON.parse(text) as Partial<PhoenixMessage> | null;
    if (!value || typeof value.topic !== 'string' || typeof value.event !== 'string') return undefined;
    return { topic: value.topic, event: value.event, payload: value.payload ?? {}, ref: value.ref ?? null, join_ref: value.join_ref ?? null };
  } catch {
    return undefined;
  }
}

/** The status of a reply (phx_reply): "ok" or "error", with the reason of an error. */
export function replyStatus(message: PhoenixMessage): { status: string; reason?: string } {
  const status = typeof message.payload.status === 'string' ? message.payload.status : 'unknown';
  const response = message.payload.response as { reason?: unknown } | undefined;
  return { status, ...(typeof response?.reason === 'string' ? { reason: response.reason } : {}) };
}

/** The inner event and payload of a broadcast the server delivers. */
export function broadcastOf(message: PhoenixMessage): { event: string; payload: Record<string, unknown> } | undefined {
  if (message.event !== 'broadcast') return undefined;
  const inner = message.payload as { event?: unknown; payload?: unknown };
  if (typeof inner.event !== 'string' || typeof inner.payload !== 'object' || inner.payload === null) return undefined;
  return { event: inner.event, payload: inner.payload as Record<string, unknown> };
}
