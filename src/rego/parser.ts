// The Rego parser: recursive descent over the lexer's token array, producing the AST in ast.ts.
//
// Behaviour follows OPA 1.x (checked against `opa parse`), including its quirks, because
// policies written for OPA must parse the same way here:
//  - Operator precedence, lowest first: `=`/`:=` (expression level only), `in`, comparisons,
//    `|`, `&`, `+ -`, `* / %`, unary minus. All binary operators are left-associative.
//  - Newlines end expressions only where the grammar could stop: an infix operator on the next
//    line continues the expression, but `.`, `[` and `(` continue a ref or call only when they
//    touch the previous token (`a [0]` is two things).
//  - A unary minus before a number literal folds into it (`- 1` is the number "-1"); before a
//    var, ref or call it becomes `minus(0, x)`; before anything else it is an error.
//  - In `[t | …]`, `{t | …}` and `{k: t | …}` the part before `|` must be a single term for a
//    comprehension; otherwise `|` is the `or` operator (`[a + b | c]` is an array).
//  - Bare `input` and `data` become one-element refs, as OPA's parser does.
//  - Two OPA 1.x forms without AST nodes of their own are desugared: template strings
//    `$"…{x}…"` become internal.template_string calls, and `not { … }` bodies (with
//    `import future.keywords.not`) become a negated `{true | …}[true]` (see templateString
//    and notBody).
//
// Errors are thrown as a private Fail value (no stack capture, cheap to throw while
// backtracking) and turned into RegoError at the API boundary.

import { load as loadYaml } from "js-yaml";
import type {
  Annotation,
  Body,
  CallTerm,
  Comment,
  Expr,
  ExprNode,
  Import,
  Location,
  Module,
  RefTerm,
  Rule,
  RuleHead,
  Term,
  VarTerm,
  With,
} from "./ast.ts";
import { INFIX_OPS } from "./ast.ts";
import { stackLow, foldTree } from "./stack.ts";
import { RegoError, asRegoError, type ErrorDetail } from "./errors.ts";
import {
  lex,
  kindName,
  type LexComment,
  Token,
  T_AND,
  T_ASSIGN,
  T_COLON,
  T_COMMA,
  T_DIV,
  T_DOT,
  T_EOF,
  T_EQ,
  T_EQEQ,
  T_GT,
  T_GTE,
  T_IDENT,
  T_ILLEGAL,
  T_LBRACE,
  T_LBRACK,
  T_LPAREN,
  T_LT,
  T_LTE,
  T_MINUS,
  T_MUL,
  T_NEQ,
  T_NUMBER,
  T_OR,
  T_PLUS,
  T_RBRACE,
  T_RBRACK,
  T_REM,
  T_RPAREN,
  T_SEMI,
  T_STRING,
  T_TPL_BEGIN,
  T_TPL_END,
  T_TPL_EXPR_BEGIN,
  T_TPL_EXPR_END,
  T_TPL_TEXT,
} from "./lexer.ts";

export interface ParseOptions {
  /** "v0v1": as v0 (keywords only once imported) with v1's rule syntax (opa check --v0-v1). */
  regoVersion?: "v0" | "v1" | "v0v1";
}

export function parseModule(file: string, source: string, opts?: ParseOptions): Module {
  return internal(file, () => new Parser(file, source, opts?.regoVersion ?? "v1").module());
}

/** Errors about a rule's shape, which OPA reports all of (the parser goes on after them). */
export const RULE_SHAPE_ERROR =
  /^(`if` keyword is required|`contains` keyword is required|rule must have value assignment|multiple expressions cannot be used for rule head|expressions using with keyword cannot be used for rule head|rule name conflicts with built-in function|templatestring cannot be used for rule name|invalid rule head: |\w+ cannot be used for rule name|\w+ keyword cannot be used for rule name)/;

export function parseQuery(source: string, opts?: ParseOptions & { file?: string }): Body {
  return internal(opts?.file ?? "", () => {
    const p = new Parser(opts?.file ?? "", source, opts?.regoVersion ?? "v1");
    return p.guard(() => p.restartable(() => p.query()));
  });
}

export function parseTerm(source: string, opts?: ParseOptions): Term {
  return internal("", () => {
    const p = new Parser("", source, opts?.regoVersion ?? "v1");
    return p.guard(() => p.restartable(() => p.standaloneTerm()));
  });
}

/** Only RegoErrors leave the parser: anything else is reported as an internal parse error. */
function internal<R>(file: string, fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    throw asRegoError(e, "rego_parse_error", { file, row: 1, col: 1 });
  }
}

class Fail {
  message: string;
  row: number;
  col: number;
  constructor(message: string, row: number, col: number) {
    this.message = message;
    this.row = row;
    this.col = col;
  }
}

// ---- Depth -------------------------------------------------------------------------------------
//
// OPA's parser refuses input that nests too deeply: it counts the depth of its own recursion and
// stops at MAX_PARSE_DEPTH with `max parsing recursion depth exceeded`. Portcullis counts the same
// depth (`down`, at the points that correspond to OPA's recursion: every term, collection,
// parenthesis, call, each level of operator precedence and each operator of a chain, bodies of
// comprehensions, …), so that it accepts and refuses exactly the same programs: arrays nest up
// to about 50,000 deep, calls about 10,000, and a chain `1 + 1 + …` may have about 100,000 terms.
//
// That is far deeper than the JavaScript stack allows recursive descent to go, so the parser
// does not recurse without bound either: after NATIVE_LIMIT nested terms or expressions (fewer
// when the stack runs low) it throws a Restart back to the statement being parsed, parses the
// term it was about to enter from there (a shallow stack again), keeps the result, and parses
// the statement again, which now finds that term parsed (see restartable and solve).

/** OPA's maximum parsing recursion depth (ast.ParserOptions default). */
export const MAX_PARSE_DEPTH = 100000;
/** What set and object comprehensions cost OPA beyond an array comprehension. */
const SETCOMP_EXTRA = 3;
const OBJCOMP_EXTRA = 3;
/** Nested terms and expressions parsed on one stretch of the JavaScript stack. */
const NATIVE_LIMIT = 300;

/** The parse went deeper than MAX_PARSE_DEPTH: stops the whole parse, as in OPA. */
class DepthFail {
  /** Messages of the enclosing constructs that OPA reports too (at the same token). */
  readonly extra: string[] = [];
  constructor(
    readonly tok: Token,
    /** What the statement was parsing (for OPA's last message), or null. */
    readonly slot: Slot | null,
  ) {}
}

/** What a statement is parsing, for the message after a depth error (computed only then). */
type Slot = () => string;
const HEAD_NAME: Slot = () => "expected rule head name";

/** Unwinds to the statement: parse `kind` at `pos` first (see restartable). */
class Restart {
  constructor(
    readonly kind: "term" | "head" | "literal",
    readonly pos: number,
    readonly depth: number,
    readonly tv: number,
    readonly kwRef: boolean,
    readonly slot: Slot | null,
  ) {}
  get key(): string {
    return memoKey(this.kind, this.pos, this.depth, this.tv, this.kwRef);
  }
}

function memoKey(kind: string, pos: number, depth: number, tv: number, kwRef: boolean): string {
  return `${kind}:${pos}:${depth}:${tv}:${kwRef ? 1 : 0}`;
}

type Memo = { ok: Term | Expr; end: number; tv: number } | { fail: Fail | DepthFail };

// Words that are keywords whatever the imports say. `if`, `in`, `every` and `contains` are
// keywords in v1, and in v0 only once imported from future.keywords (or rego.v1).
const ALWAYS_KEYWORDS = new Set(["package", "import", "as", "default", "else", "not", "some", "with", "true", "false", "null"]);
const FUTURE_KEYWORDS = ["contains", "every", "if", "in"];
const RELATIONAL = new Set([T_EQEQ, T_NEQ, T_LT, T_LTE, T_GT, T_GTE]);
const INFIX = new Set([...RELATIONAL, T_PLUS, T_MINUS, T_MUL, T_DIV, T_REM, T_AND, T_OR]);
const IMPORT_ROOTS = new Set(["data", "input", "future", "rego"]);
const MAX_ERRORS = 10;
// OPA refuses numbers whose binary exponent exceeds this, to bound the cost of big-number maths.
const MAX_BINARY_EXPONENT = 100000;
const LOG2_10 = Math.log2(10);

interface Statement {
  kind: "package" | "import" | "rule";
  row: number;
  rules: Rule[];
}

/** Words that are keywords in Rego v1 but identifiers in v0 until imported. */
const V1_KEYWORDS = new Set(["if", "contains", "in", "every"]);

class Parser {
  private readonly file: string;
  private readonly toks: Token[];
  private readonly comments: LexComment[];
  private pos = 0;
  private tok: Token;
  /** v1 rule syntax applies (`if` and `contains` required): a v1 module or `import rego.v1`. */
  private v1: boolean;
  private kwIf: boolean;
  private kwIn: boolean;
  private kwEvery: boolean;
  private kwContains: boolean;
  /** `import future.keywords.not`: `not { … }` negates a whole body. */
  private notBodies = false;
  private readonly errors: ErrorDetail[] = [];
  /**
   * Errors in turning a well-formed statement into a rule (`var cannot be used for rule
   * name`, missing `if`, …). OPA reports these only when the module has no syntax errors.
   */
  private readonly ruleErrors: ErrorDetail[] = [];
  private templateVars = 0;
  /** Token index where a keyword may head a ref (`not.foo`, `as[0]`): see keywordRef. */
  private kwRefPos = -1;
  /** OPA's hints, appended to the next error reported (`(hint: import future.keywords.in …)`). */
  private hints: string[] = [];
  /** OPA's parse depth (see MAX_PARSE_DEPTH). */
  private depth = 0;
  /** Terms and expressions nested on the JavaScript stack since the last restart. */
  private native = 0;
  /** Terms and expressions parsed ahead by solve, by memoKey. */
  private memo: Map<string, Memo> | null = null;
  /** What the statement is parsing, as OPA names it after a depth error. */
  private slot: Slot | null = null;
  /** The depth of the first term of the statement's value: once that is parsed, the slot is done. */
  private slotTerm = -1;

  constructor(file: string, source: string, version: "v0" | "v1" | "v0v1") {
    this.file = file;
    const { tokens, comments } = lex(source);
    this.toks = tokens;
    this.comments = comments;
    this.tok = tokens[0];
    const on = version === "v1";
    this.v1 = version !== "v0";
    this.kwIf = this.kwIn = this.kwEvery = this.kwContains = on;
  }

  // ---- plumbing --------------------------------------------------------------------------

  guard<R>(fn: () => R): R {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Fail) throw new RegoError([this.detail(e)]);
      if (e instanceof DepthFail) throw new RegoError(this.depthErrors(e));
      throw e;
    }
  }

  /**
   * Parse with restarts (see Restart): each time the parse reaches NATIVE_LIMIT nested terms,
   * the term it was about to parse is parsed first (solve), then fn runs again from the start.
   */
  restartable<R>(fn: () => R): R {
    const pos = this.pos;
    const depth = this.depth;
    const tv = this.templateVars;
    const ruleErrors = this.ruleErrors.length;
    const flags = [this.v1, this.kwIf, this.kwIn, this.kwEvery, this.kwContains, this.notBodies] as const;
    for (;;) {
      try {
        return fn();
      } catch (e) {
        if (!(e instanceof Restart)) throw e;
        this.solve(e);
        this.reset(pos);
        this.depth = depth;
        this.native = 0;
        this.templateVars = tv;
        this.ruleErrors.length = ruleErrors;
        [this.v1, this.kwIf, this.kwIn, this.kwEvery, this.kwContains, this.notBodies] = flags;
      }
    }
  }

  /** Parse the term or expression a Restart was thrown for (and any it meets), keeping each. */
  private solve(r: Restart): void {
    const memo = (this.memo ??= new Map());
    const work: Restart[] = [r];
    while (work.length > 0) {
      const w = work[work.length - 1];
      this.reset(w.pos);
      this.depth = w.depth;
      this.native = 0;
      this.templateVars = w.tv;
      this.kwRefPos = w.kwRef ? w.pos : -1;
      this.slot = w.slot;
      try {
        const ok = w.kind === "literal" ? this.literal() : this.term(w.kind === "head");
        memo.set(w.key, { ok, end: this.pos, tv: this.templateVars });
        work.pop();
      } catch (e) {
        if (e instanceof Restart) work.push(e);
        else if (e instanceof Fail || e instanceof DepthFail) {
          // Thrown again where the statement meets this term, which may handle it.
          memo.set(w.key, { fail: e });
          work.pop();
        } else throw e;
      }
    }
  }

  /**
   * Entering a term or expression: a result parsed ahead by solve, if any (`undefined` if none);
   * throws a Restart when the JavaScript stack has had enough.
   */
  private ahead(kind: "term" | "head" | "literal"): Term | Expr | undefined {
    if (this.memo !== null) {
      const m = this.memo.get(memoKey(kind, this.pos, this.depth, this.templateVars, this.kwRefPos === this.pos));
      if (m !== undefined) {
        if ("fail" in m) throw m.fail;
        this.reset(m.end);
        this.templateVars = m.tv;
        return m.ok;
      }
    }
    if (this.native >= NATIVE_LIMIT || (this.native > 0 && (this.native & 31) === 0 && stackLow())) {
      throw new Restart(kind, this.pos, this.depth, this.templateVars, this.kwRefPos === this.pos, this.slot);
    }
    return undefined;
  }

  /** One level deeper in OPA's count of its parser's recursion (see MAX_PARSE_DEPTH). */
  private down(t: Token = this.tok): void {
    if (++this.depth > MAX_PARSE_DEPTH) throw new DepthFail(t, this.slot);
  }

  /** The errors OPA reports for a depth error: that, and what the statement was expecting. */
  private depthErrors(e: DepthFail): ErrorDetail[] {
    const out: ErrorDetail[] = [{ code: "rego_parse_error", message: "max parsing recursion depth exceeded", location: this.loc(e.tok) }];
    for (const m of e.extra) out.push({ code: "rego_parse_error", message: m, location: this.loc(e.tok) });
    if (e.slot !== null) out.push({ code: "rego_parse_error", message: `unexpected ${this.tokenName(e.tok)}: ${e.slot()}`, location: this.loc(e.tok) });
    return out;
  }

  private detail(f: Fail): ErrorDetail {
    let message = f.message;
    if (this.hints.length) message += ` (${this.hints.length === 1 ? "hint" : "hints"}: ${this.hints.join(", ")})`;
    this.hints = [];
    return { code: "rego_parse_error", message, location: { file: this.file, row: f.row, col: f.col } };
  }

  private next(): void {
    if (this.pos < this.toks.length - 1) this.pos++;
    this.tok = this.toks[this.pos];
  }

  private reset(pos: number): void {
    this.pos = pos;
    this.tok = this.toks[pos];
  }

  private peek(k: number): Token {
    const i = this.pos + k;
    return i < this.toks.length ? this.toks[i] : this.toks[this.toks.length - 1];
  }

  /** True when the current token directly follows the previous one, without whitespace. */
  private touching(): boolean {
    return this.pos > 0 && this.toks[this.pos - 1].end === this.tok.start;
  }

  private loc(t: Token): Location {
    return { file: this.file, row: t.row, col: t.col };
  }

  private isKeyword(text: string): boolean {
    if (ALWAYS_KEYWORDS.has(text)) return true;
    switch (text) {
      case "if": return this.kwIf;
      case "in": return this.kwIn;
      case "every": return this.kwEvery;
      case "contains": return this.kwContains;
    }
    return false;
  }

  /**
   * The current token is the (active) keyword `kw`. Like OPA's scanner, a keyword directly
   * followed by `.` or `[` is a name instead (`with.foo`, `in[0]`): see keywordRef.
   */
  private at(kw: string): boolean {
    return this.tok.kind === T_IDENT && this.tok.text === kw && this.isKeyword(kw) && !this.refForm(this.pos);
  }

  /** The token at `i` is a word directly followed by `.` or `[`. */
  private refForm(i: number): boolean {
    const t = this.toks[i];
    const n = this.toks[i + 1];
    return t.kind === T_IDENT && n !== undefined && (n.kind === T_DOT || n.kind === T_LBRACK) && n.start === t.end;
  }

  /**
   * OPA's keywords_in_refs: at the start of a rule head or a body expression (but not after
   * `not`), a keyword or true/false/null directly followed by `.` or `[` is the name heading a
   * ref, so `not.foo == 1` and `as[0] := 1` are accepted. Marks the current token if so.
   */
  private keywordRef(): boolean {
    if (!this.refForm(this.pos)) return false;
    this.kwRefPos = this.pos;
    return true;
  }

  private fail(message: string, t: Token | Location): never {
    throw new Fail(message, t.row, t.col);
  }

  private tokenName(t: Token): string {
    if (t.kind === T_IDENT) return this.isKeyword(t.text) && !(t === this.tok && this.refForm(this.pos)) ? `${t.text} keyword` : "identifier token";
    return `${kindName(t.kind)} token`;
  }

  /** `unexpected X token[: expected …]`, or the lexer's own message for a bad token. */
  private unexpected(t: Token, expected?: string): never {
    if (t.kind === T_ILLEGAL) this.fail(t.text, t);
    this.fail(expected ? `unexpected ${this.tokenName(t)}: ${expected}` : `unexpected ${this.tokenName(t)}`, t);
  }

  private ruleError(message: string, l: Location): void {
    this.ruleErrors.push({ code: "rego_parse_error", message, location: l });
  }

  // ---- modules ---------------------------------------------------------------------------

  module(): Module {
    const first = this.tok;
    if (first.kind === T_EOF) {
      throw new RegoError([{ code: "rego_parse_error", message: "empty module", location: { file: this.file, row: 0, col: 0 } }]);
    }
    if (!(first.kind === T_IDENT && first.text === "package")) {
      if (!this.canStartStatement()) this.guard(() => this.unexpected(first));
      throw new RegoError([{ code: "rego_parse_error", message: "package expected", location: this.loc(first) }]);
    }
    const statements: Statement[] = [];
    let pkg: RefTerm;
    pkg = this.guard(() => this.restartable(() => this.packagePath()));
    statements.push({ kind: "package", row: first.row, rules: [] });
    const imports: Import[] = [];
    const rules: Rule[] = [];
    while (this.tok.kind !== T_EOF && this.errors.length < MAX_ERRORS) {
      const start = this.tok;
      this.hints = [];
      this.depth = 0;
      this.slot = null;
      try {
        if (this.at("import")) {
          imports.push(this.restartable(() => this.importDecl()));
          statements.push({ kind: "import", row: start.row, rules: [] });
        } else if (this.at("package")) {
          this.fail("unexpected package", start);
        } else {
          const rs = this.restartable(() => {
            const shapeErrors = this.ruleErrors.length;
            const rs = this.rule();
            this.slot = null;
            // `p := 1 with input as {}` (any statement read as an expression) is an expression
            // with modifiers, which cannot define a rule, whatever else is wrong with its head; a
            // `contains` or `default` rule is not read so: its `with` is unexpected.
            const withs = this.at("with") && start.text !== "default" && (rs.length === 0 || (!rs[0].hasBody && rs[0].head.kind !== "multi"));
            if (withs) {
              this.ruleErrors.length = shapeErrors;
              this.withs();
            }
            if (this.tok.kind === T_SEMI && (rs.length === 0 || !rs[0].hasBody)) {
              // `p := 1; q := 2` reads as a query, which cannot define a rule.
              this.queryTail();
              this.ruleError("multiple expressions cannot be used for rule head", this.loc(start));
            } else if (!this.canStartStatement()) this.unexpected(this.tok);
            else if (withs) this.ruleError("expressions using with keyword cannot be used for rule head", this.loc(start));
            return rs;
          });
          for (const r of rs) rules.push(r);
          statements.push({ kind: "rule", row: start.row, rules: rs });
        }
      } catch (e) {
        if (e instanceof DepthFail) {
          // As in OPA, nothing after a depth error is parsed.
          this.errors.push(...this.depthErrors(e));
          break;
        }
        if (!(e instanceof Fail)) throw e;
        // As OPA's parser, nothing after a statement with a syntax error is parsed.
        this.errors.push(this.detail(e));
        break;
      }
    }
    const comments: Comment[] = this.comments.map((c) => ({ text: c.text, loc: { file: this.file, row: c.row, col: c.col } }));
    const mod: Module = {
      file: this.file,
      package: pkg,
      imports,
      rules,
      comments,
      annotations: [],
      regoVersion: this.v1 ? "v1" : "v0",
      loc: this.loc(first),
    };
    if (this.errors.length > 0) throw new RegoError(this.errors);
    if (this.ruleErrors.length > 0) throw new RegoError(this.ruleErrors);
    this.annotate(mod, statements);
    if (this.errors.length > 0) throw new RegoError(this.errors);
    return mod;
  }

  /** The current token is a binary operator or `in`. */
  private isInfixOp(): boolean {
    return INFIX.has(this.tok.kind) || this.at("in");
  }

  /** The current token may begin the next statement (or ends the module). */
  private canStartStatement(): boolean {
    switch (this.tok.kind) {
      case T_EOF:
      case T_IDENT:
      case T_STRING:
      case T_NUMBER:
      case T_LBRACK:
      case T_LBRACE:
      case T_LPAREN:
      case T_TPL_BEGIN:
        return true;
    }
    return false;
  }

  /** The rest of a statement written as a query (`p; q`): `;`-separated expressions on the line. */
  private queryTail(): void {
    while (this.tok.kind === T_SEMI) {
      this.next();
      this.literal();
      if (this.tok.kind !== T_SEMI && !this.tok.nl && this.tok.kind !== T_EOF) this.unexpected(this.tok);
    }
  }

  private packagePath(): RefTerm {
    this.next();
    const t = this.tok;
    if (t.kind !== T_IDENT) this.unexpected(t);
    this.next();
    const terms: Term[] = [
      { type: "var", name: "data", loc: this.loc(t) },
      { type: "string", value: t.text, loc: this.loc(t) },
    ];
    this.staticRefTail(terms);
    if (this.tok.kind === T_LPAREN && this.touching()) this.unexpected(this.tok);
    return { type: "ref", terms, loc: this.loc(t) };
  }

  /** `.name` and `["str"]` parts of package and import paths. */
  private staticRefTail(terms: Term[]): void {
    while (this.touching()) {
      const t = this.tok;
      if (t.kind === T_DOT) {
        this.next();
        terms.push(this.dotName(t));
      } else if (t.kind === T_LBRACK) {
        this.next();
        const inner = this.termIn(false);
        if (inner.type !== "string") this.fail(`unexpected ${typeName(inner)} token: expecting string`, inner.loc);
        if (this.tok.kind !== T_RBRACK) this.unexpected(this.tok, "expected ]");
        this.next();
        terms.push(inner);
      } else break;
    }
  }

  /** The identifier after a `.` in a ref (any word, keywords included), as a string term. */
  private dotName(dot: Token): Term {
    const id = this.tok;
    if (id.start !== dot.end) {
      // OPA points at the whitespace; a newline counts as column 0 of the next line.
      const where = id.row > dot.row ? { row: dot.row + 1, col: 0 } : { row: dot.row, col: dot.col + 1 };
      this.fail("unexpected whitespace token: expected identifier", { file: this.file, ...where });
    }
    if (id.kind !== T_IDENT) this.unexpected(id, "expected identifier");
    this.next();
    return { type: "string", value: id.text, loc: this.loc(id) };
  }

  private importDecl(): Import {
    const imp = this.tok;
    this.next();
    const h = this.tok;
    if (h.kind !== T_IDENT) this.unexpected(h, "expected ident");
    this.next();
    const terms: Term[] = [{ type: "var", name: h.text, loc: this.loc(h) }];
    this.staticRefTail(terms);
    const path: RefTerm = { type: "ref", terms, loc: this.loc(h) };
    const root = h.text;
    if (!IMPORT_ROOTS.has(root)) {
      this.fail(`unexpected import path, must begin with one of: {data, future, input, rego}, got: ${root} (hint: if this is unexpected, try updating OPA)`, h);
    }
    const names = terms.slice(1).map((t) => (t as { value: string }).value);
    if (root === "future") {
      if (names.length === 0 || names[0] !== "keywords" || names.length > 2) this.fail("invalid import, must be `future.keywords`", h);
      if (names.length === 2) {
        const kw = names[1];
        if (kw === "not") this.notBodies = true;
        else if (FUTURE_KEYWORDS.includes(kw)) this.enableKeyword(kw);
        else this.fail("unexpected keyword, must be one of [contains every if in not]", h);
      } else {
        for (const kw of FUTURE_KEYWORDS) this.enableKeyword(kw);
      }
    } else if (root === "rego") {
      const text = ["rego", ...names].join(".");
      if (text !== "rego.v1") this.fail(text === "rego" ? "invalid import `rego`, must be `rego.v1`" : `invalid import \`${text}\`, must be \`rego.v1\``, h);
      this.v1 = true;
      for (const kw of FUTURE_KEYWORDS) this.enableKeyword(kw);
    }
    let alias: string | null = null;
    const last = terms[terms.length - 1];
    if ((root === "data" || root === "input") && last.type === "string" && this.isKeyword(last.value) && !this.at("as")) {
      this.fail(`unexpected import path, must not end with a keyword, got: ${last.value} (hint: import a different path or use an alias)`, last.loc);
    }
    if (this.at("as")) {
      if (root === "future" || root === "rego") this.fail(`\`${root}\` imports cannot be aliased`, h);
      this.next();
      const a = this.tok;
      if (a.kind !== T_IDENT || this.isKeyword(a.text)) this.unexpected(a, "expected var");
      alias = a.text;
      this.next();
    }
    return { path, alias, loc: this.loc(imp) };
  }

  private enableKeyword(kw: string): void {
    switch (kw) {
      case "if": this.kwIf = true; break;
      case "in": this.kwIn = true; break;
      case "every": this.kwEvery = this.kwIn = true; break;
      case "contains": this.kwContains = true; break;
    }
  }

  // ---- rules -----------------------------------------------------------------------------

  private rule(): Rule[] {
    const start = this.tok;
    const ruleLoc = this.loc(start);
    let isDefault = false;
    if (!this.keywordRef() && this.at("default")) {
      isDefault = true;
      this.next();
      this.keywordRef();
    }
    const headTok = this.tok;
    // A statement that does not start with a name is parsed as an expression by OPA (seven
    // levels above its term).
    this.depth = headTok.kind === T_IDENT ? 0 : 7;
    this.slotTerm = -1;
    const headTerm = this.term(true);
    this.depth = 0;
    let ref: Term[];
    let args: Term[] | null = null;
    let callHead = false;
    // A head that cannot name a rule is reported, but the statement is still parsed to its end.
    let badHead = false;
    if (this.isInfixOp()) {
      // `x == 1` as a statement: OPA reads it as an expression, then rejects it as a rule.
      this.termIn(true, headTerm);
      if (this.tok.kind === T_EQ || this.tok.kind === T_ASSIGN) {
        this.next();
        this.termIn(true);
      }
      this.ruleError("rule name conflicts with built-in function", ruleLoc);
      return [];
    }
    if (headTok.kind === T_TPL_BEGIN) {
      badHead = true;
      this.ruleError("templatestring cannot be used for rule name", headTerm.loc);
      ref = [{ type: "var", name: "_", loc: ruleLoc }];
    } else if (headTerm.type === "var") ref = [headTerm];
    else if (headTerm.type === "ref" && headTerm.terms[0].type === "var") ref = headTerm.terms;
    else if (headTerm.type === "call" && headTerm.op.terms[0].type === "var") {
      ref = headTerm.op.terms.slice();
      // `f()` (no arguments) heads a plain rule, as in OPA: `f() := 1` is data.p.f == 1.
      args = headTerm.args.length > 0 ? headTerm.args : null;
      callHead = true;
    } else {
      badHead = true;
      if (headTerm.type === "ref") this.ruleError(`invalid rule head: ${termString(headTerm)}`, ruleLoc);
      else this.ruleError(`${typeName(headTerm)} cannot be used for rule name`, headTerm.loc);
      ref = [{ type: "var", name: "_", loc: ruleLoc }];
    }

    let kind: RuleHead["kind"] | null = null;
    let key: Term | null = null;
    let value: Term | null = null;
    let assign = false;
    if (this.at("contains")) {
      if (callHead) {
        this.unexpected(this.tok, `the contains keyword can only be used with multi-value rule definitions (e.g., ${termString({ type: "ref", terms: ref, loc: ruleLoc })} contains <VALUE> { ... })`);
      }
      this.next();
      const r = ref;
      this.slot = () => `expected rule key term (e.g., ${termString({ type: "ref", terms: r, loc: ruleLoc })} contains <VALUE> { ... })`;
      this.slotTerm = 8;
      key = this.item(false);
      kind = "multi";
    } else if (this.tok.kind === T_EQ || this.tok.kind === T_ASSIGN) {
      assign = this.tok.kind === T_ASSIGN;
      this.next();
      const r = ref;
      const name = () => termString({ type: "ref", terms: r, loc: ruleLoc });
      if (!assign) this.slot = () => `expected rule value term (e.g., ${name()}[<nil>] = <VALUE> { ... })`;
      else if (args) this.slot = () => `expected function value term (e.g., ${name()}(...) := <VALUE> { ... })`;
      else if (isDefault) this.slot = () => `expected default rule value term (e.g., default ${name()} := <VALUE>)`;
      else this.slot = () => `expected rule value term (e.g., ${name()} := <VALUE> { ... })`;
      this.slotTerm = 8;
      value = this.item(true);
      kind = args ? "function" : "single";
    }
    this.slot = null;

    if (isDefault) {
      const d = this.defaultRule(ruleLoc, ref, args, kind, value, assign);
      return d && !badHead ? [d] : [];
    }

    // The first body.
    let body: Body = [];
    let hasBody = false;
    let usedIf = false;
    if (this.at("if")) {
      this.next();
      usedIf = hasBody = true;
      body = this.ifBody();
    } else if (this.tok.kind === T_LBRACE) {
      // v1 rules without the keywords imported (`import rego.v1` in v0, --v0-v1): `if { … }`.
      if (this.v1 && ref.length === 1 && ref[0].type === "var" && V1_KEYWORDS.has(ref[0].name)) {
        this.ruleError(`${ref[0].name} keyword cannot be used for rule name`, ruleLoc);
      }
      if (this.v1) this.ruleError(`\`if\` keyword is required before ${args ? "function" : "rule"} body`, ruleLoc);
      hasBody = true;
      body = this.braceBody();
    }

    if (kind === null) {
      if (args) {
        kind = "function";
      } else if (!hasBody) {
        if (badHead) return [];
        // A stray token after the head is the real problem (`p : 1`), as OPA reports it.
        if (this.tok.kind !== T_SEMI && !this.canStartStatement()) this.unexpected(this.tok);
        let problem: string | null = null;
        if (ref.length === 1) problem = "var cannot be used for rule name";
        else if (this.v1) {
          problem = ref.length === 2 ? "`contains` keyword is required for partial set rules" : "rule must have value assignment and/or body declaration";
        }
        if (problem !== null) {
          if (this.tok.kind !== T_SEMI) this.ruleError(problem, ruleLoc);
          return [];
        }
        if (ref.length === 2) {
          kind = "multi";
          key = ref[1];
          ref = [ref[0]];
        } else kind = "single";
      } else if (ref.length === 2 && !usedIf) {
        if (this.v1) {
          this.ruleError("`contains` keyword is required for partial set rules", ruleLoc);
          kind = "single";
        } else {
          kind = "multi";
          key = ref[1];
          ref = [ref[0]];
        }
      } else kind = "single";
      if (kind !== "multi") value = { type: "boolean", value: true, loc: ruleLoc };
    }

    const head: RuleHead = { kind, ref, args, key, value, assign, loc: ruleLoc };
    const first: Rule = { head, body, isDefault: false, elses: [], hasBody, annotations: [], loc: ruleLoc };
    const rules = [first];

    // `p { a } { b }`: each further block is another rule with the same head.
    while (hasBody && this.tok.kind === T_LBRACE) {
      const more = this.braceBody();
      rules.push({ head: structuredClone(head), body: more, isDefault: false, elses: [], hasBody: true, annotations: [], loc: ruleLoc });
    }

    if (this.at("else")) {
      const elseTok = this.tok;
      if (!hasBody || rules.length > 1) this.unexpected(elseTok);
      if (kind === "multi") this.fail("else keyword cannot be used on multi-value rules", elseTok);
      for (let i = 1; i < ref.length; i++) {
        if (ref[i].type === "var") this.fail("else keyword cannot be used on rules with variables in head", elseTok);
      }
      while (this.at("else")) {
        const e = this.tok;
        const eloc = this.loc(e);
        this.next();
        let ev: Term | null = null;
        if (this.tok.kind === T_EQ || this.tok.kind === T_ASSIGN) {
          this.next();
          ev = this.item(true);
        }
        let eb: Body = [];
        if (this.at("if")) {
          this.next();
          eb = this.ifBody();
        } else if (this.tok.kind === T_LBRACE) {
          if (this.v1) this.ruleError("`if` keyword is required before rule body", eloc);
          eb = this.braceBody();
        } else if (ev === null) {
          this.unexpected(this.tok, "expected else value term or rule body");
        }
        first.elses.push({ value: ev ?? { type: "boolean", value: true, loc: eloc }, body: eb, loc: eloc });
        if (this.tok.kind === T_LBRACE) this.fail("expected else keyword", this.tok);
      }
    }
    return badHead ? [] : rules;
  }

  private defaultRule(ruleLoc: Location, ref: Term[], args: Term[] | null, kind: RuleHead["kind"] | null, value: Term | null, assign: boolean): Rule | null {
    // Unlike most rule-shape errors, OPA reports these as it meets them.
    const illegal = (why: string): null => this.fail(`illegal default rule (${why})`, ruleLoc);
    if (kind === "multi") return illegal("must have a value");
    for (const a of args ?? []) {
      if (a.type !== "var") return illegal(`arguments cannot contain ${typeName(a)}`);
    }
    if (value) {
      const bad = nonConstant(value);
      if (bad) return illegal(`value cannot contain ${bad}`);
    } else value = { type: "boolean", value: true, loc: ruleLoc };
    const head: RuleHead = { kind: args ? "function" : "single", ref, args, key: null, value, assign, loc: ruleLoc };
    return { head, body: [], isDefault: true, elses: [], hasBody: false, annotations: [], loc: ruleLoc };
  }

  /**
   * The body after `if`: braces, or a single expression. `if {…}` is ambiguous, as the braces
   * may start a term (`p if {"a": 1}.a`, `p if {x | y}`); like OPA, read a term (operators
   * included, but not `=`/`:=`) and keep it unless that fails or yields a plain set, in which
   * case the braces are a block.
   */
  private ifBody(): Body {
    if (this.tok.kind !== T_LBRACE) return [this.literal()];
    const save = this.pos;
    const depth = this.depth;
    try {
      const t = this.termIn(true);
      if (t.type !== "set") {
        // A whole expression, so `p if {1 | 1} = v` unifies, as in OPA.
        this.reset(save);
        return [this.literal()];
      }
    } catch (e) {
      // Any error, a depth error too, only means that the braces are a block.
      if (!(e instanceof Fail) && !(e instanceof DepthFail)) throw e;
    }
    this.reset(save);
    this.depth = depth;
    return this.braceBody();
  }

  private braceBody(): Body {
    this.next(); // {
    if (this.tok.kind === T_RBRACE) this.fail("found empty body", this.tok);
    // A body in braces is one level deeper than a comprehension's in OPA's count.
    const depth = this.depth;
    this.down();
    const body = this.bodyUntil(T_RBRACE);
    this.depth = depth;
    this.next(); // }
    return body;
  }

  /** Expressions separated by newlines or `;`, up to (not consuming) the `close` token. */
  private bodyUntil(close: number): Body {
    const body: Body = [];
    const depth = this.depth;
    this.down();
    for (;;) {
      body.push(this.literal());
      const t = this.tok;
      if (t.kind === T_SEMI) {
        this.next();
        continue;
      }
      if (t.kind === close) {
        this.depth = depth;
        return body;
      }
      if (t.kind === T_EOF) this.unexpected(t);
      if (t.nl) continue;
      this.unexpected(t, `expected \\n or ; or ${kindName(close)}`);
    }
  }

  // ---- expressions -----------------------------------------------------------------------

  private literal(): Expr {
    const a = this.ahead("literal");
    if (a !== undefined) return a as Expr;
    const depth = this.depth;
    this.native++;
    try {
      return this.literalInner();
    } finally {
      this.native--;
      this.depth = depth;
    }
  }

  private literalInner(): Expr {
    const start = this.tok;
    const startPos = this.pos;
    let negated = false;
    let node: ExprNode;
    if (this.keywordRef()) node = this.exprNode();
    else if (this.at("some")) node = this.someDecl();
    else if (this.at("every")) node = this.everyExpr();
    else {
      if (this.at("not")) {
        negated = true;
        this.next();
        if (this.at("some") || this.at("every")) this.unexpected(this.tok, `illegal negation of '${this.tok.text}'`);
      }
      node = negated && this.notBodies && this.tok.kind === T_LBRACE ? this.notBody() : this.exprNode();
      if (!negated && !this.kwEvery && node.type === "term" && node.term.type === "var" && node.term.name === "every") this.hintFuture(startPos, "every");
    }
    return { node, negated, with: this.withs(), loc: this.loc(start) };
  }

  /**
   * The body of `not { … }`, as the term `{true | …}[true]`: defined exactly when the body has
   * a solution, so the negated expression holds when it has none. A comprehension also gives
   * the body its own scope for local vars, as OPA does.
   */
  private notBody(): ExprNode {
    const l = this.loc(this.tok);
    const body = this.braceBody();
    const comp: Term = { type: "setcomp", head: { type: "boolean", value: true, loc: l }, body, loc: l };
    return { type: "term", term: { type: "ref", terms: [comp, { type: "boolean", value: true, loc: l }], loc: l } };
  }

  private exprNode(): ExprNode {
    const lhs = this.termIn(true);
    const t = this.tok;
    if (t.kind === T_EQ || t.kind === T_ASSIGN) {
      this.next();
      const rhs = this.termIn(true);
      return { type: "call", op: opRef(t.kind === T_EQ ? "eq" : "assign", this.loc(t)), args: [lhs, rhs] };
    }
    if (lhs.type === "call") return { type: "call", op: lhs.op, args: lhs.args };
    return { type: "term", term: lhs };
  }

  private withs(): With[] {
    const out: With[] = [];
    while (this.at("with")) {
      const w = this.tok;
      this.next();
      if (this.tok.kind !== T_IDENT || (this.isKeyword(this.tok.text) && this.tok.text !== "contains")) this.unexpected(this.tok, "expected ident");
      const target = this.term(false);
      let ref: RefTerm;
      if (target.type === "ref") ref = target;
      else if (target.type === "var") ref = { type: "ref", terms: [target], loc: target.loc };
      else this.unexpected(this.tok, "expected with target path");
      if (!this.at("as")) this.unexpected(this.tok, "expected as keyword");
      this.next();
      const value = this.termIn(true);
      out.push({ target: ref, value, loc: this.loc(w) });
    }
    return out;
  }

  private someDecl(): ExprNode {
    this.next(); // some
    if (this.kwIn) {
      const save = this.pos;
      const depth = this.depth;
      try {
        const t = this.termIn(true);
        const m = memberArity(t);
        if (m === 2) {
          const c = t as CallTerm;
          return { type: "somein", key: null, value: c.args[0], collection: c.args[1] };
        }
        if (m === 3) {
          const c = t as CallTerm;
          return { type: "somein", key: c.args[0], value: c.args[1], collection: c.args[2] };
        }
      } catch (e) {
        // OPA drops even a depth error here, and reads `some` as a list of variables.
        if (!(e instanceof Fail) && !(e instanceof DepthFail)) throw e;
      }
      this.reset(save);
      this.depth = depth;
    } else this.hintFuture(this.pos, "in");
    const vars: VarTerm[] = [];
    for (;;) {
      const t = this.tok;
      if (t.kind !== T_IDENT || this.isKeyword(t.text)) this.unexpected(t, "expected var");
      vars.push({ type: "var", name: t.text, loc: this.loc(t) });
      this.next();
      if (this.tok.kind !== T_COMMA) return { type: "some", vars };
      this.next();
    }
  }

  /**
   * OPA's hint for a v0 module that writes `some x in xs` or `every x in xs { … }` without
   * importing the keyword: parse again from `from` with the keyword on; if that works, the next
   * error reported says which import is missing.
   */
  private hintFuture(from: number, kw: "in" | "every"): void {
    const save = this.pos;
    const flags = [this.kwIn, this.kwEvery];
    this.kwIn = true;
    this.kwEvery = kw === "every";
    let ok = false;
    try {
      this.reset(from);
      if (kw === "in") ok = memberArity(this.termIn(true)) > 0;
      else ok = this.everyExpr().type === "every";
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
    } finally {
      [this.kwIn, this.kwEvery] = flags;
      this.reset(save);
    }
    if (ok) this.hints.push(kw === "in" ? "`import future.keywords.in` for `some x in xs` expressions" : "`import future.keywords.every` for `every x in xs { ... }` expressions");
  }

  private everyExpr(): ExprNode {
    this.down(); // OPA: one level more than other expressions
    this.next(); // every
    const t = this.termIn(true);
    const m = memberArity(t);
    if (m === 0) this.unexpected(this.tok, "expected `x in xs` or `x, y in xs` expression");
    const args = (t as CallTerm).args;
    const key = m === 3 ? args[0] : null;
    const value = m === 3 ? args[1] : args[0];
    const domain = m === 3 ? args[2] : args[1];
    if (value.type !== "var") this.unexpected(this.tok, "expected value to be a variable");
    if (key && key.type !== "var") this.unexpected(this.tok, "expected key to be a variable");
    if (this.tok.kind !== T_LBRACE) this.unexpected(this.tok, "missing body");
    const body = this.braceBody();
    return { type: "every", key: key as VarTerm | null, value: value as VarTerm, domain, body };
  }

  // ---- terms and operators ---------------------------------------------------------------

  /**
   * A term with operators, up to the `in` level. With `keyVal`, also `k, v in xs`, which is
   * only allowed where a whole expression may stand. `first`, when given, is an already
   * parsed leading operand (used after comprehension look-ahead).
   */
  private termIn(keyVal: boolean, first?: Term): Term {
    const depth = this.depth;
    this.down();
    let lhs = this.relation(first);
    if (keyVal && this.tok.kind === T_COMMA && this.kwIn) {
      const save = this.pos;
      const inner = this.depth;
      try {
        this.next();
        const v = this.relation();
        if (this.at("in")) {
          const inTok = this.tok;
          this.next();
          const coll = this.relation();
          lhs = memberCall("member_3", [lhs, v, coll], lhs.loc, this.loc(inTok));
        } else this.reset(save);
      } catch (e) {
        if (!(e instanceof Fail)) throw e;
        this.reset(save);
        this.depth = inner;
      }
    }
    while (this.at("in")) {
      const inTok = this.tok;
      this.next();
      const rhs = this.relation();
      lhs = memberCall("member_2", [lhs, rhs], lhs.loc, this.loc(inTok));
      // OPA recurses once per operator of a chain.
      this.depth++;
    }
    this.depth = depth;
    return lhs;
  }

  private relation(first?: Term): Term {
    const depth = this.depth;
    this.down();
    let lhs = this.or(first);
    while (RELATIONAL.has(this.tok.kind)) {
      const op = this.tok;
      this.next();
      lhs = this.infix(op, lhs, this.or());
      this.depth++;
    }
    this.depth = depth;
    return lhs;
  }

  private or(first?: Term): Term {
    const depth = this.depth;
    this.down();
    let lhs = this.and(first);
    while (this.tok.kind === T_OR) {
      const op = this.tok;
      this.next();
      lhs = this.infix(op, lhs, this.and());
      this.depth++;
    }
    this.depth = depth;
    return lhs;
  }

  private and(first?: Term): Term {
    const depth = this.depth;
    this.down();
    let lhs = this.arith(first);
    while (this.tok.kind === T_AND) {
      const op = this.tok;
      this.next();
      lhs = this.infix(op, lhs, this.arith());
      this.depth++;
    }
    this.depth = depth;
    return lhs;
  }

  private arith(first?: Term): Term {
    const depth = this.depth;
    this.down();
    let lhs = this.factor(first);
    while (this.tok.kind === T_PLUS || this.tok.kind === T_MINUS) {
      const op = this.tok;
      this.next();
      lhs = this.infix(op, lhs, this.factor());
      this.depth++;
    }
    this.depth = depth;
    return lhs;
  }

  private factor(first?: Term): Term {
    const depth = this.depth;
    this.down();
    let lhs = first ?? this.unary();
    while (this.tok.kind === T_MUL || this.tok.kind === T_DIV || this.tok.kind === T_REM) {
      const op = this.tok;
      this.next();
      lhs = this.infix(op, lhs, this.unary());
      this.depth++;
    }
    this.depth = depth;
    return lhs;
  }

  private infix(op: Token, lhs: Term, rhs: Term): CallTerm {
    return { type: "call", op: opRef(INFIX_OPS[op.text], this.loc(op)), args: [lhs, rhs], loc: lhs.loc };
  }

  private unary(): Term {
    if (this.tok.kind !== T_MINUS) return this.term(false);
    const m = this.tok;
    const mloc = this.loc(m);
    this.next();
    const t = this.tok;
    if (t.kind === T_NUMBER) {
      this.next();
      return this.number("-" + t.text, t, mloc);
    }
    if (t.kind === T_DOT && this.peek(1).kind === T_NUMBER && this.peek(1).start === t.end) {
      const n = this.peek(1);
      this.next();
      this.next();
      return this.number("-0." + n.text, n, mloc);
    }
    if (t.kind === T_IDENT && (!this.isKeyword(t.text) || t.text === "contains")) {
      const x = this.term(false);
      return { type: "call", op: opRef("minus", mloc), args: [{ type: "number", value: "0", loc: mloc }, x], loc: mloc };
    }
    this.unexpected(t, "expected number");
  }

  private number(text: string, t: Token, l: Location): Term {
    const digits = text.charCodeAt(0) === 45 ? 1 : 0;
    if (text.length > digits + 1 && text.charCodeAt(digits) === 48 && isDigitCode(text.charCodeAt(digits + 1))) {
      this.unexpected(t, "expected number without leading zero");
    }
    if (text.length > 300 || text.indexOf("e") >= 0 || text.indexOf("E") >= 0) {
      if (tooBig(text)) this.fail("number too big", t);
    }
    return { type: "number", value: text, loc: l };
  }

  /** A single term: a scalar, var, composite, comprehension or parenthesised expression, with any ref or call suffix. */
  private term(head: boolean): Term {
    const a = this.ahead(head ? "head" : "term");
    if (a !== undefined) return a as Term;
    const depth = this.depth;
    // A rule's name is not a term of its own in OPA's count.
    if (!head || this.tok.kind !== T_IDENT) this.down();
    this.native++;
    try {
      const t = this.termInner(head);
      // A depth error after the first term of a rule's value gets no second message from OPA.
      if (depth + 1 === this.slotTerm) this.slot = null;
      return t;
    } finally {
      this.native--;
      this.depth = depth;
    }
  }

  private termInner(head: boolean): Term {
    const t = this.tok;
    switch (t.kind) {
      case T_NUMBER:
        this.next();
        return this.scalarEnd(this.number(t.text, t, this.loc(t)));
      case T_STRING:
        this.next();
        return this.scalarEnd(t.raw ? { type: "string", value: t.text, raw: true, loc: this.loc(t) } : { type: "string", value: t.text, loc: this.loc(t) });
      case T_IDENT: {
        const text = t.text;
        if (this.pos === this.kwRefPos) {
          this.next();
          return this.suffix({ type: "var", name: text, loc: this.loc(t) }, head);
        }
        if (text === "true" || text === "false") {
          this.next();
          return this.scalarEnd({ type: "boolean", value: text === "true", loc: this.loc(t) });
        }
        if (text === "null") {
          this.next();
          return this.scalarEnd({ type: "null", loc: this.loc(t) });
        }
        if (text !== "contains" && this.isKeyword(text)) this.fail(`unexpected ${text} keyword`, t);
        this.next();
        if (text === "set" && this.tok.kind === T_LPAREN && this.touching() && this.peek(1).kind === T_RPAREN) {
          this.next();
          this.next();
          return this.suffix({ type: "set", items: [], loc: this.loc(t) });
        }
        const v = this.suffix({ type: "var", name: text, loc: this.loc(t) }, head);
        if (!head && v.type === "var" && (text === "input" || text === "data")) return { type: "ref", terms: [v], loc: v.loc };
        return v;
      }
      case T_TPL_BEGIN:
        return this.templateString();
      case T_LBRACK:
        return this.suffix(this.array());
      case T_LBRACE:
        return this.suffix(this.braced());
      case T_LPAREN: {
        this.next();
        this.down();
        const inner = this.termIn(true);
        if (this.tok.kind !== T_RPAREN) this.fail("non-terminated expression", this.tok);
        this.next();
        return this.suffix(inner);
      }
      case T_DOT: {
        // `.5` is accepted by OPA as a number; written here with its leading zero.
        const n = this.peek(1);
        if (n.kind === T_NUMBER && n.start === t.end) {
          this.next();
          this.next();
          return this.number("0." + n.text, n, this.loc(t));
        }
        return this.unexpected(n, "expected number");
      }
      default:
        return this.unexpected(t);
    }
  }

  /** Scalars cannot head a ref. */
  private scalarEnd(t: Term): Term {
    if ((this.tok.kind === T_DOT || this.tok.kind === T_LBRACK) && this.touching()) {
      this.fail(`illegal ref (head cannot be ${typeName(t)})`, t.loc);
    }
    return t;
  }

  /**
   * `.name`, `[term]` and `(args)` directly following a term. In a rule head OPA also accepts
   * a space between the name and its first `(` or `[` (`sum (a, b) := …`).
   */
  private suffix(head: Term, ruleHead = false): Term {
    let cur = head;
    const depth = this.depth;
    for (;;) {
      const t = this.tok;
      if (!this.touching() && !(ruleHead && cur === head && (t.kind === T_LPAREN || t.kind === T_LBRACK))) break;
      if (cur === head && (t.kind === T_LBRACK || t.kind === T_LPAREN)) {
        // OPA: a reference (or call) is a level of its own, and in a rule head a depth error
        // here is reported as a missing head name.
        if (ruleHead) this.slot = HEAD_NAME;
        this.down();
      }
      let operand: Term;
      if (t.kind === T_DOT) {
        this.next();
        operand = this.dotName(t);
      } else if (t.kind === T_LBRACK) {
        this.next();
        operand = this.item(false);
        // sic: OPA names the opening bracket here
        if (this.tok.kind !== T_RBRACK) this.unexpected(this.tok, "expected [");
        this.next();
      } else if (t.kind === T_LPAREN && (cur.type === "var" || cur.type === "ref")) {
        const op: RefTerm = cur.type === "var" ? { type: "ref", terms: [cur], loc: cur.loc } : cur;
        cur = { type: "call", op, args: this.callArgs(), loc: op.loc };
        continue;
      } else break;
      if (cur.type === "ref" && cur !== head) cur.terms.push(operand);
      else if (cur.type === "ref") cur = { type: "ref", terms: [...cur.terms, operand], loc: cur.loc };
      else cur = { type: "ref", terms: [cur, operand], loc: cur.loc };
    }
    this.depth = depth;
    return cur;
  }

  private callArgs(): Term[] {
    const depth = this.depth;
    this.down();
    this.next(); // (
    const args: Term[] = [];
    if (this.tok.kind === T_RPAREN) {
      this.next();
      this.depth = depth;
      return args;
    }
    for (;;) {
      args.push(this.item(false));
      if (this.tok.kind === T_COMMA) {
        this.next();
        if (this.tok.kind === T_RPAREN) break;
        continue;
      }
      if (this.tok.kind === T_RPAREN) break;
      this.unexpected(this.tok, 'expected "," or ")"');
    }
    this.next();
    this.depth = depth;
    return args;
  }

  /**
   * The first item of a collection, whose first term `h` was read already (to see whether it
   * heads a comprehension): OPA continues it as an expression only when an operator follows.
   * A depth error in that continuation is also reported by the collection (`expected`).
   */
  private firstItem(h: Term | undefined, expected: string | null): Term {
    if (h === undefined) {
      // A leading minus: OPA reads `-x` as one term.
      const depth = this.depth;
      this.down();
      h = this.unary();
      this.depth = depth;
    }
    if (!this.isInfixOp()) return h;
    try {
      return this.item(false, h);
    } catch (e) {
      if (e instanceof DepthFail && expected !== null) e.extra.push(`unexpected ${this.tokenName(e.tok)}: ${expected}`);
      throw e;
    }
  }

  /** An item of a list (array, set, object, call arguments): OPA parses each one level down. */
  private item(keyVal: boolean, first?: Term): Term {
    const depth = this.depth;
    this.down();
    const t = this.termIn(keyVal, first);
    this.depth = depth;
    return t;
  }

  private array(): Term {
    const lb = this.tok;
    const l = this.loc(lb);
    this.down();
    this.next();
    if (this.tok.kind === T_RBRACK) {
      this.next();
      return { type: "array", items: [], loc: l };
    }
    if (this.tok.kind === T_COMMA) this.next(); // OPA tolerates `[, 1]`
    let h: Term | undefined;
    let compErr: Fail | null = null;
    if (this.tok.kind !== T_MINUS) {
      h = this.term(false);
      if (this.tok.kind === T_OR) {
        const save = this.pos;
        const depth = this.depth;
        try {
          const body = this.comprehensionBody(T_RBRACK);
          return { type: "arraycomp", head: h, body, loc: l };
        } catch (e) {
          // `[a | b, c]` is an array whose first item is `a | b`: try that before failing.
          compErr = this.backtrack(e, save, depth);
        }
      }
    }
    try {
      const items = [this.firstItem(h, h !== undefined && this.tok.kind === T_OR ? null : 'expected "," or "]"')];
      for (;;) {
        if (this.tok.kind === T_COMMA) {
          this.next();
          if (this.tok.kind === T_RBRACK) break;
          items.push(this.item(false));
          continue;
        }
        if (this.tok.kind === T_RBRACK) break;
        this.unexpected(this.tok, 'expected "," or "]"');
      }
      this.next();
      return { type: "array", items, loc: l };
    } catch (e) {
      throw compErr ?? e;
    }
  }

  /** After a failed comprehension attempt: rewind to `save` and keep the error for later. */
  private backtrack(e: unknown, save: number, depth: number): Fail {
    if (!(e instanceof Fail)) throw e;
    this.reset(save);
    this.depth = depth;
    return e;
  }

  private comprehensionBody(close: number): Body {
    this.next(); // |
    if (this.tok.kind === close) this.fail("found empty body", this.tok);
    const body = this.bodyUntil(close);
    this.next();
    return body;
  }

  /** `{}` (empty object), objects, sets and the three comprehensions that start with `{`. */
  private braced(): Term {
    const l = this.loc(this.tok);
    this.down();
    this.next();
    if (this.tok.kind === T_RBRACE) {
      this.next();
      return { type: "object", items: [], loc: l };
    }
    if (this.tok.kind === T_COMMA) this.next(); // and `{, 1}`
    // As for arrays, a failed comprehension is retried as a plain set or object.
    let h: Term | undefined;
    let compErr: Fail | null = null;
    if (this.tok.kind !== T_MINUS) {
      h = this.term(false);
      if (this.tok.kind === T_OR) {
        const save = this.pos;
        const depth = this.depth;
        try {
          this.depth += SETCOMP_EXTRA;
          const body = this.comprehensionBody(T_RBRACE);
          this.depth = depth;
          return { type: "setcomp", head: h, body, loc: l };
        } catch (e) {
          compErr = this.backtrack(e, save, depth);
        }
      }
    }
    try {
      const k = this.firstItem(h, null);
      if (this.tok.kind === T_COLON) return this.objectRest(l, k);
      const items = [k];
      for (;;) {
        if (this.tok.kind === T_COMMA) {
          this.next();
          if (this.tok.kind === T_RBRACE) break;
          items.push(this.item(false));
          continue;
        }
        if (this.tok.kind === T_RBRACE) break;
        this.unexpected(this.tok, "non-terminated set");
      }
      this.next();
      return { type: "set", items, loc: l };
    } catch (e) {
      throw compErr ?? e;
    }
  }

  /** An object (or object comprehension) after its first key, at the `:`. */
  private objectRest(l: Location, k: Term): Term {
    this.next(); // :
    this.down();
    let h: Term | undefined;
    let compErr: Fail | null = null;
    if (this.tok.kind !== T_MINUS) {
      h = this.term(false);
      if (this.tok.kind === T_OR) {
        const save = this.pos;
        const depth = this.depth;
        try {
          this.depth += OBJCOMP_EXTRA;
          const body = this.comprehensionBody(T_RBRACE);
          this.depth = depth;
          return { type: "objectcomp", key: k, value: h, body, loc: l };
        } catch (e) {
          // A depth error in the comprehension is dropped by OPA: the object's error is reported.
          if (e instanceof DepthFail) this.backtrack(new Fail("", 0, 0), save, depth);
          else compErr = this.backtrack(e, save, depth);
        }
      }
    }
    try {
      const items: [Term, Term][] = [[k, this.firstItem(h, null)]];
      for (;;) {
        if (this.tok.kind === T_COMMA) {
          this.next();
          if (this.tok.kind === T_RBRACE) break;
          const kk = this.item(false);
          if (this.tok.kind !== T_COLON) this.unexpected(this.tok, "expected :");
          this.next();
          items.push([kk, this.item(false)]);
          continue;
        }
        if (this.tok.kind === T_RBRACE) break;
        this.unexpected(this.tok, "non-terminated object");
      }
      this.next();
      return { type: "object", items, loc: l };
    } catch (e) {
      throw compErr ?? e;
    }
  }

  /**
   * `$"a {x} b"` is desugared to `internal.template_string(["a ", {$tpl0 | $tpl0 = x}, " b"])`:
   * text parts stay strings and each expression part becomes a set comprehension, so the
   * builtin sees an empty set for an undefined expression (OPA prints "<undefined>").
   */
  private templateString(): Term {
    const b = this.tok;
    const l = this.loc(b);
    this.next();
    const items: Term[] = [];
    for (;;) {
      const t = this.tok;
      if (t.kind === T_TPL_TEXT) {
        items.push({ type: "string", value: t.text, loc: this.loc(t) });
        this.next();
      } else if (t.kind === T_TPL_EXPR_BEGIN) {
        this.next();
        items.push(this.templateExpr());
      } else if (t.kind === T_TPL_END) {
        this.next();
        break;
      } else this.unexpected(t);
    }
    return { type: "call", op: opRef("internal.template_string", l), args: [{ type: "array", items, loc: l }], loc: l };
  }

  private templateExpr(): Term {
    const start = this.tok;
    const l = this.loc(start);
    if (this.at("not")) this.fail("unexpected negation ('not') in template-string expression", start);
    if (this.at("some") || this.at("every")) this.fail(`unexpected '${start.text}' in template-string expression`, start);
    if (start.kind === T_TPL_EXPR_END) this.unexpected(start);
    const value = this.termIn(true);
    if (this.tok.kind === T_EQ) this.fail("unexpected unification ('=') in template-string expression", start);
    if (this.tok.kind === T_ASSIGN) this.fail("unexpected assignment (':=') in template-string expression", start);
    const withs = this.withs();
    if (this.tok.kind !== T_TPL_EXPR_END) this.fail("expected } to end template string expression", this.tok);
    this.next();
    const v: VarTerm = { type: "var", name: `$tpl${this.templateVars++}`, loc: l };
    const expr: Expr = { node: { type: "call", op: opRef("eq", l), args: [v, value] }, negated: false, with: withs, loc: l };
    return { type: "setcomp", head: v, body: [expr], loc: l };
  }

  // ---- queries and single terms ----------------------------------------------------------

  query(): Body {
    if (this.tok.kind === T_EOF) this.fail("empty query", this.tok);
    return this.bodyUntil(T_EOF);
  }

  standaloneTerm(): Term {
    const t = this.termIn(false);
    if (this.tok.kind !== T_EOF) this.unexpected(this.tok);
    return t;
  }

  // ---- annotations -----------------------------------------------------------------------

  /** Turn `# METADATA` comment blocks into annotations on the statement that follows each. */
  private annotate(mod: Module, statements: Statement[]): void {
    const cs = this.comments;
    let si = 0;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i];
      if (c.col !== 1 || c.text.trim() !== "METADATA") continue;
      const lines: string[] = [];
      let last = c.row;
      let j = i + 1;
      while (j < cs.length && cs[j].row === last + 1 && cs[j].col === 1 && cs[j].text.trim() !== "METADATA") {
        const text = cs[j].text;
        lines.push(text.charCodeAt(0) === 32 ? text.slice(1) : text);
        last++;
        j++;
      }
      i = j - 1;
      const where: Location = { file: this.file, row: c.row, col: c.col };
      while (si < statements.length && statements[si].row <= last) si++;
      const target = si < statements.length ? statements[si] : null;
      try {
        const ann = this.annotation(lines, where, c.row, target);
        if (!ann || !target) continue;
        if (ann.scope === "package" || ann.scope === "subpackages") mod.annotations.push(ann);
        else for (const r of target.rules) r.annotations.push(ann);
      } catch (e) {
        if (!(e instanceof Fail)) throw e;
        this.errors.push(this.detail(e));
      }
    }
  }

  private annotation(lines: string[], where: Location, row: number, target: Statement | null): Annotation | null {
    if (lines.length === 0) this.fail("expected METADATA block, found whitespace", where);
    let doc: unknown;
    try {
      doc = loadYaml(lines.join("\n"));
    } catch (e) {
      const err = e as { reason?: string; message?: string; mark?: { line?: number } };
      const line = Math.min(err.mark?.line ?? 0, lines.length - 1);
      this.fail(`yaml: line ${line + 1}: ${err.reason ?? err.message}`, { file: this.file, row: row + 1 + line, col: 1 });
    }
    if (doc === null || doc === undefined) this.fail("expected METADATA block, found whitespace", where);
    if (typeof doc !== "object" || Array.isArray(doc)) this.fail("yaml: metadata block must be a mapping", where);
    // A key without a value (`authors:`) is as good as absent, as in OPA.
    const y = Object.fromEntries(Object.entries(doc as Record<string, unknown>).filter(([, v]) => v !== null));
    const explicit = y.scope;
    const kind = target ? target.kind : null;
    let scope: string;
    if (explicit !== undefined) {
      scope = String(explicit);
      if (!["rule", "document", "package", "subpackages"].includes(scope)) {
        this.fail(`invalid annotation scope '${scope}'. Use one of 'rule', 'document', 'package', or 'subpackages'`, where);
      }
    } else if (kind === "package") scope = "package";
    else if (kind === "rule") scope = y.entrypoint === true ? "document" : "rule";
    else if (kind === "import") {
      this.fail("invalid annotation scope 'import'. Use one of 'rule', 'document', 'package', or 'subpackages'", where);
    } else return null;
    if (kind === "import") this.fail(`annotation scope '${scope}' must be applied to ${scope === "rule" || scope === "document" ? "rule" : "package"} (have import)`, where);
    if (kind === "package" && (scope === "rule" || scope === "document")) {
      this.fail(`annotation scope '${scope}' must be applied to rule (have package)`, where);
    }
    if (kind === "rule" && (scope === "package" || scope === "subpackages")) {
      this.fail(`annotation scope '${scope}' must be applied to package (have rule)`, where);
    }
    if (y.entrypoint === true && scope !== "document" && scope !== "package") {
      this.fail(`annotation entrypoint applied to non-document or package scope '${scope}'`, where);
    }
    const ann: Annotation = { scope, loc: where };
    for (const k of ["title", "description", "organizations", "entrypoint", "custom", "compile"]) {
      if (y[k] !== undefined) ann[k] = y[k];
    }
    if (y.authors !== undefined) ann.authors = this.authors(y.authors, where);
    if (y.related_resources !== undefined) ann.related_resources = this.relatedResources(y.related_resources, where);
    if (y.schemas !== undefined) ann.schemas = this.schemas(y.schemas, where);
    return ann;
  }

  // Authors are normalised to {name?, email?} objects, as OPA reports them from rego.metadata.
  private authors(v: unknown, where: Location): unknown[] {
    if (!Array.isArray(v)) this.fail("invalid authors: expected a list", where);
    return v.map((a) => {
      if (typeof a === "string") {
        const m = /^(.*?)\s*<([^<>]*)>\s*$/.exec(a.trim());
        if (m) return m[1] ? { name: m[1], email: m[2] } : { email: m[2] };
        return { name: a.trim() };
      }
      if (a && typeof a === "object" && !Array.isArray(a)) {
        const o = a as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        if (o.name !== undefined) out.name = String(o.name);
        if (o.email !== undefined) out.email = String(o.email);
        if (out.name === undefined && out.email === undefined) this.fail("invalid author: at least one of name or email must be set", where);
        return out;
      }
      return this.fail("invalid author: expected a string or an object", where);
    });
  }

  private relatedResources(v: unknown, where: Location): unknown[] {
    if (!Array.isArray(v)) this.fail("invalid related-resources: expected a list", where);
    return v.map((r) => {
      if (typeof r === "string") return { ref: r };
      if (r && typeof r === "object" && !Array.isArray(r)) {
        const o = r as Record<string, unknown>;
        if (typeof o.ref !== "string") this.fail("invalid related-resource: ref must be set", where);
        return o.description !== undefined ? { ref: o.ref, description: String(o.description) } : { ref: o.ref };
      }
      return this.fail("invalid related-resource: expected a string or an object", where);
    });
  }

  // Schemas become {path: string[], schema?: string[], definition?: value}, the shape rego.metadata uses.
  private schemas(v: unknown, where: Location): unknown[] {
    if (!Array.isArray(v)) this.fail("invalid schemas: expected a list", where);
    const out: unknown[] = [];
    for (const entry of v) {
      if (!entry || typeof entry !== "object" || Array.isArray(entry)) this.fail("invalid schema annotation: expected a mapping", where);
      for (const [path, val] of Object.entries(entry as Record<string, unknown>)) {
        const p = this.schemaRef(path, where);
        if (typeof val === "string") out.push({ path: p, schema: this.schemaRef(val, where) });
        else out.push({ path: p, definition: val });
      }
    }
    return out;
  }

  private schemaRef(text: string, where: Location): string[] {
    let t: Term;
    try {
      t = parseTerm(text);
    } catch {
      return this.fail(`invalid schema reference: ${text}`, where);
    }
    const terms = t.type === "ref" ? t.terms : t.type === "var" ? [t] : null;
    if (!terms) return this.fail(`invalid schema reference: ${text}`, where);
    return terms.map((x) => (x.type === "var" ? x.name : x.type === "string" ? x.value : termString(x)));
  }
}

// ---- helpers ---------------------------------------------------------------------------------

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

function opRef(name: string, l: Location): RefTerm {
  const dot = name.indexOf(".");
  if (dot < 0) return { type: "ref", terms: [{ type: "var", name, loc: l }], loc: l };
  const parts = name.split(".");
  const terms: Term[] = [{ type: "var", name: parts[0], loc: l }];
  for (let i = 1; i < parts.length; i++) terms.push({ type: "string", value: parts[i], loc: l });
  return { type: "ref", terms, loc: l };
}

function memberCall(name: "member_2" | "member_3", args: Term[], l: Location, opLoc: Location): CallTerm {
  return {
    type: "call",
    op: { type: "ref", terms: [{ type: "var", name: "internal", loc: opLoc }, { type: "string", value: name, loc: opLoc }], loc: opLoc },
    args,
    loc: l,
  };
}

/** 2 or 3 for a call to internal.member_2/3 (what `in` produces), else 0. */
function memberArity(t: Term): number {
  if (t.type !== "call") return 0;
  const ts = t.op.terms;
  if (ts.length !== 2 || ts[0].type !== "var" || ts[0].name !== "internal" || ts[1].type !== "string") return 0;
  if (ts[1].value === "member_2" && t.args.length === 2) return 2;
  if (ts[1].value === "member_3" && t.args.length === 3) return 3;
  return 0;
}

/** The kind of the first var, ref or call in a default rule's value (comprehensions are fine). */
function nonConstant(t: Term): string | null {
  // Without recursion: the value may be nested thousands deep.
  const todo: Term[] = [t];
  while (todo.length > 0) {
    const x = todo.pop()!;
    switch (x.type) {
      case "var":
      case "ref":
      case "call":
        return x.type;
      case "array":
      case "set":
        for (let i = x.items.length - 1; i >= 0; i--) todo.push(x.items[i]);
        break;
      case "object":
        for (let i = x.items.length - 1; i >= 0; i--) todo.push(x.items[i][1], x.items[i][0]);
        break;
    }
  }
  return null;
}

function typeName(t: Term): string {
  switch (t.type) {
    case "arraycomp": return "arraycomprehension";
    case "setcomp": return "setcomprehension";
    case "objectcomp": return "objectcomprehension";
    default: return t.type;
  }
}

function tooBig(text: string): boolean {
  let s = text.charCodeAt(0) === 45 ? text.slice(1) : text;
  let exp = 0;
  const e = s.search(/[eE]/);
  if (e >= 0) {
    exp = Number(s.slice(e + 1));
    s = s.slice(0, e);
  }
  const dot = s.indexOf(".");
  const intPart = dot < 0 ? s : s.slice(0, dot);
  const digits = dot < 0 ? s : intPart + s.slice(dot + 1);
  let f = 0;
  while (f < digits.length && digits.charCodeAt(f) === 48) f++;
  if (f === digits.length) return false; // zero
  const lead = Number("0." + digits.slice(f, f + 17)); // in [0.1, 1)
  const log10 = intPart.length - f + exp + Math.log10(lead);
  return Math.abs(log10 * LOG2_10) > MAX_BINARY_EXPONENT;
}

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface TermStringStyle {
  /** How strings are quoted (JSON by default; the formatter passes Go's strconv.Quote). */
  quote?: (s: string) => string;
  /** Compiler-generated variables ($…) print as `_` (as OPA's Term.String() does for wildcards). */
  hideGenerated?: boolean;
}

/** Rego-like text of a term, for error messages and the formatter's head refs and call names. */
export function termString(t: Term, style: TermStringStyle = {}): string {
  return ts(t, style, 0);
}

function ts(t: Term, style: TermStringStyle, d: number): string {
  const leaf = termLeaf(t, style);
  if (leaf !== undefined) return leaf;
  // Terms nested thousands deep are written without recursion.
  if (d >= 200) return foldTerm(t, (x) => termLeaf(x, style), termKids, (x, parts) => termCombine(x, parts, style));
  return termCombine(t, termKids(t).map((x) => ts(x, style, d + 1)), style);
}

function termLeaf(t: Term, style: TermStringStyle): string | undefined {
  switch (t.type) {
    case "null": return "null";
    case "boolean": return String(t.value);
    case "number": return t.value;
    case "string": return style.quote ? style.quote(t.value) : JSON.stringify(t.value);
    case "var": return style.hideGenerated && t.name.startsWith("$") ? "_" : t.name;
  }
  return undefined;
}

/** The terms termString shows inside a composite term, in order. */
function termKids(t: Term): Term[] {
  switch (t.type) {
    case "ref": return t.terms;
    case "call": return [t.op, ...t.args];
    case "array":
    case "set": return t.items;
    case "object": return t.items.flat();
    case "arraycomp":
    case "setcomp": return [t.head];
    case "objectcomp": return [t.key, t.value];
    default: return [];
  }
}

function termCombine(t: Term, parts: string[], style: TermStringStyle): string {
  switch (t.type) {
    case "ref": {
      let s = parts[0];
      for (let i = 1; i < t.terms.length; i++) {
        const x = t.terms[i];
        s += x.type === "string" && IDENT_RE.test(x.value) ? "." + x.value : "[" + parts[i] + "]";
      }
      return s;
    }
    case "call": return `${parts[0]}(${parts.slice(1).join(", ")})`;
    case "array": return `[${parts.join(", ")}]`;
    case "set": return t.items.length === 0 ? "set()" : `{${parts.join(", ")}}`;
    case "object": {
      const kv: string[] = [];
      for (let i = 0; i < parts.length; i += 2) kv.push(`${parts[i]}: ${parts[i + 1]}`);
      return `{${kv.join(", ")}}`;
    }
    case "arraycomp": return `[${parts[0]} | ...]`;
    case "setcomp": return `{${parts[0]} | ...}`;
    case "objectcomp": return `{${parts[0]}: ${parts[1]} | ...}`;
    default: return termLeaf(t, style) ?? "";
  }
}

/**
 * A post-order fold over a term without native recursion: `leaf` gives the result of a term that
 * needs no expansion (or undefined), `kids` the terms inside one that does, `combine` its result
 * from theirs.
 */
export function foldTerm<R>(root: Term, leaf: (t: Term) => R | undefined, kids: (t: Term) => Term[], combine: (t: Term, rs: R[]) => R): R {
  return foldTree(root, leaf, kids, combine);
}
