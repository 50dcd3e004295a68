// `cli loadtest`: run one k6 script of tests/load/ in the cluster. It copies the script's Job from
// dist/<env>/on-demand/ under a fresh name (the name is the run's id in its metrics), creates it,
// waits for its pod, streams the k6 container's log, and ends with the summary and an exit code:
// 0 when every threshold passed, 1 when one failed or k6 could not run. The Job's ConfigMap,
// ServiceAccount and NetworkPolicy are synced with the app layer; creating the Job is all it does.
import { parse } from 'yaml';
import { K6_THRESHOLDS_FAILED_EXIT_CODE, LOADTEST_CONTAINER, LOADTEST_JOBS, LOADTEST_SUMMARY_MARKERS } from '../charts/loadtest/loadtest-chart';
import type { LoadtestScript } from '../environments/names';
import { type Manifests, manifestYaml } from '../lib/output';
import { readDistFiles } from './dist';
import type { JobAccess, KubeObject, ObjectAccess } from './kube';
import { parseCommandArgs } from './commands';
import { confirmAction, type ConfirmDeps } from './confirm';

export interface LoadtestRequest {
  readonly env: string;
  readonly script: LoadtestScript;
  /** Print the Job instead of creating it. */
  readonly print: boolean;
  /** Production: go ahead without asking. */
  readonly yes?: boolean;
  readonly context?: string;
}

export function parseLoadtestArgs(argv: string[], envNames: readonly string[]): LoadtestRequest {
  const values = parseCommandArgs<{ env: string; script: LoadtestScript; print?: boolean; yes?: boolean; context?: string }>('loadtest', argv, envNames);
  return {
    env: values.env,
    script: values.script,
    print: values.print ?? false,
    ...(values.yes ? { yes: true } : {}),
    ...(values.context ? { context: values.context } : {}),
  };
}

interface JobTemplate {
  metadata: { name: string; namespace: string };
  spec: unknown;
}

/** The script's Job from the on-demand folder, under a fresh name; nothing else changes. */
export function loadtestJob(onDemand: Manifests, request: Pick<LoadtestRequest, 'env' | 'script'>, now: Date): Record<string, unknown> & JobTemplate {
  const template = LOADTEST_JOBS[request.script];
  const file = [...onDemand.keys()].find((f) => new RegExp(`^on-demand/Job\\.[^.]+\\.${template}\\.yaml$`).test(f));
  if (!file) throw new Error(`dist/${request.env}/on-demand has no Job ${template}: run npm run synth`);
  const job = parse(onDemand.get(file)!) as Record<string, unknown> & JobTemplate;
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase();
  job.metadata.name = `${template}-${stamp}`;
  return job;
}

type Pod = KubeObject & {
  status?: {
    phase?: string;
    containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string }; terminated?: { exitCode: number; reason?: string } } }[];
  };
};

/** Reasons a pod waits that will not resolve by waiting longer. */
const STUCK = ['ErrImagePull', 'ImagePullBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'InvalidImageName'];

export interface LoadtestDeps {
  readonly cluster: Pick<ObjectAccess, 'list'> & JobAccess;
  readonly out: (line: string) => void;
  /** Raw log text, as it arrives. */
  readonly write: (text: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
  /** How long to wait for the pod to start. @default 10 minutes */
  readonly startTimeoutMs?: number;
}

/** The pod of the Job once its container has started (or stopped), by the Job's own label. */
async function startedPod(deps: LoadtestDeps, namespace: string, job: string): Promise<Pod> {
  const deadline = Date.now() + (deps.startTimeoutMs ?? 10 * 60_000);
  let last = '';
  for (;;) {
    const pods = ((await deps.cluster.list('v1', 'Pod', { namespace, labelSelector: `batch.kubernetes.io/job-name=${job}` })) ?? []) as Pod[];
    const pod = pods[0];
    const status = pod?.status?.containerStatuses?.find((c) => c.name === LOADTEST_CONTAINER);
    if (pod && (status?.state?.terminated || pod.status?.phase === 'Running' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed'))
      return pod;
    const waiting = status?.state?.waiting;
    if (waiting?.reason && STUCK.includes(waiting.reason))
      throw new Error(`pod ${pod!.metadata.name} cannot start: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`);
    const now = pod ? `pod ${pod.metadata.name} ${waiting?.reason ?? pod.status?.phase ?? 'Pending'}` : 'no pod yet';
    if (now !== last) deps.out(`  waiting: ${now}`);
    last = now;
    if (Date.now() > deadline)
      throw new Error(
        `job ${job} has not started after ${Math.round((deps.startTimeoutMs ?? 600_000) / 60_000)} min (${now}): kubectl -n ${namespace} describe job ${job}`,
      );
    await deps.sleep(2_000);
  }
}

/** The headline numbers of k6's exported summary, one line each. */
export function summaryLines(log: string): string[] {
  const begin = log.lastIndexOf(LOADTEST_SUMMARY_MARKERS.begin);
  const end = log.lastIndexOf(LOADTEST_SUMMARY_MARKERS.end);
  if (begin < 0 || end < begin) return ['(no summary in the log: k6 stopped before writing it)'];
  let summary: { metrics?: Record<string, Record<string, number>> };
  try {
    summary = JSON.parse(log.slice(begin + LOADTEST_SUMMARY_MARKERS.begin.length, end)) as typeof summary;
  } catch {
    return ['(the summary in the log is not JSON)'];
  }
  const m = summary.metrics ?? {};
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)} ms`);
  const pct = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(2)}%`);
  const lines: string[] = [];
  if (m.http_reqs) lines.push(`requests:   ${m.http_reqs.count ?? '-'} (${(m.http_reqs.rate ?? 0).toFixed(1)}/s)`);
  if (m.http_req_duration)
    lines.push(`latency:    p95 ${ms(m.http_req_duration['p(95)'])}, median ${ms(m.http_req_duration.med)}, max ${ms(m.http_req_duration.max)}`);
  if (m.http_req_failed) lines.push(`failed:     ${pct(m.http_req_failed.value)}`);
  if (m.checks) lines.push(`checks:     ${pct(m.checks.value)} passed (${m.checks.fails ?? 0} failed)`);
  if (m.ws_sessions) lines.push(`websockets: ${m.ws_sessions.count ?? '-'} sessions`);
  if (m.vus_max) lines.push(`users:      ${m.vus_max.value ?? m.vus_max.max ?? '-'} at most`);
  return lines.length ? lines : ['(the summary has none of the usual metrics)'];
}

/** Creates the Job, follows it to the end, prints the summary; returns the exit code. */
export async function runLoadtest(job: Record<string, unknown> & JobTemplate, deps: LoadtestDeps): Promise<number> {
  const { name, namespace } = job.metadata;
  await deps.cluster.create(job);
  deps.out(`created job ${namespace}/${name}`);
  const pod = await startedPod(deps, namespace, name);
  deps.out(`pod ${pod.metadata.name} started; k6's log follows`);
  let log = '';
  await deps.cluster.streamLog(
    namespace,
    pod.metadata.name,
    LOADTEST_CONTAINER,
    (text) => {
      log += text;
      deps.write(text);
    },
    { follow: true },
  );
  // The log ends when the container exits; its exit code says how the run went.
  let exit: number | undefined;
  for (let i = 0; i < 30 && exit === undefined; i++) {
    const pods = ((await deps.cluster.list('v1', 'Pod', { namespace, labelSelector: `batch.kubernetes.io/job-name=${name}` })) ?? []) as Pod[];
    exit = pods[0]?.status?.containerStatuses?.find((c) => c.name === LOADTEST_CONTAINER)?.state?.terminated?.exitCode;
    if (exit === undefined) await deps.sleep(2_000);
  }
  deps.out('');
  for (const line of summaryLines(log)) deps.out(line);
  if (exit === 0) {
    deps.out(`passed: every threshold held (job ${name})`);
    return 0;
  }
  if (exit === K6_THRESHOLDS_FAILED_EXIT_CODE) deps.out(`FAILED: a threshold was crossed (job ${name}; the thresholds are in environments/loadtest.ts)`);
  else if (exit === undefined) deps.out(`FAILED: the k6 container did not finish (job ${name}): kubectl -n ${namespace} describe job ${name}`);
  else deps.out(`FAILED: k6 could not run the test (exit code ${exit}, job ${name}): read the log above`);
  return 1;
}

/**
 * `npm run cli -- loadtest --env staging --script api [--print] [--yes] [--context NAME]`. In
 * production it asks first (`confirm`: --yes, or the environment's name typed at a terminal).
 */
export async function loadtestCommand(
  argv: string[],
  deps: {
    root: string;
    envNames: readonly string[];
    cluster: (context?: string) => Pick<ObjectAccess, 'list'> & JobAccess;
    out: (line: string) => void;
    write: (text: string) => void;
    confirm: (yes: boolean) => ConfirmDeps;
  },
): Promise<number> {
  const request = parseLoadtestArgs(argv, deps.envNames);
  const job = loadtestJob(readDistFiles(deps.root, request.env), request, new Date());
  if (request.print) {
    deps.out(manifestYaml(job));
    return 0;
  }
  await confirmAction(`the ${request.script} load test`, request.env, deps.confirm(request.yes ?? false));
  deps.out(`load test ${request.script} in ${request.env}: its metrics go to Prometheus under testid=${job.metadata.name}`);
  return runLoadtest(job, { cluster: deps.cluster(request.context), out: deps.out, write: deps.write, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
}
