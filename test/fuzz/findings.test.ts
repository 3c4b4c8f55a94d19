// Fuzz findings fixed outside src/formats (the format ones are in test/formats/hostile.test.ts),
// each with OPA 1.19's answer, recorded here (`opa eval`), so that the test runs without OPA.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Engine } from "../../src/engine/index.ts";
import { RegoError } from "../../src/rego/errors.ts";

function regoError(f: () => unknown): RegoError {
  try {
    f();
  } catch (e) {
    if (e instanceof RegoError) return e;
    throw e;
  }
  assert.fail("expected a RegoError");
}

function value(query: string, input?: unknown): unknown {
  const rs = new Engine().query(query, { input }) as { bindings: unknown }[];
  assert.equal(rs.length, 1, `${query}: ${rs.length} results`);
  return (rs[0].bindings as unknown as Record<string, unknown>).x;
}

test("print(...) used as a value is OPA's rego_type_error (was eval_internal_error: Error: unsafe)", () => {
  // opa eval -d t.rego data.t, t.rego: `a = time.add_date(0, print(x), 0, 0)`
  const e = new Engine();
  e.addModule("t.rego", "package t\na = time.add_date(0, print(x), 0, 0)\n");
  const err = regoError(() => e.compile());
  assert.equal(err.code, "rego_type_error");
  assert.equal(err.errors[0].message, "print(x) used as value");
  // OPA: `print("s", 1) used as value`, also in an assignment in a body and inside an array
  for (const [src, text] of [
    ['a = print("s", 1)', 'print("s", 1)'],
    ["a if { x := print(1) }", "print(1)"],
    ["a = [print(1)]", "print(1)"],
  ]) {
    const m = new Engine();
    m.addModule("t.rego", `package t\n${src}\n`);
    assert.equal(regoError(() => m.compile()).errors[0].message, `${text} used as value`, src);
  }
  // as a statement it prints (OPA: data.t.a is true)
  const ok = new Engine();
  ok.addModule("t.rego", "package t\na if { print(1) }\n");
  assert.deepEqual((ok.query("x := data.t.a") as { bindings: Record<string, unknown> }[]).map((r) => r.bindings.x), [true]);
});

test("print(...) with a deeply nested argument used as a value: the type error, not a compiler recursion", () => {
  const deep = "{".repeat(400) + '"a"' + "}".repeat(400);
  const err = regoError(() => new Engine().query(`x := print(false, ${deep})`));
  assert.equal(err.code, "rego_type_error");
  assert.match(err.errors[0].message, /^print\(false, \{\{\{.*\}\}\}\) used as value$/);
});

test("sprintf %v of a value nested 20,000 deep (was a stack overflow in regoText)", () => {
  // opa eval: count(sprintf("%v", [<20,000 nested arrays around 1>])) is 40001
  const n = 20000;
  const deep = "[".repeat(n) + "1" + "]".repeat(n);
  assert.equal(value(`x := count(sprintf("%v", [${deep}]))`), 2 * n + 1);
  assert.equal(value('x := sprintf("%v", [{"a": [1, "b", null, {2, 1}], "c": set()}])'), '{"a": [1, "b", null, {1, 2}], "c": set()}');
});

test('json.match_schema with a $ref cycle on the same value is a named error (OPA 1.19 dies: "goroutine stack exceeds")', () => {
  const e = new Engine();
  for (const schema of ['{"$ref":"#"}', '{"allOf":[{"$ref":"#"}]}']) {
    const err = regoError(() => e.query("x := json.match_schema(input[0], input[1])", { input: ["1", schema], strictBuiltinErrors: true }));
    assert.equal(err.code, "eval_builtin_error");
    assert.match(err.errors[0].message, /\$ref "#" refers back to a schema being applied to the same value/);
  }
  // recursion that consumes the instance still works (OPA: [false, [{"error": "0.0: Invalid type…"}]] and [true, []])
  const arr = value('x := json.match_schema("[[1]]", "{\\"type\\":\\"array\\",\\"items\\":{\\"$ref\\":\\"#\\"}}")') as unknown[];
  assert.equal(arr[0], false);
  assert.equal((arr[1] as { error: string }[])[0].error, "0.0: Invalid type. Expected: array, given: integer");
  assert.deepEqual(value('x := json.match_schema("[[1]]", "{\\"anyOf\\":[{\\"type\\":\\"number\\"},{\\"type\\":\\"array\\",\\"items\\":{\\"$ref\\":\\"#\\"}}]}")'), [true, []]);
});

test("rego.parse_module keeps numbers beyond float64 (OPA: {\"type\": \"number\", \"value\": 1e400})", () => {
  // compared inside Rego: bindings come back as JavaScript values, where 1e400 has no exact form
  assert.equal(value('x := rego.parse_module("", "package t\\nx := 1e400\\n").rules[0].head.value.value == 1e400'), true);
  assert.equal(value('x := rego.parse_module("", "package t\\nf(``,-1e400)").rules[0].head.args[1].value == -1e400'), true);
});

test("crypto.x509.parse_keypair: a certificate OpenSSL refuses is eval_builtin_error, as in OPA (was eval_internal_error)", () => {
  // the fuzzer's mutated certificate; OPA: eval_builtin_error "x509: invalid RDNSequence: …"
  const reg = JSON.parse(readFileSync(fileURLToPath(new URL("./regressions/builtins-support-x509-crash-e0470058.json", import.meta.url)), "utf8")) as { case: { args: string[] } };
  const err = regoError(() => new Engine().query("x := crypto.x509.parse_keypair(input[0], input[1])", { input: reg.case.args, strictBuiltinErrors: true }));
  assert.equal(err.code, "eval_builtin_error");
  assert.equal(err.errors[0].message, "crypto.x509.parse_keypair: x509: malformed certificate");
  // without strict builtin errors: undefined, as in OPA
  assert.deepEqual(new Engine().query("x := crypto.x509.parse_keypair(input[0], input[1])", { input: reg.case.args }), []);
});
