// The volume snapshot CronJob's script (snapshot-volumes.sh from the synthesised ConfigMap), run
// with `sh` against a fake `kubectl`: no API server can run here. The fake keeps claims and
// VolumeSnapshots as JSON files in a state folder, plays the snapshot controller (a created
// snapshot becomes ready when waited for, unless told to fail) and understands exactly the
// invocations the script makes; anything else exits non-zero, so the script cannot quietly start
// relying on something the fake does not model. Every VolumeSnapshot the script creates is checked
// against the external-snapshotter CRD schema, and its name and labels as the API server would.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SCRIPTS_CONFIG_MAP } from '../../charts/backup/layout';
import { configMapData, ROOT } from '../helpers';
import type { K8sObject } from '../../checks/objects';
import { schemaErrors } from '../../checks/schema';
import { describeNeeding, program } from './tools';

const MANAGED_BY = 'app.kubernetes.io/managed-by';
const CLAIM_LABEL = 'backup.supabase-platform/claim';
const CLASS = 'ebs-csi-snapclass';

interface ExistingSnapshot {
  claim: string;
  /** When the API server created it (metadata.creationTimestamp), RFC 3339 UTC. */
  created: string;
  ready: boolean;
  /** Being deleted (metadata.deletionTimestamp set, held by a finalizer). */
  deleting?: boolean;
  /** Labels instead of the two the script sets. */
  labels?: Record<string, string>;
  name?: string;
}

interface Call {
  argv: string[];
  stdin?: string;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ snapshot-volumes: \S/;

describeNeeding([program('sh', 'dash')], 'volume snapshots (snapshot-volumes.sh against a fake kubectl)', () => {
  const root = mkdtempSync(join(tmpdir(), 'volume-snapshots-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const script = join(root, 'snapshot-volumes.sh');
  writeFileSync(script, configMapData('production', SCRIPTS_CONFIG_MAP)['snapshot-volumes.sh']!);
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\nexec '${process.execPath}' '${join(__dirname, 'fake-kubectl.cjs')}' "$@"\n`);
  chmodSync(join(bin, 'kubectl'), 0o755);
  let clusters = 0;

  /** A fresh fake cluster with the given claims (namespace/name, Bound unless a phase is given). */
  function cluster(claims: Record<string, string> | string[], snapshots: Record<string, ExistingSnapshot[]> = {}, neverReady: Record<string, string> = {}) {
    const state = join(root, `cluster-${++clusters}`);
    const phases = Array.isArray(claims) ? Object.fromEntries(claims.map((c) => [c, 'Bound'])) : claims;
    for (const [target, phase] of Object.entries(phases)) {
      const [ns, name] = target.split('/') as [string, string];
      mkdirSync(join(state, 'pvc', ns), { recursive: true });
      const pvc = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name, namespace: ns },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
        status: { phase },
      };
      writeFileSync(join(state, 'pvc', ns, `${name}.json`), JSON.stringify(pvc));
    }
    for (const [ns, list] of Object.entries(snapshots)) {
      mkdirSync(join(state, 'volumesnapshots', ns), { recursive: true });
      for (const s of list) {
        const name = s.name ?? `${s.claim}-${s.created.replace(/[-:]/g, '').replace('T', '-').replace('Z', '')}`;
        const metadata: Record<string, unknown> = {
          name,
          namespace: ns,
          creationTimestamp: s.created,
          labels: s.labels ?? { [MANAGED_BY]: 'snapshot-volumes', [CLAIM_LABEL]: s.claim },
        };
        if (s.deleting)
          Object.assign(metadata, {
            deletionTimestamp: '2030-01-01T00:00:00Z',
            finalizers: ['snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection'],
          });
        const status = s.ready
          ? { readyToUse: true, creationTime: s.created }
          : { readyToUse: false, error: { message: 'Failed to create snapshot: quota exceeded' } };
        const obj = {
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshot',
          metadata,
          spec: { volumeSnapshotClassName: CLASS, source: { persistentVolumeClaimName: s.claim } },
          status,
        };
        writeFileSync(join(state, 'volumesnapshots', ns, `${name}.json`), JSON.stringify(obj));
      }
    }
    writeFileSync(join(state, 'config.json'), JSON.stringify({ neverReady }));
    writeFileSync(join(state, 'calls.jsonl'), '');

    const lines = (file: string) => (existsSync(join(state, file)) ? readFileSync(join(state, file), 'utf8').split('\n').filter(Boolean) : []);
    const calls = () => lines('calls.jsonl').map((l) => JSON.parse(l) as Call);
    const created = () => lines('created.jsonl').map((l) => JSON.parse(l) as K8sObject);
    /** What the API server would check on every VolumeSnapshot the script created. */
    const checkCreated = () => {
      for (const obj of created()) {
        const where = `created VolumeSnapshot ${JSON.stringify(obj)}`;
        expect(schemaErrors(obj), where).toEqual([]);
        const name = obj.metadata.name ?? '';
        expect(name, where).toMatch(DNS_SUBDOMAIN);
        expect(name.length, where).toBeLessThanOrEqual(253);
        for (const [key, value] of Object.entries(obj.metadata.labels ?? {})) {
          expect(value, `${where}: label ${key}`).toMatch(LABEL_VALUE);
          expect(value.length, `${where}: label ${key}`).toBeLessThanOrEqual(63);
        }
      }
    };
    return {
      /** Runs the script with exactly these SNAPSHOT_* variables (undefined: unset). */
      run(vars: Record<string, string | undefined>) {
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
          FAKE_KUBE_STATE: state,
          FAKE_KUBECTL_YAML: join(ROOT, 'node_modules/yaml'),
        };
        for (const key of Object.keys(env)) if (key.startsWith('SNAPSHOT_')) delete env[key];
        for (const [key, value] of Object.entries(vars)) if (value !== undefined) env[key] = value;
        const result = spawnSync('sh', [script], { encoding: 'utf8', env, timeout: 60_000 });
        const out = result.stdout + result.stderr;
        expect(out, 'the fake kubectl was asked something it does not model').not.toContain('fake kubectl: unsupported');
        for (const line of out.split('\n').filter(Boolean)) expect(line, out).toMatch(LOG_LINE);
        checkCreated();
        return { status: result.status, stdout: result.stdout, stderr: result.stderr, out };
      },
      calls,
      created,
      /** Names of the VolumeSnapshots now in `ns`, sorted. */
      snapshots: (ns: string) =>
        existsSync(join(state, 'volumesnapshots', ns))
          ? readdirSync(join(state, 'volumesnapshots', ns))
              .map((f) => f.replace(/\.json$/, ''))
              .sort()
          : [],
      snapshot: (ns: string, name: string) => JSON.parse(readFileSync(join(state, 'volumesnapshots', ns, `${name}.json`), 'utf8')) as K8sObject,
      /** Names the script deleted, in order. */
      deletions: () =>
        calls()
          .filter((c) => c.argv[0] === 'delete')
          .map((c) => (c.argv[1] === 'volumesnapshot' ? c.argv[2] : c.argv.join(' '))),
    };
  }

  const GRAFANA = 'observability/grafana-data-grafana-0';
  const STORAGE = 'supabase/storage-files';
  const env = (targets: string, retain: number, extra: Record<string, string> = {}) => ({
    SNAPSHOT_TARGETS: targets,
    SNAPSHOT_CLASS: CLASS,
    SNAPSHOT_RETAIN_COUNT: String(retain),
    ...extra,
  });
  const snap = (claim: string, created: string, ready = true, more: Partial<ExistingSnapshot> = {}): ExistingSnapshot => ({ claim, created, ready, ...more });

  it('creates one ready snapshot per target, of that claim, with the class and the two labels', () => {
    const c = cluster([GRAFANA, STORAGE, 'supabase/other-claim']);
    const result = c.run(env(`${GRAFANA} ${STORAGE}`, 3));
    expect(result.status, result.out).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('all 2 claim(s) snapshotted and pruned');

    const created = c.created();
    expect(
      created.map((o) => `${o.metadata.namespace}/${(o.spec as { source: { persistentVolumeClaimName: string } }).source.persistentVolumeClaimName}`),
    ).toEqual([GRAFANA, STORAGE]);
    for (const obj of created) {
      const claim = (obj.spec as { source: { persistentVolumeClaimName: string } }).source.persistentVolumeClaimName;
      expect(obj.apiVersion).toBe('snapshot.storage.k8s.io/v1');
      expect(obj.kind).toBe('VolumeSnapshot');
      expect(obj.metadata.name).toMatch(new RegExp(`^${claim}-\\d{8}-\\d{6}$`));
      expect(obj.metadata.labels).toEqual({ [MANAGED_BY]: 'snapshot-volumes', [CLAIM_LABEL]: claim });
      expect(obj.spec).toEqual({ volumeSnapshotClassName: CLASS, source: { persistentVolumeClaimName: claim } });
      // The UTC time in the name is now, give or take the run.
      const [, d, t] = /-(\d{8})-(\d{6})$/.exec(obj.metadata.name!)!;
      const stamp = Date.parse(`${d!.slice(0, 4)}-${d!.slice(4, 6)}-${d!.slice(6)}T${t!.slice(0, 2)}:${t!.slice(2, 4)}:${t!.slice(4)}Z`);
      expect(Math.abs(Date.now() - stamp)).toBeLessThan(120_000);
    }
    expect(c.snapshots('observability')).toEqual([created[0]!.metadata.name]);
    expect(c.snapshots('supabase')).toEqual([created[1]!.metadata.name]);
    expect(c.snapshot('supabase', created[1]!.metadata.name!).status).toMatchObject({ readyToUse: true });
    // Each was waited for with the default timeout before anything else happened to its claim.
    const waits = c.calls().filter((call) => call.argv[0] === 'wait');
    expect(waits.map((call) => call.argv)).toEqual(
      created.map((o) => expect.arrayContaining([`volumesnapshot/${o.metadata.name}`, '--timeout=600s', '-n', o.metadata.namespace])),
    );
    expect(c.deletions()).toEqual([]);
  });

  it('keeps exactly the newest ready snapshots and deletes the older ones, naming each', () => {
    const c = cluster([GRAFANA], {
      observability: [
        snap('grafana-data-grafana-0', '2020-01-01T02:00:00Z', false), // a failed leftover
        snap('grafana-data-grafana-0', '2020-01-02T02:00:00Z'),
        snap('grafana-data-grafana-0', '2020-01-03T02:00:00Z'),
        snap('grafana-data-grafana-0', '2020-01-04T02:00:00Z'),
        snap('grafana-data-grafana-0', '2020-01-05T02:00:00Z'),
        // Not this job's, or not this claim's: never touched.
        snap('loki-data-loki-0', '2019-06-01T00:00:00Z'),
        snap('grafana-data-grafana-0', '2019-06-01T00:00:00Z', true, { name: 'manual-before-upgrade', labels: { [CLAIM_LABEL]: 'grafana-data-grafana-0' } }),
      ],
    });
    const result = c.run(env(GRAFANA, 3));
    expect(result.status, result.out).toBe(0);
    const newest = c.created()[0]!.metadata.name!;
    expect(c.snapshots('observability')).toEqual(
      [
        'grafana-data-grafana-0-20200104-020000',
        'grafana-data-grafana-0-20200105-020000',
        newest,
        'loki-data-loki-0-20190601-000000',
        'manual-before-upgrade',
      ].sort(),
    );
    expect(c.deletions().sort()).toEqual([
      'grafana-data-grafana-0-20200101-020000',
      'grafana-data-grafana-0-20200102-020000',
      'grafana-data-grafana-0-20200103-020000',
    ]);
    expect(result.stdout).toMatch(/deleted snapshot observability\/grafana-data-grafana-0-20200103-020000 .*older than the 3 newest ready/);
    expect(result.stdout).toMatch(/deleted snapshot observability\/grafana-data-grafana-0-20200102-020000 .*older than the 3 newest ready/);
    expect(result.stdout).toMatch(/deleted snapshot observability\/grafana-data-grafana-0-20200101-020000 .*never became ready/);
    // Deletions ask for the deletion and do not wait for the snapshot controller's finalizers.
    for (const call of c.calls().filter((x) => x.argv[0] === 'delete')) expect(call.argv).toContain('--wait=false');
  });

  it('deletes nothing while fewer than SNAPSHOT_RETAIN_COUNT snapshots are ready', () => {
    const c = cluster([STORAGE], {
      supabase: [
        snap('storage-files', '2020-01-01T02:00:00Z', false),
        snap('storage-files', '2020-01-02T02:00:00Z'),
        snap('storage-files', '2020-01-03T02:00:00Z'),
        snap('storage-files', '2020-01-04T02:00:00Z', false),
      ],
    });
    const result = c.run(env(STORAGE, 4));
    expect(result.status, result.out).toBe(0);
    expect(c.deletions()).toEqual([]);
    expect(c.snapshots('supabase')).toHaveLength(5);
    expect(result.stdout).toContain('claim supabase/storage-files has 3 ready snapshot(s), fewer than the 4 kept: nothing deleted');
  });

  it('never deletes a snapshot newer than the oldest kept one, and ignores snapshots already being deleted', () => {
    const c = cluster([STORAGE], {
      supabase: [
        snap('storage-files', '2020-01-01T02:00:00Z'),
        snap('storage-files', '2020-01-02T02:00:00Z'),
        snap('storage-files', '2020-01-03T02:00:00Z', false), // still in progress, newer than the oldest kept
        snap('storage-files', '2020-01-04T02:00:00Z', true, { deleting: true }), // counts for nothing
      ],
    });
    const result = c.run(env(STORAGE, 2));
    expect(result.status, result.out).toBe(0);
    // Kept: the new one and 01-02 (ready); 01-03 is newer than 01-02, so it stays too.
    expect(c.deletions()).toEqual(['storage-files-20200101-020000']);
    expect(c.snapshots('supabase')).toEqual(
      expect.arrayContaining(['storage-files-20200102-020000', 'storage-files-20200103-020000', 'storage-files-20200104-020000']),
    );
    expect(result.stdout).toContain('oldest storage-files-20200102-020000');
  });

  it('reports a snapshot that never becomes ready, leaves that claim unpruned, finishes the others and exits 1', () => {
    const c = cluster(
      [GRAFANA, STORAGE],
      {
        observability: [snap('grafana-data-grafana-0', '2020-01-01T02:00:00Z'), snap('grafana-data-grafana-0', '2020-01-02T02:00:00Z')],
        supabase: [snap('storage-files', '2020-01-01T02:00:00Z'), snap('storage-files', '2020-01-02T02:00:00Z')],
      },
      { [GRAFANA]: 'Failed to check and update snapshot content: rpc error: code = Internal' },
    );
    const result = c.run(env(`${GRAFANA} ${STORAGE}`, 1, { SNAPSHOT_READY_TIMEOUT: '30' }));
    expect(result.status, result.out).toBe(1);
    const [grafanaSnapshot, storageSnapshot] = c.created().map((o) => o.metadata.name!);
    expect(result.stderr).toContain(
      `snapshot observability/${grafanaSnapshot} not ready within 30s (Failed to check and update snapshot content: rpc error: code = Internal); left in place, claim ${GRAFANA} not pruned`,
    );
    expect(result.stderr).toMatch(new RegExp(`snapshot-volumes: 1 of 2 claim\\(s\\) failed: ${GRAFANA}\n$`));
    // Nothing of Grafana's deleted, not even the unready new one; Storage pruned down to its new snapshot.
    expect(c.snapshots('observability')).toEqual([grafanaSnapshot, 'grafana-data-grafana-0-20200101-020000', 'grafana-data-grafana-0-20200102-020000'].sort());
    expect(c.snapshots('supabase')).toEqual([storageSnapshot]);
    expect(c.deletions().sort()).toEqual(['storage-files-20200101-020000', 'storage-files-20200102-020000']);
    for (const call of c.calls().filter((x) => x.argv[0] === 'wait')) expect(call.argv).toContain('--timeout=30s');
  });

  it('reports a missing claim and one not bound as failures, and still snapshots the others', () => {
    const c = cluster({ [STORAGE]: 'Bound', 'observability/loki-data-loki-0': 'Pending' });
    const result = c.run(env(`supabase/storage-filez observability/loki-data-loki-0 ${STORAGE}`, 2));
    expect(result.status, result.out).toBe(1);
    expect(result.stderr).toContain('claim supabase/storage-filez not found');
    expect(result.stderr).toContain('claim observability/loki-data-loki-0 is Pending, not Bound: nothing to snapshot');
    expect(result.stderr).toContain('2 of 3 claim(s) failed: supabase/storage-filez observability/loki-data-loki-0');
    expect(c.created().map((o) => (o.spec as { source: { persistentVolumeClaimName: string } }).source.persistentVolumeClaimName)).toEqual(['storage-files']);
  });

  const longClaim = `supabase/${'a'.repeat(64)}`;
  it.each([
    ['SNAPSHOT_RETAIN_COUNT', env(STORAGE, 0)],
    ['SNAPSHOT_RETAIN_COUNT', env(STORAGE, 3, { SNAPSHOT_RETAIN_COUNT: 'three' })],
    ['SNAPSHOT_RETAIN_COUNT', { ...env(STORAGE, 3), SNAPSHOT_RETAIN_COUNT: undefined }],
    ['SNAPSHOT_CLASS', { ...env(STORAGE, 3), SNAPSHOT_CLASS: undefined }],
    ['SNAPSHOT_CLASS', env(STORAGE, 3, { SNAPSHOT_CLASS: 'EBS_class' })],
    ['SNAPSHOT_TARGETS', { ...env(STORAGE, 3), SNAPSHOT_TARGETS: undefined }],
    ['SNAPSHOT_TARGETS', env('storage-files', 3)],
    ['SNAPSHOT_TARGETS', env(`${STORAGE} ${longClaim}`, 3)],
    ['SNAPSHOT_TARGETS', env(`${STORAGE} ${STORAGE}`, 3)],
    ['SNAPSHOT_READY_TIMEOUT', env(STORAGE, 3, { SNAPSHOT_READY_TIMEOUT: '0' })],
    ['SNAPSHOT_READY_TIMEOUT', env(STORAGE, 3, { SNAPSHOT_READY_TIMEOUT: '10m' })],
  ])('refuses bad %s with one line naming it, before calling kubectl (%j)', (variable, vars) => {
    const c = cluster([STORAGE, longClaim]);
    const result = c.run(vars);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(c.calls()).toEqual([]);
  });
});
