// Proves the policy harness before any workload relies on it: a workload built with the lib/
// helpers passes every rule, and for every rule a deliberately broken copy is caught, with the
// object and the field named.
import { describe, expect, it } from 'vitest';
import { sampleObjects } from '../fixtures/sample-workload';
import type { K8sObject } from '../../checks/objects';
import { checkAll, EXEMPTION_PREFIX, formatViolations, RULES } from '../../checks/rules';
import { imagePinned } from '../../checks/rules/pod-rules';

type Mutable = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function find(objects: K8sObject[], kind: string, name?: string, namespace?: string): Mutable {
  const found = objects.find(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name) && (namespace === undefined || o.metadata.namespace === namespace),
  );
  if (!found) throw new Error(`fixture has no ${kind} ${name ?? ''}`);
  return found;
}
const deployment = (o: K8sObject[]) => find(o, 'Deployment', 'sample');
const pod = (o: K8sObject[]) => deployment(o).spec.template.spec;
const main = (o: K8sObject[]) => pod(o).containers[0];
const init = (o: K8sObject[]) => pod(o).initContainers[0];
const remove = (objects: K8sObject[], kind: string, name: string, namespace?: string) => {
  const target = find(objects, kind, name, namespace);
  objects.splice(objects.indexOf(target as K8sObject), 1);
};

const labels = {
  'app.kubernetes.io/name': 'sample',
  'app.kubernetes.io/instance': 'staging',
  'app.kubernetes.io/component': 'api',
  'app.kubernetes.io/part-of': 'supabase-platform',
  'app.kubernetes.io/managed-by': 'cdk8s',
  'app.kubernetes.io/version': '1',
};
const role = (kind: 'Role' | 'ClusterRole', rules: Mutable[]): K8sObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name: 'sample', ...(kind === 'Role' ? { namespace: 'app' } : {}), labels },
  rules,
});
/** Binds the sample Role to a group of people. */
const groupBinding = (): K8sObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'sample', namespace: 'app', labels },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'sample' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'people' }],
});
const imagePolicy = (overrides: Mutable, failurePolicy = 'Fail'): K8sObject => ({
  apiVersion: 'kyverno.io/v1',
  kind: 'ClusterPolicy',
  metadata: { name: 'verify-images', labels },
  spec: {
    failurePolicy,
    rules: [
      {
        name: 'signed',
        match: { any: [{ resources: { kinds: ['Pod'] } }] },
        verifyImages: [
          {
            imageReferences: ['ghcr.io/acme/*'],
            mutateDigest: false,
            verifyDigest: true,
            required: true,
            attestors: [{ entries: [{ keyless: { issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: '^https://github\\.com/acme/.+$' } }] }],
            ...overrides,
          },
        ],
      },
    ],
  },
});
const certificate = (privateKey: Mutable): K8sObject => ({
  apiVersion: 'cert-manager.io/v1',
  kind: 'Certificate',
  metadata: { name: 'edge', namespace: 'app', labels },
  spec: { secretName: 'edge-tls', dnsNames: ['a.example.com'], issuerRef: { kind: 'ClusterIssuer', name: 'letsencrypt' }, privateKey },
});
const issuer = (server: string): K8sObject => ({
  apiVersion: 'cert-manager.io/v1',
  kind: 'ClusterIssuer',
  metadata: { name: 'acme', labels },
  spec: {
    acme: {
      server,
      email: 'ops@example.com',
      privateKeySecretRef: { name: 'acme-account-key' },
      solvers: [{ dns01: { cloudflare: { apiTokenSecretRef: { name: 'cf', key: 'token' } } } }],
    },
  },
});
/** A production Cluster that keeps every database promise, and its scheduled backup. */
const cluster = (): Mutable => ({
  apiVersion: 'postgresql.cnpg.io/v1',
  kind: 'Cluster',
  metadata: { name: 'postgres', namespace: 'app', labels: { ...labels, 'app.kubernetes.io/instance': 'production' } },
  spec: {
    instances: 3,
    enableSuperuserAccess: false,
    affinity: { enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' }],
    postgresql: {
      pg_hba: ['hostssl all postgres all reject', 'hostssl all authenticator all scram-sha-256', 'host all all all reject'],
      synchronous: { method: 'any', number: 1, dataDurability: 'required', failoverQuorum: true },
    },
    plugins: [{ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'store' } }],
    storage: { size: '10Gi' },
    imageName: `docker.io/supabase/postgres:15.8.1.085@sha256:${'d'.repeat(64)}`,
  },
});
const scheduledBackup = (): K8sObject => ({
  apiVersion: 'postgresql.cnpg.io/v1',
  kind: 'ScheduledBackup',
  metadata: { name: 'daily', namespace: 'app', labels },
  spec: { schedule: '0 0 2 * * *', cluster: { name: 'postgres' }, method: 'plugin', pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' } },
});
/** Adds the good Cluster and its backup, then breaks the Cluster. */
const withCluster = (o: K8sObject[], breakIt: (spec: Mutable, c: Mutable) => void) => {
  const c = cluster();
  breakIt(c.spec, c);
  o.push(c as K8sObject, scheduledBackup());
};
/** A production CloudNativePG ImageCatalog: the operator runs its images without any pod template naming them. */
const imageCatalog = (image: string): K8sObject => ({
  apiVersion: 'postgresql.cnpg.io/v1',
  kind: 'ImageCatalog',
  metadata: { name: 'postgres', namespace: 'app', labels: { ...labels, 'app.kubernetes.io/instance': 'production' } },
  spec: { images: [{ major: 15, image }] },
});
/** A production Pooler whose partial pod template names the pgbouncer image. */
const pooler = (image: string): K8sObject => ({
  apiVersion: 'postgresql.cnpg.io/v1',
  kind: 'Pooler',
  metadata: { name: 'pooler-rw', namespace: 'app', labels: { ...labels, 'app.kubernetes.io/instance': 'production' } },
  spec: {
    cluster: { name: 'postgres' },
    instances: 3,
    type: 'rw',
    pgbouncer: { poolMode: 'transaction' },
    template: { spec: { containers: [{ name: 'pgbouncer', image }] } },
  },
});
const internalCertificate = (spec: Mutable): K8sObject => ({
  apiVersion: 'cert-manager.io/v1',
  kind: 'Certificate',
  metadata: { name: 'db', namespace: 'app', labels },
  spec: {
    secretName: 'db-tls',
    dnsNames: ['db.app.svc'],
    duration: '2160h',
    usages: ['server auth'],
    issuerRef: { kind: 'ClusterIssuer', name: 'internal-ca' },
    privateKey: { algorithm: 'ECDSA', rotationPolicy: 'Always' },
    ...spec,
  },
});
const caIssuer = (): K8sObject => ({
  apiVersion: 'cert-manager.io/v1',
  kind: 'ClusterIssuer',
  metadata: { name: 'internal-ca', labels },
  spec: { ca: { secretName: 'internal-ca' } },
});

/** The environment of a hardened Kong container, which kong-edge and trusted-proxies accept: the connection's address, no header believed. */
const kongEnv = (extra: Record<string, string> = {}) =>
  Object.entries({
    KONG_PROXY_LISTEN: '0.0.0.0:8000, 0.0.0.0:8443 ssl http2',
    KONG_SSL_CIPHER_SUITE: 'modern',
    KONG_HEADERS: 'off',
    KONG_ANONYMOUS_REPORTS: 'off',
    KONG_ADMIN_LISTEN: 'off',
    ...extra,
  }).map(([name, value]) => ({ name, value }));
/** Kong behind a load balancer that sends the PROXY protocol from 203.0.113.0/24 (outside every pod and node range). */
const proxyProtocolKong = {
  KONG_PROXY_LISTEN: '0.0.0.0:8000, 0.0.0.0:8443 ssl http2 proxy_protocol',
  KONG_REAL_IP_HEADER: 'proxy_protocol',
  KONG_TRUSTED_IPS: '203.0.113.0/24',
};

interface BrokenCase {
  rule: string;
  what: string;
  breakIt: (objects: K8sObject[]) => void;
  /** The violation must name this object ("Kind ns/name") and a field containing this text. */
  object: string;
  field: string;
}

const CASES: BrokenCase[] = [
  {
    rule: 'database-ha',
    what: 'two production instances',
    breakIt: (o) => withCluster(o, (s) => (s.instances = 2)),
    object: 'Cluster app/postgres',
    field: 'spec.instances',
  },
  {
    rule: 'database-ha',
    what: 'preferred anti-affinity',
    breakIt: (o) => withCluster(o, (s) => (s.affinity.podAntiAffinityType = 'preferred')),
    object: 'Cluster app/postgres',
    field: 'spec.affinity',
  },
  {
    rule: 'database-ha',
    what: 'no zone spread',
    breakIt: (o) => withCluster(o, (s) => delete s.topologySpreadConstraints),
    object: 'Cluster app/postgres',
    field: 'spec.topologySpreadConstraints',
  },
  {
    rule: 'database-ha',
    what: 'preferred durability in production',
    breakIt: (o) => withCluster(o, (s) => (s.postgresql.synchronous.dataDurability = 'preferred')),
    object: 'Cluster app/postgres',
    field: 'spec.postgresql.synchronous',
  },
  {
    rule: 'database-ha',
    what: 'no quorum failover',
    breakIt: (o) => withCluster(o, (s) => delete s.postgresql.synchronous.failoverQuorum),
    object: 'Cluster app/postgres',
    field: 'spec.postgresql.synchronous',
  },
  {
    rule: 'database-ha',
    what: 'asynchronous replication',
    breakIt: (o) => withCluster(o, (s) => delete s.postgresql.synchronous),
    object: 'Cluster app/postgres',
    field: 'spec.postgresql.synchronous',
  },
  {
    rule: 'database-access',
    what: 'superuser access on',
    breakIt: (o) => withCluster(o, (s) => (s.enableSuperuserAccess = true)),
    object: 'Cluster app/postgres',
    field: 'spec.enableSuperuserAccess',
  },
  {
    rule: 'database-access',
    what: 'a login without TLS',
    breakIt: (o) => withCluster(o, (s) => s.postgresql.pg_hba.splice(1, 0, 'host all authenticator all scram-sha-256')),
    object: 'Cluster app/postgres',
    field: 'spec.postgresql.pg_hba.1',
  },
  {
    rule: 'database-access',
    what: 'postgres from the network',
    breakIt: (o) => withCluster(o, (s) => (s.postgresql.pg_hba[0] = 'hostssl all postgres,authenticator all scram-sha-256')),
    object: 'Cluster app/postgres',
    field: 'spec.postgresql.pg_hba.0',
  },
  {
    rule: 'database-access',
    what: "the operator's catch-all reachable",
    breakIt: (o) => withCluster(o, (s) => s.postgresql.pg_hba.pop()),
    object: 'Cluster app/postgres',
    field: 'spec.postgresql.pg_hba',
  },
  {
    rule: 'database-backups',
    what: 'no WAL archiving',
    breakIt: (o) => withCluster(o, (s) => delete s.plugins),
    object: 'Cluster app/postgres',
    field: 'spec.plugins',
  },
  {
    rule: 'database-backups',
    what: 'a recovery Cluster that archives into the store',
    breakIt: (o) =>
      withCluster(o, (s, c) => {
        c.metadata.name = 'postgres-recovery';
        s.bootstrap = { recovery: { source: 'origin' } };
      }),
    object: 'Cluster app/postgres-recovery',
    field: 'spec.plugins',
  },
  {
    rule: 'database-backups',
    what: 'no scheduled backup',
    breakIt: (o) => withCluster(o, (_s, c) => (c.metadata.name = 'postgres-2')),
    object: 'Cluster app/postgres-2',
    field: '(object)',
  },
  {
    rule: 'internal-certificates',
    what: 'a year-long leaf',
    breakIt: (o) => o.push(caIssuer(), internalCertificate({ duration: '8760h' })),
    object: 'Certificate app/db',
    field: 'spec.duration',
  },
  {
    rule: 'internal-certificates',
    what: 'a leaf keeping its key',
    breakIt: (o) => o.push(caIssuer(), internalCertificate({ privateKey: { algorithm: 'ECDSA', rotationPolicy: 'Never' } })),
    object: 'Certificate app/db',
    field: 'spec.privateKey.rotationPolicy',
  },
  {
    rule: 'internal-certificates',
    what: 'a server certificate without names',
    breakIt: (o) => o.push(caIssuer(), internalCertificate({ dnsNames: undefined })),
    object: 'Certificate app/db',
    field: 'spec.dnsNames',
  },
  {
    rule: 'schema',
    what: 'replicas is a string',
    breakIt: (o) => (deployment(o).spec.replicas = 'three'),
    object: 'Deployment app/sample',
    field: 'spec.replicas',
  },
  {
    rule: 'schema',
    what: 'a container without a name',
    breakIt: (o) => delete main(o).name,
    object: 'Deployment app/sample',
    field: 'spec.template.spec.containers.0',
  },
  {
    rule: 'schema',
    what: 'a custom resource with a misspelled field',
    breakIt: (o) =>
      o.push({
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: 'edge', namespace: 'app' },
        spec: { secretName: 'edge-tls', issuerRef: { name: 'letsencrypt' }, dnsNamez: ['a.example.com'] },
      }),
    object: 'Certificate app/edge',
    field: 'spec',
  },
  {
    rule: 'schema',
    what: 'an unknown kind',
    breakIt: (o) => o.push({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'app' } }),
    object: 'Widget app/w',
    field: '(object)',
  },
  {
    rule: 'explicit-name',
    what: 'no name',
    breakIt: (o) => delete find(o, 'NetworkPolicy', 'sample').metadata.name,
    object: 'NetworkPolicy app/(unnamed)',
    field: 'metadata.name',
  },
  {
    rule: 'explicit-name',
    what: 'a cdk8s-hashed name',
    breakIt: (o) => (find(o, 'ServiceAccount', 'sample').metadata.name = 'sample-workload-c8a1b2c3'),
    object: 'ServiceAccount app/sample-workload-c8a1b2c3',
    field: 'metadata.name',
  },
  {
    rule: 'namespaced',
    what: 'no namespace',
    breakIt: (o) => delete deployment(o).metadata.namespace,
    object: 'Deployment sample',
    field: 'metadata.namespace',
  },
  {
    rule: 'namespaced',
    what: 'the default namespace',
    breakIt: (o) => (find(o, 'ServiceAccount', 'sample').metadata.namespace = 'default'),
    object: 'ServiceAccount default/sample',
    field: 'metadata.namespace',
  },
  {
    rule: 'standard-labels',
    what: 'no version label',
    breakIt: (o) => delete find(o, 'ServiceAccount', 'sample').metadata.labels['app.kubernetes.io/version'],
    object: 'ServiceAccount app/sample',
    field: 'metadata.labels.app.kubernetes.io/version',
  },
  {
    rule: 'standard-labels',
    what: 'pod template without part-of',
    breakIt: (o) => delete deployment(o).spec.template.metadata.labels['app.kubernetes.io/part-of'],
    object: 'Deployment app/sample',
    field: 'spec.template.metadata.labels.app.kubernetes.io/part-of',
  },
  {
    rule: 'stable-selectors',
    what: 'version in the selector',
    breakIt: (o) => (deployment(o).spec.selector.matchLabels['app.kubernetes.io/version'] = '1'),
    object: 'Deployment app/sample',
    field: 'spec.selector.matchLabels.app.kubernetes.io/version',
  },
  {
    rule: 'pod-security',
    what: 'root user',
    breakIt: (o) => {
      pod(o).securityContext.runAsUser = 0;
      main(o).securityContext.runAsUser = 0;
    },
    object: 'Deployment app/sample',
    field: 'spec.template.spec.securityContext.runAsUser',
  },
  {
    rule: 'pod-security',
    what: 'no seccomp profile',
    breakIt: (o) => {
      delete pod(o).securityContext.seccompProfile;
      delete main(o).securityContext.seccompProfile;
    },
    object: 'Deployment app/sample',
    field: 'securityContext.seccompProfile.type',
  },
  {
    rule: 'service-account-token',
    what: 'service-account token mounted',
    breakIt: (o) => (pod(o).automountServiceAccountToken = true),
    object: 'Deployment app/sample',
    field: 'spec.template.spec.automountServiceAccountToken',
  },
  {
    rule: 'container-security',
    what: 'privilege escalation in an init container',
    breakIt: (o) => (init(o).securityContext.allowPrivilegeEscalation = true),
    object: 'Deployment app/sample',
    field: 'initContainers[wait].securityContext.allowPrivilegeEscalation',
  },
  {
    rule: 'container-security',
    what: 'writable root filesystem',
    breakIt: (o) => (main(o).securityContext.readOnlyRootFilesystem = false),
    object: 'Deployment app/sample',
    field: 'containers[main].securityContext.readOnlyRootFilesystem',
  },
  {
    rule: 'container-security',
    what: 'an added capability',
    breakIt: (o) => (main(o).securityContext.capabilities.add = ['SYS_ADMIN']),
    object: 'Deployment app/sample',
    field: 'containers[main].securityContext.capabilities.add',
  },
  {
    rule: 'host-isolation',
    what: 'host network',
    breakIt: (o) => (pod(o).hostNetwork = true),
    object: 'Deployment app/sample',
    field: 'spec.template.spec.hostNetwork',
  },
  {
    rule: 'host-isolation',
    what: 'a hostPath volume',
    breakIt: (o) => pod(o).volumes.push({ name: 'host', hostPath: { path: '/' } }),
    object: 'Deployment app/sample',
    field: 'volumes[host].hostPath',
  },
  {
    rule: 'host-isolation',
    what: 'a privileged port',
    breakIt: (o) => (main(o).ports[0].containerPort = 80),
    object: 'Deployment app/sample',
    field: 'ports[80].containerPort',
  },
  {
    rule: 'resources',
    what: 'no ephemeral-storage limit',
    breakIt: (o) => delete main(o).resources.limits['ephemeral-storage'],
    object: 'Deployment app/sample',
    field: 'containers[main].resources.limits.ephemeral-storage',
  },
  {
    rule: 'resources',
    what: 'a limit below its request',
    breakIt: (o) => (init(o).resources.limits.memory = '64Mi'),
    object: 'Deployment app/sample',
    field: 'initContainers[wait].resources.limits.memory',
  },
  {
    rule: 'probes',
    what: 'no liveness probe',
    breakIt: (o) => delete main(o).livenessProbe,
    object: 'Deployment app/sample',
    field: 'containers[main].livenessProbe',
  },
  {
    rule: 'probes',
    what: 'liveness identical to readiness',
    breakIt: (o) => (main(o).livenessProbe = main(o).readinessProbe),
    object: 'Deployment app/sample',
    field: 'containers[main].livenessProbe',
  },
  {
    rule: 'service-account',
    what: 'the default ServiceAccount',
    breakIt: (o) => (pod(o).serviceAccountName = 'default'),
    object: 'Deployment app/sample',
    field: 'spec.template.spec.serviceAccountName',
  },
  {
    rule: 'service-account',
    what: 'a ServiceAccount that is not emitted',
    breakIt: (o) => remove(o, 'ServiceAccount', 'sample'),
    object: 'Deployment app/sample',
    field: 'spec.template.spec.serviceAccountName',
  },
  {
    rule: 'service-account',
    what: 'a ServiceAccount shared by two workloads',
    breakIt: (o) => {
      const twin = structuredClone(deployment(o)) as K8sObject;
      twin.metadata.name = 'twin';
      o.push(twin);
    },
    object: 'Deployment app/sample',
    field: 'spec.template.spec.serviceAccountName',
  },
  {
    rule: 'no-secret-values',
    what: 'a Secret with data',
    breakIt: (o) =>
      o.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db', namespace: 'app' },
        data: { password: Buffer.from('test-password').toString('base64') },
      }),
    object: 'Secret app/db',
    field: 'data',
  },
  {
    rule: 'no-secret-values',
    what: 'a literal password in env',
    breakIt: (o) => (main(o).env = [{ name: 'DB_PASSWORD', value: 'hunter2' }]),
    object: 'Deployment app/sample',
    field: 'env[DB_PASSWORD].value',
  },
  {
    rule: 'no-secret-values',
    what: 'a secret-looking path outside every mount',
    breakIt: (o) => (main(o).env = [{ name: 'TLS_KEY', value: '/etc/not-mounted/tls.key' }]),
    object: 'Deployment app/sample',
    field: 'env[TLS_KEY].value',
  },
  {
    rule: 'image-pinned',
    what: 'the latest tag',
    breakIt: (o) => (main(o).image = 'docker.io/kong/kong:latest'),
    object: 'Deployment app/sample',
    field: 'containers[main].image',
  },
  {
    rule: 'image-pinned',
    what: 'a production image without a digest and not excepted',
    breakIt: (o) => {
      deployment(o).metadata.labels['app.kubernetes.io/instance'] = 'production';
      main(o).image = 'docker.io/acme/unlisted:1.2.3';
    },
    object: 'Deployment app/sample',
    field: 'containers[main].image',
  },
  {
    rule: 'image-pinned',
    what: 'an implicit registry',
    breakIt: (o) => (init(o).image = 'supabase/postgres:15.8.1.085'),
    object: 'Deployment app/sample',
    field: 'initContainers[wait].image',
  },
  {
    rule: 'image-pinned',
    what: 'a production Cluster whose imageName has no digest',
    breakIt: (o) => withCluster(o, (s) => (s.imageName = 'docker.io/supabase/postgres:15.8.1.060')),
    object: 'Cluster app/postgres',
    field: 'spec.imageName',
  },
  {
    rule: 'image-pinned',
    what: 'an ImageCatalog image by the latest tag',
    breakIt: (o) => o.push(imageCatalog('ghcr.io/cloudnative-pg/postgresql:latest')),
    object: 'ImageCatalog app/postgres',
    field: 'spec.images.0.image',
  },
  {
    rule: 'image-pinned',
    what: 'a production Pooler template image without a digest',
    breakIt: (o) => o.push(pooler('ghcr.io/cloudnative-pg/pgbouncer:1.25.1')),
    object: 'Pooler app/pooler-rw',
    field: 'spec.template.spec.containers[pgbouncer].image',
  },
  {
    rule: 'availability',
    what: 'no PodDisruptionBudget',
    breakIt: (o) => remove(o, 'PodDisruptionBudget', 'sample'),
    object: 'Deployment app/sample',
    field: '(object)',
  },
  {
    rule: 'availability',
    what: 'no hostname anti-affinity',
    breakIt: (o) => delete pod(o).affinity,
    object: 'Deployment app/sample',
    field: 'spec.template.spec.affinity.podAntiAffinity',
  },
  {
    rule: 'availability',
    what: 'no zone spread',
    breakIt: (o) => delete pod(o).topologySpreadConstraints,
    object: 'Deployment app/sample',
    field: 'spec.template.spec.topologySpreadConstraints',
  },
  {
    rule: 'pdb-allows-eviction',
    what: 'minAvailable equal to replicas',
    breakIt: (o) => {
      const s = find(o, 'PodDisruptionBudget', 'sample').spec;
      delete s.maxUnavailable;
      s.minAvailable = 3;
    },
    object: 'PodDisruptionBudget app/sample',
    field: 'spec.minAvailable',
  },
  {
    rule: 'pdb-allows-eviction',
    what: 'maxUnavailable 0',
    breakIt: (o) => (find(o, 'PodDisruptionBudget', 'sample').spec.maxUnavailable = 0),
    object: 'PodDisruptionBudget app/sample',
    field: 'spec.maxUnavailable',
  },
  {
    rule: 'pdb-allows-eviction',
    what: 'unhealthy pods block eviction',
    breakIt: (o) => delete find(o, 'PodDisruptionBudget', 'sample').spec.unhealthyPodEvictionPolicy,
    object: 'PodDisruptionBudget app/sample',
    field: 'spec.unhealthyPodEvictionPolicy',
  },
  {
    rule: 'namespace-pod-security',
    what: 'baseline enforced',
    breakIt: (o) => (find(o, 'Namespace', 'app').metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline'),
    object: 'Namespace app',
    field: 'metadata.labels.pod-security.kubernetes.io/enforce',
  },
  {
    rule: 'namespace-pod-security',
    what: 'no pinned version',
    breakIt: (o) => delete find(o, 'Namespace', 'app').metadata.labels['pod-security.kubernetes.io/warn-version'],
    object: 'Namespace app',
    field: 'pod-security.kubernetes.io/warn-version',
  },
  {
    rule: 'namespace-network-baseline',
    what: 'no default deny',
    breakIt: (o) => remove(o, 'NetworkPolicy', 'default-deny-all', 'app'),
    object: 'Namespace app',
    field: '(namespace)',
  },
  {
    rule: 'namespace-network-baseline',
    what: 'no DNS egress',
    breakIt: (o) => remove(o, 'NetworkPolicy', 'allow-dns-egress', 'observability'),
    object: 'Namespace observability',
    field: '(namespace)',
  },
  {
    rule: 'metrics-from-prometheus',
    what: 'metrics open to any pod',
    breakIt: (o) => delete find(o, 'NetworkPolicy', 'sample').spec.ingress[1].from,
    object: 'Deployment app/sample',
    field: 'NetworkPolicy app/sample spec.ingress[1]',
  },
  {
    rule: 'metrics-from-prometheus',
    what: 'an ingress rule without ports',
    breakIt: (o) => delete find(o, 'NetworkPolicy', 'sample').spec.ingress[0].ports,
    object: 'Deployment app/sample',
    field: 'NetworkPolicy app/sample spec.ingress[0]',
  },
  {
    rule: 'network-policy-coverage',
    what: 'no policy of its own',
    breakIt: (o) => remove(o, 'NetworkPolicy', 'sample'),
    object: 'Deployment app/sample',
    field: 'spec.template.metadata.labels',
  },
  {
    rule: 'rbac-least-privilege',
    what: 'a wildcard verb',
    breakIt: (o) => o.push(role('Role', [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }])),
    object: 'Role app/sample',
    field: 'rules.0.verbs',
  },
  {
    rule: 'rbac-least-privilege',
    what: 'reading Secrets',
    breakIt: (o) => o.push(role('Role', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }])),
    object: 'Role app/sample',
    field: 'rules.0.resources',
  },
  {
    rule: 'rbac-least-privilege',
    what: 'a ClusterRole that writes',
    breakIt: (o) => o.push(role('ClusterRole', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'delete'] }])),
    object: 'ClusterRole sample',
    field: 'rules.0.verbs',
  },
  {
    rule: 'rbac-least-privilege',
    what: 'escalation',
    breakIt: (o) => o.push(role('Role', [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['bind'] }])),
    object: 'Role app/sample',
    field: 'rules.0.verbs',
  },
  {
    rule: 'internet-egress',
    what: 'the metadata address reachable',
    breakIt: (o) =>
      find(o, 'NetworkPolicy', 'sample').spec.egress.push({
        to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } }],
        ports: [{ port: 443, protocol: 'TCP' }],
      }),
    object: 'NetworkPolicy app/sample',
    field: 'ipBlock.except',
  },
  {
    rule: 'internet-egress',
    what: 'every port to the internet',
    breakIt: (o) =>
      find(o, 'NetworkPolicy', 'sample').spec.egress.push({
        to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.169.254/32'] } }],
      }),
    object: 'NetworkPolicy app/sample',
    field: '.ports',
  },
  {
    rule: 'image-verification',
    what: 'mutateDigest on',
    breakIt: (o) => o.push(imagePolicy({ mutateDigest: true })),
    object: 'ClusterPolicy verify-images',
    field: 'verifyImages.0.mutateDigest',
  },
  {
    rule: 'image-verification',
    what: 'unsigned images allowed',
    breakIt: (o) => o.push(imagePolicy({ required: false })),
    object: 'ClusterPolicy verify-images',
    field: 'verifyImages.0.required',
  },
  {
    rule: 'image-verification',
    what: 'failing open',
    breakIt: (o) => o.push(imagePolicy({}, 'Ignore')),
    object: 'ClusterPolicy verify-images',
    field: 'spec.failurePolicy',
  },
  {
    rule: 'people-start-templates-only',
    what: 'a group that may create Jobs with no admission rule on them',
    breakIt: (o) => o.push(role('Role', [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] }]), groupBinding()),
    object: 'RoleBinding app/sample',
    field: 'subjects',
  },
  {
    rule: 'people-start-templates-only',
    what: 'a group that may create Pods',
    breakIt: (o) => o.push(role('Role', [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }]), groupBinding()),
    object: 'RoleBinding app/sample',
    field: 'roleRef',
  },
  {
    rule: 'edge-certificates',
    what: 'a key kept across renewals',
    breakIt: (o) => o.push(certificate({ rotationPolicy: 'Never' })),
    object: 'Certificate app/edge',
    field: 'spec.privateKey.rotationPolicy',
  },
  {
    rule: 'edge-certificates',
    what: "an ACME server that is not Let's Encrypt",
    breakIt: (o) => o.push(issuer('https://acme.example.com/directory')),
    object: 'ClusterIssuer acme',
    field: 'spec.acme.server',
  },
  {
    rule: 'kong-edge',
    what: 'Kong announcing its version',
    breakIt: (o) => (main(o).env = kongEnv().map((e) => (e.name === 'KONG_HEADERS' ? { ...e, value: 'server_tokens' } : e))),
    object: 'Deployment app/sample',
    field: 'env.KONG_HEADERS',
  },
  {
    rule: 'trusted-proxies',
    what: 'X-Forwarded-For believed from the pod range',
    breakIt: (o) => (main(o).env = kongEnv({ KONG_TRUSTED_IPS: '10.0.0.0/8', KONG_REAL_IP_HEADER: 'X-Forwarded-For' })),
    object: 'Deployment app/sample',
    field: 'env.KONG_REAL_IP_HEADER',
  },
  {
    rule: 'trusted-proxies',
    what: 'a trusted load balancer range that holds pods',
    breakIt: (o) => (main(o).env = kongEnv({ ...proxyProtocolKong, KONG_TRUSTED_IPS: '203.0.113.0/24,10.20.0.0/16' })),
    object: 'Deployment app/sample',
    field: 'env.KONG_TRUSTED_IPS',
  },
  {
    rule: 'trusted-proxies',
    what: 'every address trusted',
    breakIt: (o) => (main(o).env = kongEnv({ ...proxyProtocolKong, KONG_TRUSTED_IPS: '0.0.0.0/0' })),
    object: 'Deployment app/sample',
    field: 'env.KONG_TRUSTED_IPS',
  },
  {
    rule: 'trusted-proxies',
    what: 'the PROXY protocol believed on a listener that does not require it',
    breakIt: (o) => (main(o).env = kongEnv({ ...proxyProtocolKong, KONG_PROXY_LISTEN: '0.0.0.0:8000, 0.0.0.0:8443 ssl http2' })),
    object: 'Deployment app/sample',
    field: 'env.KONG_PROXY_LISTEN',
  },
  {
    rule: 'kong-edge',
    what: 'Kong without TLS',
    breakIt: (o) => (main(o).env = kongEnv().map((e) => (e.name === 'KONG_PROXY_LISTEN' ? { ...e, value: '0.0.0.0:8000' } : e))),
    object: 'Deployment app/sample',
    field: 'env.KONG_PROXY_LISTEN',
  },
];

describe('policy harness', () => {
  it('passes a workload built with the lib/ helpers, with every rule', () => {
    const objects = sampleObjects();
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['Deployment', 'PodDisruptionBudget', 'ServiceAccount', 'NetworkPolicy', 'Namespace']));
    expect(formatViolations(checkAll(objects))).toBe('');
  });

  it('has at least one broken-object test for every rule', () => {
    expect(new Set(CASES.map((c) => c.rule))).toEqual(new Set(RULES.map((r) => r.id)));
  });

  it.each(CASES)('$rule catches $what', ({ rule, breakIt, object, field }) => {
    const objects = sampleObjects();
    breakIt(objects);
    const found = checkAll(objects).filter((x) => x.rule === rule);
    expect(found, `no ${rule} violation`).not.toEqual([]);
    expect(
      found.some((x) => x.object === object && x.field.includes(field)),
      formatViolations(found),
    ).toBe(true);
  });

  it('accepts an exemption only with a reason', () => {
    const objects = sampleObjects();
    pod(objects).hostNetwork = true;
    const annotations = (deployment(objects).metadata.annotations ??= {});
    annotations[`${EXEMPTION_PREFIX}host-isolation`] = '';
    expect(checkAll(objects).some((x) => x.rule === 'host-isolation')).toBe(true);
    annotations[`${EXEMPTION_PREFIX}host-isolation`] = 'node metrics need the host network namespace';
    expect(checkAll(objects).some((x) => x.rule === 'host-isolation')).toBe(false);
  });

  it('takes a production image without a digest only when the digest exceptions name it with a reason', () => {
    const objects = sampleObjects();
    deployment(objects).metadata.labels['app.kubernetes.io/instance'] = 'production';
    main(objects).image = 'docker.io/acme/listed:1.2.3';
    const messages = (exceptions: Record<string, string>) => checkAll(objects, [imagePinned(exceptions)]).map((x) => x.message);
    expect(
      messages({ 'docker.io/acme/listed:1.2.3': 'no registry reachable when pinned; the weekly workflow re-pins' }).filter((m) => m.includes('acme/listed')),
    ).toEqual([]);
    expect(messages({ 'docker.io/acme/listed:1.2.3': ' ' })).toContain(
      '"docker.io/acme/listed:1.2.3" is excepted from the digest without a reason: give the reason in lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS',
    );
    expect(messages({}).some((m) => m.startsWith('"docker.io/acme/listed:1.2.3" has no digest'))).toBe(true);
    // With a digest, production needs no exception; outside production a tag is enough.
    main(objects).image = `docker.io/acme/listed:1.2.3@sha256:${'c'.repeat(64)}`;
    expect(messages({}).filter((m) => m.includes('acme/listed'))).toEqual([]);
    main(objects).image = 'docker.io/acme/listed:1.2.3';
    deployment(objects).metadata.labels['app.kubernetes.io/instance'] = 'staging';
    expect(messages({}).filter((m) => m.includes('acme/listed'))).toEqual([]);
  });

  it('reads the images custom resources name outside pod templates, with the same digest exceptions', () => {
    const digest = `sha256:${'e'.repeat(64)}`;
    const pgbouncer = 'ghcr.io/cloudnative-pg/pgbouncer:1.25.1';
    const objects = sampleObjects();
    const c = cluster();
    c.spec.imageName = 'docker.io/acme/postgres:15.8.1';
    const catalogue = imageCatalog(`ghcr.io/cloudnative-pg/postgresql:15.13@${digest}`) as Mutable;
    const pool = pooler(pgbouncer) as Mutable;
    pool.spec.pgbouncer.image = pgbouncer;
    // An image volume: the reference of an `image` object.
    c.spec.postgresql.extensions = [{ name: 'vector', image: { reference: `ghcr.io/cloudnative-pg/pgvector:0.8.0@${digest}` } }];
    // A ConfigMap's keys are data, never an image to check.
    const data: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'notes', namespace: 'app', labels }, data: { image: 'anything' } };
    objects.push(c as K8sObject, catalogue as K8sObject, pool as K8sObject, data);
    const found = (exceptions: Record<string, string>) =>
      checkAll(objects, [imagePinned(exceptions)]).map((x) => `${x.object} ${x.field}: ${x.message.split(':')[0]}`);
    expect(found({})).toEqual([
      'Cluster app/postgres spec.imageName: "docker.io/acme/postgres',
      'Pooler app/pooler-rw spec.pgbouncer.image: "ghcr.io/cloudnative-pg/pgbouncer',
      'Pooler app/pooler-rw spec.template.spec.containers[pgbouncer].image: "ghcr.io/cloudnative-pg/pgbouncer',
    ]);
    expect(checkAll(objects, [imagePinned({})]).find((x) => x.object === 'Cluster app/postgres')!.message).toBe(
      '"docker.io/acme/postgres:15.8.1" has no digest: production runs images by digest (run `npm run images -- pin`), or declare it in lib/exemptions.ts IMAGE_DIGEST_EXCEPTIONS with the reason',
    );
    // The same exception list as for containers; with a digest no exception is needed.
    expect(found({ 'docker.io/acme/postgres:15.8.1': 'no registry reachable when pinned; the weekly workflow re-pins', [pgbouncer]: 'the same' })).toEqual([]);
    c.spec.imageName = `docker.io/acme/postgres:15.8.1@${digest}`;
    pool.spec.pgbouncer.image = pool.spec.template.spec.containers[0].image = `${pgbouncer}@${digest}`;
    expect(found({})).toEqual([]);
    // Outside production an exact tag is enough, as for containers.
    c.spec.imageName = 'docker.io/acme/postgres:15.8.1';
    c.metadata.labels['app.kubernetes.io/instance'] = 'staging';
    expect(found({})).toEqual([]);
  });

  it('accepts a secret-looking variable that points into a mounted volume', () => {
    const objects = sampleObjects();
    main(objects).env = [{ name: 'TLS_KEY', value: '/tmp/tls.key' }];
    expect(checkAll(objects).filter((x) => x.rule === 'no-secret-values')).toEqual([]);
  });

  it('accepts a hardened Kong container, a rotating certificate and a fail-closed image policy', () => {
    const objects = sampleObjects();
    main(objects).env = kongEnv();
    objects.push(
      certificate({ rotationPolicy: 'Always' }),
      imagePolicy({}),
      issuer('https://acme-v02.api.letsencrypt.org/directory'),
      role('Role', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]),
    );
    expect(
      checkAll(objects).filter((x) => ['kong-edge', 'trusted-proxies', 'edge-certificates', 'image-verification', 'rbac-least-privilege'].includes(x.rule)),
    ).toEqual([]);
  });

  it("accepts the PROXY protocol from a load balancer range outside the cluster's, and judges by the environment's ranges", () => {
    const objects = sampleObjects();
    main(objects).env = kongEnv(proxyProtocolKong);
    expect(checkAll(objects).filter((x) => x.rule === 'trusted-proxies')).toEqual([]);
    // The same range is refused where the environment says the nodes live.
    const refused = checkAll(objects, RULES, { pods: ['10.20.0.0/16'], nodes: ['203.0.113.0/25'] }).filter((x) => x.rule === 'trusted-proxies');
    expect(formatViolations(refused)).toContain('overlaps the node range 203.0.113.0/25');
  });

  it('needs no PDB or spread for a single replica', () => {
    const objects = sampleObjects(1);
    expect(objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
    expect(formatViolations(checkAll(objects))).toBe('');
  });
});

describe('every workload kind', () => {
  // The sample Deployment's pod template, wrapped in each kind that runs pods.
  const wrap = (kind: string, apiVersion: string, template: Mutable): Mutable => {
    const metadata = { ...template.metadata, name: `sample-${kind.toLowerCase()}`, namespace: 'app' };
    template.spec.serviceAccountName = metadata.name;
    const selector = { matchLabels: { 'app.kubernetes.io/name': 'sample', 'app.kubernetes.io/instance': 'staging', 'app.kubernetes.io/component': 'api' } };
    const job = { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } };
    const specs: Record<string, Mutable> = {
      StatefulSet: { serviceName: 'sample', replicas: 1, selector, template },
      DaemonSet: { selector, template },
      Job: job,
      CronJob: { schedule: '0 2 * * *', jobTemplate: { spec: job } },
      Rollout: { replicas: 1, selector, template, strategy: { canary: { steps: [{ setWeight: 10 }] } } },
    };
    return { apiVersion, kind, metadata, spec: specs[kind] };
  };
  const KINDS = [
    ['StatefulSet', 'apps/v1'],
    ['DaemonSet', 'apps/v1'],
    ['Job', 'batch/v1'],
    ['CronJob', 'batch/v1'],
    ['Rollout', 'argoproj.io/v1alpha1'],
  ] as const;

  it.each(KINDS)('%s built from the hardened template passes, and is caught when broken', (kind, apiVersion) => {
    const objects = sampleObjects(1);
    const template = structuredClone(deployment(objects).spec.template);
    const workload = wrap(kind, apiVersion, template);
    const account = structuredClone(find(objects, 'ServiceAccount', 'sample'));
    account.metadata.name = workload.metadata.name;
    objects.push(workload as K8sObject, account as K8sObject);
    const name = `Deployment app/sample`;
    expect(formatViolations(checkAll(objects).filter((x) => x.object !== name))).toBe('');

    const podSpec = kind === 'CronJob' ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
    podSpec.containers[0].securityContext.privileged = true;
    delete podSpec.containers[0].resources.requests.cpu;
    const found = checkAll(objects).filter((x) => x.object === `${kind} app/${workload.metadata.name}`);
    expect(found.map((x) => x.rule)).toEqual(expect.arrayContaining(['container-security', 'resources']));
  });
});
