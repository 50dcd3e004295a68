// The database roles that log in, as CloudNativePG managed roles: the operator creates each one
// with these attributes and keeps its password equal to its own Secret ("postgres-role-<role>",
// keys username and password, labelled so the operator notices a rotation). Rotating a Secret is
// therefore rotating the password; nothing else stores it. The `postgres` superuser is the
// operator's own and has no password at all (enableSuperuserAccess: false).
import { ClusterSpecManagedRolesEnsure } from '../../imports/cluster-postgresql.cnpg.io';
import type { SecretSpec } from '../../lib/secrets';

/** Attributes of a managed role (CloudNativePG `spec.managed.roles[]`), as the Supabase image creates it. */
export interface RoleAttributes {
  readonly superuser?: boolean;
  readonly createdb?: boolean;
  readonly createrole?: boolean;
  /** @default true */
  readonly inherit?: boolean;
  readonly replication?: boolean;
  readonly bypassrls?: boolean;
  /**
   * Roles it is a member of. The operator revokes every membership not listed, so the ones the
   * image and platform-init.sql grant are listed here. @default none
   */
  readonly inRoles?: readonly string[];
  /** Who logs in as it. */
  readonly usedBy: string;
}

/**
 * The role the restore drill records its results as (it reads ops.backup_canary and inserts into
 * ops.restore_drill_runs, as platform-init.sql grants). Named once: the managed role below and the
 * drill's login both read it.
 */
export const BACKUP_ROLE = 'platform_backup';

export const LOGIN_ROLES = {
  /**
   * The Supabase stack's own superuser (the image's bootstrap user): postgres-meta, Realtime,
   * Studio, the bootstrap Job and the checks of a recovery Cluster. The only superuser reachable
   * over the network.
   */
  supabase_admin: {
    superuser: true,
    createdb: true,
    createrole: true,
    replication: true,
    bypassrls: true,
    usedBy: 'postgres-meta, Realtime, Studio, the bootstrap Job, the recovery checks',
  },
  authenticator: { inherit: false, inRoles: ['anon', 'authenticated', 'service_role'], usedBy: 'PostgREST' },
  supabase_auth_admin: { inherit: false, createrole: true, usedBy: 'Auth (GoTrue)' },
  supabase_storage_admin: { inherit: false, createrole: true, inRoles: ['authenticator'], usedBy: 'Storage' },
  supabase_functions_admin: { inherit: false, createrole: true, usedBy: 'database webhooks (pg_net)' },
  /** Reads the backup canary and records restore drill results. */
  [BACKUP_ROLE]: { usedBy: 'the restore drill' },
  /** The product's api, worker and scheduler: owner of the "defi" schema, nothing more. */
  defi_app: { usedBy: 'the product (through the rw and ro poolers)' },
} as const satisfies Record<string, RoleAttributes>;

export type LoginRole = keyof typeof LOGIN_ROLES;

/** Label that makes CloudNativePG reload a Secret it uses when its data changes. */
export const CNPG_RELOAD_LABEL = { 'cnpg.io/reload': 'true' } as const;

/** The Secret holding one role's password. */
/** Every login role's Secret in `namespace`, by role. */
export function roleSecrets(namespace: string): Record<LoginRole, SecretSpec> {
  return Object.fromEntries((Object.keys(LOGIN_ROLES) as LoginRole[]).map((role) => [role, roleSecret(role, namespace)])) as Record<LoginRole, SecretSpec>;
}

export function roleSecret(role: LoginRole, namespace: string): SecretSpec {
  return {
    name: `postgres-role-${role.replaceAll('_', '-')}`,
    namespace,
    description: `Login of the PostgreSQL role ${role} (${LOGIN_ROLES[role].usedBy}); CloudNativePG sets the role's password from it`,
    type: 'kubernetes.io/basic-auth',
    labels: CNPG_RELOAD_LABEL,
    keys: [
      { key: 'username', description: 'the role name', generate: { kind: 'text', value: role } },
      { key: 'password', description: `password of the ${role} role`, generate: { kind: 'hex', bytes: 24 } },
    ],
  };
}

/** The managed role entry of the Cluster for `role`, its password from `secret`. */
export function managedRole(role: LoginRole, secret: SecretSpec) {
  const a: RoleAttributes = LOGIN_ROLES[role];
  return {
    name: role,
    ensure: ClusterSpecManagedRolesEnsure.PRESENT,
    login: true,
    superuser: a.superuser ?? false,
    createdb: a.createdb ?? false,
    createrole: a.createrole ?? false,
    inherit: a.inherit ?? true,
    replication: a.replication ?? false,
    bypassrls: a.bypassrls ?? false,
    ...(a.inRoles ? { inRoles: [...a.inRoles] } : {}),
    passwordSecret: { name: secret.name },
  };
}
