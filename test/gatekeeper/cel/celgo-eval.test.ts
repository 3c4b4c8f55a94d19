// cel-go's values (recorded/celgo-eval.json, from scripts/record-celgo-eval.ts: cel-go v0.26.0 in
// Kubernetes 1.34's CEL environment) for expressions both of Portcullis's CEL evaluators must
// answer alike: map keys whose value is null (`'a' in {'a': null}` is true), has() and
// optionals on them, lists holding null, comprehensions and equality over such maps, null in
// literals (homogeneous literals), errors absorbed by || and &&. The expression's value (its
// CEL type and JSON form), its evaluation error or its compile error must be cel-go's.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { compile, CostMeter, toCelInput, useFastEvaluator, inEvalContext, CelCompileError, CelEvalError, PER_CALL_LIMIT } from "../../../src/gatekeeper/cel/engine.ts";
import { EVAL_CASES } from "./celgo-eval-cases.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
type Answer = { type: string; value: unknown } | { error: string } | { compileError: string };
const recorded = JSON.parse(fs.readFileSync(path.join(here, "recorded", "celgo-eval.json"), "utf8")) as { cases: { expr: string; o?: unknown; celGo: Answer }[] };

const CEL_LIST = Symbol.for("@bufbuild/cel/list");
const CEL_MAP = Symbol.for("@bufbuild/cel/map");
const CEL_UINT = Symbol.for("@bufbuild/cel/uint");

/** A CEL value as cel-go's answer spells it: its type name and its JSON form. */
function typeName(v: unknown): string {
  if (v === null) return "null_type";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "double";
    case "string":
      return "string";
  }
  const o = v as object;
  if (CEL_LIST in o) return "list";
  if (CEL_MAP in o) return "map";
  if (CEL_UINT in o) return "uint";
  return "unknown";
}
function json(v: unknown): unknown {
  if (v === null || typeof v !== "object") return typeof v === "bigint" ? Number(v) : v;
  if (CEL_LIST in v) return Array.from(v as unknown as Iterable<unknown>, json);
  if (CEL_MAP in v) return Object.fromEntries(Array.from((v as unknown as ReadonlyMap<unknown, unknown>).entries(), ([k, x]) => [String(k), json(x)]));
  return Number((v as { value: bigint }).value);
}

function answer(expr: string, o: unknown, inContext = false): Answer {
  let p;
  try {
    p = compile(expr, { vars: new Set(["o"]) });
  } catch (e) {
    if (e instanceof CelCompileError) return { compileError: e.message };
    throw e;
  }
  try {
    const run = () => p.eval({ o: toCelInput(o ?? null) }, new CostMeter(PER_CALL_LIMIT));
    const v = inContext ? inEvalContext(run) : run();
    return { type: typeName(v), value: json(v) };
  } catch (e) {
    if (e instanceof CelEvalError) return { error: e.message };
    throw e;
  }
}

test("the recording covers every case of celgo-eval-cases.ts", () => {
  assert.deepEqual(
    recorded.cases.map((c) => c.expr),
    EVAL_CASES.map((c) => c.expr),
  );
});

for (const [name, fast, inContext] of [
  ["Portcullis's evaluator", true, false],
  // as the driver runs it: called directly inside one evaluation context (engine.ts, inEvalContext)
  ["Portcullis's evaluator inside an evaluation context", true, true],
  ["@bufbuild/cel's interpreter", false, false],
] as const) {
  test(`${name} answers as cel-go (${recorded.cases.length} expressions)`, () => {
    useFastEvaluator(fast);
    try {
      const wrong: string[] = [];
      for (const c of recorded.cases) {
        const got = answer(c.expr, c.o, inContext);
        try {
          assert.deepEqual(got, c.celGo);
        } catch {
          wrong.push(`${c.expr}: got ${JSON.stringify(got)}, cel-go ${JSON.stringify(c.celGo)}`);
        }
      }
      assert.deepEqual(wrong, []);
    } finally {
      useFastEvaluator(process.env.PORTCULLIS_CEL_EVALUATOR !== "bufbuild");
    }
  });
}
