// Direct calls and bodies (src/rego/eval.ts: CompiledRule.argSlots and .direct; compiler.ts
// DIRECT): functions whose parameters are distinct variables get their arguments stored in slots,
// and bodies of single-solution expressions run without continuations, leaving their bindings in
// a frame that an `else` body shares. Object literals with constant keys are built directly, and
// small objects list their keys on each comparison (value.ts sortedKeys). The answers and errors
// were recorded from OPA 1.19 (`opa eval -d p.rego -i input.json '[…]'`, input {"n": 5}).
import test from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";

const POLICY = `package p

f(x) := y if {
	y := x + 1
	y > 10
} else := z if {
	z := x * 2
	z > 5
} else := x

g(_, y) := y

h(x, x) := x

k("a", x) := x

k("b", x) := x + 100

k(_, x) := 0 if x > 1000

one(x) := x if x > 0

one(x) := 1 if x > 0

objs := {{"b": 1, "a": 2}, {"a": 1, "b": 2}, {"9": 1, "10": 2}, {"10": 1, "9": 1}, {"c": 1, "b": 1, "a": 1, "d": 1, "e": 1, "f": 1, "g": 1, "h": 1, "i": 0}, {"c": 1, "b": 1, "a": 1, "d": 1, "e": 1, "f": 1, "g": 1, "h": 1, "i": 1}, {"z": 0}}

lit(x) := {"id": x, "n": input.n, "k": "v"}

s contains v if v := f(1)

s contains v if v := g(0, "w")

p := 1 if input.n == 5

p := 2 if input.n > 4

default dd(_) := 0

dd(x) := x if x > 1
`;

const QUERY = `[data.p.f(1), data.p.f(3), data.p.f(20), data.p.g(1, 2), data.p.h(3, 3), data.p.k("a", 1), data.p.k("b", 1), data.p.k("c", 2000), data.p.objs, data.p.lit("q"), data.p.s, data.p.dd(5), data.p.dd(0), data.p.dd("a")]`;

function engine(): Engine {
  const e = new Engine();
  e.addModule("p.rego", POLICY);
  return e;
}

function value(e: Engine, q: string, input?: unknown): unknown {
  const rs = e.query(q, input === undefined ? {} : { input }) as { expressions: { value: unknown }[] }[];
  return rs.length === 0 ? undefined : rs[0].expressions[0].value;
}

test("direct calls: else chains, wildcard, repeated and constant parameters, default functions, object order, literals, as OPA", () => {
  assert.deepEqual(value(engine(), QUERY, { n: 5 }), [
    1,
    6,
    21,
    2,
    3,
    1,
    101,
    0,
    [
      { "10": 1, "9": 1 },
      { "10": 2, "9": 1 },
      { a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1, h: 1, i: 0 },
      { a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1, h: 1, i: 1 },
      { a: 1, b: 2 },
      { a: 2, b: 1 },
      { z: 0 },
    ],
    { id: "q", k: "v", n: 5 },
    [1, "w"],
    5,
    0,
    "a",
  ]);
});

test("direct calls: a repeated parameter that does not match, and a literal with an undefined value, are undefined", () => {
  const e = engine();
  assert.equal(value(e, "x := data.p.h(3, 4)", { n: 5 }), undefined);
  // (no input: input.n is undefined, so the literal and the call are)
  assert.equal(value(e, "x := data.p.lit(1)"), undefined);
});

test("direct bodies: conflicts between definitions are OPA's errors, at OPA's locations", () => {
  const conflicts: [string, string, number][] = [
    ["x := data.p.one(3)", "functions must not produce multiple outputs for same inputs", 23],
    ["x := data.p.p", "complete rules must not produce multiple outputs", 33],
  ];
  for (const [q, message, row] of conflicts) {
    assert.throws(
      () => engine().query(q, { input: { n: 5 } }),
      (e: unknown) => e instanceof RegoError && e.code === "eval_conflict_error" && e.errors[0].message === message && e.errors[0].location?.row === row,
      q,
    );
  }
});
