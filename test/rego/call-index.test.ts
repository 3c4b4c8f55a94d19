// The call index (evalFunction in src/rego/eval.ts): a function with several definitions that
// take a string, boolean or null constant at one parameter runs only the definitions whose
// constant equals the argument, and those without one there. The answers, including the
// conflicts between a constant definition and a catch-all one, `else` chains, default functions
// and numbers (not indexed), were recorded from OPA 1.19 (`opa eval -d p.rego data.p.results`).
import test from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";

const POLICY = `package p

mult("k") := 1000
mult("M") := 1000000
mult("Ki") := 1024
mult("") := 1
mult(true) := "yes"
mult(null) := "nothing"
mult(1) := "one"

f("a") := 1
f("b") := 2
f("c") := 3
f(x) := 9 if x == "z"
f(x) := 4 if startswith(x, "b")

g(x, "k") := concat("-", [x, "k"])
g(x, "j") := concat("-", [x, "j"])
g(x, "i") := concat("-", [x, "i"])
g("any", y) := y

h("a") := 1 if false
else := 2

h("b") := 3
h("c") := 4
h("d") := 5

default d(_) := "default"
d("x") := "x"
d("y") := "y"
d("w") := "w"
d("v") := "v"

results := {
  "mult": [mult("k"), mult("M"), mult("Ki"), mult(""), mult(true), mult(null), mult(1), mult(1.0)],
  "mult_missing": [x | some s in ["q", 2, false, {"k": 1}]; x := mult(s)],
  "f": [f("a"), f("c"), f("z")],
  "f_missing": [x | x := f("y")],
  "g": [g("p", "k"), g("p", "i"), g("any", "zz")],
  "h": [h("a"), h("b"), h("d")],
  "d": [d("x"), d("v"), d("nope"), d(3)],
}

conflict := f("b")
conflict2 := g("any", "k")
`;

function engine(): Engine {
  const e = new Engine();
  e.addModule("p.rego", POLICY);
  return e;
}

test("call index: answers as OPA's", () => {
  const rs = engine().query("data.p.results") as { expressions: { value: unknown }[] }[];
  assert.deepEqual(rs[0].expressions[0].value, {"d": ["x", "v", "default", "default"], "f": [1, 3, 9], "f_missing": [], "g": ["p-k", "p-i", "zz"], "h": [2, 3, 5], "mult": [1000, 1000000, 1024, 1, "yes", "nothing", "one", "one"], "mult_missing": []});
});

// (OPA names the catch-all definition, rows 15 and 20; Portcullis names the constant one, rows
// 12 and 17, as it did before the index: the definitions without a constant run first.)
test("call index: a constant definition and a catch-all that disagree are a conflict, as in OPA", () => {
  for (const q of ["data.p.conflict", "data.p.conflict2"]) {
    assert.throws(
      () => engine().query(q),
      (e: unknown) => e instanceof RegoError && e.code === "eval_conflict_error" && e.errors[0].message === "functions must not produce multiple outputs for same inputs",
      q,
    );
  }
});

test("the per-query function cache keys numbers by value: 1 and 1.0 share a result, as in OPA", async () => {
  const { toJSONText } = await import("../../src/rego/value.ts");
  const e = new Engine();
  e.addModule("fm.rego", "package p\nf(x) := x\nr := [f(1.0), f(1)]\ns := [f(1), f(1.0)]\n");
  const rs = e.queryRaw("x := data.p") as { bindings: Map<string, unknown> }[];
  // Recorded from `opa eval -d fm.rego data.p` (OPA 1.19): the first call's argument answers both.
  assert.equal(toJSONText(rs[0].bindings.get("x") as never), '{"r":[1.0,1.0],"s":[1.0,1.0]}');
});
