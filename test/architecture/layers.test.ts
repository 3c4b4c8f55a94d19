// The layering of docs/ARCHITECTURE.md, enforced: dependency-cruiser checks every import of
// src/ against .dependency-cruiser.cjs (core ← builtins ← formats/load/output ← faces ← server
// ← cli; nothing imports cli; the core uses no Node module).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CRUISE = join(ROOT, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");

function cruise(cwd: string): { code: number; out: string } {
  try {
    const out = execFileSync(process.execPath, [CRUISE, "src", "--config", join(ROOT, ".dependency-cruiser.cjs"), "--output-type", "err"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: `${err.stdout}${err.stderr}` };
  }
}

test("every import in src/ points down the layers (dependency-cruiser)", () => {
  const r = cruise(ROOT);
  assert.equal(r.code, 0, r.out);
  const m = /(\d+) modules, (\d+) dependencies cruised/.exec(r.out);
  assert.ok(m && Number(m[1]) > 100, `expected the whole source tree to be cruised:\n${r.out}`);
});

test("the check rejects a wrong-way import (core importing the CLI)", () => {
  const r = cruise(join(ROOT, "test", "architecture", "fixture"));
  assert.notEqual(r.code, 0);
  assert.match(r.out, /nothing-imports-cli: src\/rego\/bad\.ts → src\/cli\/top\.ts/);
  assert.match(r.out, /core-imports-upward: src\/rego\/bad\.ts → src\/cli\/top\.ts/);
});

test("the check rejects the server importing the CLI, and a face importing the server", () => {
  const r = cruise(join(ROOT, "test", "architecture", "fixture"));
  assert.notEqual(r.code, 0);
  assert.match(r.out, /server-imports-upward: src\/server\/bad\.ts → src\/cli\/top\.ts/);
  assert.match(r.out, /faces-imports-upward: src\/gatekeeper\/up\.ts → src\/server\/bad\.ts/);
});
