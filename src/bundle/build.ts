// `portcullis build` (opa build -t rego): a bundle from policy and data paths (or from bundle
// directories and archives with `-b`), its modules formatted, compile-checked as a whole,
// optionally verified and signed, written as a `.tar.gz`. The CLI only parses flags.

import { existsSync, statSync, readFileSync } from "node:fs";
import { parseYAML } from "../builtins/goyaml.ts";
import { Engine, type Capabilities } from "../engine/index.ts";
import { formatSource } from "../rego/format.ts";
import { parseModule } from "../rego/parser.ts";
import { RegoError } from "../rego/errors.ts";
import { loadPaths } from "../load/index.ts";
import { BundleError, readBundle, signBundle, writeBundle, type Bundle, type BundleModule, type SigningConfig, type VerificationConfig } from "./bundle.ts";
import { parseRaw, rawFromJS, rawToValue, isRawObject, type Raw, type RawObject } from "./rawjson.ts";
import { manifestRoots, checkRootsOverlap, rootPathsContain, goStringList } from "./manifest.ts";
import type { TarLimits } from "./tar.ts";

export interface BuildOptions {
  paths: string[];
  bundleMode: boolean;
  regoVersion: "v0" | "v1";
  revision?: string;
  /** Go filepath.Match patterns of file and directory names to skip. */
  ignore?: (name: string) => boolean;
  capabilities?: Capabilities;
  verification?: VerificationConfig;
  signing?: SigningConfig;
  limits?: Partial<TarLimits>;
  /** Warnings (OPA: the manifest of a directory is ignored without -b). */
  warn?: (s: string) => void;
}

/** Build the bundle (not yet written): throws BundleError, RegoError or LoadError. */
export function buildBundle(o: BuildOptions): Bundle {
  if (!o.bundleMode && (o.verification || o.signing)) throw new BundleError("enable bundle mode (ie. --bundle) to verify or sign bundle files or directories");
  let b: Bundle;
  if (o.bundleMode) {
    const names = [...o.paths].sort();
    const bundles = names.map((p) => {
      if (!existsSync(p)) throw new BundleError(`load error: error reading ${JSON.stringify(p)}: stat ${p}: no such file or directory`);
      try {
        return readBundle(p, { regoVersion: o.regoVersion, verification: o.verification, limits: o.limits, filter: o.ignore });
      } catch (e) {
        if (e instanceof RegoError) throw e;
        throw new BundleError(`load error: bundle ${p}: ${(e as Error).message}`);
      }
    });
    b = merge(bundles, o.regoVersion);
  } else {
    for (const p of o.paths) {
      if (existsSync(p) && statSync(p).isDirectory() && existsSync(`${p}/.manifest`)) {
        o.warn?.(`Warning: .manifest file found in ${JSON.stringify(p)} but -b flag not specified. Manifest will be ignored.\n`);
      }
    }
    const missing = o.paths.filter((p) => !existsSync(p));
    if (missing.length > 0) {
      const n = missing.length;
      const list = missing.map((p) => `stat ${p}: no such file or directory`);
      throw new BundleError(`load error: ${n} error${n > 1 ? "s" : ""} occurred during loading: ${n > 1 ? "\n" : ""}${list.join("\n")}`);
    }
    const files = loadPaths(o.paths, { ignore: o.ignore });
    const data: RawObject = new Map();
    // Documents again from their text: numbers keep their literals, YAML is read as OPA reads it.
    for (const d of files.data) insertAt(data, d.path, dataDocument(d.file, d.value));
    const modules: BundleModule[] = [...files.modules]
      .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
      .map((m) => ({ path: m.file, url: m.file, relativePath: m.file.startsWith("/") ? m.file : `/${m.file}`, raw: m.source, regoVersion: o.regoVersion, parsed: parseModule(m.file, m.source, { regoVersion: o.regoVersion }) }));
    b = { manifest: { revision: "", roots: [""], rego_version: o.regoVersion === "v0" ? 0 : 1 }, data, modules };
  }
  if (o.revision !== undefined) b.manifest.revision = o.revision;
  compileCheck(b, o.capabilities);
  b.modules = b.modules.map((m) => ({ ...m, raw: formatSource(m.url, m.raw, { regoVersion: m.regoVersion, parseVersion: m.regoVersion }) }));
  if (o.signing) signBundle(b, o.signing, { useModulePath: false });
  return b;
}

/** Build and encode. */
export function buildArchive(o: BuildOptions): Buffer {
  return writeBundle(buildBundle(o), { useModulePath: false });
}

function dataDocument(file: string, value: unknown): Raw {
  const text = readFileSync(file, "utf8");
  if (file.toLowerCase().endsWith(".json")) return parseRaw(text);
  return rawFromJS(parseYAML(text));
}

function insertAt(data: RawObject, path: string[], value: Raw): void {
  let v = value;
  for (let i = path.length - 1; i >= 0; i--) v = new Map([[path[i], v]]);
  if (!isRawObject(v)) throw new BundleError("root value must be object");
  const work: [RawObject, RawObject][] = [[data, v]];
  while (work.length > 0) {
    const [d, s] = work.pop()!;
    for (const [k, x] of s) {
      const cur = d.get(k);
      if (isRawObject(cur) && isRawObject(x)) work.push([cur, x]);
      else d.set(k, x);
    }
  }
}

/** OPA's MergeWithRegoVersion. */
function merge(bundles: Bundle[], regoVersion: "v0" | "v1"): Bundle {
  const num = (v: "v0" | "v1") => (v === "v0" ? 0 : 1);
  if (bundles.length === 1) {
    const b = bundles[0];
    const global = b.manifest.rego_version ?? num(regoVersion);
    b.manifest.rego_version = global;
    const frv = new Map<string, number>();
    for (const m of b.modules) if (num(m.regoVersion) !== global) frv.set(absPath(m), num(m.regoVersion));
    b.manifest.file_rego_versions = frv;
    return b;
  }
  const roots: string[] = [];
  const data: RawObject = new Map();
  const modules: BundleModule[] = [];
  const frv = new Map<string, number>();
  for (const b of bundles) {
    const rs = manifestRoots(b.manifest);
    roots.push(...rs);
    modules.push(...b.modules);
    for (const r of rs) {
      const key = r === "" ? [] : r.split("/");
      const val = readAt(b.data, key);
      if (val !== undefined) insertAt(data, key, val);
    }
    if (b.manifest.rego_version !== undefined || (b.manifest.file_rego_versions?.size ?? 0) > 0) {
      for (const m of b.modules) if (m.regoVersion !== regoVersion) frv.set(absPath(m), num(m.regoVersion));
    }
  }
  try {
    checkRootsOverlap(roots);
  } catch (e) {
    throw new BundleError(`bundle merge failed: ${(e as Error).message}`);
  }
  for (const m of modules) {
    const pkg = m.parsed.package.terms
      .slice(1)
      .map((t) => String((t as { value?: unknown }).value))
      .join("/");
    if (!rootPathsContain(roots, pkg)) throw new BundleError(`bundle merge failed: manifest roots ${goStringList(roots)} do not permit package in module '${m.path}'`);
  }
  return { manifest: { revision: "", roots, rego_version: num(regoVersion), file_rego_versions: frv }, data, modules };
}

function absPath(m: BundleModule): string {
  const p = m.url.startsWith("/") ? m.url : `/${m.url}`;
  return p.replace(/\/+/g, "/");
}

function readAt(data: RawObject, key: string[]): Raw | undefined {
  if (key.length === 0) return data.size === 0 ? undefined : data;
  let node: Raw = data;
  for (const k of key) {
    if (!isRawObject(node)) return undefined;
    const next: Raw | undefined = node.get(k);
    if (next === undefined) return undefined;
    node = next;
  }
  return node;
}

/** OPA refuses to build a bundle that does not compile: the same check, with its errors. */
function compileCheck(b: Bundle, capabilities?: Capabilities): void {
  const engine = new Engine({ capabilities, regoVersion: "v1" });
  for (const m of b.modules) engine.addModule(m.url, m.raw, { regoVersion: m.regoVersion });
  engine.setData(rawToValue(b.data));
  engine.compile();
}
