// The backup chart's wiring that the script tests cannot see: which volumes the snapshot CronJob
// covers and what it may do in the API, PostgreSQL's scheduled backups, and the Redis snapshot's
// off-site step. The scripts themselves run in tests/integration.
import { describe, expect, it } from 'vitest';
import { quantity } from '../../lib/quantity';
import { environments, find, objectsOf } from '../helpers';
import type { K8sObject } from '../../checks/objects';

interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
}
interface PodSpec {
  containers: Container[];
  volumes?: {
    name: string;
    ephemeral?: { volumeClaimTemplate: { spec: { resources: { requests: { storage: string } } } } };
    persistentVolumeClaim?: { claimName: string };
  }[];
  automountServiceAccountToken?: boolean;
  affinity?: unknown;
}

const cronPod = (o: K8sObject) => (o.spec as { jobTemplate: { spec: { template: { spec: PodSpec } } } }).jobTemplate.spec.template.spec;
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

describe.each(environments())('%s', (name, env) => {
  const objects = objectsOf(name).map((l) => l.object);

  describe('volume snapshots', () => {
    const job = find(name, 'CronJob', 'volume-snapshots');
    const container = cronPod(job).containers[0]!;
    const vars = envOf(container);
    const targets = vars.SNAPSHOT_TARGETS!.split(' ');

    it('snapshots Prometheus, Grafana, Loki and the Storage files volume where there is one: each an existing claim', () => {
      const claimsOf = (o: K8sObject) =>
        o.kind === 'StatefulSet'
          ? ((o.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? []).map(
              (t) => `${o.metadata.namespace}/${t.metadata.name}-${o.metadata.name}-0`,
            )
          : o.kind === 'PersistentVolumeClaim'
            ? [`${o.metadata.namespace}/${o.metadata.name}`]
            : [];
      const existing = new Set(objects.flatMap(claimsOf));
      for (const target of targets) expect(existing, `${target} is a claim of the platform`).toContain(target);
      const stores = targets.map((t) => t.split('/')[1]);
      expect(stores).toEqual(expect.arrayContaining(['data-prometheus-0', 'data-grafana-0', 'data-loki-0']));
      expect(stores.includes('storage-files')).toBe(env.supabase.storageBackend.kind === 'file');
      // The database and Redis have their own backups; their volumes are not snapshotted here.
      expect(stores.some((s) => /postgres|redis/.test(s!))).toBe(false);
    });

    it('uses the environment class and retention', () => {
      expect(vars.SNAPSHOT_CLASS).toBe(env.storage.snapshotClassName);
      expect(vars.SNAPSHOT_RETAIN_COUNT).toBe(String(env.backup.volumeSnapshots.retainCount));
      expect((job.spec as { schedule: string }).schedule).toBe(env.backup.volumeSnapshots.schedule);
    });

    it('may read claims and manage VolumeSnapshots in the target namespaces, nothing else', () => {
      expect(cronPod(job).automountServiceAccountToken).toBe(true);
      const namespaces = [...new Set(targets.map((t) => t.split('/')[0]))].sort();
      const roles = objects.filter((o) => o.kind === 'Role' && o.metadata.name === 'volume-snapshots');
      expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(namespaces);
      for (const role of roles) {
        expect((role as unknown as { rules: unknown[] }).rules).toEqual([
          { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get'] },
          { apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
        ]);
      }
      expect(objects.some((o) => o.kind === 'ClusterRole' && o.metadata.name === 'volume-snapshots')).toBe(false);
    });
  });

  describe('PostgreSQL backups', () => {
    const scheduled = objects.filter((o) => o.kind === 'ScheduledBackup') as (K8sObject & { spec: Record<string, unknown> })[];

    it('takes a daily base backup to the object store where there is one, from a standby when there is one', () => {
      if (!env.backup.objectStore) {
        expect(scheduled).toEqual([]);
        return;
      }
      const daily = scheduled.find((o) => o.metadata.name === 'postgres-daily')!;
      expect(daily.spec).toMatchObject({
        cluster: { name: 'postgres' },
        method: 'plugin',
        pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' },
        target: 'prefer-standby',
        immediate: true,
      });
      // CloudNativePG's schedules have seconds first: "0 2 * * *" runs at 02:00:00.
      expect(daily.spec.schedule).toBe(`0 ${env.backup.baseBackup.schedule}`);
    });

    it('takes volume-snapshot backups where the environment asks, with the snapshot class the Cluster names', () => {
      const snapshots = scheduled.find((o) => o.metadata.name === 'postgres-snapshots');
      if (!env.backup.postgresSnapshots) {
        expect(snapshots).toBeUndefined();
        return;
      }
      expect(snapshots!.spec).toMatchObject({ method: 'volumeSnapshot', schedule: `0 ${env.backup.postgresSnapshots.schedule}` });
      const cluster = find(name, 'Cluster', 'postgres').spec as { backup: { volumeSnapshot: { className: string } } };
      expect(cluster.backup.volumeSnapshot.className).toBe(env.storage.snapshotClassName);
    });

    it('ships no home-made PostgreSQL backup path', () => {
      const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
      for (const gone of [
        'Deployment/postgres-wal-stream',
        'CronJob/postgres-base-backup',
        'CronJob/postgres-logical-dump',
        'StatefulSet/postgres',
        'Job/postgres-restore',
      ])
        expect(names).not.toContain(gone);
    });
  });

  it('copies Redis snapshots off site after each snapshot, where there is an off-site bucket', () => {
    const pod = cronPod(find(name, 'CronJob', 'redis-backup'));
    const steps = [...((pod as PodSpec & { initContainers?: Container[] }).initContainers ?? []), ...pod.containers].map((c) => c.name);
    expect(steps).toEqual(env.backup.offsite ? ['redis-backup', 'offsite-copy'] : ['redis-backup']);
  });

  it("gives the Redis backup and restore Jobs the memory of Redis's whole dataset (each loads the snapshot into a scratch redis-server)", () => {
    const dataset = quantity(env.components.redis.resources.limits.memory);
    const restore = find(name, 'Job', 'redis-restore');
    const pods = [cronPod(find(name, 'CronJob', 'redis-backup')), (restore.spec as { template: { spec: PodSpec } }).template.spec];
    type Sized = Container & { resources: { requests: { memory: string }; limits: { memory: string } } };
    const loaders = pods.map(
      (pod) =>
        [...((pod as PodSpec & { initContainers?: Container[] }).initContainers ?? []), ...pod.containers].find(
          (c) => c.name === 'redis-backup' || c.name === 'redis-restore',
        ) as Sized,
    );
    expect(loaders.map((c) => c?.name)).toEqual(['redis-backup', 'redis-restore']);
    for (const { name: step, resources } of loaders) {
      expect(quantity(resources.requests.memory), `${step} memory request`).toBeGreaterThanOrEqual(dataset);
      expect(quantity(resources.limits.memory), `${step} memory limit`).toBeGreaterThanOrEqual(dataset);
    }
  });
});
