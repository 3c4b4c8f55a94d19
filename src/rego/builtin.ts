// The builtin contract: what a builtin is (declaration + implementation), the context it runs
// in, and the errors it may raise. It lives in the core because the compiler (type check,
// arity), the evaluator (calls, error conversion) and engines (per-engine builtin tables) need
// it; the implementations live above, in src/builtins/ (OPA's set) and in the hosts (conftest's
// parse_config*, Gatekeeper's external_data), which register them on their own engines only.

import type { Location } from "./ast.ts";
import type { Value } from "./value.ts";

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
  /**
   * Long-running builtins call this every few thousand steps: it throws `eval_cancel_error`
   * once the evaluation's deadline has passed or its AbortSignal/cancel flag was raised.
   */
  checkCancel(): void;
  /**
   * A builtin about to build a result of about `bytes` bytes calls this first: past the
   * evaluation's per-result size limit (`EvalLimits.maxResultBytes`) it throws a halting
   * `eval_builtin_error` naming the builtin, instead of exhausting the process's memory.
   * A builtin may call it again as its result grows (with the size reached so far); what the
   * result grows by counts against the evaluation's allocation budget (`EvalLimits.maxAllocBytes`).
   */
  checkSize(name: string, bytes: number): void;
  /** Hosts named in the capabilities' allow_net (undefined: every host is allowed). */
  allowNet?: readonly string[];
  /**
   * The evaluation's attempt: a query suspended for I/O runs again from the start, with the same
   * context and the next attempt number (state a builtin keeps per run is per attempt).
   */
  attempt?: number;
}

/** Explicit, documented evaluation limits (see docs/LIMITS.md). */
export interface EvalLimits {
  /**
   * The largest result one builtin call may build, and the largest JavaScript form of a query's
   * results (`PreparedQuery.eval`), in (estimated) bytes. Default 128 MiB: a result at the limit
   * and its converted copy stay well inside the 500 MB an evaluation may use.
   */
  maxResultBytes: number;
  /**
   * The allocation budget of one evaluation, in (estimated) bytes: what it puts into the
   * collections it builds (comprehension results, partial set and object rules: a slot per
   * element, two bytes per string character, an array's or set's own slots) plus the results
   * builtins size with `checkSize` (strings from `replace`, `concat`, `sprintf`, …, arrays from
   * `numbers.range`, `walk`'s paths). Input and data are not counted. Past it the evaluation
   * stops with `eval_cancel_error` (as at its deadline). Default 512 MiB: a policy that hits it
   * holds hundreds of megabytes, and the refused evaluation stays within 500 MB.
   */
  maxAllocBytes: number;
}

export const DEFAULT_LIMITS: EvalLimits = {
  maxResultBytes: 128 * 1024 * 1024,
  maxAllocBytes: 512 * 1024 * 1024,
};

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


/** A set of builtins by name. Each engine has its own (OPA's set by default); never shared mutable state. */
export type BuiltinTable = ReadonlyMap<string, Builtin>;
