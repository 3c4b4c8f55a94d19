// Gatekeeper's mutation `location` grammar and path tests.
//
//   location  := segment ('.' segment)*
//   segment   := key ('[' key ':' (value | '*') ']')?
//   key       := [A-Za-z0-9_-]+ | "quoted" | 'quoted'     (\ escapes the next character)
//   value     := key | integer
//
// `spec.containers[name: *].image` walks every container; `[name: foo]` the element whose `name`
// is "foo" (created when missing); `[port: 80]` compares with the integer 80. Errors carry
// Gatekeeper's wording (`unexpected token: expected '.' or eof, got: ERROR: "&"`, `trailing
// separators are forbidden`). A path test (`pathTests[]`, MustExist/MustNotExist) applies to the
// depth of its sub path, which must be a prefix of the location.

export type Scalar = string | number;

export interface ObjectNode {
  type: "Object";
  reference: string;
}

export interface ListNode {
  type: "List";
  keyField: string;
  /** The key value (string or integer); null when the node is a glob. */
  keyValue: Scalar | null;
  glob: boolean;
}

export type PathNode = ObjectNode | ListNode;
export type Path = PathNode[];

/** A location that does not parse. */
export class PathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PathError";
  }
}

/** The longest location accepted (Gatekeeper's CRDs leave it unbounded; objects are bounded by the API server). */
export const MAX_PATH_LENGTH = 4096;

type TokType = "ERROR" | "EOF" | "IDENT" | "INT" | "LBRACKET" | "RBRACKET" | "SEPARATOR" | "GLOB" | "COLON";
interface Token {
  type: TokType;
  literal: string;
}

const isDigit = (c: string) => c >= "0" && c <= "9";
const isAlphaNum = (c: string) => /^[A-Za-z0-9_-]$/.test(c);
const isSpace = (c: string) => c === " " || c === "\t" || c === "\r" || c === "\n";

/** Go's %q of a string, enough for the token literals of error messages. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

const tokString = (t: Token) => `${t.type}: ${goQuote(t.literal)}`;

function scan(input: string): Token[] {
  const chars = [...input];
  let i = 0;
  const cur = () => (i < chars.length ? chars[i] : "");
  const toks: Token[] = [];
  for (;;) {
    while (isSpace(cur())) i++;
    const c = cur();
    if (c === "") {
      toks.push({ type: "EOF", literal: "" });
      return toks;
    }
    if (isDigit(c)) {
      const s = i;
      while (isDigit(cur())) i++;
      toks.push({ type: "INT", literal: chars.slice(s, i).join("") });
      continue;
    }
    if (isAlphaNum(c)) {
      const s = i;
      while (isAlphaNum(cur())) i++;
      toks.push({ type: "IDENT", literal: chars.slice(s, i).join("") });
      continue;
    }
    const single: Record<string, TokType> = { ".": "SEPARATOR", "[": "LBRACKET", "]": "RBRACKET", "*": "GLOB", ":": "COLON" };
    if (single[c]) {
      toks.push({ type: single[c], literal: c });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let out = "";
      let closed = false;
      i++;
      while (i < chars.length) {
        const d = chars[i];
        if (d === c) {
          closed = true;
          break;
        }
        if (d === "\\") {
          i++;
          if (i < chars.length) out += chars[i];
          i++;
          continue;
        }
        out += d;
        i++;
      }
      i++;
      toks.push({ type: closed ? "IDENT" : "ERROR", literal: out });
      continue;
    }
    toks.push({ type: "ERROR", literal: c });
    i++;
  }
}

/** Parse a location (or a path test's subPath). Throws PathError with Gatekeeper's wording. */
export function parsePath(input: string): Path {
  if (input.length > MAX_PATH_LENGTH) throw new PathError(`location is longer than ${MAX_PATH_LENGTH} characters`);
  const toks = scan(input);
  let pos = 0;
  // The scanner stops producing tokens after EOF: keep returning EOF.
  const tok = (k: number) => toks[Math.min(k, toks.length - 1)];
  let cur = tok(0);
  let peek = tok(1);
  const next = () => {
    pos++;
    cur = tok(pos);
    peek = tok(pos + 1);
  };
  const expect = (t: TokType) => {
    if (peek.type === t) {
      next();
      return true;
    }
    return false;
  };
  const unexpected = (what: string) => new PathError(`unexpected token: ${what}`);
  const nodes: Path = [];
  while (cur.type === "IDENT") {
    nodes.push({ type: "Object", reference: cur.literal });
    if (expect("LBRACKET")) {
      if (!expect("IDENT")) throw unexpected(`expected keyField in listSpec, got: ${tokString(peek)}`);
      const keyField = cur.literal;
      if (!expect("COLON")) throw unexpected(`expected ':' following keyField ${keyField}, got: ${tokString(peek)}`);
      let node: ListNode;
      if (expect("GLOB")) node = { type: "List", keyField, keyValue: null, glob: true };
      else if (expect("IDENT")) node = { type: "List", keyField, keyValue: cur.literal, glob: false };
      else if (expect("INT")) {
        const v = Number(cur.literal);
        if (BigInt(cur.literal) > 9223372036854775807n) {
          throw new PathError(`invalid integer: overflow in integer string: ${cur.literal}: parsing key value for key: ${keyField}`);
        }
        if (!Number.isSafeInteger(v)) throw new PathError(`key value ${cur.literal} for key ${keyField} is larger than 2^53 and cannot be compared exactly`);
        node = { type: "List", keyField, keyValue: v, glob: false };
      } else throw unexpected(`expected key value or glob in listSpec, got: ${tokString(peek)}`);
      if (!expect("RBRACKET")) throw unexpected(`expected ']' following listSpec, got: ${tokString(peek)}`);
      nodes.push(node);
    }
    if (expect("SEPARATOR")) {
      if (peek.type === "EOF") throw new PathError("trailing separators are forbidden");
      next();
    } else if (expect("EOF")) {
      // done
    } else {
      throw unexpected(`expected '.' or eof, got: ${tokString(peek)}`);
    }
  }
  if (cur.type !== "EOF") throw unexpected(`expected field name or eof, got: ${tokString(cur)}`);
  return nodes;
}

function quoteKey(s: string): string {
  if (s.length === 0) return '""';
  if (/['"\t\n \\*[\]:.]/.test(s) || /^[0-9]/.test(s)) return '"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
  return s;
}

/** A path as Gatekeeper prints it (`spec.containers[name: *].image`). */
export function pathString(p: Path): string {
  let out = "";
  p.forEach((n, i) => {
    if (n.type === "Object") out += (i > 0 ? "." : "") + quoteKey(n.reference);
    else if (n.glob) out += `[${quoteKey(n.keyField)}: *]`;
    else if (typeof n.keyValue === "number") out += `[${quoteKey(n.keyField)}: ${n.keyValue}]`;
    else out += `[${quoteKey(n.keyField)}: ${quoteKey(n.keyValue ?? "")}]`;
  });
  return out;
}

export function nodesEqual(a: PathNode, b: PathNode): boolean {
  if (a.type === "Object" || b.type === "Object") return a.type === b.type && (a as ObjectNode).reference === (b as ObjectNode).reference;
  return a.keyField === b.keyField && a.glob === b.glob && a.keyValue === b.keyValue && typeof a.keyValue === typeof b.keyValue;
}

export type Condition = "MustExist" | "MustNotExist";

/** Path tests by depth: what must (not) exist at each depth of the location. */
export class Tester {
  constructor(private readonly tests: ReadonlyMap<number, Condition>) {}

  /** May the element at this depth exist? */
  existsOkay(depth: number): boolean {
    const c = this.tests.get(depth);
    return c === undefined || c === "MustExist";
  }

  /** May the element at this depth be missing (and be created)? */
  missingOkay(depth: number): boolean {
    const c = this.tests.get(depth);
    return c === undefined || c === "MustNotExist";
  }
}

export interface PathTest {
  subPath: Path;
  condition: Condition;
}

/** Gatekeeper's tester.New: prefixes checked, conflicting conditions refused (with its error texts). */
export function newTester(location: Path, tests: PathTest[]): Tester {
  for (const t of tests) {
    const prefix = t.subPath.length <= location.length && t.subPath.every((n, i) => nodesEqual(n, location[i]));
    if (!prefix) {
      throw new PathError(`all subpaths must be a prefix of the \`location\` value of the mutation: subpath ${goQuote(pathString(t.subPath))} is not a prefix of location ${goQuote(pathString(location))}`);
    }
  }
  const byDepth = new Map<number, Condition>();
  const paths = new Map<number, Path>();
  // Gatekeeper compares test indexes here (not depths); kept so the same sets are refused.
  let lowestMustNot = 2147483647;
  let highestMust = 0;
  tests.forEach((t, i) => {
    const j = t.subPath.length - 1;
    byDepth.set(j, t.condition);
    paths.set(j, t.subPath);
    if (t.condition === "MustNotExist" && i < lowestMustNot) lowestMustNot = i;
    else if (t.condition === "MustExist" && i > highestMust) highestMust = i;
  });
  for (const t of tests) {
    const v = byDepth.get(t.subPath.length - 1);
    if (v !== undefined && v !== t.condition) {
      throw new PathError(`conflicting path test conditions: path ${goQuote(pathString(t.subPath))} is marked both MustExist and MustNotExist`);
    }
  }
  if (highestMust > lowestMustNot) {
    const p = (k: number) => (paths.has(k) ? goQuote(pathString(paths.get(k)!)) : "<nil>");
    throw new PathError(`conflicting path test conditions: path ${p(highestMust)} is marked MustExist but parent ${p(lowestMustNot)} MustNotExist`);
  }
  return new Tester(byDepth);
}
