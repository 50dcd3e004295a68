// The edge: Kong 3.9.1 in DB-less mode terminating TLS 1.3 itself behind a LoadBalancer
// Service, with the certificate from cert-manager. No ingress controller is involved
// (ingress-nginx is retired).
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import { stringify } from 'yaml';
import type { ClientAddress, GatewayConfig } from '../../environments/gateway';
import { Certificate, CertificateSpecPrivateKeyAlgorithm, CertificateSpecPrivateKeyRotationPolicy } from '../../imports/certificate-cert-manager.io';
import type { RedisEndpoints } from '../redis/redis-chart';
import { type ChartProps, PlatformChart } from '../../lib/chart';
import type { PlatformContext } from '../../lib/context';
import { type Endpoint, egressTo, endpointOf, urlOf } from '../../lib/endpoint';
import { projectFile } from '../../lib/files';
import { IMAGES } from '../../lib/images';
import { workload, WORKLOADS } from '../../lib/workloads';
import { toCollector, type TracingEndpoint } from '../observability/traces';
import type { ContainerSpec } from '../../lib/pod';
import { secretKeyRef } from '../../lib/secrets';
import { StatelessService } from '../../lib/stateless-service';
import type { SupabaseChart } from '../supabase/supabase-chart';
import { kongConfig, PLACEHOLDERS, pluginsUsed } from './kong-config';

export const PROXY_PORT = 8000;
export const PROXY_TLS_PORT = 8443;
export const STATUS_PORT = 8100;
const TEMPLATE_DIR = '/etc/kong-template';
const RENDERED_DIR = '/kong-config';
const TLS_DIR = '/etc/kong/tls';

export interface GatewayChartProps extends ChartProps {
  /** Kong's pods, rate limits, CORS origins, admin addresses and client-address mode. */
  readonly config: GatewayConfig;
  /** The public host name the certificate is for. */
  readonly domain: string;
  /** The ClusterIssuer that signs the certificate (security chart). */
  readonly issuerName: string;
  /** Upstreams, Secrets and the Realtime tenant, from the supabase chart. */
  readonly supabase: Pick<SupabaseChart, 'upstreams' | 'secrets'>;
  /** The product's api (charts/app), routed at /app/v1/. */
  readonly product: Endpoint;
  /** Storage's upload limit (bytes); the storage route allows it. */
  readonly storageMaxBytes: number;
  /** Redis for the rate-limit counters: the primary's one address (Kong's open-source plugin speaks no Sentinel). */
  readonly redis: RedisEndpoints;
  /** The OpenTelemetry Collector Kong sends a span of every request to (its opentelemetry plugin). */
  readonly tracing: TracingEndpoint;
  /** Prometheus, which scrapes Kong's status port. */
  readonly prometheus: Endpoint;
}

/**
 * Kong's plain-HTTP proxy inside the cluster. A function of the platform alone, so charts built
 * before this one (Studio calls it, every Supabase service admits it) name the same endpoint.
 */
export function kongEndpoint(platform: PlatformContext): Endpoint {
  return endpointOf(workload(platform, 'kong'), PROXY_PORT);
}

/**
 * Kong's client-address settings (kong.conf: trusted_ips, real_ip_header, real_ip_recursive;
 * docs/reference/gateway-and-delivery.md). "direct" trusts nobody, so Kong uses the connection's
 * address; "proxy-protocol" believes the PROXY header only from the load balancer.
 */
export function clientAddressEnv(address: ClientAddress): k8s.EnvVar[] {
  // No trusted_ips at all (Kong's default): no header of any kind changes the address.
  if (address.mode === 'direct') return [{ name: 'KONG_REAL_IP_RECURSIVE', value: 'off' }];
  return [
    { name: 'KONG_TRUSTED_IPS', value: address.loadBalancerCidrs.join(',') },
    { name: 'KONG_REAL_IP_HEADER', value: 'proxy_protocol' },
    { name: 'KONG_REAL_IP_RECURSIVE', value: 'off' },
  ];
}

export class GatewayChart extends PlatformChart {
  /** The declarative config as shipped (placeholders unfilled), for tests and docs. */
  public readonly declarative: ReturnType<typeof kongConfig>;
  public readonly plugins: string[];
  /** Kong's plain-HTTP proxy inside the cluster. */
  public readonly endpoint: Endpoint;
  /** In-cluster URL of the proxy. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: GatewayChartProps) {
    super(scope, id, props);
    const ns = this.platform.namespaces[WORKLOADS.kong.namespace];
    const { name, component } = WORKLOADS.kong;
    const meta = (objectName: string, annotations?: Record<string, string>) =>
      this.metadata({ objectName, namespace: ns, name, component, version: IMAGES.kong.tag, annotations });
    const up = props.supabase.upstreams;

    this.declarative = kongConfig({
      upstreams: up,
      product: props.product,
      redis: { host: props.redis.host, port: props.redis.port },
      corsOrigins: props.config.corsOrigins,
      rateLimits: props.config.rateLimits,
      adminCidrs: props.config.adminCidrs,
      storageMaxBytes: props.storageMaxBytes,
      tracing: { tracesEndpoint: `${props.tracing.otlpHttpUrl}/v1/traces`, environment: this.instance },
    });
    this.plugins = pluginsUsed(this.declarative);
    this.endpoint = kongEndpoint(this.platform);
    this.url = urlOf(this.endpoint);

    const template = `# Kong declarative config, generated by charts/gateway. Placeholders are filled at pod start.\n${stringify(this.declarative, { lineWidth: 0, aliasDuplicateObjects: false })}`;
    const render = projectFile('charts/gateway/files/render-kong-config.sh');
    const configMap = new k8s.KubeConfigMap(this, 'config', { metadata: meta('kong-config'), data: { 'kong.yml': template, 'render-kong-config.sh': render } });

    const certificate = new Certificate(this, 'certificate', {
      metadata: meta('kong-tls'),
      spec: {
        secretName: 'kong-tls',
        dnsNames: [props.domain],
        issuerRef: { kind: 'ClusterIssuer', name: props.issuerName, group: 'cert-manager.io' },
        privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS },
        duration: '2160h',
        renewBefore: '720h',
      },
    });

    const kong = new StatelessService(this, 'kong', {
      name,
      component,
      namespace: ns,
      version: IMAGES.kong.tag,
      config: props.config.kong,
      ports: [
        { name: 'proxy', port: PROXY_PORT },
        { name: 'proxy-tls', port: PROXY_TLS_PORT },
        { name: 'metrics', port: STATUS_PORT },
      ],
      podLabels: { ...props.redis.clientLabels, ...props.tracing.clientLabels },
      restartOn: [template, render],
      network: {
        ingress: [
          // The edge: clients through the load balancer, from anywhere.
          { port: PROXY_TLS_PORT, peers: [] },
          // Plain HTTP only from Studio, where it runs.
          ...(up.studio ? [{ port: PROXY_PORT, peers: [up.studio.peer] }] : []),
          { port: STATUS_PORT, peers: [props.prometheus.peer] },
        ],
        egress: [...Object.values(up).map(egressTo), egressTo(props.product), egressTo(props.redis), toCollector(props.tracing, props.tracing.otlpHttpUrl)],
      },
      pod: {
        priorityClassName: this.platform.priorityClasses.stateless,
        volumes: [
          { name: 'template', configMap: { name: configMap.name } },
          { name: 'tls', secret: { secretName: certificate.name } },
        ],
        containers: [kongContainer(props, this.plugins)],
      },
    });

    // The edge Service: TLS straight to Kong. Local traffic policy keeps the client's address.
    const lbAnnotations = props.config.clientAddress.mode === 'proxy-protocol' ? props.config.clientAddress.serviceAnnotations : {};
    new k8s.KubeService(this, 'public-service', {
      metadata: meta('kong-public', Object.keys(lbAnnotations).length ? lbAnnotations : undefined),
      spec: {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        selector: kong.selector,
        ports: [{ name: 'https', port: 443, targetPort: k8s.IntOrString.fromString('proxy-tls') }],
      },
    });
  }
}

/** Kong's container: the config rendered at start, TLS from the certificate, keys from Secrets. */
function kongContainer(props: GatewayChartProps, plugins: readonly string[]): ContainerSpec {
  const jwt = props.supabase.secrets.jwt;
  const dashboard = props.supabase.secrets.dashboard;
  const proxyProtocol = props.config.clientAddress.mode === 'proxy-protocol';
  return {
    name: 'kong',
    image: IMAGES.kong,
    command: [
      '/bin/sh',
      '-c',
      `sh ${TEMPLATE_DIR}/render-kong-config.sh ${TEMPLATE_DIR}/kong.yml ${RENDERED_DIR}/kong.yml ${PLACEHOLDERS.join(' ')} && exec /docker-entrypoint.sh kong docker-start`,
    ],
    resources: props.config.kong.resources,
    env: [
      { name: 'KONG_DATABASE', value: 'off' },
      { name: 'KONG_DECLARATIVE_CONFIG', value: `${RENDERED_DIR}/kong.yml` },
      { name: 'KONG_PREFIX', value: '/kong-prefix' },
      { name: 'KONG_PLUGINS', value: plugins.join(',') },
      { name: 'KONG_PROXY_LISTEN', value: `0.0.0.0:${PROXY_PORT}, 0.0.0.0:${PROXY_TLS_PORT} ssl http2${proxyProtocol ? ' proxy_protocol' : ''}` },
      { name: 'KONG_ADMIN_LISTEN', value: 'off' },
      { name: 'KONG_ADMIN_GUI_LISTEN', value: 'off' },
      { name: 'KONG_STATUS_LISTEN', value: `0.0.0.0:${STATUS_PORT}` },
      { name: 'KONG_SSL_CIPHER_SUITE', value: 'modern' },
      { name: 'KONG_SSL_CERT', value: `${TLS_DIR}/tls.crt` },
      { name: 'KONG_SSL_CERT_KEY', value: `${TLS_DIR}/tls.key` },
      { name: 'KONG_HEADERS', value: 'off' },
      { name: 'KONG_ANONYMOUS_REPORTS', value: 'off' },
      // The client's address: the connection's own (direct), or the PROXY protocol header,
      // believed only from the load balancer. No forwarded header is ever trusted.
      ...clientAddressEnv(props.config.clientAddress),
      { name: 'KONG_DNS_ORDER', value: 'LAST,A,CNAME' },
      { name: 'KONG_NGINX_WORKER_PROCESSES', value: '2' },
      { name: 'KONG_NGINX_PROXY_PROXY_BUFFER_SIZE', value: '160k' },
      { name: 'KONG_NGINX_PROXY_PROXY_BUFFERS', value: '64 160k' },
      { name: 'KONG_LOG_LEVEL', value: 'warn' },
      // Spans for the opentelemetry plugin: the request and its upstream call (kong.conf
      // tracing_instrumentations; "off" would leave the plugin nothing to send), sampled here.
      { name: 'KONG_TRACING_INSTRUMENTATIONS', value: 'request,balancer' },
      { name: 'KONG_TRACING_SAMPLING_RATE', value: String(props.tracing.samplingRate) },
      { name: 'SUPABASE_ANON_KEY', valueFrom: secretKeyRef(jwt, 'anon-key') },
      { name: 'SUPABASE_SERVICE_KEY', valueFrom: secretKeyRef(jwt, 'service-role-key') },
      { name: 'DASHBOARD_USERNAME', valueFrom: secretKeyRef(dashboard, 'username') },
      { name: 'DASHBOARD_PASSWORD', valueFrom: secretKeyRef(dashboard, 'password') },
      { name: 'REDIS_PASSWORD', valueFrom: secretKeyRef(props.redis.credentials, 'redis-password') },
      { name: 'LOADTEST_KEY', valueFrom: secretKeyRef(jwt, 'loadtest-key') },
    ],
    volumeMounts: [
      { name: 'template', mountPath: TEMPLATE_DIR, readOnly: true },
      { name: 'tls', mountPath: TLS_DIR, readOnly: true },
    ],
    writablePaths: [
      // The rendered config holds the keys: memory, not disk.
      { path: RENDERED_DIR, sizeLimit: '16Mi', medium: 'Memory' },
      { path: '/kong-prefix', sizeLimit: '256Mi' },
      { path: '/tmp', sizeLimit: '256Mi' },
    ],
    readinessProbe: { httpGet: { path: '/status/ready', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 10, timeoutSeconds: 3 },
    livenessProbe: { httpGet: { path: '/status', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 20, failureThreshold: 6 },
  };
}
