// A tracer never changes a result: every query of the conformance suites (../shared/conformance)
// evaluated with and without a tracer gives the same results or the same error. Skips when
// ../shared is absent.
import test from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../src/engine/index.ts";
import { BufferTracer } from "../../src/rego/trace.ts";
import { formatValue } from "../../src/rego/print.ts";
import type { RawResult } from "../../src/rego/engine.ts";
import { runSuite, sharedAvailable } from "../conformance/runner.ts";

const canon = (rs: RawResult[]) => rs.map((r) => r.expressions.map(formatValue).join("|") + "#" + [...r.bindings].map(([k, v]) => `${k}=${formatValue(v)}`).join(",")).join("\n");

test("tracer: the conformance suites' queries give the same results traced and untraced", (t) => {
  if (!sharedAvailable()) return t.skip("../shared/conformance not present");
  const orig = Engine.prototype.queryRaw;
  let compared = 0;
  let events = 0;
  const differ: string[] = [];
  Engine.prototype.queryRaw = function (this: Engine, q: string, o: Parameters<Engine["queryRaw"]>[1] = {}) {
    let plain: ReturnType<Engine["queryRaw"]> | undefined;
    let plainErr: unknown;
    try {
      plain = orig.call(this, q, o);
    } catch (e) {
      plainErr = e;
    }
    const tr = new BufferTracer();
    let traced: ReturnType<Engine["queryRaw"]> | undefined;
    let tracedErr: unknown;
    try {
      traced = orig.call(this, q, { ...o, print: () => {}, tracer: tr });
    } catch (e) {
      tracedErr = e;
    }
    if (!(plain instanceof Promise) && !(traced instanceof Promise)) {
      compared++;
      events += tr.events.length;
      const same = plainErr !== undefined || tracedErr !== undefined ? (plainErr as Error)?.message === (tracedErr as Error)?.message : canon(plain!) === canon(traced!);
      if (!same) differ.push(q);
    }
    if (plainErr !== undefined) throw plainErr;
    return plain!;
  };
  try {
    for (const s of ["opa", "rego-cpp", "regorus"] as const) runSuite(s);
  } finally {
    Engine.prototype.queryRaw = orig;
  }
  t.diagnostic(`${compared} queries compared, ${events} trace events`);
  assert.ok(compared > 500);
  assert.deepEqual(differ, []);
});
