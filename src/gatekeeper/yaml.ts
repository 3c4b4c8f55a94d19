// Reading Kubernetes manifests the way kubectl and gator read them.
//
// YAML 1.2 core schema via js-yaml v4 (so `yes`/`no`/`on`/`off` are strings, as in
// Kubernetes' sigs.k8s.io/yaml), multi-document streams, empty documents skipped, and
// `kind: List` / `*List` documents flattened into their items. JSON files are plain YAML.

import yaml from "js-yaml";

export type Obj = Record<string, any>;

// Plain scalars resolve as Kubernetes' YAML reader (go-yaml v2, YAML 1.1) resolves them:
// y/yes/on → true, n/no/off → false, 010 → 8, 0x1F, 0b11, 1_000; timestamps stay strings.
const BOOL_TRUE = new Set(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]);
const BOOL_FALSE = new Set(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]);
const NULLS = new Set(["~", "null", "Null", "NULL", ""]);
const INT_RE = /^[-+]?(0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0[0-7_]+|[0-9][0-9_]*)$/;
const FLOAT_RE = /^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$/;

function parseYamlInt(s: string): number {
  let sign = 1;
  let t = s.replace(/_/g, "");
  if (t[0] === "-" || t[0] === "+") {
    if (t[0] === "-") sign = -1;
    t = t.slice(1);
  }
  if (t.startsWith("0b")) return sign * parseInt(t.slice(2), 2);
  if (t.startsWith("0o")) return sign * parseInt(t.slice(2), 8);
  if (t.startsWith("0x")) return sign * parseInt(t.slice(2), 16);
  if (t.length > 1 && t[0] === "0") return sign * parseInt(t.slice(1), 8);
  return sign * parseInt(t, 10);
}

const k8sNull = new yaml.Type("tag:yaml.org,2002:null", {
  kind: "scalar",
  resolve: (d: string | null) => d === null || NULLS.has(d),
  construct: () => null,
});
const k8sBool = new yaml.Type("tag:yaml.org,2002:bool", {
  kind: "scalar",
  resolve: (d: string | null) => d !== null && (BOOL_TRUE.has(d) || BOOL_FALSE.has(d)),
  construct: (d: string) => BOOL_TRUE.has(d),
});
const k8sInt = new yaml.Type("tag:yaml.org,2002:int", {
  kind: "scalar",
  resolve: (d: string | null) => d !== null && INT_RE.test(d) && !/^[-+]?0[0-7_]*[89]/.test(d),
  construct: parseYamlInt,
});
const k8sFloat = new yaml.Type("tag:yaml.org,2002:float", {
  kind: "scalar",
  resolve: (d: string | null) => d !== null && (FLOAT_RE.test(d) || /^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/.test(d)),
  construct: (d: string) => {
    if (/inf$/i.test(d)) return d[0] === "-" ? -Infinity : Infinity;
    if (/nan$/i.test(d)) return NaN;
    return parseFloat(d.replace(/_/g, ""));
  },
});

/** The YAML schema Kubernetes manifests are read with. */
export const K8S_SCHEMA = yaml.FAILSAFE_SCHEMA.extend({ implicit: [k8sNull, k8sBool, k8sInt, k8sFloat] });

export class ManifestError extends Error {
  constructor(
    message: string,
    public file?: string,
  ) {
    super(message);
    this.name = "ManifestError";
  }
}

export interface ReadOptions {
  /** Flatten `kind: List` documents into their items (default true). */
  flattenLists?: boolean;
}

/** True when an object is a Kubernetes List wrapper (`kind: List` or `FooList` with items). */
export function isListObject(o: unknown): boolean {
  if (!isPlainObject(o)) return false;
  const kind = (o as Obj).kind;
  return typeof kind === "string" && kind.endsWith("List") && Array.isArray((o as Obj).items);
}

/** Parse a (multi-document) YAML or JSON text into objects. */
export function parseManifests(text: string, file = "<input>", opts: ReadOptions = {}): Obj[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text, undefined, { filename: file, json: true, schema: K8S_SCHEMA });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ManifestError(`reading ${file}: invalid YAML: ${msg}`, file);
  }
  const out: Obj[] = [];
  const flatten = opts.flattenLists ?? true;
  const push = (d: unknown, where: string) => {
    if (d === null || d === undefined) return;
    if (!isPlainObject(d)) throw new ManifestError(`reading ${file}: ${where} is not an object (got ${typeName(d)})`, file);
    if (flatten && isListObject(d)) {
      (d as Obj).items.forEach((it: unknown, i: number) => push(it, `${where}.items[${i}]`));
      return;
    }
    out.push(d as Obj);
  };
  docs.forEach((d, i) => push(d, `document ${i + 1}`));
  return out;
}


export function isPlainObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Deep copy of JSON-like data. */
export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** `group/version` → {group, version}. */
export function splitApiVersion(apiVersion: unknown): { group: string; version: string } {
  if (typeof apiVersion !== "string" || apiVersion === "") return { group: "", version: "" };
  const i = apiVersion.lastIndexOf("/");
  if (i < 0) return { group: "", version: apiVersion };
  return { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function gvkOf(o: Obj | null | undefined): { group: string; version: string; kind: string } {
  if (!o) return { group: "", version: "", kind: "" };
  const { group, version } = splitApiVersion(o.apiVersion);
  return { group, version, kind: typeof o.kind === "string" ? o.kind : "" };
}

export function metaOf(o: Obj | null | undefined): Obj {
  const m = o?.metadata;
  return isPlainObject(m) ? m : {};
}
