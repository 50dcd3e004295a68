// The loadtest chart: one Job per k6 script in dist/<env>/on-demand/ (never synced by Argo CD),
// the ConfigMap that carries the scripts byte for byte, the environment's thresholds and sizes
// in each Job, and the network: out to Kong's TLS port and Prometheus's remote write only, with
// Prometheus accepting those writes. The scripts themselves are checked in loadtest-scripts.test.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  LOADTEST_COMPONENT,
  LOADTEST_CONFIG_MAP,
  LOADTEST_CONTAINER,
  LOADTEST_JOBS,
  LOADTEST_SUMMARY_FILE,
  LOADTEST_SUMMARY_MARKERS,
  LOADTEST_USERS_SECRET_NAME,
  loadtestFiles,
} from '../../charts/loadtest/loadtest-chart';
import { LOADTEST_SCRIPTS, loadtestSeconds } from '../../environments/loadtest';
import { type EnvironmentInput, parseEnvironment } from '../../environments/schema';
import { IMAGES, imageRef } from '../../lib/images';
import { ON_DEMAND_FOLDER } from '../../lib/layers';
import { platformSecrets, renderEnvironment } from '../../platform';
import { environment, environmentInput, environments, locate, objectsOf, ROOT } from '../helpers';
import type { K8sObject } from '../../checks/objects';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: EnvVar[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface JobSpec {
  backoffLimit: number;
  activeDeadlineSeconds: number;
  ttlSecondsAfterFinished: number;
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      serviceAccountName: string;
      restartPolicy: string;
      automountServiceAccountToken: boolean;
      containers: Container[];
      volumes: { name: string; configMap?: { name: string; items: { key: string; path: string }[] } }[];
    };
  };
}
interface Peer {
  namespaceSelector?: { matchLabels: Record<string, string> };
  podSelector?: { matchLabels: Record<string, string> };
  ipBlock?: unknown;
}
interface PolicySpec {
  podSelector: { matchLabels: Record<string, string> };
  policyTypes: string[];
  ingress?: { from?: Peer[]; ports?: { port: number }[] }[];
  egress?: { to?: Peer[]; ports?: { port: number; protocol: string }[] }[];
}

const jobSpec = (o: K8sObject) => o.spec as JobSpec;
const envOf = (c: Container) => Object.fromEntries(c.env.map((e) => [e.name, e]));
const valueOf = (c: Container, name: string) => envOf(c)[name]?.value;

/** Every file under tests/load that k6 runs, walked independently of the chart. */
function scriptsOnDisk(): string[] {
  const root = join(ROOT, 'tests/load');
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)) : [relative(root, join(dir, e))]));
  return walk(root)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
}

describe.each(environments())('%s', (name, env) => {
  const appNamespace = `${env.namespacePrefix}app`;

  it('puts only the Jobs in the on-demand folder; the ConfigMap, ServiceAccounts and NetworkPolicies go with the app layer, all in the app namespace', () => {
    const mine = objectsOf(name).filter((l) => l.object.metadata.labels?.['app.kubernetes.io/component'] === LOADTEST_COMPONENT);
    expect(mine.length).toBe(1 + 3 * LOADTEST_SCRIPTS.length);
    for (const l of mine) {
      expect(l.file.startsWith(l.object.kind === 'Job' ? `${ON_DEMAND_FOLDER}/` : 'app/'), l.file).toBe(true);
      expect(l.object.metadata.namespace).toBe(appNamespace);
    }
    for (const script of LOADTEST_SCRIPTS) {
      expect(locate(name, 'Job', `loadtest-${script}`).file).toBe(`${ON_DEMAND_FOLDER}/Job.${appNamespace}.loadtest-${script}.yaml`);
      for (const kind of ['ServiceAccount', 'NetworkPolicy'])
        expect(locate(name, kind, `loadtest-${script}`).file).toBe(`app/${kind}.${appNamespace}.loadtest-${script}.yaml`);
    }
    expect(Object.values(LOADTEST_JOBS)).toEqual(['loadtest-api', 'loadtest-realtime', 'loadtest-database']);
  });

  it('ships every script file of tests/load byte for byte, lib/ flattened into keys and laid out again by the volume', () => {
    const data = (locate(name, 'ConfigMap', LOADTEST_CONFIG_MAP).object as unknown as { data: Record<string, string> }).data;
    const onDisk = scriptsOnDisk();
    expect(onDisk).toEqual(expect.arrayContaining(['api.ts', 'realtime.ts', 'database.ts', 'lib/config.ts']));
    expect(loadtestFiles().map((f) => f.path)).toEqual(onDisk);
    const expectedKeys = [...onDisk.map((p) => p.split('/').join('__')), 'run-k6.sh'].sort();
    expect(Object.keys(data).sort()).toEqual(expectedKeys);
    for (const path of onDisk) expect(data[path.split('/').join('__')], path).toBe(readFileSync(join(ROOT, 'tests/load', path), 'utf8'));
    expect(data['run-k6.sh']).toBe(readFileSync(join(ROOT, 'charts/loadtest/files/run-k6.sh'), 'utf8'));

    for (const script of LOADTEST_SCRIPTS) {
      const volume = jobSpec(locate(name, 'Job', `loadtest-${script}`).object).template.spec.volumes.find((v) => v.configMap?.name === LOADTEST_CONFIG_MAP)!;
      expect(volume.configMap!.items).toEqual(expect.arrayContaining(onDisk.map((p) => ({ key: p.split('/').join('__'), path: p }))));
      expect(volume.configMap!.items).toHaveLength(onDisk.length + 1);
    }
  });

  describe.each(LOADTEST_SCRIPTS)('loadtest-%s', (script) => {
    const job = locate(name, 'Job', `loadtest-${script}`).object;
    const spec = jobSpec(job);
    const pod = spec.template.spec;
    const container = pod.containers[0]!;
    const settings = env.loadtest[script];

    it('runs the pinned k6 image on its own script, exporting the summary and writing metrics to Prometheus', () => {
      expect(pod.containers).toHaveLength(1);
      expect(container.name).toBe(LOADTEST_CONTAINER);
      expect(container.image).toBe(imageRef(IMAGES.k6));
      expect(container.image).toBe('docker.io/grafana/k6:1.3.0');
      expect(container.command).toEqual(['/bin/sh', '/scripts/run-k6.sh']);
      expect(container.args).toEqual([
        'k6',
        'run',
        `--summary-export=${LOADTEST_SUMMARY_FILE}`,
        '--out',
        'experimental-prometheus-rw',
        `/scripts/${script}.ts`,
      ]);
      expect(valueOf(container, 'LOADTEST_SUMMARY_FILE')).toBe(LOADTEST_SUMMARY_FILE);
      // The first Prometheus server by its pod's name: with a pair, the Service would split one run between the two.
      expect(valueOf(container, 'K6_PROMETHEUS_RW_SERVER_URL')).toBe(
        `http://prometheus-0.prometheus-headless.${env.namespacePrefix}observability.svc.cluster.local:9090/api/v1/write`,
      );
      expect(container.volumeMounts).toContainEqual({ name: 'scripts', mountPath: '/scripts', readOnly: true });
    });

    it('runs once, stops at its deadline, cleans up after three days, under its own ServiceAccount without a token', () => {
      expect(spec.backoffLimit).toBe(0);
      expect(pod.restartPolicy).toBe('Never');
      expect(spec.ttlSecondsAfterFinished).toBe(3 * 24 * 3600);
      const planned = loadtestSeconds(settings.rampUp) + loadtestSeconds(settings.hold) + loadtestSeconds(settings.rampDown);
      expect(spec.activeDeadlineSeconds).toBeGreaterThan(planned + loadtestSeconds(env.loadtest.deadlineMargin));
      expect(spec.activeDeadlineSeconds).toBeLessThan(planned + loadtestSeconds(env.loadtest.deadlineMargin) + 3600);
      expect(pod.serviceAccountName).toBe(`loadtest-${script}`);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(locate(name, 'ServiceAccount', `loadtest-${script}`).object).toMatchObject({ automountServiceAccountToken: false });
    });

    it('takes users, durations, thresholds and resources from the environment', () => {
      expect(valueOf(container, 'LOADTEST_VUS')).toBe(String(settings.vus));
      expect(valueOf(container, 'LOADTEST_RAMP_UP')).toBe(settings.rampUp);
      expect(valueOf(container, 'LOADTEST_HOLD')).toBe(settings.hold);
      expect(valueOf(container, 'LOADTEST_RAMP_DOWN')).toBe(settings.rampDown);
      expect(valueOf(container, 'LOADTEST_P95_MS')).toBe(String(settings.thresholds.p95Ms));
      expect(valueOf(container, 'LOADTEST_MAX_ERROR_RATE')).toBe(String(settings.thresholds.maxErrorRate));
      expect(valueOf(container, 'LOADTEST_ENVIRONMENT')).toBe(name);
      const resources = (container as unknown as { resources: { requests: Record<string, string>; limits: Record<string, string> } }).resources;
      expect(resources.requests.cpu).toBe(env.loadtest.resources.requests.cpu);
      expect(resources.limits.memory).toBe(env.loadtest.resources.limits.memory);
    });

    it("reaches Kong inside the cluster on its TLS port with the load tests' own key from a Secret, and names the run after the Job", () => {
      expect(valueOf(container, 'LOADTEST_BASE_URL')).toBe(`https://kong.${env.namespacePrefix}supabase.svc.cluster.local:8443`);
      expect(envOf(container).LOADTEST_ANON_KEY).toEqual({
        name: 'LOADTEST_ANON_KEY',
        valueFrom: { secretKeyRef: { name: 'supabase-jwt', key: 'loadtest-key' } },
      });
      expect(envOf(container).LOADTEST_RUN_ID!.valueFrom).toEqual({ fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } });
      for (const e of container.env) if (/KEY|PASSWORD/.test(e.name) && !e.name.startsWith('K6_')) expect(e.value, e.name).toBeUndefined();
    });

    it("may open connections to Kong's TLS port and Prometheus's port only, and admits none", () => {
      const policy = locate(name, 'NetworkPolicy', `loadtest-${script}`).object.spec as PolicySpec;
      expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(policy.ingress).toEqual([]);
      for (const [key, value] of Object.entries(policy.podSelector.matchLabels)) expect(spec.template.metadata.labels[key]).toBe(value);
      const egress = (policy.egress ?? []).map((r) => ({ ports: r.ports, to: r.to }));
      expect(egress).toEqual([
        {
          ports: [{ port: 8443, protocol: 'TCP' }],
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': `${env.namespacePrefix}supabase` } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'kong', 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': 'gateway' } },
            },
          ],
        },
        {
          ports: [{ port: 9090, protocol: 'TCP' }],
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': `${env.namespacePrefix}observability` } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
            },
          ],
        },
      ]);
    });
  });

  it("passes each script its own settings: channels, sign-in (the api test signs in the database test's users)", () => {
    const container = (script: string) => jobSpec(locate(name, 'Job', `loadtest-${script}`).object).template.spec.containers[0]!;
    const api = container('api');
    expect(valueOf(api, 'LOADTEST_AUTH_MODE')).toBe(env.loadtest.database.users);
    expect(valueOf(api, 'LOADTEST_EMAIL_DOMAIN')).toBe(env.loadtest.database.emailDomain);
    expect(valueOf(api, 'LOADTEST_USERS')).toBe(String(env.loadtest.database.vus));
    expect(envOf(api).LOADTEST_USER_PASSWORD).toEqual(envOf(container('database')).LOADTEST_USER_PASSWORD);
    expect(valueOf(container('realtime'), 'LOADTEST_CHANNEL_SIZE')).toBe(String(env.loadtest.realtime.channelSize));
    expect(valueOf(container('realtime'), 'LOADTEST_SESSION_SECONDS')).toBe(String(env.loadtest.realtime.sessionSeconds));
    const database = container('database');
    expect(valueOf(database, 'LOADTEST_AUTH_MODE')).toBe(env.loadtest.database.users);
    if (env.loadtest.database.users === 'password') {
      expect(envOf(database).LOADTEST_USER_PASSWORD!.valueFrom).toEqual({
        secretKeyRef: { name: LOADTEST_USERS_SECRET_NAME, key: 'password', optional: true },
      });
    } else {
      expect(envOf(database).LOADTEST_USER_PASSWORD).toBeUndefined();
    }
  });

  it('has Prometheus accept remote writes, from the load-test pods only besides its usual readers', () => {
    const sts = locate(name, 'StatefulSet', 'prometheus').object.spec as { template: { spec: { containers: { args: string[] }[] } } };
    expect(sts.template.spec.containers[0]!.args).toContain('--web.enable-remote-write-receiver');
    const policy = locate(name, 'NetworkPolicy', 'prometheus').object.spec as PolicySpec;
    const loadtestRule = (policy.ingress ?? []).filter((r) =>
      r.from?.some((p) => p.podSelector?.matchLabels['app.kubernetes.io/component'] === LOADTEST_COMPONENT),
    );
    expect(loadtestRule).toEqual([
      {
        ports: [{ port: 9090, protocol: 'TCP' }],
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': appNamespace } },
            podSelector: { matchLabels: { 'app.kubernetes.io/component': LOADTEST_COMPONENT, 'app.kubernetes.io/instance': name } },
          },
        ],
      },
    ]);
  });

  it("reads its key from the app namespace's one copy of supabase-jwt, which the app chart provides", () => {
    const { specs } = platformSecrets(environmentInput(name));
    const copies = specs.filter((s) => s.namespace === appNamespace && s.name === 'supabase-jwt');
    expect(copies).toHaveLength(1);
    expect(copies[0]!.keys.map((k) => k.key)).toEqual(expect.arrayContaining(['jwt-secret', 'loadtest-key']));
    // Two declarations of one Secret would overwrite each other's keys (CLI apply, ExternalSecret).
    const ids = specs.map((s) => `${s.namespace}/${s.name}`);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    if (env.secrets.source === 'external-secrets') {
      const external = objectsOf(name).filter(
        (l) => l.object.kind === 'ExternalSecret' && l.object.metadata.name === 'supabase-jwt' && l.object.metadata.namespace === appNamespace,
      );
      expect(external.map((l) => l.file)).toEqual([`app/ExternalSecret.${appNamespace}.supabase-jwt.yaml`]);
      expect((external[0]!.object.spec as { data: { secretKey: string }[] }).data.map((d) => d.secretKey)).toContain('loadtest-key');
    }
  });
});

describe('environment settings', () => {
  const dev = environmentInput('dev');
  const production = environmentInput('production');
  const jobEnv = (input: EnvironmentInput, script: string) => {
    const { manifests } = renderEnvironment(input);
    const job = parse(manifests.get(`on-demand/Job.app.loadtest-${script}.yaml`)!) as K8sObject;
    return Object.fromEntries(jobSpec(job).template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
  };

  it('carries a changed threshold into the Job', () => {
    const changed = structuredClone(dev) as EnvironmentInput & { loadtest: { api: Record<string, unknown> } };
    changed.loadtest.api.thresholds = { p95Ms: 123, maxErrorRate: 0.005 };
    const vars = jobEnv(changed, 'api');
    expect(vars.LOADTEST_P95_MS).toBe('123');
    expect(vars.LOADTEST_MAX_ERROR_RATE).toBe('0.005');
  });

  it("defaults to production's targets: 10,000 api users, 10,000 Realtime connections, 500 database users", () => {
    const env = environment('production');
    expect([env.loadtest.api.vus, env.loadtest.realtime.vus, env.loadtest.database.vus]).toEqual([10_000, 10_000, 500]);
    expect(env.loadtest.database.users).toBe('password');
  });

  it('refuses sign-up users where GoTrue mails a confirmation instead of answering with a session', () => {
    const signup = structuredClone(production) as EnvironmentInput & { loadtest: { database: Record<string, unknown> } };
    signup.loadtest.database = { users: 'signup' };
    expect(() => parseEnvironment(signup)).toThrow(/loadtest\.database\.users: "signup" needs GoTrue to confirm sign-ups itself/);
  });

  it('refuses a bad threshold, naming the field', () => {
    const bad = structuredClone(dev) as EnvironmentInput & { loadtest: { realtime: Record<string, unknown> } };
    bad.loadtest.realtime.thresholds = { p95Ms: 1000, maxErrorRate: 5 };
    expect(() => parseEnvironment(bad)).toThrow(/loadtest\.realtime\.thresholds\.maxErrorRate: must be below 1/);
  });

  it("counts one load-test pod in the app namespace's quota", () => {
    const big = structuredClone(dev) as EnvironmentInput & { loadtest: { resources: unknown } };
    big.loadtest.resources = {
      requests: { cpu: '2', memory: '1Gi', ephemeralStorage: '64Mi' },
      limits: { cpu: '2', memory: '1Gi', ephemeralStorage: '256Mi' },
    };
    expect(() => parseEnvironment(big)).toThrow(
      /namespaces\.app\.quota\.requests\.cpu: 400m is less than the \d+m the app pods need .*: load test 1 pod 2000m, api 13 pods/,
    );
  });
});

describe('run-k6.sh', () => {
  const runner = readFileSync(join(ROOT, 'charts/loadtest/files/run-k6.sh'), 'utf8');

  it('prints the exported summary between the markers the CLI looks for', () => {
    expect(runner).toContain(`echo '${LOADTEST_SUMMARY_MARKERS.begin}'`);
    expect(runner).toContain(`echo '${LOADTEST_SUMMARY_MARKERS.end}'`);
    expect(runner).toContain('cat "$summary"');
  });
});
