// The Engine API and its error reporting (codes and locations as OPA gives them).
import test from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";

function err(fn: () => unknown): RegoError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RegoError) return e;
    throw e;
  }
  assert.fail("expected a RegoError");
}

/** A fresh engine with one module, compiled (compile errors are thrown by compile()). */
function compiled(file: string, src: string): Engine {
  const e = new Engine();
  e.addModule(file, src);
  e.compile();
  return e;
}

test("query returns OPA's result set shape", () => {
  const e = new Engine();
  e.addModule("p.rego", "package example\nallow if input.user == \"alice\"\n");
  const rs = e.query("data.example.allow = x", { input: { user: "alice" } });
  assert.deepEqual(rs, [{ expressions: [{ value: true, text: "data.example.allow = x", location: { row: 1, col: 1 } }], bindings: { x: true } }]);
  assert.deepEqual(e.query("data.example.allow = x", { input: { user: "bob" } }), []);
});

test("sets come out as sorted arrays, objects with sorted keys; big integers stay exact in raw results", () => {
  const e = new Engine();
  e.addModule("p.rego", "package t\ns := {3, 1, 2}\nbig := 12345678901234567890 * 10\n");
  assert.deepEqual((e.query("x := data.t.s") as { bindings: Record<string, unknown> }[])[0].bindings.x, [1, 2, 3]);
  const raw = e.queryRaw("x := data.t.big") as { bindings: Map<string, unknown> }[];
  assert.equal(raw[0].bindings.get("x"), 123456789012345678900n);
});

test("parse errors name file:row:col", () => {
  const e = new Engine();
  const x = err(() => e.addModule("bad.rego", "package p\n\nq := }\n"));
  assert.equal(x.code, "rego_parse_error");
  assert.equal(x.errors[0].location?.file, "bad.rego");
  assert.equal(x.errors[0].location?.row, 3);
  assert.match(x.message, /bad\.rego:3: rego_parse_error/);
});

test("unsafe variables, recursion, conflicts and type errors use OPA's codes", () => {
  assert.equal(err(() => compiled("u.rego", "package p\nq if { x > 1 }\n")).code, "rego_unsafe_var_error");
  assert.equal(err(() => compiled("r.rego", "package p\na if b\nb if a\n")).code, "rego_recursion_error");
  assert.equal(err(() => compiled("t.rego", "package p\nq := count(1, 2, 3)\n")).code, "rego_type_error");
  const e = new Engine();
  e.addModule("c.rego", "package p\nq := 1\nq := 2\n");
  const c = err(() => e.query("data.p.q"));
  assert.equal(c.code, "eval_conflict_error");
  assert.equal(c.errors[0].location?.file, "c.rego");
});

test("builtin errors: undefined by default, errors when strict", () => {
  const e = new Engine();
  e.addModule("d.rego", "package p\nq := x if x := 1 / input.zero\n");
  assert.deepEqual(e.query("data.p.q", { input: { zero: 0 } }), []);
  const s = err(() => e.query("data.p.q", { input: { zero: 0 }, strictBuiltinErrors: true }));
  assert.equal(s.code, "eval_builtin_error");
});

test("a policy that runs past its deadline is stopped with a clear error", () => {
  const e = new Engine({ timeoutMs: 200 });
  e.addModule("slow.rego", "package p\nq := count([1 | some a in numbers.range(1, 20000); some b in numbers.range(1, 20000); a != b])\n");
  const t0 = Date.now();
  const x = err(() => e.query("data.p.q"));
  assert.equal(x.code, "eval_cancel_error");
  assert.match(x.message, /deadline/);
  assert.ok(Date.now() - t0 < 10000);
});

test("with replaces input, data, functions and builtins", () => {
  const e = new Engine();
  e.addModule(
    "w.rego",
    `package p
f(x) := x * 2
g(x) := x * 10
a := input.v
b := data.d.v
c := f(1)
d := count([1, 2, 3])
`,
  );
  const one = (q: string) => (e.query(q) as { bindings: Record<string, unknown> }[])[0]?.bindings.x;
  assert.equal(one("x := data.p.a with input.v as 5"), 5);
  assert.equal(one("x := data.p.b with data.d.v as 6"), 6);
  assert.equal(one("x := data.p.c with data.p.f as data.p.g"), 10);
  assert.equal(one("x := data.p.d with count as 7"), 7);
  assert.equal(one("x := data.p.c"), 2);
});

test("rules indexed on input equality give the same answers as unindexed evaluation", () => {
  const e = new Engine();
  const rules = ["package rbac", "default allow := false"];
  for (let i = 0; i < 50; i++) rules.push(`allow if {\n  input.action == "a${i}"\n  input.level > ${i % 5}\n}`);
  rules.push(`allow if input.admin`);
  e.addModule("rbac.rego", rules.join("\n"));
  const v = (input: unknown) => (e.query("data.rbac.allow", { input }) as { expressions: { value: unknown }[] }[])[0].expressions[0].value;
  assert.equal(v({ action: "a7", level: 3 }), true);
  assert.equal(v({ action: "a7", level: 1 }), false);
  assert.equal(v({ action: "zzz", level: 9 }), false);
  assert.equal(v({ action: "zzz", admin: true }), true);
  assert.equal(v({ level: 9, admin: true }), true);
});

test("type check: builtin arguments of the wrong static type are rego_type_error; unknown types pass", () => {
  const bad = ["package p\nr if false\nz := count(r)\n", "package p\nx := upper(1 + 2)\n", "package p\nx := sum([\"a\"])\n", "package p\nq if { some x in 1; x }\n"];
  for (const src of bad) assert.equal(err(() => compiled("t.rego", src)).code, "rego_type_error", src);
  const e = new Engine();
  e.addModule("ok.rego", "package p\nx := count(input.items)\ny := upper(input.name)\n");
  assert.deepEqual((e.query("data.p", { input: { items: [1, 2], name: "a" } }) as { expressions: { value: unknown }[] }[])[0].expressions[0].value, { x: 2, y: "A" });
});

test("negation evaluates call arguments outside, as OPA does", () => {
  const e = new Engine();
  e.addModule(
    "n.rego",
    `package n
f(x) if x == 1
b if { not startswith(input.missing, "a") }
c if { not f(input.missing) }
d if { not input.missing == 1 }
h if { not input.missing }
`,
  );
  assert.deepEqual((e.query("data.n", { input: { x: 1 } }) as { expressions: { value: unknown }[] }[])[0].expressions[0].value, { d: true, h: true });
  assert.equal(err(() => compiled("u.rego", 'package n\na if { not startswith(input.images[_], "x") }\n')).code, "rego_unsafe_var_error");
});
