// The lexer of Portcullis's CEL parser: the tokens of cel-spec's grammar (langdef.md, and
// cel-go's CEL.g4 lexer rules): punctuation and operators, the keywords `in`, `true`, `false`,
// `null`, identifiers, backtick-quoted identifiers, int / uint / double literals, and string and
// bytes literals in all their forms (quoted with ' or ", triple-quoted, raw with r/R, bytes with
// b/B). Escape sequences are checked for their shape here (an invalid one is a token recognition
// error, as in cel-go) and decoded by the parser. Whitespace and `//` comments are skipped.
// Offsets are UTF-16 code unit offsets into the source.

export type TokenKind = "int" | "uint" | "double" | "string" | "bytes" | "ident" | "escIdent" | "keyword" | "punct" | "eof";

export interface Token {
  kind: TokenKind;
  /** The token's source text (for punct and keyword tokens, the operator or word). */
  text: string;
  /** Offset of the token's first character. */
  start: number;
}

/** A lexical error: cel-go's "token recognition error at: '…'" at an offset. */
export class LexError extends Error {
  constructor(
    public readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const KEYWORDS = new Set(["in", "true", "false", "null"]);
const PUNCT2 = new Set(["==", "!=", "<=", ">=", "&&", "||"]);
const PUNCT1 = new Set(["<", ">", "!", "-", "+", "*", "/", "%", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}"]);

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isLetter = (c: string | undefined) => c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));
const isIdentStart = (c: string | undefined) => isLetter(c) || c === "_";
const isIdentPart = (c: string | undefined) => isIdentStart(c) || isDigit(c);
const isEscIdentPart = (c: string | undefined) => isIdentPart(c) || c === "." || c === "-" || c === "/" || c === " ";

/** All tokens of `src`, ending with an eof token. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\r" || c === "\n" || c === "\f") {
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < n && src[i] !== "\n") i++;
      continue;
    }
    const start = i;
    // string and bytes literals, with their prefixes
    const strAt = stringStart(src, i);
    if (strAt >= 0) {
      const end = scanString(src, strAt);
      const bytes = src[i] === "b" || src[i] === "B";
      out.push({ kind: bytes ? "bytes" : "string", text: src.slice(start, end), start });
      i = end;
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(src[i])) i++;
      const text = src.slice(start, i);
      out.push({ kind: KEYWORDS.has(text) ? "keyword" : "ident", text, start });
      continue;
    }
    if (c === "`") {
      i++;
      while (i < n && isEscIdentPart(src[i])) i++;
      if (src[i] !== "`" || i === start + 1) throw new LexError(start, `token recognition error at: '${src.slice(start, i + 1)}'`);
      i++;
      out.push({ kind: "escIdent", text: src.slice(start, i), start });
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(src[i + 1]))) {
      const t = scanNumber(src, i);
      out.push(t);
      i = start + t.text.length;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT2.has(two)) {
      out.push({ kind: "punct", text: two, start });
      i += 2;
      continue;
    }
    if (PUNCT1.has(c)) {
      out.push({ kind: "punct", text: c, start });
      i++;
      continue;
    }
    const cp = String.fromCodePoint(src.codePointAt(i)!);
    throw new LexError(start, `token recognition error at: '${cp}'`);
  }
  out.push({ kind: "eof", text: "<EOF>", start: n });
  return out;
}

/** The offset of the opening quote when a string or bytes literal starts at i, else -1. */
function stringStart(src: string, i: number): number {
  let j = i;
  if (src[j] === "b" || src[j] === "B") j++;
  if (src[j] === "r" || src[j] === "R") j++;
  return src[j] === '"' || src[j] === "'" ? j : -1;
}

/** The end offset of the string literal whose opening quote is at q (prefixes before it). */
function scanString(src: string, q: number): number {
  const start = src[q - 1] === "r" || src[q - 1] === "R" ? q - 1 : q;
  const tokStart = src[start - 1] === "b" || src[start - 1] === "B" ? start - 1 : start;
  const raw = start !== q;
  const quote = src[q];
  const triple = src.slice(q, q + 3) === quote.repeat(3);
  let i = q + (triple ? 3 : 1);
  const fail = (at: number): never => {
    throw new LexError(tokStart, `token recognition error at: '${src.slice(tokStart, Math.min(at, src.length))}'`);
  };
  for (;;) {
    if (i >= src.length) fail(i);
    const c = src[i];
    if (triple) {
      if (src.startsWith(quote.repeat(3), i)) return i + 3;
    } else {
      if (c === quote) return i + 1;
      if (c === "\n" || c === "\r") fail(i + 1);
    }
    if (c === "\\" && !raw) {
      const len = escapeLength(src, i);
      if (len === 0) fail(i + 2);
      i += len;
      continue;
    }
    i++;
  }
}

/** The length of the escape sequence at i (a backslash), or 0 when it is not a valid one. */
function escapeLength(src: string, i: number): number {
  const c = src[i + 1];
  if (c === undefined) return 0;
  if ("abfnrtv\"'\\?`".includes(c)) return 2;
  if (c === "x" || c === "X") return isHex(src[i + 2]) && isHex(src[i + 3]) ? 4 : 0;
  if (c === "u") {
    for (let k = 2; k < 6; k++) if (!isHex(src[i + k])) return 0;
    return 6;
  }
  if (c === "U") {
    for (let k = 2; k < 10; k++) if (!isHex(src[i + k])) return 0;
    return 10;
  }
  if (c >= "0" && c <= "3") return /^[0-7]{2}$/.test(src.slice(i + 2, i + 4)) ? 4 : 0;
  return 0;
}

/** The longest numeric literal at i: uint (digits or hex with u/U), double, or int. */
function scanNumber(src: string, i: number): Token {
  const start = i;
  if (src[i] === "0" && (src[i + 1] === "x" || src[i + 1] === "X") && isHex(src[i + 2])) {
    i += 2;
    while (isHex(src[i])) i++;
    if (src[i] === "u" || src[i] === "U") return { kind: "uint", text: src.slice(start, i + 1), start };
    return { kind: "int", text: src.slice(start, i), start };
  }
  while (isDigit(src[i])) i++;
  let isFloat = false;
  if (src[i] === "." && isDigit(src[i + 1])) {
    isFloat = true;
    i++;
    while (isDigit(src[i])) i++;
  }
  // an exponent: e, an optional sign, digits
  if (src[i] === "e" || src[i] === "E") {
    let j = i + 1;
    if (src[j] === "+" || src[j] === "-") j++;
    if (isDigit(src[j])) {
      while (isDigit(src[j])) j++;
      i = j;
      isFloat = true;
    }
  }
  if (isFloat) return { kind: "double", text: src.slice(start, i), start };
  if (src[i] === "u" || src[i] === "U") return { kind: "uint", text: src.slice(start, i + 1), start };
  return { kind: "int", text: src.slice(start, i), start };
}
