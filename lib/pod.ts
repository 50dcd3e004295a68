// Pod specs with the hardened defaults applied: restricted security contexts on every
// container (init containers too), explicit resources, read-only root filesystems with an
// emptyDir for each path an image writes, a dedicated ServiceAccount without a mounted token,
// and terminationMessagePolicy that keeps the log tail on a crash. Charts build their
// Deployments, StatefulSets, Jobs and Rollouts from `hardenedPodSpec`.
import { createHash } from 'node:crypto';
import { k8s } from 'cdk8s-plus-33';
import type { Resources } from '../environments/fields';
import { type Image, imageRef, pullPolicy } from './images';
import { containerResources } from './resources';
import { exemption } from './exemptions';
import { containerSecurityContext, type PodIdentity, podSecurityContext } from './security';

/** A path the image writes to; it becomes an emptyDir so the root filesystem can stay read-only. */
export interface WritablePath {
  readonly path: string;
  /** Upper bound of what may be written there. @default "64Mi" */
  readonly sizeLimit?: string;
  /** "Memory" for a tmpfs (counts against the memory limit). @default node disk */
  readonly medium?: 'Memory';
}

export interface ContainerSpec {
  readonly name: string;
  readonly image: Image;
  /** Requests and limits from the environment. */
  readonly resources: Resources;
  /**
   * When the kubelet pulls the image. @default from the image (`pullPolicy` in lib/images.ts:
   * IfNotPresent when pinned by a catalogue digest, Always otherwise)
   */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent';
  /** @default the image's entrypoint */
  readonly command?: string[];
  /** @default the image's arguments */
  readonly args?: string[];
  /** Secret values only through valueFrom (secretKeyRef), never as literal values. @default none */
  readonly env?: k8s.EnvVar[];
  /** @default none */
  readonly envFrom?: k8s.EnvFromSource[];
  /** @default none */
  readonly ports?: k8s.ContainerPort[];
  /** Required for long-running containers (the policy tests check). @default none */
  readonly readinessProbe?: k8s.Probe;
  /** Required for long-running containers and different from readiness. @default none */
  readonly livenessProbe?: k8s.Probe;
  /** @default none */
  readonly startupProbe?: k8s.Probe;
  /** @default none */
  readonly lifecycle?: k8s.Lifecycle;
  /** @default none */
  readonly writablePaths?: WritablePath[];
  /** Mounts of volumes given in `PodSpecProps.volumes`. @default none */
  readonly volumeMounts?: k8s.VolumeMount[];
}

export interface PodSpecProps {
  /** The workload's own ServiceAccount (see `serviceAccount`). */
  readonly serviceAccountName: string;
  readonly containers: ContainerSpec[];
  /** @default none */
  readonly initContainers?: ContainerSpec[];
  /** Volumes beyond the writable-path emptyDirs. @default none */
  readonly volumes?: k8s.Volume[];
  /** @default uid/gid 10001 */
  readonly identity?: PodIdentity;
  /** @default none (cluster default priority) */
  readonly priorityClassName?: string;
  /** @default 30 */
  readonly terminationGracePeriodSeconds?: number;
  /**
   * Exception: mount the ServiceAccount token. Only for workloads that call the Kubernetes API;
   * the reason is declared in lib/exemptions.ts POLICY_EXCEPTIONS under the workload's name.
   * @default no token
   */
  readonly kubernetesApiAccess?: boolean;
  /**
   * Exception: share the node's network and process namespaces (node-exporter only), declared in
   * lib/exemptions.ts POLICY_EXCEPTIONS under the workload's name.
   * @default neither
   */
  readonly hostAccess?: { readonly hostNetwork: boolean; readonly hostPID: boolean };
  /** Run on tainted nodes too (DaemonSets that must cover every node). @default none */
  readonly tolerations?: k8s.Toleration[];
  /** From `availability()`. @default none */
  readonly affinity?: k8s.Affinity;
  /** From `availability()`. @default none */
  readonly topologySpreadConstraints?: k8s.TopologySpreadConstraint[];
  /** @default Always (Deployments, StatefulSets); Jobs pass OnFailure or Never */
  readonly restartPolicy?: 'Always' | 'OnFailure' | 'Never';
}

export function hardenedPodSpec(props: PodSpecProps): k8s.PodSpec {
  const emptyDirs: k8s.Volume[] = [];
  const build = (spec: ContainerSpec): k8s.Container => {
    const writable = (spec.writablePaths ?? []).map((w) => {
      const volumeName = writableVolumeName(spec.name, w.path);
      emptyDirs.push({
        name: volumeName,
        emptyDir: { sizeLimit: k8s.Quantity.fromString(w.sizeLimit ?? '64Mi'), ...(w.medium ? { medium: w.medium } : {}) },
      });
      return { name: volumeName, mountPath: w.path };
    });
    const mounts = [...(spec.volumeMounts ?? []), ...writable];
    return {
      name: spec.name,
      image: imageRef(spec.image),
      imagePullPolicy: spec.imagePullPolicy ?? pullPolicy(spec.image),
      ...(spec.command ? { command: spec.command } : {}),
      ...(spec.args ? { args: spec.args } : {}),
      ...(spec.env?.length ? { env: spec.env } : {}),
      ...(spec.envFrom?.length ? { envFrom: spec.envFrom } : {}),
      ...(spec.ports?.length ? { ports: spec.ports } : {}),
      resources: containerResources(spec.resources),
      securityContext: containerSecurityContext(props.identity),
      ...(spec.readinessProbe ? { readinessProbe: spec.readinessProbe } : {}),
      ...(spec.livenessProbe ? { livenessProbe: spec.livenessProbe } : {}),
      ...(spec.startupProbe ? { startupProbe: spec.startupProbe } : {}),
      ...(spec.lifecycle ? { lifecycle: spec.lifecycle } : {}),
      ...(mounts.length ? { volumeMounts: mounts } : {}),
      terminationMessagePolicy: 'FallbackToLogsOnError',
    };
  };
  const initContainers = (props.initContainers ?? []).map(build);
  const containers = props.containers.map(build);
  const volumes = [...(props.volumes ?? []), ...emptyDirs];
  return {
    serviceAccountName: props.serviceAccountName,
    automountServiceAccountToken: props.kubernetesApiAccess === true,
    enableServiceLinks: false,
    securityContext: podSecurityContext(props.identity),
    ...(props.priorityClassName ? { priorityClassName: props.priorityClassName } : {}),
    ...(props.terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: props.terminationGracePeriodSeconds } : {}),
    ...(props.restartPolicy ? { restartPolicy: props.restartPolicy } : {}),
    ...(props.hostAccess ? { hostNetwork: props.hostAccess.hostNetwork, hostPID: props.hostAccess.hostPID, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
    ...(props.tolerations?.length ? { tolerations: props.tolerations } : {}),
    ...(props.affinity ? { affinity: props.affinity } : {}),
    ...(props.topologySpreadConstraints?.length ? { topologySpreadConstraints: props.topologySpreadConstraints } : {}),
    ...(initContainers.length ? { initContainers } : {}),
    containers,
    ...(volumes.length ? { volumes } : {}),
  };
}

/**
 * The policy exemptions workload `name` carries for its pod's exceptions (an API token, host
 * access), with the reasons lib/exemptions.ts declares.
 */
export function workloadExemptions(name: string, props: Pick<PodSpecProps, 'kubernetesApiAccess' | 'hostAccess'>): Record<string, string> {
  return {
    ...(props.kubernetesApiAccess ? exemption('service-account-token', name) : {}),
    ...(props.hostAccess ? exemption('host-isolation', name) : {}),
  };
}

/** Object metadata with the workload's exemptions added to its annotations. */
export function withExemptions<M extends { name?: string; annotations?: Record<string, string> }>(
  metadata: M,
  props: Pick<PodSpecProps, 'kubernetesApiAccess' | 'hostAccess'>,
): M {
  if (!props.kubernetesApiAccess && !props.hostAccess) return metadata;
  if (!metadata.name) throw new Error('internal: a workload with policy exceptions needs its name');
  return { ...metadata, annotations: { ...metadata.annotations, ...workloadExemptions(metadata.name, props) } };
}

/** "<container>-<path as a label>", at most 63 characters: "postgres-var-run-postgresql". */
function writableVolumeName(container: string, path: string): string {
  const slug =
    path
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'root';
  return `${container}-${slug}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * Pod template metadata: the workload's labels plus extra ones, and a `checksum/config`
 * annotation over `restartOn` (config files the pods read), so a change to them rolls the pods.
 */
export function podTemplateMetadata(
  labels: Record<string, string> | undefined,
  extraLabels?: Record<string, string>,
  restartOn?: readonly string[],
  extraAnnotations?: Record<string, string>,
): k8s.ObjectMeta {
  const checksum = restartOn?.length ? createHash('sha256').update(restartOn.join('\0')).digest('hex').slice(0, 16) : undefined;
  const annotations = { ...extraAnnotations, ...(checksum ? { 'checksum/config': checksum } : {}) };
  return { labels: { ...labels, ...extraLabels }, ...(Object.keys(annotations).length ? { annotations } : {}) };
}
