// Portcullis's CEL parser against cel-go's (v0.26.0, recorded by record-parser.ts so these run
// without Go): the same trees (node ids and positions included) for every expression of the
// cel-spec conformance tests and for the hand-written cases (every literal form, macro, optional
// form, error and limit), the same first error text; and the same trees as @bufbuild/cel's own
// parser, modulo ids, wherever that one parses.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { ourAnswer, sameAnswer, shortHash, type ParseAnswer } from "./astdump.ts";
import { HAND_CASES, limitCases } from "./parser-cases.ts";
import { conformanceExpressions } from "./parser-conformance.ts";
import { parseCel } from "../../../src/gatekeeper/cel/parser.ts";
import { compile, CostMeter, CelCompileError, fromCel, toCelInput } from "../../../src/gatekeeper/cel/engine.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const recorded = JSON.parse(fs.readFileSync(path.join(here, "recorded", "parser-celgo.json"), "utf8")) as {
  conformance: Record<string, ParseAnswer>;
  cases: Record<string, { escape: ParseAnswer; k8s: ParseAnswer }>;
};
const require = createRequire(import.meta.url);

test("every cel-spec conformance expression parses to cel-go's tree (ids and positions included)", (t) => {
  const exprs = conformanceExpressions();
  if (!exprs) return t.skip("@bufbuild/cel-spec's bundled conformance tests are not installed");
  let compared = 0;
  const differ: string[] = [];
  for (const e of exprs) {
    const want = recorded.conformance[shortHash(e)];
    if (!want) continue;
    compared++;
    if (!sameAnswer(ourAnswer(e, true), want)) differ.push(e);
  }
  t.diagnostic(`${compared - differ.length}/${compared} identical to cel-go`);
  assert.ok(compared >= 2_000, `only ${compared} recorded expressions found in the bundle`);
  assert.deepEqual(differ, []);
});

test("hand-written cases: cel-go's trees and first errors, with and without backtick field names", (t) => {
  const cases = [...HAND_CASES, ...limitCases()];
  let full = 0;
  let errors = 0;
  for (const e of cases) {
    const want = recorded.cases[shortHash(e)];
    assert.ok(want, `no recording for ${JSON.stringify(e.slice(0, 80))}: run record-parser.ts`);
    for (const [mode, escape] of [["escape", true], ["k8s", false]] as const) {
      const ours = ourAnswer(e, escape);
      assert.ok(sameAnswer(ours, want[mode]), `${mode}: ${JSON.stringify(e.slice(0, 120))}\n cel-go: ${JSON.stringify(want[mode]).slice(0, 400)}\n ours:   ${JSON.stringify(ours).slice(0, 400)}`);
      if ("error" in ours) {
        errors++;
        if ("error" in want[mode] && want[mode].error === ours.error) full++;
      }
    }
  }
  // cel-go goes on after the first error; the rest of its report is not reproduced
  t.diagnostic(`${cases.length} cases in 2 settings; ${errors} errors, ${full} reported identically in full, the others' first error identical`);
  assert.ok(errors >= 232 && full >= 220, `${full} of ${errors} error reports identical in full`);
});

test("Kubernetes' setting refuses backtick-quoted field names as cel-go does; cel-spec's accepts them", () => {
  assert.throws(
    () => compile("object.metadata.labels.`app.kubernetes.io/name` == 'x'"),
    (e: unknown) => e instanceof CelCompileError && e.message === "ERROR: <input>:1:24: unsupported syntax: '`'\n | object.metadata.labels.`app.kubernetes.io/name` == 'x'\n | .......................^",
  );
  const p = parseCel("m.`a-b`", { identEscape: true });
  assert.equal(p.expr.exprKind.case, "selectExpr");
});

test("the same trees as @bufbuild/cel's parser, modulo ids, where it parses (it expands neither optMap/optFlatMap nor two-variable comprehensions)", (t) => {
  const exprs = conformanceExpressions();
  if (!exprs) return t.skip("@bufbuild/cel-spec's bundled conformance tests are not installed");
  const cel = require("@bufbuild/cel") as typeof import("@bufbuild/cel");
  const norm = (x: unknown): unknown => {
    if (x instanceof Uint8Array) return `bytes:${Buffer.from(x).toString("hex")}`;
    if (typeof x === "bigint") return `${x}n`;
    if (Array.isArray(x)) return x.map(norm);
    if (x && typeof x === "object") {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) if (k !== "id" && k !== "$typeName" && (x as Record<string, unknown>)[k] !== undefined) o[k] = norm((x as Record<string, unknown>)[k]);
      return o;
    }
    return x;
  };
  let both = 0;
  const differ: string[] = [];
  const refused: string[] = [];
  let twoVar = 0;
  for (const e of exprs) {
    let theirs: unknown;
    try {
      theirs = cel.parse(e).expr;
    } catch {
      continue;
    }
    let ours: unknown;
    try {
      ours = parseCel(e, { identEscape: true }).expr;
    } catch {
      // @bufbuild/cel accepts what cel-go refuses (macros with a non-identifier variable, …)
      refused.push(e);
      continue;
    }
    both++;
    if (JSON.stringify(norm(theirs)) === JSON.stringify(norm(ours))) continue;
    // @bufbuild/cel leaves two-variable comprehensions as calls
    if (/"iterVar2":"[^"]/.test(JSON.stringify(norm(ours)))) twoVar++;
    else differ.push(e);
  }
  t.diagnostic(`${both - differ.length - twoVar}/${both} identical, ${twoVar} two-variable comprehensions (calls there), ${differ.length} other; ${refused.length} accepted by @bufbuild/cel only, refused by cel-go too`);
  assert.ok(both > 1_900);
  for (const e of refused) assert.ok("error" in recorded.conformance[shortHash(e)], `cel-go accepts ${e}`);
  assert.deepEqual(differ.filter((e) => !/\.opt(Flat)?Map\(/.test(e)), []);
});

test("the optional syntax on Kubernetes objects evaluates as cel-go's optionals", () => {
  const object = toCelInput({ metadata: { name: "p", labels: { app: "web", empty: "" } }, spec: { containers: [{ name: "a", image: "i" }] } });
  const run = (expr: string) => fromCel(compile(expr).eval({ object }, new CostMeter(1_000_000)));
  assert.equal(run("object.metadata.?labels.?app.orValue('none')"), "web");
  assert.equal(run("object.metadata.?annotations.?app.orValue('none')"), "none");
  assert.equal(run("object.spec.containers[?5].hasValue()"), false);
  assert.equal(run("object.spec.?containers[?0].name.value()"), "a");
  assert.deepEqual(run("[?object.metadata.?labels.?app, ?object.metadata.?labels.?team, 'x']"), ["web", "x"]);
  assert.deepEqual(run("{?'app': object.metadata.?labels.?app, ?'team': object.metadata.?labels.?team}"), { app: "web" });
  assert.equal(run("has(object.metadata.?labels.app)"), true);
  assert.equal(run("object.metadata.?labels.optMap(l, l.size()).value()"), 2n);
  assert.throws(() => run("[?object.metadata.name]"), /no such overload/);
  // an optional held by a variable: has() looks through it (cel-go knows the type; here the value tells)
  const v = compile("optional.of({'a': 1})").eval({}, new CostMeter(1_000));
  const none = compile("optional.none()").eval({}, new CostMeter(1_000));
  assert.equal(fromCel(compile("has(v.a)").eval({ v }, new CostMeter(1_000))), true);
  assert.equal(fromCel(compile("has(v.b)").eval({ v }, new CostMeter(1_000))), false);
  assert.equal(fromCel(compile("has(v.a)").eval({ v: none }, new CostMeter(1_000))), false);
  assert.throws(() => compile("Msg{?f: optional.none()}"), /optional field initializers of message Msg are not supported/);
});
