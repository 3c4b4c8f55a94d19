// Issue 10's acceptance: "a 3 s deadline stops every evaluation above within 3.5 s and 500 MB".
// Every reproducer of the issue that is an evaluation (a query, with its module and input) runs
// here with a 3 s deadline, in this one process: each must give the peer's answer (OPA 1.19's,
// recorded below: a value, undefined, or an error code) or stop at the deadline, and use under
// 3.5 s of CPU (and of wall time when the machine is idle, test/timing.ts) and under 500 MB of
// memory above what the process held before it (its peak: the process's maximum RSS, which
// only grows, so a case is charged at least its own peak).
//
// Where our answer differs from OPA's it is a documented limit (docs/LIMITS.md): numbers.range
// past the 128 MiB result size is a named error at once, where OPA builds numbers until its own
// deadline. Two cases are several seconds of work anywhere and must be stopped by the deadline.
// (The fuzz findings replay in test/fuzz/regressions.test.ts, under a CPU budget of their own.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";
import { measure, within } from "../timing.ts";

const A = (n: number) => "a".repeat(n);
const lines = (n: number, f: (i: number) => string, sep = "\n") => Array.from({ length: n }, (_, i) => f(i)).join(sep);
const LAUGHS =
  ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ..."bcdefghi".split("").map((c, i) => `${c}: &${c} [${Array(9).fill(`*${"abcdefghi"[i]}`).join(",")}]`)].join("\n") + "\n";

/** A JS value nested n arrays deep, built without recursion. */
function deepArray(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

interface Case {
  name: string;
  module?: string;
  input?: () => unknown;
  query: string;
  /** The peer's answer: the value of the query's one expression, "undefined", or an error code. */
  want: { value: unknown } | "undefined" | { code: string; match?: RegExp; orDeadline?: boolean };
}

const CASES: Case[] = [
  // Regex: linear time (RE2). OPA: false, 0.09 s.
  { name: "regex.match((a+)+$) on 1M characters", input: () => ({ s: A(1_000_000) + "!" }), query: `regex.match("(a+)+$", input.s)`, want: { value: false } },
  // JSON Schema `pattern` runs on the same engine (26 characters took 44.7 s before). OPA: false.
  { name: "JSON Schema pattern ^(a+)+$", query: `json.match_schema({"s": "${A(26)}!"}, {"properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}})[0]`, want: { value: false } },
  // YAML alias bomb: Go's "excessive aliasing", a builtin error (undefined, not strict). OPA: undefined.
  { name: "yaml.unmarshal of the billion-laughs alias bomb", input: () => ({ y: LAUGHS }), query: `yaml.unmarshal(input.y)`, want: "undefined" },
  // A single builtin call past the size limit (OPA: eval_cancel_error at its deadline).
  { name: "numbers.range(1, 6.7e7)", query: `count(numbers.range(1, 6.7e7))`, want: { code: "eval_builtin_error", match: /size limit/ } },
  // OPA: 300000000 (a 300 MB string, 1.4 GB of memory). Here the size limit's named error, or
  // the deadline first when the machine is loaded (building the million-part string takes it).
  { name: "replace blow-up to 300 MB", query: `count(replace(concat("", [t | some j in numbers.range(1, 1000000); t := "a"]), "a", "${A(300)}"))`, want: { code: "eval_builtin_error", match: /replace: result would exceed|evaluation exceeded its deadline/, orDeadline: true } },
  // Several seconds of work anywhere: the deadline stops them (OPA: eval_cancel_error).
  // Loops of builtin calls stopped by the deadline.
  { name: "3 million replace calls", query: `count([1 | some i in numbers.range(1, 3000000); replace("${A(100)}", "a", "bb") != ""])`, want: { code: "eval_cancel_error" } },
  // The same results kept: 3 million 200-byte strings reached ~860 MB within 3 s (idle machine)
  // before the allocation budget; now the budget stops it at ~660,000 results (~110 MB), or the
  // deadline first on a loaded machine (test/security/memory.test.ts asserts the budget alone).
  // OPA: eval_cancel_error at its deadline.
  { name: "3 million replace results kept", query: `count([s | some i in numbers.range(1, 3000000); s := replace("${A(100)}", "a", "bb")])`, want: { code: "eval_cancel_error", match: /memory budget|deadline/ } },
  { name: "3 million walk calls", query: `count([1 | some i in numbers.range(1, 3000000); walk([[1, 2], {"a": [3]}], _)])`, want: { code: "eval_cancel_error" } },
  // Programs: long chains, deep literals, long paths, deep input, a long cycle. OPA's answers.
  { name: "a chain of 2,000 rules", module: `package p\n${lines(2000, (i) => `r${i} := r${i + 1}`)}\nr2000 := 1\n`, query: `data.p.r0`, want: { value: 1 } },
  { name: "set literals nested 1,000 deep", module: `package p\nx := ${"{".repeat(1000)}1${"}".repeat(1000)}\n`, query: `count(data.p.x)`, want: { value: 1 } },
  { name: "a package path of 40,000 parts", module: `package ${lines(40000, () => "a", ".")}\nx := 1\n`, query: `true`, want: { value: true } },
  { name: "input nested 4,600 arrays deep", input: () => deepArray(4600), query: `x := 1`, want: { value: 1 } },
  { name: "1,400 terms of 1 + 1 + …", query: `x := ${lines(1400, () => "1", " + ")}`, want: { value: 1400 } },
  { name: "graphql.is_valid({}, {})", query: `graphql.is_valid({}, {})`, want: { value: true } },
];

for (const c of CASES) {
  test(`3 s deadline: ${c.name}`, () => {
    const e = new Engine();
    if (c.module !== undefined) e.addModule("m.rego", c.module);
    const input = c.input?.();
    const rss0 = process.memoryUsage().rss;
    const m = measure(() => e.query(c.query, { input, timeoutMs: 3000 }));
    const peakMB = (process.resourceUsage().maxRSS * 1024 - rss0) / 2 ** 20;
    if (m.value instanceof Error && !(m.value instanceof RegoError)) throw m.value;
    if (typeof c.want === "object" && "code" in c.want) {
      assert.ok(m.value instanceof RegoError, `want ${c.want.code}, got ${JSON.stringify(m.value)?.slice(0, 200)}`);
      if (!(c.want.orDeadline && m.value.code === "eval_cancel_error")) assert.equal(m.value.code, c.want.code, m.value.message.slice(0, 300));
      if (c.want.match) assert.match(m.value.message, c.want.match);
    } else {
      assert.ok(!(m.value instanceof RegoError), `error: ${(m.value as RegoError).message?.slice(0, 300)}`);
      const rs = m.value as { expressions: { value: unknown }[]; bindings?: Record<string, unknown> }[];
      if (c.want === "undefined") assert.deepEqual(rs, []);
      else {
        assert.equal(rs.length, 1);
        assert.deepEqual(rs[0].expressions[0].value === true && rs[0].bindings?.x !== undefined ? rs[0].bindings.x : rs[0].expressions[0].value, c.want.value);
      }
    }
    if (m.value instanceof RegoError && m.value.code === "eval_cancel_error") {
      // Stopped by the deadline, which is wall-clock time: the claim is "stopped within 3.5 s of
      // wall time", and it holds under load too (a loaded machine slows the work, not the clock).
      // CPU time is no measure here: V8's parallel GC threads add up to ~1.5 s of CPU to 3 s of
      // allocation-heavy evaluation (4.3–4.6 s of process CPU for 3.0 s of wall time, idle).
      assert.ok(m.wallMs < 3500, `${c.name}: stopped after ${m.wallMs.toFixed(0)} ms of wall time (bound 3500 ms)`);
    } else within(m, 3500, c.name);
    assert.ok(peakMB < 500, `${c.name}: peak ${peakMB.toFixed(0)} MB above the ${(rss0 / 2 ** 20).toFixed(0)} MB held before`);
  });
}

// The deadline also holds while a large result is converted to JavaScript, after the evaluation
// itself ended: `walk` over an object nested 1,961 deep has 1,962 paths of up to 1,961 keys and as
// many subtrees, ~2 million values in all (a fuzz finding, seed 21: 1.9–3.7 s of conversion after
// 0.05 s of evaluation, past a 1 s deadline). OPA prints 5 GB of JSON for it over 94 s.
test("the deadline holds while a large result is converted", () => {
  let input: unknown = {};
  for (let i = 0; i < 1961; i++) input = { a: input };
  const e = new Engine();
  assert.equal((e.queryRaw("walk(input, x)", { input }) as unknown[]).length, 1962);
  const m = measure(() => e.query("walk(input, x)", { input, timeoutMs: 300 }));
  assert.ok(m.value instanceof RegoError, `want eval_cancel_error, got ${Array.isArray(m.value) ? `${m.value.length} results` : String(m.value)}`);
  assert.equal(m.value.code, "eval_cancel_error");
  assert.match(m.value.message, /converting the result exceeded the evaluation's deadline/);
  assert.ok(m.wallMs < 1300, `stopped after ${m.wallMs.toFixed(0)} ms (deadline 300 ms)`);
});
