import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../src/index.ts";
import { cases } from "./cases/sets.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("sets", cases);

checkDecls(["and", "or", "intersection", "union", "set_diff"]);

// `a | b` shares one append-only log of elements between the unions of a chain (linear instead
// of quadratic); sets made earlier in the chain must keep exactly their own elements. Answers
// recorded from OPA 1.19.0 (opa eval -d unions.rego data.p.r / data.p.c).
const UNIONS = `package p

base := {i | numbers.range(0, 99)[i]}
x := base | {100}
y := x | {101, 1}
z := x | {102}
w := ({200} | ({201} | ({202} | base))) | {203}
v := (z | y) - base
r := [count(base), count(x), count(y), count(z), count(w), x[100], 101 in x, 102 in z, 102 in y, v, w & {200, 203, 5, 999}]
chain := ${Array.from({ length: 67 }, (_, i) => `{${i}}`).join(" | ")} | {0} | {64}
c := [count(chain), chain == {i | numbers.range(0, 66)[i]}, chain | x == x | chain]
`;

test("set unions: a chain shares its elements without changing earlier sets (as OPA)", () => {
  const e = new Engine();
  e.addModule("unions.rego", UNIONS);
  const value = (q: string) => {
    const rs = e.query(q);
    assert.ok(!(rs instanceof Promise));
    return rs[0]!.expressions[0]!.value;
  };
  assert.deepEqual(value("data.p.r"), [100, 101, 102, 102, 104, 100, false, true, false, [100, 101, 102], [5, 200, 203]]);
  assert.deepEqual(value("data.p.c"), [67, true, true]);
});

test("set unions: a chain of 20,000 unions takes linear time", () => {
  const n = 20000;
  const e = new Engine();
  e.addModule("chain.rego", `package p\nx := ${Array.from({ length: n }, (_, i) => `{${i}}`).join(" | ")}\n`);
  e.compile();
  const t0 = performance.now();
  const rs = e.query("count(data.p.x)");
  const ms = performance.now() - t0;
  assert.ok(!(rs instanceof Promise));
  assert.equal(rs[0]!.expressions[0]!.value, n);
  assert.ok(ms < 2000, `evaluation took ${ms.toFixed(0)} ms`);
});
