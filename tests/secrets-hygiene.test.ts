// Secrets hygiene: no secret value in what ships (every synthesised object of every environment,
// and the committed dist/ files) or anywhere in the repository (every file git tracks, and every
// untracked file that is not ignored, so that a secret is caught before its first commit;
// node_modules, package-lock.json and binary files are skipped). A finding names the file, the
// line and the kind, and shows at most 4 characters of the value. The scanners are in
// secrets-scan.ts; the first half of this file proves that each of them can fail.
//
// Detectors: JWTs (base64url header decoding to JSON with "alg"); PEM private keys with key
// material; AWS access key ids; GitHub (ghp_ gho_ ghu_ ghs_ ghr_ github_pat_), Slack (xoxa/b/p/r-)
// and Stripe live (sk_live_ rk_live_) tokens; passwords inside URLs; password/secret/token
// assignments with a quoted literal of 12+ characters; in manifests, env entries and ConfigMap
// data keys (and the keys of YAML/JSON config files inside ConfigMaps) named like a secret with a
// literal value; high-entropy tokens in every YAML string scalar (base64 charset: 20+ characters,
// upper and lower case and digits, >= 3.5 bits/char; hex: 32+ characters, >= 3.0 bits/char).
//
// Exclusions, each narrow and explained where it is coded:
// - image digests `sha256:<64 hex>` (the all-zero placeholder digests included) are not tokens;
// - `checksum/config` pod annotations whose value is hex (a hash of a ConfigMap's content);
// - inside a URL, "/" separates path segments (a long runbook URL is not one token);
// - UUIDs are not excluded, and need not be: they never mix upper and lower case and are not pure
//   hex, so the entropy check passes them over, and one under a secret-looking name is reported;
// - PEM headers around a placeholder (`<private-key>` in the upstream ExternalSecrets CRD docs);
// - literals under a secret-looking name that point at or name a secret: $(VAR), ${VAR}, $VAR,
//   <placeholder>, absolute paths, URLs without userinfo, booleans, numbers, a Secret or key name
//   under a name ending in name or ref, the name itself, a passwd(5) file without hashes;
// - assignments only when the secret word ends the name (password_encryption is a setting);
// - fixture folders tests/ and bench/ only: a value that says test, example, fake or bench; a
//   JWT whose signature cannot be valid for its algorithm.
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ROOT, renderedManifests } from './helpers';
import { type Finding, type FindingKind, formatFinding, isBinary, mask, scanManifest, scanRepoFile } from '../checks/secrets-scan';

// ---------------------------------------------------------------------------------------------
// Planted values, built at run time so that this file holds none of them.

/** A deterministic random-looking value (a digest of a label), so that no case can be flaky. */
const random = (label: string, encoding: 'base64' | 'base64url' | 'hex' = 'base64url') => createHash('sha256').update(label).digest(encoding);
const b64url = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url');
const jwt = (signature: string) => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ role: 'service_role', iss: 'supabase' })}.${signature}`;
const signedJwt = () => jwt(createHmac('sha256', random('jwt-secret')).update('x').digest('base64url'));
const PEM_BEGIN = ['-----BEGIN', 'PRIVATE KEY-----'].join(' ');
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
/** The key material: its base64 lines. */
const pemBody = key.split('\n').slice(1, -2).join('');
const PEM_HEADER_PLACEHOLDER = ['-----BEGIN ', 'PRIVATE KEY-----\\n<private-key>\\n-----END ', 'PRIVATE KEY-----\\n'].join('');
const aws = () => ['AK', 'IA'].join('') + random('aws', 'hex').toUpperCase().slice(0, 16);
const github = (prefix: string) => `${prefix}_${random(prefix, 'hex').slice(0, 18)}${random(prefix).replace(/[-_]/g, 'x').slice(0, 18)}`;
const slack = () => ['xo', 'xb-'].join('') + `1234567890-${random('slack', 'hex').slice(0, 24)}`;
const stripe = () => ['sk', 'live', ''].join('_') + random('stripe').replace(/[-_]/g, 'x').slice(0, 24);
const password = random('password'); // 43 characters, base64url
const passphrase = ['correct', 'horse', 'battery', 'staple'].join('-');
/** The shape of the JWT secret in upstream's self-hosting example, which deployments leave in. */
const defaultJwtSecret = ['your', 'super', 'secret', 'jwt', 'token', 'with', 'at', 'least', '32', 'characters', 'long'].join('-');

/** Where a needle first is, as a 1-based line, to check the findings' lines. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

/** The 5-character windows of a secret that a report would leak. */
const leaks = (report: string, secret: string) =>
  Array.from({ length: Math.max(0, secret.length - 4) }, (_, i) => secret.slice(i, i + 5)).filter((w) => report.includes(w));

const deployment = (env: object[], annotations: Record<string, string> = {}, image = 'ghcr.io/acme/api:1.0.0') =>
  stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'app' },
    spec: { template: { metadata: { annotations }, spec: { containers: [{ name: 'api', image, env }] } } },
  });
const configMap = (data: Record<string, string>) => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config', namespace: 'app' }, data });

interface Planted {
  readonly what: string;
  readonly kind: FindingKind;
  readonly text: string;
  /** The value, which no report may show more than 4 characters of. */
  readonly secret: string;
  /** What the finding's line holds, when it is not the secret's first line (a PEM header). */
  readonly at?: string;
  readonly file?: string;
}

function expectFound(findings: Finding[], c: Planted): void {
  const report = findings.map(formatFinding).join('\n');
  const found = findings.find((f) => f.kind === c.kind);
  expect(found, `${c.what}: no ${c.kind} finding in\n${report}`).toBeDefined();
  expect(found!.line, `${c.what}: line`).toBe(lineOf(c.text, c.at ?? c.secret));
  // The details are what a report adds to the file, line and kind (whose names hold "github").
  expect(leaks(findings.map((f) => f.detail).join('\n'), c.secret), `${c.what}: the report leaks the secret`).toEqual([]);
}

// ---------------------------------------------------------------------------------------------

describe('secrets scan: every detector can fail', () => {
  const envCases: (Omit<Planted, 'text'> & { env: string })[] = [
    { what: 'a JWT in an env value', kind: 'jwt', env: 'SUPABASE_ANON_JWT_VALUE', secret: signedJwt() },
    { what: 'an AWS access key id', kind: 'aws-access-key-id', env: 'AWS_REGION_HINT', secret: aws() },
    { what: 'a literal password under a secret-looking env name', kind: 'secret-named-value', env: 'DB_PASSWORD', secret: passphrase },
    { what: 'a short literal password under a secret-looking env name', kind: 'secret-named-value', env: 'REDIS_PASSWORD', secret: 'hunter2' },
    { what: 'a kebab-case default secret under a ..._KEY name', kind: 'secret-named-value', env: 'GOTRUE_JWT_SECRET_KEY', secret: defaultJwtSecret },
    { what: 'a password in a database URL', kind: 'url-credentials', env: 'DATABASE_URL', secret: password },
    { what: 'a high-entropy base64 env value', kind: 'high-entropy', env: 'APP_SEED', secret: random('seed', 'base64') },
    { what: 'a high-entropy hex env value', kind: 'high-entropy', env: 'APP_HEX_SEED', secret: random('hex-seed', 'hex') },
  ];
  const manifestCases: Planted[] = envCases.map((c) => {
    const value = c.kind === 'url-credentials' ? `postgres://app:${c.secret}@postgres.supabase.svc.cluster.local:5432/app` : c.secret;
    return {
      ...c,
      text: deployment([
        { name: 'LOG_LEVEL', value: 'info' },
        { name: c.env, value },
      ]),
    };
  });

  const script = (secret: string) => `#!/bin/sh\nset -eu\n# fetch the seed\nexport APP_SEED=${secret}\nexec app\n`;
  const configCases: Planted[] = [
    { what: 'a PEM private key in ConfigMap data', kind: 'private-key', at: PEM_BEGIN, secret: pemBody, text: configMap({ 'tls.key': key }) },
    { what: 'a literal under a secret-looking ConfigMap key', kind: 'secret-named-value', secret: password, text: configMap({ 'api-key': password }) },
    {
      what: 'a literal password inside kong.yml in a ConfigMap',
      kind: 'secret-named-value',
      secret: password,
      text: configMap({
        'kong.yml': `_format_version: "3.0"\nplugins:\n  - name: rate-limiting\n    config:\n      redis:\n        host: redis\n        password: ${password}\n`,
      }),
    },
    {
      what: 'a literal SMTP password inside alertmanager.yml in a ConfigMap',
      kind: 'secret-named-value',
      secret: passphrase,
      text: configMap({ 'alertmanager.yml': `global:\n  smtp_smarthost: smtp.example.com:587\n  smtp_auth_password: ${passphrase}\n` }),
    },
    {
      what: 'a literal password in the env of a manifest shipped in a ConfigMap',
      kind: 'secret-named-value',
      secret: password,
      text: configMap({
        'cluster.yaml': `apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: scratch\nspec:\n  env:\n    - name: DB_PASSWORD\n      value: ${password}\n`,
      }),
    },
    {
      what: 'a passwd file with a password hash',
      kind: 'secret-named-value',
      at: 'root:$6$',
      secret: random('hash'),
      text: configMap({ passwd: `root:$6$${random('salt').slice(0, 8)}$${random('hash')}:0:0:root:/root:/bin/sh\n` }),
    },
    {
      what: 'a high-entropy token in a script line of ConfigMap data',
      kind: 'high-entropy',
      secret: random('script', 'base64'),
      text: configMap({ 'start.sh': script(random('script', 'base64')) }),
    },
    {
      what: 'a high-entropy annotation value',
      kind: 'high-entropy',
      secret: random('annotation', 'base64'),
      text: deployment([], { 'example.com/seed': random('annotation', 'base64') }),
    },
    {
      what: 'a 64-hex value under an annotation other than checksum/config',
      kind: 'high-entropy',
      secret: random('other', 'hex'),
      text: deployment([], { 'example.com/hash': random('other', 'hex') }),
    },
  ];

  it.each([...manifestCases, ...configCases].map((c) => [c.what, c] as const))('manifest: %s', (_, c) => {
    expectFound(scanManifest(c.text, 'dist/dev/app/planted.yaml'), c);
  });

  const source = (line: string) => `// planted\nimport { x } from './x';\n\n${line}\nexport default x;\n`;
  const quoted = (secret: string) => source(`const value = '${secret}';`);
  const charts = 'charts/planted/planted.ts';
  const repoCases: Planted[] = [
    ...['ghp', 'gho', 'ghs', 'ghu', 'ghr'].map((p) => ({
      what: `a GitHub ${p}_ token`,
      kind: 'github-token' as const,
      secret: github(p),
      file: charts,
      text: quoted(github(p)),
    })),
    ...[
      {
        what: 'a GitHub fine-grained token',
        kind: 'github-token' as const,
        secret: `github_${'pat'}_${random('pat', 'hex').slice(0, 22)}_${random('pat2').replace(/[-_]/g, 'x').slice(0, 40)}`,
      },
      { what: 'a Slack token', kind: 'slack-token' as const, secret: slack() },
      { what: 'a Stripe live key', kind: 'stripe-live-key' as const, secret: stripe() },
      { what: 'an AWS access key id', kind: 'aws-access-key-id' as const, secret: aws() },
      { what: 'a JWT', kind: 'jwt' as const, secret: signedJwt() },
      { what: 'a JWT with a bogus signature outside the fixture folders', kind: 'jwt' as const, secret: jwt('c2lnbmF0dXJl') },
    ].map((c) => ({ ...c, file: charts, text: quoted(c.secret) })),
    {
      what: 'a password in a URL',
      kind: 'url-credentials',
      secret: password,
      file: charts,
      text: source(`const url = 'postgres://app:${password}@db:5432/app';`),
    },
    {
      what: 'a password assignment',
      kind: 'secret-assignment',
      secret: password,
      file: charts,
      text: source(['const db', `Password = '${password}';`].join('')),
    },
    {
      what: 'a JSON token assignment',
      kind: 'secret-assignment',
      secret: random('json-token'),
      file: 'environments/planted.json',
      text: `{\n  "api_${'token'}": "${random('json-token')}"\n}\n`,
    },
    {
      what: 'a PEM private key in a source file (JSON-escaped)',
      kind: 'private-key',
      at: PEM_BEGIN,
      secret: pemBody,
      file: 'lib/planted.ts',
      text: source(`const key = ${JSON.stringify(key)};`),
    },
    { what: 'a PEM private key in a document', kind: 'private-key', at: PEM_BEGIN, secret: pemBody, file: 'docs/planted.md', text: `# Key\n\n${key}` },
    {
      what: 'a JWT with a valid-length signature under tests/',
      kind: 'jwt',
      secret: signedJwt(),
      file: 'tests/unit/planted.test.ts',
      text: quoted(signedJwt()),
    },
    {
      what: 'a real-looking password under tests/',
      kind: 'secret-assignment',
      secret: password,
      file: 'tests/unit/planted.test.ts',
      text: source(['const db', `Password = '${password}';`].join('')),
    },
  ];

  it.each(repoCases.map((c) => [c.what, c] as const))('repository file: %s', (_, c) => {
    expectFound(scanRepoFile(c.text, c.file!), c);
  });

  it('masks all but the first 4 characters of a value, and all of a short one', () => {
    expect(mask('abcdefghijklmnop')).toBe('abcd******** (16 chars)');
    expect(mask('hunter2')).toBe('******* (7 chars)');
  });
});

describe('secrets scan: what must not be reported', () => {
  it('a clean, realistic Deployment and its ConfigMap yield no finding', () => {
    const digest = `sha256:${random('image', 'hex')}`;
    const text = [
      deployment(
        [
          { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'postgres-credentials', key: 'authenticator-password' } } },
          { name: 'GOTRUE_JWT_SECRET', valueFrom: { secretKeyRef: { name: 'supabase-jwt', key: 'jwt-secret' } } },
          { name: 'DATABASE_URL', value: 'postgres://authenticator:$(DB_PASSWORD)@postgres.supabase.svc.cluster.local:5432/postgres' },
          { name: 'KONG_SSL_CERT_KEY', value: '/etc/kong/tls/tls.key' },
          { name: 'GOTRUE_JWT_EXP', value: '3600' },
          { name: 'PGRST_JWT_SECRET_IS_BASE64', value: 'false' },
          { name: 'TOKEN_URL', value: 'https://auth.example.com/oauth/token' },
          { name: 'JWT_SECRET_NAME', value: 'supabase-jwt' },
          { name: 'REDIS_PASSWORD', value: '' },
          { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.observability.svc.cluster.local:4318' },
        ],
        { 'checksum/config': random('config', 'hex'), 'argocd.argoproj.io/sync-wave': '4' },
        `ghcr.io/acme/api:1.0.0@${digest}`,
      ),
      deployment([], {}, `ghcr.io/acme/worker:0.0.0@sha256:${'0'.repeat(64)}`),
      configMap({
        'alertmanager.yml':
          'global:\n  smtp_auth_password_file: /etc/alertmanager/secrets/smtp-password\nreceivers:\n  - name: slack\n    slack_configs:\n      - api_url_file: /etc/alertmanager/secrets/slack-webhook-url\n',
        'kong.yml':
          'consumers:\n  - username: anon\n    keyauth_credentials:\n      - key: ${SUPABASE_ANON_KEY}\nplugins:\n  - name: key-auth\n    config:\n      hide_credentials: true\n      redis:\n        password: ${REDIS_PASSWORD}\n',
        'rules.yaml':
          'groups:\n  - name: backup\n    rules:\n      - alert: PostgresBackupStale\n        annotations:\n          runbook_url: https://git.example.com/defi/supabase-platform/blob/main/docs/runbooks/alerts/PostgresBackupStale.md\n',
        passwd: 'root:x:0:0:root:/root:/usr/sbin/nologin\npostgres:x:10001:10001:PostgreSQL:/var/lib/postgresql:/usr/sbin/nologin\n',
        'postgresql.conf': "password_encryption = 'scram-sha-256'\n",
        // A manifest shipped for a workload to create: names of Secrets and hashing settings are not secrets.
        'cluster.yaml':
          'apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: scratch\nspec:\n  certificates:\n    serverTLSSecret: postgres-server-tls\n  postgresql:\n    parameters:\n      password_encryption: scram-sha-256\n',
        'request-id': '123e4567-e89b-12d3-a456-426614174000',
      }),
    ].join('---\n');
    expect(scanManifest(text, 'dist/dev/app/clean.yaml').map(formatFinding)).toEqual([]);
  });

  it('source and fixtures that only name, point at or fake a secret yield no finding', () => {
    const cases: [string, string][] = [
      ['charts/x.ts', `const secretName = 'postgres-credentials';\nconst url = \`postgres://\${user}:$(DB_PASSWORD)@\${host}\`;\n`],
      ['charts/x.ts', ['password_', "encryption = 'scram-sha-256'\n"].join('')],
      [
        'charts/x.ts',
        `const files = { passwd: \`root:x:0:0:root:/root:/usr/sbin/nologin\\npostgres:x:\${UID}:\${UID}:PostgreSQL:/var/lib/postgresql:/usr/sbin/nologin\\n\` };\n`,
      ],
      ['imports/x.ts', ` * "private-key": "${PEM_HEADER_PLACEHOLDER}",\n`],
      ['docs/x.md', 'Connect with `postgres://app:<password>@localhost:5432/app`.\n'],
      ['tests/unit/x.test.ts', ['const backup', "Password = 'test-backup-password';\n"].join('')],
      ['bench/x.ts', ['const BACKUP_', "PASSWORD = 'bench-backup-password';\n"].join('')],
      ['tests/unit/x.test.ts', `const anon = '${jwt('c2lnbmF0dXJl')}';\n`],
    ];
    for (const [file, text] of cases) expect(scanRepoFile(text, file).map(formatFinding), `${file}: ${text}`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

const report = (findings: Finding[]) => findings.map(formatFinding).join('\n');

describe('secrets hygiene of what ships', () => {
  it.each([...renderedManifests().keys()])('synthesised %s objects hold no secret-looking value', (env) => {
    const findings = [...renderedManifests().get(env)!].flatMap(([file, text]) => scanManifest(text, `dist/${env}/${file}`));
    expect(report(findings)).toBe('');
  });

  it('the committed dist/ files hold no secret-looking value', () => {
    const dist = join(ROOT, 'dist');
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    const findings = files.flatMap((f) => scanManifest(readFileSync(join(dist, f), 'utf8'), `dist/${f}`));
    expect(report(findings)).toBe('');
  });
});

describe('secrets hygiene of the repository', () => {
  /** Every file git tracks or would add (untracked, not ignored), relative to the root. */
  function repositoryFiles(): string[] {
    let out: string;
    try {
      out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
    } catch (e) {
      throw new Error(`cannot list the repository's files with git (is ${ROOT} a git checkout with git installed?): ${String(e)}`);
    }
    return [...new Set(out.split('\0').filter(Boolean))];
  }

  it('no file holds a secret-looking value', () => {
    const files = repositoryFiles().filter(
      // node_modules and the lock file are third-party; dist/ YAML is scanned above with every detector.
      (f) => !f.startsWith('node_modules/') && f !== 'package-lock.json' && !(f.startsWith('dist/') && f.endsWith('.yaml')),
    );
    expect(files.length).toBeGreaterThan(100);
    const findings: Finding[] = [];
    for (const file of files) {
      const path = join(ROOT, file);
      if (!existsSync(path)) continue; // deleted in the working tree, not yet in the index
      const bytes = readFileSync(path);
      if (!isBinary(bytes)) findings.push(...scanRepoFile(bytes.toString('utf8'), file));
    }
    expect(report(findings)).toBe('');
  });
});
