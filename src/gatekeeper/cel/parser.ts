// Portcullis's CEL parser: the whole grammar of cel-spec (langdef.md; cel-go's CEL.g4) with the
// optional syntax (`x.?f`, `l[?i]`, `{?k: v}`, `[?x]`, `Msg{?f: v}`) and backtick-quoted field
// names (`` x.`a-b` ``), producing the AST @bufbuild/cel's planner consumes (cel.expr Expr
// messages as plain objects, and a SourceInfo with positions).
//
// The tree follows cel-go's parser: node ids are allocated in cel-go's order, positions are
// cel-go's (an operator or call at its operator token or "(", a select at its ".", a literal or
// identifier at its first character), `&&`/`||` chains are balanced trees, `!!x` and `--x` fold,
// `-1` is a literal, the optional syntax becomes calls of `_?._` and `_[?_]` and optional entry /
// element flags, and the macros are expanded as cel-go expands them: has, all, exists,
// exists_one, map (2 and 3 arguments), filter, optMap, optFlatMap (the accumulator is
// "@result"), and the two-variable comprehensions of cel-go's extension (`l.all(i, v, p)`,
// exists, existsOne, transformList, transformMap, transformMapEntry) into comprehensions with a
// second iteration variable, which @bufbuild/cel's evaluator ignores: engine.ts rewrites them.
//
// Limits, as cel-go's defaults: expressions longer than 100,000 code points are refused, and so
// are expressions whose grammar rules nest deeper than 250 (cel-go's ANTLR listener: "expression
// recursion limit exceeded: 250") or whose operators, selections, calls and indexes nest deeper
// than 250 (cel-go's visitor: "max recursion depth exceeded").

import { tokenize, type Token } from "./lexer.ts";

/** cel-go's limits (parser.MaxRecursionDepth, parser.ExpressionSizeCodePointLimit defaults). */
export const MAX_RECURSION_DEPTH = 250;
export const MAX_CODE_POINTS = 100_000;

export interface ParseOptions {
  /** Backtick-quoted field names (cel-go's EnableIdentifierEscapeSyntax; Kubernetes leaves it off). */
  identEscape?: boolean;
  /** The optional syntax (cel-go's OptionalTypes; Kubernetes turns it on). Default true. */
  optionalSyntax?: boolean;
}

/** One parse error: a message at an offset (-1: no location, as cel-go's internal errors). */
export interface ParseIssue {
  offset: number;
  message: string;
}

/** The parse failed: cel-go's errors (the first syntax error, or the errors of the tree). */
export class CelParseError extends Error {
  constructor(public readonly issues: ParseIssue[]) {
    super(issues.map((i) => i.message).join("; "));
  }
}

/**
 * An error as cel-go displays it: "ERROR: <input>:line:column: message", then the source line
 * and a caret under the column (wide characters get wide dots); -1 is cel-go's "no location".
 */
export function displayError(source: string, offset: number, message: string): string {
  if (offset < 0) return `ERROR: <input>:-1:0: ${message}`;
  const before = source.slice(0, offset);
  let line = 1;
  for (let i = before.indexOf("\n"); i >= 0; i = before.indexOf("\n", i + 1)) line++;
  const lineStart = before.lastIndexOf("\n") + 1;
  const lead = Array.from(source.slice(lineStart, offset));
  let out = `ERROR: <input>:${line}:${lead.length + 1}: ${message}`;
  const snippet = source.slice(lineStart).split("\n")[0];
  if (Buffer.byteLength(snippet, "utf8") <= 16_384) {
    const wide = (ch: string | undefined) => ch !== undefined && ch.codePointAt(0)! >= 0x80;
    const at = Array.from(snippet)[lead.length];
    out += `\n | ${snippet.replaceAll("\t", " ")}\n | ${lead.map((ch) => (wide(ch) ? "\uff0e" : ".")).join("")}${wide(at) ? "\uff3e" : "^"}`;
  }
  return out;
}

// ---- the AST (the cel.expr protobuf messages, as @bufbuild/protobuf's plain objects) ----------

export type Expr = {
  $typeName: "cel.expr.Expr";
  id: bigint;
  exprKind: ExprKind;
};
export type Constant =
  | { case: "int64Value"; value: bigint }
  | { case: "uint64Value"; value: bigint }
  | { case: "doubleValue"; value: number }
  | { case: "stringValue"; value: string }
  | { case: "bytesValue"; value: Uint8Array }
  | { case: "boolValue"; value: boolean }
  | { case: "nullValue"; value: 0 };
export type Entry = {
  $typeName: "cel.expr.Expr.CreateStruct.Entry";
  id: bigint;
  keyKind: { case: "mapKey"; value: Expr } | { case: "fieldKey"; value: string };
  value: Expr;
  optionalEntry: boolean;
};
export type ExprKind =
  | { case: "constExpr"; value: { $typeName: "cel.expr.Constant"; constantKind: Constant } }
  | { case: "identExpr"; value: { $typeName: "cel.expr.Expr.Ident"; name: string } }
  | { case: "selectExpr"; value: { $typeName: "cel.expr.Expr.Select"; operand: Expr; field: string; testOnly: boolean } }
  | { case: "callExpr"; value: { $typeName: "cel.expr.Expr.Call"; function: string; target?: Expr; args: Expr[] } }
  | { case: "listExpr"; value: { $typeName: "cel.expr.Expr.CreateList"; elements: Expr[]; optionalIndices: number[] } }
  | { case: "structExpr"; value: { $typeName: "cel.expr.Expr.CreateStruct"; messageName: string; entries: Entry[] } }
  | {
      case: "comprehensionExpr";
      value: {
        $typeName: "cel.expr.Expr.Comprehension";
        iterVar: string;
        iterVar2: string;
        iterRange: Expr;
        accuVar: string;
        accuInit: Expr;
        loopCondition: Expr;
        loopStep: Expr;
        result: Expr;
      };
    };

export interface SourceInfo {
  $typeName: "cel.expr.SourceInfo";
  syntaxVersion: string;
  location: string;
  lineOffsets: number[];
  positions: Record<string, number>;
  macroCalls: Record<string, Expr>;
  extensions: unknown[];
}

export interface ParsedExpr {
  $typeName: "cel.expr.ParsedExpr";
  expr: Expr;
  sourceInfo: SourceInfo;
}

const ACCU = "@result";
const UNUSED = "#unused";

const RESERVED = new Set(["as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"]);

// ---- syntax error texts: ANTLR's, as cel-go reports them -----------------------------------------
// The first error is reported with ANTLR's wording and position: "mismatched input 'x' expecting
// {...}", "extraneous input 'x' expecting ..." (when dropping the token would do), "missing 'x'
// at 'y'" (when inserting one would do), "no viable alternative at input '...'", with the
// expected sets in ANTLR's token order. cel-go goes on after the first error and may report more.

/** The grammar's tokens in ANTLR's order (CEL.g4's lexer rules), for the expected sets. */
const TOKEN_ORDER = ["==", "!=", "in", "<", "<=", ">=", ">", "&&", "||", "[", "]", "{", "}", "(", ")", ".", ",", "-", "!", "?", ":", "+", "*", "/", "%", "true", "false", "null", "NUM_FLOAT", "NUM_INT", "NUM_UINT", "STRING", "BYTES", "IDENTIFIER", "ESC_IDENTIFIER"];
/** The tokens that start an expression. */
const EXPR_START = ["[", "{", "(", ".", "-", "!", "true", "false", "null", "NUM_FLOAT", "NUM_INT", "NUM_UINT", "STRING", "BYTES", "IDENTIFIER"];
/** The tokens that may follow a complete operand (operators, selection, indexing, the conditional). */
const AFTER_OPERAND = ["==", "!=", "in", "<", "<=", ">=", ">", "&&", "||", "[", ".", "-", "?", "+", "*", "/", "%"];

/** A token's name in the grammar. */
function tokenName(t: Token): string {
  switch (t.kind) {
    case "punct":
    case "keyword":
      return t.text;
    case "int":
      return "NUM_INT";
    case "uint":
      return "NUM_UINT";
    case "double":
      return "NUM_FLOAT";
    case "string":
      return "STRING";
    case "bytes":
      return "BYTES";
    case "ident":
      return "IDENTIFIER";
    case "escIdent":
      return "ESC_IDENTIFIER";
    case "eof":
      return "EOF";
  }
}

/** An expected set as ANTLR prints it: one token, or {a, b} in token order; literals quoted. */
function setText(names: string[]): string {
  const uniq = [...new Set(names)].sort((a, b) => TOKEN_ORDER.indexOf(a) - TOKEN_ORDER.indexOf(b));
  const show = (n: string) => (n === "EOF" ? "<EOF>" : /^[A-Z_]+$/.test(n) ? n : `'${n}'`);
  return uniq.length === 1 ? show(uniq[0]) : `{${uniq.map(show).join(", ")}}`;
}

class Stop extends Error {
  constructor(public readonly issue: ParseIssue) {
    super(issue.message);
  }
}

/** Parse a CEL expression; throws CelParseError. */
export function parseCel(source: string, opts: ParseOptions = {}): ParsedExpr {
  const codePoints = countCodePoints(source);
  if (codePoints > MAX_CODE_POINTS) throw new CelParseError([{ offset: -1, message: `expression code point size exceeds limit: size: ${codePoints}, limit ${MAX_CODE_POINTS}` }]);
  const { tokens, errors } = tokenize(source);
  // cel-go reports the lexer's and the parser's errors in the order of their positions
  const lexIssues: ParseIssue[] = errors.map((e) => ({ offset: e.offset, message: `Syntax error: ${e.message}` }));
  const p = new Parser(source, tokens, opts);
  let expr: Expr | null = null;
  let stop: ParseIssue | null = null;
  try {
    expr = p.start();
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    stop = e.issue;
  }
  if (stop || lexIssues.length || p.issues.length) {
    let issues = [...lexIssues, ...p.issues];
    // after the first syntax error cel-go's recovery goes on; its further errors are not reproduced
    if (stop) issues = [...issues.filter((i) => i.offset < stop.offset), stop];
    throw new CelParseError(issues.sort((a, b) => a.offset - b.offset));
  }
  return {
    $typeName: "cel.expr.ParsedExpr",
    expr: expr!,
    sourceInfo: {
      $typeName: "cel.expr.SourceInfo",
      syntaxVersion: "",
      location: "",
      lineOffsets: lineOffsets(source),
      positions: p.positions,
      macroCalls: {},
      extensions: [],
    },
  };
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) i++;
    }
    n++;
  }
  return n;
}

function lineOffsets(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) if (s[i] === "\n") out.push(i + 1);
  out.push(s.length + 1);
  return out;
}

type Rule = "start" | "expr" | "conditionalOr" | "conditionalAnd" | "relation" | "calc" | "unary" | "member" | "primary" | "exprList" | "listInit" | "fieldInitializerList" | "optField" | "mapInitializerList" | "escapeIdent" | "optExpr" | "literal";

const RELATIONS: Record<string, string> = { "<": "_<_", "<=": "_<=_", ">=": "_>=_", ">": "_>_", "==": "_==_", "!=": "_!=_", in: "@in" };
const MULTIPLICATIVE: Record<string, string> = { "*": "_*_", "/": "_/_", "%": "_%_" };
const ADDITIVE: Record<string, string> = { "+": "_+_", "-": "_-_" };

class Parser {
  private pos = 0;
  private nextId = 0n;
  readonly positions: Record<string, number> = {};
  readonly issues: ParseIssue[] = [];
  /** The nesting of rule invocations per rule (cel-go's recursion listener on its ANTLR parser; the
   * left-recursive rules' chains do not count there, cel-go's visitor limits them). */
  private ruleDepth = new Map<Rule, number>();
  /** What may follow the expression being parsed, per enclosing construct (for "missing" errors). */
  private follow: string[][] = [["EOF"]];
  private exprExtra: string[] = [];
  private exprExtraAt = -1;
  /** After '!' operators (ANTLR's loop: any error there is "extraneous input"). */
  private bangAt = -1;
  /** After '-' operators: the first one's offset (ANTLR's "no viable alternative" from there). */
  private minusAt = -1;
  private minusFrom = 0;
  /** cel-go's visitor depth of each built node (ternary, relation, arithmetic, select, member call, index). */
  private vdepth = new WeakMap<Expr, number>();

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
    private readonly opts: ParseOptions,
  ) {}

  // ---- tokens -------------------------------------------------------------------------------

  private get tok(): Token {
    return this.tokens[this.pos];
  }
  private peek(k = 1): Token {
    return this.tokens[Math.min(this.pos + k, this.tokens.length - 1)];
  }
  private is(text: string): boolean {
    const t = this.tok;
    return (t.kind === "punct" || t.kind === "keyword") && t.text === text;
  }
  private quoteTok(t: Token): string {
    return t.kind === "eof" ? "'<EOF>'" : `'${t.text}'`;
  }
  private fail(t: Token, message: string): never {
    throw new Stop({ offset: t.start, message: `Syntax error: ${message}` });
  }
  /**
   * Match `text`, or fail as ANTLR does: extraneous input when the next token is `text`, missing
   * `text` when the current token may follow it (`after`), else mismatched input.
   */
  private expect(text: string, after: string[]): Token {
    const t = this.tok;
    if (this.is(text)) {
      this.pos++;
      return t;
    }
    if (t.kind !== "eof" && tokenName(this.peek()) === text) this.fail(t, `extraneous input ${this.quoteTok(t)} expecting '${text}'`);
    if (after.includes(tokenName(t))) this.fail(t, `missing '${text}' at ${this.quoteTok(t)}`);
    this.fail(t, `mismatched input ${this.quoteTok(t)} expecting '${text}'`);
  }

  /** What may follow a closing token of the current construct: operators, or what ends the enclosing one. */
  private afterClose(): string[] {
    return [...AFTER_OPERAND, ...this.follow[this.follow.length - 1]];
  }

  /** The end of a list, map or message: an optional trailing ',' then `closer` (ANTLR's sync before ','?). */
  private syncClose(closer: string): void {
    if (this.is(",") || this.is(closer)) return;
    const set = [closer, ","];
    const t = this.tok;
    if (t.kind !== "eof" && set.includes(tokenName(this.peek()))) this.fail(t, `extraneous input ${this.quoteTok(t)} expecting ${setText(set)}`);
    this.fail(t, `mismatched input ${this.quoteTok(t)} expecting ${setText(set)}`);
  }

  /** Parse an expression that ends with one of `ends` (for the "missing" checks of its closers). */
  private within<T>(ends: string[], f: () => T): T {
    this.follow.push(ends);
    try {
      return f();
    } finally {
      this.follow.pop();
    }
  }

  /** Tokens besides an expression's start the grammar accepts at this position (ANTLR's expected set). */
  private acceptAlso(extra: string[]): void {
    this.exprExtra = extra;
    this.exprExtraAt = this.pos;
  }

  private enter(rule: Rule): void {
    const d = (this.ruleDepth.get(rule) ?? 0) + 1;
    this.ruleDepth.set(rule, d);
    if (d > MAX_RECURSION_DEPTH) throw new Stop({ offset: -1, message: `expression recursion limit exceeded: ${MAX_RECURSION_DEPTH}` });
  }
  private exit(rule: Rule): void {
    this.ruleDepth.set(rule, this.ruleDepth.get(rule)! - 1);
  }

  // ---- nodes --------------------------------------------------------------------------------

  private id(offset: number): bigint {
    const id = ++this.nextId;
    this.positions[String(id)] = offset;
    return id;
  }
  private node(id: bigint, exprKind: ExprKind, depth = 0): Expr {
    const e: Expr = { $typeName: "cel.expr.Expr", id, exprKind };
    if (depth > 0) this.vdepth.set(e, depth);
    return e;
  }
  private vd(...es: (Expr | undefined)[]): number {
    let m = 0;
    for (const e of es) if (e) m = Math.max(m, this.vdepth.get(e) ?? 0);
    return m;
  }
  /** A node cel-go's visitor counts: one level deeper than its children. */
  private counted(children: (Expr | undefined)[]): number {
    const d = this.vd(...children) + 1;
    if (d > MAX_RECURSION_DEPTH) throw new Stop({ offset: -1, message: "max recursion depth exceeded" });
    return d;
  }
  private constNode(id: bigint, c: Constant): Expr {
    return this.node(id, { case: "constExpr", value: { $typeName: "cel.expr.Constant", constantKind: c } });
  }
  private identNode(id: bigint, name: string): Expr {
    return this.node(id, { case: "identExpr", value: { $typeName: "cel.expr.Expr.Ident", name } });
  }
  private callNode(id: bigint, fn: string, args: Expr[], target?: Expr, depth = 0): Expr {
    const value = target ? { $typeName: "cel.expr.Expr.Call" as const, function: fn, target, args } : { $typeName: "cel.expr.Expr.Call" as const, function: fn, args };
    return this.node(id, { case: "callExpr", value }, depth || this.vd(target, ...args));
  }
  private listNode(id: bigint, elements: Expr[], optionalIndices: number[] = []): Expr {
    return this.node(id, { case: "listExpr", value: { $typeName: "cel.expr.Expr.CreateList", elements, optionalIndices } }, this.vd(...elements));
  }
  private macroId(at: bigint): bigint {
    return this.id(this.positions[String(at)]);
  }
  private report(offset: number, message: string): Expr {
    this.issues.push({ offset, message });
    return this.identNode(this.id(offset), "<error>");
  }

  // ---- grammar ------------------------------------------------------------------------------

  start(): Expr {
    this.enter("start");
    const e = this.expr();
    if (this.tok.kind !== "eof") this.fail(this.tok, `${this.peek().kind === "eof" ? "extraneous" : "mismatched"} input ${this.quoteTok(this.tok)} expecting <EOF>`);
    this.exit("start");
    return e;
  }

  private expr(): Expr {
    this.enter("expr");
    let e = this.conditionalOr();
    if (this.is("?")) {
      const op = this.tok;
      this.pos++;
      const id = this.id(op.start);
      const t = this.within([":"], () => this.conditionalOr());
      this.expect(":", EXPR_START);
      const f = this.expr();
      e = this.callNode(id, "_?_:_", [e, t, f], undefined, this.counted([e, t, f]));
    }
    this.exit("expr");
    return e;
  }

  private conditionalOr(): Expr {
    this.enter("conditionalOr");
    const first = this.conditionalAnd();
    const terms = [first];
    const ops: bigint[] = [];
    while (this.is("||")) {
      const op = this.tok;
      this.pos++;
      terms.push(this.conditionalAnd());
      ops.push(this.id(op.start));
    }
    this.exit("conditionalOr");
    return this.balanced("_||_", terms, ops);
  }

  private conditionalAnd(): Expr {
    this.enter("conditionalAnd");
    const terms = [this.relation(0)];
    const ops: bigint[] = [];
    while (this.is("&&")) {
      const op = this.tok;
      this.pos++;
      terms.push(this.relation(0));
      ops.push(this.id(op.start));
    }
    this.exit("conditionalAnd");
    return this.balanced("_&&_", terms, ops);
  }

  /** cel-go's balanced logic tree (its balancingLogicManager). */
  private balanced(fn: string, terms: Expr[], ops: bigint[]): Expr {
    if (terms.length === 1) return terms[0];
    const build = (lo: number, hi: number): Expr => {
      const mid = Math.floor((lo + hi + 1) / 2);
      const left = mid === lo ? terms[mid] : build(lo, mid - 1);
      const right = mid === hi ? terms[mid + 1] : build(mid + 1, hi);
      return this.callNode(ops[mid], fn, [left, right]);
    };
    return build(0, ops.length - 1);
  }

  /** relation: calc | relation op relation (one precedence level, left associative). */
  private relation(prec: number): Expr {
    this.enter("relation");
    let e = this.calc(0);
    while (prec <= 1 && this.tok.text in RELATIONS && (this.tok.kind === "punct" || this.tok.kind === "keyword")) {
      const op = this.tok;
      this.pos++;
      const id = this.id(op.start);
      const rhs = this.relation(2);
      e = this.callNode(id, RELATIONS[op.text], [e, rhs], undefined, this.counted([e, rhs]));
    }
    this.exit("relation");
    return e;
  }

  /** calc: unary | calc (* / %) calc | calc (+ -) calc, as ANTLR's precedence climbing. */
  private calc(prec: number): Expr {
    this.enter("calc");
    let e = this.unary();
    for (;;) {
      const t = this.tok;
      if (t.kind !== "punct") break;
      let fn: string | undefined;
      let next: number;
      if (prec <= 2 && t.text in MULTIPLICATIVE) {
        fn = MULTIPLICATIVE[t.text];
        next = 3;
      } else if (prec <= 1 && t.text in ADDITIVE) {
        fn = ADDITIVE[t.text];
        next = 2;
      } else break;
      this.pos++;
      const id = this.id(t.start);
      const rhs = this.calc(next);
      e = this.callNode(id, fn, [e, rhs], undefined, this.counted([e, rhs]));
    }
    this.exit("calc");
    return e;
  }

  private unary(): Expr {
    this.enter("unary");
    let e: Expr;
    const t = this.tok;
    if (this.is("!") || (this.is("-") && !this.negativeLiteralAhead())) {
      const ops: Token[] = [];
      while (this.is(t.text)) {
        ops.push(this.tok);
        this.pos++;
      }
      if (t.text === "!") this.bangAt = this.pos;
      else {
        this.minusAt = this.pos;
        this.minusFrom = ops[0].start;
      }
      if (ops.length % 2 === 0) e = this.member();
      else {
        const id = this.id(ops[0].start);
        const m = this.member();
        e = this.callNode(id, t.text === "!" ? "!_" : "-_", [m]);
      }
    } else e = this.member();
    this.exit("unary");
    return e;
  }

  /** A '-' directly before an int or double literal is the literal's sign (ANTLR's first alternative). */
  private negativeLiteralAhead(): boolean {
    const n = this.peek();
    return n.kind === "int" || n.kind === "double";
  }

  private member(): Expr {
    this.enter("member");
    let e = this.primary();
    for (;;) {
      if (this.is(".")) {
        const dot = this.tok;
        this.pos++;
        let opt = false;
        if (this.is("?")) {
          opt = true;
          this.pos++;
        }
        const idTok = this.tok;
        if (!opt && idTok.kind === "ident" && this.peek().kind === "punct" && this.peek().text === "(") {
          // member call
          this.pos++;
          const open = this.tok;
          this.pos++;
          const callId = this.id(open.start);
          this.acceptAlso([")"]);
          const args = this.is(")") ? [] : this.within([")", ","], () => this.exprList());
          this.expect(")", this.afterClose());
          e = this.receiverCallOrMacro(callId, idTok.text, e, args);
          continue;
        }
        this.enter("escapeIdent");
        const field = this.escapeIdent();
        this.exit("escapeIdent");
        if (opt) {
          if (this.opts.optionalSyntax === false) {
            e = this.report(dot.start, "unsupported syntax '.?'");
            continue;
          }
          const lit = this.constNode(this.id(idTok.start), { case: "stringValue", value: field });
          e = this.callNode(this.id(dot.start), "_?._", [e, lit], undefined, this.counted([e]));
        } else {
          const id = this.id(dot.start);
          e = this.node(id, { case: "selectExpr", value: { $typeName: "cel.expr.Expr.Select", operand: e, field, testOnly: false } }, this.counted([e]));
        }
        continue;
      }
      if (this.is("[")) {
        const open = this.tok;
        this.pos++;
        let opt = false;
        if (this.is("?")) {
          opt = true;
          this.pos++;
        }
        const id = this.id(open.start);
        if (!opt) this.acceptAlso(["?"]);
        const index = this.within(["]"], () => this.expr());
        this.expect("]", this.afterClose());
        if (opt && this.opts.optionalSyntax === false) {
          e = this.report(open.start, "unsupported syntax '[?'");
          continue;
        }
        e = this.callNode(id, opt ? "_[?_]" : "_[_]", [e, index], undefined, this.counted([e, index]));
        continue;
      }
      break;
    }
    this.exit("member");
    return e;
  }

  /** A field name: an identifier, or a backtick-quoted one (cel-go's escapeIdent). */
  private escapeIdent(): string {
    const t = this.tok;
    if (t.kind === "ident") {
      this.pos++;
      return t.text;
    }
    if (t.kind === "escIdent") {
      this.pos++;
      if (!this.opts.identEscape) this.issues.push({ offset: t.start, message: "unsupported syntax: '`'" });
      return t.text.slice(1, -1);
    }
    if (this.tokens[this.pos - 1]?.text === ".") {
      // ANTLR's decision between a selection and a member call fails at the '.'; cel-go rewrites
      // the message for the keywords true, false and null
      const msg = `no viable alternative at input '.${t.kind === "eof" ? "" : t.text}'`;
      this.fail(t, msg.replace(/^no viable alternative at input '\.(true|false|null)'$/, "mismatched input '$1' expecting IDENTIFIER"));
    }
    this.fail(t, `mismatched input ${this.quoteTok(t)} expecting {IDENTIFIER, ESC_IDENTIFIER}`);
  }

  private exprList(): Expr[] {
    this.enter("exprList");
    const out = [this.expr()];
    while (this.is(",")) {
      this.pos++;
      out.push(this.expr());
    }
    this.exit("exprList");
    return out;
  }

  private primary(): Expr {
    this.enter("primary");
    const e = this.primaryInner();
    this.exit("primary");
    return e;
  }

  private primaryInner(): Expr {
    const t = this.tok;
    // leading-dot names, identifiers, global calls, message construction
    if (t.kind === "ident" || (this.is(".") && this.peek().kind === "ident")) {
      const leadingDot = this.is(".");
      if (leadingDot) this.pos++;
      const idTok = this.tok;
      this.pos++;
      if (this.is("(")) {
        const open = this.tok;
        this.pos++;
        const reserved = RESERVED.has(idTok.text);
        const id = reserved ? 0n : this.id(open.start);
        this.acceptAlso([")"]);
        const args = this.is(")") ? [] : this.within([")", ","], () => this.exprList());
        this.expect(")", this.afterClose());
        if (reserved) return this.report(leadingDot ? t.start : idTok.start, `reserved identifier: ${idTok.text}`);
        return this.globalCallOrMacro(id, (leadingDot ? "." : "") + idTok.text, args);
      }
      // a qualified message name: ids separated by '.', then '{'
      let k = this.pos;
      const names = [idTok.text];
      while (this.tokens[k].kind === "punct" && this.tokens[k].text === "." && this.tokens[k + 1].kind === "ident") {
        names.push(this.tokens[k + 1].text);
        k += 2;
      }
      if (this.tokens[k].kind === "punct" && this.tokens[k].text === "{") {
        this.pos = k;
        const open = this.tok;
        this.pos++;
        const id = this.id(open.start);
        const entries = this.is("}") || this.is(",") ? [] : this.fieldInitializerList();
        this.syncClose("}");
        if (this.is(",")) this.pos++;
        this.expect("}", this.afterClose());
        const messageName = (leadingDot ? "." : "") + names.join(".");
        return this.node(id, { case: "structExpr", value: { $typeName: "cel.expr.Expr.CreateStruct", messageName, entries } }, this.vd(...entries.map((en) => en.value)));
      }
      if (RESERVED.has(idTok.text)) return this.report(leadingDot ? t.start : idTok.start, `reserved identifier: ${idTok.text}`);
      return this.identNode(this.id(idTok.start), (leadingDot ? "." : "") + idTok.text);
    }
    if (this.is("(")) {
      this.pos++;
      const e = this.within([")"], () => this.expr());
      this.expect(")", this.afterClose());
      return e;
    }
    if (this.is("[")) {
      const open = this.tok;
      this.pos++;
      const id = this.id(open.start);
      const elements: Expr[] = [];
      const optionals: number[] = [];
      this.acceptAlso(["]", ",", "?"]);
      if (!this.is("]") && !(this.is(",") && this.peek().text === "]")) {
        this.enter("listInit");
        for (;;) {
          this.enter("optExpr");
          if (elements.length > 0) this.acceptAlso(["?"]);
          if (this.is("?")) {
            const q = this.tok;
            this.pos++;
            if (this.opts.optionalSyntax === false) this.issues.push({ offset: q.start, message: "unsupported syntax '?'" });
            else optionals.push(elements.length);
          }
          elements.push(this.within(["]", ","], () => this.expr()));
          this.exit("optExpr");
          if (this.is(",") && !(this.peek().kind === "punct" && this.peek().text === "]")) {
            this.pos++;
            continue;
          }
          break;
        }
        this.exit("listInit");
      }
      this.syncClose("]");
      if (this.is(",")) this.pos++;
      this.expect("]", this.afterClose());
      return this.listNode(id, elements, optionals);
    }
    if (this.is("{")) {
      const open = this.tok;
      this.pos++;
      const id = this.id(open.start);
      const entries: Entry[] = [];
      this.acceptAlso(["}", ",", "?"]);
      if (!this.is("}") && !(this.is(",") && this.peek().text === "}")) {
        this.enter("mapInitializerList");
        for (;;) {
          // cel-go allocates the entry's id (at its ':') before visiting the key
          const entryId = this.id(-1);
          if (entries.length > 0) this.acceptAlso(["?"]);
          this.enter("optExpr");
          let optional = false;
          if (this.is("?")) {
            const q = this.tok;
            this.pos++;
            if (this.opts.optionalSyntax === false) this.issues.push({ offset: q.start, message: "unsupported syntax '?'" });
            else optional = true;
          }
          const key = this.within([":"], () => this.expr());
          this.exit("optExpr");
          const col = this.expect(":", EXPR_START);
          this.positions[String(entryId)] = col.start;
          const value = this.within(["}", ","], () => this.expr());
          entries.push({ $typeName: "cel.expr.Expr.CreateStruct.Entry", id: entryId, keyKind: { case: "mapKey", value: key }, value, optionalEntry: optional });
          if (this.is(",") && !(this.peek().kind === "punct" && this.peek().text === "}")) {
            this.pos++;
            continue;
          }
          break;
        }
        this.exit("mapInitializerList");
      }
      this.syncClose("}");
      if (this.is(",")) this.pos++;
      this.expect("}", this.afterClose());
      const vals: Expr[] = [];
      for (const en of entries) vals.push(en.keyKind.value as Expr, en.value);
      return this.node(id, { case: "structExpr", value: { $typeName: "cel.expr.Expr.CreateStruct", messageName: "", entries } }, this.vd(...vals));
    }
    return this.literal();
  }

  private fieldInitializerList(): Entry[] {
    this.enter("fieldInitializerList");
    const out: Entry[] = [];
    for (;;) {
      this.enter("optField");
      let optional = false;
      if (this.is("?")) {
        const q = this.tok;
        this.pos++;
        if (this.opts.optionalSyntax === false) this.issues.push({ offset: q.start, message: "unsupported syntax '?'" });
        else optional = true;
      }
      this.enter("escapeIdent");
      const field = this.escapeIdent();
      this.exit("escapeIdent");
      this.exit("optField");
      const col = this.expect(":", EXPR_START);
      const colId = this.id(col.start);
      const value = this.within(["}", ","], () => this.expr());
      out.push({ $typeName: "cel.expr.Expr.CreateStruct.Entry", id: colId, keyKind: { case: "fieldKey", value: field }, value, optionalEntry: optional });
      if (this.is(",") && !(this.peek().kind === "punct" && this.peek().text === "}")) {
        this.pos++;
        continue;
      }
      break;
    }
    this.exit("fieldInitializerList");
    return out;
  }

  private literal(): Expr {
    this.enter("literal");
    const e = this.literalInner();
    this.exit("literal");
    return e;
  }

  private literalInner(): Expr {
    let t = this.tok;
    const start = t.start;
    let sign = "";
    if (this.is("-") && (this.peek().kind === "int" || this.peek().kind === "double")) {
      sign = "-";
      this.pos++;
      t = this.tok;
    }
    switch (t.kind) {
      case "int": {
        this.pos++;
        const magnitude = BigInt(/^0x/.test(t.text) ? "0x" + t.text.slice(2) : t.text);
        const v = sign ? -magnitude : magnitude;
        if (v > 9223372036854775807n || v < -9223372036854775808n) return this.report(start, "invalid int literal");
        return this.constNode(this.id(start), { case: "int64Value", value: v });
      }
      case "uint": {
        this.pos++;
        const body = t.text.slice(0, -1);
        const v = BigInt(/^0x/.test(body) ? "0x" + body.slice(2) : body);
        if (v > 18446744073709551615n) return this.report(start, "invalid uint literal");
        return this.constNode(this.id(start), { case: "uint64Value", value: v });
      }
      case "double": {
        this.pos++;
        const v = Number(sign + t.text);
        if (!Number.isFinite(v)) return this.report(start, "invalid double literal");
        return this.constNode(this.id(start), { case: "doubleValue", value: v });
      }
      case "string": {
        this.pos++;
        const r = unescapeString(t.text);
        if (typeof r !== "string") return this.report(start, r.error);
        return this.constNode(this.id(start), { case: "stringValue", value: r });
      }
      case "bytes": {
        this.pos++;
        const r = unescapeBytes(t.text.slice(1));
        if (!(r instanceof Uint8Array)) return this.report(start, r.error);
        return this.constNode(this.id(start), { case: "bytesValue", value: r });
      }
      case "keyword":
        if (t.text === "true" || t.text === "false") {
          this.pos++;
          return this.constNode(this.id(start), { case: "boolValue", value: t.text === "true" });
        }
        if (t.text === "null") {
          this.pos++;
          return this.constNode(this.id(start), { case: "nullValue", value: 0 });
        }
    }
    const tokEnd = (x: Token) => (x.kind === "eof" ? x.start : x.start + x.text.length);
    if (this.pos === this.minusAt) this.fail(t, `no viable alternative at input '${this.source.slice(this.minusFrom, tokEnd(t))}'`);
    if (this.is("-")) this.fail(this.peek(), `no viable alternative at input '${this.source.slice(t.start, tokEnd(this.peek()))}'`);
    const set = [...EXPR_START, ...(this.pos === this.exprExtraAt ? this.exprExtra : [])];
    if (this.pos === this.bangAt) this.fail(t, `extraneous input ${this.quoteTok(t)} expecting ${setText(set)}`);
    if (t.kind !== "eof" && set.includes(tokenName(this.peek()))) this.fail(t, `extraneous input ${this.quoteTok(t)} expecting ${setText(set)}`);
    this.fail(t, `mismatched input ${this.quoteTok(t)} expecting ${setText(set)}`);
  }

  // ---- macros (cel-go's parser/macro.go and cel/library.go expansions) -----------------------

  private globalCallOrMacro(id: bigint, fn: string, args: Expr[]): Expr {
    if (fn === "has" && args.length === 1) {
      const a = args[0];
      if (a.exprKind.case !== "selectExpr") return this.macroError(id, a, "invalid argument to has() macro");
      const s = a.exprKind.value;
      const e = this.node(this.macroId(id), { case: "selectExpr", value: { $typeName: "cel.expr.Expr.Select", operand: s.operand, field: s.field, testOnly: true } }, this.vd(a));
      this.dropId(id);
      return e;
    }
    return this.callNode(id, fn, args);
  }

  private receiverCallOrMacro(id: bigint, fn: string, target: Expr, args: Expr[]): Expr {
    const depth = this.counted([target, ...args]);
    const ident = (e: Expr): string | null => (e.exprKind.case === "identExpr" ? e.exprKind.value.name : null);
    const comprehension = (iterVar: string, range: Expr, accuVar: string, init: Expr, cond: Expr, step: Expr, result: Expr): Expr =>
      this.node(this.macroId(id), {
        case: "comprehensionExpr",
        value: { $typeName: "cel.expr.Expr.Comprehension", iterVar, iterVar2: "", iterRange: range, accuVar, accuInit: init, loopCondition: cond, loopStep: step, result },
      }, depth);
    const accu = () => this.identNode(this.macroId(id), ACCU);
    const lit = (c: Constant) => this.constNode(this.macroId(id), c);
    const call = (f: string, a: Expr[], t?: Expr) => this.callNode(this.macroId(id), f, a, t);
    // (cel-go 0.26's standard macros have exists_one only: a two-argument existsOne is a call)
    const quantifier = ["all", "exists", "exists_one"].includes(fn) && args.length === 2;
    const mapLike = (fn === "map" && (args.length === 2 || args.length === 3)) || (fn === "filter" && args.length === 2);
    if (quantifier || mapLike) {
      const v = ident(args[0]);
      if (v === null) return this.macroError(id, args[0], quantifier ? "argument must be a simple name" : "argument is not an identifier");
      if (v === ACCU || v === "__result__") return this.macroError(id, args[0], "iteration variable overwrites accumulator variable");
      let e: Expr;
      switch (fn) {
        case "all": {
          const init = lit({ case: "boolValue", value: true });
          const cond = call("@not_strictly_false", [accu()]);
          const step = call("_&&_", [accu(), args[1]]);
          e = comprehension(v, target, ACCU, init, cond, step, accu());
          break;
        }
        case "exists": {
          const init = lit({ case: "boolValue", value: false });
          const cond = call("@not_strictly_false", [call("!_", [accu()])]);
          const step = call("_||_", [accu(), args[1]]);
          e = comprehension(v, target, ACCU, init, cond, step, accu());
          break;
        }
        case "exists_one": {
          const init = lit({ case: "int64Value", value: 0n });
          const cond = lit({ case: "boolValue", value: true });
          const step = call("_?_:_", [args[1], call("_+_", [accu(), lit({ case: "int64Value", value: 1n })]), accu()]);
          const result = call("_==_", [accu(), lit({ case: "int64Value", value: 1n })]);
          e = comprehension(v, target, ACCU, init, cond, step, result);
          break;
        }
        case "map": {
          const fnExpr = args.length === 3 ? args[2] : args[1];
          const init = this.listNode(this.macroId(id), []);
          const cond = lit({ case: "boolValue", value: true });
          let step = call("_+_", [accu(), this.listNode(this.macroId(id), [fnExpr])]);
          if (args.length === 3) step = call("_?_:_", [args[1], step, accu()]);
          e = comprehension(v, target, ACCU, init, cond, step, accu());
          break;
        }
        default: {
          // filter
          const init = this.listNode(this.macroId(id), []);
          const cond = lit({ case: "boolValue", value: true });
          let step = call("_+_", [accu(), this.listNode(this.macroId(id), [args[0]])]);
          step = call("_?_:_", [args[1], step, accu()]);
          e = comprehension(v, target, ACCU, init, cond, step, accu());
        }
      }
      this.dropId(id);
      return e;
    }
    const twoVar = (["all", "exists", "existsOne", "exists_one"].includes(fn) && args.length === 3) || (["transformList", "transformMap", "transformMapEntry"].includes(fn) && (args.length === 3 || args.length === 4));
    if (twoVar) {
      // cel-go's ext.TwoVarComprehensions (Kubernetes since 1.32): comprehensions with two variables
      const i = ident(args[0]);
      if (i === null) return this.macroError(id, args[0], "argument must be a simple name");
      const v = ident(args[1]);
      if (v === null) return this.macroError(id, args[1], "argument must be a simple name");
      if (i === v) return this.macroError(id, args[1], `duplicate variable name: ${i}`);
      if (i === ACCU || i === "__result__") return this.macroError(id, args[0], "iteration variable overwrites accumulator variable");
      if (v === ACCU || v === "__result__") return this.macroError(id, args[1], "iteration variable overwrites accumulator variable");
      const two = (init: Expr, cond: Expr, step: Expr, result: Expr): Expr =>
        this.node(this.macroId(id), {
          case: "comprehensionExpr",
          value: { $typeName: "cel.expr.Expr.Comprehension", iterVar: i, iterVar2: v, iterRange: target, accuVar: ACCU, accuInit: init, loopCondition: cond, loopStep: step, result },
        }, depth);
      const emptyMap = () => this.node(this.macroId(id), { case: "structExpr", value: { $typeName: "cel.expr.Expr.CreateStruct", messageName: "", entries: [] } });
      let e: Expr;
      switch (fn) {
        case "all": {
          const init = lit({ case: "boolValue", value: true });
          const cond = call("@not_strictly_false", [accu()]);
          const step = call("_&&_", [accu(), args[2]]);
          e = two(init, cond, step, accu());
          break;
        }
        case "exists": {
          const init = lit({ case: "boolValue", value: false });
          const cond = call("@not_strictly_false", [call("!_", [accu()])]);
          const step = call("_||_", [accu(), args[2]]);
          e = two(init, cond, step, accu());
          break;
        }
        case "existsOne":
        case "exists_one": {
          const init = lit({ case: "int64Value", value: 0n });
          const cond = lit({ case: "boolValue", value: true });
          const step = call("_?_:_", [args[2], call("_+_", [accu(), lit({ case: "int64Value", value: 1n })]), accu()]);
          const result = call("_==_", [accu(), lit({ case: "int64Value", value: 1n })]);
          e = two(init, cond, step, result);
          break;
        }
        default: {
          const transform = args.length === 4 ? args[3] : args[2];
          let step =
            fn === "transformList"
              ? call("_+_", [accu(), this.listNode(this.macroId(id), [transform])])
              : fn === "transformMap"
                ? call("cel.@mapInsert", [accu(), this.identNode(this.macroId(id), i), transform])
                : call("cel.@mapInsert", [accu(), transform]);
          if (args.length === 4) step = call("_?_:_", [args[2], step, accu()]);
          const init = fn === "transformList" ? this.listNode(this.macroId(id), []) : emptyMap();
          const cond = lit({ case: "boolValue", value: true });
          e = two(init, cond, step, accu());
        }
      }
      this.dropId(id);
      return e;
    }
    if ((fn === "optMap" || fn === "optFlatMap") && args.length === 2) {
      const v = ident(args[0]);
      if (v === null) return this.macroError(id, args[0], `${fn}() variable name must be a simple identifier`);
      const has = call("hasValue", [], target);
      const inner = comprehension(UNUSED, this.listNode(this.macroId(id), []), v, call("value", [], this.copy(target, this.positions[String(id)])), lit({ case: "boolValue", value: false }), this.identNode(this.macroId(id), v), args[1]);
      const some = fn === "optMap" ? call("optional.of", [inner]) : inner;
      const e = call("_?_:_", [has, some, call("optional.none", [])]);
      this.dropId(id);
      return e;
    }
    return this.callNode(id, fn, args, target, depth);
  }

  /** A copy of a tree with fresh ids at the same positions (cel-go's macro helper Copy: a node, then its arguments, then its target). */
  private copy(e: Expr, entryPos: number): Expr {
    const fresh = (id: bigint) => this.id(this.positions[String(id)] ?? 0);
    const id = fresh(e.id);
    const k = e.exprKind;
    switch (k.case) {
      case "callExpr": {
        const args = k.value.args.map((a) => this.copy(a, entryPos));
        const target = k.value.target ? this.copy(k.value.target, entryPos) : undefined;
        return this.callNode(id, k.value.function, args, target);
      }
      case "selectExpr":
        return this.node(id, { case: "selectExpr", value: { ...k.value, operand: this.copy(k.value.operand, entryPos) } });
      case "listExpr":
        return this.listNode(id, k.value.elements.map((x) => this.copy(x, entryPos)), [...k.value.optionalIndices]);
      case "structExpr":
        return this.node(id, {
          case: "structExpr",
          value: {
            ...k.value,
            entries: k.value.entries.map((en) => {
              // cel-go places copied entries at the macro call
              const eid = this.id(entryPos);
              const keyKind = en.keyKind.case === "mapKey" ? { case: "mapKey" as const, value: this.copy(en.keyKind.value, entryPos) } : en.keyKind;
              return { ...en, id: eid, keyKind, value: this.copy(en.value, entryPos) };
            }),
          },
        });
      case "comprehensionExpr": {
        const c = k.value;
        return this.node(id, { case: "comprehensionExpr", value: { ...c, iterRange: this.copy(c.iterRange, entryPos), accuInit: this.copy(c.accuInit, entryPos), loopCondition: this.copy(c.loopCondition, entryPos), loopStep: this.copy(c.loopStep, entryPos), result: this.copy(c.result, entryPos) } });
      }
      case "constExpr":
        return this.node(id, { case: "constExpr", value: { ...k.value } });
      default:
        return this.node(id, { case: "identExpr", value: { ...k.value } } as ExprKind);
    }
  }

  private macroError(id: bigint, at: Expr, message: string): Expr {
    this.dropId(id);
    return this.report(this.positions[String(at.id)] ?? 0, message);
  }

  private dropId(id: bigint): void {
    delete this.positions[String(id)];
  }
}

// ---- string and bytes literals (cel-go's unescape) ---------------------------------------------

type Unescaped = string | { error: string };

/** Strip the quotes (and an r/R prefix) of a literal: its body and whether it is raw. */
function literalBody(text: string): { body: string; raw: boolean } {
  let raw = false;
  if (text[0] === "r" || text[0] === "R") {
    raw = true;
    text = text.slice(1);
  }
  const q = text[0];
  const triple = text.length >= 6 && text.startsWith(q.repeat(3));
  const body = triple ? text.slice(3, -3) : text.slice(1, -1);
  return { body: body.replace(/\r\n?/g, "\n"), raw };
}

/** A string literal's value. */
function unescapeString(text: string): Unescaped {
  const { body, raw } = literalBody(text);
  if (raw || !body.includes("\\")) return body;
  let out = "";
  for (let i = 0; i < body.length; ) {
    const c = body[i];
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    const r = escapeAt(body, i);
    if ("error" in r) return r;
    if (r.cp >= 0xd800 && r.cp < 0xe000) return { error: "invalid unicode code point" };
    if (r.cp > 0x10ffff) return { error: "invalid unicode code point" };
    out += String.fromCodePoint(r.cp);
    i += r.len;
  }
  return out;
}

/** A bytes literal's value (the text after the b/B prefix). */
function unescapeBytes(text: string): Uint8Array | { error: string } {
  const { body, raw } = literalBody(text);
  const enc = new TextEncoder();
  if (raw || !body.includes("\\")) return enc.encode(body);
  const out: number[] = [];
  for (let i = 0; i < body.length; ) {
    const c = body[i];
    if (c !== "\\") {
      const cp = body.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      out.push(...enc.encode(s));
      i += s.length;
      continue;
    }
    const kind = body[i + 1];
    if (kind === "u" || kind === "U") return { error: "unable to unescape string" };
    const r = escapeAt(body, i);
    if ("error" in r) return r;
    if (kind === "x" || kind === "X" || (kind >= "0" && kind <= "3")) out.push(r.cp);
    else out.push(...enc.encode(String.fromCodePoint(r.cp)));
    i += r.len;
  }
  return new Uint8Array(out);
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92, "'": 39, '"': 34, "`": 96, "?": 63 };

function escapeAt(s: string, i: number): { cp: number; len: number } | { error: string } {
  const c = s[i + 1];
  if (c === undefined) return { error: "unable to unescape string, found '\\' as last character" };
  if (c in SIMPLE_ESCAPES) return { cp: SIMPLE_ESCAPES[c], len: 2 };
  const hex = (n: number) => {
    const h = s.slice(i + 2, i + 2 + n);
    return h.length === n && /^[0-9a-fA-F]+$/.test(h) ? parseInt(h, 16) : -1;
  };
  if (c === "x" || c === "X") {
    const v = hex(2);
    return v < 0 ? { error: "unable to unescape string" } : { cp: v, len: 4 };
  }
  if (c === "u" || c === "U") {
    const n = c === "u" ? 4 : 8;
    const v = hex(n);
    return v < 0 ? { error: "unable to unescape string" } : { cp: v, len: 2 + n };
  }
  if (c >= "0" && c <= "3") {
    const o = s.slice(i + 2, i + 4);
    if (!/^[0-7]{2}$/.test(o)) return { error: "unable to unescape octal sequence in string" };
    return { cp: parseInt(c + o, 8), len: 4 };
  }
  return { error: "unable to unescape string" };
}
