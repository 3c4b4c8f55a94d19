// WorkerPool's dispatch: least busy (the policy server's pool) or packed (the admission webhook's:
// the first worker with fewer than packBelow requests in flight, an idle worker unused for
// KEEP_WARM_MS taking the next one so that every worker stays compiled).
import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerPool, KEEP_WARM_MS } from "../../src/server/workerpool.ts";

type Req = { ms: number };
type Reply = { thread: number };
const file = new URL("../fixtures/workerpool/echo-worker.mjs", import.meta.url);
const start = (packBelow?: number) =>
  WorkerPool.start<Req, Reply, null>(2, { file, workerData: () => ({}), failed: () => ({ thread: -1 }), ...(packBelow !== undefined ? { packBelow } : {}) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (xs: Reply[]) => {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x.thread, (m.get(x.thread) ?? 0) + 1);
  return [...m.values()].sort((a, b) => b - a);
};

test("packed: requests one at a time stay on one worker; a burst spills to the next beyond packBelow", async () => {
  const pool = await start(2);
  try {
    await sleep(KEEP_WARM_MS + 20); // both workers idle past KEEP_WARM_MS: each gets one request first
    const seq: Reply[] = [];
    for (let i = 0; i < 20; i++) seq.push(await pool.run({ ms: 0 }, undefined));
    const [most, other = 0] = count(seq);
    assert.ok(most >= 17 && other <= 3, `one at a time: ${most} and ${other}`);
    // 6 at once, 30 ms each: 2 on the first worker, 2 on the second, then the least busy
    const burst = await Promise.all(Array.from({ length: 6 }, () => pool.run({ ms: 30 }, undefined)));
    assert.deepEqual(count(burst), [3, 3]);
  } finally {
    await pool.close();
  }
});

test("packed: an idle worker unused for KEEP_WARM_MS gets the next request", async () => {
  const pool = await start(2);
  try {
    const first = await pool.run({ ms: 0 }, undefined);
    await sleep(KEEP_WARM_MS + 30);
    const seen = new Set([first.thread]);
    for (let i = 0; i < 2; i++) seen.add((await pool.run({ ms: 0 }, undefined)).thread);
    assert.equal(seen.size, 2);
  } finally {
    await pool.close();
  }
});

test("least busy (no packBelow): a burst is spread evenly", async () => {
  const pool = await start();
  try {
    const burst = await Promise.all(Array.from({ length: 6 }, () => pool.run({ ms: 10 }, undefined)));
    assert.deepEqual(count(burst), [3, 3]);
  } finally {
    await pool.close();
  }
});
