// The recovery check (the on-demand Job postgres-recovery-check) and the weekly restore drill
// (the CronJob postgres-restore-drill) on real PostgreSQL 15 servers, real barman-cloud tools, real
// rclone and a local S3-compatible store (s3rver, see harness/s3-server.ts).
//
// Everything the pods run comes from the synthesised production objects: the scripts are the
// exact bytes of the ConfigMaps the pods mount (a small stand-in for the kubelet below writes each
// pod's volumes into local folders: the ConfigMap's files with its defaultMode, the CA of the
// Secret, fresh emptyDirs), the command lines are the containers' own (with the mount paths mapped
// to those folders), the containers run in their order, and each gets exactly its spec's
// environment and nothing of this machine's. Changed for this machine only, each named where it
// is done: the hosts and the port of the servers, the credentials (Secret references: s3rver's
// key pair, the test passwords of the managed roles), the paths of the mounts, the store's
// endpoint and addressing (s3rver speaks path-style only; rclone's provider AWS would address
// <bucket>.127.0.0.1), the scratch Cluster's name where a damaged copy of the archive is listed,
// and kubectl (no API server here: a shell stand-in that logs its calls).
//
// The servers, all on the same port (the pods reach both the platform database and the scratch
// Cluster on 5432) and on their own loopback address, with TLS (a test CA, PGSSLMODE=verify-full
// as the pods set it) and the production Cluster's pg_hba rules (scram-sha-256 passwords):
// - the platform database (127.0.0.2): the production Cluster's managed roles, then
//   platform-init.sql (ConfigMap postgres-bootstrap) as supabase_admin, so ops.backup_canary and
//   ops.restore_drill_runs exist with their grants; a writer inserts a canary row every 2 s with
//   the statement platform-init.sql gives pg_cron (vanilla PostgreSQL has no pg_cron); WAL is
//   archived with the Barman Cloud Plugin's barman-cloud-wal-archive command line for the
//   production ObjectStore, a base backup is taken with its barman-cloud-backup command line, then
//   batches of rows, each segment switched out and archived. archive_timeout is off: the test
//   switches segments itself where production's archive_timeout would, so the archive only grows
//   when a test says so;
// - the scratch recovery (127.0.0.1): a NEW data directory from barman-cloud-restore of that
//   backup and barman-cloud-wal-restore as restore_command, promoted at the end of the archive, as
//   the recovery Cluster bootstraps;
// - a damaged recovery (127.0.0.3): the same from a copy of the archive with a middle segment
//   deleted. PostgreSQL promotes it without an error, short of the archive.
//
// What each case proves is in its title. The drill's first step (drill-create.sh, kubectl) is run
// on its own against the kubectl stand-in; in the drill runs, the recovery above stands for the
// Cluster it creates, and the step writes $WORK/started and $WORK/rto as the script does.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRILL } from '../../charts/backup/drill';
import { RECOVERY_CHECK_JOB } from '../../charts/backup/restore-chart';
import { RECOVERY_CLUSTERS } from '../../charts/postgres/recovery';
import { configMapData, tryFind } from '../helpers';
import { asUser, chownTree, freePort, superuserPsqlArgs, tail, tempDirFor } from '../../harness/processes';
import { clusterSpec, managedRolesSql, operatorInitdbArgs, testPasswords } from './pg-checks';
import {
  type BarmanObjectStoreConfiguration,
  backupOptions,
  catalogOptions,
  type PluginSettings,
  pluginBackupName,
  productionPluginSettings,
  RCLONE_REMOTE,
  restoreOptions,
  type S3Server,
  shellQuote,
  splitDestination,
  startS3Server,
  walArchiveOptions,
  walRestoreOptions,
} from '../../harness/s3-server';
import { describeNeeding, program } from './tools';

const ENV = 'production';
const BIN = '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Loopback addresses: one server each, all on the same port. */
const HOST = { platform: '127.0.0.2', scratch: '127.0.0.1', damaged: '127.0.0.3' } as const;
/** What the downward API and the API server would give the drill's pod. */
const JOB_NAME = 'postgres-restore-drill-29371500';
const JOB_UID = '0b9f7c2e-5d1a-4c1e-9a57-3f0e8d6b4a21';
/** Rows of the data table (pg_amcheck checks its heap and indexes) per batch. */
const ROWS_PER_BATCH = 5000;
/** Batches after the base backup, each in its own archived segment; the middle one is deleted in the damaged copy. */
const BATCHES = 3;

// ---------------------------------------------------------------------------------------------
// The synthesised pods.
// ---------------------------------------------------------------------------------------------

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  command: string[];
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  configMap?: { name: string; defaultMode?: number };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  emptyDir?: object;
}
interface PodSpec {
  volumes?: Volume[];
  initContainers?: Container[];
  containers: Container[];
}

/** The pod template of production's Job or CronJob `name`. */
function podOf(kind: 'Job' | 'CronJob', name: string): PodSpec {
  const found = tryFind<{ spec: { template?: { spec: PodSpec }; jobTemplate?: { spec: { template: { spec: PodSpec } } } } }>(ENV, kind, name);
  if (!found) throw new Error(`${ENV} synthesises no ${kind} ${name}`);
  return kind === 'Job' ? found.spec.template!.spec : found.spec.jobTemplate!.spec.template.spec;
}

const steps = (pod: PodSpec) => [...(pod.initContainers ?? []), ...pod.containers];
const stepNamed = (pod: PodSpec, name: string) => {
  const c = steps(pod).find((s) => s.name === name);
  if (!c)
    throw new Error(
      `the pod has no container ${name}: ${steps(pod)
        .map((s) => s.name)
        .join(', ')}`,
    );
  return c;
};
const envValue = (c: Container, name: string) => c.env?.find((e) => e.name === name)?.value;
/** The container runs `script` (directly or through `sh -c`). */
const runs = (c: Container, script: string) => c.command.some((arg) => arg.includes(`/${script}`));

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly output: string;
}

interface DrillRow {
  id: number;
  started: number;
  succeeded: boolean;
  rto_seconds: number;
  rpo_seconds: number;
  detail: string;
}

interface Server {
  readonly name: string;
  readonly host: string;
  readonly data: string;
  readonly socketDir: string;
  readonly log: string;
}

interface Recovery {
  readonly server: Server;
  /** Epoch seconds when the restore began (the drill's $WORK/started), and seconds until it promoted (its $WORK/rto). */
  readonly started: number;
  readonly rto: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const confString = (value: string) => `'${value.replaceAll("'", "''")}'`;
const epoch = () => Math.floor(Date.now() / 1000);

describeNeeding(
  [
    program(`${BIN}/postgres`, 'postgresql-15'),
    program(`${BIN}/pg_waldump`, 'postgresql-15'),
    program(`${BIN}/psql`, 'postgresql-client-15'),
    program(`${BIN}/pg_amcheck`, 'postgresql-client-15'),
    program('barman-cloud-backup', 'barman-cli-cloud'),
    program('barman-cloud-wal-archive', 'barman-cli-cloud'),
    program('barman-cloud-wal-restore', 'barman-cli-cloud'),
    program('barman-cloud-restore', 'barman-cli-cloud'),
    program('barman-cloud-backup-show', 'barman-cli-cloud'),
    program('rclone', 'rclone'),
    program('openssl', 'openssl'),
    program('bash', 'bash'),
    program('sh', 'dash'),
  ],
  'the recovery check and the restore drill (PostgreSQL 15, barman-cloud, rclone, local S3)',
  () => {
    const jobPod = podOf('Job', RECOVERY_CHECK_JOB);
    const drillPod = podOf('CronJob', DRILL);
    const spec = clusterSpec(ENV);
    const passwords = testPasswords(spec);
    const initSql = configMapData(ENV, 'postgres-bootstrap')['platform-init.sql']!;
    /** The statement platform-init.sql schedules in pg_cron, run here by the test's writer. */
    const canaryInsert = /\$cron\$([\s\S]+?)\$cron\$/.exec(initSql)?.[1];

    let root = '';
    let port = 0;
    let s3: S3Server | undefined;
    let store: PluginSettings;
    let config: BarmanObjectStoreConfiguration;
    let bucket = '';
    let prefix = '';
    let beginWal = '';
    let deleted = '';
    /** The segments archived after the backup, in order; the last one is the archive's newest. */
    const segments: string[] = [];
    /** The platform database's canary rows once the archive was complete. */
    let canary = { count: 0, maxId: 0, newest: 0 };
    let dataRows = 0;
    const servers: Server[] = [];
    const children = new Set<ChildProcess>();
    let stopCanary = false;
    let canaryLoop: Promise<void> | undefined;
    const recoveries = new Map<string, Promise<Recovery>>();
    let runCount = 0;

    const dir = (...parts: string[]) => {
      const path = join(root, ...parts);
      mkdirSync(path, { recursive: true });
      chownTree(path, OS_USER);
      return path;
    };
    const ca = () => join(root, 'tls', 'ca.crt');

    /** Runs a program (as the postgres OS user when root) with exactly `env`, without blocking the event loop; its process group is killed after `timeoutMs`. */
    const exec = (command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000) =>
      new Promise<Ran>((resolve, reject) => {
        const [cmd, argv] = asUser(OS_USER, command, args);
        const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        children.add(child);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => {
          stderr += `\n(killed after ${timeoutMs} ms)`;
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        }, timeoutMs);
        child.once('error', (e) => {
          clearTimeout(timer);
          children.delete(child);
          reject(e);
        });
        child.once('close', (status) => {
          clearTimeout(timer);
          children.delete(child);
          resolve({ status, stdout, stderr, output: `${stdout}${stderr}` });
        });
      });
    /** This process's environment (barman-cloud, pg_ctl), with the store's credentials and none of this machine's AWS settings. */
    const hostEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
      ...process.env,
      ...s3!.env,
      PATH: `${BIN}:${process.env.PATH ?? SYSTEM_PATH}`,
      ...extra,
    });
    const must = (what: string, out: Ran) => {
      if (out.status !== 0) throw new Error(`${what} failed (exit ${out.status}):\n${out.output}`);
      return out.stdout;
    };
    /** The operator's own connection: postgres over the server's socket. */
    const sql = async (server: Server, query: string) =>
      must(
        `psql on ${server.name}: ${query}`,
        await exec(`${BIN}/psql`, superuserPsqlArgs(server.socketDir, port, ['-At', '-v', 'ON_ERROR_STOP=1'], ['-c', query]), hostEnv()),
      ).trim();
    /** A managed role's connection over TCP with TLS, as the pods connect. */
    const asRole = (server: Server, role: string, args: string[]) =>
      exec(`${BIN}/psql`, ['-X', '-v', 'ON_ERROR_STOP=1', ...args], {
        PATH: SYSTEM_PATH,
        PGHOST: server.host,
        PGPORT: String(port),
        PGDATABASE: 'postgres',
        PGUSER: role,
        PGPASSWORD: passwords[role],
        PGSSLMODE: 'verify-full',
        PGSSLROOTCERT: ca(),
      });
    const rclone = async (args: readonly string[]) =>
      must(`rclone ${args.join(' ')}`, await exec('rclone', args, { PATH: SYSTEM_PATH, HOME: dir('rclone-home'), ...s3!.rcloneEnv }));
    /** rclone's path of a server's folder in the store (or something in it). */
    const remote = (serverName: string, ...rest: string[]) => `${RCLONE_REMOTE}:${[bucket, prefix, serverName, ...rest].filter(Boolean).join('/')}`;
    const walObject = (serverName: string, segment: string) =>
      remote(serverName, 'wals', segment.slice(0, 16), `${segment}${config.wal?.compression === 'gzip' ? '.gz' : ''}`);

    async function until(what: () => string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
        await sleep(100);
      }
    }

    async function startServer(name: string, host: string, data: string): Promise<Server> {
      const server: Server = { name, host, data, socketDir: dir(name, 'run'), log: join(dir(name), 'server.log') };
      servers.push(server);
      const options = `-c port=${port} -c listen_addresses=${host} -c unix_socket_directories=${server.socketDir}`;
      // The server's environment reaches archive_command and restore_command: the store's credentials.
      const started = await exec(`${BIN}/pg_ctl`, ['-D', data, '-l', server.log, '-w', '-t', '60', '-o', options, 'start'], hostEnv());
      if (started.status !== 0) throw new Error(`starting ${name} failed: ${started.output}\n${tail(server.log)}`);
      return server;
    }

    /** Segment `segment` of the platform database is in the archive (throws when archiving it failed). */
    const archived = async (platform: Server, segment: string) => {
      const [last = '', failed = ''] = (await sql(platform, 'SELECT last_archived_wal, last_failed_wal FROM pg_stat_archiver')).split('|');
      if (failed >= segment && failed > last) throw new Error(`archiving ${failed} failed:\n${tail(platform.log)}`);
      return last >= segment;
    };
    /** pg_switch_wal, until the completed segment is archived; returns its name. */
    const switchAndArchive = async (platform: Server) => {
      const segment = await sql(platform, 'SELECT pg_walfile_name(pg_switch_wal())');
      await until(
        () => `${segment} to be archived (${tail(platform.log, 5)})`,
        () => archived(platform, segment),
      );
      return segment;
    };
    const writeCanary = async (platform: Server) => must('the canary insert', await asRole(platform, 'supabase_admin', ['-q', '-c', canaryInsert!]));

    /**
     * A NEW server from the store, as the recovery Cluster bootstraps: barman-cloud-restore of the
     * backup, then archive recovery with barman-cloud-wal-restore as restore_command, until it
     * has promoted at the end of `serverName`'s archive.
     */
    async function recover(name: string, host: string, serverName: string, backupId: string): Promise<Recovery> {
      const startedMs = Date.now();
      const pgdata = join(dir(name), 'data');
      must('barman-cloud-restore', await exec('barman-cloud-restore', restoreOptions(config, serverName, backupId, pgdata), hostEnv()));
      chmodSync(pgdata, 0o700);
      const settings = {
        // A recovery Cluster archives nothing (the drill's admission policy holds it to that).
        archive_mode: 'off',
        restore_command: `${shellQuote(['barman-cloud-wal-restore', ...walRestoreOptions(config, serverName)])} %f %p`,
        recovery_target_timeline: 'latest',
        recovery_target_action: 'promote',
      };
      writeFileSync(
        join(pgdata, 'postgresql.conf'),
        `${readFileSync(join(pgdata, 'postgresql.conf'), 'utf8')}\n# recovery (test)\n${Object.entries(settings)
          .map(([k, v]) => `${k} = ${confString(v)}`)
          .join('\n')}\n`,
      );
      writeFileSync(join(pgdata, 'recovery.signal'), '');
      chownTree(pgdata, OS_USER);
      const server = await startServer(name, host, pgdata);
      await until(
        () => `${name} to promote (log ${server.log})`,
        async () => {
          if (!existsSync(join(pgdata, 'postmaster.pid'))) throw new Error(`${name} stopped during recovery:\n${tail(server.log)}`);
          return (await sql(server, 'SELECT pg_is_in_recovery()')) === 'f';
        },
      );
      return { server, started: Math.floor(startedMs / 1000), rto: Math.max(1, Math.round((Date.now() - startedMs) / 1000)) };
    }
    const recovered = (name: string) => {
      const recovery = recoveries.get(name);
      if (!recovery) throw new Error(`no recovery ${name}: beforeAll failed`);
      return recovery;
    };

    // -------------------------------------------------------------------------------------------
    // A stand-in for the kubelet: a pod's volumes in local folders, its containers run in order.
    // -------------------------------------------------------------------------------------------

    interface PodRun {
      readonly pod: PodSpec;
      /** Volume name -> local folder. */
      readonly volumes: Map<string, string>;
      readonly work: string;
      readonly scripts: string;
      /** The folder of the kubectl stand-in, first on the PATH. */
      readonly bin: string;
      /** kubectl's calls, each a list of arguments. */
      readonly kubectlCalls: () => string[][];
      /** The manifest kubectl create was given. */
      readonly created: () => string | undefined;
    }

    /**
     * The pod's volumes written out: each ConfigMap's data (the synthesised bytes) with its
     * defaultMode, the ca.crt item of a Secret (the test CA), a fresh folder for each emptyDir.
     * A shell stand-in for kubectl: it logs its calls and answers; `wait` fails when `waitTimesOut`.
     */
    function podRun(label: string, pod: PodSpec, kubectl: { waitTimesOut?: boolean } = {}): PodRun {
      const base = dir('pods', `${label}-${++runCount}`);
      const volumes = new Map<string, string>();
      for (const volume of pod.volumes ?? []) {
        const folder = join(base, 'volumes', volume.name);
        mkdirSync(folder, { recursive: true });
        if (volume.configMap) {
          for (const [key, text] of Object.entries(configMapData(ENV, volume.configMap.name))) {
            writeFileSync(join(folder, key), text);
            chmodSync(join(folder, key), volume.configMap.defaultMode ?? 0o644);
          }
        } else if (volume.secret) {
          for (const item of volume.secret.items ?? []) {
            if (item.key !== 'ca.crt') throw new Error(`no local value for key ${item.key} of Secret ${volume.secret.secretName}`);
            writeFileSync(join(folder, item.path), readFileSync(ca()));
          }
        } else if (!volume.emptyDir) {
          throw new Error(`volume ${volume.name}: only ConfigMaps, Secrets and emptyDirs are modelled`);
        }
        volumes.set(volume.name, folder);
      }
      const mountOf = (name: string) => {
        const mount = steps(pod)
          .flatMap((c) => c.volumeMounts ?? [])
          .find((m) => m.name === name);
        if (!mount || !volumes.has(name)) throw new Error(`the pod mounts no volume ${name}`);
        return volumes.get(name)!;
      };
      // kubectl (no API server here): logs each call, one argument a line after a CALL line.
      const bin = join(base, 'bin');
      mkdirSync(bin);
      const calls = join(base, 'kubectl-calls');
      const created = join(base, 'kubectl-created.yaml');
      writeFileSync(
        join(bin, 'kubectl'),
        `#!/bin/sh
{ echo CALL; for a in "$@"; do printf '%s\\n' "$a"; done; } >>'${calls}'
case "$1 $2" in
  'delete cluster') exit 0 ;;
  'get job') echo '${JOB_UID}' ;;
  'get cluster') echo 'Setting up primary' ;;
  'create -f') cp "$3" '${created}' && echo "cluster.postgresql.cnpg.io/$(sed -n 's/^  name: //p' "$3" | head -n 1) created" ;;
  'patch cluster') echo "cluster.postgresql.cnpg.io/$3 patched" ;;
  'wait cluster') ${kubectl.waitTimesOut ? `echo "error: timed out waiting for the condition on clusters/$3" >&2; exit 1` : 'echo "cluster.postgresql.cnpg.io/$3 condition met"'} ;;
  *) echo "kubectl stand-in: unexpected call: $*" >&2; exit 2 ;;
esac
`,
        { mode: 0o755 },
      );
      chownTree(base, OS_USER);
      return {
        pod,
        volumes,
        work: mountOf('work'),
        scripts: mountOf('recovery-scripts'),
        bin,
        kubectlCalls: () =>
          existsSync(calls)
            ? readFileSync(calls, 'utf8')
                .split('CALL\n')
                .filter(Boolean)
                .map((c) => c.replace(/\n$/, '').split('\n'))
            : [],
        created: () => (existsSync(created) ? readFileSync(created, 'utf8') : undefined),
      };
    }

    /**
     * Runs container `name` of the pod: its command and its spec's environment only, the mount
     * paths (in both) mapped to the local folders; Secret references resolved to the local
     * credentials, the downward API to JOB_NAME. `replace` changes variables the spec sets (and
     * fails when it sets none of that name), `add` sets ones it does not: only what must point at
     * this machine.
     */
    async function runStep(r: PodRun, name: string, o: { replace?: Record<string, string>; add?: Record<string, string> } = {}): Promise<Ran> {
      const c = stepNamed(r.pod, name);
      const mounts = (c.volumeMounts ?? []).map((m) => [m.mountPath, r.volumes.get(m.name)!] as const).sort((a, b) => b[0].length - a[0].length);
      const byPath = new Map(mounts);
      const pattern = new RegExp(`(?<![\\w./-])(${mounts.map(([p]) => escapeRe(p)).join('|')})(?![\\w.-])`, 'g');
      const local = (text: string) => (mounts.length ? text.replace(pattern, (p) => byPath.get(p)!) : text);
      const secrets = secretValues();
      // The images' programs: kubectl (the stand-in), PostgreSQL's client programs, rclone, sh, bash.
      const env: NodeJS.ProcessEnv = { PATH: `${r.bin}:${BIN}:${SYSTEM_PATH}` };
      for (const e of c.env ?? []) {
        if (e.value !== undefined) env[e.name] = local(e.value);
        else if (e.valueFrom?.secretKeyRef) {
          const { name: secret, key } = e.valueFrom.secretKeyRef;
          const value = secrets.get(`${secret}/${key}`);
          if (value === undefined) throw new Error(`${name}: no local value for ${e.name} (Secret ${secret}, key ${key})`);
          env[e.name] = value;
        } else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.labels['batch.kubernetes.io/job-name']") env[e.name] = JOB_NAME;
        else throw new Error(`${name}: no local value for ${e.name} (${JSON.stringify(e.valueFrom)})`);
      }
      for (const [key, value] of Object.entries(o.replace ?? {})) {
        if (env[key] === undefined) throw new Error(`${name}: the spec sets no ${key} to replace`);
        env[key] = value;
      }
      for (const [key, value] of Object.entries(o.add ?? {})) {
        if (env[key] !== undefined) throw new Error(`${name}: the spec sets ${key} already (${env[key]})`);
        env[key] = value;
      }
      const [command, ...args] = c.command.map(local);
      return exec(command!, args, env);
    }

    /** Local values of the Secrets the pods reference: the roles' passwords, the store's key pair (under the keys the ObjectStore's s3Credentials name). */
    function secretValues(): Map<string, string> {
      const values = new Map(spec.managed.roles.map((r) => [`${r.passwordSecret.name}/password`, passwords[r.name]!]));
      const credentials = store.configuration.s3Credentials as { accessKeyId: { name: string; key: string }; secretAccessKey: { name: string; key: string } };
      values.set(`${credentials.accessKeyId.name}/${credentials.accessKeyId.key}`, s3!.env.AWS_ACCESS_KEY_ID!);
      values.set(`${credentials.secretAccessKey.name}/${credentials.secretAccessKey.key}`, s3!.env.AWS_SECRET_ACCESS_KEY!);
      return values;
    }

    /** The rclone step, pointed at s3rver: its endpoint (production's store is AWS: none set), path-style addressing, no rclone config file of this machine; `archive` for a damaged copy. */
    const rcloneLocal = (archive?: string) => ({
      replace: { RCLONE_CONFIG_STORE_PROVIDER: s3!.rcloneEnv.RCLONE_CONFIG_STORE_PROVIDER!, ...(archive ? { ARCHIVE: archive } : {}) },
      add: { RCLONE_CONFIG_STORE_ENDPOINT: s3!.endpoint, RCLONE_CONFIG_STORE_FORCE_PATH_STYLE: 'true', RCLONE_CONFIG: '/dev/null' },
    });
    /** The check steps, pointed at the local servers (the drill's also records into the platform database). */
    const checkLocal = (scratch: Server, record: boolean) => ({
      replace: { PGHOST: scratch.host, PGPORT: String(port), ...(record ? { RECORD_HOST: HOST.platform } : {}) },
    });

    /** The on-demand Job on a recovered server: its steps in order, each must run. */
    async function recoveryCheckJob(scratch: Server, archive?: string) {
      const r = podRun('job', jobPod);
      const ran = new Map<string, Ran>();
      for (const c of steps(jobPod)) {
        const out = runs(c, 'list-archive.sh') ? await runStep(r, c.name, rcloneLocal(archive)) : await runStep(r, c.name, checkLocal(scratch, false));
        ran.set(c.name, out);
        if (out.status !== 0) break;
      }
      return { r, ran };
    }

    const drillRows = async (platform: Server, after: number) =>
      JSON.parse(
        await sql(
          platform,
          `SELECT coalesce(json_agg(r ORDER BY id), '[]') FROM (SELECT id, extract(epoch FROM started_at)::bigint AS started, succeeded, rto_seconds, rpo_seconds, detail FROM ops.restore_drill_runs WHERE id > ${after}) r`,
        ),
      ) as DrillRow[];

    /**
     * The drill's pod on a recovered server, its steps in the CronJob's order. The create step
     * (drill-create.sh, kubectl) is stood in for by the recovery that already ran: it writes
     * $WORK/started and $WORK/rto as the script does, then `afterCreate` runs (what happens in the
     * world while the scratch Cluster is up). The other steps are the synthesised containers,
     * cleanup with the kubectl stand-in.
     */
    async function drill(recovery: Recovery, o: { started?: number; archive?: string; afterCreate?: () => Promise<void> } = {}) {
      const platform = servers.find((s) => s.name === 'platform')!;
      const before = Number(await sql(platform, 'SELECT coalesce(max(id), 0) FROM ops.restore_drill_runs'));
      const r = podRun('drill', drillPod);
      const ran = new Map<string, Ran>();
      for (const c of steps(drillPod)) {
        if (runs(c, 'drill-create.sh')) {
          writeFileSync(join(r.work, 'started'), `${o.started ?? recovery.started}\n`);
          writeFileSync(join(r.work, 'rto'), `${recovery.rto}\n`);
          chownTree(r.work, OS_USER);
          await o.afterCreate?.();
        } else if (runs(c, 'list-archive.sh')) ran.set(c.name, await runStep(r, c.name, rcloneLocal(o.archive)));
        else if (runs(c, 'drill-check.sh')) ran.set(c.name, await runStep(r, c.name, checkLocal(recovery.server, true)));
        else ran.set(c.name, await runStep(r, c.name));
      }
      const failedFile = join(r.work, 'failed');
      const rows = await drillRows(platform, before);
      return {
        r,
        ran,
        failed: existsSync(failedFile) ? readFileSync(failedFile, 'utf8') : '',
        rows,
        log: [...ran].map(([n, out]) => `--- ${n} (exit ${out.status})\n${out.output}`).join('\n'),
      };
    }

    const stepOf = (ran: Map<string, Ran>, script: string, pod: PodSpec) => {
      const c = steps(pod).find((s) => runs(s, script));
      if (!c) throw new Error(`no step runs ${script}`);
      const out = ran.get(c.name);
      if (!out) throw new Error(`step ${c.name} (${script}) did not run: ${[...ran.keys()].join(', ')}`);
      return out;
    };
    const maxRpo = () =>
      Number(
        envValue(
          steps(drillPod).find((c) => runs(c, 'drill-check.sh'))!,
          'MAX_RPO_SECONDS',
        ),
      );
    const drillCluster = () =>
      envValue(
        steps(drillPod).find((c) => runs(c, 'drill-cleanup.sh'))!,
        'DRILL_CLUSTER',
      );
    const damagedServerName = () => `${store.serverName}-deleted`;

    beforeAll(async () => {
      if (!canaryInsert) throw new Error('platform-init.sql schedules no $cron$...$cron$ statement for the canary');
      store = productionPluginSettings();
      root = tempDirFor(OS_USER, 'recovery-check-');
      port = await freePort();
      ({ bucket, prefix } = splitDestination(store.configuration.destinationPath));
      s3 = await startS3Server([bucket]);
      config = { ...store.configuration, endpointURL: s3.endpoint };

      // A CA and one server certificate for the three loopback addresses, as cert-manager issues them.
      const tls = dir('tls');
      const ssl = async (...args: string[]) => must(`openssl ${args[0]}`, await exec('openssl', args, { PATH: SYSTEM_PATH, HOME: tls }));
      const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
      await ssl('req', '-x509', ...key, '-keyout', join(tls, 'ca.key'), '-out', join(tls, 'ca.crt'), '-days', '2', '-subj', '/CN=test postgres CA');
      await ssl('req', ...key, '-keyout', join(tls, 'server.key'), '-out', join(tls, 'server.csr'), '-subj', '/CN=postgres-rw');
      writeFileSync(
        join(tls, 'san.ext'),
        `subjectAltName=DNS:localhost,${Object.values(HOST)
          .map((h) => `IP:${h}`)
          .join(',')}\n`,
      );
      chownTree(tls, OS_USER);
      await ssl(
        'x509',
        '-req',
        '-in',
        join(tls, 'server.csr'),
        '-CA',
        join(tls, 'ca.crt'),
        '-CAkey',
        join(tls, 'ca.key'),
        '-CAcreateserial',
        '-out',
        join(tls, 'server.crt'),
        '-days',
        '2',
        '-extfile',
        join(tls, 'san.ext'),
      );
      chmodSync(join(tls, 'server.key'), 0o600);

      // The platform database: the Cluster's data checksums, the parameters that shape its WAL and
      // its passwords, TLS, the plugin's archive_command; the operator's local rule, the
      // Cluster's pg_hba rules. Fast and unsafe where it does not matter (fsync).
      const data = join(dir('platform'), 'data');
      must('initdb', await exec(`${BIN}/initdb`, operatorInitdbArgs(data, ...(store.dataChecksums ? ['--data-checksums'] : [])), hostEnv()));
      const fromCluster = ['wal_level', 'wal_compression', 'wal_log_hints', 'password_encryption'].filter((p) => store.parameters[p] !== undefined);
      const settings: Record<string, string> = {
        ...Object.fromEntries(fromCluster.map((p) => [p, store.parameters[p]!])),
        ssl: 'on',
        ssl_cert_file: join(tls, 'server.crt'),
        ssl_key_file: join(tls, 'server.key'),
        archive_mode: 'on',
        archive_command: `${shellQuote(['barman-cloud-wal-archive', ...walArchiveOptions(config, store.serverName)])} %p`,
        // Off here (the Cluster's is store.archiveTimeout): the test switches segments itself.
        archive_timeout: '0',
        shared_buffers: '32MB',
        // The base backup waits for a checkpoint (the ObjectStore asks for no immediate one): a fast one.
        checkpoint_completion_target: '0',
        fsync: 'off',
        log_line_prefix: '%m [%p] ',
      };
      writeFileSync(
        join(data, 'postgresql.conf'),
        `${readFileSync(join(data, 'postgresql.conf'), 'utf8')}\n${Object.entries(settings)
          .map(([k, v]) => `${k} = ${confString(v)}`)
          .join('\n')}\n`,
      );
      writeFileSync(join(data, 'pg_hba.conf'), ['local all postgres trust', ...spec.postgresql.pg_hba, 'host all all all scram-sha-256', ''].join('\n'));
      chownTree(data, OS_USER);
      const platform = await startServer('platform', HOST.platform, data);

      // The managed roles as the operator creates them, then the bootstrap's init SQL as supabase_admin.
      await sql(platform, managedRolesSql(spec, passwords));
      writeFileSync(join(dir('sql'), 'platform-init.sql'), initSql);
      chownTree(join(root, 'sql'), OS_USER);
      must('platform-init.sql', await asRole(platform, 'supabase_admin', ['-q', '-f', join(root, 'sql', 'platform-init.sql')]));

      // The canary writer (pg_cron's job, every 2 s here instead of every minute), and a table with indexes for pg_amcheck.
      canaryLoop = (async () => {
        while (!stopCanary) {
          await writeCanary(platform);
          await sleep(2000);
        }
      })();
      canaryLoop.catch(() => undefined); // awaited (and reported) below
      await sql(
        platform,
        'CREATE TABLE public.drill_data (id bigint PRIMARY KEY, batch int NOT NULL, filler text NOT NULL); CREATE INDEX ON public.drill_data (batch, filler)',
      );
      const insert = (batch: number) =>
        sql(
          platform,
          `INSERT INTO public.drill_data SELECT ${batch * ROWS_PER_BATCH} + g, ${batch}, repeat(md5(g::text), 3) FROM generate_series(1, ${ROWS_PER_BATCH}) g`,
        );
      await insert(0);
      await until(
        () => 'two canary rows',
        async () => Number(await sql(platform, 'SELECT count(*) FROM ops.backup_canary')) >= 2,
      );

      // The base backup, as the plugin takes it.
      const name = pluginBackupName();
      must(
        'barman-cloud-backup',
        await exec('barman-cloud-backup', backupOptions(config, name, store.serverName), hostEnv({ PGHOST: platform.socketDir, PGPORT: String(port) })),
      );
      const shown = JSON.parse(
        must(
          'barman-cloud-backup-show',
          await exec('barman-cloud-backup-show', ['--format', 'json', ...catalogOptions(config), config.destinationPath, store.serverName, name], hostEnv()),
        ),
      ) as Record<string, { backup_id: string; begin_wal: string; status: string }>;
      const info = Object.values(shown)[0]!;
      if (info.status !== 'DONE') throw new Error(`the base backup is ${info.status}`);
      beginWal = info.begin_wal;

      // Batches of rows while the canary writes, each segment switched out and archived.
      for (let batch = 1; batch <= BATCHES; batch++) {
        await insert(batch);
        await sleep(2500);
        segments.push(await switchAndArchive(platform));
      }
      // The writer stops; one last canary row, and its segment archived: the archive is complete.
      stopCanary = true;
      await canaryLoop;
      await writeCanary(platform);
      segments.push(await switchAndArchive(platform));
      const [count = '0', maxId = '0', newest = '0'] = (
        await sql(platform, 'SELECT count(*), max(id), extract(epoch FROM max(written_at))::bigint FROM ops.backup_canary')
      ).split('|');
      canary = { count: Number(count), maxId: Number(maxId), newest: Number(newest) };
      dataRows = Number(await sql(platform, 'SELECT count(*) FROM public.drill_data'));

      // A damaged copy of the archive under another server name: a middle segment deleted.
      await rclone(['copy', '--fast-list', remote(store.serverName), remote(damagedServerName())]);
      deleted = segments[1]!;
      await rclone(['deletefile', walObject(damagedServerName(), deleted)]);

      // Both recoveries side by side; each test awaits the one it needs.
      for (const [key, host, serverName] of [
        ['scratch', HOST.scratch, store.serverName],
        ['damaged', HOST.damaged, damagedServerName()],
      ] as const) {
        const recovery = recover(key, host, serverName, info.backup_id);
        recovery.catch(() => undefined); // reported by the test that awaits it
        recoveries.set(key, recovery);
      }
    }, 180_000);

    afterAll(async () => {
      stopCanary = true;
      await canaryLoop?.catch(() => undefined);
      await Promise.allSettled(recoveries.values());
      for (const child of children) if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      for (const server of servers) {
        if (existsSync(join(server.data, 'postmaster.pid')))
          await exec(`${BIN}/pg_ctl`, ['-D', server.data, '-m', 'immediate', '-w', 'stop'], { ...process.env });
      }
      await s3?.stop();
      if (root) rmSync(root, { recursive: true, force: true });
    }, 60_000);

    describe('the synthesised pods', () => {
      it('list the archive where the plugin archives, check the recovery Cluster they created, and ship the same scripts', () => {
        const archive = `${RCLONE_REMOTE}:${[bucket, prefix, store.serverName, 'wals'].filter(Boolean).join('/')}`;
        for (const [what, pod] of [
          ['Job', jobPod],
          ['CronJob', drillPod],
        ] as const) {
          const list = steps(pod).find((c) => runs(c, 'list-archive.sh'));
          expect(list, `${what}: a step runs list-archive.sh`).toBeDefined();
          expect(envValue(list!, 'ARCHIVE'), what).toBe(archive);
          expect(envValue(list!, 'RCLONE_CONFIG_STORE_TYPE'), what).toBe('s3');
        }
        expect(envValue(stepNamed(jobPod, 'check-recovery'), 'PGHOST')).toMatch(new RegExp(`^${RECOVERY_CLUSTERS.restore}-rw\\.`));
        expect(envValue(stepNamed(jobPod, 'check-recovery'), 'RECOVERY_TARGET')).toBe('latest');
        const check = steps(drillPod).find((c) => runs(c, 'drill-check.sh'))!;
        expect(envValue(check, 'PGHOST')).toMatch(new RegExp(`^${drillCluster()}-rw\\.`));
        expect(drillCluster()).toBe(RECOVERY_CLUSTERS.drill);
        expect(maxRpo()).toBeGreaterThan(0);
        // The scratch Cluster's manifest names the Cluster the steps wait for and delete.
        const manifest = parse(configMapData(ENV, 'postgres-restore-drill')['cluster.yaml']!) as { metadata: { name: string } };
        expect(manifest.metadata.name).toBe(drillCluster());
        const shared = configMapData(ENV, 'postgres-recovery-scripts');
        const drillFiles = configMapData(ENV, 'postgres-restore-drill');
        for (const file of ['list-archive.sh', 'check-recovery.sh', 'verify-recovery.sh']) expect(drillFiles[file], file).toBe(shared[file]);
      });
    });

    it('recovers the platform database into a new server: every archived canary row and data row, on a new timeline', async () => {
      const { server } = await recovered('scratch');
      expect(segments).toHaveLength(BATCHES + 1);
      expect(await sql(server, 'SELECT count(*), max(id), extract(epoch FROM max(written_at))::bigint FROM ops.backup_canary')).toBe(
        `${canary.count}|${canary.maxId}|${canary.newest}`,
      );
      expect(canary.count).toBeGreaterThanOrEqual(BATCHES + 2);
      expect(Number(await sql(server, 'SELECT count(*) FROM public.drill_data'))).toBe(dataRows);
      expect(await sql(server, 'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)')).toBe('00000002');
    }, 90_000);

    it('the on-demand Job: list-archive.sh lists the archive and fetches its newest segment, check-recovery.sh passes', async () => {
      const { server } = await recovered('scratch');
      const { r, ran } = await recoveryCheckJob(server);
      const list = stepOf(ran, 'list-archive.sh', jobPod);
      expect(list.status, list.output).toBe(0);
      expect(list.stdout).toContain(`list-archive: newest segment ${segments.at(-1)} fetched`);
      const listing = readFileSync(join(r.work, 'wal-listing'), 'utf8').split('\n').filter(Boolean);
      for (const segment of [beginWal, ...segments]) expect(listing, segment).toContain(`${segment.slice(0, 16)}/${segment}.gz`);
      expect(readdirSync(join(r.work, 'newest'))).toEqual([segments.at(-1)]);
      expect(statSync(join(r.work, 'newest', segments.at(-1)!)).size).toBe(16 * 2 ** 20);

      const check = stepOf(ran, 'check-recovery.sh', jobPod);
      expect(check.status, check.output).toBe(0);
      expect(check.stdout).toContain(`check-recovery: the base backup started at ${beginWal}`);
      expect(check.stdout).toContain(`newest segment ${segments.at(-1)}: valid WAL ends at`);
      expect(check.stdout).toMatch(/verify-recovery: OK: the restore to latest reached [0-9A-F]+\/[0-9A-F]+ on timeline 1 \("no recovery target specified"\)/);
    }, 90_000);

    it('the drill on the good recovery: passes, and records succeeded, the RTO and RPO in the platform database; cleanup deletes the scratch Cluster and exits 0', async () => {
      const recovery = await recovered('scratch');
      const d = await drill(recovery);
      expect(stepOf(d.ran, 'drill-check.sh', drillPod).status, d.log).toBe(0);
      expect(d.failed, d.log).toBe('');
      expect(stepOf(d.ran, 'drill-check.sh', drillPod).stdout).toContain(`check-recovery: the base backup started at ${beginWal}`);
      expect(d.rows, d.log).toHaveLength(1);
      const row = d.rows[0]!;
      const rpo = recovery.started - canary.newest;
      expect(row).toEqual({ id: row.id, started: recovery.started, succeeded: true, rto_seconds: recovery.rto, rpo_seconds: rpo, detail: '' });
      expect(rpo).toBeGreaterThanOrEqual(0);
      expect(rpo).toBeLessThanOrEqual(maxRpo());
      const cleanup = stepOf(d.ran, 'drill-cleanup.sh', drillPod);
      expect(cleanup.status, d.log).toBe(0);
      expect(cleanup.stdout).toContain('drill: passed');
      expect(d.r.kubectlCalls()).toEqual([['delete', 'cluster', drillCluster()!, '--ignore-not-found', '--wait=false']]);
    }, 90_000);

    it('a deleted middle segment: check-recovery.sh fails naming it; the drill records succeeded = false with the problem, and cleanup fails the Job', async () => {
      const recovery = await recovered('damaged');
      // PostgreSQL promoted at the gap, without an error: the rows after it are not there.
      expect(Number(await sql(recovery.server, 'SELECT count(*) FROM ops.backup_canary'))).toBeLessThan(canary.count);
      const archive = `${RCLONE_REMOTE}:${[bucket, prefix, damagedServerName(), 'wals'].filter(Boolean).join('/')}`;

      const { ran } = await recoveryCheckJob(recovery.server, archive);
      expect(stepOf(ran, 'list-archive.sh', jobPod).status).toBe(0);
      const check = stepOf(ran, 'check-recovery.sh', jobPod);
      expect(check.status, check.output).toBe(1);
      expect(check.stderr).toContain(`the archive is missing segment ${deleted}`);
      expect(check.stderr).toMatch(/verify-recovery: FAILED: \d+ problem\(s\): the restore to latest did not reach what the archive holds/);

      const d = await drill(recovery, { archive });
      expect(stepOf(d.ran, 'drill-check.sh', drillPod).status, d.log).toBe(0);
      expect(d.failed, d.log).toMatch(/the recovery fell short of the archive/);
      expect(stepOf(d.ran, 'drill-check.sh', drillPod).stderr + stepOf(d.ran, 'drill-check.sh', drillPod).output).toContain(
        `the archive is missing segment ${deleted}`,
      );
      expect(d.rows, d.log).toHaveLength(1);
      expect(d.rows[0]).toMatchObject({ started: recovery.started, succeeded: false, rto_seconds: recovery.rto });
      expect(d.rows[0]!.detail).toMatch(/the recovery fell short of the archive/);
      // The recorded detail names the problem itself, not only "see the log".
      expect(d.rows[0]!.detail).toContain(`the archive is missing segment ${deleted}`);
      const cleanup = stepOf(d.ran, 'drill-cleanup.sh', drillPod);
      expect(cleanup.status, d.log).toBe(1);
      expect(cleanup.stderr).toContain('drill: FAILED:');
      expect(cleanup.stderr).toContain('the recovery fell short of the archive');
      expect(d.r.kubectlCalls()).toEqual([['delete', 'cluster', drillCluster()!, '--ignore-not-found', '--wait=false']]);
    }, 90_000);

    it('a stale canary (the drill started long after the newest recovered row): the drill records succeeded = false with the RPO', async () => {
      const recovery = await recovered('scratch');
      const started = canary.newest + maxRpo() + 600;
      const d = await drill(recovery, { started });
      expect(stepOf(d.ran, 'drill-check.sh', drillPod).status, d.log).toBe(0);
      // The restore itself is complete: only the RPO fails.
      expect(stepOf(d.ran, 'drill-check.sh', drillPod).stdout).toMatch(/verify-recovery: OK/);
      const message = `RPO ${maxRpo() + 600}s: the newest recovered canary row is older than ${maxRpo()}s`;
      expect(d.failed.trim(), d.log).toBe(`drill: ${message}`);
      expect(d.rows, d.log).toHaveLength(1);
      expect(d.rows[0]).toMatchObject({ started, succeeded: false, rto_seconds: recovery.rto, rpo_seconds: maxRpo() + 600 });
      expect(d.rows[0]!.detail).toContain(message);
      expect(stepOf(d.ran, 'drill-cleanup.sh', drillPod).status, d.log).toBe(1);
    }, 90_000);

    describe('drill-create.sh (kubectl stand-in)', () => {
      const create = async (waitTimesOut: boolean) => {
        const r = podRun('create', drillPod, { waitTimesOut });
        const c = steps(drillPod).find((s) => runs(s, 'drill-create.sh'))!;
        const before = epoch();
        const out = await runStep(r, c.name);
        const read = (file: string) => (existsSync(join(r.work, file)) ? readFileSync(join(r.work, file), 'utf8') : undefined);
        return { r, c, out, before, started: read('started'), rto: read('rto'), failed: read('failed') };
      };
      const expectedCalls = (c: Container, manifest: string) => [
        ['delete', 'cluster', drillCluster(), '--ignore-not-found', '--wait=true', '--timeout=600s'],
        ['get', 'job', JOB_NAME, '-o', 'jsonpath={.metadata.uid}'],
        ['create', '-f', manifest],
        [
          'patch',
          'cluster',
          drillCluster(),
          '--type',
          'merge',
          '-p',
          JSON.stringify({ metadata: { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: JOB_NAME, uid: JOB_UID, blockOwnerDeletion: false }] } }),
        ],
        ['wait', 'cluster', drillCluster(), '--for=jsonpath={.status.phase}=Cluster in healthy state', `--timeout=${envValue(c, 'MAX_RTO_SECONDS')}s`],
      ];

      it('creates the scratch Cluster from the shipped manifest, owned by the Job, waits until ready: writes started and the RTO, nothing failed', async () => {
        const { r, c, out, before, started, rto, failed } = await create(false);
        expect(out.status, out.output).toBe(0);
        expect(failed).toBeUndefined();
        expect(Number(started)).toBeGreaterThanOrEqual(before);
        expect(rto).toMatch(/^\d+\n$/);
        expect(out.stdout).toContain(`drill: cluster/${drillCluster()} ready after`);
        expect(r.kubectlCalls()).toEqual(expectedCalls(c, join(r.scripts, 'cluster.yaml')));
        expect(r.created()).toBe(configMapData(ENV, 'postgres-restore-drill')['cluster.yaml']);
      });

      it('a Cluster that is not ready within MAX_RTO_SECONDS: records the failure in $WORK/failed with the RTO, and exits 0 so that the later steps run', async () => {
        const { r, c, out, started, rto, failed } = await create(true);
        expect(out.status, out.output).toBe(0);
        expect(started).toMatch(/^\d+\n$/);
        expect(rto).toMatch(/^\d+\n$/);
        expect(failed).toBe(`drill: cluster/${drillCluster()} was not ready within ${envValue(c, 'MAX_RTO_SECONDS')}s (the RTO the platform promises)\n`);
        expect(out.stderr).toContain('Setting up primary');
        expect(r.kubectlCalls()).toEqual([
          ...expectedCalls(c, join(r.scripts, 'cluster.yaml')),
          ['get', 'cluster', drillCluster(), '-o', 'jsonpath={.status.phase}{"\\n"}'],
        ]);
      });
    });

    describe('drill-cleanup.sh (kubectl stand-in)', () => {
      it.each([
        ['', 0],
        ['drill: something failed\n', 1],
      ])('with $WORK/failed %j: deletes the scratch Cluster and exits %i', async (failed, status) => {
        const r = podRun('cleanup', drillPod);
        if (failed) writeFileSync(join(r.work, 'failed'), failed);
        chownTree(r.work, OS_USER);
        const c = steps(drillPod).find((s) => runs(s, 'drill-cleanup.sh'))!;
        const out = await runStep(r, c.name);
        expect(out.status, out.output).toBe(status);
        expect(r.kubectlCalls()).toEqual([['delete', 'cluster', drillCluster(), '--ignore-not-found', '--wait=false']]);
        if (failed) expect(out.stderr).toBe(`drill: FAILED:\n${failed}`);
        else expect(out.stdout).toBe('drill: passed\n');
      });
    });

    // Last: it makes the archive grow, as the live primary's archive_timeout does every minute
    // (pg_cron's canary row is WAL to archive).
    it('the platform database keeps archiving while the scratch Cluster is up: the drill still passes', async () => {
      const recovery = await recovered('scratch');
      const platform = servers.find((s) => s.name === 'platform')!;
      let grown = '';
      const d = await drill(recovery, {
        afterCreate: async () => {
          await writeCanary(platform);
          grown = await switchAndArchive(platform);
        },
      });
      expect(grown > segments.at(-1)!).toBe(true);
      expect(d.failed, d.log).toBe('');
      expect(d.rows[0], d.log).toMatchObject({ succeeded: true, detail: '' });
      expect(stepOf(d.ran, 'drill-cleanup.sh', drillPod).status, d.log).toBe(0);
    }, 90_000);
  },
);
