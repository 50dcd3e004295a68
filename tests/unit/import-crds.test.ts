// `npm run import` (scripts/import-crds.ts) as a fresh clone runs it: the CRD URLs come from a
// cdk8s.yaml, the files from a local HTTP server standing in for upstream (or from a folder with
// --from), and imports/ is regenerated with the typed classes and crd-schemas.json. A download
// that fails, or a file that is not a CRD, leaves the folder as it was. And the repository's own
// cdk8s.yaml names exactly the modules imports/ holds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCrds, mirrorPath, readImports } from '../../scripts/import-crds';
import { ROOT } from '../helpers';

const FIXTURES = join(ROOT, 'tests', 'fixtures', 'crds');

describe('npm run import', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const served: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      served.push(req.url!);
      const file = { '/upstream/v1/widget.yaml': 'widget.yaml', '/upstream/v1/gadget.yaml': 'gadget.yaml' }[req.url!];
      if (req.url === '/upstream/v1/not-a-crd.yaml') return void res.end('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n');
      if (!file) return void res.writeHead(404).end('not found');
      res.end(readFileSync(join(FIXTURES, file)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upstream/v1`;
    dir = mkdtempSync(join(tmpdir(), 'import-crds-'));
  });

  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (name: string, entries: string[]) => {
    const path = join(dir, `${name}.cdk8s.yaml`);
    writeFileSync(path, `language: typescript\napp: npx tsx main.ts\nimports:\n${entries.map((e) => `  - ${e}\n`).join('')}`);
    return path;
  };
  const listing = (out: string) =>
    Object.fromEntries(
      readdirSync(out)
        .sort()
        .map((f) => [f, readFileSync(join(out, f), 'utf8')]),
    );

  it('reads NAME:=URL entries as cdk8s import does', () => {
    expect(readImports('imports:\n  - rollout:=https://example.com/a/rollout.yaml\n')).toEqual([
      { name: 'rollout', url: 'https://example.com/a/rollout.yaml' },
    ]);
    expect(() => readImports('imports:\n  - https://example.com/a.yaml\n')).toThrow('is not NAME:=URL');
    expect(() => readImports('language: typescript\n')).toThrow('cdk8s.yaml lists no imports');
    expect(mirrorPath('https://raw.githubusercontent.com/argoproj/argo-rollouts/v1.9.1/manifests/crds/rollout-crd.yaml')).toBe(
      join('raw.githubusercontent.com', 'argoproj', 'argo-rollouts', 'v1.9.1', 'manifests', 'crds', 'rollout-crd.yaml'),
    );
  });

  it('fetches every URL, generates the classes and the schemas, and saves the files for offline use', async () => {
    const out = join(dir, 'imports');
    const saved = join(dir, 'saved');
    await importCrds({ config: config('ok', [`widget:=${base}/widget.yaml`, `gadget:=${base}/gadget.yaml`]), out, save: saved });
    expect(served).toEqual(['/upstream/v1/widget.yaml', '/upstream/v1/gadget.yaml']);
    expect(readdirSync(out).sort()).toEqual(['crd-schemas.json', 'gadget-example.org.ts', 'widget-example.com.ts']);
    expect(readFileSync(join(out, 'widget-example.com.ts'), 'utf8')).toMatch(/export class Widget extends ApiObject/);
    const schemas = JSON.parse(readFileSync(join(out, 'crd-schemas.json'), 'utf8'));
    expect(Object.keys(schemas)).toEqual(['example.com/v1/Widget', 'example.org/v1alpha1/Gadget']);
    expect(schemas['example.com/v1/Widget'].scope).toBe('Namespaced');
    expect(readFileSync(join(saved, mirrorPath(`${base}/gadget.yaml`)), 'utf8')).toBe(readFileSync(join(FIXTURES, 'gadget.yaml'), 'utf8'));

    // Offline, from the saved files: the same bytes, and no request.
    const offline = join(dir, 'offline');
    served.length = 0;
    await importCrds({ config: config('ok', [`widget:=${base}/widget.yaml`, `gadget:=${base}/gadget.yaml`]), out: offline, from: saved });
    expect(served).toEqual([]);
    expect(listing(offline)).toEqual(listing(out));
  });

  it('leaves the folder as it was when a download fails or a file is not a CRD', async () => {
    const out = join(dir, 'kept');
    mkdirSync(out);
    writeFileSync(join(out, 'previous.ts'), '// generated earlier\n');
    await expect(importCrds({ config: config('missing', [`widget:=${base}/widget.yaml`, `missing:=${base}/missing.yaml`]), out })).rejects.toThrow(
      `cannot fetch ${base}/missing.yaml (missing): HTTP 404`,
    );
    await expect(importCrds({ config: config('wrong', [`cm:=${base}/not-a-crd.yaml`]), out })).rejects.toThrow(
      `${base}/not-a-crd.yaml (cm) is not a CustomResourceDefinition (kinds: ConfigMap)`,
    );
    await expect(importCrds({ config: config('offline', [`widget:=${base}/widget.yaml`]), out, from: join(dir, 'nowhere') })).rejects.toThrow('--from');
    expect(readdirSync(out)).toEqual(['previous.ts']);
    expect(readdirSync(dir).filter((f) => f.startsWith('.import-'))).toEqual([]);
  });

  it('runs as `npm run import -- --from DIR`, one line per CRD, and says what failed in one line', () => {
    const mirror = join(dir, 'mirror');
    const path = join(mirror, mirrorPath(`${base}/widget.yaml`));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, readFileSync(join(FIXTURES, 'widget.yaml')));
    const out = join(dir, 'npm-out');
    const run = (...args: string[]) =>
      spawnSync('npm', ['run', '-s', 'import', '--', ...args, '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const ok = run('--from', mirror, '--config', config('npm', [`widget:=${base}/widget.yaml`]));
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`widget: ${base}/widget.yaml`);
    expect(existsSync(join(out, 'widget-example.com.ts'))).toBe(true);
    const failed = run('--from', mirror, '--config', config('npm-missing', [`gadget:=${base}/gadget.yaml`]));
    expect(failed.status).toBe(1);
    expect(failed.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: --from .*: no file .* for gadget \(http:.*\); .* is unchanged$/)]);
  });
});

describe("the repository's imports", () => {
  it('cdk8s.yaml names one module per file of imports/, from pinned upstream tags', () => {
    const specs = readImports(readFileSync(join(ROOT, 'cdk8s.yaml'), 'utf8'));
    const modules = readdirSync(join(ROOT, 'imports')).filter((f) => f.endsWith('.ts'));
    expect(modules.map((f) => f.split('-')[0]).sort()).toEqual(specs.map((s) => s.name).sort());
    for (const spec of specs) expect(spec.url, spec.name).toMatch(/^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/v\d+\.\d+\.\d+\//);
  });
});
