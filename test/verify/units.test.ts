// The pieces of `portcullis verify`: engine evaluation hooks, discovery and renaming, sub-results,
// source extents for coverage, and the small formatters.
import test from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../src/engine/index.ts";
import { parseModule } from "../../src/rego/parser.ts";
import type { Location } from "../../src/rego/ast.ts";
import { discover, testQuery } from "../../src/verify/discover.ts";
import { runTests } from "../../src/verify/runner.ts";
import { SourceIndex } from "../../src/verify/extent.ts";
import { CoverageCollector, coverageReport, coveredLines } from "../../src/verify/coverage.ts";
import { goDuration, prettyReport } from "../../src/verify/report.ts";
import { parseDuration } from "../../src/gotext/duration.ts";
import { globRegExp } from "../../src/verify/session.ts";

const SRC = `package t

import rego.v1

f(x) := y if {
	y := x * 2
}

p if {
	input.kind == "Pod"
	f(2) == 4
}

q if {
	input.kind == "Service"
	false
}
`;

test("hooks: enter/leave are balanced, expressions and failures reported; no hooks, same results", async () => {
  const events: string[] = [];
  const at = (l: Location) => `${l.row}`;
  const hooks = {
    expr: (l: Location) => void events.push(`expr ${at(l)}`),
    fail: (l: Location) => void events.push(`fail ${at(l)}`),
    enter: (l: Location) => void events.push(`enter ${at(l)}`),
    leave: (l: Location, produced: boolean) => void events.push(`leave ${at(l)} ${produced}`),
  };
  const hooked = new Engine({ hooks });
  const plain = new Engine();
  hooked.addModules([{ file: "t.rego", source: SRC }]);
  plain.addModules([{ file: "t.rego", source: SRC }]);
  for (const q of ["data.t.p", "data.t.q"]) {
    assert.deepEqual(await hooked.query(q, { input: { kind: "Pod" } }), await plain.query(q, { input: { kind: "Pod" } }));
  }
  events.length = 0;
  await hooked.query("data.t.p", { input: { kind: "Pod" } });
  assert.deepEqual(events.filter((e) => !e.endsWith(" 1")), [
    "enter 9",
    "expr 10",
    "expr 11",
    "enter 5",
    "expr 6",
    "leave 5 true",
    "leave 9 true",
  ]);
  events.length = 0;
  await hooked.query("data.t.q", { input: { kind: "Pod" } });
  assert.deepEqual(events.filter((e) => !e.endsWith(" 1")), ["enter 14", "expr 15", "fail 15", "leave 14 false"]);
  // An error still leaves.
  const e = new Engine({ hooks });
  e.addModules([{ file: "e.rego", source: "package e\nimport rego.v1\nx := 1 if input.a\nx := 2 if input.a\n" }]);
  events.length = 0;
  await assert.rejects(async () => e.query("data.e.x", { input: { a: true } }));
  const enters = events.filter((x) => x.startsWith("enter")).length;
  const leaves = events.filter((x) => x.startsWith("leave")).length;
  assert.equal(enters, leaves);
});

test("discover: duplicates renamed, kinds, todo tests", async () => {
  const m = parseModule(
    "d.rego",
    `package d
import rego.v1
test_a if true
test_a if false
todo_test_b if false
test_c[k] if { some k in ["x", "y"]; k == "x" }
test_d.e := true
test_f.g if true
test_h(x) if x
`,
  );
  const disc = discover([m]);
  assert.deepEqual(
    disc.tests.map((t) => [t.name, t.kind, t.skip]),
    [
      ["test_a", "plain", false],
      ["test_a#01", "plain", false],
      ["todo_test_b", "plain", true],
      ["test_c", "sub", false],
      ["test_d", "sub", false],
      ["test_f", "whole-fail", false],
      ["test_h", "function", false],
    ],
  );
  assert.equal(testQuery(disc.tests[1]), 'data["d"]["test_a#01"]');
  const engine = new Engine();
  engine.addParsedModules([m]);
  const rs = await runTests(engine, disc.tests);
  const st = rs.map((r) => `${r.test.name}:${r.skip ? "skip" : r.error ? "error" : r.fail ? "fail" : "pass"}`);
  assert.deepEqual(st, ["test_a:pass", "test_a#01:fail", "todo_test_b:skip", "test_c:fail", "test_d:pass", "test_f:fail", "test_h:error"]);
  assert.deepEqual(rs[3].subResults, [
    { name: "x", fail: false, children: [] },
    { name: "y", fail: true, children: [] },
  ]);
  const out = prettyReport(rs);
  assert.match(out, /d\.rego:6:\ndata\.d\.test_c: FAIL \([^)]+\)\n  y: FAIL\n/);
  assert.match(out, /PASS: 3\/8\nFAIL: 3\/8\nSKIPPED: 1\/8\nERROR: 1\/8\n$/);
});

test("extent: expression and head ranges as opa reports them", () => {
  const src = `package x

default allow := false

obj := {
	"a": 1,
}

r if {
	every v in input.xs {
		v > 0
	}
	count(input.xs) == 2 with input.xs as [1, 2]
}

f(x) := 1 if { x > 10 } else := 2
`;
  const ix = new SourceIndex(src);
  const fmt = (rs: { start: { row: number; col: number }; end: { row: number; col: number } }[]) => rs.map((r) => `${r.start.row}:${r.start.col}-${r.end.row}:${r.end.col}`);
  assert.deepEqual(fmt(ix.headRanges(3, 1)), ["3:1-3:8", "3:9-3:23"]);
  assert.deepEqual(fmt(ix.headRanges(5, 1)), ["5:1-7:2"]);
  assert.deepEqual(fmt(ix.headRanges(9, 1)), ["9:1-9:2"]);
  assert.deepEqual(fmt([ix.exprRange(10, 2)!]), ["10:2-12:3"]);
  assert.deepEqual(fmt([ix.exprRange(11, 3)!]), ["11:3-11:8"]);
  assert.deepEqual(fmt([ix.exprRange(13, 2)!]), ["13:2-13:46"]);
  assert.deepEqual(fmt(ix.headRanges(16, 1)), ["16:1-16:10"]);
  assert.deepEqual(fmt([ix.exprRange(16, 16)!]), ["16:16-16:22"]);
  assert.deepEqual(fmt(ix.headRanges(16, 25)), ["16:25-16:34"]);
});

test("coverage: a rule whose index-like condition fails is not covered", async () => {
  const m = parseModule("c.rego", SRC);
  const cov = new CoverageCollector([m]);
  const e = new Engine({ hooks: cov });
  e.addParsedModules([m]);
  cov.enabled = true;
  await e.query("data.t.q", { input: { kind: "Pod" } });
  await e.query("data.t.p", { input: { kind: "Pod" } });
  cov.enabled = false;
  const rep = coverageReport([m], new Map([["c.rego", SRC]]), cov.covered);
  const lines = coveredLines(rep.files["c.rego"]);
  assert.deepEqual(lines.covered, [5, 6, 9, 10, 11]);
  assert.deepEqual(lines.notCovered, [14, 15, 16]);
  assert.equal(rep.covered_lines, 5);
  assert.equal(rep.not_covered_lines, 3);
});

test("formatters: Go durations, duration flags, namespace globs", () => {
  assert.equal(goDuration(0), "0s");
  assert.equal(goDuration(999), "999ns");
  assert.equal(goDuration(185393), "185.393µs");
  assert.equal(goDuration(5733636), "5.733636ms");
  assert.equal(goDuration(2000737043), "2.000737043s");
  assert.equal(goDuration(1000000), "1ms");
  assert.equal(goDuration(61500000000), "1m1.5s");
  assert.equal(parseDuration("5s"), 5000);
  assert.equal(parseDuration("1m30s"), 90000);
  assert.equal(parseDuration("250ms"), 250);
  assert.throws(() => parseDuration("soon"));
  assert.ok(globRegExp("main.*").test("main.sub.x"));
  assert.ok(!globRegExp("main").test("main.sub"));
  assert.ok(globRegExp("lib?").test("libs"));
  assert.ok(globRegExp("[ab]x").test("bx"));
});
