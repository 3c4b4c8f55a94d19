// Unit tests of the pieces behind `portcullis test`: renderers on hand-built results, exit codes,
// namespace globs, rule names, settings layers, Go-compatible JSON and terminal widths.
import test from "node:test";
import assert from "node:assert/strict";
import { render, exitCode, summaryLine, totals } from "../../src/output/index.ts";
import type { CheckResult } from "../../src/output/types.ts";
import { goJSON, goString } from "../../src/gotext/plainjson.ts";
import { displayWidth } from "../../src/output/width.ts";
import { xmlEscape } from "../../src/output/junit.ts";
import { globToRegExp, hasGlobMeta } from "../../src/conftest/glob.ts";
import { exceptionName, isFailureRule, isWarningRule } from "../../src/conftest/runner.ts";
import { settingsFromEnv, mergeSettings, parseBool } from "../../src/conftest/settings.ts";

const cr = (o: Partial<CheckResult>): CheckResult => ({ filename: "f.yaml", namespace: "main", successes: 0, skipped: [], warnings: [], failures: [], exceptions: [], ...o });

test("stdout: lines, colours, summary", () => {
  const r = [cr({ successes: 1, warnings: [{ msg: "w" }], failures: [{ msg: "f" }], exceptions: [{ msg: "e" }] })];
  assert.equal(render(r, "stdout", { noColor: true }), "WARN - f.yaml - main - w\nFAIL - f.yaml - main - f\nEXCP - f.yaml - main - e\n\n4 tests, 1 passed, 1 warning, 1 failure, 1 exception\n");
  assert.equal(
    render(r, "stdout", {}),
    "\x1b[33mWARN\x1b[0m - f.yaml - main - w\n\x1b[31mFAIL\x1b[0m - f.yaml - main - f\n\x1b[36mEXCP\x1b[0m - f.yaml - main - e\n\n\x1b[31m4 tests, 1 passed, 1 warning, 1 failure, 1 exception\x1b[0m\n",
  );
  assert.equal(render(r, "stdout", { noColor: true, suppressExceptions: true }).includes("EXCP"), false);
  assert.equal(render([], "stdout", { noColor: true }), "\n0 tests, 0 passed, 0 warnings, 0 failures, 0 exceptions\n");
});

test("stdout: PRNT lines come first; standard input shows as -", () => {
  const r = [cr({ filename: "-", failures: [{ msg: "x" }], queries: [{ query: "data.main.deny", outputs: ["p.rego:3: hi"] }] })];
  assert.equal(render(r, "stdout", { noColor: true }), "PRNT   p.rego:3: hi\n\nFAIL - - main - x\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n");
  assert.equal(render(r, "stdout", {}).startsWith("\x1b[34mPRNT \x1b[0m  p.rego:3: hi\n\n"), true);
});

test("verify-style results: skipped checks (conftest verify's layouts)", () => {
  const r = [
    cr({ filename: "policy/p_test.rego", namespace: "", skipped: [{ msg: "data.main.todo_test_skip" }] }),
    cr({ filename: "policy/p_test.rego", namespace: "", successes: 1 }),
    cr({ filename: "policy/p_test.rego", namespace: "", failures: [{ msg: "data.main.test_fail" }] }),
  ];
  assert.equal(render(r, "stdout", { noColor: true, showSkipped: true }), "FAIL - policy/p_test.rego -  - data.main.test_fail\n\n3 tests, 1 passed, 0 warnings, 1 failure, 0 exceptions, 1 skipped\n");
  assert.match(render(r, "tap", {}), /^1\.\.3\n# skip\nok 1 - policy\/p_test\.rego -  - data\.main\.todo_test_skip\n/);
  assert.match(render(r, "junit", {}), /<testcase classname="conftest\." name="policy\/p_test\.rego - data\.main\.todo_test_skip" time="0\.000">\n\t\t\t<skipped message="data\.main\.todo_test_skip"><\/skipped>/);
  assert.match(render(r, "github", {}), /::notice file=policy\/p_test\.rego,line=1::Test was skipped: data\.main\.todo_test_skip\n/);
  assert.match(render(r, "azuredevops", {}), /\nskipped file=policy\/p_test\.rego data\.main\.todo_test_skip\n/);
  assert.match(render(r, "sarif", {}), /"rules":\[\{"id":"\/skip","shortDescription":\{"text":"Policy check was skipped"\},"properties":\{"description":"Policy check was skipped"\}\}/);
  assert.match(render(r, "json", {}), /"successes": 0,\n\t\t"skipped": \[\n\t\t\t\{\n\t\t\t\t"msg": "data\.main\.todo_test_skip"\n/);
});

test("json: tabs, Go escaping, sorted metadata, null for no results", () => {
  const r = [cr({ failures: [{ msg: "<a> & b", metadata: { z: 1, a: [true, null], query: "data.main.deny" } }] })];
  assert.equal(
    render(r, "json", {}),
    '[\n\t{\n\t\t"filename": "f.yaml",\n\t\t"namespace": "main",\n\t\t"successes": 0,\n\t\t"failures": [\n\t\t\t{\n\t\t\t\t"msg": "\\u003ca\\u003e \\u0026 b",\n\t\t\t\t"metadata": {\n\t\t\t\t\t"a": [\n\t\t\t\t\t\ttrue,\n\t\t\t\t\t\tnull\n\t\t\t\t\t],\n\t\t\t\t\t"query": "data.main.deny",\n\t\t\t\t\t"z": 1\n\t\t\t\t}\n\t\t\t}\n\t\t]\n\t}\n]\n',
  );
  assert.equal(render([], "json", {}), "null\n");
  assert.equal(render([cr({ filename: "-" })], "json", {}).includes('"filename": ""'), true);
});

test("junit: warnings count as failures, exceptions are left out, names use the first line", () => {
  const r = [cr({ successes: 1, warnings: [{ msg: "w" }], failures: [{ msg: 'a "b"\nsecond' }], exceptions: [{ msg: "e" }] })];
  const x = render(r, "junit", {});
  assert.match(x, /<testsuite tests="3" failures="2" time="0\.000" name="conftest\.main">/);
  assert.match(x, /name="f\.yaml - a &#34;b&#34;" time="0\.000">\n\t\t\t<failure message="Failed" type="">a &#34;b&#34;&#xA;second<\/failure>/);
  assert.match(render(r, "junit", { junitHideMessage: true }), /<testcase classname="conftest\.main" name="f\.yaml" time="0\.000">\n\t\t\t<failure/);
  assert.equal(render([cr({})], "junit", {}), '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites></testsuites>\n');
  assert.equal(xmlEscape("\u0001'\t\r"), "\uFFFD&#39;&#x9;&#xD;");
});

test("github: groups, --github-hide-passed", () => {
  const r = [cr({ filename: "a", successes: 2 }), cr({ filename: "b", failures: [{ msg: "x" }] })];
  assert.equal(
    render(r, "github", { githubHidePassed: true }),
    '::group::Testing "b" against 1 policies in namespace "main"\n::error file=b,line=1::x\n::notice file=b,line=1::Number of successful checks: 0\n::endgroup::\n3 tests, 2 passed, 0 warnings, 1 failure, 0 exceptions\n',
  );
});

test("table: widths of wide characters, multi-line cells; nothing for no rows", () => {
  const t = render([cr({ failures: [{ msg: "日本\nab" }] })], "table", {});
  assert.equal(t.split("\n")[3], "│ failure │ f.yaml │ main      │ 日本    │");
  assert.equal(t.split("\n")[4], "│         │        │           │ ab      │");
  assert.equal(render([cr({})], "table", {}), "");
  assert.equal(render([cr({})], "tap", {}), "");
});

test("sarif: success and skip entries, exit code description", () => {
  const s = JSON.parse(render([cr({ successes: 1 }), cr({ filename: "g", warnings: [{ msg: "w", metadata: { query: "data.main.warn" } }] })], "sarif", {}));
  assert.deepEqual(s.runs[0].results.map((r: { ruleId: string; level: string }) => `${r.ruleId}:${r.level}`), ["main/success:none", "main/warn:warning"]);
  assert.deepEqual(s.runs[0].invocations[0], { executionSuccessful: true, exitCode: 0, exitCodeDescription: "Policy warnings found" });
  assert.deepEqual(s.runs[0].tool.driver.rules[1].properties, { query: "data.main.warn" });
});

test("exit codes: failures 1; --fail-on-warn: failures 2, warnings 1; --no-fail 0", () => {
  const fail = [cr({ failures: [{ msg: "x" }], warnings: [{ msg: "w" }] })];
  const warn = [cr({ warnings: [{ msg: "w" }] })];
  assert.equal(exitCode(fail), 1);
  assert.equal(exitCode(warn), 0);
  assert.equal(exitCode(fail, { failOnWarn: true }), 2);
  assert.equal(exitCode(warn, { failOnWarn: true }), 1);
  assert.equal(exitCode(fail, { noFail: true, failOnWarn: true }), 0);
  assert.equal(exitCode([cr({ exceptions: [{ msg: "e" }] })], { failOnWarn: true }), 0);
});

test("summary: singular and plural", () => {
  assert.equal(summaryLine(totals([cr({ successes: 1 })])), "1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions");
});

test("rule names: deny/violation/warn with _suffix parts", () => {
  for (const n of ["deny", "violation", "deny_a_b", "violation_1", "deny_X9"]) assert.ok(isFailureRule(n), n);
  for (const n of ["warn", "warn_A1"]) assert.ok(isWarningRule(n), n);
  for (const n of ["deny_", "deny__x", "denyx", "Deny", "violations", "warning"]) assert.ok(!isFailureRule(n) && !isWarningRule(n), n);
  assert.equal(exceptionName("deny"), "");
  assert.equal(exceptionName("deny_host_network"), "host_network");
  assert.equal(exceptionName("violation_x"), "x");
  assert.equal(exceptionName("warn_y_z"), "y_z");
});

test("namespace globs: * matches dots, classes, literal names", () => {
  assert.ok(hasGlobMeta("k8s.*") && hasGlobMeta("a?") && hasGlobMeta("[ab]") && !hasGlobMeta("k8s\\.alpha"));
  assert.ok(globToRegExp("k8s.*").test("k8s.alpha.beta"));
  assert.ok(!globToRegExp("k8s.*").test("k8s"));
  assert.ok(globToRegExp("k8s.[ab]lpha").test("k8s.alpha"));
  assert.ok(globToRegExp("k8s.[^b]lpha").test("k8s.alpha"));
  assert.ok(globToRegExp("ma?n").test("main"));
  assert.throws(() => globToRegExp("["), /syntax error in pattern/);
});

test("settings: PORTCULLIS_ over CONFTEST_, later layers win, Go booleans", () => {
  const env = settingsFromEnv({ CONFTEST_NAMESPACE: "a b", PORTCULLIS_OUTPUT: "json", CONFTEST_OUTPUT: "tap", CONFTEST_FAIL_ON_WARN: "1" });
  assert.deepEqual(env, { namespace: ["a", "b"], output: "json", "fail-on-warn": true });
  assert.deepEqual(mergeSettings({ output: "tap", quiet: true }, env, { output: "sarif" }), { output: "sarif", quiet: true, namespace: ["a", "b"], "fail-on-warn": true });
  assert.equal(parseBool("True"), true);
  assert.equal(parseBool("yes"), undefined);
});

test("Go JSON: escapes, floats, key order", () => {
  assert.equal(goString("\b\f\u0000\u007f\u2028<>&\ud800é😀"), '"\\b\\f\\u0000\u007f\\u2028\\u003c\\u003e\\u0026\\ufffdé😀"');
  assert.equal(goJSON({ b: 1e21, a: 1e-7, c: -0, d: 12345678901234567890n }), '{"a":1e-7,"b":1e+21,"c":-0,"d":12345678901234567890}');
  assert.equal(goJSON([], "\t"), "[]");
  assert.equal(goJSON({ "\uffff": 1, "😀": 2 }), '{"\uffff":1,"😀":2}');
});

test("terminal width", () => {
  assert.equal(displayWidth("abc"), 3);
  assert.equal(displayWidth("日本語"), 6);
  assert.equal(displayWidth("🎉"), 2);
  assert.equal(displayWidth("e\u0301"), 1);
  assert.equal(displayWidth("\x1b[31mred\x1b[0m"), 3);
});

test("--timeout: the deadline error names the query and the flag that sets it", async () => {
  const { main } = await import("../../src/cli/main.ts");
  const cwd = process.cwd();
  process.chdir(new URL("../fixtures/conftest/gaps", import.meta.url).pathname);
  try {
    let out = "";
    let err = "";
    const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), exitCode: 0 };
    // 200ms: the trivial queries run before `deny` stay far inside it on a loaded machine (with
    // 1ms one of them could be the one that timed out); the 25-million-step rule never does.
    const code = await main(["test", "--timeout", "200ms", "-p", "slow", "a.json"], io);
    assert.deepEqual(
      { code, out, err },
      { code: 1, out: "", err: "Error: running test: query rule: check: query rule: data.main.deny: evaluation exceeded the --timeout of 200ms (raise --timeout or fix the policy)\n" },
    );
  } finally {
    process.chdir(cwd);
  }
});

// --update with local sources, as conftest v0.71.1 does it (its answers, recorded by running it):
// a directory source becomes a symbolic link at the policy path, a file source a link inside it;
// a missing source and a real directory in the way are errors.
test("--update: file:: and file:// sources are fetched as links; errors worded as conftest's", async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, readlinkSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { main } = await import("../../src/cli/main.ts");
  const dir = mkdtempSync(join(tmpdir(), "portcullis-update-"));
  const cwd = process.cwd();
  try {
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "u.rego"), 'package main\n\ndeny contains "u" if true\n');
    writeFileSync(join(dir, "a.json"), "{}");
    mkdirSync(join(dir, "realdir"));
    process.chdir(dir);
    const run = async (...args: string[]) => {
      let out = "";
      let err = "";
      const code = await main(["test", "--no-color", ...args], { out: (s) => void (out += s), err: (s) => void (err += s), exitCode: 0 });
      return { out, err, code };
    };
    const fromDir = await run("-p", "upol", "--update", `file::${join(dir, "src")}`, "a.json");
    assert.equal(fromDir.out, "FAIL - a.json - main - u\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n");
    assert.equal(readlinkSync(join(dir, "upol")), join(dir, "src"));
    assert.equal((await run("-p", "upol", "--update", `file::${join(dir, "src")}`, "a.json")).code, 1, "a second run replaces the link");
    const fromFile = await run("--update", `file://${join(dir, "src", "u.rego")}`, "a.json");
    assert.equal(fromFile.code, 1);
    assert.equal(readlinkSync(join(dir, "policy", "u.rego")), join(dir, "src", "u.rego"));
    const missing = await run("--update", `file::${join(dir, "nope")}`, "a.json");
    assert.equal(missing.err, `Error: running test: update policies: client get: stat ${join(dir, "nope")}: no such file or directory\n`);
    const inTheWay = await run("-p", "realdir", "--update", `file::${join(dir, "src")}`, "a.json");
    assert.equal(inTheWay.err, `Error: running test: update policies: client get: error downloading 'file://${join(dir, "src")}': destination exists and is not a symlink\n`);
    const remote = await run("-p", "x", "--update", "https://example.com/p.rego", "a.json");
    assert.equal(remote.code, 1);
    assert.match(remote.err, /only file sources \(file::PATH, file:\/\/PATH\) and OCI registries \(oci:\/\/REF\) are fetched/);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});
