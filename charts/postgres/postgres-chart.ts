// PostgreSQL 15 (supabase/postgres) as a single-instance StatefulSet: generated configuration
// and init SQL in ConfigMaps, credentials by reference, postgres_exporter beside it, probes that
// tolerate crash recovery, and a fast clean shutdown. Other charts connect through the outputs
// (`host`, `port`, `credentials`, `clientLabels`) rather than retyping names.
import { k8s } from 'cdk8s-plus-33';
import { EXTRA_CLAIMS, type PostgresConfig } from '../../environments/data-tier';
import type { Environment } from '../../environments/schema';
import { PlatformChart } from '../../lib/chart';
import { projectFile } from '../../lib/files';
import { IMAGES } from '../../lib/images';
import { accessLabel, clientsOf, prometheusPeer, workloadNetworkPolicy } from '../../lib/network';
import { quantity } from '../../lib/quantity';
import { provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { StatefulService } from '../../lib/stateful-set';
import { PG_PATHS, PG_PORT, pgHbaConf, pgIdentConf, postgresqlConf, supabaseDropIn } from './config';
import { LOGIN_ROLES, type LoginRole, postgresCredentials } from './credentials';
import type { Construct } from 'constructs';

/** Schemas PostgREST serves; the RLS baseline covers every table created in them. */
export const EXPOSED_SCHEMAS = ['public', 'storage', 'graphql_public'] as const;

/** The operating-system user the server runs as (see the passwd entry below). */
export const POSTGRES_UID = 10001;
const METRICS_PORT = 9187;

export interface PostgresChartProps {
  /** Environment name; the instance label. */
  readonly instance: string;
  /** Namespace of the data tier (foundation's "supabase" namespace). */
  readonly namespace: string;
  /** Namespace whose Prometheus may scrape the exporter. */
  readonly observabilityNamespace: string;
  /** PriorityClass for data workloads (foundation). */
  readonly priorityClassName: string;
  /** Replicas, resources and tuning inputs from the environment. */
  readonly config: PostgresConfig;
  readonly storageClassName: string;
  /** Size of the data volume. */
  readonly dataVolumeSize: string;
  /** Pod address ranges that may log in (pg_hba.conf). */
  readonly podCidrs: readonly string[];
  /** Where the credentials Secret comes from. */
  readonly secrets: Environment['secrets'];
}

export class PostgresChart extends PlatformChart {
  /** Service name clients connect to, within `namespace`. */
  public readonly serviceName: string;
  /** Fully qualified host name of the Service. */
  public readonly host: string;
  public readonly port = PG_PORT;
  /** The Secret holding one password per login role. */
  public readonly credentials: SecretSpec;
  /** Labels a client pod needs so the database's NetworkPolicy lets it in. */
  public readonly clientLabels = accessLabel('postgres');
  public readonly exposedSchemas = EXPOSED_SCHEMAS;

  constructor(scope: Construct, id: string, props: PostgresChartProps) {
    super(scope, id, { layer: 'data', instance: props.instance });
    const ns = props.namespace;
    const version = IMAGES.postgres.tag;
    const meta = (objectName: string, component = 'database') =>
      this.metadata({ objectName, namespace: ns, name: 'postgres', component, version });

    this.credentials = postgresCredentials(ns);
    provideSecret(this, 'credentials', props.secrets, this.credentials, meta(this.credentials.name));
    const pgsodium: SecretSpec = {
      name: 'postgres-pgsodium',
      namespace: ns,
      description: 'The pgsodium root key, from which pgsodium and Vault derive their encryption keys',
      keys: [{ key: 'root-key', description: 'pgsodium root key: back it up with the database, it cannot be recovered', generate: { kind: 'hex', bytes: 32 } }],
    };
    provideSecret(this, 'pgsodium', props.secrets, pgsodium, meta(pgsodium.name));

    const limits = props.config.resources.limits;
    const files = {
      'postgresql.conf': postgresqlConf({
        memoryBytes: quantity(limits.memory),
        cpuCores: quantity(props.config.resources.requests.cpu),
        maxConnections: props.config.tuning.maxConnections,
        profile: props.config.tuning.profile,
        storageType: props.config.tuning.storageType,
        logMinDurationMs: props.config.tuning.logMinDurationMs,
        dataVolumeBytes: quantity(props.dataVolumeSize),
        podCidrs: props.podCidrs,
      }),
      'supabase.conf': supabaseDropIn(),
      'pg_hba.conf': pgHbaConf(props.podCidrs),
      'pg_ident.conf': pgIdentConf(),
      'prepare-custom-config.sh': projectFile('charts/postgres/files/prepare-custom-config.sh'),
      // initdb and peer authentication need the server's user to have a name: "postgres".
      passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\npostgres:x:${POSTGRES_UID}:${POSTGRES_UID}:PostgreSQL:/var/lib/postgresql:/usr/sbin/nologin\n`,
      group: `root:x:0:\npostgres:x:${POSTGRES_UID}:\n`,
    };
    const config = new k8s.KubeConfigMap(this, 'config', { metadata: meta('postgres-config'), data: files });
    const initSql = platformInitSql();
    const init = new k8s.KubeConfigMap(this, 'init', { metadata: meta('postgres-init'), data: { 'platform-init.sql': initSql } });

    const roleEnv = (Object.keys(LOGIN_ROLES) as LoginRole[]).map((role) => ({
      name: LOGIN_ROLES[role].env,
      valueFrom: secretKeyRef(this.credentials, LOGIN_ROLES[role].key),
    }));
    const pgReady = (host: string) => ['pg_isready', '--quiet', '-h', host, '-p', String(PG_PORT), '-U', 'supabase_admin', '-d', 'postgres'];
    const shm = Math.min(Math.max(quantity(limits.memory) / 16, 64 * 2 ** 20), 2 ** 30);

    const service = new StatefulService(this, 'postgres', {
      name: 'postgres',
      component: 'database',
      namespace: ns,
      version,
      replicas: props.config.replicas,
      disruption: props.config.disruption,
      ports: [
        { name: 'postgres', port: PG_PORT },
        { name: 'metrics', port: METRICS_PORT },
      ],
      claims: [
        { name: 'data', size: props.dataVolumeSize, storageClassName: props.storageClassName },
        { name: 'custom-config', size: EXTRA_CLAIMS.postgres.size, storageClassName: props.storageClassName },
      ],
      restartOn: [...Object.values(files), initSql],
      pod: {
        identity: { uid: POSTGRES_UID, gid: POSTGRES_UID },
        priorityClassName: props.priorityClassName,
        // Time for the fast shutdown to finish its checkpoint (and the last WAL to reach backups).
        terminationGracePeriodSeconds: 120,
        volumes: [
          {
            name: 'config',
            configMap: {
              name: config.name,
              items: [
                { key: 'postgresql.conf', path: 'postgresql.conf' },
                { key: 'pg_hba.conf', path: 'pg_hba.conf' },
                { key: 'pg_ident.conf', path: 'pg_ident.conf' },
                { key: 'supabase.conf', path: 'conf.d/supabase.conf' },
                { key: 'prepare-custom-config.sh', path: 'prepare-custom-config.sh' },
                { key: 'passwd', path: 'passwd' },
                { key: 'group', path: 'group' },
              ],
            },
          },
          { name: 'init', configMap: { name: init.name } },
        ],
        initContainers: [
          {
            // The image ships supautils.conf and its extension scripts in /etc/postgresql-custom,
            // which the volume hides: the script copies them in on every start and puts the
            // pgsodium root key from its Secret in place (never replacing a different one).
            name: 'custom-config',
            image: IMAGES.postgres,
            command: ['sh', `${PG_PATHS.configDir}/prepare-custom-config.sh`, PG_PATHS.customDir, '/custom'],
            env: [{ name: 'PGSODIUM_ROOT_KEY', valueFrom: secretKeyRef(pgsodium, 'root-key') }],
            resources: props.config.helperResources,
            volumeMounts: [
              { name: 'custom-config', mountPath: '/custom' },
              { name: 'config', mountPath: PG_PATHS.configDir, readOnly: true },
            ],
          },
        ],
        containers: [
          {
            name: 'postgres',
            image: IMAGES.postgres,
            args: ['postgres', '-D', PG_PATHS.configDir],
            env: [
              { name: 'PGDATA', value: PG_PATHS.pgdata },
              { name: 'POSTGRES_HOST', value: PG_PATHS.socketDir },
              { name: 'PGPORT', value: String(PG_PORT) },
              { name: 'POSTGRES_DB', value: 'postgres' },
              ...roleEnv,
            ],
            ports: [{ name: 'postgres', containerPort: PG_PORT }],
            resources: props.config.resources,
            volumeMounts: [
              { name: 'data', mountPath: PG_PATHS.dataMount },
              { name: 'custom-config', mountPath: PG_PATHS.customDir },
              { name: 'config', mountPath: PG_PATHS.configDir, readOnly: true },
              { name: 'config', mountPath: '/etc/passwd', subPath: 'passwd', readOnly: true },
              { name: 'config', mountPath: '/etc/group', subPath: 'group', readOnly: true },
              { name: 'init', mountPath: '/docker-entrypoint-initdb.d/zz-platform-init.sql', subPath: 'platform-init.sql', readOnly: true },
            ],
            writablePaths: [
              { path: PG_PATHS.socketDir, sizeLimit: '1Mi' },
              { path: '/tmp', sizeLimit: '256Mi' },
              // Parallel query and hash joins use POSIX shared memory; it counts against the memory limit.
              { path: '/dev/shm', sizeLimit: `${Math.floor(shm / 2 ** 20)}Mi`, medium: 'Memory' },
            ],
            // First boot runs initdb and the migrations; a restart after a crash replays WAL. Both
            // can take long, so the startup probe allows an hour before liveness takes over.
            startupProbe: { exec: { command: pgReady(PG_PATHS.socketDir) }, periodSeconds: 10, failureThreshold: 360, timeoutSeconds: 5 },
            readinessProbe: { exec: { command: pgReady('127.0.0.1') }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
            // Alive unless the server does not answer at all: "rejecting connections" (exit 1,
            // e.g. during recovery or shutdown) must not get it killed.
            livenessProbe: {
              exec: { command: ['sh', '-c', `pg_isready -q -h ${PG_PATHS.socketDir} -p ${PG_PORT}; test $? -ne 2`] },
              periodSeconds: 20,
              failureThreshold: 6,
              timeoutSeconds: 10,
            },
            // SIGTERM would start a "smart" shutdown that waits for every client to leave.
            lifecycle: { preStop: { exec: { command: ['pg_ctl', '-D', PG_PATHS.pgdata, '-m', 'fast', '-w', '-t', '100', 'stop'] } } },
          },
          {
            name: 'exporter',
            image: IMAGES.postgresExporter,
            args: [
              `--web.listen-address=:${METRICS_PORT}`,
              '--collector.xlog_location',
              '--collector.long_running_transactions',
              '--collector.postmaster',
            ],
            env: [
              { name: 'DATA_SOURCE_URI', value: `127.0.0.1:${PG_PORT}/postgres?sslmode=disable` },
              { name: 'DATA_SOURCE_USER', value: 'platform_exporter' },
              { name: 'DATA_SOURCE_PASS', valueFrom: secretKeyRef(this.credentials, LOGIN_ROLES.platform_exporter.key) },
            ],
            ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
            resources: props.config.helperResources,
            readinessProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 15 },
            livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 30, failureThreshold: 3 },
          },
        ],
      },
    });
    this.serviceName = service.serviceName;
    this.host = `${service.serviceName}.${ns}.svc.cluster.local`;

    workloadNetworkPolicy(service, meta('postgres'), {
      selector: service.selector,
      ingress: [
        { port: PG_PORT, peers: [clientsOf('postgres', props.instance)] },
        { port: METRICS_PORT, peers: [prometheusPeer(props.observabilityNamespace)] },
      ],
      // The server opens no connections (DNS is allowed namespace-wide).
      egress: [],
    });
  }

  /** The secretKeyRef for a login role's password. */
  public passwordRef(role: LoginRole): { secretKeyRef: { name: string; key: string } } {
    return secretKeyRef(this.credentials, LOGIN_ROLES[role].key);
  }
}

/** platform-init.sql with the exposed schemas and the password statements filled in. */
function platformInitSql(): string {
  const template = projectFile('charts/postgres/files/platform-init.sql');
  // supabase_admin's password is set by the image's entrypoint (POSTGRES_PASSWORD) before this runs.
  const passwords = (Object.keys(LOGIN_ROLES) as LoginRole[])
    .filter((role) => role !== 'supabase_admin')
    .map((role) => `\\set pw \`printf '%s' "$${LOGIN_ROLES[role].env}"\`\nSELECT platform.set_password('${role}', :'pw');`)
    .join('\n');
  const sql = template
    .replaceAll('__EXPOSED_SCHEMAS__', EXPOSED_SCHEMAS.map((s) => `'${s}'`).join(', '))
    .replace(/^__SET_PASSWORDS__$/m, passwords);
  if (/__[A-Z_]+__/.test(sql.replace(/^--.*$/gm, ''))) throw new Error('internal: platform-init.sql has an unfilled placeholder');
  return sql;
}
