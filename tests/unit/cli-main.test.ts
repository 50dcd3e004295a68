// The entry point: --help names every command and its options; wrong usage and cluster errors
// are one line each (no stack trace), with exit code 2 for usage and 1 for the rest.
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/index';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (l) => err.push(l) });
  return { code, out: out.join(''), err };
}

describe('cli entry point', () => {
  it('lists every command with its options in --help, also as <command> --help', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    for (const command of ['apply', 'status', 'secrets', 'promote', 'restore']) {
      expect(out).toMatch(new RegExp(`^  ${command} {2,}\\S`, 'm'));
      expect(out).toContain(`Options for ${command}`);
    }
    expect(out).toMatch(/^ {2}record-release\n {12}\S/m);
    expect(out).toContain('Options for record-release');
    for (const option of ['--dry-run', '--prune', '--layer NAME', '--context NAME', '--rotate', '--component NAME', '--store NAME', '--rollback', '--object FILE']) expect(out).toContain(option);
    expect((await run(['apply', '--help'])).out).toBe(out);
    expect((await run([])).code).toBe(2);
  });

  it('refuses an unknown command or option in one line with exit code 2', async () => {
    expect(await run(['deploy'])).toEqual({ code: 2, out: '', err: ['error: unknown command "deploy": use one of apply, status, secrets, promote, record-release, restore, loadtest (see --help)'] });
    expect(await run(['status', '--env', 'dev', '--all'])).toEqual({ code: 2, out: '', err: ["error: Unknown option '--all' (see --help)"] });
    expect(await run(['apply'])).toEqual({ code: 2, out: '', err: ['error: --env must be one of dev, staging, production'] });
    expect(await run(['toString'])).toMatchObject({ code: 2 });
  });

  it('reports an unreadable kubeconfig in one line with exit code 1', async () => {
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = '/nonexistent/kubeconfig';
    try {
      const { code, err } = await run(['status', '--env', 'dev']);
      expect(code).toBe(1);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(/^error: cannot read the kubeconfig \/nonexistent\/kubeconfig: ENOENT/);
    } finally {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    }
  });
});
