// The foundation layer: what every other chart stands on. Namespaces with the Pod Security
// "restricted" profile enforced, a default-deny NetworkPolicy plus DNS egress in each, a
// ResourceQuota and LimitRange per namespace from the environment, and the PriorityClasses
// that let data workloads pre-empt stateless ones under pressure.
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import type { Environment, NamespaceKey } from '../../environments/schema';
import { NAMESPACES } from '../../environments/schema';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import type { PriorityClasses } from '../../lib/context';
import { allowDnsEgress, defaultDenyAll } from '../../lib/network';
import { exemption } from '../../lib/exemptions';
import { quotaHard, limitRangeSpec } from './quota';

/** Kubernetes minor version whose Pod Security Standards are enforced (cdk8s-plus-33's API level). */
export const POD_SECURITY_VERSION = 'v1.33';

/**
 * The one namespace that may run host-access pods: node-exporter reads the host's /proc, /sys
 * and root file system and joins its network. Audit and warn stay "restricted", so anything
 * else that lands there is still reported.
 */
const PRIVILEGED: readonly NamespaceKey[] = ['node-exporter'];

export interface FoundationChartProps extends ChartProps {
  /** Quota and LimitRange per namespace. */
  readonly limits: Environment['namespaces'];
}

export class FoundationChart extends PlatformChart {
  /** Namespace name per concern (the platform context's). */
  public readonly namespaces: Readonly<Record<NamespaceKey, string>>;
  /** The PriorityClass names (the platform context's). */
  public readonly priorityClasses: PriorityClasses;

  constructor(scope: Construct, id: string, props: FoundationChartProps) {
    super(scope, id, props);

    // The names every other chart uses come from the platform context; this chart creates them.
    this.namespaces = this.platform.namespaces;
    for (const key of NAMESPACES) {
      this.addNamespace(key, props.limits[key]);
    }

    this.priorityClasses = this.platform.priorityClasses;
    this.addPriorityClass(
      'priority-data',
      this.priorityClasses.data,
      1_000_000,
      'Databases and caches of the Supabase platform: they pre-empt stateless pods when a node is full.',
    );
    this.addPriorityClass('priority-stateless', this.priorityClasses.stateless, 100_000, 'Stateless services of the Supabase platform.');
  }

  private addNamespace(key: NamespaceKey, config: Environment['namespaces'][NamespaceKey]): void {
    const name = this.namespaces[key];
    const scope = new Construct(this, key);
    const meta = (objectName: string, component: string) => this.metadata({ objectName, namespace: name, name: 'foundation', component });

    new k8s.KubeNamespace(scope, 'namespace', {
      metadata: this.metadata({
        objectName: name,
        name: 'foundation',
        component: 'namespace',
        extraLabels: {
          'pod-security.kubernetes.io/enforce': PRIVILEGED.includes(key) ? 'privileged' : 'restricted',
          'pod-security.kubernetes.io/enforce-version': POD_SECURITY_VERSION,
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': POD_SECURITY_VERSION,
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': POD_SECURITY_VERSION,
        },
        // Deleting a namespace deletes its volumes: Argo CD must never prune or delete one.
        annotations: {
          'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
          ...(PRIVILEGED.includes(key) ? exemption('namespace-pod-security', key) : {}),
        },
      }),
    });
    defaultDenyAll(scope, 'default-deny', meta('default-deny-all', 'network-policy'));
    allowDnsEgress(scope, 'dns-egress', meta('allow-dns-egress', 'network-policy'));
    new k8s.KubeResourceQuota(scope, 'quota', {
      metadata: meta('platform-quota', 'quota'),
      spec: { hard: quotaHard(config.quota) },
    });
    new k8s.KubeLimitRange(scope, 'limits', {
      metadata: meta('platform-limits', 'limit-range'),
      spec: limitRangeSpec(config.limitRange),
    });
  }

  private addPriorityClass(id: string, objectName: string, value: number, description: string): void {
    new k8s.KubePriorityClass(this, id, {
      metadata: this.metadata({ objectName, name: 'foundation', component: 'priority-class' }),
      value,
      globalDefault: false,
      preemptionPolicy: 'PreemptLowerPriority',
      description,
    });
  }
}
