/** Locate a real conftest binary (the oracle), if this machine has one. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, delimiter } from 'node:path';

export function findConftest(): string | undefined {
  if (process.env.CONFTEST_BIN && existsSync(process.env.CONFTEST_BIN)) return process.env.CONFTEST_BIN;
  const home = join(homedir(), 'go', 'bin', 'conftest');
  if (existsSync(home)) return home;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'conftest'))) return join(dir, 'conftest');
  }
  return undefined;
}
