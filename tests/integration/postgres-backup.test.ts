// The PostgreSQL backup and restore scripts the backup chart ships, run against a real
// PostgreSQL 15 with the environment the chart gives them: WAL streamed by stream-wal.sh, base
// backups by base-backup.sh, retention by prune-backups.sh, and restores by restore-postgres.sh
// into a new data directory that a new server recovers from. The proofs: a crash (kill -9 of
// the postmaster and its children mid-write) loses at most a few seconds of acknowledged commits;
// point-in-time and restore-point targets stop exactly where asked; a corrupt or incomplete
// backup and a non-empty PGDATA are refused without touching PGDATA; pruning keeps what the
// retention settings promise and the WAL the oldest kept backup needs. Runs the servers and the
// scripts as the unprivileged "postgres" user when root.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asUser, chownTree, freePort, run } from './processes';
import { BACKUP_ROLE, BIN, OS_USER, PG_BACKUP_TOOLS, PgBackupFixture, type Server, sleep, tail, until, WAL_SLOT } from './pg-backup-fixture';
import { describeNeeding } from './tools';

/** A UTC timestamp in backup-name form (YYYYMMDDTHHMMSSZ), `daysAgo` days before now. */
function backupName(daysAgo: number): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

describeNeeding(PG_BACKUP_TOOLS, 'PostgreSQL backup and restore scripts', () => {
    const pg = new PgBackupFixture('pg-backup-', ['stream-wal.sh', 'base-backup.sh', 'prune-backups.sh', 'restore-postgres.sh', 'logical-dump.sh']);
    const dir = (...parts: string[]) => pg.dir(...parts);
    const psql = (server: Server, sql: string) => pg.psql(server, sql);
    const scriptEnv = (backupRoot: string, port: number, extra: NodeJS.ProcessEnv = {}) => pg.scriptEnv(backupRoot, port, extra);
    const script = (name: string, env: NodeJS.ProcessEnv) => pg.script(name, env);
    const newCluster = (name: string) => pg.newCluster(name);
    const startStreamer = (server: Server, backupRoot: string, slot = WAL_SLOT) => pg.startStreamer(server, backupRoot, slot);
    const waitStreamed = (server: Server, slot = WAL_SLOT) => pg.waitStreamed(server, slot);
    const startRestored = (pgdata: string, name: string) => pg.startRestored(pgdata, name);
    const stopServer = (server: Server) => pg.stopServer(server);

    /** Backups (complete ones) under a backup root, oldest first. */
    const backupsIn = (root: string) => readdirSync(join(root, 'base')).filter((n) => /^\d{8}T\d{6}Z$/.test(n)).sort();
    const startSegment = (backup: string) => /^START WAL LOCATION: .* \(file ([0-9A-F]{24})\)$/m.exec(readFileSync(join(backup, 'backup_label'), 'utf8'))![1]!;
    const walFiles = (root: string) => readdirSync(join(root, 'wal')).filter((f) => /^[0-9A-F]{24}(\.partial)?$/.test(f)).sort();
    const tableOf = (server: Server, sql: string) => psql(server, sql).split('\n').filter(Boolean);

    beforeAll(() => pg.setUp());
    afterAll(() => pg.tearDown());

    it('loses at most a few seconds of acknowledged commits when the database crashes', async () => {
      const primary = await newCluster('crash');
      psql(primary, 'CREATE TABLE ledger (id bigserial PRIMARY KEY, committed_at timestamptz NOT NULL DEFAULT clock_timestamp())');
      const root = dir('crash', 'backups');
      const streamer = await startStreamer(primary, root);
      const backup = script('base-backup.sh', scriptEnv(root, primary.port, { RETAIN_COUNT: '2', RETAIN_DAYS: '7' }));
      expect(backup.status, backup.stdout + backup.stderr).toBe(0);

      // One committed transaction every ~50 ms; a row counts once psql has printed it, which it
      // does only after the server acknowledged the commit.
      const [command, args] = asUser(OS_USER, `${BIN}/psql`, ['-X', '-q', '-At', '-h', primary.socketDir, '-p', String(primary.port), '-U', 'postgres', '-d', 'postgres']);
      const writer = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const writerExited = new Promise<void>((r) => writer.once('exit', () => r()));
      const acknowledged: { id: number; at: number }[] = [];
      let pending = '';
      writer.stdout.on('data', (d: Buffer) => {
        pending += d.toString();
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          const [id, at] = line.split('|');
          if (id && at) acknowledged.push({ id: Number(id), at: Number(at) });
        }
      });
      writer.stdin.on('error', () => undefined); // writes after the crash fail; expected
      const timer = setInterval(() => writer.stdin.write('INSERT INTO ledger DEFAULT VALUES RETURNING id, extract(epoch FROM committed_at);\n'), 50);
      await sleep(8_000);

      // The crash: SIGKILL to the postmaster and every child of it, while the writer still writes.
      const postmaster = Number(readFileSync(join(primary.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const children = readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === postmaster;
          } catch {
            return false;
          }
        })
        .map(Number);
      const killedAt = Date.now() / 1000;
      for (const pid of [postmaster, ...children]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      clearInterval(timer);
      writer.stdin.end();
      await Promise.race([writerExited, sleep(5_000)]);
      if (writer.exitCode === null) writer.kill('SIGKILL');

      // pg_receivewal notices the lost connection; everything it received is already on disk.
      await until('pg_receivewal to notice the crash', () => /disconnected|unexpected termination|could not receive data/.test(streamer.output()), 10_000).catch(() => undefined);
      await pg.stopChild(streamer.child);
      expect(walFiles(root).some((f) => f.endsWith('.partial')), `WAL directory: ${walFiles(root).join(' ')}`).toBe(true);

      // As the restore Job does it: the WAL recovery needs is copied beside PGDATA, so the server
      // that recovers does not need the backup volume; it is moved away to prove that.
      const pgdata = join(dir('crash', 'restored'), 'data');
      const walCopy = join(dir('crash', 'restored'), 'restore-wal');
      const restore = script('restore-postgres.sh', { PGDATA: pgdata, BACKUP_ROOT: root, RESTORE_WAL_COPY: walCopy, PATH: scriptEnv(root, 0).PATH });
      expect(restore.status, restore.stdout + restore.stderr).toBe(0);
      expect(restore.stdout).toMatch(/copied \d+ WAL files into/);
      expect(statSync(pgdata).mode & 0o777).toBe(0o700);
      renameSync(join(root, 'wal'), join(root, 'wal.away'));
      const restored = await startRestored(pgdata, 'crash-restored').finally(() => renameSync(join(root, 'wal.away'), join(root, 'wal')));
      expect(psql(restored, 'SELECT substring(pg_walfile_name(pg_current_wal_lsn()), 1, 8)'), 'promoted onto a new timeline').toBe('00000002');

      const rows = tableOf(restored, 'SELECT id, extract(epoch FROM committed_at) FROM ledger ORDER BY id').map((l) => l.split('|').map(Number) as [number, number]);
      const present = new Set(rows.map(([id]) => id));
      const newestRestored = Math.max(...rows.map(([, at]) => at));
      const lastAcknowledged = acknowledged.at(-1)!;
      const lost = acknowledged.filter((r) => !present.has(r.id));
      const window = Math.max(0, lastAcknowledged.at - newestRestored);
      console.log(
        `crash drill: ${acknowledged.length} commits acknowledged, ${rows.length} rows restored, ${lost.length} acknowledged rows lost, ` +
          `loss window ${window.toFixed(3)} s; last acknowledged commit ${((killedAt - lastAcknowledged.at) * 1000).toFixed(0)} ms before the kill (restored from ${restore.stdout.match(/backup: +(\S+)/)?.[1]}, WAL ${restore.stdout.match(/WAL up to: +(\S+)/)?.[1]})`,
      );
      expect(acknowledged.length, 'the writer committed for the whole run').toBeGreaterThan(50);
      expect(acknowledged.map((r) => r.id)).toEqual(acknowledged.map((_, i) => i + 1));
      // No holes: the restored rows are the first N written (commits the server made but never
      // acknowledged may be among them); what is lost, if anything, is only the newest commits.
      expect(rows.map(([id]) => id)).toEqual(rows.map((_, i) => i + 1));
      expect(lost.filter((r) => r.at <= newestRestored)).toEqual([]);
      expect(window).toBeLessThanOrEqual(5);
      stopServer(restored);
    }, 120_000);

    describe('on a running database with streamed WAL', () => {
      let primary: Server;
      let root = '';
      let backup = '';
      const restoreEnv = (pgdata: string, extra: NodeJS.ProcessEnv = {}) => ({ PGDATA: pgdata, BACKUP_ROOT: root, PATH: scriptEnv(root, 0).PATH, ...extra });

      beforeAll(async () => {
        primary = await newCluster('primary');
        root = dir('primary', 'backups');
        await startStreamer(primary, root);
        const taken = script('base-backup.sh', scriptEnv(root, primary.port, { RETAIN_COUNT: '5', RETAIN_DAYS: '7' }));
        expect(taken.status, taken.stdout + taken.stderr).toBe(0);
        backup = backupsIn(root)[0] ?? '';
        expect(backup).toMatch(/^\d{8}T\d{6}Z$/);
        expect(readFileSync(join(root, 'status/last-base-backup'), 'utf8')).toMatch(new RegExp(`^\\d{10} ${backup}\\n$`));
      });

      it('restores to a point in time and to a named restore point, exactly', async () => {
        psql(primary, 'CREATE TABLE trades (id serial PRIMARY KEY, batch int NOT NULL)');
        const batch = (n: number) => {
          for (let i = 0; i < 3; i++) psql(primary, `INSERT INTO trades (batch) VALUES (${n})`);
        };
        batch(1);
        psql(primary, "SELECT pg_create_restore_point('after-batch-1')");
        batch(2);
        // Taken after batch 2's commits and before batch 3's, in the server's own clock.
        const sentinel = psql(primary, 'SELECT clock_timestamp()::text');
        batch(3);
        await waitStreamed(primary);

        const byBatch = (server: Server) => tableOf(server, 'SELECT batch || \':\' || count(*) FROM trades GROUP BY batch ORDER BY batch');
        const atTime = join(dir('pitr-time'), 'data');
        const toTime = script('restore-postgres.sh', restoreEnv(atTime, { RESTORE_TARGET_TIME: sentinel }));
        expect(toTime.status, toTime.stdout + toTime.stderr).toBe(0);
        expect(toTime.stdout).toContain(`time ${sentinel}`);
        const timeServer = await startRestored(atTime, 'pitr-time');
        expect(byBatch(timeServer)).toEqual(['1:3', '2:3']);
        stopServer(timeServer);

        const atName = join(dir('pitr-name'), 'data');
        const toName = script('restore-postgres.sh', restoreEnv(atName, { RESTORE_TARGET_NAME: 'after-batch-1' }));
        expect(toName.status, toName.stdout + toName.stderr).toBe(0);
        const nameServer = await startRestored(atName, 'pitr-name');
        expect(byBatch(nameServer)).toEqual(['1:3']);
        stopServer(nameServer);
      }, 90_000);

      it('refuses a target time before the end of every backup, or without a zone', () => {
        const pgdata = join(dir('too-early'), 'data');
        const refused = script('restore-postgres.sh', restoreEnv(pgdata, { RESTORE_TARGET_TIME: '2001-01-01 00:00:00+00' }));
        expect(refused.status).not.toBe(0);
        expect(refused.stderr).toContain('no base backup ended before RESTORE_TARGET_TIME=2001-01-01 00:00:00+00');
        // Without a zone the server and the script could read different instants.
        const zoneless = script('restore-postgres.sh', restoreEnv(pgdata, { RESTORE_TARGET_TIME: '2031-01-01 00:00:00' }));
        expect(zoneless.status).not.toBe(0);
        expect(zoneless.stderr).toContain('has no time zone');
        expect(existsSync(pgdata)).toBe(false);
      });

      it('stops recovery, rather than ending it at the backup, when the WAL directory is not there', async () => {
        const copyRoot = dir('no-wal');
        cpSync(join(root, 'base', backup), join(copyRoot, 'base', backup), { recursive: true, preserveTimestamps: true });
        chownTree(copyRoot, OS_USER);
        const pgdata = join(copyRoot, 'pgdata');
        const restore = script('restore-postgres.sh', { ...restoreEnv(pgdata), BACKUP_ROOT: copyRoot });
        expect(restore.status, restore.stdout + restore.stderr).toBe(0);
        const server = { data: pgdata, port: await freePort(), socketDir: dir('no-wal', 'run'), log: join(copyRoot, 'server.log'), superuser: 'postgres' };
        pg.servers.push(server);
        const start = run(OS_USER, `${BIN}/pg_ctl`, ['-D', pgdata, '-l', server.log, '-w', '-t', '30', '-o', `-p ${server.port} -c unix_socket_directories=${server.socketDir}`, 'start']);
        expect(start.status, tail(server.log)).not.toBe(0);
        expect(readFileSync(server.log, 'utf8')).toContain(`restore_command: ${copyRoot}/wal is missing`);
        expect(existsSync(join(pgdata, 'recovery.signal')), 'never promoted').toBe(true);
      });

      /** A copy of the verified backup under its own backup root, damaged by `damage`. */
      const damagedCopy = (name: string, damage: (copy: string) => void) => {
        const copyRoot = dir(name);
        cpSync(join(root, 'base', backup), join(copyRoot, 'base', backup), { recursive: true, preserveTimestamps: true });
        damage(join(copyRoot, 'base', backup));
        chownTree(copyRoot, OS_USER);
        return copyRoot;
      };
      /** The largest file of the backup's database folders: a table or index. */
      const relationFile = (copy: string) =>
        readdirSync(join(copy, 'base'))
          .flatMap((db) => readdirSync(join(copy, 'base', db)).map((f) => join(copy, 'base', db, f)))
          .filter((f) => /\/\d+$/.test(f))
          .sort((a, b) => statSync(b).size - statSync(a).size)[0]!;

      it.each([
        [
          'a flipped byte in a relation file',
          (copy: string) => {
            const file = relationFile(copy);
            const bytes = readFileSync(file);
            const middle = Math.floor(bytes.length / 2);
            bytes[middle] = bytes[middle]! ^ 0xff;
            writeFileSync(file, bytes);
          },
        ],
        ['a missing relation file', (copy: string) => rmSync(relationFile(copy))],
        ['a missing backup_manifest', (copy: string) => rmSync(join(copy, 'backup_manifest'))],
      ])('refuses a backup with %s, leaving PGDATA untouched', (name, damage) => {
        const copyRoot = damagedCopy(`damaged-${name.replace(/\W+/g, '-')}`, damage);
        // Even with RESTORE_FORCE=true, which would otherwise replace PGDATA's contents.
        const pgdata = dir(`damaged-${name.replace(/\W+/g, '-')}`, 'pgdata');
        writeFileSync(join(pgdata, 'keep-me'), 'the live data');
        chownTree(pgdata, OS_USER);
        const refused = script('restore-postgres.sh', { ...restoreEnv(pgdata), BACKUP_ROOT: copyRoot, RESTORE_FORCE: 'true' });
        expect(refused.status).not.toBe(0);
        expect(refused.stderr).toContain(`backup ${backup} failed verification`);
        expect(refused.stderr).toContain('restore refused');
        expect(readdirSync(pgdata)).toEqual(['keep-me']);
        expect(readFileSync(join(pgdata, 'keep-me'), 'utf8')).toBe('the live data');
      });

      it('never overwrites a non-empty PGDATA unless RESTORE_FORCE=true', () => {
        const pgdata = dir('occupied', 'pgdata');
        writeFileSync(join(pgdata, 'PG_VERSION'), 'precious\n');
        mkdirSync(join(pgdata, 'base'));
        chownTree(pgdata, OS_USER);
        for (const force of [undefined, 'false']) {
          const refused = script('restore-postgres.sh', restoreEnv(pgdata, force ? { RESTORE_FORCE: force } : {}));
          expect(refused.status).not.toBe(0);
          expect(refused.stderr).toContain(`PGDATA ${pgdata} is not empty`);
          expect(refused.stderr).toContain('RESTORE_FORCE=true');
          expect(readdirSync(pgdata).sort()).toEqual(['PG_VERSION', 'base']);
          expect(readFileSync(join(pgdata, 'PG_VERSION'), 'utf8')).toBe('precious\n');
        }
        const forced = script('restore-postgres.sh', restoreEnv(pgdata, { RESTORE_FORCE: 'true' }));
        expect(forced.status, forced.stdout + forced.stderr).toBe(0);
        expect(readFileSync(join(pgdata, 'PG_VERSION'), 'utf8')).toBe('15\n');
        expect(existsSync(join(pgdata, 'recovery.signal'))).toBe(true);
      });

      it('dumps the database logically, keeps the newest dumps, and the dump restores into an empty database', async () => {
        psql(primary, 'CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, amount numeric NOT NULL)');
        psql(primary, 'INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 2000) g ON CONFLICT DO NOTHING');
        psql(primary, `GRANT pg_read_all_data TO ${BACKUP_ROLE}`);
        const dump = () => script('logical-dump.sh', scriptEnv(root, primary.port, { DUMP_RETAIN_COUNT: '1', DUMP_JOBS: '2' }));
        const first = dump();
        expect(first.status, first.stdout + first.stderr).toBe(0);
        await new Promise((r) => setTimeout(r, 1100)); // names have one-second resolution
        const second = dump();
        expect(second.status, second.stderr).toBe(0);
        expect(second.stdout).toMatch(/removing \d{8}T\d{6}Z \(keeping the 1 newest\)/);
        const dumps = readdirSync(join(root, 'dump')).filter((f) => /^\d{8}T\d{6}Z$/.test(f));
        expect(dumps).toHaveLength(1);

        psql(primary, 'CREATE DATABASE dump_check');
        const restored = run(OS_USER, `${BIN}/pg_restore`, ['-h', primary.socketDir, '-p', String(primary.port), '-U', 'postgres', '-d', 'dump_check', '-j', '2', join(root, 'dump', dumps[0]!)]);
        expect(restored.status, restored.stderr).toBe(0);
        const count = run(OS_USER, `${BIN}/psql`, ['-X', '-At', '-h', primary.socketDir, '-p', String(primary.port), '-U', 'postgres', '-d', 'dump_check', '-c', 'SELECT count(*), sum(amount) FROM orders']);
        expect(count.stdout.trim()).toBe('2000|3001500.0');
      }, 60_000);

      it('prunes by count and age, keeps the newest and the WAL of the oldest kept backup, which still restores', async () => {
        const slot = 'platform_wal_stream_retention';
        const retention = dir('retention', 'backups');
        await startStreamer(primary, retention, slot);
        psql(primary, 'CREATE TABLE events (id serial PRIMARY KEY, note text NOT NULL)');
        // Four real backups, renamed to start 20, 12, 6 and 3 days ago (their age is their name).
        const ages = [20, 12, 6, 3];
        const names = ages.map((days) => backupName(days));
        for (const i of ages.keys()) {
          psql(primary, `INSERT INTO events (note) VALUES ('before backup ${i + 1}'); SELECT pg_switch_wal()`);
          const taken = script('base-backup.sh', scriptEnv(retention, primary.port, { WAL_SLOT: slot, RETAIN_COUNT: '10', RETAIN_DAYS: '0' }));
          expect(taken.status, taken.stdout + taken.stderr).toBe(0);
          const fresh = backupsIn(retention).find((n) => !names.includes(n))!;
          renameSync(join(retention, 'base', fresh), join(retention, 'base', names[i]!));
        }
        psql(primary, "INSERT INTO events (note) VALUES ('after every backup')");
        await waitStreamed(primary, slot);
        const staleLeftover = `.incomplete-${backupName(2)}`;
        const runningBackup = `.incomplete-${backupName(0)}`;
        dir('retention', 'backups', 'base', staleLeftover);
        dir('retention', 'backups', 'base', runningBackup);
        const starts = Object.fromEntries(names.map((n) => [n, startSegment(join(retention, 'base', n))]));
        const prune = (env: NodeJS.ProcessEnv) => script('prune-backups.sh', { ...scriptEnv(retention, primary.port), ...env });
        const baseEntries = () => readdirSync(join(retention, 'base')).sort();
        /** Every WAL file from `segment` on is still there, and none before it. */
        const expectWalFrom = (before: string[], segment: string) => {
          const now = walFiles(retention);
          expect(now.filter((f) => f < segment)).toEqual([]);
          expect(before.filter((f) => f >= segment).every((f) => now.includes(f)), `kept WAL: ${now.join(' ')}`).toBe(true);
        };

        const allBase = baseEntries();
        const allWal = walFiles(retention);
        expect(allWal.filter((f) => f < starts[names[1]!]!).length, 'WAL before the second backup exists to be pruned').toBeGreaterThan(0);

        const dry = prune({ DRY_RUN: 'true', RETAIN_COUNT: '1', RETAIN_DAYS: '1' });
        expect(dry.status, dry.stdout + dry.stderr).toBe(0);
        for (const n of [names[0], names[1], names[2], staleLeftover]) expect(dry.stdout).toContain(`would delete ${join(retention, 'base', n!)}`);
        expect(dry.stdout).toMatch(/would delete \d+ WAL files/);
        expect(baseEntries()).toEqual(allBase);
        expect(walFiles(retention)).toEqual(allWal);

        const zero = prune({ RETAIN_COUNT: '0', RETAIN_DAYS: '1' });
        expect(zero.status).not.toBe(0);
        expect(zero.stderr).toContain('RETAIN_COUNT must be at least 1');
        expect(baseEntries()).toEqual(allBase);

        // Three newest by count: only the 20-day-old backup and the stale leftover go.
        const byCount = prune({ RETAIN_COUNT: '3', RETAIN_DAYS: '1' });
        expect(byCount.status, byCount.stdout + byCount.stderr).toBe(0);
        expect(baseEntries()).toEqual([runningBackup, ...names.slice(1)].sort());
        expectWalFrom(allWal, starts[names[1]!]!);

        // One by count, and 10 days by age: the 6-day-old backup stays too.
        const byAge = prune({ RETAIN_COUNT: '1', RETAIN_DAYS: '10' });
        expect(byAge.status, byAge.stdout + byAge.stderr).toBe(0);
        expect(backupsIn(retention)).toEqual([names[2], names[3]].sort());
        expectWalFrom(allWal, starts[names[2]!]!);

        // The oldest kept backup still replays to the present.
        const pgdata = join(dir('retention', 'restored'), 'data');
        const restore = script('restore-postgres.sh', { PGDATA: pgdata, BACKUP_ROOT: retention, RESTORE_BACKUP: names[2], PATH: scriptEnv(retention, 0).PATH });
        expect(restore.status, restore.stdout + restore.stderr).toBe(0);
        expect(restore.stdout).toContain(`backup:     ${names[2]}`);
        const restored = await startRestored(pgdata, 'retention-restored');
        expect(tableOf(restored, 'SELECT note FROM events ORDER BY id')).toEqual(['before backup 1', 'before backup 2', 'before backup 3', 'before backup 4', 'after every backup']);
        stopServer(restored);

        // Every backup older than RETAIN_DAYS: the newest is kept all the same.
        const newestOnly = prune({ RETAIN_COUNT: '1', RETAIN_DAYS: '1' });
        expect(newestOnly.status, newestOnly.stdout + newestOnly.stderr).toBe(0);
        expect(backupsIn(retention)).toEqual([names[3]]);
        expectWalFrom(allWal, starts[names[3]!]!);
      }, 120_000);
    });
  },
);
