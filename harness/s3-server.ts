// A local S3-compatible object store for the backup tests and bench:restore, and the command
// lines the Barman Cloud Plugin runs against an ObjectStore.
//
// The store: s3rver (npm, a devDependency) in its own Node process on 127.0.0.1, on a port the
// kernel picks (`-p 0`), keeping its objects in a temporary folder, with the buckets created at
// start. Its own process, not this one: the tests run programs with spawnSync, which would block
// a server living in the test's event loop while barman-cloud talks to it.
//
// What works with barman-cloud 3.4.0 (boto3 1.43) against s3rver 3.7.1, checked by hand and by
// tests/integration/barman-restore.test.ts:
// - path-style addressing with `--endpoint-url http://127.0.0.1:<port>` (boto3 picks path style
//   for an IP address; `--no-vhost-buckets` makes s3rver agree), SigV4 signatures with
//   s3rver's fixed key pair S3RVER/S3RVER, single PUTs (WAL, backup.info) and the multipart
//   uploads of barman-cloud-backup, listing, GET, DELETE, server-side copy (rclone);
// - `-e AES256` / `--encryption AES256` (the x-amz-server-side-encryption header) is ACCEPTED
//   and silently ignored: s3rver stores no encryption attribute and returns none. The flag stays
//   in the command lines (the plugin's exact options), but nothing here proves that a real
//   store encrypts;
// - s3rver's ListObjects with a delimiter ("/") drops objects two or more folders below the
//   prefix (its folder walk stops at a common prefix before it has seen a key under it): rclone's
//   folder-by-folder listing of <server>/ then sees nothing under base/<id>/ or wals/<tl+log>/.
//   `rclone --fast-list` lists without a delimiter and sees everything; barman-cloud's own
//   listings (backup list/show, restore, wal-restore) are unaffected;
// - a PUT cut off mid-body (its client killed) leaves an object of the bytes received: s3rver
//   writes the body straight into the object's file, and lists and serves it (its ETag made from
//   what is there). S3 stores a PUT whole or not at all. A multipart upload cut off leaves no
//   object (nothing is completed);
// - stopped and started again on the same port and folder (`pause`, `resume`), it serves every
//   object it held; while stopped, connections are refused, and barman-cloud-wal-archive fails
//   after about 7.5 s (boto3's retries) with "Can't connect to cloud provider";
// - `barman-cloud-wal-archive -t` (connectivity test) fails in 3.4.0 with "the following
//   arguments are required: wal_path", with any store: not an s3rver problem.
// rclone (the S3 backend, provider Other, path style) lists, copies and replaces objects; it
// refuses an http endpoint while AWS_CA_BUNDLE is set ("LoadCustomCABundleError"), so its
// environment drops that variable, as barman-cloud's does (nothing here uses TLS).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BARMAN_PLUGIN } from '../charts/postgres/object-store';
import { objectsOf } from '../checks/rendered';

/** s3rver's only account. */
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';
/** The rclone remote the environment of `rcloneEnv` defines. */
export const RCLONE_REMOTE = 'store';

export interface S3Server {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** The folder s3rver keeps its buckets in: <directory>/<bucket>/<key>._S3rver_object. */
  readonly directory: string;
  /**
   * What barman-cloud (boto3) needs: the credentials the plugin would take from the ObjectStore's
   * s3Credentials secrets (barman-cloud pkg/credentials/env.go: AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY), and nothing from this machine's AWS settings.
   */
  readonly env: NodeJS.ProcessEnv;
  /** rclone's environment: remote `store:` is this server. */
  readonly rcloneEnv: NodeJS.ProcessEnv;
  /**
   * Ends the server process and keeps its folder: the store is down (connections to the endpoint
   * are refused) until `resume`.
   */
  pause(): Promise<void>;
  /** Starts the server again on the same port with the same folder: every object is back. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts s3rver with `buckets` created; `stop` ends it and removes its folder. */
export async function startS3Server(buckets: readonly string[]): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  let { child, port } = await launchS3rver(directory, 0, buckets);
  const endpoint = `http://127.0.0.1:${port}`;
  const clean: NodeJS.ProcessEnv = {
    // Our own, or none: no profile, config file, CA bundle or instance metadata of this machine.
    AWS_CA_BUNDLE: undefined,
    AWS_PROFILE: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const remote = `RCLONE_CONFIG_${RCLONE_REMOTE.toUpperCase()}`;
  return {
    endpoint,
    directory,
    env: { ...clean, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY },
    rcloneEnv: {
      ...clean,
      RCLONE_CONFIG: '/dev/null',
      [`${remote}_TYPE`]: 's3',
      [`${remote}_PROVIDER`]: 'Other',
      [`${remote}_ENDPOINT`]: endpoint,
      [`${remote}_ACCESS_KEY_ID`]: ACCESS_KEY_ID,
      [`${remote}_SECRET_ACCESS_KEY`]: SECRET_ACCESS_KEY,
      [`${remote}_FORCE_PATH_STYLE`]: 'true',
    },
    pause: () => stopChild(child),
    // The buckets exist in the folder already (s3rver's --configure-bucket keeps what they hold).
    // Node listens with SO_REUSEADDR: the port binds again although connections to it linger.
    resume: async () => {
      if (child.exitCode === null && child.signalCode === null) throw new Error('s3rver is running: pause it first');
      ({ child, port } = await launchS3rver(directory, port, buckets));
    },
    stop: () => stopChild(child).then(() => rmSync(directory, { recursive: true, force: true })),
  };
}

/** s3rver on 127.0.0.1:`port` (0: the kernel picks) keeping its objects in `directory`, once it listens. */
async function launchS3rver(directory: string, port: number, buckets: readonly string[]): Promise<{ child: ChildProcess; port: number }> {
  const bin = createRequire(__filename).resolve('s3rver/bin/s3rver.js');
  const args = [
    bin,
    '-d',
    directory,
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '--silent',
    '--no-vhost-buckets',
    ...buckets.flatMap((b) => ['--configure-bucket', b]),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const listening = await listeningPort(child, 's3rver', /S3rver listening on [\d.]+:(\d+)/);
  return { child, port: listening };
}

/** The port `child` prints (`pattern`'s first group) once it listens; rejects when it exits first or takes over 20 s. */
function listeningPort(child: ChildProcess, what: string, pattern: RegExp): Promise<number> {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 20 s: ${output}`)), 20_000);
    const check = () => {
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited ${code}: ${output}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// An upload cut off halfway: a proxy in front of the store that holds one PUT mid-body, so that
// the uploader can be killed while its upload is provably in flight (a kill after a delay would
// land before, during or after the upload depending on the machine's speed).
// ---------------------------------------------------------------------------------------------

/** The proxy (its own Node process, like s3rver): CommonJS for `node -e`, argv: upstream, key, folder. */
const HOLDING_PROXY = `
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const [upstream, key, folder] = process.argv.slice(1);
const target = new URL(upstream);
let armed = true;
// Written whole or not at all: others poll for these files.
const report = (name, what) => {
  fs.writeFileSync(path.join(folder, name + '.tmp'), JSON.stringify(what));
  fs.renameSync(path.join(folder, name + '.tmp'), path.join(folder, name));
};
const server = http.createServer((req, res) => {
  // Expect: 100-continue is answered here (Node does it) and not signed (SigV4 leaves it out).
  const headers = { ...req.headers };
  delete headers.expect;
  const up = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers });
  up.on('response', (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  up.on('error', () => res.destroy());
  if (!(armed && req.method === 'PUT' && req.url.includes(key))) {
    req.pipe(up);
    return;
  }
  armed = false;
  const length = Number(req.headers['content-length']);
  const half = Math.floor(length / 2);
  let forwarded = 0;
  let held = false;
  req.on('data', (chunk) => {
    if (held) return;
    const part = chunk.subarray(0, half - forwarded);
    up.write(part);
    forwarded += part.length;
    if (forwarded < half) return;
    // Held: the rest of the body is read (so that the client's going away is seen) and dropped.
    held = true;
    report('held', { path: req.url, length, forwarded });
  });
  // The client went away mid-body: cut the upstream request as its connection would have been cut.
  res.on('close', () => {
    if (res.writableFinished) return;
    up.once('close', () => report('cut', { path: req.url, length, forwarded }));
    up.destroy();
  });
});
server.listen(0, '127.0.0.1', () => console.log('holding proxy listening on ' + server.address().port));
`;

export interface HoldingProxy {
  /** http://127.0.0.1:<port>: give it as --endpoint-url instead of the store's. */
  readonly endpoint: string;
  /** The held PUT, once it is held: <folder>/held. */
  held(): { path: string; length: number; forwarded: number } | undefined;
  /** The same, once its client went away and the upstream request was cut: <folder>/cut. */
  cut(): { path: string; length: number; forwarded: number } | undefined;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy to `upstream` (the store) that forwards every request, except the first PUT whose
 * path contains `key`: of that one it forwards the headers and the first half of the body, then
 * holds (writes <folder>/held, JSON { path, length, forwarded }): it drops the rest and never
 * answers. When its client goes away, it cuts the request to the store mid-body (and writes
 * <folder>/cut).
 */
export async function startHoldingProxy(upstream: string, key: string, folder: string): Promise<HoldingProxy> {
  const child = spawn(process.execPath, ['-e', HOLDING_PROXY, upstream, key, folder], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await listeningPort(child, 'the holding proxy', /holding proxy listening on (\d+)/);
  const read = (name: string) => {
    const path = join(folder, name);
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { path: string; length: number; forwarded: number }) : undefined;
  };
  return { endpoint: `http://127.0.0.1:${port}`, held: () => read('held'), cut: () => read('cut'), stop: () => stopChild(child) };
}

// ---------------------------------------------------------------------------------------------
// The barman-cloud command lines of the Barman Cloud Plugin 0.14.0 for an ObjectStore.
//
// Read at github.com/cloudnative-pg/plugin-barman-cloud tag v0.14.0 (commit
// 1e13020fe5f09fd8fc29ea03828f7b61375b3721), which builds them with
// github.com/cloudnative-pg/barman-cloud at 950b0f57e122 (its go.mod:
// v0.5.2-0.20260720143032-950b0f57e122):
// - WAL archive: barman-cloud pkg/archiver/command.go, BarmanCloudWalArchiveOptions:
//   `--<wal.compression>`, `-e <wal.encryption>`, wal.archiveAdditionalCommandArgs (options not
//   already given), `--endpoint-url <endpointURL>`, `--tags`/`--history-tags` (k=v), then
//   `--cloud-provider aws-s3` (pkg/command/commandbuilder.go, appendCloudProviderOptions: when
//   s3Credentials is set), then `<destinationPath> <serverName>`; the plugin appends the WAL path
//   (pkg/archiver/archiver.go). wal.maxParallel is no option: the plugin
//   (internal/cnpgi/common/wal.go) archives up to maxParallel .ready files at once, one
//   barman-cloud-wal-archive each, and on restore prefetches up to maxParallel segments into a
//   spool.
// - WAL restore: pkg/command/commandbuilder.go, CloudWalRestoreOptions: `--endpoint-url`,
//   `--cloud-provider aws-s3`, `<destinationPath> <serverName>`, wal.restoreAdditionalCommandArgs,
//   then `<walName> <destination>` (pkg/restorer/restorer.go, Restore).
// - Base backup: pkg/backup/backup.go, GetBarmanCloudBackupOptions: `--user postgres --name
//   <backupName>`, then GetDataConfiguration: `--<data.compression>`, `--encryption
//   <data.encryption>`, `--immediate-checkpoint` when data.immediateCheckpoint, `--jobs
//   <data.jobs>`, data.additionalCommandArgs; then `--tags`, `--endpoint-url`, `--cloud-provider
//   aws-s3`, `<destinationPath> <serverName>`. The plugin names the backup
//   `backup-<YYYYMMDDhhmmss>` (internal/cnpgi/instance/backup.go; machinery
//   pkg/postgres/time/time.go, ToCompactISO8601) and connects with the pod's PGHOST etc.
// - Base restore: the plugin's internal/cnpgi/restore/restore.go, restoreDataDir:
//   `--cloud-provider aws-s3`, `--endpoint-url <the Backup's endpointURL>`,
//   data.restoreAdditionalCommandArgs, `<destinationPath> <serverName> <backupID> <PGDATA>`.
//   Before it, ensureArchiveContainsLastCheckpointRedoWAL fetches the backup's begin_wal with
//   barman-cloud-wal-restore and fails the recovery when it is missing.
// - serverName: the Cluster's name, unless the plugin's `serverName` parameter in the Cluster
//   says otherwise (internal/cnpgi/operator/config/config.go); the ObjectStore may not set
//   configuration.serverName (api/v1/objectstore_types.go, XValidation).
// - retentionPolicy ('30d'): barman-cloud-backup-delete --retention-policy "RECOVERY WINDOW OF
//   30 DAYS" (pkg/command/backupdelete.go, DeleteBackupsByPolicy; internal/cnpgi/instance/
//   retention.go), run by the sidecar; not used here.
// ---------------------------------------------------------------------------------------------

/** The fields of an ObjectStore's spec.configuration that shape the command lines (S3 only). */
export interface BarmanObjectStoreConfiguration {
  readonly destinationPath: string;
  readonly endpointURL?: string;
  readonly s3Credentials?: object;
  readonly serverName?: string;
  readonly tags?: Record<string, string>;
  readonly historyTags?: Record<string, string>;
  readonly wal?: {
    readonly compression?: string;
    readonly encryption?: string;
    readonly maxParallel?: number;
    readonly archiveAdditionalCommandArgs?: readonly string[];
    readonly restoreAdditionalCommandArgs?: readonly string[];
  };
  readonly data?: {
    readonly compression?: string;
    readonly encryption?: string;
    readonly jobs?: number;
    readonly immediateCheckpoint?: boolean;
    readonly additionalCommandArgs?: readonly string[];
    readonly restoreAdditionalCommandArgs?: readonly string[];
  };
}

/** barman-cloud pkg/api/config.go, appendAdditionalCommandArgs: extra options whose key is not given yet. */
function appendAdditional(options: string[], extra: readonly string[] | undefined): string[] {
  if (!extra?.length) return options;
  const keys = new Set(options.map((o) => o.split('=')[0]).filter((k) => k));
  for (const arg of extra) {
    const key = arg.split('=')[0];
    if (!key || keys.has(key)) continue;
    options.push(arg);
  }
  return options;
}

/** barman-cloud pkg/utils/barman.go, MapToBarmanTagsFormat: `--tags k,v ...` (Go's map order upstream; sorted here). */
function tagOptions(flag: string, tags: Record<string, string> | undefined): string[] {
  const entries = Object.entries(tags ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? [flag, ...entries.map(([k, v]) => `${k},${v}`)] : [];
}

const cloudProvider = (c: BarmanObjectStoreConfiguration) => (c.s3Credentials ? ['--cloud-provider', 'aws-s3'] : []);
const endpoint = (c: BarmanObjectStoreConfiguration) => (c.endpointURL ? ['--endpoint-url', c.endpointURL] : []);

/** barman-cloud-wal-archive's options before the WAL path (BarmanCloudWalArchiveOptions). */
export function walArchiveOptions(c: BarmanObjectStoreConfiguration, serverName: string): string[] {
  const options: string[] = [];
  if (c.wal?.compression) options.push(`--${c.wal.compression}`);
  if (c.wal?.encryption) options.push('-e', c.wal.encryption);
  appendAdditional(options, c.wal?.archiveAdditionalCommandArgs);
  options.push(...endpoint(c), ...tagOptions('--tags', c.tags), ...tagOptions('--history-tags', c.historyTags), ...cloudProvider(c));
  return [...options, c.destinationPath, serverName];
}

/** barman-cloud-wal-restore's options before `<walName> <destination>` (CloudWalRestoreOptions). */
export function walRestoreOptions(c: BarmanObjectStoreConfiguration, serverName: string): string[] {
  return appendAdditional([...endpoint(c), ...cloudProvider(c), c.destinationPath, serverName], c.wal?.restoreAdditionalCommandArgs);
}

/** barman-cloud-backup's options (GetBarmanCloudBackupOptions). */
export function backupOptions(c: BarmanObjectStoreConfiguration, backupName: string, serverName: string): string[] {
  const options = ['--user', 'postgres', '--name', backupName];
  if (c.data?.compression) options.push(`--${c.data.compression}`);
  if (c.data?.encryption) options.push('--encryption', c.data.encryption);
  if (c.data?.immediateCheckpoint) options.push('--immediate-checkpoint');
  if (c.data?.jobs !== undefined) options.push('--jobs', String(c.data.jobs));
  appendAdditional(options, c.data?.additionalCommandArgs);
  options.push(...tagOptions('--tags', c.tags), ...endpoint(c), ...cloudProvider(c));
  return [...options, c.destinationPath, serverName];
}

/** barman-cloud-restore's options (the plugin's restoreDataDir). */
export function restoreOptions(c: BarmanObjectStoreConfiguration, serverName: string, backupId: string, pgdata: string): string[] {
  const options = appendAdditional([...cloudProvider(c), ...endpoint(c)], c.data?.restoreAdditionalCommandArgs);
  return [...options, c.destinationPath, serverName, backupId, pgdata];
}

/** The options barman-cloud-backup-show/-list take (the plugin's catalog calls: endpoint and provider). */
export function catalogOptions(c: BarmanObjectStoreConfiguration): string[] {
  return [...endpoint(c), ...cloudProvider(c)];
}

/** `backup-<YYYYMMDDhhmmss>` (UTC here), as the plugin names a backup. */
export function pluginBackupName(at = new Date()): string {
  return `backup-${at.toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
}

/** s3://bucket/path -> { bucket, prefix } */
export function splitDestination(destinationPath: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*?)\/?$/.exec(destinationPath);
  if (!match) throw new Error(`destinationPath ${destinationPath} is not s3://bucket[/path]`);
  return { bucket: match[1]!, prefix: match[2]! };
}

/** POSIX shell quoting, for archive_command and restore_command. */
export function shellQuote(words: readonly string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`)).join(' ');
}

// ---------------------------------------------------------------------------------------------
// production's ObjectStore and Cluster, as synthesised.
// ---------------------------------------------------------------------------------------------

export interface PluginSettings {
  /** ObjectStore postgres-store: spec.configuration. */
  readonly configuration: BarmanObjectStoreConfiguration;
  /** ObjectStore postgres-store: spec.retentionPolicy. */
  readonly retentionPolicy: string | undefined;
  /** The Cluster's name, or the plugin's serverName parameter (internal/cnpgi/operator/config/config.go). */
  readonly serverName: string;
  /** Cluster postgres: spec.postgresql.parameters. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Cluster postgres: archive_timeout (60s when unset). */
  readonly archiveTimeout: string;
  /** Cluster postgres: spec.bootstrap.initdb.dataChecksums. */
  readonly dataChecksums: boolean;
  /** ObjectStore postgres-store: the resources of the sidecar that runs barman-cloud. */
  readonly sidecarResources: { readonly limits?: Record<string, string>; readonly requests?: Record<string, string> } | undefined;
}

/** What is read of the ObjectStore's and the Cluster's spec. */
interface SynthesisedSpec {
  configuration?: BarmanObjectStoreConfiguration;
  retentionPolicy?: string;
  instanceSidecarConfiguration?: { resources?: { limits?: Record<string, string>; requests?: Record<string, string> } };
  bootstrap?: { initdb?: { dataChecksums?: boolean } };
  plugins?: { name: string; parameters?: Record<string, string> }[];
  postgresql?: { parameters?: Record<string, string | number> };
}

/**
 * production's `barmancloud.cnpg.io/v1` ObjectStore `postgres-store` and `postgresql.cnpg.io/v1`
 * Cluster `postgres`; throws, naming what is missing, when either is not synthesised.
 */
export function productionPluginSettings(): PluginSettings {
  const objects = objectsOf('production').map((l) => l.object as { apiVersion: string; kind: string; metadata: { name?: string }; spec?: SynthesisedSpec });
  const store = objects.find((o) => o.apiVersion === 'barmancloud.cnpg.io/v1' && o.kind === 'ObjectStore' && o.metadata.name === 'postgres-store');
  const cluster = objects.find((o) => o.apiVersion === 'postgresql.cnpg.io/v1' && o.kind === 'Cluster' && o.metadata.name === 'postgres');
  const missing = [!store && 'barmancloud.cnpg.io/v1 ObjectStore postgres-store', !cluster && 'postgresql.cnpg.io/v1 Cluster postgres'].filter(Boolean);
  if (missing.length)
    throw new Error(`the production environment synthesises no ${missing.join(' and no ')}: the Barman Cloud Plugin's command lines are made from them`);
  const configuration = store!.spec?.configuration;
  if (!configuration?.destinationPath) throw new Error('ObjectStore postgres-store has no spec.configuration.destinationPath');
  const plugin = cluster!.spec?.plugins?.find((p) => p.name === BARMAN_PLUGIN);
  const parameters = Object.fromEntries(Object.entries(cluster!.spec?.postgresql?.parameters ?? {}).map(([k, v]) => [k, String(v)]));
  return {
    configuration,
    retentionPolicy: store!.spec?.retentionPolicy,
    serverName: plugin?.parameters?.serverName ?? cluster!.metadata.name!,
    parameters,
    archiveTimeout: parameters.archive_timeout ?? '60s',
    dataChecksums: cluster!.spec?.bootstrap?.initdb?.dataChecksums === true,
    sidecarResources: store!.spec?.instanceSidecarConfiguration?.resources,
  };
}
