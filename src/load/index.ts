// Loading policy and data files the way OPA's loader does: `.rego` files are modules; `.json`,
// `.yaml` and `.yml` files are data, merged at the path of their directory relative to the
// root that was named (a file named directly is merged at the data root). Used by every face
// (eval, verify, check, repl, conftest's data, and the servers to come), so it lives outside
// the CLI. Documents nested deeper than MAX_VALUE_DEPTH (OPA's 10,000) are refused.

import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join, relative, sep, extname } from "node:path";
import { LoadError, parseDataFile, checkDataMerge, type LoadedFiles } from "./data.ts";

export * from "./data.ts";

const DATA_EXT = new Set([".json", ".yaml", ".yml"]);

/** Load every .rego/.json/.yaml file under the given paths. Missing paths are errors. */
export function loadPaths(paths: string[], opts: { ignore?: (path: string) => boolean } = {}): LoadedFiles {
  const out: LoadedFiles = { modules: [], data: [] };
  for (const p of paths) {
    if (!existsSync(p)) throw new LoadError(`${p}: no such file or directory`);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, p, out, opts.ignore);
    else addFile(p, p, out, true);
  }
  checkDataMerge(out.data);
  return out;
}

function walk(root: string, dir: string, out: LoadedFiles, ignore?: (path: string) => boolean): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const p = join(dir, name);
    if (ignore?.(p)) continue;
    const st = statSync(p);
    if (st.isDirectory()) walk(root, p, out, ignore);
    else addFile(root, p, out, false);
  }
}

function addFile(root: string, file: string, out: LoadedFiles, direct: boolean): void {
  const ext = extname(file).toLowerCase();
  if (ext === ".rego") {
    out.modules.push({ file, source: readText(file) });
    return;
  }
  if (!DATA_EXT.has(ext)) {
    if (direct) throw new LoadError(`${file}: unsupported file type (want .rego, .json, .yaml or .yml)`);
    return;
  }
  const rel = direct ? "" : relative(root, file);
  const dirParts = rel.split(sep).slice(0, -1).filter((s) => s !== "");
  out.data.push({ file, path: dirParts, value: parseDataFile(file, readText(file)) });
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new LoadError(`${file}: ${(e as NodeJS.ErrnoException).code === "EACCES" ? "permission denied" : (e as Error).message}`);
  }
}

