// The fuzz workers run the shipped form of the code (scripts/fuzz/runtime.ts): the sources
// bundled by esbuild as scripts/build.ts bundles them, with stacks mapped back to src/ so that
// findings keep their signatures.
import test from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../scripts/fuzz/pool.ts";
import { workerRuntime } from "../../scripts/fuzz/runtime.ts";
import type { FuzzCase } from "../../scripts/fuzz/targets.ts";

const regoCase = (gen: string, n: number): FuzzCase =>
  ({ target: "rego", recipe: { gen, n }, regoVersion: "v1", queries: ["data"], input: {} }) as unknown as FuzzCase;

test("fuzz workers run the bundled sources; a hang's stack points into src/", { timeout: 120_000 }, async () => {
  const rt = workerRuntime();
  assert.equal(rt.kind, "built", rt.note);
  assert.ok(rt.args.includes("--enable-source-maps"));
  const pool = new Pool({ workers: 1, budgetMs: 250, evalTimeoutMs: 60_000, heapMb: 2048, quarantineAfter: 1e9, hangStacks: true, slowLimit: 1e9 });
  try {
    // A small case: a result, with the CPU time it took.
    const small = await pool.check(regoCase("ruleChain", 10));
    assert.equal(small.kind, "ok");
    assert.ok(small.kind === "ok" && typeof small.cpuMs === "number" && small.cpuMs >= 0);
    // A chain of 51,179 rules takes well over 250 ms: stopped, with the frames of the bundle
    // mapped back to the sources (src/rego/…, as when the workers ran the sources through tsx).
    const big = await pool.check(regoCase("ruleChainRev", 51179));
    assert.equal(big.kind, "hang");
    if (big.kind !== "hang") return;
    assert.ok(big.frames.length > 0, "no frames from the inspector");
    assert.ok(
      big.frames.some((f) => /@src\/rego\/[a-z]+\.ts:\d+$/.test(f)),
      `no frame in src/rego:\n${big.frames.slice(0, 10).join("\n")}`,
    );
    assert.ok(!big.frames.some((f) => f.includes(".fuzz-build/")), `unmapped frames:\n${big.frames.slice(0, 10).join("\n")}`);
  } finally {
    await pool.close();
  }
});
