// Argo CD objects: every Application's path is a layer folder of dist/, every object of dist/
// belongs to exactly one Application, waves follow the layer order, and the AppProject allows
// exactly what the platform emits.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LAYER_WAVES, OPERATORS_WAVE } from '../../charts/gitops/gitops-chart';
import { OPERATORS } from '../../lib/operators';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { LAYERS, ON_DEMAND_FOLDER } from '../../lib/layers';
import { objectsOf, ROOT } from '../helpers';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each(ENVIRONMENT_NAMES)('%s gitops', (env) => {
  const located = objectsOf(env);
  const projects = located.filter((l) => l.object.kind === 'AppProject').map((l) => l.object as Obj);
  const project = projects.find((p) => p.metadata.name.startsWith('platform-'))!;
  const operatorsProject = projects.find((p) => p.metadata.name.startsWith('operators-'))!;
  // The platform's own Applications: the layers and the root (the operators' come from upstream).
  const apps = located
    .filter((l) => l.object.kind === 'Application')
    .map((l) => l.object as Obj)
    .filter((a) => a.spec.project !== operatorsProject.metadata.name);
  const layerApps = apps.filter((a) => a.spec.project === project.metadata.name);

  it('points every Application at a layer folder that exists in dist/', () => {
    for (const app of apps) {
      expect(app.spec.source.path).toMatch(new RegExp(`^dist/${env}/(${LAYERS.join('|')})$`));
      expect(existsSync(join(ROOT, app.spec.source.path)), app.spec.source.path).toBe(true);
    }
  });

  it('gives every object of dist/ exactly one Application, except the on-demand folder the CLI applies', () => {
    const paths = apps.map((a) => a.spec.source.path as string);
    expect(paths.some((p) => p.includes(ON_DEMAND_FOLDER))).toBe(false);
    const onDemand = located.filter((l) => l.file.startsWith(`${ON_DEMAND_FOLDER}/`)).map((l) => l.file);
    if (onDemand.length) console.info(`${env}: on-demand (no Application, applied by the CLI): ${onDemand.join(', ')}`);
    for (const { file } of located.filter((l) => !onDemand.includes(l.file))) {
      const owners = paths.filter((p) => `dist/${env}/${file}`.startsWith(`${p}/`));
      expect(owners, file).toHaveLength(1);
    }
  });

  it('syncs the layers in wave order, foundation first', () => {
    const waves = layerApps.map((a) => [a.spec.source.path.split('/').at(-1), Number(a.metadata.annotations['argocd.argoproj.io/sync-wave'])] as const);
    for (const [layer, wave] of waves) expect(wave).toBe(LAYER_WAVES[layer as keyof typeof LAYER_WAVES]);
    const order = [...waves].sort((a, b) => a[1] - b[1]).map(([l]) => l);
    expect(order[0]).toBe('foundation');
    expect(order).toEqual(LAYERS.filter((l) => order.includes(l)));
  });

  it('syncs server-side, prunes last, creates no namespaces, and ignores only HPA-owned replicas', () => {
    for (const app of layerApps) {
      expect(app.spec.syncPolicy.syncOptions).toEqual(expect.arrayContaining(['ServerSideApply=true', 'PruneLast=true', 'CreateNamespace=false']));
      expect(app.metadata.finalizers).toBeUndefined();
      for (const d of app.spec.ignoreDifferences ?? []) {
        expect(d.jsonPointers).toEqual(['/spec/replicas']);
        const hpa = located.find((l) => {
          const ref = (l.object as Obj).spec?.scaleTargetRef;
          return (
            l.object.kind === 'HorizontalPodAutoscaler' &&
            ref.name === d.name &&
            ref.kind === d.kind &&
            ref.apiVersion.split('/')[0] === d.group &&
            l.object.metadata.namespace === d.namespace
          );
        });
        expect(hpa, `${d.group}/${d.kind} ${d.name}`).toBeDefined();
      }
    }
    const hpas = located.filter((l) => l.object.kind === 'HorizontalPodAutoscaler').length;
    expect(layerApps.flatMap((a) => a.spec.ignoreDifferences ?? [])).toHaveLength(hpas);
  });

  it('allows in the AppProject exactly the kinds and namespaces the layers emit', () => {
    const managed = located.filter((l) => !l.file.startsWith('gitops/') && !l.file.startsWith(`${ON_DEMAND_FOLDER}/`)).map((l) => l.object as Obj);
    const group = (o: Obj) => (o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '');
    const expectKinds = (objs: Obj[]) => [...new Set(objs.map((o) => `${group(o)}/${o.kind}`))].sort();
    const listed = (entries: { group: string; kind: string }[]) => entries.map((e) => `${e.group}/${e.kind}`).sort();
    expect(listed(project.spec.namespaceResourceWhitelist)).toEqual(expectKinds(managed.filter((o) => o.metadata.namespace)));
    expect(listed(project.spec.clusterResourceWhitelist)).toEqual(expectKinds(managed.filter((o) => !o.metadata.namespace)));
    expect(project.spec.destinations.map((d: Obj) => d.namespace).sort()).toEqual(
      [...new Set(managed.map((o) => o.metadata.namespace).filter(Boolean))].sort(),
    );
  });

  it('installs the operators the data layer needs from their pinned upstream manifests, before every layer, never pruning them', () => {
    const operatorApps = located
      .filter((l) => l.object.kind === 'Application')
      .map((l) => l.object as Obj)
      .filter((a) => a.spec.project === operatorsProject.metadata.name);
    const platform = layerApps[0]!.spec.source;
    expect(operatorApps.map((a) => a.spec.source).sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      // The plugin's release asset through this repository's kustomization (below).
      { repoURL: platform.repoURL, targetRevision: platform.targetRevision, path: 'operators/barman-cloud-plugin' },
      { repoURL: OPERATORS.cloudnativePg.repoUrl, targetRevision: 'main', path: 'releases', directory: { include: 'cnpg-1.30.0.yaml' } },
    ]);
    const firstLayer = Math.min(...layerApps.map((a) => Number(a.metadata.annotations['argocd.argoproj.io/sync-wave'])));
    for (const app of operatorApps) {
      expect(Number(app.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBe(OPERATORS_WAVE);
      expect(OPERATORS_WAVE).toBeLessThan(firstLayer);
      expect(app.spec.syncPolicy.automated.prune).toBe(false);
      expect(app.spec.destination.namespace).toBe('cnpg-system');
    }
    expect([...operatorsProject.spec.sourceRepos].sort()).toEqual([OPERATORS.cloudnativePg.repoUrl, platform.repoURL].sort());
  });
});

describe("the Barman Cloud Plugin's kustomization", () => {
  const text = readFileSync(join(ROOT, 'operators', 'barman-cloud-plugin', 'kustomization.yaml'), 'utf8');
  const kustomization = parse(text) as { apiVersion: string; kind: string; resources: string[] };

  it('applies exactly the release asset lib/operators.ts names, of the version it names', () => {
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(kustomization.kind).toBe('Kustomization');
    expect(kustomization.resources).toEqual([OPERATORS.barmanCloudPlugin.manifestUrl]);
    expect(OPERATORS.barmanCloudPlugin.manifestUrl).toBe(
      `https://github.com/cloudnative-pg/plugin-barman-cloud/releases/download/v${OPERATORS.barmanCloudPlugin.version}/manifest.yaml`,
    );
  });

  it('is what the README applies by hand (never manifest.yaml from git, which runs development images)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`kubectl apply -f ${OPERATORS.barmanCloudPlugin.manifestUrl}`);
    expect(readme).not.toMatch(/raw\.githubusercontent\.com\/cloudnative-pg\/plugin-barman-cloud/);
  });
});
