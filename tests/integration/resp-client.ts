// A minimal Redis client for the failover test: one connection, one command at a time, every
// command bounded by a timeout, no retries and no queueing of its own, so the test sees exactly
// which writes the server acknowledged and when the address stopped answering.
import { Socket } from 'node:net';

export type Reply = string | number | null | Reply[];

export class RedisError extends Error {}

/** Parses one RESP2 reply from the front of `buf`; undefined when incomplete. */
function parse(buf: Buffer, at = 0): { value: Reply | RedisError; next: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, next };
    case '-':
      return { value: new RedisError(line), next };
    case ':':
      return { value: Number(line), next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), next: next + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, pos);
        if (!item) return undefined;
        if (item.value instanceof RedisError) return { value: item.value, next: item.next };
        items.push(item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

const encode = (args: readonly (string | number)[]) =>
  Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.map((a) => {
      const b = Buffer.from(String(a));
      return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);
    }),
  ]);

export class RespClient {
  private buffer = Buffer.alloc(0);
  private waiting?: { resolve: (v: Reply) => void; reject: (e: Error) => void };
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      const reply = parse(this.buffer);
      if (!reply || !this.waiting) return;
      this.buffer = this.buffer.subarray(reply.next);
      const w = this.waiting;
      this.waiting = undefined;
      if (reply.value instanceof RedisError) w.reject(reply.value);
      else w.resolve(reply.value);
    });
    const fail = (e: Error) => {
      this.closed = true;
      this.waiting?.reject(e);
      this.waiting = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** Connects and logs in; rejects within `timeoutMs`. */
  static async connect(port: number, password: string, timeoutMs = 1000): Promise<RespClient> {
    const socket = new Socket();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('connect timeout'));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.connect(port, '127.0.0.1', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const client = new RespClient(socket);
    await client.call(['AUTH', password], timeoutMs);
    return client;
  }

  get usable(): boolean {
    return !this.closed;
  }

  call(args: readonly (string | number)[], timeoutMs = 1000): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    if (this.waiting) return Promise.reject(new Error('one command at a time'));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        this.close();
        reject(new Error(`timeout after ${timeoutMs} ms: ${args[0]}`));
      }, timeoutMs);
      this.waiting = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.socket.write(encode(args));
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
