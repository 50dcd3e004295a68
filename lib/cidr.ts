// CIDR blocks, IPv4 and IPv6, parsed by ipaddr.js (npm): the environment's address ranges are
// checked here before they reach Kong's trusted IPs, its admin allow-list and NetworkPolicy
// ipBlocks, and the checks that must know whether two ranges share an address use them.
import ipaddr from 'ipaddr.js';

export interface Cidr {
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
}

/**
 * Why `text` is not a CIDR block as Kubernetes and Kong take it, or undefined when it is one:
 * an IPv4 address in four decimal parts (each 0-255, no leading zeros) or an IPv6 address,
 * "/", and a prefix length within 0-32 (IPv4) or 0-128 (IPv6), with no address bits set
 * beyond the prefix (10.0.0.0/8, not 10.1.2.3/8, which usually means a mistyped prefix).
 */
export function cidrError(text: string): string | undefined {
  const example = 'such as "10.0.0.0/8" or "fd00::/8"';
  const slash = text.indexOf('/');
  if (slash < 0) return `"${text}" has no prefix length: write a CIDR ${example} (a single address is /32 or /128)`;
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const v4 = ipaddr.IPv4.isIPv4(address);
  if (v4 ? !ipaddr.IPv4.isValidFourPartDecimal(address) : !ipaddr.IPv6.isValid(address) || address.includes('%')) {
    return `"${text}": ${address} is not an IPv4 address (four numbers 0-255) or an IPv6 address: write a CIDR ${example}`;
  }
  const bits = v4 ? 32 : 128;
  if (!/^(0|[1-9]\d*)$/.test(prefixText) || Number(prefixText) > bits) return `"${text}": the prefix length must be a whole number from 0 to ${bits}`;
  const network = (v4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(text).toString();
  if (network !== ipaddr.parse(address).toString())
    return `"${text}" has address bits set beyond the /${prefixText} prefix: write ${network}/${prefixText}, or correct the prefix length`;
  return undefined;
}

/** A CIDR block; throws on anything `cidrError` refuses. */
export function parseCidr(text: string): Cidr {
  const problem = cidrError(text);
  if (problem) throw new Error(problem);
  const [address, prefix] = ipaddr.parseCIDR(text);
  return { address, prefix };
}

/** Whether two CIDRs share at least one address (never across IPv4 and IPv6). */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (x.address.kind() !== y.address.kind()) return false;
  // Two blocks overlap exactly when the shorter prefix contains the other's network address.
  const [wide, narrow] = x.prefix <= y.prefix ? [x, y] : [y, x];
  return narrow.address.match(wide.address, wide.prefix);
}
