// `npm run import`: regenerates imports/ (the typed cdk8s classes) and imports/crd-schemas.json
// (the CRDs' OpenAPI schemas, which the policy tests validate against) from the upstream CRD files
// that cdk8s.yaml lists under `imports`, as `cdk8s import` reads them
// (https://cdk8s.io/docs/latest/cli/import/): each entry is NAME:=URL, and NAME keeps CRDs of one
// API group from overwriting each other's module.
//
//   npm run import                   fetch every URL of cdk8s.yaml
//   npm run import -- --save DIR     ... and keep the files under DIR for later offline runs
//   npm run import -- --from DIR     read the same files from DIR instead of the network
//
// DIR holds each file at its URL's host and path (DIR/raw.githubusercontent.com/argoproj/...),
// the layout `--save` writes and `wget --force-directories` makes. Every file is fetched and
// checked to be a CustomResourceDefinition, and the classes are generated into a scratch folder,
// before imports/ is replaced: a failed download leaves imports/ as it was.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { extractSchemas } from './extract-crd-schemas';

export interface ImportSpec {
  /** The module name: imports/<name>-<group>.ts. */
  readonly name: string;
  readonly url: string;
}

/** The NAME:=URL entries of a cdk8s.yaml. */
export function readImports(cdk8sYaml: string): ImportSpec[] {
  const config = parse(cdk8sYaml) as { imports?: unknown } | null;
  if (!Array.isArray(config?.imports) || config.imports.length === 0) throw new Error('cdk8s.yaml lists no imports');
  return config.imports.map((entry: unknown) => {
    const text = String(entry);
    const at = text.indexOf(':=');
    const name = at > 0 ? text.slice(0, at) : '';
    const url = text.slice(at + 2);
    if (!name || !/^https?:\/\//.test(url)) throw new Error(`cdk8s.yaml: import "${text}" is not NAME:=URL (https://...)`);
    return { name, url };
  });
}

/** Where a URL's file sits under a --from or --save folder: its host and path. */
export function mirrorPath(url: string): string {
  const { host, pathname } = new URL(url);
  return join(host, ...pathname.split('/').filter(Boolean).map(decodeURIComponent));
}

/** Throws unless `text` holds a CustomResourceDefinition. */
function checkCrd(text: string, where: string): void {
  const kinds = parseAllDocuments(text).map((d) => (d.toJS() as { kind?: unknown } | null)?.kind);
  if (!kinds.includes('CustomResourceDefinition'))
    throw new Error(`${where} is not a CustomResourceDefinition (kinds: ${kinds.map(String).join(', ') || 'none'})`);
}

export interface ImportOptions {
  /** The cdk8s.yaml to read the imports from. */
  readonly config: string;
  /** The folder to replace: imports/. */
  readonly out: string;
  /** Read the files from this folder instead of fetching them. */
  readonly from?: string;
  /** Also write the fetched files under this folder, for a later --from. */
  readonly save?: string;
  readonly fetch?: typeof fetch;
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /** The cdk8s CLI. @default node_modules/.bin/cdk8s of this repository */
  readonly cdk8s?: string;
}

/** The text of every CRD file, from the network or a --from folder; throws naming the first that fails. */
export async function readCrds(specs: readonly ImportSpec[], options: Pick<ImportOptions, 'from' | 'fetch'>): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const spec of specs) {
    let text: string;
    if (options.from) {
      const path = join(options.from, mirrorPath(spec.url));
      if (!existsSync(path)) throw new Error(`--from ${options.from}: no file ${path} for ${spec.name} (${spec.url})`);
      text = readFileSync(path, 'utf8');
    } else {
      let response: Response;
      try {
        response = await (options.fetch ?? fetch)(spec.url);
      } catch (error) {
        const cause = (error as { cause?: { message?: string } }).cause?.message;
        throw new Error(`cannot fetch ${spec.url} (${spec.name}): ${cause ?? (error as Error).message}; with the files at hand, use --from DIR`);
      }
      if (!response.ok) throw new Error(`cannot fetch ${spec.url} (${spec.name}): HTTP ${response.status}`);
      text = await response.text();
    }
    checkCrd(text, `${spec.url} (${spec.name})`);
    texts.set(spec.name, text);
  }
  return texts;
}

/** Regenerates `out` from the CRDs cdk8s.yaml lists; returns the files written. */
export async function importCrds(options: ImportOptions): Promise<string[]> {
  const log = options.log ?? (() => undefined);
  const specs = readImports(readFileSync(options.config, 'utf8'));
  const texts = await readCrds(specs, options);
  if (options.save) {
    for (const spec of specs) {
      const path = join(options.save, mirrorPath(spec.url));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, texts.get(spec.name)!);
    }
    log(`saved ${specs.length} CRD files under ${options.save}`);
  }
  // Generated beside `out` (same file system, so the final rename is atomic), then swapped in.
  const parent = dirname(resolve(options.out));
  mkdirSync(parent, { recursive: true });
  const scratch = mkdtempSync(join(parent, '.import-'));
  try {
    const crds = join(scratch, 'crds');
    const generated = join(scratch, 'imports');
    mkdirSync(crds);
    const files = specs.map((spec) => {
      const file = join(crds, `${spec.name}.yaml`);
      writeFileSync(file, texts.get(spec.name)!);
      return file;
    });
    const cdk8s = options.cdk8s ?? join(__dirname, '..', 'node_modules', '.bin', 'cdk8s');
    for (const [i, spec] of specs.entries()) {
      const run = spawnSync(
        cdk8s,
        ['import', `${spec.name}:=${files[i]}`, '--language', 'typescript', '--output', generated, '--save', 'false', '--check-upgrade', 'false'],
        {
          cwd: scratch,
          encoding: 'utf8',
        },
      );
      if (run.status !== 0) throw new Error(`cdk8s import ${spec.name} failed: ${(run.stderr || run.stdout || String(run.error)).trim().split('\n')[0]}`);
      log(`${spec.name}: ${spec.url}`);
    }
    writeFileSync(join(generated, 'crd-schemas.json'), `${JSON.stringify(extractSchemas(files))}\n`);
    rmSync(options.out, { recursive: true, force: true });
    renameSync(generated, options.out);
    return specs.map((s) => s.name);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function cli(argv: string[]): Promise<number> {
  const root = resolve(__dirname, '..');
  let values: { from?: string; save?: string; config?: string; out?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { from: { type: 'string' }, save: { type: 'string' }, config: { type: 'string' }, out: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    console.error(`error: ${(error as Error).message.split('\n')[0]} (usage: npm run import [-- --from DIR | --save DIR])`);
    return 2;
  }
  if (values.from && values.save) {
    console.error('error: --from reads saved files and --save writes them: use one');
    return 2;
  }
  const out = resolve(values.out ?? join(root, 'imports'));
  try {
    const names = await importCrds({
      config: resolve(values.config ?? join(root, 'cdk8s.yaml')),
      out,
      ...(values.from ? { from: resolve(values.from) } : {}),
      ...(values.save ? { save: resolve(values.save) } : {}),
      log: (line) => console.log(line),
    });
    console.log(`${out} regenerated from ${names.length} CRDs${values.from ? ` in ${values.from}` : ''}`);
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}; ${out} is unchanged`);
    return 1;
  }
}

if (require.main === module) void cli(process.argv.slice(2)).then((code) => (process.exitCode = code));
