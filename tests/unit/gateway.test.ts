// The Kong configuration as it ships (parsed from the synthesised ConfigMap) and the Kong
// Deployment around it, for every environment.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { API_BODY_LIMIT_MB, type KongDeclarativeConfig, LOADTEST_CONSUMER, OPEN_AUTH_PATHS, pluginsUsed } from '../../charts/gateway/kong-config';
import { REALTIME_TENANT } from '../../charts/supabase/realtime';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { configMapData, environment, find, parseManifests } from '../helpers';
import { renderEnvironment } from '../../platform';
import { staging } from '../../environments/staging';
import { checkAll, RULES } from '../../checks/rules';

describe.each(ENVIRONMENT_NAMES)('%s gateway', (envName) => {
  const env = environment(envName);
  const kong = parse(configMapData(envName, 'kong-config')['kong.yml']!) as KongDeclarativeConfig;
  const deployment = find<Record<string, any>>(envName, 'Deployment', 'kong'); // eslint-disable-line @typescript-eslint/no-explicit-any
  const envVar = (name: string) => deployment.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === name)?.value as string | undefined;
  const servicesTo = (host: string) => kong.services.filter((s) => new URL(s.url.replace(/^ws/, 'http')).hostname.startsWith(`${host}.`));
  const plugin = (s: (typeof kong.services)[number], name: string) => s.plugins.find((p) => p.name === name);

  it('routes to every Supabase service', () => {
    const expected = ['auth', 'rest', 'realtime', 'storage', 'meta', ...(env.supabase.studioEnabled ? ['studio'] : [])];
    for (const service of expected) expect(servicesTo(service).length, service).toBeGreaterThan(0);
  });

  it('protects every API route with key-auth and an ACL', () => {
    for (const name of ['auth-v1', 'rest-v1', 'graphql-v1', 'realtime-v1-ws', 'realtime-v1-rest', 'meta']) {
      const s = kong.services.find((x) => x.name === name)!;
      expect(plugin(s, 'key-auth'), name).toBeDefined();
      expect((plugin(s, 'acl')?.config as { allow: string[] }).allow.length, name).toBeGreaterThan(0);
    }
    expect(
      (
        plugin(
          kong.services.find((s) => s.name === 'meta')!,
          'acl',
        )?.config as { allow: string[] }
      ).allow,
    ).toEqual(['admin']);
  });

  it('leaves exactly the intended GoTrue paths open', () => {
    const open = servicesTo('auth')
      .filter((s) => !plugin(s, 'key-auth'))
      .flatMap((s) => s.routes.flatMap((r) => r.paths));
    expect(open.sort()).toEqual(OPEN_AUTH_PATHS.map((p) => `/auth/v1/${p}`).sort());
  });

  it('limits the request size on every route, storage to its upload limit', () => {
    for (const s of kong.services) {
      const limit = plugin(s, 'request-size-limiting')?.config as { allowed_payload_size: number; size_unit: string } | undefined;
      expect(limit, s.name).toBeDefined();
      expect(limit!.size_unit).toBe('megabytes');
      if (s.name === 'storage-v1') expect(limit!.allowed_payload_size * 2 ** 20).toBeGreaterThanOrEqual(env.supabase.fileSizeLimitBytes);
      else expect(limit!.allowed_payload_size).toBe(API_BODY_LIMIT_MB);
    }
  });

  it('rate-limits every client route by IP, counting in Redis', () => {
    const clientRoutes = kong.services.filter((s) => !['meta', 'dashboard', 'mcp-blocker', 'realtime-v1-blocked'].includes(s.name));
    for (const s of clientRoutes) {
      const config = plugin(s, 'rate-limiting')?.config as { limit_by: string; policy: string; redis: { host: string; password: string } } | undefined;
      expect(config, s.name).toBeDefined();
      expect(config!.limit_by).toBe('ip');
      expect(config!.policy).toBe('redis');
      // The primary's one address: HAProxy in front of a replicated set, else the one instance.
      expect(config!.redis.host).toMatch(env.components.redis.replicas > 1 ? /^redis-primary\./ : /^redis\./);
      expect(config!.redis.password).toBe('${REDIS_PASSWORD}');
    }
    const authLimit = plugin(
      kong.services.find((s) => s.name === 'auth-v1')!,
      'rate-limiting',
    )!.config as { minute: number };
    expect(authLimit.minute).toBe(env.gateway.rateLimits.auth);
  });

  it('restricts the admin routes to the admin addresses', () => {
    for (const name of ['meta', ...(env.supabase.studioEnabled ? ['dashboard'] : [])]) {
      const s = kong.services.find((x) => x.name === name)!;
      expect((plugin(s, 'ip-restriction')?.config as { allow: string[] }).allow).toEqual(env.gateway.adminCidrs);
    }
    expect(kong.services.some((s) => s.name === 'dashboard')).toBe(env.supabase.studioEnabled);
  });

  it('lists exactly the plugins it uses in KONG_PLUGINS', () => {
    expect(envVar('KONG_PLUGINS')!.split(',')).toEqual(pluginsUsed(kong));
    expect(pluginsUsed(kong)).toEqual(expect.arrayContaining(['rate-limiting', 'request-size-limiting', 'prometheus', 'key-auth', 'acl', 'ip-restriction']));
  });

  it('hides its version, keeps the admin API closed, and speaks only TLS 1.3 at the edge', () => {
    expect(envVar('KONG_HEADERS')).toBe('off');
    expect(envVar('KONG_ADMIN_LISTEN')).toBe('off');
    expect(envVar('KONG_SSL_CIPHER_SUITE')).toBe('modern');
    const prometheus = kong.plugins.find((p) => p.name === 'prometheus')!.config as Record<string, boolean>;
    expect(prometheus).toMatchObject({ status_code_metrics: true, latency_metrics: true });
  });

  it('takes the client address from the connection: no header is trusted, from anywhere', () => {
    expect(env.gateway.clientAddress.mode).toBe('direct');
    expect(envVar('KONG_TRUSTED_IPS')).toBeUndefined();
    expect(envVar('KONG_REAL_IP_HEADER')).toBeUndefined();
    expect(envVar('KONG_PROXY_LISTEN')).not.toContain('proxy_protocol');
    const edge = find<{
      spec: { externalTrafficPolicy: string };
    }>(envName, 'Service', 'kong-public');
    expect(edge.spec.externalTrafficPolicy).toBe('Local');
  });

  it('counts the load tests as one consumer with the limit the environment sets, and no one else', () => {
    const consumer = kong.consumers.find((c) => c.username === LOADTEST_CONSUMER)!;
    expect(consumer.keyauth_credentials).toEqual([{ key: '${LOADTEST_KEY}' }]);
    expect(consumer.acls).toEqual([{ group: 'anon' }]);
    expect(consumer.plugins).toEqual([
      expect.objectContaining({ name: 'rate-limiting', config: expect.objectContaining({ minute: env.gateway.rateLimits.loadtest, limit_by: 'consumer' }) }),
    ]);
    expect(kong.consumers.filter((c) => c.plugins?.length).map((c) => c.username)).toEqual([LOADTEST_CONSUMER]);
  });

  it('keeps keys out of the ConfigMap: only placeholders, and no YAML anchors Kong would have to resolve', () => {
    const text = configMapData(envName, 'kong-config')['kong.yml']!;
    expect(text).not.toMatch(/[&*]a\d+\b/);
    expect(text).toContain('${SUPABASE_ANON_KEY}');
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  it("sends Realtime's tenant as the first label of the upstream host", () => {
    const ws = kong.services.find((s) => s.name === 'realtime-v1-ws')!;
    expect(new URL(ws.url.replace(/^ws/, 'http')).hostname.split('.')[0]).toBe(REALTIME_TENANT);
    const realtime = find<Record<string, any>>(envName, 'Deployment', 'realtime'); // eslint-disable-line @typescript-eslint/no-explicit-any
    const tenant = realtime.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'SELF_HOST_TENANT_NAME').value;
    expect(tenant).toBe(REALTIME_TENANT);
  });

  it("gets its certificate from the environment's issuer, terminating TLS in Kong behind a LoadBalancer", () => {
    const cert = find<Record<string, any>>(envName, 'Certificate', 'kong-tls'); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(cert.spec.dnsNames).toEqual([env.domain ?? 'localhost']);
    expect(cert.spec.issuerRef.name).toBe(env.gateway.tls.issuer === 'self-signed' ? 'selfsigned' : env.gateway.tls.issuer);
    expect(cert.spec.privateKey.rotationPolicy).toBe('Always');
    const lb = find<Record<string, any>>(envName, 'Service', 'kong-public'); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(lb.spec.type).toBe('LoadBalancer');
    expect(lb.spec.ports).toEqual([{ name: 'https', port: 443, targetPort: 'proxy-tls' }]);
  });
});

describe('an edge that sends the PROXY protocol', () => {
  // staging with a load balancer at 203.0.113.0/24 and the cluster's real pod and node ranges.
  const input = structuredClone(staging) as typeof staging & { network: Record<string, string[]> };
  input.network = { podCidrs: ['10.20.0.0/16'], nodeCidrs: ['10.10.0.0/16'] };
  (input.gateway as Record<string, unknown>).clientAddress = {
    mode: 'proxy-protocol',
    loadBalancerCidrs: ['203.0.113.0/24'],
    serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' },
  };
  const objects = parseManifests('staging', renderEnvironment(input).manifests).map((l) => l.object);
  const kong = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kong') as unknown as {
    spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
  };
  const env = Object.fromEntries(kong.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));

  it('requires the PROXY header on the TLS listener and believes it only from the load balancer', () => {
    expect(env.KONG_PROXY_LISTEN).toBe(`0.0.0.0:8000, 0.0.0.0:8443 ssl http2 proxy_protocol`);
    expect(env.KONG_REAL_IP_HEADER).toBe('proxy_protocol');
    expect(env.KONG_TRUSTED_IPS).toBe('203.0.113.0/24');
    const edge = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'kong-public')!;
    expect(edge.metadata.annotations).toMatchObject({ 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' });
  });

  it("passes the trusted-proxies rule with the environment's ranges, and fails it where the nodes are in the trusted range", () => {
    expect(checkAll(objects, RULES, { pods: ['10.20.0.0/16'], nodes: ['10.10.0.0/16'] }).filter((x) => x.rule === 'trusted-proxies')).toEqual([]);
    expect(checkAll(objects, RULES, { pods: ['10.20.0.0/16'], nodes: ['203.0.113.128/25'] }).filter((x) => x.rule === 'trusted-proxies')).not.toEqual([]);
  });
});
