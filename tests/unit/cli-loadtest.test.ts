// `cli loadtest` with a cluster that records what it is sent and answers as a cluster would: the
// Job it creates is the on-demand template under a fresh name, it waits for the pod, streams the
// k6 container's log, and turns the container's exit code into the command's.
import { describe, expect, it } from 'vitest';
import { K6_THRESHOLDS_FAILED_EXIT_CODE, LOADTEST_SUMMARY_MARKERS } from '../../charts/loadtest/loadtest-chart';
import { loadtestJob, parseLoadtestArgs, runLoadtest, summaryLines } from '../../cli/loadtest';
import type { KubeObject, ListQuery } from '../../cli/kube';
import { renderedManifests } from '../helpers';

const NOW = new Date('2026-11-28T01:02:03Z');
const onDemand = (env: string) => new Map([...renderedManifests().get(env)!].filter(([file]) => file.startsWith('on-demand/')));

const SUMMARY = JSON.stringify({
  metrics: {
    http_reqs: { count: 120000, rate: 1999.5 },
    http_req_duration: { 'p(95)': 182.4, med: 41.2, max: 950 },
    http_req_failed: { value: 0.0012 },
    checks: { value: 0.999, passes: 119880, fails: 120 },
    vus_max: { value: 10000 },
  },
});
const LOG = `running (01m00s), 10000/10000 VUs\n${LOADTEST_SUMMARY_MARKERS.begin}\n${SUMMARY}\n${LOADTEST_SUMMARY_MARKERS.end}\n`;

/** A cluster whose pod goes Pending -> Running -> terminated with `exitCode`. */
function fakeCluster(exitCode: number | undefined, waiting?: string) {
  const created: Record<string, unknown>[] = [];
  const listed: ListQuery[] = [];
  let polls = 0;
  return {
    created,
    listed,
    create(object: Record<string, unknown>) {
      created.push(object);
      return Promise.resolve(object as unknown as KubeObject);
    },
    list(_apiVersion: string, _kind: string, query: ListQuery = {}) {
      listed.push(query);
      polls++;
      const name = (created[0] as { metadata: { name: string } }).metadata.name;
      const state =
        waiting !== undefined
          ? { waiting: { reason: waiting, message: 'back-off pulling image' } }
          : polls === 1
            ? { waiting: { reason: 'ContainerCreating' } }
            : polls === 2
              ? { running: {} }
              : exitCode === undefined
                ? { running: {} }
                : { terminated: { exitCode } };
      const phase = polls === 1 || waiting ? 'Pending' : 'Running';
      return Promise.resolve([
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-abcde`, namespace: 'app' }, status: { phase, containerStatuses: [{ name: 'k6', state }] } },
      ] as unknown as KubeObject[]);
    },
    streamLog(_ns: string, _pod: string, container: string, write: (text: string) => void) {
      expect(container).toBe('k6');
      write(LOG);
      return Promise.resolve();
    },
  };
}

const run = async (cluster: ReturnType<typeof fakeCluster>) => {
  const lines: string[] = [];
  let raw = '';
  const code = await runLoadtest(loadtestJob(onDemand('staging'), { env: 'staging', script: 'api' }, NOW), {
    cluster,
    out: (l) => lines.push(l),
    write: (t) => (raw += t),
    sleep: () => Promise.resolve(),
    startTimeoutMs: 60_000,
  });
  return { code, lines, raw };
};

describe('cli loadtest', () => {
  it('copies the template under a fresh name and changes nothing else', () => {
    const job = loadtestJob(onDemand('staging'), { env: 'staging', script: 'api' }, NOW);
    expect(job.metadata.name).toBe('loadtest-api-20261128t010203');
    const template = loadtestJob(onDemand('staging'), { env: 'staging', script: 'api' }, NOW);
    template.metadata.name = 'loadtest-api';
    const file = [...onDemand('staging')].find(([f]) => f.endsWith('.loadtest-api.yaml'))!;
    expect(file[1]).toContain('name: loadtest-api\n');
    expect(JSON.stringify(template.spec)).toBe(JSON.stringify(job.spec));
    expect(job.metadata.name.length).toBeLessThanOrEqual(63);
  });

  it('creates the Job, waits for its pod, streams the log and passes on exit code 0', async () => {
    const cluster = fakeCluster(0);
    const { code, lines, raw } = await run(cluster);
    expect(code).toBe(0);
    expect(cluster.created).toHaveLength(1);
    expect(cluster.listed[0]).toEqual({ namespace: 'app', labelSelector: 'batch.kubernetes.io/job-name=loadtest-api-20261128t010203' });
    expect(raw).toBe(LOG);
    expect(lines).toContain('  waiting: pod loadtest-api-20261128t010203-abcde ContainerCreating');
    expect(lines).toContain('latency:    p95 182.4 ms, median 41.2 ms, max 950.0 ms');
    expect(lines).toContain('failed:     0.12%');
    expect(lines.at(-1)).toMatch(/^passed: every threshold held/);
  });

  it('fails when a threshold was crossed, and tells it apart from k6 not running', async () => {
    const crossed = await run(fakeCluster(K6_THRESHOLDS_FAILED_EXIT_CODE));
    expect(crossed.code).toBe(1);
    expect(crossed.lines.at(-1)).toMatch(/^FAILED: a threshold was crossed/);
    const broken = await run(fakeCluster(107));
    expect(broken.code).toBe(1);
    expect(broken.lines.at(-1)).toMatch(/^FAILED: k6 could not run the test \(exit code 107/);
  });

  it('stops at once on a pod that cannot start, saying why', async () => {
    await expect(run(fakeCluster(0, 'ImagePullBackOff'))).rejects.toThrow(/cannot start: ImagePullBackOff \(back-off pulling image\)/);
  });

  it('refuses unknown scripts and environments with one line', () => {
    expect(() => parseLoadtestArgs(['--env', 'staging', '--script', 'soak'], ['dev', 'staging'])).toThrow(
      "option '--script <name>' argument 'soak' is invalid. Allowed choices are api, realtime, database.",
    );
    expect(() => parseLoadtestArgs(['--env', 'qa', '--script', 'api'], ['dev', 'staging'])).toThrow(
      "option '--env <name>' argument 'qa' is invalid. Allowed choices are dev, staging.",
    );
    expect(parseLoadtestArgs(['--env', 'dev', '--script', 'database', '--print'], ['dev'])).toEqual({ env: 'dev', script: 'database', print: true });
  });

  it('says so when the log holds no summary', () => {
    expect(summaryLines('k6 crashed\n')).toEqual(['(no summary in the log: k6 stopped before writing it)']);
  });
});
