// What checks a recovery Cluster, shared by the on-demand restore and the weekly drill: rclone
// lists the WAL archive and fetches its newest segment (list-archive.sh), then the PostgreSQL
// image's psql and pg_waldump decide whether the restore reached it (check-recovery.sh,
// verify-recovery.sh). Also the NetworkPolicy of a recovery Cluster's pods: the operator and the
// check may reach them; they may reach the object store and the API server, nothing else.
import type { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { BackupConfig } from '../../environments/backup';
import { projectFile } from '../../lib/files';
import { IMAGES } from '../../lib/images';
import { selectorLabels } from '../../lib/labels';
import { INTERNET, type Peer, type PortRule, toApiServer, workloadNetworkPolicy } from '../../lib/network';
import type { ContainerSpec } from '../../lib/pod';
import { secretKeyRef } from '../../lib/secrets';
import { type Endpoint, egressTo, serviceHost } from '../../lib/endpoint';
import { PG_PORT, STATUS_PORT } from '../postgres/network';
import type { RecoverableDatabase } from '../postgres/postgres-chart';

/** Where the check's scripts are mounted. */
export const RECOVERY_SCRIPTS_DIR = '/opt/recovery';
/** The folder list-archive.sh writes and check-recovery.sh reads. */
export const WORK = '/work';

/** A recovery Cluster: its name (its read-write Service is <name>-rw) and its pods' component label. */
export interface RecoveryClusterRef {
  readonly name: string;
  readonly component: string;
}

/** The read-write Service of a recovery Cluster of `db`, and its instance's pods. */
export function recoveryEndpoint(db: Pick<RecoverableDatabase, 'dataNamespace'>, cluster: RecoveryClusterRef, instance: string): Endpoint {
  return {
    host: serviceHost(`${cluster.name}-rw`, db.dataNamespace),
    port: PG_PORT,
    peer: recoveryPods(db.dataNamespace, cluster.component, instance),
    // The recovery Cluster's policy admits its checkers by their own pods (`recoveryClusterNetworkPolicy`).
    clientLabels: {},
  };
}

export interface RecoveryCheckProps {
  readonly db: RecoverableDatabase;
  readonly store: NonNullable<BackupConfig['objectStore']>;
  /** The environment name: the database's folder in the object store. */
  readonly instance: string;
  /** The recovery Cluster to check. */
  readonly recovery: Endpoint;
  /** The ConfigMap holding list-archive.sh, check-recovery.sh and verify-recovery.sh. */
  readonly scriptsConfigMap: string;
  readonly resources: BackupConfig['resources'];
  readonly sidecarResources: BackupConfig['sidecarResources'];
}

/** The check's volumes, its init step (rclone) and its checking step (psql, pg_waldump). */
/** The scripts a recovery check runs (list-archive.sh, check-recovery.sh, verify-recovery.sh), for its ConfigMap. */
export function recoveryScripts(): Record<string, string> {
  return {
    'list-archive.sh': projectFile('charts/backup/files/list-archive.sh'),
    'check-recovery.sh': projectFile('charts/backup/files/check-recovery.sh'),
    'verify-recovery.sh': projectFile('charts/postgres/files/verify-recovery.sh'),
  };
}

/** The pod of a recovery check: its volumes, the two containers, and the scripts and work mounts for further steps. */
export function recoveryCheckPod(
  props: RecoveryCheckProps,
  target: string,
): { volumes: k8s.Volume[]; list: ContainerSpec; check: ContainerSpec; mounts: { scripts: k8s.VolumeMount; work: k8s.VolumeMount } } {
  const ns = props.db.dataNamespace;
  const tls = props.db.tlsFor(ns);
  const store = props.db.objectStoreSecret!;
  const rclone = (name: string, value: string) => ({ name: `RCLONE_CONFIG_STORE_${name}`, value });
  const scripts = { name: 'recovery-scripts', mountPath: RECOVERY_SCRIPTS_DIR, readOnly: true };
  const work = { name: 'work', mountPath: WORK };
  return {
    mounts: { scripts, work },
    volumes: [
      { name: 'recovery-scripts', configMap: { name: props.scriptsConfigMap, defaultMode: 0o555 } },
      { name: 'work', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
      { name: 'postgres-ca', secret: { secretName: tls.caSecretName, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
    ],
    list: {
      name: 'list-archive',
      image: IMAGES.rclone,
      command: ['sh', `${RECOVERY_SCRIPTS_DIR}/list-archive.sh`],
      env: [
        // barman's layout: <destinationPath>/<serverName>/wals/<timeline and log>/<segment>.
        { name: 'ARCHIVE', value: `store:${props.store.bucket}/${props.instance}/${props.db.clusterName}/wals` },
        { name: 'WORK', value: WORK },
        { name: 'HOME', value: '/tmp' },
        rclone('TYPE', 's3'),
        rclone('PROVIDER', props.store.endpoint ? 'Other' : 'AWS'),
        rclone('REGION', props.store.region),
        ...(props.store.endpoint ? [rclone('ENDPOINT', props.store.endpoint)] : []),
        { name: 'RCLONE_CONFIG_STORE_ACCESS_KEY_ID', valueFrom: secretKeyRef(store, 'ACCESS_KEY_ID') },
        { name: 'RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY', valueFrom: secretKeyRef(store, 'ACCESS_SECRET_KEY') },
      ],
      resources: props.sidecarResources,
      volumeMounts: [scripts, work],
      writablePaths: [{ path: '/tmp' }],
    },
    check: {
      name: 'check-recovery',
      image: IMAGES.postgres,
      command: ['bash', `${RECOVERY_SCRIPTS_DIR}/check-recovery.sh`],
      env: [
        { name: 'PGHOST', value: props.recovery.host },
        { name: 'PGPORT', value: String(props.recovery.port) },
        { name: 'PGDATABASE', value: 'postgres' },
        { name: 'PGUSER', value: 'supabase_admin' },
        { name: 'PGPASSWORD', valueFrom: props.db.passwordRef('supabase_admin') },
        { name: 'PGSSLMODE', value: 'verify-full' },
        { name: 'PGSSLROOTCERT', value: tls.caFile },
        { name: 'PGAPPNAME', value: 'check-recovery' },
        { name: 'RECOVERY_TARGET', value: target },
        { name: 'WORK', value: WORK },
        { name: 'SCRIPTS', value: RECOVERY_SCRIPTS_DIR },
      ],
      resources: props.resources,
      volumeMounts: [scripts, work, { name: 'postgres-ca', mountPath: tls.mountPath, readOnly: true }],
      writablePaths: [{ path: '/tmp' }],
    },
  };
}

/** Egress of a pod that checks a recovery Cluster: its instance, and the object store. */
export function toRecoveryCluster(recovery: Endpoint): PortRule[] {
  return [egressTo(recovery), { port: 443, peers: [INTERNET] }];
}

/** The pods of the recovery Clusters of one component ("recovery", "drill"), by the labels their inheritedMetadata gives them. */
export function recoveryPods(namespace: string, component: string, instance: string): Peer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    podSelector: { matchLabels: selectorLabels({ name: 'postgres', instance, component }) },
  };
}

/**
 * The recovery Cluster's own NetworkPolicy: the operator and `checkers` may reach its instance; it
 * may reach the object store (the base backup and WAL) and the API server (its instance manager).
 */
export function recoveryClusterNetworkPolicy(
  scope: Construct,
  metadata: ApiObjectMetadata,
  props: { instance: string; component: string; operator: Peer; checkers: Peer[]; apiServerCidrs: readonly string[] },
): void {
  workloadNetworkPolicy(scope, metadata, {
    selector: selectorLabels({ name: 'postgres', instance: props.instance, component: props.component }),
    ingress: [
      { port: PG_PORT, peers: [...props.checkers, props.operator] },
      { port: STATUS_PORT, peers: [props.operator] },
    ],
    egress: [{ port: 443, peers: [INTERNET] }, ...toApiServer(props.apiServerCidrs)],
  });
}
