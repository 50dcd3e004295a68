// TLS for every connection to PostgreSQL, with certificates cert-manager issues: one CA per
// environment (a self-signed root kept in cert-manager's namespace, behind a ClusterIssuer), the
// server certificate the instances and the poolers present, and a copy of the CA certificate in
// every namespace whose clients verify the server (cert-manager writes the issuing CA into each
// Certificate's Secret as ca.crt). Clients connect with sslmode=verify-full.
import {
  Certificate,
  CertificateSpecPrivateKeyAlgorithm,
  CertificateSpecPrivateKeyRotationPolicy,
  CertificateSpecUsages,
} from '../../imports/certificate-cert-manager.io';
import { ClusterIssuer } from '../../imports/clusterissuer-cert-manager.io';
import type { PlatformChart } from '../../lib/chart';
import { prefixed } from '../../lib/names';
import { CNPG_RELOAD_LABEL } from './roles';

/** Where a client pod finds the CA that signed the server's certificate. */
export interface DatabaseTls {
  /** The Secret (in the client's namespace) whose key `ca.crt` is the CA certificate. */
  readonly caSecretName: string;
  /** Where clients mount it; the CA file is `${mountPath}/ca.crt`. */
  readonly mountPath: string;
  /** The file clients verify the server with. */
  readonly caFile: string;
}

export const CA_MOUNT_PATH = '/etc/postgres-ca';

export interface DatabaseTlsProps {
  readonly prefix: string;
  /** cert-manager's cluster resource namespace: a ClusterIssuer's CA Secret must live there. */
  readonly certManagerNamespace: string;
  readonly namespace: string;
  /** Host names the server certificate covers (every Service of the Cluster and its poolers). */
  readonly serviceNames: readonly string[];
  /** Namespaces (besides the database's) whose pods verify the server. */
  readonly clientNamespaces: readonly string[];
}

export interface DatabaseCertificates {
  /** The Secret with tls.crt, tls.key and ca.crt the instances and poolers serve. */
  readonly serverSecretName: string;
  /** The CA for clients, per namespace. */
  tlsFor(namespace: string): DatabaseTls;
}

const FIVE_YEARS = '43800h';
const NINETY_DAYS = '2160h';

export function databaseCertificates(chart: PlatformChart, props: DatabaseTlsProps): DatabaseCertificates {
  const meta = (objectName: string, namespace?: string) => chart.metadata({ objectName, namespace, name: 'postgres', component: 'tls' });
  const rootIssuer = prefixed(props.prefix, 'postgres-ca-root');
  const caIssuer = prefixed(props.prefix, 'postgres-ca');
  const caSecret = prefixed(props.prefix, 'postgres-ca');
  new ClusterIssuer(chart, 'ca-root-issuer', { metadata: meta(rootIssuer), spec: { selfSigned: {} } });
  new Certificate(chart, 'ca', {
    metadata: meta(caSecret, props.certManagerNamespace),
    spec: {
      isCa: true,
      commonName: `${prefixed(props.prefix, 'postgres')} CA`,
      secretName: caSecret,
      duration: FIVE_YEARS,
      // The CA keeps its key on renewal: every client's bundle trusts it (docs/runbooks/secrets-rotation.md).
      privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.NEVER },
      issuerRef: { kind: 'ClusterIssuer', name: rootIssuer, group: 'cert-manager.io' },
    },
  });
  new ClusterIssuer(chart, 'ca-issuer', { metadata: meta(caIssuer), spec: { ca: { secretName: caSecret } } });

  const ns = props.namespace;
  const hosts = props.serviceNames.flatMap((s) => [s, `${s}.${ns}`, `${s}.${ns}.svc`, `${s}.${ns}.svc.cluster.local`]);
  const serverSecretName = 'postgres-server-tls';
  new Certificate(chart, 'server', {
    metadata: meta(serverSecretName, ns),
    spec: {
      secretName: serverSecretName,
      commonName: `${props.serviceNames[0]}.${ns}.svc`,
      dnsNames: hosts,
      duration: NINETY_DAYS,
      renewBefore: '720h',
      usages: [CertificateSpecUsages.SERVER_AUTH, CertificateSpecUsages.DIGITAL_SIGNATURE, CertificateSpecUsages.KEY_ENCIPHERMENT],
      privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS },
      issuerRef: { kind: 'ClusterIssuer', name: caIssuer, group: 'cert-manager.io' },
      // CloudNativePG reloads the certificate when the Secret changes.
      secretTemplate: { labels: { ...CNPG_RELOAD_LABEL } },
    },
  });
  // Namespaces with clients get a certificate of their own only for its ca.crt: the CA that
  // signed the server's certificate, renewed with it.
  const bundles = new Map<string, string>([[ns, serverSecretName]]);
  for (const clientNs of props.clientNamespaces) {
    if (bundles.has(clientNs)) continue;
    const name = 'postgres-ca-bundle';
    new Certificate(chart, `ca-bundle-${clientNs}`, {
      metadata: meta(name, clientNs),
      spec: {
        secretName: name,
        commonName: `postgres client trust (${clientNs})`,
        duration: NINETY_DAYS,
        usages: [CertificateSpecUsages.CLIENT_AUTH, CertificateSpecUsages.DIGITAL_SIGNATURE],
        privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS },
        issuerRef: { kind: 'ClusterIssuer', name: caIssuer, group: 'cert-manager.io' },
      },
    });
    bundles.set(clientNs, name);
  }
  return {
    serverSecretName,
    tlsFor(namespace: string): DatabaseTls {
      const caSecretName = bundles.get(namespace);
      if (!caSecretName) throw new Error(`internal: no PostgreSQL CA bundle in namespace ${namespace}: add it to clientNamespaces`);
      return { caSecretName, mountPath: CA_MOUNT_PATH, caFile: `${CA_MOUNT_PATH}/ca.crt` };
    },
  };
}
