// The postgres chart: tuning by the PGTune rules, the files it ships, and the StatefulSet.
import { describe, expect, it } from 'vitest';
import { pgHbaConf, postgresqlConf, supabaseDropIn } from '../../charts/postgres/config';
import { LOGIN_ROLES } from '../../charts/postgres/credentials';
import { pgSize, tune } from '../../charts/postgres/tuning';
import { configMapData, objectsOf } from '../helpers';
import type { K8sObject } from '../policy/objects';

const GB = 2 ** 30;
const settings = (memoryGb: number, cpuCores: number, maxConnections: number) =>
  Object.fromEntries(tune({ memoryBytes: memoryGb * GB, cpuCores, maxConnections, profile: 'web', storageType: 'ssd' }).map((s) => [s.name, s.value]));

describe('PGTune rules (REFERENCE.md §5.8 reference instances)', () => {
  it.each([
    [1, 2, 60, { shared_buffers: '256MB', effective_cache_size: '768MB', maintenance_work_mem: '64MB', wal_buffers: '7864kB', work_mem: '4MB' }],
    [2, 2, 90, { shared_buffers: '512MB', effective_cache_size: '1536MB', maintenance_work_mem: '128MB', wal_buffers: '16MB', work_mem: '5349kB' }],
    [4, 2, 120, { shared_buffers: '1GB', effective_cache_size: '3GB', maintenance_work_mem: '256MB', wal_buffers: '16MB', work_mem: '8MB' }],
    [8, 2, 160, { shared_buffers: '2GB', effective_cache_size: '6GB', maintenance_work_mem: '512MB', wal_buffers: '16MB', work_mem: '12483kB', huge_pages: 'try' }],
    [16, 4, 240, { shared_buffers: '4GB', effective_cache_size: '12GB', maintenance_work_mem: '1GB', wal_buffers: '16MB', work_mem: '17189kB', max_parallel_workers: '4', max_parallel_workers_per_gather: '2' }],
  ])('%i GB, %i CPU, %i connections', (gb, cpu, conns, expected) => {
    expect(settings(gb, cpu, conns)).toMatchObject(expected);
  });

  it('keeps the 8 background workers the image extensions need', () => {
    expect(settings(16, 4, 240).max_worker_processes).toBe('8');
    expect(settings(64, 16, 400).max_worker_processes).toBe('16');
  });

  it('writes sizes in whole units', () => {
    expect(pgSize(4 * GB)).toBe('4GB');
    expect(pgSize(1536 * 2 ** 20)).toBe('1536MB');
    expect(pgSize(5_478_274)).toBe('5349kB');
  });
});

describe('postgresql.conf', () => {
  const conf = postgresqlConf({
    memoryBytes: 2 * GB,
    cpuCores: 1,
    maxConnections: 100,
    profile: 'oltp',
    storageType: 'nvme',
    logMinDurationMs: 500,
    dataVolumeBytes: 50 * GB,
    podCidrs: ['10.0.0.0/8'],
  });

  it('keeps durability on and WAL ready for Realtime and backups', () => {
    for (const line of ['fsync = on', 'synchronous_commit = on', 'full_page_writes = on', "wal_level = 'logical'", 'max_wal_senders = 10', "max_slot_wal_keep_size = '10240MB'"]) {
      expect(conf).toContain(line);
    }
  });

  it('takes the environment inputs', () => {
    expect(conf).toMatch(/^max_connections = 100 /m);
    expect(conf).toMatch(/^max_wal_size = '8GB'/m);
    expect(conf).toMatch(/^effective_io_concurrency = 1000 /m);
    expect(conf).toMatch(/^log_min_duration_statement = 500 /m);
  });

  it('leaves the Supabase extensions to the drop-in, which only the image can load', () => {
    expect(conf).not.toContain('shared_preload_libraries');
    expect(conf).toContain("include_dir = 'conf.d'");
    expect(supabaseDropIn()).toMatch(/^shared_preload_libraries = '.*pgsodium.*'/m);
  });
});

describe('pg_hba.conf', () => {
  const hba = pgHbaConf(['10.0.0.0/8', '192.168.0.0/16']);
  const rows = hba.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/));

  it('uses SCRAM for every password login and rejects the rest', () => {
    expect(rows.filter((r) => r[0] === 'host' && r.at(-1) !== 'reject').every((r) => r.at(-1) === 'scram-sha-256')).toBe(true);
    expect(rows.at(-1)).toEqual(['host', 'all', 'all', '::/0', 'reject']);
  });

  it('allows replication only to the backup role, from the pod network', () => {
    expect(rows.filter((r) => r[1] === 'replication')).toEqual([
      ['host', 'replication', 'platform_backup', '10.0.0.0/8', 'scram-sha-256'],
      ['host', 'replication', 'platform_backup', '192.168.0.0/16', 'scram-sha-256'],
    ]);
  });
});

describe('postgres chart', () => {
  const find = (env: string, kind: string, name: string) => objectsOf(env).find((l) => l.object.kind === kind && l.object.metadata.name === name && l.object.metadata.namespace !== 'app')?.object as (K8sObject & Record<string, any>) | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('sizes the data volume from the environment and keeps claims when the StatefulSet goes', () => {
    const sts = find('production', 'StatefulSet', 'postgres')!;
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(sts.spec.volumeClaimTemplates.map((c: any) => [c.metadata.name, c.spec.resources.requests.storage, c.spec.storageClassName])).toEqual([ // eslint-disable-line @typescript-eslint/no-explicit-any
      ['data', '500Gi', 'gp3'],
      ['custom-config', '1Gi', 'gp3'],
    ]);
  });

  it('keeps the pod volumes (the cdk8s-plus StatefulSet bug does not apply)', () => {
    const volumes = find('dev', 'StatefulSet', 'postgres')!.spec.template.spec.volumes.map((v: { name: string }) => v.name);
    expect(volumes).toEqual(expect.arrayContaining(['config', 'init', 'postgres-var-run-postgresql', 'postgres-tmp', 'postgres-dev-shm']));
  });

  it('gives the server every password the init SQL reads, and nothing in clear', () => {
    const sql = configMapData('dev', 'postgres-init')['platform-init.sql']!;
    const read = new Set([...sql.matchAll(/"\$([A-Z_]+)"/g)].map((m) => m[1]));
    const container = find('dev', 'StatefulSet', 'postgres')!.spec.template.spec.containers[0];
    const fromSecret = new Set(container.env.filter((e: { valueFrom?: unknown }) => e.valueFrom).map((e: { name: string }) => e.name));
    expect(read.size).toBeGreaterThan(5);
    for (const name of read) expect(fromSecret.has(name), name).toBe(true);
    expect(Object.values(LOGIN_ROLES).every((r) => fromSecret.has(r.env))).toBe(true);
  });

  it('gets credentials from External Secrets outside dev, and from the CLI in dev', () => {
    expect(find('dev', 'ExternalSecret', 'postgres-credentials')).toBeUndefined();
    const es = find('production', 'ExternalSecret', 'postgres-credentials')!;
    expect(es.spec.target).toEqual({ name: 'postgres-credentials', creationPolicy: 'Orphan', deletionPolicy: 'Retain' });
    expect(es.spec.data.map((d: { secretKey: string }) => d.secretKey).sort()).toEqual(Object.values(LOGIN_ROLES).map((r) => r.key).sort());
    expect(es.spec.data[0].remoteRef.key).toBe('production/postgres-credentials');
  });

  it('admits only labelled clients and Prometheus', () => {
    const np = find('staging', 'NetworkPolicy', 'postgres')!;
    expect(np.spec.ingress).toHaveLength(2);
    expect(np.spec.ingress[0].from[0].podSelector.matchLabels).toEqual({ 'access.supabase-platform/postgres': 'true' });
    expect(np.spec.ingress[0].from[0].namespaceSelector.matchLabels['app.kubernetes.io/instance']).toBe('staging');
    expect(np.spec.egress).toEqual([]);
  });
});
