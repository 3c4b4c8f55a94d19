// `portcullis fmt`: prints a parsed module back as canonical Rego, byte for byte what `opa fmt`
// (OPA 1.19) prints. The rules were found by running `opa fmt` on many inputs; none of OPA's
// code is used. Highlights:
//  - Layout follows the source where OPA's does: a composite (array, object, set, call args)
//    is written on several lines when its elements start on several rows, one output line per
//    source row; a body expression stays on the rule's line (`p if x`) when written there; one
//    blank line is kept where the source had any between statements or expressions.
//  - Comments are placed by row: the comments above a statement, expression or term are written
//    before it; a comment on the row where a statement, term or closing brace starts is written
//    at the end of the output line that holds it.
//  - Rego v1 output uses `if`, `contains` and `:=` for rule values; v0 output keeps `=`/`:=` as
//    written and uses `if`/`contains` only when imported from future.keywords (or rego.v1).
//  - Nested operator calls are parenthesised (`(a + b) + c`); strings and numbers keep their
//    source text; `x.y` and `x["y"]` are normalised as OPA does.
//  - Two forms the parser desugars are detected and printed back: template strings (calls to
//    internal.template_string) and `not { … }` bodies (a negated `{true | …}[true]`).
//
// The AST carries start locations only; where the rules need more (the end of an expression,
// the row of a closing brace, the text of a rule), the source is re-lexed and the tokens at
// the AST's locations are looked up.

import type { Body, Comment, Expr, Import, Location, Module, RefTerm, Rule, Term, VarTerm, With } from "./ast.ts";
import { parseModule, termString as parserTermString, foldTerm } from "./parser.ts";
import { RegoError, asRegoError, type ErrorDetail } from "./errors.ts";
import { stackLow } from "./stack.ts";
import { goQuote } from "../gotext/fmt.ts";
import {
  lex,
  Token,
  T_EOF,
  T_LBRACE,
  T_LBRACK,
  T_LPAREN,
  T_OR,
  T_RBRACE,
  T_RBRACK,
  T_RPAREN,
  T_SEMI,
  T_STRING,
  T_ASSIGN,
  T_IDENT,
  T_COMMA,
  T_COLON,
  T_MINUS,
  T_DOT,
  T_TPL_BEGIN,
  T_TPL_END,
} from "./lexer.ts";

export interface FormatOptions {
  /** Output syntax: "v1" (the default) or "v0". */
  regoVersion?: "v1" | "v0";
  /** `opa fmt --v0-v1`: v1 syntax that v0 also accepts, so `import rego.v1` is added. */
  regoV1Import?: boolean;
}

/** Parse `source` (as `parseVersion`, default v1) and format it. Parse errors are thrown (RegoError). */
export function formatSource(file: string, source: string, opts: FormatOptions & { parseVersion?: "v0" | "v1" } = {}): string {
  const mod = parseForFormat(file, source, opts.parseVersion ?? opts.regoVersion ?? "v1");
  if ((opts.regoVersion ?? "v1") === "v1" || opts.regoV1Import) checkImports(mod);
  return formatModule(mod, source, opts);
}

/**
 * `opa fmt` (but not with --v0-compatible) refuses two imports bound to the same name: the
 * alias, or the last part of the path.
 */
function checkImports(mod: Module): void {
  const seen = new Map<string, Import>();
  const errors: ErrorDetail[] = [];
  for (const imp of mod.imports) {
    const last = imp.path.terms[imp.path.terms.length - 1];
    const name = imp.alias ?? (last.type === "string" ? last.value : last.type === "var" ? last.name : "");
    const first = seen.get(name);
    if (first) errors.push({ code: "rego_compile_error", message: `import must not shadow import ${importRefString(first)}`, location: imp.loc });
    else seen.set(name, imp);
  }
  if (errors.length) throw new RegoError(errors);
}

function importRefString(imp: Import): string {
  const ts = imp.path.terms;
  let s = (ts[0] as VarTerm).name;
  for (const t of ts.slice(1)) {
    const v = (t as { value: string }).value;
    s += IDENT_RE.test(v) && !ALL_KEYWORDS.includes(v) ? "." + v : "[" + goQuote(v) + "]";
  }
  return imp.alias ? `${s} as ${imp.alias}` : s;
}

/**
 * Parse a module as `opa fmt` does: METADATA blocks are not read, so a malformed one is no
 * error. The blocks are hidden from the parser (same length, so locations hold) and the
 * comments put back.
 */
export function parseForFormat(file: string, source: string, regoVersion: "v0" | "v1"): Module {
  const { comments } = lex(source);
  let masked = source;
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  for (const c of comments) {
    if (c.text.trim() !== "METADATA") continue;
    const at = source.indexOf("METADATA", lineStarts[c.row - 1] + c.col - 1);
    if (at >= 0) masked = masked.slice(0, at) + "METADATX" + masked.slice(at + 8);
  }
  const mod = parseModule(file, masked, { regoVersion });
  mod.comments = comments.map((c) => ({ text: c.text, loc: { file, row: c.row, col: c.col } }));
  return mod;
}

export function formatModule(module: Module, source: string, opts: FormatOptions = {}): string {
  try {
    return new Formatter(module, source, opts).run();
  } catch (e) {
    throw asRegoError(e, "rego_format_error");
  }
}

// ---- source positions --------------------------------------------------------------------

const ALL_KEYWORDS = ["as", "contains", "default", "else", "every", "false", "if", "import", "in", "not", "null", "package", "some", "true", "with"];
const V0_KEYWORDS = ["as", "default", "else", "false", "import", "not", "null", "package", "some", "true", "with"];
const FUTURE = ["contains", "every", "if", "in"];
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Binary operators by builtin name, with their binding strength (higher binds tighter). */
const INFIX: Record<string, [string, number]> = {
  eq: ["=", 0],
  assign: [":=", 0],
  equal: ["==", 2],
  neq: ["!=", 2],
  lt: ["<", 2],
  lte: ["<=", 2],
  gt: [">", 2],
  gte: [">=", 2],
  or: ["|", 3],
  and: ["&", 4],
  plus: ["+", 5],
  minus: ["-", 5],
  mul: ["*", 6],
  div: ["/", 6],
  rem: ["%", 6],
};
const IN_PREC = 1;

class Source {
  readonly text: string;
  readonly tokens: Token[];
  private readonly byPos = new Map<number, number>();
  private readonly lineStarts: number[] = [0];
  readonly lines: string[];
  /** For each bracket, the index of the bracket it pairs with (by nesting, whatever its kind), or -1. */
  private readonly pair: Int32Array;

  constructor(text: string) {
    this.text = text;
    this.tokens = lex(text).tokens;
    this.tokens.forEach((t, i) => {
      const k = t.row * 1e6 + t.col;
      if (!this.byPos.has(k)) this.byPos.set(k, i);
    });
    this.pair = new Int32Array(this.tokens.length).fill(-1);
    const open: number[] = [];
    this.tokens.forEach((t, i) => {
      if (t.kind === T_LBRACK || t.kind === T_LBRACE || t.kind === T_LPAREN) open.push(i);
      else if ((t.kind === T_RBRACK || t.kind === T_RBRACE || t.kind === T_RPAREN) && open.length > 0) {
        const o = open.pop()!;
        this.pair[o] = i;
        this.pair[i] = o;
      }
    });
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    this.lines = text.split("\n");
  }

  /** Index of the token starting at a location, or -1. */
  at(l: Location): number {
    return this.byPos.get(l.row * 1e6 + l.col) ?? -1;
  }

  /** The 1-based row holding the character at offset `off`. */
  rowAt(off: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= off) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** Index of the bracket matching the opening one at `i` (same nesting), or -1. */
  match(i: number): number {
    const open = this.tokens[i].kind;
    const close = open === T_LBRACK ? T_RBRACK : open === T_LBRACE ? T_RBRACE : T_RPAREN;
    const j = this.pair[i];
    return j > i && this.tokens[j].kind === close ? j : -1;
  }

  /** Index of the bracket opening the closing one at `i`, or -1. */
  matchBack(i: number): number {
    const k = this.tokens[i].kind;
    if (k !== T_RBRACK && k !== T_RBRACE && k !== T_RPAREN) return -1;
    const j = this.pair[i];
    return j >= 0 && j < i ? j : -1;
  }

  slice(from: number, to: number): string {
    return this.text.slice(this.tokens[from].start, this.tokens[to].end);
  }
}

/**
 * The row of the bracket closing the first `open` in `text` (which starts on `row`), scanning
 * characters as OPA does: brackets inside strings and comments count, and newlines before the
 * opening bracket do not. -1 when there is none.
 */
function closingRow(text: string, row: number, open: string, close: string, skipOpen?: string, skipClose?: string): number {
  let i = 0;
  let offset = 0;
  if (skipOpen !== undefined) {
    for (; i < text.length; i++) if (text[i] === skipOpen) break;
    let state = 1;
    while (state > 0) {
      i++;
      if (i >= text.length) break;
      const c = text[i];
      if (c === skipOpen) state++;
      else if (c === skipClose) state--;
      else if (c === "\n") offset++;
    }
  }
  for (; i < text.length; i++) if (text[i] === open) break;
  if (i >= text.length) return -1;
  let state = 1;
  while (state > 0) {
    i++;
    if (i >= text.length) return -1;
    const c = text[i];
    if (c === open) state++;
    else if (c === close) state--;
    else if (c === "\n") offset++;
  }
  return row + offset;
}

// ---- the formatter -------------------------------------------------------------------------

/** A rule as OPA's formatter sees it: each else is a rule of its own, and so is each extra body of `p { a } { b }`. */
interface RuleView {
  rule: Rule;
  loc: Location; // where the rule (or else) starts
  text: string; // its source text, up to the end of the statement
  body: Body;
  hasBody: boolean;
  value: Term | null;
  valueGenerated: boolean;
  isElse: boolean;
  elseView: RuleView | null;
  /** `else := v` written with `:=` (only matters in v0 output). */
  assign: boolean;
}

type Elem = { kind: "term"; term: Term } | { kind: "item"; key: Term; value: Term } | { kind: "expr"; expr: Expr };

function elemLoc(e: Elem): Location {
  return e.kind === "term" ? e.term.loc : e.kind === "item" ? e.key.loc : e.expr.loc;
}

function cmpLoc(a: Location, b: Location): number {
  return a.row !== b.row ? a.row - b.row : a.col - b.col;
}

class Formatter {
  private readonly mod: Module;
  private readonly src: Source;
  private readonly v1: boolean; // v1 output: `:=` for values
  private ifs: boolean;
  private contains: boolean;
  private refHeads = false;
  private keywords: Set<string>;
  private readonly addRegoV1: boolean;

  // writer state
  private out: string[] = [];
  private level = 0;
  private inline = false;
  private beforeEnd: Comment | null = null;
  private delay = false;

  constructor(mod: Module, source: string, opts: FormatOptions) {
    this.mod = mod;
    this.src = new Source(source);
    const v1 = (opts.regoVersion ?? "v1") === "v1" || opts.regoV1Import === true;
    this.v1 = v1;
    this.addRegoV1 = opts.regoV1Import === true;
    this.ifs = this.contains = v1;
    const kws = new Set(v1 ? ALL_KEYWORDS : V0_KEYWORDS);
    for (const imp of mod.imports) {
      const p = importPath(imp);
      if (p === "rego.v1" || p === "future.keywords") {
        this.ifs = this.contains = true;
        for (const k of FUTURE) kws.add(k);
      } else if (p.startsWith("future.keywords.")) {
        const k = p.slice("future.keywords.".length);
        if (k === "if") this.ifs = true;
        if (k === "contains") this.contains = true;
        if (FUTURE.includes(k)) kws.add(k);
        if (k === "every") kws.add("in");
      }
    }
    this.keywords = kws;
    for (const r of mod.rules) {
      if (r.head.ref.length > 2 || (r.head.kind === "multi" && r.head.ref.length > 1)) this.refHeads = true;
    }
  }

  // ---- writer primitives ----

  private write(s: string): void {
    this.out.push(s);
  }

  private startLine(): void {
    this.inline = true;
    this.write("\t".repeat(this.level));
  }

  private endLine(): void {
    this.inline = false;
    if (this.beforeEnd !== null && !this.delay) {
      this.write(" " + commentString(this.beforeEnd));
      this.beforeEnd = null;
    }
    this.delay = false;
    this.write("\n");
  }

  private writeLine(s: string): void {
    if (!this.inline) this.startLine();
    this.write(s);
    this.endLine();
  }

  private blankLine(): void {
    this.write("\n");
  }

  private up(): void {
    this.level++;
  }

  private down(): void {
    this.level--;
  }

  private startMultilineSeq(): void {
    this.endLine();
    this.up();
    this.startLine();
  }

  private beforeLineEnd(c: Comment | null): void {
    if (c === null) return;
    if (this.termDepth > 0) this.attemptAt.push(c);
    if (this.beforeEnd === null) {
      this.beforeEnd = c;
      this.beforeEndLevel = this.exprBase;
    } else if (this.termDepth > 0) {
      // OPA reports this and goes on with the new comment; the outermost term of the
      // expression that took the waiting comment then falls back to its source text.
      if (!this.conflict || this.beforeEndLevel < this.conflictLevel) this.conflictLevel = this.beforeEndLevel;
      this.conflict = true;
      this.beforeEnd = c;
      this.beforeEndLevel = this.exprBase;
    } else this.pendingLost.push(c);
  }

  /** Comments that met an occupied end-of-line slot (OPA reports an error; we keep them for the end). */
  private pendingLost: Comment[] = [];

  private writeComments(cs: Comment[]): void {
    for (let i = 0; i < cs.length; i++) {
      if (i > 0 && cs[i].loc.row - cs[i - 1].loc.row > 1) this.blankLine();
      this.writeLine(commentString(cs[i]));
    }
  }

  /** Write the comments above `row`, and keep the one on it for the end of the line. */
  private insertComments(cs: Comment[], row: number): Comment[] {
    // The list is in source order: nothing to do when its first comment is further on.
    if (cs.length === 0 || cs[0].loc.row > row) return cs;
    const before: Comment[] = [];
    const after: Comment[] = [];
    let at: Comment | null = null;
    for (const c of cs) {
      if (c.loc.row < row) before.push(c);
      else if (c.loc.row > row) after.push(c);
      else at = c;
    }
    this.writeComments(before);
    if (before.length > 0 && row - before[before.length - 1].loc.row > 1) this.blankLine();
    this.beforeLineEnd(at);
    return after;
  }

  // ---- module ----

  run(): string {
    const mod = this.mod;
    let comments = mod.comments
      .map((c) => ({ text: c.text.replace(/[ \t\r\n\v\f]+$/, ""), loc: c.loc }))
      .sort((a, b) => cmpLoc(a.loc, b.loc));

    comments = this.insertComments(comments, mod.loc.row);
    this.startLine();
    this.write("package ");
    this.writePackagePath(mod.package);
    this.endLine();
    this.blankLine();

    // Imports: drop future.keywords ones when rego.v1 is (or is being) imported.
    let imports = mod.imports.slice();
    const hasV1 = imports.some((i) => importPath(i) === "rego.v1");
    if (this.addRegoV1 && !hasV1) {
      // OPA places the added import on the row after the last future.keywords import it
      // replaces, or on the package's row; that decides its group and trailing comment.
      const futures = imports.filter((i) => importPath(i).startsWith("future.keywords"));
      const l: Location = futures.length ? { file: mod.loc.file, row: futures[futures.length - 1].loc.row + 1, col: 1 } : mod.loc;
      const p: RefTerm = { type: "ref", terms: [{ type: "var", name: "rego", loc: l }, { type: "string", value: "v1", loc: l }], loc: l };
      imports.push({ path: p, alias: null, loc: l });
    }
    if (hasV1 || this.addRegoV1) imports = imports.filter((i) => !importPath(i).startsWith("future.keywords"));

    type Stmt = { imp: Import } | { rules: RuleView[] };
    const stmts: { loc: Location; s: Stmt }[] = imports.map((imp) => ({ loc: imp.loc, s: { imp } }));
    for (const views of this.ruleViews()) stmts.push({ loc: views[0].loc, s: { rules: views } });
    stmts.sort((a, b) => cmpLoc(a.loc, b.loc) || ("imp" in a.s ? 0 : 1) - ("imp" in b.s ? 0 : 1));

    let i = 0;
    while (i < stmts.length) {
      const imps: Import[] = [];
      while (i < stmts.length && "imp" in stmts[i].s) imps.push((stmts[i++].s as { imp: Import }).imp);
      if (imps.length) comments = this.writeImports(imps, comments);
      const rules: RuleView[] = [];
      while (i < stmts.length && "rules" in stmts[i].s) rules.push(...(stmts[i++].s as { rules: RuleView[] }).rules);
      if (rules.length) comments = this.writeRules(rules, comments);
    }
    comments.push(...this.pendingLost);
    comments.sort((a, b) => cmpLoc(a.loc, b.loc));
    for (const c of comments) this.writeLine(commentString(c));
    let s = this.out.join("");
    if (s.endsWith("\n")) s = s.replace(/\n+$/, "") + "\n";
    return s;
  }

  private writePackagePath(p: RefTerm): void {
    // `package a.b` is the ref data.a.b; written from `a` on.
    const first = p.terms[1] as { value: string };
    this.write(first.value);
    for (const t of p.terms.slice(2)) this.writeRefPart(t);
  }

  private writeImports(imports: Import[], comments: Comment[]): Comment[] {
    // A comment on an import's row is its trailing comment.
    const trailing = new Map<Import, Comment>();
    comments = comments.filter((c) => {
      const imp = imports.find((i) => i.loc.row === c.loc.row);
      if (imp && !trailing.has(imp)) {
        trailing.set(imp, c);
        return false;
      }
      return true;
    });
    const groups: Import[][] = [];
    for (const imp of imports) {
      const g = groups[groups.length - 1];
      if (!g || imp.loc.row - g[g.length - 1].loc.row > 1) groups.push([imp]);
      else g.push(imp);
    }
    for (const g of groups) {
      comments = this.insertComments(comments, g[0].loc.row);
      g.sort(compareImports);
      for (const imp of g) {
        this.startLine();
        this.write("import ");
        this.writeImportPath(imp);
        const c = trailing.get(imp);
        if (c) this.write(" " + commentString(c));
        this.endLine();
      }
      this.blankLine();
    }
    return comments;
  }

  private writeImportPath(imp: Import): void {
    const ts = imp.path.terms;
    this.write((ts[0] as VarTerm).name);
    for (const t of ts.slice(1)) this.writeRefPart(t);
    if (imp.alias) this.write(` as ${imp.alias}`);
  }

  // ---- rules ----

  /** Rules grouped by statement (one per source statement), as OPA's formatter sees them. */
  private ruleViews(): RuleView[][] {
    const src = this.src;
    // Statement starts, to find where each statement ends.
    const starts = new Set<number>();
    const pkg = src.at(this.mod.loc);
    if (pkg >= 0) starts.add(pkg);
    for (const imp of this.mod.imports) {
      const k = src.at(imp.loc);
      if (k >= 0) starts.add(k);
    }
    for (const r of this.mod.rules) {
      const k = src.at(r.loc);
      if (k >= 0) starts.add(k);
    }
    const sorted = [...starts].sort((a, b) => a - b);
    const endOf = (start: number): number => {
      const next = sorted.find((s) => s > start);
      let e = (next ?? src.tokens.length - 1) - 1; // before the next statement or EOF
      while (e > start && src.tokens[e].kind === T_SEMI) e--;
      return e;
    };

    const groups: Rule[][] = [];
    for (const r of this.mod.rules) {
      const g = groups[groups.length - 1];
      if (g && g[0].loc === r.loc) g.push(r);
      else groups.push([r]);
    }
    const out: RuleView[][] = [];
    for (const g of groups) {
      const start = src.at(g[0].loc);
      const end = start >= 0 ? endOf(start) : -1;
      const views: RuleView[] = [];
      if (g.length === 1) {
        views.push(this.view(g[0], g[0].loc, start, end));
      } else {
        // `p { a } { b }`: the bodies are the last g.length brace blocks of the statement.
        const bodies: [number, number][] = [];
        let e = end;
        for (let k = 0; k < g.length - 1 && e > start; k++) {
          const b = src.matchBack(e);
          bodies.unshift([b, e]);
          e = b - 1;
        }
        views.push(this.view(g[0], g[0].loc, start, e));
        for (let k = 1; k < g.length; k++) {
          const [b, be] = bodies[k - 1] ?? [start, end];
          const t = src.tokens[b];
          views.push(this.view(g[k], { file: g[k].loc.file, row: t.row, col: t.col }, b, be));
        }
      }
      out.push(views);
    }
    return out;
  }

  private view(rule: Rule, loc: Location, start: number, end: number): RuleView {
    const text = start >= 0 && end >= start ? this.src.slice(start, end) : "";
    const v: RuleView = {
      rule,
      loc,
      text,
      body: rule.body,
      hasBody: rule.hasBody,
      value: rule.head.value,
      valueGenerated: rule.head.value !== null && rule.head.value.loc === rule.head.loc,
      isElse: false,
      elseView: null,
      assign: rule.head.assign,
    };
    let prev = v;
    for (const e of rule.elses) {
      const k = this.src.at(e.loc);
      const ev: RuleView = {
        rule,
        loc: e.loc,
        text: k >= 0 && end >= k ? this.src.slice(k, end) : "",
        body: e.body,
        hasBody: e.body.length > 0,
        value: e.value,
        valueGenerated: e.value !== null && e.value.loc === e.loc,
        isElse: true,
        elseView: null,
        assign: k >= 0 && this.src.tokens[k + 1]?.kind === T_ASSIGN,
      };
      prev.elseView = ev;
      prev = ev;
    }
    return v;
  }

  private writeRules(rules: RuleView[], comments: Comment[]): Comment[] {
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      comments = this.insertComments(comments, r.loc.row);
      comments = this.writeRule(r, comments);
      if (i < rules.length - 1 && this.groupable(r)) {
        const next = rules[i + 1];
        if (this.groupable(next) && next.loc.row === r.loc.row + 1) continue;
      }
      this.blankLine();
    }
    return comments;
  }

  private groupable(r: RuleView): boolean {
    if (r.body.length > 1 || r.rule.isDefault) return false;
    if (!(this.v1 || this.ifs)) return false;
    const h = r.rule.head;
    return h.kind === "multi" ? h.key !== null : r.value !== null;
  }

  /** OPA's old-style partial object (`p[x] = v` in v0) has a key as well as a value. */
  private keyish(r: RuleView): boolean {
    const h = r.rule.head;
    if (h.kind === "multi") return true;
    // OPA keeps a key for `p[k] = v` (v0) and `p[k] := v` when k is not a string (v1).
    return !r.isElse && h.kind === "single" && h.ref.length === 2 && !r.valueGenerated && h.args === null && (this.mod.regoVersion === "v0" || h.ref[1].type !== "string");
  }

  private isExpandedConst(r: RuleView): boolean {
    if (r.elseView !== null) return false;
    if (!r.hasBody) return true;
    if (r.body.length !== 1) return false;
    const e = r.body[0];
    return !e.negated && e.with.length === 0 && e.node.type === "term" && e.node.term.type === "boolean" && e.node.term.value === true;
  }

  private writeRule(r: RuleView, comments: Comment[]): Comment[] {
    if (!r.isElse) this.startLine();
    if (r.rule.isDefault) this.write("default ");
    const expanded = this.isExpandedConst(r);
    comments = this.writeHead(r, expanded, comments);
    const h = r.rule.head;
    const value = r.isElse ? r.value : h.kind === "multi" ? null : r.value;
    const partialSetException = this.contains || value !== null;
    if (!r.hasBody || expanded) {
      this.endLine();
      return comments;
    }
    if ((this.v1 || this.ifs) && partialSetException) {
      this.write(" if");
      if (r.body.length === 1 && r.body[0].loc.row === this.headEndRow(r)) {
        this.write(" ");
        comments = this.writeExpr(r.body[0], comments);
        this.endLine();
        if (r.elseView) comments = this.writeElse(r, comments);
        return comments;
      }
    }
    this.write(" {");
    this.endLine();
    this.up();
    comments = this.writeBody(r.body, comments);
    let close: number;
    if (!r.isElse && h.args !== null && h.args.length > 0) close = closingRow(r.text, r.loc.row, "{", "}", "(", ")");
    else if (!r.isElse && this.keyish(r)) close = closingRow(r.text, r.loc.row, "{", "}", "[", "]");
    else close = closingRow(r.text, r.loc.row, "{", "}");
    comments = this.insertComments(comments, close);
    this.down();
    this.startLine();
    this.write("}");
    if (r.elseView) comments = this.writeElse(r, comments);
    else this.endLine();
    return comments;
  }

  /** The row the rule's head ends on (where `if` follows it): a body starting there stays on that line. */
  private headEndRow(r: RuleView): number {
    const src = this.src;
    let j = src.at(r.body[0].loc) - 1;
    if (j < 0) return r.loc.row;
    if (src.tokens[j].kind === T_LBRACE) j--;
    if (src.tokens[j]?.kind === T_IDENT && src.tokens[j].text === "if") j--;
    const t = src.tokens[j];
    return t ? src.rowAt(Math.max(t.start, t.end - 1)) : r.loc.row;
  }

  private writeElse(r: RuleView, comments: Comment[]): Comment[] {
    const e = r.elseView!;
    let wasInline = false;
    const rel = e.loc.row - r.loc.row;
    if (rel > 0) {
      const line = this.src.lines[e.loc.row - 1] ?? "";
      if (!line.trim().startsWith("else")) wasInline = true;
    }
    const hasCommentAbove = (comments.length > 0 && comments[0].loc.row < e.loc.row) || this.beforeEnd !== null;
    if (!hasCommentAbove && wasInline && this.inline) {
      this.write(" ");
    } else {
      if (this.inline) this.endLine();
      this.blankLine();
      this.startLine();
    }
    comments = this.insertComments(comments, e.loc.row);
    if (!this.inline) this.startLine();
    return this.writeRule(e, comments);
  }

  private writeHead(r: RuleView, expanded: boolean, comments: Comment[]): Comment[] {
    const h = r.rule.head;
    if (r.isElse) {
      this.write("else");
    } else {
      const ref = h.ref;
      if (this.refHeads || ref.length === 1) comments = this.writeRef(ref, comments);
      else this.write(termString(ref[0]) + "[" + termString(ref[1]) + "]");
      // `f()`: OPA drops the parentheses, which turns the function into a constant; kept here.
      if (h.args !== null && h.args.length === 0) this.write("()");
      if (h.args !== null && h.args.length > 0) {
        this.write("(");
        comments = this.writeIterable(
          h.args.map((t) => ({ kind: "term", term: t })),
          h.loc,
          closingRow(r.text, r.loc.row, "(", ")"),
          comments,
          // `f(x)` alone (no value, no body): OPA's head text is just the name, so the args
          // never move to their own lines for starting below it.
          !r.hasBody && r.valueGenerated ? null : r.text,
        );
        this.write(")");
      }
      if (h.kind === "multi" && h.key !== null) {
        if (this.contains) {
          this.write(" contains ");
          comments = this.writeTerm(h.key, comments);
        } else {
          this.write("[");
          comments = this.writeTerm(h.key, comments);
          this.write("]");
        }
      }
    }
    const value = r.isElse ? r.value : h.kind === "multi" ? null : r.value;
    if (value !== null && (this.keyish(r) || !isTrue(value) || expanded || r.rule.isDefault)) {
      // `f(x)` and `p.q.r` (v0) with neither value nor body: the value true is implied, except
      // that v1 output needs it on a ref head that is not a function.
      const regoV1RefConst = this.v1 && expanded && !r.isElse && h.kind !== "multi" && (h.args === null || h.args.length === 0);
      if (!r.hasBody && r.valueGenerated && !r.isElse && isTrue(value) && !regoV1RefConst) return comments;
      this.write(r.assign || this.v1 ? " := " : " = ");
      comments = this.writeTerm(value, comments);
    }
    return comments;
  }

  // ---- bodies and expressions ----

  /** The row the expression ends on (its last token), given the expression after it. */
  private exprEndRow(expr: Expr, next: Expr): number {
    const src = this.src;
    let k = src.at(next.loc);
    if (k < 0) return expr.loc.row;
    k--;
    while (k > 0 && src.tokens[k].kind === T_SEMI) k--;
    const t = src.tokens[k];
    return src.rowAt(Math.max(t.start, t.end - 1));
  }

  private writeBody(body: Body, comments: Comment[]): Comment[] {
    if (body.length > 0) comments = this.insertComments(comments, body[0].loc.row);
    for (let i = 0; i < body.length; i++) {
      const e = body[i];
      if (i > 0) {
        const last = this.exprEndRow(body[i - 1], e);
        if (e.loc.row > last + 1) this.blankLine();
      }
      this.startLine();
      comments = this.writeExpr(e, comments);
      this.endLine();
    }
    return comments;
  }

  /**
   * `unit`: the expression stands on lines of its own (a rule body, a multi-line comprehension
   * body), so its outermost terms are the ones that fall back to their source text.
   */
  private writeExpr(expr: Expr, comments: Comment[], unit = true): Comment[] {
    const base = this.exprBase;
    if (unit) this.exprBase = this.termDepth;
    try {
      return this.writeExprIn(expr, comments);
    } finally {
      this.exprBase = base;
    }
  }

  private writeExprIn(expr: Expr, comments: Comment[]): Comment[] {
    comments = this.insertComments(comments, expr.loc.row);
    if (!this.inline) this.startLine();
    if (expr.negated) this.write("not ");
    const n = expr.node;
    switch (n.type) {
      case "some":
        comments = this.writeSome(expr, n.vars, comments);
        break;
      case "somein":
        this.write("some ");
        comments = n.key ? this.writeIn([n.key, n.value, n.collection], comments) : this.writeIn([n.value, n.collection], comments);
        break;
      case "every":
        comments = this.writeEvery(expr, n.key, n.value, n.domain, n.body, comments);
        break;
      case "call":
        comments = this.writeCallExpr(n.op, n.args, comments);
        break;
      case "term": {
        const nb = expr.negated ? notBody(n.term) : null;
        if (nb) comments = this.writeNotBody(n.term, nb, comments);
        else comments = this.writeTerm(n.term, comments);
        break;
      }
    }
    let indented = false;
    for (let i = 0; i < expr.with.length; i++) {
      const w = expr.with[i];
      // A `with` stays on the line it followed in the source (the end of the expression, or the previous `with`).
      let prevRow: number;
      if (i > 0) prevRow = expr.with[i - 1].loc.row;
      else {
        const k = this.src.at(w.loc);
        const t = k > 0 ? this.src.tokens[k - 1] : null;
        prevRow = t ? this.src.rowAt(Math.max(t.start, t.end - 1)) : w.loc.row;
      }
      if (w.loc.row === prevRow) {
        comments = this.writeWith(w, comments, false);
      } else {
        if (!indented) {
          indented = true;
          this.up();
        }
        this.endLine();
        this.startLine();
        comments = this.writeWith(w, comments, true);
      }
    }
    if (indented) this.down();
    return comments;
  }

  private writeWith(w: With, comments: Comment[], indented: boolean): Comment[] {
    comments = this.insertComments(comments, w.loc.row);
    if (!indented) this.write(" ");
    this.write("with ");
    comments = this.writeTerm(w.target, comments);
    this.write(" as ");
    return this.writeTerm(w.value, comments);
  }

  private writeSome(expr: Expr, vars: VarTerm[], comments: Comment[]): Comment[] {
    this.write("some ");
    let row = expr.loc.row;
    vars.forEach((v, i) => {
      if (v.loc.row > row) {
        this.endLine();
        this.startLine();
        this.write("\t");
        row = v.loc.row;
      } else if (i > 0) this.write(" ");
      comments = this.writeTerm(v, comments);
      if (i < vars.length - 1) this.write(",");
    });
    return comments;
  }

  private writeEvery(expr: Expr, key: VarTerm | null, value: VarTerm, domain: Term, body: Body, comments: Comment[]): Comment[] {
    this.write("every ");
    if (key) {
      comments = this.writeTerm(key, comments);
      this.write(", ");
    }
    comments = this.writeTerm(value, comments);
    this.write(" in ");
    comments = this.writeTerm(domain, comments);
    this.write(" {");
    const text = this.exprText(expr);
    comments = this.writeComprehensionBody("{", "}", body, expr.loc, expr.loc.row, text, comments);
    if (body.length === 1 && body[0].loc.row === expr.loc.row) this.write(" ");
    this.write("}");
    return comments;
  }

  /** Source text of an expression (from its first token to its last). */
  private exprText(expr: Expr): string {
    const src = this.src;
    const k = src.at(expr.loc);
    if (k < 0) return "";
    // The expression ends at the first token (outside brackets) that cannot continue it:
    // approximate by scanning to the matching brace of the first `{` after `every`/`not`.
    let j = k;
    while (j < src.tokens.length && src.tokens[j].kind !== T_LBRACE && src.tokens[j].kind !== T_EOF) {
      if (src.tokens[j].kind === T_LBRACK || src.tokens[j].kind === T_LPAREN) {
        const m = src.match(j);
        if (m < 0) break;
        j = m;
      }
      j++;
    }
    if (j >= src.tokens.length || src.tokens[j].kind !== T_LBRACE) return src.slice(k, k);
    const m = src.match(j);
    return m < 0 ? src.slice(k, j) : src.slice(k, m);
  }

  private writeNotBody(term: Term, body: Body, comments: Comment[]): Comment[] {
    // `not { … }`, printed as OPA prints it: like an `every` body.
    this.write("{");
    const src = this.src;
    const k = src.at(term.loc);
    const m = k >= 0 ? src.match(k) : -1;
    const text = k >= 0 && m >= 0 ? src.slice(k, m) : "";
    comments = this.writeComprehensionBody("{", "}", body, term.loc, term.loc.row, text, comments);
    if (body.length === 1 && body[0].loc.row === term.loc.row) this.write(" ");
    this.write("}");
    return comments;
  }

  /** A call statement: `x := y`, `a == b`, `f(x)`, `x in xs`, `plus(1, 2, x)`. */
  private writeCallExpr(op: RefTerm, args: Term[], comments: Comment[]): Comment[] {
    const name = opName(op);
    if ((name === "internal.member_2" && args.length === 2) || (name === "internal.member_3" && args.length === 3)) {
      return this.writeIn(args, comments);
    }
    const inf = INFIX[name];
    if (inf && args.length === 2) {
      const [sym, prec] = inf;
      comments = this.writeOperand(args[0], prec, false, false, comments);
      this.write(` ${sym} `);
      return this.writeOperand(args[1], prec, true, false, comments);
    }
    if (inf && args.length === 3 && prec(name) > 0) {
      comments = this.writeTerm(args[2], comments);
      this.write(" = ");
      comments = this.writeOperand(args[0], inf[1], false, false, comments);
      this.write(` ${inf[0]} `);
      return this.writeOperand(args[1], inf[1], true, false, comments);
    }
    return this.writePlainCall(op, args, comments);
  }

  /**
   * An operand of a binary operator. OPA parenthesises nested operator calls except at the
   * top of a statement and except `in`; where leaving them out would change the meaning,
   * parentheses are added anyway.
   */
  private writeOperand(t: Term, parentPrec: number, right: boolean, parens: boolean, comments: Comment[]): Comment[] {
    if (t.type === "call") {
      const p = callPrec(t);
      if (p !== null) {
        const needed = p < parentPrec || (right && p === parentPrec);
        const isIn = p === IN_PREC;
        if ((parens && !isIn) || needed) {
          comments = this.insertComments(comments, t.loc.row);
          if (!this.inline) this.startLine();
          this.write("(");
          comments = this.guarded(t, comments, (cs) => this.writeCall(t.op, t.args, cs));
          this.write(")");
          return comments;
        }
      }
    }
    return this.writeTerm(t, comments);
  }

  private writeIn(args: Term[], comments: Comment[]): Comment[] {
    const kw = "in";
    if (args.length === 2) {
      comments = this.writeOperand(args[0], IN_PREC, false, true, comments);
      this.write(` ${kw} `);
      return this.writeOperand(args[1], IN_PREC, true, true, comments);
    }
    comments = this.writeOperand(args[0], IN_PREC, false, true, comments);
    this.write(", ");
    comments = this.writeOperand(args[1], IN_PREC, false, true, comments);
    this.write(` ${kw} `);
    return this.writeOperand(args[2], IN_PREC, true, true, comments);
  }

  /** A call inside a term. */
  private writeCall(op: RefTerm, args: Term[], comments: Comment[]): Comment[] {
    const name = opName(op);
    if ((name === "internal.member_2" && args.length === 2) || (name === "internal.member_3" && args.length === 3)) {
      return this.writeIn(args, comments);
    }
    if (name === "internal.template_string" && args.length === 1 && args[0].type === "array") {
      const s = this.templateString(args[0].items, op.loc);
      if (s !== null) {
        this.write(s);
        return comments;
      }
    }
    const inf = INFIX[name];
    if (inf && args.length === 2) {
      const spine = this.leftSpine(op, args, comments);
      if (spine !== null) return this.writeSpine(spine, comments);
      const [sym, prec] = inf;
      comments = this.writeOperand(args[0], prec, false, true, comments);
      this.write(` ${sym} `);
      return this.writeOperand(args[1], prec, true, true, comments);
    }
    return this.writePlainCall(op, args, comments);
  }

  /**
   * A long chain of binary operators nested on the left (`1 + 2 + … + n`, as the parser builds
   * it), on one row and without comments: the calls from the outermost in, or null for any
   * other call (written the ordinary way, recursively).
   */
  private leftSpine(op: RefTerm, args: Term[], comments: Comment[]): { op: RefTerm; args: Term[] }[] | null {
    const spine = [{ op, args }];
    for (let lhs = args[0]; lhs.type === "call" && lhs.args.length === 2 && (INFIX[opName(lhs.op)]?.[1] ?? 0) > 0; lhs = lhs.args[0]) {
      spine.push({ op: lhs.op, args: lhs.args });
    }
    if (spine.length < 64) return null;
    const row = spine[spine.length - 1].args[0].loc.row;
    if (spine.some((c) => c.args[1].loc.row !== row) || comments.some((c) => c.loc.row === row)) return null;
    return spine;
  }

  /** writeCall for a left spine, without recursion: what writing each call's left operand in parentheses gives. */
  private writeSpine(spine: { op: RefTerm; args: Term[] }[], comments: Comment[]): Comment[] {
    const m = spine.length;
    for (let i = 1; i < m; i++) {
      comments = this.insertComments(comments, spine[i].args[0].loc.row);
      if (!this.inline) this.startLine();
      this.write("(");
      this.termDepth++;
    }
    for (let i = m - 1; i >= 0; i--) {
      const [sym, prec] = INFIX[opName(spine[i].op)];
      if (i === m - 1) comments = this.writeOperand(spine[i].args[0], prec, false, true, comments);
      else {
        this.termDepth--;
        this.write(")");
      }
      this.write(` ${sym} `);
      comments = this.writeOperand(spine[i].args[1], prec, true, true, comments);
    }
    return comments;
  }

  private writePlainCall(op: RefTerm, args: Term[], comments: Comment[]): Comment[] {
    this.write(termString(op) + "(");
    comments = this.writeIterable(
      args.map((t) => ({ kind: "term", term: t })),
      op.loc,
      -1,
      comments,
      null,
    );
    this.write(")");
    return comments;
  }

  // ---- terms ----

  private writeTerm(t: Term, comments: Comment[], parens = false): Comment[] {
    comments = this.insertComments(comments, this.termRow(t));
    if (!this.inline) this.startLine();
    comments = this.guarded(t, comments, (cs) => this.writeTermValue(t, cs, parens));
    if (!this.inline) this.startLine();
    return comments;
  }

  /**
   * Writes an outermost term (one not inside another) with `fn`, or, as OPA does, its source
   * text unchanged when its comments cannot be placed: when a comment lies inside an array,
   * object or set whose elements are all on one row, or when two comments would end the same
   * output line.
   */
  private guarded(t: Term, comments: Comment[], fn: (cs: Comment[]) => Comment[]): Comment[] {
    const level = this.termDepth;
    if ((level & 15) === 15 && stackLow()) {
      throw RegoError.single("rego_format_error", "term nested too deeply to format (the JavaScript stack is exhausted)", t.loc);
    }
    const span = this.span(t);
    if (span === null) {
      this.termDepth++;
      try {
        return fn(comments);
      } finally {
        this.termDepth--;
      }
    }
    const r1 = level === this.exprBase && this.hasCommentInSingleRowComposite(t, comments);
    const saved = { out: this.out.length, level: this.level, inline: this.inline, beforeEnd: this.beforeEnd, delay: this.delay, lost: this.pendingLost.length };
    const mark = this.attemptAt.length;
    if (level === 0) this.conflict = false;
    this.termDepth++;
    let result: Comment[];
    try {
      result = fn(comments);
    } finally {
      this.termDepth--;
    }
    // A conflict is settled by the first term written after the comment that was waiting for
    // the line end was taken.
    const mine = this.conflict && this.conflictLevel >= level;
    if (!mine && !r1) return result;
    this.conflict = false;
    // Write the source text instead. A comment taken for a line end on the way that is not
    // part of that text still ends the line.
    this.out.length = saved.out;
    this.level = saved.level;
    this.inline = saved.inline;
    this.delay = saved.delay;
    this.pendingLost.length = saved.lost;
    const taken = this.attemptAt.slice(mark);
    const outside = [saved.beforeEnd, ...taken].filter((c): c is Comment => c !== null && !this.within(c, span[0], span[1]));
    outside.sort((a, b) => cmpLoc(a.loc, b.loc));
    this.beforeEnd = outside.length ? outside[outside.length - 1] : null;
    this.beforeEndLevel = level;
    const drop = new Set(taken);
    for (const c of comments) if (this.within(c, span[0], span[1])) drop.add(c);
    this.write(this.src.slice(span[0], span[1]));
    // Any other such comment (OPA would lose it) is written later, on a line of its own.
    const rest = comments.filter((c) => !drop.has(c));
    const back = outside.slice(0, -1).filter((c) => !rest.includes(c));
    return back.length ? [...back, ...rest].sort((a, b) => cmpLoc(a.loc, b.loc)) : rest;
  }

  private termDepth = 0;
  private conflict = false;
  /** The nesting level of the term that must fall back to its source text. */
  private conflictLevel = 0;
  /** The term nesting level of the expression in which the waiting line-end comment was taken. */
  private beforeEndLevel = 0;
  /** The term nesting level of the expression being written. */
  private exprBase = 0;
  /** Comments taken for line ends while writing terms. */
  private attemptAt: Comment[] = [];

  /** The comment lies between the first and last tokens of a span. */
  private within(c: Comment, from: number, to: number): boolean {
    const a = this.src.tokens[from];
    const b = this.src.tokens[to];
    const after = c.loc.row > a.row || (c.loc.row === a.row && c.loc.col > a.col);
    const endRow = this.src.rowAt(Math.max(b.start, b.end - 1));
    const before = c.loc.row < endRow || (c.loc.row === endRow && c.loc.col < b.col + (b.end - b.start));
    return after && before;
  }

  /**
   * OPA keeps the source text of a term when one of its arrays, objects or sets has its
   * elements on one row and a comment on a row after its first and before the row of its
   * closing bracket (found by OPA's character scan, which brackets in strings can mislead).
   */
  private hasCommentInSingleRowComposite(t: Term, comments: Comment[]): boolean {
    if (comments.length === 0) return false;
    let found = false;
    const visit = (x: Term): void => {
      if (found) return;
      if (x.type === "array" || x.type === "set" || x.type === "object") {
        const elems: Elem[] =
          x.type === "object" ? x.items.map(([k, v]) => ({ kind: "item", key: k, value: v }) as Elem) : x.items.map((y) => ({ kind: "term", term: y }) as Elem);
        const sp = elems.length > 0 ? this.compositeSpan(x) : null;
        if (sp && groupRows(elems.sort((a, b) => cmpLoc(elemLoc(a), elemLoc(b))), x.loc).length === 1) {
          const open = x.type === "array" ? "[" : "{";
          const close = x.type === "array" ? "]" : "}";
          const closeRow = closingRow(sp.text, x.loc.row, open, close);
          if (comments.some((c) => c.loc.row > x.loc.row && c.loc.row < closeRow)) {
            found = true;
            return;
          }
        }
      }
      // A comprehension body written on lines of its own holds expressions checked by themselves.
      if (x.type === "arraycomp" || x.type === "setcomp" || x.type === "objectcomp") {
        const headLoc = x.type === "objectcomp" ? x.key.loc : x.head.loc;
        const lines = groupRows(x.body.map((expr) => ({ kind: "expr", expr }) as Elem), headLoc);
        if ((x.body.length > 0 && x.body[0].loc.row > headLoc.row) || lines.length > 1) {
          if (x.type === "objectcomp") {
            visit(x.key);
            visit(x.value);
          } else visit(x.head);
          return;
        }
      }
      forEachChild(x, visit);
    };
    visit(t);
    return found;
  }

  /** First and last token of a term in the source, or null when it cannot be told. */
  private span(t: Term): [number, number] | null {
    const src = this.src;
    const s = src.at(t.loc);
    if (s < 0) return null;
    const e = this.termEnd(t, s);
    if (e < s) return null;
    // `(a + b) * c` starts at its `(`, not at `a`.
    let from = s;
    while (from > 0 && src.tokens[from - 1].kind === T_LPAREN) {
      const m = src.match(from - 1);
      if (m < from || m > e) break;
      from--;
    }
    return [from, e];
  }

  private termEnd(t: Term, s: number): number {
    const src = this.src;
    const toks = src.tokens;
    const k0 = toks[s].kind;
    switch (t.type) {
      case "array":
      case "object":
      case "arraycomp":
      case "setcomp":
      case "objectcomp":
        return k0 === T_LBRACK || k0 === T_LBRACE ? src.match(s) : -1;
      case "set":
        if (k0 === T_IDENT) return s + 2; // set()
        return k0 === T_LBRACE ? src.match(s) : -1;
      case "number":
        return k0 === T_MINUS || k0 === T_DOT ? (toks[s + 1]?.kind === T_DOT ? s + 2 : s + 1) : s;
      case "string":
      case "var":
      case "boolean":
      case "null":
        return s;
      case "ref": {
        const last = t.terms[t.terms.length - 1];
        if (t.terms.length === 1) return this.termEnd(last, s);
        const ls = src.at(last.loc);
        if (ls < 0) return -1;
        if (toks[ls - 1]?.kind === T_DOT) return ls; // .name
        const le = this.termEnd(last, ls);
        return le < 0 ? -1 : this.closeAfter(le, T_RBRACK);
      }
      case "call": {
        const name = opName(t.op);
        if (name === "internal.template_string") {
          let depth = 0;
          for (let j = s; j < toks.length; j++) {
            if (toks[j].kind === T_TPL_BEGIN) depth++;
            else if (toks[j].kind === T_TPL_END && --depth === 0) return j;
          }
          return -1;
        }
        if (callPrec(t) !== null || (name === "minus" && t.args.length === 2 && k0 === T_MINUS)) {
          const last = t.args[t.args.length - 1];
          const ls = src.at(last.loc);
          if (ls < 0) return -1;
          const le = this.termEnd(last, ls);
          return le < 0 ? -1 : this.closeParens(ls, le);
        }
        // f(args): the `(` after the operator's name
        const opEnd = this.termEnd(t.op, s);
        if (opEnd < 0 || toks[opEnd + 1]?.kind !== T_LPAREN) return -1;
        return src.match(opEnd + 1);
      }
    }
  }

  /** The token after `e` (skipping the closing parentheses of groups opened after `from`) must be `kind`. */
  private closeAfter(e: number, kind: number): number {
    const toks = this.src.tokens;
    let j = e + 1;
    while (toks[j]?.kind === T_RPAREN) j++;
    return toks[j]?.kind === kind ? j : -1;
  }

  /** Extend `e` over `)` that close parentheses opened at or after token `from`. */
  private closeParens(from: number, e: number): number {
    const src = this.src;
    while (src.tokens[e + 1]?.kind === T_RPAREN) {
      const m = src.matchBack(e + 1);
      if (m < from) break;
      e++;
    }
    return e;
  }

  /** The row a term is taken to be on; OPA places `set()` at its closing parenthesis. */
  private termRow(t: Term): number {
    if (t.type === "set" && t.items.length === 0) {
      const k = this.src.at(t.loc);
      if (k >= 0 && this.src.tokens[k].kind === T_IDENT && this.src.tokens[k + 2]?.kind === T_RPAREN) return this.src.tokens[k + 2].row;
    }
    return t.loc.row;
  }

  private writeTermValue(t: Term, comments: Comment[], parens: boolean): Comment[] {
    if ((t.type === "array" || t.type === "object" || t.type === "set") && this.flatLiteral(t, comments)) {
      this.write(this.literalText(t));
      return comments;
    }
    switch (t.type) {
      case "ref":
        comments = this.writeRef(t.terms, comments);
        break;
      case "array":
        comments = this.writeComposite(t, "[", "]", t.items.map((x) => ({ kind: "term", term: x })), comments);
        break;
      case "object":
        comments = this.writeComposite(t, "{", "}", dedupeItems(t.items).map(([k, v]) => ({ kind: "item", key: k, value: v })), comments);
        break;
      case "set":
        if (t.items.length === 0) this.write("set()");
        else comments = this.writeComposite(t, "{", "}", dedupeTerms(t.items).map((x) => ({ kind: "term", term: x })), comments);
        break;
      case "arraycomp":
        comments = this.writeComprehension(t, "[", "]", null, t.head, t.body, comments);
        break;
      case "setcomp":
        comments = this.writeComprehension(t, "{", "}", null, t.head, t.body, comments);
        break;
      case "objectcomp":
        comments = this.writeComprehension(t, "{", "}", t.key, t.value, t.body, comments);
        break;
      case "string":
        this.write(this.stringText(t));
        break;
      case "var":
        this.write(t.name.startsWith("$") ? "_" : t.name);
        break;
      case "call":
        if ((parens && callPrec(t) !== null && callPrec(t) !== IN_PREC) || isMember3(t)) {
          this.write("(");
          comments = this.writeCall(t.op, t.args, comments);
          this.write(")");
        } else comments = this.writeCall(t.op, t.args, comments);
        break;
      case "number":
        this.write(t.value);
        break;
      case "boolean":
        this.write(String(t.value));
        break;
      case "null":
        this.write("null");
        break;
    }
    return comments;
  }

  /**
   * A deeply nested literal (only scalars inside) on one row without comments: written without
   * recursion (literalText), which gives what writing it element by element would.
   */
  private flatLiteral(t: Term, comments: Comment[]): boolean {
    if (literalDepth(t) < 32) return false;
    const sp = this.span(t);
    if (sp === null || this.src.tokens[sp[0]].row !== this.src.tokens[sp[1]].row) return false;
    return !comments.some((c) => this.within(c, sp[0], sp[1]));
  }

  private literalText(t: Term): string {
    const leaf = (x: Term): string | undefined => {
      switch (x.type) {
        case "string": return this.stringText(x);
        case "number": return x.value;
        case "boolean": return String(x.value);
        case "null": return "null";
        case "set": return x.items.length === 0 ? "set()" : undefined;
        default: return undefined;
      }
    };
    const kids = (x: Term): Term[] => (x.type === "object" ? dedupeItems(x.items).flat() : x.type === "set" ? dedupeTerms(x.items) : (x as { items: Term[] }).items);
    return foldTerm(t, leaf, kids, (x, parts) => {
      if (x.type === "array") return "[" + parts.join(", ") + "]";
      if (x.type === "set") return "{" + parts.join(", ") + "}";
      const kv: string[] = [];
      for (let i = 0; i < parts.length; i += 2) kv.push(parts[i] + ": " + parts[i + 1]);
      return "{" + kv.join(", ") + "}";
    });
  }

  /** A string as written in the source (raw strings stay raw, escapes stay as they were). */
  private stringText(t: Term & { type: "string" }): string {
    const k = this.src.at(t.loc);
    if (k >= 0) {
      const tok = this.src.tokens[k];
      if (tok.kind === T_STRING) return this.src.text.slice(tok.start, tok.end);
    }
    return goQuote(t.value);
  }

  private writeRef(terms: Term[], comments: Comment[]): Comment[] {
    const head = terms[0];
    if (head.type === "call") {
      // An operator call heading a ref was parenthesised in the source.
      const infix = callPrec(head) !== null;
      if (infix) this.write("(");
      comments = this.writeCall(head.op, head.args, comments);
      if (infix) this.write(")");
    } else if (head.type === "var") {
      this.write(head.name.startsWith("$") ? "_" : head.name);
    } else {
      comments = this.writeTerm(head, comments);
    }
    for (const t of terms.slice(1)) comments = this.writeRefPart(t, comments);
    return comments;
  }

  private writeRefPart(t: Term, comments: Comment[] = []): Comment[] {
    if (t.type === "string") {
      const s = t.value;
      let bracket = !IDENT_RE.test(s);
      if (!bracket && this.keywords.has(s)) {
        const k = this.src.at(t.loc);
        const tok = k >= 0 ? this.src.tokens[k] : null;
        bracket = tok !== null && tok.kind === T_STRING && !tok.raw;
      }
      this.write(bracket ? "[" + goQuote(s) + "]" : "." + s);
    } else if (t.type === "var") {
      this.write("[" + (t.name.startsWith("$") ? "_" : t.name) + "]");
    } else {
      this.write("[");
      comments = this.writeTerm(t, comments);
      this.write("]");
    }
    return comments;
  }

  /** The source text of a composite term: from its opening bracket to the matching one. */
  private compositeSpan(t: Term): { text: string; closeRow: number } | null {
    const k = this.src.at(t.loc);
    if (k < 0) return null;
    const kind = this.src.tokens[k].kind;
    if (kind !== T_LBRACK && kind !== T_LBRACE) return null;
    const m = this.src.match(k);
    if (m < 0) return null;
    return { text: this.src.slice(k, m), closeRow: this.src.tokens[m].row };
  }

  private writeComposite(t: Term, open: string, close: string, elems: Elem[], comments: Comment[]): Comment[] {
    const span = this.compositeSpan(t);
    this.write(open);
    const closeRow = span ? closingRow(span.text, t.loc.row, open, close) : -1;
    comments = this.writeIterable(elems, t.loc, closeRow, comments, span ? span.text : null);
    this.write(close);
    return comments;
  }

  /**
   * Elements one line per source row; on several lines (with a trailing comma, the closing
   * bracket on its own line) when there is more than one row, or, for composites, when the
   * first element is below the opening bracket.
   */
  private writeIterable(elems: Elem[], open: Location, closeRow: number, comments: Comment[], openText: string | null): Comment[] {
    const sorted = elems.some(hasGeneratedVar) ? elems : elems.slice().sort((a, b) => cmpLoc(elemLoc(a), elemLoc(b)));
    const lines = groupRows(sorted, open);
    const multi = lines.length > 1 || (openText !== null && sorted.length > 0 && this.startsOnNewLine(openText, sorted[0]));
    if (multi) {
      this.delay = true;
      this.startMultilineSeq();
    }
    for (let i = 0; i < lines.length; i++) {
      lines[i].forEach((e, j) => {
        comments = this.writeElem(e, comments, !multi && openText !== null && i === 0 && j === 0 && readsAsComprehension(sorted));
        if (j < lines[i].length - 1) this.write(", ");
      });
      if (i < lines.length - 1) {
        this.write(",");
        this.endLine();
        this.startLine();
      }
    }
    if (multi) {
      this.write(",");
      this.endLine();
      comments = this.insertComments(comments, closeRow);
      this.down();
      this.startLine();
    }
    return comments;
  }

  /**
   * Whether a composite (or function head) is written on several lines because its first
   * element is below its start. OPA tells by finding the element's text in the composite's
   * text and looking for a line break before it, so an earlier occurrence of the same text
   * (in a comment, or in the function's name) counts instead.
   */
  private startsOnNewLine(openText: string, first: Elem): boolean {
    const t = first.kind === "term" ? first.term : first.kind === "item" ? first.key : null;
    const sp = t ? this.span(t) : null;
    if (!t || !sp) return elemLoc(first).row > this.src.tokens[0].row && false;
    const text = this.src.slice(sp[0], sp[1]);
    const idx = openText.indexOf(text);
    return idx >= 0 && openText.slice(0, idx).includes("\n");
  }

  private writeElem(e: Elem, comments: Comment[], orParens = false): Comment[] {
    if (e.kind === "term") return this.writeTerm(e.term, comments, this.keepOrParens(e.term) || orParens);
    if (e.kind === "item") {
      comments = this.writeTerm(e.key, comments, this.keepOrParens(e.key));
      this.write(": ");
      return this.writeTerm(e.value, comments, this.keepOrParens(e.value));
    }
    return this.writeExpr(e.expr, comments);
  }

  private writeComprehension(t: Term, open: string, close: string, key: Term | null, head: Term, body: Body, comments: Comment[]): Comment[] {
    this.write(open);
    // `{k: v | …}` is written as the key, then like `{v | …}` with v taken to be where k is.
    if (key) {
      comments = this.writeTerm(key, comments);
      this.write(": ");
    }
    const headLoc = key ? key.loc : head.loc;
    if (headLoc.row - t.loc.row >= 1) {
      this.endLine();
      this.startLine();
    }
    const span = this.compositeSpan(t);
    // `a | b` and `x in xs` heads need their parentheses to be read back as comprehensions.
    const hp = callPrec(head);
    if (hp === IN_PREC) {
      this.write("(");
      comments = this.writeTerm(head, comments);
      this.write(")");
    } else comments = this.writeTerm(head, comments, this.parenthesisedHead(t) || hp === INFIX.or[1]);
    this.write(" |");
    comments = this.writeComprehensionBody(open, close, body, headLoc, t.loc.row, span ? span.text : "", comments);
    this.write(close);
    return comments;
  }


  /** An `a | b` element written in parentheses keeps them (OPA's rule, which avoids reading `[(a | b)]` as a comprehension). */
  private keepOrParens(t: Term): boolean {
    return callPrec(t) === INFIX.or[1] && this.parenthesised(t);
  }

  /** The term was written inside its own parentheses (not a call's). */
  private parenthesised(t: Term): boolean {
    const src = this.src;
    const k = src.at(t.loc);
    for (let j = k - 1; j > 0 && src.tokens[j].kind === T_LPAREN; j--) {
      const p = src.tokens[j - 1];
      if ((p.kind === T_IDENT || p.kind === T_RBRACK || p.kind === T_RPAREN) && p.end === src.tokens[j].start) return false;
      const m = src.match(j);
      if (m < 0) return false;
      const after = src.tokens[m + 1]?.kind;
      if (after === T_COMMA || after === T_RBRACK || after === T_RBRACE || after === T_RPAREN || after === T_COLON) return true;
    }
    return false;
  }

  /** `[(a + b) | …]`: the comprehension's head was written in parentheses. */
  private parenthesisedHead(t: Term): boolean {
    const src = this.src;
    const k = src.at(t.loc);
    if (k < 0 || src.tokens[k + 1]?.kind !== T_LPAREN) return false;
    const m = src.match(k + 1);
    return m > 0 && src.tokens[m + 1]?.kind === T_OR;
  }

  private writeComprehensionBody(open: string, close: string, body: Body, headLoc: Location, comprRow: number, comprText: string, comments: Comment[]): Comment[] {
    const lines = groupRows(body.map((expr) => ({ kind: "expr", expr }) as Elem), headLoc);
    if ((body.length > 0 && body[0].loc.row - headLoc.row > 0) || lines.length > 1) {
      this.endLine();
      this.up();
      comments = this.writeBody(body, comments);
      comments = this.insertComments(comments, closingRow(comprText, comprRow, open, close));
      this.down();
      this.startLine();
    } else {
      this.write(" ");
      body.forEach((e, i) => {
        comments = this.writeExpr(e, comments, false);
        if (i < body.length - 1) this.write("; ");
      });
      comments = this.insertComments(comments, closingRow(comprText, comprRow, open, close));
    }
    return comments;
  }

  // ---- template strings ----

  /** `$"…{x}…"` back from internal.template_string([parts]); null if the parts are not that shape. */
  private templateString(items: Term[], l: Location): string | null {
    const k = this.src.at(l);
    const tok = k >= 0 ? this.src.tokens[k] : null;
    const raw = tok !== null && tok.raw;
    let s = raw ? "$`" : '$"';
    const esc = (x: string) => (raw ? x.replace(/\{/g, "\\{") : goQuote(x).slice(1, -1).replace(/\{/g, "\\{"));
    for (const it of items) {
      if (it.type === "string") {
        s += esc(it.value);
        continue;
      }
      if (it.type !== "setcomp" || it.head.type !== "var" || it.body.length !== 1) return null;
      const e = it.body[0];
      if (e.node.type !== "call" || opName(e.node.op) !== "eq" || e.node.args.length !== 2) return null;
      const v = e.node.args[1];
      if (e.with.length === 0 && (v.type === "string" || v.type === "number" || v.type === "boolean" || v.type === "null")) {
        s += esc(v.type === "string" ? v.value : v.type === "number" ? v.value : v.type === "null" ? "null" : String(v.value));
        continue;
      }
      const sub = new Formatter(this.mod, this.src.text, { regoVersion: this.v1 ? "v1" : "v0" });
      sub.refHeads = this.refHeads;
      sub.inline = true;
      const exprNode: Expr = {
        node: v.type === "call" ? { type: "call", op: v.op, args: v.args } : { type: "term", term: v },
        negated: false,
        with: e.with,
        loc: v.loc,
      };
      sub.writeExpr(exprNode, []);
      s += "{" + sub.out.join("") + "}";
    }
    return s + (raw ? "`" : '"');
  }
}

// ---- helpers ---------------------------------------------------------------------------------

const literalMemo = new WeakMap<Term, number>();

/**
 * How deep a literal (arrays, objects and sets of scalars, nothing else) nests; -1 for a term
 * that is not such a literal. Without recursion, once per term.
 */
function literalDepth(t: Term): number {
  if (t.type !== "array" && t.type !== "object" && t.type !== "set") {
    return t.type === "string" || t.type === "number" || t.type === "boolean" || t.type === "null" ? 0 : -1;
  }
  const known = literalMemo.get(t);
  if (known !== undefined) return known;
  return foldTerm(
    t,
    (x) => (x.type === "array" || x.type === "object" || x.type === "set" ? literalMemo.get(x) : literalDepth(x)),
    (x) => (x.type === "object" ? x.items.flat() : (x as { items: Term[] }).items),
    (x, ds) => {
      const d = ds.some((v) => v < 0) ? -1 : 1 + ds.reduce((a, b) => Math.max(a, b), 0);
      literalMemo.set(x, d);
      return d;
    },
  );
}


/** The direct sub-terms of a term (comprehension bodies included). */
function forEachChild(t: Term, f: (x: Term) => void): void {
  const body = (b: Body) => {
    for (const e of b) forEachExprTerm(e, f);
  };
  switch (t.type) {
    case "ref": t.terms.forEach(f); break;
    case "array":
    case "set": t.items.forEach(f); break;
    case "object": for (const [k, v] of t.items) { f(k); f(v); } break;
    case "arraycomp":
    case "setcomp": f(t.head); body(t.body); break;
    case "objectcomp": f(t.key); f(t.value); body(t.body); break;
    case "call": t.args.forEach(f); break;
  }
}

function forEachExprTerm(e: Expr, f: (x: Term) => void): void {
  const n = e.node;
  switch (n.type) {
    case "term": f(n.term); break;
    case "call": n.args.forEach(f); break;
    case "some": n.vars.forEach(f); break;
    case "somein": if (n.key) f(n.key); f(n.value); f(n.collection); break;
    case "every": if (n.key) f(n.key); f(n.value); f(n.domain); for (const x of n.body) forEachExprTerm(x, f); break;
  }
  for (const w of e.with) { f(w.target); f(w.value); }
}

function commentString(c: Comment): string {
  return "#" + c.text;
}

function importPath(imp: Import): string {
  return imp.path.terms.map((t) => (t.type === "var" ? t.name : t.type === "string" ? t.value : "?")).join(".");
}

/** OPA's order of imports within a group: by path (term by term), then alias. */
function compareImports(a: Import, b: Import): number {
  const ta = a.path.terms;
  const tb = b.path.terms;
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i];
    const y = tb[i];
    const rank = (t: Term) => (t.type === "string" ? 0 : 1);
    if (rank(x) !== rank(y)) return rank(x) - rank(y);
    const sx = x.type === "var" ? x.name : (x as { value: string }).value;
    const sy = y.type === "var" ? y.name : (y as { value: string }).value;
    const c = byteCompare(sx, sy);
    if (c !== 0) return c;
  }
  if (ta.length !== tb.length) return ta.length - tb.length;
  return byteCompare(a.alias ?? "", b.alias ?? "");
}

function byteCompare(a: string, b: string): number {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return Buffer.compare(x, y);
}

function groupRows(sorted: Elem[], open: Location): Elem[][] {
  // Elements holding generated variables (`__local0__`, as in partially evaluated policies)
  // are not grouped by row: OPA cannot trust their locations.
  if (sorted.some(hasGeneratedVar)) return [sorted];
  const lines: Elem[][] = [];
  let cur: Elem[] = [];
  let last = open;
  sorted.forEach((e, i) => {
    const l = elemLoc(e);
    if (l.row - last.row > 0 && i > 0) {
      lines.push(cur);
      cur = [];
    }
    last = l;
    cur.push(e);
  });
  lines.push(cur);
  return lines;
}

/**
 * The elements of an array or set would read back as a comprehension without parentheses
 * around the first: `[a | b]`, `[a | k, v in xs]`. (OPA leaves them out unless the source had
 * them, which changes the meaning.)
 */
function readsAsComprehension(elems: Elem[]): boolean {
  const first = elems[0];
  if (!first || first.kind !== "term" || callPrec(first.term) !== INFIX.or[1]) return false;
  if (elems.length === 1) return true;
  const second = elems[1];
  return elems.length === 2 && second.kind === "term" && second.term.type === "call" && opName(second.term.op) === "internal.member_2";
}

function hasGeneratedVar(e: Elem): boolean {
  // (Object entries are not looked into, as OPA's check does not.)
  if (e.kind === "term") return termHasGeneratedVar(e.term);
  let found = false;
  if (e.kind === "expr") forEachExprTerm(e.expr, (t) => (found ||= termHasGeneratedVar(t)));
  return found;
}

const generatedMemo = new WeakMap<Term, boolean>();

/** Does a term (comprehension bodies included) hold a generated variable (`__local0__`)? Without recursion, once per term. */
function termHasGeneratedVar(root: Term): boolean {
  const known = generatedMemo.get(root);
  if (known !== undefined) return known;
  let found = false;
  const todo: Term[] = [root];
  while (todo.length > 0 && !found) {
    const t = todo.pop()!;
    const k = generatedMemo.get(t);
    if (k !== undefined) found = k;
    else if (t.type === "var") found = t.name.startsWith("__local");
    else forEachChild(t, (x) => todo.push(x));
  }
  generatedMemo.set(root, found);
  return found;
}

function isTrue(t: Term): boolean {
  return t.type === "boolean" && t.value === true;
}

function opName(op: RefTerm): string {
  return op.terms.map((t) => (t.type === "var" ? t.name : t.type === "string" ? t.value : "?")).join(".");
}

function prec(name: string): number {
  return INFIX[name]?.[1] ?? -1;
}

/** Binding strength of an operator call term (`in` included), or null for other calls. */
function callPrec(t: Term): number | null {
  if (t.type !== "call") return null;
  const name = opName(t.op);
  if ((name === "internal.member_2" && t.args.length === 2) || (name === "internal.member_3" && t.args.length === 3)) return IN_PREC;
  const inf = INFIX[name];
  if (inf && t.args.length === 2 && inf[1] > 0) return inf[1];
  return null;
}

function isMember3(t: Term): boolean {
  return t.type === "call" && t.args.length === 3 && opName(t.op) === "internal.member_3";
}

/** The body of a `not { … }` expression (see the parser's notBody), or null. */
function notBody(t: Term): Body | null {
  if (t.type !== "ref" || t.terms.length !== 2) return null;
  const [c, k] = t.terms;
  if (c.type !== "setcomp" || k.type !== "boolean" || !k.value || !isTrue(c.head)) return null;
  if (c.head.loc !== c.loc || k.loc !== c.loc) return null;
  return c.body;
}

/** Rego-like text of a term as OPA's Term.String() writes it (for rule-head refs and call names). */
function termString(t: Term): string {
  return parserTermString(t, { quote: goQuote, hideGenerated: true });
}

/** A structural key for a term, locations ignored (sets and objects drop duplicates as OPA's do). */
function termKey(t: Term): string {
  const leaf = termKeyLeaf(t);
  if (leaf !== undefined) return leaf;
  return foldTerm(t, termKeyLeaf, keyKids, (x, parts) => {
    let k: string;
    switch (x.type) {
      case "ref": k = `r:[${parts.join(",")}]`; break;
      case "call": k = `c:${parts[0]}(${parts.slice(1).join(",")})`; break;
      case "array": k = `a:[${parts.join(",")}]`; break;
      case "set": k = `S:{${[...new Set(parts)].sort().join(",")}}`; break;
      default: {
        const kv: string[] = [];
        for (let i = 0; i < parts.length; i += 2) kv.push(parts[i] + ":" + parts[i + 1]);
        k = `o:{${kv.sort().join(",")}}`;
      }
    }
    keyMemo.set(x, k);
    return k;
  });
}

// Keys of composite terms, computed once (nested sets would be keyed again at every level).
const keyMemo = new WeakMap<Term, string>();

function termKeyLeaf(t: Term): string | undefined {
  switch (t.type) {
    case "number": {
      const n = Number(t.value);
      return Number.isFinite(n) && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t.value) && Math.abs(n) < 2 ** 53 ? `n:${n}` : `n:${t.value}`;
    }
    case "string": return `s:${JSON.stringify(t.value)}`;
    case "boolean": return `b:${t.value}`;
    case "null": return "null";
    case "var": return `v:${t.name}`;
    case "ref":
    case "call":
    case "array":
    case "set":
    case "object":
      return keyMemo.get(t);
    // Comprehensions are never equal to each other for this purpose unless at the same place.
    default: return `x:${t.loc.row}:${t.loc.col}`;
  }
}

function keyKids(t: Term): Term[] {
  switch (t.type) {
    case "ref": return t.terms;
    case "call": return [t.op, ...t.args];
    case "array":
    case "set": return t.items;
    case "object": return t.items.flat();
    default: return [];
  }
}

function dedupeTerms(items: Term[]): Term[] {
  if (items.length < 2) return items;
  const seen = new Set<string>();
  const out: Term[] = [];
  for (const t of items) {
    const k = termKey(t);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(t);
  }
  return out;
}

function dedupeItems(items: [Term, Term][]): [Term, Term][] {
  if (items.length < 2) return items;
  const idx = new Map<string, number>();
  const out: [Term, Term][] = [];
  for (const [k, v] of items) {
    const key = termKey(k);
    const i = idx.get(key);
    if (i !== undefined) out[i] = [out[i][0], v];
    else {
      idx.set(key, out.length);
      out.push([k, v]);
    }
  }
  return out;
}
