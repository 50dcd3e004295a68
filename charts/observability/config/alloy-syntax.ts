// The Alloy configuration syntax (https://grafana.com/docs/alloy/v1.18/get-started/configuration-syntax/):
// a small builder whose output is config.alloy, a reader for it, and a checker of components
// against their arguments.
//
// No parser of this syntax can be installed here (Debian has no Alloy package; npm has no Alloy
// or River grammar), so the reader follows Alloy's own scanner and parser at the pinned version
// (https://github.com/grafana/alloy/blob/v1.18.1/syntax/scanner/scanner.go and
// https://github.com/grafana/alloy/blob/v1.18.1/syntax/parser/internal.go):
// newlines end a statement after an identifier, a literal, or a closing ), ] or }; lists and
// objects separate their elements with commas; a block is `name.parts "label" { body }`. The
// checker then does what Alloy does when it loads the file: every component must be one it knows
// (alloy.ts lists the ones the platform uses, with their arguments from Alloy's reference), every
// attribute and block must be one that component has, with a value of the right type, and every
// reference must name a component of the file and one of its exports.

// ---- Syntax tree --------------------------------------------------------------------------------

export type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%' | '^';

export type AlloyExpr =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'ident'; readonly name: string }
  | { readonly kind: 'access'; readonly value: AlloyExpr; readonly name: string }
  | { readonly kind: 'index'; readonly value: AlloyExpr; readonly index: AlloyExpr }
  | { readonly kind: 'call'; readonly fn: AlloyExpr; readonly args: readonly AlloyExpr[] }
  | { readonly kind: 'array'; readonly elements: readonly AlloyExpr[] }
  | { readonly kind: 'object'; readonly fields: readonly { readonly name: string; readonly value: AlloyExpr }[] }
  | { readonly kind: 'unary'; readonly op: '!' | '-'; readonly value: AlloyExpr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: AlloyExpr; readonly right: AlloyExpr }
  | { readonly kind: 'paren'; readonly inner: AlloyExpr };

export interface AlloyAttribute {
  readonly kind: 'attribute';
  readonly name: string;
  readonly value: AlloyExpr;
  readonly line?: number;
}
export interface AlloyBlock {
  readonly kind: 'block';
  /** Dotted name, e.g. "discovery.kubernetes" or "stage.static_labels". */
  readonly name: string;
  readonly label?: string;
  readonly body: readonly AlloyStatement[];
  readonly line?: number;
}
export type AlloyStatement = AlloyAttribute | AlloyBlock;

// ---- Types ------------------------------------------------------------------------------------

/** The value types of the arguments and exports the platform uses, named as Alloy's reference names them. */
export type AlloyType =
  | 'string'
  | 'number'
  | 'bool'
  | 'duration'
  | 'secret'
  | 'list(string)'
  | 'map(string)'
  | 'list(map(string))'
  | 'map(list(secret))'
  | 'LogsReceiver'
  | 'list(LogsReceiver)';

/** An expression whose type is known where it is built. */
export interface Expr<T extends AlloyType = AlloyType> {
  readonly type: T;
  readonly node: AlloyExpr;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A string literal. */
export const str = (value: string): Expr<'string'> => ({ type: 'string', node: { kind: 'string', value } });
export const num = (value: number): Expr<'number'> => ({ type: 'number', node: { kind: 'number', value } });
export const bool = (value: boolean): Expr<'bool'> => ({ type: 'bool', node: { kind: 'bool', value } });
/** A duration, written as Alloy takes it: a string such as "5s". */
export const duration = (value: string): Expr<'duration'> => {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w|y))+$/.test(value)) throw new Error(`"${value}" is not a duration`);
  return { type: 'duration', node: { kind: 'string', value } };
};

const path = (dotted: string): AlloyExpr =>
  dotted
    .split('.')
    .reduce<AlloyExpr | undefined>((acc, part) => (acc ? { kind: 'access', value: acc, name: part } : { kind: 'ident', name: part }), undefined)!;
const callOf = (fn: string, args: AlloyExpr[]): AlloyExpr => ({ kind: 'call', fn: path(fn), args });

/** sys.env("NAME"): the value of an environment variable of Alloy's container. */
export const env = (name: string): Expr<'string'> => ({ type: 'string', node: callOf('sys.env', [{ kind: 'string', value: name }]) });
/** string.split(s, separator). */
export const split = (s: Expr<'string'>, separator: string): Expr<'list(string)'> => ({
  type: 'list(string)',
  node: callOf('string.split', [s.node, { kind: 'string', value: separator }]),
});
/** Strings joined with `+`. */
export const concat = (first: Expr<'string'>, ...rest: Expr<'string'>[]): Expr<'string'> => ({
  type: 'string',
  node: rest.reduce<AlloyExpr>((left, right) => ({ kind: 'binary', op: '+', left, right: right.node }), first.node),
});
/** A list of strings. */
export const strings = (...items: string[]): Expr<'list(string)'> => ({
  type: 'list(string)',
  node: { kind: 'array', elements: items.map((value) => ({ kind: 'string', value })) },
});
/** A list of receivers (forward_to). */
export const receivers = (...items: Expr<'LogsReceiver'>[]): Expr<'list(LogsReceiver)'> => ({
  type: 'list(LogsReceiver)',
  node: { kind: 'array', elements: items.map((i) => i.node) },
});
/** An object of string values, e.g. labels. */
export const stringMap = (entries: Readonly<Record<string, Expr<'string'>>>): Expr<'map(string)'> => ({
  type: 'map(string)',
  node: { kind: 'object', fields: Object.entries(entries).map(([name, value]) => ({ name, value: value.node })) },
});

// ---- Component definitions ------------------------------------------------------------------------

export interface AttributeSpec {
  readonly type: AlloyType;
  readonly required?: boolean;
}
export interface BlockSpec {
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
  readonly blocks?: Readonly<Record<string, NestedBlockSpec>>;
}
export interface NestedBlockSpec extends BlockSpec {
  /** May appear more than once (in order, e.g. relabelling rules). */
  readonly repeated?: boolean;
  readonly required?: boolean;
}
export interface ComponentSpec extends BlockSpec {
  /** What other components may reference: `<name>.<label>.<export>`. */
  readonly exports: Readonly<Record<string, AlloyType>>;
}

/** The value an attribute of type T accepts: durations and secrets may also be plain strings. */
type ValueFor<T extends AlloyType> = T extends 'duration' | 'secret' ? Expr<T> | Expr<'string'> : Expr<T>;
type RequiredKeys<A> = { [K in keyof A]-?: A[K] extends { readonly required: true } ? K : never }[keyof A];
type AttributeArgs<A extends Readonly<Record<string, AttributeSpec>>> = { readonly [K in RequiredKeys<A>]: ValueFor<A[K]['type']> } & {
  readonly [K in Exclude<keyof A, RequiredKeys<A>>]?: ValueFor<A[K]['type']>;
};
type NestedArgs<B extends Readonly<Record<string, NestedBlockSpec>> | undefined> =
  B extends Readonly<Record<string, NestedBlockSpec>>
    ? { readonly [K in keyof B]?: B[K] extends { readonly repeated: true } ? readonly BlockArgs<B[K]>[] : BlockArgs<B[K]> }
    : unknown;
/**
 * The arguments of a component or block, from its spec: each attribute with a value of its type,
 * each nested block as an object (a list of them when it repeats). An argument the spec does not
 * have is a compile error. Nested blocks are written after the attributes, in the order of their
 * keys.
 */
export type BlockArgs<S extends BlockSpec> = AttributeArgs<S['attributes']> & NestedArgs<S['blocks']>;

/** A component of the file, and the typed references to its exports. */
export interface Component<S extends ComponentSpec> {
  readonly block: AlloyBlock;
  readonly exports: { readonly [K in keyof S['exports']]: Expr<S['exports'][K]> };
}

/** The statements of a block from its arguments; refuses an argument the spec does not have (for values built outside object literals). */
function bodyOf(spec: BlockSpec, args: Readonly<Record<string, unknown>>, where: string): AlloyStatement[] {
  const attributes: AlloyStatement[] = [];
  const blocks: AlloyStatement[] = [];
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    if (spec.attributes[key]) {
      attributes.push({ kind: 'attribute', name: key, value: (value as Expr).node });
      continue;
    }
    const nested = spec.blocks?.[key];
    if (!nested) throw new Error(`${where}: no argument or block "${key}"`);
    const items = nested.repeated ? (value as readonly Readonly<Record<string, unknown>>[]) : [value as Readonly<Record<string, unknown>>];
    for (const item of items) blocks.push({ kind: 'block', name: key, body: bodyOf(nested, item, `${where} > ${key}`) });
  }
  return [...attributes, ...blocks];
}

/** Declares the component `name "label" { ... }`. */
export function defineComponent<S extends ComponentSpec>(spec: S, name: string, label: string, args: BlockArgs<S>): Component<S> {
  if (!IDENTIFIER.test(label)) throw new Error(`${name} "${label}": a label must be an identifier`);
  const exports = Object.fromEntries(Object.entries(spec.exports).map(([key, type]) => [key, { type, node: path(`${name}.${label}.${key}`) }]));
  return { block: { kind: 'block', name, label, body: bodyOf(spec, args, `${name} "${label}"`) }, exports: exports as Component<S>['exports'] };
}

// ---- Printer ----------------------------------------------------------------------------------

const PRECEDENCE: Record<BinaryOp, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  '^': 6,
};

function quote(value: string): string {
  // Go's strconv.Quote for what the platform writes; JSON's escapes are a subset Alloy reads.
  return JSON.stringify(value);
}

export function printExpr(e: AlloyExpr): string {
  switch (e.kind) {
    case 'string':
      return quote(e.value);
    case 'number':
      return String(e.value);
    case 'bool':
      return String(e.value);
    case 'null':
      return 'null';
    case 'ident':
      return e.name;
    case 'access':
      return `${printExpr(e.value)}.${e.name}`;
    case 'index':
      return `${printExpr(e.value)}[${printExpr(e.index)}]`;
    case 'call':
      return `${printExpr(e.fn)}(${e.args.map(printExpr).join(', ')})`;
    case 'array':
      return `[${e.elements.map(printExpr).join(', ')}]`;
    case 'object':
      return e.fields.length ? `{ ${e.fields.map((f) => `${IDENTIFIER.test(f.name) ? f.name : quote(f.name)} = ${printExpr(f.value)}`).join(', ')} }` : '{}';
    case 'unary':
      return `${e.op}${printExpr(e.value)}`;
    case 'paren':
      return `(${printExpr(e.inner)})`;
    case 'binary': {
      const side = (x: AlloyExpr, right: boolean) => {
        const inner = x.kind === 'binary' && (PRECEDENCE[x.op] < PRECEDENCE[e.op] || (right && PRECEDENCE[x.op] === PRECEDENCE[e.op]));
        return inner ? `(${printExpr(x)})` : printExpr(x);
      };
      return `${side(e.left, false)} ${e.op} ${side(e.right, true)}`;
    }
  }
}

function printBody(body: readonly AlloyStatement[], indent: string): string[] {
  const lines: string[] = [];
  let i = 0;
  while (i < body.length) {
    const stmt = body[i]!;
    if (stmt.kind === 'block') {
      lines.push(...printBlock(stmt, indent));
      i++;
      continue;
    }
    // A run of attributes, their "=" aligned as `alloy fmt` writes them.
    const run: AlloyAttribute[] = [];
    while (i < body.length && body[i]!.kind === 'attribute') run.push(body[i++] as AlloyAttribute);
    const width = Math.max(...run.map((a) => a.name.length));
    for (const a of run) lines.push(`${indent}${a.name.padEnd(width)} = ${printExpr(a.value)}`);
  }
  return lines;
}

function printBlock(block: AlloyBlock, indent: string): string[] {
  const head = `${indent}${block.name}${block.label === undefined ? '' : ` ${quote(block.label)}`} {`;
  return [head, ...printBody(block.body, `${indent}  `), `${indent}}`];
}

/** The file: comment lines, then the top-level blocks separated by blank lines. */
export function printAlloy(statements: readonly AlloyStatement[], comment: readonly string[]): string {
  const parts = statements.map((s) => (s.kind === 'block' ? printBlock(s, '') : printBody([s], '')).join('\n'));
  return `${comment.map((line) => `// ${line}`.trimEnd()).join('\n')}\n\n${parts.join('\n\n')}\n`;
}

// ---- Scanner ----------------------------------------------------------------------------------

type TokenKind = 'IDENT' | 'STRING' | 'NUMBER' | 'BOOL' | 'NULL' | 'TERMINATOR' | 'EOF' | 'ILLEGAL' | 'OP';
interface Token {
  readonly kind: TokenKind;
  /** For OP: the operator or punctuation itself; for literals: the source text. */
  readonly text: string;
  readonly line: number;
  readonly col: number;
  /** STRING: the unquoted value. */
  readonly value?: string;
}

/** Alloy's syntax errors, each with its position: the file does not load. */
export class AlloySyntaxError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`config.alloy does not parse:\n  ${problems.join('\n  ')}`);
    this.name = 'AlloySyntaxError';
  }
}

function unescape(raw: string, at: string, errors: string[]): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = raw[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
    if (next !== undefined && simple[next] !== undefined) {
      out += simple[next];
      continue;
    }
    const hex = (len: number) => {
      const digits = raw.slice(i + 1, i + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(digits)) {
        errors.push(`${at}: invalid escape sequence`);
        return '';
      }
      i += len;
      return String.fromCodePoint(parseInt(digits, 16));
    };
    if (next === 'x') out += hex(2);
    else if (next === 'u') out += hex(4);
    else if (next === 'U') out += hex(8);
    else if (next !== undefined && /[0-7]/.test(next) && /^[0-7]{3}$/.test(raw.slice(i, i + 3))) {
      out += String.fromCharCode(parseInt(raw.slice(i, i + 3), 8));
      i += 2;
    } else errors.push(`${at}: unknown escape sequence \\${next ?? ''}`);
  }
  return out;
}

function scan(src: string, errors: string[]): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  // Like Go: after an identifier, literal, ) ] or }, a newline ends the statement.
  let insertTerm = false;
  const push = (kind: TokenKind, text: string, startLine: number, startCol: number, value?: string) => {
    tokens.push({ kind, text, line: startLine, col: startCol, ...(value === undefined ? {} : { value }) });
    insertTerm =
      kind === 'IDENT' || kind === 'STRING' || kind === 'NUMBER' || kind === 'BOOL' || kind === 'NULL' || (kind === 'OP' && [')', ']', '}'].includes(text));
  };
  const pos = () => ({ l: line, c: i - lineStart + 1 });
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '\n') {
      if (insertTerm) {
        const p = pos();
        tokens.push({ kind: 'TERMINATOR', text: '\n', line: p.l, col: p.c });
        insertTerm = false;
      }
      i++;
      line++;
      lineStart = i;
      continue;
    }
    const p = pos();
    if (ch === '/' && (src[i + 1] === '/' || src[i + 1] === '*')) {
      if (src[i + 1] === '/') {
        while (i < src.length && src[i] !== '\n') i++;
      } else {
        const end = src.indexOf('*/', i + 2);
        if (end < 0) {
          errors.push(`${p.l}:${p.c}: comment not terminated`);
          i = src.length;
        } else {
          const text = src.slice(i, end + 2);
          const newlines = text.split('\n').length - 1;
          if (newlines && insertTerm) {
            tokens.push({ kind: 'TERMINATOR', text: '\n', line: p.l, col: p.c });
            insertTerm = false;
          }
          if (newlines) {
            line += newlines;
            lineStart = i + text.lastIndexOf('\n') + 1;
          }
          i = end + 2;
        }
      }
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      const word = src.slice(i, j);
      const kind: TokenKind = word === 'true' || word === 'false' ? 'BOOL' : word === 'null' ? 'NULL' : 'IDENT';
      push(kind, word, p.l, p.c);
      i = j;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?)/.exec(src.slice(i))!;
      push('NUMBER', m[0], p.l, p.c);
      i += m[0].length;
      continue;
    }
    if (ch === '"' || ch === '`') {
      let j = i + 1;
      let raw = '';
      let closed = false;
      while (j < src.length) {
        const c = src[j]!;
        if (c === ch) {
          closed = true;
          break;
        }
        if (c === '\n' && ch === '"') break;
        if (c === '\\' && ch === '"') {
          raw += c + (src[j + 1] ?? '');
          j += 2;
          continue;
        }
        raw += c;
        j++;
      }
      if (!closed) errors.push(`${p.l}:${p.c}: string literal not terminated`);
      const value = ch === '"' ? unescape(raw, `${p.l}:${p.c}`, errors) : raw;
      const text = src.slice(i, closed ? j + 1 : j);
      const newlines = text.split('\n').length - 1;
      push('STRING', text, p.l, p.c, value);
      if (newlines) {
        line += newlines;
        lineStart = i + text.lastIndexOf('\n') + 1;
      }
      i = closed ? j + 1 : j;
      continue;
    }
    if (ch === "'") {
      errors.push(`${p.l}:${p.c}: illegal single-quoted string; use double quotes`);
    }
    const two = src.slice(i, i + 2);
    if (['||', '&&', '==', '!=', '<=', '>='].includes(two)) {
      push('OP', two, p.l, p.c);
      i += 2;
      continue;
    }
    if ('!=<>+-*/%^{}()[],.'.includes(ch)) {
      push('OP', ch, p.l, p.c);
      i++;
      continue;
    }
    if (ch === '|' || ch === '&') errors.push(`${p.l}:${p.c}: missing second ${ch} in ${ch}${ch}`);
    else if (ch !== "'") errors.push(`${p.l}:${p.c}: illegal character ${JSON.stringify(ch)}`);
    push('ILLEGAL', ch, p.l, p.c);
    i++;
  }
  const p = pos();
  if (insertTerm) tokens.push({ kind: 'TERMINATOR', text: '\n', line: p.l, col: p.c });
  tokens.push({ kind: 'EOF', text: '', line: p.l, col: p.c });
  return tokens;
}

// ---- Parser -----------------------------------------------------------------------------------

/** The statements of a file in the Alloy syntax; an AlloySyntaxError lists every problem with its line and column. */
export function parseAlloy(src: string): AlloyStatement[] {
  const errors: string[] = [];
  const tokens = scan(src, errors);
  let k = 0;
  const tok = () => tokens[k]!;
  const is = (text: string) => tok().kind === 'OP' && tok().text === text;
  const describe = (t: Token) =>
    t.kind === 'OP' ? `"${t.text}"` : t.kind === 'TERMINATOR' ? 'end of line' : t.kind === 'EOF' ? 'end of file' : t.kind.toLowerCase();
  const error = (message: string) => errors.push(`${tok().line}:${tok().col}: ${message}`);
  const next = () => {
    if (tok().kind !== 'EOF') k++;
  };
  const expect = (text: string) => {
    if (!is(text)) error(`expected "${text}", got ${describe(tok())}`);
    next();
  };
  /** Skips to the end of the statement, past balanced brackets (the parser's recovery). */
  const consumeStatement = () => {
    let depth = 0;
    while (tok().kind !== 'EOF') {
      if (['{', '[', '('].some(is)) depth++;
      if (['}', ']', ')'].some(is)) depth--;
      if (tok().kind === 'TERMINATOR' && depth <= 0) return;
      next();
    }
  };

  /** Statements up to `until` (a closing brace, or 'EOF' for the file). */
  const parseBody = (until: string): AlloyStatement[] => {
    const body: AlloyStatement[] = [];
    const atEnd = () => (until === 'EOF' ? tok().kind === 'EOF' : is(until) || tok().kind === 'EOF');
    while (!atEnd()) {
      const stmt = parseStatement();
      if (stmt) body.push(stmt);
      if (atEnd()) break;
      if (tok().kind !== 'TERMINATOR') {
        error(`expected end of line, got ${describe(tok())}`);
        consumeStatement();
      }
      next();
    }
    return body;
  };

  const parseStatement = (): AlloyStatement | undefined => {
    if (tok().kind !== 'IDENT') {
      error(`expected identifier, got ${describe(tok())}`);
      while (tok().kind !== 'IDENT' && tok().kind !== 'EOF') next();
      return undefined;
    }
    const line = tok().line;
    const fragments = [tok().text];
    next();
    while (is('.')) {
      next();
      if (tok().kind !== 'IDENT') error(`expected identifier, got ${describe(tok())}`);
      fragments.push(tok().text);
      next();
    }
    let label: string | undefined;
    if (!is('=') && !is('{')) {
      if (tok().kind === 'STRING') {
        if (!tok().text.startsWith('"')) error(`expected block label to be a double quoted string, but got ${tok().text}`);
        label = tok().value ?? '';
        if (!IDENTIFIER.test(label)) error(`expected block label to be a valid identifier, but got "${label}"`);
      } else error(`expected block label, got ${describe(tok())}`);
      next();
    }
    if (is('=')) {
      next();
      if (fragments.length !== 1) error(`attribute names may only consist of a single identifier with no "." (${fragments.join('.')})`);
      if (label !== undefined) error('attribute names may not have labels');
      return { kind: 'attribute', name: fragments[0]!, value: parseExpression(), line };
    }
    if (is('{')) {
      next();
      const body = parseBody('}');
      expect('}');
      return { kind: 'block', name: fragments.join('.'), ...(label === undefined ? {} : { label }), body, line };
    }
    error(
      fragments.length === 1 && label === undefined
        ? `expected attribute assignment or block body, got ${describe(tok())}`
        : `expected block body, got ${describe(tok())}`,
    );
    consumeStatement();
    return undefined;
  };

  const BINARY: Record<string, number> = PRECEDENCE;
  const parseExpression = (): AlloyExpr => parseBinary(1);
  const parseBinary = (minPrec: number): AlloyExpr => {
    let left = parsePow();
    for (;;) {
      const t = tok();
      const prec = t.kind === 'OP' && t.text !== '^' ? BINARY[t.text] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      next();
      const right = parseBinary(prec + 1);
      left = { kind: 'binary', op: t.text as BinaryOp, left, right };
    }
  };
  const parsePow = (): AlloyExpr => {
    const left = parseUnary();
    if (is('^')) {
      next();
      return { kind: 'binary', op: '^', left, right: parsePow() };
    }
    return left;
  };
  const parseUnary = (): AlloyExpr => {
    if (is('!') || is('-')) {
      const op = tok().text as '!' | '-';
      next();
      return { kind: 'unary', op, value: parseUnary() };
    }
    let primary = parsePrimary();
    for (;;) {
      if (is('.')) {
        next();
        if (tok().kind !== 'IDENT') error(`expected identifier, got ${describe(tok())}`);
        primary = { kind: 'access', value: primary, name: tok().text };
        next();
      } else if (is('[')) {
        next();
        const index = parseExpression();
        expect(']');
        primary = { kind: 'index', value: primary, index };
      } else if (is('(')) {
        next();
        const args = is(')') ? [] : parseList(')');
        expect(')');
        primary = { kind: 'call', fn: primary, args };
      } else if (tok().kind === 'STRING' || is('{')) {
        error('cannot use a block as an expression');
        consumeStatement();
        return primary;
      } else return primary;
    }
  };
  const parseList = (until: string): AlloyExpr[] => {
    const items: AlloyExpr[] = [];
    while (!is(until) && tok().kind !== 'EOF') {
      items.push(parseExpression());
      if (is(until)) break;
      if (!is(',')) error(`missing ',' in expression list`);
      next();
    }
    return items;
  };
  const parsePrimary = (): AlloyExpr => {
    const t = tok();
    switch (t.kind) {
      case 'IDENT':
        next();
        return { kind: 'ident', name: t.text };
      case 'STRING':
        next();
        return { kind: 'string', value: t.value ?? '' };
      case 'NUMBER':
        next();
        return { kind: 'number', value: Number(t.text.replace(/_/g, '')) };
      case 'BOOL':
        next();
        return { kind: 'bool', value: t.text === 'true' };
      case 'NULL':
        next();
        return { kind: 'null' };
      default:
        break;
    }
    if (is('(')) {
      next();
      const inner = parseExpression();
      expect(')');
      return { kind: 'paren', inner };
    }
    if (is('[')) {
      next();
      const elements = is(']') ? [] : parseList(']');
      expect(']');
      return { kind: 'array', elements };
    }
    if (is('{')) {
      next();
      const fields: { name: string; value: AlloyExpr }[] = [];
      while (!is('}') && tok().kind !== 'EOF') {
        const name = tok();
        if (name.kind === 'IDENT' || name.kind === 'STRING') next();
        else error(`expected field name (string or identifier), got ${describe(name)}`);
        expect('=');
        fields.push({ name: name.kind === 'STRING' ? (name.value ?? '') : name.text, value: parseExpression() });
        if (is('}')) break;
        if (!is(',')) error(`missing ',' in field list`);
        next();
      }
      expect('}');
      return { kind: 'object', fields };
    }
    error(`expected expression, got ${describe(t)}`);
    while (tok().kind !== 'EOF' && tok().kind !== 'TERMINATOR' && ![')', '}', ']', ','].some(is)) next();
    return { kind: 'null' };
  };

  const file = parseBody('EOF');
  if (errors.length) throw new AlloySyntaxError(errors);
  return file;
}

// ---- Checker ----------------------------------------------------------------------------------

/** A file that parses but that Alloy would refuse to load: unknown components, arguments, references or wrong types. */
export class AlloyConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`config.alloy is not a valid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'AlloyConfigError';
  }
}

/** Functions of Alloy's standard library the checker knows: argument types and result type. */
const FUNCTIONS: Readonly<Record<string, { readonly args: readonly AlloyType[]; readonly returns: AlloyType }>> = {
  'sys.env': { args: ['string'], returns: 'string' },
  'string.split': { args: ['string', 'string'], returns: 'list(string)' },
  'string.join': { args: ['list(string)', 'string'], returns: 'string' },
  'string.to_lower': { args: ['string'], returns: 'string' },
  'string.to_upper': { args: ['string'], returns: 'string' },
  'string.trim_space': { args: ['string'], returns: 'string' },
};

/** `a.b.c` of an access chain of identifiers, or undefined for any other expression. */
function dotted(e: AlloyExpr): string | undefined {
  if (e.kind === 'ident') return e.name;
  if (e.kind === 'access') {
    const head = dotted(e.value);
    return head === undefined ? undefined : `${head}.${e.name}`;
  }
  return undefined;
}

/** Whether a value of type `actual` may be given where `expected` is wanted ('any' is an empty list or map, or null). */
function assignable(actual: string, expected: AlloyType): boolean {
  if (actual === expected || actual === 'any') return true;
  if ((expected === 'duration' || expected === 'secret') && actual === 'string') return true;
  const inner = (t: string, wrap: string) => (t.startsWith(`${wrap}(`) && t.endsWith(')') ? t.slice(wrap.length + 1, -1) : undefined);
  for (const wrap of ['list', 'map']) {
    const a = inner(actual, wrap);
    const e = inner(expected, wrap);
    if (a !== undefined && e !== undefined) return assignable(a, e as AlloyType);
  }
  return false;
}

/**
 * Checks parsed statements against the component specs: Alloy's own checks when it loads a file,
 * for the components the platform uses. Returns nothing; throws an AlloyConfigError listing every
 * problem with its line.
 */
export function checkAlloy(statements: readonly AlloyStatement[], components: Readonly<Record<string, ComponentSpec>>): void {
  const problems: string[] = [];
  const at = (s: AlloyStatement) => `line ${(s.line ?? 0).toString()}`;
  const declared = new Map<string, ComponentSpec>();
  for (const s of statements) {
    if (s.kind !== 'block') {
      problems.push(`${at(s)}: attribute "${s.name}" at the top level (only components may appear there)`);
      continue;
    }
    const spec = components[s.name];
    if (!spec) {
      problems.push(`${at(s)}: unknown component "${s.name}" (known here: ${Object.keys(components).join(', ')})`);
      continue;
    }
    if (s.label === undefined) {
      problems.push(`${at(s)}: component "${s.name}" must have a label`);
      continue;
    }
    const id = `${s.name}.${s.label}`;
    if (declared.has(id)) problems.push(`${at(s)}: component ${s.name} "${s.label}" declared twice`);
    declared.set(id, spec);
  }

  const typeOf = (e: AlloyExpr, where: string): string => {
    switch (e.kind) {
      case 'string':
        return 'string';
      case 'number':
        return 'number';
      case 'bool':
        return 'bool';
      case 'null':
        return 'any';
      case 'paren':
        return typeOf(e.inner, where);
      case 'unary':
        return e.op === '!' ? 'bool' : 'number';
      case 'binary': {
        const l = typeOf(e.left, where);
        const r = typeOf(e.right, where);
        if (['||', '&&', '==', '!=', '<', '<=', '>', '>='].includes(e.op)) return 'bool';
        if (e.op === '+' && l === 'string' && r === 'string') return 'string';
        if (l === 'number' && r === 'number') return 'number';
        problems.push(`${where}: "${e.op}" between ${l} and ${r}`);
        return 'any';
      }
      case 'array': {
        const types = [...new Set(e.elements.map((x) => typeOf(x, where)))];
        return types.length === 0 ? 'list(any)' : types.length === 1 ? `list(${types[0]!})` : 'list(mixed)';
      }
      case 'object': {
        const types = [...new Set(e.fields.map((f) => typeOf(f.value, where)))];
        return types.length === 0 ? 'map(any)' : types.length === 1 ? `map(${types[0]!})` : 'object';
      }
      case 'call': {
        const name = dotted(e.fn);
        const fn = name === undefined ? undefined : FUNCTIONS[name];
        if (!fn) {
          problems.push(`${where}: unknown function ${name ?? printExpr(e.fn)}`);
          return 'any';
        }
        if (e.args.length !== fn.args.length) problems.push(`${where}: ${name!} takes ${fn.args.length.toString()} arguments, got ${e.args.length.toString()}`);
        e.args.forEach((arg, i) => {
          const t = typeOf(arg, where);
          const want = fn.args[i];
          if (want && !assignable(t, want)) problems.push(`${where}: argument ${(i + 1).toString()} of ${name!} is ${t}, not ${want}`);
        });
        return fn.returns;
      }
      case 'ident':
      case 'access': {
        // <component name>.<label>.<export>
        const parts = dotted(e)?.split('.') ?? [];
        const spec = parts.length >= 3 ? declared.get(parts.slice(0, -1).join('.')) : undefined;
        if (!spec) {
          problems.push(`${where}: ${parts.join('.') || printExpr(e)} does not name an export of a component in this file`);
          return 'any';
        }
        const name = parts[parts.length - 1]!;
        const exported = spec.exports[name];
        if (!exported) {
          problems.push(
            `${where}: ${parts.slice(0, -2).join('.')} "${parts[parts.length - 2]!}" exports no "${name}" (it exports: ${Object.keys(spec.exports).join(', ')})`,
          );
          return 'any';
        }
        return exported;
      }
      case 'index':
        typeOf(e.value, where);
        return 'any';
    }
  };

  const checkBody = (body: readonly AlloyStatement[], spec: BlockSpec, where: string) => {
    const seen = new Map<string, number>();
    for (const s of body) {
      seen.set(s.name, (seen.get(s.name) ?? 0) + 1);
      if (s.kind === 'attribute') {
        const attr = spec.attributes[s.name];
        if (!attr) {
          problems.push(`${at(s)}: ${where} has no argument "${s.name}" (it has: ${Object.keys(spec.attributes).join(', ') || 'none'})`);
          continue;
        }
        const t = typeOf(s.value, `${at(s)}: ${where} > ${s.name}`);
        if (!assignable(t, attr.type)) problems.push(`${at(s)}: ${where} > ${s.name} must be ${attr.type}, got ${t}`);
      } else {
        const nested = spec.blocks?.[s.name];
        if (!nested || s.label !== undefined) {
          problems.push(
            `${at(s)}: ${where} has no block "${s.name}"${s.label === undefined ? '' : ` "${s.label}"`} (its blocks: ${Object.keys(spec.blocks ?? {}).join(', ') || 'none'})`,
          );
          continue;
        }
        checkBody(s.body, nested, `${where} > ${s.name}`);
      }
    }
    for (const [name, a] of Object.entries(spec.attributes)) if (a.required && !seen.has(name)) problems.push(`${where}: missing required argument "${name}"`);
    for (const [name, b] of Object.entries(spec.blocks ?? {})) {
      if (b.required && !seen.has(name)) problems.push(`${where}: missing required block "${name}"`);
      if (!b.repeated && (seen.get(name) ?? 0) > 1) problems.push(`${where}: block "${name}" may appear only once`);
    }
  };

  for (const s of statements) {
    if (s.kind !== 'block' || s.label === undefined) continue;
    const spec = components[s.name];
    if (spec) checkBody(s.body, spec, `${s.name} "${s.label}"`);
  }
  if (problems.length) throw new AlloyConfigError(problems);
}
