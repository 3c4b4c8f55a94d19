// `portcullis verify` on examples/verify: the results recorded here, and, when the oracles are
// installed (~/go/bin or PATH), the same results as `opa test` (pass/fail/error/skip and
// sub-results), the same output as `conftest verify` (every format), and the same covered lines
// as `opa test --coverage`. Also the Gatekeeper library's suites (../shared/gatekeeper-library).
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const EXAMPLES = path.resolve(here, "../../examples/verify");
const LIBRARY = path.resolve(here, "../../../shared/gatekeeper-library/library");

// Paths in the outputs are relative to the examples directory, as when run from there.
process.chdir(EXAMPLES);

function oracle(name: string): string | null {
  const home = path.join(homedir(), "go", "bin", name);
  if (existsSync(home)) return home;
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}
const OPA = oracle("opa");
const CONFTEST = oracle("conftest");

async function verify(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), exitCode: 0 };
  const code = await main(["verify", ...args], io);
  return { code, out, err };
}

function run(cmd: string, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: EXAMPLES, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

// ---- opa test's JSON results, reduced to what must agree ---------------------------------------

interface OpaResult {
  package: string;
  name: string;
  fail?: boolean;
  skip?: boolean;
  error?: unknown;
  output?: string;
  sub_results?: Record<string, { fail?: boolean; sub_results?: OpaResult["sub_results"] }>;
}

function outcome(r: OpaResult): string {
  const st = r.skip ? "skip" : r.error ? "error" : r.fail ? "fail" : "pass";
  const subs = (s: OpaResult["sub_results"], pre: string): string[] =>
    Object.entries(s ?? {}).flatMap(([k, v]) => [`${pre}${k}:${v.fail ? "fail" : "pass"}`, ...subs(v.sub_results, pre + k + "/")]);
  const out = r.output ? ` output=${Buffer.from(r.output, "base64").toString("utf8").trim().replace(/\n/g, "|")}` : "";
  return [`${r.package}.${r.name}: ${st}${out}`, ...subs(r.sub_results, "  ").sort()].join("\n");
}

function outcomes(json: string): string[] {
  return (JSON.parse(json) as OpaResult[]).map(outcome).sort();
}

// The suites of examples/verify, and what each test does (recorded from opa test 1.19).
const SETS: { name: string; args: string[]; opaArgs: string[] }[] = [
  { name: "policy", args: ["policy", "data"], opaArgs: ["policy", "data"] },
  { name: "v0", args: ["--v0-compatible", "v0"], opaArgs: ["--v0-compatible", "v0"] },
  { name: "failing", args: ["--timeout", "1s", "failing", "policy/lib"], opaArgs: ["--timeout", "1s", "failing", "policy/lib"] },
];

const EXPECTED_FAILING = [
  "data.failing.errors.test_conflict: error",
  "data.failing.errors.test_function: error",
  "data.failing.errors.test_runs_forever: error",
  "data.failing.fails.test_false: fail",
  "data.failing.fails.test_not_true: fail",
  "data.failing.fails.test_table: fail\n  a:pass\n  b:pass\n  c:fail",
  "data.failing.fails.test_twice#01: fail",
  "data.failing.fails.test_twice: pass",
  "data.failing.fails.test_undefined_value: fail",
  "data.failing.fails.test_with_print: fail output=x is 42",
  "data.failing.fails.test_wrong_expectation: fail",
  "data.failing.fails.todo_test_someday: skip",
];

test("verify: the main example set passes (conftest style and opa style)", async () => {
  const c = await verify("-p", "policy", "-d", "data", "--no-color");
  assert.equal(c.code, 0, c.err);
  const m = /(\d+) tests, (\d+) passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped/.exec(c.out);
  assert.ok(m, c.out);
  assert.ok(Number(m![1]) >= 40, `only ${m![1]} tests`);
  assert.equal(m![1], m![2]);
  const p = await verify("-f", "pretty", "policy", "data");
  assert.equal(p.code, 0);
  assert.match(p.out, /^PASS: (\d+)\/\1\n$/);
  const j = await verify("-f", "json", "policy", "data");
  const rs = JSON.parse(j.out) as OpaResult[];
  assert.ok(rs.length >= 40);
  assert.ok(rs.every((r) => !r.fail && !r.error && !r.skip));
  const table = rs.find((r) => r.name === "test_registry_table");
  assert.deepEqual(Object.keys(table?.sub_results ?? {}), ["host", "plain", "port"]);
});

test("verify: v0 policies, todo tests skipped", async () => {
  const r = await verify("-f", "json", "--v0-compatible", "v0");
  assert.equal(r.code, 2, "a skipped test fails opa test's exit code");
  const os = outcomes(r.out);
  assert.equal(os.length, 10);
  assert.ok(os.includes("data.legacy.todo_test_rate_limits: skip"));
  assert.equal(os.filter((x) => x.endsWith(": pass")).length, 9);
  const z = await verify("-z", "--rego-version", "v0", "-f", "pretty", "v0");
  assert.equal(z.code, 0);
  assert.match(z.out, /SKIPPED: 1\/10/);
  const c = await verify("--rego-version", "v0", "-p", "v0", "--no-color");
  assert.equal(c.code, 0);
  assert.equal(c.out, "\n10 tests, 9 passed, 0 warnings, 0 failures, 0 exceptions, 1 skipped\n");
});

test("verify: failing and erroring tests", async () => {
  const r = await verify("-f", "json", "--timeout", "1s", "failing", "policy/lib");
  assert.equal(r.code, 2);
  const os = outcomes(r.out).filter((x) => x.startsWith("data.failing."));
  assert.deepEqual(os, EXPECTED_FAILING);
  const p = await verify("-f", "pretty", "--timeout", "1s", "failing", "policy/lib");
  assert.match(p.out, /data\.failing\.errors\.test_runs_forever: ERROR \(1\.\d+s\)\n  eval_cancel_error: context deadline exceeded\n/);
  assert.match(p.out, /data\.failing\.fails\.test_with_print: FAIL \([^)]+\)\n\n  x is 42\n\n/);
  assert.match(p.out, /data\.failing\.fails\.test_table: FAIL \([^)]+\)\n  c: FAIL\n/);
  assert.match(p.out, /-{80}\nPASS: 23\/34\nFAIL: 7\/34\nSKIPPED: 1\/34\nERROR: 3\/34\n$/);
  // conftest verify stops at an erroring test.
  const c = await verify("-p", "failing/errors", "--timeout", "1s");
  assert.equal(c.code, 1);
  assert.match(c.err, /^Error: running verification: run test: failing\/errors\/errors_test\.rego:\d+: eval_conflict_error: complete rules must not produce multiple outputs\n$/);
  // -v explains failures.
  const v = await verify("-v", "--timeout", "1s", "failing/fails", "policy/lib");
  assert.match(v.out, /FAILURES\n-{80}\n/);
  // OPA prints its rewritten expression: `x == 43` is `x = 43` (opa test -v, OPA 1.19.0).
  assert.match(v.out, /query:1 +Enter data\.failing\.fails\.test_with_print = _  \n  failing\/fails\/fails_test\.rego:24 +\| Enter data\.failing\.fails\.test_with_print  \n  failing\/fails\/fails_test\.rego:27 +\| \| Fail x = 43  \n/);
});

test("verify: --run, --namespace", async () => {
  const r = await verify("-f", "json", "--run", "test_registry_", "policy", "data");
  const names = (JSON.parse(r.out) as OpaResult[]).map((x) => x.name).sort();
  assert.deepEqual(names, ["test_registry_default", "test_registry_host", "test_registry_mocked_function", "test_registry_not_allowed", "test_registry_port", "test_registry_table"]);
  const n = await verify("-p", "policy", "-d", "data", "-n", "lib.*", "--no-color", "-o", "json");
  const files = new Set((JSON.parse(n.out) as { filename: string }[]).map((x) => x.filename));
  assert.deepEqual([...files], ["policy/lib/k8s_test.rego"]);
});

test("verify: load errors", async () => {
  const a = await verify("-p", "no/such/dir");
  assert.equal(a.code, 1);
  assert.equal(a.err, "Error: running verification: load: loading policies: load: 1 error occurred during loading: stat no/such/dir: no such file or directory\n");
  const b = await verify("-f", "pretty", "no/such/dir");
  assert.equal(b.code, 1);
  assert.equal(b.err, "1 error occurred during loading: stat no/such/dir: no such file or directory\n");
  const c = await verify("-f", "pretty", "v0");
  assert.equal(c.code, 1);
  assert.match(c.err, /rego_parse_error/);
  // A compile error stops the run before any test, as in opa test and conftest verify.
  const dir = mkdtempSync(path.join(tmpdir(), "verify-compile-"));
  try {
    writeFileSync(path.join(dir, "p.rego"), "package main\nallow if { x := 1; undefined_fn(x) }\ntest_a if { allow }\n");
    const msg = `1 error occurred: ${path.join(dir, "p.rego")}:2: rego_type_error: undefined function undefined_fn\n`;
    const d = await verify("-f", "pretty", dir);
    assert.deepEqual([d.code, d.out, d.err], [1, "", msg]);
    const e = await verify("-p", dir);
    assert.deepEqual([e.code, e.out, e.err], [1, "", `Error: running verification: load: loading policies: get compiler: ${msg}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("verify: coverage (recorded)", async () => {
  const r = await verify("--coverage", "policy", "data");
  assert.equal(r.code, 0);
  const rep = JSON.parse(r.out) as { files: Record<string, { covered_lines?: number; not_covered_lines?: number }>; coverage: number };
  const lines = Object.fromEntries(Object.entries(rep.files).map(([f, x]) => [f, [x.covered_lines ?? 0, x.not_covered_lines ?? 0]]));
  assert.deepEqual(lines, {
    "policy/authz.rego": [31, 0],
    "policy/authz_test.rego": [61, 0],
    "policy/kubernetes.rego": [39, 4],
    "policy/kubernetes_test.rego": [67, 0],
    "policy/lib/k8s.rego": [27, 1],
    "policy/lib/k8s_test.rego": [42, 0],
  });
  const t = await verify("--threshold", "99", "policy", "data");
  assert.equal(t.code, 2);
  assert.match(t.err, /^Code coverage threshold not met: got 98\.16 instead of 99\.00\n$/);
});

test("verify: same results as opa test", { skip: OPA ? false : "opa not installed" }, async () => {
  for (const s of SETS) {
    const ours = outcomes((await verify("-f", "json", ...s.args)).out);
    const theirs = outcomes(run(OPA!, ["test", "-f", "json", ...s.opaArgs]).out);
    const same = ours.filter((x) => theirs.includes(x)).length;
    console.log(`opa test ${s.name}: ${same}/${theirs.length} same`);
    assert.deepEqual(ours, theirs, s.name);
  }
});

/** conftest output made order-independent (conftest runs tests in parallel). */
function normalize(format: string, text: string): string {
  if (format === "json") return JSON.stringify((JSON.parse(text) as unknown[]).map((x) => JSON.stringify(x)).sort());
  if (format === "tap") return text.split("\n").map((l) => l.replace(/^(not ok|ok) \d+ /, "$1 N ")).sort().join("\n");
  if (format === "junit") return text.split("\n").map((l) => l.replace(/time="[^"]*"/g, "")).sort().join("\n");
  return text.split("\n").sort().join("\n");
}

test("verify: same output as conftest verify", { skip: CONFTEST ? false : "conftest not installed" }, async () => {
  const sets = [
    ["-p", "policy", "-d", "data"],
    ["--rego-version", "v0", "-p", "v0"],
    ["-p", "failing/fails", "-p", "policy/lib"],
    ["-p", "policy", "-d", "data", "-n", "main"],
  ];
  let same = 0;
  let total = 0;
  for (const args of sets) {
    for (const format of ["stdout", "json", "tap", "table", "junit", "github"]) {
      const theirs = run(CONFTEST!, ["verify", "--no-color", "-o", format, ...args]);
      const ours = await verify("--no-color", "-o", format, ...args);
      total++;
      const ok = ours.code === theirs.code && normalize(format, ours.out) === normalize(format, theirs.out) && ours.err === theirs.err;
      if (ok) same++;
      else assert.fail(`${args.join(" ")} -o ${format}:\n--- conftest (${theirs.code})\n${theirs.out}${theirs.err}\n--- portcullis (${ours.code})\n${ours.out}${ours.err}`);
    }
  }
  console.log(`conftest verify: ${same}/${total} outputs the same`);
  // Load errors are reported the same way.
  for (const args of [["-p", "no/such/dir"]]) {
    const theirs = run(CONFTEST!, ["verify", ...args]);
    const ours = await verify(...args);
    assert.equal(ours.err, theirs.err);
    assert.equal(ours.code, theirs.code);
  }
});

interface Coverage {
  files: Record<string, { covered?: { start: { row: number }; end: { row: number } }[]; not_covered?: { start: { row: number }; end: { row: number } }[] }>;
}

function rows(rep: Coverage): Record<string, { covered: number[]; not: number[] }> {
  const span = (rs?: { start: { row: number }; end: { row: number } }[]) =>
    [...new Set((rs ?? []).flatMap((r) => Array.from({ length: r.end.row - r.start.row + 1 }, (_, i) => r.start.row + i)))].sort((a, b) => a - b);
  return Object.fromEntries(Object.entries(rep.files).map(([f, x]) => [f, { covered: span(x.covered), not: span(x.not_covered) }]));
}

test("verify: --coverage covers the lines opa test --coverage does", { skip: OPA ? false : "opa not installed" }, async () => {
  // Known difference: v0/legacy.rego line 17 (`public_paths["/metrics"]`): OPA evaluates only the
  // set rules whose constant key matches the key looked up; Portcullis evaluates the whole set.
  const known: Record<string, number[]> = { "v0/legacy.rego": [17] };
  let same = 0;
  let total = 0;
  for (const s of SETS.slice(0, 2)) {
    const ours = rows(JSON.parse((await verify("--coverage", ...s.args)).out) as Coverage);
    const theirs = rows(JSON.parse(run(OPA!, ["test", "--coverage", ...s.opaArgs]).out) as Coverage);
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
    for (const f of Object.keys(theirs)) {
      const skip = new Set(known[f] ?? []);
      const strip = (x: { covered: number[]; not: number[] }) => ({ covered: x.covered.filter((r) => !skip.has(r)), not: x.not.filter((r) => !skip.has(r)) });
      total += theirs[f].covered.length + theirs[f].not.length;
      same += theirs[f].covered.filter((r) => ours[f].covered.includes(r)).length + theirs[f].not.filter((r) => ours[f].not.includes(r)).length;
      assert.deepEqual(strip(ours[f]), strip(theirs[f]), f);
    }
  }
  console.log(`coverage: ${same}/${total} lines classified as opa test does`);
});

test("verify: Gatekeeper library suites", { skip: existsSync(LIBRARY) ? false : "no gatekeeper library", timeout: 120_000 }, async () => {
  const start = performance.now();
  // gator's `dir/...` (a bare directory holds no suite of its own: nothing runs, as in gator)
  const r = await verify("-o", "json", `${LIBRARY}/...`);
  const secs = (performance.now() - start) / 1000;
  const doc = JSON.parse(r.out) as { passed: boolean; counts: { total: number; passed: number } };
  console.log(`gatekeeper library: ${doc.counts.passed}/${doc.counts.total} cases in ${secs.toFixed(1)}s`);
  assert.equal(doc.counts.total, 270);
  assert.equal(doc.counts.passed, 270);
  assert.equal(r.code, 0);
  assert.ok(secs < 20, `took ${secs}s`);
  const text = await verify(`${LIBRARY}/...`);
  assert.match(text.out, /\nPASS\n\n$/);
  const bare = await verify(LIBRARY);
  assert.equal(bare.out, "PASS\n\n");
});
