// Integration tests run real programs from Debian packages. When one is missing, its tests are
// reported as skipped with the command that installs it; under CI=true a missing program is a
// failure, so CI can never pass by skipping.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

/** Something a test needs from the machine. */
export interface Requirement {
  /** What is missing, as a person would say it ("pg_prove", "pgTAP for PostgreSQL 15"). */
  readonly what: string;
  readonly debianPackage: string;
  readonly present: () => boolean;
}

/** A program on the PATH (or an absolute path to one). */
export function program(command: string, debianPackage: string): Requirement {
  return { what: command, debianPackage, present: () => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0 };
}

/** A file a package installs. */
export function packageFile(path: string, what: string, debianPackage: string): Requirement {
  return { what, debianPackage, present: () => existsSync(path) };
}

/** `describe` whose tests need every requirement; see the file comment for what happens without. */
export function describeNeeding(requirements: readonly Requirement[], name: string, body: () => void): void {
  const missing = requirements.filter((r) => !r.present());
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const packages = [...new Set(missing.map((r) => r.debianPackage))].join(' ');
  const install = `apt-get update && apt-get install -y ${packages}`;
  const what = missing.map((r) => r.what).join(', ');
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(`needs ${what}`, () => {
        throw new Error(`${what} not installed and CI=true: .ci/run must install it (${install})`);
      });
    });
    return;
  }
  console.warn(`SKIPPED "${name}": ${what} not installed. Install with: ${install}`);
  describe.skip(`${name} (skipped: ${what} missing; ${install})`, body);
}
