// PostgreSQL 15 (supabase/postgres) as a CloudNativePG `Cluster`: one primary and hot standbys on
// separate nodes (and zones in production), quorum synchronous replication where the environment
// asks for it, TLS on every connection, managed login roles with one Secret each, the image's
// settings restated, the pgsodium root key from one Secret on every instance, WAL on its own
// volume, WAL archiving and backups through the Barman Cloud Plugin, PgBouncer poolers, and
// Supabase's own migrations run by a bootstrap Job. Other charts connect through the outputs
// (`DatabaseEndpoints`: `host`, `port`, `tlsFor`, `passwordRef`, `poolers`, `peer`) rather than
// retyping names.
import type { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { BackupConfig } from '../../environments/backup';
import type { PostgresConfig } from '../../environments/data-tier';
import { Cluster, type ClusterSpec } from '../../imports/cluster-postgresql.cnpg.io';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { type Endpoint, serviceHost } from '../../lib/endpoint';
import { projectFile } from '../../lib/files';
import { IMAGES } from '../../lib/images';
import { standardLabels } from '../../lib/labels';
import { accessLabel, type Peer } from '../../lib/network';
import { provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { bootstrapJob, EXPOSED_SCHEMAS } from './bootstrap';
import { mainSpec, pgsodiumSecret, sharedSpec, type SharedSpecInputs } from './cluster';
import { CUSTOM_QUERIES_KEY, customQueriesYaml } from './monitoring';
import { objectStore } from './object-store';
import { cnpgOperatorPeer, databaseNetworkPolicies, PG_PORT } from './network';
import { POOLER_NAMES, type PoolerKind, poolerEndpoint, poolers } from './poolers';
import { LOGIN_ROLES, type LoginRole, roleSecrets } from './roles';
import { RECOVERY_CLUSTERS, type RecoverySource } from './recovery';
import { databaseCertificates, type DatabaseTls } from './tls';

export { EXPOSED_SCHEMAS } from './bootstrap';

/** The Cluster's name: its instances are postgres-1, postgres-2, ...; its Services postgres-rw, -ro, -r. */
export const CLUSTER_NAME = 'postgres';
export { PG_PORT } from './network';

export { POSTGRES_GID, POSTGRES_UID } from './cluster';

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

/**
 * The database as the backup, drill and restore charts see it: the clients' view, what a recovery
 * Cluster is made from, the object store's credentials and the operator that calls the instances.
 */
export interface RecoverableDatabase extends DatabaseEndpoints, RecoverySource {
  /** The Secret of the object store's credentials, when the environment archives. */
  readonly objectStoreSecret?: SecretSpec;
  /** The CloudNativePG operator's pods, which call every instance (and every recovery Cluster). */
  readonly operatorPeer: Peer;
}

/**
 * The names the server certificate covers: the Cluster's Services, the poolers' and the recovery
 * Clusters' (a restore is verified like the database).
 */
function certificateServiceNames(poolerKinds: readonly PoolerKind[]): string[] {
  return [
    `${CLUSTER_NAME}-rw`,
    `${CLUSTER_NAME}-ro`,
    `${CLUSTER_NAME}-r`,
    ...poolerKinds.map((k) => POOLER_NAMES[k]),
    ...Object.values(RECOVERY_CLUSTERS).map((n) => `${n}-rw`),
  ];
}

export class PostgresChart extends PlatformChart implements RecoverableDatabase {
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

    this.roleSecrets = roleSecrets(ns);
    for (const spec of Object.values(this.roleSecrets)) provideSecret(this, `role-${spec.name}`, secretSource, spec, meta(spec.name, 'secret'));
    this.pgsodiumSecret = pgsodiumSecret(ns);
    provideSecret(this, 'pgsodium', secretSource, this.pgsodiumSecret, meta(this.pgsodiumSecret.name, 'secret'));

    const kinds = (['rw', 'ro'] as const).filter((k) => c.poolers[k]);
    this.certificates = databaseCertificates(this, {
      prefix: this.platform.prefix,
      certManagerNamespace: props.operators.certManagerNamespace,
      namespace: ns,
      serviceNames: certificateServiceNames(kinds),
      clientNamespaces: props.clientNamespaces,
    });

    const store = props.backup.objectStore
      ? objectStore(
          this,
          { namespace: ns, instance: this.instance, config: props.backup.objectStore, secretSource, sidecarResources: c.archiverResources },
          (n) => meta(n, 'backup'),
        )
      : undefined;
    this.objectStoreName = store?.name;
    this.objectStoreSecret = store?.secret;

    const { queries, getkey } = this.instanceConfigMaps(meta);
    const instancePods = { 'cnpg.io/cluster': CLUSTER_NAME, 'cnpg.io/podRole': 'instance' };
    this.peer = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: instancePods } };

    const archiving = store !== undefined;
    const shared: SharedSpecInputs = {
      config: c,
      dataVolumeSize: props.dataVolumeSize,
      storage,
      priorityClassName: priorityClasses.data,
      serverTlsSecret: this.certificates.serverSecretName,
      pgsodium: { secret: this.pgsodiumSecret, getkeyConfigMap: getkey.name },
      roleSecrets: this.roleSecrets,
      archiving,
    };
    const podLabels = (component: string) => standardLabels(this.labelSpec({ name: 'postgres', component, version }));
    this.recoverySpec = (component: string) => ({ labels: podLabels(component), spec: sharedSpec(shared, podLabels(component)) });
    new Cluster(this, 'cluster', {
      metadata: { ...meta(CLUSTER_NAME), annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' } },
      spec: mainSpec(sharedSpec(shared, podLabels('database')), c, {
        clusterName: CLUSTER_NAME,
        description: `The platform database (${this.instance})`,
        queriesConfigMap: queries.name,
        objectStoreName: store?.name,
        snapshotClassName: props.backup.postgresSnapshots ? storage.snapshotClassName : undefined,
      }),
    });

    const poolerMeta = (name: string) => this.metadata({ objectName: name, namespace: ns, name: 'pgbouncer', component: 'pooler', version });
    const poolerProps = {
      namespace: ns,
      instance: this.instance,
      clusterName: CLUSTER_NAME,
      config: c.poolers,
      priorityClassName: priorityClasses.data,
      version,
    };
    poolers(this, { ...poolerProps, serverTlsSecret: this.certificates.serverSecretName, roles: ['defi_app'] }, poolerMeta);
    this.poolers = { rw: poolerEndpoint('rw', ns), ...(c.poolers.ro ? { ro: poolerEndpoint('ro', ns) } : {}) };
    this.operatorPeer = cnpgOperatorPeer(props.operators.cnpgNamespace);
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

  /** The ConfigMaps every instance mounts: the custom metrics queries and pgsodium's getkey script. */
  private instanceConfigMaps(meta: (objectName: string, component?: string) => ApiObjectMetadata): { queries: k8s.KubeConfigMap; getkey: k8s.KubeConfigMap } {
    const queries = new k8s.KubeConfigMap(this, 'custom-queries', {
      metadata: meta('postgres-custom-queries', 'monitoring'),
      data: { [CUSTOM_QUERIES_KEY]: customQueriesYaml() },
    });
    const getkey = new k8s.KubeConfigMap(this, 'getkey', {
      metadata: meta('postgres-pgsodium-getkey'),
      data: { 'getkey.sh': projectFile('charts/postgres/files/pgsodium-getkey.sh') },
    });
    return { queries, getkey };
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
