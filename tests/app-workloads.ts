// The product's workloads as synthesised (the api Rollout, the worker and scheduler
// Deployments): their container's environment and pod settings, for the tests that hold the
// service (service/) to what the app chart gives it.
import { find } from './helpers';

export const APP_WORKLOADS = { api: 'Rollout', worker: 'Deployment', scheduler: 'Deployment' } as const;
export type AppWorkload = keyof typeof APP_WORKLOADS;

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}

export interface AppPod {
  terminationGracePeriodSeconds: number;
  containers: { name: string; image: string; env: EnvVar[]; ports?: { name: string; containerPort: number }[] }[];
}

/** The pod template of `component` in environment `env`. */
export function appPod(env: string, component: AppWorkload): AppPod {
  return find<{ spec: { template: { spec: AppPod } } }>(env, APP_WORKLOADS[component], component).spec.template.spec;
}

/** The env of the component's (only) container. */
export function appEnv(env: string, component: AppWorkload): EnvVar[] {
  const pod = appPod(env, component);
  const container = pod.containers.find((c) => c.name === component);
  if (!container) throw new Error(`${env}: the ${component} pod has no container ${component}`);
  return container.env;
}

/**
 * The environment a container would see, as the kubelet builds it: each variable's value, or
 * `secret(name, key)` for one from a Secret, with $(NAME) references to earlier variables
 * expanded (https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/).
 * `rewrite` may change a literal value first (addresses, ports, file paths of the test).
 */
export function kubeletEnv(
  vars: EnvVar[],
  secret: (name: string, key: string) => string,
  rewrite: (name: string, value: string) => string = (_n, v) => v,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of vars) {
    if (v.valueFrom?.secretKeyRef) out[v.name] = secret(v.valueFrom.secretKeyRef.name, v.valueFrom.secretKeyRef.key);
    else if (v.valueFrom) throw new Error(`${v.name}: only values and Secret references are expected in the app's env`);
    else out[v.name] = rewrite(v.name, v.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (ref, name: string) => out[name] ?? ref);
  }
  return out;
}
