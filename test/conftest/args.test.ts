// Missing, blank and unrecognised file arguments of `test` and `parse`, as conftest v0.71.1 answers
// them (its stdout/stderr/exit status recorded here, so this runs without conftest).
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "../cli/helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "pcs-args-"));
mkdirSync(join(dir, "pol"));
writeFileSync(join(dir, "pol", "p.rego"), 'package main\ndeny contains msg if { input.x == 1; msg := "x is 1" }\n');
writeFileSync(join(dir, "a.json"), '{"x":1}\n');
writeFileSync(join(dir, "f.zzz"), "");
writeFileSync(join(dir, "noext"), "");

async function inDir(args: string[]) {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return await cli(args);
  } finally {
    process.chdir(cwd);
  }
}

test('a blank file argument ("") names nothing: skipped, as conftest skips it', async () => {
  const r = await inDir(["test", "-p", "pol", "--no-color", "", "a.json", ""]);
  assert.equal(r.code, 1);
  assert.equal(r.out, "FAIL - a.json - main - x is 1\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n");
  const only = await inDir(["test", "-p", "pol", ""]);
  assert.deepEqual([only.code, only.out, only.err], [1, "", "Error: running test: parse files: no files found\n"]);
});

test("no file arguments: test prints its usage and conftest's error; parse says it needs a file", async () => {
  const t = await inDir(["test", "-p", "pol"]);
  assert.equal(t.code, 1);
  assert.equal(t.out, "");
  assert.match(t.err, /^Usage: portcullis test /);
  assert.match(t.err, /\nError: missing required arguments\n$/);
  const p = await inDir(["parse"]);
  assert.deepEqual([p.code, p.out, p.err], [1, "", "Error: must supply path to at least one file\n"]);
});

test("a file whose type is unknown: conftest's wording for test and parse", async () => {
  for (const f of ["f.zzz", "noext"]) {
    const ext = f === "f.zzz" ? "zzz" : "";
    const t = await inDir(["test", "-p", "pol", f]);
    assert.deepEqual([t.code, t.err], [1, `Error: running test: parse configurations: new parser: new: unknown parser: ${ext}, path: ${f}\n`]);
    const p = await inDir(["parse", f]);
    assert.deepEqual([p.code, p.err], [1, `Error: parse configurations: new parser: new: unknown parser: ${ext}, path: ${f}\n`]);
  }
});
