// The one place labels are made. Every object carries the six app.kubernetes.io labels;
// selectors use only the stable subset (never version, never a pod-template hash), because a
// Deployment's or StatefulSet's selector cannot change once created.

export const PART_OF = 'supabase-platform';
export const MANAGED_BY = 'cdk8s';

/** What an object is: the inputs of its labels. */
export interface LabelSpec {
  /** The application, e.g. "postgres", "kong", "foundation". */
  readonly name: string;
  /** Its role within the platform, e.g. "database", "gateway", "namespace". */
  readonly component: string;
  /** The environment the object belongs to (dev, staging, production). */
  readonly instance: string;
  /** The version it runs: an image tag for workloads, the platform version otherwise. */
  readonly version: string;
}

export const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  version: 'app.kubernetes.io/version',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** All six standard labels. */
export function standardLabels(spec: LabelSpec): Record<string, string> {
  return {
    [LABEL.name]: spec.name,
    [LABEL.instance]: spec.instance,
    [LABEL.component]: spec.component,
    [LABEL.partOf]: PART_OF,
    [LABEL.version]: labelValue(spec.version),
    [LABEL.managedBy]: MANAGED_BY,
  };
}

/** The stable subset used in selectors: name, instance and component. */
export function selectorLabels(spec: Pick<LabelSpec, 'name' | 'instance' | 'component'>): Record<string, string> {
  return { [LABEL.name]: spec.name, [LABEL.instance]: spec.instance, [LABEL.component]: spec.component };
}

/** A label value is at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
function labelValue(value: string): string {
  const cleaned = value
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned;
}
