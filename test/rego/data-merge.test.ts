// Data files that cannot be merged into one document: OPA's loader refuses them ("merge error",
// naming the later file) where Portcullis used to let the last file win. Expected texts and exit
// codes are those of opa eval / opa test 1.19.0 and conftest 0.71.1 on the same files.
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { cli } from "../cli/helpers.ts";
import { checkDataMerge, loadPaths, MergeError } from "../../src/load/index.ts";

const dir = mkdtempSync(join(tmpdir(), "pc-merge-"));
const f = (name: string, text: string) => {
  const p = join(dir, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  return p;
};
const d1 = f("d1.json", '{"a": {"b": 1}}');
const d2 = f("d2.json", '{"a": {"b": 2}}');
const d3 = f("d3.json", '{"a": {"c": 2}}');
const same = f("same.json", '{"a": {"b": 1}}');
const arr = f("arr.json", "[1]");
f("m1/x/data.json", '{"k": 1}');
f("m2/x/data.json", '{"k": 1}');
f("n1/x/data.json", "[1]");
f("policy/p.rego", 'package main\n\ndeny contains msg if {\n\tdata.a.b == 1\n\tmsg := "one"\n}\n');
const input = f("in.json", "{}");

function mergeMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MergeError) return e.message;
    throw e;
  }
  assert.fail("expected a MergeError");
}

test("the loader: a key set by two files, even to the same value, is a merge error naming the later file", () => {
  assert.equal(mergeMessage(() => loadPaths([d1, d2])), `${d2}: merge error`);
  assert.equal(mergeMessage(() => loadPaths([d1, same])), `${same}: merge error`);
  assert.equal(mergeMessage(() => loadPaths([d1, d1])), `${d1}: merge error`);
  assert.equal(mergeMessage(() => loadPaths([join(dir, "m1"), join(dir, "m2")])), `${join(dir, "m2/x/data.json")}: merge error`);
  // Different keys merge; a nested document may be any value; the root must be an object.
  assert.deepEqual(loadPaths([d1, d3]).data.map((d) => d.value), [{ a: { b: 1 } }, { a: { c: 2 } }]);
  assert.deepEqual(loadPaths([join(dir, "n1")]).data.map((d) => [d.path, d.value]), [[["x"], [1]]]);
  assert.equal(mergeMessage(() => loadPaths([arr])), `${arr}: document must be of type object`);
  // A file below a path another file set to a non-object.
  assert.equal(
    mergeMessage(() => checkDataMerge([{ file: "a.json", path: [], value: { x: 1 } }, { file: "x/b.json", path: ["x"], value: { y: 1 } }])),
    "x/b.json: merge error",
  );
  // The documents are not changed by the check.
  const docs = [{ file: "a.json", path: [], value: { a: { b: 1 } } }, { file: "b.json", path: [], value: { a: { c: 1 } } }];
  checkDataMerge(docs);
  assert.deepEqual(docs.map((d) => d.value), [{ a: { b: 1 } }, { a: { c: 1 } }]);
});

test("eval: opa eval's error and exit code 2", async () => {
  const j = await cli(["eval", "-d", d1, "-d", d2, "data"]);
  assert.equal(j.code, 2);
  assert.deepEqual(JSON.parse(j.out), { errors: [{ message: `${d2}: merge error` }] });
  const p = await cli(["eval", "-d", d1, "-d", d2, "-f", "pretty", "data"]);
  assert.equal(p.code, 2);
  assert.equal(p.err, `1 error occurred: ${d2}: merge error\n`);
  const ok = await cli(["eval", "-d", d1, "-d", d3, "data"]);
  assert.equal(ok.code, 0);
  assert.deepEqual(JSON.parse(ok.out).result[0].expressions[0].value, { a: { b: 1, c: 2 } });
});

test("verify and test: conftest's and opa test's loading error, exit code 1", async () => {
  const v = await cli(["verify", "--data", d1, "--data", d2, "-p", join(dir, "policy")]);
  assert.equal(v.code, 1);
  assert.match(v.err, new RegExp(`load: load documents: 1 error occurred during loading: ${d2.replace(/[.]/g, "\\.")}: merge error`));
  const t = await cli(["test", "--data", d1, "--data", d2, "-p", join(dir, "policy"), input]);
  assert.equal(t.code, 1);
  assert.match(t.err, new RegExp(`Error: running test: load: load documents: 1 error occurred during loading: ${d2.replace(/[.]/g, "\\.")}: merge error`));
  // Data that merges is used: the deny rule fires on data.a.b == 1.
  const ok = await cli(["test", "--data", d1, "--data", d3, "-p", join(dir, "policy"), input]);
  assert.equal(ok.code, 1);
  assert.match(ok.out, /1 test, 0 passed, 0 warnings, 1 failure/);
});
