// `portcullis eval`: evaluate a query against policies and data, printing OPA's output formats.

import { readFileSync } from "node:fs";
import { Engine } from "../engine/index.ts";
import type { RawResult } from "../engine/index.ts";
import { RegoError, formatError } from "../rego/errors.ts";
import { loadPaths, parseDataFile, addLoadedFiles, LoadError, MergeError } from "../load/index.ts";
import { loadSchemas } from "../load/schemas.ts";
import type { Capabilities } from "../rego/engine.ts";
import { jsonText } from "./json.ts";
import { formatResults, jsonResults, valueJSON, table } from "../output/evalresults.ts";
import { RegoJSON } from "../output/regojson.ts";

export { formatResults };
import { formatValue } from "../rego/print.ts";
import { toJSONText, expandedSize, indentedChars, type ExpandedSize, type Value } from "../rego/value.ts";
import { DEFAULT_LIMITS } from "../rego/builtin.ts";
import { PACKAGE_VERSION } from "../package.ts";
import { BufferTracer, explainEvents, prettyTrace, eventText, type ExplainMode, type TraceEvent } from "../rego/trace.ts";
import { parseQuery, parseTerm } from "../rego/parser.ts";
import {
  EvalTimers,
  Profiler,
  applyQueryImports,
  errorsJSON,
  errorsText,
  goDuration,
  goEscape,
  IMPORT_FILE,
  parseQueryImport,
  profileJSON,
  profileLocationText,
  type ProfileStat,
} from "./evalflags.ts";

export interface EvalOptions {
  data?: string[];
  input?: string;
  format?: string;
  v0Compatible?: boolean;
  strictBuiltinErrors?: boolean;
  timeout?: string;
  /** An OPA capabilities JSON file restricting the builtins (as opa eval --capabilities). */
  capabilities?: string;
  /** opa eval --explain: off, full, notes, fails or debug. */
  explain?: string;
  /** Rego version of the modules (v0 or v1); --v0-compatible is v0. */
  regoVersion?: string;
  /** Exit 1 when the result is undefined/empty (--fail) or defined/non-empty (--fail-defined). */
  fail?: boolean;
  failDefined?: boolean;
  /** Read the input document from stdin (-I, --stdin-input). */
  stdinInput?: boolean;
  /** Query imports (--import, repeatable). */
  import?: string[];
  /** Report timers (--metrics) and the expression profile (--profile, --profile-sort, --profile-limit). */
  metrics?: boolean;
  profile?: boolean;
  profileSort?: string[];
  profileLimit?: string;
  /** Partial evaluation (--partial, --unknowns, --disable-inlining, --shallow-inlining; docs/partial.md). */
  partial?: boolean;
  unknowns?: string[];
  disableInlining?: string[];
  shallowInlining?: boolean;
  nondeterminsticBuiltins?: boolean;
  /** A JSON Schema file for the input, or a directory of schemas for annotations (-s, --schema; src/load/schemas.ts). */
  schema?: string;
}

export const EXPLAIN_MODES = ["off", "full", "notes", "fails", "debug"];

const PORTCULLIS_VERSION = PACKAGE_VERSION;

export const EVAL_FORMATS = ["json", "values", "bindings", "pretty", "raw", "source"];

/** Run eval; returns the exit code. Output goes to the given writers. */
export async function runEval(query: string, o: EvalOptions, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const format = o.format ?? "json";
  if (!EVAL_FORMATS.includes(format) || (format === "source" && !o.partial)) {
    err(`error: unknown format "${format}" (use one of: ${EVAL_FORMATS.join(", ")})\n`);
    return 1;
  }
  const explain = o.explain ?? "off";
  if (!EXPLAIN_MODES.includes(explain)) {
    err(`error: invalid argument "${explain}" for "--explain" flag: must be one of {${EXPLAIN_MODES.join(",")}}\n`);
    return 1;
  }
  const tracer = explain === "off" ? undefined : new BufferTracer();
  const flagError = checkEvalFlags(o);
  if (flagError !== null) {
    err(flagError.message);
    return flagError.code;
  }
  // --profile-sort and --profile-limit turn the profiler on; the profiler turns metrics on (as opa eval).
  const profiling = !!o.profile || (o.profileSort?.length ?? 0) > 0 || o.profileLimit !== undefined;
  const timers = o.metrics || profiling ? new EvalTimers() : null;
  const profiler = profiling ? new Profiler() : null;
  const sources = new Map<string, string>();
  let raw: RawResult[];
  let texts: { text: string; row: number; col: number }[] = [];
  try {
    const engine = new Engine({
      schemas: o.schema !== undefined ? loadSchemas(o.schema) : undefined,
      regoVersion: o.v0Compatible || o.regoVersion === "v0" ? "v0" : "v1",
      hooks: profiler?.hooks,
      strictBuiltinErrors: o.strictBuiltinErrors,
      capabilities: o.capabilities ? readCapabilities(o.capabilities) : undefined,
      // print() output goes to stderr, as opa eval's does.
      printHook: (line) => err(line + "\n"),
      // What opa.runtime() returns, in the shape opa eval gives it.
      runtime: { authorization_enabled: false, commit: "", env: { ...process.env }, skip_known_schema_check: false, version: PORTCULLIS_VERSION },
    });
    timers?.start("timer_rego_load_files_ns");
    const files = loadPaths(o.data ?? []);
    timers?.stop("timer_rego_load_files_ns");
    for (const m of files.modules) sources.set(m.file, m.source);
    if (timers) {
      // addLoadedFiles's steps, timed apart: parsing (addModules), compiling, the data.
      timers.start("timer_rego_module_parse_ns");
      engine.addModules(files.modules);
      timers.stop("timer_rego_module_parse_ns");
      timers.start("timer_rego_module_compile_ns");
      engine.compile();
      timers.stop("timer_rego_module_compile_ns");
      for (const d of files.data) engine.addData(d.value, d.path);
    } else addLoadedFiles(engine, files);
    let input: unknown;
    const inputPath = o.stdinInput ? "-" : o.input;
    if (inputPath) {
      let text: string;
      try {
        text = inputPath === "-" ? readFileSync(0, "utf8") : readFileSync(inputPath, "utf8");
      } catch (e) {
        throw new LoadError(`${inputPath}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
      }
      try {
        input = parseDataFile(inputPath === "-" ? "stdin.json" : inputPath, text);
      } catch (e) {
        // opa eval's wording for an input it cannot read.
        if (e instanceof LoadError) throw new LoadError(`unable to parse input: ${e.message}`, true);
        throw e;
      }
    }
    // No deadline unless asked for, as in opa eval.
    const timeoutMs = o.timeout ? parseTimeout(o.timeout) : undefined;
    const imports = (o.import ?? []).map((text) => {
      sources.set(IMPORT_FILE, `import ${text}`);
      return parseQueryImport(text);
    });
    const evalQuery = applyQueryImports(query, imports);
    if (o.partial) {
      // loaded on use: `eval` without --partial does not load the partial evaluator
      const { partialEval, withinStack } = await import("../rego/partial.ts");
      const { formatPartial } = await import("../output/partialresults.ts");
      const result = partialEval(engine, evalQuery, {
        unknowns: o.unknowns && o.unknowns.length > 0 ? o.unknowns : undefined,
        disableInlining: o.disableInlining,
        shallowInlining: o.shallowInlining,
        nondeterministicBuiltins: o.nondeterminsticBuiltins,
        input,
      });
      out(withinStack(() => (format === "json" ? goEscape(formatPartial(result, "json")) : formatPartial(result, format))));
      if (o.fail && result.queries.length === 0) return 1;
      if (o.failDefined && result.queries.length > 0) return 1;
      return 0;
    }
    timers?.start("timer_rego_query_parse_ns");
    parseQuery(evalQuery, { regoVersion: "v1", file: "query" });
    timers?.stop("timer_rego_query_parse_ns");
    timers?.start("timer_rego_query_compile_ns");
    const pq = engine.prepare(evalQuery);
    timers?.stop("timer_rego_query_compile_ns");
    timers?.start("timer_rego_query_eval_ns");
    try {
      raw = await pq.evalRaw({ input, timeoutMs, tracer });
    } finally {
      profiler?.finish();
      timers?.stop("timer_rego_query_eval_ns");
    }
    // Expression texts are the query's own, not the imports' rewriting of it.
    texts = evalQuery === query ? pq.expressionTexts() : queryExpressionTexts(query, pq.expressionTexts());
    // `some x` declarations are no expressions of OPA's result.
    const decls = new Set<number>();
    parseQuery(query, { regoVersion: "v1", file: "query" }).forEach((e, i) => e.node.type === "some" && decls.add(i));
    if (decls.size > 0) {
      raw = raw.map((r) => ({ ...r, expressions: r.expressions.filter((_, i) => !decls.has(i)) }));
      texts = texts.filter((_, i) => !decls.has(i));
    }
  } catch (e) {
    // opa eval exits 2 on every error (parse, compile, conflict, bad input, missing file).
    if (e instanceof RegoError) {
      const lookup = (f: string) => sources.get(f);
      if (format === "json") {
        out(errorsJSON(e, query, lookup, timers ? { metrics: Object.fromEntries(timers.sorted()) } : {}));
      } else {
        err(errorsText(e, query, lookup));
        if (timers && format === "pretty") out(metricsTable(timers));
      }
      return 2;
    }
    if (e instanceof MergeError) {
      // As opa eval prints its loader's errors.
      if (format === "json") out(jsonText({ errors: [{ message: e.message }] }) + "\n");
      else err(`1 error occurred: ${e.message}\n`);
      return 2;
    }
    if (e instanceof LoadError) {
      err(e.bare ? `${e.message}\n` : `error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const tooLarge = printedSizeError(raw);
  if (tooLarge !== null) {
    err(tooLarge);
    return 2;
  }
  try {
    if (tracer !== undefined) {
      const events = explainEvents(tracer.events, explain as ExplainMode);
      // As opa eval: the trace before the result in the pretty format, an "explanation" member in JSON.
      if (format === "pretty") {
        if (events.length > 0) out(prettyTrace(events, { locations: true }).join("\n") + "\n");
      } else if (format === "json") {
        out(withExplanation(raw, texts, events));
        return 0;
      }
    }
    if (timers && (format === "json" || format === "pretty")) {
      const stats = profiler?.report(o.profileSort ?? [], o.profileLimit !== undefined ? Number(o.profileLimit) : 10) ?? null;
      out(formatMeasured(raw, texts, format, timers, stats));
    } else out(formatResults(raw, texts, format));
  } catch (e) {
    if (e instanceof RangeError && /call stack/.test(e.message)) {
      err("error: the result nests too deeply to print\n");
      return 2;
    }
    // JavaScript's own string limit, should the estimate below ever fall short of it.
    if (e instanceof RangeError && /Invalid string length/.test(e.message)) {
      err(`error: the result is too large to print: its text exceeds JavaScript's string length limit\n`);
      return 2;
    }
    throw e;
  }
  return failExit(o, raw);
}

/**
 * The largest result `eval` prints: the evaluation's size limit (128 MiB), as characters of
 * indented JSON. Results share structure that printing expands (`walk` of 231 nested sets is a
 * few kilobytes evaluated and 1.5 GB printed; OPA prints it in 23 s), so the printed size is
 * estimated from the values (value.ts, expandedSize) before anything is written. OPA has no such
 * limit: its nearest behaviour is running out of memory, a fatal error with exit status 2, the
 * status of every failed `eval`.
 */
const MAX_PRINTED_CHARS = DEFAULT_LIMITS.maxResultBytes;

/** The error for a result too large to print, or null. */
function printedSizeError(raw: RawResult[]): string | null {
  const memo = new Map<object, ExpandedSize>();
  let chars = 0;
  for (const r of raw) {
    // Values sit five levels deep in the JSON output ({"result": [{"expressions": [{"value": …).
    for (const v of r.expressions) chars += indentedChars(expandedSize(v, memo), 2, 5);
    for (const v of r.bindings.values()) chars += indentedChars(expandedSize(v, memo), 2, 4);
    if (chars > MAX_PRINTED_CHARS) {
      return `error: the result is too large to print: about ${chars} characters of JSON, more than the limit of ${MAX_PRINTED_CHARS} (see docs/LIMITS.md)\n`;
    }
  }
  return null;
}

// ---- The pipeline flags (--fail, --fail-defined, --partial, --metrics, --profile) -----------------

/** Flag combinations opa eval refuses, with its words; null when the flags are usable. */
function checkEvalFlags(o: EvalOptions): { message: string; code: number } | null {
  if (o.fail && o.failDefined) return { message: "Error: specify --fail or --fail-defined but not both\n", code: 1 };
  if (o.stdinInput && o.input) return { message: "Error: specify --stdin-input or --input but not both\n", code: 1 };
  if (o.regoVersion !== undefined && o.regoVersion !== "v0" && o.regoVersion !== "v1") {
    return { message: `error: invalid --rego-version "${o.regoVersion}" (use v0 or v1)\n`, code: 1 };
  }
  if (o.profileLimit !== undefined && !/^-?\d+$/.test(o.profileLimit)) {
    return { message: `Error: invalid argument "${o.profileLimit}" for "--profile-limit" flag: strconv.ParseInt: parsing "${o.profileLimit}": invalid syntax\n`, code: 1 };
  }
  if (o.partial) {
    if (!["json", "pretty", "source"].includes(o.format ?? "json")) return { message: "Error: invalid output format for partial evaluation\n", code: 1 };
    for (const u of o.unknowns ?? []) {
      if (!isRefText(u)) return { message: "Error: illegal argument with --unknowns, specify string with one or more --unknowns\n", code: 1 };
    }
    if (o.explain !== undefined && o.explain !== "off") return { message: "error: --explain with --partial is not supported by portcullis eval\n", code: 2 };
    if (o.metrics || o.profile) return { message: "error: --metrics and --profile with --partial are not supported by portcullis eval\n", code: 2 };
  }
  return null;
}

/** An --unknowns value OPA accepts: a var or a ref (`input`, `input.user`, `data.acl`). */
function isRefText(u: string): boolean {
  try {
    const t = parseTerm(u);
    return t.type === "var" || (t.type === "ref" && t.terms[0].type === "var");
  } catch {
    return false;
  }
}

/** --fail: exit 1 on an undefined or empty result; --fail-defined: exit 1 on a defined one. */
function failExit(o: EvalOptions, raw: RawResult[]): number {
  if (o.fail && raw.length === 0) return 1;
  if (o.failDefined && raw.length > 0) return 1;
  return 0;
}

/**
 * The JSON result with an "explanation" array. OPA's events carry AST nodes; here each node is
 * its text (as the pretty trace prints it), with OPA's other member names.
 */
function withExplanation(raw: RawResult[], texts: { text: string; row: number; col: number }[], events: TraceEvent[]): string {
  const doc: Record<string, unknown> = {};
  if (raw.length > 0) doc.result = jsonResults(raw, texts);
  doc.explanation = events.map((e) => ({
    Op: e.op,
    Node: e.op === "Note" ? null : eventText(e).slice(e.op.length + 1),
    Location: { file: e.location.file === "query" ? "" : e.location.file, row: e.location.row, col: e.location.col },
    QueryID: e.queryId,
    ParentID: e.parentId,
    Locals: e.bindings === null ? null : e.bindings.map(([name, v]) => ({ name, value: new RegoJSON(v) })),
    Message: e.message,
  }));
  return goEscape(jsonText(doc)) + "\n";
}

/** The expression texts of the query as given, in the positions of the rewritten query's expressions. */
function queryExpressionTexts(query: string, rewritten: { text: string; row: number; col: number }[]): { text: string; row: number; col: number }[] {
  const body = parseQuery(query, { regoVersion: "v1", file: "query" });
  const lines = query.split("\n");
  const offset = (row: number, col: number) => {
    let n = 0;
    for (let r = 1; r < row; r++) n += lines[r - 1].length + 1;
    return n + col - 1;
  };
  return rewritten.map((t, i) => {
    const e = body[i];
    if (!e) return t;
    const start = offset(e.loc.row, e.loc.col);
    const end = i + 1 < body.length ? offset(body[i + 1].loc.row, body[i + 1].loc.col) : query.length;
    return { text: query.slice(start, end).replace(/[\s;]+$/, ""), row: e.loc.row, col: e.loc.col };
  });
}

/** The metrics table opa eval prints after a pretty result. */
function metricsTable(timers: EvalTimers): string {
  return table(
    ["Metric", "Value"],
    timers.sorted().map(([k, v]) => [k, String(v)]),
  );
}

/** Results with --metrics/--profile: JSON members after `result`, or tables after the pretty result. */
function formatMeasured(raw: RawResult[], texts: { text: string; row: number; col: number }[], format: string, timers: EvalTimers, stats: ProfileStat[] | null): string {
  const queryTexts = new Map(texts.map((t) => [`${t.row}:${t.col}`, t.text]));
  if (format === "json") {
    const plain = formatResults(raw, texts, "json");
    const body = raw.length === 0 ? "{\n" : plain.replace(/\n}\n$/, ",\n");
    const extra: string[] = [];
    extra.push(`  "metrics": ${indentJSON(jsonText(Object.fromEntries(timers.sorted())))}`);
    if (stats !== null) extra.push(`  "profile": ${indentJSON(goEscape(jsonText(profileJSON(stats))))}`);
    return body + extra.join(",\n") + "\n}\n";
  }
  let s = formatResults(raw, texts, "pretty") + metricsTable(timers);
  if (stats !== null && stats.length > 0) {
    s += table(
      ["Time", "Num Eval", "Num Redo", "Num Gen Expr", "Location"],
      stats.map((x) => [goDuration(x.totalTimeNs), String(x.numEval), String(x.numRedo), String(x.numGenExpr), profileLocationText(x, queryTexts)]),
    );
  }
  return s;
}

/** A JSON text indented one level further (to sit as a member of the top-level object). */
function indentJSON(json: string): string {
  return json.replace(/\n/g, "\n  ");
}

/** Read an OPA capabilities JSON file (opa eval --capabilities). */
function readCapabilities(file: string): Capabilities {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new LoadError(`${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
  }
  try {
    const caps = JSON.parse(text) as Capabilities;
    if (caps === null || typeof caps !== "object" || (caps.builtins !== undefined && !Array.isArray(caps.builtins))) throw new Error("not a capabilities document");
    return caps;
  } catch (e) {
    throw new LoadError(`${file}: invalid capabilities file: ${(e as Error).message}`);
  }
}


function parseTimeout(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s);
  if (!m) throw new LoadError(`invalid --timeout ${s} (use e.g. 500ms, 10s, 1m)`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60000 : n * 1000;
}

export { formatError };
