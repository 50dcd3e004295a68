// Integration tests run real programs from Debian packages. When one is missing, its tests are
// reported as skipped with the command that installs it; under CI=true a missing program is a
// failure, so CI can never pass by skipping.
import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

export function hasTool(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** `describe` that needs `command` (installed by `apt-get install -y <debianPackage>`). */
export function describeWithTool(command: string, debianPackage: string, name: string, body: () => void): void {
  if (hasTool(command)) {
    describe(name, body);
    return;
  }
  const install = `apt-get update && apt-get install -y ${debianPackage}`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(`needs ${command}`, () => {
        throw new Error(`${command} is not installed and CI=true: .ci/run must install it (${install})`);
      });
    });
    return;
  }
  console.warn(`SKIPPED "${name}": ${command} is not installed. Install it with: ${install}`);
  describe.skip(`${name} (skipped: ${command} missing; ${install})`, body);
}
