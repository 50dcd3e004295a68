// Scheduled CSI VolumeSnapshots of the platform's other stateful volumes (Prometheus, Grafana,
// Loki, dev's Storage files): a CronJob runs snapshot-volumes.sh, which snapshots each claim,
// waits until it is ready and keeps a count per claim.
import type { BackupConfig } from '../../environments/backup';
import type { PlatformChart } from '../../lib/chart';
import { IMAGES } from '../../lib/images';
import { ScheduledJob } from '../../lib/job';
import { toApiServer } from '../../lib/network';
import { rolesIn } from '../../lib/rbac';
import { type BackupVolume, scriptStep } from './layout';

/** A claim to snapshot. */
export interface SnapshotTarget {
  readonly namespace: string;
  readonly claim: string;
}

export interface VolumeSnapshotsProps {
  /** The backup namespace, where the CronJob runs. */
  readonly namespace: string;
  readonly config: Pick<BackupConfig, 'volumeSnapshots' | 'sidecarResources'>;
  /** The claims to snapshot; no CronJob when empty. */
  readonly targets: readonly SnapshotTarget[];
  /** The scripts alone (the job never reads the backup volume). */
  readonly scripts: BackupVolume;
  /** Scripts whose change must restart the job's pods. */
  readonly restartOn: readonly string[];
}

/**
 * Scheduled CSI VolumeSnapshots of the stores the database backups do not cover
 * (snapshot-volumes.sh): kubectl in a shell image, with a Role in each target namespace that
 * may read claims and create, list and delete VolumeSnapshots, nothing else.
 */
export function volumeSnapshots(chart: PlatformChart, props: VolumeSnapshotsProps): void {
  const { targets, config } = props;
  if (targets.length === 0) return;
  const name = 'volume-snapshots';
  const version = IMAGES.kubectl.tag;
  const job = new ScheduledJob(chart, name, {
    name,
    component: 'backup',
    namespace: props.namespace,
    version,
    schedule: config.volumeSnapshots.schedule,
    backoffLimit: 2,
    activeDeadlineSeconds: 4 * 3600,
    restartOn: props.restartOn,
    pod: {
      kubernetesApiAccess: true,
      priorityClassName: chart.platform.priorityClasses.data,
      volumes: [...props.scripts.volumes],
      containers: [
        scriptStep({
          name,
          image: IMAGES.kubectl,
          shell: 'sh',
          script: 'snapshot-volumes.sh',
          env: [
            { name: 'SNAPSHOT_TARGETS', value: targets.map((t) => `${t.namespace}/${t.claim}`).join(' ') },
            { name: 'SNAPSHOT_CLASS', value: chart.platform.storage.snapshotClassName },
            { name: 'SNAPSHOT_RETAIN_COUNT', value: String(config.volumeSnapshots.retainCount) },
            // kubectl keeps its discovery cache under $HOME.
            { name: 'HOME', value: '/tmp' },
          ],
          resources: config.sidecarResources,
          volumeMounts: props.scripts.mounts,
        }),
      ],
    },
    network: { ingress: [], egress: toApiServer(chart.platform.network.apiServerCidrs) },
  });
  const meta = chart.metadata({ objectName: name, name, component: 'backup', version });
  rolesIn(job, meta, [...new Set(targets.map((t) => t.namespace))], { name: job.serviceAccountName, namespace: props.namespace }, [
    { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get'] },
    { apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  ]);
}
