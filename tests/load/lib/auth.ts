// Users for the load tests, through GoTrue behind Kong: sign up (where GoTrue confirms sign-ups
// itself, dev) or sign in with a password (users provisioned beforehand, staging and
// production), keeping the session until shortly before its JWT expires.
import { sleep } from 'k6';
import { randomBytes } from 'k6/crypto';
import http from 'k6/http';
import type { Rate } from 'k6/metrics';
import { BASE_URL, anonHeaders, optional, required } from './config.ts';

export interface Session {
  readonly userId: string;
  readonly accessToken: string;
  /** Milliseconds since the epoch after which the token is renewed. */
  readonly renewAt: number;
}

export interface Credentials {
  readonly email: string;
  readonly password: string;
}

interface TokenResponse {
  access_token?: string;
  expires_in?: number;
  user?: { id?: string };
}

/** Stops the run before any user starts when provisioned users (`mode` "password") have no password to sign in with. */
export function requirePassword(mode: string): void {
  if (mode === 'password' && optional('LOADTEST_USER_PASSWORD', '') === '') {
    throw new Error('LOADTEST_USER_PASSWORD is empty: create the Secret loadtest-users (key password) in the app namespace, and the users it signs in (see tests/load/database.ts)');
  }
}

/** 2xx, and 429 (retried here), are expected; anything else counts as a failed request. */
const AUTH_STATUSES = http.expectedStatuses({ min: 200, max: 299 }, 429);
const ATTEMPTS = 5;

/**
 * Signs up (`signUp`) or signs in, retrying GoTrue's and Kong's rate limits (429) with a growing
 * pause. Returns undefined after the last attempt or on any other error, logging why.
 */
export function authenticate(vu: number, credentials: Credentials, signUp: boolean): Session | undefined {
  const url = signUp ? `${BASE_URL}/auth/v1/signup` : `${BASE_URL}/auth/v1/token?grant_type=password`;
  const params = {
    headers: { ...anonHeaders(), 'Content-Type': 'application/json' },
    tags: { name: signUp ? 'auth-signup' : 'auth-token', kind: 'auth' },
    responseCallback: AUTH_STATUSES,
    responseType: 'text' as const,
  };
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const res = http.post(url, JSON.stringify(credentials), params);
    if (res.status === 429) {
      sleep(2 ** attempt * (0.5 + Math.random()));
      continue;
    }
    if (res.status < 200 || res.status >= 300) {
      console.warn(`VU ${vu}: ${signUp ? 'sign-up' : 'sign-in'} of ${credentials.email} answered ${res.status}: ${String(res.body).slice(0, 200)}`);
      return undefined;
    }
    const body = res.json() as TokenResponse;
    if (!body.access_token || !body.user?.id) {
      // A sign-up GoTrue does not confirm itself returns the user without a session.
      console.warn(`VU ${vu}: ${signUp ? 'sign-up' : 'sign-in'} of ${credentials.email} returned no session (is the e-mail confirmed?)`);
      return undefined;
    }
    const lifetime = (body.expires_in ?? 3600) * 1000;
    return { userId: body.user.id, accessToken: body.access_token, renewAt: Date.now() + lifetime * 0.8 };
  }
  console.warn(`VU ${vu}: ${signUp ? 'sign-up' : 'sign-in'} still rate limited after ${ATTEMPTS} attempts`);
  return undefined;
}

/** Headers of a request as the signed-in user: the anon key for Kong, the user's JWT for PostgREST. */
export function userHeaders(session: Session): Record<string, string> {
  return { ...anonHeaders(), Authorization: `Bearer ${session.accessToken}` };
}

/**
 * This virtual user's session (module state is per VU in k6): signs up once with a random password
 * (mode "signup"), or signs in as a provisioned user (mode "password"), then signs in again
 * whenever the token nears its expiry. `email` names the VU's account for the mode; every attempt
 * that ends without a session counts in `failures`.
 */
export function sessionKeeper(mode: string, email: (signup: boolean) => string, failures: Rate): () => Session | undefined {
  const signup = mode === 'signup';
  let session: Session | undefined;
  let signedUp = false;
  let password = '';
  return () => {
    if (session && Date.now() < session.renewAt) return session;
    const signUp = signup && !signedUp;
    if (signUp) password = Array.from(new Uint8Array(randomBytes(18)), (b) => b.toString(16).padStart(2, '0')).join('');
    session = authenticate(__VU, { email: email(signup), password: signup ? password : required('LOADTEST_USER_PASSWORD') }, signUp);
    if (signUp && session) signedUp = true;
    failures.add(session === undefined);
    return session;
  };
}
