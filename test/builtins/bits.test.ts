import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, type Result } from "../../src/index.ts";
import { MAX_SHIFT } from "../../src/builtins/bits.ts";
import { cases } from "./cases/bits.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("bits", cases);

checkDecls(["bits.and", "bits.or", "bits.xor", "bits.negate", "bits.lsh", "bits.rsh"]);

test("bits.lsh/rsh: a shift past MAX_SHIFT is a named builtin error, one at it is computed", () => {
  const e = new Engine({ strictBuiltinErrors: true });
  const at = e.query(`x := bits.lsh(1, ${MAX_SHIFT}); y := bits.rsh(x, ${MAX_SHIFT})`) as Result[];
  assert.equal(at[0].bindings.y, 1);
  assert.throws(() => e.query(`x := bits.lsh(19, ${MAX_SHIFT + 1})`), /eval_builtin_error: bits\.lsh: shift amount too large/);
  assert.throws(() => e.query(`x := bits.rsh(19, ${MAX_SHIFT + 1})`), /eval_builtin_error: bits\.rsh: shift amount too large/);
  // without strict builtin errors the expression is undefined, as OPA's other builtin errors
  assert.deepEqual(new Engine().query(`x := bits.lsh(19, ${MAX_SHIFT + 1})`), []);
});
