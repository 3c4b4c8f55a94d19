// The cel-spec conformance subset ValidatingAdmissionPolicy uses (basic, comparisons, logic,
// lists, macros, macros2, string, string_ext, fields, conversions, timestamps, optionals,
// integer_math, fp_math), run through Portcullis's CEL engine (@bufbuild/cel with the Kubernetes
// libraries, metered). The tests are the ones @bufbuild/cel-spec bundles; the counts are pinned
// so a change that loses a passing case fails here (docs/gatekeeper-cel.md has the figures).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { casesFromBundled, runCases, VAP_SUBSET, Unsupported, type Expected, type Implementation } from "./conformance.ts";
import { compile, CostMeter, PER_CALL_LIMIT, fastStats, useFastEvaluator, inEvalContext } from "../../../src/gatekeeper/cel/engine.ts";

const require = createRequire(import.meta.url);

test("cel-spec conformance: the subset Kubernetes' CEL uses", { timeout: 60_000 }, (t) => {
  const cel = require("@bufbuild/cel") as typeof import("@bufbuild/cel");
  let bundled: { tests: { suites: { name: string }[] } };
  try {
    // @bufbuild/cel-spec comes with @bufbuild/cel (its dependency), with cel-spec's tests bundled.
    bundled = require(require.resolve("@bufbuild/cel-spec/testdata/conformance.js", { paths: [require.resolve("@bufbuild/cel")] }));
  } catch {
    return t.skip("@bufbuild/cel-spec's bundled conformance tests are not installed");
  }
  /** Whether evaluations run inside one evaluation context (as the driver runs them: engine.ts, inEvalContext). */
  let inContext = false;
  const impl: Implementation = {
    name: "portcullis",
    input(e: Expected): unknown {
      switch (e.t) {
        case "uint":
          return cel.celUint(e.v);
        case "list":
          return e.v.map((x) => this.input(x));
        case "map": {
          const m = new Map();
          for (const [k, v] of e.v) m.set(this.input(k), this.input(v));
          return m;
        }
        case "null":
          return null;
        case "type":
          throw new Unsupported("type binding");
        default:
          return (e as { v: unknown }).v;
      }
    },
    run(expr, bindings) {
      // cel-spec's conformance tests use backtick-quoted field names, which Kubernetes leaves off
      const p = compile(expr, undefined, { identEscape: true });
      const go = () => p.eval(bindings, new CostMeter(PER_CALL_LIMIT));
      return inContext ? inEvalContext(go) : go();
    },
    read(v: any): Expected {
      if (typeof v === "bigint") return { t: "int", v };
      if (typeof v === "number") return { t: "double", v };
      if (typeof v === "string") return { t: "string", v };
      if (typeof v === "boolean") return { t: "bool", v };
      if (v === null) return { t: "null" };
      if (v instanceof Uint8Array) return { t: "bytes", v };
      if (cel.isCelUint(v)) return { t: "uint", v: v.value };
      if (cel.isCelList(v)) return { t: "list", v: [...v].map((x) => this.read(x)) };
      if (cel.isCelMap(v)) return { t: "map", v: [...v.entries()].map(([k, x]) => [this.read(k), this.read(x)]) };
      if (cel.isCelType(v)) return { t: "type", v: v.name };
      throw new Unsupported(`result ${v?.constructor?.name}`);
    },
  };
  const run = (withTypeEnv: boolean) => {
    const counts: Record<string, string> = {};
    let pass = 0;
    let total = 0;
    const failures: string[] = [];
    for (const name of VAP_SUBSET) {
      const file = bundled.tests.suites.find((s) => s.name === name);
      assert.ok(file, `no bundled conformance file ${name}`);
      const { cases } = casesFromBundled(file as never, withTypeEnv);
      const r = runCases(impl, cases);
      counts[name] = `${r.pass}/${r.pass + r.fail}`;
      pass += r.pass;
      total += r.pass + r.fail;
      failures.push(...r.failures);
    }
    return { counts, pass, total, failures };
  };
  const before = { ...fastStats };
  const r = run(false);
  const fastEvals = fastStats.fastEvals - before.fastEvals;
  const slowEvals = fastStats.slowEvals - before.slowEvals;
  t.diagnostic(`${r.pass}/${r.total} ${JSON.stringify(r.counts)}`);
  t.diagnostic(`evaluations on Portcullis's evaluator: ${fastEvals}, on @bufbuild/cel: ${slowEvals} (expressions compiled: ${fastStats.compiled - before.compiled} fast, ${fastStats.fallback - before.fallback} fall back)`);
  assert.ok(r.pass >= PASS_FLOOR && r.pass === r.total, `${r.pass} of ${r.total} conformance cases pass (floor ${PASS_FLOOR}): ${r.failures.join("\n")}`);
  assert.ok(fastEvals >= FAST_FLOOR, `only ${fastEvals} conformance evaluations ran on Portcullis's evaluator (floor ${FAST_FLOOR})`);
  // The driver's path: programs called directly inside one evaluation context.
  inContext = true;
  try {
    const direct = run(false);
    assert.ok(direct.pass === r.pass && direct.total === r.total, `inside an evaluation context: ${direct.pass} of ${direct.total}: ${direct.failures.join("\n")}`);
    const directTyped = run(true);
    assert.ok(directTyped.pass >= PASS_FLOOR_TYPED && directTyped.pass === directTyped.total, `typed, inside an evaluation context: ${directTyped.pass} of ${directTyped.total}: ${directTyped.failures.join("\n")}`);
  } finally {
    inContext = false;
  }
  // The fallback path stays whole: the same cases on @bufbuild/cel alone.
  useFastEvaluator(false);
  try {
    const slow = run(false);
    assert.ok(slow.pass === r.pass && slow.total === r.total, `@bufbuild/cel alone: ${slow.pass} of ${slow.total}: ${slow.failures.join("\n")}`);
  } finally {
    useFastEvaluator(true);
  }
  // The tests that declare their variables' types for cel-go's checker, run on their bindings
  const typed = run(true);
  t.diagnostic(`with the type-declaring tests: ${typed.pass}/${typed.total}`);
  assert.ok(typed.pass >= PASS_FLOOR_TYPED && typed.pass === typed.total, `${typed.pass} of ${typed.total}: ${typed.failures.join("\n")}`);
});

/** Cases passing today (all the runnable ones): a regression guard. */
const PASS_FLOOR = 1189;
/** Conformance evaluations that run on Portcullis's evaluator (the others: forms it leaves to @bufbuild/cel, or bindings given as plain JS lists and maps). */
const FAST_FLOOR = 1141;
/** The same with the tests that declare a type environment (run on their bindings). */
const PASS_FLOOR_TYPED = 1221;
