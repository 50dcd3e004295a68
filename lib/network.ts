// NetworkPolicy building blocks. Each namespace starts from deny-all with DNS egress allowed;
// every workload then adds its own policy from its declared peers (REFERENCE.md R10-R15).
import type { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';

/** Deny all ingress and egress for every pod of the namespace (R10). */
export function defaultDenyAll(scope: Construct, id: string, metadata: ApiObjectMetadata): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, id, {
    metadata,
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  });
}

/** Let every pod of the namespace resolve names through the cluster DNS in kube-system (R12). */
export function allowDnsEgress(scope: Construct, id: string, metadata: ApiObjectMetadata): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, id, {
    metadata,
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
            { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
          ],
        },
      ],
    },
  });
}
