// Every workload runs as its own ServiceAccount (never "default"), with token automount off at
// the account too, so a pod that forgets the pod-level setting still gets no token (R5).
import type { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';

export function serviceAccount(scope: Construct, metadata: ApiObjectMetadata): k8s.KubeServiceAccount {
  return new k8s.KubeServiceAccount(scope, 'service-account', { metadata, automountServiceAccountToken: false });
}
