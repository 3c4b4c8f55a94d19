// Errors with OPA's codes and locations.
//
// Every error Portcullis raises while parsing, compiling or evaluating Rego is a RegoError:
// `code` is OPA's error code string and `errors` lists each problem with its location, so a
// caller (CLI, webhook, test runner) can print `file:row: code: message` exactly as OPA does.

import type { Location } from "./ast.ts";

export type ErrorCode =
  | "rego_parse_error"
  | "rego_compile_error"
  | "rego_unsafe_var_error"
  | "rego_recursion_error"
  | "rego_type_error"
  | "eval_conflict_error"
  | "eval_type_error"
  | "eval_builtin_error"
  | "eval_cancel_error"
  | "eval_with_merge_error"
  | "eval_internal_error"
  // Portcullis's own: `portcullis fmt` could not format a term (nested too deeply).
  | "rego_format_error"
  | "invalid_argument";

export interface ErrorDetail {
  code: ErrorCode;
  /** The message; a type error's detail lines follow its first line, each after "\n\t", as OPA prints them. */
  message: string;
  location?: Location;
  /** OPA's `details` object of a type error in JSON reports (undefined ref, match error). */
  details?: unknown;
}

export class RegoError extends Error {
  code: ErrorCode;
  errors: ErrorDetail[];

  constructor(errors: ErrorDetail[]) {
    super(formatErrors(errors));
    this.name = "RegoError";
    this.code = errors[0]?.code ?? "rego_compile_error";
    this.errors = errors;
  }

  static single(code: ErrorCode, message: string, location?: Location): RegoError {
    return new RegoError([{ code, message, location }]);
  }
}

/** One error as OPA prints it: `file:row: code: message` (the location is omitted when unknown). */
export function formatError(e: ErrorDetail): string {
  const where = e.location ? `${e.location.file}:${e.location.row}: ` : "";
  return `${where}${e.code}: ${e.message}`;
}

/** The list as OPA prints it: a count line followed by each error. */
export function formatErrors(errors: ErrorDetail[]): string {
  if (errors.length === 1) return `1 error occurred: ${formatError(errors[0])}`;
  return `${errors.length} errors occurred:\n${errors.map(formatError).join("\n")}`;
}

/**
 * Any exception as a RegoError, for the API boundary: a RegoError is returned as it is; anything
 * else (a stack overflow, a failure inside the engine) becomes an error with `code` and a plain
 * message, never a raw JavaScript exception.
 */
export function asRegoError(e: unknown, code: ErrorCode, location?: Location): RegoError {
  if (e instanceof RegoError) return e;
  if (e instanceof RangeError && /call stack/.test(e.message)) {
    return RegoError.single(code, "nested too deeply: the JavaScript stack is exhausted", location);
  }
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return RegoError.single(code, `internal error: ${what}`, location);
}
