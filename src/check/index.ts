// `opa check`'s work, without the command line: collect the .rego files under paths, parse
// them (a parse error carries its source line), then compile them and run the strict checks,
// keeping the errors of the first failing stage (parsing, then OPA's compile stages; see
// src/rego/strict.ts). src/cli/check.ts validates flags and prints the errors as opa does;
// `parse` and the REPL use the same functions.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Module } from "../rego/ast.ts";
import { parseModule, termString, RULE_SHAPE_ERROR } from "../rego/parser.ts";
import { Engine, OPA_BUILTINS } from "../engine/index.ts";
import { RegoError, type ErrorDetail } from "../rego/errors.ts";
import { strictErrors, classifyStage, pickStagedErrors, SUPERSEDED, STAGE, type StagedError } from "../rego/strict.ts";
import { goErrnoText as errnoText } from "../gotext/errno.ts";

export interface CheckOptions {
  strict?: boolean;
  /** "v0v1": modules must be valid in both versions (opa check --v0-v1): v0 parsing, v1 rules. */
  regoVersion?: "v0" | "v1" | "v0v1";
  maxErrors?: number;
  /** JSON Schemas for the type check (opa check -s; src/load/schemas.ts). */
  schemas?: Record<string, unknown>;
}

/** An error as opa check reports it; `details` carries the source line of parse errors. */
export interface CheckError {
  code?: string;
  message: string;
  location?: { file: string; row: number; col: number };
  details?: { line: string; idx: number };
  /** A type error's details object, as OPA's JSON report has it (undefined ref, match error). */
  typeDetails?: unknown;
}

export interface CheckResult {
  /** "loading" when files could not be read or parsed; "compile" otherwise. */
  phase: "loading" | "compile";
  errors: CheckError[];
}

/** One error line as opa prints it, with the source line and a caret under parse errors. */
export function formatCheckError(e: CheckError): string {
  const where = e.location ? `${e.location.file}:${e.location.row}: ` : "";
  let s = e.code ? `${where}${e.code}: ${e.message}` : `${where}${e.message}`;
  if (e.details) {
    // opa drops the line's leading tabs and shifts the caret with them.
    const trimmed = e.details.line.replace(/^\t+/, "");
    const idx = Math.max(0, e.details.idx - (e.details.line.length - trimmed.length));
    s += `\n\t${trimmed}\n\t${" ".repeat(idx)}^`;
  }
  return s;
}

/** OPA's loader error for these errors: `N error(s) occurred during loading: …`. */
export function loadingErrorsText(errors: CheckError[]): string {
  if (errors.length === 1) return `1 error occurred during loading: ${formatCheckError(errors[0])}`;
  return `${errors.length} errors occurred during loading:\n${errors.map(formatCheckError).join("\n")}`;
}

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


/** Parse one file; the first parse error (with its source line) when it does not parse. */
export function parseForCheck(file: string, source: string, regoVersion: "v0" | "v1" | "v0v1"): { module?: Module; errors?: CheckError[] } {
  try {
    return { module: parseModule(file, source, { regoVersion }) };
  } catch (e) {
    if (!(e instanceof RegoError)) throw e;
    // Rule-shape errors (`if` required, …) are all reported, without the source line; of
    // syntax errors only the first, as opa's parser stops there.
    if (e.errors.every((x) => RULE_SHAPE_ERROR.test(x.message))) return { errors: e.errors.map((x) => ({ code: x.code, message: x.message, location: x.location })) };
    return { errors: [withDetails(e.errors[0], source)] };
  }
}


function withDetails(e: ErrorDetail, source: string): CheckError {
  const out: CheckError = { code: e.code, message: e.message, location: e.location };
  if (e.code === "rego_parse_error" && e.location && e.location.row > 0) {
    const line = source.split("\n")[e.location.row - 1];
    if (line !== undefined) out.details = { line: line.replace(/\r$/, ""), idx: Math.max(0, e.location.col - 1) };
  }
  return out;
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
  return { phase: "compile", errors: compileErrors(modules, o) };
}

/** Compile parsed modules; errors of the earliest failing compile stage, limited as opa limits them. */
export function compileErrors(modules: Module[], o: CheckOptions = {}): CheckError[] {
  const ordered = [...modules].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const compiler: StagedError[] = [];
  try {
    // The Rego v1 checks the compiler would make (shadowing, duplicate imports, deprecated
    // builtins) are made by strict.ts in their own stages; compiling the modules as v0 keeps a
    // late-stage error (deprecated builtin) from hiding an earlier one (recursion).
    const engine = new Engine({ regoVersion: o.regoVersion === "v0" ? "v0" : "v1", schemas: o.schemas });
    engine.addParsedModules(ordered.map(withoutV1Checks));
    engine.compile();
  } catch (e) {
    if (e instanceof RegoError) {
      for (const x of e.errors) if (!SUPERSEDED.test(x.message)) compiler.push({ ...x, stage: classifyStage(x) });
    } else {
      const message = `internal compiler error: ${e instanceof Error ? e.message : String(e)}`;
      compiler.push({ code: "rego_compile_error", message, stage: STAGE.types });
    }
  }
  const ours = strictErrors(ordered, { strict: !!o.strict, builtins: OPA_BUILTINS });
  const picked = pickStagedErrors(ours, compiler, ordered);
  if (picked.length === 0) return [];
  let out: CheckError[] = picked.map((x) => (x.details !== undefined ? { code: x.code, message: x.message, location: x.location, typeDetails: x.details } : { code: x.code, message: x.message, location: x.location }));
  const limit = o.maxErrors ?? 10;
  if (limit > 0 && out.length > limit) {
    out = out.slice(0, limit);
    out.push({ code: "rego_compile_error", message: "error limit reached" });
  }
  return out;
}

function withoutV1Checks(m: Module): Module {
  return { ...m, regoVersion: "v0", imports: m.imports.filter((im) => termString(im.path) !== "rego.v1") };
}
