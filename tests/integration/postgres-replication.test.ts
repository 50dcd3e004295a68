// The replication promise of production's CloudNativePG Cluster, proved with real PostgreSQL 15
// servers on loopback: one per instance of the synthesised Cluster (<cluster>-1 the primary, the
// others streaming standbys made with pg_basebackup -R, application_name = instance name), with
// the synchronous_standby_names that CloudNativePG 1.30.0 would write (emulated by cnpg-sync.ts,
// which cites the upstream code) and the Cluster's synchronous_commit.
// - With every standby gone, a commit is not acknowledged: it waits on SyncRep until a standby
//   returns (dataDurability required); with "preferred" the operator writes no
//   synchronous_standby_names and commits go on.
// - kill -9 of the primary's postmaster during 8 concurrent writers, then the failover the
//   operator performs (quorum check R + W > N, promote the standby with the most advanced
//   received/replayed LSN, the other standby follows it): not one acknowledged commit is missing
//   on the new primary. The write pause from the kill to the first acknowledged write on the
//   new primary is printed, not asserted: it leaves out the operator's failure detection.
// Runs the servers as the unprivileged "postgres" user when root.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CnpgCluster,
  type CnpgSynchronous,
  electionOrder,
  failoverQuorumAllows,
  type InstanceStatus,
  instanceNames,
  synchronousCommit,
  synchronousStandbyNames,
  synchronousStandbyNamesConfig,
} from './cnpg-sync';
import { asUser, chownTree, freePort, run, superuserPsqlArgs, tail, tempDirFor } from '../../harness/processes';
import { operatorInitdbArgs } from './pg-checks';
import { describeNeeding, program } from './tools';

const BIN = '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';
const WRITERS = 8;
/** CloudNativePG's streaming user (api/v1, StreamingReplicationUser); trusted on loopback here instead of a certificate. */
const REPLICATION_USER = 'streaming_replica';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns something other than undefined/false. */
async function until<T>(what: string | (() => string), check: () => T | undefined | false, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(everyMs);
  }
}

/**
 * The postgresql.cnpg.io/v1 Clusters `env` synthesises into the data layer (not the recovery
 * templates of on-demand/). The synthesis is imported here rather than at the top so that the
 * pure checks of cnpg-sync.ts still run (and say what is wrong) when the charts do not render.
 */
async function synthesisedClusters(env: string) {
  const { objectsOf } = await import('../helpers');
  return objectsOf(env).filter((l) => l.object.kind === 'Cluster' && l.object.apiVersion === 'postgresql.cnpg.io/v1' && l.file.startsWith('data/'));
}

/** production's Cluster, as synthesised; the tests are about this object and nothing else. */
async function productionCluster(): Promise<CnpgCluster> {
  const clusters = await synthesisedClusters('production');
  if (clusters.length !== 1) {
    throw new Error(
      `production must synthesise exactly one postgresql.cnpg.io/v1 Cluster (CloudNativePG) for the replication tests, found ${clusters.length}: ${clusters.map((l) => l.file).join(', ') || 'none'}`,
    );
  }
  const cluster = clusters[0]!.object as unknown as CnpgCluster;
  if (!cluster.spec?.postgresql?.synchronous)
    throw new Error(
      `production's Cluster ${cluster.metadata.name} (${clusters[0]!.file}) has no spec.postgresql.synchronous: nothing replicates synchronously`,
    );
  return cluster;
}

/** staging's Cluster when it trades durability for availability (dataDurability preferred); else production's with that one change. */
async function preferredCluster(production: CnpgCluster): Promise<{ cluster: CnpgCluster; from: string }> {
  const staging = (await synthesisedClusters('staging'))[0]?.object as unknown as CnpgCluster | undefined;
  if (staging?.spec.postgresql?.synchronous?.dataDurability === 'preferred') return { cluster: staging, from: "staging's Cluster" };
  const sync = production.spec.postgresql!.synchronous!;
  return {
    cluster: {
      ...production,
      spec: { ...production.spec, postgresql: { ...production.spec.postgresql, synchronous: { ...sync, dataDurability: 'preferred' } } },
    },
    from: "production's Cluster with dataDurability preferred (staging's is not)",
  };
}

/**
 * Parameters of the Cluster that decide durability and replication, applied as they are; the rest
 * (memory, extensions, logging) is sized for a pod, not for three servers on one test machine.
 */
const REPLICATION_PARAMETERS = [
  'fsync',
  'full_page_writes',
  'wal_level',
  'wal_log_hints',
  'max_wal_senders',
  'wal_sender_timeout',
  'wal_receiver_timeout',
  'wal_receiver_status_interval',
  'hot_standby_feedback',
  'wal_keep_size',
  'max_slot_wal_keep_size',
];

/** CloudNativePG's defaults and mandatory settings that matter here (pkg/postgres/configuration.go, CnpgConfigurationSettings). */
const CNPG_DEFAULTS: Record<string, string> = {
  wal_level: 'logical',
  wal_sender_timeout: '5s',
  wal_receiver_timeout: '5s',
  wal_keep_size: '512MB',
  wal_log_hints: 'on',
  full_page_writes: 'on',
  hot_standby: 'on',
  restart_after_crash: 'off',
};

interface Instance {
  readonly name: string;
  readonly data: string;
  readonly port: number;
  readonly socketDir: string;
  readonly log: string;
}

/** One psql session writing one transaction at a time; an id counts once psql printed it after COMMIT. */
class Writer {
  readonly acknowledged: number[] = [];
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private stopping = false;
  private sequence = 0;
  private stdout = '';
  stderr = '';

  constructor(
    instance: Instance,
    private readonly writer: number,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {
    const [command, args] = asUser(OS_USER, `${BIN}/psql`, superuserPsqlArgs(instance.socketDir, instance.port, ['-q', '-At', '-v', 'ON_ERROR_STOP=1'], []));
    this.child = spawn(command, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
    this.child.stdin!.on('error', () => undefined); // writing to a psql that lost its server
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      const lines = this.stdout.split('\n');
      this.stdout = lines.pop()!;
      for (const line of lines) {
        const ack = /^ack (-?\d+)$/.exec(line);
        if (!ack) continue;
        this.acknowledged.push(Number(ack[1]));
        this.next();
      }
    });
    this.next();
  }

  /** Unique over writers; a negative writer number gives one-off probes their own ids. */
  private id(): number {
    return this.writer * 10_000_000 + this.sequence;
  }

  private next(): void {
    if (this.stopping || this.sequence >= this.limit) {
      this.child.stdin!.end();
      return;
    }
    this.sequence += 1;
    const id = this.id();
    this.child.stdin!.write(`BEGIN;\nINSERT INTO acks (id, writer) VALUES (${id}, ${this.writer});\nCOMMIT;\n\\echo ack ${id}\n`);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  stop(): void {
    this.stopping = true;
  }

  /** Kills the writer's process group (runuser and psql) if it still runs. */
  kill(): void {
    if (this.running && this.child.pid) process.kill(-this.child.pid, 'SIGKILL');
  }
}

/** Pure checks of the emulation against the examples CloudNativePG documents and tests (v1.30.0). */
describe('cnpg-sync: synchronous_standby_names as CloudNativePG 1.30.0 derives it', () => {
  const cluster = (name: string, instances: number, synchronous: CnpgSynchronous): CnpgCluster => ({
    metadata: { name },
    spec: { instances, postgresql: { synchronous } },
  });

  it('dataDurability required: healthy standbys, then the others, then the primary; the number never shrinks (docs/src/replication.md)', () => {
    const foo = cluster('foo', 3, { method: 'any', number: 1, dataDurability: 'required' });
    expect(synchronousStandbyNames(foo, { primary: 'foo-1', streaming: ['foo-2', 'foo-3'] })).toBe('ANY 1 ("foo-2","foo-3","foo-1")');
    expect(synchronousStandbyNames(foo, { primary: 'foo-1', streaming: ['foo-3'] })).toBe('ANY 1 ("foo-3","foo-2","foo-1")');
    expect(synchronousStandbyNames(foo, { primary: 'foo-1', streaming: [] })).toBe('ANY 1 ("foo-2","foo-3","foo-1")');
  });

  it('maxStandbyNamesFromCluster, standbyNamesPre/Post and FIRST (pkg/postgres/replication/explicit_test.go, docs/src/replication.md)', () => {
    const healthy = { primary: 'cluster-example-1', streaming: ['cluster-example-2', 'cluster-example-3'] };
    expect(
      synchronousStandbyNames(cluster('cluster-example', 3, { method: 'any', number: 1, maxStandbyNamesFromCluster: 1, standbyNamesPre: ['angus'] }), healthy),
    ).toBe('ANY 1 ("angus","cluster-example-2")');
    expect(
      synchronousStandbyNames(
        cluster('cluster-example', 3, { method: 'any', number: 1, maxStandbyNamesFromCluster: 0, standbyNamesPre: ['angus', 'malcolm'] }),
        healthy,
      ),
    ).toBe('ANY 1 ("angus","malcolm")');
    expect(
      synchronousStandbyNames(
        cluster('cluster-example', 3, { method: 'first', number: 2, maxStandbyNamesFromCluster: 1, standbyNamesPre: ['angus'], standbyNamesPost: ['malcolm'] }),
        healthy,
      ),
    ).toBe('FIRST 2 ("angus","cluster-example-2","malcolm")');
    expect(
      synchronousStandbyNames(cluster('example', 1, { method: 'any', number: 1, maxStandbyNamesFromCluster: 0 }), { primary: 'example-1', streaming: [] }),
    ).toBe('ANY 1 ("example-placeholder")');
  });

  it('dataDurability preferred: only streaming standbys, the number capped, nothing at all without one (docs/src/replication.md)', () => {
    const bar = cluster('bar', 5, { method: 'any', number: 2, dataDurability: 'preferred' });
    expect(synchronousStandbyNames(bar, { primary: 'bar-1', streaming: ['bar-2', 'bar-3', 'bar-4', 'bar-5'] })).toBe('ANY 2 ("bar-2","bar-3","bar-4","bar-5")');
    expect(synchronousStandbyNames(bar, { primary: 'bar-1', streaming: ['bar-4', 'bar-5'] })).toBe('ANY 2 ("bar-4","bar-5")');
    expect(synchronousStandbyNames(bar, { primary: 'bar-1', streaming: ['bar-5'] })).toBe('ANY 1 ("bar-5")');
    expect(synchronousStandbyNames(bar, { primary: 'bar-1', streaming: [] })).toBe('');
  });

  it('failover quorum R + W > N (docs/src/failover.md, scenarios 1 and 3)', () => {
    const three = { method: 'ANY', number: 1, standbyNames: ['foo-2', 'foo-3', 'foo-1'] };
    expect(failoverQuorumAllows(three, 'foo-1', ['foo-2', 'foo-3'])).toEqual({ allowed: true, r: 2, w: 1, n: 2 });
    expect(failoverQuorumAllows(three, 'foo-1', ['foo-3'])).toEqual({ allowed: false, r: 1, w: 1, n: 2 });
    const five = { method: 'ANY', number: 2, standbyNames: ['c-2', 'c-3', 'c-4', 'c-5', 'c-1'] };
    expect(failoverQuorumAllows(five, 'c-1', ['c-2', 'c-3', 'c-4']).allowed).toBe(true);
    expect(failoverQuorumAllows(five, 'c-1', ['c-2', 'c-3']).allowed).toBe(false);
  });

  it('elects the standby with the most advanced received, then replayed LSN (pkg/postgres/status.go, PostgresqlStatusList.Less)', () => {
    const order = electionOrder([
      { name: 'p-1', isPrimary: false, error: 'unreachable', receivedLsn: '', replayLsn: '' },
      { name: 'p-2', isPrimary: false, receivedLsn: '0/3000060', replayLsn: '0/3000060' },
      { name: 'p-3', isPrimary: false, receivedLsn: '0/30000D8', replayLsn: '0/3000060' },
      // received below replayed is raised to it (probes.go, fillStatusFromReplica); NULL received too
      { name: 'p-4', isPrimary: false, receivedLsn: '0/3000060', replayLsn: '0/30000D8' },
      { name: 'p-5', isPrimary: false, receivedLsn: '', replayLsn: '0/30000D8' },
      { name: 'p-6', isPrimary: false, receivedLsn: '1/0', replayLsn: '0/FFFFFFFF' },
    ]).map((s) => s.name);
    expect(order).toEqual(['p-6', 'p-4', 'p-5', 'p-3', 'p-2', 'p-1']);
  });
});

describeNeeding(
  [
    program(`${BIN}/initdb`, 'postgresql-15'),
    program(`${BIN}/postgres`, 'postgresql-15'),
    program(`${BIN}/pg_ctl`, 'postgresql-15'),
    program(`${BIN}/pg_basebackup`, 'postgresql-client-15'),
    program(`${BIN}/psql`, 'postgresql-client-15'),
  ],
  "PostgreSQL 15 streaming replication as production's CloudNativePG Cluster configures it",
  () => {
    let cluster: CnpgCluster;
    let work = '';
    let instances: Instance[] = [];
    /** The instance that is primary now. */
    let current: Instance;
    const writers: Writer[] = [];
    /** Server processes left behind by the kill -9 of a postmaster, ended at tear-down if still there. */
    const orphans: number[] = [];

    const byName = (name: string) => instances.find((i) => i.name === name)!;
    /**
     * psql as the operator's own connections: synchronous_commit=local (pkg/management/postgres/pool/
     * profiles.go), so that setting up never waits for standbys. The writers use the server's value.
     */
    const tryPsql = (instance: Instance, sql: string) =>
      run(OS_USER, `${BIN}/psql`, superuserPsqlArgs(instance.socketDir, instance.port, ['-At', '-v', 'ON_ERROR_STOP=1'], ['-c', sql]), {
        PGOPTIONS: '-c synchronous_commit=local',
        PGCONNECT_TIMEOUT: '3',
      });
    const psql = (instance: Instance, sql: string): string => {
      const out = tryPsql(instance, sql);
      if (out.status !== 0) throw new Error(`psql on ${instance.name} failed: ${out.stderr}\n${sql}\n${tail(instance.log, 20)}`);
      return out.stdout.trim();
    };
    const rows = (instance: Instance, sql: string) =>
      psql(instance, sql)
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('|'));
    const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
    const postmasterPid = (instance: Instance) => Number(readFileSync(join(instance.data, 'postmaster.pid'), 'utf8').split('\n')[0]);

    const start = (instance: Instance) => {
      const out = run(OS_USER, `${BIN}/pg_ctl`, [
        '-D',
        instance.data,
        '-l',
        instance.log,
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${instance.port} -c unix_socket_directories=${instance.socketDir}`,
        'start',
      ]);
      expect(out.status, `${out.stdout}${out.stderr}\n${tail(instance.log)}`).toBe(0);
    };
    const stop = (instance: Instance, mode: 'fast' | 'immediate' = 'fast') => {
      if (!existsSync(join(instance.data, 'postmaster.pid'))) return;
      run(OS_USER, `${BIN}/pg_ctl`, ['-D', instance.data, '-m', mode, '-w', '-t', '30', 'stop']);
    };
    /** `standby`'s data folder cloned from `primary` (pg_basebackup -R), then the standby started. */
    const startStandbyOf = (primary: Instance, standby: Instance) => {
      // As CloudNativePG's buildPrimaryConnInfo: application_name is the instance name.
      const base = run(OS_USER, `${BIN}/pg_basebackup`, [
        '-D',
        standby.data,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
        '--no-sync',
        '-d',
        `host=127.0.0.1 port=${primary.port} user=${REPLICATION_USER} application_name=${standby.name}`,
      ]);
      expect(base.status, base.stderr).toBe(0);
      start(standby);
    };

    /** What the operator would render for `primary` with `streaming` healthy, set on the primary and reloaded. */
    const applySynchronousStandbyNames = async (primary: Instance, streaming: readonly string[], spec: CnpgCluster = cluster): Promise<string> => {
      const value = synchronousStandbyNames(spec, { primary: primary.name, streaming });
      psql(primary, `ALTER SYSTEM SET synchronous_standby_names = ${literal(value)}`);
      psql(primary, 'SELECT pg_reload_conf()');
      await until(`${primary.name} to load synchronous_standby_names = ${value}`, () => psql(primary, 'SHOW synchronous_standby_names') === value);
      return value;
    };

    /** pg_stat_replication on `primary`: application_name -> state|sync_state. */
    const replication = (primary: Instance) =>
      new Map(rows(primary, 'SELECT application_name, state, sync_state FROM pg_stat_replication').map(([name, state, sync]) => [name!, `${state}|${sync}`]));

    const waitStreaming = async (primary: Instance, standbys: readonly string[]) => {
      await until(
        () => `${standbys.join(', ')} to stream from ${primary.name} (pg_stat_replication: ${JSON.stringify([...replication(primary)])})`,
        () => {
          const current = replication(primary);
          return standbys.every((name) => current.get(name)?.startsWith('streaming|'));
        },
      );
    };

    beforeAll(async () => {
      cluster = await productionCluster();
      const names = instanceNames(cluster);
      if (names.length < 2 || names.length > 5) throw new Error(`production's Cluster has ${names.length} instances; this test runs 2 to 5 servers`);
      work = tempDirFor(OS_USER, 'pg-replication-');
      for (const name of names) {
        const dir = join(work, name);
        instances.push({ name, data: join(dir, 'data'), port: await freePort(), socketDir: join(dir, 'run'), log: join(dir, 'server.log') });
        run(OS_USER, 'mkdir', ['-p', join(dir, 'run')]);
      }
      const [primary, ...standbys] = instances as [Instance, ...Instance[]];
      current = primary;

      const init = run(OS_USER, `${BIN}/initdb`, operatorInitdbArgs(primary.data, '--no-sync'));
      expect(init.status, init.stderr).toBe(0);
      const parameters = cluster.spec.postgresql?.parameters ?? {};
      const settings: Record<string, string> = { ...CNPG_DEFAULTS };
      for (const key of REPLICATION_PARAMETERS) if (parameters[key] !== undefined) settings[key] = String(parameters[key]);
      settings.synchronous_commit = synchronousCommit(cluster);
      settings.cluster_name = cluster.metadata.name!;
      settings.listen_addresses = '127.0.0.1';
      settings.shared_buffers = '32MB';
      // Until the standbys exist the operator has none healthy: its value for that state from the start.
      settings.synchronous_standby_names = synchronousStandbyNames(cluster, { primary: primary.name, streaming: [] });
      appendFileSync(
        join(primary.data, 'postgresql.conf'),
        `\n# As production's Cluster and CloudNativePG 1.30.0 set them\n${Object.entries(settings)
          .map(([k, v]) => `${k} = ${literal(v)}`)
          .join('\n')}\n`,
      );
      writeFileSync(join(primary.data, 'pg_hba.conf'), `local all all trust\nhost replication ${REPLICATION_USER} 127.0.0.1/32 trust\n`);
      chownTree(work, OS_USER);
      start(primary);
      psql(primary, `CREATE ROLE ${REPLICATION_USER} LOGIN REPLICATION`);
      psql(primary, 'CREATE TABLE acks (id bigint PRIMARY KEY, writer int NOT NULL, committed_at timestamptz NOT NULL DEFAULT clock_timestamp())');

      for (const standby of standbys) startStandbyOf(primary, standby);
      await waitStreaming(
        primary,
        standbys.map((s) => s.name),
      );
    });

    afterAll(async () => {
      for (const writer of writers) writer.kill();
      for (const instance of instances) stop(instance, 'immediate');
      await sleep(200);
      for (const pid of orphans) {
        // Only if it is still one of the server processes recorded before the kill.
        const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
        if (cmdline.startsWith('postgres')) process.kill(pid, 'SIGKILL');
      }
      if (work) rmSync(work, { recursive: true, force: true });
      instances = [];
    });

    it("uses the operator's synchronous_standby_names, and every standby counts for it", async () => {
      const primary = current;
      const standbys = instances.filter((i) => i !== primary);
      const value = await applySynchronousStandbyNames(
        primary,
        standbys.map((s) => s.name),
      );
      // The server's synchronous_commit, as the writers get it (not the operator-like sessions' local).
      const commit = run(OS_USER, `${BIN}/psql`, superuserPsqlArgs(primary.socketDir, primary.port, ['-At'], ['-c', 'SHOW synchronous_commit']), {
        PGOPTIONS: '',
      }).stdout.trim();
      console.log(`production (${instances.length} instances, primary ${primary.name}): synchronous_standby_names = ${value}; synchronous_commit = ${commit}`);
      expect(commit).toBe(synchronousCommit(cluster));
      expect(value, 'synchronous replication is on').not.toBe('');
      // A standby whose application_name the value does not name would show as "async".
      const counted =
        synchronousStandbyNamesConfig(cluster, { primary: primary.name, streaming: [] }).method === 'ANY'
          ? /^streaming\|quorum$/
          : /^streaming\|(sync|potential)$/;
      // Each walsender re-reads the setting on its own after the reload: wait (bounded) until they have.
      const settled = () => {
        const now = replication(primary);
        return standbys.every((s) => counted.test(now.get(s.name) ?? '')) ? now : undefined;
      };
      const state = (await until('every standby to count for synchronous_standby_names', settled, 10_000).catch(() => undefined)) ?? replication(primary);
      for (const standby of standbys) expect(state.get(standby.name), `${standby.name} in pg_stat_replication`).toMatch(counted);
    });

    it('does not acknowledge a commit while no standby streams (required), and does once one returns; preferred goes on', async () => {
      const primary = current;
      const standbys = instances.filter((i) => i !== primary);
      for (const standby of standbys) stop(standby);
      await until('no standby streaming', () => replication(primary).size === 0);

      // dataDurability preferred (staging's trade-off): the operator writes no value, writes go on.
      const preferred = await preferredCluster(cluster);
      expect(await applySynchronousStandbyNames(primary, [], preferred.cluster), `${preferred.from} with no standby streaming`).toBe('');
      const unsynchronised = new Writer(primary, -1, 1);
      writers.push(unsynchronised);
      await until(
        () => `the write with dataDurability preferred to be acknowledged (${unsynchronised.stderr})`,
        () => unsynchronised.acknowledged.length === 1,
        10_000,
      );
      console.log(`${preferred.from}, no standby streaming: synchronous_standby_names = '' and the commit was acknowledged`);

      // Production's setting: the value for "no standby healthy".
      const value = await applySynchronousStandbyNames(primary, []);
      expect(value, "production's Cluster must keep synchronous replication on with no standby left (dataDurability required)").not.toBe('');
      const blocked = new Writer(primary, -2, 1);
      writers.push(blocked);
      const waitMs = 3_000;
      await sleep(waitMs);
      expect(blocked.acknowledged, `a commit was acknowledged with no standby streaming (${blocked.stderr})`).toEqual([]);
      expect(blocked.running, `the blocked writer exited: ${blocked.stderr}`).toBe(true);
      const waiting = rows(
        primary,
        "SELECT wait_event_type, wait_event, state FROM pg_stat_activity WHERE query LIKE 'COMMIT%' AND backend_type = 'client backend'",
      );
      expect(waiting, 'the blocked COMMIT waits on synchronous replication').toEqual([['IPC', 'SyncRep', 'active']]);
      // Its commit record is flushed on the primary, but the transaction stays in progress until a
      // standby confirms: other sessions do not see the row yet.
      expect(psql(primary, 'SELECT count(*) FROM acks WHERE writer = -2'), 'the waiting commit is invisible to other sessions').toBe('0');
      console.log(
        `no standby streaming: COMMIT not acknowledged after ${waitMs} ms (wait_event ${waiting[0]!.join('/')}), its row not visible to other sessions`,
      );

      const returning = standbys[0]!;
      const returnedAt = performance.now();
      start(returning);
      await until(
        () => `the blocked commit to be acknowledged once ${returning.name} streams (${blocked.stderr})`,
        () => blocked.acknowledged.length === 1,
        30_000,
      );
      console.log(`${returning.name} back: the blocked COMMIT was acknowledged ${Math.round(performance.now() - returnedAt)} ms after its start`);
      await blocked.exited;
      // Acknowledged means flushed there; replayed (visible) shortly after.
      await until(
        `the acknowledged row to be visible on ${returning.name}`,
        () => psql(returning, `SELECT count(*) FROM acks WHERE id = ${blocked.acknowledged[0]}`) === '1',
        10_000,
      );

      for (const standby of standbys.slice(1)) start(standby);
      await waitStreaming(
        primary,
        standbys.map((s) => s.name),
      );
      await applySynchronousStandbyNames(
        primary,
        standbys.map((s) => s.name),
      );
    });

    /** Rebuilds a lost instance as a standby of `primary` (CloudNativePG re-clones or pg_rewinds it). */
    const rejoin = (instance: Instance, primary: Instance) => {
      stop(instance, 'immediate');
      rmSync(instance.data, { recursive: true, force: true });
      startStandbyOf(primary, instance);
    };

    /** Acknowledged ids of `acknowledged` that `instance` does not have (it may be a hot standby). */
    const missingOn = (instance: Instance, writerNumbers: readonly number[], acknowledged: readonly number[]) => {
      const present = new Set(
        psql(instance, `SELECT id FROM acks WHERE writer IN (${writerNumbers.join(',')})`)
          .split('\n')
          .filter(Boolean)
          .map(Number),
      );
      return { missing: acknowledged.filter((id) => !present.has(id)), present };
    };

    /**
     * 8 writers on the current primary, kill -9 of its postmaster, then what the operator does: the
     * quorum check, the election of the most advanced standby, its promotion with the operator's
     * synchronous_standby_names, the other standbys following it. `lagging` is stopped mid-load and
     * restarted without a primary to stream from, so that it is behind when the primary dies.
     */
    const killAndFailOver = async (round: number, lagging?: Instance) => {
      const primary = current;
      const standbys = instances.filter((i) => i !== primary);
      // Standbys an earlier failing test left stopped are started again.
      for (const standby of standbys) if (!existsSync(join(standby.data, 'postmaster.pid'))) start(standby);
      await waitStreaming(
        primary,
        standbys.map((s) => s.name),
      );
      const published = synchronousStandbyNamesConfig(cluster, { primary: primary.name, streaming: standbys.map((s) => s.name) });
      await applySynchronousStandbyNames(
        primary,
        standbys.map((s) => s.name),
      );

      const writerNumbers = Array.from({ length: WRITERS }, (_, i) => round * 100 + i + 1);
      const load = writerNumbers.map((n) => new Writer(primary, n));
      writers.push(...load);
      await until(
        () => `the writers to commit (${load.map((w) => w.stderr).join('')})`,
        () => load.every((w) => w.acknowledged.length >= 20),
        20_000,
      );
      if (lagging) {
        await sleep(500);
        stop(lagging, 'immediate');
        appendFileSync(join(lagging.data, 'postgresql.auto.conf'), "primary_conninfo = ''\n");
        start(lagging);
        await sleep(1_500);
      } else {
        await sleep(2_000);
      }

      // kill -9 of the postmaster only: its backends notice and exit without acknowledging.
      const pid = postmasterPid(primary);
      orphans.push(
        ...execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
          .split('\n')
          .map(Number)
          .filter((n) => n > 0),
      );
      const killedAt = performance.now();
      process.kill(pid, 'SIGKILL');
      await Promise.race([Promise.all(load.map((w) => w.exited)), sleep(20_000)]);
      for (const w of load) expect(w.running, `writer still running after the kill: ${w.stderr}`).toBe(false);
      const acknowledged = load.flatMap((w) => w.acknowledged);

      // The operator waits for every WAL receiver to be down (status.go, AreWalReceiversDown).
      await until(
        'the WAL receivers to stop',
        () => standbys.every((s) => psql(s, "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'") === '0'),
        20_000,
      );
      const statuses: InstanceStatus[] = instances.map((instance) => {
        const out = tryPsql(
          instance,
          "SELECT COALESCE(pg_last_wal_receive_lsn()::text, ''), COALESCE(pg_last_wal_replay_lsn()::text, ''), pg_is_in_recovery()",
        );
        if (out.status !== 0) return { name: instance.name, isPrimary: false, error: out.stderr.trim(), receivedLsn: '', replayLsn: '' };
        const [receivedLsn, replayLsn, inRecovery] = out.stdout.trim().split('|') as [string, string, string];
        return { name: instance.name, isPrimary: inRecovery === 'f', receivedLsn, replayLsn };
      });
      const promotable = statuses.filter((s) => s.error === undefined && !s.isPrimary).map((s) => s.name);
      const quorum = failoverQuorumAllows(published, primary.name, promotable);
      if (cluster.spec.postgresql?.synchronous?.failoverQuorum) expect(quorum.allowed, `failover quorum R=${quorum.r} W=${quorum.w} N=${quorum.n}`).toBe(true);
      const elected = electionOrder(statuses)[0]!;
      expect(elected.error, 'the elected instance reports its status').toBeUndefined();
      expect(elected.isPrimary).toBe(false);
      const newPrimary = byName(elected.name);
      const followers = standbys.filter((s) => s !== newPrimary);

      // Not part of a failover: what each other standby lacks, read before it follows (and left out of the pause).
      const diagnosticsFrom = performance.now();
      await until('the standbys to replay what they received', () =>
        standbys.every((s) => psql(s, 'SELECT pg_last_wal_replay_lsn() >= COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())') === 't'),
      );
      const missingOnFollowers = new Map(followers.map((f) => [f.name, missingOn(f, writerNumbers, acknowledged).missing.length]));
      const diagnosticsMs = performance.now() - diagnosticsFrom;

      const promote = run(OS_USER, `${BIN}/pg_ctl`, ['-D', newPrimary.data, '-w', '-t', '60', 'promote']);
      expect(promote.status, `${promote.stdout}${promote.stderr}\n${tail(newPrimary.log)}`).toBe(0);
      // The new primary gets the operator's value; the other standbys follow it (recovery_target_timeline latest).
      await applySynchronousStandbyNames(newPrimary, []);
      for (const follower of followers) {
        psql(
          follower,
          `ALTER SYSTEM SET primary_conninfo = ${literal(`host=127.0.0.1 port=${newPrimary.port} user=${REPLICATION_USER} application_name=${follower.name}`)}`,
        );
        psql(follower, 'SELECT pg_reload_conf()');
      }
      let firstWrite: Writer | undefined;
      let attempts = 0;
      await until(
        () => `a write on ${newPrimary.name} to be acknowledged (${firstWrite?.stderr ?? ''}; ${tail(newPrimary.log, 10)})`,
        () => {
          if (firstWrite?.acknowledged.length === 1) return true;
          // Each attempt its own id (writer -100·round - attempt): a failed attempt may still have committed.
          if (!firstWrite?.running) writers.push((firstWrite = new Writer(newPrimary, -100 * round - ++attempts, 1)));
          return false;
        },
        30_000,
        10,
      );
      const pauseMs = Math.round(performance.now() - killedAt - diagnosticsMs);
      current = newPrimary;

      const { missing: lost, present } = missingOn(newPrimary, writerNumbers, acknowledged);
      console.log(
        [
          `kill -9 of ${primary.name} during ${WRITERS} concurrent writers${lagging ? ` (${lagging.name} stopped mid-load, restarted without streaming)` : ''}:`,
          `  acknowledged commits: ${acknowledged.length}; lost: ${lost.length}; rows present that were never acknowledged (in flight at the kill): ${present.size - (acknowledged.length - lost.length)}`,
          `  at the election: ${statuses.map((s) => `${s.name} ${s.error ? 'unreachable' : `received ${s.receivedLsn || 'NULL'} replayed ${s.replayLsn}`}`).join('; ')}`,
          `  failover quorum: R=${quorum.r} W=${quorum.w} N=${quorum.n} -> ${quorum.allowed ? 'allowed' : 'denied'}; promoted ${newPrimary.name}; acknowledged commits the other standbys lacked: ${[...missingOnFollowers].map(([n, c]) => `${n} ${c}`).join(', ')}`,
          `  write pause (kill to first acknowledged write on ${newPrimary.name}; without the operator's failure detection): ${pauseMs} ms`,
        ].join('\n'),
      );
      expect(acknowledged.length, 'the writers committed').toBeGreaterThan(WRITERS * 20);
      expect(lost, `acknowledged commits missing on the promoted ${newPrimary.name}`).toEqual([]);
      // The first write was acknowledged synchronously: a follower streams from the new primary.
      const state = replication(newPrimary);
      expect(
        followers.some((f) => /^streaming\|(quorum|sync)$/.test(state.get(f.name) ?? '')),
        JSON.stringify([...state]),
      ).toBe(true);
      return { primary, newPrimary, missingOnFollowers };
    };

    it('loses no acknowledged commit when the primary is killed during concurrent writes and the most advanced standby is promoted', async () => {
      await killAndFailOver(1);
    });

    it('promotes the standby that has every acknowledged commit when another one lags behind', async () => {
      // The killed primary comes back as a standby of the new one: three instances again.
      const killed = instances.find((i) => i !== current && replication(current).get(i.name) === undefined)!;
      rejoin(killed, current);
      // The lagging standby is the one the name order would elect first, so that only the LSNs decide.
      const lagging = instances.filter((i) => i !== current).sort((a, b) => (a.name < b.name ? -1 : 1))[0]!;
      const { newPrimary, missingOnFollowers } = await killAndFailOver(2, lagging);
      expect(newPrimary, 'the lagging standby is not elected').not.toBe(lagging);
      expect(missingOnFollowers.get(lagging.name), `${lagging.name} lacks acknowledged commits: promoting it would have lost them`).toBeGreaterThan(0);
    });
  },
);
