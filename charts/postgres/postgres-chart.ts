// PostgreSQL 15 (supabase/postgres) as a CloudNativePG `Cluster`: one primary and hot standbys on
// separate nodes (and zones in production), quorum synchronous replication where the environment
// asks for it, TLS on every connection, managed login roles with one Secret each, the image's
// settings restated, the pgsodium root key from one Secret on every instance, WAL on its own
// volume, WAL archiving and backups through the Barman Cloud Plugin, PgBouncer poolers, and
// Supabase's own migrations run by a bootstrap Job. Other charts connect through the outputs
// (`DatabaseEndpoints`: `host`, `port`, `tlsFor`, `passwordRef`, `poolers`, `peer`) rather than
// retyping names.
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { BackupConfig } from '../../environments/backup';
import type { PostgresConfig } from '../../environments/data-tier';
import {
  Cluster,
  ClusterSpecPostgresqlSynchronousDataDurability,
  ClusterSpecPostgresqlSynchronousMethod,
  ClusterSpecPrimaryUpdateMethod,
  ClusterSpecPrimaryUpdateStrategy,
  type ClusterSpec,
  type ClusterSpecResources,
} from '../../imports/cluster-postgresql.cnpg.io';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { type Endpoint, serviceHost } from '../../lib/endpoint';
import { projectFile } from '../../lib/files';
import { IMAGES, imageRef, pullPolicy } from '../../lib/images';
import { standardLabels } from '../../lib/labels';
import { accessLabel, type Peer } from '../../lib/network';
import { quantity } from '../../lib/quantity';
import { crdResources } from '../../lib/resources';
import { provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { bootstrapJob, EXPOSED_SCHEMAS } from './bootstrap';
import { pgHba } from './hba';
import { CUSTOM_QUERIES_KEY, customQueriesYaml } from './monitoring';
import { BARMAN_PLUGIN, objectStore } from './object-store';
import { clusterParameters, SHARED_PRELOAD_LIBRARIES } from './parameters';
import { databaseNetworkPolicies, PG_PORT } from './network';
import { POOLER_NAMES, POOLER_PORT, type PoolerKind, poolerPodSelector, poolers } from './poolers';
import { LOGIN_ROLES, type LoginRole, managedRole, roleSecret } from './roles';
import { RECOVERY_CLUSTERS } from './recovery';
import { databaseCertificates, type DatabaseTls } from './tls';

export { EXPOSED_SCHEMAS } from './bootstrap';

/** The Cluster's name: its instances are postgres-1, postgres-2, ...; its Services postgres-rw, -ro, -r. */
export const CLUSTER_NAME = 'postgres';
export { PG_PORT } from './network';

/**
 * The image's own `postgres` user and group (supabase/postgres Dockerfile-15 creates them as
 * system accounts; docs/decisions/0005-postgres-on-cloudnativepg.md has the lines). The data
 * directory and the image's files belong to them.
 */
export const POSTGRES_UID = 101;
export const POSTGRES_GID = 102;

export interface PostgresChartProps extends ChartProps {
  /** Namespaces (besides the data tier's) whose pods connect and verify the server: they get the CA. */
  readonly clientNamespaces: readonly string[];
  /** Instances, resources, replication, poolers and tuning inputs from the environment. */
  readonly config: PostgresConfig;
  /** Size of each instance's data volume. */
  readonly dataVolumeSize: string;
  /** The object store (WAL archive and base backups) and volume-snapshot backups, when the environment has them. */
  readonly backup: Pick<BackupConfig, 'objectStore' | 'postgresSnapshots'>;
  /** The operators' namespaces: CloudNativePG's (it calls the instances) and cert-manager's (the CA). */
  readonly operators: { readonly cnpgNamespace: string; readonly certManagerNamespace: string };
  /** Prometheus, which scrapes the instances and the poolers. */
  readonly prometheus: Endpoint;
}

/**
 * The database as its clients see it (the supabase and app charts): the read-write Service, the
 * poolers, the login roles' Secrets and the CA to verify the server with.
 */
export interface DatabaseEndpoints extends Endpoint {
  /** The poolers, by kind ("ro" only with standbys). */
  readonly poolers: { readonly rw: Endpoint; readonly ro?: Endpoint };
  /** The schemas PostgREST serves. */
  readonly exposedSchemas: typeof EXPOSED_SCHEMAS;
  /** The Secrets holding each login role's password. */
  readonly roleSecrets: Readonly<Record<LoginRole, SecretSpec>>;
  /** The secretKeyRef for a login role's password. */
  passwordRef(role: LoginRole): { secretKeyRef: { name: string; key: string } };
  /** Where a client pod in `namespace` finds the CA to verify the server. */
  tlsFor(namespace: string): DatabaseTls;
}

export class PostgresChart extends PlatformChart implements DatabaseEndpoints {
  public readonly clusterName = CLUSTER_NAME;
  /** The read-write Service (the primary), within `namespace`. */
  public readonly serviceName = `${CLUSTER_NAME}-rw`;
  /** Fully qualified host name of the read-write Service. */
  public readonly host: string;
  public readonly port = PG_PORT;
  public readonly dataNamespace: string;
  /** Labels a client pod needs so the instances' NetworkPolicy lets it in. */
  public readonly clientLabels = accessLabel('postgres');
  /** The instance pods (any of them may be the primary). */
  public readonly peer: Peer;
  public readonly exposedSchemas = EXPOSED_SCHEMAS;
  /** The poolers, by kind ("ro" only with standbys). */
  public readonly poolers: { readonly rw: Endpoint; readonly ro?: Endpoint };
  /** The Barman Cloud ObjectStore, when the environment archives, and the Secret of its credentials. */
  public readonly objectStoreName?: string;
  public readonly objectStoreSecret?: SecretSpec;
  /** The CloudNativePG operator's pods, which call every instance. */
  public readonly operatorPeer: Peer;
  /** The Secrets holding each login role's password. */
  public readonly roleSecrets: Readonly<Record<LoginRole, SecretSpec>>;
  /** The root key Secret every instance and every recovery reads. */
  public readonly pgsodiumSecret: SecretSpec;
  /** What a recovery Cluster repeats of this one (recovery.ts): labels and spec without instances or bootstrap. */
  public readonly recoverySpec: (component: string) => { labels: Record<string, string>; spec: Omit<ClusterSpec, 'instances'> };
  private readonly certificates: ReturnType<typeof databaseCertificates>;

  constructor(scope: Construct, id: string, props: PostgresChartProps) {
    super(scope, id, props);
    const { namespaces, priorityClasses, storage, secretSource } = this.platform;
    const ns = namespaces.supabase;
    this.dataNamespace = ns;
    const version = IMAGES.postgres.tag;
    const meta = (objectName: string, component = 'database') => this.metadata({ objectName, namespace: ns, name: 'postgres', component, version });
    const c = props.config;
    this.host = serviceHost(this.serviceName, ns);

    this.roleSecrets = Object.fromEntries((Object.keys(LOGIN_ROLES) as LoginRole[]).map((role) => [role, roleSecret(role, ns)])) as Record<LoginRole, SecretSpec>;
    for (const spec of Object.values(this.roleSecrets)) provideSecret(this, `role-${spec.name}`, secretSource, spec, meta(spec.name, 'secret'));
    this.pgsodiumSecret = {
      name: 'postgres-pgsodium',
      namespace: ns,
      description: 'The pgsodium root key, from which pgsodium and Vault derive their encryption keys: every instance and every restore reads it',
      keys: [{ key: 'root-key', description: 'pgsodium root key (64 hex characters): back it up with the database, it cannot be recovered', generate: { kind: 'hex', bytes: 32 } }],
    };
    provideSecret(this, 'pgsodium', secretSource, this.pgsodiumSecret, meta(this.pgsodiumSecret.name, 'secret'));

    const kinds = (['rw', 'ro'] as const).filter((k) => c.poolers[k]);
    this.certificates = databaseCertificates(this, {
      prefix: this.platform.prefix,
      certManagerNamespace: props.operators.certManagerNamespace,
      namespace: ns,
      // The recovery Clusters serve the same certificate, so a restore is verified like the database.
      serviceNames: [`${CLUSTER_NAME}-rw`, `${CLUSTER_NAME}-ro`, `${CLUSTER_NAME}-r`, ...kinds.map((k) => POOLER_NAMES[k]), ...Object.values(RECOVERY_CLUSTERS).map((n) => `${n}-rw`)],
      clientNamespaces: props.clientNamespaces,
    });

    const store = props.backup.objectStore
      ? objectStore(this, { namespace: ns, instance: this.instance, config: props.backup.objectStore, secretSource, sidecarResources: c.archiverResources }, (n) => meta(n, 'backup'))
      : undefined;
    this.objectStoreName = store?.name;
    this.objectStoreSecret = store?.secret;

    const queries = new k8s.KubeConfigMap(this, 'custom-queries', { metadata: meta('postgres-custom-queries', 'monitoring'), data: { [CUSTOM_QUERIES_KEY]: customQueriesYaml() } });
    const getkey = new k8s.KubeConfigMap(this, 'getkey', { metadata: meta('postgres-pgsodium-getkey'), data: { 'getkey.sh': projectFile('charts/postgres/files/pgsodium-getkey.sh') } });

    const podLabels = standardLabels(this.labelSpec({ name: 'postgres', component: 'database', version }));
    const instancePods = { 'cnpg.io/cluster': CLUSTER_NAME, 'cnpg.io/podRole': 'instance' };
    this.peer = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: instancePods } };
    const sync = c.synchronous;
    const common = {
      imageName: imageRef(IMAGES.postgres),
      // Always while the image is pinned by tag only (a tag can be moved), IfNotPresent once by digest.
      imagePullPolicy: pullPolicy(IMAGES.postgres),
      postgresUid: POSTGRES_UID,
      postgresGid: POSTGRES_GID,
      enableSuperuserAccess: false,
      priorityClassName: priorityClasses.data,
      resources: crdResources<ClusterSpecResources>(c.resources),
      inheritedMetadata: { labels: podLabels },
      certificates: { serverTlsSecret: this.certificates.serverSecretName, serverCaSecret: this.certificates.serverSecretName },
      projectedVolumeTemplate: {
        sources: [
          // Owner root, group the pod's fsGroup (CloudNativePG sets it to postgresGID): the server reads it through the group.
          { secret: { name: this.pgsodiumSecret.name, items: [{ key: 'root-key', path: 'pgsodium/root.key', mode: 0o440 }] } },
          { configMap: { name: getkey.name, items: [{ key: 'getkey.sh', path: 'pgsodium/getkey.sh', mode: 0o555 }] } },
        ],
      },
    };
    const archiving = store !== undefined;
    const parameters = clusterParameters({
      memoryBytes: quantity(c.resources.limits.memory),
      cpuCores: quantity(c.resources.requests.cpu),
      maxConnections: c.tuning.maxConnections,
      profile: c.tuning.profile,
      storageType: c.tuning.storageType,
      logMinDurationMs: c.tuning.logMinDurationMs,
      walVolumeBytes: quantity(c.walVolumeSize),
      archiving,
    });
    const managedRoles = (Object.keys(LOGIN_ROLES) as LoginRole[]).map((role) => managedRole(role, this.roleSecrets[role]));
    this.recoverySpec = (component: string) => {
      const labels = standardLabels(this.labelSpec({ name: 'postgres', component, version }));
      return {
        labels,
        spec: {
          ...common,
          inheritedMetadata: { labels },
          storage: { size: props.dataVolumeSize, storageClass: storage.className },
          walStorage: { size: c.walVolumeSize, storageClass: storage.className },
          postgresql: { parameters, sharedPreloadLibraries: [...SHARED_PRELOAD_LIBRARIES], pgHba: pgHba() },
          managed: { roles: managedRoles },
        },
      };
    };

    new Cluster(this, 'cluster', {
      metadata: { ...meta(CLUSTER_NAME), annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' } },
      spec: {
        ...common,
        description: `The platform database (${this.instance})`,
        instances: c.instances,
        primaryUpdateStrategy: ClusterSpecPrimaryUpdateStrategy.UNSUPERVISED,
        // A new image or setting reaches the standbys first, then a switchover moves the primary
        // (seconds of pause) instead of restarting it in place.
        primaryUpdateMethod: ClusterSpecPrimaryUpdateMethod.SWITCHOVER,
        switchoverDelay: c.failover.switchoverDelaySeconds,
        failoverDelay: c.failover.failoverDelaySeconds,
        smartShutdownTimeout: c.failover.smartShutdownTimeoutSeconds,
        stopDelay: c.failover.stopDelaySeconds,
        storage: { size: props.dataVolumeSize, storageClass: storage.className },
        walStorage: { size: c.walVolumeSize, storageClass: storage.className },
        affinity: {
          enablePodAntiAffinity: true,
          podAntiAffinityType: 'required',
          topologyKey: 'kubernetes.io/hostname',
        },
        ...(c.zoneSpread
          ? {
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: 'topology.kubernetes.io/zone',
                  whenUnsatisfiable: 'DoNotSchedule',
                  labelSelector: { matchLabels: { 'cnpg.io/cluster': CLUSTER_NAME } },
                },
              ],
            }
          : {}),
        postgresql: {
          parameters,
          sharedPreloadLibraries: [...SHARED_PRELOAD_LIBRARIES],
          pgHba: pgHba(),
          ...(sync
            ? {
                synchronous: {
                  method: sync.method === 'any' ? ClusterSpecPostgresqlSynchronousMethod.ANY : ClusterSpecPostgresqlSynchronousMethod.FIRST,
                  number: sync.number,
                  dataDurability: sync.dataDurability === 'required' ? ClusterSpecPostgresqlSynchronousDataDurability.REQUIRED : ClusterSpecPostgresqlSynchronousDataDurability.PREFERRED,
                  ...(sync.failoverQuorum ? { failoverQuorum: true } : {}),
                },
              }
            : {}),
        },
        // CloudNativePG's default application database and owner ("app") stay unused: Supabase
        // lives in "postgres", set up by the bootstrap Job.
        bootstrap: { initdb: { dataChecksums: true, encoding: 'UTF8' } },
        managed: { roles: managedRoles },
        monitoring: { customQueriesConfigMap: [{ name: queries.name, key: CUSTOM_QUERIES_KEY }] },
        ...(store ? { plugins: [{ name: BARMAN_PLUGIN, isWalArchiver: true, parameters: { barmanObjectName: store.name } }] } : {}),
        ...(props.backup.postgresSnapshots ? { backup: { volumeSnapshot: { className: storage.snapshotClassName } } } : {}),
      },
    });

    const poolerMeta = (name: string) => this.metadata({ objectName: name, namespace: ns, name: 'pgbouncer', component: 'pooler', version });
    const poolerProps = { namespace: ns, instance: this.instance, clusterName: CLUSTER_NAME, config: c.poolers, priorityClassName: priorityClasses.data, version };
    poolers(this, { ...poolerProps, serverTlsSecret: this.certificates.serverSecretName, roles: ['defi_app'] }, poolerMeta);
    const endpoint = (kind: PoolerKind): Endpoint => ({
      host: serviceHost(POOLER_NAMES[kind], ns),
      port: POOLER_PORT,
      clientLabels: accessLabel(POOLER_NAMES[kind]),
      peer: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: poolerPodSelector(kind) } },
    });
    this.poolers = { rw: endpoint('rw'), ...(c.poolers.ro ? { ro: endpoint('ro') } : {}) };

    this.operatorPeer = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': props.operators.cnpgNamespace } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'cloudnative-pg' } },
    };
    databaseNetworkPolicies(this, meta(CLUSTER_NAME), {
      instance: this.instance,
      prometheus: props.prometheus.peer,
      apiServerCidrs: this.platform.network.apiServerCidrs,
      instancePods,
      instances: this.peer,
      operator: this.operatorPeer,
      poolers: kinds.map((kind) => ({ kind, peer: this.poolers[kind]!.peer, metadata: poolerMeta(POOLER_NAMES[kind]) })),
      archiving,
    });

    bootstrapJob(this, {
      namespace: ns,
      host: this.host,
      port: PG_PORT,
      tls: this.tlsFor(ns),
      adminSecret: this.roleSecrets.supabase_admin,
      managedRoles: Object.keys(LOGIN_ROLES),
      resources: c.helperResources,
      priorityClassName: priorityClasses.data,
      clientLabels: this.clientLabels,
      toDatabase: { port: PG_PORT, peers: [this.peer] },
    });
  }

  /** The secretKeyRef for a login role's password. */
  public passwordRef(role: LoginRole): { secretKeyRef: { name: string; key: string } } {
    return secretKeyRef(this.roleSecrets[role], 'password');
  }

  /** Where a client pod in `namespace` finds the CA to verify the server. */
  public tlsFor(namespace: string): DatabaseTls {
    return this.certificates.tlsFor(namespace);
  }
}
