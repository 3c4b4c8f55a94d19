// What `portcullis run` loads from its path arguments, as `opa run` does: policies (.rego) under
// their file names as policy ids, data files merged at their directory's path (src/load), or,
// with `-b`, each path as a bundle directory (policies anywhere in it; only files named
// data.json / data.yaml / data.yml are data, at their directory's path; `.manifest` read for
// its revision and roots). Bundles from archives or services are not supported yet.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { loadPaths, parseDataFile, LoadError } from "../load/index.ts";
import { fromJS, makeObject, isPlainObject, type PlainObject, type Value } from "../rego/value.ts";

export interface LoadedState {
  policies: { id: string; raw: string }[];
  /** Documents with the path (under data) each is merged at. */
  documents: { path: string[]; value: Value }[];
  bundles: { name: string; revision: string; roots: string[]; manifest: Record<string, unknown> }[];
}

export { LoadError };

export function loadServerFiles(paths: string[], bundleMode: boolean): LoadedState {
  if (!bundleMode) {
    const out: LoadedState = { policies: [], documents: [], bundles: [] };
    for (const arg of paths) {
      const { prefix, path } = splitPrefix(arg);
      const files = loadPaths([path]);
      for (const m of files.modules) out.policies.push({ id: policyId(m.file), raw: m.source });
      for (const d of files.data) out.documents.push({ path: [...prefix, ...d.path], value: fromJS(d.value) });
    }
    return out;
  }
  const out: LoadedState = { policies: [], documents: [], bundles: [] };
  for (const root of paths) {
    if (!existsSync(root)) throw new LoadError(`${root}: no such file or directory`);
    if (!statSync(root).isDirectory()) throw new LoadError(`${root}: bundle archives are not supported yet (pass a bundle directory)`);
    let manifest: Record<string, unknown> = {};
    const manifestFile = join(root, ".manifest");
    if (existsSync(manifestFile)) {
      let m: unknown;
      try {
        m = JSON.parse(readFileSync(manifestFile, "utf8"));
      } catch (e) {
        throw new LoadError(`${manifestFile}: invalid manifest: ${(e as Error).message}`);
      }
      if (m === null || typeof m !== "object" || Array.isArray(m)) throw new LoadError(`${manifestFile}: invalid manifest: want an object`);
      manifest = m as Record<string, unknown>;
    }
    if (manifest.revision !== undefined && typeof manifest.revision !== "string") throw new LoadError(`${manifestFile}: invalid manifest: revision must be a string`);
    if (manifest.roots !== undefined && (!Array.isArray(manifest.roots) || manifest.roots.some((r) => typeof r !== "string"))) throw new LoadError(`${manifestFile}: invalid manifest: roots must be a list of strings`);
    const revision = (manifest.revision as string | undefined) ?? "";
    const roots = (manifest.roots as string[] | undefined) ?? [""];
    manifest = { ...manifest, revision, roots };
    walk(root, root, out);
    out.bundles.push({ name: root, revision, roots, manifest });
  }
  return out;
}

/** Policies of a bundle directory are named after the bundle and their path (as OPA names them). */
function walk(root: string, dir: string, out: LoadedState): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      walk(root, p, out);
      continue;
    }
    const rel = relative(root, p);
    if (name.startsWith(".")) continue;
    if (name.endsWith(".rego")) out.policies.push({ id: `${root}/${p.replace(/^\/+/, "")}`, raw: readFileSync(p, "utf8") });
    else if (name === "data.json" || name === "data.yaml" || name === "data.yml") {
      const path = rel.split(sep).slice(0, -1).filter((s) => s !== "");
      out.documents.push({ path, value: fromJS(parseDataFile(p, readFileSync(p, "utf8"))) });
    }
  }
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

function deepMerge(a: Value, b: Value): Value {
  if (!isPlainObject(a) || !isPlainObject(b)) return b;
  const out: PlainObject = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Object.hasOwn(out, k) ? deepMerge(out[k], v) : v;
  return out;
}
