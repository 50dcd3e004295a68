// What the people who run the platform may do through the API with their own identity (the
// operator CLI's `status`, `restore` and `loadtest`, and kubectl): read every workload and its
// logs in the platform's namespaces, and create the on-demand Jobs (restores, load tests) where
// they run. Bound to a group, which the cluster's identity provider maps people into.
//
// Deploying is not an operator's right: Argo CD's controller applies dist/, limited by the
// AppProject to the platform's namespaces and kinds; the first `cli apply` of a new cluster runs
// with the cluster administrator's credentials, since it creates RBAC itself.
import type { Construct } from 'constructs';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { prefixed } from '../../lib/names';
import { READ } from '../../lib/rbac';
import { k8s } from 'cdk8s-plus-33';

export interface OperatorAccessChartProps extends ChartProps {
  /** Namespaces where operators start on-demand Jobs (restores in supabase, load tests in app). */
  readonly jobNamespaces: readonly string[];
}

/** The group operators belong to, prefixed like every cluster-scoped name. */
export const operatorGroup = (prefix: string) => prefixed(prefix, 'supabase-platform-operators');

export class OperatorAccessChart extends PlatformChart {
  constructor(scope: Construct, id: string, props: OperatorAccessChartProps) {
    super(scope, id, props);
    const prefix = this.platform.prefix;
    const group = operatorGroup(prefix);
    const meta = (name: string, namespace?: string) => this.metadata({ objectName: name, namespace, name: 'operator-access', component: 'rbac' });
    const bind = (id: string, kind: 'Role' | 'ClusterRole', roleName: string, namespace?: string) =>
      new k8s.KubeRoleBinding(this, id, {
        metadata: meta(roleName, namespace),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: roleName },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
      });

    // Reading: one ClusterRole, bound per namespace, so it reads the platform's namespaces only.
    const reader = prefixed(prefix, 'platform-operator-read');
    new k8s.KubeClusterRole(this, 'read', {
      metadata: meta(reader),
      rules: [
        { apiGroups: [''], resources: ['pods', 'pods/log', 'services', 'endpoints', 'persistentvolumeclaims', 'events', 'configmaps'], verbs: READ },
        { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'], verbs: READ },
        { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: READ },
        { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: READ },
        { apiGroups: ['argoproj.io'], resources: ['rollouts', 'analysisruns'], verbs: READ },
        { apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: READ },
      ],
    });
    for (const ns of Object.values(this.platform.namespaces)) bind(`read-${ns}`, 'ClusterRole', reader, ns);

    // On-demand Jobs: create them from dist/<env>/on-demand/ (restore --apply uses server-side
    // apply, a patch), and clean them up.
    for (const ns of props.jobNamespaces) {
      new k8s.KubeRole(this, `jobs-${ns}`, {
        metadata: meta('platform-operator-jobs', ns),
        rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'patch', 'delete'] }],
      });
      bind(`jobs-binding-${ns}`, 'Role', 'platform-operator-jobs', ns);
    }
  }
}
