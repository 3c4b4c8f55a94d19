// Checks OPA's compiler always makes (not only in strict mode) that the closure compiler leaves
// to src/rego/strict.ts: the Engine (so eval, verify, test and Gatekeeper) must refuse these
// modules as `opa eval` 1.19.0 does, with the earliest compile stage's error. Answers recorded
// from `opa eval -d m.rego data.p -f pretty` (they run without OPA).
import test from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";

function compileError(source: string): string {
  const e = new Engine();
  e.addModules([{ file: "m.rego", source }]);
  try {
    e.compile();
  } catch (x) {
    if (x instanceof RegoError) return x.errors.map((d) => `${d.location?.file}:${d.location?.row}: ${d.code}: ${d.message}`).join("\n");
    throw x;
  }
  return "compiled";
}

const CASES: [string, string, string][] = [
  ["an unused `some` declaration", "package p\nr if { some x; true }\n", "m.rego:2: rego_compile_error: declared var x unused"],
  ["`:=` after the variable was used", "package p\nr if { x == 1; x := 1 }\n", "m.rego:2: rego_compile_error: var x referenced above"],
  ["`:=` twice", "package p\nr if { x := 1; x := 2 }\n", "m.rego:2: rego_compile_error: var x assigned above"],
  ["a function argument redeclared", "package p\nf(x) if { x := 1 }\n", "m.rego:2: rego_compile_error: arg x redeclared"],
  ["`:=` inside `not`", "package p\nr if { not x := 1 }\n", "m.rego:2: rego_compile_error: cannot assign vars inside negated expression"],
  ["two default rules", "package p\nr := 1 if { true }\nr := 2 if { true }\ndefault r := 1\ndefault r := 2\n", "m.rego:1: rego_type_error: multiple default rules data.p.r found at m.rego:4, m.rego:5"],
  ["`with` on an unknown target", "package p\nr if { true with foo as 1 }\n", "m.rego:2: rego_type_error: with keyword target must reference existing input, data, or a function"],
  ["a deprecated builtin (v1)", "package p\nr if { any([true]) }\n", "m.rego:2: rego_type_error: deprecated built-in function calls in expression: any"],
  ["an import twice", "package p\nimport rego.v1\nimport rego.v1\nr := 1\n", "m.rego:3: rego_compile_error: import must not shadow import rego.v1"],
  ["a valid module still compiles", "package p\nr if { some x in [1]; x == 1 }\nf(x) := y if { y := x + 1 }\n", "compiled"],
];

for (const [name, source, want] of CASES) {
  test(`compile checks: ${name}`, () => assert.equal(compileError(source), want));
}

test("compile checks: an imported function named like a deprecated builtin is not the builtin", () => {
  // opa eval -d . data.a: {"r": true}
  const e = new Engine();
  e.addModules([
    { file: "a.rego", source: "package a\nimport data.lib.all\nr if { all([1]) }\n" },
    { file: "b.rego", source: "package lib\nall(x) := true\n" },
  ]);
  const rs = e.query("x = data.a.r") as { bindings: Record<string, unknown> }[];
  assert.deepEqual(rs.map((r) => r.bindings), [{ x: true }]);
});

test("a long union chain whose first union returns a rule's own set leaves that set unchanged", () => {
  // opa eval: y = 102, x = [1, 2] (a union that returned `s` itself must not be extended in place)
  const chain = "(s | e)" + Array.from({ length: 100 }, (_, i) => ` | {${100 + i}}`).join("");
  const e = new Engine();
  e.addModule("u.rego", `package p\ns := {1, 2} if input.x\ne := set() if input.x\nt := ${chain}\n`);
  const rs = e.query("y = count(data.p.t); x = data.p.s", { input: { x: true } }) as { bindings: Record<string, unknown> }[];
  assert.deepEqual(rs.map((r) => r.bindings), [{ y: 102, x: [1, 2] }]);
});
