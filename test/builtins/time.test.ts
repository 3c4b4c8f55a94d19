import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/time.ts";
import { checkDecls, evalCall, fakeContext, runCases } from "./helpers.ts";
import { getBuiltin } from "../../src/builtins/index.ts";
import { loadLocation, civil, fromUnixNano } from "../../src/builtins/tz.ts";
import { IntlLocation } from "../../src/builtins/tz.ts";

runCases("time", cases);

checkDecls([
  "time.now_ns",
  "time.parse_ns",
  "time.parse_rfc3339_ns",
  "time.parse_duration_ns",
  "time.date",
  "time.clock",
  "time.weekday",
  "time.add_date",
  "time.diff",
  "time.format",
]);

test("time.now_ns is the query's fixed time, exact beyond 2^53", () => {
  const ctx = fakeContext();
  ctx.nowNs = 1700000000123456789n;
  const now = getBuiltin("time.now_ns")!;
  assert.equal(now.impl([], ctx), 1700000000123456789n);
  assert.equal(now.impl([], ctx), 1700000000123456789n);
  ctx.nowNs = 5n;
  assert.equal(now.impl([], ctx), 5);
});

test("nanosecond results are exact int64 (bigint beyond 2^53)", () => {
  assert.equal(evalCall(`time.parse_rfc3339_ns("2262-04-11T23:47:16.854775807Z")`), 9223372036854775807n);
  assert.equal(evalCall(`time.parse_rfc3339_ns("1970-01-01T00:00:00.000000001Z")`), 1);
  assert.deepEqual(evalCall(`time.date(9223372036854775807)`), [2262, 4, 11]);
});

test("zone offsets from ICU agree with the tz database files", () => {
  for (const name of ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]) {
    const file = loadLocation(name);
    const icu = new IntlLocation(name);
    for (let s = -1e9; s < 4e9; s += 86400 * 37 + 3599) {
      assert.equal(icu.lookup(s).offset, file.lookup(s).offset, `${name} at ${s}`);
    }
  }
});

test("civil fields across a DST change", () => {
  const ny = loadLocation("America/New_York");
  // 2021-03-14 06:59:59Z is 01:59:59 EST; one second later it is 03:00:00 EDT.
  const a = civil(fromUnixNano(1615705199n * 1000000000n, ny));
  const b = civil(fromUnixNano(1615705200n * 1000000000n, ny));
  assert.deepEqual([a.hour, a.min, a.sec, a.zoneName], [1, 59, 59, "EST"]);
  assert.deepEqual([b.hour, b.min, b.sec, b.zoneName], [3, 0, 0, "EDT"]);
});
