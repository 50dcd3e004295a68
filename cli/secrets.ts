// `cli secrets`: what to create in a dev cluster, decided from the Secrets the platform declares
// and the ones that already exist. Pure functions, tested with the objects they produce; the
// cluster calls are in kube.ts, reached through `secretsCommand`.
import { randomBytes } from 'node:crypto';
import { manifestYaml } from '../lib/output';
import { ENVIRONMENTS, environmentInput } from '../environments';
import { signApiKey } from '../lib/jwt';
import type { SecretSpec } from '../lib/secrets';
import { platformSecrets } from '../platform';
import type { ObjectAccess, SecretAccess } from './kube';
import { parseCommandArgs } from './commands';
import { UsageError } from './usage';

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
export function generateValues(
  spec: SecretSpec,
  provided: Readonly<Record<string, string>> = {},
  random: RandomSource = randomBytes,
  now?: number,
): Record<string, string> {
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
        values[key] = signApiKey(secret, generate.role, now, generate.subject);
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
    type: spec.type ?? 'Opaque',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: {
        ...spec.labels,
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

/**
 * The --set values by "SECRET/KEY". Refuses, naming the Secret and key but never the value, a
 * pair that is not SECRET/KEY=VALUE, a Secret the platform does not declare, a key it does not
 * have, and a key whose value is generated: each with the list of what --set takes.
 */
export function providedValues(pairs: readonly string[], specs: readonly SecretSpec[]): Record<string, string> {
  const settable = [...new Set(specs.flatMap((s) => s.keys.filter((k) => k.generate.kind === 'provided').map((k) => `${s.name}/${k.key}`)))];
  const takes = settable.length ? `--set takes ${settable.join(', ')}` : 'this environment takes no --set value (every key is generated)';
  const provided: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const target = eq < 0 ? pair : pair.slice(0, eq);
    const [secret = '', key, ...rest] = target.split('/');
    if (eq < 0 || eq === pair.length - 1 || !secret || !key || rest.length > 0)
      throw new UsageError(`--set ${target}${eq < 0 ? '' : '=…'}: write it as SECRET/KEY=VALUE; ${takes}`);
    const matching = specs.filter((s) => s.name === secret);
    if (matching.length === 0) {
      throw new UsageError(`--set ${target}=…: there is no Secret "${secret}"; the Secrets are ${[...new Set(specs.map((s) => s.name))].join(', ')}; ${takes}`);
    }
    const keySpec = matching.flatMap((s) => s.keys).find((k) => k.key === key);
    if (!keySpec)
      throw new UsageError(
        `--set ${target}=…: Secret ${secret} has no key "${key}"; its keys are ${[...new Set(matching.flatMap((s) => s.keys.map((k) => k.key)))].join(', ')}; ${takes}`,
      );
    if (keySpec.generate.kind !== 'provided') throw new UsageError(`--set ${target}=…: ${target} is generated (${keySpec.generate.kind}), not given; ${takes}`);
    provided[target] = pair.slice(eq + 1);
  }
  return provided;
}

/** `secrets`: creates (or with --rotate replaces) the dev Secrets; --dry-run prints them instead. */
export async function secretsCommand(
  argv: string[],
  cluster: (context?: string) => SecretAccess & Pick<ObjectAccess, 'apply'>,
  out: (line: string) => void,
): Promise<void> {
  const values = parseCommandArgs<{ env: string; rotate?: boolean; dryRun?: boolean; set: string[]; context?: string }>(
    'secrets',
    argv,
    ENVIRONMENTS.map((e) => e.name),
  );
  const input = environmentInput(values.env);
  const { env, specs } = platformSecrets(input);
  if (env.secrets.source !== 'cli') {
    throw new UsageError(
      `${env.name} takes its secrets from External Secrets (${env.secrets.storeKind} ${env.secrets.storeName}): put the values in the secret manager under ${env.secrets.keyPrefix}/`,
    );
  }
  const provided = providedValues(values.set, specs);

  // Values written in this run, so copies in other namespaces repeat them.
  const written = new Map<string, Record<string, string>>();
  const valuesOf = async (spec: SecretSpec, read: (ns: string, name: string) => Promise<Record<string, string> | undefined>) => {
    if (!spec.copyOf) return generateValues(spec, provided);
    return copyValues(spec, written.get(`${spec.copyOf}/${spec.name}`) ?? (await read(spec.copyOf, spec.name)));
  };
  if (values.dryRun) {
    for (const item of planSecrets(specs, () => undefined, false)) {
      const made = await valuesOf(item.spec, () => Promise.resolve(undefined));
      written.set(`${item.spec.namespace}/${item.spec.name}`, made);
      out(`---\n${manifestYaml(secretManifest(item.spec, made, env.name)).trimEnd()}`);
    }
    return;
  }
  const kube = cluster(values.context);
  const existing = new Map<string, string[] | undefined>();
  for (const spec of specs) existing.set(`${spec.namespace}/${spec.name}`, await kube.secretKeys(spec.namespace, spec.name));
  const plan = planSecrets(specs, (ns, name) => existing.get(`${ns}/${name}`), values.rotate ?? false);
  for (const item of plan) {
    if (item.action !== 'keep') {
      const made = await valuesOf(item.spec, (ns, name) => kube.secretValues(ns, name));
      written.set(`${item.spec.namespace}/${item.spec.name}`, made);
      await kube.apply(secretManifest(item.spec, made, env.name), item.action === 'rotate');
    }
    out(`${item.action.padEnd(6)} ${item.spec.namespace}/${item.spec.name}: ${item.reason}`);
  }
}
