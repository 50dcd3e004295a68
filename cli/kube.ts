// The cluster side of the CLI, kept thin: read which keys a Secret has, and server-side apply an
// object. Everything that decides what to send lives in the command modules and is tested there.
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';

export const FIELD_MANAGER = 'supabase-platform-cli';

export interface Cluster {
  secretKeys(namespace: string, name: string): Promise<string[] | undefined>;
  /** Server-side apply; `force` takes over fields another manager owns (only for --rotate). */
  apply(object: Record<string, unknown>, force: boolean): Promise<void>;
}

export function connect(context?: string): Cluster {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  const core = kc.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  return {
    async secretKeys(namespace, name) {
      try {
        const secret = await core.readNamespacedSecret({ name, namespace });
        return Object.keys(secret.data ?? {});
      } catch (error) {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      }
    },
    async apply(object, force) {
      await objects.patch(object, undefined, undefined, FIELD_MANAGER, force, PatchStrategy.ServerSideApply);
    },
  };
}
