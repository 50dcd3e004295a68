// The Grafana dashboards as they ship: read back from the synthesised grafana-dashboards
// ConfigMap of every environment, each must be a file Grafana provisions and renders without a
// reader having to fix anything: its own uid and title, panels that query something through a
// named datasource, a layout on the 24-column grid, and no template variable left undefined.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from '../../environments';
import { ENVIRONMENT_NAMES, parseEnvironment } from '../../environments/schema';
import { prefixed } from '../../lib/names';
import { objectsOf } from '../helpers';

interface Target {
  readonly refId?: string;
  readonly expr?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
}
interface Panel {
  readonly id?: number;
  readonly type: string;
  readonly title?: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string }[] };
}

/** `<uid>.json` -> dashboard, from the ConfigMap in the environment's observability namespace. */
function shippedDashboards(env: string): Map<string, Dashboard> {
  const input = ENVIRONMENTS.find((e) => e.name === env)!;
  const namespace = prefixed(parseEnvironment(input).namespacePrefix, 'observability');
  const maps = objectsOf(env).filter((l) => l.object.kind === 'ConfigMap' && l.object.metadata.name === 'grafana-dashboards');
  expect(maps.map((l) => l.object.metadata.namespace)).toEqual([namespace]);
  const data = (maps[0]!.object as unknown as { data: Record<string, string> }).data;
  return new Map(Object.entries(data).map(([file, text]) => [file, JSON.parse(text) as Dashboard]));
}

/** Panels that show data: rows are only headings, but a collapsed row holds its panels. */
const dataPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));

/** Variables Grafana defines itself. */
const BUILT_IN = /^__/;

describe.each(ENVIRONMENT_NAMES)('%s dashboards', (env) => {
  const shipped = shippedDashboards(env);
  const all = [...shipped.values()];

  it('ship at least the platform overview, PostgreSQL, Redis, gateway/API and releases dashboards', () => {
    expect([...shipped.keys()].sort()).toEqual(expect.arrayContaining(['gateway-api.json', 'platform-overview.json', 'postgres.json', 'redis.json', 'releases.json']));
  });

  it('are each stored as <uid>.json, with a unique uid and title', () => {
    for (const [file, d] of shipped) expect(file).toBe(`${d.uid}.json`);
    expect(new Set(all.map((d) => d.uid)).size).toBe(all.length);
    expect(new Set(all.map((d) => d.title)).size).toBe(all.length);
  });

  it('have panels that each have a title and at least one query, every query through a named datasource', () => {
    for (const d of all) {
      expect(dataPanels(d).length, d.uid).toBeGreaterThan(0);
      for (const p of dataPanels(d)) {
        const where = `${d.uid}: panel ${p.id} "${p.title}"`;
        expect(p.title, where).toBeTruthy();
        expect(p.targets?.length, where).toBeGreaterThan(0);
        for (const t of p.targets ?? []) {
          expect(t.datasource?.type, `${where} ${t.refId}`).toBeTruthy();
          expect(t.datasource?.uid, `${where} ${t.refId}`).toBeTruthy();
          expect(t.expr, `${where} ${t.refId}`).toBeTruthy();
        }
        expect(new Set(p.targets?.map((t) => t.refId)).size, `${where}: refIds`).toBe(p.targets?.length);
      }
    }
  });

  it('give every panel its own id and a place on the 24-column grid that no other panel takes', () => {
    for (const d of all) {
      const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
      expect(new Set(panels.map((p) => p.id)).size, d.uid).toBe(panels.length);
      const taken = new Map<string, string>();
      for (const p of panels) {
        expect(p.gridPos.x + p.gridPos.w, `${d.uid} "${p.title}"`).toBeLessThanOrEqual(24);
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            const cell = `${x},${y}`;
            expect(taken.get(cell), `${d.uid}: "${p.title}" overlaps at ${cell}`).toBeUndefined();
            taken.set(cell, p.title ?? '');
          }
        }
      }
    }
  });

  it('use only template variables the dashboard defines', () => {
    for (const d of all) {
      const defined = new Set(d.templating.list.map((v) => v.name));
      const text = JSON.stringify(d.panels);
      const used = [...text.matchAll(/\$\{(\w+)|\[\[(\w+)|\$(\w+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
      const undefinedVars = used.filter((name) => !BUILT_IN.test(name) && !defined.has(name));
      expect(undefinedVars, d.uid).toEqual([]);
    }
  });
});
