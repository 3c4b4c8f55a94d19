// Portcullis's CEL evaluator (src/gatekeeper/cel/fast.ts) against @bufbuild/cel's interpreter,
// the evaluator it replaces and falls back to: every constraint of every CEL template of the
// gatekeeper-library (../shared's library/ and, when a mirror has it, the versioned
// artifacthub/library/) reviewing every sample object of its set (Pods, Deployments, Namespaces,
// Services, …, and the AdmissionReviews of UPDATE and DELETE), through the K8sNativeValidation
// driver: the violation messages (or the error) must be identical, and the expressions must run
// on Portcullis's evaluator (none falls back today).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedSamples, versionedSamples, SHARED_LIBRARY, type SampleDir } from "./library.ts";
import { readManifests } from "../../../src/gatekeeper/manifestfiles.ts";
import { isTemplate } from "../../../src/gatekeeper/template.ts";
import { isConstraint } from "../../../src/gatekeeper/constraint.ts";
import { buildReview, type BuiltReview } from "../../../src/gatekeeper/review.ts";
import { celCodeOf, compileCelSource, evaluateCel, type CelReviewInput, type CelTemplate } from "../../../src/gatekeeper/cel/driver.ts";
import { useFastEvaluator, fastStats } from "../../../src/gatekeeper/cel/engine.ts";
import type { Obj } from "../../../src/gatekeeper/yaml.ts";

function outcome(t: CelTemplate, input: CelReviewInput): string {
  try {
    return JSON.stringify(evaluateCel(t, input));
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

/** Every sample object of a library (every `samples/` directory, CEL template or not). */
function allSamples(root: string): Obj[] {
  const out: Obj[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!e.isDirectory()) continue;
      const p = path.join(d, e.name);
      if (e.name === "samples") out.push(...readManifests(p).filter((o) => !isTemplate(o) && !isConstraint(o)));
      else walk(p);
    }
  };
  walk(root);
  return out;
}

/**
 * Each constraint of the dirs' CEL templates reviews `objects` when given (the whole library's
 * samples), else the sample objects of its own directory.
 */
function compare(dirs: SampleDir[], objects?: Obj[]): { templates: number; constraints: number; objects: number; evaluations: number; violations: number; fast: number; fallback: number } {
  const sets: { fast: CelTemplate; slow: CelTemplate; constraints: Obj[]; reviews: BuiltReview[] }[] = [];
  const reviews: BuiltReview[] = [];
  const toReview = (o: Obj) => {
    try {
      return buildReview(o);
    } catch {
      return null; // a sample that is no reviewable object (gator refuses it too)
    }
  };
  const before = { ...fastStats };
  for (const d of dirs) {
    const docs = d.files.flatMap((f) => readManifests(f));
    const tmpl = docs.find(isTemplate);
    const code = tmpl && celCodeOf(tmpl);
    if (!code) continue;
    useFastEvaluator(true);
    const fast = compileCelSource(code.source);
    useFastEvaluator(false);
    let slow: CelTemplate;
    try {
      slow = compileCelSource(code.source);
    } finally {
      useFastEvaluator(true);
    }
    const own = objects ? [] : docs.filter((o) => !isTemplate(o) && !isConstraint(o)).map(toReview).filter((r) => r !== null);
    sets.push({ fast, slow, constraints: docs.filter((o) => isConstraint(o) && o.kind === tmpl!.spec?.crd?.spec?.names?.kind), reviews: own });
  }
  if (objects) for (const o of objects) {
    const r = toReview(o);
    if (r) reviews.push(r);
  }
  const compiled = { fast: fastStats.compiled - before.compiled, all: fastStats.compiled + fastStats.fallback - before.compiled - before.fallback };
  let evaluations = 0;
  let violations = 0;
  const diffs: string[] = [];
  for (const s of sets) {
    for (const constraint of s.constraints) {
      for (const b of objects ? reviews : s.reviews) {
        const input: CelReviewInput = { object: b.object, oldObject: b.oldObject, request: b.review, operation: b.operation, constraint, namespaceObject: null };
        const a = outcome(s.fast, input);
        const z = outcome(s.slow, input);
        evaluations++;
        if (a.startsWith("[")) violations += (JSON.parse(a) as string[]).length;
        if (a !== z && diffs.length < 10) diffs.push(`${constraint.kind}/${constraint.metadata?.name} on ${b.review.kind?.kind}/${b.review.name}: ${a} vs ${z}`);
      }
    }
  }
  assert.deepEqual(diffs, [], "Portcullis's evaluator and @bufbuild/cel answer differently");
  const constraints = sets.reduce((n, s) => n + s.constraints.length, 0);
  // Both compiles counted: half of the expressions compiled are @bufbuild/cel's on purpose.
  return { templates: sets.length, constraints, objects: objects ? reviews.length : sets.reduce((n, s) => n + s.reviews.length, 0), evaluations, violations, fast: compiled.fast, fallback: compiled.all / 2 - compiled.fast };
}

test("CEL evaluator against @bufbuild/cel: the gatekeeper-library's templates on every sample object", { timeout: 120_000 }, (t) => {
  const shared = sharedSamples();
  if (!shared) return t.skip("no gatekeeper-library in ../shared");
  const r = compare(shared, allSamples(path.join(SHARED_LIBRARY, "library")));
  t.diagnostic(`library/: ${JSON.stringify(r)}`);
  assert.ok(r.templates >= 16 && r.evaluations > 5000 && r.violations > 0, JSON.stringify(r));
  assert.equal(r.fallback, 0, "an expression of the library falls back to @bufbuild/cel");
});

test("CEL evaluator against @bufbuild/cel: the versioned library (artifacthub/)", { timeout: 120_000 }, (t) => {
  const versioned = versionedSamples();
  if (!versioned) return t.skip("no gatekeeper-library git mirror with the recorded commit");
  const r = compare(versioned);
  t.diagnostic(`artifacthub/library/: ${JSON.stringify(r)}`);
  assert.ok(r.templates >= 40 && r.evaluations >= 386 && r.violations > 0, JSON.stringify(r));
  assert.equal(r.fallback, 0, "an expression of the versioned library falls back to @bufbuild/cel");
});
