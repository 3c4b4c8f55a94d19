// Language differences with OPA 1.19 found on its conformance suite, each asserted with the answer
// `opa eval` 1.19.0 gives (recorded: these run without OPA). `undefined` is OPA's empty result.
import test from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";

/** data.<pkg> (or the query) as plain JSON, undefined when there is no result. */
function evalDoc(modules: string[], query = "data.t", opts: { input?: unknown; v0?: boolean } = {}): unknown {
  const e = new Engine({ regoVersion: opts.v0 ? "v0" : "v1" });
  e.addModules(modules.map((source, i) => ({ file: `m${i}.rego`, source })));
  const rs = e.query(`__x__ = ${query}`, { input: opts.input }) as { bindings: Record<string, unknown> }[];
  return rs.length === 0 ? undefined : rs[0].bindings.__x__;
}

function evalError(modules: string[], query = "data.t"): RegoError {
  try {
    evalDoc(modules, query);
  } catch (e) {
    if (e instanceof RegoError) return e;
    throw e;
  }
  assert.fail("expected a RegoError");
}

test("not over a reference with a dynamic index: the index is evaluated outside the negation", () => {
  const mod = `package t
allowed := set()
arr := [1]
obj := {"a": [1]}
r1 if not allowed[input.name]
r2 if not input.a[input.b]
r3 if not allowed[lower(input.name)]
r4 if not allowed[input.name] == 1
r5 if not obj[input.k][0] == 1
r6 if { y := {}; not allowed[y.name] }
r7 if not arr[input.i]
r8 if not input.x == 1
c := [1 | not allowed[input.name]]
`;
  // opa eval -d m.rego data.t (no input)
  assert.deepEqual(evalDoc([mod]), { allowed: [], arr: [1], obj: { a: [1] }, r8: true, c: [] });
  // input {"name": "bob", "i": 0}: the index exists, so the negation is evaluated
  assert.deepEqual(evalDoc([mod], "data.t", { input: { name: "bob", i: 0 } }), {
    allowed: [], arr: [1], obj: { a: [1] }, r1: true, r3: true, r4: true, r8: true, c: [1],
  });
});

test("not: rule references, with, composites and comprehensions as OPA rewrites them", () => {
  const mod = `package t
f(x) := x
q := 1 if false
r1 if not f(q)
r2 if not q
r3 if not q == 1
s := {"a"}
r4 if not s[input.k] with input as {"k": "b"}
r5 if not s[input.k] with input as {}
r6 if not [input.x, 1] == [2, 1]
r7 if not {input.x: 1} == {2: 1}
r8 if not count([x | x := input.y[_]]) > 0
r9 if not upper(concat("", [input.z])) == "A"
`;
  // opa eval -d w.rego data.t
  assert.deepEqual(evalDoc([mod]), { r2: true, r3: true, r4: true, r8: true, s: ["a"] });
});

test("not over = with a variable bound later in the body", () => {
  const mod = `package t
f(x) := x
p := a if { not a = f(1); a = f(2) }
s := a if { not a = 1; a = 2 }
`;
  assert.deepEqual(evalDoc([mod]), { p: 2, s: 2 });
  assert.equal(evalError(["package t\np if not x = 1\n"]).code, "rego_unsafe_var_error");
});

test("a variable bound only by a comprehension head's reference", () => {
  const mod = `package t
arr := ["a", "b", "c"]
arr2 := [["a", 1], ["b", 2]]
r := [arr[i] | i != 1]
r2 := [arr2[i][0] | not arr2[i][1] == 2]
r3 := {arr[i] | i != 1}
r4 := {arr[i]: i | i != 1}
r5 := [sprintf("%s", [arr[i]]) | i != 1]
r7 := [[x, arr[0]] | x := 1]
`;
  assert.deepEqual(evalDoc([mod]), {
    arr: ["a", "b", "c"], arr2: [["a", 1], ["b", 2]], r: ["a", "c"], r2: ["a"], r3: ["a", "c"], r4: { a: 0, c: 2 }, r5: ["a", "c"], r7: [[1, "a"]],
  });
});

test("f() heads a plain rule, not a function", () => {
  assert.deepEqual(evalDoc(["package t\nf() := 1\n"]), { f: 1 });
  assert.deepEqual(evalDoc(["package t\nf() = 1\n"], "data.t", { v0: true }), { f: 1 });
  assert.deepEqual(evalDoc(["package t\nf() := 1 if true\ng() if true\n"]), { f: 1, g: true });
  const e = evalError(["package t\nf() := 1\nr := f()\n"]);
  assert.equal(e.code, "rego_type_error");
  assert.match(e.message, /undefined function data\.t\.f/);
  assert.match(evalError(["package t\np := 1\nr := p(1)\n"]).message, /function data\.t\.p has arity 0, got 1 argument$/m);
  assert.match(evalError(["package t\nf(x, y) := 1\nr := f(1)\n"]).message, /function data\.t\.f has arity 2, got 1 argument$/m);
  assert.match(evalError(["package t\nf(x) := 1\nr := f(1, 2)\n"]).message, /function data\.t\.f has arity 1, got 2 arguments$/m);
  const c = evalError(["package t\nh() contains 1\n"]);
  assert.equal(c.code, "rego_parse_error");
  assert.match(c.message, /\(e\.g\., h contains <VALUE> \{ \.\.\. \}\)/);
});

test("f() of a complete rule: its value when its type is unknown (any), undefined function when known", () => {
  // opa eval -i {"x": 5}: f() of an input-dependent rule evaluates the rule (Gatekeeper's
  // forbidden-sysctls template relies on it); a rule with a known type is not a function.
  const input = { x: 5 };
  assert.deepEqual(evalDoc(["package t\nf() = out if {\n  out := input.x\n}\nr := f()\n"], "data.t", { input }), { f: 5, r: 5 });
  assert.deepEqual(evalDoc(["package t\nf() = out {\n  out = input.x\n}\nr = f()\n"], "data.t", { input, v0: true }), { f: 5, r: 5 });
  assert.deepEqual(evalDoc(["package t\nf() := input.x\nr if f()\n"], "data.t", { input }), { f: 5, r: true });
  for (const mod of ["package t\nf() := 1 if true\nr := f()\n", 'package t\np := {"a": input.x}\nr := p()\n', "package t\np contains input.x\nr := p()\n", "package t\np[k] := 1 if k := input.x\nr := p()\n"]) {
    const e = evalError([mod]);
    assert.equal(e.code, "rego_type_error", mod);
    assert.match(e.message, /undefined function data\.t\.[fp]$/m, mod);
  }
});

test("import future.keywords.not: a negated expression is negated whole", () => {
  const head = "package t\nimport future.keywords.not\n";
  assert.deepEqual(evalDoc([`${head}default r := false\nr if not startswith(input.missing, "a")\n`]), { r: true });
  assert.deepEqual(evalDoc([`${head}default r := false\nr if not input.x + input.y == input.z\n`]), { r: true });
  assert.deepEqual(evalDoc([`${head}default r := false\nr if not input.x + input.y == input.z\n`], "data.t", { input: { x: 1, y: 2, z: 3 } }), { r: false });
  assert.deepEqual(evalDoc([`${head}f(x) := x\np := a if { not a = f(1); a = f(2) }\n`]), { p: 2 });
  assert.deepEqual(evalDoc([`${head}p := [x | x := "foo"; not f(input.x)]\nf(_) := true\n`]), { p: ["foo"] });
  // Without the import the same rule is undefined: the call's arguments are evaluated outside.
  assert.deepEqual(evalDoc([`package t\ndefault r := false\nr if not startswith(input.missing, "a")\n`]), { r: false });
});

test("key/value membership over a set: an element is its own key", () => {
  assert.deepEqual(evalDoc([`package t\nr1 if "foo", "foo" in {"foo", "bar"}\nr2 if "bar", "foo" in {"foo", "bar"}\nr3 := [[k, v] | some k, v in {"a", "b"}]\n`]), {
    r1: true, r3: [["a", "a"], ["b", "b"]],
  });
});

test("a template string as a function parameter", () => {
  const mod = `package t
p := f("foo bar")
f($"{x} {input.y}") := 42 if {
  x = "foo"
}
`;
  assert.deepEqual(evalDoc([mod], "data.t", { input: { y: "bar" } }), { p: 42 });
  assert.deepEqual(evalDoc([mod], "data.t", { input: { y: "baz" } }), {});
  const e = evalError(["package t\nq := g(2)\ng(count([1, 2])) := 1\n"]);
  assert.match(e.message, /rule arguments cannot contain calls/);
});

test("rego.metadata.chain: document scope from any rule of the path, package and subpackages scopes from any module", () => {
  const mods = [
    "# METADATA\n# scope: subpackages\n# title: root\npackage a\n",
    "# METADATA\n# description: root pkg\npackage a\n",
    `# METADATA
# description: pkg in k2
package a.b

# METADATA
# scope: document
# title: doc
p := 1 if false

# METADATA
# title: rule
p := rego.metadata.chain()

q[x] := rego.metadata.chain() if x := 1
`,
    "# METADATA\n# scope: subpackages\n# title: sub b\npackage a.b\n",
  ];
  const pkg = { annotations: { description: "pkg in k2", scope: "package" }, path: ["a", "b"] };
  const subB = { annotations: { scope: "subpackages", title: "sub b" }, path: ["a", "b"] };
  const root = { annotations: { scope: "subpackages", title: "root" }, path: ["a"] };
  // opa eval -d k1.rego -d k4.rego -d k2.rego -d k3.rego data.a.b
  assert.deepEqual(evalDoc(mods, "data.a.b"), {
    p: [{ annotations: { scope: "rule", title: "rule" }, path: ["a", "b", "p"] }, { annotations: { scope: "document", title: "doc" }, path: ["a", "b", "p"] }, pkg, subB, root],
    q: { "1": [{ path: ["a", "b", "q"] }, pkg, subB, root] },
  });
});

test("METADATA keys without a value are accepted, as if absent", () => {
  const mod = `# METADATA
# title: x
# related_resources:
# authors:
# schemas:
# scope:
package t

# METADATA
# title: rule
# organizations:
# custom:
r := rego.metadata.chain()
`;
  assert.deepEqual(evalDoc([mod]), {
    r: [{ annotations: { scope: "rule", title: "rule" }, path: ["t", "r"] }, { annotations: { scope: "package", title: "x" }, path: ["t"] }],
  });
});

test("type check: undefined ref for constant keys a literal object, a literal array or a scalar cannot have", () => {
  const undef = [
    ['obj := {"a": 1}\nr := obj.b', "undefined ref: data.t.obj.b"],
    ['r if { x := {"a": 1}; x.b }', "undefined ref: x.b"],
    ['obj := {"a": {"c": 1}}\nr := obj.a.d', "undefined ref: data.t.obj.a.d"],
    ['obj := {"a": 1}\nr := obj.a.d', "undefined ref: data.t.obj.a.d"],
    ['obj := {"a": 1}\nr := data.t.obj.b', "undefined ref: data.t.obj.b"],
    ['obj := {"a": 1}\nr := [obj.b | true]', "undefined ref: data.t.obj.b"],
    ["arr := [1, 2]\nr := arr[5]", "undefined ref: data.t.arr[5]"],
    ['obj := {"a": 1}\nr if not obj.b', "undefined ref: data.t.obj.b"],
    ['x := "abc"\nr := x[0]', "undefined ref: data.t.x[0]"],
    ['r if { some x in [{"a": 1}]; x.b }', "undefined ref: x.b"],
  ];
  for (const [body, msg] of undef) {
    const e = evalError([`package t\n${body}\n`]);
    assert.equal(e.code, "rego_type_error", body);
    assert.match(e.message, new RegExp(`${msg.replace(/[.[\]]/g, "\\$&")}$`, "m"), body);
  }
  // Open types: no error (OPA answers these).
  assert.deepEqual(evalDoc(['package t\nobj := {"a": 1}\nr := obj[k]\n']), { obj: { a: 1 }, r: 1 });
  assert.deepEqual(evalDoc(['package t\ndefault obj2 := {}\nobj2 := {"a": 1} if true\nr := obj2.b\n']), { obj2: { a: 1 } });
  assert.deepEqual(evalDoc(['package t\nobj := {"a": 1} if false else := {"b": 2}\nr := obj.b\n']), { obj: { b: 2 }, r: 2 });
  assert.deepEqual(evalDoc(["package t\nr if { y := {}; y.name }\n"]), {});
  assert.deepEqual(evalDoc(["package t\nr if { y := []; y[0] }\n"]), {});
  assert.deepEqual(evalDoc(["package t\ns := {1, 2}\nr := s[3]\n"]), { s: [1, 2] });
});

test("type check: function parameter types inferred from the body, checked at calls", () => {
  const invalid = [
    'f(x) := y if { y := x + 1 }\nr := f("a")',
    'f(x) if x = 1\nr := f("a")',
    'f(x) if { x == "a" }\nr := f(1)',
    "f(x) := upper(x)\nr := f(1)",
    "f(x) := x + 1\nf(x) := upper(x)\nr := f(true)",
    'f(x, y) := x + y\nr := f(1, "a")',
    "f(x) := count(x)\nr := f(1)",
    'f(x) if { x == 1; x + 1 }\nr := f("a")',
    'f(x) if { print(x); x + 1 }\nr := f("a")',
    'f(x) if { not x + 1 == 2 }\nr := f("a")',
    'f(x) if { x + 1 } else := false if { x + 2 }\nr := f("a")',
    "f(x) if { upper(lower(x)) }\nr := f(1)",
    'f(x) if { startswith(x, "a") }\nr := f(null)',
    'f(x) if { y := x + 1 }\nr := f({"a": 1})',
    'f(x) := y if { y := x + 1 }\nr if { z := "a"; f(z) }',
    'f(x) := y if { y := x + 1 }\nr if { f("a", y) }',
    'f(x) if { x + 1 }\nr := [f(y) | some y in ["a"]]',
  ];
  for (const body of invalid) {
    const e = evalError([`package t\n${body}\n`]);
    assert.equal(e.code, "rego_type_error", body);
    assert.match(e.message, /data\.t\.f: invalid argument\(s\)/, body);
  }
  const g = evalError(['package t\nf(x) := y if { y := x + 1 }\ng(z) := f(z)\nr := g("a")\n']);
  assert.match(g.message, /data\.t\.g: invalid argument\(s\)\n\thave: \(string, \?\?\?\)\n\twant: \(number, number\)/);
  // What OPA's inference leaves open.
  const ok: [string, unknown][] = [
    ['f(x) if { to_number(x); x + 1 }\nr := f("a")', {}],
    ["f(x) := x.a\nr := f(1)", {}],
    ['f(x) := x + 1\nf(x) := upper(x)\nr := f("a")', { r: "A" }],
    ["f(x) := count(x)\nr := f(\"abc\")", { r: 3 }],
    ['f(x) := y if { y := x + 1 } else := 0\nr := f("a")', { r: 0 }],
    ['f(x) := y if { y := [z | z := x + 1] }\nr := f("a")', { r: [] }],
    ["f(x) := y if { some y in x }\nr := f(1)", {}],
    ['f(x) := y if { y := concat(",", x) }\nr := f(["a"])', { r: "a" }],
    ['f(x) if { every y in [1] { x + y } }\nr := f("a")', {}],
    ['f(x) if { y := x; y + 1 }\nr := f("a")', {}],
    ['f(x) if { y := sprintf("%v", [x]) }\nr := f(1)', { r: true }],
    ['f(x) if { x in {1} }\nr := f("a")', {}],
    ['f(x) if { x > 1 }\nr := f("a")', { r: true }],
    ['f(x) if { x != "a" }\nr := f(1)', { r: true }],
    ["f(x) := y if { y := x + 1 }\nr := f(input.a)", {}],
  ];
  for (const [body, want] of ok) assert.deepEqual(evalDoc([`package t\n${body}\n`]), want, body);
});
