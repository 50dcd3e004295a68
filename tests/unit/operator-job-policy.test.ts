// Operators cannot escalate (charts/security/operator-job-policy-chart.ts): each synthesised
// ClusterPolicy is sent, through checks/kyverno.ts, the Jobs an operator may create (every
// on-demand template unchanged, and as `npm run cli` fills it in) and every way out of them (another
// image, Secret, volume, ServiceAccount, labels, capabilities, command, environment, more pods),
// each as the API server would hand it to Kyverno. Jobs of Argo CD and of the CronJob controller
// are not its business.
import { describe, expect, it } from 'vitest';
import { loadtestJob } from '../../cli/loadtest';
import { parseRestoreArgs, restoreObjects } from '../../cli/restore';
import { LOADTEST_SCRIPTS } from '../../environments/loadtest';
import { IMAGES, imageRef } from '../../lib/images';
import { search } from '../../lib/jmespath';
import { operatorGroup } from '../../charts/security/operator-access-chart';
import { JOB_CONTROLLER_LABELS } from '../../charts/security/operator-job-policy-chart';
import { environments, objectsOf, renderedManifests } from '../helpers';
import { type AdmissionRequest, admit } from '../../checks/kyverno';
import type { K8sObject } from '../../checks/objects';
import { schemaErrors } from '../../checks/schema';

type Obj = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const NOW = new Date('2026-11-27T14:05:09.123Z');
const clone = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

/**
 * The Job as the API server hands it to admission webhooks: defaults applied (kubernetes
 * pkg/apis/core/v1/defaults.go and pkg/apis/batch/v1/defaults.go) and the selector and labels
 * the Job strategy generates before validating admission (pkg/registry/batch/job/strategy.go).
 */
function asAdmitted(job: Obj): K8sObject {
  const j = clone(job);
  const uid = '5f0c3f9e-2d1a-4b7e-9a53-0d6f2f1c7a11';
  j.metadata.uid ??= uid;
  j.metadata.creationTimestamp ??= '2026-11-27T14:05:10Z';
  const s = j.spec;
  s.completions ??= 1;
  s.parallelism ??= 1;
  s.completionMode ??= 'NonIndexed';
  s.suspend ??= false;
  s.podReplacementPolicy ??= 'TerminatingOrFailed';
  if (!s.manualSelector) s.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': j.metadata.uid } };
  const t = s.template;
  t.metadata ??= {};
  t.metadata.creationTimestamp = null;
  t.metadata.labels = {
    ...t.metadata.labels,
    ...Object.fromEntries(JOB_CONTROLLER_LABELS.map((l) => [l, l.endsWith('job-name') ? j.metadata.name : j.metadata.uid])),
  };
  const p = t.spec;
  p.dnsPolicy ??= 'ClusterFirst';
  p.restartPolicy ??= 'Always';
  p.securityContext ??= {};
  p.terminationGracePeriodSeconds ??= 30;
  p.schedulerName ??= 'default-scheduler';
  for (const c of [...(p.initContainers ?? []), ...(p.containers ?? [])]) {
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.imagePullPolicy ??= 'IfNotPresent';
    c.resources ??= {};
    for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
  for (const v of p.volumes ?? []) {
    for (const source of ['secret', 'configMap', 'projected']) if (v[source]) v[source].defaultMode ??= 420;
  }
  return j as K8sObject;
}

const container = (job: Obj, name?: string): Obj => {
  const p = job.spec.template.spec;
  return [...(p.initContainers ?? []), ...p.containers].find((c: Obj) => name === undefined || c.name === name) ?? p.containers[0];
};

interface Way {
  readonly what: string;
  readonly template: string;
  readonly change: (job: Obj, env: string) => void;
  /** The rule that refuses it (template-<name> unless said). */
  readonly rule?: string;
}

/** Every way out of a template, each on a template that has what it changes. */
const WAYS: Way[] = [
  { what: 'an image the platform does not pin', template: 'loadtest-api', change: (j) => (container(j).image = 'docker.io/library/busybox:1.37.0') },
  { what: "another of the platform's pinned images", template: 'redis-restore', change: (j) => (container(j).image = imageRef(IMAGES.kubectl)) },
  {
    what: 'another image in an init container',
    template: 'postgres-recovery-check',
    change: (j) => (container(j, 'list-archive').image = imageRef(IMAGES.postgres)),
  },
  {
    what: 'an extra container',
    template: 'loadtest-database',
    change: (j) => j.spec.template.spec.containers.push({ ...clone(container(j)), name: 'sidecar' }),
  },
  {
    what: 'an extra Secret volume and its mount',
    template: 'loadtest-api',
    change: (j) => {
      j.spec.template.spec.volumes.push({ name: 'admin', secret: { secretName: 'supabase-jwt' } });
      container(j).volumeMounts.push({ name: 'admin', mountPath: '/admin', readOnly: true });
    },
  },
  {
    what: "a Secret in place of the template's ConfigMap",
    template: 'loadtest-api',
    change: (j) => (j.spec.template.spec.volumes[0] = { name: 'scripts', secret: { secretName: 'supabase-jwt' } }),
  },
  {
    what: 'another key of a mounted Secret',
    template: 'postgres-recovery-check',
    change: (j) => (j.spec.template.spec.volumes.find((v: Obj) => v.secret).secret.items = [{ key: 'tls.key', path: 'ca.crt' }]),
  },
  {
    what: 'a whole TLS Secret where the template mounts its CA only',
    template: 'postgres-recovery-check',
    change: (j) => delete j.spec.template.spec.volumes.find((v: Obj) => v.secret).secret.items,
  },
  {
    what: "another workload's claim",
    template: 'redis-restore',
    change: (j) => (j.spec.template.spec.volumes.find((v: Obj) => v.persistentVolumeClaim).persistentVolumeClaim.claimName = 'postgres-1'),
  },
  {
    what: 'an environment variable from another Secret',
    template: 'loadtest-api',
    change: (j) => container(j).env.push({ name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: 'postgres-role-supabase-admin', key: 'password' } } }),
  },
  {
    what: 'another Secret behind a template variable',
    template: 'postgres-recovery-check',
    change: (j) => (container(j, 'check-recovery').env.find((e: Obj) => e.name === 'PGPASSWORD').valueFrom.secretKeyRef.name = 'postgres-role-platform-backup'),
  },
  {
    what: 'a whole Secret as environment (envFrom)',
    template: 'redis-restore',
    change: (j) => (container(j).envFrom = [{ secretRef: { name: 'redis-credentials' } }]),
  },
  {
    what: 'a restore input read from a Secret',
    template: 'redis-restore',
    change: (j) =>
      (container(j).env.find((e: Obj) => e.name === 'RESTORE_SNAPSHOT').valueFrom = { secretKeyRef: { name: 'redis-credentials', key: 'password' } }),
  },
  {
    what: 'a projected volume with a Secret and a token',
    template: 'loadtest-realtime',
    change: (j) => {
      j.spec.template.spec.volumes.push({
        name: 'p',
        projected: { sources: [{ secret: { name: 'supabase-jwt' } }, { serviceAccountToken: { path: 'token' } }] },
      });
      container(j).volumeMounts.push({ name: 'p', mountPath: '/p' });
    },
  },
  { what: 'a hostPath volume', template: 'redis-restore', change: (j) => j.spec.template.spec.volumes.push({ name: 'host', hostPath: { path: '/' } }) },
  { what: 'a mount of the scripts over another path', template: 'loadtest-api', change: (j) => (container(j).volumeMounts[0].mountPath = '/etc') },
  {
    what: "Kong's labels (to pass its NetworkPolicies)",
    template: 'loadtest-api',
    change: (j) => Object.assign(j.spec.template.metadata.labels, { 'app.kubernetes.io/name': 'kong', 'app.kubernetes.io/component': 'gateway' }),
  },
  {
    what: "another load test's name label",
    template: 'loadtest-api',
    change: (j) => (j.spec.template.metadata.labels['app.kubernetes.io/name'] = 'loadtest-database'),
  },
  { what: 'an extra label', template: 'redis-restore', change: (j) => (j.spec.template.metadata.labels['role'] = 'primary') },
  {
    what: 'a pod annotation',
    template: 'redis-restore',
    change: (j) => (j.spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/redis-restore': 'unconfined' }),
  },
  {
    what: "another workload's ServiceAccount",
    template: 'loadtest-api',
    change: (j) => (j.spec.template.spec.serviceAccountName = 'api'),
    rule: 'service-account-',
  },
  {
    what: 'no ServiceAccount (the namespace default)',
    template: 'redis-restore',
    change: (j) => delete j.spec.template.spec.serviceAccountName,
    rule: 'service-account-',
  },
  {
    what: "another template's ServiceAccount",
    template: 'loadtest-api',
    change: (j) => (j.spec.template.spec.serviceAccountName = 'loadtest-database'),
    rule: 'template-loadtest-database',
  },
  { what: 'the ServiceAccount token', template: 'loadtest-api', change: (j) => (j.spec.template.spec.automountServiceAccountToken = true) },
  { what: 'an added capability', template: 'redis-restore', change: (j) => (container(j).securityContext.capabilities.add = ['NET_RAW']) },
  { what: 'a privileged container', template: 'loadtest-api', change: (j) => (container(j).securityContext.privileged = true) },
  { what: 'privilege escalation left to its default', template: 'redis-restore', change: (j) => delete container(j).securityContext.allowPrivilegeEscalation },
  { what: 'root', template: 'postgres-recovery-check', change: (j) => (j.spec.template.spec.securityContext.runAsUser = 0) },
  { what: 'extra groups', template: 'redis-restore', change: (j) => (j.spec.template.spec.securityContext.supplementalGroups = [0]) },
  { what: 'the host network', template: 'loadtest-api', change: (j) => (j.spec.template.spec.hostNetwork = true) },
  { what: 'another node, by name', template: 'redis-restore', change: (j) => (j.spec.template.spec.nodeName = 'control-plane-1') },
  { what: 'another command', template: 'loadtest-api', change: (j) => (container(j).command = ['/bin/sh', '-c', 'env']) },
  { what: 'other arguments', template: 'loadtest-api', change: (j) => (container(j).args = ['k6', 'run', '/tmp/other.js']) },
  {
    what: 'a changed environment value',
    template: 'postgres-recovery-check',
    change: (j) => (container(j, 'check-recovery').env.find((e: Obj) => e.name === 'PGHOST').value = 'attacker.example.com'),
  },
  { what: 'an extra environment variable', template: 'redis-restore', change: (j) => container(j).env.push({ name: 'LD_PRELOAD', value: '/tmp/x.so' }) },
  { what: 'a postStart hook', template: 'loadtest-api', change: (j) => (container(j).lifecycle = { postStart: { exec: { command: ['sh', '-c', 'env'] } } }) },
  { what: 'many pods at once', template: 'loadtest-api', change: (j) => (j.spec.parallelism = 50) },
  { what: 'retries', template: 'redis-restore', change: (j) => (j.spec.backoffLimit = 6) },
  {
    what: 'a selector of other pods',
    template: 'redis-restore',
    change: (j) => Object.assign(j.spec, { manualSelector: true, selector: { matchLabels: { 'app.kubernetes.io/name': 'redis' } } }),
  },
];

describe.each(environments())('%s', (name, env) => {
  const located = objectsOf(name);
  const policy = located.find(
    (l) => l.object.kind === 'ClusterPolicy' && l.object.metadata.name === `${env.namespacePrefix}operator-jobs-from-templates`,
  )!.object;
  const templates = located.filter((l) => l.file.startsWith('on-demand/') && l.object.kind === 'Job').map((l) => l.object as Obj);
  const template = (n: string) => templates.find((t) => t.metadata.name === n);
  const onDemand = new Map([...renderedManifests().get(name)!].filter(([f]) => f.startsWith('on-demand/')));
  const operator = { username: 'alice@example.com', groups: [operatorGroup(env.namespacePrefix), 'system:authenticated'] };
  const send = (object: Obj, user: AdmissionRequest['userInfo'] = operator, operation: AdmissionRequest['operation'] = 'CREATE') =>
    admit(policy, { operation, object: asAdmitted(object), ...(operation === 'UPDATE' ? { oldObject: asAdmitted(object) } : {}), userInfo: user });
  const refusals = (a: ReturnType<typeof send>) => a.results.filter((r) => r.status === 'fail' || r.status === 'error');

  it('is enforced at admission, fails closed, derives no Pod-controller rules and fits the Kyverno CRD', () => {
    const spec = policy.spec as Obj;
    expect(spec.failurePolicy).toBe('Fail');
    expect(spec.background).toBe(false);
    expect(policy.metadata.annotations?.['pod-policies.kyverno.io/autogen-controllers']).toBe('none');
    for (const rule of spec.rules) {
      expect(rule.validate.failureAction, rule.name).toBe('Enforce');
      for (const m of rule.match.any) expect(m.subjects, rule.name).toEqual([{ kind: 'Group', name: operatorGroup(env.namespacePrefix) }]);
    }
    expect(schemaErrors(policy)).toEqual([]);
    expect(spec.rules.map((r: Obj) => r.name)).toEqual([
      `service-account-${env.namespacePrefix}supabase`,
      `service-account-${env.namespacePrefix}app`,
      ...templates.map((t) => `template-${t.metadata.name}`).sort(),
      'no-other-workloads',
    ]);
  });

  it('derives each expected value from the template it pins', () => {
    for (const t of templates) {
      const rule = (policy.spec as Obj).rules.find((r: Obj) => r.name === `template-${t.metadata.name}`);
      for (const c of rule.validate.deny.conditions.any.filter((x: Obj) => x.operator === 'NotEquals')) {
        expect(c.value, c.key).toEqual(search(c.key.slice(2, -2).trim(), { request: { object: t } }));
      }
      const images = [...(t.spec.template.spec.initContainers ?? []), ...t.spec.template.spec.containers].map((c: Obj) => c.image);
      for (const image of images) expect(Object.values(IMAGES).map(imageRef)).toContain(image);
      expect(JSON.stringify(rule.validate.deny.conditions)).toContain(images[0]);
    }
  });

  it('admits every on-demand template, unchanged, from an operator', () => {
    expect(templates.length).toBeGreaterThanOrEqual(4);
    for (const t of templates) {
      const a = send(t);
      expect(refusals(a), t.metadata.name).toEqual([]);
      expect(a.results.find((r) => r.rule === `template-${t.metadata.name}`)?.status, t.metadata.name).toBe('pass');
      // A patch that changes nothing (server-side apply of the same Job) too.
      expect(send(t, operator, 'UPDATE').allowed, t.metadata.name).toBe(true);
    }
  });

  it('admits the Jobs npm run cli makes: load tests under a fresh name, restores with their target', () => {
    const jobs: Obj[] = LOADTEST_SCRIPTS.map((script) => loadtestJob(onDemand, { env: name, script }, NOW));
    const restore = (...argv: string[]) =>
      restoreObjects(onDemand, parseRestoreArgs(['--env', name, ...argv], [name]), NOW).filter((o: Obj) => o.kind === 'Job');
    jobs.push(...restore('--store', 'redis'), ...restore('--store', 'redis', '--backup', '20261127T020000Z', '--force'));
    if (template('postgres-recovery-check'))
      jobs.push(
        ...restore('--store', 'postgres'),
        ...restore('--store', 'postgres', '--to', '2026-11-27T14:05:00Z'),
        ...restore('--store', 'postgres', '--to', '0/5000A60'),
      );
    for (const job of jobs) {
      expect(job.metadata.name).toMatch(/-20261127t140509$/);
      const a = send(job);
      expect(refusals(a), job.metadata.name).toEqual([]);
      expect(a.allowed).toBe(true);
    }
  });

  const ways = WAYS.map((w) => [w.what, w] as const);
  it.each(ways)("refuses an operator's Job with %s", (_, way) => {
    const t = template(way.template);
    if (!t) return; // dev has no object store, so no recovery check
    const job = clone(t);
    job.metadata.name = `${way.template}-20261127t140509`;
    way.change(job, name);
    const a = send(job);
    expect(a.allowed).toBe(false);
    const rule = way.rule ?? `template-${way.template}`;
    expect(
      refusals(a).some((r) => r.rule.startsWith(rule)),
      JSON.stringify(a.results),
    ).toBe(true);
    // The same change on an existing Job (a patch) is refused as well.
    expect(send(job, operator, 'UPDATE').allowed).toBe(false);
  });

  it('leaves Jobs of Argo CD and of the CronJob controller alone, and refuses their copies from operators', () => {
    const broken = clone(template('loadtest-api'));
    container(broken).image = 'docker.io/library/busybox:1.37.0';
    expect(
      send(broken, {
        username: 'system:serviceaccount:argocd:argocd-application-controller',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd'],
      }),
    ).toEqual({ allowed: true, results: [] });
    const drill = located.map((l) => l.object as Obj).find((o) => o.kind === 'CronJob' && o.metadata.name === 'postgres-restore-drill');
    if (!drill) return;
    const spawned = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'postgres-restore-drill-29400000',
        namespace: drill.metadata.namespace,
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            name: drill.metadata.name,
            uid: 'c0ffee00-0000-4000-8000-000000000000',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: clone(drill.spec.jobTemplate.spec),
    };
    expect(
      send(spawned, {
        username: 'system:serviceaccount:kube-system:cronjob-controller',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system'],
      }).allowed,
    ).toBe(true);
    // An operator cannot start a drill by hand: its ServiceAccount may create Clusters.
    expect(send(spawned).allowed).toBe(false);
  });

  it('refuses Pods and other workloads from operators, and Jobs outside the job namespaces', () => {
    const t = template('redis-restore');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'shell', namespace: t.metadata.namespace, labels: t.spec.template.metadata.labels },
      spec: clone(t.spec.template.spec),
    };
    const a = admit(policy, { operation: 'CREATE', object: pod, userInfo: operator });
    expect(a.allowed).toBe(false);
    expect(refusals(a).map((r) => r.rule)).toEqual(['no-other-workloads']);
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', namespace: `${env.namespacePrefix}app` },
      spec: { template: clone(t.spec.template) },
    };
    expect(admit(policy, { operation: 'CREATE', object: deployment, userInfo: operator }).allowed).toBe(false);
    const elsewhere = { ...clone(t), metadata: { name: 'x', namespace: `${env.namespacePrefix}observability` } };
    expect(send(elsewhere).allowed).toBe(false);
  });

  it('grants operators no way to create Pods or other workloads through the API', () => {
    const group = operatorGroup(env.namespacePrefix);
    const bound = located
      .map((l) => l.object as Obj)
      .filter((o) => (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && o.subjects.some((s: Obj) => s.kind === 'Group' && s.name === group))
      .map((b) =>
        located
          .map((l) => l.object as Obj)
          .find(
            (o) =>
              o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name && (o.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace),
          ),
      );
    const writes = bound.flatMap((role) => role.rules.filter((r: Obj) => r.verbs.some((v: string) => !['get', 'list', 'watch'].includes(v))));
    expect(writes.flatMap((r: Obj) => r.resources).sort()).toEqual(['jobs', 'jobs']);
    expect(bound.flatMap((role) => role.rules.flatMap((r: Obj) => r.resources))).not.toContain('pods/exec');
  });
});
