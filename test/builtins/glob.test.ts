import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/glob.ts";
import { checkDecls, evalCall, runCases } from "./helpers.ts";
import { compileGlob } from "../../src/builtins/glob.ts";


runCases("glob", cases);

checkDecls(["glob.match", "glob.quote_meta"]);

test("glob delimiters: null means none, [] means [\".\"]", () => {
  assert.equal(evalCall('glob.match("*", null, "a.b")'), true);
  assert.equal(evalCall('glob.match("*", [], "a.b")'), false);
  assert.equal(evalCall('glob.match("*", ["/"], "a.b")'), true);
});

test("gobwas quirks are kept: several separators as one joined string, Nothing alternatives", () => {
  // OPA 1.19 answers true here (the conformance sample says false; OPA is the reference)
  assert.equal(evalCall('glob.match("*?*", [".", "/"], "api.github.com")'), true);
  assert.equal(evalCall('glob.match("*?*", [".", "/"], "a./b")'), false);
  assert.equal(evalCall('glob.match("{*.,}x", ["."], "a.x")'), false);
});

test("compiled globs are reusable and work on long inputs", () => {
  const m = compileGlob("**.example.com", [0x2e]);
  assert.equal(m("a.b.example.com"), true);
  assert.equal(m("a.b.example.org"), false);
  assert.equal(m("x".repeat(100000) + ".example.com"), true);
  const star = compileGlob("*", [0x2e]);
  assert.equal(star("é".repeat(50000)), true);
});
