// The builtin registration table.
//
// Each category file (strings.ts, time.ts, …) exports a `Builtin[]`; index.ts gathers them into
// one table. A builtin carries its OPA declaration (the `decl` of `opa capabilities`), which the
// type checker uses for arity/argument checks and `portcullis capabilities` prints unchanged.

import type { Location } from "../rego/ast.ts";
import type { Value } from "../rego/value.ts";
import { typeName } from "../rego/value.ts";

// ---- Declarations, in the shape of OPA's capabilities JSON ----------------------------------

export type TypeDecl =
  | { type: "any"; of?: TypeDecl[] }
  | { type: "null" }
  | { type: "boolean" }
  | { type: "number" }
  | { type: "string" }
  | { type: "array"; static?: TypeDecl[]; dynamic?: TypeDecl }
  | { type: "object"; static?: { key: string; value: TypeDecl }[]; dynamic?: { key: TypeDecl; value: TypeDecl } }
  | { type: "set"; of?: TypeDecl }
  | FunctionDecl;

export interface FunctionDecl {
  type: "function";
  args?: TypeDecl[]; // absent for builtins without arguments, as in OPA's capabilities
  result?: TypeDecl;
  variadic?: TypeDecl;
}

// ---- Evaluation context ----------------------------------------------------------------------

/** What a builtin may use of the query it runs in. One context per query evaluation. */
export interface BuiltinContext {
  /** Strict builtin errors: an error stops evaluation instead of making the call undefined. */
  strict: boolean;
  /** `time.now_ns()` for this query: fixed so that every call in one query agrees. */
  nowNs: bigint;
  /** Per-query memory for nondeterministic builtins (rand.intn, uuid.rfc4122, http.send …). */
  cache: Map<string, Value>;
  /** Where `print` output goes. */
  print(line: string): void;
  /** Location of the call being evaluated (for errors and print). */
  location: Location | undefined;
  /** The value `opa.runtime()` returns. */
  runtime: Value;
  /**
   * For builtins that must do I/O (http.send): return the value cached under `key` or, when there
   * is none yet, start `start()` and suspend the query. The engine awaits the promise, stores its
   * result and evaluates the query again; everything else in the query is deterministic within a
   * query (time, random numbers, uuids are cached), so the re-run reaches the same call and finds
   * the value. Keeps the evaluator synchronous (no await per step) for the common case.
   */
  awaitValue(key: string, start: () => Promise<Value>): Value;
  /** Builtins that call back into Rego (rego.metadata.*, parse_module) read engine state here. */
  engine?: unknown;
  /** Extra state a host can put here (conftest file name, gatekeeper external data…). */
  host?: Record<string, unknown>;
}

/** Thrown by builtins for `eval_builtin_error`s (bad input that the types allow). */
export class BuiltinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BuiltinError";
  }
}

/** Thrown by builtins for `eval_type_error`s (an operand of the wrong type at run time). */
export class BuiltinTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BuiltinTypeError";
  }
}

/**
 * Thrown for errors that stop evaluation even without strict mode (OPA's "halt" errors, such as
 * http.send failures with raise_error). `code` is the OPA code to report.
 */
export class HaltError extends Error {
  code: "eval_builtin_error" | "eval_type_error";
  constructor(message: string, code: "eval_builtin_error" | "eval_type_error" = "eval_builtin_error") {
    super(message);
    this.name = "HaltError";
    this.code = code;
  }
}

/** Thrown by ctx.awaitValue to suspend a query until an async result is ready. */
export class AsyncSuspend extends Error {
  key: string;
  promise: Promise<Value>;
  constructor(key: string, promise: Promise<Value>) {
    super("evaluation suspended for async builtin");
    this.key = key;
    this.promise = promise;
  }
}

// ---- Builtins --------------------------------------------------------------------------------

/**
 * A builtin implementation. Returns the result, or `undefined` when the call is undefined (for
 * example `to_number("x")` is an error but `object.get` never is). Arguments are already
 * evaluated, ground values. Relations (`walk`) set `relation: true` and return an array of
 * results, one per solution.
 */
export type BuiltinImpl = (args: Value[], ctx: BuiltinContext) => Value | undefined;

export interface Builtin {
  name: string;
  decl: FunctionDecl;
  impl: BuiltinImpl;
  /** A relation yields many outputs (`walk`): impl returns Value[] of results. */
  relation?: boolean;
  /** Results differ between queries (rand, time.now_ns, uuid, http.send): excluded from caching. */
  nondeterministic?: boolean;
  deprecated?: boolean;
  /** Infix operator spelling, when it has one (`plus` → "+"). */
  infix?: string;
}

// ---- Helpers for argument checks, with OPA's messages ---------------------------------------

/** `name: operand N must be T but got U` as OPA words it. */
export function operandError(name: string, pos: number, want: string, got: Value): BuiltinTypeError {
  return new BuiltinTypeError(`${name}: operand ${pos} must be ${want} but got ${typeName(got)}`);
}

export function expectString(name: string, pos: number, v: Value): string {
  if (typeof v !== "string") throw operandError(name, pos, "string", v);
  return v;
}

export function expectBoolean(name: string, pos: number, v: Value): boolean {
  if (typeof v !== "boolean") throw operandError(name, pos, "boolean", v);
  return v;
}

export function expectArray(name: string, pos: number, v: Value): Value[] {
  if (!Array.isArray(v)) throw operandError(name, pos, "array", v);
  return v;
}

// ---- Small declaration builders (keep category files short) ---------------------------------

export const T = {
  any: { type: "any" } as TypeDecl,
  anyOf: (...of: TypeDecl[]): TypeDecl => ({ type: "any", of }),
  null: { type: "null" } as TypeDecl,
  boolean: { type: "boolean" } as TypeDecl,
  number: { type: "number" } as TypeDecl,
  string: { type: "string" } as TypeDecl,
  arrayOf: (t: TypeDecl): TypeDecl => ({ type: "array", dynamic: t }),
  tuple: (...ts: TypeDecl[]): TypeDecl => ({ type: "array", static: ts }),
  setOf: (t: TypeDecl): TypeDecl => ({ type: "set", of: t }),
  objectOf: (key: TypeDecl, value: TypeDecl): TypeDecl => ({ type: "object", dynamic: { key, value } }),
  fn: (args: TypeDecl[], result?: TypeDecl): FunctionDecl => (result ? { type: "function", args, result } : { type: "function", args }),
};
