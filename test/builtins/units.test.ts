import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/units.ts";
import { checkDecls, evalCall, runCases } from "./helpers.ts";
import { BigDec } from "../../src/rego/value.ts";

runCases("units", cases);

checkDecls(["units.parse", "units.parse_bytes"]);

test("units.parse keeps exact big and fractional results", () => {
  assert.equal(evalCall(`units.parse("10Ei")`), 11529215046068469760n);
  assert.equal(evalCall(`units.parse("1.1Ki")`), 1126.4);
  // 10 decimal places, the milli factor being the double nearest 0.001
  assert.equal(evalCall(`units.parse("1.23456789012345m")`), 0.0012345679);
  const big = evalCall(`units.parse("3.3333333333333Ei")`);
  assert.ok(big instanceof BigDec);
  assert.equal(big.toString(), "3843071682022784822.6165131051");
});

test("units.parse_bytes rounds through a 64-bit mantissa", () => {
  assert.equal(evalCall(`units.parse_bytes("123456789012345678901")`), 123456789012345678904n);
  assert.equal(evalCall(`units.parse_bytes("1.1kib")`), 1126);
});
