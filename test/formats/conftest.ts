/** Locate and run a real conftest binary (the oracle), if this machine has one. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
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

export type ConftestResult = { ok: true; value: unknown; text: string } | { ok: false; error: string };

/**
 * What conftest hands a policy as `input` for one file: `conftest parse`
 * output, except for textproto, which needs `conftest test --proto-file-dirs`
 * (parse has no such flag): a policy then reports json.marshal(input).
 */
export function conftestInput(bin: string, format: string, path: string, protoDir?: string): ConftestResult {
  if (format !== 'textproto') {
    const r = spawnSync(bin, ['parse', '--parser', format, path], { encoding: 'utf8' });
    if (r.status !== 0) return { ok: false, error: (r.stderr || r.stdout).trim() };
    return { ok: true, value: JSON.parse(r.stdout), text: r.stdout };
  }
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-policy-'));
  try {
    writeFileSync(join(dir, 'p.rego'), 'package main\nimport rego.v1\ndeny contains msg if { msg := json.marshal(input) }\n');
    const args = ['test', '--parser', format, '-p', dir, '-o', 'json', path];
    if (protoDir) args.splice(1, 0, '--proto-file-dirs', protoDir);
    const r = spawnSync(bin, args, { encoding: 'utf8' });
    try {
      const out = JSON.parse(r.stdout) as { failures?: { msg: string }[] }[];
      const value = JSON.parse(out[0]!.failures![0]!.msg);
      return { ok: true, value, text: JSON.stringify(value, null, 2) + '\n' };
    } catch {
      return { ok: false, error: (r.stderr || r.stdout).trim() };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
