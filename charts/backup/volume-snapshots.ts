// Scheduled CSI VolumeSnapshots of the platform's other stateful volumes (Prometheus, Grafana,
// Loki, dev's Storage files): a CronJob runs snapshot-volumes.sh, which snapshots each claim,
// waits until it is ready and keeps a count per claim.
import type { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { PlatformChart } from '../../lib/chart';
import { IMAGES } from '../../lib/images';
import { toApiServer } from '../../lib/network';
import { rolesIn } from '../../lib/rbac';
import type { BackupChartProps, CronJobSpec } from './backup-chart';

/**
 * Scheduled CSI VolumeSnapshots of the stores the database backups do not cover
 * (snapshot-volumes.sh): kubectl in a shell image, with a Role in each target namespace that
 * may read claims and create, list and delete VolumeSnapshots, nothing else.
 */
export function volumeSnapshots(chart: PlatformChart, props: BackupChartProps, cronJob: (spec: CronJobSpec) => Construct, scriptVolumes: { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[] }): void {
  const { className, targets } = props.volumeSnapshots;
  if (targets.length === 0) return;
  const name = 'volume-snapshots';
  const scope = cronJob({
    name,
    schedule: props.config.volumeSnapshots.schedule,
    image: IMAGES.kubectl,
    shell: 'sh',
    script: 'snapshot-volumes.sh',
    env: [
      { name: 'SNAPSHOT_TARGETS', value: targets.map((t) => `${t.namespace}/${t.claim}`).join(' ') },
      { name: 'SNAPSHOT_CLASS', value: className },
      { name: 'SNAPSHOT_RETAIN_COUNT', value: String(props.config.volumeSnapshots.retainCount) },
      // kubectl keeps its discovery cache under $HOME.
      { name: 'HOME', value: '/tmp' },
    ],
    clientLabels: {},
    egress: toApiServer(props.apiServerCidrs),
    kubernetesApiAccess: true,
    resources: props.config.sidecarResources,
    storage: scriptVolumes,
  });
  const meta = chart.metadata({ objectName: name, name, component: 'backup', version: IMAGES.kubectl.tag });
  rolesIn(scope, meta, [...new Set(targets.map((t) => t.namespace))], { name, namespace: props.namespace }, [
    { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get'] },
    { apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  ]);
}
