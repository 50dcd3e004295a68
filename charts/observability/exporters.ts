// The cluster's own metrics: kube-state-metrics (objects: pods, Deployments, Jobs, HPAs,
// volumes, nodes) and node-exporter (each node's CPU, memory, disks, clock). node-exporter is
// the platform's one workload with host access: it reads the host's /proc, /sys and root file
// system read-only and shares its network, in a namespace of its own (charts/foundation).
import { k8s } from 'cdk8s-plus-33';
import { DaemonSetService } from '../../lib/daemon-set';
import { IMAGES } from '../../lib/images';
import { prefixed } from '../../lib/names';
import { toApiServer } from '../../lib/network';
import { clusterRoleFor } from '../../lib/rbac';
import { StatelessService } from '../../lib/stateless-service';
import type { ObservabilityContext } from './context';
import { host } from './context';

const KSM_PORT = 8080;
const KSM_TELEMETRY_PORT = 8081;
export const NODE_EXPORTER_PORT = 9100;

/** What kube-state-metrics reports on; the ClusterRole allows listing exactly these. */
const KSM_RESOURCES: { group: string; resource: string; name: string }[] = [
  { group: '', resource: 'pods', name: 'pods' },
  { group: '', resource: 'nodes', name: 'nodes' },
  { group: '', resource: 'namespaces', name: 'namespaces' },
  { group: '', resource: 'persistentvolumeclaims', name: 'persistentvolumeclaims' },
  { group: '', resource: 'resourcequotas', name: 'resourcequotas' },
  { group: 'apps', resource: 'deployments', name: 'deployments' },
  { group: 'apps', resource: 'statefulsets', name: 'statefulsets' },
  { group: 'apps', resource: 'daemonsets', name: 'daemonsets' },
  { group: 'batch', resource: 'jobs', name: 'jobs' },
  { group: 'batch', resource: 'cronjobs', name: 'cronjobs' },
  { group: 'autoscaling', resource: 'horizontalpodautoscalers', name: 'horizontalpodautoscalers' },
  { group: 'policy', resource: 'poddisruptionbudgets', name: 'poddisruptionbudgets' },
];

export function kubeStateMetrics(ctx: ObservabilityContext): { service: StatelessService; target: string } {
  const version = IMAGES.kubeStateMetrics.tag;
  const service = new StatelessService(ctx.chart, 'kube-state-metrics', {
    name: 'kube-state-metrics',
    component: 'monitoring',
    namespace: ctx.namespace,
    version,
    config: { replicas: 1 },
    ports: [
      { name: 'metrics', port: KSM_PORT },
      { name: 'telemetry', port: KSM_TELEMETRY_PORT },
    ],
    network: {
      ingress: [
        { port: KSM_PORT, peers: [ctx.prometheus] },
        { port: KSM_TELEMETRY_PORT, peers: [ctx.prometheus] },
      ],
      egress: toApiServer(ctx.apiServerCidrs),
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      kubernetesApiAccess: true,
      containers: [
        {
          name: 'kube-state-metrics',
          image: IMAGES.kubeStateMetrics,
          args: [
            `--port=${KSM_PORT}`,
            `--telemetry-port=${KSM_TELEMETRY_PORT}`,
            `--resources=${KSM_RESOURCES.map((r) => r.name).join(',')}`,
            // Namespaced objects of the platform only (node-exporter's DaemonSet included); nodes
            // and namespaces are cluster-wide.
            `--namespaces=${[...ctx.watchedNamespaces, ctx.hostNamespace].join(',')}`,
            // The labels the PVC alerts use to exclude a claim.
            '--metric-labels-allowlist=persistentvolumeclaims=[excluded_from_alerts]',
          ],
          resources: ctx.config.kubeStateMetrics.resources,
          readinessProbe: { httpGet: { path: '/readyz', port: k8s.IntOrString.fromString('telemetry') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { httpGet: { path: '/livez', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 30, failureThreshold: 6 },
        },
      ],
    },
  });
  const groups = [...new Set(KSM_RESOURCES.map((r) => r.group))];
  clusterRoleFor(
    service,
    ctx.chart.metadata({
      objectName: prefixed(ctx.prefix, 'kube-state-metrics'),
      namespace: ctx.namespace,
      name: 'kube-state-metrics',
      component: 'monitoring',
      version,
    }),
    { name: 'kube-state-metrics', namespace: ctx.namespace },
    groups.map((group) => ({ apiGroups: [group], resources: KSM_RESOURCES.filter((r) => r.group === group).map((r) => r.resource), verbs: ['list', 'watch'] })),
  );
  return { service, target: `${host(ctx, 'kube-state-metrics')}:${KSM_PORT}` };
}

export function nodeExporter(ctx: ObservabilityContext): DaemonSetService {
  const hostPath = (name: string, path: string) => ({ name, hostPath: { path, type: 'Directory' } });
  return new DaemonSetService(ctx.chart, 'node-exporter', {
    name: 'node-exporter',
    component: 'monitoring',
    namespace: ctx.hostNamespace,
    version: IMAGES.nodeExporter.tag,
    network: {
      // With the host network, the port is the node's; policies still say who may connect.
      ingress: [{ port: NODE_EXPORTER_PORT, peers: [ctx.prometheus] }],
      egress: [],
    },
    pod: {
      priorityClassName: ctx.priorityClassName,
      hostAccess: {
        hostNetwork: true,
        hostPID: true,
      },
      // Every node, whatever its taints: a node without metrics is a node nobody watches.
      tolerations: [{ operator: 'Exists' }],
      volumes: [hostPath('proc', '/proc'), hostPath('sys', '/sys'), hostPath('root', '/')],
      containers: [
        {
          name: 'node-exporter',
          image: IMAGES.nodeExporter,
          args: [
            '--path.procfs=/host/proc',
            '--path.sysfs=/host/sys',
            '--path.rootfs=/host/root',
            `--web.listen-address=:${NODE_EXPORTER_PORT}`,
            '--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run/k3s/containerd/.+|var/lib/docker/.+|var/lib/kubelet/pods/.+)($|/)',
          ],
          resources: ctx.config.nodeExporter.resources,
          ports: [{ name: 'metrics', containerPort: NODE_EXPORTER_PORT }],
          volumeMounts: [
            { name: 'proc', mountPath: '/host/proc', readOnly: true },
            { name: 'sys', mountPath: '/host/sys', readOnly: true },
            { name: 'root', mountPath: '/host/root', readOnly: true, mountPropagation: 'HostToContainer' },
          ],
          readinessProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 10, timeoutSeconds: 3 },
          livenessProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 30, failureThreshold: 6 },
        },
      ],
    },
  });
}
