// The cluster side of the CLI, kept thin: each method is one API call (or one log stream), with
// errors turned into one-line messages. Everything that decides what to send lives in the command
// modules and is tested there with fake Clusters that record the calls.
//
// Every request has a timeout (connect's timeoutMs; the CLI's --request-timeout, default 30 s): an
// API server that accepts the connection and never answers gets a one-line error naming it, not
// a CLI that hangs. Requests of the typed clients carry an AbortSignal (set where client-node
// applies the kubeconfig's credentials to each request); the log stream, which client-node
// fetches itself, a fetch timeout that ends once the log starts to flow.
//
// client-node 1.4.0 sends objects through its typed models, which expect the models' own field
// names (`_from`, `_default`) and silently drop the JSON ones (`from` of a NetworkPolicy rule,
// `default` of a LimitRange: kubernetes-client/javascript#2825). `toWire` converts an object to
// the model form and refuses if anything would still be lost, so the bytes applied are dist's.
import { Writable } from 'node:stream';
import { KubeConfig, KubernetesObjectApi, CoreV1Api, Log, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';

export const FIELD_MANAGER = 'supabase-platform-cli';

/** A Kubernetes object as plain JSON (what dist/ holds and what the commands read). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: readonly { kind: string; name: string }[];
    generation?: number;
  };
  [field: string]: unknown;
}

/** Which object: enough to address it in the API. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface ListQuery {
  /** Only this namespace; all namespaces (or cluster-scoped objects) when omitted. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** Secrets, for `cli secrets`. */
export interface SecretAccess {
  /** The keys of a Secret, or undefined if there is none. */
  secretKeys(namespace: string, name: string): Promise<string[] | undefined>;
  /** A Secret's decoded values (to copy them into another namespace), or undefined if there is none. */
  secretValues(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/** Any object, for apply, status and restore. */
export interface ObjectAccess {
  /**
   * Server-side apply as FIELD_MANAGER. `force` takes over fields another manager owns (only
   * for secrets --rotate); `dryRun` is a server-side dry run (dryRun=All): validated, not stored.
   */
  apply(object: Record<string, unknown>, force: boolean, dryRun?: boolean): Promise<void>;
  /**
   * The objects of one kind, each with its apiVersion and kind set; undefined when the cluster
   * does not serve that kind (its CRD is not installed).
   */
  list(apiVersion: string, kind: string, query?: ListQuery): Promise<KubeObject[] | undefined>;
  /** Deletes one object (dependents in the background); `dryRun` as for apply. */
  delete(ref: ObjectRef, dryRun?: boolean): Promise<void>;
}

/** Running something once, for load tests: create a Job under a fresh name and follow its pod's log. */
export interface JobAccess {
  /** Creates (not applies) an object and returns it as stored, e.g. a Job under a fresh name. */
  create(object: Record<string, unknown>, dryRun?: boolean): Promise<KubeObject>;
  /** Writes a container's log as it arrives; resolves when the stream ends (the container exits, with follow). */
  streamLog(namespace: string, pod: string, container: string, write: (text: string) => void, options?: { follow?: boolean }): Promise<void>;
}

export type Cluster = SecretAccess & ObjectAccess & JobAccess;

/** The cluster cannot be reached or refused a request: printed as one line, exit code 1. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
}

/** The typed model client-node picks for an object (it ignores the API group). */
export function serializationType(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop()!;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

const describe = (o: { kind?: unknown; metadata?: { name?: string; namespace?: string } }) =>
  `${String(o.kind)} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? ''}`;

/** The first path at which two JSON values differ, or undefined if they are equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b ? undefined : path || '(root)';
  if (Array.isArray(a) !== Array.isArray(b)) return path || '(root)';
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const found = firstDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      Array.isArray(a) ? `${path}[${key}]` : path ? `${path}.${key}` : key,
    );
    if (found) return found;
  }
  return undefined;
}

/**
 * The object in client-node's model form, which its serializer turns back into exactly
 * `object`; throws naming the first field that would be dropped or changed on the way.
 */
export function toWire(object: Record<string, unknown>): KubernetesObject {
  const type = serializationType(String(object.apiVersion), String(object.kind));
  const model = ObjectSerializer.deserialize(object, type) as KubernetesObject;
  const sent: unknown = JSON.parse(JSON.stringify(ObjectSerializer.serialize(model, type)));
  const lost = firstDifference(object, sent);
  if (lost) throw new ClusterError(`client-node would not send ${lost} of ${describe(object)} as written; refusing to apply a different object`);
  return model;
}

/** A model object returned by client-node as plain JSON (dates as RFC 3339 strings). */
function toPlain(model: unknown, apiVersion: string, kind: string): KubeObject {
  const plain = JSON.parse(JSON.stringify(ObjectSerializer.serialize(model, serializationType(apiVersion, kind)))) as KubeObject;
  return { ...plain, apiVersion, kind };
}

const statusOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
};

const notServed = (error: unknown) => statusOf(error) === 404 || /Unrecognized API version and kind/.test((error as Error).message ?? '');

/** One line for any failure of a call to `server`. */
export function clusterError(error: unknown, server: string): ClusterError {
  const code = statusOf(error);
  const discovery = /^Failed to fetch resource metadata for (\S+):/.exec(String((error as Error).message ?? ''));
  if (code === 404 && discovery) return new ClusterError(`the cluster does not serve ${discovery[1]} (is its CRD installed?)`);
  if (code !== undefined) {
    let body = (error as { body?: unknown }).body;
    try {
      if (typeof body === 'string') body = JSON.parse(body);
    } catch {
      // not JSON: keep the text
    }
    const message = typeof body === 'object' && body !== null ? (body as { message?: string }).message : typeof body === 'string' ? body : undefined;
    const hint =
      code === 401 ? ' (the kubeconfig credentials were refused: log in again)' : code === 403 ? ' (the kubeconfig user is not allowed to do this)' : '';
    return new ClusterError(`HTTP ${code}${message ? `: ${message.split('\n')[0]}` : ''}${hint}`);
  }
  const text = String((error as Error).message ?? error).split('\n')[0]!;
  const cause = String((error as { cause?: { message?: string } }).cause?.message ?? '');
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|certificate|self[- ]signed|socket hang up|fetch failed/i.test(`${text} ${cause}`)) {
    const reason = /reason: (.*)$/.exec(text)?.[1] ?? (cause || text);
    return new ClusterError(`cannot reach the cluster at ${server}: ${reason}`);
  }
  if (/Unrecognized API version and kind/.test(text))
    return new ClusterError(`the cluster does not serve ${text.replace(/.*kind: /, '')} (is its CRD installed?)`);
  return new ClusterError(text);
}

function loadKubeConfig(context?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (error) {
    throw new ClusterError(`cannot read the kubeconfig ${process.env.KUBECONFIG ?? '~/.kube/config'}: ${String((error as Error).message).split('\n')[0]}`);
  }
  const fallback = kc.getCurrentCluster();
  if (!process.env.KUBECONFIG && fallback?.name === 'cluster' && fallback.server === 'http://localhost:8080') {
    throw new ClusterError(
      "no kubeconfig: KUBECONFIG is unset and ~/.kube/config does not exist (and this is not a pod in a cluster); point KUBECONFIG at the cluster's kubeconfig",
    );
  }
  if (context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(context)) throw new ClusterError(`the kubeconfig has no context "${context}"; it has: ${names.join(', ') || 'none'}`);
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) throw new ClusterError(`the kubeconfig's current context "${kc.getCurrentContext()}" names no cluster: pass --context NAME`);
  return kc;
}

/** The timeout of one API request when the caller sets none. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface ConnectOptions {
  /** Give up on one API request after this many milliseconds; 0: never. @default DEFAULT_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/** node-fetch's error for a request its AbortSignal ended. */
const aborted = (error: unknown) => (error as { name?: unknown }).name === 'AbortError' || (error as { type?: unknown }).type === 'aborted';

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

/** The message for a request that timed out. */
export const timeoutError = (server: string, ms: number) =>
  new ClusterError(
    `the cluster at ${server} did not answer within ${seconds(ms)}: check that the API server is up and reachable, or allow longer with --request-timeout (or KUBE_REQUEST_TIMEOUT)`,
  );

/** Makes every request `kc` sends give up after `ms`. */
function withTimeout(kc: KubeConfig, ms: number): void {
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    context.setSignal(AbortSignal.timeout(ms));
  };
  const fetchOptions = kc.applyToFetchOptions.bind(kc);
  kc.applyToFetchOptions = async (opts) => ({ ...(await fetchOptions(opts)), timeout: ms });
}

export function connect(context?: string, options: ConnectOptions = {}): Cluster {
  const kc = loadKubeConfig(context);
  const server = kc.getCurrentCluster()!.server;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (timeoutMs > 0) withTimeout(kc, timeoutMs);
  const core = kc.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ClusterError) throw error;
      throw aborted(error) ? timeoutError(server, timeoutMs) : clusterError(error, server);
    }
  };
  const read = (namespace: string, name: string) =>
    call(async (): Promise<Record<string, string> | undefined> => {
      try {
        return (await core.readNamespacedSecret({ name, namespace })).data ?? {};
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  return {
    async secretKeys(namespace, name) {
      const data = await read(namespace, name);
      return data && Object.keys(data);
    },
    async secretValues(namespace, name) {
      const data = await read(namespace, name);
      return data && Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    },
    apply: (object, force, dryRun = false) =>
      call(async () => {
        await objects.patch(toWire(object), undefined, dryRun ? 'All' : undefined, FIELD_MANAGER, force, PatchStrategy.ServerSideApply);
      }),
    list: (apiVersion, kind, query = {}) =>
      call(async () => {
        try {
          const list = await objects.list(apiVersion, kind, query.namespace, undefined, undefined, undefined, query.fieldSelector, query.labelSelector);
          return list.items.map((item) => toPlain(item, apiVersion, kind));
        } catch (error) {
          if (notServed(error)) return undefined;
          throw error;
        }
      }),
    delete: (ref, dryRun = false) =>
      call(async () => {
        const spec = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } };
        await objects.delete(spec, undefined, dryRun ? 'All' : undefined, undefined, undefined, 'Background');
      }),
    create: (object, dryRun = false) =>
      call(async () => {
        const created = await objects.create(toWire(object), undefined, dryRun ? 'All' : undefined, FIELD_MANAGER);
        return toPlain(created, String(object.apiVersion), String(object.kind));
      }),
    streamLog: (namespace, pod, container, write, options = {}) =>
      call(async () => {
        const sink = new Writable({
          write(chunk: Buffer, _encoding, done) {
            write(chunk.toString());
            done();
          },
        });
        const ended = new Promise<void>((resolve, reject) => sink.on('finish', resolve).on('error', reject));
        const started = Date.now();
        try {
          await new Log(kc).log(namespace, pod, container, sink, { follow: options.follow ?? false });
        } catch (error) {
          // client-node reports its fetch timeout as a bare HTTP 500 without a body.
          const timedOut = timeoutMs > 0 && statusOf(error) === 500 && (error as { body?: unknown }).body === undefined && Date.now() - started >= timeoutMs;
          throw timedOut ? timeoutError(server, timeoutMs) : error;
        }
        await ended;
      }),
  };
}
