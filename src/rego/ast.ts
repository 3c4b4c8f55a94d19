// The Rego abstract syntax tree.
//
// The parser (parser.ts) produces these nodes; the compiler (compiler.ts) checks and rewrites
// them; the evaluator never sees them (it runs the closures the compiler builds from them).
// Nodes are plain objects so that `portcullis parse` can print them as JSON and `fmt` can
// print them back as Rego.

export interface Location {
  file: string;
  row: number; // 1-based
  col: number; // 1-based, in characters (code points) like OPA
}

// ---- Terms ---------------------------------------------------------------------------------

export type Term =
  | NullTerm
  | BooleanTerm
  | NumberTerm
  | StringTerm
  | VarTerm
  | RefTerm
  | ArrayTerm
  | ObjectTerm
  | SetTerm
  | ArrayComprehension
  | SetComprehension
  | ObjectComprehension
  | CallTerm;

export interface NullTerm { type: "null"; loc: Location }
export interface BooleanTerm { type: "boolean"; value: boolean; loc: Location }
/** `value` is the literal text as written (without a leading sign for unary minus folded in: see parser), e.g. "1", "-2.5e3". */
export interface NumberTerm { type: "number"; value: string; loc: Location }
/** `raw` is true for back-quoted raw strings (kept for fmt). */
export interface StringTerm { type: "string"; value: string; raw?: boolean; loc: Location }
/** Variables; `_` is written as name "_" by the parser and renamed to unique wildcards by the compiler. */
export interface VarTerm { type: "var"; name: string; loc: Location }
/**
 * A reference: `terms[0]` is the head (a VarTerm such as `input`, `data`, a local or rule
 * name; or an array/object/set/comprehension/call term for `[1,2][0]`, `f(x).y`), the rest are
 * operands. `a.b` is written with a StringTerm operand "b"; `a[x]` with the term x.
 */
export interface RefTerm { type: "ref"; terms: Term[]; loc: Location }
export interface ArrayTerm { type: "array"; items: Term[]; loc: Location }
export interface ObjectTerm { type: "object"; items: [Term, Term][]; loc: Location }
export interface SetTerm { type: "set"; items: Term[]; loc: Location }
export interface ArrayComprehension { type: "arraycomp"; head: Term; body: Body; loc: Location }
export interface SetComprehension { type: "setcomp"; head: Term; body: Body; loc: Location }
export interface ObjectComprehension { type: "objectcomp"; key: Term; value: Term; body: Body; loc: Location }
/**
 * A call used as a term: `count(x)`, `data.lib.f(1)`, and operators: `a + b` is
 * { op: ref `plus`, args: [a, b] }. `op` is a RefTerm whose terms are a VarTerm followed by
 * StringTerms (`object.get` → [var object, string "get"]).
 */
export interface CallTerm { type: "call"; op: RefTerm; args: Term[]; loc: Location }

// Operator → builtin name, as OPA names them.
export const INFIX_OPS: Record<string, string> = {
  "==": "equal",
  "!=": "neq",
  "<": "lt",
  "<=": "lte",
  ">": "gt",
  ">=": "gte",
  "+": "plus",
  "-": "minus",
  "*": "mul",
  "/": "div",
  "%": "rem",
  "&": "and",
  "|": "or",
};

// ---- Expressions and bodies ----------------------------------------------------------------

export type Body = Expr[];

export interface With {
  target: RefTerm; // input…, data…, or a function/builtin name
  value: Term;
  loc: Location;
}

/**
 * One expression of a body.
 *  - term:  a term whose value must be defined and not `false` (`input.x`, `f(x)` as a term is a call).
 *  - call:  a builtin/function call statement, including `x = y` (op "eq"), `x := y` (op "assign"),
 *           `x == y` (op "equal"), `x in xs` (op "internal.member_2"), `k, v in xs`
 *           (op "internal.member_3"), and calls with an output argument `count(x, n)`.
 *  - some:  `some x, y` declarations.
 *  - somein: `some v in xs`, `some k, v in xs`.
 *  - every: `every k, v in xs { body }` (key optional).
 */
export type ExprNode =
  | { type: "term"; term: Term }
  | { type: "call"; op: RefTerm; args: Term[] }
  | { type: "some"; vars: VarTerm[] }
  | { type: "somein"; key: Term | null; value: Term; collection: Term }
  | { type: "every"; key: VarTerm | null; value: VarTerm; domain: Term; body: Body };

export interface Expr {
  node: ExprNode;
  negated: boolean;
  with: With[];
  loc: Location;
}

// ---- Rules and modules ---------------------------------------------------------------------

/**
 * A rule head, normalised the way OPA 1.x does:
 *  - `p := 1`, `p = 1`, `p if {…}` (value true), `default p := false`:
 *      kind "single", ref [p], value.
 *  - `p.q[x] := y if …` (ref head): kind "single", ref [p, "q", x], value y.
 *  - `p contains x if …` and, in v0 only, `p[x] {…}`: kind "multi", ref [p], key x.
 *  - `a.b contains x`: kind "multi", ref [a, "b"], key x.
 *  - `f(x, y) := z if …`: kind "function", ref [f] (or [a, "f"]), args, value.
 * `ref[0]` is the VarTerm rule name; further entries are StringTerms for `.name` parts or any
 * term for `[x]` parts. `assign` is true when written with `:=`.
 */
export interface RuleHead {
  kind: "single" | "multi" | "function";
  ref: Term[];
  args: Term[] | null;
  key: Term | null;
  value: Term | null;
  assign: boolean;
  loc: Location;
}

export interface Rule {
  head: RuleHead;
  body: Body; // an empty body is `true`
  isDefault: boolean;
  /** `else [= value] { body }` chain: each entry has its own value (defaulting to true) and body. */
  elses: { value: Term | null; body: Body; loc: Location }[];
  /** True when the body was written (v1 `if`, or braces); false for `p := 1` with no body. */
  hasBody: boolean;
  annotations: Annotation[];
  loc: Location;
}

export interface Import {
  path: RefTerm; // data.x.y, input.x, future.keywords.in, rego.v1
  alias: string | null;
  loc: Location;
}

export interface Comment {
  text: string; // without the leading '#'
  loc: Location;
}

/** A `# METADATA` block: parsed YAML with its scope (package, rule, document, subpackages). */
export interface Annotation {
  scope: string;
  title?: string;
  description?: string;
  entrypoint?: boolean;
  custom?: Record<string, unknown>;
  [key: string]: unknown;
  loc: Location;
}

export interface Module {
  file: string;
  /** The package path as a ref: [var data, "a", "b"] for `package a.b`. */
  package: RefTerm;
  imports: Import[];
  rules: Rule[];
  comments: Comment[];
  annotations: Annotation[]; // package- and subpackages-scope annotations
  regoVersion: "v0" | "v1";
  loc: Location;
}

/**
 * Visit the direct parts of a ref, call, array, set or object term (the term walkers' common
 * case; comprehensions, whose bodies each walker treats its own way, are left to the caller).
 */
export function eachPart(t: Term, f: (x: Term) => void): void {
  switch (t.type) {
    case "ref":
      t.terms.forEach(f);
      break;
    case "call":
      t.args.forEach(f);
      break;
    case "array":
    case "set":
      t.items.forEach(f);
      break;
    case "object":
      for (const [k, v] of t.items) (f(k), f(v));
      break;
  }
}

export function loc(file: string, row: number, col: number): Location {
  return { file, row, col };
}
