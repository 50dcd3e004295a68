// The cluster side of the CLI, kept thin: read which keys a Secret has, and server-side apply an
// object. Everything that decides what to send lives in the command modules and is tested there.
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';

export const FIELD_MANAGER = 'supabase-platform-cli';

export interface Cluster {
  secretKeys(namespace: string, name: string): Promise<string[] | undefined>;
  /** A Secret's decoded values (to copy them into another namespace), or undefined if there is none. */
  secretValues(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Server-side apply; `force` takes over fields another manager owns (only for --rotate). */
  apply(object: Record<string, unknown>, force: boolean): Promise<void>;
}

export function connect(context?: string): Cluster {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  const core = kc.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const read = async (namespace: string, name: string): Promise<Record<string, string> | undefined> => {
    try {
      return (await core.readNamespacedSecret({ name, namespace })).data ?? {};
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  };
  return {
    async secretKeys(namespace, name) {
      const data = await read(namespace, name);
      return data && Object.keys(data);
    },
    async secretValues(namespace, name) {
      const data = await read(namespace, name);
      return data && Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    },
    async apply(object, force) {
      await objects.patch(object, undefined, undefined, FIELD_MANAGER, force, PatchStrategy.ServerSideApply);
    },
  };
}
