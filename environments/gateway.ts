// Environment settings of the edge: Kong's size, who may reach its admin routes, which proxies
// are trusted for the client address, rate limits, and where its TLS certificate comes from.
import { z } from 'zod';
import { Cidr, wholeNumber } from './fields';
import { StatelessService } from './supabase';

const Cidrs = z.array(Cidr);

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

export const GatewayConfig = z.strictObject({
  kong: StatelessService,
  /**
   * Addresses of the load balancer or proxies in front of Kong whose X-Forwarded-For is believed;
   * the client address (for rate limits and ip-restriction) is the first untrusted one.
   */
  trustedProxyCidrs: Cidrs.min(1, { error: 'must list the load balancer addresses (the pod or node CIDRs the LB connects from)' }),
  /** Who may reach the admin routes (/pg/, Studio). */
  adminCidrs: Cidrs.min(1, { error: 'must list the operators\' addresses (VPN, office)' }),
  /** Origins browsers may call the API from (CORS). @default ["*"] */
  corsOrigins: z.array(z.string()).default(['*']),
  /** Requests per minute per client IP. */
  rateLimits: z
    .strictObject({
      /** /auth/v1: sign-up, sign-in, OTP. @default 60 */
      auth: wholeNumber('requests per minute', 1).default(60),
      /** REST, GraphQL, Realtime, Storage. @default 1200 */
      api: wholeNumber('requests per minute', 1).default(1200),
    })
    .default({ auth: 60, api: 1200 }),
  tls: Tls,
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;
