// Backup and restore speed of the platform's own scripts, on this machine: base-backup.sh,
// restore-postgres.sh and stream-wal.sh exactly as the backup-scripts ConfigMap ships them, run
// with the environment the CronJob and the restore Job give them, against a real PostgreSQL 15
// holding a generated database of a chosen size (pgbench tables, logged, so every byte is in the
// backup). Prints the time of each step and MiB/s (database size / seconds), then extrapolates
// the restore time (RTO) of a 50 GiB database. Prints numbers; asserts nothing.
//
// Steps: a primary (initdb, the chart's PGTune settings for a pod of a third of this machine,
// plus what backups need); pgbench -i -s <scale> and a checkpoint; stream-wal.sh running, as in
// production; base-backup.sh; restore-postgres.sh into an empty PGDATA with RESTORE_WAL_COPY
// beside it (as the restore Job does) and a server started on it until it has promoted; then
// pgbench TPC-B writes WAL after the backup and a second restore replays it, for the replay rate.
// Everything (servers, streamer, temporary folders) is removed at the end, also on failure.
//   npm run bench:restore [-- --scale N (70: about 1 GiB)] [-- --wal-seconds S (20; 0 skips the replay run)]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { SCRIPTS_CONFIG_MAP } from '../charts/backup/backup-chart';
import { tune } from '../charts/postgres/tuning';
import { configMapData } from '../tests/helpers';
import { backupScriptEnv } from '../tests/integration/backup-env';
import { asUser, chownTree, freePort, run, tempDirFor } from '../tests/integration/processes';

const BIN = '/usr/lib/postgresql/15/bin';
const USER = 'postgres';
/** What the chart sets: the backup role (its password: any value here) and the slot. */
const BACKUP_ROLE = 'platform_backup';
const BACKUP_PASSWORD = 'bench-backup-password';
const WAL_SLOT = 'platform_wal_stream';
const SCRIPTS = ['stream-wal.sh', 'base-backup.sh', 'prune-backups.sh', 'restore-postgres.sh'] as const;
/** As the tests run the scripts: PostgreSQL 15's programs first (the image has them on PATH). */
const SCRIPT_PATH = `${BIN}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const RTO_SIZE_GIB = 50;

function option(name: string, fallback: number, min: number): number {
  const args = process.argv.slice(2);
  const at = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return fallback;
  const raw = args[at]!.includes('=') ? args[at]!.split('=')[1] : args[at + 1];
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`bench:restore: --${name} needs a whole number of at least ${min}, got '${raw ?? ''}'`);
    process.exit(2);
  }
  return value;
}
const SCALE = option('scale', 70, 1);
const WAL_SECONDS = option('wal-seconds', 20, 0);

for (const program of ['postgres', 'pgbench', 'pg_basebackup', 'pg_receivewal', 'pg_verifybackup', 'pg_archivecleanup']) {
  if (!existsSync(`${BIN}/${program}`)) {
    console.error(`bench:restore needs PostgreSQL 15 (${BIN}/${program}): apt-get install -y postgresql-15`);
    process.exit(1);
  }
}

// The primary's resources: the chart's tuning for a pod of a third of this machine's memory and
// all its cores, as bench:postgres uses. The restored servers run the same postgresql.conf (it is
// in the backup).
const profile = { memoryBytes: Math.floor(totalmem() / 3 / GiB) * GiB, cpuCores: cpus().length, maxConnections: 100, profile: 'web' as const, storageType: 'ssd' as const };
const tuning = tune(profile);

interface Server {
  readonly name: string;
  readonly data: string;
  readonly port: number;
  readonly socketDir: string;
  readonly log: string;
}

/** A line a command printed, with the milliseconds since the command started. */
interface Line {
  readonly ms: number;
  readonly text: string;
}

interface Ran {
  readonly status: number | null;
  readonly seconds: number;
  readonly lines: Line[];
}

const startedAt = performance.now();
// The scripts as the production ConfigMap ships them: rendered (synchronously, a second or two)
// before anything exists that would need cleaning up.
const shipped = configMapData('production', SCRIPTS_CONFIG_MAP);
const work = tempDirFor(USER, 'bench-restore-');
const servers: Server[] = [];
const running = new Set<ChildProcess>();
let streamer: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secondsSince = (start: number) => (performance.now() - start) / 1000;
const fmt = (x: number, digits = 1) => x.toFixed(digits);
const mib = (bytes: number) => bytes / MiB;
const progress = (text: string) => process.stdout.write(`[${fmt(secondsSince(startedAt), 0).padStart(4)} s] ${text}`);

/** A folder under the benchmark's temporary folder, owned by the postgres user. */
function dir(...parts: string[]): string {
  const path = join(work, ...parts);
  mkdirSync(path, { recursive: true });
  chownTree(path, USER);
  return path;
}

/**
 * Runs a command as the postgres user, to completion, timing it and each line it prints. With
 * `clean`, the command sees only `env` (a script sees what its pod would give it), else our
 * environment plus `env`.
 */
function exec(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, clean = false): Promise<Ran> {
  const [cmd, argv] = asUser(USER, command, args);
  const start = performance.now();
  const child = spawn(cmd, argv, { env: clean ? env : { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: Line[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      const ms = performance.now() - start;
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const text of parts) lines.push({ ms, text });
    });
    stream.on('end', () => {
      if (pending) lines.push({ ms: performance.now() - start, text: pending });
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => {
      running.delete(child);
      resolve({ status, seconds: secondsSince(start), lines });
    });
  });
}

function must(ran: Ran, what: string): Ran {
  if (ran.status !== 0) throw new Error(`${what} failed (exit ${ran.status}):\n${ran.lines.map((l) => l.text).join('\n')}`);
  return ran;
}

function tail(path: string, lines = 30): string {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n') : `(no ${path})`;
}

function psql(server: Server, sql: string): string {
  const out = run(USER, `${BIN}/psql`, ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', server.socketDir, '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-c', sql]);
  if (out.status !== 0) throw new Error(`psql on ${server.name} failed: ${out.stderr}\n${sql}`);
  return out.stdout.trim();
}

/** Polls `check` until it returns true. */
async function until(what: string, check: () => boolean, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The environment the chart gives the backup pods (from the synthesised CronJob), for the primary on `port`. */
const backupEnv = (backupRoot: string, port: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
  backupScriptEnv('production', { backupRoot, port, password: BACKUP_PASSWORD }, extra);

async function startServer(name: string, data: string): Promise<Server> {
  const server: Server = { name, data, port: await freePort(), socketDir: dir(name, 'run'), log: join(dir(name), 'server.log') };
  servers.push(server);
  const options = `-p ${server.port} -c unix_socket_directories=${server.socketDir}`;
  const started = await exec(`${BIN}/pg_ctl`, ['-D', data, '-l', server.log, '-w', '-t', '600', '-o', options, 'start']);
  if (started.status !== 0) throw new Error(`starting ${name} failed:\n${started.lines.map((l) => l.text).join('\n')}\n${tail(server.log)}`);
  return server;
}

async function stopServer(server: Server, mode: 'fast' | 'immediate'): Promise<void> {
  if (existsSync(join(server.data, 'postmaster.pid'))) await exec(`${BIN}/pg_ctl`, ['-D', server.data, '-m', mode, '-w', '-t', '120', 'stop']);
}

/** The primary: what base backups need, the backup role, our superuser over the socket. */
async function newPrimary(): Promise<Server> {
  const data = join(dir('primary'), 'data');
  must(await exec(`${BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C.UTF-8']), 'initdb');
  writeFileSync(
    join(data, 'postgresql.conf'),
    `${readFileSync(join(data, 'postgresql.conf'), 'utf8')}
# bench:restore: the chart's PGTune settings for ${profile.memoryBytes / GiB} GiB / ${profile.cpuCores} CPU
${tuning.map((s) => `${s.name} = '${s.value}'`).join('\n')}
# what base backups and the WAL stream need
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
listen_addresses = '127.0.0.1'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] '
`,
  );
  writeFileSync(join(data, 'pg_hba.conf'), `local all postgres trust\nhost replication ${BACKUP_ROLE} 127.0.0.1/32 scram-sha-256\n`);
  chownTree(data, USER);
  const server = await startServer('primary', data);
  psql(server, `CREATE ROLE ${BACKUP_ROLE} LOGIN REPLICATION PASSWORD '${BACKUP_PASSWORD}'`);
  return server;
}

/** stream-wal.sh in the background, in its own process group (a signal reaches pg_receivewal). */
async function startStreamer(primary: Server, backupRoot: string): Promise<void> {
  const [command, args] = asUser(USER, 'bash', [join(work, 'scripts', 'stream-wal.sh')]);
  const child = spawn(command, args, { detached: true, env: backupEnv(backupRoot, primary.port), stdio: ['ignore', 'pipe', 'pipe'] });
  streamer = child;
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  await until(
    `stream-wal.sh to make slot ${WAL_SLOT} active`,
    () => {
      if (child.exitCode !== null) throw new Error(`stream-wal.sh exited ${child.exitCode}:\n${output}`);
      return psql(primary, `SELECT active FROM pg_replication_slots WHERE slot_name = '${WAL_SLOT}'`) === 't';
    },
    30_000,
  );
}

/** SIGINT to the streamer's process group (pg_receivewal exits 0 on it), then waits for it. */
async function stopStreamer(): Promise<void> {
  const child = streamer;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(-child.pid!, 'SIGINT');
  if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) process.kill(-child.pid!, 'SIGKILL');
}

/** Waits until pg_receivewal has confirmed everything the primary has flushed. */
async function waitStreamed(primary: Server): Promise<void> {
  const lsn = psql(primary, 'SELECT pg_current_wal_flush_lsn()');
  await until(`the WAL stream to confirm ${lsn}`, () => psql(primary, `SELECT restart_lsn >= '${lsn}' FROM pg_replication_slots WHERE slot_name = '${WAL_SLOT}'`) === 't', 120_000);
}

/**
 * Stops whatever still runs and removes the work folder; once, whoever asks first (the end of
 * main, a failure, Ctrl-C). Asynchronous on purpose: tsx kills its child with SIGKILL when the
 * child does not take a signal within about 60 ms, which a synchronous clean-up would not.
 */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (streamer && streamer.exitCode === null && streamer.signalCode === null) {
      try {
        process.kill(-streamer.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // runuser passes SIGTERM on to the program it runs.
    for (const child of running) child.kill('SIGTERM');
    for (const server of servers) await stopServer(server, 'immediate');
    await rm(work, { recursive: true, force: true });
  })();
  return cleaning;
}

const lsnBytes = (lsn: string) => {
  const [hi = '0', lo = '0'] = lsn.split('/');
  return parseInt(hi, 16) * 2 ** 32 + parseInt(lo, 16);
};

/** du: bytes a folder occupies on disk. */
const diskBytes = (path: string) => Number(spawnSync('du', ['-s', '--block-size=1', path], { encoding: 'utf8' }).stdout.split('\t')[0]);

/** Milliseconds (since the command started) of the first line matching `pattern`. */
const lineAt = (ran: Ran, pattern: RegExp) => ran.lines.find((l) => pattern.test(l.text))?.ms;

/** What a restored server's log says about its recovery (log_line_prefix '%m', UTC). */
interface Recovery {
  /** Start of the postmaster to "redo starts" (includes the fsync of the whole data directory). */
  readonly beforeRedo: number;
  /** Replay, as the server measured it. */
  readonly redo: number;
  /** "redo done" to "ready to accept connections": new timeline, end-of-recovery checkpoint (immediate, waited for). */
  readonly afterRedo: number;
}

function recoveryFromLog(log: string): Recovery | undefined {
  const events = readFileSync(log, 'utf8')
    .split('\n')
    .map((l) => /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) UTC \[\d+\] LOG: {2}(.*)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ at: Date.parse(`${m[1]}T${m[2]}Z`) / 1000, text: m[3]! }));
  const find = (pattern: RegExp) => events.find((e) => pattern.test(e.text));
  const start = find(/^starting PostgreSQL/);
  const redoStart = find(/^redo starts at/);
  const redoDone = find(/^redo done at/);
  const ready = find(/^database system is ready to accept connections/);
  if (!start || !redoStart || !redoDone || !ready) return undefined;
  const elapsed = Number(/elapsed: ([\d.]+) s/.exec(redoDone.text)?.[1] ?? redoDone.at - redoStart.at);
  return { beforeRedo: redoStart.at - start.at, redo: elapsed, afterRedo: ready.at - redoDone.at };
}

interface Restore {
  readonly script: number;
  readonly verify: number | undefined;
  readonly copy: number | undefined;
  readonly walFiles: number;
  readonly recovery: number;
  readonly log: Recovery | undefined;
}

/** restore-postgres.sh as the restore Job runs it, then a server on the result until it has promoted. */
async function restore(name: string, backupRoot: string): Promise<Restore> {
  const root = dir(name);
  const pgdata = join(root, 'pgdata');
  const env = {
    PATH: SCRIPT_PATH,
    BACKUP_ROOT: backupRoot,
    PGDATA: pgdata,
    RESTORE_WAL_COPY: join(root, 'restore-wal'),
    RESTORE_BACKUP: 'latest',
    RESTORE_TARGET_TIME: '',
    RESTORE_TARGET_NAME: '',
    RESTORE_FORCE: 'false',
  };
  progress(`${name}: restore-postgres.sh... `);
  const ran = must(await exec('bash', [join(work, 'scripts', 'restore-postgres.sh')], env, true), 'restore-postgres.sh');
  const verifying = lineAt(ran, /restore-postgres: verifying backup/);
  const verified = lineAt(ran, /restore-postgres: verified:/);
  const copying = lineAt(ran, /restore-postgres: copying /);
  const copied = ran.lines.find((l) => /restore-postgres: copied \d+ WAL files/.test(l.text));
  console.log(`done in ${fmt(ran.seconds)} s`);

  progress(`${name}: starting PostgreSQL on the restored data until it has promoted... `);
  const start = performance.now();
  const server = await startServer(name, pgdata);
  await until(
    `${name} to finish recovery and promote (log: ${server.log})`,
    () => {
      if (!existsSync(join(pgdata, 'postmaster.pid'))) throw new Error(`${name} stopped during recovery:\n${tail(server.log)}`);
      return run(USER, `${BIN}/psql`, ['-X', '-At', '-h', server.socketDir, '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT pg_is_in_recovery()']).stdout.trim() === 'f';
    },
    600_000,
  );
  const recovery = secondsSince(start);
  console.log(`promoted in ${fmt(recovery)} s`);
  const result: Restore = {
    script: ran.seconds,
    verify: verifying !== undefined && verified !== undefined ? (verified - verifying) / 1000 : undefined,
    // The base copy, the recovery settings, the check of the WAL for gaps and its copy beside
    // PGDATA: the script logs nothing in between.
    copy: copying !== undefined && copied !== undefined ? (copied.ms - copying) / 1000 : undefined,
    walFiles: Number(/copied (\d+) WAL files/.exec(copied?.text ?? '')?.[1] ?? 0),
    recovery,
    log: recoveryFromLog(server.log),
  };
  await stopServer(server, 'fast');
  await rm(root, { recursive: true, force: true });
  return result;
}

async function main(): Promise<void> {
  const version = run(USER, `${BIN}/postgres`, ['--version']).stdout.trim();
  const pick = (name: string) => tuning.find((s) => s.name === name)?.value;
  console.log(`bench:restore on ${cpus().length} cores, ${fmt(totalmem() / GiB, 0)} GiB; ${version}; work folder ${work}`);
  console.log(`scripts: ${SCRIPTS.join(', ')} from ConfigMap ${SCRIPTS_CONFIG_MAP} (production), run with bash as the ${USER} user`);
  console.log(
    `server: ${profile.memoryBytes / GiB} GiB / ${profile.cpuCores} CPU tuning (${['shared_buffers', 'max_wal_size', 'wal_compression'].map((n) => `${n}=${pick(n)}`).join(' ')}), wal_level=replica; data: pgbench -i -s ${SCALE} (logged tables)\n`,
  );

  const scriptsDir = dir('scripts');
  for (const name of SCRIPTS) {
    const text = shipped[name];
    if (!text) throw new Error(`ConfigMap ${SCRIPTS_CONFIG_MAP} has no ${name}`);
    writeFileSync(join(scriptsDir, name), text, { mode: 0o755 });
  }
  chownTree(scriptsDir, USER);

  progress('starting the primary... ');
  const primary = await newPrimary();
  console.log(`port ${primary.port}`);

  progress(`generating data: pgbench -i -s ${SCALE}, then CHECKPOINT... `);
  const genStart = performance.now();
  must(await exec(`${BIN}/pgbench`, ['-i', '-q', '-s', String(SCALE), '-h', primary.socketDir, '-p', String(primary.port), '-U', 'postgres', 'postgres']), 'pgbench -i');
  psql(primary, 'CHECKPOINT');
  const genSeconds = secondsSince(genStart);
  const dbBytes = Number(psql(primary, "SELECT pg_database_size('postgres')"));
  const clusterBytes = Number(psql(primary, 'SELECT sum(pg_database_size(oid)) FROM pg_database'));
  console.log(`done in ${fmt(genSeconds)} s: pg_database_size ${fmt(mib(dbBytes), 0)} MiB`);

  const backupRoot = dir('backups');
  progress('starting stream-wal.sh... ');
  await startStreamer(primary, backupRoot);
  console.log('streaming');

  progress('base-backup.sh (RETAIN_COUNT=1, RETAIN_DAYS=1)... ');
  const backup = must(await exec('bash', [join(scriptsDir, 'base-backup.sh')], backupEnv(backupRoot, primary.port, { RETAIN_COUNT: '1', RETAIN_DAYS: '1' }), true), 'base-backup.sh');
  const basebackupDone = lineAt(backup, /pg_basebackup: base backup completed/);
  const verifiedAt = lineAt(backup, /base-backup: verified:/);
  const checkpointDone = lineAt(backup, /pg_basebackup: checkpoint completed/);
  const backupName = readFileSync(join(backupRoot, 'status', 'last-base-backup'), 'utf8').trim().split(' ')[1]!;
  const backupBytes = diskBytes(join(backupRoot, 'base', backupName));
  console.log(`done in ${fmt(backup.seconds)} s: ${backupName}, ${fmt(mib(backupBytes), 0)} MiB on disk`);

  const first = await restore('restore-1', backupRoot);

  let replay: { walBytes: number; restore: Restore } | undefined;
  if (WAL_SECONDS > 0) {
    const clients = Math.max(2, cpus().length * 2);
    progress(`writing WAL after the backup: pgbench TPC-B ${clients} clients ${WAL_SECONDS} s... `);
    const before = lsnBytes(psql(primary, 'SELECT pg_current_wal_lsn()'));
    must(
      await exec(`${BIN}/pgbench`, ['-c', String(clients), '-j', String(Math.min(clients, cpus().length)), '-T', String(WAL_SECONDS), '-h', primary.socketDir, '-p', String(primary.port), '-U', 'postgres', 'postgres']),
      'pgbench',
    );
    await waitStreamed(primary);
    const walBytes = lsnBytes(psql(primary, 'SELECT pg_current_wal_lsn()')) - before;
    console.log(`${fmt(mib(walBytes), 0)} MiB of WAL, streamed`);
    replay = { walBytes, restore: await restore('restore-2', backupRoot) };
  }
  await stopStreamer();

  const dbMiB = mib(dbBytes);
  const restoreSeconds = first.script + first.recovery;
  const restoreRate = dbMiB / restoreSeconds;
  // The server's own measure of the replay (its log's "redo done ... elapsed"), else the growth
  // of the recovery time; of the WAL the primary wrote during pgbench (the LSN span of the redo
  // would also count the unused rest of the segment the backup's end switched away from).
  const replayRate = replay && mib(replay.walBytes) / (replay.restore.log?.redo || Math.max(0.001, replay.restore.recovery - first.recovery));
  const rtoMinutes = (RTO_SIZE_GIB * 1024) / restoreRate / 60;

  /** One result line: label, an amount, a rate (either may be empty), what it is. */
  const row = (label: string, amount: string, rate: string, what: string) => console.log(`${label.padEnd(18)}${amount.padStart(10)}  ${rate.padStart(12)}  ${what}`.trimEnd());
  const parts = (items: [string, number | undefined][]) => {
    const known = items.filter(([, seconds]) => seconds !== undefined).map(([label, seconds]) => `${label} ${fmt(seconds!)} s`);
    return known.length ? ` (${known.join(', ')})` : '';
  };
  const recoveryParts = (r: Recovery | undefined) =>
    r ? parts([['start-up incl. fsync of PGDATA', r.beforeRedo], ['redo', r.redo], ['new timeline + end-of-recovery checkpoint', r.afterRedo]]) : ' (no recovery timings in the server log)';
  const rate = (mibPerSecond: number) => `${fmt(mibPerSecond)} MiB/s`;

  console.log('\nresults');
  row('database', `${fmt(dbMiB, 0)} MiB`, '', `pg_database_size (${fmt(dbBytes / GiB, 2)} GiB; all databases ${fmt(mib(clusterBytes), 0)} MiB), pgbench -i -s ${SCALE}`);
  row('data generation', `${fmt(genSeconds)} s`, rate(dbMiB / genSeconds), 'pgbench -i (client-side COPY, vacuum, primary keys) + CHECKPOINT');
  row(
    'base backup',
    `${fmt(backup.seconds)} s`,
    rate(dbMiB / backup.seconds),
    `base-backup.sh, ${fmt(mib(backupBytes), 0)} MiB on disk` +
      parts([
        ['checkpoint', checkpointDone !== undefined ? checkpointDone / 1000 : undefined],
        ['pg_basebackup copy', basebackupDone !== undefined ? (basebackupDone - (checkpointDone ?? 0)) / 1000 : undefined],
        ['pg_verifybackup', basebackupDone !== undefined && verifiedAt !== undefined ? (verifiedAt - basebackupDone) / 1000 : undefined],
        ['rename/du/prune', verifiedAt !== undefined ? backup.seconds - verifiedAt / 1000 : undefined],
      ]),
  );
  row('restore script', `${fmt(first.script)} s`, rate(dbMiB / first.script), `restore-postgres.sh${parts([['pg_verifybackup', first.verify], [`copy of the backup and ${first.walFiles} WAL file${first.walFiles === 1 ? '' : 's'}`, first.copy]])}`);
  row('restore recovery', `${fmt(first.recovery)} s`, '', `pg_ctl start to pg_is_in_recovery() = false${recoveryParts(first.log)}`);
  row('restore total', `${fmt(restoreSeconds)} s`, rate(restoreRate), 'script + recovery: the database serves again');
  if (replay && replayRate !== undefined) {
    const r = replay.restore;
    row(
      'WAL replay',
      `${fmt(mib(replay.walBytes), 0)} MiB`,
      rate(replayRate),
      `WAL of ${WAL_SECONDS} s of pgbench TPC-B after the backup, second restore: script ${fmt(r.script)} s, recovery ${fmt(r.recovery)} s${recoveryParts(r.log)}`,
    );
  }
  row(
    `RTO ${RTO_SIZE_GIB} GiB`,
    `${fmt(rtoMinutes)} min`,
    '',
    `${RTO_SIZE_GIB} GiB / ${rate(restoreRate)}` + (replayRate ? `, + ${fmt(1024 / replayRate / 60, 2)} min per GiB of WAL written since the last base backup` : ', + the replay of the WAL written since the last base backup'),
  );
  console.log(
    `${'assumes'.padEnd(18)}time linear in size; this machine's disk and CPU; here the ${fmt(dbBytes / GiB, 2)} GiB database and its backup fit in the page cache ` +
      `(${fmt(totalmem() / GiB, 0)} GiB RAM), a ${RTO_SIZE_GIB} GiB one would be read from disk; WAL replay since the last base backup comes on top`,
  );
  row('total runtime', `${fmt(secondsSince(startedAt))} s`, '', '');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // on, not once: tsx repeats a signal its child seems slow to take, and the child exits at
  // once on a signal nobody listens to.
  process.on(signal, () => {
    if (!cleaning) console.error(`\nbench:restore: ${signal}, cleaning up`);
    interrupted = true;
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

void main()
  .catch((error: unknown) => {
    // After a signal, what failed is only the step the signal broke.
    if (!interrupted) console.error('\nbench:restore failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
