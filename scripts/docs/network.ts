// The network, security and architecture pages: intended flows, the rule catalogue and its
// exceptions, and production's diagram and workloads.
import { parse } from 'yaml';
import { ENVIRONMENTS, environmentInput } from '../../environments';
import { renderEnvironment } from '../../platform';
import { POLICY_EXCEPTIONS } from '../../lib/exemptions';
import { RULES } from '../../checks/rules';
import { compareFlows, effectiveFlows, type Flow, flowKey, intendedFlows } from '../../checks/reachability';

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
export function flowTable(network: Map<string, Flow[]>): string {
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
export function flowDiagram(flows: readonly Flow[]): string {
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
export function ruleCatalogue(): string {
  const rows = RULES.map((r) => `| \`${r.id}\` | ${r.description} | ${r.refs.join(', ')} |`);
  return ['| rule | what it checks on every object of every environment | stands for |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Every exception to the rules, as lib/exemptions.ts declares it. */
export function exceptionTable(): string {
  const rows = Object.entries(POLICY_EXCEPTIONS).flatMap(([subject, rules]) =>
    Object.entries(rules).map(([rule, reason]) => `| ${subject} | \`${rule}\` | ${reason} |`),
  );
  return ['| object | rule | why |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Production's synthesised objects: Argo CD's folders, and with `onDemand` the on-demand Jobs too. */
function productionObjects(
  onDemand = false,
): { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: unknown }[] {
  const { manifests } = renderEnvironment(environmentInput('production'));
  return [...manifests.entries()]
    .filter(([file]) => onDemand || !file.startsWith('on-demand/'))
    .map(([, text]) => parse(text) as ReturnType<typeof productionObjects>[number]);
}

/** Who talks to whom in production, from the synthesised NetworkPolicies: one arrow per pair, no ports, no DNS. */
export function architectureDiagram(): string {
  const flows = effectiveFlows(productionObjects(true) as Parameters<typeof effectiveFlows>[0]).filter((f) => !f.to.startsWith('kube-system/'));
  const pairs = new Map<string, Flow>();
  for (const f of flows) if (f.from !== f.to) pairs.set(`${f.from}|${f.to}`, { ...f, port: '' });
  return flowDiagram([...pairs.values()]).replace(/ -->\|\| /g, ' --> ');
}

/** Every long-running workload of production: where it runs, what it is, how many. */
export function componentTable(): string {
  const objects = productionObjects();
  const hpa = new Map(
    objects
      .filter((o) => o.kind === 'HorizontalPodAutoscaler')
      .map((h) => {
        const spec = h.spec as { scaleTargetRef: { name: string }; minReplicas: number; maxReplicas: number };
        return [spec.scaleTargetRef.name, `${spec.minReplicas}–${spec.maxReplicas} (HPA)`];
      }),
  );
  const rows = objects
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout', 'CronJob'].includes(o.kind))
    .map((o) => {
      const spec = o.spec as { replicas?: number; schedule?: string };
      const count =
        o.kind === 'DaemonSet' ? 'one per node' : o.kind === 'CronJob' ? `\`${spec.schedule}\`` : (hpa.get(o.metadata.name) ?? String(spec.replicas ?? 1));
      return `| ${o.metadata.namespace} | ${o.metadata.name} | ${o.metadata.labels?.['app.kubernetes.io/component'] ?? ''} | ${o.kind} | ${count} | ${o.metadata.labels?.['app.kubernetes.io/version'] ?? ''} |`;
    })
    .sort();
  return ['| namespace | workload | component | kind | replicas or schedule | version |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}
