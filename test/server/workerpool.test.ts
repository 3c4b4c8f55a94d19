// The worker pool's batching (src/server/workerpool.ts): requests submitted in one turn of the
// event loop travel together, and a state change sent between them still splits them — the
// requests before it are answered on the old state, those after it on the new one — on every
// worker; each answer reaches its own request.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EvalPool } from "../../src/server/pool.ts";
import type { EvalReply } from "../../src/server/replica.ts";

const policies = [{ id: "p.rego", raw: "package p\n\ndouble := data.v * 2\n\necho := input.x\n" }];

test("worker pool: batched requests keep their order with state changes and get their own answers", { timeout: 60000 }, async () => {
  const pool = await EvalPool.start(2, { regoVersion: "v1", networkBuiltins: false, runtime: {} }, { policies, data: '{"v":1}' });
  try {
    const value = (r: EvalReply) => (r.ok && r.kind === "path" ? r.value : JSON.stringify(r));
    // all in one turn: 40 before the change, the change, 40 after it
    const before = Array.from({ length: 40 }, (_, i) => pool.eval({ kind: "path", path: i % 2 ? ["p", "double"] : ["p", "echo"], input: JSON.stringify({ x: i }) }));
    pool.update({ data: '{"v":5}' });
    const after = Array.from({ length: 40 }, (_, i) => pool.eval({ kind: "path", path: i % 2 ? ["p", "double"] : ["p", "echo"], input: JSON.stringify({ x: 100 + i }) }));
    const b = (await Promise.all(before)).map(value);
    const a = (await Promise.all(after)).map(value);
    assert.deepEqual(b, Array.from({ length: 40 }, (_, i) => (i % 2 ? "2" : String(i))));
    assert.deepEqual(a, Array.from({ length: 40 }, (_, i) => (i % 2 ? "10" : String(100 + i))));
    assert.equal(pool.pending(), 0);
    // one at a time (idle workers: sent at once) still answers
    assert.equal(value(await pool.eval({ kind: "path", path: ["p", "double"] })), "10");
  } finally {
    await pool.close();
  }
});
