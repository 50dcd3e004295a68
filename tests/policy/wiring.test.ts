// Wiring across charts, from the synthesised objects: every host and port a workload is told to
// use is a Service and port of the platform (its own, or one CloudNativePG makes for a Cluster or
// Pooler it declares), and every Secret key it reads is one the platform declares (and, outside
// dev, syncs with an ExternalSecret) or one cert-manager writes for its Certificates.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { platformSecrets } from '../../platform';
import { configMapData, environmentInput, objectsOf } from '../helpers';
import { containersOf, describe as name, type K8sObject, podTemplate } from '../../checks/objects';

const CLUSTER_HOST = /([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local(?::(\d+))?/g;

describe.each(ENVIRONMENT_NAMES)('%s wiring', (envName) => {
  const objects = objectsOf(envName).map((l) => l.object);
  const services = new Map(
    objects
      .filter((o) => o.kind === 'Service')
      .map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, ((o.spec as { ports: { port: number }[] }).ports ?? []).map((p) => p.port)]),
  );
  // The Services CloudNativePG makes: <cluster>-rw, -ro and -r on 5432, and one per Pooler, named
  // after it (docs/reference/cloudnativepg.md).
  // Clusters a workload creates at run time from a manifest it is shipped (the restore drill's) count too.
  const shipped = objects
    .filter((o) => o.kind === 'ConfigMap')
    .flatMap((o) => Object.values((o as unknown as { data?: Record<string, string> }).data ?? {}))
    .filter((text) => /^kind: Cluster$/m.test(text))
    .map((text) => parse(text) as K8sObject);
  for (const o of [...objects, ...shipped].filter((x) => x.apiVersion === 'postgresql.cnpg.io/v1')) {
    const key = (svc: string | undefined) => `${o.metadata.namespace}/${svc}`;
    if (o.kind === 'Cluster') for (const suffix of ['rw', 'ro', 'r']) services.set(key(`${o.metadata.name}-${suffix}`), [5432]);
    if (o.kind === 'Pooler') services.set(key(o.metadata.name), [5432]);
  }
  const input = environmentInput(envName);
  const { specs } = platformSecrets(input);

  /** Problems with every in-cluster host (and port) mentioned in `text`. */
  const checkHosts = (where: string, text: string, port?: string) =>
    [...text.matchAll(CLUSTER_HOST)].flatMap(([, svc, ns, inlinePort]) => {
      const ports = services.get(`${ns}/${svc}`);
      if (!ports) return [`${where}: ${svc}.${ns} is not a Service of the platform`];
      const p = inlinePort ?? port;
      return p && !ports.includes(Number(p)) ? [`${where}: Service ${ns}/${svc} has no port ${p} (it has ${ports.join(', ')})`] : [];
    });

  it('points every host and port at a Service and port that exist', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const obj of objects) {
      const t = podTemplate(obj);
      if (!t) continue;
      for (const { path, container } of containersOf(t)) {
        const env = container.env ?? [];
        for (const e of env) {
          if (e.value === undefined) continue;
          const port = /_HOST$/.test(e.name) ? env.find((p) => p.name === e.name.replace(/_HOST$/, '_PORT'))?.value : undefined;
          const found = checkHosts(`${name(obj)} ${path}.env[${e.name}]`, e.value, port);
          if (CLUSTER_HOST.test(e.value)) checked++;
          CLUSTER_HOST.lastIndex = 0;
          problems.push(...found);
        }
      }
    }
    const kong = configMapData(envName, 'kong-config')['kong.yml']!;
    const kongUpstreams = (parse(kong) as { services: { url: string }[] }).services.map((s) => s.url);
    for (const url of kongUpstreams) problems.push(...checkHosts(`kong.yml ${url}`, url));
    expect(checked).toBeGreaterThanOrEqual(5);
    expect(problems).toEqual([]);
  });

  it('reads only Secret keys the platform declares', () => {
    const declared = new Map(specs.map((s) => [`${s.namespace}/${s.name}`, new Set(s.keys.map((k) => k.key))]));
    // The Secrets cert-manager writes for the platform's Certificates.
    for (const c of objects.filter((o) => o.kind === 'Certificate')) {
      declared.set(`${c.metadata.namespace}/${(c.spec as { secretName: string }).secretName}`, new Set(['tls.crt', 'tls.key', 'ca.crt']));
    }
    const problems: string[] = [];
    for (const obj of objects) {
      const t = podTemplate(obj);
      if (!t) continue;
      for (const { path, container } of containersOf(t)) {
        for (const e of container.env ?? []) {
          const ref = (e.valueFrom as { secretKeyRef?: { name: string; key: string } } | undefined)?.secretKeyRef;
          if (!ref) continue;
          const keys = declared.get(`${obj.metadata.namespace}/${ref.name}`);
          if (!keys) problems.push(`${name(obj)} ${path}.env[${e.name}]: Secret ${ref.name} is not declared`);
          else if (!keys.has(ref.key)) problems.push(`${name(obj)} ${path}.env[${e.name}]: Secret ${ref.name} has no key ${ref.key}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('syncs every declared Secret with an ExternalSecret outside dev, and none in dev', () => {
    const externalSecrets = objects
      .filter((o) => o.kind === 'ExternalSecret')
      .map((o) => `${o.metadata.namespace}/${(o.spec as { target: { name: string } }).target.name}`);
    expect(specs.length).toBeGreaterThan(5);
    if (envName === 'dev') expect(externalSecrets).toEqual([]);
    else expect(externalSecrets.sort()).toEqual(specs.map((s) => `${s.namespace}/${s.name}`).sort());
  });
});
