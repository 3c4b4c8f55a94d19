// The Rego input of a review is converted to the value model once per review (and each
// constraint's parameters once): the answers are those of converting it in every query, including
// for documents the conversion changes (big integers) and for one it refuses (too deep).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "../../src/gatekeeper/client.ts";
import { Engine } from "../../src/index.ts";
import { PreparedInput } from "../../src/rego/engine.ts";
import { RegoError } from "../../src/rego/errors.ts";
import { MAX_VALUE_DEPTH } from "../../src/rego/value.ts";
import { template, constraint } from "../support/gatekeeper-objects.ts";


test("PreparedInput: a query answers on it as on the document it was made of", () => {
  const e = new Engine();
  e.addModule("p.rego", "package p\nr := [input.a.b + 1, count(input.c), input.d == 12345678901234567890]\n");
  const doc = { a: { b: 41 }, c: [1, 2, 3], d: 12345678901234567890n };
  const plain = e.query("data.p.r", { input: doc });
  assert.ok(Array.isArray(plain));
  const prepared = PreparedInput.of(doc);
  assert.deepEqual(e.query("data.p.r", { input: prepared }), plain);
  assert.deepEqual(e.query("data.p.r", { input: PreparedInput.object({ a: PreparedInput.of(doc.a), c: PreparedInput.of(doc.c), d: PreparedInput.of(doc.d) }) }), plain);
  assert.deepEqual(plain[0].expressions[0].value, [42, 3, true]);
});

test("PreparedInput.of refuses a document the query would refuse, with the query's error", () => {
  let deep: unknown = 1;
  for (let i = 0; i < MAX_VALUE_DEPTH + 5; i++) deep = [deep];
  const e = new Engine();
  e.addModule("p.rego", "package p\nr := 1\n");
  let queryError: unknown;
  try {
    e.query("data.p.r", { input: deep });
  } catch (err) {
    queryError = err;
  }
  assert.ok(queryError instanceof RegoError);
  assert.throws(
    () => PreparedInput.of(deep),
    (err: unknown) => err instanceof RegoError && err.code === (queryError as RegoError).code && err.message === (queryError as RegoError).message,
  );
});

test("the constraints of one review share its converted input; big integers and parameters as before", async () => {
  const c = new Client();
  c.addTemplate(template('package k8sx\nviolation[{"msg": sprintf("%v %v %v", [input.parameters.p, input.review.object.spec.big, input.review.object.spec.big == 98765432109876543210])}] { true }\n'));
  c.addConstraint(constraint("one", { parameters: { p: "a" } }));
  c.addConstraint(constraint("two", { parameters: { p: "b" } }));
  const obj = { apiVersion: "v1", kind: "Pod", metadata: { name: "x", namespace: "default" }, spec: { big: 98765432109876543210n } };
  for (let round = 0; round < 2; round++) {
    const r = await c.review(obj);
    assert.deepEqual(
      r.results.map((v) => `${v.constraintName}: ${v.msg}`),
      ["one: a 98765432109876543210 true", "two: b 98765432109876543210 true"],
    );
  }
});

test("a review too deep to convert is one error violation per Rego constraint, as when each query converted it", async () => {
  const c = new Client();
  c.addTemplate(template('package k8sx\nviolation[{"msg": "seen"}] { input.review.object }\n'));
  c.addConstraint(constraint("one"));
  c.addConstraint(constraint("two"));
  let deep: unknown = 1;
  for (let i = 0; i < MAX_VALUE_DEPTH + 5; i++) deep = [deep];
  const r = await c.review({ apiVersion: "v1", kind: "Pod", metadata: { name: "x", namespace: "default" }, spec: { deep } });
  assert.equal(r.results.length, 2);
  for (const v of r.results) {
    assert.equal(v.error, true);
    assert.match(v.msg, /^invalid_argument: input: /);
  }
  assert.deepEqual(r.results.map((v) => v.constraintName).sort(), ["one", "two"]);
});
