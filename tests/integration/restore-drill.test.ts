// The weekly restore drill as the chart ships it, against a real PostgreSQL 15 set up by the
// shipped platform-init.sql (so the backup role has exactly the privileges it has in the
// cluster, and no more): the WAL streamer and the canary writer run in the background with the
// streamer pod's environment, a base backup is taken, and restore-drill.sh runs with the
// CronJob's environment. A sound backup passes and reports RTO, RPO and success 1; a damaged
// backup and a stopped canary writer fail the drill with success 0, keeping the time of the last
// success, and say why.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LOGIN_ROLES } from '../../charts/postgres/credentials';
import { configMapData } from '../helpers';
import { BACKUP_PASSWORD, BIN, OS_USER, PG_BACKUP_TOOLS, PgBackupFixture, type Server, sleep, until } from './pg-backup-fixture';
import { chownTree, run } from './processes';
import { testPasswords } from './pg-checks';
import { describeNeeding, program } from './tools';

const SUPERUSER = 'supabase_admin';
/** Every login role's password, as the credentials Secret gives them to the init SQL. */
const PASSWORDS = testPasswords();
PASSWORDS[LOGIN_ROLES.platform_backup.env] = BACKUP_PASSWORD;

/** The metrics file the drill leaves for the backup metrics server, as name -> value. */
function drillMetrics(root: string): Record<string, number> {
  const text = readFileSync(join(root, 'status', 'restore-drill.prom'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => {
        const [name, value] = l.split(' ');
        return [name!, Number(value)];
      }),
  );
}

describeNeeding([...PG_BACKUP_TOOLS, program(`${BIN}/pg_amcheck`, 'postgresql-client-15')], 'the weekly restore drill', () => {
  const pg = new PgBackupFixture('pg-drill-', ['stream-wal.sh', 'base-backup.sh', 'prune-backups.sh', 'restore-postgres.sh', 'restore-drill.sh', 'write-canary.sh']);
  let primary: Server;
  let root = '';
  let canary: ReturnType<PgBackupFixture['background']>;
  /** The drill's CronJob environment, for the local database, with a fresh scratch folder. */
  const drillEnv = (name: string, extra: NodeJS.ProcessEnv = {}) =>
    pg.scriptEnv(root, primary.port, { DRILL_DATA: join(pg.dir(name, 'scratch'), 'pgdata'), TMPDIR: pg.dir(name, 'tmp'), ...extra }, 'postgres-restore-drill');

  beforeAll(async () => {
    pg.setUp();
    primary = await pg.newCluster('primary', SUPERUSER);
    // The exact init SQL the postgres chart ships, run as the chart runs it.
    const init = join(pg.dir('init'), 'platform-init.sql');
    writeFileSync(init, configMapData('production', 'postgres-init')['platform-init.sql']!);
    chownTree(init, OS_USER);
    const ran = run(OS_USER, `${BIN}/psql`, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', primary.socketDir, '-p', String(primary.port), '-U', SUPERUSER, '-d', 'postgres', '-f', init], PASSWORDS);
    expect(ran.status, ran.stderr).toBe(0);

    root = pg.dir('backups');
    await pg.startStreamer(primary, root);
    // The canary writer with the streamer pod's environment, one row a second instead of a minute.
    canary = pg.background('write-canary.sh', pg.scriptEnv(root, primary.port, { CANARY_INTERVAL_SECONDS: '1' }, 'postgres-wal-stream', 'backup-canary'));
    await until(() => `canary rows (writer output: ${canary.output()})`, () => Number(pg.psql(primary, 'SELECT count(*) FROM ops.backup_canary')) >= 2, 20_000, 200);

    const backup = pg.script('base-backup.sh', pg.scriptEnv(root, primary.port));
    expect(backup.status, backup.stdout + backup.stderr).toBe(0);
    // Business data after the backup, which only WAL replay brings back.
    pg.psql(primary, 'CREATE TABLE trades (id bigserial PRIMARY KEY, amount numeric NOT NULL); CREATE INDEX ON trades (amount)');
    pg.psql(primary, 'INSERT INTO trades (amount) SELECT g * 0.5 FROM generate_series(1, 20000) g');
    await sleep(2_000);
  }, 120_000);

  afterAll(() => pg.tearDown());

  it('restores the newest backup to a fresh restore point, matches the canary, and reports RTO and RPO', () => {
    const drill = pg.script('restore-drill.sh', drillEnv('pass'));
    const output = drill.stdout + drill.stderr;
    expect(drill.status, output).toBe(0);
    expect(output).toMatch(/canary rows match: \d+ rows, checksum [0-9a-f]{32}/);
    expect(output).toContain('pg_amcheck on every database');
    expect(output).toMatch(/restore drill passed/);

    const metrics = drillMetrics(root);
    expect(metrics.platform_restore_drill_success).toBe(1);
    expect(metrics.platform_restore_drill_rto_seconds).toBeGreaterThan(0);
    expect(metrics.platform_restore_drill_rpo_seconds).toBeGreaterThanOrEqual(0);
    expect(metrics.platform_restore_drill_rpo_seconds, 'a committed write reaches the backup volume within seconds').toBeLessThan(5);
    expect(Math.abs(metrics.platform_restore_drill_last_success_timestamp_seconds! - Date.now() / 1000)).toBeLessThan(600);
    // The marker row the drill wrote is in the database; the pruning kept the canary rows.
    expect(Number(pg.psql(primary, "SELECT count(*) FROM ops.backup_canary WHERE writer = 'restore-drill'"))).toBe(1);
    console.log(`restore drill: RTO ${metrics.platform_restore_drill_rto_seconds}s, RPO ${metrics.platform_restore_drill_rpo_seconds}s`);
  }, 180_000);

  it('fails on a damaged backup, publishing success 0 and keeping the last success time', () => {
    const before = drillMetrics(root).platform_restore_drill_last_success_timestamp_seconds;
    expect(before).toBeGreaterThan(0);
    const base = join(root, 'base');
    const newest = readdirSync(base).filter((n) => /^\d{8}T\d{6}Z$/.test(n)).sort().at(-1)!;
    // Flip bytes in the biggest relation file of the backup: pg_verifybackup's checksums catch it.
    const files = readdirSync(join(base, newest, 'base', '5')).map((f) => join(base, newest, 'base', '5', f));
    const victim = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const original = readFileSync(victim);
    const damaged = Buffer.from(original);
    damaged[100] = damaged[100]! ^ 0xff;
    writeFileSync(victim, damaged);
    try {
      const drill = pg.script('restore-drill.sh', drillEnv('damaged'));
      expect(drill.status).not.toBe(0);
      expect(drill.stderr).toMatch(/failed verification/);
      expect(drill.stderr).toMatch(/FAILED: restore-postgres.sh could not prepare/);
      const metrics = drillMetrics(root);
      expect(metrics.platform_restore_drill_success).toBe(0);
      expect(metrics.platform_restore_drill_last_success_timestamp_seconds).toBe(before);
      expect(metrics.platform_restore_drill_rto_seconds, 'no RTO for a restore that did not happen').toBeUndefined();
    } finally {
      writeFileSync(victim, original);
    }
  }, 180_000);

  it('fails when the canary writer has stopped, naming it', async () => {
    await pg.stopChild(canary.child);
    await sleep(2_500);
    const drill = pg.script('restore-drill.sh', drillEnv('stale', { CANARY_MAX_AGE_SECONDS: '2' }));
    expect(drill.status).not.toBe(0);
    expect(drill.stderr).toMatch(/newest canary row is \d+s old \(limit 2s\): the backup-canary container has stopped writing/);
    expect(drillMetrics(root).platform_restore_drill_success).toBe(0);
  }, 60_000);

  it('refuses a malformed setting with a one-line message and no restore', () => {
    const drill = pg.script('restore-drill.sh', drillEnv('malformed', { DRILL_MAX_RTO_SECONDS: '45m' }));
    expect(drill.status).not.toBe(0);
    expect(drill.stderr.trim()).toBe("restore-drill.sh: DRILL_MAX_RTO_SECONDS must be a whole number, 1 or more; got '45m'");
  });
});
