// Hardening: the deadline and the per-result size limit hold inside builtins too. Before, a
// single builtin call ignored the deadline (numbers.range(1, 6.7e7) with a 3 s limit ran 26.8 s
// and 1.7 GB; replace/concat blow-ups 7–12 s) and oversized results became a silent undefined.
//
// How time is measured: the claims are about work ("stops at once", "stops soon after the
// deadline"), so each bound holds on the CPU time the evaluation used, and on its wall time when
// the machine is idle (test/timing.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";
import { expandedSize, indentedChars, fromJS, toJS, toJSONText, RSet, type Value } from "../../src/rego/value.ts";
import { cli } from "../cli/helpers.ts";
import { measure, within } from "../timing.ts";

const A100 = "a".repeat(100);

/** Evaluate with a deadline; returns the error (or null), the times and the RSS growth. */
function run(query: string, timeoutMs: number, module?: string): { err: RegoError | null; cpuMs: number; wallMs: number; rssMB: number } {
  const e = new Engine();
  if (module) e.addModule("m.rego", module);
  const rss0 = process.memoryUsage().rss;
  const m = measure(() => e.query(query, { timeoutMs }));
  if (m.value instanceof Error && !(m.value instanceof RegoError)) throw m.value;
  return { err: m.value instanceof RegoError ? m.value : null, cpuMs: m.cpuMs, wallMs: m.wallMs, rssMB: (process.memoryUsage().rss - rss0) / 2 ** 20 };
}

test("numbers.range past the size limit is a named error at once, not 1.7 GB", () => {
  const r = run("count(numbers.range(1, 6.7e7))", 3000);
  assert.equal(r.err?.code, "eval_builtin_error");
  assert.match(r.err!.message, /numbers\.range: result would exceed the evaluation's size limit of 134217728 bytes/);
  within(r, 1000, "numbers.range");
  assert.ok(r.rssMB < 100, `${r.rssMB} MB`);
});

test("numbers.range_step of 24.6 million numbers (a fuzz hang in result conversion) is refused as it is built", () => {
  const r = run("x := numbers.range_step(7, 960785086, 39)", 3000);
  assert.equal(r.err?.code, "eval_builtin_error");
  assert.match(r.err!.message, /numbers\.range_step: result would exceed the evaluation's size limit of 134217728 bytes/);
  within(r, 1000, "numbers.range_step");
  assert.ok(r.rssMB < 100, `${r.rssMB} MB`);
});

/** A chain of `depth` sets, each holding the next (and `extra` when given). */
function setChain(depth: number, extra = false): Value {
  let v: Value = 1;
  for (let i = 0; i < depth; i++) v = new RSet(extra ? [v, `k${i}`] : [v]);
  return v;
}

test("walk of deeply nested sets: the expanded result is refused before it is converted; evalRaw still has it", () => {
  // Every path holds the sets above it: 231 nested sets are a few kilobytes evaluated and 4.1
  // million arrays converted (OPA prints 1.5 GB for the fuzz case, in 23 s).
  for (const extra of [false, true]) {
    const e = new Engine();
    const input = [setChain(231, extra)];
    const r = measure(() => e.query("walk(input[0], x)", { input }));
    assert.ok(r.value instanceof RegoError, String(r.value));
    assert.equal(r.value.code, "eval_builtin_error");
    assert.match(r.value.message, /result too large: converting it to JavaScript would take about \d+ bytes, more than the evaluation's size limit of 134217728 bytes/);
    within(r, 1000, "walk");
    const raw = e.prepare("walk(input[0], x)").evalRaw({ input }) as { bindings: Map<string, Value> }[];
    assert.equal(raw.length, extra ? 463 : 232);
  }
  // Below the limit the same shape converts as before.
  const few = new Engine();
  const small = few.query("walk(input[0], x)", { input: [setChain(3)] }) as unknown as { bindings: { x: unknown } }[];
  const rawSmall = few.prepare("walk(input[0], x)").evalRaw({ input: [setChain(3)] }) as { bindings: Map<string, Value> }[];
  assert.equal(small.length, 4);
  assert.deepEqual(small.map((r) => r.bindings.x), rawSmall.map((r) => JSON.parse(toJSONText(r.bindings.get("x")!))));
  assert.deepEqual(small[3].bindings.x, [[[[1]], [1], 1], 1]);
});

test("expandedSize: compact JSON length exactly, indented length as an upper bound, shared values counted each time", () => {
  const shared = fromJS({ a: [1, "x\u00e9", null, true, -12.5], b: {} });
  for (const js of [[1, 2, "abc", true, null], { a: [1, { b: "x" }], c: {} }, [[]], "s", -7, [[1, [2, [3]]], { k: [10, -5] }], [123456789012, 1e300, 0.1]]) {
    const v = fromJS(js);
    const s = expandedSize(v);
    assert.equal(indentedChars(s, 0), toJSONText(v).length, JSON.stringify(js));
    for (const level of [0, 3]) {
      const text = toJSONText(v, "  ", "  ".repeat(level)).length;
      assert.ok(indentedChars(s, 2, level) >= text && indentedChars(s, 2, level) <= text * 1.5 + 10, JSON.stringify(js));
    }
  }
  const twice = [shared, [shared, shared]] as Value;
  assert.equal(expandedSize(twice).chars, toJSONText(twice).length);
  assert.equal(expandedSize(twice).nodes, 3 * expandedSize(shared).nodes + 2);
  // toJS copies arrays of scalars: the result is no alias of the engine's value.
  const arr = fromJS([1, "a", null]) as Value[];
  const js = toJS(arr) as unknown[];
  assert.deepEqual(js, [1, "a", null]);
  assert.notEqual(js, arr);
});

test("portcullis eval: a result too large to print is a named error with exit status 2, not an internal error", async () => {
  const r = await cli(["eval", `x := ${"{".repeat(231)}1${"}".repeat(231)}; walk(x, y)`]);
  assert.equal(r.code, 2, r.err);
  assert.equal(r.out, "");
  assert.match(r.err, /^error: the result is too large to print: about \d+ characters of JSON, more than the limit of 134217728 \(see docs\/LIMITS\.md\)\n$/);
  assert.doesNotMatch(r.err, /internal error|Invalid string length/);
});

test("replace, strings.replace_n, concat and sprintf blow-ups stop at the size limit (named error, not undefined)", () => {
  const big = `concat("", [t | some j in numbers.range(1, 1000000); t := "a"])`;
  for (const [q, name] of [
    [`count(replace(${big}, "a", "${A100}${A100}${A100}"))`, "replace"],
    [`count(strings.replace_n({"a": "${A100}${A100}${A100}"}, ${big}))`, "strings.replace_n"],
    [`count(concat("", [s | some i in numbers.range(1, 300); s := data.m.big]))`, "concat"],
    [`count(sprintf("%999999999d", [1]))`, "sprintf"],
  ]) {
    const r = run(q, 3000, `package m\nbig := ${big}\n`);
    assert.equal(r.err?.code, "eval_builtin_error", q);
    assert.match(r.err!.message, new RegExp(`${name.replace(".", "\\.")}: result would exceed`), q);
    within(r, 3500, name);
    assert.ok(r.rssMB < 500, `${name}: ${r.rssMB} MB`);
  }
});

test("a deadline stops evaluations that loop through builtins soon after the deadline", () => {
  for (const q of [
    "count([x | x := numbers.range(1, 1000)[_]; y := numbers.range(1, 100000)[_]])",
    // Each is several seconds of work on any machine (3 million iterations), so the
    // deadline must be what stops it.
    `count([s | some i in numbers.range(1, 3000000); s := replace("${A100}", "a", "bb")])`,
    "count([w | some i in numbers.range(1, 3000000); w := walk([[1, 2], {\"a\": [3]}])])",
  ]) {
    const r = run(q, 1000);
    assert.equal(r.err?.code, "eval_cancel_error", q);
    // 1 s deadline; half a second of slack, and as much again for a loaded machine (the CPU
    // time of an evaluation stopped at a wall-clock deadline is at most that deadline's worth).
    within(r, 2000, q);
  }
});

test("walk is iterative: a 5,000-level document walks without a stack overflow", () => {
  const e = new Engine();
  const deep = JSON.parse("[".repeat(5000) + "]".repeat(5000));
  const rs = e.query("n := count([p | walk(input, [p, _])])", { input: deep }) as unknown as { bindings: { n: number } }[];
  assert.equal(rs[0].bindings.n, 5000);
});

test("the size limit is per evaluation and can be raised by the host", () => {
  const e = new Engine({ limits: { maxResultBytes: 2 ** 31 } });
  const rs = e.query("count(numbers.range(1, 3e7))") as unknown as { expressions: { value: number }[] }[];
  assert.equal(rs[0].expressions[0].value, 3e7);
  const small = new Engine({ limits: { maxResultBytes: 100_000 } });
  assert.throws(() => small.query(`concat("", [x | some i in numbers.range(1, 1000); x := "${A100}"])`), /concat: result would exceed the evaluation's size limit of 100000 bytes/);
  // The same limit bounds the converted results: 1,000 arrays of 12 numbers (~150 KB converted).
  assert.throws(() => small.query(`x := [y | some i in numbers.range(1, 1000); y := [i, i, i, i, i, i, i, i, i, i, i, i]]`), /result too large: converting it to JavaScript/);
  // Strings are shared, not copied, when results are converted: 1,000 references to one string fit.
  const shared = small.query(`x := [y | some i in numbers.range(1, 1000); y := "${A100}"]`) as unknown as { bindings: { x: string[] } }[];
  assert.equal(shared[0].bindings.x.length, 1000);
});

test("net.cidr_expand of a million addresses observes the deadline (it ran to its end: 2 s of CPU for a /12)", () => {
  const r = run('count(net.cidr_expand("10.0.0.0/12"))', 100);
  assert.equal(r.err?.code, "eval_cancel_error");
  within(r, 600, "net.cidr_expand");
  // Without a deadline it expands all 1,048,576 (OPA's answer), the /30 as OPA lists it.
  const e = new Engine();
  const rs = e.query('n := count(net.cidr_expand("10.0.0.0/12")); s := net.cidr_expand("255.255.255.252/30")') as unknown as { bindings: { n: number; s: string[] } }[];
  assert.equal(rs[0].bindings.n, 1048576);
  assert.deepEqual(rs[0].bindings.s, ["255.255.255.252", "255.255.255.253", "255.255.255.254", "255.255.255.255"]);
});
