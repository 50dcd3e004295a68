// The caller's Supabase session: an access token from Supabase Auth (GoTrue) in
// "Authorization: Bearer", HS256-signed with the project's JWT secret, audience "authenticated",
// role "authenticated", the user's id in sub. Kong has already checked the apikey (the anon
// key), which says which app calls, not which user. https://supabase.com/docs/guides/auth/jwts
import { errors, jwtVerify } from 'jose';

export interface Caller {
  /** The user's id (auth.users.id). */
  readonly sub: string;
}

export class Unauthorized extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function tokenVerifier(secret: string): (authorization: string | undefined) => Promise<Caller> {
  const key = new TextEncoder().encode(secret);
  return async (authorization) => {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) throw new Unauthorized('a user access token is required (Authorization: Bearer <token>)');
    try {
      const { payload } = await jwtVerify(m[1]!, key, { algorithms: ['HS256'], audience: 'authenticated', clockTolerance: 5 });
      if (payload.role !== 'authenticated') throw new Unauthorized('the token is not a signed-in user\'s (role is not "authenticated")');
      if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) throw new Unauthorized("the token's subject is not a user id");
      return { sub: payload.sub.toLowerCase() };
    } catch (err) {
      if (err instanceof Unauthorized) throw err;
      if (err instanceof errors.JWTExpired) throw new Unauthorized('the token has expired');
      if (err instanceof errors.JOSEError) throw new Unauthorized('the token is not valid');
      throw err;
    }
  };
}
