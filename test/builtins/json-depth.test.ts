// JSON and JWT builtins on deeply nested input: Go's encoding/json limit of 10,000 levels, and
// no JavaScript recursion on the input's depth (fuzz findings: a JWK of 4,855 "[" and a
// jsonschema argument of 5,420 "[" overflowed the stack). Every expected answer is OPA 1.19.0's
// (opa eval --strict-builtin-errors), recorded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Engine, RegoError } from "../../src/index.ts";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const deepArr = (n: number) => "[".repeat(n) + "]".repeat(n);
const deepObj = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
const nest = (n: number, leaf: unknown = []) => {
  let v: unknown = leaf;
  for (let i = 0; i < n; i++) v = [v];
  return v;
};

function run(query: string, input: unknown): { value?: unknown; error?: string } {
  const e = new Engine();
  try {
    const rs = e.query(query, { input, strictBuiltinErrors: true });
    assert.ok(!(rs instanceof Promise));
    return { value: rs[0]?.expressions[0]?.value };
  } catch (err) {
    if (err instanceof RegoError) return { error: err.errors[0]!.message };
    throw err;
  }
}

const JWK_PROBE = "io.jwt.encode_sign_raw: jwk.Parse: failed to parse sole key: jwk.ParseKey: jwk.Parse: failed to probe data: probe: failed to unmarshal data: ";

test("io.jwt.encode_sign_raw: deeply nested or truncated key texts are Go's JSON errors", () => {
  const q = 'io.jwt.encode_sign_raw(`{"alg":"HS256"}`, `{}`, input)';
  assert.deepEqual(run(q, "[".repeat(4855)), { error: JWK_PROBE + "unexpected EOF" });
  assert.deepEqual(run(q, "[".repeat(20000)), { error: JWK_PROBE + "invalid character '[' exceeded max depth" });
  assert.deepEqual(run(q, deepArr(10001)), { error: JWK_PROBE + "invalid character '[' exceeded max depth" });
  assert.deepEqual(run(q, deepObj(10001)), { error: JWK_PROBE + "invalid character '{' exceeded max depth" });
  assert.match(run(q, deepArr(9999)).error!, /json: cannot unmarshal array into Go value of type struct/);
  assert.deepEqual(run(q, ""), { error: JWK_PROBE + "EOF" });
  assert.deepEqual(run(q, " "), { error: JWK_PROBE + "EOF" });
  assert.deepEqual(run(q, '{"kty":'), { error: JWK_PROBE + "unexpected EOF" });
  const v = 'io.jwt.verify_rs256("eyJhbGciOiJSUzI1NiJ9.e30.AAAA", input)';
  const jwks =
    "io.jwt.verify_rs256: failed to parse a JWK key (set): jwk.ParseString: failed to parse string: jwk.Parse: failed to parse sole key: jwk.ParseKey: jwk.Parse: failed to probe data: probe: failed to unmarshal data: ";
  assert.deepEqual(run(v, "[".repeat(4855)), { error: jwks + "unexpected EOF" });
  assert.deepEqual(run(v, " "), { error: jwks + "EOF" });
  assert.deepEqual(run(v, "[".repeat(20000)), { error: jwks + "invalid character '[' exceeded max depth" });
});

test("io.jwt.encode_sign_raw: a JWT payload deeper than 10,000 levels is not JSON; 9,999 levels sign", () => {
  const key = '{"kty":"oct","k":"AAAA"}';
  const q = `io.jwt.encode_sign_raw(\`{"alg":"HS256"}\`, input, \`${key}\`)`;
  assert.deepEqual(run(q, deepArr(10001)), { error: "io.jwt.encode_sign_raw: type is JWT but payload is not JSON" });
  assert.deepEqual(run(q, "[".repeat(20000)), { error: "io.jwt.encode_sign_raw: type is JWT but payload is not JSON" });
  const tok = run(q, deepArr(9999)).value as string;
  assert.equal(tok.length, 26729);
  assert.equal(sha256(tok), "5d45ef0e948e91ccb2643f99f941418854679d383fdcb4b6461b102d71704619");
});

test("io.jwt.encode_sign and json.marshal of values nested 9,000 deep (as OPA)", () => {
  const arr = nest(8999); // 9,000 levels
  const r = run('io.jwt.encode_sign({"alg":"HS256"}, {"a": input}, {"kty":"oct","k":"AAAA"})', arr).value as string;
  assert.equal(r.length, 24073);
  assert.equal(sha256(r), "b40a0132467a6c3bb75221ecf98c37c6ae6c3805201b7a9e6ceec38280340905");
  assert.equal(run("json.marshal(input)", arr).value, deepArr(9000));
  let o: unknown = 1;
  for (let i = 0; i < 9000; i++) o = { a: o };
  assert.equal(run("json.marshal(input)", o).value, deepObj(9000));
  const indented = run('json.marshal_with_options(input, {"indent": " ", "prefix": "-"})', o).value as string;
  assert.equal(indented.length, 81099002);
  assert.equal(sha256(indented), "dad2bee2bf4cad3a4ace2a90f6664a8e572dee1817496c4f5a6e103d1f1dfa7c");
});

test("json.unmarshal / json.is_valid: Go's limit of 10,000 levels", () => {
  assert.deepEqual(run("json.unmarshal(input)", deepArr(10001)), { error: "json.unmarshal: invalid character '[' exceeded max depth" });
  assert.deepEqual(run("json.unmarshal(input)", "[".repeat(20000)), { error: "json.unmarshal: invalid character '[' exceeded max depth" });
  assert.equal(run("json.is_valid(input)", deepArr(10001)).value, false);
  assert.equal(run("json.is_valid(input)", deepArr(9000)).value, true);
  assert.equal(run("json.is_valid(input)", `["${"[".repeat(20000)}"]`).value, true);
  assert.equal(run("count(json.unmarshal(input))", deepArr(9000)).value, 1);
});

test("json.verify_schema / json.match_schema: deep schemas and documents are answers, not stack overflows", () => {
  assert.deepEqual(run("json.verify_schema(input)", "[".repeat(20000)).value, [false, "jsonschema: invalid JSON string"]);
  assert.deepEqual(run("json.verify_schema(input)", "[".repeat(5420)).value, [false, "jsonschema: invalid JSON string"]);
  assert.deepEqual(run("json.verify_schema(input)", deepArr(10001)).value, [false, "jsonschema: invalid JSON string"]);
  assert.deepEqual(run("json.verify_schema(input)", deepArr(9000)).value, [false, "jsonschema: schema is invalid"]);
  let o: unknown = 1;
  for (let i = 0; i < 9000; i++) o = { a: o };
  assert.deepEqual(run("json.match_schema(input, {})", o).value, [true, []]);
});

test("rego.parse_module: long operator chains and deep collections (as OPA); too deep is a builtin error", () => {
  // the fuzz case: "x := 1 + 1 - 2 * 3 / 4 % 5 + 6 …" (digits 1–9 cycling), 19,752 characters
  const ops = ["+", "-", "*", "/", "%"];
  let chain = "1";
  for (let i = 0; i < 1972; i++) chain += ` ${ops[i % 5]} ${(i % 9) + 1}`;
  const fuzz = `package p\nx := ${chain}\n`;
  const q = 'json.marshal(rego.parse_module("x.rego", input))';
  const long = run(q, `package p\nx := 1 + ${Array(3000).fill("1").join(" + ")}\n`).value as string;
  assert.equal(long.length, 327260);
  assert.equal(sha256(long), "3314bf0de353b1ff9f80e2297c6550272d179eea8aa50757df1eac2679719fce");
  const arrays = run(q, `package p\nx := ${deepArr(2000)}\n`).value as string;
  assert.equal(arrays.length, 54233);
  assert.equal(sha256(arrays), "c5cc3885aea284b71cc8c08ffc8f10e21b43837e79dd080aa9c02cf9d17d862e");
  assert.equal(typeof run(q, fuzz).value, "string");
  // OPA: "json: error calling MarshalJSON for type *ast.Rule: … exceeded max depth"; Portcullis: its value depth limit
  assert.match(run(q, `package p\nx := ${deepArr(6000)}\n`).error!, /^rego\.parse_module: .*exceeded max depth/);
});

test("rego.parse_module: 1,000 nested comprehensions, beyond the ordinary stack, give OPA's AST (parsed again on the large stack)", () => {
  // the fuzz case (seed 9): 932 levels of {"k": v | v := …}; OPA 1.19 returns the AST
  let m = "package p\nx := ";
  for (let i = 0; i < 1000; i++) m += `{"k": v${i} | v${i} := `;
  m += "1" + "}".repeat(1000) + "\n";
  const text = run('json.marshal(rego.parse_module("x.rego", input))', m).value as string;
  // opa eval --strict-builtin-errors: count(json.marshal(…)) 233040, crypto.sha256(json.marshal(…)) eb191c18…
  assert.equal(text.length, 233040);
  assert.equal(sha256(text), "eb191c18b58edee1c818db7a9afce962cc740ddc2320f958c4a8191a32fa08aa");
  // a parse error found there is the builtin's error, as on the ordinary stack
  assert.match(run('rego.parse_module("x.rego", input)', m.replace("1}", "1 +}")).error!, /^rego\.parse_module: 1 error occurred: x\.rego:2: rego_parse_error/);
});

test("json.match_schema / json.verify_schema: an array argument at run time is converted, as in OPA", () => {
  const a = { a: [1], n: 3 };
  assert.deepEqual(run("json.match_schema(input.a, {})", a).value, [true, []]);
  assert.deepEqual(run('json.match_schema(input.a, {"type":"array","items":{"type":"string"}})', a).value, [
    false,
    [{ desc: "Invalid type. Expected: string, given: integer", error: "0: Invalid type. Expected: string, given: integer", field: "0", type: "invalid_type" }],
  ]);
  assert.deepEqual(run("json.match_schema({}, input.a)", a), { error: "json.match_schema: schema is invalid" });
  assert.deepEqual(run("json.verify_schema(input.a)", a).value, [false, "jsonschema: schema is invalid"]);
  assert.deepEqual(run("json.match_schema(input.n, {})", a), { error: "json.match_schema: wrong type, expected string or object" });
  let deep: unknown = [];
  for (let i = 0; i < 8999; i++) deep = [deep];
  assert.deepEqual(run("json.match_schema(input, {})", deep).value, [true, []]);
  assert.deepEqual(run("json.verify_schema(input)", deep).value, [false, "jsonschema: schema is invalid"]);
});
