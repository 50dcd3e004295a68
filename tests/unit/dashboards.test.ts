// The Grafana dashboards as they ship: read back from the synthesised grafana-dashboards
// ConfigMap of every environment, each must be a file Grafana provisions and renders without a
// reader having to fix anything: its own uid and title, panels that query something through a
// named datasource and say what they show, a layout on the 24-column grid, and no template
// variable left undefined. The service and backup dashboards ship in every environment with
// their rows and panels, Realtime's queries count each node once (every Realtime pod serves the
// whole cluster's series), and the Deployments, CronJobs and volumes queries name exist.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { ONE_COPY_PER_NODE } from '../../charts/observability/dashboards/realtime';
import { prefixed } from '../../lib/names';
import { environment, objectsOf } from '../helpers';

interface Target {
  readonly refId?: string;
  readonly expr?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
}
interface Panel {
  readonly id?: number;
  readonly type: string;
  readonly title?: string;
  readonly description?: string;
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
  const namespace = prefixed(environment(env).namespacePrefix, 'observability');
  const maps = objectsOf(env).filter((l) => l.object.kind === 'ConfigMap' && l.object.metadata.name === 'grafana-dashboards');
  expect(maps.map((l) => l.object.metadata.namespace)).toEqual([namespace]);
  const data = (maps[0]!.object as unknown as { data: Record<string, string> }).data;
  return new Map(Object.entries(data).map(([file, text]) => [file, JSON.parse(text) as Dashboard]));
}

/** Panels that show data: rows are only headings, but a collapsed row holds its panels. */
const dataPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));

/** Variables Grafana defines itself. */
const BUILT_IN = /^__/;

/** The service and backup dashboards: their rows in order, and panels each must have. */
const SERVICE_DASHBOARDS: Record<string, { rows: string[]; panels: string[] }> = {
  auth: {
    rows: ['Status', 'Requests', 'Sign-ins and mail', 'Database pool', 'Pods and resources'],
    panels: [
      'Auth pods reporting',
      '5xx share',
      'Latency p95 by route',
      'Password checks',
      'Mail sent and failed',
      'Database connections',
      'Pods available / desired',
    ],
  },
  realtime: {
    rows: ['Cluster', 'Clients and channels', 'Latency', 'Erlang VM', 'Pods and resources'],
    panels: [
      'Cluster: nodes seen / pods',
      'Websocket clients',
      'Websocket clients by node',
      'Messages by kind',
      'Channel errors by code',
      'Calls between nodes',
      'Run queue by node',
    ],
  },
  storage: {
    rows: ['Requests (Kong, service storage-v1)', 'Image transformations (imgproxy)', 'Files volume (file backend)', 'Pods and resources'],
    panels: ['Requests per second', '5xx share', 'Bytes up and down', 'Transformations and errors', 'Files volume used', 'Memory by pod'],
  },
  backups: {
    rows: ['Newest good copy of each store', 'WAL archiving', 'Backup and restore Jobs', 'What the backups hold', 'Restore drill'],
    panels: [
      'PostgreSQL WAL (object store)',
      'PostgreSQL base backup (object store)',
      'PostgreSQL volume snapshot',
      'Redis snapshot and off-site copy',
      'Volume snapshots',
      'Last passed restore drill',
      'Last WAL archive attempt',
      'Duration of recent Jobs',
      'Last drill',
      'Last drill: time to restore (RTO)',
      'Last drill: data lost (RPO)',
    ],
  },
  operators: {
    rows: [
      'Status',
      'Certificates (cert-manager)',
      'Applications (Argo CD)',
      'Secrets (External Secrets; staging, production)',
      'Admission (Kyverno)',
      'CloudNativePG operator',
    ],
    panels: [
      'Operators up',
      'Days until expiry',
      'Certificates not Ready',
      'Renewals overdue',
      'Applications out of sync',
      'Applications not healthy',
      'ExternalSecrets not Ready',
      "Refused in the platform's namespaces",
      "Rule errors in the platform's namespaces",
      'Reconcile errors by controller',
    ],
  },
};

/** The objects a query names by a kube-state-metrics or kubelet label, as kind/name. */
const LABEL_KINDS: Record<string, string> = { deployment: 'Deployment', cronjob: 'CronJob', persistentvolumeclaim: 'PersistentVolumeClaim' };
function namedObjects(expr: string): string[] {
  return [...expr.matchAll(/\b(deployment|cronjob|persistentvolumeclaim)(=~?)"([^"]*)"/g)].flatMap(([, label, op, value]) => {
    // A regex matcher counts only when it is a plain list of names.
    const names = op === '=' ? [value!] : /^[\w.-]+(\|[\w.-]+)*$/.test(value!) ? value!.split('|') : [];
    return names.map((name) => `${LABEL_KINDS[label!]}/${name}`);
  });
}

describe.each(ENVIRONMENT_NAMES)('%s dashboards', (env) => {
  const shipped = shippedDashboards(env);
  const all = [...shipped.values()];

  it('ship at least the platform overview, PostgreSQL, Redis, gateway/API, releases, Auth, Realtime, Storage, backups and operators dashboards', () => {
    expect([...shipped.keys()].sort()).toEqual(
      expect.arrayContaining([
        'gateway-api.json',
        'platform-overview.json',
        'postgres.json',
        'redis.json',
        'releases.json',
        'auth.json',
        'realtime.json',
        'storage.json',
        'backups.json',
        'operators.json',
      ]),
    );
  });

  it.each(Object.entries(SERVICE_DASHBOARDS))('ship the %s dashboard with its rows and panels', (uid, want) => {
    const d = shipped.get(`${uid}.json`);
    expect(d, `${uid}.json`).toBeDefined();
    expect(d!.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(want.rows);
    expect(dataPanels(d!).map((p) => p.title)).toEqual(expect.arrayContaining(want.panels));
  });

  it('describe every panel (what it shows and what a healthy value looks like)', () => {
    for (const d of all) for (const p of dataPanels(d)) expect(p.description?.length ?? 0, `${d.uid}: "${p.title}"`).toBeGreaterThan(20);
  });

  it('count each Realtime node once, although every Realtime pod serves the series of every node', () => {
    const d = shipped.get('realtime.json')!;
    for (const p of dataPanels(d)) {
      for (const t of p.targets ?? []) {
        // Reads about the scraping pods themselves: up, and the nodes each pod reports.
        const rest = t.expr!.replace(/count by \(pod\) \(\w+\{[^}]*\}\)/g, '').replace(/\bup\{[^}]*\}/g, '');
        const reads = [...rest.matchAll(/\w+\{[^}]*job="realtime"[^}]*\}/g)].length;
        const deduplicated = rest.split(`${ONE_COPY_PER_NODE} (`).length - 1;
        expect(deduplicated, `"${p.title}" ${t.refId}: ${t.expr}`).toBeGreaterThanOrEqual(reads);
      }
    }
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

describe('dashboards name real objects', () => {
  const existing = new Set(ENVIRONMENT_NAMES.flatMap((env) => objectsOf(env).map((l) => `${l.object.kind}/${l.object.metadata.name}`)));

  it('finds the names in a query, and only lists of plain names in a regex', () => {
    expect(namedObjects('x{deployment="auth",cronjob=~"a|b-c"} + y{persistentvolumeclaim=~"data-.+"}')).toEqual([
      'Deployment/auth',
      'CronJob/a',
      'CronJob/b-c',
    ]);
  });

  it.each(ENVIRONMENT_NAMES)('%s: every Deployment, CronJob and volume a query names exists in some environment', (env) => {
    const missing = [...shippedDashboards(env).values()].flatMap((d) =>
      dataPanels(d).flatMap((p) =>
        (p.targets ?? []).flatMap((t) =>
          namedObjects(t.expr ?? '')
            .filter((o) => !existing.has(o))
            .map((o) => `${d.uid} "${p.title}": ${o}`),
        ),
      ),
    );
    expect(missing).toEqual([]);
  });
});
