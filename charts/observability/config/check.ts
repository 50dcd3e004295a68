// What the four configuration modules of this folder share: checking a value against its schema
// with messages that name the file and the path of the offending key, and writing and reading the
// YAML files (Loki, Tempo, the OpenTelemetry Collector).
//
// None of the four programs has a parser or validator that can be installed here: Debian bookworm
// packages none of Loki, Tempo, Grafana Alloy or the OpenTelemetry Collector ("apt-cache search"
// finds only unrelated packages of those names), and npm has no Alloy parser ("tree-sitter-alloy",
// "tree-sitter-river" and "@grafana/alloy" are not published). So each file is built from typed
// objects whose schemas mirror the upstream configuration reference at the pinned version, the
// rendered text is parsed back and checked at synth, and the tests break each file on purpose to
// show that the check catches it (tests/unit/observability-configs.test.ts).
import { parseDocument, stringify } from 'yaml';
import type { z } from 'zod';

/** A configuration file that failed its check; the message names the file and every problem. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file} is not a valid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** `value` as `schema` reads it, or a ConfigError listing each problem at its path ("limits_config.retention_period: ..."). */
export function checked<S extends z.ZodType>(schema: S, value: unknown, file: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(
    file,
    result.error.issues.map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(top level)'}: ${issue.message}`),
  );
}

/**
 * YAML as the Go programs read it. The 1.1 schema quotes every string that YAML 1.1 (Go's
 * yaml.v2, which Loki and Tempo use) would read as something else: a date such as 2025-01-01, or
 * on/off/yes/no.
 */
const YAML_OPTIONS = { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false } as const;

/** A YAML file: the comment lines, then the checked value. */
export function renderYaml<S extends z.ZodType>(schema: S, value: z.input<S>, file: string, comment: readonly string[]): string {
  const valid = checked(schema, value, file);
  return `${comment.map((line) => `# ${line}`.trimEnd()).join('\n')}\n${stringify(valid, YAML_OPTIONS)}`;
}

/**
 * Reads a YAML file back and checks it: a syntax error, a duplicate key or a key the schema does
 * not know is a ConfigError naming the line or the path.
 */
export function parseYamlConfig<S extends z.ZodType>(schema: S, text: string, file: string): z.output<S> {
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings].map((e) => `line ${(e.linePos?.[0].line ?? 0).toString()}: ${e.message.split('\n')[0]!}`);
  if (problems.length) throw new ConfigError(file, problems);
  return checked(schema, doc.toJS(), file);
}

/** A string with `${NAME}` (Loki and Tempo, -config.expand-env=true) or `${env:NAME}` (the Collector) references filled from `env`; a reference to a variable `env` lacks is an error. */
export function expandEnv(text: string, env: Readonly<Record<string, string>>, file: string): string {
  const missing = new Set<string>();
  const out = text.replace(/\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}/g, (_all, name: string) => {
    const value = env[name];
    if (value === undefined) missing.add(name);
    return value ?? '';
  });
  if (missing.size)
    throw new ConfigError(
      file,
      [...missing].map((name) => `\${${name}} is not set in the container's environment`),
    );
  return out;
}
