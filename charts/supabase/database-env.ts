// Connection settings for a service that logs in to PostgreSQL as its own role: the password
// from that role's key of postgres-credentials, and a URL that Kubernetes builds from it at pod
// start ($(VAR) expansion), so no password is ever written into a manifest.
import type { k8s } from 'cdk8s-plus-33';
import type { LoginRole } from '../postgres/credentials';
import type { ServiceContext } from './context';

export function databaseUrlEnv(ctx: ServiceContext, role: LoginRole, urlVariable: string, opts: { database?: string; scheme?: string; query?: string } = {}): k8s.EnvVar[] {
  const { database = 'postgres', scheme = 'postgres', query = '' } = opts;
  return [
    { name: 'DB_PASSWORD', valueFrom: ctx.db.passwordRef(role) },
    { name: urlVariable, value: `${scheme}://${role}:$(DB_PASSWORD)@${ctx.db.host}:${ctx.db.port}/${database}${query}` },
  ];
}
