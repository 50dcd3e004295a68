// pgbench: stock PostgreSQL 15 settings against the generated tuning, for a profile sized to
// this machine, on two clusters loaded identically. Runs alternate (stock, tuned, tuned, stock,
// ...) so drift in the machine hits both; prints every run, the medians and the ratio. The TPC-B
// run is long enough to push the stock server past its 1GB max_wal_size (requested checkpoints
// show it). Durability stays on in both: fsync, synchronous_commit and full_page_writes.
//   npm run bench:postgres     BENCH_SCALE (50), BENCH_TPCB_SECONDS (60), BENCH_SELECT_SECONDS (20),
//                              BENCH_ROUNDS (3), BENCH_CLIENTS (8), BENCH_WARMUP_SECONDS (15)
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { clusterParameters } from '../charts/postgres/parameters';
import { chownTree, freePort, run, tempDirFor } from '../harness/processes';

const BIN = '/usr/lib/postgresql/15/bin';
const USER = 'postgres';
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SCALE = env('BENCH_SCALE', 50);
const TPCB_SECONDS = env('BENCH_TPCB_SECONDS', 60);
const SELECT_SECONDS = env('BENCH_SELECT_SECONDS', 20);
const ROUNDS = env('BENCH_ROUNDS', 3);
const CLIENTS = env('BENCH_CLIENTS', 8);
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 15);

if (!existsSync(`${BIN}/pgbench`)) {
  console.error('bench:postgres needs PostgreSQL 15: apt-get install -y postgresql-15');
  process.exit(1);
}

// A pod sized to this machine: a third of its memory, all its cores, SSD storage.
const profile = {
  memoryBytes: Math.floor(totalmem() / 3 / 2 ** 30) * 2 ** 30,
  cpuCores: cpus().length,
  maxConnections: 100,
  profile: 'web' as const,
  storageType: 'ssd' as const,
  logMinDurationMs: -1,
  walVolumeBytes: 100 * 2 ** 30,
  archiving: false,
};
/** The Cluster's parameters as a configuration file, without the libraries only the Supabase image has. */
const tunedConf = () =>
  Object.entries(clusterParameters(profile))
    .filter(([k]) => k !== 'session_preload_libraries')
    .map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'`)
    .join('\n');

interface Cluster {
  name: 'stock' | 'tuned';
  root: string;
  port: number;
}

function must(result: ReturnType<typeof run>, what: string): string {
  if (result.status !== 0) throw new Error(`${what} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

const psql = (c: Cluster, sql: string) =>
  must(run(USER, `${BIN}/psql`, ['-X', '-At', '-h', '127.0.0.1', '-p', String(c.port), '-d', 'postgres', '-c', sql]), 'psql').trim();

async function makeCluster(name: Cluster['name']): Promise<Cluster> {
  const root = tempDirFor(USER, `bench-pg-${name}-`);
  const port = await freePort();
  must(run(USER, `${BIN}/initdb`, ['-D', join(root, 'data'), '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8']), 'initdb');
  mkdirSync(join(root, 'run'), { recursive: true });
  // The Cluster's parameters where CloudNativePG puts them (initdb's trust rules stay: local benchmark).
  if (name === 'tuned') writeFileSync(join(root, 'data/postgresql.auto.conf'), `${tunedConf()}\n`);
  chownTree(root, USER);
  const configDir = join(root, 'data');
  const options = ['-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${join(root, 'run')}`];
  must(run(USER, `${BIN}/pg_ctl`, ['-D', configDir, '-l', join(root, 'log'), '-w', '-o', options.join(' '), 'start']), `start ${name}`);
  const cluster = { name, root, port };
  process.stdout.write(`loading ${name} (scale ${SCALE})... `);
  must(run(USER, `${BIN}/pgbench`, ['-i', '-q', '-s', String(SCALE), '-h', '127.0.0.1', '-p', String(port), 'postgres']), 'pgbench -i');
  psql(cluster, 'CHECKPOINT');
  console.log('done');
  return cluster;
}

interface Result {
  tps: number;
  walMB: number;
  checkpointsRequested: number;
}

function pgbench(c: Cluster, selectOnly: boolean, duration?: number): Result {
  const stats = () => psql(c, "SELECT pg_current_wal_lsn() - '0/0', checkpoints_req FROM pg_stat_bgwriter").split('|').map(Number);
  const [walBefore = 0, reqBefore = 0] = stats();
  const seconds = duration ?? (selectOnly ? SELECT_SECONDS : TPCB_SECONDS);
  const out = must(
    run(USER, `${BIN}/pgbench`, [
      ...(selectOnly ? ['-S'] : []),
      '-c',
      String(CLIENTS),
      '-j',
      String(Math.min(CLIENTS, cpus().length)),
      '-T',
      String(seconds),
      '-h',
      '127.0.0.1',
      '-p',
      String(c.port),
      'postgres',
    ]),
    'pgbench',
  );
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1]);
  const [walAfter = 0, reqAfter = 0] = stats();
  return { tps, walMB: (walAfter - walBefore) / 2 ** 20, checkpointsRequested: reqAfter - reqBefore };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const tuned = tunedConf();
  const pick = (name: string) => new RegExp(`^${name} = '?([^'\\s]+)`, 'm').exec(tuned)?.[1];
  console.log(
    `bench:postgres on ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; PostgreSQL ${run(USER, `${BIN}/postgres`, ['--version']).stdout.trim()}`,
  );
  console.log(
    `tuned profile: ${profile.memoryBytes / 2 ** 30}GiB limit, ${profile.cpuCores} CPU, ${profile.maxConnections} connections -> ` +
      ['shared_buffers', 'effective_cache_size', 'work_mem', 'max_wal_size', 'checkpoint_completion_target', 'wal_compression']
        .map((n) => `${n}=${pick(n)}`)
        .join(' '),
  );
  console.log(`stock: initdb defaults (shared_buffers 128MB, max_wal_size 1GB). Both: fsync, synchronous_commit, full_page_writes on.`);
  console.log(
    `pgbench: ${CLIENTS} clients, TPC-B ${TPCB_SECONDS}s and select-only ${SELECT_SECONDS}s per run, ${ROUNDS} rounds alternating, after a ${WARMUP_SECONDS}s warm-up of each\n`,
  );

  const clusters = [await makeCluster('stock'), await makeCluster('tuned')];
  const results: Record<string, Result[]> = {};
  try {
    // Warm-up, not counted: a server in production runs with its buffers faulted in and its
    // caches full, and a cold first run would charge the larger shared_buffers for page faults.
    for (const c of clusters) {
      process.stdout.write(`warming ${c.name}... `);
      pgbench(c, true, WARMUP_SECONDS);
      pgbench(c, false, WARMUP_SECONDS);
      console.log('done');
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? clusters : [...clusters].reverse();
      for (const c of order) {
        for (const selectOnly of [false, true]) {
          const r = pgbench(c, selectOnly);
          const key = `${c.name} ${selectOnly ? 'select-only' : 'TPC-B'}`;
          (results[key] ??= []).push(r);
          console.log(
            `round ${round + 1}  ${key.padEnd(18)} ${r.tps.toFixed(0).padStart(7)} tps  ${r.walMB.toFixed(0).padStart(6)} MB WAL  ${String(r.checkpointsRequested).padStart(3)} requested checkpoints`,
          );
        }
      }
    }
  } finally {
    for (const c of clusters) {
      run(USER, `${BIN}/pg_ctl`, ['-D', c.name === 'tuned' ? join(c.root, 'etc') : join(c.root, 'data'), '-m', 'fast', '-w', 'stop']);
      rmSync(c.root, { recursive: true, force: true });
    }
  }

  console.log('\nmedians');
  for (const workload of ['TPC-B', 'select-only']) {
    const stock = median(results[`stock ${workload}`]!.map((r) => r.tps));
    const tunedTps = median(results[`tuned ${workload}`]!.map((r) => r.tps));
    console.log(
      `${workload.padEnd(12)} stock ${stock.toFixed(0).padStart(7)} tps   tuned ${tunedTps.toFixed(0).padStart(7)} tps   tuned/stock ${(tunedTps / stock).toFixed(3)}`,
    );
  }
}

void main();
