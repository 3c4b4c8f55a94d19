import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/net.ts";
import { checkDecls, evalCall, fakeContext, runCases } from "./helpers.ts";
import { AsyncSuspend, BuiltinError, type BuiltinContext } from "../../src/builtins/registry.ts";
import { RSet, type Value } from "../../src/rego/value.ts";

runCases("net", cases);

checkDecls([
  "net.cidr_contains",
  "net.cidr_overlap",
  "net.cidr_intersects",
  "net.cidr_contains_matches",
  "net.cidr_expand",
  "net.cidr_merge",
  "net.cidr_is_valid",
  "net.lookup_ip_addr",
]);

/** A context whose awaitValue behaves like the engine's: suspend, then replay with the result. */
function asyncContext(): BuiltinContext & { results: Map<string, Value> } {
  const results = new Map<string, Value>();
  const ctx = fakeContext() as BuiltinContext & { results: Map<string, Value> };
  ctx.results = results;
  ctx.awaitValue = (key, start) => {
    const v = results.get(key);
    if (v !== undefined) return v;
    throw new AsyncSuspend(key, start());
  };
  return ctx;
}

async function evalAsync(expr: string, ctx = asyncContext()): Promise<Value | undefined> {
  for (let i = 0; i < 10; i++) {
    try {
      return evalCall(expr, ctx);
    } catch (e) {
      if (!(e instanceof AsyncSuspend)) throw e;
      ctx.results.set(e.key, await e.promise);
    }
  }
  throw new Error("did not settle");
}

const sorted = (v: Value | undefined) => (v as RSet).sorted();

test("net.lookup_ip_addr resolves through ctx.awaitValue", async () => {
  const ctx = asyncContext();
  assert.throws(() => evalCall(`net.lookup_ip_addr("localhost")`, ctx), AsyncSuspend);
  const v = await evalAsync(`net.lookup_ip_addr("localhost")`, ctx);
  assert.ok(v instanceof RSet);
  assert.ok(v.has("127.0.0.1") || v.has("::1"), `got ${sorted(v)}`);
});

test("net.lookup_ip_addr: IP literals need no lookup", () => {
  assert.deepEqual(sorted(evalCall(`net.lookup_ip_addr("1.2.3.4")`)), ["1.2.3.4"]);
  assert.deepEqual(sorted(evalCall(`net.lookup_ip_addr("::FFFF:1.2.3.4")`)), ["1.2.3.4"]);
  assert.deepEqual(sorted(evalCall(`net.lookup_ip_addr("2001:DB8:0:0:0:0:0:1")`)), ["2001:db8::1"]);
});

test("net.lookup_ip_addr: unknown names are builtin errors", async () => {
  await assert.rejects(evalAsync(`net.lookup_ip_addr("nonexistent.invalid")`), (e: unknown) => {
    assert.ok(e instanceof BuiltinError);
    assert.match(e.message, /^net\.lookup_ip_addr: lookup nonexistent\.invalid( on \S+)?: no such host$/);
    return true;
  });
  assert.throws(() => evalCall(`net.lookup_ip_addr("")`), /net\.lookup_ip_addr: lookup : no such host/);
});

test("128-bit arithmetic at the top of the IPv6 space", () => {
  assert.deepEqual(sorted(evalCall(`net.cidr_expand("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/126")`)), [
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  ]);
  assert.equal(evalCall(`net.cidr_contains("8000::/1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")`), true);
  assert.deepEqual(sorted(evalCall(`net.cidr_merge(["8000::/1", "::/1"])`)), ["::/0"]);
});

// OPA 1.19 crashes (index out of range) or leaves ranges unmerged for these; Portcullis merges.
test("net.cidr_merge of IPv4-mapped and leading-zero IPv6 ranges", () => {
  assert.deepEqual(sorted(evalCall(`net.cidr_merge(["::100/128", "::101/128"])`)), ["::100/127"]);
  assert.deepEqual(sorted(evalCall(`net.cidr_merge(["::ffff:1.2.3.0/121", "::ffff:1.2.3.128/121"])`)), ["1.2.3.0/24"]);
});

test("net.cidr_expand refuses ranges beyond 2^20 addresses", () => {
  assert.throws(() => evalCall(`net.cidr_expand("10.0.0.0/8")`), BuiltinError);
  assert.equal((evalCall(`net.cidr_expand("10.0.0.0/20")`) as RSet).size, 4096);
});
