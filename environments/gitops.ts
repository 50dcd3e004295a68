// Where Argo CD finds this repository's dist/ and which cluster it syncs it to.
import { z } from 'zod';

export const GitopsConfig = z.strictObject({
  /** The Git repository holding dist/ (this repository). */
  repoUrl: z.url({ error: 'must be the repository URL Argo CD clones, such as "https://github.com/acme/platform.git"' }),
  /** Branch, tag or commit Argo CD follows. @default "main" */
  targetRevision: z.string().min(1).default('main'),
  /** Namespace Argo CD runs in; Applications and the AppProject live there. @default "argocd" */
  argocdNamespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'must be a namespace name' })
    .default('argocd'),
  /** API server of the target cluster as Argo CD knows it. @default the cluster Argo CD runs in */
  destinationServer: z.url({ error: 'must be a cluster API URL' }).default('https://kubernetes.default.svc'),
});
export type GitopsConfig = z.infer<typeof GitopsConfig>;
