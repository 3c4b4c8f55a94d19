// Hardening: the allocation budget of an evaluation (EvalLimits.maxAllocBytes, docs/LIMITS.md).
// Before, a comprehension keeping 3 million 200-byte `replace` results held ~860 MB within a 3 s
// deadline: each builtin result was held to the size limit, but what an evaluation accumulated
// in its own collections was not counted. OPA has no such budget; with a 3 s deadline it answers
// `eval_cancel_error` (OPA 1.19, recorded: "numbers.range: timed out before generating all
// numbers in range"), the code the budget gives too.
//
// The budget is asserted with a deadline far away, so that it is the budget that stops the
// evaluation however loaded the machine is; its peak memory is the process's maximum RSS above
// what it held before (the maximum only grows, so the case is charged at least its own peak).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError, DEFAULT_LIMITS, type EvalLimits } from "../../src/index.ts";
import { measure, within } from "../timing.ts";

const BUDGET = /^evaluation exceeded its memory budget: the collections and strings it built would take more than the limit of \d+ bytes \(estimated\)$/;

function run(query: string, opts: { module?: string; limits?: Partial<EvalLimits>; timeoutMs?: number; input?: unknown } = {}) {
  const e = new Engine({ limits: opts.limits });
  if (opts.module) e.addModule("m.rego", opts.module);
  const rss0 = process.memoryUsage().rss;
  const m = measure(() => e.query(query, { input: opts.input, timeoutMs: opts.timeoutMs ?? 120_000 }));
  if (m.value instanceof Error && !(m.value instanceof RegoError)) throw m.value;
  const peakMB = (process.resourceUsage().maxRSS * 1024 - rss0) / 2 ** 20;
  return { err: m.value instanceof RegoError ? m.value : null, value: m.value, cpuMs: m.cpuMs, wallMs: m.wallMs, peakMB };
}

function refused(r: ReturnType<typeof run>, what: string): void {
  assert.ok(r.err, `${what}: want the memory budget's error, got ${JSON.stringify(r.value)?.slice(0, 200)}`);
  assert.equal(r.err.code, "eval_cancel_error", r.err.message);
  assert.equal(r.err.errors.length, 1);
  assert.match(r.err.errors[0].message, BUDGET);
}

function count(r: ReturnType<typeof run>): unknown {
  if (r.err) assert.fail(r.err.message);
  return (r.value as { expressions: { value: unknown }[] }[])[0].expressions[0].value;
}

test("the default budget is 512 MiB (estimated)", () => {
  assert.equal(DEFAULT_LIMITS.maxAllocBytes, 512 * 1024 * 1024);
});

test("3 million 200-byte replace results kept in a comprehension are refused by the budget, under 500 MB", () => {
  const r = run(`count([s | some i in numbers.range(1, 3000000); s := replace("${"a".repeat(100)}", "a", "bb")])`);
  refused(r, "3 million kept results");
  assert.match(r.err!.message, /limit of 536870912 bytes/);
  assert.ok(r.peakMB < 500, `peak ${r.peakMB.toFixed(0)} MB above the process's RSS before`);
  // About 1.3 million results (~330 MB at the peak) are built before the budget stops it: 3–8 s
  // of CPU under a load average of 23 (each replacement reports its growth); a sanity bound.
  within(r, 15000, "3 million kept results");
});

test("legitimate workloads stay far below the default budget", () => {
  // A million numbers, a set and an object of 100,000 entries, 100,000 messages.
  const r = run("[count(data.m.a), count(data.m.s), count(data.m.o), count(data.m.m)]", {
    module: `package m
a := [x | some x in numbers.range(1, 1000000)]
s := {x | some x in numbers.range(1, 100000)}
o := {k: x | some x in numbers.range(1, 100000); k := sprintf("key-%d", [x])}
m := [msg | some x in numbers.range(1, 100000); msg := concat(" ", ["container", format_int(x, 10), "has no resource limits"])]`,
  });
  assert.deepEqual(count(r), [1000000, 100000, 100000, 100000]);
});

test("every kind of growing collection counts against a host's budget; input and data do not", () => {
  const limits = { maxAllocBytes: 1_000_000 };
  // 250,000 elements of 8 bytes or more from a 500-number range (4 KB): only the collection
  // being built can exceed 1 MB. The input (100,000 objects) is not counted.
  const xs = "xs := numbers.range(1, 500)\n";
  const input = { items: Array.from({ length: 100_000 }, (_, i) => ({ k: i % 2 })) };
  const cases: [string, string, string][] = [
    ["array comprehension", "count(data.m.r)", `package m\n${xs}r := [(i * 1000 + j) | some i in xs; some j in xs]`],
    ["set comprehension", "count(data.m.r)", `package m\n${xs}r := {(i * 1000 + j) | some i in xs; some j in xs}`],
    ["object comprehension", "count(data.m.r)", `package m\n${xs}r := {(i * 1000 + j): 1 | some i in xs; some j in xs}`],
    ["partial set rule", "count(data.m.r)", `package m\n${xs}r contains i * 1000 + j if { some i in xs; some j in xs }`],
    ["partial object rule", "count(data.m.r)", `package m\n${xs}r[i * 1000 + j] := 1 if { some i in xs; some j in xs }`],
    // Indexed on k (compindex.ts): its groups are built once, from 100,000 input objects.
    ["indexed comprehension", "count(data.m.r)", "package m\nr contains [k, c] if { some k in [0, 1]; c := count([m | some m in input.items; m.k == k]) }"],
    // Builtin results sized by checkSize: a 10,000-number array a hundred times.
    ["builtin results", "count(data.m.r)", "package m\nr := [1 | some i in numbers.range(1, 100); x := numbers.range(1, 10000); count(x) > 0]"],
  ];
  for (const [what, query, module] of cases) {
    refused(run(query, { module, limits, input }), what);
    // The same evaluation under the default budget.
    assert.equal(typeof count(run(query, { module, input })), "number", what);
  }
  // Input and data are not counted: a query that only reads them passes under a 1 KB budget.
  const e = new Engine({ limits: { maxAllocBytes: 1000 } });
  e.addData({ big: Array.from({ length: 100_000 }, (_, i) => `item ${i}`) });
  const rs = e.query("count(input.items) + count(data.big)", { input }) as { expressions: { value: unknown }[] }[];
  assert.equal(rs[0].expressions[0].value, 200_000);
});

test("the budget is per evaluation: each query starts from zero", () => {
  const e = new Engine({ limits: { maxAllocBytes: 4_000_000 } });
  // About 1.6 MB each (8 bytes a number in the range, 8 more in the comprehension).
  for (let i = 0; i < 5; i++) {
    const rs = e.query("count([x | some x in numbers.range(1, 100000)])") as { expressions: { value: unknown }[] }[];
    assert.equal(rs[0].expressions[0].value, 100000);
  }
});
