// The pure scanners behind tests/secrets-hygiene.test.ts: they take text (a synthesised manifest
// or any file of the repository) and return what looks like a secret, with the file, the line,
// the kind of finding and a masked excerpt (never more than 4 characters of the value).
//
// Two families:
// - text detectors, for every file: JWTs, PEM private keys with key material, AWS access key ids,
//   GitHub, Slack and Stripe live tokens, passwords inside URLs, and password/secret/token
//   assignments with a long quoted literal;
// - YAML detectors, for manifests: secret-named env entries, ConfigMap data keys and keys of the
//   config files a ConfigMap carries, holding a literal value; and high-entropy scalars.
// Every allowance is listed where it is decided, with the reason: a new one should be as narrow.
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseAllDocuments, parseDocument, Scalar } from 'yaml';

export type FindingKind =
  | 'jwt'
  | 'private-key'
  | 'aws-access-key-id'
  | 'github-token'
  | 'slack-token'
  | 'stripe-live-key'
  | 'url-credentials'
  | 'secret-named-value'
  | 'secret-assignment'
  | 'high-entropy';

export interface Finding {
  readonly file: string;
  /** 1-based line of the value (for a multi-line YAML value, the line of the token inside it). */
  readonly line: number;
  readonly kind: FindingKind;
  /** Where and what, with the value masked. */
  readonly detail: string;
}

/** Shows at most the first 4 characters of a value (none of a short one), and its length. */
export function mask(value: string): string {
  const shown = value.length >= 12 ? value.slice(0, 4) : '';
  return `${shown}${'*'.repeat(Math.min(value.length - shown.length, 8))} (${value.length} chars)`;
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line} ${f.kind}: ${f.detail}`;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Like git: a file with a NUL byte in its first 8000 bytes is binary. */
export function isBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 8000).includes(0);
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

// ---------------------------------------------------------------------------------------------
// Text detectors

/** Token formats whose prefix alone says what they are. */
const TOKEN_FORMATS: readonly { kind: FindingKind; re: RegExp }[] = [
  { kind: 'aws-access-key-id', re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  // ghp_ personal, gho_ OAuth, ghu_ user-to-server, ghs_ server-to-server, ghr_ refresh; fine-grained PATs.
  { kind: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g },
  { kind: 'slack-token', re: /\bxox[abpr]-[A-Za-z0-9-]{10,}/g },
  // Stripe secret (sk_) and restricted (rk_) live keys.
  { kind: 'stripe-live-key', re: /\b[sr]k_live_[A-Za-z0-9]{16,}/g },
];

/** A PEM header of any private key: PKCS#8, RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP ... BLOCK. */
const PEM_HEADER = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----/g;
/**
 * Key material: a line of 40 or more base64 characters within the header's next 400 characters
 * (escaped "\n" in JSON or code count as line breaks). A header around a placeholder, such as the
 * upstream ExternalSecrets CRD documentation's "-----BEGIN PRIVATE KEY-----\n<private-key>\n...",
 * shows the format and holds no key.
 */
const KEY_MATERIAL = /^[A-Za-z0-9+/]{40,}={0,2}$/m;

function hasKeyMaterial(after: string): boolean {
  const lines = after
    .slice(0, 400)
    .split(/-----END /)[0]!
    .replace(/\\[nr]/g, '\n')
    .split('\n')
    .map((l) => l.replace(/^[\s"'`+]+|[\s"',`+]+$/g, ''));
  return lines.some((l) => KEY_MATERIAL.test(l));
}

/** Dotted runs in which a JWT may hide (header.payload.signature, the signature may be empty). */
const DOTTED = /[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){2,}/g;

function decodeJson(segment: string): unknown {
  if (segment.length < 10) return undefined;
  const text = Buffer.from(segment, 'base64url').toString('utf8');
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface Jwt {
  readonly index: number;
  readonly value: string;
  readonly alg: string;
  readonly signature: string;
}

/** JWTs: three base64url segments, the first one decoding to a JSON object with an "alg". */
export function findJwts(text: string): Jwt[] {
  const out: Jwt[] = [];
  for (const m of text.matchAll(DOTTED)) {
    const segments = m[0].split('.');
    let offset = 0;
    for (let i = 0; i + 2 < segments.length; offset += segments[i]!.length + 1, i++) {
      const header = decodeJson(segments[i]!) as { alg?: unknown } | undefined;
      if (typeof header?.alg !== 'string' || !segments[i + 1]) continue;
      const value = segments.slice(i, i + 3).join('.');
      out.push({ index: m.index + offset, value, alg: header.alg, signature: segments[i + 2]! });
    }
  }
  return out;
}

/** Signature sizes, in bytes, of the JWS algorithms (RS and PS: at least a 2048-bit modulus). */
function signatureCanBeValid(alg: string, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64url').length;
  const fixed: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64, ES256: 64, ES384: 96, ES512: 132, EdDSA: 64 };
  if (alg in fixed) return bytes === fixed[alg];
  if (/^(RS|PS)\d{3}$/.test(alg)) return bytes >= 256;
  // "none" and unknown algorithms: treat as real (an unsigned token is accepted by a misconfigured server).
  return true;
}

/** A password inside a URL: scheme://user:<password>@host. */
const URL_USERINFO = /\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:"'`]+:([^\s/@"'`]+)@/gi;

/**
 * The password of a URL may be a reference: a Kubernetes dependent variable $(VAR), a shell or
 * template-literal expansion ${VAR} / $VAR, or a documentation placeholder <password>.
 */
const REFERENCE = /^(?:\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|<[^<>]+>)$/;

/**
 * Secret formats anywhere in a text: token formats, PEM private keys, JWTs, URL passwords.
 * `file` is only for the findings' location.
 */
export function scanText(text: string, file: string): Finding[] {
  const out: Finding[] = [];
  const add = (index: number, kind: FindingKind, value: string, what = '') => {
    if (!isTestFixture(file, value)) out.push({ file, line: lineAt(text, index), kind, detail: value ? `${what}${mask(value)}` : what });
  };
  for (const { kind, re } of TOKEN_FORMATS) for (const m of text.matchAll(re)) add(m.index, kind, m[0]);
  for (const m of text.matchAll(PEM_HEADER)) {
    // The header is not secret: name it in full; the key material is never shown.
    if (hasKeyMaterial(text.slice(m.index + m[0].length))) add(m.index, 'private-key', '', `PEM "${m[0].slice(5, -5)}" block with key material`);
  }
  for (const jwt of findJwts(text)) {
    // Fixtures (tests/, bench/) may hold a JWT whose signature cannot be one for its algorithm (such
    // as the word "signature" where HS256 needs 32 bytes): no server accepts it, it proves only
    // that a test parses the token's shape.
    if (isFixtureFile(file) && !signatureCanBeValid(jwt.alg, jwt.signature)) continue;
    add(jwt.index, 'jwt', jwt.value, `${jwt.alg} token `);
  }
  for (const m of text.matchAll(URL_USERINFO)) {
    if (!REFERENCE.test(m[1]!)) add(m.index, 'url-credentials', m[1]!, `password in ${m[0].split(':')[0]}:// URL `);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Repository files

/**
 * Fixture folders: code that runs only against throwaway local servers (tests/ and bench/), never
 * against a deployment. Only there may a value stand when it visibly says it is not real.
 */
export function isFixtureFile(file: string): boolean {
  return file.startsWith('tests/') || file.startsWith('bench/');
}

/** What a fixture's value must say to be allowed in a fixture folder ('test-backup-password'). */
const SAYS_NOT_REAL = /test|example|fake|bench/i;

function isTestFixture(file: string, value: string): boolean {
  return isFixtureFile(file) && SAYS_NOT_REAL.test(value);
}

/** Names that say "this holds a secret". */
export const SECRET_NAME = /(password|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential)/i;

/**
 * A password, secret or token assignment with a quoted literal of 12 or more characters:
 * `password: 'abc...'`, `DB_PASSWORD="..."`, `"api_token": "..."`, `client_secret_key = '...'`.
 * The secret word must end the name (optionally followed by key, access key or value): a name
 * that goes on, such as password_encryption or secretName, configures or names a secret.
 * Unquoted values are left to the YAML detectors and the entropy check: unquoted, code is full
 * of `token = nextToken()`.
 */
const ASSIGNMENT =
  /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]*(?:password|passwd|secret|token)(?:[_-]?(?:access[_-]?)?key|[_-]?value)?)["']?\s*[:=]\s*(["'`])([^"'`\s]{12,})\2/gi;

/** Any file of the repository: the text detectors and secret assignments (fixture rules apply). */
export function scanRepoFile(text: string, file: string): Finding[] {
  const out = scanText(text, file);
  for (const m of text.matchAll(ASSIGNMENT)) {
    const [, name, , value] = m as unknown as [string, string, string, string];
    if (isAllowedLiteral(name, value)) continue;
    if (!isTestFixture(file, value)) out.push({ file, line: lineAt(text, m.index), kind: 'secret-assignment', detail: `${name} = ${mask(value)}` });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Literal values under secret-looking names

const PATH = /^\/(?:[\w.@-]+\/)*[\w.@-]*$/;
const URL_WITHOUT_USERINFO = /^[a-z][a-z0-9+.-]*:\/\/[^\s/@]+(?:[/?#]\S*)?$/i;
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const normalise = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The allow-list for a literal value under a secret-looking name. Each entry is something that
 * names or points at a secret without being one; anything else is reported.
 */
export function isAllowedLiteral(name: string, value: string): boolean {
  const v = value.trim();
  return (
    // Empty: no value at all (the brief asks for non-empty literals).
    v === '' ||
    // A reference to a variable that the runtime fills from a Secret: $(VAR), ${VAR}, $VAR, or a
    // <placeholder> in documentation.
    REFERENCE.test(v) ||
    // Where a mounted secret file is (smtp_auth_password_file: /etc/alertmanager/secrets/...).
    PATH.test(v) ||
    // An endpoint, such as a token URL; a URL with a password is reported by 'url-credentials'.
    URL_WITHOUT_USERINFO.test(v) ||
    // Switches and sizes: hide_credentials: false, a token lifetime in seconds.
    /^(?:true|false|yes|no|on|off)$/i.test(v) ||
    /^\d+(?:\.\d+)?$/.test(v) ||
    // The name of a Secret or of a key in one, under a name that says it holds a name
    // (JWT_SECRET_NAME: supabase-jwt, tokenKeyRef: anon-key). Not under ..._KEY: a kebab-case
    // value there may be a passphrase such as a well-known default JWT secret.
    (/(?:name|ref)$/i.test(name) && DNS_NAME.test(v)) ||
    // Descriptive: the value is the name itself (REDIS_PASSWORD: redis-password).
    normalise(v) === normalise(name) ||
    // /etc/passwd for an image's user (nss_wrapper, initdb): names and ids, no password hashes.
    (/^passwd$/i.test(name) && isPasswdWithoutHashes(v))
  );
}

/**
 * passwd(5) lines (real or escaped "\n" line breaks, as in source code) whose password field is
 * the shadow marker x, or * or ! (locked), never a hash.
 */
function isPasswdWithoutHashes(value: string): boolean {
  const lines = value.split(/\n|\\n/).filter((l) => l.trim() !== '');
  return lines.length > 0 && lines.every((l) => /^[a-z_][a-z0-9_-]*:[x*!]:/.test(l) && l.split(':').length === 7);
}

// ---------------------------------------------------------------------------------------------
// High entropy

/** Characters of base64 (standard and url-safe) and hex; anything else splits tokens. */
const TOKEN_SPLIT = /[^A-Za-z0-9+/=_-]+/;
/** Thresholds, in bits per character, and the shortest token each applies to. */
export const ENTROPY = { base64: { minLength: 20, bits: 3.5 }, hex: { minLength: 32, bits: 3.0 } } as const;
/**
 * Known non-secret high-entropy text, removed before tokenising: image digests (sha256:<64 hex>,
 * the all-zero placeholder digests of unreleased images included) name public content.
 */
const DIGEST = /sha256:[0-9a-f]{64}/g;
const URL_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;

/**
 * Random base64 mixes upper case, lower case and digits (a 20-character one lacks one of them
 * about 3% of the time, a 40-character one 0.1%); identifiers, paths and prose, whose entropy can
 * reach 4.4 bits over a long URL path, rarely mix all three.
 */
const MIXED = (t: string) => /[A-Z]/.test(t) && /[a-z]/.test(t) && /[0-9]/.test(t);

/** The high-entropy tokens of one line. */
export function highEntropyTokens(line: string): string[] {
  return (
    line
      .replace(DIGEST, ' ')
      // In a URL "/" separates path segments (a runbook URL is not one 80-character token).
      .replace(URL_TEXT, (url) => url.replaceAll('/', ' '))
      .split(TOKEN_SPLIT)
      .flatMap((t) => t.split(/=+(?!=*$)/)) // "=" is padding at the end, an assignment elsewhere
      .filter((t) => {
        if (/^[0-9a-fA-F]+$/.test(t)) return t.length >= ENTROPY.hex.minLength && shannonEntropy(t) >= ENTROPY.hex.bits;
        return t.length >= ENTROPY.base64.minLength && MIXED(t) && shannonEntropy(t) >= ENTROPY.base64.bits;
      })
  );
}

// ---------------------------------------------------------------------------------------------
// Manifests

interface Located {
  readonly path: string;
  readonly value: string;
  /** The first line of the value's text: for a block scalar, the line after its "|" or ">". */
  readonly line: number;
}

function scalarAt(node: Scalar, path: string, lc: LineCounter, lineOffset: number): Located {
  const start = lc.linePos(node.range?.[0] ?? 0).line + lineOffset;
  const block = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
  return { path, value: String(node.value), line: block ? start + 1 : start };
}

type Path = readonly (string | number)[];
const pathText = (path: Path) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

/** Visits every scalar and every map of a parsed YAML node, with its path. */
function walk(node: unknown, path: Path, visit: (kind: 'scalar' | 'map', node: unknown, path: Path) => void): void {
  if (isScalar(node)) visit('scalar', node, path);
  else if (isMap(node)) {
    visit('map', node, path);
    for (const pair of node.items) {
      if (isPair(pair)) walk(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : '?'], visit);
    }
  } else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i], visit));
}

function scalarValue(node: unknown): Scalar | undefined {
  return isScalar(node) && node.value !== null && typeof node.value !== 'object' ? node : undefined;
}

/** Secret-named entries in one parsed YAML/JSON document: `name`/`value` pairs and map keys. */
function secretNamedValues(root: Node | null, lc: LineCounter, lineOffset: number, file: string, keysToo: boolean): Finding[] {
  const out: Finding[] = [];
  const report = (name: string, at: Located) => {
    if (!isAllowedLiteral(name, at.value)) out.push({ file, line: at.line, kind: 'secret-named-value', detail: `${at.path} (${name}) = ${mask(at.value)}` });
  };
  walk(root, [], (kind, node, path) => {
    if (kind !== 'map' || !isMap(node)) return;
    const name = scalarValue(node.get('name', true));
    const value = scalarValue(node.get('value', true));
    if (name && value && SECRET_NAME.test(String(name.value))) report(String(name.value), scalarAt(value, pathText([...path, 'value']), lc, lineOffset));
    if (!keysToo) return;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const v = scalarValue(pair.value);
      if (v && SECRET_NAME.test(key)) report(key, scalarAt(v, pathText([...path, key]), lc, lineOffset));
    }
  });
  return out;
}

const CONFIG_FILE = /\.(?:ya?ml|json)$/;

/**
 * A synthesised manifest (one or more YAML documents): what scanRepoFile finds, then
 * - env entries (any `name`/`value` map) with a secret-looking name and a literal value;
 * - ConfigMap data keys with a secret-looking name and a literal value; inside ConfigMap data
 *   that is a YAML or JSON config file (kong.yml, alertmanager.yml ...), every key too, unless
 *   it is itself a manifest (then as above);
 * - high-entropy tokens in every string scalar.
 */
export function scanManifest(text: string, file: string): Finding[] {
  const out = scanRepoFile(text, file);
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  for (const doc of Array.isArray(docs) ? docs : []) {
    const root = doc.contents;
    out.push(...secretNamedValues(root, lc, 0, file, false));
    const kind = isMap(root) ? String(root.get('kind')) : '';
    walk(root, [], (k, node, path) => {
      if (k !== 'scalar' || !isScalar(node) || typeof node.value !== 'string') return;
      const at = scalarAt(node, pathText(path), lc, 0);
      // checksum/config annotations are short hashes of a ConfigMap's content, public by nature.
      if (path.at(-2) === 'annotations' && path.at(-1) === 'checksum/config' && /^[0-9a-f]+$/.test(at.value)) return;
      at.value.split('\n').forEach((line, i) => {
        for (const t of highEntropyTokens(line)) {
          out.push({ file, line: at.line + i, kind: 'high-entropy', detail: `${at.path}: ${mask(t)}, ${shannonEntropy(t).toFixed(2)} bits/char` });
        }
      });
      if (kind !== 'ConfigMap' || path.length !== 2 || path[0] !== 'data') return;
      const key = String(path[1]);
      if (SECRET_NAME.test(key) && !isAllowedLiteral(key, at.value)) {
        out.push({ file, line: at.line, kind: 'secret-named-value', detail: `${at.path} = ${mask(at.value)}` });
      }
      if (CONFIG_FILE.test(key)) {
        const inner = new LineCounter();
        const parsed = parseDocument(at.value, { lineCounter: inner, uniqueKeys: false });
        // A Kubernetes manifest shipped in a ConfigMap (the restore drill's scratch Cluster) is
        // held to the rules of a manifest: its env entries, not every key (serverTLSSecret names
        // a Secret, password_encryption configures hashing).
        const manifest = isMap(parsed.contents) && parsed.contents.has('apiVersion') && parsed.contents.has('kind');
        if (parsed.errors.length === 0)
          out.push(...secretNamedValues(parsed.contents, inner, at.line - 1, file, !manifest).map((f) => ({ ...f, detail: `${at.path}: ${f.detail}` })));
      }
    });
  }
  return out;
}
