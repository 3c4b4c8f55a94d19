// opa eval's error reports (JSON and text) and Go's JSON escaping, shared by `portcullis eval`
// (src/cli/eval.ts) and the browser playground (src/playground/).

import { RegoError, type ErrorDetail } from "../rego/errors.ts";
import { RULE_SHAPE_ERROR, parserErrorDetail } from "../builtins/support/parsedetail.ts";
import { jsonText } from "./regojson.ts";

/** The file name of `--import` texts in error locations (printed without a file name). */
export const IMPORT_FILE = "\u0000import";

// ---- Errors --------------------------------------------------------------------------------------

/** Go's JSON escaping of <, > and & (and U+2028/9) inside strings, as OPA's output has it. */
export function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** Sources of the query and the loaded modules, for the source lines of parse errors. */
export type SourceLookup = (file: string) => string | undefined;

/**
 * The text of the term at a query location (OPA names eval errors in a query by the text of the
 * failing call or reference): from there, a ref or call with balanced brackets.
 */
function termTextAt(query: string, row: number, col: number): string | undefined {
  const lines = query.split("\n");
  if (row < 1 || row > lines.length) return undefined;
  let i = 0;
  for (let r = 1; r < row; r++) i += lines[r - 1].length + 1;
  i += col - 1;
  const start = i;
  let depth = 0;
  let quote: string | null = null;
  for (; i < query.length; i++) {
    const c = query[i];
    if (quote !== null) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "`") quote = c;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && !/[A-Za-z0-9_.]/.test(c)) break;
  }
  const text = query.slice(start, i);
  return text === "" ? undefined : text;
}

interface ReportedError {
  message: string;
  code?: string;
  location?: { file: string; row: number; col: number };
  details?: { line: string; idx: number };
  /** What a location without a file prints as (OPA: the expression's text for eval errors). */
  where?: string;
}

function reported(e: ErrorDetail, query: string, sources: SourceLookup): ReportedError {
  const out: ReportedError = { message: e.message, code: e.code };
  if (!e.location) return out;
  const inQuery = e.location.file === "query";
  const unnamed = inQuery || e.location.file === IMPORT_FILE;
  out.location = { file: unnamed ? "" : e.location.file, row: e.location.row, col: e.location.col };
  if (unnamed) {
    // Compile and parse errors print row:col; evaluation errors the text at the location.
    out.where = e.code?.startsWith("eval_") ? (termTextAt(query, e.location.row, e.location.col) ?? `${e.location.row}:${e.location.col}`) : `${e.location.row}:${e.location.col}`;
  }
  // A statement's shape error has no source line in OPA's report.
  if (e.code === "rego_parse_error" && e.location.row > 0 && !RULE_SHAPE_ERROR.test(e.message)) {
    const source = inQuery ? query : sources(e.location.file);
    if (source !== undefined) out.details = parserErrorDetail(source, e.location.row, e.location.col);
  }
  return out;
}

/** Type errors whose lines after the first are OPA's details (not part of the message in JSON). */
const DETAILED = /^(\S+: invalid argument\(s\)|\S+: arity mismatch|match error|undefined ref: )/;

/** opa eval's JSON error report (`{"errors": [...]}`), with extra top-level members (metrics). */
export function errorsJSON(e: RegoError, query: string, sources: SourceLookup, extra: Record<string, unknown> = {}): string {
  const errors = e.errors.map((x) => {
    const r = reported(x, query, sources);
    // A type error's detail lines are OPA's `details` object in JSON.
    const o: Record<string, unknown> = { message: x.details !== undefined || DETAILED.test(r.message) ? r.message.split("\n")[0] : r.message };
    if (r.code) o.code = r.code;
    if (r.location) o.location = r.location;
    if (r.details) o.details = r.details;
    else if (x.details !== undefined) o.details = x.details;
    return o;
  });
  return goEscape(jsonText({ errors, ...extra })) + "\n";
}

/** opa eval's text error report: `N error(s) occurred: where: code: message` and source lines. */
export function errorsText(e: RegoError, query: string, sources: SourceLookup): string {
  const lines = e.errors.map((x) => {
    const r = reported(x, query, sources);
    const where = r.location ? (r.where ?? `${r.location.file}:${r.location.row}`) + ": " : "";
    let s = `${where}${r.code ? r.code + ": " : ""}${r.message}`;
    if (r.details) {
      const trimmed = r.details.line.replace(/^\t+/, "");
      const idx = Math.max(0, r.details.idx - (r.details.line.length - trimmed.length));
      s += `\n\t${trimmed}\n\t${" ".repeat(idx)}^`;
    }
    return s;
  });
  if (lines.length === 1) return `1 error occurred: ${lines[0]}\n`;
  return `${lines.length} errors occurred:\n${lines.join("\n")}\n`;
}
