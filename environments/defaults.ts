// Values shared by the environment files, so each file states only what differs.
import type { EnvironmentInput } from './schema';

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
