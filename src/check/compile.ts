// `opa check`'s parse and compile checks on sources already in memory (no file system): the
// parse error of a module with its source line, and the errors of the first failing compile
// stage (src/rego/strict.ts) with a given builtin table. src/check/index.ts reads the files;
// the browser playground (src/playground/) calls these directly.

import type { Module } from "../rego/ast.ts";
import { parseModule, termString, RULE_SHAPE_ERROR } from "../rego/parser.ts";
import { Engine } from "../rego/engine.ts";
import type { BuiltinTable } from "../rego/builtin.ts";
import { RegoError, type ErrorDetail } from "../rego/errors.ts";
import { strictErrors, classifyStage, pickStagedErrors, SUPERSEDED, STAGE, type StagedError } from "../rego/strict.ts";

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

/** `opa check`'s report of a failed check: `N error(s) occurred[ during loading]: …`. */
export function formatCheckErrors(r: CheckResult): string {
  const during = r.phase === "loading" ? " during loading" : "";
  const n = r.errors.length;
  if (n === 1) return `1 error occurred${during}: ${formatCheckError(r.errors[0])}\n`;
  return `${n} errors occurred${during}:\n${r.errors.map(formatCheckError).join("\n")}\n`;
}

/** OPA's loader error for these errors: `N error(s) occurred during loading: …`. */
export function loadingErrorsText(errors: CheckError[]): string {
  if (errors.length === 1) return `1 error occurred during loading: ${formatCheckError(errors[0])}`;
  return `${errors.length} errors occurred during loading:\n${errors.map(formatCheckError).join("\n")}`;
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

/** Compile parsed modules; errors of the earliest failing compile stage, limited as opa limits them. */
export function compileErrors(modules: Module[], builtins: BuiltinTable, o: CheckOptions = {}): CheckError[] {
  const ordered = [...modules].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const compiler: StagedError[] = [];
  try {
    // The Rego v1 checks the compiler would make (shadowing, duplicate imports, deprecated
    // builtins) are made by strict.ts in their own stages; compiling the modules as v0 keeps a
    // late-stage error (deprecated builtin) from hiding an earlier one (recursion).
    const engine = new Engine({ regoVersion: o.regoVersion === "v0" ? "v0" : "v1", schemas: o.schemas, builtins });
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
  const ours = strictErrors(ordered, { strict: !!o.strict, builtins });
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
