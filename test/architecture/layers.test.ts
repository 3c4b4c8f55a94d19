// The layering of docs/ARCHITECTURE.md, enforced: dependency-cruiser checks every import of
// src/ against .dependency-cruiser.cjs (core ← builtins ← formats/load/output ← faces ← server
// ← cli; nothing imports cli; the core uses no Node module), and the browser playground's bundle
// (every module its import graph reaches, host seams swapped by src/playground/substitutes.ts)
// imports no Node module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import { builtinModules } from "node:module";
import { browserGraph } from "../../scripts/browser-bundle.ts";
import { BROWSER_GLOBALS, BROWSER_SUBSTITUTES } from "../../src/playground/substitutes.ts";

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

test("the browser bundle's import graph imports no Node module (with the host seams substituted)", async () => {
  const inputs = await browserGraph(ROOT);
  const files = Object.keys(inputs);
  // The graph holds the engine, the input parsers, conftest's and Gatekeeper's evaluation.
  for (const f of ["src/rego/engine.ts", "src/builtins/strings.ts", "src/formats/content.ts", "src/conftest/evaluate.ts", "src/gatekeeper/gator.ts", "src/check/compile.ts"]) assert.ok(files.includes(f), `${f} is in the browser bundle`);
  // The substituted modules are not.
  for (const from of Object.keys(BROWSER_SUBSTITUTES)) assert.ok(!files.includes(from), `${from} is replaced in the browser bundle`);
  // With platform "browser" an import of a Node module that is used fails the build; one only
  // used as a type is listed (as external) and refused here too.
  const node = new Set(builtinModules);
  for (const [file, info] of Object.entries(inputs)) {
    for (const imp of info.imports) assert.ok(!imp.path.startsWith("node:") && !node.has(imp.path), `${file} imports ${imp.path}`);
  }
  // The globals a browser lacks are the injected ones.
  assert.ok(files.includes(BROWSER_GLOBALS), "Buffer and process come from the injected globals");
  assert.ok(files.length > 100, `expected the engine's modules, got ${files.length}`);
});

test("the browser check rejects a module that imports a Node module", async () => {
  const fixture = resolve(ROOT, "test", "architecture", "fixture", "src", "playground", "uses-fs.ts");
  await assert.rejects(browserGraph(ROOT, { bad: fixture }), /node:fs/);
});
