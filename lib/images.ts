// Every container image the platform runs, pinned to an exact version in this one place.
// Versions follow the upstream Supabase self-hosting tag set (supabase/supabase
// docker/docker-compose.yml) with PostgreSQL 15.8.1.085 and Kong 3.9.1. The tags live here; the
// digest each tag resolved to lives in lib/images.lock.json, written by `npm run images -- pin`
// (docs/reference/images.md). A digest is appended as "repo:tag@sha256:…" in every environment
// and only for the tag it was resolved for; production refuses an image without one unless
// lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS declares why (rule "image-pinned"). The product's own
// images get their digest from the environment's releases file.
import lockFile from './images.lock.json';

/** One pinned image. */
export interface Image {
  /** Registry and repository, e.g. "docker.io/supabase/gotrue". */
  readonly repository: string;
  /**
   * Exact version tag; never "latest" or a floating major such as "7". Only a product image
   * pinned by digest alone ("repo@sha256:…") has none.
   */
  readonly tag?: string;
  /** Content digest ("sha256:<64 hex>") once resolved against the registry. */
  readonly digest?: string;
}

/** Registries images may come from (docs/security.md, rule "image-pinned"). */
export const ALLOWED_REGISTRIES = ['docker.io', 'quay.io', 'ghcr.io', 'registry.k8s.io'] as const;

/** An image of the platform's own catalogue: always with a tag (the version label). */
export type PinnedImage = Image & { readonly tag: string };

/** One entry of lib/images.lock.json: the tag a digest was resolved for, and where it came from. */
export interface LockEntry {
  readonly repository: string;
  readonly tag: string;
  /** The multi-arch index digest ("sha256:<64 hex>"), or null while none is established. */
  readonly digest: string | null;
  /** Where the digest was established (the registry request, or a public source pinning the same tag); null without a digest. */
  readonly source: string | null;
}

/** The lock file: image name (a key of IMAGES) -> its entry. */
export interface ImageLock {
  readonly images: Readonly<Record<string, LockEntry>>;
}

/** lib/images.lock.json as committed. */
export const IMAGE_LOCK: ImageLock = lockFile;

/** The locked digest of repository:tag; none when the lock has no digest for that exact tag (a stale entry never applies). */
export function lockedDigest(lock: ImageLock, repository: string, tag: string): string | undefined {
  const entry = Object.values(lock.images).find((e) => e.repository === repository && e.tag === tag);
  return entry?.digest ?? undefined;
}

const image = (repository: string, tag: string): PinnedImage => {
  const digest = lockedDigest(IMAGE_LOCK, repository, tag);
  return digest ? { repository, tag, digest } : { repository, tag };
};

export const IMAGES = {
  // Data tier
  postgres: image('docker.io/supabase/postgres', '15.8.1.085'),
  postgresExporter: image('quay.io/prometheuscommunity/postgres-exporter', 'v0.20.1'),
  // Redis 7.4.7 (2025-11-02) is the newest 7.x patch, with the CVE-2025-49844 Lua fixes of 7.4.6.
  redis: image('docker.io/library/redis', '7.4.7-alpine'),
  redisExporter: image('docker.io/oliver006/redis_exporter', 'v1.89.0'),
  // HAProxy 3.0 LTS (supported until 2029-04); the official image runs as uid/gid 99 and is built
  // with the Prometheus exporter. The config uses only directives that 2.6 (tested here) has too.
  haproxy: image('docker.io/library/haproxy', '3.0.25-alpine'),

  // Supabase services
  kong: image('docker.io/kong/kong', '3.9.1'),
  auth: image('docker.io/supabase/gotrue', 'v2.189.0'),
  rest: image('docker.io/postgrest/postgrest', 'v14.12'),
  realtime: image('docker.io/supabase/realtime', 'v2.102.3'),
  storage: image('docker.io/supabase/storage-api', 'v1.60.4'),
  imgproxy: image('docker.io/darthsim/imgproxy', 'v3.30.1'),
  meta: image('docker.io/supabase/postgres-meta', 'v0.96.6'),
  studio: image('docker.io/supabase/studio', '2026.06.03-sha-0bca601'),

  // Observability
  prometheus: image('quay.io/prometheus/prometheus', 'v3.14.0-distroless'),
  alertmanager: image('quay.io/prometheus/alertmanager', 'v0.34.0'),
  kubeStateMetrics: image('registry.k8s.io/kube-state-metrics/kube-state-metrics', 'v2.19.1'),
  nodeExporter: image('quay.io/prometheus/node-exporter', 'v1.12.1'),
  grafana: image('docker.io/grafana/grafana', '13.2.0'),
  loki: image('docker.io/grafana/loki', '3.7.6'),
  alloy: image('docker.io/grafana/alloy', 'v1.18.1'),
  otelCollector: image('docker.io/otel/opentelemetry-collector-contrib', '0.158.0'),
  tempo: image('docker.io/grafana/tempo', '2.10.8'),

  // Backups and load tests
  rclone: image('docker.io/rclone/rclone', '1.71.2'),
  // kubectl with a shell (Alpine), for the volume snapshot CronJob; the version follows the
  // Kubernetes minor the manifests target (cdk8s-plus-33).
  kubectl: image('docker.io/alpine/k8s', '1.33.4'),
  k6: image('docker.io/grafana/k6', '1.3.0'),
} as const satisfies Record<string, Image>;

export type ImageName = keyof typeof IMAGES;

/** The reference a pod spec uses: "repo:tag", "repo:tag@sha256:…" or "repo@sha256:…". */
export function imageRef(img: Image): string {
  return `${img.repository}${img.tag ? `:${img.tag}` : ''}${img.digest ? `@${img.digest}` : ''}`;
}

/**
 * The pull policy of a container: IfNotPresent for a catalogue image pinned by digest (the digest
 * names immutable content, so a node's copy is the same bytes), Always otherwise (a tag can be
 * moved; the product's images keep Always, so every start checks the pod's pull credentials).
 */
export function pullPolicy(img: Image): 'Always' | 'IfNotPresent' {
  const catalogue = Object.values(IMAGES).some((i: Image) => i.repository === img.repository && i.tag === img.tag && i.digest === img.digest);
  return img.digest && catalogue ? 'IfNotPresent' : 'Always';
}

/** Splits a reference the environment model has already validated (environments/app.ts). */
export function parseImageRef(ref: string): Image {
  const at = ref.indexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const colon = name.lastIndexOf(':');
  const hasTag = colon > name.lastIndexOf('/');
  return {
    repository: hasTag ? name.slice(0, colon) : name,
    ...(hasTag ? { tag: name.slice(colon + 1) } : {}),
    ...(at < 0 ? {} : { digest: ref.slice(at + 1) }),
  };
}

/** A label value naming the version: the tag, or the digest's first 12 hex digits. */
export function imageVersion(img: Image): string {
  return img.tag ?? `sha256-${(img.digest ?? '').slice('sha256:'.length, 'sha256:'.length + 12)}`;
}
