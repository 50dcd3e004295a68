// Supabase API keys: HS256 JWTs signed with the project's JWT secret, the way Supabase's own
// generate-keys.sh makes them (supabase/supabase docker/utils/generate-keys.sh): header
// {"alg":"HS256","typ":"JWT"}, payload {"role","iss":"supabase","iat","exp"}, base64url without
// padding; a key of the platform's own (the load tests') adds a "sub". Made offline by the CLI,
// never during synth.
import { createHmac } from 'node:crypto';

export type ApiRole = 'anon' | 'service_role';

/** Seconds in five years: how long a generated API key is valid. */
export const KEY_LIFETIME_SECONDS = 5 * 365 * 24 * 3600;

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export function signApiKey(secret: string, role: ApiRole, issuedAt = Math.floor(Date.now() / 1000), subject?: string): string {
  if (secret.length < 32) throw new Error('the JWT secret must be at least 32 characters');
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ role, iss: 'supabase', ...(subject ? { sub: subject } : {}), iat: issuedAt, exp: issuedAt + KEY_LIFETIME_SECONDS }));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}
