// io.jwt.* security findings (fail-open defects of the hardening issue and related OPA-parity
// items): nested tokens verified at every level, "crit", JWK "alg" and "kid" key selection, RSA
// keys under 1024 bits, oct keys as "cert", JWE refusal, data after a PEM block, and the order in
// which OPA reports problems.
//
// The calls are in calls/jwt-security.txt, grouped under "#" comments naming the finding; the
// expected answers in cases/jwt-security.ts are OPA 1.19's (gen-expected.ts), recorded at the
// wall clock, so the cases run at the wall clock too (no token here expires after 2100).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { cases } from "./cases/jwt-security.ts";
import { evalCall, fakeContext, readValue } from "./helpers.ts";
import { BuiltinError, BuiltinTypeError } from "../../src/builtins/registry.ts";
import { equal, toJSONText, type Value } from "../../src/rego/value.ts";

// The finding each call belongs to: the last comment line above it in the calls file.
const section = new Map<string, string>();
{
  let current = "";
  for (const raw of readFileSync(new URL("./calls/jwt-security.txt", import.meta.url), "utf8").split("\n")) {
    const l = raw.trim();
    if (l.startsWith("#")) current = l.slice(1).trim();
    else if (l) section.set(l, current);
  }
}

function nowContext() {
  const ctx = fakeContext();
  ctx.nowNs = BigInt(Date.now()) * 1000000n;
  return ctx;
}

test("jwt security: every call has its finding and an OPA answer", () => {
  assert.equal(cases.length, section.size);
  for (const [expr] of cases) assert.ok(section.has(expr), expr.slice(0, 80));
});

for (const [i, [expr, want]] of cases.entries()) {
  test(`jwt security #${i + 1} (${section.get(expr)}): ${expr.slice(0, 60)}`, () => {
    let got: Value | undefined;
    let err: unknown = null;
    try {
      got = evalCall(expr, nowContext());
    } catch (e) {
      err = e;
    }
    if ("error" in want) {
      assert.ok(err !== null, `expected error ${want.error}, got ${got === undefined ? "undefined" : toJSONText(got)}`);
      const code = err instanceof BuiltinTypeError ? "eval_type_error" : err instanceof BuiltinError ? "eval_builtin_error" : String(err);
      assert.equal((err as Error).message, want.error);
      assert.equal(code, want.code);
      return;
    }
    if (err !== null) throw err;
    if ("undefined" in want) return assert.equal(got, undefined);
    assert.ok(got !== undefined, `got undefined, want ${want.value}`);
    assert.ok(equal(got, readValue(want.value)), `got ${toJSONText(got)}, want ${want.value}`);
  });
}

// The headline findings, spelled out.

test("jwt security: a signed outer token does not vouch for an unsigned inner token", () => {
  const expr = cases.find(([e]) => section.get(e) === "signed outer token around an unsigned (alg none) inner token")![0];
  assert.deepEqual(evalCall(expr, nowContext()), [false, {}, {}]);
});

test("jwt security: a JWK marked RS256 does not verify a PS256 token", () => {
  const expr = cases.find(([e]) => e.startsWith("io.jwt.verify_ps256(") && section.get(e)!.startsWith("JWK alg"))![0];
  assert.equal(evalCall(expr, nowContext()), false);
});
