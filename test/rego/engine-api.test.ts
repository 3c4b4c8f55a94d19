// The engine API hosts stand on: whole-set compile (module order never matters), per-engine
// builtins and capabilities, immutable snapshots behind prepared queries, cancellation by
// AbortSignal / cancel flag / deadline, print hooks, and deep values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";
import { withBuiltins, OPA_BUILTINS } from "../../src/engine/index.ts";
import { Engine as CoreEngine } from "../../src/rego/engine.ts";
import type { Builtin } from "../../src/rego/builtin.ts";
import { runEval } from "../../src/cli/eval.ts";
import { clocks, measure, within } from "../timing.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function regoErr(fn: () => unknown): RegoError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RegoError) return e;
    throw e;
  }
  assert.fail("expected a RegoError");
}

/** A synchronous result (these queries need no I/O). */
function now<T>(x: T | Promise<T>): T {
  assert.ok(!(x instanceof Promise), "expected a synchronous result");
  return x as T;
}

const A = `package app
allow if lib.is_admin(input.user)
import data.lib
`;
const B = `package lib
is_admin(u) if u == "root"
`;

test("module order never changes a result: a.rego calls a function defined in b.rego", () => {
  for (const order of [
    [["a.rego", A], ["b.rego", B]],
    [["b.rego", B], ["a.rego", A]],
  ]) {
    const e = new Engine();
    for (const [f, s] of order) e.addModule(f, s);
    assert.deepEqual(now(e.query("data.app.allow", { input: { user: "root" } }))[0].expressions[0].value, true, order.map((o) => o[0]).join(","));
  }
  // addModules with an object, either order.
  const e2 = new Engine();
  e2.addModules({ "a.rego": A, "b.rego": B });
  assert.equal(now(e2.prepare("data.app.allow").eval({ input: { user: "x" } })).length, 0);
});

test("addModule throws parse errors; compile errors come from compile() (or the first query)", () => {
  const e = new Engine();
  assert.equal(regoErr(() => e.addModule("p.rego", "package p\nq := }\n")).code, "rego_parse_error");
  e.addModule("u.rego", "package p\nq if { x > 1 }\n");
  assert.equal(regoErr(() => e.compile()).code, "rego_unsafe_var_error");
  assert.equal(regoErr(() => e.query("data.p.q")).code, "rego_unsafe_var_error");
  e.removeModule("u.rego");
  assert.deepEqual(e.query("data.p"), []); // the broken module is gone; nothing else defines data.p
});

const hostBuiltin: Builtin = {
  name: "host.double",
  decl: { type: "function", args: [{ type: "number" }], result: { type: "number" } },
  impl: ([x]) => (x as number) * 2,
};

test("builtins are per engine: a host builtin on engine A is unknown (rego_type_error) on engine B", () => {
  const a = new Engine({ builtins: withBuiltins([hostBuiltin]) });
  a.addModule("h.rego", "package h\nx := host.double(21)\n");
  assert.equal(now(a.query("data.h.x"))[0].expressions[0].value, 42);
  const b = new Engine();
  b.addModule("h.rego", "package h\nx := host.double(21)\n");
  const err = regoErr(() => b.compile());
  assert.equal(err.code, "rego_type_error");
  assert.match(err.message, /undefined function host\.double/);
  // OPA's table itself is untouched.
  assert.equal(OPA_BUILTINS.has("host.double"), false);
  // conftest's and Gatekeeper's builtins are not in a plain engine.
  for (const name of ["parse_config", "parse_config_file", "parse_combined_config_files", "external_data"]) {
    const e = new Engine();
    e.addModule("c.rego", `package c\nx := ${name}("a")\n`);
    assert.equal(regoErr(() => e.compile()).code, "rego_type_error", name);
  }
  // The core engine alone knows no builtin at all.
  const core = new CoreEngine();
  core.addModule("c.rego", "package c\nx := count([1])\n");
  assert.match(regoErr(() => core.compile()).message, /undefined function count/);
});

test("capabilities restrict the builtins at compile time (as opa build --capabilities)", () => {
  const e = new Engine({ capabilities: { builtins: [{ name: "count" }, { name: "assign" }, { name: "eq" }] } });
  e.addModule("c.rego", "package c\nx := count([1, 2])\n");
  assert.equal(now(e.query("data.c.x"))[0].expressions[0].value, 2);
  const f = new Engine({ capabilities: ["count", "assign", "eq"] });
  f.addModule("c.rego", "package c\nx := http.send({})\n");
  assert.match(regoErr(() => f.compile()).message, /undefined function http\.send/);
});

test("a prepared query keeps answering from its snapshot while the engine changes", () => {
  const e = new Engine();
  e.addModule("p.rego", "package p\nv := 1\n");
  e.addData({ d: "old" });
  const pq = e.prepare("x := [data.p.v, data.d]");
  assert.deepEqual(now(pq.eval())[0].bindings.x, [1, "old"]);
  e.addModule("p.rego", "package p\nv := 2\n");
  e.setData({ d: "new" });
  assert.deepEqual(now(pq.eval())[0].bindings.x, [1, "old"]);
  assert.deepEqual(now(e.prepare("x := [data.p.v, data.d]").eval())[0].bindings.x, [2, "new"]);
  // A broken update leaves the prepared query (and its snapshot) working.
  e.addModule("p.rego", "package p\nv := y\n");
  assert.equal(regoErr(() => e.compile()).code, "rego_unsafe_var_error");
  assert.deepEqual(now(pq.eval())[0].bindings.x, [1, "old"]);
});

test("an async evaluation re-runs on its own snapshot, not on modules added meanwhile", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow: Builtin = {
    name: "host.wait",
    decl: { type: "function", args: [], result: { type: "number" } },
    nondeterministic: true,
    impl: (_args, ctx) => ctx.awaitValue("wait", async () => (await gate, 7)),
  };
  const e = new Engine({ builtins: withBuiltins([slow]) });
  e.addModule("p.rego", "package p\nv := 1\nw := host.wait()\n");
  const running = e.prepare("x := [data.p.v, data.p.w]").eval();
  assert.ok(running instanceof Promise);
  e.addModule("p.rego", "package p\nv := 2\nw := host.wait()\n");
  e.compile();
  release();
  assert.deepEqual((await running)[0].bindings.x, [1, 7]);
});

const LOOP = "package loop\nn := count([x | some a in numbers.range(1, 3000); some b in numbers.range(1, 3000); x := a + b])\n";

test("an AbortSignal aborted mid-evaluation stops a long query within 50 ms (eval_cancel_error)", () => {
  const ac = new AbortController();
  let sinceAbort: ReturnType<typeof clocks> | null = null;
  let calls = 0;
  let callsAtAbort = 0;
  // A host builtin called inside the loop aborts after a while: the abort happens while the
  // evaluation runs (synchronous code cannot be interrupted from outside its thread).
  const tick: Builtin = {
    name: "host.tick",
    decl: { type: "function", args: [{ type: "any" }], result: { type: "boolean" } },
    impl: () => {
      if (++calls === 200_000) {
        ac.abort();
        callsAtAbort = calls;
        sinceAbort = clocks();
      }
      return true;
    },
  };
  const e = new Engine({ builtins: withBuiltins([tick]) });
  e.addModule("l.rego", "package loop\nn := count([x | some a in numbers.range(1, 3000); some b in numbers.range(1, 3000); host.tick(a); x := a + b])\n");
  const err = regoErr(() => e.prepare("data.loop.n").eval({ signal: ac.signal }));
  assert.ok(sinceAbort !== null);
  // The latency from the abort to the rejection: 50 ms of CPU, and of wall time on an idle
  // machine (test/timing.ts). The evaluator reads the signal every 1,024 steps, so the loop
  // makes at most a few hundred more calls (each iteration is several steps).
  const latency = (sinceAbort as ReturnType<typeof clocks>).elapsed();
  assert.equal(err.code, "eval_cancel_error");
  within(latency, 50, "stop after the abort");
  assert.ok(calls - callsAtAbort <= 1024, `${calls - callsAtAbort} calls after the abort`);
});

test("an AbortSignal aborted while awaiting I/O rejects at once; a signal aborted before starts nothing", async () => {
  const never: Builtin = {
    name: "host.never",
    decl: { type: "function", args: [], result: { type: "number" } },
    nondeterministic: true,
    impl: (_args, ctx) => ctx.awaitValue("never", () => new Promise(() => {})),
  };
  const e = new Engine({ builtins: withBuiltins([never]) });
  e.addModule("p.rego", "package p\nw := host.never()\n");
  const ac = new AbortController();
  const p = e.prepare("data.p.w").eval({ signal: ac.signal });
  // The latency from the abort to the rejection (a timer firing late under load is no part of it).
  let sinceAbort: ReturnType<typeof clocks> | null = null;
  setTimeout(() => {
    sinceAbort = clocks();
    ac.abort();
  }, 10);
  await assert.rejects(p as Promise<unknown>, (x: unknown) => x instanceof RegoError && x.code === "eval_cancel_error");
  assert.ok(sinceAbort !== null, "rejected before the abort");
  within((sinceAbort as ReturnType<typeof clocks>).elapsed(), 50, "rejection after the abort");
  const done = new AbortController();
  done.abort();
  assert.equal(regoErr(() => e.prepare("1 + 1").eval({ signal: done.signal })).code, "eval_cancel_error");
});

test("a deadline is per evaluation (none by default); a cancel flag shared with another thread stops too", () => {
  const e = new Engine();
  e.addModule("l.rego", LOOP);
  const m = measure(() => e.prepare("data.loop.n").eval({ timeoutMs: 100 }));
  assert.ok(m.value instanceof RegoError && m.value.code === "eval_cancel_error", String(m.value));
  within(m, 1000, "100 ms deadline");
  assert.equal(regoErr(() => e.prepare("data.loop.n").eval({ deadline: Date.now() + 50 })).code, "eval_cancel_error");
  const flag = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store(flag, 0, 1);
  assert.equal(regoErr(() => e.prepare("data.loop.n").eval({ cancel: flag })).code, "eval_cancel_error");
  // No hidden default: a 400 ms evaluation runs to its end.
  const small = new Engine();
  small.addModule("s.rego", "package s\nn := count([x | some a in numbers.range(1, 600); some b in numbers.range(1, 600); x := a + b])\n");
  assert.equal(now(small.query("data.s.n"))[0].expressions[0].value, 360000);
});

test("print goes to the print hook (per engine or per evaluation), never to stdout/stderr by itself", () => {
  const lines: string[] = [];
  const e = new Engine({ printHook: (l) => lines.push(l) });
  e.addModule("p.rego", 'package p\nx if print("hello", 1)\n');
  e.query("data.p.x");
  assert.deepEqual(lines, ["hello 1"]);
  const other: string[] = [];
  e.query("data.p.x", { print: (l) => other.push(l) });
  assert.deepEqual(other, ["hello 1"]);
  // No hook: the output is dropped (OPA's library default).
  const quiet = new Engine();
  quiet.addModule("p.rego", 'package p\nx if print("hello")\n');
  assert.equal(now(quiet.query("data.p.x"))[0].expressions[0].value, true);
});

test("an unexpected exception inside a builtin surfaces as eval_internal_error, not as undefined", () => {
  const buggy: Builtin = {
    name: "host.buggy",
    decl: { type: "function", args: [{ type: "any" }], result: { type: "boolean" } },
    impl: () => {
      throw new TypeError("cannot read properties of undefined");
    },
  };
  const e = new Engine({ builtins: withBuiltins([buggy]) });
  e.addModule("d.rego", 'package d\ndeny contains "x" if host.buggy(input)\n');
  const err = regoErr(() => e.query("data.d.deny", { input: {} }));
  assert.equal(err.code, "eval_internal_error");
  assert.match(err.message, /host\.buggy: internal error: cannot read properties of undefined/);
});

test("deep values: a 10,000-level input evaluates; 10,001 levels is a named error; no stack overflow", async () => {
  const deep = (d: number) => JSON.parse("[".repeat(d) + "]".repeat(d));
  const e = new Engine();
  assert.equal(now(e.query("count(input)", { input: deep(10000) }))[0].expressions[0].value, 1);
  const err = regoErr(() => e.query("count(input)", { input: deep(10001) }));
  assert.equal(err.code, "invalid_argument");
  assert.match(err.message, /exceeded max depth of 10000/);
  assert.match(regoErr(() => e.addData(deep(20000))).message, /data: exceeded max depth of 10000/);

  const dir = mkdtempSync(join(tmpdir(), "pc-deep-"));
  writeFileSync(join(dir, "ok.json"), "[".repeat(10000) + "]".repeat(10000));
  writeFileSync(join(dir, "deep.json"), "[".repeat(10001) + "]".repeat(10001));
  const out: string[] = [];
  const errs: string[] = [];
  // As opa eval: 10,000 levels answer; 10,001 exit 2 with "unable to parse input … exceeded max depth of 10000".
  assert.equal(await runEval("count(input)", { input: join(dir, "ok.json") }, (s) => out.push(s), (s) => errs.push(s)), 0);
  assert.match(out.join(""), /"value": 1/);
  assert.equal(await runEval("count(input)", { input: join(dir, "deep.json") }, (s) => out.push(s), (s) => errs.push(s)), 2);
  assert.match(errs.join(""), /unable to parse input: .*exceeded max depth of 10000/);
});

test("numbers JavaScript cannot hold exactly: bigint by default (never rounded, never Infinity), nearest double when asked", () => {
  const e = new Engine();
  const x = (q: string, opts = {}) => (now(e.query(q, opts))[0].bindings as Record<string, unknown>).x;
  // OPA prints these exactly (`opa eval`); JSON.parse of that text would round them.
  assert.equal(x("x := 9007199254740993"), 9007199254740993n);
  assert.equal(x("x := 12345678901234567890 + 1"), 12345678901234567891n);
  const big = x("x := bits.lsh(25, 2000)");
  assert.equal(typeof big, "bigint");
  assert.equal(big, 25n << 2000n);
  assert.deepEqual(x('x := {"a": [1, 2.5, 9007199254740993, -9007199254740993]}'), { a: [1, 2.5, 9007199254740993n, -9007199254740993n] });
  // Within ±2^53 and decimals stay numbers.
  assert.equal(x("x := 9007199254740991"), 9007199254740991);
  assert.equal(x("x := 0.1 + 0.2"), 0.3);
  assert.equal(x("x := 1.5"), 1.5);
  // Asked for doubles: the nearest one (lossy, as before).
  assert.equal(x("x := 9007199254740993", { exactNumbers: false }), 9007199254740992);
  assert.equal(x("x := bits.lsh(25, 2000)", { exactNumbers: false }), Infinity);
  // queryRaw is the value model: exact.
  const raw = now(e.queryRaw("x := 12345678901234567890"))[0];
  assert.equal(raw.bindings.get("x"), 12345678901234567890n);
});
