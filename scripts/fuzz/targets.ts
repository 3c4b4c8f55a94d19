// Running one case and classifying what happened.
//
//   ok      a result (or, for a format, a parsed document)
//   coded   a RegoError with an OPA code (a deliberate error: rego_parse_error, rego_type_error,
//           eval_builtin_error, eval_cancel_error…), or a ParseError from src/formats
//   crash   anything else: an exception of another class escaping the public API (TypeError,
//           RangeError, a thrown string…); an eval_internal_error (an unexpected exception inside
//           a builtin or the evaluator, which the engine reports with that code); any RegoError
//           whose message is asRegoError's "internal error: …" or "nested too deeply: the
//           JavaScript stack is exhausted" (a raw exception that reached the API boundary; a
//           builtin's own eval_builtin_error is coded, whatever it says); a ParserFault from src/formats (the
//           parser's own fault, as `portcullis parse`/`test` report it); an internal exception
//           inside a builtin that nothing reported ("masked"); a parser result that is not a
//           valid input document (non-finite numbers, foreign prototypes, polluted globals)
//
// Formats are parsed through parseContent, the entry point of `portcullis parse` and `test`
// (size limit, byte-order mark, the large-stack retry, the depth check), so a stack overflow that
// the retry absorbs is no crash, and one that escapes it (a ParserFault) is.
//
// Hangs are not detected here: the parent process watches the worker (pool.ts).

import { Engine } from "../../src/engine/index.ts";
import { RegoError } from "../../src/rego/errors.ts";
import { fromJS, ValueDepthError, type Value } from "../../src/rego/value.ts";
import { formatValue } from "../../src/rego/print.ts";
import { OPA_BUILTINS } from "../../src/builtins/index.ts";
import { BuiltinError, BuiltinTypeError, HaltError, AsyncSuspend, type Builtin, type BuiltinTable } from "../../src/builtins/registry.ts";
import { getParser, parseContent, ParseError, ParserFault, setProtoFileDirs } from "../../src/formats/index.ts";
import { join, isAbsolute } from "node:path";
import { REPO } from "./corpus.ts";
import { regoModules, type RegoCase } from "./gen-rego.ts";
import { formatContent, type FormatCase } from "./gen-formats.ts";
import { NETWORK_BUILTINS, type BuiltinCase } from "./gen-builtins.ts";
import { decode, encSize } from "./values.ts";

export type FuzzCase = RegoCase | FormatCase | BuiltinCase;
export type Target = FuzzCase["target"];

export interface ErrorInfo {
  name: string;
  message: string;
  stack: string;
}

export type Outcome =
  | { kind: "ok"; reached?: boolean }
  | { kind: "coded"; code: string; reached?: boolean }
  | { kind: "crash"; where: string; area: string; error: ErrorInfo };

export interface RunOptions {
  /** Evaluation deadline handed to Engine.query (ms). */
  evalTimeoutMs: number;
}

// ---- Process-wide setup ------------------------------------------------------------------------

let internal: { name: string; error: unknown } | null = null;
/** Names of the builtins whose implementation ran during the current case. */
const called = new Set<string>();
let installed = false;
let protoBaseline = 0;
let arrayProtoBaseline = 0;

/**
 * The fuzz engines' builtin table: OPA's builtins, each wrapped so that its calls are counted and
 * an internal exception (anything but the builtin error classes) is recorded with its own stack
 * before the evaluator turns it into eval_internal_error; network builtins fail with a
 * BuiltinError instead of doing I/O. OPA_BUILTINS itself is left alone.
 */
function fuzzTable(): BuiltinTable {
  const table = new Map<string, Builtin>();
  for (const b of OPA_BUILTINS.values()) {
    const name = b.name;
    if (NETWORK_BUILTINS.has(name)) {
      table.set(name, {
        ...b,
        impl: () => {
          throw new BuiltinError(`${name}: network access is disabled while fuzzing`);
        },
      });
      continue;
    }
    const impl = b.impl;
    table.set(name, {
      ...b,
      impl: (args, ctx) => {
        called.add(name);
        try {
          return impl(args, ctx);
        } catch (e) {
          if (!(e instanceof BuiltinError || e instanceof BuiltinTypeError || e instanceof HaltError || e instanceof RegoError || e instanceof AsyncSuspend || e instanceof ValueDepthError) && e instanceof Error && e.constructor.name !== "DeepEval") {
            if (internal === null) internal = { name, error: e };
          }
          throw e;
        }
      },
    });
  }
  return table;
}

let FUZZ_BUILTINS: BuiltinTable | undefined;

/** Set up a fuzz worker process (the builtin table, .proto directories, global baselines). */
export function setupProcess(): void {
  if (installed) return;
  installed = true;
  FUZZ_BUILTINS = fuzzTable();
  setProtoFileDirs([join(REPO, "examples/formats/textproto/protos"), join(REPO, "examples/textproto/protos")]);
  protoBaseline = Object.getOwnPropertyNames(Object.prototype).length;
  arrayProtoBaseline = Object.getOwnPropertyNames(Array.prototype).length;
}

export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) {
    const name = e.constructor?.name && e.constructor.name !== "Error" ? e.constructor.name : e.name;
    // Messages may quote megabytes of input (a regex pattern): keep both ends, and keep the
    // stack's frames whatever the length of the message it starts with.
    const msg = String(e.message);
    const message = msg.length > 2000 ? `${msg.slice(0, 1200)} … ${msg.slice(-400)}` : msg;
    const frames = String(e.stack ?? "")
      .split("\n")
      .filter((l) => /^\s+at /.test(l))
      .join("\n");
    return { name, message, stack: `${name}: ${message.split("\n")[0].slice(0, 300)}\n${frames}`.slice(0, 8000) };
  }
  return { name: `thrown ${e === null ? "null" : typeof e}`, message: String(e).slice(0, 2000), stack: "" };
}

/**
 * The source area a stack points into ("rego/parser", "builtins/jwt", "formats/yaml"): the
 * innermost file in src/, or for a stack overflow the file that recurs most.
 */
export function stackArea(stack: string): string | undefined {
  const files: string[] = [];
  for (const line of stack.split("\n")) {
    const m = /\/src\/([a-z0-9_/-]+)\.ts/i.exec(line);
    if (m) files.push(m[1]);
  }
  if (!files.length) {
    // Only library frames (a stack overflow deep inside a package): name the package.
    const lib = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(stack);
    return lib ? `lib:${lib[1]}` : undefined;
  }
  if (!/Maximum call stack/.test(stack)) return files[0];
  const counts = new Map<string, number>();
  for (const f of files) counts.set(f, (counts.get(f) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0][0];
}

/**
 * Who owns a crash: the builtin or parser under test when the error comes from its own code (or
 * from a library it calls), else the shared file it comes from (the value model, the evaluator).
 */
function ownerArea(e: unknown, own: string, ownPrefix: string): string {
  const a = stackArea(errorInfo(e).stack);
  return a === undefined || a.startsWith(ownPrefix) ? own : a;
}

/**
 * A builtin's crash belongs to the file it comes from ("builtins/graphql", "builtins/support/der",
 * "rego/value", "lib:graphql"), so that builtins sharing code share one signature; the finding
 * lists which builtins hit it.
 */
function builtinArea(e: unknown, name: string): string {
  return stackArea(errorInfo(e).stack) ?? `builtin:${name}`;
}

function crash(where: string, area: string, e: unknown): Outcome {
  return { kind: "crash", where, area, error: errorInfo(e) };
}

/** Global state a parser must never touch. */
function checkGlobals(): Outcome | undefined {
  const n = Object.getOwnPropertyNames(Object.prototype).length;
  const a = Object.getOwnPropertyNames(Array.prototype).length;
  if (n !== protoBaseline || a !== arrayProtoBaseline) {
    const extra = Object.getOwnPropertyNames(Object.prototype).slice(protoBaseline);
    for (const k of extra) delete (Object.prototype as Record<string, unknown>)[k];
    for (const k of Object.getOwnPropertyNames(Array.prototype).slice(arrayProtoBaseline)) delete (Array.prototype as unknown as Record<string, unknown>)[k];
    return { kind: "crash", where: "pollution", area: "global", error: { name: "PrototypePollution", message: `Object.prototype gained ${extra.join(", ")}`, stack: "" } };
  }
  return undefined;
}

// ---- Rego --------------------------------------------------------------------------------------

function worst(a: Outcome, b: Outcome): Outcome {
  const rank = (o: Outcome) => (o.kind === "crash" ? 2 : o.kind === "coded" ? 1 : 0);
  return rank(b) > rank(a) ? b : a;
}

/**
 * Is a RegoError the report of a fault rather than a deliberate error? eval_internal_error (an
 * unexpected exception inside a builtin or the evaluator, or the evaluator out of stack), and
 * asRegoError's wrapping of a raw exception at the API boundary ("internal error: …", "nested
 * too deeply: the JavaScript stack is exhausted") whatever the code.
 */
export function internalRegoError(e: RegoError): boolean {
  return e.errors.some((d) => d.code === "eval_internal_error" || /^internal error: |^nested too deeply: the JavaScript stack is exhausted/.test(d.message));
}

/** A RegoError reporting a fault, as a crash: named by its code and message. */
function internalCrash(step: string, e: RegoError, area: string): Outcome {
  const d = e.errors.find((x) => x.code === "eval_internal_error" || /^internal error: |^nested too deeply: the JavaScript stack is exhausted/.test(x.message)) ?? e.errors[0];
  return { kind: "crash", where: step, area, error: { name: `RegoError(${d.code})`, message: d.message, stack: `RegoError(${d.code}): ${d.message.slice(0, 300)}\n${(e.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l)).join("\n")}` } };
}

function classifyRego(step: string, e: unknown): Outcome {
  if (e instanceof RegoError) {
    if (internalRegoError(e)) return internalCrash(step, e, stackArea(e.stack ?? "") ?? "rego");
    return { kind: "coded", code: String(e.code) };
  }
  const info = errorInfo(e);
  return { kind: "crash", where: step, area: stackArea(info.stack) ?? "rego", error: info };
}

/**
 * The internal exception a builtin raised during the case, with its own stack (better than the
 * eval_internal_error it became): "internal" when the engine reported it, "masked" when nothing
 * did.
 */
function takeInternal(reported: boolean): Outcome | undefined {
  if (internal === null) return undefined;
  const { name, error } = internal;
  internal = null;
  return crash(reported ? "internal" : "masked", builtinArea(error, name), error);
}

function isCrash(o: Outcome): boolean {
  return o.kind === "crash";
}

function runRego(c: RegoCase, opts: RunOptions): Outcome {
  internal = null;
  const engine = new Engine({ regoVersion: c.regoVersion, print: () => {}, builtins: FUZZ_BUILTINS });
  let out: Outcome = { kind: "ok" };
  try {
    const mods = regoModules(c);
    if (mods.length === 1) engine.addModule("fuzz.rego", mods[0]);
    else engine.addModules(mods.map((source, i) => ({ file: `fuzz${i}.rego`, source })));
    if (c.data !== undefined) engine.addData(c.data);
    engine.compile();
  } catch (e) {
    const o = classifyRego("compile", e);
    return takeInternal(isCrash(o)) ?? o;
  }
  for (const q of c.queries) {
    let o: Outcome = { kind: "ok" };
    try {
      const r = engine.query(q, { input: c.input, timeoutMs: opts.evalTimeoutMs });
      if (r instanceof Promise) {
        r.catch(() => {});
        o = { kind: "coded", code: "async" };
      }
    } catch (e) {
      o = classifyRego("eval", e);
    }
    out = worst(out, takeInternal(isCrash(o)) ?? o);
  }
  return out;
}

// ---- Formats -----------------------------------------------------------------------------------

/** Is the parser output a valid input document? Iterative, so that deep output cannot overflow here. */
function checkDocument(v: unknown): string | undefined {
  const stack: unknown[] = [v];
  let seen = 0;
  while (stack.length) {
    const x = stack.pop();
    if (++seen > 2_000_000) return undefined;
    switch (typeof x) {
      case "string":
      case "boolean":
      case "undefined":
        continue;
      case "number":
        if (!Number.isFinite(x)) return `non-finite number in the document\n(${x})`;
        continue;
      case "bigint":
        continue;
      case "object": {
        if (x === null) continue;
        if (Array.isArray(x)) {
          for (let i = x.length - 1; i >= 0; i--) stack.push(x[i]);
          continue;
        }
        if (x instanceof Date || x instanceof Map || x instanceof Set) continue;
        const proto = Object.getPrototypeOf(x);
        if (proto !== Object.prototype && proto !== null) {
          return `object with a foreign prototype: a "__proto__" key became its prototype\n(prototype: ${proto?.constructor?.name ?? typeof proto})`;
        }
        for (const k of Object.keys(x as object)) stack.push((x as Record<string, unknown>)[k]);
        continue;
      }
      default:
        return `a ${typeof x} in the document`;
    }
  }
  return undefined;
}

function runFormat(c: FormatCase): Outcome {
  if (!getParser(c.parser)) return { kind: "coded", code: "unknown_parser" };
  const content = formatContent(c);
  let doc: unknown;
  try {
    // What `portcullis parse --parser P` and `portcullis test --parser P` run for a file's text.
    doc = parseContent(content, isAbsolute(c.path) ? c.path : join(REPO, c.path), { parser: c.parser });
  } catch (e) {
    const g = checkGlobals();
    if (g) return g;
    if (e instanceof ParseError) return { kind: "coded", code: "parse_error" };
    // The parser's own fault (what users see as "internal error in the P parser"): named by the
    // exception it wraps, a stack overflow the large-stack retry did not absorb included.
    if (e instanceof ParserFault) {
      const cause = (e as { cause?: unknown }).cause ?? e;
      return crash("parse", ownerArea(cause, c.parser, "formats/"), cause);
    }
    return crash("parse", ownerArea(e, c.parser, "formats/"), e);
  }
  const g = checkGlobals();
  if (g && g.kind === "crash") return { ...g, area: c.parser };
  const bad = checkDocument(doc);
  if (bad) return { kind: "crash", where: "document", area: c.parser, error: { name: "InvalidDocument", message: bad, stack: "" } };
  try {
    fromJS(doc); // what `portcullis test` does with every parsed document
  } catch (e) {
    return crash("fromJS", ownerArea(e, c.parser, "formats/"), e);
  }
  return { kind: "ok" };
}

// ---- Builtins ----------------------------------------------------------------------------------

let builtinEngine: Engine | undefined;

/** The Rego query text for a builtin case (and the input it reads its arguments from). */
export function builtinQuery(c: BuiltinCase): { query: string; input: Value[] } {
  const b = OPA_BUILTINS.get(c.name);
  const vals = c.args.map(decode);
  const literal = c.mode === "literal" && c.args.every((a) => encSize(a) < 400);
  const texts = vals.map((v, i) => (literal ? formatValue(v) : `input[${i}]`));
  const query = b?.relation ? `${c.name}(${[...texts, "x"].join(", ")})` : `x := ${c.name}(${texts.join(", ")})`;
  return { query, input: vals };
}

function runBuiltin(c: BuiltinCase, opts: RunOptions): Outcome {
  internal = null;
  called.clear();
  builtinEngine ??= new Engine({ print: () => {}, builtins: FUZZ_BUILTINS });
  let q: { query: string; input: Value[] };
  try {
    q = builtinQuery(c);
  } catch (e) {
    return crash("print", "rego/print", e);
  }
  let out: Outcome = { kind: "ok" };
  try {
    const r = builtinEngine.query(q.query, { input: q.input, strictBuiltinErrors: c.strict, timeoutMs: opts.evalTimeoutMs });
    if (r instanceof Promise) {
      r.catch(() => {});
      out = { kind: "coded", code: "async" };
    }
  } catch (e) {
    if (e instanceof RegoError) out = internalRegoError(e) ? internalCrash("eval", e, builtinArea(e, c.name)) : { kind: "coded", code: String(e.code) };
    else out = crash("escaped", builtinArea(e, c.name), e);
  }
  const m = takeInternal(isCrash(out));
  if (m) return m;
  if (out.kind !== "crash") out.reached = called.has(c.name);
  return out;
}

// ---- Entry -------------------------------------------------------------------------------------

export function runCase(c: FuzzCase, opts: RunOptions): Outcome {
  setupProcess();
  try {
    switch (c.target) {
      case "rego":
        return runRego(c, opts);
      case "formats":
        return runFormat(c);
      case "builtins":
        return runBuiltin(c, opts);
    }
  } catch (e) {
    // The harness itself (generation, conversion) failed: still a finding, marked as such.
    return crash("harness", "harness", e);
  }
}

/** Area of a case before it runs (for quarantine and reports). */
export function caseArea(c: FuzzCase): string {
  switch (c.target) {
    case "rego":
      if (c.recipe) return `rego:${c.recipe.gen}`;
      if (c.how.startsWith("embed ")) return `rego:embed-${c.how.slice(6).replace(/\(.*$/, "")}`;
      return "rego";
    case "formats":
      return `${c.parser}:${c.recipe ? c.recipe.gen : "mutate"}`;
    case "builtins":
      return c.name;
  }
}

/**
 * May an area be skipped after repeated hangs or slow cases? Not the plain mutation areas (that
 * would stop a whole target or format): only recipes and single builtins.
 */
export function quarantinable(area: string): boolean {
  return area !== "rego" && !area.endsWith(":mutate");
}

/** A short text reproducer of a case. */
export function reproText(c: FuzzCase): string {
  switch (c.target) {
    case "rego":
      return regoModules(c).join("\n# ---- next module ----\n");
    case "formats":
      return formatContent(c);
    case "builtins": {
      const { query } = builtinQuery(c);
      return `${query}\n# input (arguments) = ${JSON.stringify(c.args)}\n# strict builtin errors: ${c.strict}`;
    }
  }
}
