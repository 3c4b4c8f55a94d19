// The compiler's lean paths for large programs (issue 10): rules without a body whose head is a
// rule name, `data`, `input`, an import or a reference from those through constant keys (one
// State shared per module, head typed when first asked for), the whole-document reference of a
// rule, and bodies of one expression (no reordering bookkeeping). They must answer exactly as the
// general path did: values, `with` overrides of the referenced documents, types flowing through
// the aliases, unsafe variables. Answers recorded from `opa eval` 1.19.0 (they run without OPA).
import test from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";
import { RECIPES } from "../../scripts/fuzz/gen-rego.ts";

function evalData(files: Record<string, string>, query: string, input?: unknown): unknown {
  const e = new Engine();
  e.addModules(Object.entries(files).map(([file, source]) => ({ file, source })));
  const rs = e.query(query, input === undefined ? {} : { input });
  if (rs instanceof Promise) throw new Error("unexpected async evaluation");
  return rs[0]?.expressions[0]?.value;
}

function errorsOf(source: string, query: string): string {
  const e = new Engine();
  e.addModules([{ file: "m.rego", source }]);
  try {
    e.query(query);
  } catch (x) {
    if (x instanceof RegoError) return x.errors.map((d) => `${d.location?.row}:${d.location?.col}: ${d.code}: ${d.message}`).join("\n");
    throw x;
  }
  return "no error";
}

const ALIASES = `package p

import data.q.base

r1 := 1
alias := r1
alias2 := data.p.r1
viaimport := base
inp := input.a.b
missing := data.nothing.here
q1 := x if { x := alias with data.p.r1 as 5 }
q2 := x if { x := alias2 with data.p.r1 as 6 }
q3 := x if { x := inp with input as {"a": {"b": 7}} }
q4 := x if { x := viaimport with data.q.base as 8 }
obj.k := r1
s contains alias
`;

test("ground rules: aliases of rules, data, input and imports, under `with` too (OPA 1.19)", () => {
  const got = evalData({ "g.rego": ALIASES, "q.rego": "package q\nbase := 3\n" }, "data.p", { a: { b: 2 } });
  // opa eval -d g.rego -d q.rego -i in.json data.p
  assert.deepEqual(got, { alias: 1, alias2: 1, inp: 2, obj: { k: 1 }, q1: 5, q2: 6, q3: 7, q4: 8, r1: 1, s: [1], viaimport: 3 });
});

test("ground rules: the type of an alias is the aliased rule's (OPA 1.19: plus: invalid argument(s))", () => {
  const src = 'package t\nr1 := "s"\nalias := r1\nalias2 := data.t.alias\nbad if { alias2 + 1 }\n';
  // OPA's details: have string, number (the aliased rule's type); want number, number.
  assert.equal(errorsOf(src, "data.t"), "5:10: rego_type_error: plus: invalid argument(s)\n\thave: (string, number, ???)\n\twant: (number, number, number)");
});

test("one-expression bodies: unsafe variables are reported as before (OPA 1.19)", () => {
  assert.equal(errorsOf("package u\np if { x }\n", "data.u"), "2:8: rego_unsafe_var_error: var x is unsafe");
  // Nested one-expression bodies fail at once, not once per nesting level (OPA 1.19: the same
  // error, row 2 column 1007, for 200 nested comprehensions).
  const deep = `package d\np := [${"[y | ".repeat(200)}z${"]".repeat(200)}]\n`;
  const t0 = process.cpuUsage();
  assert.equal(errorsOf(deep, "data.d"), "2:1007: rego_unsafe_var_error: var z is unsafe");
  const used = process.cpuUsage(t0);
  const ms = (used.user + used.system) / 1000;
  assert.ok(ms < 2000, `200 nested comprehensions took ${ms} ms of CPU`);
});

test("a chain of 2,000 rules defined last-first evaluates as OPA (r0 = 1)", () => {
  const got = evalData({ "c.rego": RECIPES.ruleChainRev(2000) }, "data.p.r0");
  assert.equal(got, 1);
});
