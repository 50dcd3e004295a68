// Environment settings of the edge: Kong's size, who may reach its admin routes, how the client's
// address reaches Kong, rate limits, and where its TLS certificate comes from.
import { z } from 'zod';
import { Cidr, wholeNumber } from './fields';
import { StatelessService } from './supabase';

const Cidrs = z.array(Cidr);

/**
 * Why `text` is not a CORS origin (RFC 6454: scheme "://" host, and a port only when it is not
 * the scheme's default), as the WHATWG URL parser reads it; undefined for "*" and an origin.
 */
export function corsOriginError(text: string): string | undefined {
  if (text === '*') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not an origin: write scheme and host such as "https://app.example.com", or "*" in dev`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${text}": a browser origin is http:// or https://, such as "https://app.example.com"`;
  if (url.origin !== text)
    return `"${text}" is not an origin as browsers send it: write "${url.origin}" (no path, no trailing "/", lowercase host, no default port)`;
  return undefined;
}

const CorsOrigin = z
  .string({ error: 'must be an origin such as "https://app.example.com"' })
  .refine((text) => corsOriginError(text) === undefined, { error: (issue) => corsOriginError(String(issue.input)) });

/** How cert-manager proves control of the domain to Let's Encrypt (DNS-01: no ingress controller needed). */
const Dns01 = z.discriminatedUnion(
  'provider',
  [
    z.strictObject({
      provider: z.literal('cloudflare'),
      /** Secret in cert-manager's namespace with an API token (Zone:DNS:Edit, Zone:Zone:Read). */
      apiTokenSecret: z.strictObject({ name: z.string().min(1), key: z.string().min(1) }),
    }),
    z.strictObject({
      provider: z.literal('route53'),
      region: z.string().min(1),
      /** @default found by the domain */
      hostedZoneId: z.string().optional(),
    }),
  ],
  { error: 'must have provider "cloudflare" or "route53"' },
);

const Tls = z.discriminatedUnion(
  'issuer',
  [
    /** A self-signed certificate (dev only). */
    z.strictObject({ issuer: z.literal('self-signed') }),
    z.strictObject({
      issuer: z.enum(['letsencrypt-staging', 'letsencrypt-production']),
      /** Let's Encrypt account contact. */
      email: z.email({ error: 'must be an email address for the ACME account' }),
      dns01: Dns01,
    }),
  ],
  { error: 'must have issuer "self-signed", "letsencrypt-staging" or "letsencrypt-production"' },
);

/**
 * How the edge delivers the client's address to Kong, which rate limits and the admin allow-list
 * use. No forwarded header is ever trusted: with TLS ending in Kong, nothing in front of it can add
 * one honestly, and any pod could forge it (docs/gateway-and-secrets.md).
 */
export const ClientAddress = z.discriminatedUnion(
  'mode',
  [
    /** A layer-4 load balancer that keeps the client's address (the Service's externalTrafficPolicy Local): Kong uses the connection's address. */
    z.strictObject({ mode: z.literal('direct') }),
    z.strictObject({
      /** The load balancer prepends the PROXY protocol header; Kong's TLS listener requires it and believes it only from loadBalancerCidrs. */
      mode: z.literal('proxy-protocol'),
      /** Addresses the load balancer connects from; never pod or node ranges. */
      loadBalancerCidrs: Cidrs.min(1, { error: 'must list the addresses the load balancer connects from' }),
      /** Annotations that make the cloud's load balancer send the PROXY protocol, e.g. service.beta.kubernetes.io/aws-load-balancer-proxy-protocol: "*". @default none */
      serviceAnnotations: z.record(z.string(), z.string()).default({}),
    }),
  ],
  { error: 'must have mode "direct" or "proxy-protocol"' },
);
export type ClientAddress = z.infer<typeof ClientAddress>;

export const GatewayConfig = z.strictObject({
  kong: StatelessService,
  /** How the client's address reaches Kong. @default { mode: "direct" } */
  clientAddress: ClientAddress.default({ mode: 'direct' }),
  /** Who may reach the admin routes (/pg/, Studio). */
  adminCidrs: Cidrs.min(1, { error: "must list the operators' addresses (VPN, office)" }),
  /**
   * Origins browsers may call the API from (CORS): "*" (dev only) or origins such as
   * "https://app.example.com" (scheme, host and port; https outside dev). @default ["*"]
   */
  corsOrigins: z.array(CorsOrigin).min(1, { error: 'must list at least one origin' }).default(['*']),
  /** Requests per minute per client IP. */
  rateLimits: z
    .strictObject({
      /** /auth/v1: sign-up, sign-in, OTP. @default 60 */
      auth: wholeNumber('requests per minute', 1).default(60),
      /** REST, GraphQL, Realtime, Storage. @default 1200 */
      api: wholeNumber('requests per minute', 1).default(1200),
      /**
       * The load tests' own consumer (its API key, loadtest-key), for all its virtual users
       * together, on every route. @default 1000000
       */
      loadtest: wholeNumber('requests per minute', 1).default(1_000_000),
    })
    .prefault({}),
  tls: Tls,
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;
