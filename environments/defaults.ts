// Values shared by the environment files, so each file states only what differs.
import type { EnvironmentInput } from './schema';

/**
 * This repository on GitHub, owner/name: its release workflow signs the product's images, and
 * every environment admits only images signed by it at a release tag (lib/release-signing.ts).
 */
export const PLATFORM_REPOSITORY = 'example-defi/supabase-platform';

type NamespaceInput = EnvironmentInput['namespaces']['supabase'];
type LimitRangeInput = NamespaceInput['limitRange'];

/**
 * The LimitRange every namespace gets unless an environment says otherwise. The defaults only
 * catch a container that forgot its resources (the policy tests forbid that); `max` stops a
 * typo such as "40" cores for "400m" at admission.
 */
export const DEFAULT_LIMIT_RANGE: LimitRangeInput = {
  defaultRequest: { cpu: '50m', memory: '64Mi', ephemeralStorage: '64Mi' },
  defaultLimit: { cpu: '250m', memory: '256Mi', ephemeralStorage: '256Mi' },
  max: { cpu: '8', memory: '32Gi' },
};

/** A namespace's quota with the default LimitRange. */
export function namespace(quota: NamespaceInput['quota'], limitRange: LimitRangeInput = DEFAULT_LIMIT_RANGE): NamespaceInput {
  return { quota, limitRange };
}

type ServiceInput = NonNullable<EnvironmentInput['supabase']>['auth'];

/**
 * A stateless service's settings in one line: requests and limits as [cpu, memory] pairs, with
 * ephemeral storage of 64Mi/256Mi, and optional autoscaling from `replicas` to `max`.
 */
export function service(replicas: number, requests: [cpu: string, memory: string], limits: [cpu: string, memory: string], autoscaleTo?: number): ServiceInput {
  return {
    replicas,
    resources: resources(requests, limits),
    ...(autoscaleTo ? { autoscaling: { minReplicas: replicas, maxReplicas: autoscaleTo } } : {}),
  };
}

type ResourcesInput = ServiceInput['resources'];

/** A container's requests and limits as [cpu, memory] pairs, with ephemeral storage of 64Mi/256Mi. */
export function resources(requests: [cpu: string, memory: string], limits: [cpu: string, memory: string]): ResourcesInput {
  return {
    requests: { cpu: requests[0], memory: requests[1], ephemeralStorage: '64Mi' },
    limits: { cpu: limits[0], memory: limits[1], ephemeralStorage: '256Mi' },
  };
}
