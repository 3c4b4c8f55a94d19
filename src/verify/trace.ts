// An evaluation trace for failed tests (`-v` FAILURES section, conftest's --trace and --report),
// built from the engine's evaluation hooks. It follows the shape of OPA's traces (Enter, Eval,
// Fail, Exit with `|` nesting) but shows expressions as written in the source, where OPA shows
// its rewritten forms; it is an explanation, not a byte-for-byte copy.

import type { Location, Module, Rule, Body } from "../rego/ast.ts";
import type { EvalHooks } from "../rego/eval.ts";
import { SourceIndex } from "./extent.ts";
import { packagePath } from "./discover.ts";

export interface TraceEvent {
  op: "Enter" | "Eval" | "Fail" | "Exit";
  loc: Location;
  depth: number;
}

export class TraceCollector implements EvalHooks {
  enabled = false;
  events: TraceEvent[] = [];
  private depth = 1;

  start(): void {
    this.events = [];
    this.depth = 1;
    this.enabled = true;
  }

  stop(): TraceEvent[] {
    this.enabled = false;
    return this.events;
  }

  expr(loc: Location): void {
    if (this.enabled && loc.file !== "query") this.events.push({ op: "Eval", loc, depth: this.depth });
  }

  fail(loc: Location): void {
    if (this.enabled && loc.file !== "query") this.events.push({ op: "Fail", loc, depth: this.depth });
  }

  enter(loc: Location): void {
    if (!this.enabled) return;
    this.events.push({ op: "Enter", loc, depth: this.depth });
    this.depth++;
  }

  leave(loc: Location, produced: boolean): void {
    if (!this.enabled) return;
    this.depth--;
    this.events.push({ op: produced ? "Exit" : "Fail", loc, depth: this.depth });
  }
}

interface RuleInfo {
  path: string;
  /** Locations of the rule's own (top-level) body expressions. */
  top: Set<string>;
}

const key = (l: Location) => `${l.file}:${l.row}:${l.col}`;

/** Names and texts for trace lines: rule paths by location, expression source text. */
export class TraceText {
  private rules = new Map<string, RuleInfo>();
  private sources = new Map<string, SourceIndex>();
  private texts: Map<string, string>;

  constructor(modules: Module[], sources: Map<string, string>, skip: Set<Rule> = new Set()) {
    this.texts = sources;
    for (const m of modules) {
      const pkg = packagePath(m);
      for (const r of m.rules) {
        if (skip.has(r)) continue;
        const path = rulePath(pkg, r);
        const add = (loc: Location, body: Body) => this.rules.set(key(loc), { path, top: new Set(body.map((e) => key(e.loc))) });
        add(r.loc, r.body);
        for (const e of r.elses) add(e.loc, e.body);
      }
    }
  }

  rule(loc: Location): RuleInfo | undefined {
    return this.rules.get(key(loc));
  }

  /** The source text of the expression at loc, on one line. */
  exprText(loc: Location): string {
    let idx = this.sources.get(loc.file);
    const src = this.texts.get(loc.file) ?? "";
    if (!idx) this.sources.set(loc.file, (idx = new SourceIndex(src)));
    const r = idx.exprRange(loc.row, loc.col);
    if (!r) return "";
    const lines = src.split("\n");
    const cps = (s: string) => [...s];
    let text: string;
    if (r.start.row === r.end.row) text = cps(lines[r.start.row - 1] ?? "").slice(r.start.col - 1, r.end.col - 1).join("");
    else {
      const parts = [cps(lines[r.start.row - 1] ?? "").slice(r.start.col - 1).join("")];
      for (let row = r.start.row + 1; row < r.end.row; row++) parts.push(lines[row - 1] ?? "");
      parts.push(cps(lines[r.end.row - 1] ?? "").slice(0, r.end.col - 1).join(""));
      text = parts.join("\n");
    }
    return text.replace(/\s*\n\s*/g, " ");
  }
}

function rulePath(pkg: string[], r: Rule): string {
  let s = ["data", ...pkg].join(".");
  for (const t of r.head.ref) {
    if (t.type === "var" && t === r.head.ref[0]) {
      s += "." + t.name;
      continue;
    }
    if (t.type !== "string") break;
    s += /^[A-Za-z_][A-Za-z0-9_]*$/.test(t.value) ? "." + t.value : `[${JSON.stringify(t.value)}]`;
  }
  return s;
}

export interface TraceLine {
  loc: string;
  depth: number;
  text: string;
}

/** The trace of one test query, in full (conftest --trace, --report full). */
export function fullTrace(events: TraceEvent[], query: string, defined: boolean, tt: TraceText): TraceLine[] {
  const out: TraceLine[] = [{ loc: "query:1", depth: 0, text: `Enter ${query} = _` }];
  for (const ev of events) {
    const where = `${ev.loc.file}:${ev.loc.row}`;
    const info = tt.rule(ev.loc);
    if (ev.op !== "Eval" && info) {
      out.push({ loc: where, depth: ev.depth, text: `${ev.op} ${info.path}` });
      continue;
    }
    out.push({ loc: where, depth: ev.depth, text: `${ev.op} ${tt.exprText(ev.loc)}` });
  }
  out.push({ loc: "query:1", depth: 1, text: `${defined ? "Exit" : "Fail"} ${query} = _` });
  return out;
}

/**
 * The failure path (opa test's default explanation): entering the test, the rules it called that
 * produced nothing (with their failed expressions), the failed expressions of the test's own
 * body, and the query's failure.
 */
export function failTrace(events: TraceEvent[], query: string, testLoc: Location, defined: boolean, tt: TraceText): TraceLine[] {
  const out: TraceLine[] = [{ loc: "query:1", depth: 0, text: `Enter ${query} = _` }];
  // One frame per rule invocation: its lines are kept when it produced nothing.
  const frames: { top: Set<string>; lines: TraceLine[] }[] = [];
  let testFrame: TraceLine[] | null = null;
  for (const ev of events) {
    const where = `${ev.loc.file}:${ev.loc.row}`;
    if (ev.op === "Enter") {
      const info = tt.rule(ev.loc);
      frames.push({ top: info?.top ?? new Set(), lines: [{ loc: where, depth: ev.depth, text: `Enter ${info?.path ?? ""}` }] });
      continue;
    }
    const f = frames[frames.length - 1];
    if (!f) continue;
    if (ev.op === "Fail" && f.top.has(key(ev.loc))) {
      f.lines.push({ loc: where, depth: ev.depth, text: `Fail ${tt.exprText(ev.loc)}` });
      continue;
    }
    if ((ev.op === "Exit" || ev.op === "Fail") && tt.rule(ev.loc)) {
      frames.pop();
      const parent = frames[frames.length - 1];
      if (!parent) {
        if (key(ev.loc) === key(testLoc) && testFrame === null) testFrame = f.lines;
      } else if (ev.op === "Fail") parent.lines.push(...f.lines);
    }
  }
  if (testFrame) out.push(...testFrame);
  if (!defined) out.push({ loc: "query:1", depth: 1, text: `Fail ${query} = _` });
  // A test that was defined (but not true) and where nothing failed has nothing to explain.
  if (defined && !out.some((l) => l.text.startsWith("Fail "))) return [];
  return out;
}

/** The last failing expression of the test's own body (conftest's report shows it). */
export function failureLine(events: TraceEvent[], testLoc: Location, tt: TraceText): { loc: Location; text: string } | null {
  const info = tt.rule(testLoc);
  if (!info) return null;
  for (let i = events.length - 1; i >= 0; i--) {
    const ev = events[i];
    if (ev.op === "Fail" && ev.depth === 2 && info.top.has(key(ev.loc))) return { loc: ev.loc, text: tt.exprText(ev.loc) };
  }
  return null;
}

/** Lines as opa prints them: location column, `| ` per depth, text, two trailing spaces. */
export function formatTraceLines(lines: TraceLine[]): string[] {
  const w = Math.max(0, ...lines.map((l) => l.loc.length)) + 7;
  return lines.map((l) => `${l.loc.padEnd(w)}${"| ".repeat(l.depth)}${l.text}  `);
}

/** Lines as conftest's --trace prints them (no locations). */
export function plainTraceLines(lines: TraceLine[]): string[] {
  return lines.map((l) => `${"| ".repeat(l.depth)}${l.text}`);
}
