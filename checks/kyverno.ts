// A Kyverno admission check for the validate rules the platform writes (deny conditions and
// preconditions), so that tests can send objects through a synthesised ClusterPolicy without a
// cluster. It follows Kyverno's engine (github.com/kyverno/kyverno, pkg/engine): a rule applies
// when one `match.any` entry holds (kinds, namespaces, operations, and the subjects among the
// request's user and groups); its preconditions and deny conditions are any/all lists whose
// `{{ }}` variables are JMESPath (lib/jmespath.ts: Kyverno's fork, missing keys included); a
// variable that fails makes the rule an error, which blocks the request under failurePolicy Fail;
// a deny that holds fails the rule, which blocks it under failureAction Enforce
// (pkg/utils/engine/response.go, BlockRequest). Operators as pkg/engine/variables/operator:
// Equals and NotEquals compare lists and maps with reflect.DeepEqual and strings with wildcards;
// AnyIn and AnyNotIn match strings with wildcards both ways. Anything the platform's policies do
// not use (match.all, exclude, patterns, foreach, CEL) is refused rather than guessed at.
import { deepEqual, type Json, search } from '../lib/jmespath';
import type { K8sObject } from './objects';

export interface AdmissionRequest {
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly object: K8sObject;
  readonly oldObject?: K8sObject;
  readonly userInfo: { readonly username: string; readonly groups: readonly string[] };
}

export interface RuleResult {
  readonly rule: string;
  readonly status: 'pass' | 'fail' | 'skip' | 'error';
  readonly message: string;
}

export interface Admission {
  readonly allowed: boolean;
  /** The rules that matched the request. */
  readonly results: readonly RuleResult[];
}

interface Condition {
  key: Json;
  operator: string;
  value: Json;
  message?: string;
}
type Conditions = { any?: Condition[]; all?: Condition[] };
interface Rule {
  name: string;
  match: {
    any?: { resources?: { kinds?: string[]; namespaces?: string[]; operations?: string[] }; subjects?: { kind: string; name: string }[] }[];
    all?: unknown;
  };
  exclude?: unknown;
  preconditions?: Conditions;
  validate?: {
    failureAction?: string;
    message?: string;
    deny?: { conditions?: Conditions };
    pattern?: unknown;
    anyPattern?: unknown;
    foreach?: unknown;
    cel?: unknown;
  };
}
interface Policy {
  spec: { failurePolicy?: string; rules: Rule[] };
}

/** Kyverno's wildcard match (ext/wildcard): `*` any run, `?` one character. */
export function wildcard(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\/]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's',
  );
  return re.test(name);
}

/** A whole-string variable, as Kyverno's regex finds them (no nested braces). */
const VARIABLE = /^\{\{((?:\{[^{}]*\}|[^{}])*)\}\}$/;
const VARIABLES = /\{\{((?:\{[^{}]*\}|[^{}])*)\}\}/g;

function substitute(value: Json, data: Json): Json {
  if (typeof value === 'string') {
    const whole = VARIABLE.exec(value);
    if (whole) return search(whole[1]!.trim(), data);
    return value.replace(VARIABLES, (_, expr: string) => {
      const v = search(expr.trim(), data);
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, data));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, data)]));
  return value;
}

const strings = (v: Json): string[] | undefined =>
  Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))) : typeof v === 'string' ? [v] : undefined;

function operate(operator: string, key: Json, value: Json): boolean {
  switch (operator) {
    case 'Equals':
    case 'NotEquals': {
      let equal: boolean;
      if (typeof key === 'string') equal = typeof value === 'string' && wildcard(value, key);
      else if (Array.isArray(key) || (typeof key === 'object' && key !== null)) equal = deepEqual(key, value);
      else if (key === null)
        return false; // Kyverno: unsupported type, the condition does not hold
      else equal = key === value;
      return operator === 'Equals' ? equal : !equal;
    }
    case 'AnyIn':
    case 'AnyNotIn': {
      const keys = typeof key === 'string' ? [key] : Array.isArray(key) ? key.map((k) => (typeof k === 'string' ? k : JSON.stringify(k))) : undefined;
      const values = strings(value);
      if (!keys || !values) return false;
      const found = (k: string) => values.some((v) => wildcard(v, k) || wildcard(k, v));
      return operator === 'AnyIn' ? keys.some(found) : keys.some((k) => !found(k));
    }
    default:
      throw new Error(`operator ${operator} is not supported by this check`);
  }
}

/** Whether the conditions hold, and the messages of those that decided it. */
function holds(conditions: Conditions, data: Json): { holds: boolean; messages: string[] } {
  const check = (c: Condition) => operate(c.operator, substitute(c.key, data), substitute(c.value, data));
  const messages: string[] = [];
  let anyHolds = true;
  if (conditions.any) {
    const hit = conditions.any.find(check);
    anyHolds = hit !== undefined;
    if (hit?.message) messages.push(hit.message);
  }
  const allHolds = (conditions.all ?? []).every(check);
  return { holds: anyHolds && allHolds, messages };
}

function matches(rule: Rule, request: AdmissionRequest): boolean {
  if (rule.match.all !== undefined || rule.exclude !== undefined) throw new Error(`rule ${rule.name}: match.all and exclude are not supported by this check`);
  return (rule.match.any ?? []).some(({ resources, subjects }) => {
    const r = resources ?? {};
    const kindOk = !r.kinds || r.kinds.some((k) => k === request.object.kind || k.split('/').pop() === request.object.kind);
    const nsOk = !r.namespaces || r.namespaces.some((ns) => wildcard(ns, request.object.metadata.namespace ?? ''));
    const opOk = !r.operations || r.operations.includes(request.operation);
    const subjectOk =
      !subjects ||
      subjects.some((s) => (s.kind === 'Group' ? request.userInfo.groups.includes(s.name) : s.kind === 'User' && s.name === request.userInfo.username));
    return kindOk && nsOk && opOk && subjectOk;
  });
}

/** What Kyverno answers to `request` with `policy` (a synthesised ClusterPolicy). */
export function admit(policy: K8sObject, request: AdmissionRequest): Admission {
  const spec = (policy as unknown as Policy).spec;
  const data = {
    request: {
      operation: request.operation,
      object: request.object,
      oldObject: request.oldObject ?? null,
      namespace: request.object.metadata.namespace ?? '',
      userInfo: request.userInfo,
    },
  } as unknown as Json;
  const results: RuleResult[] = [];
  let blocked = false;
  for (const rule of spec.rules) {
    if (!matches(rule, request)) continue;
    const v = rule.validate;
    if (!v?.deny || v.pattern || v.anyPattern || v.foreach || v.cel) throw new Error(`rule ${rule.name}: only deny rules are supported by this check`);
    try {
      if (rule.preconditions && !holds(rule.preconditions, data).holds) {
        results.push({ rule: rule.name, status: 'skip', message: 'preconditions not met' });
        continue;
      }
      const deny = holds(v.deny.conditions ?? {}, data);
      if (deny.holds) {
        results.push({ rule: rule.name, status: 'fail', message: [v.message, ...deny.messages].filter(Boolean).join('; ') });
        if (v.failureAction === 'Enforce') blocked = true;
      } else {
        results.push({ rule: rule.name, status: 'pass', message: '' });
      }
    } catch (error) {
      results.push({ rule: rule.name, status: 'error', message: (error as Error).message });
      if (spec.failurePolicy === 'Fail') blocked = true;
    }
  }
  return { allowed: !blocked, results };
}
