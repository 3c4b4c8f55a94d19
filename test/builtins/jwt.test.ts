import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/jwt.ts";
import { checkDecls, evalCall, fakeContext, readValue } from "./helpers.ts";
import { BuiltinError, BuiltinTypeError } from "../../src/builtins/registry.ts";
import { equal, toJSONText, type Value } from "../../src/rego/value.ts";

// The expected values come from OPA evaluating at the wall-clock time, so run with "now".
function nowContext() {
  const ctx = fakeContext();
  ctx.nowNs = BigInt(Date.now()) * 1000000n;
  return ctx;
}

for (const [expr, want] of cases) {
  test(`jwt: ${expr.slice(0, 150)}`, () => {
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

checkDecls([
  "io.jwt.decode", "io.jwt.decode_verify", "io.jwt.encode_sign", "io.jwt.encode_sign_raw",
  "io.jwt.verify_hs256", "io.jwt.verify_hs384", "io.jwt.verify_hs512",
  "io.jwt.verify_rs256", "io.jwt.verify_rs384", "io.jwt.verify_rs512",
  "io.jwt.verify_ps256", "io.jwt.verify_ps384", "io.jwt.verify_ps512",
  "io.jwt.verify_es256", "io.jwt.verify_es384", "io.jwt.verify_es512", "io.jwt.verify_eddsa",
]);

test("decode_verify checks exp and nbf against the query time", () => {
  const tok = evalCall(`io.jwt.encode_sign({"alg": "HS256"}, {"exp": 2000, "nbf": 1000}, {"kty": "oct", "k": "Zm9v"})`) as string;
  const at = (sec: number) => {
    const ctx = fakeContext();
    ctx.nowNs = BigInt(sec) * 1000000000n;
    return (evalCall(`io.jwt.decode_verify(${JSON.stringify(tok)}, {"secret": "foo"})`, ctx) as Value[])[0];
  };
  assert.equal(at(999), false);
  assert.equal(at(1000), true);
  assert.equal(at(1999), true);
  assert.equal(at(2000), false);
});
