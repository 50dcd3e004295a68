// Every Secret the Supabase services read, declared once (the keys of Supabase's docker/.env.example): names, keys and how
// each value is made. The services reference keys through `ref()`; the CLI generates them in dev;
// External Secrets syncs them from the secret manager in staging and production.
import { secretKeyRef, type SecretSpec } from '../../lib/secrets';

export interface SupabaseSecrets {
  readonly jwt: SecretSpec;
  readonly dashboard: SecretSpec;
  readonly realtime: SecretSpec;
  /** The Erlang cookie Realtime's pods share to form one cluster (distribution and gen_rpc). */
  readonly realtimeCluster: SecretSpec;
  readonly meta: SecretSpec;
  /** Only when the environment has an SMTP relay. */
  readonly smtp?: SecretSpec;
  /** Only when Storage uses S3. */
  readonly s3?: SecretSpec;
}

export function supabaseSecrets(namespace: string, opts: { smtp: boolean; s3: boolean }): SupabaseSecrets {
  const spec = (name: string, description: string, keys: SecretSpec['keys']): SecretSpec => ({ name, namespace, description, keys });
  return {
    jwt: jwtSecret(namespace),
    dashboard: spec('supabase-dashboard', 'Basic-auth login of Studio at the gateway', [
      { key: 'username', description: 'Studio user name', generate: { kind: 'text', value: 'supabase' } },
      { key: 'password', description: 'Studio password', generate: { kind: 'hex', bytes: 16 } },
    ]),
    realtime: spec('supabase-realtime', 'Realtime signing and encryption keys', [
      { key: 'secret-key-base', description: 'Phoenix secret key base', generate: { kind: 'base64', bytes: 48 } },
      { key: 'db-enc-key', description: 'encrypts tenant settings; exactly 16 characters', generate: { kind: 'hex', bytes: 8 } },
    ]),
    // Its own Secret: rotating it splits the cluster until every pod has restarted, which is not
    // what rotating the keys above does (docs/reference/realtime.md).
    realtimeCluster: spec('supabase-realtime-cluster', "Realtime's Erlang cookie: pods with the same cookie join one cluster", [
      { key: 'erlang-cookie', description: 'Erlang distribution and gen_rpc cookie (RELEASE_COOKIE); alphanumeric', generate: { kind: 'hex', bytes: 32 } },
    ]),
    meta: spec('supabase-meta', 'postgres-meta encryption key (shared with Studio)', [
      { key: 'crypto-key', description: 'encrypts connection strings; at least 32 characters', generate: { kind: 'base64', bytes: 24 } },
    ]),
    ...(opts.smtp
      ? {
          smtp: spec('supabase-smtp', 'Login of the SMTP relay GoTrue sends mail through', [
            { key: 'username', description: 'SMTP user', generate: { kind: 'provided', hint: 'the mail provider' } },
            { key: 'password', description: 'SMTP password', generate: { kind: 'provided', hint: 'the mail provider' } },
          ]),
        }
      : {}),
    ...(opts.s3
      ? {
          s3: spec('supabase-s3', 'Access key of the Storage bucket', [
            { key: 'access-key-id', description: 'S3 access key id', generate: { kind: 'provided', hint: 'the bucket owner' } },
            { key: 'secret-access-key', description: 'S3 secret access key', generate: { kind: 'provided', hint: 'the bucket owner' } },
          ]),
        }
      : {}),
  };
}

/**
 * The JWT Secret: the secret every service verifies with and the API keys signed with it. On its
 * own as well, for the charts built before the supabase chart (observability copies the anon key).
 */
export function jwtSecret(namespace: string): SecretSpec {
  return {
    name: 'supabase-jwt',
    namespace,
    description: 'The JWT secret and the two API keys signed with it',
    keys: [
      { key: 'jwt-secret', description: 'signs and verifies every Supabase JWT (at least 32 characters)', generate: { kind: 'base64', bytes: 32 } },
      { key: 'anon-key', description: 'public API key, role anon', generate: { kind: 'jwt', role: 'anon', signingKey: 'jwt-secret' } },
      {
        key: 'service-role-key',
        description: 'server-side API key, role service_role (bypasses RLS)',
        generate: { kind: 'jwt', role: 'service_role', signingKey: 'jwt-secret' },
      },
      {
        key: 'loadtest-key',
        description: 'the load tests\' API key, role anon, subject "loadtest" (Kong counts it as its own consumer)',
        generate: { kind: 'jwt', role: 'anon', signingKey: 'jwt-secret', subject: 'loadtest' },
      },
    ],
  };
}

/** An env var read from a declared Secret key. */
export function fromSecret(name: string, spec: SecretSpec, key: string): { name: string; valueFrom: ReturnType<typeof secretKeyRef> } {
  return { name, valueFrom: secretKeyRef(spec, key) };
}
