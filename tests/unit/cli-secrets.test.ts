// `cli secrets`: the plan, the generated values (API keys verified with jose), and the objects it
// would send, with a fake cluster standing in for the API server.
import { jwtVerify } from 'jose';
import { supabaseSecrets } from '../../charts/supabase/secrets';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ObjectAccess, SecretAccess } from '../../cli/kube';
import { copyValues, generateValues, planSecrets, providedValues, secretManifest, secretsCommand } from '../../cli/secrets';
import { KEY_LIFETIME_SECONDS, signApiKey } from '../../lib/jwt';
import type { SecretSpec } from '../../lib/secrets';

const JWT_SPEC: SecretSpec = {
  name: 'supabase-jwt',
  namespace: 'supabase',
  description: 'test',
  keys: [
    { key: 'anon-key', description: '', generate: { kind: 'jwt', role: 'anon', signingKey: 'jwt-secret' } },
    { key: 'jwt-secret', description: '', generate: { kind: 'base64', bytes: 32 } },
    { key: 'service-role-key', description: '', generate: { kind: 'jwt', role: 'service_role', signingKey: 'jwt-secret' } },
    { key: 'db-enc-key', description: '', generate: { kind: 'hex', bytes: 8 } },
    { key: 'username', description: '', generate: { kind: 'text', value: 'supabase' } },
  ],
};
const key = (secret: string) => new TextEncoder().encode(secret);

describe('API keys', () => {
  const values = generateValues(JWT_SPEC);

  it.each([
    ['anon-key', 'anon'],
    ['service-role-key', 'service_role'],
  ])('%s verifies with the JWT secret and carries role %s, iss supabase and a five-year exp', async (name, role) => {
    const { payload, protectedHeader } = await jwtVerify(values[name]!, key(values['jwt-secret']!), { issuer: 'supabase', algorithms: ['HS256'] });
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload.role).toBe(role);
    expect(payload.exp! - payload.iat!).toBe(KEY_LIFETIME_SECONDS);
    expect(payload.iat!).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('fails verification with another secret', async () => {
    await expect(jwtVerify(values['anon-key']!, key('x'.repeat(44)))).rejects.toThrow(/signature/);
  });

  it('makes the Realtime key exactly 16 characters and the JWT secret at least 32', () => {
    expect(values['db-enc-key']).toMatch(/^[0-9a-f]{16}$/);
    expect(values['jwt-secret']!.length).toBeGreaterThanOrEqual(32);
    expect(values.username).toBe('supabase');
  });

  it('makes the load tests\' key an anon key of its own: subject "loadtest", never equal to the anon key', async () => {
    const spec = supabaseSecrets('supabase', { smtp: false, s3: false }).jwt;
    const made = generateValues(spec);
    const { payload } = await jwtVerify(made['loadtest-key']!, key(made['jwt-secret']!), { issuer: 'supabase', algorithms: ['HS256'] });
    expect(payload).toMatchObject({ role: 'anon', sub: 'loadtest' });
    expect(made['loadtest-key']).not.toBe(made['anon-key']);
  });

  it('refuses a short JWT secret', () => {
    expect(() => signApiKey('short', 'anon')).toThrow(/at least 32/);
  });

  it('asks for provided values by name', () => {
    const spec: SecretSpec = {
      ...JWT_SPEC,
      name: 'smtp',
      keys: [{ key: 'password', description: '', generate: { kind: 'provided', hint: 'the SMTP relay' } }],
    };
    expect(() => generateValues(spec)).toThrow('needs password (the SMTP relay): pass --set smtp/password=VALUE');
    expect(generateValues(spec, { 'smtp/password': 'p' })).toEqual({ password: 'p' });
  });
});

describe('plan', () => {
  const specs = [JWT_SPEC, { ...JWT_SPEC, name: 'other' }];

  it('creates what is missing and keeps what exists', () => {
    const plan = planSecrets(specs, (_ns, name) => (name === 'other' ? JWT_SPEC.keys.map((k) => k.key) : undefined), false);
    expect(plan.map((p) => [p.spec.name, p.action])).toEqual([
      ['supabase-jwt', 'create'],
      ['other', 'keep'],
    ]);
  });

  it('replaces existing Secrets only with --rotate', () => {
    const plan = planSecrets(specs, () => ['anything'], true);
    expect(plan.map((p) => p.action)).toEqual(['rotate', 'rotate']);
  });

  it('refuses to patch an existing Secret that lacks keys', () => {
    expect(() => planSecrets(specs, () => ['jwt-secret'], false)).toThrow(
      /supabase\/supabase-jwt exists but lacks anon-key, service-role-key, db-enc-key, username: re-run with --rotate/,
    );
  });
});

describe('secrets command', () => {
  function fakeCluster(existing: Record<string, string[]>, stored: Record<string, Record<string, string>> = {}) {
    const applied: { object: Record<string, any>; force: boolean }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    const cluster: SecretAccess & Pick<ObjectAccess, 'apply'> = {
      secretKeys: (ns, name) => Promise.resolve(existing[`${ns}/${name}`]),
      secretValues: (ns, name) => Promise.resolve(stored[`${ns}/${name}`]),
      apply: (object, force) => {
        applied.push({ object, force });
        return Promise.resolve();
      },
    };
    return { cluster, applied };
  }

  it('creates every dev Secret by server-side apply, without force', async () => {
    const { cluster, applied } = fakeCluster({});
    const lines: string[] = [];
    await secretsCommand(
      ['--env', 'dev'],
      () => cluster,
      (l) => lines.push(l),
    );
    expect(applied.map((a) => a.object.metadata.name)).toEqual(
      expect.arrayContaining([
        'postgres-role-defi-app',
        'postgres-role-supabase-admin',
        'postgres-pgsodium',
        'redis-credentials',
        'supabase-jwt',
        'supabase-dashboard',
        'supabase-realtime',
        'supabase-meta',
      ]),
    );
    expect(applied.every((a) => !a.force && a.object.kind === 'Secret')).toBe(true);
    expect(lines.filter((l) => !l.startsWith('create')).every((l) => l.startsWith('copy'))).toBe(true);
    // CloudNativePG reads a role's login from a basic-auth Secret it watches for rotations.
    const pg = applied.find((a) => a.object.metadata.name === 'postgres-role-authenticator' && a.object.metadata.namespace === 'supabase')!.object;
    expect(Object.keys(pg.data).sort()).toEqual(['password', 'username']);
    expect(Buffer.from(pg.data.username, 'base64').toString()).toBe('authenticator');
    expect(pg.type).toBe('kubernetes.io/basic-auth');
    expect(pg.metadata.labels['cnpg.io/reload']).toBe('true');
  });

  it('repeats values into other namespaces: the app gets the same defi_app password, only that key', async () => {
    const { cluster, applied } = fakeCluster({});
    await secretsCommand(
      ['--env', 'dev'],
      () => cluster,
      () => undefined,
    );
    const pg = (ns: string) => applied.find((a) => a.object.metadata.name === 'postgres-role-defi-app' && a.object.metadata.namespace === ns)!.object;
    expect(Object.keys(pg('app').data)).toEqual(['password']);
    expect(pg('app').data.password).toBe(pg('supabase').data.password);
    expect(applied.findIndex((a) => a.object === pg('app'))).toBeGreaterThan(applied.findIndex((a) => a.object === pg('supabase')));
  });

  it('copies from the cluster when the source is kept, and says what to do when it is missing', async () => {
    const keys = { 'supabase/postgres-role-defi-app': ['username'], 'supabase/redis-credentials': ['redis-password'], 'supabase/supabase-jwt': ['jwt-secret'] };
    const kept = fakeCluster(keys, {
      'supabase/postgres-role-defi-app': { username: 'defi_app' },
      'supabase/redis-credentials': { 'redis-password': 'r' },
      'supabase/supabase-jwt': { 'jwt-secret': 'j' },
    });
    await expect(
      secretsCommand(
        ['--env', 'dev'],
        () => kept.cluster,
        () => undefined,
      ),
    ).rejects.toThrow(/lacks/);
    const spec = {
      name: 'postgres-credentials',
      namespace: 'app',
      description: 'd',
      copyOf: 'supabase',
      keys: [{ key: 'defi-app-password', description: 'p', generate: { kind: 'hex' as const, bytes: 4 } }],
    };
    expect(copyValues(spec, { 'defi-app-password': 'kept-value', other: 'x' })).toEqual({ 'defi-app-password': 'kept-value' });
    expect(() => copyValues(spec, undefined)).toThrow('app/postgres-credentials copies supabase/postgres-credentials, which does not exist: create it first');
    expect(() => copyValues(spec, {})).toThrow('copies defi-app-password from supabase/postgres-credentials, which lacks it: re-run with --rotate');
  });

  it('leaves existing Secrets alone without --rotate, and forces with it', async () => {
    const all = { 'supabase/postgres-role-authenticator': ['x'], 'supabase/redis-credentials': ['redis-password'] };
    const quiet = fakeCluster({ 'supabase/redis-credentials': ['redis-password'] }, { 'supabase/redis-credentials': { 'redis-password': 'kept' } });
    await secretsCommand(
      ['--env', 'dev'],
      () => quiet.cluster,
      () => undefined,
    );
    expect(quiet.applied.filter((a) => a.object.metadata.namespace === 'supabase').map((a) => a.object.metadata.name)).not.toContain('redis-credentials');
    const copy = quiet.applied.find((a) => a.object.metadata.namespace === 'app' && a.object.metadata.name === 'redis-credentials')!;
    expect(Buffer.from(copy.object.data['redis-password'], 'base64').toString()).toBe('kept');
    const rotated = fakeCluster(all);
    await secretsCommand(
      ['--env', 'dev', '--rotate'],
      () => rotated.cluster,
      () => undefined,
    );
    const forced = rotated.applied.filter((a) => a.force).map((a) => a.object.metadata.name);
    expect(forced.sort()).toEqual(['postgres-role-authenticator', 'redis-credentials']);
    expect(rotated.applied.filter((a) => !a.force).length).toBeGreaterThan(0);
  });

  it('prints manifests with --dry-run and touches no cluster', async () => {
    const lines: string[] = [];
    await secretsCommand(
      ['--env', 'dev', '--dry-run'],
      () => {
        throw new Error('no cluster in a dry run');
      },
      (l) => lines.push(l),
    );
    expect(lines.join('\n')).toMatch(/kind: Secret[\s\S]*name: postgres-role-authenticator/);
  });

  it('generates the Supabase keys of dev as a set: the API keys verify with the JWT secret', async () => {
    const lines: string[] = [];
    await secretsCommand(
      ['--env', 'dev', '--dry-run'],
      () => fakeCluster({}).cluster,
      (l) => lines.push(l),
    );
    const docs = lines.map((l) => parse(l.replace(/^---\n/, '')) as { metadata: { name: string }; data: Record<string, string> });
    const value = (secret: string, key: string) => Buffer.from(docs.find((d) => d.metadata.name === secret)!.data[key]!, 'base64').toString();
    const { payload } = await jwtVerify(value('supabase-jwt', 'service-role-key'), key(value('supabase-jwt', 'jwt-secret')), { issuer: 'supabase' });
    expect(payload.role).toBe('service_role');
    expect(value('supabase-realtime', 'db-enc-key')).toHaveLength(16);
    expect(value('postgres-pgsodium', 'root-key')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses environments whose secrets come from External Secrets', async () => {
    await expect(
      secretsCommand(
        ['--env', 'production'],
        () => fakeCluster({}).cluster,
        () => undefined,
      ),
    ).rejects.toThrow(/External Secrets/);
  });

  it('writes values base64-encoded, with labels that mark the CLI as manager', () => {
    const m = secretManifest(JWT_SPEC, { username: 'supabase' }, 'dev') as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
    expect(Buffer.from(m.data.username!, 'base64').toString()).toBe('supabase');
    expect(m.metadata.labels['app.kubernetes.io/managed-by']).toBe('supabase-platform-cli');
  });
});

describe('--set', () => {
  const SMTP: SecretSpec = {
    name: 'smtp',
    namespace: 'supabase',
    description: 'test',
    keys: [
      { key: 'username', description: '', generate: { kind: 'provided', hint: 'the mail provider' } },
      { key: 'password', description: '', generate: { kind: 'provided', hint: 'the mail provider' } },
    ],
  };
  const specs = [JWT_SPEC, SMTP, { ...SMTP, namespace: 'app', copyOf: 'supabase' }];
  const takes = '--set takes smtp/username, smtp/password';

  it('takes the values that come from outside, by SECRET/KEY', () => {
    expect(providedValues(['smtp/username=mail=er', 'smtp/password=${SMTP_PASSWORD}'], specs)).toEqual({
      'smtp/username': 'mail=er',
      'smtp/password': '${SMTP_PASSWORD}',
    });
  });

  it('refuses an unknown Secret, an unknown key and a generated key with the list of what it takes, never echoing the value', () => {
    expect(() => providedValues(['smpt/password=hunter2'], specs)).toThrow(
      `--set smpt/password=…: there is no Secret "smpt"; the Secrets are supabase-jwt, smtp; ${takes}`,
    );
    expect(() => providedValues(['smtp/pasword=hunter2'], specs)).toThrow(
      `--set smtp/pasword=…: Secret smtp has no key "pasword"; its keys are username, password; ${takes}`,
    );
    expect(() => providedValues(['supabase-jwt/jwt-secret=hunter2'], specs)).toThrow(
      `--set supabase-jwt/jwt-secret=…: supabase-jwt/jwt-secret is generated (base64), not given; ${takes}`,
    );
    expect(() => providedValues(['smtp-password'], specs)).toThrow(`--set smtp-password: write it as SECRET/KEY=VALUE; ${takes}`);
    expect(() => providedValues(['smtp/password='], specs)).toThrow('write it as SECRET/KEY=VALUE');
    for (const pair of ['smpt/password=hunter2', 'smtp/pasword=hunter2', 'supabase-jwt/jwt-secret=hunter2']) {
      expect(() => providedValues([pair], specs)).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
    }
  });

  it('refuses a misspelled --set in dev before touching the cluster, instead of generating a random value', async () => {
    const touched: string[] = [];
    const cluster: SecretAccess & Pick<ObjectAccess, 'apply'> = {
      secretKeys: (ns, name) => (touched.push(`keys ${ns}/${name}`), Promise.resolve(undefined)),
      secretValues: (ns, name) => (touched.push(`values ${ns}/${name}`), Promise.resolve(undefined)),
      apply: (object) => (touched.push(`apply ${String((object.metadata as { name: string }).name)}`), Promise.resolve()),
    };
    await expect(
      secretsCommand(
        ['--env', 'dev', '--set', 'supabase-jwt/jwt-secrt=x'],
        () => cluster,
        () => undefined,
      ),
    ).rejects.toThrow('--set supabase-jwt/jwt-secrt=…: Secret supabase-jwt has no key "jwt-secrt"; its keys are');
    expect(touched).toEqual([]);
  });
});
