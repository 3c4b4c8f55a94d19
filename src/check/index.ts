// `opa check`'s work, without the command line: collect the .rego files under paths, parse
// them (a parse error carries its source line), then compile them and run the strict checks,
// keeping the errors of the first failing stage (parsing, then OPA's compile stages; see
// src/rego/strict.ts). src/cli/check.ts validates flags and prints the errors as opa does;
// `parse` and the REPL use the same functions.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Module } from "../rego/ast.ts";
import { OPA_BUILTINS } from "../engine/index.ts";
import { parseForCheck, compileErrors, type CheckError, type CheckOptions, type CheckResult } from "./compile.ts";
import { goErrnoText as errnoText } from "../gotext/errno.ts";

export { formatCheckError, formatCheckErrors, loadingErrorsText, parseForCheck, type CheckError, type CheckOptions, type CheckResult } from "./compile.ts";

/** .rego files under the given paths (directories recursively, names sorted), or loading errors. */
export function collectRegoFiles(paths: string[]): { files: string[]; errors: CheckError[] } {
  const files: string[] = [];
  const errors: CheckError[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      errors.push({ message: `open ${dir}: ${errnoText(e)}` });
      return;
    }
    for (const name of names) {
      const p = dir === "." ? name : join(dir, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (name.endsWith(".rego")) files.push(p);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      errors.push({ message: `stat ${p}: ${errnoText(e)}` });
      continue;
    }
    if (st.isDirectory()) walk(p);
    else if (p.endsWith(".rego")) files.push(p);
  }
  return { files: [...new Set(files)], errors };
}


/** Check files: the errors of the first failing phase/stage ([] when all is well). */
export function checkFiles(paths: string[], o: CheckOptions = {}): CheckResult {
  const regoVersion = o.regoVersion ?? "v1";
  const { files, errors: loadErrors } = collectRegoFiles(paths);
  const modules: Module[] = [];
  const parseErrors: CheckError[] = [...loadErrors];
  for (const f of files) {
    let source: string;
    try {
      source = readFileSync(f, "utf8");
    } catch (e) {
      parseErrors.push({ message: `open ${f}: ${errnoText(e)}` });
      continue;
    }
    const r = parseForCheck(f, source, regoVersion);
    if (r.errors) parseErrors.push(...r.errors);
    else modules.push(r.module!);
  }
  if (parseErrors.length) return { phase: "loading", errors: parseErrors };
  return { phase: "compile", errors: compileErrors(modules, OPA_BUILTINS, o) };
}
