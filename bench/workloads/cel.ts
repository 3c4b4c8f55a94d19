// The CEL evaluations of the gatekeeper-library's samples: every constraint of a CEL
// (K8sNativeValidation) template, against every sample Pod and Deployment of the library, as
// the admission path hands them to the CEL driver (buildReview, CREATE-less review as gator
// builds it, no namespaceObject). Used by bench/cel.ts (µs of CPU per evaluation) and by
// test/gatekeeper/cel/differential.test.ts (Portcullis's evaluator against @bufbuild/cel).
import { sampleCases, DEFAULT_LIBRARY } from "./gatekeeper.ts";
import { celCodeOf, compileCelSource, type CelReviewInput, type CelTemplate } from "../../src/gatekeeper/cel/driver.ts";
import { buildReview } from "../../src/gatekeeper/review.ts";
import type { Obj } from "../../src/gatekeeper/yaml.ts";

export interface CelPairs {
  /** Template file → its CEL source. */
  sources: Map<string, unknown>;
  /** Template file → the ConstraintTemplate. */
  templates: Map<string, Obj>;
  constraints: { name: string; templateFile: string; constraint: Obj }[];
  objects: { name: string; obj: Obj }[];
  /** The review inputs of the objects, built once. */
  inputs(constraint: Obj): CelReviewInput[];
}

export function celPairs(library = DEFAULT_LIBRARY): CelPairs {
  const { cases } = sampleCases(library);
  const sources = new Map<string, unknown>();
  const templates = new Map<string, Obj>();
  const constraints = new Map<string, { name: string; templateFile: string; constraint: Obj }>();
  const objects = new Map<string, { name: string; obj: Obj }>();
  for (const c of cases) {
    if (c.inventory.length) continue;
    const code = celCodeOf(c.template);
    if (code) {
      sources.set(c.templateFile, code.source);
      templates.set(c.templateFile, c.template);
      constraints.set(c.constraintFile, { name: `${c.constraint.kind}/${c.constraint.metadata?.name}`, templateFile: c.templateFile, constraint: c.constraint });
    }
    const kind = c.object.kind;
    if ((kind === "Pod" || kind === "Deployment") && typeof c.object.metadata?.name === "string") objects.set(c.objectFile, { name: c.objectFile, obj: c.object });
  }
  const built = [...objects.values()].map((o) => buildReview(o.obj));
  return {
    sources,
    templates,
    constraints: [...constraints.values()],
    objects: [...objects.values()],
    inputs: (constraint) =>
      built.map((b) => ({ object: b.object, oldObject: b.oldObject, request: b.review, operation: b.operation, constraint, namespaceObject: null })),
  };
}

/** Compile every template's source (per evaluator: the caller picks it with useFastEvaluator first). */
export function compileAll(p: CelPairs): Map<string, CelTemplate> {
  const out = new Map<string, CelTemplate>();
  for (const [file, source] of p.sources) out.set(file, compileCelSource(source));
  return out;
}
