// Generated sections of docs/: the parts of a page between <!-- generated:NAME --> and
// <!-- /generated:NAME --> are written from the code, so the numbers in the docs are the numbers
// that ship. The alert runbooks in docs/runbooks/alerts/ are whole generated pages, one per alert
// of charts/observability/rules plus an index. `npm run docs` rewrites them all; a test fails
// when a page is stale or missing.
//   tsx scripts/docs.ts [--check]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENVIRONMENTS } from '../environments';
import { parseEnvironment } from '../environments/schema';
import { PROJECT_ROOT } from '../lib/files';
import { connectionTable, costTable, nodeTable, serviceTable } from './docs/capacity';
import { architectureDiagram, componentTable, exceptionTable, flowDiagram, flowTable, intendedNetwork, ruleCatalogue } from './docs/network';
import { RUNBOOK_DIR, runbookChanges, runbookPages } from './docs/runbooks';
import { burnTable, caseTable, sloTable } from './docs/slos';
import { backupTable, canaryTable, drillTable, routesTable, secretsTable, tuningTable } from './docs/tables';

export { RUNBOOK_DIR, RUNBOOK_MARKER, runbookChanges, runbookPages } from './docs/runbooks';

/** Generated section name -> its content. */
export function generatedSections(): Record<string, string> {
  const envs = ENVIRONMENTS.map(parseEnvironment);
  const network = intendedNetwork();
  return {
    'architecture-diagram': architectureDiagram(),
    'architecture-components': componentTable(),
    'capacity-connections': connectionTable(envs),
    'capacity-services': serviceTable(envs),
    'capacity-nodes': nodeTable(envs),
    'cost-table': costTable(envs),
    'rule-catalogue': ruleCatalogue(),
    'policy-exceptions': exceptionTable(),
    'flow-table': flowTable(network),
    'flow-diagram': flowDiagram(network.get('production') ?? []),
    'tuning-table': tuningTable(envs),
    'routes-table': routesTable(),
    'secrets-table': secretsTable(),
    'canary-table': canaryTable(envs),
    'backup-table': backupTable(envs),
    'drill-table': drillTable(envs),
    'slo-table': sloTable(envs),
    'slo-burn-table': burnTable(),
    'slo-case-table': caseTable(envs.find((e) => e.name === 'production') ?? envs[0]!),
  };
}

/** Pages with generated sections, relative to the project root. */
export const GENERATED_PAGES = [
  'docs/architecture.md',
  'docs/capacity.md',
  'docs/cost.md',
  'docs/security.md',
  'docs/network.md',
  'docs/data-tier.md',
  'docs/gateway-and-secrets.md',
  'docs/runbooks/deployment.md',
  'docs/runbooks/backup.md',
  'docs/slos.md',
];

/** The page's text with every generated section filled in. */
export function fillPage(text: string, sections: Record<string, string>): string {
  return text.replace(/(<!-- generated:([\w-]+) -->\n)[\s\S]*?(<!-- \/generated:\2 -->)/g, (_all, open: string, name: string, close: string) => {
    const body = sections[name];
    if (body === undefined) throw new Error(`no generated section "${name}"`);
    return `${open}${body}\n${close}`;
  });
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
