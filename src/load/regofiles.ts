// The .rego files a formatting run reads: files named as they are, directories walked (names
// sorted, hidden entries skipped), `-` (standard input) kept as it is.

import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { LoadError } from "./index.ts";

export const STDIN = "-";

/** Files named, and .rego files under directories named; a missing path is a LoadError. */
export function listRegoFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (p === STDIN) {
      out.push(STDIN);
      continue;
    }
    if (!existsSync(p)) throw new LoadError(`${p}: no such file or directory`);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (name.endsWith(".rego")) out.push(p);
  }
}
