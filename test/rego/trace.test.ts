// The evaluation tracer (src/rego/trace.ts): its events on the Engine API, and its printers
// against OPA's and conftest's traces, recorded in test/fixtures/trace/expected.json
// (test/rego/trace-record.ts re-records them) and compared live when the oracles are installed.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine } from "../../src/engine/index.ts";
import type { BuiltinContext } from "../../src/rego/builtin.ts";
import { BufferTracer, prettyTrace, explainEvents, filterTrace, eventText, type TraceEvent } from "../../src/rego/trace.ts";
import { CASES, EXPECTED_FILE, caseName, ours, oracle, matchedLines, sortedQueries } from "./trace-cases.ts";

const expected: { name: string; lines: string[]; matched: number; exact: boolean }[] = JSON.parse(readFileSync(EXPECTED_FILE, "utf8"));

test("trace corpus: recorded OPA/conftest lines, at least as many matched as when recorded, all of them where all matched", async (t) => {
  assert.equal(expected.length, CASES.length, "expected.json is out of date: re-record with test/rego/trace-record.ts");
  let total = 0;
  let matched = 0;
  let exact = 0;
  for (let i = 0; i < CASES.length; i++) {
    const c = CASES[i];
    const rec = expected[i];
    assert.equal(rec.name, caseName(c));
    const mine = await ours(c);
    const m = matchedLines(c, mine, rec.lines);
    total += rec.lines.length;
    matched += m;
    if (rec.exact) {
      // (opa test runs tests in a varying order; conftest queries rules in Go map order: see trace-cases.ts)
      const canon = (ls: string[]) => (c.kind === "verify" ? [...ls].sort() : c.kind === "conftest" ? sortedQueries(ls) : ls);
      assert.deepEqual(canon(mine), canon(rec.lines), caseName(c));
      exact++;
    } else {
      assert.ok(m >= rec.matched, `${caseName(c)}: ${m} lines match, ${rec.matched} did when recorded`);
    }
  }
  t.diagnostic(`${matched}/${total} oracle trace lines matched; ${exact}/${CASES.length} cases match exactly`);
  assert.ok(exact >= 62);
});

test("trace corpus: live oracles (skipped without opa/conftest)", async (t) => {
  if (oracle(CASES[0]) === null) return t.skip("opa is not installed");
  for (let i = 0; i < CASES.length; i++) {
    const c = CASES[i];
    const live = oracle(c);
    if (live === null) continue;
    const rec = expected[i];
    if (!rec.exact) continue;
    // What matched exactly when recorded still does against the installed oracle.
    const mine = await ours(c);
    assert.equal(matchedLines(c, mine, live), live.length, caseName(c));
  }
});

const POLICY = `package t
import rego.v1
allow if {
	x := input.n
	trace(sprintf("n=%v", [x]))
	x > 1
}
vs contains v if {
	some v in input.vs
	v > 1
}
`;

function traced(query: string, input: unknown): { events: TraceEvent[]; result: unknown } {
  const e = new Engine();
  e.addModule("t.rego", POLICY);
  const tr = new BufferTracer();
  const result = e.query(query, { input, tracer: tr });
  return { events: tr.events, result };
}

test("engine tracer: events with query ids, parents, locations, notes and bindings", () => {
  const { events, result } = traced("data.t.allow", { n: 2 });
  assert.deepEqual((result as { expressions: { value: unknown }[] }[])[0].expressions[0].value, true);
  assert.deepEqual(
    prettyTrace(explainEvents(events, "full"), { locations: true }),
    [
      "query:1      Enter data.t.allow = _",
      "query:1      | Eval data.t.allow = _",
      "query:1      | Index data.t.allow (matched 1 rule, early exit)",
      "t.rego:3     | Enter data.t.allow",
      "t.rego:4     | | Eval x = input.n",
      // OPA's compiler moved the nested call out (tracerewrite.ts)
      't.rego:5     | | Eval sprintf("n=%v", [x], __local4__)',
      't.rego:5     | | Eval trace(__local4__)',
      't.rego:5     | | Note "n=2"',
      "t.rego:6     | | Eval gt(x, 1)",
      "t.rego:3     | | Exit data.t.allow early",
      "query:1      | Exit data.t.allow = _",
      "query:1      Redo data.t.allow = _",
      "query:1      | Redo data.t.allow = _",
      // OPA evaluates the rule inside the query: its body is redone when the query comes back to
      // the expression, each expression last first (the rule stopped at its first value: no Eval)
      "t.rego:3     | Redo data.t.allow",
      "t.rego:6     | | Redo gt(x, 1)",
      't.rego:5     | | Redo trace(__local4__)',
      't.rego:5     | | Redo sprintf("n=%v", [x], __local4__)',
      "t.rego:4     | | Redo x = input.n",
    ],
  );
  // Unify events (debug only): the expression with bound variables plugged, then the values.
  assert.deepEqual(
    events.filter((e) => e.op === "Unify").map(eventText),
    ["Unify data.t.allow = _", "Unify x = input.n", "Unify 2 = x", 'Unify __local4__ = "n=2"', "Unify true = _"],
  );
  const enterRule = events.find((e) => e.op === "Enter" && e.node.kind === "rule")!;
  assert.equal(enterRule.parentId, 0);
  assert.ok(enterRule.queryId > 0);
  const note = events.find((e) => e.op === "Note")!;
  assert.equal(note.queryId, enterRule.queryId);
  assert.equal(note.message, "n=2");
  const gt = events.find((e) => e.op === "Eval" && e.node.kind === "expr" && e.node.text === "gt(x, 1)")!;
  assert.deepEqual(gt.bindings, [["x", 2]]);
});

test("engine tracer: Fail and Redo through backtracking; notes and fails filters keep the path to the event", () => {
  const { events } = traced("data.t.vs", { vs: [1, 3] });
  const lines = prettyTrace(events);
  assert.ok(lines.includes("| | Fail gt(v, 1)"));
  // the key OPA generates for `some v in`, numbered as its compiler does (traceview.ts)
  assert.ok(lines.includes("| | Redo v = input.vs[__local1__]"));
  assert.deepEqual(prettyTrace(explainEvents(events, "fails")), ["Enter data.t.vs = _", "| Enter data.t.vs", "| | Fail gt(v, 1)"]);
  const withNote = traced("data.t.allow", { n: 0 }).events;
  assert.deepEqual(prettyTrace(filterTrace(withNote, (e) => e.op === "Note")), ["Enter data.t.allow = _", "| Enter data.t.allow", '| | Note "n=0"']);
});

test("engine tracer: off by default, and the same results with and without it", () => {
  const e = new Engine();
  e.addModule("t.rego", POLICY);
  const plain = e.query("data.t.vs", { input: { vs: [1, 3, 5] } });
  const tr = new BufferTracer();
  const withTrace = e.query("data.t.vs", { input: { vs: [1, 3, 5] }, tracer: tr });
  assert.deepEqual(withTrace, plain);
  assert.ok(tr.events.length > 10);
  // An untraced evaluation after a traced one emits nothing to the earlier tracer.
  const n = tr.events.length;
  e.query("data.t.vs", { input: { vs: [1, 3, 5] } });
  assert.equal(tr.events.length, n);
});

test("engine tracer: an evaluation suspended for I/O reports only the attempt that finished", async () => {
  const e = new Engine({
    builtins: [
      {
        name: "slow",
        decl: { type: "function", args: [], result: { type: "any" } },
        impl: (_a: unknown[], ctx: BuiltinContext) => ctx.awaitValue("k", async () => 7),
      } as never,
    ],
  });
  e.addModule("s.rego", "package s\nimport rego.v1\nv := slow() if true\n");
  const tr = new BufferTracer();
  const r = await e.query("data.s.v", { tracer: tr });
  assert.equal((r as { expressions: { value: unknown }[] }[])[0].expressions[0].value, 7);
  assert.equal(tr.events.filter((x) => x.op === "Enter" && x.node.kind === "body").length, 1);
});

test("public API: the tracer and its printers are exported from the package entry", async () => {
  const api = await import("../../src/index.ts");
  const e = new api.Engine();
  e.addModule("n.rego", 'package n\nimport rego.v1\np if trace("here")\n');
  const tr = new api.BufferTracer();
  const pq = e.prepare("data.n.p");
  pq.eval({ tracer: tr });
  assert.deepEqual(api.prettyTrace(api.explainEvents(tr.events, "notes")), ["Enter data.n.p = _", "| Enter data.n.p", '| | Note "here"']);
});

test("engine tracer: the key of `some v in xs` named as OPA's compiler numbers it, over modules sorted by name", () => {
  // Recorded from opa eval --explain=full -d two/b.rego -d two/a.rego data.two.last (OPA 1.19):
  // a.rego draws 0–5 (arguments, :=, a head comprehension), b.rego 6–10 (some … in, every).
  const e = new Engine();
  e.addModule("two/b.rego", "package two\nimport rego.v1\nhas contains x if {\n\tsome x in input.xs\n\tevery y in input.xs { y > 0 }\n}\nlast if {\n\tsome z in input.xs\n\tz > 1\n}\n");
  e.addModule("two/a.rego", "package two\nimport rego.v1\nf(a, b) := c if {\n\tc := a + b\n}\ncounts := {k: n | some k, vs in input.g; n := count(vs)}\n");
  const tr = new BufferTracer();
  e.query("data.two.last", { input: { xs: [2], g: {} }, tracer: tr });
  const lines = prettyTrace(explainEvents(tr.events, "full"), { locations: true });
  assert.ok(lines.includes("two/b.rego:8     | | Eval z = input.xs[__local11__]"), lines.join("\n"));
  assert.ok(lines.includes("two/b.rego:8     | | Redo z = input.xs[__local11__]"));
});

test("engine tracer: OPA's index runs at every reference to a document, also when the value is cached", () => {
  // opa eval --explain=full data.m.p (OPA 1.19): two `Index data.m.s (matched 1 rule)` lines.
  const e = new Engine();
  e.addModule("m.rego", "package m\nimport rego.v1\ns contains x if some x in [1, 2]\np if {\n\tcount(s) > 0\n\tcount(s) > 1\n}\n");
  const tr = new BufferTracer();
  e.query("data.m.p", { tracer: tr });
  const index = prettyTrace(explainEvents(tr.events, "full")).filter((l) => l.includes("Index data.m.s"));
  assert.deepEqual(index, ["| | Index data.m.s (matched 1 rule)", "| | Index data.m.s (matched 1 rule)"]);
});
