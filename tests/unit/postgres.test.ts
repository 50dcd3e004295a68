// The postgres chart: tuning by the PGTune rules, the Cluster's parameters and HBA rules, the
// Cluster, its roles, poolers, key, TLS and archive.
import { describe, expect, it } from 'vitest';
import { CNPG_FIXED_PARAMETERS } from '../../charts/postgres/cnpg-fixed-parameters';
import { pgHba } from '../../charts/postgres/hba';
import { PGBOUNCER_ALLOWED_PARAMETERS } from '../../charts/postgres/poolers';
import { clusterParameters, PGSODIUM_PATHS, SHARED_PRELOAD_LIBRARIES } from '../../charts/postgres/parameters';
import { LOGIN_ROLES } from '../../charts/postgres/roles';
import { pgSize, tune } from '../../charts/postgres/tuning';
import { clusterSpec } from '../integration/pg-checks';
import { configMapData, find, objectsOf, tryFind } from '../helpers';
import type { K8sObject } from '../../checks/objects';

const GB = 2 ** 30;
const settings = (memoryGb: number, cpuCores: number, maxConnections: number) =>
  Object.fromEntries(tune({ memoryBytes: memoryGb * GB, cpuCores, maxConnections, profile: 'web', storageType: 'ssd' }).map((s) => [s.name, s.value]));

describe('PGTune rules (reference instances, docs/data-tier.md)', () => {
  it.each([
    [1, 2, 60, { shared_buffers: '256MB', effective_cache_size: '768MB', maintenance_work_mem: '64MB', wal_buffers: '7864kB', work_mem: '4MB' }],
    [2, 2, 90, { shared_buffers: '512MB', effective_cache_size: '1536MB', maintenance_work_mem: '128MB', wal_buffers: '16MB', work_mem: '5349kB' }],
    [4, 2, 120, { shared_buffers: '1GB', effective_cache_size: '3GB', maintenance_work_mem: '256MB', wal_buffers: '16MB', work_mem: '8MB' }],
    [
      8,
      2,
      160,
      { shared_buffers: '2GB', effective_cache_size: '6GB', maintenance_work_mem: '512MB', wal_buffers: '16MB', work_mem: '12483kB', huge_pages: 'try' },
    ],
    [
      16,
      4,
      240,
      {
        shared_buffers: '4GB',
        effective_cache_size: '12GB',
        maintenance_work_mem: '1GB',
        wal_buffers: '16MB',
        work_mem: '17189kB',
        max_parallel_workers: '4',
        max_parallel_workers_per_gather: '2',
      },
    ],
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

describe('Cluster parameters', () => {
  const params = clusterParameters({
    memoryBytes: 2 * GB,
    cpuCores: 1,
    maxConnections: 100,
    profile: 'oltp',
    storageType: 'nvme',
    logMinDurationMs: 500,
    walVolumeBytes: 50 * GB,
    archiving: true,
  });

  it('keeps durability on and WAL ready for Realtime and the archive', () => {
    expect(params).toMatchObject({
      synchronous_commit: 'on',
      wal_level: 'logical',
      max_wal_senders: '10',
      max_slot_wal_keep_size: '10240MB',
      archive_timeout: '60s',
      wal_log_hints: 'on',
    });
  });

  it('takes the environment inputs', () => {
    expect(params).toMatchObject({ max_connections: '100', max_wal_size: '8GB', effective_io_concurrency: '1000', log_min_duration_statement: '500' });
  });

  it('sets none of the parameters CloudNativePG fixes itself', () => {
    for (const env of ['dev', 'staging', 'production']) {
      const set = Object.keys(clusterSpec(env).postgresql.parameters);
      expect(
        set.filter((name) => CNPG_FIXED_PARAMETERS.includes(name)),
        env,
      ).toEqual([]);
    }
  });

  it("restates the image's preload list and settings, with the platform's own getkey script", () => {
    expect(SHARED_PRELOAD_LIBRARIES).toEqual(expect.arrayContaining(['pg_cron', 'pg_net', 'pgsodium', 'supabase_vault', 'timescaledb']));
    expect(params['session_preload_libraries']).toBe('supautils');
    expect(params['pgsodium.getkey_script']).toBe(PGSODIUM_PATHS.getkey);
    expect(params['vault.getkey_script']).toBe(PGSODIUM_PATHS.getkey);
    expect(params['supautils.privileged_role']).toBe('postgres');
  });

  it('archives at least once a minute only where there is an archive', () => {
    expect(
      clusterParameters({
        memoryBytes: GB,
        cpuCores: 1,
        maxConnections: 50,
        profile: 'web',
        storageType: 'ssd',
        logMinDurationMs: -1,
        walVolumeBytes: 20 * GB,
        archiving: false,
      }).archive_timeout,
    ).toBeUndefined();
  });
});

describe('pg_hba', () => {
  const rules = pgHba().map((l) => l.split(/\s+/));

  it('admits only the login roles, only over TLS, with SCRAM, and rejects everything else', () => {
    const allowed = rules.filter((r) => r.at(-1) !== 'reject');
    expect(allowed).toEqual([['hostssl', 'all', Object.keys(LOGIN_ROLES).join(','), 'all', 'scram-sha-256']]);
    expect(rules.at(-1)).toEqual(['host', 'all', 'all', 'all', 'reject']);
  });

  it('never lets postgres or a replication connection in from the network', () => {
    expect(rules[0]).toEqual(['hostssl', 'all', 'postgres', 'all', 'reject']);
    expect(rules[1]).toEqual(['hostssl', 'replication', 'all', 'all', 'reject']);
  });
});

describe('postgres chart', () => {
  type Found = K8sObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('runs production as three instances with quorum synchronous replication and quorum failover', () => {
    const spec = find<Found>('production', 'Cluster', 'postgres').spec;
    expect(spec.instances).toBe(3);
    expect(spec.postgresql.synchronous).toEqual({ method: 'any', number: 1, dataDurability: 'required', failoverQuorum: true });
    expect(spec.affinity).toEqual({ enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' });
    expect(spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', maxSkew: 1 });
    expect(spec.walStorage).toEqual({ size: '100Gi', storageClass: 'gp3' });
    expect(spec.enableSuperuserAccess).toBe(false);
    expect(spec.switchoverDelay).toBe(60);
  });

  it('keeps dev a single instance and staging two with preferred durability', () => {
    expect(find<Found>('dev', 'Cluster', 'postgres').spec.instances).toBe(1);
    expect(find<Found>('dev', 'Cluster', 'postgres').spec.postgresql.synchronous).toBeUndefined();
    expect(find<Found>('staging', 'Cluster', 'postgres').spec.postgresql.synchronous).toMatchObject({ dataDurability: 'preferred', number: 1 });
  });

  it('gives every instance and every recovery the same pgsodium key, from one Secret', () => {
    const spec = find<Found>('production', 'Cluster', 'postgres').spec;
    expect(spec.projectedVolumeTemplate.sources[0].secret).toEqual({
      name: 'postgres-pgsodium',
      items: [{ key: 'root-key', path: 'pgsodium/root.key', mode: 0o440 }],
    });
    expect(spec.projectedVolumeTemplate.sources[1].configMap.items[0]).toEqual({ key: 'getkey.sh', path: 'pgsodium/getkey.sh', mode: 0o555 });
    expect(`${PGSODIUM_PATHS.projected}/${spec.projectedVolumeTemplate.sources[0].secret.items[0].path}`).toBe(PGSODIUM_PATHS.key);
    expect(configMapData('production', 'postgres-pgsodium-getkey')['getkey.sh']).toContain(PGSODIUM_PATHS.key);
  });

  it("maps every managed role's password to its own Secret, and every consumer reads that Secret", () => {
    for (const env of ['dev', 'production']) {
      const roles = find<Found>(env, 'Cluster', 'postgres').spec.managed.roles as { name: string; passwordSecret: { name: string } }[];
      expect(roles.map((r) => r.name).sort()).toEqual(Object.keys(LOGIN_ROLES).sort());
      for (const r of roles) expect(r.passwordSecret.name).toBe(`postgres-role-${r.name.replaceAll('_', '-')}`);
      // Every container that reads a role Secret's password logs in as that role.
      const secretOf = new Map(roles.map((r) => [r.passwordSecret.name, r.name]));
      const containers = objectsOf(env).flatMap((l) => {
        const o = l.object as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        const t = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
        return t
          ? [...(t.initContainers ?? []), ...t.containers].map(
              (c: { env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] }) => ({
                name: `${o.metadata.name}`,
                env: c.env ?? [],
              }),
            )
          : [];
      });
      let checked = 0;
      for (const c of containers) {
        for (const e of c.env) {
          const role = e.valueFrom?.secretKeyRef && secretOf.get(e.valueFrom.secretKeyRef.name);
          if (!role || e.valueFrom!.secretKeyRef!.key !== 'password') continue;
          checked++;
          const says = c.env.map((x) => x.value ?? '').join(' ');
          expect(says.includes(role), `${env} ${c.name} reads ${role}'s password but names another role`).toBe(true);
        }
      }
      expect(checked).toBeGreaterThan(5);
    }
  });

  it('gives the supabase_admin password only to the pods that need it', () => {
    const readers = objectsOf('production').flatMap((l) => {
      const text = JSON.stringify(l.object);
      // The operator-job policy names it too: it pins the recovery check's reference to it.
      return !['Cluster', 'ExternalSecret', 'ClusterPolicy'].includes(l.object.kind) && text.includes('"postgres-role-supabase-admin"')
        ? [`${l.object.kind}/${l.object.metadata.name}`]
        : [];
    });
    expect(readers.sort()).toEqual([
      'CronJob/postgres-restore-drill',
      'Deployment/meta',
      'Deployment/realtime',
      'Job/postgres-bootstrap',
      'Job/postgres-recovery-check',
    ]);
  });

  it('gets role passwords from External Secrets outside dev, typed and labelled for the operator', () => {
    expect(tryFind('dev', 'ExternalSecret', 'postgres-role-authenticator')).toBeUndefined();
    const es = find<Found>('production', 'ExternalSecret', 'postgres-role-authenticator');
    expect(es.spec.target).toMatchObject({ name: 'postgres-role-authenticator', creationPolicy: 'Orphan', deletionPolicy: 'Retain' });
    expect(es.spec.target.template).toEqual({ mergePolicy: 'Merge', type: 'kubernetes.io/basic-auth', metadata: { labels: { 'cnpg.io/reload': 'true' } } });
    expect(es.spec.data.map((d: { secretKey: string }) => d.secretKey).sort()).toEqual(['password', 'username']);
  });

  it('admits on 5432 only labelled clients, the other instances, the poolers and the operator', () => {
    const np = find<Found>('staging', 'NetworkPolicy', 'postgres');
    expect(np.spec.podSelector.matchLabels).toEqual({ 'cnpg.io/cluster': 'postgres', 'cnpg.io/podRole': 'instance' });
    const pg = np.spec.ingress.find((r: { ports: { port: number }[] }) => r.ports[0]!.port === 5432);
    expect(pg.from.map((p: { podSelector: { matchLabels: Record<string, string> } }) => p.podSelector.matchLabels)).toEqual([
      { 'access.supabase-platform/postgres': 'true' },
      { 'cnpg.io/cluster': 'postgres', 'cnpg.io/podRole': 'instance' },
      { 'cnpg.io/poolerName': 'postgres-pooler-rw' },
      { 'cnpg.io/poolerName': 'postgres-pooler-ro' },
      { 'app.kubernetes.io/name': 'cloudnative-pg' },
    ]);
  });

  it('puts rw and ro PgBouncer poolers in transaction mode with bounded server connections and TLS', () => {
    const rw = find<Found>('production', 'Pooler', 'postgres-pooler-rw').spec;
    expect(rw).toMatchObject({ type: 'rw', instances: 3, cluster: { name: 'postgres' } });
    expect(rw.pgbouncer.poolMode).toBe('transaction');
    expect(rw.pgbouncer.parameters).toMatchObject({ default_pool_size: '15', max_db_connections: '15', client_tls_sslmode: 'require' });
    // The operator's webhook refuses any parameter outside its allow-list.
    expect(Object.keys(rw.pgbouncer.parameters).filter((p) => !PGBOUNCER_ALLOWED_PARAMETERS.includes(p))).toEqual([]);
    expect(rw.pgbouncer.pg_hba).toEqual(['hostssl all defi_app all scram-sha-256', 'host all all all reject']);
    expect(find<Found>('production', 'Pooler', 'postgres-pooler-ro').spec.type).toBe('ro');
    expect(tryFind('dev', 'Pooler', 'postgres-pooler-ro')).toBeUndefined();
    const cert = find<Found>('production', 'Certificate', 'postgres-server-tls').spec;
    expect(cert.dnsNames).toEqual(
      expect.arrayContaining(['postgres-rw.supabase.svc', 'postgres-pooler-rw.supabase.svc.cluster.local', 'postgres-pooler-ro.supabase.svc']),
    );
  });

  it('archives to the object store in another region in production, and not at all in dev', () => {
    const spec = find<Found>('production', 'Cluster', 'postgres').spec;
    expect(spec.plugins).toEqual([{ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'postgres-store' } }]);
    const store = find<Found>('production', 'ObjectStore', 'postgres-store').spec;
    expect(store.configuration.destinationPath).toBe('s3://defi-production-pg-backups/production');
    expect(store.configuration.wal).toMatchObject({ compression: 'gzip', encryption: 'AES256' });
    expect(find<Found>('dev', 'Cluster', 'postgres').spec.plugins).toBeUndefined();
    expect(tryFind('dev', 'ObjectStore', 'postgres-store')).toBeUndefined();
  });
});
