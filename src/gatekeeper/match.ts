// Constraint `spec.match`: which objects a constraint applies to.
//
// Every criterion that is set must hold. On UPDATE a constraint applies when either the new or
// the old object matches; on DELETE the old object is the object.
//
//   kinds               [{apiGroups, kinds}]; empty list / empty field / "*" match anything
//   scope               "*" (default), "Cluster" (no namespace), "Namespaced"
//   namespaces          names with prefix* / *suffix / *infix* wildcards; a Namespace object
//   excludedNamespaces  is matched by its own name; cluster-scoped objects are unaffected
//                       (cluster-scoped: no metadata.namespace and no Namespace supplied)
//   labelSelector       matchLabels + matchExpressions (In, NotIn, Exists, DoesNotExist)
//   namespaceSelector   against the object's Namespace (from the inventory); a Namespace object
//                       against its own labels; cluster-scoped objects always match; a
//                       namespaced object whose Namespace is unknown is an error
//   name                wildcard on metadata.name; an object with only generateName matches a
//                       prefix pattern its generateName starts with
//   source              "All" (default), "Original", "Generated"

import { isPlainObject, gvkOf, metaOf, type Obj } from "./yaml.ts";
import { validateSchema, type FieldError } from "./schema.ts";

export interface Match {
  kinds?: { apiGroups?: string[]; kinds?: string[] }[];
  scope?: string;
  namespaces?: string[];
  excludedNamespaces?: string[];
  labelSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  name?: string;
  source?: string;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** What matching needs to know about the object under review. */
export interface Matchable {
  object: Obj | null;
  oldObject?: Obj | null;
  /** The object's Namespace, when known (inventory or the caller). */
  namespace?: Obj | null;
  /** "Original" for objects as submitted, "Generated" for expanded resources. */
  source?: string;
}

export class MatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MatchError";
  }
}

/** `prefix*`, `*suffix`, `*infix*` or an exact name. */
export function wildcardMatches(pattern: string, candidate: string): boolean {
  const pre = pattern.startsWith("*");
  const suf = pattern.endsWith("*") && pattern.length > 1;
  if (pattern === "*") return true;
  if (pre && suf) return candidate.includes(pattern.slice(1, -1));
  if (pre) return candidate.endsWith(pattern.slice(1));
  if (suf) return candidate.startsWith(pattern.slice(0, -1));
  return pattern === candidate;
}

export function isNamespaceObject(o: Obj | null | undefined): boolean {
  if (!o) return false;
  const g = gvkOf(o);
  return g.group === "" && g.kind === "Namespace";
}

/** Kubernetes label selector semantics. An empty selector matches everything. */
export function selectorMatches(sel: LabelSelector | undefined, labels: Record<string, unknown>): boolean {
  if (!sel) return true;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (!has(k) || String(labels[k]) !== String(v)) return false;
  }
  for (const e of sel.matchExpressions ?? []) {
    const vals = (e.values ?? []).map(String);
    switch (e.operator) {
      case "In":
        if (!has(e.key) || !vals.includes(String(labels[e.key]))) return false;
        break;
      case "NotIn":
        if (has(e.key) && vals.includes(String(labels[e.key]))) return false;
        break;
      case "Exists":
        if (!has(e.key)) return false;
        break;
      case "DoesNotExist":
        if (has(e.key)) return false;
        break;
      default:
        throw new MatchError(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    }
  }
  return true;
}

function labelsOf(o: Obj | null | undefined): Record<string, unknown> {
  const l = metaOf(o).labels;
  return isPlainObject(l) ? l : {};
}

function kindsMatch(m: Match, o: Obj): boolean {
  if (!m.kinds || m.kinds.length === 0) return true;
  const { group, kind } = gvkOf(o);
  return m.kinds.some((k) => {
    const groups = k.apiGroups ?? [];
    const kinds = k.kinds ?? [];
    const gOk = groups.length === 0 || groups.includes("*") || groups.includes(group);
    const kOk = kinds.length === 0 || kinds.includes("*") || kinds.includes(kind);
    return gOk && kOk;
  });
}

function objectNamespace(o: Obj): string {
  const ns = metaOf(o).namespace;
  return typeof ns === "string" ? ns : "";
}

/**
 * Cluster-scoped: not a Namespace, no metadata.namespace and no Namespace object supplied.
 * (gator test supplies an empty Namespace for every object, which makes namespace-less objects
 * count as namespaced there; gator verify and the webhook supply none.)
 */
function isClusterScoped(o: Obj, ns: Obj | null | undefined): boolean {
  return !isNamespaceObject(o) && objectNamespace(o) === "" && !ns;
}

function scopeMatch(m: Match, o: Obj, ns: Obj | null | undefined): boolean {
  const scope = m.scope ?? "*";
  if (scope === "*" || scope === "") return true;
  const cluster = isNamespaceObject(o) || isClusterScoped(o, ns);
  if (scope === "Cluster") return cluster;
  if (scope === "Namespaced") return !cluster;
  return false;
}

/** The namespace name that namespaces/excludedNamespaces are checked against. */
function nsNameFor(o: Obj, ns: Obj | null | undefined): string {
  if (isNamespaceObject(o)) return String(metaOf(o).name ?? "");
  return objectNamespace(o) || String(metaOf(ns).name ?? "");
}

function namespacesMatch(m: Match, o: Obj, ns: Obj | null | undefined): boolean {
  if (!m.namespaces || m.namespaces.length === 0) return true;
  if (isClusterScoped(o, ns)) return true;
  const name = nsNameFor(o, ns);
  return m.namespaces.some((p) => wildcardMatches(p, name));
}

function excludedNamespacesMatch(m: Match, o: Obj, ns: Obj | null | undefined): boolean {
  if (!m.excludedNamespaces || m.excludedNamespaces.length === 0) return true;
  if (isClusterScoped(o, ns)) return true;
  const name = nsNameFor(o, ns);
  return !m.excludedNamespaces.some((p) => wildcardMatches(p, name));
}

function namespaceSelectorMatch(m: Match, o: Obj, ns: Obj | null | undefined): boolean {
  if (!m.namespaceSelector) return true;
  if (isNamespaceObject(o)) return selectorMatches(m.namespaceSelector, labelsOf(o));
  if (isClusterScoped(o, ns)) return true;
  if (!ns) throw new MatchError("namespace selector for namespace-scoped object but missing Namespace");
  return selectorMatches(m.namespaceSelector, labelsOf(ns));
}

function nameMatch(m: Match, o: Obj): boolean {
  if (m.name === undefined || m.name === "") return true;
  const meta = metaOf(o);
  const name = typeof meta.name === "string" ? meta.name : "";
  if (name !== "") return wildcardMatches(m.name, name);
  const gen = typeof meta.generateName === "string" ? meta.generateName : "";
  if (gen !== "" && m.name.endsWith("*") && !m.name.startsWith("*")) return gen.startsWith(m.name.slice(0, -1));
  return false;
}

function sourceMatch(m: Match, source: string | undefined): boolean {
  const want = m.source ?? "All";
  if (want === "" || want === "All") return true;
  return want === (source ?? "Original");
}

/** Does one object satisfy every criterion? */
export function objectMatches(m: Match, o: Obj, ns: Obj | null | undefined, source?: string): boolean {
  return (
    kindsMatch(m, o) &&
    scopeMatch(m, o, ns) &&
    namespacesMatch(m, o, ns) &&
    excludedNamespacesMatch(m, o, ns) &&
    selectorMatches(m.labelSelector, labelsOf(o)) &&
    namespaceSelectorMatch(m, o, ns) &&
    nameMatch(m, o) &&
    sourceMatch(m, source)
  );
}

/** Does the constraint apply to this review? (object or, failing that, oldObject) */
export function matches(m: Match | undefined, t: Matchable): boolean {
  const match = m ?? {};
  let firstErr: unknown = null;
  // object, then oldObject (each when it is a non-empty object); no list made per call
  for (let i = 0; i < 2; i++) {
    const o = i === 0 ? t.object : t.oldObject;
    if (!isPlainObject(o) || !hasKeys(o)) continue;
    try {
      if (objectMatches(match, o, t.namespace, t.source)) return true;
    } catch (e) {
      firstErr ??= e;
    }
  }
  if (firstErr) throw firstErr;
  return false;
}

/** Object.keys(o).length > 0, without the list. */
function hasKeys(o: Obj): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true;
  return false;
}

/** The kinds a match can select (for indexing): null = any kind. */
export function matchKinds(m: Match | undefined): { group: string; kind: string }[] | null {
  if (!m?.kinds || m.kinds.length === 0) return null;
  const out: { group: string; kind: string }[] = [];
  for (const k of m.kinds) {
    const groups = k.apiGroups && k.apiGroups.length ? k.apiGroups : ["*"];
    const kinds = k.kinds && k.kinds.length ? k.kinds : ["*"];
    for (const g of groups) for (const kk of kinds) out.push({ group: g, kind: kk });
  }
  return out;
}

const SELECTOR_SCHEMA = {
  type: "object",
  properties: {
    matchLabels: { type: "object", additionalProperties: { type: "string" } },
    matchExpressions: {
      type: "array",
      items: {
        type: "object",
        required: ["key", "operator"],
        properties: {
          key: { type: "string" },
          operator: { type: "string", enum: ["In", "NotIn", "Exists", "DoesNotExist"] },
          values: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
};

/** The schema Gatekeeper gives `spec.match` in every constraint CRD. */
export const MATCH_SCHEMA = {
  type: "object",
  properties: {
    kinds: {
      type: "array",
      items: {
        type: "object",
        properties: {
          apiGroups: { type: "array", items: { type: "string" } },
          kinds: { type: "array", items: { type: "string" } },
        },
      },
    },
    scope: { type: "string" },
    namespaces: { type: "array", items: { type: "string", pattern: "^\\*?[-:a-z0-9]*\\*?$" } },
    excludedNamespaces: { type: "array", items: { type: "string", pattern: "^\\*?[-:a-z0-9]*\\*?$" } },
    labelSelector: SELECTOR_SCHEMA,
    namespaceSelector: SELECTOR_SCHEMA,
    name: { type: "string" },
    source: { type: "string" },
  },
};

/** Validate a match block on its own (field errors with paths under `spec.match`). */
export function validateMatch(m: unknown, path = "spec.match"): FieldError[] {
  const r = validateSchema(MATCH_SCHEMA, m, path);
  return [...r.errors, ...r.unknownFields.map((f) => ({ field: f, type: "Unknown field", message: `${f}: unknown field` }))];
}
