// Load-test Jobs, one per k6 script of tests/load/, written to dist/<env>/on-demand/: no Argo CD
// Application syncs that folder, so a load test never starts by itself. `npm run cli --
// loadtest` copies a Job under a fresh name, creates it and streams the log of its container
// "k6". Each Job runs the scripts exactly as they are in the repository (the ConfigMap
// loadtest-scripts holds their bytes; lib/ is flattened into keys and laid out again by the
// volume's items), against Kong inside the cluster on its TLS port, with the anon key from the
// app namespace's copy of supabase-jwt, and sends its metrics to Prometheus by remote write
// (Prometheus runs with --web.enable-remote-write-receiver and admits these pods on 9090).
// The thresholds, users and durations come from the environment (environments/loadtest.ts).
//
// The database test needs a table the platform's init SQL does not create: the SQL to apply
// once is in the header of tests/load/database.ts (public.loadtest_notes, with row level
// security and one policy per command keeping each user to its own rows); the api test needs the
// api (service/) deployed. Both sign in the same users: in environments whose users sign in
// with a password, the Secret loadtest-users (key password) holds it; its
// ExternalSecret, the scripts' ConfigMap, and each Job's ServiceAccount and NetworkPolicy are
// synced with the app layer, only the Jobs are on demand.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { type LoadtestConfig, LOADTEST_SCRIPTS, type LoadtestScript, loadtestSeconds } from '../../environments/loadtest';
import { OnDemandChart, type OnDemandChartProps } from '../../lib/chart';
import { type Endpoint, egressTo, urlOf } from '../../lib/endpoint';
import { PROJECT_ROOT, projectFile } from '../../lib/files';
import { IMAGES } from '../../lib/images';
import { Job } from '../../lib/job';
import { LABEL } from '../../lib/labels';
import type { Peer } from '../../lib/network';
import { provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import type { PlatformContext } from '../../lib/context';
import { WORKLOADS, workload } from '../../lib/workloads';

/** The Job of each script: `cli loadtest` copies one under a fresh name. */
export const LOADTEST_JOBS: Readonly<Record<LoadtestScript, string>> = { api: 'loadtest-api', realtime: 'loadtest-realtime', database: 'loadtest-database' };
/** The container whose log carries k6's progress, its summary and the exported JSON. */
export const LOADTEST_CONTAINER = 'k6';
export const LOADTEST_CONFIG_MAP = 'loadtest-scripts';
/** The component label of every load-test object and pod (Prometheus admits pods by it). */
export const LOADTEST_COMPONENT = WORKLOADS.loadtest.component;
/** Where the scripts are in the repository, and in the pod. */
export const LOADTEST_SOURCE_DIR = 'tests/load';
export const LOADTEST_SCRIPTS_DIR = '/scripts';
/** The wrapper that runs k6 and prints its exported summary (charts/loadtest/files/). */
const RUNNER = 'run-k6.sh';
const RESULTS_DIR = '/results';
/** What k6 exports with --summary-export; run-k6.sh prints it between these lines at the end of the log. */
export const LOADTEST_SUMMARY_FILE = `${RESULTS_DIR}/summary.json`;
export const LOADTEST_SUMMARY_MARKERS = { begin: '----- BEGIN k6 summary (JSON) -----', end: '----- END k6 summary (JSON) -----' } as const;
/** k6's exit code when a threshold failed (0: passed; anything else: the test could not run). */
export const K6_THRESHOLDS_FAILED_EXIT_CODE = 99;
/** The user of the grafana/k6 image ("k6"). */
const K6_USER = { uid: 12345, gid: 12345 };
/** Separates folders in a ConfigMap key, which cannot hold "/": tests/load/lib/config.ts -> lib__config.ts. */
const KEY_SEPARATOR = '__';
/** Seconds k6 gives setup() (the scripts' setupTimeout) and needs to start and to write its summary. */
const START_AND_FINISH_SECONDS = 180;

/** The Secret of the provisioned load-test users' password (database test, "password" users). */
export const LOADTEST_USERS_SECRET_NAME = 'loadtest-users';

export interface LoadtestChartProps extends OnDemandChartProps {
  readonly config: LoadtestConfig;
  /** The app namespace's copy of supabase-jwt (the app chart provides it), holding loadtest-key. */
  readonly jwt: SecretSpec;
  /** Kong on its TLS port, the only port it admits from inside the cluster. */
  readonly gateway: Endpoint;
  /** The Prometheus server whose remote-write receiver (/api/v1/write) takes the results. */
  readonly prometheus: Endpoint;
}

/**
 * The load-test pods of one environment, for a NetworkPolicy rule (Prometheus admits them). Each
 * Job has its own name, so they are selected by the table's component, not by `peerOf`.
 */
export function loadtestPods(platform: PlatformContext): Peer {
  const { namespace, instance, component } = workload(platform, 'loadtest');
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    podSelector: { matchLabels: { [LABEL.component]: component, [LABEL.instance]: instance } },
  };
}

/** Every file of tests/load/ that k6 runs (the .ts files, not type declarations), with its ConfigMap key. */
export function loadtestFiles(): { path: string; key: string }[] {
  const root = join(PROJECT_ROOT, LOADTEST_SOURCE_DIR);
  const walk = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .flatMap((entry) => {
        const full = join(dir, entry);
        if (statSync(full).isDirectory()) return walk(full);
        return entry.endsWith('.ts') && !entry.endsWith('.d.ts') ? [relative(root, full).split('\\').join('/')] : [];
      });
  return walk(root).map((path) => {
    if (path.split('/').some((part) => part.includes(KEY_SEPARATOR) || !/^[-._a-zA-Z0-9]+$/.test(part))) {
      throw new Error(
        `${LOADTEST_SOURCE_DIR}/${path}: name load-test files with letters, digits, ".", "-" and single "_" only (the ConfigMap key is the path with "/" as "${KEY_SEPARATOR}")`,
      );
    }
    return { path, key: path.split('/').join(KEY_SEPARATOR) };
  });
}

/** How one script's test runs: its environment and how long it is planned to take. */
interface ScriptRun {
  readonly env: k8s.EnvVar[];
  /** Seconds the last iteration may take after the ramp-down. */
  readonly lastIteration: number;
  readonly shape: { readonly rampUp: string; readonly hold: string; readonly rampDown: string };
}

const value = (name: string, v: string | number): k8s.EnvVar => ({ name, value: String(v) });

export class LoadtestChart extends OnDemandChart {
  constructor(scope: Construct, id: string, props: LoadtestChartProps) {
    super(scope, id, props);
    const self = workload(this.platform, 'loadtest');
    const ns = self.namespace;
    const c = props.config;

    const files = loadtestFiles();
    const scripts = new k8s.KubeConfigMap(this.support, 'scripts', {
      metadata: this.metadata({ objectName: LOADTEST_CONFIG_MAP, namespace: ns, name: self.name, component: self.component }),
      data: {
        ...Object.fromEntries(files.map((f) => [f.key, projectFile(`${LOADTEST_SOURCE_DIR}/${f.path}`)])),
        [RUNNER]: projectFile(`charts/loadtest/files/${RUNNER}`),
      },
    });
    const items = [...files.map((f) => ({ key: f.key, path: f.path })), { key: RUNNER, path: RUNNER }];
    const common = this.commonEnv(props);
    const runs = scriptRuns(c, this.usersSecret(c, ns));

    for (const script of LOADTEST_SCRIPTS) {
      const name = LOADTEST_JOBS[script];
      const run = runs[script];
      const { rampUp, hold, rampDown } = run.shape;
      const planned = loadtestSeconds(rampUp) + loadtestSeconds(hold) + loadtestSeconds(rampDown) + run.lastIteration;
      new Job(this.support, name, {
        name,
        component: self.component,
        namespace: ns,
        version: IMAGES.k6.tag,
        // A load test is never retried on its own: a second run doubles the load on a platform
        // that just failed.
        backoffLimit: 0,
        activeDeadlineSeconds: planned + START_AND_FINISH_SECONDS + loadtestSeconds(c.deadlineMargin),
        // Long enough to read the log the next working day.
        ttlSecondsAfterFinished: 3 * 24 * 3600,
        jobObject: { scope: new Construct(this, name), id: 'job' },
        pod: {
          identity: K6_USER,
          volumes: [{ name: 'scripts', configMap: { name: scripts.name, items, defaultMode: 0o444 } }],
          containers: [
            {
              name: LOADTEST_CONTAINER,
              image: IMAGES.k6,
              command: ['/bin/sh', `${LOADTEST_SCRIPTS_DIR}/${RUNNER}`],
              args: ['k6', 'run', `--summary-export=${LOADTEST_SUMMARY_FILE}`, '--out', 'experimental-prometheus-rw', `${LOADTEST_SCRIPTS_DIR}/${script}.ts`],
              env: [...common, ...run.env],
              resources: c.resources,
              volumeMounts: [{ name: 'scripts', mountPath: LOADTEST_SCRIPTS_DIR, readOnly: true }],
              writablePaths: [{ path: RESULTS_DIR, sizeLimit: '16Mi' }, { path: '/tmp' }],
            },
          ],
        },
        // Out to Kong's TLS port and Prometheus's remote write; nothing comes in.
        network: { ingress: [], egress: [egressTo(props.gateway), egressTo(props.prometheus)] },
      });
    }
  }

  /** The Secret of the provisioned users' password, when they sign in with one (environments/loadtest.ts, database.users). */
  private usersSecret(c: LoadtestConfig, namespace: string): SecretSpec | undefined {
    if (c.database.users !== 'password') return undefined;
    const spec: SecretSpec = {
      name: LOADTEST_USERS_SECRET_NAME,
      namespace,
      description: `Password of the provisioned load-test users loadtest-<n>@${c.database.emailDomain} (tests/load/database.ts)`,
      keys: [{ key: 'password', description: 'password of every load-test user', generate: { kind: 'hex', bytes: 24 } }],
    };
    const meta = this.metadata({ objectName: spec.name, namespace, name: WORKLOADS.loadtest.name, component: 'secret' });
    provideSecret(this.support, 'users-secret', this.platform.secretSource, spec, meta);
    return spec;
  }

  /** The environment every script's Job shares: where to send load and results, and the key. */
  private commonEnv(props: LoadtestChartProps): k8s.EnvVar[] {
    return [
      // The Job's own name: a fresh one per run, the same for every virtual user.
      { name: 'LOADTEST_RUN_ID', valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } } },
      value('LOADTEST_ENVIRONMENT', this.platform.instance),
      value('LOADTEST_BASE_URL', urlOf(props.gateway, 'https')),
      // The load tests' own anon-role key: Kong counts all their virtual users as its consumer
      // "loadtest", with the limit the environment sets (gateway.rateLimits.loadtest).
      { name: 'LOADTEST_ANON_KEY', valueFrom: secretKeyRef(props.jwt, 'loadtest-key') },
      value('LOADTEST_SUMMARY_FILE', LOADTEST_SUMMARY_FILE),
      value('K6_PROMETHEUS_RW_SERVER_URL', urlOf(props.prometheus, 'http', '/api/v1/write')),
      value('K6_PROMETHEUS_RW_TREND_STATS', 'p(50),p(95),p(99),min,max'),
      value('K6_PROMETHEUS_RW_STALE_MARKERS', 'true'),
      // Kong's certificate names the public domain, not the Service name the Job connects to.
      value('K6_INSECURE_SKIP_TLS_VERIFY', 'true'),
      // The pod reaches Kong and Prometheus only: no usage report to the internet.
      value('K6_NO_USAGE_REPORT', 'true'),
    ];
  }
}

/** What every script's part of the environment configures: its load and its thresholds. */
interface ScriptSettings {
  readonly vus: number;
  readonly rampUp: string;
  readonly hold: string;
  readonly rampDown: string;
  readonly thresholds: { readonly p95Ms: number; readonly maxErrorRate: number };
}

/** Each script's own settings, from the environment. */
function scriptRuns(c: LoadtestConfig, usersSecret: SecretSpec | undefined): Record<LoadtestScript, ScriptRun> {
  /** A script's run: the settings every script takes, then its own; its last iteration ends within 30 s unless it says otherwise. */
  const run = (s: ScriptSettings, own: k8s.EnvVar[], lastIteration = 30): ScriptRun => ({
    env: [
      value('LOADTEST_VUS', s.vus),
      value('LOADTEST_RAMP_UP', s.rampUp),
      value('LOADTEST_HOLD', s.hold),
      value('LOADTEST_RAMP_DOWN', s.rampDown),
      value('LOADTEST_P95_MS', s.thresholds.p95Ms),
      value('LOADTEST_MAX_ERROR_RATE', s.thresholds.maxErrorRate),
      ...own,
    ],
    lastIteration,
    shape: s,
  });
  // The api and database tests sign in the same users, the database test's (tests/load/lib/auth.ts).
  const users = [value('LOADTEST_AUTH_MODE', c.database.users), value('LOADTEST_EMAIL_DOMAIN', c.database.emailDomain)];
  // Optional: the scripts name the Secret loadtest-users when it is missing.
  const userPassword: k8s.EnvVar[] = usersSecret
    ? [{ name: 'LOADTEST_USER_PASSWORD', valueFrom: { secretKeyRef: { ...secretKeyRef(usersSecret, 'password').secretKeyRef, optional: true } } }]
    : [];
  return {
    // The database test's users: virtual user v signs in as user ((v - 1) mod LOADTEST_USERS) + 1.
    api: run(c.api, [...users, value('LOADTEST_USERS', c.database.vus), value('LOADTEST_THINK_SECONDS', c.api.thinkSeconds), ...userPassword]),
    realtime: run(
      c.realtime,
      [
        value('LOADTEST_CHANNEL_SIZE', c.realtime.channelSize),
        value('LOADTEST_BROADCAST_INTERVAL_SECONDS', c.realtime.broadcastIntervalSeconds),
        value('LOADTEST_SESSION_SECONDS', c.realtime.sessionSeconds),
      ],
      // realtime.ts lets a session finish (sessionSeconds + 30 s) when its user is ramped down.
      c.realtime.sessionSeconds + 30,
    ),
    database: run(c.database, [...users, value('LOADTEST_THINK_SECONDS', c.database.thinkSeconds), ...userPassword]),
  };
}
