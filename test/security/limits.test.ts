// Hardening: the deadline and the per-result size limit hold inside builtins too. Before, a
// single builtin call ignored the deadline (numbers.range(1, 6.7e7) with a 3 s limit ran 26.8 s
// and 1.7 GB; replace/concat blow-ups 7–12 s) and oversized results became a silent undefined.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";

const A100 = "a".repeat(100);

/** Evaluate with a deadline; returns the error (or null), the wall time and the RSS growth. */
function run(query: string, timeoutMs: number, module?: string): { err: RegoError | null; ms: number; rssMB: number } {
  const e = new Engine();
  if (module) e.addModule("m.rego", module);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let err: RegoError | null = null;
  try {
    e.query(query, { timeoutMs });
  } catch (x) {
    if (!(x instanceof RegoError)) throw x;
    err = x;
  }
  return { err, ms: performance.now() - t0, rssMB: (process.memoryUsage().rss - rss0) / 2 ** 20 };
}

test("numbers.range past the size limit is a named error at once, not 1.7 GB", () => {
  const r = run("count(numbers.range(1, 6.7e7))", 3000);
  assert.equal(r.err?.code, "eval_builtin_error");
  assert.match(r.err!.message, /numbers\.range: result would exceed the evaluation's size limit of 268435456 bytes/);
  assert.ok(r.ms < 1000, `${r.ms} ms`);
  assert.ok(r.rssMB < 100, `${r.rssMB} MB`);
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
    assert.ok(r.ms < 3500, `${name}: ${r.ms} ms`);
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
    // 1 s deadline; half a second of slack, and as much again for a loaded machine.
    assert.ok(r.ms < 2000, `${r.ms} ms: ${q}`);
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
});
