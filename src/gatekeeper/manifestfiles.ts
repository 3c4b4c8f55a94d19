// Kubernetes manifests from files: the YAML/JSON files under a path, and every object in them
// (parsed by ./yaml.ts, which has no file access, so the browser playground can use it).

import * as fs from "node:fs";
import * as path from "node:path";
import { parseManifests, type Obj, type ReadOptions } from "./yaml.ts";

const MANIFEST_EXTS = [".yaml", ".yml", ".json"];

/** Files under a path (a file, or a directory walked recursively), in lexical order. */
export function manifestFiles(p: string): string[] {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return [p];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(full);
      else if (MANIFEST_EXTS.includes(path.extname(ent.name).toLowerCase())) out.push(full);
    }
  };
  walk(p);
  return out;
}

/** Read every object from a file or directory. */
export function readManifests(p: string, opts: ReadOptions = {}): Obj[] {
  const out: Obj[] = [];
  for (const f of manifestFiles(p)) out.push(...parseManifests(fs.readFileSync(f, "utf8"), f, opts));
  return out;
}
