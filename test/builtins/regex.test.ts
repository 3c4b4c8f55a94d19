import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/regex.ts";
import { checkDecls, evalCall, fakeContext, runCases } from "./helpers.ts";
import { BUILTINS } from "../../src/builtins/index.ts";
import { compileRE2, getRegex, testRE } from "../../src/builtins/re2.ts";


runCases("regex", cases);

checkDecls([
  "regex.match", "re_match", "regex.is_valid", "regex.find_n", "regex.find_all_string_submatch_n", "regex.replace",
  "regex.split", "regex.template_match", "regex.globs_match",
]);

test("RE2 translation: Go semantics JS differs on", () => {
  const t = (p: string, s: string) => testRE(getRegex(p), s);
  assert.equal(t("^.$", "\r"), true); // . is [^\n], not JS's line terminators
  assert.equal(t("^.$", "\u2028"), true);
  assert.equal(t("\\s", "\u00a0"), false); // ASCII \s
  assert.equal(t("\\s", "\v"), false);
  assert.equal(t("a$", "a\n"), false); // $ is end of text
  assert.equal(t("(?m)a$", "a\n"), true);
  assert.equal(t("(?m)^b", "a\rb"), false); // only \n ends a line
  assert.equal(t("\\w", "é"), false);
  assert.equal(t("^(?i:a)b$", "Ab"), true); // flag groups without JS support for modifiers
  assert.equal(t("^(?i:a)b$", "AB"), false);
  assert.equal(t("a{,3}", "a{,3}"), true); // braces that are not a repeat are literals
});

test("compiled patterns are cached", () => {
  assert.equal(getRegex("^abc+$"), getRegex("^abc+$"));
  assert.notEqual(compileRE2("^abc+$"), compileRE2("^abc+$"));
});

test("regex.match on long inputs", () => {
  const long = "a".repeat(200000) + "b";
  assert.equal(evalCall(`regex.match("a+b$", "${long}")`), true);
  const r = BUILTINS.get("regex.find_all_string_submatch_n")!.impl(["(a|(b))+", "ab".repeat(2000), -1], fakeContext());
  assert.deepEqual(r, [["ab".repeat(2000), "b", "b"]]);
});

test("patterns that make backtracking explode run in linear time (as RE2 guarantees)", () => {
  const m = BUILTINS.get("regex.match")!;
  const t0 = Date.now();
  assert.equal(m.impl(["^(a+)+$", "a".repeat(5000) + "b"], fakeContext()), false);
  assert.equal(m.impl(["^(\\w|\\d)+$", "1".repeat(5000) + "!"], fakeContext()), false);
  assert.equal(m.impl(["^(a|aa)+$", "a".repeat(5000) + "b"], fakeContext()), false);
  assert.equal(m.impl([".*foo.*bar.*baz", "foo bar ".repeat(2000)], fakeContext()), false);
  assert.ok(Date.now() - t0 < 5000, "took too long");
});
