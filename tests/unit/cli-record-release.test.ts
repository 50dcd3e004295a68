// `record-release`: what proves that staging's release completed. Each check is shown to bite
// by changing one field of a completed Rollout or Deployment (built from staging's synthesised
// object plus the status its controller writes); realistic aborted, paused and degraded
// Rollouts are refused; the record keeps a bounded history; and a run into a scratch copy of the
// release files writes the record only when the object proves the release, nothing otherwise.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  addCompleted,
  checkCompletion,
  COMPLETED_FILE,
  type CompletedRelease,
  CompletedReleases,
  EMPTY_RECORD,
  RECORD_LIMIT,
  recordReleaseCommand,
} from '../../cli/record-release';
import { ROOT } from '../helpers';

/** An object as kubectl prints it: untyped JSON the tests change field by field. */
type Obj = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const digest = (n: number) => `sha256:${n.toString(16).padStart(4, '0').repeat(16)}`;
const API = `ghcr.io/example-defi/api:1.4.0@${digest(1)}`;
const WORKER = `ghcr.io/example-defi/worker:1.4.0@${digest(2)}`;
const STABLE = '6d4f8b9c7';

/** staging's synthesised object, as the cluster holds it once its controller has acted. */
function synthesised(file: string, image: string): Obj {
  const object = parse(readFileSync(join(ROOT, 'dist', 'staging', 'app', file), 'utf8'));
  object.spec.template.spec.containers[0].image = image;
  object.metadata.generation = 7;
  return object;
}

/** The api's Rollout after a canary that ran every step (Argo Rollouts v1.9 status). */
function completedRollout(image = API): Obj {
  const object = synthesised('Rollout.app.api.yaml', image);
  object.metadata.annotations['rollout.argoproj.io/revision'] = '12';
  object.status = {
    phase: 'Healthy',
    observedGeneration: '7',
    currentPodHash: STABLE,
    stableRS: STABLE,
    currentStepIndex: object.spec.strategy.canary.steps.length,
    currentStepHash: '5f8c7d9b4',
    replicas: 10,
    updatedReplicas: 10,
    readyReplicas: 10,
    availableReplicas: 10,
    HPAReplicas: 10,
    conditions: [
      { type: 'Available', status: 'True', reason: 'AvailableReason', lastTransitionTime: '2026-03-02T10:01:00Z', lastUpdateTime: '2026-03-02T10:01:00Z' },
      {
        type: 'Progressing',
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        lastTransitionTime: '2026-03-02T10:00:00Z',
        lastUpdateTime: '2026-03-02T10:15:00Z',
      },
      { type: 'Completed', status: 'True', reason: 'RolloutCompleted', lastTransitionTime: '2026-03-02T10:15:00Z', lastUpdateTime: '2026-03-02T10:15:00Z' },
      { type: 'Healthy', status: 'True', reason: 'RolloutHealthy', lastTransitionTime: '2026-03-02T10:15:00Z', lastUpdateTime: '2026-03-02T10:15:00Z' },
    ],
  };
  return object;
}

/** The worker's Deployment after a finished rolling update. */
function completedDeployment(image = WORKER): Obj {
  const object = synthesised('Deployment.app.worker.yaml', image);
  object.metadata.annotations = { 'deployment.kubernetes.io/revision': '4' };
  object.spec.replicas = 3;
  object.status = {
    observedGeneration: 7,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    conditions: [
      {
        type: 'Available',
        status: 'True',
        reason: 'MinimumReplicasAvailable',
        lastTransitionTime: '2026-03-01T08:00:00Z',
        lastUpdateTime: '2026-03-01T08:00:00Z',
      },
      {
        type: 'Progressing',
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        lastTransitionTime: '2026-03-01T08:00:00Z',
        lastUpdateTime: '2026-03-02T11:04:00Z',
      },
    ],
  };
  return object;
}

const reasons = (object: unknown, component: 'api' | 'worker' | 'scheduler', image: string) => {
  const c = checkCompletion(object, component, image);
  return c.completed ? [] : c.reasons;
};

describe('a Rollout proves a completed canary', () => {
  it('accepts a canary that ran every step, with its evidence', () => {
    const rollout = completedRollout();
    expect(rollout.spec.strategy.canary.steps).toHaveLength(5);
    expect(checkCompletion(rollout, 'api', API)).toEqual({
      completed: true,
      completedAt: '2026-03-02T10:15:00Z',
      evidence: { kind: 'Rollout', namespace: 'app', name: 'api', generation: 7, revision: '12', podTemplateHash: STABLE, steps: 5, replicas: 10 },
    });
  });

  // One field at a time, from a completed Rollout: each check alone refuses.
  it.each([
    ['phase Degraded', (r: Obj) => (r.status.phase = 'Degraded'), 'status.phase is "Degraded", not "Healthy"'],
    ['aborted', (r: Obj) => (r.status.abort = true), 'status.abort is true'],
    ['stable ReplicaSet is the old one', (r: Obj) => (r.status.stableRS = '5c9a7e8f1'), 'status.stableRS is "5c9a7e8f1", status.currentPodHash "6d4f8b9c7"'],
    ['no stable ReplicaSet yet', (r: Obj) => delete r.status.stableRS, 'status.stableRS is missing'],
    ['a step left to run', (r: Obj) => (r.status.currentStepIndex = 4), 'status.currentStepIndex is 4 of 5 canary steps'],
    ['no step index', (r: Obj) => delete r.status.currentStepIndex, 'status.currentStepIndex is missing of 5 canary steps'],
    ['no canary steps', (r: Obj) => delete r.spec.strategy.canary.steps, 'spec.strategy.canary.steps is missing'],
    ['a newer spec not yet observed', (r: Obj) => (r.metadata.generation = 8), 'status.observedGeneration is "7", metadata.generation 8'],
    ['Completed condition False', (r: Obj) => (r.status.conditions[2].status = 'False'), 'the Completed condition is not True'],
    [
      "production's Rollout",
      (r: Obj) => (r.metadata.labels['app.kubernetes.io/instance'] = 'production'),
      'the label app.kubernetes.io/instance is "production", not staging',
    ],
    ['another name', (r: Obj) => (r.metadata.name = 'api-v2'), 'metadata.name is "api-v2", not api'],
    ['no api container', (r: Obj) => (r.spec.template.spec.containers[0].name = 'app'), 'spec.template has no container named api'],
  ])('refuses it when %s', (_, change, reason) => {
    const rollout = completedRollout();
    change(rollout);
    expect(reasons(rollout, 'api', API)).toEqual([expect.stringContaining(reason)]);
  });

  it("refuses a Rollout whose image is not staging's release", () => {
    const other = `ghcr.io/example-defi/api:1.3.9@${digest(9)}`;
    expect(reasons(completedRollout(other), 'api', API)).toEqual([`the api container runs "${other}", not staging's release ${API}`]);
  });

  it('refuses an aborted canary as Argo Rollouts leaves it', () => {
    const rollout = completedRollout();
    Object.assign(rollout.status, {
      phase: 'Degraded',
      message: 'RolloutAborted: Rollout aborted update to revision 12: Metric "error-ratio" assessed Failed',
      abort: true,
      abortedAt: '2026-03-02T10:06:00Z',
      stableRS: '5c9a7e8f1',
      currentStepIndex: 0,
    });
    rollout.status.conditions[2] = { type: 'Completed', status: 'False', reason: 'RolloutCompleted', lastTransitionTime: '2026-03-02T10:00:00Z' };
    const found = reasons(rollout, 'api', API);
    expect(found.join('\n')).toContain('status.phase is "Degraded" (RolloutAborted: Rollout aborted update to revision 12');
    expect(found.join('\n')).toContain('status.abort is true');
    expect(found.join('\n')).toContain('status.currentStepIndex is 0 of 5');
  });

  it('refuses a canary still in progress (paused at 10%)', () => {
    const rollout = completedRollout();
    Object.assign(rollout.status, {
      phase: 'Paused',
      message: 'CanaryPauseStep',
      stableRS: '5c9a7e8f1',
      currentStepIndex: 1,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-03-02T10:01:00Z' }],
    });
    const found = reasons(rollout, 'api', API);
    expect(found).toHaveLength(3);
    expect(found[0]).toBe('status.phase is "Paused" (CanaryPauseStep), not "Healthy"');
    expect(found[2]).toBe('status.currentStepIndex is 1 of 5 canary steps: the canary has not run every step');
  });

  it('refuses a Deployment for the api, and anything that is not an object', () => {
    expect(reasons(completedDeployment(API), 'api', API)[0]).toMatch(/^the object is a Deployment, not api's Rollout/);
    expect(reasons([], 'api', API)[0]).toMatch(/^the object is not an object/);
  });
});

describe('a Deployment proves a completed rollout (worker, scheduler)', () => {
  it('accepts a finished rolling update, with its evidence', () => {
    expect(checkCompletion(completedDeployment(), 'worker', WORKER)).toEqual({
      completed: true,
      completedAt: '2026-03-02T11:04:00Z',
      evidence: { kind: 'Deployment', namespace: 'app', name: 'worker', generation: 7, revision: '4', replicas: 3 },
    });
  });

  it.each([
    ['pods not yet updated', (d: Obj) => (d.status.updatedReplicas = 2), 'status.updatedReplicas is 2, not spec.replicas 3'],
    ['old pods still running', (d: Obj) => (d.status.replicas = 4), 'status.replicas is 4, not spec.replicas 3'],
    ['pods not yet available', (d: Obj) => (d.status.availableReplicas = 2), 'status.availableReplicas is 2, not spec.replicas 3'],
    ['a newer spec not yet observed', (d: Obj) => (d.status.observedGeneration = 6), 'status.observedGeneration is 6, metadata.generation 7'],
    [
      'the progress deadline passed',
      (d: Obj) => Object.assign(d.status.conditions[1], { status: 'False', reason: 'ProgressDeadlineExceeded' }),
      'the Progressing condition is "False" with reason "ProgressDeadlineExceeded"',
    ],
    [
      'still progressing',
      (d: Obj) => (d.status.conditions[1].reason = 'ReplicaSetUpdated'),
      'with reason "ReplicaSetUpdated", not True with reason "NewReplicaSetAvailable"',
    ],
    [
      'scaled to zero',
      (d: Obj) => Object.assign(d.spec, { replicas: 0 }) && Object.assign(d.status, { replicas: 0, updatedReplicas: 0, availableReplicas: 0 }),
      'spec.replicas is 0: a Deployment without pods proves nothing',
    ],
  ])('refuses it when %s', (_, change, reason) => {
    const deployment = completedDeployment();
    change(deployment);
    expect(reasons(deployment, 'worker', WORKER)).toEqual([expect.stringContaining(reason)]);
  });

  it("refuses a Deployment whose image is not staging's release", () => {
    expect(reasons(completedDeployment(`ghcr.io/example-defi/worker:1.3.0@${digest(8)}`), 'worker', WORKER)[0]).toContain("not staging's release");
  });

  it("checks the scheduler's own container", () => {
    const image = `ghcr.io/example-defi/scheduler:1.4.0@${digest(3)}`;
    const scheduler = synthesised('Deployment.app.scheduler.yaml', image);
    scheduler.spec.replicas = 1;
    scheduler.status = { ...completedDeployment().status, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 };
    expect(checkCompletion(scheduler, 'scheduler', image)).toMatchObject({ completed: true, evidence: { kind: 'Deployment', name: 'scheduler', replicas: 1 } });
    expect(reasons(scheduler, 'scheduler', WORKER)[0]).toBe(`the scheduler container runs "${image}", not staging's release ${WORKER}`);
  });
});

describe('the record', () => {
  const entry = (n: number): CompletedRelease => ({
    image: `ghcr.io/example-defi/api:1.${n}.0@${digest(n)}`,
    completedAt: '2026-03-02T10:15:00Z',
    recordedAt: '2026-03-02T10:20:00.000Z',
    evidence: { kind: 'Rollout', namespace: 'app', name: 'api', generation: n, podTemplateHash: STABLE, steps: 5, replicas: 10 },
  });

  it('puts the newest completed release first, once, and keeps the last RECORD_LIMIT', () => {
    let record = EMPTY_RECORD;
    for (let n = 1; n <= RECORD_LIMIT + 2; n++) record = addCompleted(record, 'api', entry(n)).record;
    expect(record.api.map((e) => e.evidence.generation)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
    expect(record.worker).toEqual([]);
    expect(addCompleted(record, 'api', { ...entry(12), recordedAt: '2026-03-03T00:00:00.000Z' })).toEqual({ record, changed: false });
    // staging went back to an older image and it completed again: it moves to the front, once.
    const again = addCompleted(record, 'api', { ...entry(5), completedAt: '2026-03-04T09:00:00Z' }).record.api;
    expect(again.map((e) => e.evidence.generation)).toEqual([5, 12, 11, 10, 9, 8, 7, 6, 4, 3]);
    expect(again[0]!.completedAt).toBe('2026-03-04T09:00:00Z');
  });

  it(`the repository's ${COMPLETED_FILE} parses`, () => {
    expect(CompletedReleases.safeParse(JSON.parse(readFileSync(join(ROOT, COMPLETED_FILE), 'utf8'))).success).toBe(true);
    expect(CompletedReleases.safeParse({ ...EMPTY_RECORD, api: Array.from({ length: RECORD_LIMIT + 1 }, (_, i) => entry(i + 1)) }).success).toBe(false);
  });
});

describe('record-release into a scratch copy of the release files', () => {
  const root = mkdtempSync(join(tmpdir(), 'record-release-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const file = join(root, COMPLETED_FILE);
  const staging = join(root, 'environments', 'releases', 'staging.json');
  const now = () => new Date('2026-03-02T10:20:00Z');

  beforeEach(() => {
    rmSync(join(root, 'environments'), { recursive: true, force: true });
    mkdirSync(join(root, 'environments'), { recursive: true });
    cpSync(join(ROOT, 'environments', 'releases'), join(root, 'environments', 'releases'), { recursive: true });
    const releases = JSON.parse(readFileSync(staging, 'utf8'));
    writeFileSync(staging, JSON.stringify({ ...releases, api: API, worker: WORKER }));
  });

  const run = (argv: string[], object: unknown) => {
    const lines: string[] = [];
    const read = (path: string) => {
      expect(path).toBe(argv[argv.indexOf('--object') + 1]);
      return typeof object === 'string' ? object : JSON.stringify(object);
    };
    recordReleaseCommand(argv, { root, now, read, out: (l) => lines.push(l) });
    return lines;
  };

  it("records staging's completed canary, read from standard input", () => {
    const lines = run(['--component', 'api', '--object', '-'], completedRollout());
    expect(lines).toEqual([
      `staging api: recorded ${API} as completed at 2026-03-02T10:15:00Z (Rollout app/api generation 7, revision 12, stable ${STABLE}, 5 of 5 steps, 10 pods) in ${COMPLETED_FILE}`,
    ]);
    const record = CompletedReleases.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(record.api).toEqual([
      {
        image: API,
        completedAt: '2026-03-02T10:15:00Z',
        recordedAt: '2026-03-02T10:20:00.000Z',
        evidence: { kind: 'Rollout', namespace: 'app', name: 'api', generation: 7, revision: '12', podTemplateHash: STABLE, steps: 5, replicas: 10 },
      },
    ]);
    expect(record.worker).toEqual([]);
    // Recording it again writes nothing.
    const before = readFileSync(file, 'utf8');
    expect(run(['--component', 'api', '--object', '-'], completedRollout())[0]).toContain('is already the last completed release');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it("records the worker's completed Deployment from a file", () => {
    run(['--component', 'worker', '--object', 'worker.json'], completedDeployment());
    expect(JSON.parse(readFileSync(file, 'utf8')).worker[0].image).toBe(WORKER);
  });

  it.each([
    [
      'an aborted canary',
      () => Object.assign(completedRollout(), { status: { ...completedRollout().status, abort: true, phase: 'Degraded' } }),
      'status.abort is true',
    ],
    [
      'a canary in progress',
      () => Object.assign(completedRollout(), { status: { ...completedRollout().status, currentStepIndex: 2 } }),
      'status.currentStepIndex is 2 of 5',
    ],
    ["a Rollout running another image than staging's release", () => completedRollout(`ghcr.io/example-defi/api:1.3.9@${digest(9)}`), "not staging's release"],
    [
      'a degraded Rollout',
      () => Object.assign(completedRollout(), { status: { ...completedRollout().status, phase: 'Degraded' } }),
      'status.phase is "Degraded"',
    ],
  ])('writes nothing for %s', (_, object, reason) => {
    const before = readFileSync(file, 'utf8');
    expect(() => run(['--component', 'api', '--object', 'rollout.json'], object())).toThrow(
      new RegExp(
        `^rollout\\.json does not prove that staging's api ${API.replace(/[.]/g, '\\.')} completed, so nothing is recorded: .*${reason.replace(/[.()]/g, '\\$&')}`,
      ),
    );
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses output that is not JSON, a completion time that is not one, a staging release without digest, and wrong arguments', () => {
    const before = readFileSync(file, 'utf8');
    expect(() => run(['--component', 'api', '--object', '-'], 'Error from server (NotFound): rollouts.argoproj.io "api" not found')).toThrow(
      '--object standard input is not JSON',
    );
    const badTime = completedRollout();
    badTime.status.conditions[2].lastTransitionTime = 'yesterday';
    expect(() => run(['--component', 'api', '--object', '-'], badTime)).toThrow('standard input: completedAt');
    writeFileSync(staging, JSON.stringify({ ...JSON.parse(readFileSync(staging, 'utf8')), api: 'ghcr.io/example-defi/api:1.4.0' }));
    expect(() => run(['--component', 'api', '--object', '-'], completedRollout('ghcr.io/example-defi/api:1.4.0'))).toThrow(
      "staging's api is ghcr.io/example-defi/api:1.4.0, without @sha256: digest",
    );
    expect(() => run(['--component', 'frontend', '--object', '-'], {})).toThrow(
      "option '--component <name>' argument 'frontend' is invalid. Allowed choices are api, worker, scheduler.",
    );
    expect(() => run(['--component', 'api'], {})).toThrow("required option '--object <file>' not specified");
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('starts a record when the repository has none yet', () => {
    rmSync(file);
    run(['--component', 'api', '--object', '-'], completedRollout());
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ api: [{ image: API }], worker: [], scheduler: [] });
  });
});
