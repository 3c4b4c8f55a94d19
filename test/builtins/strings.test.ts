import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/strings.ts";
import { checkDecls, evalCall, runCases } from "./helpers.ts";
import { formatFloat, goSprintf, GoNumber, GoMap } from "../../src/gotext/fmt.ts";
import { renderTemplate } from "../../src/builtins/gotemplate.ts";


// Go's Replacer with an empty pattern splits multi-byte characters into invalid UTF-8 bytes;
// OPA's JSON output shows each as U+FFFD, which is what Portcullis returns (%v shows the raw
// bytes instead, so these two are checked by hand).
const BYTE_SPLIT = new Set(['replace("a😀b", "", "-")', 'strings.replace_n({"": "X"}, "aé")']);
runCases("strings", cases.filter(([e]) => !BYTE_SPLIT.has(e)));

test("empty-pattern replacement splits multi-byte characters as Go does (U+FFFD per byte)", () => {
  assert.equal(evalCall('replace("a😀b", "", "-")'), "-a-\ufffd-\ufffd-\ufffd-\ufffd-b-");
  assert.equal(evalCall('strings.replace_n({"": "X"}, "aé")'), "XaX\ufffdX\ufffdX");
});

checkDecls([
  "concat", "contains", "endswith", "startswith", "format_int", "indexof", "indexof_n", "lower", "upper", "replace",
  "split", "sprintf", "substring", "trim", "trim_left", "trim_prefix", "trim_right", "trim_suffix", "trim_space",
  "strings.any_prefix_match", "strings.any_suffix_match", "strings.count", "strings.replace_n", "strings.reverse",
  "strings.split_n", "strings.render_template",
]);

test("Go float formatting: exact halves round to even, shortest digits", () => {
  assert.equal(formatFloat(0.125, "f", 2), "0.12");
  assert.equal(formatFloat(0.375, "f", 2), "0.38");
  assert.equal(formatFloat(2.5, "f", 0), "2");
  assert.equal(formatFloat(1e21, "g", -1), "1e+21");
  assert.equal(formatFloat(123456, "g", -1), "123456");
  assert.equal(formatFloat(1234567, "g", -1), "1.234567e+06");
  assert.equal(formatFloat(5e-324, "e", -1), "5e-324");
  assert.equal(formatFloat(1.7976931348623157e308, "f", 0).length, 309);
  assert.equal(formatFloat(0.1, "f", 20), "0.10000000000000000555");
  assert.equal(formatFloat(1.5, "b", -1), "6755399441055744p-52");
  assert.equal(formatFloat(1.5, "x", -1), "0x1.8p+00");
});

test("sprintf: Go values directly", () => {
  assert.equal(goSprintf("%v|%s|%d", [new GoNumber("1.50"), new GoNumber("2"), new GoNumber("3")]), "1.50|2|%!d(json.Number=3)");
  assert.equal(goSprintf("%v", [new GoMap([["a", [1, "x", null]]])]), "map[a:[1 x <nil>]]");
  assert.equal(goSprintf("%6.2f|%-6d|%x", [Math.PI, 42, 255n]), "  3.14|42    |ff");
});

test("sprintf: large and repeated inputs", () => {
  const long = "x".repeat(100000);
  assert.equal(evalCall(`sprintf("%s!", ["${long}"])`), long + "!");
  for (let i = 0; i < 1000; i++) assert.equal(evalCall(`sprintf("%s-%d", ["a", ${i}])`), `a-${i}`);
});

test("render_template: parsed templates are cached and reusable with other data", () => {
  const t = "{{range $i, $x := .xs}}{{if $i}},{{end}}{{$x}}{{end}}";
  assert.equal(renderTemplate(t, new GoMap([["xs", ["a", "b"]]])), "a,b");
  assert.equal(renderTemplate(t, new GoMap([["xs", []]])), "");
  assert.equal(renderTemplate(t, new GoMap([["xs", [new GoNumber("1")]]])), "1");
});
