// Source extents of expressions and rule heads (the AST keeps only start positions): where each
// ends, found by scanning the module's tokens with bracket depth. Coverage reports ranges the way
// `opa test --coverage` does: start row/col to end row/col, the end column just past the last
// character, columns in code points.

import { lex, Token, T_STRING, T_NUMBER, T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN, T_SEMI, T_IDENT, T_COMMA, T_ASSIGN, T_EQ, T_EQEQ, T_NEQ, T_LT, T_LTE, T_GT, T_GTE, T_PLUS, T_MINUS, T_MUL, T_DIV, T_REM, T_AND, T_OR, T_COLON, T_DOT, T_TPL_BEGIN, T_TPL_END } from "../rego/lexer.ts";

export interface Pos {
  row: number;
  col: number;
}

export interface Range {
  start: Pos;
  end: Pos;
}

const OPEN = new Set([T_LBRACE, T_LBRACK, T_LPAREN, T_TPL_BEGIN]);
const CLOSE = new Set([T_RBRACE, T_RBRACK, T_RPAREN, T_TPL_END]);
/** Tokens after which an expression continues on the next line. */
const CONTINUES = new Set([T_COMMA, T_ASSIGN, T_EQ, T_EQEQ, T_NEQ, T_LT, T_LTE, T_GT, T_GTE, T_PLUS, T_MINUS, T_MUL, T_DIV, T_REM, T_AND, T_OR, T_COLON, T_DOT]);

export class SourceIndex {
  readonly tokens: Token[];
  private byPos = new Map<string, number>();
  private lineStarts: number[] = [0];
  constructor(private source: string) {
    let toks: Token[] = [];
    try {
      toks = lex(source).tokens;
    } catch {
      toks = [];
    }
    this.tokens = toks;
    toks.forEach((t, i) => this.byPos.set(`${t.row}:${t.col}`, i));
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** The `{` that opens the body whose first expression starts at (row, col), if any. */
  braceBefore(row: number, col: number): { row: number; col: number } | null {
    const i = this.tokenAt(row, col);
    if (i <= 0) return null;
    const t = this.tokens[i - 1];
    return t.kind === T_LBRACE ? { row: t.row, col: t.col } : null;
  }

  tokenAt(row: number, col: number): number {
    return this.byPos.get(`${row}:${col}`) ?? -1;
  }

  /** Row/col (code points, 1-based) just past the UTF-16 offset `end`. */
  posAfter(end: number): Pos {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= end - 1) lo = mid;
      else hi = mid - 1;
    }
    const lineStart = this.lineStarts[lo];
    const text = this.source.slice(lineStart, end);
    return { row: lo + 1, col: [...text].length + 1 };
  }

  /**
   * The range of the expression starting at (row, col): tokens up to a `;`, the bracket that
   * closes the enclosing body, a line break (unless the line ends with an operator or comma),
   * an `else`, or the start of `stopAt` (the next expression).
   */
  exprRange(row: number, col: number, stopAt?: Set<string>): Range | null {
    const i = this.tokenAt(row, col);
    if (i < 0) return null;
    let depth = 0;
    let last = i;
    // `every x in xs { … }`: the first body brace belongs to the expression.
    let everyBody = this.tokens[i].kind === T_IDENT && this.tokens[i].text === "every";
    for (let j = i; j < this.tokens.length; j++) {
      const t = this.tokens[j];
      if (t.kind === 0) break;
      if (j > i && depth === 0) {
        if (t.kind === T_SEMI || CLOSE.has(t.kind)) break;
        if (stopAt?.has(`${t.row}:${t.col}`)) break;
        if (t.nl && !CONTINUES.has(this.tokens[j - 1].kind) && !(t.kind === T_IDENT && t.text === "with")) break;
        if (t.kind === T_IDENT && (t.text === "else" || t.text === "if")) break;
        if (t.kind === T_LBRACE && this.bodyBrace(j)) {
          if (!everyBody) break;
          everyBody = false;
        }
      }
      if (OPEN.has(t.kind)) depth++;
      else if (CLOSE.has(t.kind)) {
        if (depth === 0) break;
        depth--;
      }
      last = j;
    }
    return { start: { row, col }, end: this.posAfter(this.tokens[last].end) };
  }

  /**
   * The range of the term starting at (row, col): a bracketed term to its closing bracket, a
   * name with what follows it without a space (`.field`, `[key]`, `(args)`), else one token.
   */
  termRange(row: number, col: number): Range | null {
    const i = this.tokenAt(row, col);
    if (i < 0) return null;
    let j = i;
    const close = (k: number): number => {
      let depth = 0;
      for (let m = k; m < this.tokens.length; m++) {
        const t = this.tokens[m];
        if (t.kind === 0) return m - 1;
        if (OPEN.has(t.kind)) depth++;
        else if (CLOSE.has(t.kind) && --depth === 0) return m;
      }
      return this.tokens.length - 1;
    };
    if (OPEN.has(this.tokens[j].kind)) j = close(j);
    for (;;) {
      const next = this.tokens[j + 1];
      if (!next || next.nl || next.start !== this.tokens[j].end) break;
      if (next.kind === T_DOT && this.tokens[j + 2]?.kind === T_IDENT) j += 2;
      else if (next.kind === T_LBRACK || next.kind === T_LPAREN) j = close(j + 1);
      else break;
    }
    return { start: { row, col }, end: this.posAfter(this.tokens[j].end) };
  }

  /** A `{` that opens a rule body (v0 `p { … }`, `f(x) { … }`, `else { … }`) rather than a term. */
  private bodyBrace(j: number): boolean {
    const prev = this.tokens[j - 1];
    if (!prev) return false;
    // After a complete term: `p[x] {`, `f(x) {`, `p = "v" {`, `p = {"a": 1} {` (v0 heads).
    if (prev.kind === T_RBRACK || prev.kind === T_RPAREN || prev.kind === T_RBRACE || prev.kind === T_STRING || prev.kind === T_NUMBER) return true;
    if (prev.kind === T_IDENT) return !["contains", "in", "if", "not", "with", "as", "some", "every", "else"].includes(prev.text) || prev.text === "else";
    return false;
  }

  /**
   * A rule head's ranges: from the rule's start to before `if`/the body brace/the end of its
   * line. A `default` rule gives two ranges, the keyword and the rest, as opa reports them.
   */
  headRanges(row: number, col: number): Range[] {
    const i = this.tokenAt(row, col);
    if (i < 0) return [];
    const t = this.tokens[i];
    if (t.kind === T_LBRACE) {
      // A further body of a v0 rule (`p { … } { … }`): opa places that rule at its block.
      let depth = 0;
      for (let j = i; j < this.tokens.length; j++) {
        const u = this.tokens[j];
        if (OPEN.has(u.kind)) depth++;
        else if (CLOSE.has(u.kind) && --depth === 0) return [{ start: { row, col }, end: this.posAfter(u.end) }];
      }
      return [];
    }
    if (t.kind === T_IDENT && t.text === "default" && i + 1 < this.tokens.length) {
      const n = this.tokens[i + 1];
      const rest = this.exprRange(n.row, n.col);
      return [{ start: { row, col }, end: this.posAfter(t.end) }, ...(rest ? [rest] : [])];
    }
    const r = this.exprRange(row, col);
    return r ? [r] : [];
  }
}

/** Each row a range spans. */
export function rowsOf(r: Range): number[] {
  const out: number[] = [];
  for (let row = r.start.row; row <= r.end.row; row++) out.push(row);
  return out;
}
