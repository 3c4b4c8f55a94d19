// The CEL engine's own limits: expression size and nesting, the runtime cost limit (cel-go's
// "operation cancelled: actual cost limit exceeded"), linear-time regular expressions, and the
// conversion of JSON values (integers are CEL ints, objects maps).
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, CostMeter, CelCompileError, CelEvalError, COST_LIMIT_MESSAGE, MAX_EXPRESSION_LENGTH, MAX_EXPRESSION_DEPTH, toCelInput, fromCel, inEvalContext } from "../../../src/gatekeeper/cel/engine.ts";

const run = (expr: string, bindings: Record<string, unknown> = {}, limit = 1_000_000) => fromCel(compile(expr).eval(bindings, new CostMeter(limit)));

test("expressions longer or deeper than the limits are compile errors", () => {
  // cel-go's texts and limits (code points, not UTF-16 units: 60,000 emoji are 120,000 units)
  assert.throws(() => compile(`"${"a".repeat(MAX_EXPRESSION_LENGTH)}"`), (e: unknown) => e instanceof CelCompileError && (e as Error).message === "ERROR: <input>:-1:0: expression code point size exceeds limit: size: 100002, limit 100000");
  assert.deepEqual(run(`"${"\u{1F600}".repeat(60_000)}".size()`), 60_000n);
  const deep = `${"[".repeat(MAX_EXPRESSION_DEPTH + 10)}1${"]".repeat(MAX_EXPRESSION_DEPTH + 10)}`;
  assert.throws(() => compile(deep), (e: unknown) => e instanceof CelCompileError && (e as Error).message === "ERROR: <input>:-1:0: expression recursion limit exceeded: 250");
  assert.throws(() => compile(`a${".b".repeat(251)}`, undefined), (e: unknown) => e instanceof CelCompileError && (e as Error).message === "ERROR: <input>:-1:0: max recursion depth exceeded");
  assert.deepEqual(run(`${"[".repeat(100)}1${"]".repeat(100)}.size()`), 1n);
});

test("the runtime cost limit stops an expression with cel-go's error, even under ||", () => {
  const l = toCelInput(Array.from({ length: 50 }, (_, i) => i));
  assert.equal(run("l.all(a, l.all(b, a + b >= 0))", { l }), true);
  for (const expr of ["l.all(a, l.all(b, a + b >= 0))", "l.all(a, l.all(b, a + b >= 0)) || true"]) {
    assert.throws(
      () => run(expr, { l }, 1000),
      (e: unknown) => e instanceof CelEvalError && e.message === COST_LIMIT_MESSAGE && e.costExceeded,
    );
  }
});

test("regular expressions are RE2: linear time, Go's syntax errors", () => {
  const t0 = performance.now();
  assert.equal(run(`s.matches("^(a+)+$")`, { s: `${"a".repeat(20_000)}b` }), false);
  assert.ok(performance.now() - t0 < 2000, `took ${performance.now() - t0} ms`);
  assert.throws(() => run(`"x".matches(p)`, { p: "(x" }), (e: unknown) => e instanceof CelEvalError && e.message === "error parsing regexp: missing closing ): `(x`");
});

test("JSON values: integers are ints, fractions doubles, objects maps", () => {
  const o = toCelInput({ n: 3, f: 1.5, s: "x", l: [1, { a: true }], z: null });
  assert.deepEqual(run("[type(o.n) == int, type(o.f) == double, o.n + 1 == 4, o.l[1].a, o.z == null, has(o.s), !has(o.q)]", { o }), [true, true, true, true, true, true, true]);
  assert.deepEqual(run("{'a': [1, 2u], 'b': {'c': 'd'}}"), { a: [1n, 2n], b: { c: "d" } });
});

test("JSON values are views: a member is converted when an expression reads it, once", () => {
  let reads = 0;
  const doc = {
    spec: { containers: [{ name: "a", image: "x" }] },
    get unread(): unknown {
      throw new Error("a member no expression reads was converted");
    },
    get counted(): number {
      reads++;
      return 7;
    },
  };
  const o = toCelInput(doc);
  assert.deepEqual(run("[o.spec.containers[0].name, size(o), has(o.unread), o.counted + o.counted]", { o }), ["a", 3n, true, 14n]);
  assert.equal(reads, 1);
});

test("a member whose value is null is `in` an object from the review, as cel-go answers", () => {
  const object = toCelInput({ x: { a: null, b: 1 } });
  assert.equal(run("'a' in object.x", { object }), true);
  assert.equal(run("'c' in object.x", { object }), false);
  assert.equal(run("has(object.x.a)", { object }), true);
  assert.equal(run("object.x.a == null", { object }), true);
});

test("inside one evaluation context (inEvalContext) programs answer as outside it", () => {
  const o = toCelInput({ a: { b: [1, 2, 3] }, s: "x" });
  // values the planned call converts (bytes, timestamps, durations: protobuf messages), equality
  // of messages (which reads the context), errors, and the cost limit
  const exprs = [
    `b"abc"`,
    `timestamp("2020-01-01T00:00:00Z")`,
    `timestamp("2020-01-01T00:00:00Z") == timestamp("2020-01-01T00:00:00Z")`,
    `duration("1h") + duration("1m")`,
    `[timestamp("2020-01-01T00:00:00Z")] == [timestamp("2020-01-01T00:00:00Z")]`,
    `o.a.b.map(x, x * 2)`,
    `o.a.c`,
    `o.a.b[5]`,
    `o.s == "x" && o.a.b.exists(x, x == 3)`,
    `o.a.b.all(x, o.a.b.all(y, x + y > 0))`,
  ];
  const answer = (expr: string, limit: number): unknown => {
    try {
      return fromCel(compile(expr, { vars: new Set(["o"]) }).eval({ o }, new CostMeter(limit)));
    } catch (e) {
      return e instanceof CelEvalError ? { error: e.message, costExceeded: e.costExceeded } : { thrown: String(e) };
    }
  };
  for (const limit of [1_000_000, 5]) {
    for (const expr of exprs) assert.deepEqual(inEvalContext(() => answer(expr, limit)), answer(expr, limit), `${expr} (limit ${limit})`);
  }
  // its function's value and exception are its own, nested calls included
  assert.equal(inEvalContext(() => inEvalContext(() => 7)), 7);
  const err = new RangeError("x");
  assert.throws(() => inEvalContext(() => { throw err; }), (e: unknown) => e === err);
  assert.equal(inEvalContext(() => answer(`o.s + "y"`, 100)), "xy");
});
