import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/uuid.ts";
import { checkDecls, evalCall, fakeContext, runCases } from "./helpers.ts";

runCases("uuid", cases);

checkDecls(["uuid.rfc4122", "uuid.parse"]);

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("uuid.rfc4122 gives a random version 4 UUID", () => {
  const u = evalCall(`uuid.rfc4122("k")`);
  assert.equal(typeof u, "string");
  assert.match(u as string, V4);
  const parsed = evalCall(`uuid.parse(uuid.rfc4122("k"))`) as Record<string, unknown>;
  assert.equal(parsed.version, 4);
  assert.equal(parsed.variant, "RFC4122");
});

test("uuid.rfc4122 is stable per argument within a query, fresh across queries", () => {
  const ctx = fakeContext();
  const a1 = evalCall(`uuid.rfc4122("a")`, ctx);
  const a2 = evalCall(`uuid.rfc4122("a")`, ctx);
  const b = evalCall(`uuid.rfc4122("b")`, ctx);
  assert.equal(a1, a2);
  assert.notEqual(a1, b);
  const other = evalCall(`uuid.rfc4122("a")`, fakeContext());
  assert.notEqual(a1, other);
});
