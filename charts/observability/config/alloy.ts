// config.alloy, built with the typed builder of alloy-syntax.ts. The components and their
// arguments are the ones the platform uses, typed from Alloy's component reference at the pinned
// version (lib/images.ts, Alloy 1.18;
// https://github.com/grafana/alloy/tree/v1.18.1/docs/sources/reference/components):
//   https://grafana.com/docs/alloy/v1.18/reference/components/discovery/discovery.kubernetes/
//   https://grafana.com/docs/alloy/v1.18/reference/components/discovery/discovery.relabel/
//   https://grafana.com/docs/alloy/v1.18/reference/components/loki/loki.source.kubernetes/
//   https://grafana.com/docs/alloy/v1.18/reference/components/loki/loki.process/
//   https://grafana.com/docs/alloy/v1.18/reference/components/loki/loki.write/
// Only the arguments and blocks listed here can be written; one of Alloy's that is not listed is
// refused like a misspelt one (add it here, from the reference, to use it). Authentication blocks
// (authorization, basic_auth, oauth2, tls_config) are left out: nothing here uses them.
import {
  type AlloyStatement,
  type ComponentSpec,
  checkAlloy,
  concat,
  defineComponent,
  env,
  parseAlloy,
  printAlloy,
  receivers,
  split,
  str,
  stringMap,
  strings,
} from './alloy-syntax';

const HTTP_CLIENT = {
  bearer_token_file: { type: 'string' },
  bearer_token: { type: 'secret' },
  enable_http2: { type: 'bool' },
  follow_redirects: { type: 'bool' },
  http_headers: { type: 'map(list(secret))' },
  no_proxy: { type: 'string' },
  proxy_from_environment: { type: 'bool' },
  proxy_url: { type: 'string' },
} as const;

/** The relabelling rule block of discovery.relabel (shared/reference/components/rule-block.md). */
const RULE = {
  repeated: true,
  attributes: {
    action: { type: 'string' },
    modulus: { type: 'number' },
    regex: { type: 'string' },
    replacement: { type: 'string' },
    separator: { type: 'string' },
    source_labels: { type: 'list(string)' },
    target_label: { type: 'string' },
  },
} as const;

export const ALLOY_COMPONENTS = {
  'discovery.kubernetes': {
    attributes: { role: { type: 'string', required: true }, api_server: { type: 'string' }, kubeconfig_file: { type: 'string' }, ...HTTP_CLIENT },
    blocks: {
      attach_metadata: { attributes: { node: { type: 'bool' }, namespace: { type: 'bool' } } },
      namespaces: { attributes: { names: { type: 'list(string)' }, own_namespace: { type: 'bool' } } },
      selectors: { repeated: true, attributes: { role: { type: 'string', required: true }, field: { type: 'string' }, label: { type: 'string' } } },
    },
    exports: { targets: 'list(map(string))' },
  },
  'discovery.relabel': {
    attributes: { targets: { type: 'list(map(string))', required: true } },
    blocks: { rule: RULE },
    exports: { output: 'list(map(string))' },
  },
  'loki.source.kubernetes': {
    attributes: { targets: { type: 'list(map(string))', required: true }, forward_to: { type: 'list(LogsReceiver)', required: true } },
    blocks: { clustering: { attributes: { enabled: { type: 'bool', required: true } } } },
    exports: {},
  },
  'loki.process': {
    attributes: { forward_to: { type: 'list(LogsReceiver)', required: true } },
    // Stages run in the order they appear; this builder writes them in the order of these keys.
    blocks: {
      'stage.static_labels': { repeated: true, attributes: { values: { type: 'map(string)' } } },
      'stage.labels': { repeated: true, attributes: { values: { type: 'map(string)' }, source_type: { type: 'string' } } },
    },
    exports: { receiver: 'LogsReceiver' },
  },
  'loki.write': {
    attributes: { external_labels: { type: 'map(string)' }, max_streams: { type: 'number' } },
    blocks: {
      endpoint: {
        repeated: true,
        attributes: {
          url: { type: 'string', required: true },
          name: { type: 'string' },
          batch_size: { type: 'string' },
          batch_wait: { type: 'duration' },
          headers: { type: 'map(string)' },
          min_backoff_period: { type: 'duration' },
          max_backoff_period: { type: 'duration' },
          max_backoff_retries: { type: 'number' },
          remote_timeout: { type: 'duration' },
          retry_on_http_429: { type: 'bool' },
          tenant_id: { type: 'string' },
          ...HTTP_CLIENT,
        },
      },
    },
    exports: { receiver: 'LogsReceiver' },
  },
} as const satisfies Readonly<Record<string, ComponentSpec>>;

type Components = typeof ALLOY_COMPONENTS;
type Args<N extends keyof Components> = Parameters<typeof defineComponent<Components[N]>>[3];
/** Declares a component the platform uses, its arguments typed from the reference. */
export function component<N extends keyof Components>(name: N, label: string, args: Args<N>) {
  return defineComponent<Components[N]>(ALLOY_COMPONENTS[name], name, label, args);
}

export const ALLOY_CONFIG_FILE = 'config.alloy';

/** The environment variables config.alloy reads (sys.env); the DaemonSet sets each. */
export const ALLOY_ENV = { nodeName: 'NODE_NAME', namespaces: 'WATCHED_NAMESPACES', cluster: 'CLUSTER', lokiPushUrl: 'LOKI_PUSH_URL' } as const;

/**
 * Grafana Alloy on every node: the logs of this node's pods in the platform's namespaces, read
 * through the Kubernetes API (no host paths), labelled namespace, pod, container, app and job,
 * pushed to Loki.
 */
export function alloyConfig(): AlloyStatement[] {
  const pods = component('discovery.kubernetes', 'pods', {
    role: str('pod'),
    namespaces: { names: split(env(ALLOY_ENV.namespaces), ',') },
    selectors: [{ role: str('pod'), field: concat(str('spec.nodeName='), env(ALLOY_ENV.nodeName)) }],
  });
  const copy = (from: string, to: string) => ({ source_labels: strings(from), target_label: str(to) });
  const labelled = component('discovery.relabel', 'pods', {
    targets: pods.exports.targets,
    rule: [
      copy('__meta_kubernetes_namespace', 'namespace'),
      copy('__meta_kubernetes_pod_name', 'pod'),
      copy('__meta_kubernetes_pod_container_name', 'container'),
      copy('__meta_kubernetes_pod_label_app_kubernetes_io_name', 'app'),
      { source_labels: strings('__meta_kubernetes_namespace', '__meta_kubernetes_pod_container_name'), separator: str('/'), target_label: str('job') },
    ],
  });
  const write = component('loki.write', 'loki', { endpoint: [{ url: env(ALLOY_ENV.lokiPushUrl) }] });
  const process = component('loki.process', 'pods', {
    forward_to: receivers(write.exports.receiver),
    'stage.static_labels': [{ values: stringMap({ cluster: env(ALLOY_ENV.cluster) }) }],
  });
  const source = component('loki.source.kubernetes', 'pods', { targets: labelled.exports.output, forward_to: receivers(process.exports.receiver) });
  return [pods.block, labelled.block, source.block, process.block, write.block];
}

/** config.alloy as it ships; read back and checked, so synth refuses a file Alloy would refuse. */
export function renderAlloyConfig(statements: readonly AlloyStatement[]): string {
  const text = printAlloy(statements, [
    "Grafana Alloy on every node: the logs of this node's pods in the platform's namespaces, read",
    'through the Kubernetes API (no host paths), labelled namespace, pod, container, app and job,',
    "pushed to Loki. Values come from the container's environment.",
    'Generated from charts/observability/config/alloy.ts.',
  ]);
  parseAlloyConfig(text);
  return text;
}

/** Parses config.alloy (the shipped text) and checks every component against its spec. */
export function parseAlloyConfig(text: string): AlloyStatement[] {
  const statements = parseAlloy(text);
  checkAlloy(statements, ALLOY_COMPONENTS);
  return statements;
}
