// `apply`: the order and the exact set of objects it would send (the repository's dist/dev/ and
// small scratch dists), dry run on every call, the prune plan and when it deletes, and the
// refusals, with a fake cluster that records every call.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { applyCommand, applyPlan, planPrune, platformSelector } from '../../cli/apply';
import { groupOf, objectKey, parseDist, readDistFiles } from '../../cli/dist';
import type { KubeObject, ObjectAccess, ObjectRef } from '../../cli/kube';
import { LAYERS } from '../../lib/layers';
import { ROOT } from '../helpers';

const NAMES = ['dev', 'staging', 'production'];

type Call =
  | { op: 'apply'; object: KubeObject; force: boolean; dryRun: boolean | undefined }
  | { op: 'list'; apiVersion: string; kind: string; labelSelector?: string }
  | { op: 'delete'; ref: ObjectRef; dryRun: boolean | undefined };

/** Records every call; `list` returns the canned objects of that kind, ignoring the selector (the plan must filter). */
function fakeCluster(live: KubeObject[] = [], fail: (o: KubeObject) => string | undefined = () => undefined) {
  const calls: Call[] = [];
  const cluster: ObjectAccess = {
    apply: (object, force, dryRun) => {
      calls.push({ op: 'apply', object: object as KubeObject, force, dryRun });
      const message = fail(object as KubeObject);
      return message ? Promise.reject(new Error(message)) : Promise.resolve();
    },
    list: (apiVersion, kind, query) => {
      calls.push({ op: 'list', apiVersion, kind, ...(query?.labelSelector ? { labelSelector: query.labelSelector } : {}) });
      return Promise.resolve(live.filter((o) => o.kind === kind && groupOf(o.apiVersion) === groupOf(apiVersion)));
    },
    delete: (ref, dryRun) => {
      calls.push({ op: 'delete', ref, dryRun });
      return Promise.resolve();
    },
  };
  const applied = () => calls.flatMap((c) => (c.op === 'apply' ? [c] : []));
  const deleted = () => calls.flatMap((c) => (c.op === 'delete' ? [c] : []));
  return { cluster, calls, applied, deleted };
}

async function run(argv: string[], root: string, cluster: ObjectAccess, render?: (env: string) => Map<string, string>) {
  const lines: string[] = [];
  const code = await applyCommand(argv, { root, envNames: NAMES, cluster: () => cluster, out: (l) => lines.push(l), ...(render ? { render } : {}) });
  return { code, lines };
}

const labels = (env: string, extra: Record<string, string> = {}) => ({
  'app.kubernetes.io/part-of': 'supabase-platform',
  'app.kubernetes.io/instance': env,
  ...extra,
});
const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
  metadata: Partial<KubeObject['metadata']> = {},
  rest: Record<string, unknown> = {},
): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}), labels: labels('dev'), ...metadata },
  ...rest,
});

/** A scratch repository root whose dist/dev/ holds the given objects (path -> object). */
function scratchRoot(files: Record<string, KubeObject>): string {
  const root = mkdtempSync(join(tmpdir(), 'cli-apply-'));
  for (const [file, object] of Object.entries(files)) {
    mkdirSync(join(root, 'dist', 'dev', file.split('/')[0]!), { recursive: true });
    writeFileSync(join(root, 'dist', 'dev', file), `# test\n${stringify(object)}`);
  }
  return root;
}

const SCRATCH: Record<string, KubeObject> = {
  'foundation/Namespace.supabase.yaml': obj('v1', 'Namespace', 'supabase', undefined, {
    annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' },
  }),
  'data/ConfigMap.supabase.postgres-config.yaml': obj('v1', 'ConfigMap', 'postgres-config', 'supabase'),
  'data/StatefulSet.supabase.postgres.yaml': obj(
    'apps/v1',
    'StatefulSet',
    'postgres',
    'supabase',
    {},
    { spec: { volumeClaimTemplates: [{ metadata: { name: 'data' } }] } },
  ),
  'backup/PersistentVolumeClaim.supabase.postgres-backups.yaml': obj('v1', 'PersistentVolumeClaim', 'postgres-backups', 'supabase'),
  'backup/Service.supabase.backup.yaml': obj('v1', 'Service', 'backup', 'supabase'),
  'on-demand/Job.supabase.postgres-restore.yaml': obj('batch/v1', 'Job', 'postgres-restore', 'supabase'),
};

describe("apply order and contents, on the repository's dist/dev/", () => {
  const dist = parseDist(readDistFiles(ROOT, 'dev'), 'dev');
  const layerObjects = dist.filter((d) => d.folder !== 'on-demand');

  it('applies every layer object exactly once by server-side apply without force, and nothing from on-demand/', async () => {
    const fake = fakeCluster();
    const { code, lines } = await run(['--env', 'dev'], ROOT, fake.cluster);
    expect(code).toBe(0);
    const sent = fake.applied().map((c) => objectKey(c.object));
    expect(sent).toHaveLength(layerObjects.length);
    expect(new Set(sent)).toEqual(new Set(layerObjects.map((d) => objectKey(d.object))));
    const onDemand = dist.filter((d) => d.folder === 'on-demand').map((d) => objectKey(d.object));
    expect(onDemand.length).toBeGreaterThan(0);
    expect(sent.filter((k) => onDemand.includes(k))).toEqual([]);
    expect(fake.applied().every((c) => c.force === false && !c.dryRun)).toBe(true);
    // The committed bytes are sent as parsed, not re-rendered.
    const rollout = fake.applied().find((c) => c.object.kind === 'Rollout')!.object;
    expect(rollout).toEqual(parse(readDistFiles(ROOT, 'dev').get('app/Rollout.app.api.yaml')!));
    expect(lines.filter((l) => /^wave \d+ /.test(l))).toHaveLength(new Set(layerObjects.map((d) => d.folder)).size);
    expect(lines.some((l) => l.includes('failed'))).toBe(false);
  });

  it('applies layer by layer in sync-wave order, and inside a layer by wave annotation then kind', async () => {
    const fake = fakeCluster();
    await run(['--env', 'dev'], ROOT, fake.cluster);
    const folderOf = new Map(dist.map((d) => [objectKey(d.object), d.folder]));
    const sequence = fake.applied().map((c) => LAYERS.indexOf(folderOf.get(objectKey(c.object)) as (typeof LAYERS)[number]));
    expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    expect(sequence[0]).toBe(LAYERS.indexOf('foundation'));
    const kinds = fake.applied().map((c) => c.object.kind);
    expect(kinds[0]).toBe('Namespace');
    const order = fake.applied().map((c) => `${folderOf.get(objectKey(c.object))}/${c.object.kind}/${c.object.metadata.name}`);
    const at = (prefix: string) => order.findIndex((o) => o.startsWith(prefix));
    expect(at('foundation/')).toBeLessThan(at('data/'));
    expect(at('data/')).toBeLessThan(at('supabase/'));
    expect(at('gateway/')).toBeLessThan(at('app/'));
    // The api Rollout carries sync-wave 1 inside the app layer: after the app's Deployments and Services.
    expect(at('app/Rollout/api')).toBeGreaterThan(at('app/Deployment/worker'));
    expect(at('app/ServiceAccount/')).toBeLessThan(at('app/Deployment/'));
  });

  it('passes dryRun to every call with --dry-run, and says it is a dry run', async () => {
    const fake = fakeCluster([obj('v1', 'ConfigMap', 'gone', 'supabase')]);
    const { code, lines } = await run(['--env', 'dev', '--dry-run', '--prune'], ROOT, fake.cluster);
    expect(code).toBe(0);
    expect(fake.applied().length).toBe(layerObjects.length);
    expect(fake.applied().every((c) => c.dryRun === true)).toBe(true);
    expect(fake.deleted().map((c) => [c.ref.name, c.dryRun])).toEqual([['gone', true]]);
    expect(lines.filter((l) => /^wave /.test(l)).every((l) => l.includes('(server dry run)'))).toBe(true);
  });

  it('applies only one layer with --layer', async () => {
    const fake = fakeCluster();
    await run(['--env', 'dev', '--layer', 'data'], ROOT, fake.cluster);
    const data = dist.filter((d) => d.folder === 'data').map((d) => objectKey(d.object));
    expect(
      fake
        .applied()
        .map((c) => objectKey(c.object))
        .sort(),
    ).toEqual([...data].sort());
  });

  it('puts a later sync-wave annotation before kind order, and kind order before name', () => {
    const wave = (w: string) => ({ annotations: { 'argocd.argoproj.io/sync-wave': w } });
    const objects = [
      obj('v1', 'ConfigMap', 'a-late', 'app', wave('1')),
      obj('v1', 'Service', 'd', 'app'),
      obj('apps/v1', 'Deployment', 'b', 'app'),
      obj('v1', 'Service', 'c', 'app'),
      obj('argoproj.io/v1alpha1', 'AnalysisTemplate', 'a-custom', 'app'),
      obj('v1', 'ServiceAccount', 'z-early', 'app', wave('-1')),
    ].map((object) => ({ file: `app/${object.kind}.${object.metadata.name}.yaml`, folder: 'app' as const, object }));
    expect(applyPlan(objects)[0]!.objects.map((o) => o.metadata.name)).toEqual(['z-early', 'c', 'd', 'b', 'a-custom', 'a-late']);
  });

  it("orders a plan for each layer with objects, by the Applications' waves", () => {
    expect(applyPlan(dist).map((s) => s.layer)).toEqual(LAYERS.filter((l) => dist.some((d) => d.folder === l)));
    expect(applyPlan(dist).map((s) => s.wave)).toEqual([...applyPlan(dist).map((s) => s.wave)].sort((a, b) => a - b));
  });
});

describe('prune plan', () => {
  const root = scratchRoot(SCRATCH);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const live: KubeObject[] = [
    ...Object.values(SCRATCH).filter((o) => o.kind !== 'Job'),
    obj('v1', 'ConfigMap', 'old-config', 'supabase'),
    obj('v1', 'Service', 'old-service', 'supabase'),
    obj('v1', 'ConfigMap', 'other-env', 'supabase', { labels: labels('staging') }),
    obj('v1', 'ConfigMap', 'not-ours', 'supabase', { labels: { app: 'x' } }),
    obj('v1', 'ConfigMap', 'owned', 'supabase', { ownerReferences: [{ kind: 'Deployment', name: 'x' }] }),
    obj('v1', 'PersistentVolumeClaim', 'data-postgres-0', 'supabase'),
    obj('v1', 'PersistentVolumeClaim', 'old-claim', 'supabase', { annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false' } }),
    obj('v1', 'PersistentVolumeClaim', 'unannotated-claim', 'supabase'),
    obj('v1', 'Service', 'kept-service', 'supabase', { annotations: { 'argocd.argoproj.io/sync-options': 'ServerSideApply=true, Delete=false' } }),
    obj('v1', 'Namespace', 'old-namespace'),
  ];

  it('lists exactly the labelled objects dist/dev/ lacks, keeping Prune=false, Delete=false and data', async () => {
    const fake = fakeCluster(live);
    const { code, lines } = await run(['--env', 'dev'], root, fake.cluster);
    expect(code).toBe(0);
    const planLines = lines.filter((l) => l.startsWith('  delete') || l.startsWith('  keep'));
    expect(planLines).toEqual([
      '  delete ConfigMap supabase/old-config',
      '  delete Service supabase/old-service',
      '  keep   Namespace old-namespace: may hold data: delete it by hand if you mean to, never deleted',
      '  keep   PersistentVolumeClaim supabase/old-claim: argocd.argoproj.io/sync-options says Prune=false, never deleted',
      '  keep   PersistentVolumeClaim supabase/unannotated-claim: may hold data: delete it by hand if you mean to, never deleted',
      '  keep   Service supabase/kept-service: argocd.argoproj.io/sync-options says ServerSideApply=true, Delete=false, never deleted',
    ]);
    expect(lines[0]).toBe('prune plan: 6 labelled object(s) of dev in the cluster are not in dist/dev/');
    expect(lines).toContain('  2 to delete: nothing is deleted without --prune');
    expect(fake.deleted()).toEqual([]);
    // The plan is printed before anything is applied, and asks the cluster only for this environment's objects.
    expect(lines.findIndex((l) => l.startsWith('prune plan'))).toBeLessThan(lines.findIndex((l) => l.startsWith('wave')));
    const lists = fake.calls.flatMap((c) => (c.op === 'list' ? [c] : []));
    expect(lists.map((c) => c.kind).sort()).toEqual(['ConfigMap', 'Namespace', 'PersistentVolumeClaim', 'Service', 'StatefulSet']);
    expect(lists.every((c) => c.labelSelector === platformSelector('dev'))).toBe(true);
    expect(platformSelector('dev')).toBe('app.kubernetes.io/part-of=supabase-platform,app.kubernetes.io/instance=dev');
  });

  it('deletes exactly the planned objects with --prune, after every layer applied', async () => {
    const fake = fakeCluster(live);
    const { code, lines } = await run(['--env', 'dev', '--prune'], root, fake.cluster);
    expect(code).toBe(0);
    expect(fake.deleted().map((c) => `${c.ref.kind}/${c.ref.namespace}/${c.ref.name}/${String(c.dryRun)}`)).toEqual([
      'ConfigMap/supabase/old-config/false',
      'Service/supabase/old-service/false',
    ]);
    const lastApply = fake.calls.map((c) => c.op).lastIndexOf('apply');
    expect(fake.calls.findIndex((c) => c.op === 'delete')).toBeGreaterThan(lastApply);
    expect(lines.at(-1)).toBe('applied 5 object(s) of dev in 3 layer(s); pruned 2 of 2');
  });

  it("never counts as orphans the CLI's Secrets or Jobs made from an on-demand template", () => {
    const dist = parseDist(readDistFiles(root, 'dev'), 'dev');
    const plan = planPrune(
      dist,
      [
        obj('batch/v1', 'Job', 'postgres-restore-20261127t140509', 'supabase'),
        obj('batch/v1', 'Job', 'stray-job', 'supabase'),
        obj('v1', 'Secret', 'postgres-credentials', 'supabase', { labels: labels('dev', { 'app.kubernetes.io/managed-by': 'supabase-platform-cli' }) }),
      ],
      'dev',
    );
    expect(plan.remove.map((o) => o.metadata.name)).toEqual(['stray-job']);
    expect(plan.keep).toEqual([]);
  });

  it('stops at the first layer with a failure, names the object, applies nothing later and prunes nothing', async () => {
    const fake = fakeCluster(live, (o) => (o.kind === 'StatefulSet' ? 'HTTP 422: spec.foo: Invalid value\nsecond line' : undefined));
    const { code, lines } = await run(['--env', 'dev', '--prune'], root, fake.cluster);
    expect(code).toBe(1);
    expect(lines).toContain('wave 1 data: 1 of 2 applied, 1 failed');
    expect(lines).toContain('  failed StatefulSet supabase/postgres: HTTP 422: spec.foo: Invalid value');
    expect(lines).toContain('stopped after data: backup not applied (they depend on it); nothing pruned');
    expect(fake.applied().some((c) => c.object.metadata.name === 'postgres-backups')).toBe(false);
    expect(fake.deleted()).toEqual([]);
  });
});

describe('apply refuses', () => {
  const noCluster = () => {
    throw new Error('no cluster should be contacted');
  };
  const refuse = (argv: string[], root = ROOT, render?: (env: string) => Map<string, string>) =>
    applyCommand(argv, { root, envNames: NAMES, cluster: noCluster, out: () => undefined, ...(render ? { render } : {}) });

  it('a missing or unknown environment, an unknown option, on-demand as a layer, --prune with --layer', async () => {
    await expect(refuse([])).rejects.toThrow("required option '--env <name>' not specified");
    await expect(refuse(['--env', 'qa'])).rejects.toThrow("option '--env <name>' argument 'qa' is invalid. Allowed choices are dev, staging, production.");
    await expect(refuse(['--env', 'dev', '--force'])).rejects.toThrow("unknown option '--force'");
    await expect(refuse(['--env', 'dev', '--layer', 'on-demand'])).rejects.toThrow("argument 'on-demand' is invalid. on-demand objects are never applied");
    await expect(refuse(['--env', 'dev', '--layer', 'database'])).rejects.toThrow(
      "argument 'database' is invalid. Allowed choices are foundation, data, supabase",
    );
    await expect(refuse(['--env', 'dev', '--layer', 'data', '--prune'])).rejects.toThrow(
      '--prune works on the whole environment, not one layer: drop --layer data',
    );
  });

  it('a missing dist folder, naming npm run synth', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cli-apply-empty-'));
    try {
      await expect(refuse(['--env', 'dev'], empty)).rejects.toThrow('dist/dev/ does not exist: run npm run synth to generate it');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('a stale dist folder: the committed files differ from what synth writes now', async () => {
    const root = scratchRoot(SCRATCH);
    try {
      const files = readDistFiles(root, 'dev');
      const changed = new Map([...files].map(([f, t]) => [f, f.startsWith('data/ConfigMap') ? `${t}# changed\n` : t]));
      await expect(refuse(['--env', 'dev'], root, () => changed)).rejects.toThrow(
        'dist/dev/ is stale: 1 file(s) differ from what the TypeScript renders now (data/ConfigMap.supabase.postgres-config.yaml); run npm run synth',
      );
      const fake = fakeCluster();
      expect((await run(['--env', 'dev'], root, fake.cluster, () => files)).code).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
