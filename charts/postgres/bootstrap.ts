// Supabase's own initialisation under CloudNativePG: the operator runs neither the image's
// entrypoint nor its /docker-entrypoint-initdb.d scripts, so a Job with the same image runs them
// (files/bootstrap-supabase.sh): the image's init scripts and migrations in migrate.sh's order,
// then the platform's init SQL, once (a marker table), against the read-write Service. It is an
// Argo CD PostSync hook of the data layer: it runs after every sync and does nothing once done.
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { Resources } from '../../environments/fields';
import type { PlatformChart } from '../../lib/chart';
import { projectFile } from '../../lib/files';
import { IMAGES } from '../../lib/images';
import { selectorLabels } from '../../lib/labels';
import { type PortRule, workloadNetworkPolicy } from '../../lib/network';
import { hardenedPodSpec, podTemplateMetadata } from '../../lib/pod';
import { secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { serviceAccount } from '../../lib/service-account';
import type { DatabaseTls } from './tls';

export const BOOTSTRAP_JOB = 'postgres-bootstrap';
const SCRIPTS_DIR = '/opt/bootstrap';

/** Schemas PostgREST serves; the RLS baseline covers every table created in them. */
export const EXPOSED_SCHEMAS = ['public', 'storage', 'graphql_public'] as const;

export interface BootstrapProps {
  readonly namespace: string;
  /** The read-write Service's host name and port. */
  readonly host: string;
  readonly port: number;
  readonly tls: DatabaseTls;
  /** supabase_admin's login. */
  readonly adminSecret: SecretSpec;
  /** Roles the operator creates before the Job runs (the script lets the image's files create them). */
  readonly managedRoles: readonly string[];
  readonly resources: Resources;
  readonly priorityClassName: string;
  /** Labels that let the Job through the database's NetworkPolicy, and the egress it needs. */
  readonly clientLabels: Record<string, string>;
  readonly toDatabase: PortRule;
}

/** platform-init.sql with the exposed schemas filled in. */
export function platformInitSql(): string {
  const sql = projectFile('charts/postgres/files/platform-init.sql').replaceAll('__EXPOSED_SCHEMAS__', EXPOSED_SCHEMAS.map((s) => `'${s}'`).join(', '));
  if (/__[A-Z_]+__/.test(sql.replace(/^--.*$/gm, ''))) throw new Error('internal: platform-init.sql has an unfilled placeholder');
  return sql;
}

export function bootstrapJob(chart: PlatformChart, props: BootstrapProps): void {
  const ns = props.namespace;
  const labels = { name: BOOTSTRAP_JOB, component: 'bootstrap', version: IMAGES.postgres.tag };
  const files = { 'bootstrap-supabase.sh': projectFile('charts/postgres/files/bootstrap-supabase.sh'), 'platform-init.sql': platformInitSql() };
  const configMap = new k8s.KubeConfigMap(chart, 'bootstrap-files', {
    metadata: chart.metadata({ ...labels, objectName: BOOTSTRAP_JOB, namespace: ns }),
    data: files,
  });
  const meta = chart.metadata({
    ...labels,
    objectName: BOOTSTRAP_JOB,
    namespace: ns,
    annotations: {
      // After every sync of the data layer, once the Cluster is healthy; the previous run is
      // replaced (a Job's template cannot change in place).
      'argocd.argoproj.io/hook': 'PostSync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
    },
  });
  const account = serviceAccount(chart, chart.metadata({ ...labels, objectName: BOOTSTRAP_JOB, namespace: ns }));
  new k8s.KubeJob(chart, 'bootstrap', {
    metadata: meta,
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 7 * 24 * 3600,
      template: {
        metadata: podTemplateMetadata(meta.labels, props.clientLabels, Object.values(files)),
        spec: hardenedPodSpec({
          serviceAccountName: account.name,
          priorityClassName: props.priorityClassName,
          restartPolicy: 'Never',
          volumes: [
            { name: 'files', configMap: { name: configMap.name, defaultMode: 0o555 } },
            { name: 'postgres-ca', secret: { secretName: props.tls.caSecretName, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          ],
          containers: [
            {
              name: 'bootstrap',
              image: IMAGES.postgres,
              command: ['bash', `${SCRIPTS_DIR}/bootstrap-supabase.sh`],
              env: [
                { name: 'PGHOST', value: props.host },
                { name: 'PGPORT', value: String(props.port) },
                { name: 'PGDATABASE', value: 'postgres' },
                { name: 'PGUSER', value: 'supabase_admin' },
                { name: 'PGPASSWORD', valueFrom: secretKeyRef(props.adminSecret, 'password') },
                { name: 'PGSSLMODE', value: 'verify-full' },
                { name: 'PGSSLROOTCERT', value: props.tls.caFile },
                { name: 'PGAPPNAME', value: BOOTSTRAP_JOB },
                { name: 'MIGRATIONS_DIR', value: '/docker-entrypoint-initdb.d' },
                { name: 'PLATFORM_INIT_SQL', value: `${SCRIPTS_DIR}/platform-init.sql` },
                { name: 'MANAGED_ROLES', value: props.managedRoles.join(' ') },
                { name: 'IMAGE_TAG', value: IMAGES.postgres.tag },
              ],
              resources: props.resources,
              volumeMounts: [
                { name: 'files', mountPath: SCRIPTS_DIR, readOnly: true },
                { name: 'postgres-ca', mountPath: props.tls.mountPath, readOnly: true },
              ],
              writablePaths: [{ path: '/tmp' }],
            },
          ],
        }),
      },
    },
  });
  workloadNetworkPolicy(new Construct(chart, 'bootstrap-network'), chart.metadata({ ...labels, objectName: BOOTSTRAP_JOB, namespace: ns }), {
    selector: selectorLabels(chart.labelSpec(labels)),
    ingress: [],
    egress: [props.toDatabase],
  });
}
