// Traces from the edge in: Kong's opentelemetry plugin starts a trace for every request, the
// Supabase services that can export OpenTelemetry at their pinned versions (Auth, Realtime,
// Storage, imgproxy) continue it, each reaching the collector through the NetworkPolicies; and
// Grafana links a log line to its trace and a span to its logs.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseAlloyConfig } from '../../charts/observability/config/alloy';
import { DATASOURCE_UIDS, TRACE_ID_PATTERN } from '../../charts/observability/grafana';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { effectiveFlows, flowKey } from '../../checks/reachability';
import { configMapData, environment, find, objectsOf, tryFind } from '../helpers';

type Obj = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const containers = (env: string, name: string): Obj[] => find<Obj>(env, 'Deployment', name).spec.template.spec.containers;
const vars = (container: Obj): Record<string, string> =>
  Object.fromEntries((container.env ?? []).filter((v: Obj) => v.value !== undefined).map((v: Obj) => [v.name, v.value]));

const COLLECTOR = 'otel-collector.observability.svc.cluster.local';
const TRACING_LABEL = 'access.supabase-platform/tracing';

/**
 * Every container that exports traces: the variable naming its service (the name Grafana looks
 * its logs up by: its container's), where it sends them and over which protocol.
 */
const SENDERS = [
  {
    workload: 'auth',
    container: 'auth',
    nameVar: 'OTEL_SERVICE_NAME',
    endpointVar: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    port: 4318,
    switches: { GOTRUE_TRACING_ENABLED: 'true', GOTRUE_TRACING_EXPORTER: 'opentelemetry' },
  },
  {
    workload: 'realtime',
    container: 'realtime',
    nameVar: 'OTEL_SERVICE_NAME',
    endpointVar: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    port: 4318,
    switches: { OTEL_TRACES_EXPORTER: 'otlp' },
  },
  {
    workload: 'storage',
    container: 'storage',
    nameVar: 'SERVICE_NAME',
    endpointVar: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    port: 4317,
    switches: { TRACING_ENABLED: 'true' },
  },
  {
    workload: 'storage',
    container: 'imgproxy',
    nameVar: 'OTEL_SERVICE_NAME',
    endpointVar: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    port: 4317,
    switches: { IMGPROXY_OPEN_TELEMETRY_ENABLE: 'true', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
  },
] as const;

describe.each(ENVIRONMENT_NAMES)('traces in %s', (env) => {
  const flows = () => new Set(effectiveFlows(objectsOf(env).map((l) => l.object)).map(flowKey));
  const rate = environment(env).observability.tracing.samplingRate;

  it("starts a trace at Kong for every request, with no client's trace context believed", () => {
    const kong = find<Obj>(env, 'Deployment', 'kong').spec.template;
    const k = vars(kong.spec.containers[0]);
    expect(k.KONG_PLUGINS!.split(',')).toContain('opentelemetry');
    expect(k.KONG_TRACING_INSTRUMENTATIONS).not.toBe('off');
    expect(k.KONG_TRACING_INSTRUMENTATIONS!.split(',')).toContain('request');
    expect(Number(k.KONG_TRACING_SAMPLING_RATE)).toBe(rate);
    expect(kong.metadata.labels[TRACING_LABEL]).toBe('true');
    const declarative = parse(configMapData(env, 'kong-config')['kong.yml']!);
    const plugin = declarative.plugins.find((p: Obj) => p.name === 'opentelemetry');
    expect(plugin.config.traces_endpoint).toBe(`http://${COLLECTOR}:4318/v1/traces`);
    expect(plugin.config.endpoint).toBeUndefined(); // deprecated since 3.7
    expect(plugin.config.resource_attributes['service.name']).toBe('kong');
    expect(plugin.config.propagation).toEqual({ extract: [], clear: ['tracestate'], inject: ['w3c'], default_format: 'w3c' });
    expect(flows()).toContain(`supabase/kong -> observability/otel-collector:4318`);
  });

  it.each(SENDERS)('exports $container traces to the collector, through the policies', (s) => {
    const pod = find<Obj>(env, 'Deployment', s.workload).spec.template;
    const c = vars(pod.spec.containers.find((x: Obj) => x.name === s.container));
    for (const [name, value] of Object.entries(s.switches)) expect(c[name], name).toBe(value);
    expect(c[s.endpointVar]).toBe(`http://${COLLECTOR}:${s.port}`);
    // Grafana's span-to-logs link finds the lines by container: the service is named after it.
    expect(c[s.nameVar]).toBe(s.container);
    expect(c.OTEL_TRACES_SAMPLER).toBe('parentbased_traceidratio');
    expect(Number(c.OTEL_TRACES_SAMPLER_ARG)).toBe(rate);
    expect(c.OTEL_RESOURCE_ATTRIBUTES).toBe(`deployment.environment=${env}`);
    expect(pod.metadata.labels[TRACING_LABEL]).toBe('true');
    expect(flows()).toContain(`supabase/${s.workload} -> observability/otel-collector:${s.port}`);
  });

  it('logs the traceparent Kong sends as the request ID of Auth and Storage, so their lines carry the trace ID', () => {
    expect(vars(containers(env, 'auth')[0]).GOTRUE_API_REQUEST_ID_HEADER).toBe('traceparent');
    expect(vars(containers(env, 'storage').find((c) => c.name === 'storage')).REQUEST_TRACE_HEADER).toBe('traceparent');
  });

  it('leaves out the services with no OpenTelemetry exporter at their pinned versions: PostgREST, postgres-meta, Studio', () => {
    for (const name of ['rest', 'meta', 'studio']) {
      const deployment = tryFind<Obj>(env, 'Deployment', name);
      if (!deployment) continue; // Studio only where it runs
      const text = JSON.stringify(deployment.spec.template);
      expect(text, name).not.toContain('OTEL_');
      expect(deployment.spec.template.metadata.labels[TRACING_LABEL], name).toBeUndefined();
      expect(
        [...flows()].filter((f) => f.startsWith(`supabase/${name} -> observability/otel-collector`)),
        name,
      ).toEqual([]);
    }
  });

  it('admits OTLP only from pods labelled for tracing, on 4317 and 4318', () => {
    const collector = find<Obj>(env, 'NetworkPolicy', 'otel-collector');
    const otlp = collector.spec.ingress.filter((r: Obj) => [4317, 4318].includes(r.ports[0].port));
    expect(otlp).toHaveLength(2);
    for (const rule of otlp) expect(rule.from).toEqual([expect.objectContaining({ podSelector: { matchLabels: { [TRACING_LABEL]: 'true' } } })]);
    // Only senders reach it: Prometheus on the metrics port aside.
    const senders = [...flows()]
      .filter((f) => / -> observability\/otel-collector:431[78]$/.test(f))
      .map((f) => f.split(' -> ')[0])
      .sort();
    expect(new Set(senders)).toEqual(
      new Set(['app/api', 'app/scheduler', 'app/worker', 'supabase/auth', 'supabase/kong', 'supabase/realtime', 'supabase/storage']),
    );
  });

  it('links a log line to its trace and a span to its logs in Grafana', () => {
    const text = configMapData(env, 'grafana-provisioning')['datasources.yaml']!;
    // Provisioning expands $NAME and ${NAME} from Grafana's environment: only $$ may appear.
    expect(text.replace(/\$\$/g, '')).not.toContain('$');
    const datasources: Obj[] = parse(text).datasources;
    const loki = datasources.find((d) => d.type === 'loki');
    const tempo = datasources.find((d) => d.type === 'tempo');
    expect(tempo.uid).toBe(DATASOURCE_UIDS.tempo);
    const [field, ...others] = loki.jsonData.derivedFields;
    expect(others).toEqual([]);
    expect(field).toMatchObject({ datasourceUid: tempo.uid, url: '$${__value.raw}', matcherRegex: TRACE_ID_PATTERN });
    expect(tempo.jsonData.tracesToLogsV2).toMatchObject({
      datasourceUid: loki.uid,
      filterByTraceID: true,
      tags: [{ key: 'service.name', value: 'container' }],
    });
    // The label the span-to-logs query selects by is one Alloy gives every line.
    const relabel = parseAlloyConfig(configMapData(env, 'alloy-config')['config.alloy']!).find(
      (s) => s.kind === 'block' && s.name === 'discovery.relabel',
    ) as Obj;
    const targets = relabel.body
      .filter((s: Obj) => s.kind === 'block')
      .flatMap((r: Obj) => r.body.filter((a: Obj) => a.name === 'target_label').map((a: Obj) => a.value.value));
    expect(targets).toContain('container');
  });
});

describe('the trace ID in a log line', () => {
  const id = '4bf92f3577b34da6a3ce929d0e0e4736';
  const match = (line: string) => new RegExp(TRACE_ID_PATTERN).exec(line)?.[1];

  it.each([
    [
      'Auth (request_id is the traceparent)',
      `{"component":"api","level":"info","method":"GET","msg":"request completed","path":"/user","request_id":"00-${id}-00f067aa0ba902b7-01","status":200}`,
    ],
    [
      'Storage (traceId is the traceparent)',
      `{"level":30,"time":"2026-01-01T00:00:00.000Z","type":"request","req":{"traceId":"00-${id}-00f067aa0ba902b7-01","method":"GET"},"res":{"statusCode":200}}`,
    ],
    ['a JSON trace_id', `{"level":"info","trace_id":"${id}","span_id":"00f067aa0ba902b7","msg":"quote served"}`],
    ['a logfmt traceID', `level=info traceID=${id} msg="job done"`],
    ['an OpenTelemetry trace.id', `{"trace.id": "${id}"}`],
  ])('is found in %s', (_what, line) => {
    expect(match(line)).toBe(id);
  });

  it.each([
    ['a request ID that is a UUID (no traceparent was sent)', '{"request_id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427"}'],
    ['a span ID alone', '{"span_id":"00f067aa0ba902b7"}'],
    ['hex that is too long to be a trace ID', `trace_id=${id}${id}`],
  ])('is not taken from %s', (_what, line) => {
    expect(match(line)).toBeUndefined();
  });
});
