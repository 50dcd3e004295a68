// The weekly restore drill: a CronJob that lists the archive (list-archive.sh, rclone), creates a
// scratch recovery Cluster from the object store (drill-create.sh, kubectl: the time to ready is
// the RTO), checks the recovery reached at least the end of the archive as listed, the newest canary row (the
// RPO) and pg_amcheck, records the result in the platform database (drill-check.sh), and deletes
// the scratch Cluster (drill-cleanup.sh). The Cluster is owned by the drill's Job, so it goes
// with the Job whatever step fails. Its Role may only touch Clusters named postgres-drill, and an
// admission policy lets it create only a one-instance recovery Cluster of that name that archives
// nothing.
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { BackupConfig } from '../../environments/backup';
import type { PlatformChart } from '../../lib/chart';
import { egressTo } from '../../lib/endpoint';
import { projectFile } from '../../lib/files';
import { manifestYaml } from '../../lib/output';
import { IMAGES } from '../../lib/images';
import { ScheduledJob } from '../../lib/job';
import { prefixed } from '../../lib/names';
import { toApiServer } from '../../lib/network';
import { rolesIn } from '../../lib/rbac';
import type { RecoverableDatabase } from '../postgres/postgres-chart';
import { BACKUP_ROLE } from '../postgres/roles';
import { RECOVERY_CLUSTERS, recoveryCluster } from '../postgres/recovery';
import {
  RECOVERY_SCRIPTS_DIR,
  WORK,
  recoveryCheckPod,
  recoveryClusterNetworkPolicy,
  recoveryEndpoint,
  recoveryScripts,
  toRecoveryCluster,
} from './recovery-check';

/** The drill's CronJob (the alerts watch it by this name). */
export const DRILL = 'postgres-restore-drill';
/** The freshest canary row a drill may recover: the archive's RPO bound with room (archive_timeout is 60 s). */
export const DRILL_MAX_RPO_SECONDS = 300;

export interface DrillProps {
  /** The backup namespace, where the drill runs (the database's own). */
  readonly namespace: string;
  readonly config: BackupConfig;
  /** The object store the scratch Cluster recovers from. */
  readonly store: NonNullable<BackupConfig['objectStore']>;
  /** The database: what the scratch Cluster repeats, and where the drill records its result. */
  readonly db: RecoverableDatabase;
}

export function restoreDrill(chart: PlatformChart, props: DrillProps): void {
  const ns = props.namespace;
  const { instance, network } = chart.platform;
  const version = IMAGES.postgres.tag;
  const labels = { name: DRILL, component: 'backup', version };
  const meta = (objectName: string = DRILL) => chart.metadata({ ...labels, objectName, namespace: ns });
  const scratch = { name: RECOVERY_CLUSTERS.drill, component: 'drill' };
  const recovery = recoveryEndpoint(props.db, scratch, instance);

  const manifest = recoveryCluster(props.db, { ...scratch, target: { kind: 'latest' } });
  const files = {
    'cluster.yaml': manifestYaml(manifest),
    'drill-create.sh': projectFile('charts/backup/files/drill-create.sh'),
    'drill-check.sh': projectFile('charts/backup/files/drill-check.sh'),
    'drill-cleanup.sh': projectFile('charts/backup/files/drill-cleanup.sh'),
    ...recoveryScripts(),
  };

  const pod = recoveryCheckPod(
    // The ConfigMap of `files`, made below beside the CronJob under the drill's own name.
    {
      db: props.db,
      store: props.store,
      instance,
      recovery,
      scriptsConfigMap: DRILL,
      resources: props.config.resources,
      sidecarResources: props.config.sidecarResources,
    },
    'latest',
  );
  const kubectlEnv: k8s.EnvVar[] = [
    { name: 'DRILL_CLUSTER', value: RECOVERY_CLUSTERS.drill },
    { name: 'WORK', value: WORK },
    // kubectl keeps its discovery cache under $HOME.
    { name: 'HOME', value: '/tmp' },
  ];
  const { scripts, work } = pod.mounts;
  const maxRto = props.config.drill.maxRtoMinutes * 60;
  // Each step records a problem in $WORK/failed and lets the next run, so the result is recorded
  // and the scratch Cluster deleted whatever failed; the last step fails the Job.
  const keepGoing = (script: string, what: string) => ['sh', '-c', `sh ${RECOVERY_SCRIPTS_DIR}/${script} || echo "${what} failed" >> ${WORK}/failed`];
  const check = pod.check;
  const checkEnv = (check.env ?? []).filter((e) => e.name !== 'RECOVERY_TARGET');

  const drill = new ScheduledJob(chart, DRILL, {
    ...labels,
    namespace: ns,
    schedule: props.config.drill.schedule,
    activeDeadlineSeconds: maxRto + 4 * 3600,
    podLabels: props.db.clientLabels,
    restartOn: Object.values(files),
    pod: {
      kubernetesApiAccess: true,
      priorityClassName: chart.platform.priorityClasses.data,
      volumes: pod.volumes,
      initContainers: [
        // The archive first: the recovery must then reach at least what it held when the drill began
        // (the database goes on archiving while the scratch Cluster recovers).
        { ...pod.list, command: keepGoing('list-archive.sh', 'listing the archive') },
        {
          name: 'create',
          image: IMAGES.kubectl,
          command: ['sh', `${RECOVERY_SCRIPTS_DIR}/drill-create.sh`],
          env: [
            ...kubectlEnv,
            { name: 'DRILL_MANIFEST', value: `${RECOVERY_SCRIPTS_DIR}/cluster.yaml` },
            { name: 'MAX_RTO_SECONDS', value: String(maxRto) },
            { name: 'JOB_NAME', valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } } },
          ],
          resources: props.config.sidecarResources,
          volumeMounts: [scripts, work],
          writablePaths: [{ path: '/tmp' }],
        },
        {
          ...check,
          name: 'check',
          command: ['bash', `${RECOVERY_SCRIPTS_DIR}/drill-check.sh`],
          env: [
            ...checkEnv,
            { name: 'RECORD_HOST', value: props.db.host },
            { name: 'RECORD_USER', value: BACKUP_ROLE },
            { name: 'RECORD_PASSWORD', valueFrom: props.db.passwordRef(BACKUP_ROLE) },
            { name: 'MAX_RPO_SECONDS', value: String(DRILL_MAX_RPO_SECONDS) },
          ],
        },
      ],
      containers: [
        {
          name: 'cleanup',
          image: IMAGES.kubectl,
          command: ['sh', `${RECOVERY_SCRIPTS_DIR}/drill-cleanup.sh`],
          env: kubectlEnv,
          resources: props.config.sidecarResources,
          volumeMounts: [scripts, work],
          writablePaths: [{ path: '/tmp' }],
        },
      ],
    },
    network: { ingress: [], egress: [...toRecoveryCluster(recovery), egressTo(props.db), ...toApiServer(network.apiServerCidrs)] },
  });
  new k8s.KubeConfigMap(drill, 'files', { metadata: meta(), data: files });

  recoveryClusterNetworkPolicy(
    new Construct(drill, 'scratch'),
    chart.metadata({ objectName: RECOVERY_CLUSTERS.drill, namespace: ns, name: 'postgres', component: 'drill', version }),
    {
      instance,
      component: 'drill',
      operator: props.db.operatorPeer,
      checkers: [drill.peer],
      apiServerCidrs: network.apiServerCidrs,
    },
  );

  // Its own scratch Cluster only: create cannot name a resource in RBAC, so the admission policy
  // below holds creation to that one name and shape.
  rolesIn(drill, meta(), [ns], { name: drill.serviceAccountName, namespace: ns }, [
    { apiGroups: ['postgresql.cnpg.io'], resources: ['clusters'], verbs: ['create'] },
    {
      apiGroups: ['postgresql.cnpg.io'],
      resources: ['clusters'],
      resourceNames: [RECOVERY_CLUSTERS.drill],
      verbs: ['get', 'list', 'watch', 'patch', 'delete'],
    },
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
  ]);
  const user = `system:serviceaccount:${ns}:${drill.serviceAccountName}`;
  const policyName = prefixed(chart.platform.prefix, DRILL);
  const policyMeta = chart.metadata({ ...labels, objectName: policyName });
  new k8s.KubeValidatingAdmissionPolicy(drill, 'admission-policy', {
    metadata: policyMeta,
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{ apiGroups: ['postgresql.cnpg.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['clusters'] }],
      },
      matchConditions: [{ name: 'the-drill', expression: `request.userInfo.username == '${user}'` }],
      validations: [
        {
          expression: `object.metadata.name == '${RECOVERY_CLUSTERS.drill}'`,
          message: `the restore drill may only create the Cluster ${RECOVERY_CLUSTERS.drill}`,
        },
        { expression: 'has(object.spec.bootstrap) && has(object.spec.bootstrap.recovery)', message: 'the restore drill may only create a recovery Cluster' },
        { expression: 'object.spec.instances == 1', message: 'the scratch Cluster has one instance' },
        {
          expression: '!has(object.spec.plugins) || object.spec.plugins.all(p, !has(p.isWALArchiver) || !p.isWALArchiver)',
          message: 'the scratch Cluster must never archive WAL (into the production store)',
        },
      ],
    },
  });
  new k8s.KubeValidatingAdmissionPolicyBinding(drill, 'admission-policy-binding', {
    metadata: policyMeta,
    spec: { policyName, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } } },
  });
}
