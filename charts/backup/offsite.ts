// The off-site copy of Redis snapshots: rclone runs after each snapshot (offsite-copy.sh)
// and copies the verified snapshots to the environment's S3-compatible bucket; credentials from
// the Secret backup-offsite.
import { type k8s } from 'cdk8s-plus-33';
import type { BackupConfig } from '../../environments/backup';
import type { PlatformChart } from '../../lib/chart';
import { IMAGES } from '../../lib/images';
import { INTERNET, type PortRule } from '../../lib/network';
import type { ContainerSpec } from '../../lib/pod';
import { provideSecret, secretKeyRef, type SecretSpec } from '../../lib/secrets';
import { BACKUP_ROOT, SCRIPTS_DIR } from './layout';

export interface OffsiteCopyProps {
  /** The backup namespace, where the bucket's credentials Secret is. */
  readonly namespace: string;
  /** The bucket (none: no copy) and the helper container's resources. */
  readonly config: Pick<BackupConfig, 'offsite' | 'sidecarResources'>;
  /** The backup volume and the scripts, as the snapshot step mounts them. */
  readonly mounts: readonly k8s.VolumeMount[];
}

/** rclone after the Redis snapshot, copying the snapshots to the environment's bucket. */
export function offsiteCopy(chart: PlatformChart, props: OffsiteCopyProps): { container: ContainerSpec; egress: PortRule } | undefined {
  const o = props.config.offsite;
  const ns = props.namespace;
  if (!o) return undefined;
  const secret: SecretSpec = {
    name: 'backup-offsite',
    namespace: ns,
    description: 'Credentials of the off-site backup bucket',
    keys: [
      { key: 'access-key-id', description: 'S3 access key id (write-only to the backup bucket)', generate: { kind: 'provided', hint: 'the bucket owner' } },
      { key: 'secret-access-key', description: 'S3 secret access key', generate: { kind: 'provided', hint: 'the bucket owner' } },
    ],
  };
  provideSecret(
    chart,
    'offsite-secret',
    chart.platform.secretSource,
    secret,
    chart.metadata({ objectName: secret.name, namespace: ns, name: 'backup', component: 'secret' }),
  );
  const rclone = (name: string, value: string) => ({ name: `RCLONE_CONFIG_OFFSITE_${name}`, value });
  return {
    container: {
      name: 'offsite-copy',
      image: IMAGES.rclone,
      command: ['sh', `${SCRIPTS_DIR}/offsite-copy.sh`],
      env: [
        { name: 'BACKUP_ROOT', value: BACKUP_ROOT },
        { name: 'OFFSITE_REMOTE', value: `offsite:${o.bucket}/${chart.platform.instance}` },
        { name: 'HOME', value: '/tmp' },
        rclone('TYPE', 's3'),
        rclone('PROVIDER', o.provider),
        rclone('REGION', o.region),
        ...(o.endpoint ? [rclone('ENDPOINT', o.endpoint)] : []),
        { name: 'RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID', valueFrom: secretKeyRef(secret, 'access-key-id') },
        { name: 'RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY', valueFrom: secretKeyRef(secret, 'secret-access-key') },
      ],
      resources: props.config.sidecarResources,
      volumeMounts: [...props.mounts],
      writablePaths: [{ path: '/tmp' }],
    },
    egress: { port: 443, peers: [INTERNET] },
  };
}
