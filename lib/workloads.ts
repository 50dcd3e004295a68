// The workload identity table: the one home of the names of workloads that another chart must
// name before the chart that owns them exists (forward references, such as a Supabase service
// admitting Kong's pods while the gateway chart is built later). The owning chart takes its
// workload's name and component from here too, so the two can never drift apart.
import type { NamespaceKey } from '../environments/schema';
import type { PlatformContext } from './context';
import type { WorkloadIdentity } from './endpoint';

/** A workload's identity within any platform instance. */
interface WorkloadEntry {
  /** The namespace it runs in, by concern. */
  readonly namespace: NamespaceKey;
  /** Its app.kubernetes.io/name, which is also its Service's name. */
  readonly name: string;
  /** Its app.kubernetes.io/component. */
  readonly component: string;
}

export const WORKLOADS = {
  /** Kong, the API gateway (charts/gateway): every Supabase service and the product admit it. */
  kong: { namespace: 'supabase', name: 'kong', component: 'gateway' },
  /** Studio (charts/supabase): postgres-meta admits it, and it is built after postgres-meta. */
  studio: { namespace: 'supabase', name: 'studio', component: 'studio' },
  /** postgres-meta (charts/supabase): Studio calls it. */
  meta: { namespace: 'supabase', name: 'meta', component: 'meta' },
  /** PostgREST (charts/supabase): Storage calls it. */
  rest: { namespace: 'supabase', name: 'rest', component: 'rest' },
  /**
   * The load-test Jobs (charts/loadtest), which Prometheus admits for remote write. Each Job has
   * its own name (loadtest-api, ...): their pods are selected by component, and `name` names the
   * objects they share (the scripts' ConfigMap).
   */
  loadtest: { namespace: 'app', name: 'loadtest', component: 'loadtest' },
} as const satisfies Record<string, WorkloadEntry>;

export type WorkloadKey = keyof typeof WORKLOADS;

/** The identity of a table workload in this platform instance. */
export function workload(platform: PlatformContext, key: WorkloadKey): WorkloadIdentity {
  const entry: WorkloadEntry = WORKLOADS[key];
  return { namespace: platform.namespaces[entry.namespace], name: entry.name, component: entry.component, instance: platform.instance };
}
