// The expansion system: a set of ExpansionTemplates and the expansion of a generator resource
// into the resources it implies (a Deployment's Pod, a CronJob's Job and then that Job's Pod).
//
// As Gatekeeper's pkg/expansion: templates are kept in a graph whose edges run from a template
// to every template that consumes the kind it generates; a template whose addition closes a
// cycle is refused ("template forms expansion cycle") and every template in a cycle is left out
// of expansion. Expansion is recursive (at most MAX_EXPANSION_DEPTH levels). A generated
// resource is a copy of the generator's templateSource field with the generated apiVersion and
// kind, the name `<generator name>-<kind>` in lower case, an ownerReference to the generator,
// and the namespace of the generator's Namespace object when one is given (none when that
// Namespace has no name), else the generator's own metadata.namespace.
//
// Mutation: Gatekeeper applies its mutators to each generated resource (source Generated)
// before expanding it further. Portcullis's mutators plug in through `mutate` (ExpansionOptions).

import { isPlainObject, clone, gvkOf, type Obj } from "../yaml.ts";
import { goSprint, goTypeName, GoMap, GoFloat, type GoVal } from "../../gotext/fmt.ts";
import {
  ExpansionError,
  applyToGVKs,
  parseExpansionTemplate,
  validateExpansionTemplate,
  type ExpansionTemplate,
  type GVK,
} from "./template.ts";

/** Gatekeeper's maxRecursionDepth. */
export const MAX_EXPANSION_DEPTH = 30;

/** Where a resource comes from, for mutators and for constraints' `match.source`. */
export type SourceType = "Original" | "Generated";

/** What a mutator is told about the resource it mutates. */
export interface MutationContext {
  /** The resource's Namespace object (null when unknown). */
  namespace: Obj | null;
  /** The requesting user (admission), "" elsewhere. */
  username: string;
  source: SourceType;
}

/**
 * Mutates `obj` in place (Gatekeeper's mutation system over the resource). Throws to fail the
 * expansion; the message is wrapped as Gatekeeper wraps it.
 */
export type MutationHook = (obj: Obj, ctx: MutationContext) => void | Promise<void>;

export interface Resultant {
  obj: Obj;
  templateName: string;
  /** The template's spec.enforcementAction ("" keeps each constraint's own). */
  enforcementAction: string;
}

const gvkKey = (g: GVK) => `${g.group}/${g.version}/${g.kind}`;

/** The apiVersion of a group and version (the core group has none). */
export function apiVersionOf(g: GVK): string {
  return g.group === "" ? g.version : `${g.group}/${g.version}`;
}

/** Go's %v of a decoded JSON value (accessor errors print it). */
function goV(v: unknown): string {
  return goSprint(toGo(v));
}
function toGo(v: unknown): GoVal {
  if (Array.isArray(v)) return v.map(toGo);
  if (isPlainObject(v)) return new GoMap(Object.keys(v).sort().map((k) => [k, toGo(v[k])]));
  // gator reads manifests through JSON: every number is a float64
  if (typeof v === "number") return new GoFloat(v);
  return v as GoVal;
}

/** Go's %T of a decoded JSON value as gator's Unstructured holds it (numbers are float64). */
function goT(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return "[]interface {}";
  if (isPlainObject(v)) return "map[string]interface {}";
  if (typeof v === "number") return "float64";
  return goTypeName(v as GoVal);
}

/** unstructured.NestedMap: a copy of the map at the path; errors worded as Go's accessor errors. */
export function nestedMap(obj: Obj, fields: string[]): { found: boolean; value?: Obj } {
  const jsonPath = (fs: string[]) => "." + fs.join(".");
  let val: unknown = obj;
  for (let i = 0; i < fields.length; i++) {
    if (val === null || val === undefined) return { found: false };
    if (!isPlainObject(val)) throw new ExpansionError(`${jsonPath(fields.slice(0, i + 1))} accessor error: ${goV(val)} is of the type ${goT(val)}, expected map[string]interface{}`);
    if (!Object.hasOwn(val, fields[i])) return { found: false };
    val = val[fields[i]];
  }
  if (!isPlainObject(val)) throw new ExpansionError(`${jsonPath(fields)} accessor error: ${val === null ? "<nil>" : goV(val)} is of the type ${goT(val)}, expected map[string]interface{}`);
  return { found: true, value: clone(val) };
}

function nameOf(o: Obj): string {
  const n = isPlainObject(o.metadata) ? o.metadata.name : undefined;
  return typeof n === "string" ? n : "";
}

function setMeta(o: Obj, key: string, value: unknown): void {
  if (!isPlainObject(o.metadata)) o.metadata = {};
  if (value === "" || value === undefined) delete o.metadata[key];
  else o.metadata[key] = value;
}

/** metav1.OwnerReference as Go marshals it (uid always present; controller and blockOwnerDeletion when set). */
function ownerRef(r: Obj): Obj {
  const s = (v: unknown) => (typeof v === "string" ? v : "");
  const out: Obj = { apiVersion: s(r.apiVersion), kind: s(r.kind), name: s(r.name), uid: s(r.uid) };
  if (typeof r.controller === "boolean") out.controller = r.controller;
  if (typeof r.blockOwnerDeletion === "boolean") out.blockOwnerDeletion = r.blockOwnerDeletion;
  return out;
}

function ensureOwnerReference(resultant: Obj, parent: Obj): void {
  const apiVersion = typeof parent.apiVersion === "string" ? parent.apiVersion : "";
  const kind = typeof parent.kind === "string" ? parent.kind : "";
  const name = nameOf(parent);
  if (apiVersion === "" || kind === "" || name === "") return;
  const raw = isPlainObject(resultant.metadata) ? resultant.metadata.ownerReferences : undefined;
  const existing = Array.isArray(raw) && raw.every(isPlainObject) ? (raw as Obj[]).map(ownerRef) : [];
  if (existing.some((r) => r.apiVersion === apiVersion && r.kind === kind && r.name === name)) return;
  setMeta(resultant, "ownerReferences", [...existing, { apiVersion, kind, name, uid: "" }]);
}

/** One generated resource: the generator's templateSource as the generated kind. */
export function expandResource(obj: Obj, ns: Obj | null, t: ExpansionTemplate): Obj {
  const src = t.templateSource;
  let got;
  try {
    got = nestedMap(obj, src.split("."));
  } catch (e) {
    throw new ExpansionError(`could not extract source field from unstructured: ${(e as Error).message}`);
  }
  if (!got.found) throw new ExpansionError(`could not find source field ${JSON.stringify(src)} in resource ${nameOf(obj)}`);
  const resource = got.value!;
  resource.apiVersion = apiVersionOf(t.generatedGVK);
  resource.kind = t.generatedGVK.kind;
  if (ns) setMeta(resource, "namespace", isPlainObject(ns.metadata) && typeof ns.metadata.name === "string" ? ns.metadata.name : "");
  else {
    const parentNs = isPlainObject(obj.metadata) ? obj.metadata.namespace : undefined;
    if (parentNs !== undefined && parentNs !== null && typeof parentNs !== "string") throw new ExpansionError(`could not extract namespace field ${JSON.stringify(src)} in parent resource ${nameOf(obj)}`);
    if (typeof parentNs === "string") setMeta(resource, "namespace", parentNs);
  }
  const kind = t.generatedGVK.kind;
  setMeta(resource, "name", (nameOf(obj) + (kind !== "" ? "-" : "") + kind).toLowerCase());
  ensureOwnerReference(resource, obj);
  return resource;
}

interface State {
  template: ExpansionTemplate;
  conflict: boolean;
}

export interface ExpansionOptions {
  /** Gatekeeper's mutators, applied to each generated resource (source Generated). */
  mutate?: MutationHook;
}

export class ExpansionSystem {
  private store = new Map<string, State>();
  /** Templates by the GVK they apply to / generate. */
  private matchers = new Map<string, Set<string>>();
  private generators = new Map<string, Set<string>>();
  /** Directed edges: from a template to the templates that consume what it generates. */
  private edges = new Map<string, Set<string>>();
  private readonly mutate?: MutationHook;

  constructor(opts: ExpansionOptions = {}) {
    this.mutate = opts.mutate;
  }

  get size(): number {
    return this.store.size;
  }

  /** Parse, validate and add (or replace) a template object. Throws ExpansionError. */
  upsertObject(o: Obj): ExpansionTemplate {
    const t = parseExpansionTemplate(o);
    this.upsert(t);
    return t;
  }

  /** Gatekeeper's UpsertTemplate: validation, then the graph; a cycle keeps the template but reports it. */
  upsert(t: ExpansionTemplate): void {
    validateExpansionTemplate(t);
    const old = this.store.get(t.name);
    if (old) this.removeFromGraph(old.template);
    const cycle = this.addToGraph(t);
    if (cycle || old?.conflict) this.updateConflicts();
    if (cycle) throw new ExpansionError("template forms expansion cycle");
  }

  remove(name: string): void {
    const old = this.store.get(name);
    if (!old) return;
    this.removeFromGraph(old.template);
    if (old.conflict) this.updateConflicts();
  }

  /** Names of the templates left out because they are part of a cycle. */
  conflicts(): string[] {
    return [...this.store.values()].filter((s) => s.conflict).map((s) => s.template.name).sort();
  }

  private edgesFor(t: ExpansionTemplate): [string, string][] {
    const out: [string, string][] = [];
    for (const id of this.matchers.get(gvkKey(t.generatedGVK)) ?? []) out.push([t.name, id]);
    for (const g of applyToGVKs(t)) for (const id of this.generators.get(gvkKey(g)) ?? []) out.push([id, t.name]);
    return out;
  }

  private reaches(from: string, to: string): boolean {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      const x = stack.pop()!;
      if (x === to) return true;
      if (seen.has(x)) continue;
      seen.add(x);
      for (const y of this.edges.get(x) ?? []) stack.push(y);
    }
    return false;
  }

  private addToGraph(t: ExpansionTemplate): boolean {
    this.store.set(t.name, { template: t, conflict: false });
    const add = (m: Map<string, Set<string>>, k: string) => {
      let s = m.get(k);
      if (!s) m.set(k, (s = new Set()));
      s.add(t.name);
    };
    add(this.generators, gvkKey(t.generatedGVK));
    for (const g of applyToGVKs(t)) add(this.matchers, gvkKey(g));
    if (!this.edges.has(t.name)) this.edges.set(t.name, new Set());
    let cycle = false;
    for (const [from, to] of this.edgesFor(t)) {
      // adding from→to closes a cycle when `to` already reaches `from`
      if (from === to || this.reaches(to, from)) cycle = true;
      const out = this.edges.get(from) ?? new Set<string>();
      if (out.has(to)) throw new ExpansionError(`adding template to db: adding edge for template ${t.name}: edge already exists`);
      out.add(to);
      this.edges.set(from, out);
    }
    return cycle;
  }

  private removeFromGraph(t: ExpansionTemplate): void {
    this.store.delete(t.name);
    const del = (m: Map<string, Set<string>>, k: string) => {
      const s = m.get(k);
      s?.delete(t.name);
      if (s && s.size === 0) m.delete(k);
    };
    del(this.generators, gvkKey(t.generatedGVK));
    for (const g of applyToGVKs(t)) del(this.matchers, gvkKey(g));
    for (const [from, to] of this.edgesFor(t)) this.edges.get(from)?.delete(to);
    this.edges.get(t.name)?.clear();
  }

  /** Mark every template in a strongly connected component of more than one template. */
  private updateConflicts(): void {
    for (const s of this.store.values()) s.conflict = false;
    // Tarjan's algorithm, iterative.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    for (const root of this.store.keys()) {
      if (idx.has(root)) continue;
      const work: [string, string[]][] = [[root, [...(this.edges.get(root) ?? [])]]];
      idx.set(root, index);
      low.set(root, index++);
      stack.push(root);
      onStack.add(root);
      while (work.length) {
        const [v, rest] = work[work.length - 1];
        if (rest.length) {
          const w = rest.shift()!;
          if (!this.store.has(w)) continue;
          if (!idx.has(w)) {
            idx.set(w, index);
            low.set(w, index++);
            stack.push(w);
            onStack.add(w);
            work.push([w, [...(this.edges.get(w) ?? [])]]);
          } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
          continue;
        }
        work.pop();
        if (work.length) {
          const p = work[work.length - 1][0];
          low.set(p, Math.min(low.get(p)!, low.get(v)!));
        }
        if (low.get(v) === idx.get(v)) {
          const scc: string[] = [];
          let w: string;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            scc.push(w);
          } while (w !== v);
          if (scc.length > 1) for (const id of scc) this.store.get(id)!.conflict = true;
        }
      }
    }
  }

  /** The templates that expand resources of this GVK (cycles left out), by name. */
  templatesFor(g: GVK): ExpansionTemplate[] {
    const out: ExpansionTemplate[] = [];
    for (const id of this.matchers.get(gvkKey(g)) ?? []) {
      const s = this.store.get(id)!;
      if (!s.conflict) out.push(s.template);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Does any template apply to this object's kind? */
  expands(obj: Obj): boolean {
    const g = gvkOf(obj);
    return this.templatesFor(g).length > 0;
  }

  /**
   * Every resource the object implies, recursively (deepest first, as Gatekeeper lists them).
   * `ns` is the generator's Namespace object (null: unknown). Throws ExpansionError.
   */
  async expand(obj: Obj, ns: Obj | null, username = ""): Promise<Resultant[]> {
    const out: Resultant[] = [];
    await this.expandRecursive(obj, ns, username, out, 0);
    return out;
  }

  private async expandRecursive(obj: Obj, ns: Obj | null, username: string, out: Resultant[], depth: number): Promise<void> {
    if (depth >= MAX_EXPANSION_DEPTH) throw new ExpansionError(`maximum recursion depth of ${MAX_EXPANSION_DEPTH} reached`);
    const res = await this.expandOnce(obj, ns, username);
    for (const r of res) await this.expandRecursive(r.obj, ns, username, out, depth + 1);
    out.push(...res);
  }

  private async expandOnce(obj: Obj, ns: Obj | null, username: string): Promise<Resultant[]> {
    const g = gvkOf(obj);
    if (g.group === "" && g.version === "" && g.kind === "") throw new ExpansionError(`cannot expand resource ${nameOf(obj)} with empty GVK`);
    const res: Resultant[] = [];
    for (const t of this.templatesFor(g)) res.push({ obj: expandResource(obj, ns, t), templateName: t.name, enforcementAction: t.enforcementAction });
    if (this.mutate) {
      for (const r of res) {
        try {
          await this.mutate(r.obj, { namespace: ns, username, source: "Generated" });
        } catch (e) {
          throw new ExpansionError(`failed to mutate resultant resource ${nameOf(r.obj)}: ${(e as Error).message}`);
        }
      }
    }
    return res;
  }
}
