import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/arithmetic.ts";
import { checkDecls, evalCall, fakeContext, runCases } from "./helpers.ts";

runCases("arithmetic", cases);

checkDecls([
  "plus", "minus", "mul", "div", "rem", "abs", "round", "ceil", "floor",
  "numbers.range", "numbers.range_step", "rand.intn",
]);

test("rand.intn is stable within a query and in range", () => {
  const ctx = fakeContext();
  const a = evalCall(`rand.intn("seed", 1000)`, ctx) as number;
  assert.ok(Number.isInteger(a) && a >= 0 && a < 1000);
  for (let i = 0; i < 20; i++) assert.equal(evalCall(`rand.intn("seed", 1000)`, ctx), a);
  assert.equal(evalCall(`rand.intn("seed", -1000)`, ctx), a); // OPA uses |n|
  const big = evalCall(`rand.intn("x", 123456789012345678901234567890)`, ctx) as bigint;
  assert.ok(typeof big === "bigint" ? big >= 0n && big < 123456789012345678901234567890n : big >= 0);
});
