// `restore`: argument rules, the objects it would send (the filled-in recovery Cluster and its
// check Job for postgres, the restore Job for redis; nothing else changed), and that --apply sends
// exactly those and printing sends nothing.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ObjectAccess } from '../../cli/kube';
import { parseRestoreArgs, restoreCommand, restoreObjects } from '../../cli/restore';
import { objectsOf, renderedManifests } from '../helpers';

type Obj = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const NAMES = ['dev', 'staging', 'production'];
const NOW = new Date('2026-11-27T14:05:09.123Z');
const envOf = (job: Obj) => Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: Obj) => [e.name, e.value ?? e.valueFrom]));
const onDemand = (env: string) => new Map([...renderedManifests().get(env)!].filter(([f]) => f.startsWith('on-demand/')));

describe('restore arguments', () => {
  it('refuses what cannot be restored, saying what to write', () => {
    expect(() => parseRestoreArgs(['--env', 'qa', '--store', 'postgres'], NAMES)).toThrow(
      "option '--env <name>' argument 'qa' is invalid. Allowed choices are dev, staging, production.",
    );
    expect(() => parseRestoreArgs(['--env', 'dev', '--store', 'mysql'], NAMES)).toThrow(
      "option '--store <name>' argument 'mysql' is invalid. Allowed choices are postgres, redis.",
    );
    expect(() => parseRestoreArgs(['--env', 'staging', '--store', 'postgres', '--to', 'yesterday'], NAMES)).toThrow(
      '--to yesterday: write "latest", an RFC 3339 time with its offset',
    );
    expect(() => parseRestoreArgs(['--env', 'staging', '--store', 'postgres', '--to', '2026-11-27T14:05:00'], NAMES)).toThrow('with its offset');
    expect(() => parseRestoreArgs(['--env', 'staging', '--store', 'postgres', '--to', '2026-13-45T99:05:00Z'], NAMES)).toThrow('RFC 3339');
    expect(() => parseRestoreArgs(['--env', 'staging', '--store', 'postgres', '--backup', '20261127T020000Z'], NAMES)).toThrow(
      '--backup 20261127T020000Z: postgres recovers from the newest base backup that reaches the target: choose the target with --to',
    );
    expect(() => parseRestoreArgs(['--env', 'staging', '--store', 'postgres', '--force'], NAMES)).toThrow('never overwrites anything');
    expect(() => parseRestoreArgs(['--env', 'dev', '--store', 'redis', '--to', 'latest'], NAMES)).toThrow('--to latest: Redis restores a whole snapshot');
    expect(() => parseRestoreArgs(['--env', 'dev', '--store', 'redis', '--backup', '../etc'], NAMES)).toThrow('name a snapshot as listed');
  });

  it('defaults to the end of the archive for postgres and the newest snapshot for redis, print only', () => {
    expect(parseRestoreArgs(['--env', 'staging', '--store', 'postgres'], NAMES)).toEqual({
      env: 'staging',
      store: 'postgres',
      target: { kind: 'latest' },
      force: false,
      apply: false,
    });
    expect(parseRestoreArgs(['--env', 'staging', '--store', 'postgres', '--to', '0/5000a60'], NAMES).target).toEqual({ kind: 'lsn', lsn: '0/5000A60' });
    expect(parseRestoreArgs(['--env', 'dev', '--store', 'redis'], NAMES)).toEqual({ env: 'dev', store: 'redis', backup: 'latest', force: false, apply: false });
  });
});

describe('restore objects', () => {
  it('writes a NEW recovery Cluster with the target, and a check Job for it, changing nothing else', () => {
    const request = parseRestoreArgs(['--env', 'production', '--store', 'postgres', '--to', '2026-11-27T14:05:00Z'], NAMES);
    const [cluster, job] = restoreObjects(onDemand('production'), request, NOW) as Obj[];
    const template = parse(onDemand('production').get('on-demand/Cluster.supabase.postgres-recovery.yaml')!);
    expect(cluster.metadata.name).toBe('postgres-recovery');
    // Not the name of any Cluster the environment syncs: applying it can never replace the running database.
    const synced = objectsOf('production')
      .filter((l) => l.object.kind === 'Cluster' && !l.file.startsWith('on-demand/'))
      .map((l) => l.object.metadata.name);
    expect(synced).toContain('postgres');
    expect(synced).not.toContain(cluster.metadata.name);
    expect(cluster.spec.bootstrap.recovery).toEqual({ source: 'origin', recoveryTarget: { targetTime: '2026-11-27T14:05:00Z' } });
    expect({ ...cluster.spec, bootstrap: undefined }).toEqual({ ...template.spec, bootstrap: undefined });
    // It reads the production archive and writes none: no WAL archiver.
    expect(cluster.spec.plugins).toBeUndefined();
    expect(cluster.spec.externalClusters[0].plugin.parameters).toEqual({ barmanObjectName: 'postgres-store', serverName: 'postgres' });
    expect(job.metadata.name).toBe('postgres-recovery-check-20261127t140509');
    expect(envOf(job)).toMatchObject({
      RECOVERY_TARGET: '2026-11-27T14:05:00Z',
      PGHOST: 'postgres-recovery-rw.supabase.svc.cluster.local',
      PGSSLMODE: 'verify-full',
    });
    const lsn = restoreObjects(onDemand('production'), parseRestoreArgs(['--env', 'production', '--store', 'postgres', '--to', '1/ABC'], NAMES), NOW) as Obj[];
    expect(lsn[0].spec.bootstrap.recovery.recoveryTarget).toEqual({ targetLSN: '1/ABC' });
    const latest = restoreObjects(onDemand('production'), parseRestoreArgs(['--env', 'production', '--store', 'postgres'], NAMES), NOW) as Obj[];
    expect(latest[0].spec.bootstrap.recovery).toEqual({ source: 'origin' });
    expect(envOf(latest[1]).RECOVERY_TARGET).toBe('latest');
  });

  it('says dev has nothing to recover PostgreSQL from', () => {
    expect(() => restoreObjects(onDemand('dev'), parseRestoreArgs(['--env', 'dev', '--store', 'postgres'], NAMES), NOW)).toThrow(
      'dev has no object store (backup.objectStore)',
    );
  });

  it('names a Redis snapshot by its file', () => {
    const [job] = restoreObjects(onDemand('dev'), parseRestoreArgs(['--env', 'dev', '--store', 'redis', '--backup', '20261127T020000Z'], NAMES), NOW) as Obj[];
    expect(envOf(job)).toMatchObject({ RESTORE_SNAPSHOT: '20261127T020000Z.rdb', RESTORE_FORCE: 'false', REDIS_DATA: '/data' });
    expect(job.spec.template.spec.volumes.map((v: Obj) => v.persistentVolumeClaim?.claimName).filter(Boolean)).toEqual(['postgres-backups', 'data-redis-0']);
  });

  it('prints without touching a cluster, and applies exactly the objects with --apply', async () => {
    const lines: string[] = [];
    const notes: string[] = [];
    await restoreCommand(
      ['--env', 'staging', '--store', 'postgres'],
      () => {
        throw new Error('no cluster when printing');
      },
      (l) => lines.push(l),
      (l) => notes.push(l),
    );
    const printed = lines.map((l) => parse(l.replace(/^---\n/, '')));
    expect(printed.map((o) => o.kind)).toEqual(['Cluster', 'Job']);
    expect(notes.join('\n')).toMatch(/NEW Cluster postgres-recovery.*The running Cluster is not touched/);

    const applied: Obj[] = [];
    const cluster: Pick<ObjectAccess, 'apply'> = { apply: (o) => (applied.push(o), Promise.resolve()) };
    await restoreCommand(
      ['--env', 'dev', '--store', 'redis', '--apply'],
      () => cluster,
      () => undefined,
      () => undefined,
    );
    expect(applied).toHaveLength(1);
    expect(applied[0].metadata.name).toMatch(/^redis-restore-\d{8}t\d{6}$/);
  });
});
