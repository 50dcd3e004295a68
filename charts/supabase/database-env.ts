// Connection settings for a service that logs in to PostgreSQL as its own role: the password
// from that role's Secret, and a URL that Kubernetes builds from it at pod start ($(VAR)
// expansion), so no password is ever written into a manifest. The URL asks for TLS with the
// server verified against the platform's CA (sslmode=verify-full).
import type { k8s } from 'cdk8s-plus-33';
import type { LoginRole } from '../postgres/roles';
import type { ServiceContext } from './context';

export function databaseUrlEnv(
  ctx: ServiceContext,
  role: LoginRole,
  urlVariable: string,
  opts: { database?: string; scheme?: string; query?: string } = {},
): k8s.EnvVar[] {
  const { database = 'postgres', scheme = 'postgres', query = '' } = opts;
  const tls = ctx.db.tlsFor(ctx.namespace);
  const params = `sslmode=verify-full&sslrootcert=${tls.caFile}${query ? `&${query.replace(/^\?/, '')}` : ''}`;
  return [
    { name: 'DB_PASSWORD', valueFrom: ctx.db.passwordRef(role) },
    { name: urlVariable, value: `${scheme}://${role}:$(DB_PASSWORD)@${ctx.db.host}:${ctx.db.port}/${database}?${params}` },
  ];
}
