// Certificate issuers for the edge: Let's Encrypt staging and production over ACME DNS-01
// (no ingress controller needed), or a self-signed issuer in dev. ClusterIssuers are
// cluster-scoped, so their names carry the environment's prefix.
import type { Construct } from 'constructs';
import type { GatewayConfig } from '../../environments/gateway';
import { ClusterIssuer } from '../../imports/clusterissuer-cert-manager.io';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import { prefixed } from '../../lib/names';

export const ACME_SERVERS = {
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  'letsencrypt-production': 'https://acme-v02.api.letsencrypt.org/directory',
} as const;

export interface IssuersChartProps extends ChartProps {
  /** The edge certificate's issuer: self-signed, or Let's Encrypt over DNS-01. */
  readonly tls: GatewayConfig['tls'];
}

export class IssuersChart extends PlatformChart {
  /** The ClusterIssuer the gateway's certificate uses. */
  public readonly issuerName: string;

  constructor(scope: Construct, id: string, props: IssuersChartProps) {
    super(scope, id, props);
    const prefix = this.platform.prefix;
    const meta = (objectName: string) => this.metadata({ objectName, name: 'cert-manager', component: 'issuer' });
    const tls = props.tls;
    if (tls.issuer === 'self-signed') {
      this.issuerName = prefixed(prefix, 'selfsigned');
      new ClusterIssuer(this, 'selfsigned', { metadata: meta(this.issuerName), spec: { selfSigned: {} } });
      return;
    }
    const solver =
      tls.dns01.provider === 'cloudflare'
        ? { dns01: { cloudflare: { apiTokenSecretRef: { name: tls.dns01.apiTokenSecret.name, key: tls.dns01.apiTokenSecret.key } } } }
        : { dns01: { route53: { region: tls.dns01.region, ...(tls.dns01.hostedZoneId ? { hostedZoneId: tls.dns01.hostedZoneId } : {}) } } };
    // Both ACME issuers exist, so a certificate can be tried against staging before production.
    for (const kind of ['letsencrypt-staging', 'letsencrypt-production'] as const) {
      const name = prefixed(prefix, kind);
      new ClusterIssuer(this, kind, {
        metadata: meta(name),
        spec: { acme: { server: ACME_SERVERS[kind], email: tls.email, privateKeySecretRef: { name: `${name}-account-key` }, solvers: [solver] } },
      });
    }
    this.issuerName = prefixed(prefix, tls.issuer);
  }
}
