// `images pin`: resolves the tag of every image of lib/images.ts to its multi-arch index digest
// through the registry's HTTP API and rewrites lib/images.lock.json (docs/reference/images.md).
// `images list`: every image as pods run it, for the weekly scan (.github/workflows/images.yml).
//   npm run images -- pin [--lock PATH]
//   npm run images -- list [--json]
// The protocol is the OCI distribution spec's "Pulling manifests"
// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests) with
// the anonymous bearer token flow of Docker's token authentication
// (https://distribution.github.io/distribution/spec/auth/token/): HEAD /v2/<name>/manifests/<tag>
// with an Accept header for indexes and manifests; a 401 names the token service in
// WWW-Authenticate; the digest is the Docker-Content-Digest header, or the sha256 of the body of
// a GET when the registry sends no header.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Image, IMAGES, type ImageLock, imageRef, type LockEntry } from '../lib/images';
import { PROJECT_ROOT } from '../lib/files';
import { IMAGE_DIGEST_EXCEPTIONS } from '../lib/exemptions';
import { UsageError } from './usage';

export const LOCK_PATH = join(PROJECT_ROOT, 'lib', 'images.lock.json');

/** Media types of a multi-arch index: OCI image index and Docker manifest list. */
export const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'] as const;
/** Single-platform manifests: accepted in Accept so the registry answers, refused as "not an index". */
export const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'] as const;
const ACCEPT = [...INDEX_TYPES, ...MANIFEST_TYPES].join(', ');
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A failure to pin one image, with what to do about it. */
export class PinError extends Error {}

/** Where an image's registry answers and under which name: docker.io is served by registry-1.docker.io. */
export function registryOf(repository: string): { registry: string; name: string } {
  const slash = repository.indexOf('/');
  const registry = repository.slice(0, slash);
  const name = repository.slice(slash + 1);
  return { registry, name: registry === 'docker.io' && !name.includes('/') ? `library/${name}` : name };
}

/** The base URL of a registry's API ("https://quay.io"); tests map registries to a loopback server. */
export type RegistryUrl = (registry: string) => string;
export const defaultRegistryUrl: RegistryUrl = (registry) => `https://${registry === 'docker.io' ? 'registry-1.docker.io' : registry}`;

/** Parses `Bearer realm="…",service="…",scope="…"` (Docker token authentication, "How to authenticate"). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of (space < 0 ? '' : header.slice(space + 1)).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return { scheme, params };
}

export interface Resolved {
  readonly digest: string;
  /** The request the digest came from, recorded as the lock entry's source. */
  readonly source: string;
}

/** Resolves repository:tag to its index digest. Throws PinError naming the image and what to do. */
export async function resolveDigest(
  repository: string,
  tag: string,
  registryUrl: RegistryUrl = defaultRegistryUrl,
  fetchImpl: typeof fetch = fetch,
): Promise<Resolved> {
  const image = `${repository}:${tag}`;
  const { registry, name } = registryOf(repository);
  const url = `${registryUrl(registry)}/v2/${name}/manifests/${encodeURIComponent(tag)}`;
  let token: string | undefined;

  const send = async (method: 'HEAD' | 'GET', target: string, headers: Record<string, string>): Promise<Response> => {
    try {
      return await fetchImpl(target, { method, headers, redirect: 'follow' });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new PinError(
        `${image}: registry ${registry} unreachable (${cause?.code ?? cause?.message ?? (error as Error).message}): run \`npm run images -- pin\` where ${new URL(target).host} is reachable (the weekly workflow does); the lock file was not changed for this image`,
      );
    }
  };
  const manifest = async (method: 'HEAD' | 'GET'): Promise<Response> => {
    const headers = (): Record<string, string> => ({ Accept: ACCEPT, ...(token ? { Authorization: `Bearer ${token}` } : {}) });
    let res = await send(method, url, headers());
    if (res.status === 401 && !token) {
      token = await anonymousToken(res.headers.get('www-authenticate') ?? '');
      res = await send(method, url, headers());
    }
    return res;
  };
  const anonymousToken = async (header: string): Promise<string> => {
    const { scheme, params } = parseChallenge(header);
    if (scheme !== 'bearer' || !params.realm)
      throw new PinError(
        `${image}: registry ${registry} asks for authentication without a bearer token challenge ("${header}"): this command pulls anonymously; check the repository name in lib/images.ts`,
      );
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', params.scope ?? `repository:${name}:pull`);
    const res = await send('GET', realm.toString(), {});
    if (!res.ok)
      throw new PinError(
        `${image}: the token service ${realm.host} refused an anonymous pull token (HTTP ${res.status}): the repository may be private or misspelt in lib/images.ts`,
      );
    const body = (await res.json()) as { token?: string; access_token?: string };
    const got = body.token ?? body.access_token;
    if (!got) throw new PinError(`${image}: the token service ${realm.host} answered without a token`);
    return got;
  };
  const check = (res: Response) => {
    if (res.status === 404)
      throw new PinError(`${image}: the registry has no tag ${tag} (HTTP 404): check the tag in lib/images.ts against the project's releases`);
    if (res.status === 401 || res.status === 403)
      throw new PinError(`${image}: the registry refused an anonymous pull (HTTP ${res.status}): the repository may be private or misspelt in lib/images.ts`);
    if (!res.ok)
      throw new PinError(`${image}: the registry answered HTTP ${res.status} ${res.statusText}: try again later; the lock file was not changed for this image`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!(INDEX_TYPES as readonly string[]).includes(type)) {
      throw new PinError(
        `${image}: not a multi-arch index (content type "${type || 'none'}"): the tag names a single-platform image; pick a tag published for several platforms, or pin it by hand with a cited source`,
      );
    }
  };

  const head = await manifest('HEAD');
  check(head);
  const header = head.headers.get('docker-content-digest');
  if (header) {
    if (!DIGEST.test(header)) throw new PinError(`${image}: the registry sent a malformed Docker-Content-Digest "${header}"`);
    return { digest: header, source: `HEAD ${url} (Docker-Content-Digest)` };
  }
  // No header: the digest is the sha256 of the manifest's bytes exactly as served.
  const get = await manifest('GET');
  check(get);
  const body = Buffer.from(await get.arrayBuffer());
  return { digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, source: `GET ${url} (sha256 of the body)` };
}

export interface PinResult {
  readonly lock: ImageLock;
  readonly failures: readonly string[];
}

/**
 * Resolves every image of `images` and returns the new lock: one entry per image in that order.
 * An image that fails keeps its previous digest if the previous lock has one for the same tag,
 * otherwise null; its error is in `failures`.
 */
export async function pinImages(
  images: Readonly<Record<string, { repository: string; tag: string }>>,
  previous: ImageLock,
  opts: { registryUrl?: RegistryUrl; fetch?: typeof fetch; date?: string } = {},
): Promise<PinResult> {
  const date = opts.date ?? new Date().toISOString().slice(0, 10);
  const entries: Record<string, LockEntry> = {};
  const failures: string[] = [];
  for (const [key, { repository, tag }] of Object.entries(images)) {
    try {
      const { digest, source } = await resolveDigest(repository, tag, opts.registryUrl, opts.fetch);
      entries[key] = { repository, tag, digest, source: `${source}, ${date}` };
    } catch (error) {
      if (!(error instanceof PinError)) throw error;
      failures.push(error.message);
      const old = previous.images[key];
      entries[key] = old && old.repository === repository && old.tag === tag ? old : { repository, tag, digest: null, source: null };
    }
  }
  return { lock: { images: entries }, failures };
}

/** The lock file's text. */
export function lockText(lock: ImageLock): string {
  return `${JSON.stringify(lock, null, 2)}\n`;
}

/**
 * What a run changed, one line per image: a first digest, and a digest that changed for the same
 * tag, which means the tag was moved upstream (a rebuild, or worse) and the change needs review.
 */
export function lockChanges(previous: ImageLock, lock: ImageLock): string[] {
  return Object.entries(lock.images).flatMap(([key, e]) => {
    const old = previous.images[key];
    if (!e.digest || old?.digest === e.digest) return [];
    const image = `${e.repository}:${e.tag}`;
    if (!old?.digest) return [`${key}: ${image} pinned to ${e.digest}`];
    if (old.repository !== e.repository || old.tag !== e.tag) return [`${key}: ${image} pinned to ${e.digest} (the lock had ${old.repository}:${old.tag})`];
    return [
      `${key}: ${image} moved from ${old.digest} to ${e.digest}: the tag was re-published upstream; check the project's release notes for why before merging`,
    ];
  });
}

/** Lines about lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS that the new lock makes necessary. */
export function exceptionAdvice(lock: ImageLock, exceptions: Readonly<Record<string, string>> = IMAGE_DIGEST_EXCEPTIONS): string[] {
  return Object.entries(lock.images).flatMap(([key, e]) => {
    if (e.digest && Object.hasOwn(exceptions, key)) return [`${key} now has a digest: remove it from lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS`];
    if (!e.digest && !Object.hasOwn(exceptions, key))
      return [`${key} has no digest: production refuses it until it is pinned or declared in lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS with the reason`];
    return [];
  });
}

/** One image of the catalogue: its key in IMAGES and the reference pods run ("repo:tag@sha256:…" once locked). */
export interface ListedImage {
  readonly name: string;
  readonly ref: string;
}

/** Every image of `images` in catalogue order, referenced exactly as lib/images.ts renders it. */
export function listImages(images: Readonly<Record<string, Image>> = IMAGES): ListedImage[] {
  return Object.entries(images).map(([name, img]) => ({ name, ref: imageRef(img) }));
}

const USAGE = 'use `npm run images -- pin [--lock PATH]` or `npm run images -- list [--json]`';

/**
 * `images pin [--lock PATH]` and `images list [--json]`: returns the exit code (1 when an image
 * could not be pinned). `list --json` prints one line of JSON, a job output the weekly workflow's
 * scan matrix reads.
 */
export async function imagesCommand(
  argv: string[],
  out: (line: string) => void,
  opts: { registryUrl?: RegistryUrl; fetch?: typeof fetch } = {},
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'list') {
    const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
    const images = listImages();
    const width = Math.max(...images.map((i) => i.name.length));
    if (values.json) out(JSON.stringify(images));
    else for (const { name, ref } of images) out(`${name.padEnd(width)}  ${ref}`);
    return 0;
  }
  if (command !== 'pin') throw new UsageError(`unknown images command "${command ?? ''}": ${USAGE}`);
  const { values } = parseArgs({ args: rest, options: { lock: { type: 'string' } }, strict: true });
  const path = values.lock ?? LOCK_PATH;
  const previous = JSON.parse(readFileSync(path, 'utf8')) as ImageLock;
  const { lock, failures } = await pinImages(IMAGES, previous, opts);
  writeFileSync(path, lockText(lock));
  const pinned = Object.values(lock.images).filter((e) => e.digest).length;
  out(`${path === LOCK_PATH ? 'lib/images.lock.json' : path}: ${pinned} of ${Object.keys(lock.images).length} images carry a digest`);
  for (const line of lockChanges(previous, lock)) out(line);
  for (const line of exceptionAdvice(lock)) out(line);
  for (const f of failures) out(`error: ${f}`);
  return failures.length ? 1 : 0;
}

if (require.main === module) {
  imagesCommand(process.argv.slice(2), (line) => console.log(line)).then(
    (code) => (process.exitCode = code),
    (error: Error) => {
      console.error(`error: ${error.message}`);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    },
  );
}
