// Tables of docs/data-tier.md, gateway-and-secrets.md and the deployment and backup runbooks.
import { parse } from 'yaml';
import type { KongDeclarativeConfig } from '../../charts/gateway/kong-config';
import { canaryTimeline } from '../../charts/app/canary';
import { DRILL_MAX_RPO_SECONDS } from '../../charts/backup/drill';
import { ARCHIVE_TIMEOUT_SECONDS } from '../../charts/postgres/parameters';
import { maxmemoryBytes } from '../../charts/redis/config';
import { tune } from '../../charts/postgres/tuning';
import { maxSlotWalKeepSizeMB } from '../../lib/facts/postgres-sizing';
import { environmentInput } from '../../environments';
import { type Environment } from '../../environments/schema';
import type { SecretKeySpec } from '../../lib/secrets';
import { platformSecrets, renderEnvironment } from '../../platform';
import { quantity } from '../../lib/quantity';

const TUNING_ROWS = [
  'max_connections',
  'shared_buffers',
  'effective_cache_size',
  'work_mem',
  'maintenance_work_mem',
  'wal_buffers',
  'min_wal_size',
  'max_wal_size',
  'huge_pages',
  'random_page_cost',
  'effective_io_concurrency',
  'max_worker_processes',
  'max_parallel_workers',
  'max_parallel_workers_per_gather',
] as const;

export function tuningTable(envs: Environment[]): string {
  const header = `| | ${envs.map((e) => e.name).join(' | ')} |\n| --- |${envs.map(() => ' --- |').join('')}`;
  const pg = envs.map((e) => {
    const c = e.components.postgres;
    return Object.fromEntries(
      tune({
        memoryBytes: quantity(c.resources.limits.memory),
        cpuCores: quantity(c.resources.requests.cpu),
        maxConnections: c.tuning.maxConnections,
        profile: c.tuning.profile,
        storageType: c.tuning.storageType,
      }).map((s) => [s.name, s.value]),
    );
  });
  const row = (label: string, values: string[]) => `| ${label} | ${values.join(' | ')} |`;
  return [
    header,
    row(
      '**PostgreSQL inputs**',
      envs.map(() => ''),
    ),
    row(
      'memory limit',
      envs.map((e) => e.components.postgres.resources.limits.memory),
    ),
    row(
      'CPU request',
      envs.map((e) => e.components.postgres.resources.requests.cpu),
    ),
    row(
      'profile, storage',
      envs.map((e) => `${e.components.postgres.tuning.profile}, ${e.components.postgres.tuning.storageType}`),
    ),
    row(
      'data volume',
      envs.map((e) => e.storage.sizes.postgres),
    ),
    row(
      '**PostgreSQL settings**',
      envs.map(() => ''),
    ),
    ...TUNING_ROWS.map((name) =>
      row(
        `\`${name}\``,
        pg.map((s) => s[name] ?? ''),
      ),
    ),
    row(
      '`max_slot_wal_keep_size`',
      envs.map((e) => `${maxSlotWalKeepSizeMB(quantity(e.components.postgres.walVolumeSize))}MB`),
    ),
    row(
      '**Redis**',
      envs.map(() => ''),
    ),
    row(
      'memory limit',
      envs.map((e) => e.components.redis.resources.limits.memory),
    ),
    row(
      '`maxmemory`',
      envs.map((e) => `${Math.round(maxmemoryBytes(e.components.redis) / 2 ** 20)}Mi (${e.components.redis.maxmemoryPercent}%)`),
    ),
    row(
      '`maxmemory-policy`',
      envs.map((e) => e.components.redis.maxmemoryPolicy),
    ),
    row(
      'data volume',
      envs.map((e) => e.storage.sizes.redis),
    ),
  ].join('\n');
}

/** The gateway's routes, from the staging configuration (which runs every service). */
export function routesTable(): string {
  const input = environmentInput('staging');
  const { manifests } = renderEnvironment(input);
  const cm = [...manifests].find(([file]) => file.endsWith('ConfigMap.supabase.kong-config.yaml'))![1];
  const kong = parse((parse(cm) as { data: Record<string, string> }).data['kong.yml']!) as KongDeclarativeConfig;
  const rows = kong.services.map((svc) => {
    const plugins = svc.plugins.map((p) => p.name).filter((n) => n !== 'cors' && n !== 'request-size-limiting');
    const access = svc.plugins.some((p) => p.name === 'request-termination')
      ? 'blocked (403)'
      : svc.plugins.some((p) => p.name === 'basic-auth')
        ? 'basic-auth, admin addresses'
        : svc.plugins.some((p) => p.name === 'acl')
          ? `API key, groups ${(svc.plugins.find((p) => p.name === 'acl')!.config as { allow: string[] }).allow.join('/')}${svc.plugins.some((p) => p.name === 'ip-restriction') ? ', admin addresses' : ''}`
          : 'open';
    const upstream = svc.url.replace(/\.[a-z0-9-]+\.svc\.cluster\.local/, '');
    const size = svc.plugins.find((p) => p.name === 'request-size-limiting')!.config as { allowed_payload_size: number };
    const rate = svc.plugins.find((p) => p.name === 'rate-limiting')?.config as { minute: number } | undefined;
    return `| \`${svc.routes.flatMap((r) => r.paths).join('`, `')}\` | ${upstream} | ${access} | ${size.allowed_payload_size} MB | ${rate ? `${rate.minute}/min per IP` : '-'} | ${plugins.join(', ')} |`;
  });
  return ['| path | upstream | access | body limit | rate limit | plugins |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** Every Secret of the platform, which workloads read each key, and how the CLI makes it. */
export function secretsTable(): string {
  const input = environmentInput('staging');
  const { specs } = platformSecrets(input);
  const { manifests } = renderEnvironment(input);
  const readers = new Map<string, Set<string>>();
  for (const [, text] of manifests) {
    const obj = parse(text) as { kind: string; metadata: { name: string } };
    const read = (key: string) => {
      if (!readers.has(key)) readers.set(key, new Set());
      readers.get(key)!.add(`${obj.metadata.name}`);
    };
    for (const m of text.matchAll(/secretKeyRef:\n\s+key: ([\w-]+)\n\s+name: ([\w-]+)/g)) read(`${m[2]}/${m[1]}`);
    // A Secret mounted as a volume: the pod reads the keys its namespace's copy holds.
    for (const m of text.matchAll(/secret:\n\s+secretName: ([\w-]+)/g)) {
      const ns = (obj as { metadata: { namespace?: string } }).metadata.namespace;
      const spec = specs.find((sp) => sp.name === m[1] && sp.namespace === ns);
      for (const k of spec?.keys ?? []) read(`${m[1]}/${k.key}`);
    }
  }
  const how = (g: SecretKeySpec['generate']) =>
    g.kind === 'hex'
      ? `${g.bytes * 2} hex characters`
      : g.kind === 'base64'
        ? `${g.bytes} random bytes, base64`
        : g.kind === 'text'
          ? `"${g.value}"`
          : g.kind === 'jwt'
            ? `HS256 JWT, role ${g.role}, signed with ${g.signingKey}`
            : `provided: ${g.hint}`;
  // A copy (the same entry, readable in another namespace) adds its namespace to the key's row.
  const copiedTo = (name: string, key: string) =>
    specs
      .filter((s) => s.copyOf && s.name === name && s.keys.some((k) => k.key === key))
      .map((s) => ` (also in ${s.namespace})`)
      .join('');
  const rows = specs
    .filter((spec) => !spec.copyOf)
    .flatMap((spec) =>
      spec.keys.map(
        (k) =>
          `| ${spec.name}${copiedTo(spec.name, k.key)} | ${k.key} | ${k.description} | ${how(k.generate)} | ${[...(readers.get(`${spec.name}/${k.key}`) ?? [])].sort().join(', ') || '-'} |`,
      ),
    );
  return ['| Secret | key | what it is | generated as (dev CLI) | read by |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** Each environment's canary: when each step starts, how many api pods run the new version, the limits. */
export function canaryTable(envs: readonly Environment[]): string {
  const rows = envs.map((e) => {
    const pods = e.app.api.autoscaling?.minReplicas ?? e.app.api.replicas;
    const steps = canaryTimeline(e.app.canary, pods);
    const a = e.app.canary.analysis;
    const at = steps.map((s) => `${s.weight}% (${s.canaryPods} of ${s.pods} pods) at ${s.atMinute} min`).join(' → ');
    return `| ${e.name} | ${at} | ${steps.at(-1)!.atMinute} min | ${a.maxErrorRatio * 100}% | ${a.maxP95Seconds} s | every ${a.interval}, abort after ${a.failureLimit + 1} failed, pause after ${a.inconclusiveLimit + 1} without data |`;
  });
  return [
    '| environment | steps (pods counted at the HPA minimum) | start to 100% | max 5xx | max p95 | analysis |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** What each environment backs up, when, and how much it keeps. */
export function backupTable(envs: readonly Environment[]): string {
  const rows = envs.map((e) => {
    const b = e.backup;
    const store = b.objectStore;
    const wal = store
      ? `archived to s3://${store.bucket}/${e.name} (${store.region}) at least every ${ARCHIVE_TIMEOUT_SECONDS} s with traffic`
      : 'not archived (no object store)';
    const base = store
      ? `\`${b.baseBackup.schedule}\` to the object store, kept ${store.retentionDays} days${b.postgresSnapshots ? `; volume snapshots \`${b.postgresSnapshots.schedule}\`` : ''}`
      : 'none';
    const offsite = b.offsite ? `s3://${b.offsite.bucket}/${e.name} (${b.offsite.region}) after each snapshot` : 'none (in the cluster only)';
    return `| ${e.name} | ${wal} | ${base} | \`${b.redis.schedule}\`, keeps ${b.redis.retainCount} | ${b.volumeSize} | ${offsite} |`;
  });
  return [
    '| environment | PostgreSQL WAL | PostgreSQL base backups (UTC) | Redis snapshots (UTC) | Redis snapshot volume | Redis off-site copy |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function drillTable(envs: readonly Environment[]): string {
  const rows = envs.map((e) => {
    const b = e.backup;
    const files = e.supabase.storageBackend.kind === 'file' ? ', Storage files' : '';
    return `| ${e.name} | ${b.objectStore ? `\`${b.drill.schedule}\`, fails above ${b.drill.maxRtoMinutes} min to ready or a canary older than ${DRILL_MAX_RPO_SECONDS / 60} min` : 'none (no object store)'} | \`${b.volumeSnapshots.schedule}\`, keeps ${b.volumeSnapshots.retainCount} per volume: Prometheus, Grafana, Loki${files} | \`${e.storage.snapshotClassName}\` |`;
  });
  return ['| environment | restore drill (UTC) | volume snapshots (UTC) | VolumeSnapshotClass |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
