// `restore`: argument rules, the Job it would send (filled-in template, fresh name, nothing else
// changed), and that --apply sends exactly that and printing sends nothing.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ObjectAccess } from '../../cli/kube';
import { parseRestoreArgs, restoreCommand, restoreJob } from '../../cli/restore';
import { renderedManifests } from '../helpers';

type Obj = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const NAMES = ['dev', 'staging', 'production'];
const NOW = new Date('2026-11-27T14:05:09.123Z');
const envOf = (job: Obj) => Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: Obj) => [e.name, e.value ?? e.valueFrom]));

describe('restore arguments', () => {
  it('refuses what cannot be restored, saying what to write', () => {
    expect(() => parseRestoreArgs(['--env', 'qa', '--store', 'postgres'], NAMES)).toThrow('--env must be one of dev, staging, production');
    expect(() => parseRestoreArgs(['--env', 'dev', '--store', 'mysql'], NAMES)).toThrow('--store must be one of postgres, redis');
    expect(() => parseRestoreArgs(['--env', 'dev', '--store', 'postgres', '--time', '2026-11-27T14:05:00Z', '--restore-point', 'x'], NAMES)).toThrow('not both');
    expect(() => parseRestoreArgs(['--env', 'dev', '--store', 'postgres', '--time', 'yesterday'], NAMES)).toThrow('write an ISO 8601 time with its offset');
    expect(() => parseRestoreArgs(['--env', 'dev', '--store', 'postgres', '--time', '2026-11-27T14:05:00'], NAMES)).toThrow('with its offset');
    expect(() => parseRestoreArgs(['--env', 'dev', '--store', 'redis', '--time', '2026-11-27T14:05:00Z'], NAMES)).toThrow('Redis restores a whole snapshot');
    expect(() => parseRestoreArgs(['--env', 'dev', '--store', 'postgres', '--backup', '../etc'], NAMES)).toThrow('name a backup as listed');
  });

  it('defaults to the latest backup, no target, no force, print only', () => {
    expect(parseRestoreArgs(['--env', 'dev', '--store', 'postgres'], NAMES)).toEqual({ env: 'dev', store: 'postgres', backup: 'latest', force: false, apply: false });
  });
});

describe('restore Job', () => {
  const onDemand = (env: string) => new Map([...renderedManifests().get(env)!].filter(([f]) => f.startsWith('on-demand/')));

  it('fills the Postgres template with the target and a fresh name, changing nothing else', () => {
    const request = parseRestoreArgs(['--env', 'production', '--store', 'postgres', '--time', '2026-11-27T14:05:00Z', '--force'], NAMES);
    const job = restoreJob(onDemand('production'), request, NOW) as Obj;
    expect(job.metadata.name).toBe('postgres-restore-20261127t140509');
    expect(envOf(job)).toMatchObject({ RESTORE_BACKUP: 'latest', RESTORE_TARGET_TIME: '2026-11-27T14:05:00Z', RESTORE_TARGET_NAME: '', RESTORE_FORCE: 'true', PGDATA: '/var/lib/postgresql/data/pgdata' });
    const template = parse(onDemand('production').get('on-demand/Job.supabase.postgres-restore.yaml')!);
    expect({ ...job.spec, template: { ...job.spec.template, spec: { ...job.spec.template.spec, containers: [] } } }).toEqual({
      ...template.spec,
      template: { ...template.spec.template, spec: { ...template.spec.template.spec, containers: [] } },
    });
    expect(job.spec.template.spec.volumes.map((v: Obj) => v.persistentVolumeClaim?.claimName).filter(Boolean)).toEqual(['postgres-backups', 'data-postgres-0']);
  });

  it('names a Redis snapshot by its file', () => {
    const job = restoreJob(onDemand('dev'), parseRestoreArgs(['--env', 'dev', '--store', 'redis', '--backup', '20261127T020000Z'], NAMES), NOW) as Obj;
    expect(envOf(job)).toMatchObject({ RESTORE_SNAPSHOT: '20261127T020000Z.rdb', RESTORE_FORCE: 'false', REDIS_DATA: '/data' });
    expect(job.spec.template.spec.volumes.map((v: Obj) => v.persistentVolumeClaim?.claimName).filter(Boolean)).toEqual(['postgres-backups', 'data-redis-0']);
  });

  it('prints without touching a cluster, and applies exactly the Job with --apply', async () => {
    const lines: string[] = [];
    const notes: string[] = [];
    await restoreCommand(['--env', 'dev', '--store', 'postgres'], () => {
      throw new Error('no cluster when printing');
    }, (l) => lines.push(l), (l) => notes.push(l));
    expect(parse(lines.join('\n').replace(/^---\n/, ''))).toMatchObject({ kind: 'Job', metadata: { namespace: 'supabase' } });
    expect(notes.join('\n')).toMatch(/scale statefulset\/postgres --replicas=0/);

    const applied: Obj[] = [];
    const cluster: Pick<ObjectAccess, 'apply'> = { apply: (o) => (applied.push(o), Promise.resolve()) };
    await restoreCommand(['--env', 'dev', '--store', 'redis', '--apply'], () => cluster, () => undefined, () => undefined);
    expect(applied).toHaveLength(1);
    expect(applied[0].metadata.name).toMatch(/^redis-restore-\d{8}t\d{6}$/);
  });
});
