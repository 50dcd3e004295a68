// CIDR arithmetic for the checks that must know whether two address ranges share an address
// (a trusted proxy range against the pod and node ranges). IPv4 and IPv6, as 32- or 128-bit numbers.
import { isIP } from 'node:net';

export interface Range {
  readonly version: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
}

function ipv6ToBigInt(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const part = (s: string) => (s ? s.split(':') : []);
  const zeros: string[] = Array.from({ length: 8 - part(head).length - part(tail ?? '').length }, () => '0');
  const groups = tail === undefined ? part(head) : [...part(head), ...zeros, ...part(tail)];
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/** The addresses of `cidr`; throws on anything that is not an IPv4 or IPv6 CIDR. */
export function parseCidr(cidr: string): Range {
  const [address = '', prefixText] = cidr.split('/');
  const version = isIP(address);
  const bits = version === 4 ? 32 : 128;
  const prefix = Number(prefixText);
  if ((version !== 4 && version !== 6) || !/^\d+$/.test(prefixText ?? '') || prefix > bits) throw new Error(`"${cidr}" is not a CIDR such as 10.0.0.0/8`);
  const value = version === 4 ? address.split('.').reduce((n, o) => (n << 8n) + BigInt(o), 0n) : ipv6ToBigInt(address);
  const size = 1n << BigInt(bits - prefix);
  const first = (value / size) * size;
  return { version, first, last: first + size - 1n };
}

/** Whether two CIDRs share at least one address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.version === y.version && x.first <= y.last && y.first <= x.last;
}
