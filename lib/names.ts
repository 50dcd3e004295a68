// Stable, explicit object names. Names of namespaces and cluster-scoped objects carry the
// environment's prefix so that several environments can share one cluster.

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Throws unless `name` is a valid DNS-1123 label (the rule for most object names). */
export function assertDnsLabel(name: string, what: string): string {
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    throw new Error(
      `${what} "${name}" is not a valid Kubernetes name: use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
  return name;
}

/** The name of a namespace or cluster-scoped object: prefix + base name. */
export function prefixed(prefix: string, base: string): string {
  return assertDnsLabel(`${prefix}${base}`, 'name');
}
