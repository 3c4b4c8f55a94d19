// Gatekeeper workloads from the gatekeeper-library: every suite test (template + sample
// constraint) with its sample objects, queried as Gatekeeper's driver queries a template:
// `data.<package>.violation[r]` with input {review, parameters} and data.inventory.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "../../src/gatekeeper/client.ts";
import type { Obj } from "../../src/gatekeeper/yaml.ts";
import { readManifests } from "../../src/gatekeeper/manifestfiles.ts";
import { isTemplate } from "../../src/gatekeeper/template.ts";
import { isConstraint, type Constraint } from "../../src/gatekeeper/constraint.ts";
import { buildReview } from "../../src/gatekeeper/review.ts";
import { matches, isNamespaceObject } from "../../src/gatekeeper/match.ts";
import type { Workload } from "../lib/workload.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_LIBRARY = path.resolve(process.env.BENCH_GATEKEEPER_LIBRARY ?? path.join(here, "../../../shared/gatekeeper-library/library"));

export interface SampleCase {
  /** suite test name / case name */
  name: string;
  template: Obj;
  templateFile: string;
  constraint: Obj;
  constraintFile: string;
  object: Obj;
  objectFile: string;
  inventory: Obj[];
  inventoryFiles: string[];
  /** The suite expects violations for this case. */
  violating: boolean;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name === "suite.yaml" ? [p] : [];
  });
}

/** Every case of every suite.yaml under the library (the library's own sample reviews). */
export function sampleCases(library = DEFAULT_LIBRARY): { cases: SampleCase[]; skipped: string[] } {
  if (!fs.existsSync(library)) throw new Error(`no gatekeeper library at ${library} (set BENCH_GATEKEEPER_LIBRARY)`);
  const cases: SampleCase[] = [];
  const skipped: string[] = [];
  for (const suiteFile of walk(library).sort()) {
    const dir = path.dirname(suiteFile);
    const suite = readManifests(suiteFile)[0] ?? {};
    for (const t of (suite.tests ?? []) as Obj[]) {
      try {
        const templateFile = path.join(dir, String(t.template));
        const constraintFile = path.join(dir, String(t.constraint));
        const template = readManifests(templateFile).find(isTemplate);
        const constraint = readManifests(constraintFile).find(isConstraint);
        if (!template || !constraint) throw new Error("no template or constraint");
        for (const c of (t.cases ?? []) as Obj[]) {
          if (typeof c.object !== "string") continue;
          const objectFile = path.join(dir, c.object);
          const objs = readManifests(objectFile);
          if (objs.length !== 1) continue;
          const inventoryFiles = ((c.inventory ?? []) as string[]).map((f) => path.join(dir, f));
          const inventory = inventoryFiles.flatMap((f) => readManifests(f));
          const violating = ((c.assertions ?? []) as Obj[]).some((a) => a.violations === "yes" || (typeof a.violations === "number" && a.violations > 0 && a.message === undefined));
          cases.push({ name: `${t.name}/${c.name}`, template, templateFile, constraint, constraintFile, object: objs[0], objectFile, inventory, inventoryFiles, violating });
        }
      } catch (e) {
        skipped.push(`${path.relative(library, suiteFile)} ${t.name}: ${(e as Error).message.split("\n")[0]}`);
      }
    }
  }
  return { cases, skipped };
}

/** One workload per case: the template's modules, Gatekeeper's query, the review as input. */
export function caseWorkload(sc: SampleCase, id: string): Workload | string {
  const client = new Client();
  client.addTemplate(sc.template, sc.templateFile);
  const c: Constraint = client.addConstraint(sc.constraint, sc.constraintFile);
  client.setInventory(sc.inventory);
  const built = buildReview(sc.object);
  const nsName = built.namespace;
  const nsObj = isNamespaceObject(built.object) ? null : client.namespace(nsName);
  built.review.namespaceObject = nsObj ?? {};
  let applies: boolean;
  try {
    applies = matches(c.match, { object: built.object, oldObject: null, namespace: nsObj, source: built.source });
  } catch (e) {
    return `match error: ${(e as Error).message}`;
  }
  if (!applies) return "constraint does not match the object";
  const t = c.template;
  const input = { review: built.review, parameters: c.parameters ?? {} };
  return {
    id,
    family: "gatekeeper",
    name: sc.name,
    modules: [{ file: "template.rego", source: t.source.rego }, ...t.source.libs.map((l, i) => ({ file: `lib_${i}.rego`, source: l }))],
    regoVersion: t.source.version,
    data: { inventory: client.getInventory() },
    input,
    parseText: JSON.stringify(built.review),
    query: t.query,
    gatekeeper: true,
  };
}

/**
 * The table's gatekeeper family: per suite test, its first case the suite expects to violate
 * (else its first case), so every template with samples is measured once.
 */
export function gatekeeperWorkloads(library = DEFAULT_LIBRARY, limit = Infinity): { workloads: Workload[]; skipped: string[] } {
  const { cases, skipped } = sampleCases(library);
  const byTest = new Map<string, SampleCase[]>();
  for (const c of cases) {
    const test = c.name.split("/")[0];
    byTest.set(test, [...(byTest.get(test) ?? []), c]);
  }
  const workloads: Workload[] = [];
  for (const [test, cs] of byTest) {
    if (workloads.length >= limit) break;
    const ordered = [...cs.filter((c) => c.violating), ...cs.filter((c) => !c.violating)];
    let why = "";
    for (const c of ordered) {
      try {
        const w = caseWorkload(c, `gk:${c.name}`);
        if (typeof w !== "string") {
          w.name = test;
          workloads.push(w);
          why = "";
          break;
        }
        why ||= w;
      } catch (e) {
        why ||= (e as Error).message.split("\n")[0];
      }
    }
    if (why) skipped.push(`${test}: ${why}`);
  }
  return { workloads, skipped };
}

// ---- scaling: one library template on a Pod with n containers -------------------------------

/** k8sallowedrepos (the library's template) on a Pod with n containers, half from a disallowed repo. */
export function gatekeeperScaled(n: number, library = DEFAULT_LIBRARY): Workload {
  const dir = path.join(library, "general/allowedrepos");
  const templateFile = path.join(dir, "template.yaml");
  const constraintFile = path.join(dir, "samples/repo-must-be-openpolicyagent/constraint.yaml");
  const template = readManifests(templateFile).find(isTemplate);
  const constraint = readManifests(constraintFile).find(isConstraint);
  if (!template || !constraint) throw new Error(`no allowedrepos template/constraint under ${dir}`);
  const containers = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: i % 2 ? `openpolicyagent/opa:${i}` : `nginx:1.${i}` }));
  const object: Obj = { apiVersion: "v1", kind: "Pod", metadata: { name: "scaled", namespace: "default" }, spec: { containers } };
  const w = caseWorkload({ name: `allowedrepos/${n}`, template, templateFile, constraint, constraintFile, object, objectFile: "", inventory: [], inventoryFiles: [], violating: true }, `gk-scale:${n}`);
  if (typeof w === "string") throw new Error(`allowedrepos scaling workload: ${w}`);
  w.name = `k8sallowedrepos, Pod with ${n} containers`;
  w.size = n;
  return w;
}
