// The backup chart's wiring that the script tests cannot see: which volumes the snapshot CronJob
// covers and what it may do in the API, and how the restore drill and the canary writer are
// mounted and connected. The scripts themselves run in tests/integration.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from '../../environments';
import { parseEnvironment } from '../../environments/schema';
import { objectsOf } from '../helpers';
import type { K8sObject } from '../policy/objects';

interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
}
interface PodSpec {
  containers: Container[];
  volumes?: { name: string; ephemeral?: { volumeClaimTemplate: { spec: { resources: { requests: { storage: string } } } } }; persistentVolumeClaim?: { claimName: string } }[];
  automountServiceAccountToken?: boolean;
  affinity?: unknown;
}

const find = (env: string, kind: string, name: string, namespace?: string): K8sObject => {
  const found = objectsOf(env).find((l) => l.object.kind === kind && l.object.metadata.name === name && (namespace === undefined || l.object.metadata.namespace === namespace));
  if (!found) throw new Error(`${env} has no ${kind} ${namespace ?? '*'}/${name}`);
  return found.object;
};
const cronPod = (o: K8sObject) => (o.spec as { jobTemplate: { spec: { template: { spec: PodSpec } } } }).jobTemplate.spec.template.spec;
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

describe.each(ENVIRONMENTS.map((input) => [input.name, parseEnvironment(input)] as const))('%s', (name, env) => {
  const objects = objectsOf(name).map((l) => l.object);

  describe('volume snapshots', () => {
    const job = find(name, 'CronJob', 'volume-snapshots');
    const container = cronPod(job).containers[0]!;
    const vars = envOf(container);
    const targets = vars.SNAPSHOT_TARGETS!.split(' ');

    it('snapshots Prometheus, Grafana, Loki and the Storage files volume where there is one: each an existing claim', () => {
      const claimsOf = (o: K8sObject) =>
        o.kind === 'StatefulSet'
          ? ((o.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? []).map((t) => `${o.metadata.namespace}/${t.metadata.name}-${o.metadata.name}-0`)
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

  describe('restore drill', () => {
    const pod = cronPod(find(name, 'CronJob', 'postgres-restore-drill'));
    const container = pod.containers[0]!;

    it('restores into a scratch volume as big as the database, which lives and dies with the pod', () => {
      const scratch = pod.volumes!.find((v) => v.name === 'scratch')!;
      expect(scratch.ephemeral?.volumeClaimTemplate.spec.resources.requests.storage).toBe(env.storage.sizes.postgres);
      expect(envOf(container).DRILL_DATA).toMatch(new RegExp(`^${container.volumeMounts!.find((m) => m.name === 'scratch')!.mountPath}/`));
      expect(envOf(container).DRILL_MAX_RTO_SECONDS).toBe(String(env.backup.drill.maxRtoMinutes * 60));
    });

    it('reads the backup volume read-only and writes only its status folder', () => {
      const onBackups = container.volumeMounts!.filter((m) => m.name === 'backups');
      expect(onBackups).toEqual([
        { name: 'backups', mountPath: '/backups', readOnly: true },
        { name: 'backups', mountPath: '/backups/status', subPath: 'status' },
      ]);
      expect(pod.affinity, 'runs beside the WAL streamer, which holds the ReadWriteOnce volume').toBeDefined();
    });

    it('reaches only the database', () => {
      const policy = find(name, 'NetworkPolicy', 'postgres-restore-drill').spec as { ingress?: unknown[]; egress: { ports?: { port: number }[] }[] };
      expect(policy.ingress ?? []).toEqual([]);
      const ports = policy.egress.flatMap((r) => (r.ports ?? []).map((p) => p.port));
      expect(ports).toEqual(expect.arrayContaining([5432]));
      expect(ports.filter((p) => p !== 5432 && p !== 53)).toEqual([]);
    });
  });

  it('runs the canary writer beside the WAL streamer, as the backup role', () => {
    const deployment = find(name, 'Deployment', 'postgres-wal-stream');
    const canary = (deployment.spec as { template: { spec: PodSpec } }).template.spec.containers.find((c) => c.name === 'backup-canary')!;
    expect(envOf(canary).PGUSER).toBe('platform_backup');
    expect(Number(envOf(canary).CANARY_INTERVAL_SECONDS)).toBe(60);
  });
});
