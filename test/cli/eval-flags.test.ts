// `portcullis eval`'s pipeline flags (--fail, --fail-defined, -I, --import, --rego-version,
// --metrics, --profile*, --partial, -s) and its error reports, against outputs recorded
// from `opa eval` 1.19 (byte for byte where OPA's output does not depend on timing), and compared
// live with opa when it is installed.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { cli } from "./helpers.ts";
import { SOURCE_CLI } from "./portcullis-src.ts";
import { goDuration, profileSortOrder } from "../../src/cli/evalflags.ts";
import { opaPath } from "../support/oracles.ts";

const dir = mkdtempSync(join(tmpdir(), "pc-evalflags-"));
writeFileSync(
  join(dir, "p.rego"),
  `package example

default allow := false

allow if {
	input.user == "alice"
	count(input.names) > 1
}

names contains n if some n in input.names
`,
);
writeFileSync(join(dir, "input.json"), JSON.stringify({ user: "alice", names: ["a", "b"] }));
writeFileSync(join(dir, "e.rego"), "package example\n\nimport rego.v1\n\nq := 1/0\n");
// Outputs name files relative to the working directory, as opa's do.
process.chdir(dir);

/** opa eval's output and exit code for the same arguments (null without opa). */
function opa(args: string[]): { code: number; out: string; err: string } | null {
  const bin = opaPath();
  if (!bin) return null;
  const r = spawnSync(bin, ["eval", ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

// Recorded from opa eval 1.19.0 in this directory.
const RECORDED: { args: string[]; code: number; out: string; err: string }[] = [
  { args: ["-d", "p.rego", "-i", "input.json", "-f", "raw", "--fail", "data.example.allow"], code: 0, out: "true\n", err: "" },
  { args: ["-d", "p.rego", "-i", "input.json", "-f", "raw", "--fail", "data.example.nope"], code: 1, out: "", err: "" },
  { args: ["-d", "p.rego", "-i", "input.json", "-f", "raw", "--fail-defined", "data.example.allow"], code: 1, out: "true\n", err: "" },
  { args: ["-d", "p.rego", "-i", "input.json", "-f", "raw", "--fail-defined", "data.example.nope"], code: 0, out: "", err: "" },
  { args: ["-f", "raw", "--fail", "false"], code: 0, out: "false\n", err: "" },
  { args: ["-f", "raw", "--fail-defined", "false"], code: 1, out: "false\n", err: "" },
  {
    args: ["-d", "p.rego", "-i", "input.json", "--import", "data.example.names as nm", "-f", "values", "nm[x]"],
    code: 0,
    out: '[\n  "a"\n]\n[\n  "b"\n]\n',
    err: "",
  },
  {
    args: ["-d", "p.rego", "-i", "input.json", "--import", "input.user", "user"],
    code: 0,
    out: '{\n  "result": [\n    {\n      "expressions": [\n        {\n          "value": "alice",\n          "text": "user",\n          "location": {\n            "row": 1,\n            "col": 1\n          }\n        }\n      ]\n    }\n  ]\n}\n',
    err: "",
  },
  // A name the query declares itself is not the import's.
  {
    args: ["-d", "p.rego", "--import", "data.example", "-f", "raw", "example := 1; x := example"],
    code: 0,
    out: "true true\n",
    err: "",
  },
  { args: ["-d", "p.rego", "-i", "input.json", "--import", "data.example", "-f", "raw", "example.allow"], code: 0, out: "true\n", err: "" },
  {
    args: ["--import", "foo", "x"],
    code: 2,
    out: '{\n  "errors": [\n    {\n      "message": "unexpected import path, must begin with one of: {data, future, input, rego}, got: foo (hint: if this is unexpected, try updating OPA)",\n      "code": "rego_parse_error",\n      "location": {\n        "file": "",\n        "row": 1,\n        "col": 8\n      },\n      "details": {\n        "line": "import foo",\n        "idx": 7\n      }\n    }\n  ]\n}\n',
    err: "",
  },
  // `some x` declarations are not among the result's expressions.
  {
    args: ["-f", "json", "some x; x = 1"],
    code: 0,
    out: '{\n  "result": [\n    {\n      "expressions": [\n        {\n          "value": true,\n          "text": "x = 1",\n          "location": {\n            "row": 1,\n            "col": 9\n          }\n        }\n      ],\n      "bindings": {\n        "x": 1\n      }\n    }\n  ]\n}\n',
    err: "",
  },
  // Bindings print in name order (OPA's are a Go map).
  { args: ["-f", "bindings", "b := 1; a := 2"], code: 0, out: '{\n  "a": 2,\n  "b": 1\n}\n', err: "" },
  { args: ["-f", "pretty", "b := 1; a := 2"], code: 0, out: "┌───┬───┐\n│ a │ b │\n├───┼───┤\n│ 2 │ 1 │\n└───┴───┘\n", err: "" },
  // Errors: query locations have no file; evaluation errors name the failing term's text;
  // parse errors carry their source line; Go's JSON escaping.
  {
    args: ["--strict-builtin-errors", "-f", "pretty", 'io.jwt.decode("x")'],
    code: 2,
    out: "",
    err: '1 error occurred: io.jwt.decode("x"): eval_builtin_error: io.jwt.decode: encoded JWT had no period separators\n',
  },
  {
    args: ["--strict-builtin-errors", "-f", "json", 'graphql.parse_query("{")'],
    code: 2,
    out: '{\n  "errors": [\n    {\n      "message": "graphql.parse_query: Expected Name, found \\u003cEOF\\u003e in GraphQL string at location 1:2",\n      "code": "eval_builtin_error",\n      "location": {\n        "file": "",\n        "row": 1,\n        "col": 1\n      }\n    }\n  ]\n}\n',
    err: "",
  },
  { args: ["-f", "pretty", "x := "], code: 2, out: "", err: "1 error occurred: 1:5: rego_parse_error: unexpected eof token\n\tx := \n\t   ^\n" },
  {
    args: ["-f", "json", "x := "],
    code: 2,
    out: '{\n  "errors": [\n    {\n      "message": "unexpected eof token",\n      "code": "rego_parse_error",\n      "location": {\n        "file": "",\n        "row": 1,\n        "col": 5\n      },\n      "details": {\n        "line": "x := ",\n        "idx": 3\n      }\n    }\n  ]\n}\n',
    err: "",
  },
  { args: ["-f", "pretty", "-d", "e.rego", "--strict-builtin-errors", "data.example.q"], code: 2, out: "", err: "1 error occurred: e.rego:5: eval_builtin_error: div: divide by zero\n" },
];

test("eval flags and errors: the outputs and exit codes opa eval gives (recorded)", async () => {
  for (const r of RECORDED) {
    const ours = await cli(["eval", ...r.args]);
    assert.deepEqual({ code: ours.code, out: ours.out, err: ours.err }, { code: r.code, out: r.out, err: r.err }, r.args.join(" "));
  }
});

test("eval flags and errors: identical to opa eval when it is installed", async (t) => {
  if (!opaPath()) {
    t.skip("opa not installed");
    return;
  }
  for (const r of RECORDED) {
    const theirs = opa(r.args)!;
    assert.deepEqual({ code: theirs.code, out: theirs.out, err: theirs.err }, { code: r.code, out: r.out, err: r.err }, `recording of ${r.args.join(" ")}`);
  }
  t.diagnostic(`${RECORDED.length} recordings still match opa eval`);
});

test("eval --fail with --fail-defined is refused (exit 1, opa's words)", async () => {
  const r = await cli(["eval", "--fail", "--fail-defined", "1"]);
  assert.equal(r.code, 1);
  assert.equal(r.err, "Error: specify --fail or --fail-defined but not both\n");
});

test("eval -I reads the input from stdin; -I with -i is refused", () => {
  const r = spawnSync(process.execPath, [...SOURCE_CLI, "eval", "-I", "-f", "raw", "input.user"], { input: '{"user":"bob"}', encoding: "utf8" });
  assert.equal(r.stdout, "bob\n");
  assert.equal(r.status, 0);
  const both = spawnSync(process.execPath, [...SOURCE_CLI, "eval", "-I", "-i", "input.json", "input"], { input: "{}", encoding: "utf8" });
  assert.equal(both.status, 1);
  assert.equal(both.stderr, "Error: specify --stdin-input or --input but not both\n");
});

test("eval --rego-version v0 parses v0 modules; a bad version is refused", async () => {
  writeFileSync(join(dir, "v0.rego"), "package v0\n\np { true }\n");
  const ok = await cli(["eval", "--rego-version", "v0", "-d", "v0.rego", "-f", "raw", "data.v0.p"]);
  assert.equal(ok.out, "true\n");
  const v1 = await cli(["eval", "--rego-version", "v1", "-d", "v0.rego", "-f", "raw", "data.v0.p"]);
  assert.equal(v1.code, 2);
  assert.match(v1.err, /`if` keyword is required before rule body/);
  const bad = await cli(["eval", "--rego-version", "v2", "1"]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /invalid --rego-version "v2"/);
});

// opa eval --partial (docs/partial.md): outputs of opa eval 1.19.0 on this policy, recorded.
const PARTIAL_POLICY = "package example\n\ndefault allow := false\n\nallow if input.subject.is_admin\n\nallow if {\n\tinput.method == \"GET\"\n\tinput.path = [\"salary\", user]\n\tuser == input.subject.user\n}\n";
const PARTIAL_PRETTY = "\u250c\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u252c\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2510\n\u2502 Query 1 \u2502 input.method = \"GET\"           \u2502\n\u2502         \u2502 input.path = [\"salary\", user1] \u2502\n\u2502         \u2502 user1 = input.subject.user     \u2502\n\u251c\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u253c\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2524\n\u2502 Query 2 \u2502 input.subject.is_admin         \u2502\n\u2514\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2534\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2518\n";
const PARTIAL_SOURCE = "# Query 1\ndata.partial.example.allow = true\ninput.z > 1\n\n# Module 1\npackage partial.example\n\ndefault allow := false\n\nallow if input.subject.is_admin\n\nallow if {\n\tinput.method = \"GET\"\n\tinput.path = [\"salary\", user1]\n\tuser1 = input.subject.user\n}\n";

test("eval --partial prints opa eval's pretty and source output; -u without -p evaluates as usual", async () => {
  writeFileSync(join(dir, "partial.rego"), PARTIAL_POLICY);
  const pretty = await cli(["eval", "-d", join(dir, "partial.rego"), "-p", "--format", "pretty", "data.example.allow == true"]);
  assert.equal(pretty.code, 0, pretty.err);
  assert.equal(pretty.out, PARTIAL_PRETTY);
  const source = await cli(["eval", "-d", join(dir, "partial.rego"), "-p", "--format", "source", "--disable-inlining", "data.example.allow", "data.example.allow == true; input.z > 1"]);
  assert.equal(source.code, 0, source.err);
  assert.equal(source.out, PARTIAL_SOURCE);
  const json = await cli(["eval", "-d", join(dir, "partial.rego"), "-p", "-u", "input.subject", "data.example.allow == true"]);
  assert.equal(json.code, 0, json.err);
  assert.deepEqual(JSON.parse(json.out), JSON.parse("{\"partial\": {\"queries\": [[{\"index\": 0, \"terms\": {\"type\": \"ref\", \"value\": [{\"type\": \"var\", \"value\": \"input\"}, {\"type\": \"string\", \"value\": \"subject\"}, {\"type\": \"string\", \"value\": \"is_admin\"}]}}]]}}"));
  // opa eval ignores --unknowns without --partial
  const plain = await cli(["eval", "-u", "input", "input.x == 1"]);
  assert.equal(plain.out, "{}\n");
});

test("eval --partial refuses what opa eval refuses, and what it does not cover, with clear errors", async () => {
  const raw = await cli(["eval", "-p", "--format", "raw", "input.x == 1"]);
  assert.equal(raw.code, 1);
  assert.equal(raw.err, "Error: invalid output format for partial evaluation\n");
  const bad = await cli(["eval", "-p", "-u", "1", "input.x == 1"]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /illegal argument with --unknowns/);
  const unsafe = await cli(["eval", "-p", "-f", "pretty", "x == input.a"]);
  assert.equal(unsafe.code, 2);
  assert.match(unsafe.err, /var x is unsafe/);
  writeFileSync(join(dir, "with.rego"), "package w\n\nok if input.a == 1\n");
  const withs = await cli(["eval", "-d", join(dir, "with.rego"), "-p", "data.w.ok with input.a as 1"]);
  assert.equal(withs.code, 2);
  assert.match(withs.out, /partial evaluation: `with` on an expression that reaches a rule, a function or `every` is not supported by portcullis/);
});

// opa eval 1.19's timer names (less timer_rego_external_resolve_ns, which has no counterpart).
const OPA_TIMERS = [
  "timer_rego_load_files_ns",
  "timer_rego_module_compile_ns",
  "timer_rego_module_parse_ns",
  "timer_rego_query_compile_ns",
  "timer_rego_query_eval_ns",
  "timer_rego_query_parse_ns",
];

test("eval --metrics: OPA's timer names, in order, after the result", async () => {
  const r = await cli(["eval", "-d", "p.rego", "-i", "input.json", "--metrics", "data.example.allow"]);
  assert.equal(r.code, 0);
  const doc = JSON.parse(r.out) as { result: unknown[]; metrics: Record<string, number> };
  assert.deepEqual(Object.keys(doc), ["result", "metrics"]);
  assert.deepEqual(Object.keys(doc.metrics), OPA_TIMERS);
  for (const v of Object.values(doc.metrics)) assert.ok(Number.isInteger(v) && v >= 0);
  const pretty = await cli(["eval", "-d", "p.rego", "-i", "input.json", "--metrics", "-f", "pretty", "data.example.allow"]);
  const lines = pretty.out.split("\n");
  assert.equal(lines[0], "true");
  assert.match(lines[2], /^│ +Metric +│ +Value +│$/);
  assert.deepEqual(
    lines.filter((l) => l.startsWith("│ timer")).map((l) => l.split("│")[1].trim()),
    OPA_TIMERS,
  );
  // Formats without a place for metrics print the result only, as opa eval.
  const raw = await cli(["eval", "-d", "p.rego", "-i", "input.json", "--metrics", "-f", "raw", "data.example.allow"]);
  assert.equal(raw.out, "true\n");
});

test("eval --profile: OPA's JSON shape and counts, per source line", async () => {
  const r = await cli(["eval", "-d", "p.rego", "-i", "input.json", "--profile", "data.example"]);
  const doc = JSON.parse(r.out) as { profile: { total_time_ns: number; num_eval: number; num_redo: number; num_gen_expr: number; location: { file: string; row: number; col: number } }[] };
  assert.deepEqual(Object.keys(doc), ["result", "metrics", "profile"]);
  for (const p of doc.profile) assert.deepEqual(Object.keys(p), ["total_time_ns", "num_eval", "num_redo", "num_gen_expr", "location"]);
  const byRow = new Map(doc.profile.map((p) => [`${p.location.file}:${p.location.row}`, p]));
  // opa eval 1.19: the query 1/1/1, `input.user == "alice"` 1/1/1, `some n in input.names` 1 eval and 2 redos.
  const counts = (k: string) => {
    const p = byRow.get(k)!;
    return [p.num_eval, p.num_redo, p.num_gen_expr];
  };
  assert.deepEqual(counts(":1"), [1, 1, 1]);
  assert.deepEqual(byRow.get(":1")!.location, { file: "", row: 1, col: 1 });
  assert.deepEqual(counts("p.rego:6"), [1, 1, 1]);
  assert.deepEqual(counts("p.rego:10"), [1, 2, 1]);
  assert.deepEqual(byRow.get("p.rego:10")!.location, { file: "p.rego", row: 10, col: 21 });
  // Sorted by total time, descending (OPA's default order).
  for (let i = 1; i < doc.profile.length; i++) assert.ok(doc.profile[i - 1].total_time_ns >= doc.profile[i].total_time_ns);
});

test("eval --profile-sort/--profile-limit turn the profiler on; the pretty table names query lines by their text", async () => {
  const r = await cli(["eval", "-d", "p.rego", "-i", "input.json", "--profile-sort", "num_redo", "--profile-limit", "1", "-f", "pretty", "data.example"]);
  const lines = r.out.split("\n");
  const head = lines.findIndex((l) => /Num Eval/.test(l));
  assert.ok(head > 0, r.out);
  assert.match(lines[head], /^│ +Time +│ Num Eval │ Num Redo │ Num Gen Expr │ +Location +│$/);
  // Only the line with the most redos: `some n in input.names`.
  const rows = lines.slice(head + 2).filter((l) => l.startsWith("│"));
  assert.equal(rows.length, 1);
  assert.match(rows[0], /^│ [0-9.]+(ns|µs|ms|s) +│ 1 +│ 2 +│ 1 +│ p\.rego:10 +│$/);
  const q = await cli(["eval", "-d", "p.rego", "-i", "input.json", "--profile-sort", "line", "--profile-limit", "0", "-f", "pretty", "data.example"]);
  assert.match(q.out, /│ data\.example +│/);
  const bad = await cli(["eval", "--profile-limit", "x", "1"]);
  assert.equal(bad.code, 1);
  assert.equal(bad.err, 'Error: invalid argument "x" for "--profile-limit" flag: strconv.ParseInt: parsing "x": invalid syntax\n');
});

test("Go durations and opa's profile sort order", () => {
  assert.equal(goDuration(500), "500ns");
  assert.equal(goDuration(56746), "56.746µs");
  assert.equal(goDuration(1500000), "1.5ms");
  assert.equal(goDuration(2000000000), "2s");
  assert.equal(goDuration(61500000000), "1m1.5s");
  assert.deepEqual(profileSortOrder([]), ["total_time_ns", "num_eval", "num_redo", "file", "line"]);
  assert.deepEqual(profileSortOrder(["line,num_eval"]), ["line", "num_eval", "total_time_ns", "num_redo", "file"]);
});
