// verify's explanations from the engine tracer, against conftest verify --report and opa test -v
// (outputs recorded from conftest 0.71.1 and OPA 1.19.0 on examples/verify).
import test from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "../cli/helpers.ts";

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples", "verify");

async function verify(...args: string[]): Promise<string> {
  const prev = process.cwd();
  process.chdir(EXAMPLES);
  try {
    return (await cli(["verify", ...args])).out;
  } finally {
    process.chdir(prev);
  }
}

test("verify --report fails: the failure line padded as OPA pads a location's text (spaces, tabs kept)", async () => {
  const out = await verify("--report", "fails", "-p", "failing/fails", "-p", "policy");
  // `false` of `test_twice if false` at column 15: 14 spaces after the 4 of the report's indent.
  assert.ok(out.includes("  failing/fails/fails_test.rego:41:\n" + " ".repeat(18) + "false\n"), out);
  // `x == 43` indented by a tab in the source: the tab is kept.
  assert.ok(out.includes("  failing/fails/fails_test.rego:27:\n    \tx == 43\n"), out);
});

test("verify --report fails: a ref-head test's path stops at its variable part; a rule without a body evaluates true", async () => {
  const out = await verify("--report", "fails", "-p", "failing/fails", "-p", "policy");
  assert.ok(out.includes("  failing/fails/fails_test.rego:33       | Redo data.failing.fails.test_table  \n"), out);
  const full = await verify("-v", "--explain=full", "failing/fails", "policy");
  assert.ok(full.includes("  failing/fails/fails_test.rego:21       | | Eval true  \n  failing/fails/fails_test.rego:21       | | Exit data.failing.fails.test_false early  \n"), full);
});

test("verify --report notes: no failure lines (the notes lineage keeps no Fail event)", async () => {
  const out = await verify("--report", "notes", "-p", "failing/fails", "-p", "policy");
  assert.doesNotMatch(out, /fails_test\.rego:\d+:\n {4}/);
  assert.match(out, /data\.failing\.fails\.test_with_print: FAIL/);
});
