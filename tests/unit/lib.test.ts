// The lib/ helpers: what a hardened pod spec, availability and output writing produce.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { describe, expect, it } from 'vitest';
import { availability } from '../../lib/availability';
import { parseEnvironment } from '../../environments/schema';
import { staging } from '../../environments/staging';
import { PlatformChart } from '../../lib/chart';
import { platformContext } from '../../lib/context';
import { IMAGES, imageRef } from '../../lib/images';
import { Job, ScheduledJob } from '../../lib/job';
import { standardLabels, selectorLabels } from '../../lib/labels';
import { OUTPUT_MARKER, renderApp, writeOutput } from '../../lib/output';
import { hardenedPodSpec, withExemptions } from '../../lib/pod';
import { EXEMPTION_PREFIX, POLICY_EXCEPTIONS } from '../../lib/exemptions';
import { podSecurityContext } from '../../lib/security';
import { withContainerPorts } from '../../lib/workload';

const STAGING_PLATFORM = platformContext(parseEnvironment(staging));

const RESOURCES = {
  requests: { cpu: '100m', memory: '128Mi', ephemeralStorage: '64Mi' },
  limits: { cpu: '1', memory: '1Gi', ephemeralStorage: '1Gi' },
};

describe('hardenedPodSpec', () => {
  const spec = hardenedPodSpec({
    serviceAccountName: 'kong',
    identity: { uid: 10002, gid: 10003 },
    containers: [
      { name: 'kong', image: IMAGES.kong, resources: RESOURCES, writablePaths: [{ path: '/usr/local/kong', sizeLimit: '256Mi' }, { path: '/tmp' }] },
    ],
  });
  const container = spec.containers[0]!;

  it('applies the restricted profile to pod and container', () => {
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10002,
      runAsGroup: 10003,
      fsGroup: 10003,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      runAsUser: 10002,
    });
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  it('gives each writable path its own emptyDir with a size limit', () => {
    expect(container.volumeMounts).toEqual([
      { name: 'kong-usr-local-kong', mountPath: '/usr/local/kong' },
      { name: 'kong-tmp', mountPath: '/tmp' },
    ]);
    expect(spec.volumes?.map((v) => [v.name, v.emptyDir?.sizeLimit?.value])).toEqual([
      ['kong-usr-local-kong', '256Mi'],
      ['kong-tmp', '64Mi'],
    ]);
  });

  it('writes resources exactly as the environment gives them', () => {
    expect(container.resources?.requests?.['ephemeral-storage']?.value).toBe('64Mi');
    expect(container.resources?.limits?.cpu?.value).toBe('1');
  });

  it('mounts a token only through the named exception', () => {
    const withApi = hardenedPodSpec({ serviceAccountName: 'x', containers: [], kubernetesApiAccess: true });
    expect(withApi.automountServiceAccountToken).toBe(true);
    expect(hardenedPodSpec({ serviceAccountName: 'x', containers: [] }).automountServiceAccountToken).toBe(false);
  });

  it('takes an exception only where lib/exemptions.ts declares it, with its reason', () => {
    expect(withExemptions({ name: 'prometheus', annotations: {} }, { kubernetesApiAccess: true }).annotations).toEqual({
      [`${EXEMPTION_PREFIX}service-account-token`]: POLICY_EXCEPTIONS.prometheus!['service-account-token'],
    });
    expect(() => withExemptions({ name: 'api' }, { kubernetesApiAccess: true })).toThrow(
      /api takes an exception to the policy rule service-account-token, which lib\/exemptions.ts POLICY_EXCEPTIONS does not declare/,
    );
  });

  it('refuses root', () => {
    expect(() => podSecurityContext({ uid: 0 })).toThrow(/uid 0 is not a non-root ID/);
  });
});

describe('availability', () => {
  const render = (replicas: number, disruption?: { maxUnavailable: number } | { minAvailable: number }) => {
    const chart = Testing.chart();
    const placement = availability(chart, { workload: { replicas, disruption }, selector: { a: 'b' }, metadata: { name: 'api', namespace: 'app' } });
    return { placement, objects: Testing.synth(chart) };
  };

  it('adds nothing for a single replica', () => {
    const { placement, objects } = render(1);
    expect(placement).toEqual({});
    expect(objects).toEqual([]);
  });

  it('adds a PDB, anti-affinity and zone spread for several replicas', () => {
    const { placement, objects } = render(3, { minAvailable: 2 });
    expect(objects).toEqual([
      expect.objectContaining({
        kind: 'PodDisruptionBudget',
        spec: { selector: { matchLabels: { a: 'b' } }, minAvailable: 2, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
      }),
    ]);
    expect(placement.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm.topologyKey).toBe(
      'kubernetes.io/hostname',
    );
    expect(placement.topologySpreadConstraints?.[0]?.topologyKey).toBe('topology.kubernetes.io/zone');
  });
});

describe('labels and images', () => {
  it('selects only by the stable subset', () => {
    const spec = { name: 'kong', component: 'gateway', instance: 'dev', version: '3.9.1' };
    expect(Object.keys(standardLabels(spec))).toHaveLength(6);
    expect(selectorLabels(spec)).not.toHaveProperty(['app.kubernetes.io/version']);
  });

  it('pins every image to an exact version', () => {
    for (const [name, image] of Object.entries(IMAGES)) {
      expect(image.tag, name).toMatch(/\d+\.\d+/);
      expect(image.tag, name).not.toBe('latest');
    }
    expect(imageRef({ repository: 'docker.io/x/y', tag: '1.2.3', digest: `sha256:${'a'.repeat(64)}` })).toBe(`docker.io/x/y:1.2.3@sha256:${'a'.repeat(64)}`);
  });
});

describe('output', () => {
  class Sample extends PlatformChart {}

  it('writes one file per object into its layer folder and refuses a folder synth did not write', () => {
    const app = new App({ outdir: 'unused' });
    const chart = new Sample(app, 'x', { layer: 'data', platform: STAGING_PLATFORM });
    new k8s.KubeConfigMap(chart, 'cm', { metadata: chart.metadata({ objectName: 'settings', namespace: 'supabase', name: 'x', component: 'y' }) });
    const files = renderApp(app);
    expect([...files.keys()]).toEqual(['data/ConfigMap.supabase.settings.yaml']);

    const dir = mkdtempSync(join(tmpdir(), 'synth-'));
    writeOutput(dir, new Map([['dev', files]]));
    expect(readFileSync(join(dir, 'dev/data/ConfigMap.supabase.settings.yaml'), 'utf8')).toContain('name: settings');
    expect(existsSync(join(dir, OUTPUT_MARKER))).toBe(true);

    // A second synth: unchanged files stay as they are, files no longer produced go, and so do
    // the folders they leave empty.
    const kept = join(dir, 'dev/data/ConfigMap.supabase.settings.yaml');
    const before = statSync(kept).mtimeMs;
    writeFileSync(join(dir, 'dev/data/Stale.supabase.old.yaml'), 'old');
    mkdirSync(join(dir, 'staging/gone'), { recursive: true });
    writeFileSync(join(dir, 'staging/gone/Old.yaml'), 'old');
    writeOutput(dir, new Map([['dev', files]]));
    expect(statSync(kept).mtimeMs).toBe(before);
    expect(existsSync(join(dir, 'dev/data/Stale.supabase.old.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'staging'))).toBe(false);

    const foreign = mkdtempSync(join(tmpdir(), 'foreign-'));
    mkdirSync(join(foreign, 'keep'));
    writeFileSync(join(foreign, 'keep/data.txt'), 'precious');
    expect(() => writeOutput(foreign, new Map())).toThrow(/refusing to clear .*not written by synth/);
    expect(readFileSync(join(foreign, 'keep/data.txt'), 'utf8')).toBe('precious');
  });

  it('rejects two objects with the same kind, namespace and name', () => {
    const app = new App({ outdir: 'unused' });
    const a = new Sample(app, 'a', { layer: 'data', platform: STAGING_PLATFORM });
    const b = new Sample(app, 'b', { layer: 'data', platform: STAGING_PLATFORM });
    new k8s.KubeConfigMap(a, 'cm', { metadata: { name: 'same', namespace: 'supabase' } });
    new k8s.KubeConfigMap(b, 'cm', { metadata: { name: 'same', namespace: 'supabase' } });
    expect(() => renderApp(app)).toThrow(/a\/cm and b\/cm|b\/cm and a\/cm/);
  });
});

describe('workload kit: Jobs and container ports', () => {
  const platform = platformContext(parseEnvironment(staging));
  const pod = {
    containers: [
      { name: 'main', image: IMAGES.kong, resources: RESOURCES },
      { name: 'side', image: IMAGES.kong, resources: RESOURCES },
    ],
  };

  it('gives each container the Service ports it serves, before the ones it declares itself', () => {
    const own = { ...pod, containers: [pod.containers[0]!, { ...pod.containers[1]!, ports: [{ name: 'health', containerPort: 9 }] }] };
    const ports = withContainerPorts(own, [
      { name: 'http', port: 80 },
      { name: 'metrics', port: 90, container: 'side' },
    ]).containers.map((c) => c.ports);
    expect(ports).toEqual([
      [{ name: 'http', containerPort: 80 }],
      [
        { name: 'metrics', containerPort: 90 },
        { name: 'health', containerPort: 9 },
      ],
    ]);
    expect(() => withContainerPorts(pod, [{ name: 'http', port: 80, container: 'none' }])).toThrow('no container none');
    const twice = { ...pod, containers: [{ ...pod.containers[0]!, ports: [{ name: 'http', containerPort: 80 }] }] };
    expect(() => withContainerPorts(twice, [{ name: 'http', port: 80 }])).toThrow('declares port http');
  });

  it('puts an on-demand Job in one chart and its ServiceAccount and NetworkPolicy in another', () => {
    const app = Testing.app();
    const onDemand = new PlatformChart(app, 'jobs', { layer: 'on-demand', platform });
    const support = new PlatformChart(app, 'support', { layer: 'backup', platform });
    const job = new Job(support, 'restore', {
      name: 'restore',
      component: 'restore',
      namespace: 'ns',
      version: '1',
      activeDeadlineSeconds: 60,
      jobObject: { scope: onDemand, id: 'restore' },
      pod,
      network: { ingress: [], egress: [] },
    });
    const [object] = Testing.synth(onDemand) as {
      kind: string;
      spec: { backoffLimit: number; template: { spec: { restartPolicy: string; serviceAccountName: string } } };
    }[];
    expect(object?.kind).toBe('Job');
    expect(object?.spec.backoffLimit).toBe(0);
    expect(object?.spec.template.spec).toMatchObject({ restartPolicy: 'Never', serviceAccountName: job.serviceAccountName });
    expect(
      Testing.synth(support)
        .map((o) => o.kind)
        .sort(),
    ).toEqual(['NetworkPolicy', 'ServiceAccount']);
  });

  it('runs a CronJob never twice at once, in UTC, with its policy exemption on the CronJob', () => {
    const chart = new PlatformChart(Testing.app(), 'backup', { layer: 'backup', platform });
    // A name lib/exemptions.ts declares the token exception for.
    new ScheduledJob(chart, 'volume-snapshots', {
      name: 'volume-snapshots',
      component: 'backup',
      namespace: 'ns',
      version: '1',
      schedule: '0 2 * * *',
      activeDeadlineSeconds: 60,
      pod: { ...pod, kubernetesApiAccess: true },
      network: { ingress: [], egress: [] },
    });
    const cron = Testing.synth(chart).find((o) => o.kind === 'CronJob') as {
      metadata: { annotations?: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(cron.spec).toMatchObject({ schedule: '0 2 * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid' });
    expect(Object.keys(cron.metadata.annotations ?? {}).some((k) => k.startsWith(EXEMPTION_PREFIX))).toBe(true);
  });
});
