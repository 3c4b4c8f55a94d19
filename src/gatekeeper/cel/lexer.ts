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

/**
 * A lexical error: cel-go's "token recognition error at: '…'" at an offset. As ANTLR's lexer,
 * lexing resumes after the character that failed (`resume`).
 */
export class LexError extends Error {
  constructor(
    public readonly offset: number,
    message: string,
    public readonly resume: number,
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

/** The tokens of `src`, ending with an eof token, and the lexical errors (their text skipped). */
export function tokenize(src: string): { tokens: Token[]; errors: LexError[] } {
  const out: Token[] = [];
  const errors: LexError[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    try {
      i = next(i);
    } catch (e) {
      if (!(e instanceof LexError)) throw e;
      errors.push(e);
      i = Math.max(e.resume, i + 1);
    }
  }
  out.push({ kind: "eof", text: "<EOF>", start: n });
  return { tokens: out, errors };

  /** Lex one token (or skip blanks) at i; the offset after it. */
  function next(i: number): number {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\r" || c === "\n" || c === "\f") return i + 1;
    if (c === "/" && src[i + 1] === "/") {
      while (i < n && src[i] !== "\n") i++;
      return i;
    }
    const start = i;
    // string and bytes literals, with their prefixes
    const strAt = stringStart(src, i);
    if (strAt >= 0) {
      let end: number;
      try {
        end = scanString(src, strAt, i);
      } catch (e) {
        if (e instanceof LexError && strAt > i) {
          // ANTLR's longest match: the prefix (b, r, br, …) alone is an identifier; the quote fails on its own
          out.push({ kind: "ident", text: src.slice(i, strAt), start });
          return strAt;
        }
        if (!(e instanceof TripleFallback)) throw e;
        end = strAt + 2;
      }
      const bytes = src[i] === "b" || src[i] === "B";
      out.push({ kind: bytes ? "bytes" : "string", text: src.slice(start, end), start });
      return end;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(src[i])) i++;
      const text = src.slice(start, i);
      out.push({ kind: KEYWORDS.has(text) ? "keyword" : "ident", text, start });
      return i;
    }
    if (c === "`") {
      i++;
      while (i < n && isEscIdentPart(src[i])) i++;
      // ANTLR's text: from the token's start through the character it could not take
      if (src[i] !== "`" || i === start + 1) throw new LexError(start, `token recognition error at: '${src.slice(start, i + 1)}'`, i + 1);
      i++;
      out.push({ kind: "escIdent", text: src.slice(start, i), start });
      return i;
    }
    if (isDigit(c) || (c === "." && isDigit(src[i + 1]))) {
      const t = scanNumber(src, i);
      out.push(t);
      return start + t.text.length;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT2.has(two)) {
      out.push({ kind: "punct", text: two, start });
      return i + 2;
    }
    if (PUNCT1.has(c)) {
      out.push({ kind: "punct", text: c, start });
      return i + 1;
    }
    // '=', '&' and '|' begin '==', '&&' and '||' only: the error's text takes the next character too
    const cp = String.fromCodePoint(src.codePointAt(i)!);
    const text = (c === "=" || c === "&" || c === "|") && i + 1 < n ? cp + String.fromCodePoint(src.codePointAt(i + 1)!) : cp;
    throw new LexError(start, `token recognition error at: '${text}'`, start + text.length);
  }
}

/** The offset of the opening quote when a string or bytes literal starts at i, else -1. */
function stringStart(src: string, i: number): number {
  let j = i;
  if (src[j] === "b" || src[j] === "B") j++;
  if (src[j] === "r" || src[j] === "R") j++;
  return src[j] === '"' || src[j] === "'" ? j : -1;
}

/**
 * The end offset of the string literal whose opening quote is at q, its prefixes starting at
 * tokStart. An unterminated or invalid triple-quoted literal is, as ANTLR's longest match makes
 * it, the empty string of its first two quotes (the rest is then lexed on).
 */
function scanString(src: string, q: number, tokStart: number): number {
  const raw = tokStart !== q && (src[q - 1] === "r" || src[q - 1] === "R");
  const quote = src[q];
  const triple = src.slice(q, q + 3) === quote.repeat(3);
  let i = q + (triple ? 3 : 1);
  const fail = (at: number): never => {
    if (triple) throw new TripleFallback();
    throw new LexError(tokStart, `token recognition error at: '${src.slice(tokStart, Math.min(at, src.length))}'`, at);
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
      if (len === 0) fail(i + escapeFailure(src, i) + 1);
      i += len;
      continue;
    }
    i++;
  }
}

class TripleFallback extends Error {}

/** The offset (from the backslash at i) of the character where an invalid escape sequence fails. */
function escapeFailure(src: string, i: number): number {
  const c = src[i + 1];
  if (c === undefined) return 1;
  const need = (from: number, count: number, ok: (ch: string | undefined) => boolean) => {
    for (let k = 0; k < count; k++) if (!ok(src[i + from + k])) return from + k;
    return from + count;
  };
  if (c === "x" || c === "X") return need(2, 2, isHex);
  if (c === "u") return need(2, 4, isHex);
  if (c === "U") return need(2, 8, isHex);
  if (c >= "0" && c <= "3") return need(2, 2, (ch) => ch !== undefined && ch >= "0" && ch <= "7");
  return 1;
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
  if (src[i] === "0" && src[i + 1] === "x" && isHex(src[i + 2])) {
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
