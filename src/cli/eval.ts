// `portcullis eval`: evaluate a query against policies and data, printing OPA's output formats.

import { readFileSync } from "node:fs";
import { Engine } from "../engine/index.ts";
import type { RawResult } from "../engine/index.ts";
import { RegoError, formatError } from "../rego/errors.ts";
import { loadPaths, parseDataFile, addLoadedFiles, LoadError, MergeError } from "../load/index.ts";
import type { Capabilities } from "../rego/engine.ts";
import { RegoJSON, jsonText } from "./json.ts";
import { formatValue } from "../rego/print.ts";
import { toJSONText, type Value } from "../rego/value.ts";
import { PACKAGE_VERSION } from "../package.ts";
import { BufferTracer, explainEvents, prettyTrace, eventText, type ExplainMode, type TraceEvent } from "../rego/trace.ts";

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
}

export const EXPLAIN_MODES = ["off", "full", "notes", "fails", "debug"];

const PORTCULLIS_VERSION = PACKAGE_VERSION;

export const EVAL_FORMATS = ["json", "values", "bindings", "pretty", "raw"];

/** Run eval; returns the exit code. Output goes to the given writers. */
export async function runEval(query: string, o: EvalOptions, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const format = o.format ?? "json";
  if (!EVAL_FORMATS.includes(format)) {
    err(`error: unknown format "${format}" (use one of: ${EVAL_FORMATS.join(", ")})\n`);
    return 1;
  }
  const explain = o.explain ?? "off";
  if (!EXPLAIN_MODES.includes(explain)) {
    err(`error: invalid argument "${explain}" for "--explain" flag: must be one of {${EXPLAIN_MODES.join(",")}}\n`);
    return 1;
  }
  const tracer = explain === "off" ? undefined : new BufferTracer();
  let raw: RawResult[];
  let texts: { text: string; row: number; col: number }[] = [];
  try {
    const engine = new Engine({
      regoVersion: o.v0Compatible ? "v0" : "v1",
      strictBuiltinErrors: o.strictBuiltinErrors,
      capabilities: o.capabilities ? readCapabilities(o.capabilities) : undefined,
      // print() output goes to stderr, as opa eval's does.
      printHook: (line) => err(line + "\n"),
      // What opa.runtime() returns, in the shape opa eval gives it.
      runtime: { authorization_enabled: false, commit: "", env: { ...process.env }, skip_known_schema_check: false, version: PORTCULLIS_VERSION },
    });
    addLoadedFiles(engine, loadPaths(o.data ?? []));
    let input: unknown;
    if (o.input) {
      let text: string;
      try {
        text = o.input === "-" ? readFileSync(0, "utf8") : readFileSync(o.input, "utf8");
      } catch (e) {
        throw new LoadError(`${o.input}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
      }
      try {
        input = parseDataFile(o.input === "-" ? "stdin.json" : o.input, text);
      } catch (e) {
        // opa eval's wording for an input it cannot read.
        if (e instanceof LoadError) throw new LoadError(`unable to parse input: ${e.message}`, true);
        throw e;
      }
    }
    // No deadline unless asked for, as in opa eval.
    const timeoutMs = o.timeout ? parseTimeout(o.timeout) : undefined;
    const pq = engine.prepare(query);
    raw = await pq.evalRaw({ input, timeoutMs, tracer });
    texts = pq.expressionTexts();
  } catch (e) {
    // opa eval exits 2 on every error (parse, compile, conflict, bad input, missing file).
    if (e instanceof RegoError) {
      if (format === "json") {
        out(jsonText({ errors: e.errors.map((x) => ({ message: x.message, code: x.code, location: x.location })) }) + "\n");
      } else {
        err(e.message + "\n");
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
    out(formatResults(raw, texts, format));
  } catch (e) {
    if (e instanceof RangeError && /call stack/.test(e.message)) {
      err("error: the result nests too deeply to print\n");
      return 2;
    }
    throw e;
  }
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

/** Go's JSON encoder escapes <, > and & (and U+2028/9) inside strings; OPA's output has them so. */
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** JSON text of a value as OPA prints it (Go's escaping). */
function valueJSON(v: Value, indent = ""): string {
  return goEscape(toJSONText(v, indent));
}

function parseTimeout(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s);
  if (!m) throw new LoadError(`invalid --timeout ${s} (use e.g. 500ms, 10s, 1m)`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60000 : n * 1000;
}

function jsonResults(raw: RawResult[], texts: { text: string; row: number; col: number }[]): unknown[] {
  return raw.map((r) => {
    const o: Record<string, unknown> = {
      expressions: r.expressions.map((v, i) => ({
        value: new RegoJSON(v),
        text: texts[i]?.text ?? "",
        location: { row: texts[i]?.row ?? 1, col: texts[i]?.col ?? 1 },
      })),
    };
    if (r.bindings.size > 0) o.bindings = Object.fromEntries([...r.bindings].map(([k, v]) => [k, new RegoJSON(v)]));
    return o;
  });
}

export function formatResults(raw: RawResult[], texts: { text: string; row: number; col: number }[], format: string): string {
  switch (format) {
    case "json": {
      if (raw.length === 0) return "{}\n";
      return goEscape(jsonText({ result: jsonResults(raw, texts) })) + "\n";
    }
    case "values":
      return raw.map((r) => goEscape(jsonText(r.expressions.map((v) => new RegoJSON(v)))) + "\n").join("");
    case "bindings":
      return raw.map((r) => goEscape(jsonText(Object.fromEntries([...r.bindings].map(([k, v]) => [k, new RegoJSON(v)])))) + "\n").join("");
    case "raw":
      return raw.map((r) => r.expressions.map(rawText).join(" ") + "\n").join("");
    case "pretty": {
      if (raw.length === 0) return "undefined\n";
      const withBindings = raw.some((r) => r.bindings.size > 0);
      if (!withBindings) {
        return raw.map((r) => r.expressions.map((v) => valueJSON(v, "  ")).join("\n")).join("\n") + "\n";
      }
      const names = Array.from(raw[0].bindings.keys());
      const rows = raw.map((r) => names.map((n) => (r.bindings.has(n) ? valueJSON(r.bindings.get(n)!) : "")));
      return table(names, rows);
    }
  }
  return "";
}

function rawText(v: Value): string {
  return typeof v === "string" ? v : typeof v === "object" && v !== null ? valueJSON(v) : formatValue(v);
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (l: string, m: string, r: string) => l + widths.map((w) => "─".repeat(w + 2)).join(m) + r;
  const center = (s: string, w: number) => {
    const left = Math.floor((w - s.length) / 2);
    return " ".repeat(left) + s + " ".repeat(w - s.length - left);
  };
  const out = [line("┌", "┬", "┐"), "│" + head.map((h, i) => " " + center(h, widths[i]) + " ").join("│") + "│", line("├", "┼", "┤")];
  for (const r of rows) out.push("│" + r.map((c, i) => " " + c.padEnd(widths[i]) + " ").join("│") + "│");
  out.push(line("└", "┴", "┘"));
  return out.join("\n") + "\n";
}

export { formatError };
