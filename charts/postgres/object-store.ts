// Where PostgreSQL's WAL and base backups go: a Barman Cloud Plugin `ObjectStore` on the
// environment's S3 bucket (another region in production), gzip-compressed and encrypted at rest
// by the bucket (SSE AES256), with the plugin's retention. Credentials come from the Secret
// postgres-object-store (an ExternalSecret outside dev). The barman-cloud sidecar in each
// instance pod archives WAL from the primary and takes the scheduled base backups.
import type { ApiObjectMetadata } from 'cdk8s';
import type { BackupConfig } from '../../environments/backup';
import type { Resources } from '../../environments/fields';
import type { Environment } from '../../environments/schema';
import {
  ObjectStore,
  ObjectStoreSpecConfigurationDataCompression,
  ObjectStoreSpecConfigurationDataEncryption,
  ObjectStoreSpecConfigurationWalCompression,
  ObjectStoreSpecConfigurationWalEncryption,
} from '../../imports/objectstore-barmancloud.cnpg.io';
import type { PlatformChart } from '../../lib/chart';
import { crdResources } from '../../lib/resources';
import { provideSecret, type SecretSpec } from '../../lib/secrets';

export const OBJECT_STORE = 'postgres-store';
/** The plugin's name, as the Cluster and the backups refer to it. */
export const BARMAN_PLUGIN = 'barman-cloud.cloudnative-pg.io';

export interface ObjectStoreProps {
  readonly namespace: string;
  readonly instance: string;
  readonly config: NonNullable<BackupConfig['objectStore']>;
  readonly secretSource: Environment['secrets'];
  /** The barman-cloud sidecar in every instance pod. */
  readonly sidecarResources: Resources;
}

/** The bucket's S3 path for this environment; barman adds the server name (the Cluster's). */
export function destinationPath(config: NonNullable<BackupConfig['objectStore']>, instance: string): string {
  return `s3://${config.bucket}/${instance}`;
}

export function objectStore(
  chart: PlatformChart,
  props: ObjectStoreProps,
  metadata: (name: string) => ApiObjectMetadata,
): { name: string; secret: SecretSpec } {
  const c = props.config;
  const secret: SecretSpec = {
    name: 'postgres-object-store',
    namespace: props.namespace,
    description: 'Credentials of the PostgreSQL backup bucket (WAL archive and base backups)',
    keys: [
      {
        key: 'ACCESS_KEY_ID',
        description: 'S3 access key id (read and write to the backup bucket only)',
        generate: { kind: 'provided', hint: 'the bucket owner' },
      },
      { key: 'ACCESS_SECRET_KEY', description: 'S3 secret access key', generate: { kind: 'provided', hint: 'the bucket owner' } },
      { key: 'ACCESS_REGION', description: "the bucket's region", generate: { kind: 'text', value: c.region } },
    ],
  };
  provideSecret(chart, 'object-store-secret', props.secretSource, secret, metadata(secret.name));
  new ObjectStore(chart, 'object-store', {
    metadata: metadata(OBJECT_STORE),
    spec: {
      retentionPolicy: `${c.retentionDays}d`,
      configuration: {
        destinationPath: destinationPath(c, props.instance),
        ...(c.endpoint ? { endpointUrl: c.endpoint } : {}),
        s3Credentials: {
          accessKeyId: { name: secret.name, key: 'ACCESS_KEY_ID' },
          secretAccessKey: { name: secret.name, key: 'ACCESS_SECRET_KEY' },
          region: { name: secret.name, key: 'ACCESS_REGION' },
        },
        wal: {
          compression: ObjectStoreSpecConfigurationWalCompression.GZIP,
          encryption: ObjectStoreSpecConfigurationWalEncryption.AES256,
          // Recovery fetches WAL eight segments at a time (the RTO).
          maxParallel: 8,
        },
        data: {
          compression: ObjectStoreSpecConfigurationDataCompression.GZIP,
          encryption: ObjectStoreSpecConfigurationDataEncryption.AES256,
          jobs: 2,
        },
      },
      instanceSidecarConfiguration: { resources: crdResources(props.sidecarResources) },
    },
  });
  return { name: OBJECT_STORE, secret };
}
