import { test } from "node:test";
import assert from "node:assert/strict";
import { validateSchema, compileRE2, goQuote } from "../../src/gatekeeper/schema.ts";

const schema = {
  type: "object",
  properties: {
    labels: { type: "array", items: { type: "string" } },
    n: { type: "integer", minimum: 1, maximum: 10 },
    ratio: { type: "number" },
    mode: { type: "string", enum: ["a", "b"] },
    name: { type: "string", pattern: "^[a-z]+$", maxLength: 5 },
    obj: { type: "object", required: ["a"], properties: { a: { type: "boolean" } } },
    free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    port: { "x-kubernetes-int-or-string": true },
    list: { type: "array", minItems: 1, items: { type: "object", properties: { key: { type: "string" } } } },
    maybe: { type: "string", nullable: true },
    map: { type: "object", additionalProperties: { type: "integer" } },
  },
};

const v = (value: unknown) => validateSchema(schema, value, "spec.parameters");

test("valid parameters give no errors", () => {
  const r = v({ labels: ["a"], n: 3, ratio: 1.5, mode: "a", name: "abc", obj: { a: true }, free: { x: [1, { y: 2 }] }, port: "http", list: [{ key: "k" }], maybe: null, map: { a: 1 } });
  assert.deepEqual(r, { errors: [], unknownFields: [] });
  assert.deepEqual(v({ port: 80, ratio: 2 }).errors, []);
});

test("type errors carry the field path and the Kubernetes message", () => {
  const r = v({ labels: [1, "a"], n: "str", obj: { a: 1 } });
  assert.deepEqual(
    r.errors.map((e) => e.message),
    [
      'spec.parameters.labels[0]: Invalid value: "number": spec.parameters.labels[0] in body must be of type string: "number"',
      'spec.parameters.n: Invalid value: "string": spec.parameters.n in body must be of type integer: "string"',
      'spec.parameters.obj.a: Invalid value: "number": spec.parameters.obj.a in body must be of type boolean: "number"',
    ],
  );
  assert.equal(r.errors[0].field, "spec.parameters.labels[0]");
  assert.equal(v({ n: 1.5 }).errors[0].field, "spec.parameters.n");
  assert.match(v({ labels: null }).errors[0].message, /spec\.parameters\.labels in body must be of type array: "null"/);
  assert.match(v({ port: true }).errors[0].message, /integer-or-string/);
  assert.match(v({ map: { a: "x" } }).errors[0].message, /^spec\.parameters\.map\.a: Invalid value/);
});

test("enum, pattern, bounds, required, lengths", () => {
  assert.match(v({ mode: "c" }).errors[0].message, /^spec\.parameters\.mode: Unsupported value: "c": supported values: "a", "b"$/);
  assert.match(v({ name: "ABC" }).errors[0].message, /should match '\^\[a-z\]\+\$'/);
  assert.match(v({ name: "abcdefg" }).errors[0].message, /^spec\.parameters\.name: Too long/);
  assert.match(v({ n: 0 }).errors[0].message, /should be greater than or equal to 1/);
  assert.match(v({ n: 11 }).errors[0].message, /should be less than or equal to 10/);
  assert.match(v({ obj: {} }).errors[0].message, /^spec\.parameters\.obj\.a: Required value/);
  assert.match(v({ list: [] }).errors[0].message, /should have at least 1 items/);
});

test("unknown fields are reported unless preserved", () => {
  const r = v({ unknown: 1, obj: { a: true, extra: 2 }, free: { anything: 1 }, list: [{ key: "k", other: 1 }] });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.unknownFields.sort(), ["spec.parameters.list[0].other", "spec.parameters.obj.extra", "spec.parameters.unknown"]);
  assert.deepEqual(validateSchema({ type: "object", "x-kubernetes-preserve-unknown-fields": true }, { a: { b: 1 } }, "p").unknownFields, []);
});

test("RE2 helpers and Go quoting", () => {
  assert.ok(compileRE2("(?i)^abc$").test("ABC"));
  assert.ok(compileRE2("^[[:alpha:]]+$").test("abc"));
  assert.ok(compileRE2("(?P<x>a)b").test("ab"));
  assert.equal(goQuote('a"b\\c\n'), '"a\\"b\\\\c\\n"');
});
