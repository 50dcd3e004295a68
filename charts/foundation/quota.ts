// ResourceQuota and LimitRange specs from the environment's namespace settings.
import { k8s } from 'cdk8s-plus-33';
import type { Environment } from '../../environments/schema';
import { resourceAmounts } from '../../lib/resources';

type NamespaceConfig = Environment['namespaces']['supabase'];

const q = (value: string | number) => k8s.Quantity.fromString(String(value));

export function quotaHard(quota: NamespaceConfig['quota']): Record<string, k8s.Quantity> {
  return {
    'requests.cpu': q(quota.requests.cpu),
    'requests.memory': q(quota.requests.memory),
    'requests.storage': q(quota.requests.storage),
    'limits.cpu': q(quota.limits.cpu),
    'limits.memory': q(quota.limits.memory),
    pods: q(quota.pods),
    persistentvolumeclaims: q(quota.persistentVolumeClaims),
    'services.loadbalancers': q(quota.loadBalancers),
    // Nothing in the platform is exposed through node ports.
    'services.nodeports': q(0),
  };
}

export function limitRangeSpec(limits: NamespaceConfig['limitRange']): k8s.LimitRangeSpec {
  return {
    limits: [
      {
        type: 'Container',
        defaultRequest: resourceAmounts(limits.defaultRequest),
        default: resourceAmounts(limits.defaultLimit),
        max: { cpu: q(limits.max.cpu), memory: q(limits.max.memory) },
      },
    ],
  };
}
