// Generated sections of docs/: the parts of a page between <!-- generated:NAME --> and
// <!-- /generated:NAME --> are written from the code, so the numbers in the docs are the numbers
// that ship. The alert runbooks in docs/runbooks/alerts/ are whole generated pages, one per alert
// of charts/observability/rules plus an index. `npm run docs` rewrites them all; a test fails
// when a page is stale or missing.
//   tsx scripts/docs.ts [--check]
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { KongDeclarativeConfig } from '../charts/gateway/kong-config';
import { canaryTimeline } from '../charts/app/canary';
import { WAL_SLOT } from '../charts/backup/backup-chart';
import { DOC_RULE_CONTEXT, ruleGroups } from '../charts/observability/rules';
import { type AlertSpec, isAlert } from '../charts/observability/rules/types';
import { maxmemoryBytes } from '../charts/redis/config';
import { tune } from '../charts/postgres/tuning';
import { ENVIRONMENTS } from '../environments';
import { type Environment, parseEnvironment } from '../environments/schema';
import { PROJECT_ROOT } from '../lib/files';
import type { SecretKeySpec } from '../lib/secrets';
import { platformSecrets, renderEnvironment } from '../platform';
import { quantity } from '../lib/quantity';
import { POLICY_EXCEPTIONS } from '../lib/policy';
import { connectionBudget, nodePlan, poolerClients, RESERVED_CONNECTIONS, servicePlan } from '../environments/capacity';
import { RULES } from '../tests/policy/rules';
import { compareFlows, effectiveFlows, type Flow, flowKey, intendedFlows } from '../lib/reachability';

const TUNING_ROWS = [
  'max_connections',
  'shared_buffers',
  'effective_cache_size',
  'work_mem',
  'maintenance_work_mem',
  'wal_buffers',
  'min_wal_size',
  'max_wal_size',
  'huge_pages',
  'random_page_cost',
  'effective_io_concurrency',
  'max_worker_processes',
  'max_parallel_workers',
  'max_parallel_workers_per_gather',
] as const;

function tuningTable(envs: Environment[]): string {
  const header = `| | ${envs.map((e) => e.name).join(' | ')} |\n| --- |${envs.map(() => ' --- |').join('')}`;
  const pg = envs.map((e) => {
    const c = e.components.postgres;
    return Object.fromEntries(
      tune({
        memoryBytes: quantity(c.resources.limits.memory),
        cpuCores: quantity(c.resources.requests.cpu),
        maxConnections: c.tuning.maxConnections,
        profile: c.tuning.profile,
        storageType: c.tuning.storageType,
      }).map((s) => [s.name, s.value]),
    );
  });
  const row = (label: string, values: string[]) => `| ${label} | ${values.join(' | ')} |`;
  return [
    header,
    row('**PostgreSQL inputs**', envs.map(() => '')),
    row('memory limit', envs.map((e) => e.components.postgres.resources.limits.memory)),
    row('CPU request', envs.map((e) => e.components.postgres.resources.requests.cpu)),
    row('profile, storage', envs.map((e) => `${e.components.postgres.tuning.profile}, ${e.components.postgres.tuning.storageType}`)),
    row('data volume', envs.map((e) => e.storage.sizes.postgres)),
    row('**PostgreSQL settings**', envs.map(() => '')),
    ...TUNING_ROWS.map((name) => row(`\`${name}\``, pg.map((s) => s[name] ?? ''))),
    row('`max_slot_wal_keep_size`', envs.map((e) => `${Math.floor(quantity(e.storage.sizes.postgres) / 5 / 2 ** 20)}MB`)),
    row('**Redis**', envs.map(() => '')),
    row('memory limit', envs.map((e) => e.components.redis.resources.limits.memory)),
    row('`maxmemory`', envs.map((e) => `${Math.round(maxmemoryBytes(e.components.redis) / 2 ** 20)}Mi (${e.components.redis.maxmemoryPercent}%)`)),
    row('`maxmemory-policy`', envs.map((e) => e.components.redis.maxmemoryPolicy)),
    row('data volume', envs.map((e) => e.storage.sizes.redis)),
  ].join('\n');
}

/** The gateway's routes, from the staging configuration (which runs every service). */
function routesTable(): string {
  const input = ENVIRONMENTS.find((e) => (e as { name: string }).name === 'staging');
  const { manifests } = renderEnvironment(input);
  const cm = [...manifests].find(([file]) => file.endsWith('ConfigMap.supabase.kong-config.yaml'))![1];
  const kong = parse((parse(cm) as { data: Record<string, string> }).data['kong.yml']!) as KongDeclarativeConfig;
  const rows = kong.services.map((svc) => {
    const plugins = svc.plugins.map((p) => p.name).filter((n) => n !== 'cors' && n !== 'request-size-limiting');
    const access = svc.plugins.some((p) => p.name === 'request-termination')
      ? 'blocked (403)'
      : svc.plugins.some((p) => p.name === 'basic-auth')
        ? 'basic-auth, admin addresses'
        : svc.plugins.some((p) => p.name === 'acl')
          ? `API key, groups ${((svc.plugins.find((p) => p.name === 'acl')!.config as { allow: string[] }).allow).join('/')}${svc.plugins.some((p) => p.name === 'ip-restriction') ? ', admin addresses' : ''}`
          : 'open';
    const upstream = svc.url.replace(/\.[a-z0-9-]+\.svc\.cluster\.local/, '');
    const size = svc.plugins.find((p) => p.name === 'request-size-limiting')!.config as { allowed_payload_size: number };
    const rate = svc.plugins.find((p) => p.name === 'rate-limiting')?.config as { minute: number } | undefined;
    return `| \`${svc.routes.flatMap((r) => r.paths).join('`, `')}\` | ${upstream} | ${access} | ${size.allowed_payload_size} MB | ${rate ? `${rate.minute}/min per IP` : '-'} | ${plugins.join(', ')} |`;
  });
  return ['| path | upstream | access | body limit | rate limit | plugins |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** Every Secret of the platform, which workloads read each key, and how the CLI makes it. */
function secretsTable(): string {
  const input = ENVIRONMENTS.find((e) => (e as { name: string }).name === 'staging');
  const { specs } = platformSecrets(input);
  const { manifests } = renderEnvironment(input);
  const readers = new Map<string, Set<string>>();
  for (const [, text] of manifests) {
    const obj = parse(text) as { kind: string; metadata: { name: string } };
    const read = (key: string) => {
      if (!readers.has(key)) readers.set(key, new Set());
      readers.get(key)!.add(`${obj.metadata.name}`);
    };
    for (const m of text.matchAll(/secretKeyRef:\n\s+key: ([\w-]+)\n\s+name: ([\w-]+)/g)) read(`${m[2]}/${m[1]}`);
    // A Secret mounted as a volume: the pod reads the keys its namespace's copy holds.
    for (const m of text.matchAll(/secret:\n\s+secretName: ([\w-]+)/g)) {
      const ns = (obj as { metadata: { namespace?: string } }).metadata.namespace;
      const spec = specs.find((sp) => sp.name === m[1] && sp.namespace === ns);
      for (const k of spec?.keys ?? []) read(`${m[1]}/${k.key}`);
    }
  }
  const how = (g: SecretKeySpec['generate']) =>
    g.kind === 'hex' ? `${g.bytes * 2} hex characters` : g.kind === 'base64' ? `${g.bytes} random bytes, base64` : g.kind === 'text' ? `"${g.value}"` : g.kind === 'jwt' ? `HS256 JWT, role ${g.role}, signed with ${g.signingKey}` : `provided: ${g.hint}`;
  // A copy (the same entry, readable in another namespace) adds its namespace to the key's row.
  const copiedTo = (name: string, key: string) =>
    specs.filter((s) => s.copyOf && s.name === name && s.keys.some((k) => k.key === key)).map((s) => ` (also in ${s.namespace})`).join('');
  const rows = specs
    .filter((spec) => !spec.copyOf)
    .flatMap((spec) =>
      spec.keys.map((k) => `| ${spec.name}${copiedTo(spec.name, k.key)} | ${k.key} | ${k.description} | ${how(k.generate)} | ${[...(readers.get(`${spec.name}/${k.key}`) ?? [])].sort().join(', ') || '-'} |`),
    );
  return ['| Secret | key | what it is | generated as (dev CLI) | read by |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** Each environment's canary: when each step starts, how many api pods run the new version, the limits. */
function canaryTable(envs: readonly Environment[]): string {
  const rows = envs.map((e) => {
    const pods = e.app.api.autoscaling?.minReplicas ?? e.app.api.replicas;
    const steps = canaryTimeline(e.app.canary, pods);
    const a = e.app.canary.analysis;
    const at = steps.map((s) => `${s.weight}% (${s.canaryPods} of ${s.pods} pods) at ${s.atMinute} min`).join(' → ');
    return `| ${e.name} | ${at} | ${steps.at(-1)!.atMinute} min | ${a.maxErrorRatio * 100}% | ${a.maxP95Seconds} s | every ${a.interval}, abort after ${a.failureLimit + 1} failed, pause after ${a.inconclusiveLimit + 1} without data |`;
  });
  return [
    '| environment | steps (pods counted at the HPA minimum) | start to 100% | max 5xx | max p95 | analysis |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** What each environment backs up, when, and how much it keeps. */
function backupTable(envs: readonly Environment[]): string {
  const rows = envs.map((e) => {
    const b = e.backup;
    const offsite = b.offsite ? `s3://${b.offsite.bucket}/${e.name} (${b.offsite.region}), every ${b.offsite.intervalSeconds} s` : 'none (in the cluster only)';
    return `| ${e.name} | continuous (pg_receivewal, slot ${WAL_SLOT}) | \`${b.baseBackup.schedule}\`, keeps ${b.baseBackup.retainCount} newest + younger than ${b.baseBackup.retainDays} days; pg_dump \`${b.logicalDump.schedule}\`, keeps ${b.logicalDump.retainCount} | \`${b.redis.schedule}\`, keeps ${b.redis.retainCount} | ${b.volumeSize} | ${offsite} |`;
  });
  return ['| environment | PostgreSQL WAL | PostgreSQL base backups (UTC) | Redis snapshots (UTC) | backup volume | off-site copy |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function drillTable(envs: readonly Environment[]): string {
  const rows = envs.map((e) => {
    const b = e.backup;
    const files = e.supabase.storageBackend.kind === 'file' ? ', Storage files' : '';
    return `| ${e.name} | \`${b.drill.schedule}\`, fails above ${b.drill.maxRtoMinutes} min, scratch volume ${e.storage.sizes.postgres} | \`${b.volumeSnapshots.schedule}\`, keeps ${b.volumeSnapshots.retainCount} per volume: Prometheus, Grafana, Loki${files} | \`${e.storage.snapshotClassName}\` |`;
  });
  return ['| environment | restore drill (UTC) | volume snapshots (UTC) | VolumeSnapshotClass |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The intended flows of every environment (what the workloads declared), without cluster DNS. */
export function intendedNetwork(): Map<string, Flow[]> {
  const out = new Map<string, Flow[]>();
  for (const input of ENVIRONMENTS) {
    const { env, manifests, declarations } = renderEnvironment(input);
    const objects = [...manifests.values()].map((text) => parse(text) as Parameters<typeof intendedFlows>[0][number]);
    out.set(env.name, intendedFlows(objects, declarations));
  }
  return out;
}

/** One row per flow, with the environments that have it. */
function flowTable(network: Map<string, Flow[]>): string {
  const names = [...network.keys()];
  const rows = new Map<string, { flow: Flow; in: Set<string> }>();
  for (const [env, list] of network) {
    for (const flow of list) {
      const row = rows.get(flowKey(flow)) ?? { flow, in: new Set<string>() };
      row.in.add(env);
      rows.set(flowKey(flow), row);
    }
  }
  const lines = [...rows.values()]
    .sort((a, b) => compareFlows(a.flow, b.flow))
    .map(({ flow, in: envs }) => `| ${flow.from} | ${flow.to} | ${flow.port} | ${names.map((n) => (envs.has(n) ? 'yes' : '')).join(' | ')} |`);
  return [`| from | to | port | ${names.join(' | ')} |`, `| --- | --- | --- | ${names.map(() => ':-:').join(' | ')} |`, ...lines].join('\n');
}

/** A Mermaid flowchart of one environment: namespaces as boxes, one arrow per pair with its ports. */
function flowDiagram(flows: readonly Flow[]): string {
  const id = (name: string) => `n_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
  const nodes = new Map<string, string[]>();
  const place = (name: string) => {
    // Workloads as <namespace>/<name>; address ranges, "internet" and "anywhere" outside.
    const [group, node] = /^[a-z][a-z0-9-]*\/[a-z]/.test(name) ? [name.split('/')[0]!, name] : ['outside the cluster', name];
    nodes.set(group, [...new Set([...(nodes.get(group) ?? []), node])]);
  };
  const edges = new Map<string, string[]>();
  for (const f of flows) {
    place(f.from);
    place(f.to);
    const key = `${f.from}|${f.to}`;
    edges.set(key, [...(edges.get(key) ?? []), f.port]);
  }
  const lines = ['```mermaid', 'flowchart LR'];
  for (const [group, members] of [...nodes].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  subgraph ${id(group)}["${group}"]`);
    for (const m of members.sort()) lines.push(`    ${id(m)}["${group === 'outside the cluster' ? m : m.split('/').at(-1)}"]`);
    lines.push('  end');
  }
  for (const [key, ports] of edges) {
    const [from, to] = key.split('|') as [string, string];
    lines.push(`  ${id(from)} -->|${ports.join(', ')}| ${id(to)}`);
  }
  lines.push('```');
  return lines.join('\n');
}

/** The policy rules with the checks of other tools they stand for. */
function ruleCatalogue(): string {
  const rows = RULES.map((r) => `| \`${r.id}\` | ${r.description} | ${r.refs.join(', ')} |`);
  return ['| rule | what it checks on every object of every environment | stands for |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Every exception to the rules, as lib/policy.ts declares it. */
function exceptionTable(): string {
  const rows = Object.entries(POLICY_EXCEPTIONS).flatMap(([subject, rules]) => Object.entries(rules).map(([rule, reason]) => `| ${subject} | \`${rule}\` | ${reason} |`));
  return ['| object | rule | why |', '| --- | --- | --- |', ...rows].join('\n');
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Every pool that can open a PostgreSQL connection, per environment. */
function connectionTable(envs: readonly Environment[]): string {
  const budgets = envs.map((e) => connectionBudget(e));
  const whos = budgets[0]!.uses.map((u) => u.who);
  const rows = whos.map((who) => `| ${who} | ${budgets.map((b) => { const u = b.uses.find((x) => x.who === who)!; return `${u.connections} (${u.how})`; }).join(' | ')} |`);
  return [
    `| pool | ${envs.map((e) => e.name).join(' | ')} |`,
    `| --- | ${envs.map(() => '---').join(' | ')} |`,
    ...rows,
    `| **total** | ${budgets.map((b) => `**${b.total}** of ${b.available} (max_connections ${b.max} − ${RESERVED_CONNECTIONS} reserved)`).join(' | ')} |`,
  ].join('\n');
}

/** The load model against each environment's maximum pods. */
function serviceTable(envs: readonly Environment[]): string {
  const plans = envs.map((e) => servicePlan(e));
  const rows = plans[0]!.map((row, i) => `| ${row.service} | ${row.load} | ${row.needed} | ${plans.map((p) => `${p[i]!.max}${p[i]!.max >= row.needed ? '' : ' (below)'}`).join(' | ')} |`);
  return [`| service | load | pods needed | ${envs.map((e) => `${e.name} max`).join(' | ')} |`, `| --- | --- | --- | ${envs.map(() => '---').join(' | ')} |`, ...rows].join('\n');
}

function nodeTable(envs: readonly Environment[]): string {
  const rows = envs.map((e) => {
    const n = nodePlan(e);
    const p = poolerClients(e);
    return `| ${e.name} | ${fmt(n.cpu, 1)} | ${fmt(n.memoryGiB, 1)} | ${n.needed} | ${n.max} | ${p.clients} of ${fmt(p.limit)} |`;
  });
  return ['| environment | CPU requested (cores) | memory requested (GiB) | nodes needed | nodes allowed (`nodes`) | app clients of Supavisor |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** Hourly list prices the cost table uses: per-resource on-demand (AWS Fargate, us-east-1, 2025) and gp3 storage. */
const PRICES = { vcpuHour: 0.04048, gibHour: 0.004445, storageGibMonth: 0.08, controlPlaneHour: 0.1, hoursPerMonth: 730 } as const;

interface Resources {
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}
interface RunningObject {
  kind: string;
  metadata: { name: string };
  spec?: {
    replicas?: number;
    minReplicas?: number;
    scaleTargetRef?: { kind: string; name: string };
    template?: { spec: { containers: Resources[] } };
    volumeClaimTemplates?: { spec: { resources: { requests: { storage: string } } } }[];
    resources?: { requests: { storage: string } };
  };
}

/** Requests and limits of what runs all the time (replicas as configured, DaemonSets on every node), from the synthesised objects. */
function resourceTotals(env: Environment): { cpuReq: number; memReq: number; cpuLim: number; memLim: number; storage: number } {
  const { manifests } = renderEnvironment(ENVIRONMENTS.find((e) => e.name === env.name)!);
  const objects = [...manifests.entries()].filter(([file]) => !file.startsWith('on-demand/')).map(([, text]) => parse(text) as RunningObject);
  const t = { cpuReq: 0, memReq: 0, cpuLim: 0, memLim: 0, storage: 0 };
  // Autoscaled workloads carry no replicas of their own: their HPA's minimum is what runs.
  const minimum = new Map(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((h) => [`${h.spec!.scaleTargetRef!.kind}/${h.spec!.scaleTargetRef!.name}`, h.spec!.minReplicas ?? 1]));
  for (const o of objects) {
    const replicas = o.kind === 'DaemonSet' ? env.nodes : ['Deployment', 'StatefulSet', 'Rollout'].includes(o.kind) ? (o.spec?.replicas ?? minimum.get(`${o.kind}/${o.metadata.name}`) ?? 1) : 0;
    if (replicas > 0) {
      for (const c of o.spec!.template!.spec.containers) {
        t.cpuReq += replicas * quantity(c.resources.requests.cpu!);
        t.memReq += replicas * quantity(c.resources.requests.memory!);
        t.cpuLim += replicas * quantity(c.resources.limits.cpu!);
        t.memLim += replicas * quantity(c.resources.limits.memory!);
      }
      for (const claim of o.spec!.volumeClaimTemplates ?? []) t.storage += replicas * quantity(claim.spec.resources.requests.storage);
    }
    if (o.kind === 'PersistentVolumeClaim') t.storage += quantity(o.spec!.resources!.requests.storage);
  }
  return t;
}

function costTable(envs: readonly Environment[]): string {
  const rows = envs.map((e) => {
    const t = resourceTotals(e);
    const gib = 2 ** 30;
    const compute = (t.cpuReq * PRICES.vcpuHour + (t.memReq / gib) * PRICES.gibHour) * PRICES.hoursPerMonth;
    const storage = (t.storage / gib) * PRICES.storageGibMonth;
    const total = compute + storage + PRICES.controlPlaneHour * PRICES.hoursPerMonth;
    return `| ${e.name} | ${fmt(t.cpuReq, 2)} / ${fmt(t.cpuLim, 1)} | ${fmt(t.memReq / gib, 1)} / ${fmt(t.memLim / gib, 1)} | ${fmt(t.storage / gib)} | $${fmt(compute)} | $${fmt(storage)} | $${fmt(total)} |`;
  });
  return [
    '| environment | CPU cores, requests / limits | memory GiB, requests / limits | volumes GiB | compute / month | volumes / month | total / month (with control plane) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** Production's synthesised objects: Argo CD's folders, and with `onDemand` the on-demand Jobs too. */
function productionObjects(onDemand = false): { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: unknown }[] {
  const { manifests } = renderEnvironment(ENVIRONMENTS.find((e) => e.name === 'production')!);
  return [...manifests.entries()].filter(([file]) => onDemand || !file.startsWith('on-demand/')).map(([, text]) => parse(text) as ReturnType<typeof productionObjects>[number]);
}

/** Who talks to whom in production, from the synthesised NetworkPolicies: one arrow per pair, no ports, no DNS. */
function architectureDiagram(): string {
  const flows = effectiveFlows(productionObjects(true) as Parameters<typeof effectiveFlows>[0]).filter((f) => !f.to.startsWith('kube-system/'));
  const pairs = new Map<string, Flow>();
  for (const f of flows) if (f.from !== f.to) pairs.set(`${f.from}|${f.to}`, { ...f, port: '' });
  return flowDiagram([...pairs.values()]).replace(/ -->\|\| /g, ' --> ');
}

/** Every long-running workload of production: where it runs, what it is, how many. */
function componentTable(): string {
  const objects = productionObjects();
  const hpa = new Map(
    objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((h) => {
      const spec = h.spec as { scaleTargetRef: { name: string }; minReplicas: number; maxReplicas: number };
      return [spec.scaleTargetRef.name, `${spec.minReplicas}–${spec.maxReplicas} (HPA)`];
    }),
  );
  const rows = objects
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout', 'CronJob'].includes(o.kind))
    .map((o) => {
      const spec = o.spec as { replicas?: number; schedule?: string };
      const count = o.kind === 'DaemonSet' ? 'one per node' : o.kind === 'CronJob' ? `\`${spec.schedule}\`` : (hpa.get(o.metadata.name) ?? String(spec.replicas ?? 1));
      return `| ${o.metadata.namespace} | ${o.metadata.name} | ${o.metadata.labels?.['app.kubernetes.io/component'] ?? ''} | ${o.kind} | ${count} | ${o.metadata.labels?.['app.kubernetes.io/version'] ?? ''} |`;
    })
    .sort();
  return ['| namespace | workload | component | kind | replicas or schedule | version |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** Generated section name -> its content. */
export function generatedSections(): Record<string, string> {
  const envs = ENVIRONMENTS.map(parseEnvironment);
  const network = intendedNetwork();
  return { 'architecture-diagram': architectureDiagram(), 'architecture-components': componentTable(), 'capacity-connections': connectionTable(envs), 'capacity-services': serviceTable(envs), 'capacity-nodes': nodeTable(envs), 'cost-table': costTable(envs), 'rule-catalogue': ruleCatalogue(), 'policy-exceptions': exceptionTable(), 'flow-table': flowTable(network), 'flow-diagram': flowDiagram(network.get('production') ?? []), 'tuning-table': tuningTable(envs), 'routes-table': routesTable(), 'secrets-table': secretsTable(), 'canary-table': canaryTable(envs), 'backup-table': backupTable(envs), 'drill-table': drillTable(envs) };
}

/** Pages with generated sections, relative to the project root. */
export const GENERATED_PAGES = ['docs/architecture.md', 'docs/capacity.md', 'docs/cost.md', 'docs/security.md', 'docs/network.md', 'docs/data-tier.md', 'docs/gateway-and-secrets.md', 'docs/runbooks/deployment.md', 'docs/runbooks/backup.md'];

/** The page's text with every generated section filled in. */
export function fillPage(text: string, sections: Record<string, string>): string {
  return text.replace(/(<!-- generated:([\w-]+) -->\n)[\s\S]*?(<!-- \/generated:\2 -->)/g, (_all, open: string, name: string, close: string) => {
    const body = sections[name];
    if (body === undefined) throw new Error(`no generated section "${name}"`);
    return `${open}${body}\n${close}`;
  });
}

/** Where the alert runbooks live, relative to the project root. */
export const RUNBOOK_DIR = 'docs/runbooks/alerts';
/** First line of every generated runbook page; only pages with it are ever rewritten or removed. */
export const RUNBOOK_MARKER = '<!-- Generated by `npm run docs` from charts/observability/rules: edit the rule there, not this page. -->';

function runbookPage(alert: AlertSpec, group: string, others: readonly string[]): string {
  // Other alerts named in the text become links to their pages.
  const mention = new RegExp(`\\b(${others.filter((name) => name !== alert.alert).join('|')})\\b`, 'g');
  const linked = (text: string) => text.replace(mention, '[$1]($1.md)');
  const steps = (list: readonly string[]) => list.map((step, i) => `${i + 1}. ${linked(step)}`).join('\n');
  return [
    RUNBOOK_MARKER,
    `# ${alert.alert}`,
    '',
    '| severity | team | group | for |',
    '| --- | --- | --- | --- |',
    `| ${alert.severity} | ${alert.team} | ${group} | ${alert.for ?? 'fires at once'} |`,
    '',
    `**Summary:** ${alert.summary}`,
    '',
    `**Description:** ${alert.description}`,
    '',
    '```promql',
    alert.expr,
    '```',
    '',
    '## Meaning',
    '',
    linked(alert.runbook.meaning),
    '',
    '## Impact',
    '',
    linked(alert.runbook.impact),
    '',
    '## Diagnosis',
    '',
    steps(alert.runbook.diagnosis),
    '',
    '## Mitigation',
    '',
    steps(alert.runbook.mitigation),
    '',
  ].join('\n');
}

/** File name in RUNBOOK_DIR -> its generated text: one page per alert, and README.md, the index. */
export function runbookPages(): Record<string, string> {
  const alerts = ruleGroups(DOC_RULE_CONTEXT).flatMap((g) => g.rules.filter(isAlert).map((alert) => ({ alert, group: g.name })));
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const index = [
    RUNBOOK_MARKER,
    '# Alert runbooks',
    '',
    'One page per alert of the platform\'s Prometheus rules (`charts/observability/rules/`), in rule-group order; each alert\'s `runbook_url` points at its page. Labels in `{{ $labels.NAME }}` are filled in by Prometheus.',
    '',
    '| alert | severity | team | summary |',
    '| --- | --- | --- | --- |',
    ...alerts.map(({ alert }) => `| [${alert.alert}](${alert.alert}.md) | ${alert.severity} | ${alert.team} | ${cell(alert.summary)} |`),
    '',
  ].join('\n');
  const names = alerts.map(({ alert }) => alert.alert);
  return { 'README.md': index, ...Object.fromEntries(alerts.map(({ alert, group }) => [`${alert.alert}.md`, runbookPage(alert, group, names)])) };
}

/** What `npm run docs` must do in `dir` so it holds exactly the generated runbook pages. */
export function runbookChanges(dir: string, pages: Record<string, string> = runbookPages()): { file: string; action: 'write' | 'remove' }[] {
  const writes = Object.entries(pages)
    .filter(([file, text]) => !existsSync(join(dir, file)) || readFileSync(join(dir, file), 'utf8') !== text)
    .map(([file]) => ({ file, action: 'write' as const }));
  // Generated pages of alerts that no longer exist; hand-written files (no marker) are left alone.
  const removals = (existsSync(dir) ? readdirSync(dir) : [])
    .filter((file) => file.endsWith('.md') && !(file in pages) && readFileSync(join(dir, file), 'utf8').startsWith(RUNBOOK_MARKER))
    .map((file) => ({ file, action: 'remove' as const }));
  return [...writes, ...removals];
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const sections = generatedSections();
  let stale = 0;
  for (const page of GENERATED_PAGES) {
    const path = join(PROJECT_ROOT, page);
    const text = readFileSync(path, 'utf8');
    const filled = fillPage(text, sections);
    if (filled === text) continue;
    stale++;
    if (!check) writeFileSync(path, filled);
    console.log(`${check ? 'stale' : 'updated'}: ${page}`);
  }
  const dir = join(PROJECT_ROOT, RUNBOOK_DIR);
  const pages = runbookPages();
  if (!check) mkdirSync(dir, { recursive: true });
  for (const { file, action } of runbookChanges(dir, pages)) {
    stale++;
    if (!check && action === 'write') writeFileSync(join(dir, file), pages[file]!);
    if (!check && action === 'remove') rmSync(join(dir, file));
    console.log(`${check ? 'stale' : action === 'write' ? 'updated' : 'removed'}: ${RUNBOOK_DIR}/${file}`);
  }
  process.exitCode = check && stale ? 1 : 0;
}
