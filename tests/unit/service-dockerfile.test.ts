// service/Dockerfile, read as text (no Docker here): every base image pinned by digest with
// its source named, multi-stage, the three component targets on a distroless runtime (no shell,
// so no RUN and no shell-form commands there), a numeric non-root user, nothing written at run
// time (the pods' root file system is read-only), and exec-form entry points that run the
// component's compiled entry file.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../service/src/config';
import { ROOT } from '../helpers';

const SERVICE = join(ROOT, 'service');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** Comment lines right above it. */
  readonly comments: string[];
}
interface Stage {
  readonly name: string;
  readonly base: string;
  readonly from: Instruction;
  readonly instructions: Instruction[];
}

/** Instructions, continuation lines joined, comments attached to the instruction below them. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let comments: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (/^\s*#/.test(line)) {
      comments.push(line.replace(/^\s*#\s?/, ''));
      continue;
    }
    if (line.trim() === '') {
      comments = [];
      continue;
    }
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not an instruction: ${line}`);
    const ins: Instruction = { keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), comments };
    comments = [];
    if (ins.keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!from) throw new Error(`FROM ${ins.args}: cannot read`);
      stages.push({ name: from[2] ?? `#${stages.length}`, base: from[1]!, from: ins, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`${ins.keyword} before the first FROM`);
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return stages;
}

const text = readFileSync(join(SERVICE, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(text);
const byName = new Map(stages.map((s) => [s.name, s]));
/** The stage and the stages it is built on, nearest first. */
const lineage = (stage: Stage): Stage[] => {
  const parent = byName.get(stage.base);
  return parent ? [stage, ...lineage(parent)] : [stage];
};
const external = (stage: Stage) => lineage(stage).at(-1)!;
const DIGEST = /^[a-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)*(?::[\w.-]+)?@sha256:[0-9a-f]{64}$|^[a-z0-9._-]+(?::[\w.-]+)?@sha256:[0-9a-f]{64}$/;

describe('service/Dockerfile', () => {
  it('is multi-stage, with a target per component', () => {
    expect(stages.length).toBeGreaterThan(COMPONENTS.length);
    for (const c of COMPONENTS) expect(byName.has(c), c).toBe(true);
  });

  it('pins every base image by digest and names where the digest comes from', () => {
    for (const s of stages.filter((st) => !byName.has(st.base))) {
      expect(s.base, s.from.args).toMatch(DIGEST);
      // The first pin of an image cites a public source for its digest.
      const first = stages.find((st) => st.base === s.base)!;
      expect(first.from.comments.join('\n'), `FROM ${s.base}`).toMatch(/https:\/\//);
    }
  });

  it('uses Node.js 20 in every stage, as service/package.json requires', () => {
    const engines = (JSON.parse(readFileSync(join(SERVICE, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(/^>=20\.\d+ <21$/);
    for (const s of stages.filter((st) => !byName.has(st.base))) expect(s.base).toMatch(/node(js)?:?20\b|nodejs20-/);
  });

  describe.each(COMPONENTS)('target %s', (component) => {
    const stage = byName.get(component)!;
    const chain = lineage(stage);
    const runtime = chain.flatMap((s) => s.instructions);
    const last = (keyword: string) => runtime.find((i) => i.keyword === keyword);

    it('runs on a distroless base: no shell, so no RUN and no shell-form command', () => {
      expect(external(stage).base).toMatch(/^gcr\.io\/distroless\/nodejs\d+-debian\d+@/);
      expect(runtime.filter((i) => i.keyword === 'RUN').map((i) => i.args)).toEqual([]);
      for (const i of runtime.filter((x) => ['CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'SHELL'].includes(x.keyword)))
        expect(i.keyword === 'SHELL' ? 'SHELL' : i.args, i.keyword).toMatch(/^\[/);
    });

    it('runs as a numeric non-root user and group', () => {
      const user = last('USER');
      expect(user, 'USER').toBeDefined();
      const m = /^(\d+):(\d+)$/.exec(user!.args);
      expect(m, `USER ${user!.args}`).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(Number(m![2])).toBeGreaterThan(0);
    });

    it('writes nothing at run time outside /tmp (the root file system is read-only)', () => {
      expect(runtime.filter((i) => i.keyword === 'VOLUME')).toEqual([]);
      // Copied files belong to root, so the process cannot change its own code.
      expect(runtime.filter((i) => i.keyword === 'COPY' && /--chown|--chmod/.test(i.args)).map((i) => i.args)).toEqual([]);
      for (const env of runtime.filter((i) => i.keyword === 'ENV')) {
        for (const path of env.args.match(/\/[\w./-]+/g) ?? []) expect(path, `ENV ${env.args}`).toMatch(/^\/tmp(\/|$)/);
      }
    });

    it('starts node in exec form on the compiled entry point of the component', () => {
      const entrypoint = last('ENTRYPOINT');
      expect(entrypoint, 'ENTRYPOINT').toBeDefined();
      const argv = JSON.parse(entrypoint!.args) as string[];
      expect(argv[0]).toBe('/nodejs/bin/node');
      expect(argv.at(-1)).toBe(`dist/${component}.js`);
      expect(existsSync(join(SERVICE, 'src', `${component}.ts`))).toBe(true);
      expect(runtime.find((i) => i.keyword === 'WORKDIR')?.args).toBe('/app');
      expect(runtime.some((i) => i.keyword === 'COPY' && /\/dist\s+\.\/dist$/.test(i.args))).toBe(true);
    });
  });

  it('keeps the build context to what the image needs (.dockerignore)', () => {
    const ignore = readFileSync(join(SERVICE, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    expect(ignore.filter((l) => l.startsWith('!')).sort()).toEqual(['!package-lock.json', '!package.json', '!src/', '!tsconfig.json']);
  });

  describe('the parser', () => {
    it('finds a shell-form entry point, a RUN in a distroless stage, and a root user', () => {
      const bad = parseDockerfile(
        'FROM gcr.io/distroless/nodejs20-debian12@sha256:' + 'a'.repeat(64) + ' AS api\nRUN echo hi\nUSER 0:0\nENTRYPOINT node dist/api.js\n',
      );
      expect(bad[0]!.instructions.map((i) => i.keyword)).toEqual(['RUN', 'USER', 'ENTRYPOINT']);
      expect(bad[0]!.instructions[2]!.args).not.toMatch(/^\[/);
      expect('node:20-bookworm-slim').not.toMatch(DIGEST);
    });
  });
});
