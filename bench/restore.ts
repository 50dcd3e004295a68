// Restore speed of the Barman Cloud Plugin's recovery path on this machine: how fast a NEW
// cluster is bootstrapped from the object store. The command lines are the plugin's for
// production's ObjectStore postgres-store (gzip, AES256, jobs, maxParallel; mapped in
// harness/s3-server.ts from the upstream sources cited there), run with the real
// barman-cloud tools (Debian's barman-cli-cloud) against a local S3-compatible store (s3rver on
// 127.0.0.1), and a real PostgreSQL 15 with the synthesised Cluster's parameters (those a stock
// server takes: no extension settings) and data checksums. Prints numbers; asserts nothing.
//
// Steps: a primary holding a generated table of about BENCH_RESTORE_SIZE_MB of rows of random hex
// (about 2:1 for gzip, like much real data; pgbench's blank filler would compress 10:1 and flatter
// the restore), archiving with barman-cloud-wal-archive from the base backup on; barman-cloud-backup;
// then
//   1. base restore: barman-cloud-restore into an empty PGDATA, PostgreSQL started on it with
//      restore_command = barman-cloud-wal-restore until it has promoted (the backup's own WAL);
//   2. after BENCH_RESTORE_WAL_MB of WAL written by random UPDATEs (pgbench, custom script) and
//      archived, the same restore replays it: restore_command = barman-cloud-wal-restore, one file
//      per call, as PostgreSQL asks;
//   3. the same with a restore_command that does what the plugin does with wal.maxParallel
//      (internal/cnpgi/common/wal.go, restoreFromBarmanObjectStore): the asked segment and the
//      next maxParallel-1 fetched at once, the others kept in a spool for the next calls, a
//      missing one ending the stream.
// Then the extrapolated RTO of a 50 GiB database: its base restore at the measured rate, plus one
// day of WAL at the measured replay cost per segment (see the printed assumptions).
// Everything (servers, s3rver, temporary folders) is removed at the end, also on failure.
//   npm run bench:restore    BENCH_RESTORE_SIZE_MB (1024), BENCH_RESTORE_WAL_MB (1024; 0 skips 2 and 3),
//                            BENCH_RESTORE_WAL_GB_PER_DAY (16, for the RTO), BENCH_RESTORE_PREFETCH (1; 0 skips 3)
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { asUser, chownTree, freePort, hasPromoted, run, superuserPsqlArgs, tail, tempDirFor } from '../harness/processes';
import {
  backupOptions,
  type BarmanObjectStoreConfiguration,
  catalogOptions,
  pluginBackupName,
  productionPluginSettings,
  type S3Server,
  shellQuote,
  splitDestination,
  startS3Server,
  walArchiveOptions,
  walRestoreOptions,
  restoreOptions,
} from '../harness/s3-server';

const BIN = '/usr/lib/postgresql/15/bin';
const USER = 'postgres';
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const SEGMENT = 16 * MiB;
const RTO_SIZE_GIB = 50;

function setting(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    console.error(`bench:restore: ${name} needs a number of at least ${min}, got '${raw}'`);
    process.exit(2);
  }
  return value;
}
const SIZE_MB = setting('BENCH_RESTORE_SIZE_MB', 1024, 16);
const WAL_MB = setting('BENCH_RESTORE_WAL_MB', 1024, 0);
const WAL_GB_PER_DAY = setting('BENCH_RESTORE_WAL_GB_PER_DAY', 16, 0);
const PREFETCH = setting('BENCH_RESTORE_PREFETCH', 1, 0) > 0;

const needed: [string, string][] = [
  [`${BIN}/postgres`, 'postgresql-15'],
  [`${BIN}/pgbench`, 'postgresql-contrib-15 (or postgresql-15)'],
  ['barman-cloud-backup', 'barman-cli-cloud'],
  ['barman-cloud-restore', 'barman-cli-cloud'],
  ['barman-cloud-wal-archive', 'barman-cli-cloud'],
  ['barman-cloud-wal-restore', 'barman-cli-cloud'],
];
for (const [program, pkg] of needed) {
  if (spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status !== 0) {
    console.error(`bench:restore needs ${program}: apt-get install -y ${pkg}`);
    process.exit(1);
  }
}

interface Server {
  readonly name: string;
  readonly data: string;
  readonly port: number;
  readonly socketDir: string;
  readonly log: string;
}

interface Ran {
  readonly status: number | null;
  readonly seconds: number;
  readonly output: string;
}

const startedAt = performance.now();
// production's ObjectStore and Cluster, rendered (synchronously, a few seconds) before anything
// exists that would need cleaning up.
const plugin = productionPluginSettings();
const work = tempDirFor(USER, 'bench-restore-');
const servers: Server[] = [];
const running = new Set<ChildProcess>();
let s3: S3Server | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secondsSince = (start: number) => (performance.now() - start) / 1000;
const fmt = (x: number, digits = 1) => x.toFixed(digits);
const mib = (bytes: number) => bytes / MiB;
const progress = (text: string) => process.stdout.write(`[${fmt(secondsSince(startedAt), 0).padStart(4)} s] ${text}`);

function dir(...parts: string[]): string {
  const path = join(work, ...parts);
  mkdirSync(path, { recursive: true });
  chownTree(path, USER);
  return path;
}

/** Runs a command as the postgres user to completion, timing it; our environment plus `env`. */
function exec(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const [cmd, argv] = asUser(USER, command, args);
  const start = performance.now();
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => {
      running.delete(child);
      resolve({ status, seconds: secondsSince(start), output });
    });
  });
}

function must(ran: Ran, what: string): Ran {
  if (ran.status !== 0) throw new Error(`${what} failed (exit ${ran.status}):\n${ran.output}`);
  return ran;
}

function psql(server: Server, sql: string): string {
  const out = run(USER, `${BIN}/psql`, superuserPsqlArgs(server.socketDir, server.port, ['-At', '-v', 'ON_ERROR_STOP=1'], ['-c', sql]));
  if (out.status !== 0) throw new Error(`psql on ${server.name} failed: ${out.stderr}\n${sql}`);
  return out.stdout.trim();
}

async function until(what: string, check: () => boolean, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

const conf = (value: string) => `'${value.replaceAll("'", "''")}'`;
const lsnBytes = (lsn: string) => {
  const [hi = '0', lo = '0'] = lsn.split('/');
  return parseInt(hi, 16) * 2 ** 32 + parseInt(lo, 16);
};
/** du: bytes a folder occupies on disk. */
const diskBytes = (path: string) => Number(spawnSync('du', ['-s', '--block-size=1', path], { encoding: 'utf8' }).stdout.split('\t')[0]);
const seconds = (text: string) => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|min|h)?$/.exec(text.trim());
  if (!match) return 60;
  const unit = { ms: 0.001, s: 1, min: 60, h: 3600 }[match[2] ?? 's'] ?? 1;
  return Number(match[1]) * unit;
};

async function startServer(name: string, data: string, env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const server: Server = { name, data, port: await freePort(), socketDir: dir(name, 'run'), log: join(dir(name), 'server.log') };
  servers.push(server);
  const options = `-p ${server.port} -c unix_socket_directories=${server.socketDir} -c listen_addresses=''`;
  const started = await exec(`${BIN}/pg_ctl`, ['-D', data, '-l', server.log, '-w', '-t', '3600', '-o', options, 'start'], env);
  if (started.status !== 0) throw new Error(`starting ${name} failed:\n${started.output}\n${tail(server.log)}`);
  return server;
}

async function stopServer(server: Server, mode: 'fast' | 'immediate'): Promise<void> {
  if (existsSync(join(server.data, 'postmaster.pid'))) await exec(`${BIN}/pg_ctl`, ['-D', server.data, '-m', mode, '-w', '-t', '120', 'stop']);
}

/** Stops whatever still runs and removes the work folder; once, whoever asks first. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of running) child.kill('SIGTERM');
    for (const server of servers) await stopServer(server, 'immediate');
    await s3?.stop();
    await rm(work, { recursive: true, force: true });
  })();
  return cleaning;
}

/**
 * The Cluster's parameters a stock PostgreSQL 15 takes: without the extension settings and
 * preloaded libraries only the Supabase image has.
 */
const clusterConf = () =>
  Object.entries(plugin.parameters)
    .filter(([k]) => !k.includes('.') && !k.endsWith('_preload_libraries'))
    .map(([k, v]) => `${k} = ${conf(v)}`)
    .join('\n');

/**
 * `command` under /usr/bin/time (when there is one), appending "wall user system maxRSS-KiB" of
 * every call to `file`: what one barman-cloud call costs, to hold against the sidecar's limits.
 */
const TIME = '/usr/bin/time';
const timed = (file: string, command: string) => (existsSync(TIME) ? `${TIME} -a -o ${file} -f '%e %U %S %M' ${command}` : command);

/** `exec` of a barman-cloud program under /usr/bin/time (when there is one), its cost appended to `file`. */
const execTimed = (file: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv) =>
  existsSync(TIME) ? exec(TIME, ['-a', '-o', file, '-f', '%e %U %S %M', command, ...args], env) : exec(command, args, env);

interface Calls {
  readonly count: number;
  readonly wall: number;
  readonly cpu: number;
  readonly maxRssMiB: number;
}

function calls(file: string): Calls | undefined {
  if (!existsSync(file)) return undefined;
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(l.trim()))
    .filter((m) => m !== null)
    .map((m) => ({ wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rss: Number(m[4]) / 1024 }));
  if (rows.length === 0) return undefined;
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
  return { count: rows.length, wall: sum((r) => r.wall) / rows.length, cpu: sum((r) => r.cpu) / rows.length, maxRssMiB: Math.max(...rows.map((r) => r.rss)) };
}

/** Kubernetes quantities: CPU ("100m", "1") in cores, memory ("64Mi", "1Gi", "64M") in MiB. */
const cores = (q: string | undefined) => (q === undefined ? undefined : q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
const memoryMiB = (q: string | undefined) => {
  const match = q === undefined ? null : /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(q);
  if (!match) return undefined;
  const factor = { Ki: 1 / 1024, Mi: 1, Gi: 1024, K: 1000 / MiB, M: 1e6 / MiB, G: 1e9 / MiB }[match[2] ?? ''] ?? 1 / MiB;
  return Number(match[1]) * factor;
};

/** What a restored server's log says about its recovery (log_line_prefix '%m', UTC). */
interface RecoveryLog {
  readonly redo: number | undefined;
  readonly restored: number;
}

function recoveryLog(log: string): RecoveryLog {
  const lines = readFileSync(log, 'utf8').split('\n');
  const done = lines.find((l) => /redo done at .* elapsed: ([\d.]+) s/.test(l));
  return {
    redo: done ? Number(/elapsed: ([\d.]+) s/.exec(done)![1]) : undefined,
    restored: lines.filter((l) => /restored log file "[0-9A-F]{24}" from archive/.test(l)).length,
  };
}

interface Restore {
  /** barman-cloud-restore */
  readonly base: number;
  /** PGDATA bytes on disk after barman-cloud-restore */
  readonly pgdataBytes: number;
  /** pg_ctl start to pg_is_in_recovery() = false */
  readonly recovery: number;
  readonly log: RecoveryLog;
}

/**
 * The plugin's parallel WAL restore as a restore_command (internal/cnpgi/common/wal.go,
 * restoreFromBarmanObjectStore and gatherWALFilesToRestore): a file already in the spool is
 * moved into place; with the end-of-WAL-stream flag set, the call fails at once (and clears it);
 * else for a segment name the asked segment and the next maxParallel-1 are fetched at once with
 * barman-cloud-wal-restore, the others into the spool, and when the asked one was found but
 * another is missing, the flag is set (isEndOfWALStream).
 */
function prefetchingRestoreCommand(path: string, options: readonly string[], maxParallel: number, spool: string): void {
  writeFileSync(
    path,
    `#!/bin/bash
set -u
wal=$1 dest=$2 spool=${spool} n=${maxParallel}
if [[ -f $spool/$wal ]]; then mv "$spool/$wal" "$dest"; exit 0; fi
if [[ -f $spool/end-of-wal-stream ]]; then rm -f "$spool/end-of-wal-stream"; exit 1; fi
fetch() { ${shellQuote(['barman-cloud-wal-restore', ...options])} "$1" "$2"; }
pids=()
if [[ $wal =~ ^[0-9A-F]{24}$ ]]; then
  tli=\${wal:0:8} next=$(( (16#\${wal:8:8} << 8) + 16#\${wal:16:8} ))
  for ((i = 1; i < n; i++)); do
    s=$((next + i))
    name=$(printf '%s%08X%08X' "$tli" $((s >> 8)) $((s & 255)))
    ( fetch "$name" "$spool/.$name" && mv "$spool/.$name" "$spool/$name" || touch "$spool/missing-$name" ) &
    pids+=($!)
  done
fi
fetch "$wal" "$dest"
rc=$?
for pid in "\${pids[@]}"; do wait "$pid"; done
# The asked file missing: just that (the plugin returns before looking at the others).
if [[ $rc -eq 0 ]] && compgen -G "$spool/missing-*" >/dev/null; then touch "$spool/end-of-wal-stream"; fi
rm -f "$spool"/missing-*
exit $rc
`,
    { mode: 0o755 },
  );
  chownTree(path, USER);
}

async function main(): Promise<void> {
  const version = run(USER, `${BIN}/postgres`, ['--version']).stdout.trim();
  const { bucket } = splitDestination(plugin.configuration.destinationPath);
  s3 = await startS3Server([bucket]);
  const config: BarmanObjectStoreConfiguration = { ...plugin.configuration, endpointURL: s3.endpoint };
  const serverName = plugin.serverName;
  const maxParallel = Math.max(1, config.wal?.maxParallel ?? 1);
  console.log(`bench:restore on ${cpus().length} cores, ${fmt(totalmem() / GiB, 0)} GiB; ${version}; work folder ${work}`);
  console.log(`object store: s3rver ${s3.endpoint} (local disk, no network); ${config.destinationPath}, server name ${serverName}`);
  console.log(`  barman-cloud-wal-archive ${walArchiveOptions(config, serverName).join(' ')} %p`);
  console.log(`  barman-cloud-backup ${backupOptions(config, '<name>', serverName).join(' ')}`);
  console.log(`  barman-cloud-restore ${restoreOptions(config, serverName, '<backup id>', '<PGDATA>').join(' ')}`);
  console.log(`  barman-cloud-wal-restore ${walRestoreOptions(config, serverName).join(' ')} %f %p   (wal.maxParallel ${maxParallel})`);
  console.log(
    `server: the Cluster's parameters without extension settings (${['shared_buffers', 'max_wal_size', 'wal_compression', 'wal_level'].map((k) => `${k}=${plugin.parameters[k] ?? '-'}`).join(' ')}), data checksums ${plugin.dataChecksums ? 'on' : 'off'}\n`,
  );

  // The primary: archive_mode on, archiving to nowhere while the data is generated (that WAL is
  // before the backup), then to the store.
  progress('starting the primary... ');
  const data = join(dir('primary'), 'data');
  must(
    await exec(`${BIN}/initdb`, [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
      ...(plugin.dataChecksums ? ['--data-checksums'] : []),
    ]),
    'initdb',
  );
  writeFileSync(
    join(data, 'postgresql.conf'),
    `${readFileSync(join(data, 'postgresql.conf'), 'utf8')}
# bench:restore: the Cluster's parameters
${clusterConf()}
archive_mode = on
archive_command = 'true'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] '
`,
  );
  chownTree(data, USER);
  const primary = await startServer('primary', data, s3.env);
  console.log(`port ${primary.port}`);

  progress(`generating about ${SIZE_MB} MiB of random rows... `);
  const genStart = performance.now();
  const archiveCalls = join(dir('calls'), 'wal-archive');
  const restoreCalls = join(dir('calls'), 'wal-restore');
  const backupCalls = join(dir('calls'), 'backup');
  const baseRestoreCalls = join(dir('calls'), 'restore');
  psql(primary, 'CREATE TABLE payload (id bigint PRIMARY KEY, a text NOT NULL, b text NOT NULL)');
  const chunk = 200_000;
  const insert = (from: number, to: number) =>
    exec(
      `${BIN}/psql`,
      superuserPsqlArgs(
        primary.socketDir,
        primary.port,
        ['-q', '-v', 'ON_ERROR_STOP=1'],
        [
          '-c',
          `INSERT INTO payload SELECT g, md5(random()::text), md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) FROM generate_series(${from}, ${to}) g`,
        ],
      ),
    );
  must(await insert(1, chunk), 'insert');
  const perRow = Number(psql(primary, "SELECT pg_total_relation_size('payload')")) / chunk;
  const rows = Math.max(chunk, Math.round((SIZE_MB * MiB) / perRow));
  // Two writers at once (two cores here).
  for (let from = chunk + 1; from <= rows; from += 2 * chunk) {
    const second = from + chunk;
    await Promise.all([
      insert(from, Math.min(rows, from + chunk - 1)),
      second <= rows ? insert(second, Math.min(rows, second + chunk - 1)) : Promise.resolve(undefined),
    ]).then((r) => r.forEach((x) => x && must(x, 'insert')));
  }
  psql(primary, 'VACUUM ANALYZE payload');
  psql(primary, 'CHECKPOINT');
  const genSeconds = secondsSince(genStart);
  const dbBytes = Number(psql(primary, "SELECT pg_database_size('postgres')"));
  console.log(`done in ${fmt(genSeconds)} s: ${rows} rows, pg_database_size ${fmt(mib(dbBytes), 0)} MiB`);

  psql(
    primary,
    `ALTER SYSTEM SET archive_command = ${conf(timed(archiveCalls, `${shellQuote(['barman-cloud-wal-archive', ...walArchiveOptions(config, serverName)])} %p`))}`,
  );
  psql(primary, 'SELECT pg_reload_conf()');

  progress('barman-cloud-backup... ');
  const backupName = pluginBackupName();
  const backup = must(
    await execTimed(backupCalls, 'barman-cloud-backup', backupOptions(config, backupName, serverName), {
      ...s3.env,
      PGHOST: primary.socketDir,
      PGPORT: String(primary.port),
    }),
    'barman-cloud-backup',
  );
  const shown = JSON.parse(
    must(
      await exec('barman-cloud-backup-show', ['--format', 'json', ...catalogOptions(config), config.destinationPath, serverName, backupName], s3.env),
      'barman-cloud-backup-show',
    ).output,
  ) as Record<string, { backup_id: string; end_xlog: string }>;
  const info = Object.values(shown)[0]!;
  const storedBackup = diskBytes(join(s3.directory, bucket));
  console.log(`done in ${fmt(backup.seconds)} s: ${info.backup_id}, ${fmt(mib(storedBackup), 0)} MiB in the store (gzip)`);

  /** barman-cloud-restore, then PostgreSQL on it until it has promoted. */
  const restore = async (name: string, restoreCommand: string): Promise<Restore> => {
    const root = dir(name);
    const pgdata = join(root, 'data');
    progress(`${name}: barman-cloud-restore... `);
    const base = must(
      await execTimed(baseRestoreCalls, 'barman-cloud-restore', restoreOptions(config, serverName, info.backup_id, pgdata), s3!.env),
      'barman-cloud-restore',
    );
    const pgdataBytes = diskBytes(pgdata);
    console.log(`${fmt(base.seconds)} s, ${fmt(mib(pgdataBytes), 0)} MiB`);
    writeFileSync(
      join(pgdata, 'postgresql.conf'),
      `${readFileSync(join(pgdata, 'postgresql.conf'), 'utf8')}
# bench:restore: recovery (the new cluster archives elsewhere)
archive_mode = off
restore_command = ${conf(restoreCommand)}
recovery_target_timeline = 'latest'
recovery_target_action = 'promote'
`,
    );
    writeFileSync(join(pgdata, 'recovery.signal'), '');
    chownTree(pgdata, USER);
    progress(`${name}: PostgreSQL on it until it has promoted... `);
    const start = performance.now();
    const server = await startServer(name, pgdata, s3!.env);
    await until(`${name} to promote (log ${server.log})`, () => hasPromoted(USER, `${BIN}/psql`, server), 6 * 3600_000);
    const recovery = secondsSince(start);
    const log = recoveryLog(server.log);
    console.log(`${fmt(recovery)} s (${log.restored} WAL files restored${log.redo !== undefined ? `, redo ${fmt(log.redo)} s` : ''})`);
    await stopServer(server, 'fast');
    await rm(root, { recursive: true, force: true });
    return { base: base.seconds, pgdataBytes, recovery, log };
  };

  const plainCommand = `${shellQuote(['barman-cloud-wal-restore', ...walRestoreOptions(config, serverName)])} %f %p`;
  const first = await restore('restore-1', plainCommand);

  let replay: { walBytes: number; archiveSeconds: number; plain: Restore; prefetch: Restore | undefined } | undefined;
  if (WAL_MB > 0) {
    const clients = Math.max(2, cpus().length * 2);
    const script = join(dir('pgbench'), 'update.sql');
    writeFileSync(script, `\\set id random(1, ${rows})\nUPDATE payload SET a = md5(random()::text) WHERE id = :id;\n`);
    chownTree(script, USER);
    progress(`writing ${WAL_MB} MiB of WAL: random UPDATEs, pgbench ${clients} clients in 10 s rounds... `);
    const before = lsnBytes(psql(primary, 'SELECT pg_current_wal_insert_lsn()'));
    const writeStart = performance.now();
    while (lsnBytes(psql(primary, 'SELECT pg_current_wal_insert_lsn()')) - before < WAL_MB * MiB) {
      must(
        await exec(`${BIN}/pgbench`, [
          '-n',
          '-f',
          script,
          '-c',
          String(clients),
          '-j',
          String(Math.min(clients, cpus().length)),
          '-T',
          '10',
          '-h',
          primary.socketDir,
          '-p',
          String(primary.port),
          '-U',
          'postgres',
          'postgres',
        ]),
        'pgbench',
      );
    }
    const walBytes = lsnBytes(psql(primary, 'SELECT pg_current_wal_insert_lsn()')) - before;
    const last = psql(primary, 'SELECT pg_walfile_name(pg_switch_wal())');
    const writeSeconds = secondsSince(writeStart);
    console.log(`${fmt(mib(walBytes), 0)} MiB in ${fmt(writeSeconds)} s`);
    progress(`waiting for the archiver (barman-cloud-wal-archive, one segment per call) to reach ${last}... `);
    await until(`${last} to be archived`, () => psql(primary, 'SELECT last_archived_wal FROM pg_stat_archiver') >= last, 6 * 3600_000, 500);
    const archiveSeconds = secondsSince(writeStart);
    console.log(`done ${fmt(archiveSeconds)} s after the writes began`);
    await stopServer(primary, 'immediate');
    const plain = await restore('restore-2', timed(restoreCalls, plainCommand));
    let prefetch: Restore | undefined;
    if (PREFETCH && maxParallel > 1) {
      const wrapper = join(dir('prefetch'), 'restore-wal.sh');
      prefetchingRestoreCommand(wrapper, walRestoreOptions(config, serverName), maxParallel, dir('prefetch', 'spool'));
      prefetch = await restore('restore-3', `${wrapper} %f %p`);
    }
    replay = { walBytes, archiveSeconds, plain, prefetch };
  }

  // Results.
  const row = (label: string, amount: string, rate: string, what: string) =>
    console.log(`${label.padEnd(22)}${amount.padStart(10)}  ${rate.padStart(12)}  ${what}`.trimEnd());
  const rate = (mibPerSecond: number) => `${fmt(mibPerSecond)} MiB/s`;
  const baseRate = mib(first.pgdataBytes) / first.base;
  console.log('\nresults');
  row(
    'database',
    `${fmt(mib(dbBytes), 0)} MiB`,
    '',
    `pg_database_size (${fmt(dbBytes / GiB, 2)} GiB), ${rows} rows of random hex; PGDATA restored: ${fmt(mib(first.pgdataBytes), 0)} MiB`,
  );
  row('data generation', `${fmt(genSeconds)} s`, rate(mib(dbBytes) / genSeconds), 'INSERT ... generate_series, two writers, VACUUM, CHECKPOINT');
  row(
    'base backup',
    `${fmt(backup.seconds)} s`,
    rate(mib(dbBytes) / backup.seconds),
    `barman-cloud-backup (gzip, jobs ${config.data?.jobs ?? 2}); ${fmt(mib(storedBackup), 0)} MiB stored`,
  );
  row(
    'base restore',
    `${fmt(first.base)} s`,
    rate(baseRate),
    `barman-cloud-restore, MiB of PGDATA per second${replay ? ` (again: ${fmt(replay.plain.base)} s${replay.prefetch ? `, ${fmt(replay.prefetch.base)} s` : ''})` : ''}`,
  );
  row(
    'start after restore',
    `${fmt(first.recovery)} s`,
    '',
    `pg_ctl start to promoted: the backup's own WAL (${first.log.restored} files restored), new timeline, end-of-recovery checkpoint`,
  );
  /** Recovery time per WAL file restored: fetch and replay. */
  const perSegment = (r: Restore) => r.recovery / Math.max(1, r.log.restored);
  if (replay) {
    const walMiB = mib(replay.walBytes);
    row(
      'WAL written',
      `${fmt(walMiB, 0)} MiB`,
      '',
      `${replay.plain.log.restored} segments restored (random UPDATEs after the backup); archived (one barman-cloud-wal-archive per segment) ${fmt(replay.archiveSeconds)} s after the writes began`,
    );
    row(
      'WAL replay, plain',
      `${fmt(replay.plain.recovery)} s`,
      rate(walMiB / replay.plain.recovery),
      `restore_command = barman-cloud-wal-restore: ${fmt(perSegment(replay.plain), 2)} s per segment (fetch + replay)${replay.plain.log.redo !== undefined ? `; redo ${fmt(replay.plain.log.redo)} s in the server's log` : ''}`,
    );
    if (replay.prefetch) {
      row(
        `WAL replay, prefetch ${maxParallel}`,
        `${fmt(replay.prefetch.recovery)} s`,
        rate(walMiB / replay.prefetch.recovery),
        `as the plugin with wal.maxParallel ${maxParallel}: ${fmt(perSegment(replay.prefetch), 2)} s per segment${replay.prefetch.log.redo !== undefined ? `; redo ${fmt(replay.prefetch.log.redo)} s` : ''}`,
      );
    }
  }

  // One barman-cloud call, against the sidecar that runs it in the pod (the ObjectStore's
  // instanceSidecarConfiguration.resources).
  const limits = plugin.sidecarResources?.limits;
  const cpuLimit = cores(limits?.cpu);
  const memoryLimit = memoryMiB(limits?.memory);
  console.log('');
  const cost: Record<string, Calls | undefined> = {};
  for (const [program, file] of [
    ['barman-cloud-backup', backupCalls],
    ['barman-cloud-restore', baseRestoreCalls],
    ['barman-cloud-wal-archive', archiveCalls],
    ['barman-cloud-wal-restore', restoreCalls],
  ] as const) {
    const c = (cost[program] = calls(file));
    if (!c) continue;
    const atLimit = cpuLimit ? `; at the sidecar's CPU limit ${limits?.cpu}: >= ${fmt(c.cpu / cpuLimit)} s per call` : '';
    const memory = memoryLimit
      ? `; sidecar memory limit ${limits?.memory}${c.maxRssMiB > memoryLimit ? ': EXCEEDED, the container would be OOM-killed' : ' not reached'}`
      : '';
    row(
      program.replace('barman-cloud-', 'call: '),
      `${fmt(c.wall, 2)} s`,
      `${fmt(c.cpu, 2)} CPU s`,
      `per call (${c.count}, /usr/bin/time): max RSS ${fmt(c.maxRssMiB)} MiB${memory}${atLimit}`,
    );
  }

  // RTO: the base restore of 50 GiB at the measured rate (PGDATA MiB per second), the start-up
  // with the backup's WAL as measured, and one day of WAL.
  const archiveTimeout = seconds(plugin.archiveTimeout);
  const forcedSegments = Math.ceil(86400 / archiveTimeout);
  const writtenSegments = Math.ceil((WAL_GB_PER_DAY * GiB) / SEGMENT);
  const daySegments = Math.max(forcedSegments, writtenSegments);
  const baseMinutes = (RTO_SIZE_GIB * 1024) / baseRate / 60;
  console.log('');
  row(
    `RTO ${RTO_SIZE_GIB} GiB, base`,
    `${fmt(baseMinutes + first.recovery / 60)} min`,
    '',
    `${RTO_SIZE_GIB} GiB / ${rate(baseRate)} + the start-up measured above`,
  );
  if (replay) {
    for (const [label, r] of [
      ['plain', replay.plain],
      [`prefetch ${maxParallel}`, replay.prefetch],
    ] as const) {
      if (!r) continue;
      const walMinutes = (daySegments * perSegment(r)) / 60;
      row(
        `RTO + 1 day, ${label}`,
        `${fmt(baseMinutes + first.recovery / 60 + walMinutes)} min`,
        '',
        `+ ${daySegments} segments x ${fmt(perSegment(r), 2)} s = ${fmt(walMinutes)} min of WAL replay`,
      );
    }
  }
  const restoreCost = cost['barman-cloud-restore'];
  const walCost = cost['barman-cloud-wal-restore'];
  if (cpuLimit && restoreCost && walCost && replay) {
    // CPU-bound in the sidecar: each call's CPU time at the limit, or the measured time if longer.
    const cpuPerMiB = restoreCost.cpu / mib(first.pgdataBytes);
    const baseAtLimit = Math.max((RTO_SIZE_GIB * 1024 * cpuPerMiB) / cpuLimit, (RTO_SIZE_GIB * 1024) / baseRate) / 60;
    const segmentAtLimit = Math.max(walCost.cpu / cpuLimit, perSegment(replay.plain));
    row(
      `RTO at sidecar ${limits?.cpu}`,
      `${fmt(baseAtLimit + (daySegments * segmentAtLimit) / 60)} min`,
      '',
      `the sidecar's CPU limit (barman-cloud runs there, in the recovery Job too): base ${fmt(baseAtLimit)} min (${fmt(cpuPerMiB * 1024)} CPU s per GiB) + ${daySegments} x ${fmt(segmentAtLimit, 2)} s; prefetching does not help a CPU-bound sidecar`,
    );
  }
  console.log(
    `${'assumes'.padEnd(22)}the last base backup is one day old (daily ScheduledBackup); a day of WAL is max(${forcedSegments} segments: archive_timeout ${plugin.archiveTimeout} ` +
      `switches at least once a minute while anything writes, ${writtenSegments} segments: BENCH_RESTORE_WAL_GB_PER_DAY=${WAL_GB_PER_DAY} GiB written) = ${daySegments} segments, each costing what a full ` +
      `segment of random UPDATEs cost here (a mostly empty forced segment replays faster, but costs the same fetch); time linear in size; this machine's CPU and disk; ` +
      `the store is s3rver on local disk: a real S3 bucket adds latency per request and caps one stream's bandwidth, so the fetch cost per segment is a floor`,
  );
  row('total runtime', `${fmt(secondsSince(startedAt))} s`, '', '');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (!cleaning) console.error(`\nbench:restore: ${signal}, cleaning up`);
    interrupted = true;
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

void main()
  .catch((error: unknown) => {
    if (!interrupted) console.error('\nbench:restore failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
