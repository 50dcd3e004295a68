// The database roles that log in, and where each one's password lives: one key per role in the
// "postgres-credentials" Secret, so every service gets only its own password. The container
// environment variable is what charts/postgres/files/platform-init.sql reads.
import type { SecretSpec } from '../../lib/secrets';

export const LOGIN_ROLES = {
  /** Bootstrap superuser of the Supabase image; Realtime, postgres-meta and Supavisor use it. */
  supabase_admin: { key: 'supabase-admin-password', env: 'POSTGRES_PASSWORD' },
  postgres: { key: 'postgres-password', env: 'POSTGRES_ROLE_PASSWORD' },
  /** PostgREST. */
  authenticator: { key: 'authenticator-password', env: 'AUTHENTICATOR_PASSWORD' },
  /** GoTrue. */
  supabase_auth_admin: { key: 'supabase-auth-admin-password', env: 'SUPABASE_AUTH_ADMIN_PASSWORD' },
  /** Storage API. */
  supabase_storage_admin: { key: 'supabase-storage-admin-password', env: 'SUPABASE_STORAGE_ADMIN_PASSWORD' },
  /** Database webhooks. */
  supabase_functions_admin: { key: 'supabase-functions-admin-password', env: 'SUPABASE_FUNCTIONS_ADMIN_PASSWORD' },
  /** Supavisor's auth_query. */
  pgbouncer: { key: 'pgbouncer-password', env: 'PGBOUNCER_PASSWORD' },
  /** Base backups, WAL streaming and dumps. */
  platform_backup: { key: 'platform-backup-password', env: 'PLATFORM_BACKUP_PASSWORD' },
  /** postgres_exporter. */
  platform_exporter: { key: 'platform-exporter-password', env: 'PLATFORM_EXPORTER_PASSWORD' },
  /** The product's api, worker and scheduler: owner of the "defi" schema, nothing more. */
  defi_app: { key: 'defi-app-password', env: 'DEFI_APP_PASSWORD' },
} as const;

export type LoginRole = keyof typeof LOGIN_ROLES;

export function postgresCredentials(namespace: string): SecretSpec {
  return {
    name: 'postgres-credentials',
    namespace,
    description: 'Passwords of the PostgreSQL login roles, one key per role',
    keys: Object.entries(LOGIN_ROLES).map(([role, { key }]) => ({
      key,
      description: `password of the ${role} role`,
      generate: { kind: 'hex', bytes: 24 },
    })),
  };
}
