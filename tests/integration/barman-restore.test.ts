// Backup and recovery as the Barman Cloud Plugin 0.14.0 does them for production's ObjectStore
// (postgres-store) and Cluster (postgres), with the real barman-cloud tools (Debian's
// barman-cli-cloud), a real PostgreSQL 15 and a local S3-compatible store (s3rver, see
// harness/s3-server.ts): the command lines are the plugin's for the synthesised ObjectStore (mapped in
// harness/s3-server.ts, with the upstream files cited there), the endpoint replaced by the local store.
//
// A primary archives WAL with barman-cloud-wal-archive (archive_command), barman-cloud-backup
// takes a base backup, rows are written in known batches each followed by pg_switch_wal (the
// Cluster's archive_timeout stays in the configuration; the test does not wait for it) and an
// archive wait, then one more batch that is committed but never archived, and the primary is
// killed (-9). Every recovery bootstraps a NEW data directory: barman-cloud-restore of the base
// backup, recovery.signal, restore_command = barman-cloud-wal-restore (the plugin fetches the same
// files, up to wal.maxParallel at once), recovery_target_action = promote. Then
// charts/postgres/files/verify-recovery.sh judges the result, with the store listed by rclone.
//
// - latest: exactly the archived batches, verify passes; a time and an LSN between two batches:
//   exactly the batches before, verify passes (and a time target is refused on a server that was
//   recovered to the end);
// - damaged copies of the archive (rclone server-side copies under other server names): a flipped
//   byte inside a record of a middle segment, a deleted segment, the segments right after the
//   backup's start missing, a flipped byte in the newest segment. PostgreSQL promotes every one of
//   them without an error, short of the archive; verify-recovery.sh must fail each, naming the
//   problem.
//
// Adversity while archiving (a primary of its own, serverName <serverName>-adversity):
// - the store down (s3rver stopped, its objects kept): barman-cloud-wal-archive fails (about 7.5 s
//   per attempt: boto3 retries the refused connection), PostgreSQL retries the oldest waiting
//   segment again and again (pg_stat_archiver.failed_count, last_failed_wal, last_failed_time)
//   while commits are acknowledged and segments wait in pg_wal; the store back, the archiver
//   catches up by itself, and a restore of the archive as it is then has every committed row and
//   passes verify-recovery.sh;
// - one upload killed (-9) halfway through its PUT (a proxy holds the body at half, so the kill is
//   provably mid-upload): s3rver, unlike S3, keeps the bytes it received as the object; a restore
//   from that archive stops before the segment, which only the segment's content tells from the
//   end of the WAL: verify-recovery.sh fails latest without NEWEST_SEGMENT_FILE, and
//   list-archive.sh, the step before it in the drill and the restore Job, fails on the cut gzip; PostgreSQL's retry replaces the object: one object,
//   byte for byte the segment, and a restore to latest has every row and passes.
//
// Encryption: the plugin passes `-e AES256` / `--encryption AES256`; s3rver accepts the header and
// ignores it (harness/s3-server.ts), so the flag stays in the command lines but proves nothing here.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectsOf, ROOT } from '../helpers';
import { lsnValue } from './cnpg-sync';
import { asUser, chownTree, freePort, hasPromoted, run, superuserPsqlArgs, tail, tempDirFor } from '../../harness/processes';
import {
  type BarmanObjectStoreConfiguration,
  backupOptions,
  catalogOptions,
  type HoldingProxy,
  type PluginSettings,
  pluginBackupName,
  productionPluginSettings,
  RCLONE_REMOTE,
  restoreOptions,
  type S3Server,
  shellQuote,
  splitDestination,
  startHoldingProxy,
  startS3Server,
  walArchiveOptions,
  walRestoreOptions,
} from '../../harness/s3-server';
import { describeNeeding, program } from './tools';

const BIN = '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';
const SCRIPT = 'verify-recovery.sh';
const ROWS_PER_BATCH = 2000;
/** Batches archived after the base backup; one more is committed but never archived. */
const ARCHIVED_BATCHES = 5;

/** verify-recovery.sh as a synthesised ConfigMap ships it, else as the chart's file. */
function verifyScript(): string {
  for (const { object } of objectsOf('production')) {
    const data = (object as { data?: Record<string, string> }).data;
    if (object.kind === 'ConfigMap' && data?.[SCRIPT]) return data[SCRIPT];
  }
  return readFileSync(join(ROOT, 'charts/postgres/files', SCRIPT), 'utf8');
}

interface Server {
  readonly name: string;
  readonly data: string;
  readonly port: number;
  readonly socketDir: string;
  readonly log: string;
}

/** A base backup in the store: its id and begin_wal (barman-cloud-backup-show). */
interface Backup {
  readonly id: string;
  readonly beginWal: string;
}

interface Batch {
  /** 1..ARCHIVED_BATCHES archived; the last one is not. */
  readonly batch: number;
  /** The segment the batch's WAL is in, completed by pg_switch_wal. */
  readonly segment: string;
  /** clock_timestamp() and pg_current_wal_insert_lsn() right after the batch committed. */
  readonly time: string;
  readonly lsn: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SEGMENT = 16 * 2 ** 20;
const segno = (name: string) => parseInt(name.slice(8, 16), 16) * 256 + parseInt(name.slice(16, 24), 16);
const segName = (tli: string, n: number) =>
  `${tli}${Math.floor(n / 256)
    .toString(16)
    .toUpperCase()
    .padStart(8, '0')}${(n % 256).toString(16).toUpperCase().padStart(8, '0')}`;
/** A value for postgresql.conf. */
const confString = (value: string) => `'${value.replaceAll("'", "''")}'`;

describe('the Barman Cloud Plugin 0.14.0 command lines (s3-server.ts)', () => {
  // Every field that shapes them; the order and the skipping of extra options that repeat one
  // already given are the upstream functions' (cited in harness/s3-server.ts).
  const sample: BarmanObjectStoreConfiguration = {
    destinationPath: 's3://bucket/path',
    endpointURL: 'https://s3.example.com',
    s3Credentials: {},
    tags: { b: '2', a: '1' },
    wal: {
      compression: 'gzip',
      encryption: 'AES256',
      maxParallel: 8,
      archiveAdditionalCommandArgs: ['--gzip', '--read-timeout=30'],
      restoreAdditionalCommandArgs: ['--read-timeout=30'],
    },
    data: {
      compression: 'bzip2',
      encryption: 'aws:kms',
      jobs: 4,
      immediateCheckpoint: true,
      additionalCommandArgs: ['--max-archive-size=10GB'],
      restoreAdditionalCommandArgs: ['--read-timeout=30'],
    },
  };

  it('barman-cloud-wal-archive: BarmanCloudWalArchiveOptions', () => {
    expect(walArchiveOptions(sample, 'pg')).toEqual([
      '--gzip',
      '-e',
      'AES256',
      '--read-timeout=30',
      '--endpoint-url',
      'https://s3.example.com',
      '--tags',
      'a,1',
      'b,2',
      '--cloud-provider',
      'aws-s3',
      's3://bucket/path',
      'pg',
    ]);
  });

  it('barman-cloud-wal-restore: CloudWalRestoreOptions', () => {
    expect(walRestoreOptions(sample, 'pg')).toEqual([
      '--endpoint-url',
      'https://s3.example.com',
      '--cloud-provider',
      'aws-s3',
      's3://bucket/path',
      'pg',
      '--read-timeout=30',
    ]);
  });

  it('barman-cloud-backup: GetBarmanCloudBackupOptions', () => {
    expect(backupOptions(sample, 'backup-20260101120000', 'pg')).toEqual([
      '--user', 'postgres', '--name', 'backup-20260101120000',
      '--bzip2', '--encryption', 'aws:kms', '--immediate-checkpoint', '--jobs', '4', '--max-archive-size=10GB',
      '--tags', 'a,1', 'b,2', '--endpoint-url', 'https://s3.example.com', '--cloud-provider', 'aws-s3', 's3://bucket/path', 'pg',
    ]); // prettier-ignore
    expect(pluginBackupName(new Date('2026-01-01T12:00:00Z'))).toBe('backup-20260101120000');
  });

  it("barman-cloud-restore: the plugin's restoreDataDir", () => {
    expect(restoreOptions(sample, 'pg', '20260101T120000', '/var/lib/postgresql/data/pgdata')).toEqual([
      '--cloud-provider', 'aws-s3', '--endpoint-url', 'https://s3.example.com', '--read-timeout=30', 's3://bucket/path', 'pg', '20260101T120000', '/var/lib/postgresql/data/pgdata',
    ]); // prettier-ignore
  });

  it('no s3Credentials, no endpoint: no --cloud-provider (barman defaults to aws-s3), no --endpoint-url', () => {
    expect(walRestoreOptions({ destinationPath: 's3://b' }, 'pg')).toEqual(['s3://b', 'pg']);
  });
});

describeNeeding([program('bash', 'bash')], 'verify-recovery.sh inputs', () => {
  const verify = (env: NodeJS.ProcessEnv) =>
    spawnSync('bash', ['-c', verifyScript()], { encoding: 'utf8', env: { ...process.env, PGHOST: '/nonexistent', ...env } });

  it.each([
    [{ RECOVERY_TARGET: '' }, /RECOVERY_TARGET must be latest, an RFC 3339 time/],
    [{ RECOVERY_TARGET: 'yesterday' }, /RECOVERY_TARGET must be latest, an RFC 3339 time/],
    [{ RECOVERY_TARGET: '2026-01-01 12:00:00' }, /RECOVERY_TARGET must be latest, an RFC 3339 time \(with its offset\)/],
    [{ RECOVERY_TARGET: 'latest', BACKUP_START_WAL: '000000010000000000000003' }, /latest needs WAL_LISTING/],
    [{ RECOVERY_TARGET: 'latest', WAL_LISTING: '/dev/null' }, /latest needs BACKUP_START_WAL/],
    [{ RECOVERY_TARGET: 'latest', WAL_LISTING: '/dev/null', BACKUP_START_WAL: '3' }, /BACKUP_START_WAL must be a WAL segment name/],
  ])('refuses %j with exit 2, before connecting', (env, message) => {
    const out = verify(env);
    expect(out.stderr).toMatch(message);
    expect(out.status).toBe(2);
  });

  it('fails (exit 1) when it cannot query the recovered server', () => {
    const out = verify({ RECOVERY_TARGET: '0/3000000', PATH: `${BIN}:${process.env.PATH ?? '/usr/bin:/bin'}` });
    expect(out.stderr).toMatch(/FAILED: cannot query the recovered server/);
    expect(out.status).toBe(1);
  });
});

// Timelines, without a server: a stand-in psql answers the script's queries for a server on
// timeline 3 recovered from timeline 2, which had branched from timeline 1 at 0/5800000 (the
// archive then holds 000000010000000000000005.partial and timeline 2's copy of segment 5).
describeNeeding([program('bash', 'bash')], 'verify-recovery.sh across timelines (stand-in psql)', () => {
  let folder = '';
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'verify-recovery-'));
    writeFileSync(
      join(folder, 'psql'),
      `#!/bin/bash
q=\${@: -1}
case $q in
  *pg_is_in_recovery*) echo f ;;
  *wal_segment_size*) echo 16777216 ;;
  *pg_walfile_name*) echo "\${FAKE_TLI}0000000000000009" ;;
  *pg_last_xact_replay_timestamp*) echo none ;;
  *pg_read_file*) printf '%b' "$FAKE_HISTORY" ;;
  *) echo "unexpected query: $q" >&2; exit 1 ;;
esac
`,
      { mode: 0o755 },
    );
    // A stand-in pg_waldump for the newest segment (timeline 2's segment 8): it ends in an XLOG SWITCH.
    writeFileSync(
      join(folder, 'pg_waldump'),
      `#!/bin/bash
echo 'rmgr: XLOG        len (rec/tot):     24/    24, tx:          0, lsn: 0/08FFFF00, prev 0/08FFFE00, desc: SWITCH'
`,
      { mode: 0o755 },
    );
    writeFileSync(join(folder, 'newest'), Buffer.alloc(16 * 1024 * 1024));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const history = '1\t0/5800000\tno recovery target specified\n2\t0/9000000\tno recovery target specified\n';
  const archive = [
    '0000000100000000/000000010000000000000003.00000028.backup.gz',
    ...[3, 4].map((n) => `0000000100000000/00000001000000000000000${n}.gz`),
    '0000000100000000/000000010000000000000005.partial.gz',
    '00000002.history.gz',
    ...[5, 6, 7, 8].map((n) => `0000000200000000/00000002000000000000000${n}.gz`),
    '0000000200000000/',
  ];
  const check = (listing: string[], extra: NodeJS.ProcessEnv = {}) => {
    writeFileSync(join(folder, 'listing'), `${listing.join('\n')}\n`);
    return spawnSync('bash', ['-c', verifyScript()], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PSQL: join(folder, 'psql'),
        PG_WALDUMP: join(folder, 'pg_waldump'),
        NEWEST_SEGMENT_FILE: join(folder, 'newest'),
        FAKE_TLI: '00000003',
        FAKE_HISTORY: history,
        RECOVERY_TARGET: 'latest',
        WAL_LISTING: join(folder, 'listing'),
        BACKUP_START_WAL: '000000010000000000000003',
        ...extra,
      },
    });
  };

  it('passes along the path 1 -> 2 (partial and history files are not segments)', () => {
    const out = check(archive);
    expect(out.stdout).toMatch(/newest segment 000000020000000000000008/);
    expect(out.stdout).toMatch(/1 .history, 1 .backup, 1 .partial/);
    expect(out.stdout).toMatch(/newest segment 000000020000000000000008: valid WAL ends at 0\/9000000 \(an XLOG SWITCH record at 0\/08FFFF00/);
    expect(out.status, out.stdout + out.stderr).toBe(0);
  });

  it('without the newest segment to read, latest fails: damage in it would look like the end of the WAL', () => {
    const out = check(archive, { NEWEST_SEGMENT_FILE: '' });
    expect(out.stderr).toMatch(/no NEWEST_SEGMENT_FILE: the content of the newest archived segment 000000020000000000000008 was not checked/);
    expect(out.status).toBe(1);
  });

  it("timeline 1's segments past the branch point are not on the path", () => {
    const out = check([...archive, '0000000100000000/000000010000000000000009.gz', '0000000100000000/00000001000000000000000A.gz']);
    expect(out.stdout).toMatch(/\(2 on timelines or past switch points that recovery does not read\)/);
    expect(out.status, out.stdout + out.stderr).toBe(0);
  });

  it("a missing segment of timeline 2 is named with timeline 2's name", () => {
    const out = check(archive.filter((n) => !n.includes('000000020000000000000006')));
    expect(out.stderr).toMatch(/the archive is missing segment 000000020000000000000006/);
    expect(out.status).toBe(1);
  });

  it('a newer timeline in the archive that recovery did not follow fails', () => {
    const out = check([...archive, '00000003.history'], { FAKE_TLI: '00000004' });
    expect(out.stderr).toMatch(/the archive holds timeline 3 \(00000003.history\), newer than timeline 2/);
    expect(out.status).toBe(1);
  });

  it('recovery that ended before the timeline it names began fails', () => {
    const out = check(archive, { FAKE_HISTORY: '1\t0/5800000\tno recovery target specified\n2\t0/4000000\tno recovery target specified\n' });
    expect(out.stderr).toMatch(/recovery ended at 0\/4000000, before timeline 2 began at 0\/5800000/);
    expect(out.status).toBe(1);
  });

  it('a recovery that stopped at a target does not pass as latest', () => {
    const out = check(archive, { FAKE_HISTORY: '1\t0/5800000\tno recovery target specified\n2\t0/9000000\tat restore point "x"\n' });
    expect(out.stderr).toMatch(/recovery stopped at a target \("at restore point "x""\)/);
    expect(out.status).toBe(1);
  });
});

describeNeeding(
  [
    program(`${BIN}/postgres`, 'postgresql-15'),
    program(`${BIN}/pg_waldump`, 'postgresql-15'),
    program(`${BIN}/psql`, 'postgresql-client-15'),
    program('barman-cloud-backup', 'barman-cli-cloud'),
    program('barman-cloud-wal-archive', 'barman-cli-cloud'),
    program('barman-cloud-wal-restore', 'barman-cli-cloud'),
    program('barman-cloud-restore', 'barman-cli-cloud'),
    program('barman-cloud-backup-show', 'barman-cli-cloud'),
    program('rclone', 'rclone'),
    program('bash', 'bash'),
  ],
  'Barman Cloud Plugin backup and recovery (barman-cloud, PostgreSQL 15, local S3)',
  () => {
    let work = '';
    let s3: S3Server | undefined;
    const servers: Server[] = [];
    let store: PluginSettings;
    /** The ObjectStore's configuration with the local store's endpoint. */
    let config: BarmanObjectStoreConfiguration;
    let bucket = '';
    let prefix = '';
    let backupId = '';
    let beginWal = '';
    let scriptPath = '';
    const batches: Batch[] = [];
    /** rows per batch the primary held when it was killed (batch 0: before the backup). */
    let committed = new Map<number, number>();

    const dir = (...parts: string[]) => {
      const path = join(work, ...parts);
      mkdirSync(path, { recursive: true });
      chownTree(path, OS_USER);
      return path;
    };
    const must = (what: string, out: { status: number | null; stdout: string; stderr: string }) => {
      if (out.status !== 0) throw new Error(`${what} failed (exit ${out.status}):\n${out.stdout}${out.stderr}`);
      return out.stdout;
    };
    const barman = (command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) => run(OS_USER, command, args, { ...s3!.env, ...env });
    /** As `run`, without blocking: the recoveries run side by side. */
    const exec = (command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const [cmd, argv] = asUser(OS_USER, command, args);
        const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('error', reject);
        child.once('close', (status) => resolve({ status, stdout, stderr }));
      });
    const rclone = (args: readonly string[]) => {
      const out = spawnSync('rclone', args, { encoding: 'utf8', env: { ...process.env, ...s3!.rcloneEnv }, timeout: 60_000 });
      if (out.status !== 0) throw new Error(`rclone ${args.join(' ')} failed (exit ${out.status}):\n${out.stdout}${out.stderr}`);
      return out.stdout;
    };
    /** rclone's path of a server's folder (or something in it). */
    const remote = (serverName: string, ...rest: string[]) => `${RCLONE_REMOTE}:${[bucket, prefix, serverName, ...rest].filter(Boolean).join('/')}`;
    const walObject = (serverName: string, segment: string) => remote(serverName, 'wals', segment.slice(0, 16), `${segment}.gz`);

    const psql = (server: Server, sql: string) =>
      must(
        `psql on ${server.name}`,
        run(OS_USER, `${BIN}/psql`, superuserPsqlArgs(server.socketDir, server.port, ['-At', '-v', 'ON_ERROR_STOP=1'], ['-c', sql])),
      ).trim();

    async function until(what: () => string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
        await sleep(100);
      }
    }

    async function startServer(name: string, data: string): Promise<Server> {
      const server: Server = { name, data, port: await freePort(), socketDir: dir(name, 'run'), log: join(dir(name), 'server.log') };
      servers.push(server);
      const options = `-p ${server.port} -c unix_socket_directories=${server.socketDir} -c listen_addresses=''`;
      // The server's environment reaches archive_command and restore_command: the store's credentials.
      const started = await exec(`${BIN}/pg_ctl`, ['-D', data, '-l', server.log, '-w', '-t', '60', '-o', options, 'start'], s3!.env);
      if (started.status !== 0) throw new Error(`starting ${name} failed: ${started.stdout}${started.stderr}\n${tail(server.log)}`);
      return server;
    }

    function stopServer(server: Server): void {
      if (existsSync(join(server.data, 'postmaster.pid'))) run(OS_USER, `${BIN}/pg_ctl`, ['-D', server.data, '-m', 'immediate', '-w', 'stop']);
    }

    /**
     * A primary: the Cluster's data checksums and the parameters that shape its WAL,
     * `archiveCommand`, the Cluster's archive_timeout; fast checkpoints (the backup's is not
     * immediate), no fsync (a kill -9 loses nothing the kernel has). With an empty table batches.
     */
    async function initPrimary(name: string, archiveCommand: string): Promise<Server> {
      const data = join(dir(name), 'data');
      must(
        'initdb',
        run(OS_USER, `${BIN}/initdb`, [
          '-D',
          data,
          '-U',
          'postgres',
          '--auth-local=trust',
          '--encoding=UTF8',
          '--locale=C.UTF-8',
          ...(store.dataChecksums ? ['--data-checksums'] : []),
        ]),
      );
      const walShape = ['wal_level', 'wal_compression', 'wal_log_hints'].filter((p) => store.parameters[p] !== undefined);
      writeFileSync(
        join(data, 'postgresql.conf'),
        `${readFileSync(join(data, 'postgresql.conf'), 'utf8')}
wal_level = replica
${walShape.map((p) => `${p} = ${confString(store.parameters[p]!)}`).join('\n')}
archive_mode = on
archive_command = ${confString(archiveCommand)}
archive_timeout = ${confString(store.archiveTimeout)}
shared_buffers = 32MB
checkpoint_completion_target = 0
fsync = off
log_line_prefix = '%m [%p] '
`,
      );
      const primary = await startServer(name, data);
      psql(primary, 'CREATE TABLE batches (batch int NOT NULL, n int NOT NULL, filler text NOT NULL)');
      return primary;
    }

    /** Commits a batch of ROWS_PER_BATCH rows (psql returns once the commit is acknowledged). */
    const insertBatch = (server: Server, batch: number) =>
      psql(server, `INSERT INTO batches SELECT ${batch}, g, repeat(md5(g::text), 3) FROM generate_series(1, ${ROWS_PER_BATCH}) g`);

    /** The base backup of `primary` to `serverName`, as the plugin takes it. */
    function takeBackup(primary: Server, serverName: string): Backup {
      const name = pluginBackupName();
      must(
        'barman-cloud-backup',
        barman('barman-cloud-backup', backupOptions(config, name, serverName), { PGHOST: primary.socketDir, PGPORT: String(primary.port) }),
      );
      const shown = JSON.parse(
        must(
          'barman-cloud-backup-show',
          barman('barman-cloud-backup-show', ['--format', 'json', ...catalogOptions(config), config.destinationPath, serverName, name]),
        ),
      ) as Record<string, { backup_id: string; begin_wal: string; status: string }>;
      const info = Object.values(shown)[0]!;
      expect(info.status).toBe('DONE');
      return { id: info.backup_id, beginWal: info.begin_wal };
    }

    /** Rows per batch in a server. */
    const rows = (server: Server) =>
      new Map(
        psql(server, 'SELECT batch, count(*) FROM batches GROUP BY batch ORDER BY batch')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('|').map(Number) as [number, number]),
      );
    const through = (last: number) => new Map([...committed].filter(([b]) => b <= last));

    /**
     * A new cluster bootstrapped from the store: barman-cloud-restore of the backup (the first
     * block's, unless given) into a new PGDATA, recovery from `serverName`'s WAL with `targets`,
     * until it has promoted.
     */
    async function recover(
      name: string,
      serverName: string,
      targets: Record<string, string> = {},
      backup: Backup = { id: backupId, beginWal },
    ): Promise<Server> {
      const pgdata = join(dir(name), 'data');
      must('barman-cloud-restore', await exec('barman-cloud-restore', restoreOptions(config, serverName, backup.id, pgdata), s3!.env));
      chmodSync(pgdata, 0o700);
      const restoreCommand = `${shellQuote(['barman-cloud-wal-restore', ...walRestoreOptions(config, serverName)])} %f %p`;
      const settings = {
        // The new cluster archives elsewhere (its own ObjectStore); here: nowhere, the store stays as it is.
        archive_mode: 'off',
        restore_command: restoreCommand,
        recovery_target_timeline: 'latest',
        recovery_target_action: 'promote',
        ...targets,
      };
      writeFileSync(
        join(pgdata, 'postgresql.conf'),
        `${readFileSync(join(pgdata, 'postgresql.conf'), 'utf8')}\n# recovery (test)\n${Object.entries(settings)
          .map(([k, v]) => `${k} = ${confString(v)}`)
          .join('\n')}\n`,
      );
      writeFileSync(join(pgdata, 'recovery.signal'), '');
      chownTree(pgdata, OS_USER);
      const server = await startServer(name, pgdata);
      await until(
        () => `${name} to promote (log ${server.log})`,
        () => hasPromoted(OS_USER, `${BIN}/psql`, server),
      );
      return server;
    }

    /**
     * verify-recovery.sh on a recovered server, with what the separate step gives it: the listing
     * of `serverName`'s WAL (rclone lsf -R), the backup's begin_wal, and for latest the newest
     * segment fetched and decompressed by barman-cloud-wal-restore (unless `newest` is false).
     */
    function verify(
      server: Server,
      serverName: string,
      target: string,
      { backup = { id: backupId, beginWal }, newest = true }: { backup?: Backup; newest?: boolean } = {},
    ) {
      const folder = dir(server.name, 'verify');
      const listing = join(folder, 'wal-listing');
      const names = rclone(['lsf', '-R', '--fast-list', '--files-only', remote(serverName, 'wals')]);
      writeFileSync(listing, names);
      const env: NodeJS.ProcessEnv = {
        PATH: `${BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        PGHOST: server.socketDir,
        PGPORT: String(server.port),
        PGUSER: 'postgres',
        PGDATABASE: 'postgres',
        RECOVERY_TARGET: target,
        WAL_LISTING: listing,
        BACKUP_START_WAL: backup.beginWal,
      };
      if (target === 'latest' && newest) {
        const newest = names
          .split('\n')
          .map((l) => /([0-9A-F]{24})(\.gz)?$/.exec(l)?.[1])
          .filter((n) => n !== undefined)
          .sort()
          .pop()!;
        env.NEWEST_SEGMENT_FILE = join(folder, newest);
        must(
          `barman-cloud-wal-restore ${newest}`,
          barman('barman-cloud-wal-restore', [...walRestoreOptions(config, serverName), newest, env.NEWEST_SEGMENT_FILE]),
        );
      }
      chownTree(folder, OS_USER);
      const out = run(OS_USER, 'bash', [scriptPath], env);
      return { status: out.status, output: `${out.stdout}${out.stderr}` };
    }

    /** Flips a byte inside a heap record in the middle of `segment` of `serverName`'s archive: download, gunzip, flip, gzip, upload. */
    function flipByte(serverName: string, segment: string): string {
      const folder = dir('flip', serverName);
      const local = join(folder, segment);
      rclone(['copyto', walObject(serverName, segment), `${local}.gz`]);
      const wal = gunzipSync(readFileSync(`${local}.gz`));
      writeFileSync(local, wal);
      const records = must('pg_waldump', run(OS_USER, `${BIN}/pg_waldump`, [local]))
        .split('\n')
        .filter((l) => /^rmgr: Heap .*desc: INSERT/.test(l))
        .map((l) => Number(lsnValue(/lsn: ([0-9A-F]+\/[0-9A-F]+)/.exec(l)![1]!) % BigInt(SEGMENT)))
        // Not across a page boundary: the flipped byte is in the record, not in a page header.
        .filter((offset) => offset % 8192 < 8000);
      expect(records.length, `heap inserts in ${segment}`).toBeGreaterThan(100);
      const offset = records[Math.floor(records.length / 2)]! + 30;
      wal[offset] = wal[offset]! ^ 0xff;
      writeFileSync(`${local}.gz`, gzipSync(wal));
      rclone(['copyto', `${local}.gz`, walObject(serverName, segment)]);
      return `0/${(segno(segment) * SEGMENT + offset).toString(16).toUpperCase()}`;
    }

    /** The recoveries, started side by side at the end of beforeAll; each test awaits its own. */
    const recoveries = new Map<string, Promise<Server>>();
    /** What the damaged archives lack. */
    let flippedMiddle = '';
    let deleted = '';
    let gone: string[] = [];
    let flippedNewest = '';
    const recovered = (name: string) => {
      const recovery = recoveries.get(name);
      if (!recovery) throw new Error(`no recovery ${name}: beforeAll failed`);
      return recovery;
    };

    beforeAll(async () => {
      store = productionPluginSettings();
      work = tempDirFor(OS_USER, 'barman-restore-');
      scriptPath = join(dir('scripts'), SCRIPT);
      writeFileSync(scriptPath, verifyScript(), { mode: 0o755 });
      ({ bucket, prefix } = splitDestination(store.configuration.destinationPath));
      s3 = await startS3Server([bucket]);
      config = { ...store.configuration, endpointURL: s3.endpoint };

      const primary = await initPrimary('primary', `${shellQuote(['barman-cloud-wal-archive', ...walArchiveOptions(config, store.serverName)])} %p`);
      const insert = (batch: number) => insertBatch(primary, batch);
      insert(0);
      ({ id: backupId, beginWal } = takeBackup(primary, store.serverName));

      // The batches: each committed, its segment switched out and archived.
      const archived = (segment: string) => {
        const [last = '', failed = ''] = psql(primary, 'SELECT last_archived_wal, last_failed_wal FROM pg_stat_archiver').split('|');
        if (failed >= segment && failed > last) throw new Error(`archiving ${failed} failed:\n${tail(primary.log)}`);
        return last >= segment;
      };
      for (let batch = 1; batch <= ARCHIVED_BATCHES; batch++) {
        insert(batch);
        const [time = '', lsn = ''] = psql(
          primary,
          'SELECT to_char(clock_timestamp() AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\'), pg_current_wal_insert_lsn()',
        ).split('|');
        const segment = psql(primary, 'SELECT pg_walfile_name(pg_switch_wal())');
        batches.push({ batch, segment, time, lsn });
        await until(
          () => `${segment} to be archived (${tail(primary.log, 5)})`,
          () => archived(segment),
        );
      }
      // Committed, never archived: archive_timeout has not passed when the primary dies.
      insert(ARCHIVED_BATCHES + 1);
      committed = rows(primary);
      process.kill(Number(readFileSync(join(primary.data, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGKILL');

      // Damaged copies of the archive, each under its own server name.
      const copy = (damage: string) => {
        const serverName = `${store.serverName}-${damage}`;
        rclone(['copy', '--fast-list', remote(store.serverName), remote(serverName)]);
        return serverName;
      };
      flippedMiddle = batches[2]!.segment;
      flipByte(copy('flipped-middle'), flippedMiddle);
      deleted = batches[1]!.segment;
      rclone(['deletefile', walObject(copy('deleted'), deleted)]);
      const tli = beginWal.slice(0, 8);
      gone = Array.from({ length: segno(batches[2]!.segment) - segno(beginWal) }, (_, i) => segName(tli, segno(beginWal) + 1 + i));
      const missing = copy('missing');
      for (const segment of gone) rclone(['deletefile', walObject(missing, segment)]);
      flippedNewest = batches.at(-1)!.segment;
      flipByte(copy('flipped-newest'), flippedNewest);

      // A new cluster from each, side by side (most of the time goes to starting
      // barman-cloud-wal-restore, once per file).
      // PostgreSQL takes no "T" nor "Z" (a zone abbreviation) in recovery_target_time.
      const pgTime = (rfc3339: string) => rfc3339.replace('T', ' ').replace('Z', '+00');
      const start: [string, string, Record<string, string>?][] = [
        ['latest', store.serverName],
        ['time', store.serverName, { recovery_target_time: pgTime(batches[1]!.time) }],
        ['lsn', store.serverName, { recovery_target_lsn: batches[2]!.lsn }],
        ['flipped-middle', `${store.serverName}-flipped-middle`],
        ['deleted', `${store.serverName}-deleted`],
        ['missing', missing],
        ['flipped-newest', `${store.serverName}-flipped-newest`],
      ];
      for (const [name, serverName, targets] of start) {
        const recovery = recover(name, serverName, targets);
        recovery.catch(() => undefined); // reported by the test that awaits it
        recoveries.set(name, recovery);
      }
    }, 180_000);

    afterAll(async () => {
      await Promise.allSettled(recoveries.values());
      for (const server of servers) stopServer(server);
      await s3?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it("archives with the plugin's options: gzip-compressed WAL and base backup in <destinationPath>/<serverName>", () => {
      expect(walArchiveOptions(config, store.serverName)).toEqual(
        expect.arrayContaining(['--endpoint-url', s3!.endpoint, config.destinationPath, store.serverName]),
      );
      const objects = rclone(['lsf', '-R', '--fast-list', '--files-only', remote(store.serverName)])
        .split('\n')
        .filter(Boolean);
      expect(objects).toContain(`base/${backupId}/backup.info`);
      for (const { segment } of batches) expect(objects).toContain(`wals/${segment.slice(0, 16)}/${segment}${config.wal?.compression === 'gzip' ? '.gz' : ''}`);
      expect(committed).toEqual(new Map(Array.from({ length: ARCHIVED_BATCHES + 2 }, (_, b) => [b, ROWS_PER_BATCH])));
    });

    it('recovers to latest: exactly the archived batches, and verify-recovery.sh passes', async () => {
      const server = await recovered('latest');
      expect(rows(server)).toEqual(through(ARCHIVED_BATCHES));
      const verified = verify(server, store.serverName, 'latest');
      expect(verified.output).toMatch(/OK: the restore to latest reached/);
      expect(verified.status, verified.output).toBe(0);
      // A time target was not asked for, so it was not reached.
      const wrong = verify(server, store.serverName, batches[1]!.time);
      expect(wrong.status, wrong.output).toBe(1);
      expect(wrong.output).toMatch(/target time .* was not reached: recovery ended with "no recovery target specified"/);
    });

    it('recovers to a time between two batches: exactly the batches before it, and verify-recovery.sh passes', async () => {
      const server = await recovered('time');
      expect(rows(server)).toEqual(through(2));
      const verified = verify(server, store.serverName, batches[1]!.time);
      expect(verified.output).toMatch(/"before \d{4}-\d\d-\d\d [\d:.]+\+00"/);
      expect(verified.status, verified.output).toBe(0);
    });

    it('recovers to an LSN between two batches: exactly the batches before it, and verify-recovery.sh passes', async () => {
      const server = await recovered('lsn');
      expect(rows(server)).toEqual(through(3));
      const verified = verify(server, store.serverName, batches[2]!.lsn);
      expect(verified.output).toMatch(/"(before|after) LSN /);
      expect(verified.status, verified.output).toBe(0);
    });

    it('a flipped byte in a middle segment: PostgreSQL promotes short of the archive, verify-recovery.sh fails', async () => {
      const server = await recovered('flipped-middle');
      expect(rows(server)).toEqual(through(2));
      const verified = verify(server, `${store.serverName}-flipped-middle`, 'latest');
      expect(verified.status, verified.output).toBe(1);
      expect(verified.output).toContain(`in ${flippedMiddle}, before the newest archived segment ${batches.at(-1)!.segment}`);
    });

    it('a deleted segment: verify-recovery.sh fails and names it', async () => {
      const server = await recovered('deleted');
      expect(rows(server)).toEqual(through(1));
      const verified = verify(server, `${store.serverName}-deleted`, 'latest');
      expect(verified.status, verified.output).toBe(1);
      expect(verified.output).toContain(`the archive is missing segment ${deleted}`);
    });

    it("missing segments right after the backup's start: verify-recovery.sh fails and names the range", async () => {
      const server = await recovered('missing');
      expect(rows(server)).toEqual(through(0));
      const verified = verify(server, `${store.serverName}-missing`, 'latest');
      expect(verified.status, verified.output).toBe(1);
      expect(verified.output).toContain(`the archive is missing ${gone.length} segments ${gone[0]} .. ${gone.at(-1)}`);
    });

    it('a flipped byte in the newest segment: only pg_waldump can tell, verify-recovery.sh fails', async () => {
      const server = await recovered('flipped-newest');
      expect(rows(server)).toEqual(through(ARCHIVED_BATCHES - 1));
      const verified = verify(server, `${store.serverName}-flipped-newest`, 'latest');
      expect(verified.status, verified.output).toBe(1);
      expect(verified.output).toContain(`the newest archived segment ${flippedNewest} is damaged`);
      expect(verified.output).toMatch(/incorrect resource manager data checksum/);
    });

    // -------------------------------------------------------------------------------------------
    // Adversity while archiving, on a primary of its own (its own base backup, serverName
    // <serverName>-adversity), with archive_command = archive-wal.sh %p: a wrapper that runs the
    // plugin's barman-cloud-wal-archive command line (exec, nothing else) for every segment but
    // one that the test arms. Its tests run in order; the restores run beside the next test.
    // -------------------------------------------------------------------------------------------
    describe('adversity while archiving: the store down for a while, an upload killed halfway', () => {
      const ADVERSITY_SERVER = () => `${store.serverName}-adversity`;
      let primary: Server | undefined;
      let backup: Backup | undefined;
      /** The wrapper's folder: arm (written here), held and cut (the proxy), original and killed (the wrapper), release (here). */
      let upload = '';
      let proxy: HoldingProxy | undefined;
      /** Restores started by one test and checked by a later one, with the rows the primary had committed. */
      const pending = new Map<string, { recovery: Promise<Server>; serverName: string; committed: Map<number, number> }>();

      interface Archiver {
        readonly failed: number;
        readonly lastArchived: string;
        readonly lastFailed: string;
        /** .ready files in pg_wal/archive_status: segments waiting to be archived. */
        readonly ready: number;
      }
      const archiver = (server: Server): Archiver => {
        const [failed = '', lastArchived = '', lastFailed = '', ready = ''] = psql(
          server,
          `SELECT failed_count, coalesce(last_archived_wal, ''), coalesce(last_failed_wal, ''),
             (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name ~ '^[0-9A-F]{24}[.]ready$') FROM pg_stat_archiver`,
        ).split('|');
        return { failed: Number(failed), lastArchived, lastFailed, ready: Number(ready) };
      };
      /** Commits a batch and completes its segment (pg_switch_wal); the segment's name. */
      const commitBatch = (server: Server, batch: number) => {
        insertBatch(server, batch);
        return psql(server, 'SELECT pg_walfile_name(pg_switch_wal())');
      };
      /** Until `segment` and everything before it is archived (no .ready file left). */
      const caughtUp = (server: Server, segment: string) => {
        const state = archiver(server);
        return state.lastArchived >= segment && state.ready === 0;
      };
      /** `segment`'s objects in `serverName`'s archive, as "<name>;<size>". */
      const walObjects = (serverName: string, segment: string) =>
        rclone(['lsf', '--format', 'ps', '--files-only', remote(serverName, 'wals', segment.slice(0, 16))])
          .split('\n')
          .filter((l) => l.includes(segment));
      const started = (name: string) => {
        const entry = pending.get(name);
        if (!entry) throw new Error(`no restore ${name}: the test that starts it failed`);
        return entry;
      };

      beforeAll(async () => {
        upload = dir('adversity', 'upload');
        // The plugin's command line, word for word; the armed segment's first upload goes to the
        // holding proxy instead of the store (the same command line but --endpoint-url), is killed
        // (-9) once the proxy holds it halfway, and the wrapper exits 1: archive_command failed,
        // PostgreSQL retries the segment. In a Cluster the same happens when the sidecar's
        // barman-cloud-wal-archive dies mid-upload (OOM-killed at its memory limit, say): the
        // instance manager's wal-archive reports the failure to PostgreSQL.
        const plugin = ['barman-cloud-wal-archive', ...walArchiveOptions(config, ADVERSITY_SERVER())];
        const wrapper = join(dir('scripts'), 'archive-wal.sh');
        writeFileSync(
          wrapper,
          `#!/bin/bash
set -u
wal=$1
folder=${shellQuote([upload])}
plugin=(${shellQuote(plugin)})
if [[ -r $folder/arm && ! -e $folder/killed ]]; then
  read -r segment endpoint <"$folder/arm"
  if [[ \${wal##*/} == "$segment" ]]; then
    cp "$wal" "$folder/original"
    proxied=()
    for word in "\${plugin[@]}"; do
      [[ $word == ${shellQuote([s3!.endpoint])} ]] && word=$endpoint
      proxied+=("$word")
    done
    "\${proxied[@]}" "$wal" &
    pid=$!
    for ((i = 0; i < 600; i++)); do [[ -e $folder/held ]] && break; sleep 0.05; done
    kill -9 "$pid"
    wait "$pid"
    echo "$?" >"$folder/killed.tmp"
    mv "$folder/killed.tmp" "$folder/killed"
    for ((i = 0; i < 2400; i++)); do [[ -e $folder/release ]] && break; sleep 0.05; done
    exit 1
  fi
fi
exec "\${plugin[@]}" "$wal"
`,
          { mode: 0o755 },
        );
        chownTree(wrapper, OS_USER);
        primary = await initPrimary('adversity-primary', `${shellQuote([wrapper])} %p`);
        insertBatch(primary, 0);
        backup = takeBackup(primary, ADVERSITY_SERVER());
      }, 60_000);

      afterAll(async () => {
        if (upload) writeFileSync(join(upload, 'release'), ''); // never leave the wrapper waiting
        await Promise.allSettled([...pending.values()].map((p) => p.recovery));
        await proxy?.stop();
      });

      it('the store down: archive_command fails again and again while commits go on; back up, the archiver catches up and a restore has every row', async () => {
        if (!primary || !backup) throw new Error('beforeAll failed');
        const p = primary;
        await until(
          () => `the archiver to catch up before the outage (${JSON.stringify(archiver(p))})`,
          () => caughtUp(p, backup!.beginWal),
        );
        const before = archiver(p);

        const downAt = psql(p, 'SELECT now()');
        await s3!.pause();
        const down = performance.now();
        // The database does not stop: every commit is acknowledged, its segment waits in pg_wal.
        const outage = [1, 2, 3].map((batch) => commitBatch(p, batch));
        await until(
          () => `barman-cloud-wal-archive to fail twice (${JSON.stringify(archiver(p))}, log ${tail(p.log, 5)})`,
          () => archiver(p).failed >= before.failed + 2,
        );
        const during = archiver(p);
        expect(during.lastFailed).toBe(outage[0]); // the oldest waiting segment, tried again and again
        expect(during.lastArchived < outage[0]!, `${during.lastArchived} archived during the outage`).toBe(true);
        expect(psql(p, `SELECT last_failed_time > '${downAt}' FROM pg_stat_archiver`), 'last_failed_time set during the outage').toBe('t');
        expect(during.ready).toBeGreaterThanOrEqual(outage.length);
        expect(readFileSync(p.log, 'utf8')).toMatch(/archive command failed with exit code \d+/);
        // Still committing, after the failures.
        outage.push(commitBatch(p, 4));
        expect(rows(p).get(4)).toBe(ROWS_PER_BATCH);
        const failedDuring = archiver(p).failed - before.failed;
        const outageMs = performance.now() - down;

        await s3!.resume();
        const up = performance.now();
        // Traffic after the outage (the primary's own: a commit and a finished segment) wakes the
        // archiver; without any, it would try again within 60 s (PGARCH_AUTOWAKE_INTERVAL).
        const last = commitBatch(p, 5);
        await until(
          () => `the archiver to catch up through ${last} (${JSON.stringify(archiver(p))})`,
          () => caughtUp(p, last),
        );
        const catchUpMs = performance.now() - up;
        for (const segment of [...outage, last]) expect(walObjects(ADVERSITY_SERVER(), segment), segment).toHaveLength(1);
        console.log(
          `store down ${Math.round(outageMs)} ms: failed_count +${failedDuring} (last_failed_wal ${during.lastFailed}), ${during.ready} segments waiting, ${outage.length} batches committed meanwhile; ` +
            `caught up through ${last} ${Math.round(catchUpMs)} ms after the store came back`,
        );

        // The archive as it is now, restored beside the next test (which changes the live one).
        const snapshot = `${ADVERSITY_SERVER()}-after-outage`;
        rclone(['copy', '--fast-list', remote(ADVERSITY_SERVER()), remote(snapshot)]);
        const recovery = recover('after-outage', snapshot, {}, backup);
        recovery.catch(() => undefined);
        pending.set('after-outage', { recovery, serverName: snapshot, committed: rows(p) });
      }, 90_000);

      it("an upload killed halfway: s3rver keeps half an object, a restore then stops short and the drill's listing fails on it; the retry replaces it, once and whole", async () => {
        if (!primary || !backup) throw new Error('beforeAll failed');
        const p = primary;
        const before = archiver(p);
        const segment = psql(p, 'SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
        proxy = await startHoldingProxy(s3!.endpoint, `/${segment}`, upload);
        writeFileSync(join(upload, 'arm'), `${segment} ${proxy.endpoint}\n`);
        expect(commitBatch(p, 6)).toBe(segment);

        // Killed with half the body sent; the proxy then cuts the request to the store.
        await until(
          () => `the upload of ${segment} to be killed and cut (${tail(p.log, 5)})`,
          () => existsSync(join(upload, 'killed')) && proxy!.cut() !== undefined,
        );
        expect(readFileSync(join(upload, 'killed'), 'utf8').trim()).toBe('137'); // 128 + SIGKILL
        const cut = proxy.cut()!;
        expect(cut.path).toMatch(new RegExp(`/${segment}\\.gz$`)); // a single PUT, not a multipart upload
        expect(cut.forwarded).toBeGreaterThan(0);
        expect(cut.forwarded).toBeLessThan(cut.length);

        // FINDING (s3rver 3.7.1, not S3): the cut PUT leaves an object of the bytes received, listed
        // and served as the segment (S3 stores a PUT whole or not at all). What a restore makes of
        // it, were the primary lost before PostgreSQL retries:
        await until(
          () => `s3rver to hold the cut upload (${walObjects(ADVERSITY_SERVER(), segment).join(', ')})`,
          () => walObjects(ADVERSITY_SERVER(), segment).join() === `${segment}.gz;${cut.forwarded}`,
        );
        const fetched = barman('barman-cloud-wal-restore', [
          ...walRestoreOptions(config, ADVERSITY_SERVER()),
          segment,
          join(dir('adversity', 'fetch'), segment),
        ]);
        expect(fetched.status, fetched.stderr).not.toBe(0);
        expect(fetched.stderr).toMatch(/Compressed file ended before the end-of-stream marker was reached/);
        const short = await recover('cut-upload', ADVERSITY_SERVER(), {}, backup);
        const shortRows = rows(short);
        expect(shortRows.get(6), 'the cut segment replayed').toBeUndefined();
        expect(shortRows).toEqual(new Map([...rows(p)].filter(([b]) => b < 6)));
        // The recovery ended at the start of the cut segment, which is where a segment that ends
        // in an XLOG SWITCH ends: only the newest segment's content tells them apart, so
        // verify-recovery.sh refuses to pass latest without it. The step before it,
        // list-archive.sh (the drill's and the restore Job's), fails on the cut gzip when it
        // fetches that segment: the drill records "listing the archive failed", the restore
        // Job's init container fails.
        const blind = verify(short, ADVERSITY_SERVER(), 'latest', { backup, newest: false });
        expect(blind.output).toMatch(new RegExp(`no NEWEST_SEGMENT_FILE: the content of the newest archived segment ${segment} was not checked`));
        expect(blind.status, `verify-recovery.sh without NEWEST_SEGMENT_FILE on the short restore:\n${blind.output}`).toBe(1);
        const listWork = dir('adversity', 'list-archive');
        const listed = spawnSync('sh', [join(ROOT, 'charts/backup/files/list-archive.sh')], {
          encoding: 'utf8',
          env: { ...process.env, ...s3!.rcloneEnv, ARCHIVE: remote(ADVERSITY_SERVER(), 'wals'), WORK: listWork },
          timeout: 60_000,
        });
        expect(listed.status, `list-archive.sh on the cut archive:\n${listed.stdout}${listed.stderr}`).not.toBe(0);
        expect(listed.stderr).toMatch(/unexpected end of file/);
        console.log(
          `upload of ${segment} killed with ${cut.forwarded} of ${cut.length} bytes sent: s3rver lists it at ${cut.forwarded} bytes; a restore then stops before it (batch 6 missing), ` +
            `verify-recovery.sh alone exits ${blind.status}, list-archive.sh exits ${listed.status}: ${listed.stderr.trim()}`,
        );

        // The retry: the same segment, whole, once.
        writeFileSync(join(upload, 'release'), '');
        await until(
          () => `${segment} to be archived on retry (${JSON.stringify(archiver(p))})`,
          () => caughtUp(p, segment),
        );
        const after = archiver(p);
        expect(after.failed - before.failed).toBe(1);
        expect(after.lastFailed).toBe(segment);
        const objects = walObjects(ADVERSITY_SERVER(), segment);
        expect(objects).toHaveLength(1);
        expect(objects[0]).toBe(`${segment}.gz;${cut.length}`);
        const copy = join(dir('adversity', 'fetch'), `${segment}.retried`);
        must(`barman-cloud-wal-restore ${segment}`, barman('barman-cloud-wal-restore', [...walRestoreOptions(config, ADVERSITY_SERVER()), segment, copy]));
        expect(
          readFileSync(copy).equals(readFileSync(join(upload, 'original'))),
          `${segment} in the store equals the file PostgreSQL handed archive_command`,
        ).toBe(true);

        // Past it: one more batch, and the restore after the retry (checked by the last test).
        const last = commitBatch(p, 7);
        await until(
          () => `${last} to be archived (${JSON.stringify(archiver(p))})`,
          () => caughtUp(p, last),
        );
        const committed = rows(p);
        process.kill(Number(readFileSync(join(p.data, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGKILL');
        const recovery = recover('after-retry', ADVERSITY_SERVER(), {}, backup);
        recovery.catch(() => undefined);
        pending.set('after-retry', { recovery, serverName: ADVERSITY_SERVER(), committed });
      }, 90_000);

      it.each(['after-outage', 'after-retry'])(
        'restored to latest %s: every committed row, and verify-recovery.sh passes',
        async (name) => {
          const { recovery, serverName, committed } = started(name);
          const server = await recovery;
          expect(rows(server)).toEqual(committed);
          const verified = verify(server, serverName, 'latest', { backup });
          expect(verified.output).toMatch(/OK: the restore to latest reached/);
          expect(verified.status, verified.output).toBe(0);
        },
        90_000,
      );
    });
  },
);
