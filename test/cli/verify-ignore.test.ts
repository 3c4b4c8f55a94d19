// `portcullis verify --ignore` (opa test --ignore): names of files and directories below the given
// paths matching a Go glob are not loaded; the paths themselves always are. Expected test sets
// recorded from opa test 1.19.
import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { cli } from "./helpers.ts";
import { goMatchRegExp, ignoreFilter } from "../../src/verify/discover.ts";

const dir = mkdtempSync(join(tmpdir(), "pc-ignore-"));
mkdirSync(join(dir, "sub"));
writeFileSync(join(dir, "a_test.rego"), "package a\ntest_a if true\n");
writeFileSync(join(dir, "sub", "b_test.rego"), "package b\ntest_b if false\n");
writeFileSync(join(dir, "c.rego"), "package c\ntest_c if true\n");
process.chdir(dir);

/** The tests a run reports (opa test's JSON), and its exit code. */
async function ran(args: string[]): Promise<{ code: number; tests: string[] }> {
  const r = await cli(["verify", "--format", "json", ...args]);
  const tests = (JSON.parse(r.out || "[]") as { package: string; name: string }[]).map((t) => `${t.package}.${t.name}`).sort();
  return { code: r.code, tests };
}

// [arguments, exit code, tests] as opa test 1.19 reports them.
const CASES: [string[], number, string[]][] = [
  [["."], 2, ["data.a.test_a", "data.b.test_b", "data.c.test_c"]],
  [[".", "--ignore", "sub"], 0, ["data.a.test_a", "data.c.test_c"]],
  [[".", "--ignore", "b_*"], 0, ["data.a.test_a", "data.c.test_c"]],
  // A path given on the command line is loaded even when its name matches.
  [["sub/b_test.rego", "--ignore", "b_*"], 2, ["data.b.test_b"]],
  [["sub", "--ignore", "sub"], 2, ["data.b.test_b"]],
  [[".", "--ignore", "*_test.rego,c.rego"], 0, []],
  [[".", "--ignore", "*_test.rego", "--ignore", "c.rego"], 0, []],
  // A malformed pattern matches nothing; patterns match names, not paths.
  [[".", "--ignore", "["], 2, ["data.a.test_a", "data.b.test_b", "data.c.test_c"]],
  [[".", "--ignore", "sub/b_test.rego"], 2, ["data.a.test_a", "data.b.test_b", "data.c.test_c"]],
];

test("verify --ignore skips what opa test --ignore skips (recorded)", async () => {
  for (const [args, code, tests] of CASES) {
    assert.deepEqual(await ran(args), { code, tests }, args.join(" "));
  }
});

test("Go's filepath.Match, as --ignore reads patterns", () => {
  // [pattern, name, Go's answer (null: ErrBadPattern)]
  const cases: [string, string, boolean | null][] = [
    ["*_test.rego", "a_test.rego", true],
    ["a-b", "a-b", true],
    ["[a-c]x", "bx", true],
    ["[^a-c]x", "bx", false],
    ["[", "x", null],
    ["?.rego", "a.rego", true],
    ["\\*", "*", true],
    ["[]a]", "]", null],
    ["[a-]", "a", null],
    [".*", ".git", true],
  ];
  for (const [p, n, want] of cases) {
    const re = goMatchRegExp(p);
    assert.equal(re === null ? null : re.test(n), want, `${p} ${n}`);
  }
  assert.equal(ignoreFilter([]), undefined);
  assert.equal(ignoreFilter(["b_*"])!("x/sub/b_test.rego"), true);
  assert.equal(ignoreFilter(["sub"])!("x/sub/"), true);
});
