// What `portcullis run` loads from its path arguments, as `opa run` does: policies (.rego) under
// their file names as policy ids, data files merged at their directory's path (src/load), or,
// with `-b`, each path as a bundle (a directory or a `.tar.gz` archive, read by src/bundle with
// its limits and, when configured, signature verification; policy ids are the bundle's name
// joined with the module's path, as OPA names them). Without `-b`, a `.tar.gz` path is read as
// a bundle too (OPA's loader does the same). Bundles whose roots overlap are refused.

import { existsSync } from "node:fs";
import { loadPaths, LoadError } from "../load/index.ts";
import { fromJS, makeObject, isPlainObject, type PlainObject, type Value } from "../rego/value.ts";
import { readBundle, rawToValue, manifestRoots, rootPathsOverlap, type Bundle, type ReadOptions } from "../bundle/index.ts";
import { manifestDocument } from "../bundle/manifest.ts";

export interface LoadedBundle {
  name: string;
  revision: string;
  roots: string[];
  /** The manifest as OPA stores it at data.system.bundles.<name>.manifest. */
  manifest: Value;
}

export interface LoadedState {
  policies: { id: string; raw: string }[];
  /** Documents with the path (under data) each is merged at. */
  documents: { path: string[]; value: Value }[];
  bundles: LoadedBundle[];
}

export { LoadError };

/** Verification and limits for bundles (flags: --verification-key…, --skip-verify). */
export type BundleReadOptions = Pick<ReadOptions, "verification" | "skipVerify" | "limits">;

export function loadServerFiles(paths: string[], bundleMode: boolean, bundleOpts: BundleReadOptions = {}, regoVersion: "v0" | "v1" = "v1"): LoadedState {
  const out: LoadedState = { policies: [], documents: [], bundles: [] };
  const read: { name: string; bundle: Bundle }[] = [];
  for (const arg of paths) {
    if (bundleMode || arg.endsWith(".tar.gz")) {
      if (!existsSync(arg)) throw new LoadError(`load error: error reading ${JSON.stringify(arg)}: stat ${arg}: no such file or directory`);
      try {
        read.push({ name: arg, bundle: readBundle(arg, { ...bundleOpts, regoVersion }) });
      } catch (e) {
        throw new LoadError(`load error: bundle ${arg}: ${(e as Error).message}`);
      }
      continue;
    }
    const { prefix, path } = splitPrefix(arg);
    const files = loadPaths([path]);
    for (const m of files.modules) out.policies.push({ id: policyId(m.file), raw: m.source });
    for (const d of files.data) out.documents.push({ path: [...prefix, ...d.path], value: fromJS(d.value) });
  }
  checkBundleRoots(read.map((r) => ({ name: r.name, roots: manifestRoots(r.bundle.manifest) })));
  for (const { name, bundle } of read) {
    for (const m of bundle.modules) out.policies.push({ id: joinPath(name, m.path), raw: m.raw });
    out.documents.push({ path: [], value: rawToValue(bundle.data) });
    out.bundles.push({ name, revision: bundle.manifest.revision, roots: manifestRoots(bundle.manifest), manifest: rawToValue(manifestDocument(bundle.manifest)) });
  }
  return out;
}

/** Go's path.Join of a bundle name and a module path (OPA's modulePathWithPrefix). */
export function joinPath(a: string, b: string): string {
  const parts = `${a}/${b}`.split("/");
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  return (a.startsWith("/") ? "/" : "") + out.join("/");
}

/** Two bundles may not own overlapping roots (OPA's hasRootsOverlap, with its messages). */
export function checkBundleRoots(bundles: { name: string; roots: string[] }[]): void {
  if (bundles.length < 2) return;
  const colliding = new Set<string>();
  const conflicts = new Set<string>();
  const empty = new Set<string>();
  for (const b of bundles) if (b.roots.includes("")) empty.add(b.name);
  for (let i = 0; i < bundles.length; i++) {
    for (let j = i + 1; j < bundles.length; j++) {
      const a = bundles[i];
      const b = bundles[j];
      for (const ra of a.roots) {
        for (const rb of b.roots) {
          if (!rootPathsOverlap(ra, rb)) continue;
          colliding.add(a.name);
          colliding.add(b.name);
          if (ra === rb) conflicts.add(`root ${ra} is in multiple bundles`);
          else conflicts.add([ra, rb].sort().join(" overlaps "));
        }
      }
    }
  }
  if (colliding.size === 0) return;
  const names = [...colliding].sort().join(", ");
  if (empty.size > 0) {
    throw new LoadError(
      `initialization error: bundles [${names}] have overlapping roots and cannot be activated simultaneously because bundle(s) [${[...empty].sort().join(", ")}] specify empty root paths ('') which overlap with any other bundle root`,
    );
  }
  throw new LoadError(`initialization error: detected overlapping roots in manifests for these bundles: [${names}] (${[...conflicts].sort().join(", ")})`);
}

/**
 * OPA's `<dotted.path>:<file or directory>` arguments: the data found there is placed under that
 * path (`cfg.prod:settings.json` → data.cfg.prod). An argument naming an existing file is never split.
 */
export function splitPrefix(arg: string): { prefix: string[]; path: string } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):(.+)$/.exec(arg);
  if (!m || existsSync(arg)) return { prefix: [], path: arg };
  return { prefix: m[1].split("."), path: m[2] };
}

/** The policy id of a loaded file: its path without a leading "/" (as OPA's loader names them). */
export function policyId(file: string): string {
  return file.replace(/^\/+/, "");
}

/** Deep-merge `doc` into `data` at `path` (objects merge; anything else is replaced). */
export function mergeAt(data: Value, path: readonly string[], doc: Value): Value {
  let v = doc;
  for (let i = path.length - 1; i >= 0; i--) v = makeObject([[path[i], v]]);
  return deepMerge(data, v);
}

/** The data without the document at `path` (the root: everything but `system`). */
export function eraseAt(data: Value, path: readonly string[]): Value {
  if (!isPlainObject(data)) return data;
  if (path.length === 0) return Object.hasOwn(data, "system") ? makeObject([["system", data.system]]) : makeObject([]);
  const [head, ...rest] = path;
  if (!Object.hasOwn(data, head)) return data;
  const out: PlainObject = { ...data };
  if (rest.length === 0) delete out[head];
  else out[head] = eraseAt(out[head], rest);
  return out;
}

function deepMerge(a: Value, b: Value): Value {
  if (!isPlainObject(a) || !isPlainObject(b)) return b;
  const out: PlainObject = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Object.hasOwn(out, k) ? deepMerge(out[k], v) : v;
  return out;
}
