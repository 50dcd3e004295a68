// The product's chart: the api's Rollout and its canary, the worker, the scheduler that never
// runs twice, their wiring to the pooler, Redis and Kong, and the images the environments pin.
import { describe, expect, it } from 'vitest';
import { canaryTimeline } from '../../charts/app/canary';
import { durationSeconds } from '../../environments/app';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { rolloutWeights } from '../../lib/facts/canary';
import { imageRef, parseImageRef } from '../../lib/images';
import { environment, find, objectsOf, tryFind } from '../helpers';

type Obj = any; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each(ENVIRONMENT_NAMES)('app chart in %s', (env) => {
  const rollout = () => find<Obj>(env, 'Rollout', 'api', 'app');
  const steps = () => rollout().spec.strategy.canary.steps as Obj[];

  it('releases the api by canary: weights rise to 100, every pause has a duration', () => {
    const cfg = environment(env).app.canary;
    const weights = steps()
      .filter((s) => 'setWeight' in s)
      .map((s) => s.setWeight);
    expect(weights).toEqual(rolloutWeights(cfg.steps));
    expect(weights.at(-1)).toBe(100);
    for (let i = 1; i < weights.length; i++) expect(weights[i]).toBeGreaterThan(weights[i - 1]);
    expect(steps().map((s) => Object.keys(s)[0])).toEqual(['setWeight', 'pause', 'setWeight', 'pause', 'setWeight']);
    for (const s of steps().filter((x) => 'pause' in x)) expect(s.pause.duration).toMatch(/^\d+(s|m|h)$/);
    expect(
      steps()
        .filter((x) => 'pause' in x)
        .map((x) => x.pause.duration),
    ).toEqual(cfg.steps.map((x) => x.pause));
  });

  it('runs the analysis in the background from the first step, on the canary hash', () => {
    const analysis = rollout().spec.strategy.canary.analysis;
    expect(analysis.startingStep).toBe(1);
    expect(analysis.templates).toEqual([{ templateName: 'api-canary' }]);
    expect(analysis.args).toEqual([{ name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } }]);
    expect(find<Obj>(env, 'AnalysisTemplate', 'api-canary', 'app')).toBeDefined();
    expect(rollout().spec.progressDeadlineAbort).toBe(true);
    // No traffic router and no canary/stable Services: Kong cannot route by version, so Argo Rollouts
    // weights by pod count (https://argoproj.github.io/argo-rollouts/features/canary/#overview).
    expect(rollout().spec.strategy.canary.trafficRouting).toBeUndefined();
    expect(rollout().spec.strategy.canary.canaryService).toBeUndefined();
  });

  it('lets the HPA own the api replica count and target the Rollout', () => {
    const cfg = environment(env).app.api;
    const hpa = tryFind<Obj>(env, 'HorizontalPodAutoscaler', 'api', 'app');
    if (cfg.autoscaling) {
      expect(rollout().spec.replicas).toBeUndefined();
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'api' });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(10);
    } else {
      expect(hpa).toBeUndefined();
      expect(rollout().spec.replicas).toBeGreaterThanOrEqual(10);
    }
    expect(find<Obj>(env, 'PodDisruptionBudget', 'api', 'app').spec.selector.matchLabels).toEqual(rollout().spec.selector.matchLabels);
  });

  it('runs the images of the release file, by digest outside dev', () => {
    const releases = environment(env).app.releases;
    for (const [component, kind] of [
      ['api', 'Rollout'],
      ['worker', 'Deployment'],
      ['scheduler', 'Deployment'],
    ] as const) {
      const image = find<Obj>(env, kind, component, 'app').spec.template.spec.containers[0].image;
      expect(image).toBe(releases[component]);
      if (env !== 'dev') expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
    }
  });

  it('pulls the product images IfNotPresent only where they are local builds loaded onto the nodes (dev)', () => {
    expect(environment(env).app.localImages).toBe(env === 'dev');
    for (const [component, kind] of [
      ['api', 'Rollout'],
      ['worker', 'Deployment'],
      ['scheduler', 'Deployment'],
    ] as const) {
      const container = find<Obj>(env, kind, component, 'app').spec.template.spec.containers[0];
      expect(container.imagePullPolicy, component).toBe(env === 'dev' ? 'IfNotPresent' : 'Always');
    }
  });

  it('keeps exactly one scheduler: one replica, Recreate, no HPA', () => {
    const scheduler = find<Obj>(env, 'Deployment', 'scheduler', 'app');
    expect(scheduler.spec.replicas).toBe(1);
    expect(scheduler.spec.strategy).toEqual({ type: 'Recreate' });
    expect(tryFind(env, 'HorizontalPodAutoscaler', 'scheduler', 'app')).toBeUndefined();
    expect(find<Obj>(env, 'PodDisruptionBudget', 'scheduler', 'app')).toBeDefined();
  });

  it('writes through the rw pooler and reads through the ro pooler, as defi_app over verified TLS, password by reference', () => {
    const reads = env === 'dev' ? 'postgres-pooler-rw' : 'postgres-pooler-ro';
    for (const [name, kind] of [
      ['api', 'Rollout'],
      ['worker', 'Deployment'],
      ['scheduler', 'Deployment'],
    ] as const) {
      const pod = find<Obj>(env, kind, name, 'app').spec.template;
      const vars = Object.fromEntries(pod.spec.containers[0].env.map((e: Obj) => [e.name, e.value ?? e.valueFrom]));
      const tls = 'sslmode=verify-full&sslrootcert=/etc/postgres-ca/ca.crt';
      expect(vars.DATABASE_URL).toBe(`postgres://defi_app:$(DATABASE_PASSWORD)@postgres-pooler-rw.supabase.svc.cluster.local:5432/postgres?${tls}`);
      expect(vars.DATABASE_READ_URL).toBe(`postgres://defi_app:$(DATABASE_PASSWORD)@${reads}.supabase.svc.cluster.local:5432/postgres?${tls}`);
      expect(vars.DATABASE_PASSWORD).toEqual({ secretKeyRef: { name: 'postgres-role-defi-app', key: 'password' } });
      expect(vars.REDIS_PASSWORD).toEqual({ secretKeyRef: { name: 'redis-credentials', key: 'redis-password' } });
      expect(pod.spec.volumes.find((v: Obj) => v.name === 'postgres-ca').secret.secretName).toBe('postgres-ca-bundle');
      expect(pod.metadata.labels['access.supabase-platform/postgres-pooler-rw']).toBe('true');
      expect(pod.metadata.labels['access.supabase-platform/postgres']).toBeUndefined();
      const egress = find<Obj>(env, 'NetworkPolicy', name, 'app').spec.egress as Obj[];
      expect(egress.some((r) => r.to[0].podSelector?.matchLabels?.['cnpg.io/podRole'] === 'instance')).toBe(false);
      expect(egress.some((r) => r.ports[0].port === 5432 && r.to[0].podSelector.matchLabels['cnpg.io/poolerName'] === 'postgres-pooler-rw')).toBe(true);
    }
  });

  it('admits only Kong to the api and Prometheus to the metrics ports', () => {
    const ingress = find<Obj>(env, 'NetworkPolicy', 'api', 'app').spec.ingress as Obj[];
    expect(ingress.map((r) => [r.ports[0].port, r.from[0].podSelector.matchLabels['app.kubernetes.io/name']])).toEqual([
      [8080, 'kong'],
      [9090, 'prometheus'],
    ]);
    const kongEgress = find<Obj>(env, 'NetworkPolicy', 'kong', 'supabase').spec.egress as Obj[];
    expect(kongEgress.some((r) => r.ports[0].port === 8080 && r.to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'] === 'app')).toBe(true);
  });

  it('lets only the worker and scheduler call the internet, on 443, never private ranges', () => {
    const internet = (name: string) => (find<Obj>(env, 'NetworkPolicy', name, 'app').spec.egress as Obj[]).filter((r) => r.to.some((p: Obj) => p.ipBlock));
    expect(internet('api')).toEqual([]);
    for (const name of ['worker', 'scheduler']) {
      const rules = internet(name);
      expect(rules.map((r) => r.ports[0].port)).toEqual([443]);
      expect(rules[0].to[0].ipBlock.except).toEqual(expect.arrayContaining(['10.0.0.0/8', '169.254.169.254/32']));
    }
  });

  it('syncs the Rollout last in its Application (a paused Rollout holds later waves)', () => {
    const waves = objectsOf(env)
      .filter((l) => l.file.startsWith('app/'))
      .map((l) => Number(l.object.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0));
    expect(Number(rollout().metadata.annotations['argocd.argoproj.io/sync-wave'])).toBe(Math.max(...waves));
  });
});

describe('canary timing and image references', () => {
  it('reads pause durations', () => {
    expect([durationSeconds('90s'), durationSeconds('10m'), durationSeconds('1h')]).toEqual([90, 600, 3600]);
  });

  it('lays out the release: 1 of 10 pods at once, 5 after the first pause, all after the second', () => {
    const canary = environment('production').app.canary;
    expect(canaryTimeline(canary, 10)).toEqual([
      { weight: 10, atMinute: 0, canaryPods: 1, pods: 10 },
      { weight: 50, atMinute: 10, canaryPods: 5, pods: 10 },
      { weight: 100, atMinute: 30, canaryPods: 10, pods: 10 },
    ]);
  });

  it('splits and rebuilds image references', () => {
    for (const ref of [
      'ghcr.io/a/api:1.2.3',
      'ghcr.io/a/api@sha256:' + 'a'.repeat(64),
      'ghcr.io/a/api:1.2.3@sha256:' + 'b'.repeat(64),
      'registry.local:5000/a/api:2',
    ]) {
      expect(imageRef(parseImageRef(ref))).toBe(ref);
    }
    expect(parseImageRef('registry.local:5000/a/api@sha256:' + 'c'.repeat(64))).toEqual({
      repository: 'registry.local:5000/a/api',
      digest: 'sha256:' + 'c'.repeat(64),
    });
  });
});
