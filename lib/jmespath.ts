// The part of JMESPath that the platform's Kyverno rules use, evaluated the way Kyverno evaluates
// it: Kyverno's fork of go-jmespath (github.com/kyverno/go-jmespath, interpreter.go) reports a
// field missing from an object as an error ("Unknown key"), which `||`, function arguments,
// multi-select lists, projections and flatten swallow; a variable that still ends in that error
// fails the rule (and with failurePolicy Fail, the request). The charts evaluate their own
// expressions with it on the objects they ship (charts/security/operator-job-policy-chart.ts),
// and the tests evaluate the same text on changed objects.
//
// Supported: identifiers (bare and "quoted"), sub-expressions, multi-select lists, flatten
// projections (`[]`), filter projections (`[?...]`) with `==`, `!=`, `&&`, `||`, `!`, pipes,
// parentheses, `@`, 'raw strings', `json literals` and the functions keys, sort, length, type
// and to_string. Anything else (multi-select hashes, wildcards, indexes, slices) is refused:
// Kyverno's `{{ }}` variables cannot hold nested braces anyway.

/** A JSON value as an admission request carries it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What Kyverno's fork raises for a key missing from an object. */
export class NotFoundError extends Error {
  constructor(readonly key: string) {
    super(`Unknown key "${key}" in path`);
  }
}

type Token =
  | { t: 'id'; v: string }
  | { t: 'qid'; v: string }
  | { t: 'lit'; v: Json }
  | { t: 'num'; v: number }
  | {
      t:
        '.' | '[' | ']' | '[]' | '[?' | ',' | '(' | ')' | '@' | '|' | '||' | '&&' | '!' | '==' | '!=' | 'eof' | '{' | '}' | '*' | ':' | '<' | '>' | '<=' | '>=';
    };

const BP: Record<string, number> = {
  eof: 0,
  id: 0,
  qid: 0,
  lit: 0,
  num: 0,
  ']': 0,
  ')': 0,
  ',': 0,
  '}': 0,
  '@': 0,
  ':': 0,
  '|': 1,
  '||': 2,
  '&&': 3,
  '==': 5,
  '!=': 5,
  '<': 5,
  '>': 5,
  '<=': 5,
  '>=': 5,
  '[]': 9,
  '*': 20,
  '[?': 21,
  '.': 40,
  '!': 45,
  '{': 50,
  '[': 55,
  '(': 60,
};

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`JMESPath: ${what} at ${i} in ${text}`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))![0];
      out.push({ t: 'id', v: m });
      i += m.length;
      continue;
    }
    if (/[-0-9]/.test(c)) {
      const m = /^-?[0-9]+/.exec(text.slice(i))?.[0] ?? fail('bad number');
      out.push({ t: 'num', v: Number(m) });
      i += m.length;
      continue;
    }
    const quoted = (close: string): string => {
      let j = i + 1;
      while (j < text.length && text[j] !== close) j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) fail(`unterminated ${close}`);
      const body = text.slice(i + 1, j);
      i = j + 1;
      return body;
    };
    if (c === '"') {
      out.push({ t: 'qid', v: JSON.parse(`"${quoted('"')}"`) as string });
      continue;
    }
    if (c === "'") {
      out.push({ t: 'lit', v: quoted("'").replace(/\\'/g, "'") });
      continue;
    }
    if (c === '`') {
      out.push({ t: 'lit', v: JSON.parse(quoted('`').replace(/\\`/g, '`')) as Json });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (['[]', '[?', '||', '&&', '==', '!=', '<=', '>='].includes(two)) {
      out.push({ t: two as '[]' });
      i += 2;
      continue;
    }
    if ('.[],()@|!{}*:<>'.includes(c)) {
      out.push({ t: c as '.' });
      i++;
      continue;
    }
    fail(`unexpected "${c}"`);
  }
  out.push({ t: 'eof' });
  return out;
}

type Node =
  | { n: 'field'; key: string }
  | { n: 'current' }
  | { n: 'literal'; value: Json }
  | { n: 'sub'; left: Node; right: Node }
  | { n: 'list'; items: Node[] }
  | { n: 'flatten'; of: Node }
  | { n: 'projection'; left: Node; right: Node }
  | { n: 'filter'; left: Node; right: Node; condition: Node }
  | { n: 'or' | 'and' | 'pipe'; left: Node; right: Node }
  | { n: 'not'; of: Node }
  | { n: 'compare'; op: '==' | '!='; left: Node; right: Node }
  | { n: 'call'; name: string; args: Node[] };

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
  ) {}

  parse(): Node {
    const node = this.expression(0);
    if (this.peek().t !== 'eof') this.fail(`unexpected ${this.peek().t}`);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    return this.tokens[this.pos++]!;
  }
  private expect(t: Token['t']): void {
    if (this.next().t !== t) this.fail(`expected ${t}`);
  }
  private fail(what: string): never {
    throw new Error(`JMESPath: ${what} (token ${this.pos}) in ${this.text}`);
  }

  private expression(bp: number): Node {
    let left = this.nud(this.next());
    while (bp < BP[this.peek().t]!) left = this.led(this.next(), left);
    return left;
  }

  private nud(tok: Token): Node {
    switch (tok.t) {
      case 'id':
        return { n: 'field', key: tok.v };
      case 'qid':
        if (this.peek().t === '(') this.fail('a quoted identifier cannot name a function');
        return { n: 'field', key: tok.v };
      case 'lit':
        return { n: 'literal', value: tok.v };
      case '@':
        return { n: 'current' };
      case '!':
        return { n: 'not', of: this.expression(BP['!']!) };
      case '(': {
        const inner = this.expression(0);
        this.expect(')');
        return inner;
      }
      case '[]':
        return { n: 'projection', left: { n: 'flatten', of: { n: 'current' } }, right: this.projectionRhs(BP['[]']!) };
      case '[?':
        return this.filter({ n: 'current' });
      case '[':
        if (this.peek().t === 'num' || this.peek().t === '*' || this.peek().t === ':') this.fail('indexes, slices and wildcards are not supported');
        return this.multiSelectList();
      default:
        return this.fail(`unsupported ${tok.t}`);
    }
  }

  private led(tok: Token, left: Node): Node {
    switch (tok.t) {
      case '.':
        return { n: 'sub', left, right: this.dotRhs(BP['.']!) };
      case '|':
      case '||':
      case '&&': {
        const right = this.expression(BP[tok.t]!);
        return { n: tok.t === '|' ? 'pipe' : tok.t === '||' ? 'or' : 'and', left, right };
      }
      case '==':
      case '!=':
        return { n: 'compare', op: tok.t, left, right: this.expression(BP[tok.t]!) };
      case '(': {
        if (left.n !== 'field') this.fail('only a name can be called');
        const args: Node[] = [];
        while (this.peek().t !== ')') {
          args.push(this.expression(0));
          if (this.peek().t === ',') this.next();
        }
        this.expect(')');
        return { n: 'call', name: left.key, args };
      }
      case '[]':
        return { n: 'projection', left: { n: 'flatten', of: left }, right: this.projectionRhs(BP['[]']!) };
      case '[?':
        return this.filter(left);
      default:
        return this.fail(`unsupported ${tok.t}`);
    }
  }

  private filter(left: Node): Node {
    const condition = this.expression(0);
    this.expect(']');
    const right: Node = this.peek().t === '[]' ? { n: 'current' } : this.projectionRhs(BP['[?']!);
    return { n: 'filter', left, right, condition };
  }

  private dotRhs(bp: number): Node {
    const t = this.peek().t;
    if (t === 'id' || t === 'qid') return this.expression(bp);
    if (t === '[') {
      this.next();
      return this.multiSelectList();
    }
    return this.fail(`unsupported ${t} after "."`);
  }

  private projectionRhs(bp: number): Node {
    const t = this.peek().t;
    if (BP[t]! < 10) return { n: 'current' };
    if (t === '[' || t === '[?' || t === '[]') return this.expression(bp);
    if (t === '.') {
      this.next();
      return this.dotRhs(bp);
    }
    return this.fail(`unsupported ${t} after a projection`);
  }

  private multiSelectList(): Node {
    const items: Node[] = [];
    for (;;) {
      items.push(this.expression(0));
      const t = this.next().t;
      if (t === ']') return { n: 'list', items };
      if (t !== ',') this.fail('expected , or ]');
    }
  }
}

const cache = new Map<string, Node>();
function compile(expression: string): Node {
  let node = cache.get(expression);
  if (!node) {
    node = new Parser(tokenize(expression), expression).parse();
    cache.set(expression, node);
  }
  return node;
}

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JMESPath's false values: null, false, "", [] and {}. */
export function isFalse(v: Json | undefined): boolean {
  return v === null || v === undefined || v === false || v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
}

/** Go's reflect.DeepEqual on decoded JSON (what Kyverno's Equals does with lists and maps). */
export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** encoding/json's Marshal: map keys sorted. */
function goJson(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${goJson(v[k]!)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

const typeOf = (v: Json): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v);

function call(name: string, args: Json[]): Json {
  const arity = (n: number) => {
    if (args.length !== n) throw new Error(`JMESPath: ${name}() takes ${n} argument(s)`);
  };
  const want = (v: Json, ...types: string[]) => {
    if (!types.includes(typeOf(v))) throw new Error(`JMESPath: invalid type for ${name}(): ${typeOf(v)}, expected ${types.join(' or ')}`);
  };
  switch (name) {
    case 'to_string':
      arity(1);
      return typeof args[0] === 'string' ? args[0] : goJson(args[0]!);
    case 'keys':
      arity(1);
      want(args[0]!, 'object');
      return Object.keys(args[0] as Record<string, Json>);
    case 'sort': {
      arity(1);
      want(args[0]!, 'array');
      const items = args[0] as Json[];
      if (items.every((x) => typeof x === 'number')) return [...items].sort((a, b) => a - b);
      if (items.every((x) => typeof x === 'string')) return [...items].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
      throw new Error('JMESPath: sort() takes numbers or strings');
    }
    case 'length':
      arity(1);
      want(args[0]!, 'string', 'array', 'object');
      return typeof args[0] === 'string' ? [...args[0]].length : Array.isArray(args[0]) ? args[0].length : Object.keys(args[0] as object).length;
    case 'type':
      arity(1);
      return typeOf(args[0]!);
    default:
      throw new Error(`JMESPath: unknown function ${name}()`);
  }
}

/** The value, or null when the error is a missing key (what most nodes of the fork do). */
function orNull(f: () => Json): Json {
  try {
    return f();
  } catch (e) {
    if (e instanceof NotFoundError) return null;
    throw e;
  }
}

function run(node: Node, value: Json): Json {
  switch (node.n) {
    case 'field':
      if (isObject(value)) {
        if (!(node.key in value)) throw new NotFoundError(node.key);
        return value[node.key]!;
      }
      return null;
    case 'current':
      return value;
    case 'literal':
      return node.value;
    case 'sub':
      return run(node.right, run(node.left, value));
    case 'list':
      if (value === null) return null;
      return node.items.map((item) => orNull(() => run(item, value)));
    case 'flatten': {
      let left: Json;
      try {
        left = run(node.of, value);
      } catch {
        return null;
      }
      if (!Array.isArray(left)) return null;
      return left.flatMap((x) => (Array.isArray(x) ? x : [x]));
    }
    case 'projection': {
      const left = orNull(() => run(node.left, value));
      if (!Array.isArray(left)) return null;
      return left.map((x) => orNull(() => run(node.right, x))).filter((x) => x !== null);
    }
    case 'filter': {
      let left: Json;
      try {
        left = run(node.left, value);
      } catch {
        return null;
      }
      if (!Array.isArray(left)) return null;
      return left
        .filter((x) => !isFalse(orNull(() => run(node.condition, x))))
        .map((x) => orNull(() => run(node.right, x)))
        .filter((x) => x !== null);
    }
    case 'or': {
      const left = orNull(() => run(node.left, value));
      return isFalse(left) ? orNull(() => run(node.right, value)) : left;
    }
    case 'and': {
      const left = orNull(() => run(node.left, value));
      return isFalse(left) ? left : run(node.right, value);
    }
    case 'not':
      return isFalse(orNull(() => run(node.of, value)));
    case 'pipe':
      return orNull(() =>
        run(
          node.right,
          orNull(() => run(node.left, value)),
        ),
      );
    case 'compare': {
      const equal = deepEqual(
        orNull(() => run(node.left, value)),
        orNull(() => run(node.right, value)),
      );
      return node.op === '==' ? equal : !equal;
    }
    case 'call':
      return call(
        node.name,
        node.args.map((a) => orNull(() => run(a, value))),
      );
  }
}

/** Evaluates `expression` on `data` as Kyverno would; throws NotFoundError where Kyverno's variable would fail. */
export function search(expression: string, data: Json): Json {
  return run(compile(expression), data);
}
