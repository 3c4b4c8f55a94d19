// verify --var-values against conftest verify --var-values (conftest 0.71.1) and opa test
// [-v] --var-values (OPA 1.19.0), recorded by varvalues-record.sh in test/fixtures/varvalues/*/
// (expected.txt, opa.txt, opa-v.txt): the variables column of the trace lines and OPA's
// annotation of the failed expression, byte for byte but the durations.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cli } from "../cli/helpers.ts";

const CASES = join(import.meta.dirname, "..", "fixtures", "varvalues");

/** The output with each test's duration masked (`FAIL (907.371µs)`). */
function masked(s: string): string {
  return s.replace(/ \((?:[0-9.]+(?:ns|µs|ms|s|m|h))+\)$/gm, " (DURATION)");
}

async function inDir(dir: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const prev = process.cwd();
  process.chdir(dir);
  try {
    return await cli(args);
  } finally {
    process.chdir(prev);
  }
}

const cases: [string, string][] = [
  ["scalar", "scalar variables, a call's and a rule reference's values, a with value"],
  ["table", "references into a local variable (tc.want beside tc), the last of several failures"],
  ["comprehension", "a comprehension's value, not its inside"],
  ["not", "a negated expression: a reference into a local and the local"],
  ["function", "a function call's value and its arguments"],
  ["where", "an expression over two lines indented by tabs: OPA's Where: list"],
  ["not-rule", "a rule kept in a negated expression, with input as a local: the rule's value"],
  ["rule-refs", "a rule compared with a local (data.main.z: 2)"],
  ["with-literal", "a negated rule with a literal input: the rule's value"],
  ["set-member", "a partial set's member that is not there: undefined"],
  ["no-locals", "a test failing on an undefined input: empty columns, no failed expression"],
];

/** A recording: the output and the exit code that ends it. */
function recording(dir: string, file: string): { out: string; code: number } {
  const recorded = readFileSync(join(dir, file), "utf8");
  const m = /exit (\d+)\n$/.exec(recorded);
  assert.ok(m, `${file} ends with the exit code`);
  return { out: masked(recorded.slice(0, m.index)), code: Number(m[1]) };
}

for (const [name, what] of cases) {
  test(`verify --var-values as conftest and opa test [-v]: ${what} (${name})`, async () => {
    const dir = join(CASES, name);
    const conftest = recording(dir, "expected.txt");
    const r = await inDir(dir, ["verify", "-p", ".", "--var-values"]);
    assert.equal(masked(r.out + r.err), conftest.out);
    assert.equal(r.code, conftest.code);
    // opa test --var-values: verify's opa test mode (-f pretty)
    const opa = recording(dir, "opa.txt");
    const o = await inDir(dir, ["verify", "-f", "pretty", "--var-values", "."]);
    assert.equal(masked(o.out + o.err), opa.out);
    assert.equal(o.code, opa.code);
    const opaV = recording(dir, "opa-v.txt");
    const v = await inDir(dir, ["verify", "-f", "pretty", "-v", "--var-values", "."]);
    if (name === "table") {
      // OPA 1.19 moves `tc.want` out of the expression (`__local5__ = __local9__`), conftest's
      // OPA 1.21 does not and Portcullis prints 1.21's: the trace lines differ, the annotation not.
      const at = (s: string) => {
        assert.ok(s.includes("  p.rego:11:\n    \tcount(deny) == tc.want with input as tc.data\n"), s);
        return s.slice(s.indexOf("  p.rego:11:\n"));
      };
      assert.equal(at(masked(v.out)), at(opaV.out));
    } else if (name === "rule-refs") {
      // OPA 1.19 moves the rule reference out (`x = __local2__`; conftest's OPA 1.21 keeps
      // `x = data.main.z`, as Portcullis): the trace lines differ, the annotation not.
      const block = "  p.rego:5:\n    \tx == z\n    \t|    |\n    \t|    2\n    \t1\n";
      assert.ok(opaV.out.includes(block), opaV.out);
      assert.ok(v.out.includes(block), v.out);
    } else assert.equal(masked(v.out + v.err), opaV.out);
    assert.equal(v.code, opaV.code);
  });
}

test("verify --var-values turns on --report fails, which is for stdout only (as conftest)", async () => {
  const dir = join(CASES, "scalar");
  const withReport = await inDir(dir, ["verify", "-p", ".", "--var-values", "--report", "fails"]);
  const alone = await inDir(dir, ["verify", "-p", ".", "--var-values"]);
  assert.equal(masked(withReport.out), masked(alone.out));
  const json = await inDir(dir, ["verify", "-p", ".", "--var-values", "-o", "json"]);
  assert.equal(json.out, "");
  assert.equal(json.err, "Error: report flag is supported with stdout only\n");
  assert.equal(json.code, 1);
});

test("verify --report fails without --var-values: no variables column, the expression as written", async () => {
  const r = await inDir(join(CASES, "where"), ["verify", "-p", ".", "--report", "fails"]);
  // conftest 0.71.1's lines for this test
  assert.ok(r.out.includes("  p.rego:8       | | Fail __local7__ = 7  \n"), r.out);
  assert.ok(r.out.includes("  p.rego:8:\n    \tsum3(x,\n    \t\ty, 3) == 7\n\n\n"), r.out);
});

test("verify: var-values from the configuration file, as conftest binds its flags", async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const tmp = mkdtempSync(join(tmpdir(), "varvalues-"));
  try {
    const file = join(tmp, "conftest.toml");
    writeFileSync(file, "var-values = true\n");
    const dir = join(CASES, "scalar");
    const r = await inDir(dir, ["verify", "-p", ".", "-c", file]);
    assert.equal(masked(r.out), recording(dir, "expected.txt").out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
