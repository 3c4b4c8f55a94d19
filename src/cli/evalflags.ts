// The `opa eval` flags pipelines use beyond loading and printing (src/cli/eval.ts): query imports
// (--import), metrics timers (--metrics), the expression profiler (--profile, --profile-sort,
// --profile-limit); OPA's error report for eval is in src/output/evalerrors.ts.

import type { EvalHooks } from "../rego/eval.ts";
import type { Location } from "../rego/ast.ts";
import { RegoError } from "../rego/errors.ts";
import { lex, T_ASSIGN, T_COMMA, T_DOT, T_IDENT, T_SEMI } from "../rego/lexer.ts";
import { parseTerm } from "../rego/parser.ts";

// ---- --import ------------------------------------------------------------------------------------

/** An import given with --import: its path text and the name it binds (none for future.* / rego.v1). */
export interface QueryImport {
  path: string;
  alias: string | null;
}

const IMPORT_ROOTS = new Set(["data", "input", "future", "rego"]);

/** The file name of errors in an --import value (shown without a file, as OPA shows them). */
export { IMPORT_FILE } from "../output/evalerrors.ts";
import { IMPORT_FILE } from "../output/evalerrors.ts";

/** Parse one --import value (`data.x.y`, `input.a as b`, `future.keywords.in`, `rego.v1`). */
export function parseQueryImport(text: string): QueryImport {
  const m = /^\s*(.*?)(?:\s+as\s+([A-Za-z_][A-Za-z0-9_]*))?\s*$/.exec(text)!;
  const pathText = m[1];
  // Where OPA's message points: after `import ` in the statement it parses.
  const at = { file: IMPORT_FILE, row: 1, col: 8 };
  let head: string;
  try {
    const t = parseTerm(pathText);
    head = t.type === "var" ? t.name : t.type === "ref" && t.terms[0].type === "var" ? t.terms[0].name : "";
    if (head === "") throw RegoError.single("rego_parse_error", "unexpected import path", at);
  } catch (e) {
    if (e instanceof RegoError) {
      throw RegoError.single("rego_parse_error", `invalid import ${JSON.stringify(text)}: ${e.errors[0].message}`, at);
    }
    throw e;
  }
  if (!IMPORT_ROOTS.has(head)) {
    throw RegoError.single("rego_parse_error", `unexpected import path, must begin with one of: {data, future, input, rego}, got: ${head} (hint: if this is unexpected, try updating OPA)`, at);
  }
  if (head === "future" || head === "rego") {
    if (m[2] !== undefined) throw RegoError.single("rego_parse_error", `${head} imports cannot be aliased`, at);
    return { path: pathText.trim(), alias: null };
  }
  let alias: string | null = m[2] ?? null;
  if (alias === null) {
    // The last element of the path names it (`data.x.y` → y, `data.x["y"]` → y).
    const last = /(?:^|\.)([A-Za-z_][A-Za-z0-9_]*)\s*$|\[\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\]\s*$/.exec(pathText);
    alias = last ? (last[1] ?? last[2]) : null;
    // `import data` / `import input` bind nothing new.
    if (alias === head) alias = null;
  }
  return { path: pathText.trim(), alias };
}

/**
 * The query with every use of an import's name replaced by the import's path, as OPA resolves
 * query imports.
 * A name the query declares itself (`x := …`, `some x`, `every x`) is left alone, as in OPA.
 */
export function applyQueryImports(query: string, imports: QueryImport[]): string {
  const byAlias = new Map<string, string>();
  for (const im of imports) if (im.alias !== null) byAlias.set(im.alias, im.path);
  if (byAlias.size === 0) return query;
  const { tokens } = lex(query);
  const declared = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === T_ASSIGN && i > 0 && tokens[i - 1].kind === T_IDENT) declared.add(tokens[i - 1].text);
    if (t.kind === T_IDENT && (t.text === "some" || t.text === "every")) {
      for (let j = i + 1; j < tokens.length; j++) {
        const u = tokens[j];
        if (u.kind === T_IDENT && u.text === "in") break;
        if (u.kind === T_SEMI || (j > i + 1 && u.nl)) break;
        if (u.kind === T_IDENT) declared.add(u.text);
        else if (u.kind !== T_COMMA) break;
      }
    }
  }
  let out = "";
  let pos = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== T_IDENT || !byAlias.has(t.text) || declared.has(t.text)) continue;
    // `x.name` is a field, not a variable.
    if (i > 0 && tokens[i - 1].kind === T_DOT && tokens[i - 1].end === t.start) continue;
    out += query.slice(pos, t.start) + byAlias.get(t.text)!;
    pos = t.end;
  }
  return out + query.slice(pos);
}

// ---- --metrics -----------------------------------------------------------------------------------

/** OPA's eval timers (nanoseconds), named as opa eval names them. */
export class EvalTimers {
  readonly values = new Map<string, number>();
  private started = new Map<string, bigint>();
  start(name: string): void {
    this.started.set(name, process.hrtime.bigint());
  }
  stop(name: string): void {
    const s = this.started.get(name);
    if (s === undefined) return;
    this.values.set(name, (this.values.get(name) ?? 0) + Number(process.hrtime.bigint() - s));
    this.started.delete(name);
  }
  /** The timers in key order, as OPA's JSON has them. */
  sorted(): [string, number][] {
    return [...this.values].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

// ---- --profile -----------------------------------------------------------------------------------

export interface ProfileStat {
  totalTimeNs: number;
  numEval: number;
  numRedo: number;
  numGenExpr: number;
  location: Location;
}

/**
 * OPA's expression profiler: every Eval and Redo event of an expression starts a timer that the
 * next event stops; time and counts are summed per source line (file and row); the distinct
 * expressions seen on a line are its "generated expressions".
 */
export class Profiler {
  private stats = new Map<string, ProfileStat & { cols: Set<number> }>();
  private prev: { loc: Location; redo: boolean } | null = null;
  private since = 0n;
  readonly hooks: EvalHooks = {
    expr: (loc) => this.event(loc, false),
    redo: (loc) => this.event(loc, true),
  };

  private event(loc: Location, redo: boolean): void {
    const now = process.hrtime.bigint();
    this.record(now);
    this.prev = { loc, redo };
    this.since = now;
  }

  private record(now: bigint): void {
    if (this.prev === null) return;
    const { loc, redo } = this.prev;
    const key = `${loc.file}\u0000${loc.row}`;
    let s = this.stats.get(key);
    if (!s) this.stats.set(key, (s = { totalTimeNs: 0, numEval: 0, numRedo: 0, numGenExpr: 0, location: loc, cols: new Set() }));
    s.totalTimeNs += Number(now - this.since);
    if (redo) s.numRedo++;
    else s.numEval++;
    s.cols.add(loc.col);
  }

  /** Close the last expression's timer (at the end of evaluation). */
  finish(): void {
    this.record(process.hrtime.bigint());
    this.prev = null;
  }

  /** The top `limit` lines (all when limit <= 0) by the sort criteria, as opa eval reports them. */
  report(criteria: string[], limit: number): ProfileStat[] {
    const all = [...this.stats.values()].map(({ cols, ...s }) => ({ ...s, numGenExpr: cols.size }));
    const order = profileSortOrder(criteria);
    const less: Record<string, (a: ProfileStat, b: ProfileStat) => boolean> = {
      total_time_ns: (a, b) => a.totalTimeNs > b.totalTimeNs,
      num_eval: (a, b) => a.numEval > b.numEval,
      num_redo: (a, b) => a.numRedo > b.numRedo,
      num_gen_expr: (a, b) => a.numGenExpr > b.numGenExpr,
      file: (a, b) => a.location.file > b.location.file,
      line: (a, b) => a.location.row > b.location.row,
    };
    const fns = order.filter((c) => c in less).map((c) => less[c]);
    all.sort((a, b) => {
      for (const f of fns) {
        if (f(a, b)) return -1;
        if (f(b, a)) return 1;
      }
      return 0;
    });
    return limit <= 0 || limit > all.length ? all : all.slice(0, limit);
  }
}

const DEFAULT_PROFILE_SORT = ["total_time_ns", "num_eval", "num_redo", "file", "line"];

/** opa eval's sort order: the given criteria (comma-separated values allowed), then the defaults not named. */
export function profileSortOrder(given: string[]): string[] {
  const named = given.flatMap((g) => g.split(","));
  if (named.length === 0) return DEFAULT_PROFILE_SORT;
  return [...named, ...DEFAULT_PROFILE_SORT.filter((c) => !named.includes(c))];
}

/** Go's time.Duration.String() for a count of nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  const n = Math.abs(Math.round(ns));
  let s: string;
  const frac = (v: number, digits: number) => {
    const whole = Math.floor(v / 10 ** digits);
    const rest = String(v % 10 ** digits).padStart(digits, "0").replace(/0+$/, "");
    return rest ? `${whole}.${rest}` : String(whole);
  };
  if (n < 1e3) s = `${n}ns`;
  else if (n < 1e6) s = `${frac(n, 3)}µs`;
  else if (n < 1e9) s = `${frac(n, 6)}ms`;
  else {
    const totalSec = Math.floor(n / 1e9);
    const h = Math.floor(totalSec / 3600);
    const m = Math.floor((totalSec % 3600) / 60);
    const secNs = n - (h * 3600 + m * 60) * 1e9;
    const sec = `${frac(secNs, 9)}s`;
    s = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? "-" + s : s;
}

/** A profile line's location as OPA prints it: `file:row`, or the query expression's text. */
export function profileLocationText(s: ProfileStat, queryTexts: Map<string, string>): string {
  if (s.location.file === "query") return queryTexts.get(`${s.location.row}:${s.location.col}`) ?? `${s.location.row}:${s.location.col}`;
  return `${s.location.file}:${s.location.row}`;
}

/** The profile in opa eval's JSON shape. */
export function profileJSON(stats: ProfileStat[]): unknown[] {
  return stats.map((s) => ({
    total_time_ns: s.totalTimeNs,
    num_eval: s.numEval,
    num_redo: s.numRedo,
    num_gen_expr: s.numGenExpr,
    location: { file: s.location.file === "query" ? "" : s.location.file, row: s.location.row, col: s.location.col },
  }));
}

export { goEscape, errorsJSON, errorsText, type SourceLookup } from "../output/evalerrors.ts";
