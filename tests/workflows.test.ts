// The GitHub workflows shipped for users of the repository: no runner here can execute them, so
// they are checked for shape (triggers, jobs, steps), for least privilege, and for every action
// pinned to a full commit SHA (tags can be moved; a SHA cannot).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './helpers';

const DIR = join(ROOT, '.github/workflows');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));

interface Step {
  uses?: string;
  run?: string;
  name?: string;
}
interface Workflow {
  on?: unknown;
  permissions?: unknown;
  jobs?: Record<string, { 'runs-on'?: string; uses?: string; steps?: Step[]; 'timeout-minutes'?: number }>;
}

describe('workflows', () => {
  it('exist', () => {
    expect(files).toContain('ci.yml');
  });

  describe.each(files)('%s', (file) => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const wf = parse(text) as Workflow;

    it('has triggers, least-privilege permissions and jobs', () => {
      expect(wf.on).toBeDefined();
      expect(wf.permissions).toBeDefined();
      expect(Object.keys(wf.jobs ?? {}).length).toBeGreaterThan(0);
    });

    it('gives every job a runner or a reusable workflow, steps that do something, and a time limit', () => {
      for (const [name, job] of Object.entries(wf.jobs ?? {})) {
        if (job.uses) continue;
        expect(job['runs-on'], name).toBeTruthy();
        expect(job['timeout-minutes'], name).toBeGreaterThan(0);
        for (const step of job.steps ?? []) expect(Boolean(step.uses) !== Boolean(step.run), `${name}: ${step.name ?? step.uses ?? step.run}`).toBe(true);
      }
    });

    it('pins every action to a full commit SHA', () => {
      const uses = [...text.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)/gm)].map((m) => m[1]!);
      expect(uses.length).toBeGreaterThan(0);
      for (const ref of uses.filter((u) => !u.startsWith('./'))) expect(ref, ref).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
    });
  });
});
