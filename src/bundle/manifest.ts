// The `.manifest` of an OPA bundle (bundle.Manifest in OPA): decoding with Go's struct-decoding
// errors, defaults, the roots checks, and writing in Go's field order
// (revision, roots, wasm, rego_version, file_rego_versions, metadata).

import { compareUTF8 } from "../gotext/plainjson.ts";
import { goJSONString } from "../gotext/json.ts";
import { RawNumber, writeRaw, type Raw, type RawObject } from "./rawjson.ts";

export interface Manifest {
  revision: string;
  /** undefined until defaults are injected (then [""] when the file had none). */
  roots?: string[];
  /** wasm resolvers: kept only to refuse them. */
  wasm?: Raw[];
  rego_version?: number;
  file_rego_versions?: Map<string, number>;
  metadata?: RawObject;
}

export class ManifestError extends Error {}

function goType(v: Raw): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "string";
  if (v instanceof RawNumber) return "number";
  if (Array.isArray(v)) return "array";
  return "object";
}

function mismatch(v: Raw, field: string, goT: string): ManifestError {
  return new ManifestError(`json: cannot unmarshal ${goType(v)} into Go struct field Manifest.${field} of type ${goT}`);
}

/** A manifest from its parsed JSON (Go's decoding: unknown fields ignored, null leaves a field unset). */
export function decodeManifest(doc: Raw): Manifest {
  if (!(doc instanceof Map)) {
    if (doc === null) return { revision: "" };
    throw new ManifestError(`json: cannot unmarshal ${goType(doc)} into Go value of type bundle.Manifest`);
  }
  const m: Manifest = { revision: "" };
  for (const [k, v] of doc) {
    if (v === null) continue;
    switch (k) {
      case "revision":
        if (typeof v !== "string") throw mismatch(v, "revision", "string");
        m.revision = v;
        break;
      case "roots":
        if (!Array.isArray(v)) throw mismatch(v, "roots", "[]string");
        m.roots = v.map((r) => {
          if (r === null) return "";
          if (typeof r !== "string") throw mismatch(r, "roots", "string");
          return r;
        });
        break;
      case "wasm":
        if (!Array.isArray(v)) throw mismatch(v, "wasm", "[]bundle.WasmResolver");
        m.wasm = v;
        break;
      case "rego_version":
        if (!(v instanceof RawNumber)) throw mismatch(v, "rego_version", "int");
        if (!/^-?\d+$/.test(v.text)) throw new ManifestError(`json: cannot unmarshal number ${v.text} into Go struct field Manifest.rego_version of type int`);
        m.rego_version = Number(v.text);
        break;
      case "file_rego_versions": {
        if (!(v instanceof Map)) throw mismatch(v, "file_rego_versions", "map[string]int");
        const frv = new Map<string, number>();
        for (const [p, n] of v) {
          if (n === null) continue;
          if (!(n instanceof RawNumber) || !/^-?\d+$/.test(n.text)) throw mismatch(n, "file_rego_versions", "int");
          frv.set(p, Number(n.text));
        }
        m.file_rego_versions = frv;
        break;
      }
      case "metadata":
        if (!(v instanceof Map)) throw mismatch(v, "metadata", "map[string]interface {}");
        m.metadata = v;
        break;
    }
  }
  return m;
}

/** Roots without leading or trailing slashes; [""] when the manifest names none (OPA's Init). */
export function manifestRoots(m: Manifest): string[] {
  return (m.roots ?? [""]).map((r) => r.replace(/^\/+|\/+$/g, ""));
}

/** OPA's Manifest.Empty: equal to the zero manifest (roots [""] counts as none). */
export function manifestEmpty(m: Manifest): boolean {
  const roots = manifestRoots(m);
  return (
    m.revision === "" &&
    m.rego_version === undefined &&
    (m.file_rego_versions === undefined || m.file_rego_versions.size === 0) &&
    (m.metadata === undefined || m.metadata.size === 0) &&
    (m.wasm === undefined || m.wasm.length === 0) &&
    roots.length === 1 &&
    roots[0] === ""
  );
}

/** The manifest as Go's json.Marshal writes bundle.Manifest (no trailing newline). */
export function manifestJSON(m: Manifest, htmlEscape = true): string {
  const q = (s: string) => goJSONString(s, htmlEscape);
  const parts = [`"revision":${q(m.revision)}`];
  const roots = m.roots ?? [""];
  parts.push(`"roots":[${roots.map(q).join(",")}]`);
  if (m.wasm && m.wasm.length > 0) parts.push(`"wasm":${writeRaw(m.wasm, htmlEscape)}`);
  if (m.rego_version !== undefined) parts.push(`"rego_version":${m.rego_version}`);
  if (m.file_rego_versions && m.file_rego_versions.size > 0) {
    const ks = [...m.file_rego_versions.keys()].sort(compareUTF8);
    parts.push(`"file_rego_versions":{${ks.map((k) => `${q(k)}:${m.file_rego_versions!.get(k)}`).join(",")}}`);
  }
  if (m.metadata && m.metadata.size > 0) parts.push(`"metadata":${writeRaw(m.metadata, htmlEscape)}`);
  return `{${parts.join(",")}}`;
}

/** The manifest as the Raw document OPA hashes (json.Marshal, then parsed again). */
export function manifestDocument(m: Manifest): Raw {
  const d: RawObject = new Map();
  d.set("revision", m.revision);
  d.set("roots", [...(m.roots ?? [""])]);
  if (m.wasm && m.wasm.length > 0) d.set("wasm", m.wasm);
  if (m.rego_version !== undefined) d.set("rego_version", new RawNumber(String(m.rego_version)));
  if (m.file_rego_versions && m.file_rego_versions.size > 0) {
    d.set("file_rego_versions", new Map([...m.file_rego_versions].map(([k, v]) => [k, new RawNumber(String(v))] as [string, Raw])));
  }
  if (m.metadata && m.metadata.size > 0) d.set("metadata", m.metadata);
  return d;
}

// ---- Roots -----------------------------------------------------------------------------------

function rootContains(root: string[], other: string[]): boolean {
  if (root.length === 1 && root[0] === "") return true;
  if (root.length > other.length) return false;
  for (let j = 0; j < root.length; j++) if (root[j] !== other[j]) return false;
  return true;
}

/** OPA's RootPathsOverlap. */
export function rootPathsOverlap(a: string, b: string): boolean {
  const x = a.split("/");
  const y = b.split("/");
  return rootContains(x, y) || rootContains(y, x);
}

/** OPA's RootPathsContain: is the slash-separated path under one of the roots? */
export function rootPathsContain(roots: readonly string[], path: string): boolean {
  const segs = path.split("/");
  return roots.some((r) => rootContains(r.split("/"), segs));
}

/** Go's `%v` of a []string: `[a b]`. */
export function goStringList(xs: readonly string[]): string {
  return `[${xs.join(" ")}]`;
}

/** The roots checks of OPA's validateAndInjectDefaults that need no modules or data. */
export function checkRootsOverlap(roots: readonly string[]): void {
  for (let i = 0; i < roots.length - 1; i++) {
    for (let j = i + 1; j < roots.length; j++) {
      if (rootPathsOverlap(roots[i], roots[j])) throw new ManifestError(`manifest has overlapped roots: '${roots[i]}' and '${roots[j]}'`);
    }
  }
}

export { goJSONString };
