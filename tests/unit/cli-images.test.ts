// `npm run images -- pin` against a small fake registry on loopback (no network): the anonymous
// bearer token flow of Docker's token authentication, HEAD and GET of manifests as the OCI
// distribution spec describes them, a missing tag, a server error, a single-platform manifest and
// an unreachable registry; what a run changed (a first digest, a moved tag). `images list`, the
// weekly scan's matrix. Also: lib/images.lock.json and lib/images.ts agree, and the one list of
// digest exceptions matches the lock.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exceptionAdvice,
  imagesCommand,
  INDEX_TYPES,
  listImages,
  lockChanges,
  lockText,
  parseChallenge,
  pinImages,
  registryOf,
  resolveDigest,
} from '../../cli/images';
import { IMAGE_LOCK, IMAGES, type ImageLock, imageRef, lockedDigest, pullPolicy } from '../../lib/images';
import { IMAGE_DIGEST_EXCEPTIONS } from '../../lib/exemptions';

const INDEX = JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPES[0], manifests: [] });
const INDEX_DIGEST = `sha256:${createHash('sha256').update(INDEX).digest('hex')}`;
const GRANT = 'granted';

/** Repository name -> tag -> how the fake registry answers. */
const REPOS: Record<string, Record<string, 'index' | 'index-no-header' | 'manifest' | 'error'>> = {
  'library/redis': { '7.4.7-alpine': 'index' },
  'supabase/gotrue': { 'v2.189.0': 'index-no-header' },
  'acme/single': { '1.0.0': 'manifest' },
  'acme/broken': { '1.0.0': 'error' },
};

let server: Server;
let base: string;
const requests: string[] = [];

function answer(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url!, base);
  requests.push(`${req.method} ${url.pathname}${url.search}`);
  if (url.pathname === '/token') {
    expect(url.searchParams.get('service')).toBe('fake-registry');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: GRANT }));
    return;
  }
  const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
  if (!m) return void res.writeHead(404).end();
  if (req.headers.authorization !== `Bearer ${GRANT}`) {
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${base}/token",service="fake-registry",scope="repository:${m[1]}:pull"` }).end();
    return;
  }
  expect(req.headers.accept).toContain(INDEX_TYPES[0]);
  expect(req.headers.accept).toContain(INDEX_TYPES[1]);
  const kind = REPOS[m[1]!]?.[decodeURIComponent(m[2]!)];
  if (!kind) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  if (kind === 'error') return void res.writeHead(500).end();
  const headers: Record<string, string> = {
    'content-type': kind === 'manifest' ? 'application/vnd.oci.image.manifest.v1+json' : INDEX_TYPES[0],
    'content-length': String(Buffer.byteLength(INDEX)),
    ...(kind === 'index' ? { 'docker-content-digest': INDEX_DIGEST } : {}),
  };
  res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : INDEX);
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const local = () => base;

describe('images pin: the registry protocol', () => {
  it('maps docker.io to registry-1.docker.io names and keeps other registries', () => {
    expect(registryOf('docker.io/library/redis')).toEqual({ registry: 'docker.io', name: 'library/redis' });
    expect(registryOf('docker.io/redis')).toEqual({ registry: 'docker.io', name: 'library/redis' });
    expect(registryOf('registry.k8s.io/kube-state-metrics/kube-state-metrics')).toEqual({
      registry: 'registry.k8s.io',
      name: 'kube-state-metrics/kube-state-metrics',
    });
  });

  it('parses a bearer challenge', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/redis:pull' },
    });
  });

  it('takes an anonymous token from the challenge and reads Docker-Content-Digest from a HEAD', async () => {
    requests.length = 0;
    const got = await resolveDigest('docker.io/library/redis', '7.4.7-alpine', local);
    expect(got.digest).toBe(INDEX_DIGEST);
    expect(got.source).toContain('Docker-Content-Digest');
    expect(requests).toEqual([
      'HEAD /v2/library/redis/manifests/7.4.7-alpine',
      'GET /token?service=fake-registry&scope=repository%3Alibrary%2Fredis%3Apull',
      'HEAD /v2/library/redis/manifests/7.4.7-alpine',
    ]);
  });

  it('without the header, computes the digest as the sha256 of the GET body', async () => {
    requests.length = 0;
    const got = await resolveDigest('docker.io/supabase/gotrue', 'v2.189.0', local);
    expect(got.digest).toBe(INDEX_DIGEST);
    expect(got.source).toContain('sha256 of the body');
    expect(requests.at(-1)).toBe('GET /v2/supabase/gotrue/manifests/v2.189.0');
  });

  it('names the image and what to do: a missing tag, a server error, a single-platform manifest, an unreachable registry', async () => {
    await expect(resolveDigest('docker.io/library/redis', '7.4.99-alpine', local)).rejects.toThrow(
      /docker\.io\/library\/redis:7\.4\.99-alpine: the registry has no tag 7\.4\.99-alpine \(HTTP 404\): check the tag in lib\/images\.ts/,
    );
    await expect(resolveDigest('quay.io/acme/broken', '1.0.0', local)).rejects.toThrow(
      /quay\.io\/acme\/broken:1\.0\.0: the registry answered HTTP 500.*try again later/,
    );
    await expect(resolveDigest('ghcr.io/acme/single', '1.0.0', local)).rejects.toThrow(
      /ghcr\.io\/acme\/single:1\.0\.0: not a multi-arch index \(content type "application\/vnd\.oci\.image\.manifest\.v1\+json"\)/,
    );
    // A closed port on loopback: nothing listens there once the probe server is closed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await expect(resolveDigest('docker.io/library/redis', '7.4.7-alpine', () => closed)).rejects.toThrow(
      /docker\.io\/library\/redis:7\.4\.7-alpine: registry docker\.io unreachable \(ECONNREFUSED\): run `npm run images -- pin` where/,
    );
  });
});

describe('images pin: the lock file', () => {
  const images = {
    redis: { repository: 'docker.io/library/redis', tag: '7.4.7-alpine' },
    auth: { repository: 'docker.io/supabase/gotrue', tag: 'v2.189.0' },
    broken: { repository: 'quay.io/acme/broken', tag: '1.0.0' },
    missing: { repository: 'quay.io/acme/broken', tag: '9.9.9' },
  };

  it('writes one entry per image with digest and source; a failure keeps the old digest of the same tag and reports the image', async () => {
    const old = `sha256:${'a'.repeat(64)}`;
    const previous: ImageLock = {
      images: {
        broken: { repository: 'quay.io/acme/broken', tag: '1.0.0', digest: old, source: 'earlier run' },
        missing: { repository: 'quay.io/acme/broken', tag: '9.9.8', digest: old, source: 'earlier run' },
      },
    };
    const { lock, failures } = await pinImages(images, previous, { registryUrl: local, date: '2026-01-01' });
    expect(Object.keys(lock.images)).toEqual(['redis', 'auth', 'broken', 'missing']);
    expect(lock.images.redis).toEqual({
      repository: 'docker.io/library/redis',
      tag: '7.4.7-alpine',
      digest: INDEX_DIGEST,
      source: `HEAD ${base}/v2/library/redis/manifests/7.4.7-alpine (Docker-Content-Digest), 2026-01-01`,
    });
    expect(lock.images.auth!.digest).toBe(INDEX_DIGEST);
    expect(lock.images.broken).toEqual(previous.images.broken);
    expect(lock.images.missing).toEqual({ repository: 'quay.io/acme/broken', tag: '9.9.9', digest: null, source: null });
    expect(failures).toHaveLength(2);
    expect(failures[1]).toMatch(/^quay\.io\/acme\/broken:9\.9\.9: the registry has no tag/);
  });

  it('the command rewrites the lock file it is given and fails when an image cannot be pinned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'images-pin-'));
    try {
      const path = join(dir, 'images.lock.json');
      writeFileSync(path, lockText(IMAGE_LOCK));
      const lines: string[] = [];
      // Every catalogue image answers 404 here except redis: the command still writes what it pinned.
      const code = await imagesCommand(['pin', '--lock', path], (l) => lines.push(l), { registryUrl: local });
      expect(code).toBe(1);
      const written = JSON.parse(readFileSync(path, 'utf8')) as ImageLock;
      expect(written.images.redis!.digest).toBe(INDEX_DIGEST);
      expect(lines).toContain(`redis: docker.io/library/redis:7.4.7-alpine pinned to ${INDEX_DIGEST}`);
      // Exactly the exceptions that can go (redis and auth, where lib/exemptions.ts still lists them), and
      // the images that failed: nothing else is advised.
      expect(lines.filter((l) => l.includes('IMAGE_DIGEST_EXCEPTIONS'))).toEqual(
        ['redis', 'auth']
          .filter((k) => Object.hasOwn(IMAGE_DIGEST_EXCEPTIONS, k))
          .map((k) => `${k} now has a digest: remove it from lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS`),
      );
      expect(lines.some((l) => l.startsWith('error: docker.io/supabase/postgres:15.8.1.085: the registry has no tag'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a first digest, and a digest that moved under the same tag as a tag re-published upstream', () => {
    const [a, b] = [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`];
    const entry = (tag: string, digest: string | null) => ({ repository: 'docker.io/library/redis', tag, digest, source: digest ? 'test' : null });
    const lock = (e: ReturnType<typeof entry>): ImageLock => ({ images: { redis: e } });
    expect(lockChanges(lock(entry('7.4.7-alpine', null)), lock(entry('7.4.7-alpine', a)))).toEqual([
      `redis: docker.io/library/redis:7.4.7-alpine pinned to ${a}`,
    ]);
    expect(lockChanges(lock(entry('7.4.7-alpine', a)), lock(entry('7.4.7-alpine', a)))).toEqual([]);
    expect(lockChanges(lock(entry('7.4.7-alpine', a)), lock(entry('7.4.7-alpine', b)))).toEqual([
      `redis: docker.io/library/redis:7.4.7-alpine moved from ${a} to ${b}: the tag was re-published upstream; check the project's release notes for why before merging`,
    ]);
    expect(lockChanges(lock(entry('7.4.6-alpine', a)), lock(entry('7.4.7-alpine', b)))).toEqual([
      `redis: docker.io/library/redis:7.4.7-alpine pinned to ${b} (the lock had docker.io/library/redis:7.4.6-alpine)`,
    ]);
    expect(lockChanges({ images: {} }, lock(entry('7.4.7-alpine', null)))).toEqual([]);
  });

  it('refuses an unknown subcommand', async () => {
    await expect(imagesCommand(['resolve'], () => {})).rejects.toThrow(/use `npm run images -- pin.*`npm run images -- list/);
  });
});

describe('images list', () => {
  it('--json prints one line: every catalogue image in order with the reference pods run', async () => {
    const lines: string[] = [];
    expect(await imagesCommand(['list', '--json'], (l) => lines.push(l))).toBe(0);
    expect(lines).toHaveLength(1);
    const listed = JSON.parse(lines[0]!) as { name: string; ref: string }[];
    expect(listed).toEqual(Object.entries(IMAGES).map(([name, img]) => ({ name, ref: imageRef(img) })));
    for (const [i, [name, img]] of Object.entries(IMAGES).entries()) {
      const locked = lockedDigest(IMAGE_LOCK, img.repository, img.tag);
      expect(listed[i]!.ref, name).toBe(`${img.repository}:${img.tag}${locked ? `@${locked}` : ''}`);
      // The workflow names artifacts, files and code-scanning categories after the key.
      expect(name).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
    }
  });

  it('references a locked image by tag and digest, an unlocked one by tag', () => {
    const digest = `sha256:${'f'.repeat(64)}`;
    expect(
      listImages({ redis: { repository: 'docker.io/library/redis', tag: '7.4.7-alpine', digest }, kong: { repository: 'docker.io/kong/kong', tag: '3.9.1' } }),
    ).toEqual([
      { name: 'redis', ref: `docker.io/library/redis:7.4.7-alpine@${digest}` },
      { name: 'kong', ref: 'docker.io/kong/kong:3.9.1' },
    ]);
  });

  it('without --json prints one aligned line per image', async () => {
    const lines: string[] = [];
    await imagesCommand(['list'], (l) => lines.push(l));
    expect(lines).toHaveLength(Object.keys(IMAGES).length);
    expect(lines[0]).toMatch(/^postgres {2,}docker\.io\/supabase\/postgres:15\.8\.1\.085/);
    // The references start in one column.
    expect(new Set(lines.map((l) => l.search(/\S+$/))).size).toBe(1);
  });
});

describe('lib/images.lock.json', () => {
  it('has the same images with the same repositories and tags as lib/images.ts', () => {
    expect(Object.keys(IMAGE_LOCK.images)).toEqual(Object.keys(IMAGES));
    for (const [name, img] of Object.entries(IMAGES)) {
      const entry = IMAGE_LOCK.images[name]!;
      expect({ name, repository: entry.repository, tag: entry.tag }).toEqual({ name, repository: img.repository, tag: img.tag });
    }
  });

  it('records a well-formed digest with its source, or null for both', () => {
    for (const [name, e] of Object.entries(IMAGE_LOCK.images)) {
      if (e.digest === null) expect(e.source, name).toBeNull();
      else {
        expect(e.digest, name).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(e.source?.trim(), name).toBeTruthy();
      }
    }
  });

  it('lib/exemptions.ts excepts exactly the images without a digest, each with a reason', () => {
    expect(exceptionAdvice(IMAGE_LOCK)).toEqual([]);
    for (const [name, reason] of Object.entries(IMAGE_DIGEST_EXCEPTIONS)) {
      expect(Object.keys(IMAGES), name).toContain(name);
      expect(reason.trim(), name).not.toBe('');
    }
  });

  it('gives a digest only to the tag it was resolved for, rendered with IfNotPresent; a tag alone keeps Always', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const lock: ImageLock = { images: { redis: { repository: 'docker.io/library/redis', tag: '7.4.6-alpine', digest, source: 'test' } } };
    expect(lockedDigest(lock, 'docker.io/library/redis', '7.4.6-alpine')).toBe(digest);
    expect(lockedDigest(lock, 'docker.io/library/redis', '7.4.7-alpine')).toBeUndefined();
    for (const img of Object.values(IMAGES)) {
      const locked = lockedDigest(IMAGE_LOCK, img.repository, img.tag);
      expect(imageRef(img)).toBe(`${img.repository}:${img.tag}${locked ? `@${locked}` : ''}`);
      expect(pullPolicy(img)).toBe(locked ? 'IfNotPresent' : 'Always');
    }
    // The product's images come by digest from the releases files and keep Always.
    expect(pullPolicy({ repository: 'ghcr.io/example-defi/api', tag: '0.1.0', digest })).toBe('Always');
  });
});
