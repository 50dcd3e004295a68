// Generated sections of docs/: the parts of a page between <!-- generated:NAME --> and
// <!-- /generated:NAME --> are written from the code, so the numbers in the docs are the numbers
// that ship. `npm run docs` rewrites them; a test fails when a page is stale.
//   tsx scripts/docs.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { maxmemoryBytes } from '../charts/redis/config';
import { tune } from '../charts/postgres/tuning';
import { ENVIRONMENTS } from '../environments';
import { type Environment, parseEnvironment } from '../environments/schema';
import { PROJECT_ROOT } from '../lib/files';
import { quantity } from '../lib/quantity';

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

/** Generated section name -> its content. */
export function generatedSections(): Record<string, string> {
  const envs = ENVIRONMENTS.map(parseEnvironment);
  return { 'tuning-table': tuningTable(envs) };
}

/** Pages with generated sections, relative to the project root. */
export const GENERATED_PAGES = ['docs/data-tier.md'];

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
  process.exitCode = check && stale ? 1 : 0;
}
