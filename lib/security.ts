// Hardened defaults: the Pod Security "restricted" profile for every pod and container, in one
// place (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted; policy
// rules in checks/rules/). A workload that needs an exception states it through a
// named parameter of the pod helper, with its reason; nothing here is silently weakened.
import { type k8s } from 'cdk8s-plus-33';

/**
 * The default non-root user and group. 10001 satisfies kube-score and Trivy, which reject IDs of
 * 10000 and below (https://github.com/zegl/kube-score/blob/master/README_CHECKS.md, "Container
 * Security Context User Group ID"; Trivy KSV020/KSV021). Images with a fixed user pass their own
 * through `PodIdentity`.
 */
export const NON_ROOT_ID = 10001;

/** The user a pod runs as. */
export interface PodIdentity {
  /** @default 10001 */
  readonly uid?: number;
  /** @default 10001 */
  readonly gid?: number;
  /** Group that owns mounted volumes. @default the gid */
  readonly fsGroup?: number;
}

/** Pod-level security context: non-root user, seccomp RuntimeDefault, volume ownership. */
export function podSecurityContext(identity: PodIdentity = {}): k8s.PodSecurityContext {
  const uid = identity.uid ?? NON_ROOT_ID;
  const gid = identity.gid ?? NON_ROOT_ID;
  assertNonRoot(uid, 'uid');
  assertNonRoot(gid, 'gid');
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: identity.fsGroup ?? gid,
    // Only re-chown a volume whose root is not already owned by fsGroup: fast restarts with big volumes.
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level security context: no privilege, no escalation, no capabilities, read-only root. */
export function containerSecurityContext(identity: PodIdentity = {}): k8s.SecurityContext {
  const uid = identity.uid ?? NON_ROOT_ID;
  const gid = identity.gid ?? NON_ROOT_ID;
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function assertNonRoot(id: number, what: string): void {
  if (!Number.isInteger(id) || id < 1) {
    throw new Error(`${what} ${id} is not a non-root ID: use a whole number of 1 or more (10001 unless the image needs another)`);
  }
}
