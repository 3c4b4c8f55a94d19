// Every regular expression that a policy or an input supplies runs in linear time (RE2's
// guarantee, which OPA, gojsonschema, the Kubernetes API server and CUE inherit from Go): the
// classic catastrophic-backtracking patterns on 1M-character inputs, through every caller
// (regex builtins, JSON Schema pattern/patternProperties, Gatekeeper parameter schemas, CUE
// =~/!~, conftest namespace globs). Expected values are OPA 1.19's answers for the same calls
// on the same inputs (opa eval with the inputs in a JSON file).

import { test } from "node:test";
import assert from "node:assert/strict";
import { BUILTINS } from "../../src/builtins/index.ts";
import { validateSchema } from "../../src/gatekeeper/schema.ts";
import { evaluateCue } from "../../src/formats/cue.ts";
import { globToRegExp } from "../../src/conftest/glob.ts";
import { getRegex } from "../../src/builtins/re2.ts";
import { backtrack, backtrackFits, dfaSearch, pike } from "../../src/builtins/re2vm.ts";
import { fakeContext } from "./helpers.ts";
import type { Value } from "../../src/rego/value.ts";

const N = 1_000_000;
const A = "a".repeat(N);
const AB = A + "b";
const AC = A + "c";
const X = "x".repeat(N);
const B19 = "a".repeat(19) + "b".repeat(N);

const LIMIT_MS = 1000;

/** A builtin's result as plain JSON data (objects come back with a null prototype). */
function call(name: string, ...args: Value[]): unknown {
  const v = BUILTINS.get(name)!.impl(args, fakeContext()) as Value;
  return JSON.parse(JSON.stringify(v));
}

/**
 * Runs f, asserting that it takes under LIMIT_MS of CPU time (this process's, so that other work
 * on a shared machine does not count; a backtracking engine takes minutes here); returns its result.
 */
function fast<T>(what: string, f: () => T): T {
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  const r = f();
  const u = process.cpuUsage(u0);
  const ms = (u.user + u.system) / 1000;
  if (process.env.REGEX_TIMES) console.log(`${ms.toFixed(1).padStart(8)} ms cpu ${(performance.now() - t0).toFixed(1).padStart(8)} ms wall  ${what}`);
  assert.ok(ms < LIMIT_MS, `${what} took ${ms.toFixed(0)} ms of CPU time`);
  return r;
}

test("regex.match: catastrophic patterns on 1M characters (OPA's answers)", () => {
  const cases: [string, string, string, boolean][] = [
    ["(a+)+$", AB, "a*1M b", false],
    ["^(a+)+$", A, "a*1M", true],
    ["^(a|a)*$", AB, "a*1M b", false],
    ["(a|a)*$", AB, "a*1M b", true],
    ["(a*)*b", A, "a*1M", false],
    ["(x+x+)+y", X, "x*1M", false],
    ["(.*a){20}", A, "a*1M", true],
    ["(.*a){20}", B19, "a*19 b*1M", false],
    ["a.*b", A, "a*1M", false],
    ["[a-z]+@", A, "a*1M", false],
    ["^(\\w|\\d)+$", AB, "a*1M b", true],
  ];
  for (const [p, s, desc, want] of cases) {
    assert.equal(
      fast(`regex.match(${p}, ${desc})`, () => call("regex.match", p, s)),
      want,
      `regex.match(${p}, ${desc})`,
    );
  }
});

test("submatch builtins on 1M characters (OPA's answers)", () => {
  assert.deepEqual(fast("find_n", () => call("regex.find_n", "(a+)+b", AC, -1)), []);
  const sub = fast("find_all_string_submatch_n", () => call("regex.find_all_string_submatch_n", "^(a+)+b", AB, -1)) as string[][];
  assert.equal(sub.length, 1);
  assert.equal(sub[0][0], AB);
  assert.equal(sub[0][1].length, N);
  assert.equal(fast("replace", () => call("regex.replace", AB, "(a|aa)+b", "x")), "x");
  assert.deepEqual(fast("split", () => call("regex.split", "(x+x+)+y", X)), [X]);
  const sub2 = fast("find_all_string_submatch_n (a|a)*c", () => call("regex.find_all_string_submatch_n", "(a|a)*c", AC, -1)) as string[][];
  assert.equal(sub2.length, 1);
  assert.equal(sub2[0][0].length, N + 1);
  assert.equal(sub2[0][1], "a");
  assert.equal(fast("template_match", () => call("regex.template_match", "{(a+)+}b", AC, "{", "}")), false);
});

test("JSON Schema pattern and patternProperties on 1M characters (OPA's answers)", () => {
  const schema = JSON.stringify({ properties: { x: { type: "string", pattern: "^(a+)+$" } } });
  const bad = fast("match_schema pattern", () => call("json.match_schema", JSON.stringify({ x: AB }), schema));
  assert.deepEqual(bad, [
    false,
    [{ desc: "Does not match pattern '^(a+)+$'", error: "x: Does not match pattern '^(a+)+$'", field: "x", type: "pattern" }],
  ]);
  assert.deepEqual(fast("match_schema pattern ok", () => call("json.match_schema", JSON.stringify({ x: A }), schema)), [true, []]);

  const pp = JSON.stringify({ patternProperties: { "^(a+)+$": { type: "string" } } });
  const r1 = fast("patternProperties", () => call("json.match_schema", JSON.stringify({ [A]: 1 }), pp)) as [boolean, Record<string, string>[]];
  assert.equal(r1[0], false);
  assert.equal(r1[1][0].type, "invalid_type");
  assert.equal(r1[1][0].desc, "Invalid type. Expected: string, given: integer");
  assert.equal(r1[1][0].field.length, N);
  assert.deepEqual(fast("patternProperties no match", () => call("json.match_schema", JSON.stringify({ [AB]: 1 }), pp)), [true, []]);
});

test("JSON Schema patterns are Go regular expressions (OPA's answers)", () => {
  const m = (doc: unknown, schema: unknown) => call("json.match_schema", JSON.stringify(doc), JSON.stringify(schema));
  assert.deepEqual(m({ x: "é" }, { properties: { x: { type: "string", pattern: "^\\pL$" } } }), [true, []]);
  assert.throws(() => m({ x: "ab" }, { properties: { x: { type: "string", pattern: "(?=a)" } } }), /json\.match_schema: pattern must be a valid regex/);
  assert.throws(() => m({ ab: 1 }, { patternProperties: { "(?=a)": {} } }), /json\.match_schema: Invalid regex pattern '\(\?=a\)'/);
  assert.deepEqual(call("json.verify_schema", JSON.stringify({ properties: { x: { pattern: "(?=a)" } } })), [false, "jsonschema: pattern must be a valid regex"]);
  assert.deepEqual(m({ x: "(?=a)" }, { properties: { x: { type: "string", format: "regex" } } }), [
    false,
    [{ desc: "Does not match format 'regex'", error: "x: Does not match format 'regex'", field: "x", type: "format" }],
  ]);
});

test("Gatekeeper parameter schema pattern on 1M characters", () => {
  const schema = { type: "object", properties: { name: { type: "string", pattern: "^(a+)+$" } } };
  const bad = fast("validateSchema", () => validateSchema(schema, { name: AB }, "spec.parameters"));
  assert.equal(bad.errors.length, 1);
  assert.match(bad.errors[0].message, /^spec\.parameters\.name: Invalid value: .*should match '\^\(a\+\)\+\$'$/s);
  assert.deepEqual(fast("validateSchema ok", () => validateSchema(schema, { name: A }, "spec.parameters")).errors, []);
});

test("CUE =~ and !~ on 1M characters", () => {
  assert.throws(() => fast("cue =~", () => evaluateCue(`a: "${AB}" & =~"^(a+)+$"`)), /out of bound =~"\^\(a\+\)\+\$"/);
  assert.deepEqual(fast("cue =~ ok", () => evaluateCue(`a: "${A}" =~ "^(a+)+$"`)), { a: true });
  assert.deepEqual(fast("cue !~", () => evaluateCue(`a: "${AB}" !~ "^(a+)+$"`)), { a: true });
  assert.throws(() => evaluateCue(`a: "x" =~ "("`), /error parsing regexp: missing closing \): `\(`/);
});

test("conftest namespace globs run on the linear engine", () => {
  const g = globToRegExp("*a*a*a*a*a*b");
  assert.equal(fast("glob", () => g.test(A)), false);
  assert.equal(g.test("xaaaaayb"), true);
});

test("the three engines agree on long inputs (DFA, backtracker, Pike VM)", () => {
  // Past the backtracker's budget the Pike VM finds positions and groups; both must be Go's.
  const c = getRegex("(a|ab)(c|bcd)(d*)");
  const s = "x".repeat(200_000) + "abcd";
  assert.equal(backtrackFits(c.prog, s, 0), false);
  assert.equal(dfaSearch(c.prog, s, 0), true);
  const p = Array.from(pike(c.prog, s, 0)!).map((x) => x - 200_000);
  const b = Array.from(backtrack(c.prog, s, 199_990)!).map((x) => x - 200_000);
  assert.deepEqual(p, [0, 4, 0, 1, 1, 4, 4, 4]);
  assert.deepEqual(b, p);
  // Go: (a|ab)(c|bcd)(d*) on "abcd" gives ["abcd" "a" "bcd" ""]
  assert.deepEqual(call("regex.find_all_string_submatch_n", "(a|ab)(c|bcd)(d*)", s, -1), [["abcd", "a", "bcd", ""]]);
});

test("regex.globs_match: gintersect's walk is memoised (OPA's answers)", () => {
  const stars = (k: number, s: string) => s.repeat(k);
  // OPA 1.19 takes 14 s on this one (the walk is exponential in the number of stars)
  assert.equal(fast("globs_match x8", () => call("regex.globs_match", stars(8, "a.*") + "x+", stars(8, "a+.*") + "y+")), false);
  assert.equal(call("regex.globs_match", stars(8, "a.*") + "x+", stars(8, "a+.*") + "x+"), true);
  assert.equal(call("regex.globs_match", ".*a.*a.*a.*a.*b.*", ".*a*a*a*a*c.*"), true);
  // gintersect's own answers, which differ from the languages' intersection
  assert.equal(call("regex.globs_match", "[ab]c*", "b"), false);
  assert.equal(call("regex.globs_match", "c*", ""), false);
  assert.equal(call("regex.globs_match", "a*aca*.*", ".c*"), false);
  // hundreds of stars: polynomial
  assert.equal(fast("globs_match x400", () => call("regex.globs_match", stars(400, "a.*") + "x+", stars(400, "a+.*") + "y+")), false);
});

test("a regex builtin stops at the evaluation's deadline: a 1,000,001-character pattern on 1M characters (OPA: runs for minutes)", async () => {
  const { Engine } = await import("../../src/engine/index.ts");
  const pq = new Engine().prepare("x := regex.find_n(input.p, input.t, -1)");
  const c0 = process.cpuUsage();
  assert.throws(() => pq.eval({ input: { p: AB, t: A }, timeoutMs: 1000 }), (e: Error) => /eval_cancel_error/.test(e.message) && /deadline/.test(e.message));
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  assert.ok(cpuMs < 3000, `stopped after ${cpuMs} ms of CPU (deadline 1,000 ms)`);
});
