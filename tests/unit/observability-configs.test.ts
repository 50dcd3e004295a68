// The Loki, Tempo, OpenTelemetry Collector and Alloy configurations: built from typed objects,
// checked at synth, and here read back from the synthesised ConfigMaps (the bytes that ship) and
// broken on purpose. No program that could load them can be installed here (Debian bookworm has
// none of the four; npm has no Alloy parser), so the checks are the schemas of
// charts/observability/config/, written from each project's reference at the pinned version. Each
// broken case below must be refused, or the check would let the same mistake ship.
import { describe, expect, it } from 'vitest';
import { ALLOY_CONFIG_FILE, ALLOY_ENV, component, parseAlloyConfig, renderAlloyConfig } from '../../charts/observability/config/alloy';
import { AlloyConfigError, AlloySyntaxError, num, parseAlloy, str } from '../../charts/observability/config/alloy-syntax';
import { ConfigError, expandEnv } from '../../charts/observability/config/check';
import {
  COLLECTOR_CONFIG_FILE,
  type CollectorConfig,
  collectorConfig,
  parseCollectorConfig,
  renderCollectorConfig,
} from '../../charts/observability/config/otel-collector';
import { LOKI_CONFIG_FILE, type LokiConfig, lokiConfig, parseLokiConfig, renderLokiConfig } from '../../charts/observability/config/loki';
import { TEMPO_CONFIG_FILE, type TempoConfig, parseTempoConfig, renderTempoConfig, tempoConfig } from '../../charts/observability/config/tempo';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { configMapData, find } from '../helpers';

type Obj = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const shipped = (env: string) => ({
  loki: configMapData(env, 'loki-config')[LOKI_CONFIG_FILE]!,
  tempo: configMapData(env, 'tempo-config')[TEMPO_CONFIG_FILE]!,
  collector: configMapData(env, 'otel-collector-config')[COLLECTOR_CONFIG_FILE]!,
  alloy: configMapData(env, 'alloy-config')[ALLOY_CONFIG_FILE]!,
});

/** The first container's environment of a workload, with each value from the pod (fieldRef) filled with a sample. */
function containerEnv(env: string, kind: string, name: string): Record<string, string> {
  const found = find<Obj>(env, kind, name);
  const samples: Record<string, string> = { 'status.podIP': '10.1.2.3', 'spec.nodeName': 'node-a' };
  return Object.fromEntries(
    (found.spec.template.spec.containers[0].env as Obj[]).map((v) => [v.name, v.value ?? samples[v.valueFrom?.fieldRef?.fieldPath] ?? '<secret>']),
  );
}

/** What a check refused, as one string; fails the test when the check accepted. */
function refusal(check: () => unknown): string {
  try {
    check();
  } catch (e) {
    expect(e instanceof ConfigError || e instanceof AlloySyntaxError || e instanceof AlloyConfigError, String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('the broken config was accepted');
}

/** Inserts `line` after the first line equal to `after` (the shipped text, edited as a person would). */
function insertAfter(text: string, after: string, line: string): string {
  const lines = text.split('\n');
  const i = lines.indexOf(after);
  expect(i, `"${after}" in the shipped file`).toBeGreaterThanOrEqual(0);
  lines.splice(i + 1, 0, line);
  return lines.join('\n');
}

describe.each(ENVIRONMENT_NAMES)('the shipped configs of %s', (env) => {
  it('read back with their strict schemas', () => {
    const files = shipped(env);
    expect(parseLokiConfig(files.loki).limits_config?.retention_period).toBe('${LOKI_RETENTION}');
    expect(parseTempoConfig(files.tempo).storage.trace.backend).toBe('local');
    expect(Object.keys(parseCollectorConfig(files.collector).service.pipelines)).toEqual(['traces']);
    expect(parseAlloyConfig(files.alloy).map((s) => (s.kind === 'block' ? `${s.name}.${s.label ?? ''}` : s.name))).toEqual([
      'discovery.kubernetes.pods',
      'discovery.relabel.pods',
      'loki.source.kubernetes.pods',
      'loki.process.pods',
      'loki.write.loki',
    ]);
  });

  it("still hold once every ${...} reference is filled from the container's environment", () => {
    const files = shipped(env);
    const loki = parseLokiConfig(expandEnv(files.loki, containerEnv(env, 'StatefulSet', 'loki'), LOKI_CONFIG_FILE));
    expect(loki.limits_config?.retention_period).toMatch(/^\d+[hd]$/);
    const tempo = parseTempoConfig(expandEnv(files.tempo, containerEnv(env, 'StatefulSet', 'tempo'), TEMPO_CONFIG_FILE));
    expect(tempo.compactor?.compaction.block_retention).toMatch(/^\d+h$/);
    const collector = parseCollectorConfig(expandEnv(files.collector, containerEnv(env, 'Deployment', 'otel-collector'), COLLECTOR_CONFIG_FILE));
    expect((collector.exporters['otlp_grpc/tempo'] as Obj).endpoint).toBe('tempo.observability.svc.cluster.local:4317');
    // Alloy reads its values with sys.env: each one it reads is set on the DaemonSet.
    const alloyEnv = containerEnv(env, 'DaemonSet', 'alloy');
    const read = [...files.alloy.matchAll(/sys\.env\("([A-Z_]+)"\)/g)].map((m) => m[1]!);
    expect(new Set(read)).toEqual(new Set(Object.values(ALLOY_ENV)));
    for (const name of read) expect(alloyEnv[name], name).toBeTruthy();
  });

  it('refuses a reference the container does not set', () => {
    const files = shipped(env);
    const withoutRetention = Object.fromEntries(Object.entries(containerEnv(env, 'StatefulSet', 'loki')).filter(([k]) => k !== 'LOKI_RETENTION'));
    expect(refusal(() => expandEnv(files.loki, withoutRetention, LOKI_CONFIG_FILE))).toContain('${LOKI_RETENTION} is not set');
  });
});

describe('a broken Loki config is refused', () => {
  const text = shipped('production').loki;

  it('an unknown or misspelt key, by its path', () => {
    const message = refusal(() => parseLokiConfig(insertAfter(text, 'limits_config:', '  retention_periods: 7d')));
    expect(message).toContain('loki.yaml');
    expect(message).toMatch(/limits_config: Unrecognized key: "retention_periods"/);
    expect(refusal(() => parseLokiConfig(`${text}querier_typo:\n  x: 1\n`))).toContain('Unrecognized key: "querier_typo"');
  });

  it('a value of the wrong type', () => {
    expect(refusal(() => parseLokiConfig(text.replace('http_listen_port: 3100', 'http_listen_port: "port 3100"')))).toContain('server.http_listen_port');
    expect(refusal(() => parseLokiConfig(text.replace('reject_old_samples_max_age: 168h', 'reject_old_samples_max_age: a week')))).toContain(
      'limits_config.reject_old_samples_max_age',
    );
  });

  it('broken YAML, by its line', () => {
    expect(refusal(() => parseLokiConfig(text.replace('  log_level: warn', '   log_level: warn\n  - stray')))).toMatch(/line \d+/);
    expect(refusal(() => parseLokiConfig(text.replace('auth_enabled: false', 'auth_enabled: [false')))).toMatch(/line \d+/);
    expect(refusal(() => parseLokiConfig(`${text}auth_enabled: true\n`))).toMatch(/unique/i);
  });

  it('what Loki itself refuses: retention without a delete request store, a tsdb period other than 24h', () => {
    const c = lokiConfig({ httpPort: 3100, grpcPort: 9095, dataDir: '/loki', retention: '7d' });
    expect(refusal(() => renderLokiConfig({ ...c, compactor: { ...c.compactor, delete_request_store: undefined } }))).toContain(
      'compactor.delete_request_store',
    );
    const period = { ...c.schema_config.configs[0]!, index: { prefix: 'index_', period: '1h' } };
    expect(refusal(() => renderLokiConfig({ ...c, schema_config: { configs: [period] } }))).toContain('schema_config.configs.0.index.period');
  });

  it('a misspelt key in the typed object, at synth and at compile time', () => {
    const c = lokiConfig({ httpPort: 3100, grpcPort: 9095, dataDir: '/loki', retention: '7d' });
    expect(refusal(() => renderLokiConfig({ ...c, server: { ...c.server, log_levl: 'warn' } as LokiConfig['server'] }))).toContain(
      'server: Unrecognized key: "log_levl"',
    );
    const typed: LokiConfig = {
      schema_config: c.schema_config,
      // @ts-expect-error: not a key of Loki's configuration (tsc fails this file if it were accepted)
      limits_configs: {},
    };
    expect(typed).toBeDefined();
  });
});

describe('a broken Tempo config is refused', () => {
  const text = shipped('production').tempo;

  it('an unknown or misspelt key, by its path', () => {
    expect(refusal(() => parseTempoConfig(insertAfter(text, 'ingester:', '  max_block_durations: 5m')))).toMatch(
      /ingester: Unrecognized key: "max_block_durations"/,
    );
    expect(refusal(() => parseTempoConfig(text.replace('        http:\n', '        https:\n')))).toContain(
      'distributor.receivers.otlp.protocols: Unrecognized key: "https"',
    );
  });

  it('a value of the wrong type: a retention in days, which Go durations do not have', () => {
    expect(refusal(() => parseTempoConfig(text.replace('block_retention: ${TEMPO_RETENTION}', 'block_retention: 14d')))).toContain(
      'compactor.compaction.block_retention',
    );
  });

  it('broken YAML, by its line', () => {
    expect(refusal(() => parseTempoConfig(text.replace('    backend: local', '    backend: local\n   wal: {')))).toMatch(/line \d+/);
  });

  it('a misspelt key in the typed object, at synth and at compile time', () => {
    const c = tempoConfig({ httpPort: 3200, otlpGrpcPort: 4317, otlpHttpPort: 4318, dataDir: '/var/tempo', retention: '336h' });
    expect(refusal(() => renderTempoConfig({ ...c, usage_report: { reporting_enabled: false, reporting: true } as TempoConfig['usage_report'] }))).toContain(
      'usage_report: Unrecognized key: "reporting"',
    );
    const typed: TempoConfig = {
      storage: c.storage,
      // @ts-expect-error: not a key of Tempo's configuration
      stream_over_http: true,
    };
    expect(typed).toBeDefined();
  });
});

describe('a broken Collector config is refused', () => {
  const text = shipped('production').collector;

  it('an unknown or misspelt key, by its path', () => {
    expect(refusal(() => parseCollectorConfig(insertAfter(text, '  memory_limiter:', '    limit_percent: 80')))).toContain(
      'processors.memory_limiter: Unrecognized key: "limit_percent"',
    );
    expect(refusal(() => parseCollectorConfig(insertAfter(text, '    tls:', '      insecure_verify: true')))).toContain(
      'exporters.otlp_grpc/tempo.tls: Unrecognized key: "insecure_verify"',
    );
  });

  it('a component type the Collector does not have, or a pipeline naming one that is not configured', () => {
    expect(refusal(() => parseCollectorConfig(text.replace('  otlp_grpc/tempo:', '  otlp_grcp/tempo:')))).toContain('unknown component type "otlp_grcp"');
    expect(refusal(() => parseCollectorConfig(text.replace('        - batch\n', '        - batch/traces\n')))).toContain(
      'service.pipelines.traces.processors.1: names processor "batch/traces", which is not configured',
    );
  });

  it('a value of the wrong type, and limits that contradict each other', () => {
    expect(refusal(() => parseCollectorConfig(text.replace('check_interval: 1s', 'check_interval: often')))).toContain(
      'processors.memory_limiter.check_interval',
    );
    expect(refusal(() => parseCollectorConfig(text.replace('spike_limit_percentage: 25', 'spike_limit_percentage: 90')))).toContain(
      'must be below limit_percentage',
    );
  });

  it('broken YAML, by its line', () => {
    expect(refusal(() => parseCollectorConfig(text.replace('      exporters:\n        - otlp_grpc/tempo', '      exporters: [otlp_grpc/tempo')))).toMatch(
      /line \d+/,
    );
  });

  it('a misspelt key in the typed object, at synth and at compile time', () => {
    const c = collectorConfig({
      otlpGrpcPort: 4317,
      otlpHttpPort: 4318,
      metricsPort: 8888,
      healthPort: 13133,
      podIpEnv: 'MY_POD_IP',
      tempoEndpointEnv: 'TEMPO_OTLP_ENDPOINT',
    });
    expect(refusal(() => renderCollectorConfig({ ...c, processors: { ...c.processors, batch: { timeout: '1s', send_batch: 10 } as Obj } }))).toContain(
      'processors.batch',
    );
    const typed: CollectorConfig = {
      receivers: c.receivers,
      exporters: {
        // @ts-expect-error: "otlphttp" is not a type this config knows (otlp_grpc is)
        otlphttp: { endpoint: 'x:1' },
      },
      service: c.service,
    };
    expect(typed).toBeDefined();
  });
});

describe('a broken Alloy config is refused', () => {
  const text = shipped('production').alloy;

  it('unbalanced braces, a missing comma, a stray token: syntax errors with line and column', () => {
    const lastBrace = text.lastIndexOf('}');
    expect(refusal(() => parseAlloyConfig(text.slice(0, lastBrace) + text.slice(lastBrace + 1)))).toMatch(/\d+:\d+: expected "}", got end of file/);
    expect(refusal(() => parseAlloyConfig(text.replace('loki.write "loki" {', 'loki.write "loki" {\n  }')))).toMatch(/expected identifier, got "}"/);
    expect(
      refusal(() =>
        parseAlloyConfig(
          text.replace(
            '["__meta_kubernetes_namespace", "__meta_kubernetes_pod_container_name"]',
            '["__meta_kubernetes_namespace" "__meta_kubernetes_pod_container_name"]',
          ),
        ),
      ),
    ).toContain("missing ',' in expression list");
    expect(refusal(() => parseAlloyConfig(text.replace('role = "pod"', "role = 'pod'")))).toContain('single-quoted');
  });

  it('an unknown component, argument or block, by its line', () => {
    expect(refusal(() => parseAlloyConfig(text.replace('loki.write "loki" {', 'loki.writer "loki" {')))).toMatch(/line \d+: unknown component "loki.writer"/);
    expect(refusal(() => parseAlloyConfig(text.replace('  role = "pod"', '  rolee = "pod"')))).toMatch(/discovery.kubernetes "pods" has no argument "rolee"/);
    expect(refusal(() => parseAlloyConfig(text.replace('  stage.static_labels {', '  stage.static_label {')))).toContain(
      'loki.process "pods" has no block "stage.static_label"',
    );
    expect(refusal(() => parseAlloyConfig(text.replace('    url = sys.env("LOKI_PUSH_URL")\n', '')))).toContain(
      'loki.write "loki" > endpoint: missing required argument "url"',
    );
  });

  it('a value of the wrong type, an unknown function or a reference to nothing', () => {
    expect(refusal(() => parseAlloyConfig(text.replace('forward_to = [loki.process.pods.receiver]', 'forward_to = loki.process.pods.receiver')))).toContain(
      'loki.source.kubernetes "pods" > forward_to must be list(LogsReceiver), got LogsReceiver',
    );
    expect(refusal(() => parseAlloyConfig(text.replace('string.split(', 'strings.split(')))).toContain('unknown function strings.split');
    expect(refusal(() => parseAlloyConfig(text.replace('discovery.relabel.pods.output', 'discovery.relabel.podz.output')))).toContain(
      'discovery.relabel.podz.output does not name an export',
    );
    expect(refusal(() => parseAlloyConfig(text.replace('discovery.relabel.pods.output', 'discovery.relabel.pods.targets')))).toContain('exports no "targets"');
  });

  it('a misspelt argument in the builder, at synth and at compile time', () => {
    // Values built outside an object literal escape excess-property checks: the builder refuses them.
    const args = { role: str('pod'), rolee: str('pod') };
    expect(() => component('discovery.kubernetes', 'pods', args)).toThrow('no argument or block "rolee"');
    // @ts-expect-error: loki.write has no argument "endpoints" (its block is "endpoint")
    expect(() => component('loki.write', 'loki', { endpoints: [] })).toThrow('loki.write "loki": no argument or block "endpoints"');
    // @ts-expect-error: role is a string, not a number
    expect(() => renderAlloyConfig([component('discovery.kubernetes', 'pods', { role: num(1) }).block])).toThrow('role must be string, got number');
  });
});

describe('the Alloy reader', () => {
  it('reads the syntax Alloy reads: comments, raw strings, quoted keys, operators, lists over several lines', () => {
    const statements = parseAlloy(
      [
        '/* a block comment',
        '   over two lines */',
        'prometheus.scrape "default" { // a comment after the brace',
        '  targets = [',
        '    {"__address__" = "localhost:9090", job = `raw\\path`},',
        '    { __address__ = "a:1" },',
        '  ]',
        '  scrape_interval = "1" + "5s"',
        '  enabled = !false && (1 + 2 * 3 ^ 2 >= 19 || null == null)',
        '  forward_to = []',
        '}',
        '',
      ].join('\n'),
    );
    expect(statements).toHaveLength(1);
    const block = statements[0] as Obj;
    expect(block.name).toBe('prometheus.scrape');
    expect(block.label).toBe('default');
    expect(block.body.map((a: Obj) => a.name)).toEqual(['targets', 'scrape_interval', 'enabled', 'forward_to']);
    expect(block.body[0].value.elements[0].fields.map((f: Obj) => [f.name, f.value.value])).toEqual([
      ['__address__', 'localhost:9090'],
      ['job', 'raw\\path'],
    ]);
  });

  it('refuses what Alloy refuses: a list item without its comma at the end of a line, a label on an attribute, an unterminated string', () => {
    expect(() => parseAlloy('a "b" {\n  x = [\n    1\n  ]\n}\n')).toThrow("missing ',' in expression list");
    expect(() => parseAlloy('x "label" = 1\n')).toThrow('attribute names may not have labels');
    expect(() => parseAlloy('a "b" {\n  x = "open\n}\n')).toThrow('string literal not terminated');
  });
});
