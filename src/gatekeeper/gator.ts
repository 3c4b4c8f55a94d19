// `gator test`'s evaluation and printing on objects already read (no file access, so the browser
// playground runs it too): templates, constraints and providers are added to a Client, every
// object is reviewed and expanded, and the violations are printed as gator prints them (human,
// JSON, YAML). src/gatekeeper/gatortest.ts reads the files.

import yaml from "js-yaml";
import { gvkOf, metaOf, type Obj } from "./yaml.ts";
import { Client, isDenyAction, type Violation } from "./client.ts";
import { isTemplate } from "./template.ts";
import { isConstraint } from "./constraint.ts";
import { goQuote } from "./schema.ts";
import { ReviewError } from "./review.ts";
import { isProvider } from "./externaldata.ts";
import { goJSON, goString } from "../gotext/plainjson.ts";
import { gatorMutation } from "./mutation/expansion.ts";
import { Expander, reviewResultants, type MutationSystemFactory } from "./expansion/index.ts";

export interface GatorTestOptions {
  /** "" (human), "json" or "yaml". */
  output?: string;
  /** Print only violations whose action is deny. */
  denyOnly?: boolean;
  /** Evaluate K8sNativeValidation (CEL) code when a template has it (default true; gator's --enable-k8s-native-validation). */
  k8sNativeValidation?: boolean;
  /** failurePolicy of CEL code that gives none (gator's --default-k8s-native-validation-failure-policy). */
  celFailurePolicy?: "Fail" | "Ignore";
  /** Gatekeeper's mutators for expansion (mutations.gatekeeper.sh objects among the inputs). */
  mutation?: MutationSystemFactory;
}

export interface GatorTestResult {
  /** What gator test prints on stdout. */
  stdout: string;
  /** What gator test prints on stderr (load and review errors). */
  stderr: string;
  exitCode: number;
  violations: Violation[];
}

/** Objects as gator reads them: one source per file (objects given directly: standard input). */
export interface Source {
  file?: string;
  objs: Obj[];
}

/**
 * gator's warnings for objects defined twice (same group, kind, namespace and name), through
 * Go's log package: `2006/01/02 15:04:05 WARNING - Resource named "x" (from file: "b.yaml") is
 * already defined in file: "a.yaml"` (the later source first; `stdin` for standard input).
 */
export function conflictWarnings(sources: Source[]): string {
  const seen = new Map<string, Source>();
  const where = (s: Source) => (s.file === undefined ? "stdin" : `file: ${goQuote(s.file)}`);
  let out = "";
  for (const s of sources) {
    for (const o of s.objs) {
      const { group, kind } = gvkOf(o);
      const meta = metaOf(o);
      const name = typeof meta.name === "string" ? meta.name : "";
      const ns = typeof meta.namespace === "string" ? meta.namespace : "";
      const key = JSON.stringify([group, kind, name, ns]);
      const dupe = seen.get(key);
      if (dupe) out += `${logTime()} WARNING - Resource named ${goQuote(name)} (from ${where(s)}) is already defined in ${where(dupe)}\n`;
      seen.set(key, s);
    }
  }
  return out;
}

/** Go's log timestamp (local time): `2006/01/02 15:04:05`. */
function logTime(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Byte order of two strings (Go's < on strings), for names and messages. */
const cmpBytes = (a: string, b: string) => (a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b)));

function objectRef(o: Obj | null): string {
  const meta = (o?.metadata ?? {}) as Obj;
  const head = `${o?.apiVersion ?? ""}/${o?.kind ?? ""}`;
  const ns = typeof meta.namespace === "string" ? meta.namespace : "";
  const name = typeof meta.name === "string" ? meta.name : "";
  return ns ? `${head} ${ns}/${name}` : `${head} ${name}`;
}

/** One human-readable line per violation, as gator test prints it. */
export function formatGatorLine(v: Violation): string {
  return `${objectRef(v.object)}: [${goQuote(v.constraintName)}] Message: ${goQuote(v.msg)}`;
}

function jsonDoc(vs: Violation[]): unknown[] {
  return vs.map((v) => ({
    target: v.target,
    msg: v.msg,
    metadata: { details: v.details },
    constraint: v.constraint,
    enforcementAction: v.enforcementAction,
    ...(v.scopedActions && v.scopedActions.length ? { scopedActions: v.scopedActions } : {}),
    violatingObject: v.object,
    trace: null,
  }));
}

/**
 * gator's `-o json`: json.MarshalIndent of its result structs (fields in struct order), whose
 * maps (constraint, object, details) have their keys sorted, with Go's escaping (`<` → \u003c).
 */
function jsonText(vs: Violation[]): string {
  const I = "    ";
  const items = jsonDoc(vs).map((d) => {
    const fields = Object.entries(d as Record<string, unknown>).map(([k, v]) => `${I}${I}${goString(k)}: ${goJSON(v, I, I + I)}`);
    return `${I}{\n${fields.join(",\n")}\n${I}}`;
  });
  return `[\n${items.join(",\n")}\n]`;
}

function yamlDoc(vs: Violation[]): unknown[] {
  return vs.map((v) => ({
    result: {
      target: v.target,
      msg: v.msg,
      metadata: { details: v.details },
      constraint: { object: v.constraint },
      enforcementaction: v.enforcementAction,
      scopedenforcementactions: v.scopedActions ?? [],
    },
    violatingObject: v.object,
    trace: null,
  }));
}

/**
 * gator test on objects already read: `sources` in gator's order (the inputs' files first, then
 * the policies'), each file's objects in file order.
 */
export async function gatorTestSources(sources: Source[], opts: GatorTestOptions = {}): Promise<GatorTestResult> {
  let warnings = "";
  const fail = (msg: string): GatorTestResult => ({ stdout: "", stderr: warnings + msg + "\n", exitCode: 1, violations: [] });
  warnings = conflictWarnings(sources);
  const objs = sources.flatMap((s) => s.objs);
  // gator test sends input.review.namespaceObject as {} whatever Namespace it attaches (the
  // Namespace still serves namespaceSelector), and gives CEL code no namespaceObject.
  const client = new Client({ namespaceObject: false, k8sNativeValidation: opts.k8sNativeValidation, celNamespaceObject: false, ...(opts.celFailurePolicy ? { celFailurePolicy: opts.celFailurePolicy } : {}) });
  for (const o of objs) {
    if (!isProvider(o)) continue;
    try {
      client.addProvider(o);
    } catch (e) {
      return fail(`auditing objects: adding provider ${JSON.stringify(o.metadata?.name ?? "")}: ${(e as Error).message}`);
    }
  }
  for (const o of objs) {
    if (!isTemplate(o)) continue;
    try {
      client.addTemplate(o);
    } catch (e) {
      return fail(`auditing objects: adding template ${JSON.stringify(o.metadata?.name ?? "")}: ${(e as Error).message}`);
    }
  }
  for (const o of objs) {
    if (!isConstraint(o)) continue;
    try {
      client.addConstraint(o);
    } catch (e) {
      return fail(`auditing objects: adding constraint ${JSON.stringify(o.metadata?.name ?? "")}: ${(e as Error).message}`);
    }
  }
  for (const o of objs) client.addData(o);
  // As gator test: the expander of the inputs' ExpansionTemplates (and mutators, through the
  // host's mutation system), then every object reviewed, expanded, and its resultants reviewed.
  let expander: Expander;
  try {
    expander = new Expander(objs, { mutation: opts.mutation ?? gatorMutation });
  } catch (e) {
    return fail(`auditing objects: error creating expander: ${(e as Error).message}`);
  }
  // gator test attaches to every object the Namespace of that name among its inputs, or an
  // empty Namespace (so objects without metadata.namespace count as namespaced there).
  const namespaces = new Map<string, Obj>();
  for (const o of objs) if (o.apiVersion === "v1" && o.kind === "Namespace" && typeof o.metadata?.name === "string") namespaces.set(o.metadata.name, o);
  let all: Violation[] = [];
  for (const o of objs) {
    const ns = typeof o.metadata?.namespace === "string" ? o.metadata.namespace : "";
    const namespaceObject = namespaces.get(ns) ?? {};
    let results: Violation[];
    try {
      results = (await client.review(o, { namespaceObject })).results;
    } catch (e) {
      if (e instanceof ReviewError) return fail(`auditing objects: reviewing ${objectRef(o)}: ${e.message}`);
      throw e;
    }
    // Gatekeeper's client orders one object's results by constraint kind, then name.
    const byConstraint = results.map((v, i) => ({ v, i }));
    byConstraint.sort((a, b) => cmpBytes(a.v.constraintKind, b.v.constraintKind) || cmpBytes(a.v.constraintName, b.v.constraintName) || a.i - b.i);
    all.push(...byConstraint.map((x) => x.v));
    let resultants;
    try {
      resultants = await expander.expand(o);
    } catch (e) {
      return fail(`auditing objects: expanding resource ${String(o.metadata?.name ?? "")}: ${(e as Error).message}`);
    }
    for (const r of resultants) {
      try {
        all.push(...(await reviewResultants(client, [r], o, { namespaceObject })));
      } catch (e) {
        if (e instanceof ReviewError) {
          const { group, version, kind } = gvkOf(r.obj);
          const meta = metaOf(r.obj);
          return fail(`auditing objects: reviewing expanded resource ${group ? `${group}/` : ""}${version}, Kind=${kind} ${meta.namespace ?? ""}/${meta.name ?? ""}: ${e.message}`);
        }
        throw e;
      }
    }
  }
  all = all
    .map((v, i) => ({ v, i }))
    .sort((a, b) => cmpBytes(a.v.enforcementAction, b.v.enforcementAction) || cmpBytes(a.v.msg, b.v.msg) || a.i - b.i)
    .map((x) => x.v);
  const shown = opts.denyOnly ? all.filter(isDenyAction) : all;
  const exitCode = all.some(isDenyAction) ? 1 : 0;
  let stdout: string;
  switch ((opts.output ?? "").toLowerCase()) {
    case "json":
      stdout = shown.length ? jsonText(shown) : "null";
      break;
    case "yaml":
      stdout = yaml.dump(yamlDoc(shown), { indent: 4, noRefs: true, lineWidth: -1 });
      break;
    default:
      stdout = shown.map((v) => formatGatorLine(v) + "\n").join("");
  }
  return { stdout, stderr: warnings, exitCode, violations: shown };
}

