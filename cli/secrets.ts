// `cli secrets`: what to create in a dev cluster, decided from the Secrets the platform declares
// and the ones that already exist. Pure functions, tested with the objects they produce; the
// cluster calls are in kube.ts.
import { randomBytes } from 'node:crypto';
import { signApiKey } from '../lib/jwt';
import type { SecretSpec } from '../lib/secrets';

export type Action = 'create' | 'keep' | 'rotate' | 'copy';

export interface PlanItem {
  readonly spec: SecretSpec;
  readonly action: Action;
  readonly reason: string;
}

/** The keys of a Secret that exists in the cluster, or undefined if there is none. */
export type Existing = (namespace: string, name: string) => readonly string[] | undefined;

/**
 * Create what is missing; keep what exists unless `rotate`. An existing Secret that lacks keys
 * the platform needs is an error: filling it in would mix old and new values (an API key signed
 * with another JWT secret), so the operator decides with --rotate.
 */
export function planSecrets(specs: readonly SecretSpec[], existing: Existing, rotate: boolean): PlanItem[] {
  const problems: string[] = [];
  const plan = specs.map((spec): PlanItem => {
    if (spec.copyOf) return { spec, action: 'copy', reason: `same values as ${spec.copyOf}/${spec.name}` };
    const keys = existing(spec.namespace, spec.name);
    if (!keys) return { spec, action: 'create', reason: 'does not exist' };
    if (rotate) return { spec, action: 'rotate', reason: 'exists; --rotate replaces every value' };
    const missing = spec.keys.map((k) => k.key).filter((k) => !keys.includes(k));
    if (missing.length) problems.push(`${spec.namespace}/${spec.name} exists but lacks ${missing.join(', ')}: re-run with --rotate to regenerate it`);
    return { spec, action: 'keep', reason: 'exists; kept (use --rotate to replace it)' };
  });
  if (problems.length) throw new Error(problems.join('\n'));
  // Copies after their sources, so they repeat the values just written.
  return [...plan.filter((p) => p.action !== 'copy'), ...plan.filter((p) => p.action === 'copy')];
}

/** The values of a copy: its keys, taken from the source Secret's values. */
export function copyValues(spec: SecretSpec, source: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const from = `${spec.copyOf}/${spec.name}`;
  if (!source) throw new Error(`${spec.namespace}/${spec.name} copies ${from}, which does not exist: create it first (run secrets again without --dry-run)`);
  const values: Record<string, string> = {};
  for (const { key } of spec.keys) {
    const value = source[key];
    if (value === undefined) throw new Error(`${spec.namespace}/${spec.name} copies ${key} from ${from}, which lacks it: re-run with --rotate`);
    values[key] = value;
  }
  return values;
}

export type RandomSource = (bytes: number) => Buffer;

/**
 * Every value of one Secret. Random keys first, then the API keys signed with the JWT secret just
 * made; `provided` supplies keys that come from outside ("secret/key" -> value).
 */
export function generateValues(spec: SecretSpec, provided: Readonly<Record<string, string>> = {}, random: RandomSource = randomBytes, now?: number): Record<string, string> {
  const values: Record<string, string> = {};
  const ordered = [...spec.keys].sort((a, b) => Number(a.generate.kind === 'jwt') - Number(b.generate.kind === 'jwt'));
  for (const { key, generate } of ordered) {
    switch (generate.kind) {
      case 'hex':
        values[key] = random(generate.bytes).toString('hex');
        break;
      case 'base64':
        values[key] = random(generate.bytes).toString('base64');
        break;
      case 'text':
        values[key] = generate.value;
        break;
      case 'jwt': {
        const secret = values[generate.signingKey];
        if (!secret) throw new Error(`internal: ${spec.name}/${key} is signed with ${generate.signingKey}, which ${spec.name} does not generate`);
        values[key] = signApiKey(secret, generate.role, now);
        break;
      }
      case 'provided': {
        const value = provided[`${spec.name}/${key}`];
        if (!value) throw new Error(`${spec.namespace}/${spec.name} needs ${key} (${generate.hint}): pass --set ${spec.name}/${key}=VALUE`);
        values[key] = value;
        break;
      }
    }
  }
  return values;
}

/** The Secret object the CLI applies (values base64-encoded in `data`). */
export function secretManifest(spec: SecretSpec, values: Readonly<Record<string, string>>, instance: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: {
        'app.kubernetes.io/name': spec.name,
        'app.kubernetes.io/instance': instance,
        'app.kubernetes.io/component': 'secret',
        'app.kubernetes.io/part-of': 'supabase-platform',
        'app.kubernetes.io/managed-by': 'supabase-platform-cli',
      },
      annotations: { 'supabase-platform/description': spec.description },
    },
    data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}
