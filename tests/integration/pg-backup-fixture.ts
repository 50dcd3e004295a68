// Real PostgreSQL 15 servers, WAL streamers and backup scripts for the backup tests: each test
// file gets a fixture with its own temporary folder, the scripts exactly as the backup chart's
// ConfigMap ships them, and helpers to start clusters, stream WAL and run the scripts with the
// environment the chart gives them. Everything runs as the unprivileged "postgres" user when root.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { SCRIPTS_CONFIG_MAP } from '../../charts/backup/backup-chart';
import { configMapData } from '../helpers';
import { backupScriptEnv, PG_BIN } from './backup-env';
import { asUser, chownTree, freePort, run, tempDirFor } from './processes';
import { program } from './tools';

export const BIN = PG_BIN;
export const OS_USER = 'postgres';
/** What the chart sets: the backup role and the slot; the password is any value here. */
export const BACKUP_ROLE = 'platform_backup';
export const BACKUP_PASSWORD = 'test-backup-password';
export const WAL_SLOT = 'platform_wal_stream';

/** The programs every backup test needs. */
export const PG_BACKUP_TOOLS = [
  program(`${BIN}/postgres`, 'postgresql-15'),
  program(`${BIN}/pg_basebackup`, 'postgresql-client-15'),
  program(`${BIN}/pg_receivewal`, 'postgresql-client-15'),
  program(`${BIN}/pg_verifybackup`, 'postgresql-client-15'),
  program(`${BIN}/pg_archivecleanup`, 'postgresql-client-15'),
  program('bash', 'bash'),
];

/** A running (or crashed) PostgreSQL server of a test. */
export interface Server {
  readonly data: string;
  readonly port: number;
  readonly socketDir: string;
  readonly log: string;
  /** The role the test's psql uses over the socket (trusted). */
  readonly superuser: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns something other than undefined/false. */
export async function until<T>(what: string | (() => string), check: () => T | undefined | false, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(everyMs);
  }
}

export function tail(path: string, lines = 30): string {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n') : `(no ${path})`;
}

/** A test file's servers, streamers and scripts; call `setUp` in beforeAll and `tearDown` in afterAll. */
export class PgBackupFixture {
  work = '';
  scriptsDir = '';
  /** Every server started, stopped at tear-down. */
  readonly servers: Server[] = [];
  private readonly children: ChildProcess[] = [];

  constructor(
    private readonly prefix: string,
    private readonly scripts: readonly string[],
  ) {}

  /** Copies the shipped scripts (production's ConfigMap) into the test's folder. */
  setUp(): void {
    this.work = tempDirFor(OS_USER, this.prefix);
    this.scriptsDir = this.dir('scripts');
    const shipped = configMapData('production', SCRIPTS_CONFIG_MAP);
    for (const name of this.scripts) {
      expect(shipped[name], `the ConfigMap ${SCRIPTS_CONFIG_MAP} ships ${name}`).toBeTruthy();
      writeFileSync(join(this.scriptsDir, name), shipped[name]!, { mode: 0o755 });
    }
    chownTree(this.scriptsDir, OS_USER);
  }

  async tearDown(): Promise<void> {
    for (const child of this.children) await this.stopChild(child);
    for (const server of this.servers) this.stopServer(server);
    if (this.work) rmSync(this.work, { recursive: true, force: true });
  }

  /** A folder under the test's temporary folder, owned by the postgres user. */
  dir(...parts: string[]): string {
    const path = join(this.work, ...parts);
    mkdirSync(path, { recursive: true });
    chownTree(path, OS_USER);
    return path;
  }

  psql(server: Server, sql: string): string {
    const out = run(OS_USER, `${BIN}/psql`, ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', server.socketDir, '-p', String(server.port), '-U', server.superuser, '-d', 'postgres', '-c', sql]);
    if (out.status !== 0) throw new Error(`psql on port ${server.port} failed: ${out.stderr}\n${sql}`);
    return out.stdout.trim();
  }

  /** The environment the chart gives the scripts (from `workload`'s container in production), for a database on `port`. */
  scriptEnv(backupRoot: string, port: number, extra: NodeJS.ProcessEnv = {}, workload = 'postgres-base-backup', container?: string): NodeJS.ProcessEnv {
    return backupScriptEnv('production', { backupRoot, port, password: BACKUP_PASSWORD }, extra, workload, container);
  }

  /** Runs a script as the chart does (`bash <script>`), as the postgres user. */
  script(name: string, env: NodeJS.ProcessEnv) {
    return run(OS_USER, 'bash', [join(this.scriptsDir, name)], env);
  }

  /** Starts a script in the background, in its own process group; stopped by `stopChild` or at tear-down. */
  background(name: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
    const [command, args] = asUser(OS_USER, 'bash', [join(this.scriptsDir, name)]);
    const child = spawn(command, args, { detached: true, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    return { child, output: () => output };
  }

  async startServer(data: string, name: string, superuser = 'postgres'): Promise<Server> {
    const server = { data, port: await freePort(), socketDir: this.dir(name, 'run'), log: join(this.dir(name), 'server.log'), superuser };
    const options = `-p ${server.port} -c unix_socket_directories=${server.socketDir}`;
    const start = run(OS_USER, `${BIN}/pg_ctl`, ['-D', data, '-l', server.log, '-w', '-t', '60', '-o', options, 'start']);
    expect(start.status, `${start.stdout}${start.stderr}\n${tail(server.log)}`).toBe(0);
    this.servers.push(server);
    return server;
  }

  /**
   * A new cluster with what a backup needs: WAL for replication, the backup role allowed to
   * replicate and read over 127.0.0.1, and `superuser` trusted over the socket.
   */
  async newCluster(name: string, superuser = 'postgres'): Promise<Server> {
    const data = join(this.dir(name), 'data');
    const init = run(OS_USER, `${BIN}/initdb`, ['-D', data, '-U', superuser, '--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C.UTF-8']);
    expect(init.status, init.stderr).toBe(0);
    writeFileSync(
      join(data, 'postgresql.conf'),
      `${readFileSync(join(data, 'postgresql.conf'), 'utf8')}
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
listen_addresses = '127.0.0.1'
shared_buffers = 32MB
`,
    );
    // As the platform's pg_hba.conf: the backup role may replicate, and read (pg_dump, the probe).
    writeFileSync(join(data, 'pg_hba.conf'), `local all ${superuser} trust\nhost replication ${BACKUP_ROLE} 127.0.0.1/32 scram-sha-256\nhost all ${BACKUP_ROLE} 127.0.0.1/32 scram-sha-256\n`);
    chownTree(data, OS_USER);
    const server = await this.startServer(data, name, superuser);
    this.psql(server, `CREATE ROLE ${BACKUP_ROLE} LOGIN REPLICATION PASSWORD '${BACKUP_PASSWORD}'`);
    return server;
  }

  /** Runs stream-wal.sh in the background until its slot is active. */
  async startStreamer(server: Server, backupRoot: string, slot = WAL_SLOT): Promise<{ child: ChildProcess; output: () => string }> {
    const streamer = this.background('stream-wal.sh', this.scriptEnv(backupRoot, server.port, { WAL_SLOT: slot }));
    await until(
      () => `stream-wal.sh to make slot ${slot} active (output: ${streamer.output()})`,
      () => streamer.child.exitCode === null && this.psql(server, `SELECT active FROM pg_replication_slots WHERE slot_name = '${slot}'`) === 't',
    );
    return streamer;
  }

  /** SIGINT to a background script's process group (pg_receivewal exits 0 on it), then waits for it. */
  async stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(-child.pid!, 'SIGINT');
    const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!stopped) process.kill(-child.pid!, 'SIGKILL');
  }

  /** Waits until the streamer's slot reports everything the server has flushed as flushed by pg_receivewal. */
  async waitStreamed(server: Server, slot = WAL_SLOT): Promise<void> {
    const lsn = this.psql(server, 'SELECT pg_current_wal_flush_lsn()');
    await until(`slot ${slot} to confirm ${lsn}`, () => this.psql(server, `SELECT restart_lsn >= '${lsn}' FROM pg_replication_slots WHERE slot_name = '${slot}'`) === 't');
  }

  /** Starts a server on a restored data directory and waits until recovery has promoted it. */
  async startRestored(pgdata: string, name: string, superuser = 'postgres'): Promise<Server> {
    const server = await this.startServer(pgdata, name, superuser);
    await until(`${name} to finish recovery and promote (log: ${server.log})`, () => {
      if (!existsSync(join(pgdata, 'postmaster.pid'))) throw new Error(`${name} stopped during recovery:\n${tail(server.log)}`);
      return run(OS_USER, `${BIN}/psql`, ['-X', '-At', '-h', server.socketDir, '-p', String(server.port), '-U', superuser, '-d', 'postgres', '-c', 'SELECT pg_is_in_recovery()']).stdout.trim() === 'f';
    });
    return server;
  }

  stopServer(server: Server): void {
    if (existsSync(join(server.data, 'postmaster.pid'))) run(OS_USER, `${BIN}/pg_ctl`, ['-D', server.data, '-m', 'immediate', '-w', 'stop']);
  }
}
