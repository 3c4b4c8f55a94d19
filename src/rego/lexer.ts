// The Rego lexer: turns a source string into a flat token array in one pass.
//
// The whole file is tokenised up front so the parser can backtrack by resetting an index (it
// needs to in a few places where Rego's grammar is ambiguous, e.g. `p if { … }`). Keywords are
// not decided here: whether `if`, `in`, `contains` or `every` are keywords depends on the
// module's imports, which only the parser knows, so every word is an IDENT token.
//
// Columns are counted in code points, like OPA, so a line with astral characters (surrogate
// pairs in JS strings) is corrected for as it is scanned.

// Token kinds. Plain numeric constants keep comparisons cheap and the syntax erasable; they are
// typed `number` so TypeScript does not narrow `tok.kind` across calls that advance the parser.
export const T_EOF: number = 0;
export const T_IDENT: number = 1;
export const T_NUMBER: number = 2;
export const T_STRING: number = 3; // both "…" and `…`; Token.raw tells them apart
export const T_LBRACE: number = 4;
export const T_RBRACE: number = 5;
export const T_LBRACK: number = 6;
export const T_RBRACK: number = 7;
export const T_LPAREN: number = 8;
export const T_RPAREN: number = 9;
export const T_DOT: number = 10;
export const T_COMMA: number = 11;
export const T_SEMI: number = 12;
export const T_COLON: number = 13;
export const T_ASSIGN: number = 14; // :=
export const T_EQ: number = 15; // =
export const T_EQEQ: number = 16;
export const T_NEQ: number = 17;
export const T_LT: number = 18;
export const T_LTE: number = 19;
export const T_GT: number = 20;
export const T_GTE: number = 21;
export const T_PLUS: number = 22;
export const T_MINUS: number = 23;
export const T_MUL: number = 24;
export const T_DIV: number = 25;
export const T_REM: number = 26;
export const T_AND: number = 27;
export const T_OR: number = 28;
export const T_ILLEGAL: number = 29; // a lexical error; Token.text holds the message
// Template strings, $"a {x} b" and $`…`, arrive as BEGIN (raw flag for backquotes), then TEXT
// parts and EXPR_BEGIN … EXPR_END runs of ordinary tokens, then END.
export const T_TPL_BEGIN: number = 30;
export const T_TPL_TEXT: number = 31;
export const T_TPL_EXPR_BEGIN: number = 32;
export const T_TPL_EXPR_END: number = 33;
export const T_TPL_END: number = 34;

export class Token {
  kind: number;
  /** Source text for IDENT and NUMBER, decoded value for STRING, message for ILLEGAL. */
  text: string;
  start: number; // UTF-16 offsets into the source
  end: number;
  row: number;
  col: number;
  /** A newline (possibly ending a comment) separates this token from the previous one. */
  nl: boolean;
  raw: boolean;
  constructor(kind: number, text: string, start: number, end: number, row: number, col: number, nl: boolean, raw: boolean) {
    this.kind = kind;
    this.text = text;
    this.start = start;
    this.end = end;
    this.row = row;
    this.col = col;
    this.nl = nl;
    this.raw = raw;
  }
}

export interface LexComment {
  text: string; // after the '#'
  row: number;
  col: number;
}

export interface LexResult {
  tokens: Token[];
  comments: LexComment[];
}

// Names OPA uses for tokens in "unexpected … token" messages.
const KIND_NAMES: string[] = [];
KIND_NAMES[T_EOF] = "eof";
KIND_NAMES[T_IDENT] = "identifier";
KIND_NAMES[T_NUMBER] = "number";
KIND_NAMES[T_STRING] = "string";
KIND_NAMES[T_LBRACE] = "{";
KIND_NAMES[T_RBRACE] = "}";
KIND_NAMES[T_LBRACK] = "[";
KIND_NAMES[T_RBRACK] = "]";
KIND_NAMES[T_LPAREN] = "(";
KIND_NAMES[T_RPAREN] = ")";
KIND_NAMES[T_DOT] = ".";
KIND_NAMES[T_COMMA] = ",";
KIND_NAMES[T_SEMI] = ";";
KIND_NAMES[T_COLON] = ":";
KIND_NAMES[T_ASSIGN] = "assign";
KIND_NAMES[T_EQ] = "eq";
KIND_NAMES[T_EQEQ] = "equal";
KIND_NAMES[T_NEQ] = "neq";
KIND_NAMES[T_LT] = "lt";
KIND_NAMES[T_LTE] = "lte";
KIND_NAMES[T_GT] = "gt";
KIND_NAMES[T_GTE] = "gte";
KIND_NAMES[T_PLUS] = "plus";
KIND_NAMES[T_MINUS] = "minus";
KIND_NAMES[T_MUL] = "mul";
KIND_NAMES[T_DIV] = "div";
KIND_NAMES[T_REM] = "rem";
KIND_NAMES[T_AND] = "and";
KIND_NAMES[T_OR] = "or";
KIND_NAMES[T_ILLEGAL] = "illegal";
KIND_NAMES[T_TPL_BEGIN] = "template string";
KIND_NAMES[T_TPL_TEXT] = "template string";
KIND_NAMES[T_TPL_EXPR_BEGIN] = "{";
KIND_NAMES[T_TPL_EXPR_END] = "}";
KIND_NAMES[T_TPL_END] = "template string end";

export function kindName(kind: number): string {
  return KIND_NAMES[kind];
}

// Character classes, indexed by char code (ASCII only; everything else is "other").
const IDENT_START = new Uint8Array(128);
const IDENT_PART = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  IDENT_START[c] = letter ? 1 : 0;
  IDENT_PART[c] = letter || (c >= 48 && c <= 57) ? 1 : 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

// decodeEscape's results, kept in module variables to avoid allocating a result per escape.
let escText = "";
let escEnd = 0;

/**
 * Decodes the JSON escape whose backslash is at `p`. Returns null on success (setting escText
 * and escEnd) or an error message.
 */
function decodeEscape(s: string, p: number): string | null {
  const e = p + 1 < s.length ? s.charCodeAt(p + 1) : -1;
  escEnd = p + 2;
  switch (e) {
    case 34: escText = '"'; return null;
    case 92: escText = "\\"; return null;
    case 47: escText = "/"; return null;
    case 98: escText = "\b"; return null;
    case 102: escText = "\f"; return null;
    case 110: escText = "\n"; return null;
    case 114: escText = "\r"; return null;
    case 116: escText = "\t"; return null;
    case 117: {
      const u = hex4(s, p + 2);
      if (u < 0) return "illegal string literal";
      escEnd = p + 6;
      if (u >= 0xd800 && u <= 0xdbff) {
        // A JSON surrogate pair; a lone half decodes to U+FFFD as in Go's decoder.
        const lo = s.charCodeAt(escEnd) === 92 && s.charCodeAt(escEnd + 1) === 117 ? hex4(s, escEnd + 2) : -1;
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          escText = String.fromCharCode(u, lo);
          escEnd += 6;
        } else escText = "\ufffd";
      } else if (u >= 0xdc00 && u <= 0xdfff) escText = "\ufffd";
      else escText = String.fromCharCode(u);
      return null;
    }
    default:
      return "illegal escape sequence";
  }
}

interface TemplateFrame {
  raw: boolean;
  depth: number; // unclosed `{` inside the current expression part
}

export function lex(src: string): LexResult {
  const lx = new Lexer(src);
  lx.run();
  return { tokens: lx.tokens, comments: lx.comments };
}

// A class rather than closures inside lex(): nothing is allocated per call but the state.
class Lexer {
  readonly src: string;
  readonly n: number;
  readonly tokens: Token[] = [];
  readonly comments: LexComment[] = [];
  row = 1;
  lineStart = 0;
  /** Surrogate pairs seen since lineStart: each is two UTF-16 units but one column. */
  pairs = 0;
  nl = false;
  /** Open template strings whose expression parts are being lexed, innermost last. */
  readonly templates: TemplateFrame[] = [];

  constructor(src: string) {
    this.src = src;
    this.n = src.length;
  }

  push(kind: number, text: string, start: number, end: number, col: number, raw = false): void {
    this.tokens.push(new Token(kind, text, start, end, this.row, col, this.nl, raw));
    this.nl = false;
  }

  colAt(p: number): number {
    return p - this.lineStart - this.pairs + 1;
  }

  run(): void {
    const src = this.src;
    const n = this.n;
    const templates = this.templates;
    // A UTF-8 byte order mark is skipped and does not count as a column.
    let i = n > 0 && src.charCodeAt(0) === 0xfeff ? 1 : 0;
    this.lineStart = i;
    while (i < n) {
      const c = src.charCodeAt(i);
      if (c === 10) {
        i++;
        this.row++;
        this.lineStart = i;
        this.pairs = 0;
        this.nl = true;
        continue;
      }
      if (c === 32 || c === 9 || c === 13) {
        i++;
        continue;
      }
      const start = i;
      const col = i - this.lineStart - this.pairs + 1;
      if (c === 35) {
        i = this.comment(i, col);
        continue;
      }
      if (c < 128 && IDENT_START[c] === 1) {
        let j = i + 1;
        while (j < n) {
          const d = src.charCodeAt(j);
          if (d >= 128 || IDENT_PART[d] === 0) break;
          j++;
        }
        this.push(T_IDENT, src.slice(i, j), i, j, col);
        i = j;
        continue;
      }
      if (isDigit(c)) {
        i = this.number(i, col);
        continue;
      }
      if (c === 34) {
        i = this.string(i, col);
        continue;
      }
      if (c === 96) {
        i = this.rawString(i, col);
        continue;
      }
      if (c === 36) {
        // `$"…"` and `$\`…\`` template strings
        const q = i + 1 < n ? src.charCodeAt(i + 1) : -1;
        if (q === 34 || q === 96) {
          this.push(T_TPL_BEGIN, "", i, i + 2, col, q === 96);
          templates.push({ raw: q === 96, depth: 0 });
          i = this.templateText(i + 2);
        } else {
          this.push(T_ILLEGAL, "illegal $ character", i, i + 1, col);
          i++;
        }
        continue;
      }
      i++;
      const c2 = i < n ? src.charCodeAt(i) : -1;
      switch (c) {
        case 123:
          if (templates.length > 0) templates[templates.length - 1].depth++;
          this.push(T_LBRACE, "{", start, i, col);
          break;
        case 125: {
          const top = templates.length > 0 ? templates[templates.length - 1] : null;
          if (top !== null && top.depth === 0) {
            this.push(T_TPL_EXPR_END, "}", start, i, col);
            i = this.templateText(i);
          } else {
            if (top !== null) top.depth--;
            this.push(T_RBRACE, "}", start, i, col);
          }
          break;
        }
        case 91: this.push(T_LBRACK, "[", start, i, col); break;
        case 93: this.push(T_RBRACK, "]", start, i, col); break;
        case 40: this.push(T_LPAREN, "(", start, i, col); break;
        case 41: this.push(T_RPAREN, ")", start, i, col); break;
        case 46: this.push(T_DOT, ".", start, i, col); break;
        case 44: this.push(T_COMMA, ",", start, i, col); break;
        case 59: this.push(T_SEMI, ";", start, i, col); break;
        case 43: this.push(T_PLUS, "+", start, i, col); break;
        case 45: this.push(T_MINUS, "-", start, i, col); break;
        case 42: this.push(T_MUL, "*", start, i, col); break;
        case 47: this.push(T_DIV, "/", start, i, col); break;
        case 37: this.push(T_REM, "%", start, i, col); break;
        case 38: this.push(T_AND, "&", start, i, col); break;
        case 124: this.push(T_OR, "|", start, i, col); break;
        case 58:
          if (c2 === 61) { i++; this.push(T_ASSIGN, ":=", start, i, col); } else this.push(T_COLON, ":", start, i, col);
          break;
        case 61:
          if (c2 === 61) { i++; this.push(T_EQEQ, "==", start, i, col); } else this.push(T_EQ, "=", start, i, col);
          break;
        case 33:
          if (c2 === 61) { i++; this.push(T_NEQ, "!=", start, i, col); } else this.push(T_ILLEGAL, "illegal token", start, i, col);
          break;
        case 60:
          if (c2 === 61) { i++; this.push(T_LTE, "<=", start, i, col); } else this.push(T_LT, "<", start, i, col);
          break;
        case 62:
          if (c2 === 61) { i++; this.push(T_GTE, ">=", start, i, col); } else this.push(T_GT, ">", start, i, col);
          break;
        default:
          if (c >= 0xd800 && c <= 0xdbff && c2 >= 0xdc00 && c2 <= 0xdfff) {
            i++;
            this.pairs++;
          }
          this.push(T_ILLEGAL, "illegal token", start, i, col);
      }
    }
    if (templates.length > 0) this.push(T_ILLEGAL, "non-terminated string", n, n, this.colAt(n));
    // OPA reports the end of input one column to the left of the position after the last char.
    this.tokens.push(new Token(T_EOF, "", n, n, this.row, n - this.lineStart - this.pairs, this.nl, false));
  }

  /** A '#' comment to the end of the line. */
  comment(i: number, col: number): number {
    const src = this.src;
    const n = this.n;
    let j = i + 1;
    while (j < n) {
      const d = src.charCodeAt(j);
      if (d === 10) break;
      if (d >= 0xd800 && d <= 0xdbff) {
        const e = src.charCodeAt(j + 1);
        if (e >= 0xdc00 && e <= 0xdfff) this.pairs++;
      }
      j++;
    }
    let end = j;
    if (end > i + 1 && src.charCodeAt(end - 1) === 13) end--; // CRLF files
    this.comments.push({ text: src.slice(i + 1, end), row: this.row, col });
    return j;
  }

  number(p: number, col: number): number {
    const s = this.src;
    const n = this.n;
    const begin = p;
    while (p < n && isDigit(s.charCodeAt(p))) p++;
    if (p < n && s.charCodeAt(p) === 46) {
      // A fraction must follow a '.', so `1.a` is an error, as in OPA.
      if (p + 1 < n && isDigit(s.charCodeAt(p + 1))) {
        p += 2;
        while (p < n && isDigit(s.charCodeAt(p))) p++;
      } else {
        this.push(T_ILLEGAL, "expected fraction", begin, p + 1, col);
        return p + 1;
      }
    }
    let d = p < n ? s.charCodeAt(p) : -1;
    if (d === 101 || d === 69) {
      let q = p + 1;
      const sign = q < n ? s.charCodeAt(q) : -1;
      if (sign === 43 || sign === 45) q++;
      if (q < n && isDigit(s.charCodeAt(q))) {
        while (q < n && isDigit(s.charCodeAt(q))) q++;
        p = q;
      } else {
        this.push(T_ILLEGAL, "expected exponent", begin, q, col);
        return q;
      }
      d = p < n ? s.charCodeAt(p) : -1;
    }
    if (d >= 0 && d < 128 && IDENT_PART[d] === 1) {
      let q = p;
      while (q < n && s.charCodeAt(q) < 128 && IDENT_PART[s.charCodeAt(q)] === 1) q++;
      this.push(T_ILLEGAL, "illegal number format", begin, q, col);
      return q;
    }
    this.push(T_NUMBER, s.slice(begin, p), begin, p, col);
    return p;
  }

  string(begin: number, col: number): number {
    const s = this.src;
    const n = this.n;
    let p = begin + 1;
    let segStart = p;
    let out = "";
    let escaped = false;
    let bad: string | null = null;
    for (;;) {
      if (p >= n) {
        this.push(T_ILLEGAL, "non-terminated string", begin, p, col);
        return p;
      }
      const d = s.charCodeAt(p);
      if (d === 34) break;
      if (d === 10) {
        this.push(T_ILLEGAL, "non-terminated string", begin, p, col);
        return p;
      }
      if (d === 92) {
        escaped = true;
        out += s.slice(segStart, p);
        const nx = p + 1 < n ? s.charCodeAt(p + 1) : -1;
        if (nx === 10 || nx === -1) {
          this.push(T_ILLEGAL, "non-terminated string", begin, p, col);
          return p + 1;
        }
        const err = decodeEscape(s, p);
        if (err !== null) bad ??= err === "illegal string literal" ? `${err}: ${s.slice(begin, Math.min(n, p + 6))}` : err;
        else out += escText;
        p = escEnd;
        segStart = p;
        continue;
      }
      if (d >= 0xd800 && d <= 0xdbff) {
        const e = s.charCodeAt(p + 1);
        if (e >= 0xdc00 && e <= 0xdfff) {
          this.pairs++;
          p += 2;
          continue;
        }
      }
      p++;
    }
    if (bad !== null) {
      this.push(T_ILLEGAL, bad, begin, p + 1, col);
      return p + 1;
    }
    this.push(T_STRING, escaped ? out + s.slice(segStart, p) : s.slice(segStart, p), begin, p + 1, col);
    return p + 1;
  }

  /** Raw strings have no escapes and may span lines; the token keeps the row it starts on. */
  rawString(begin: number, col: number): number {
    const src = this.src;
    const n = this.n;
    const startRow = this.row;
    const startNl = this.nl;
    let j = begin + 1;
    while (j < n) {
      const d = src.charCodeAt(j);
      if (d === 96) break;
      if (d === 10) {
        this.row++;
        this.lineStart = j + 1;
        this.pairs = 0;
      } else if (d >= 0xd800 && d <= 0xdbff) {
        const e = src.charCodeAt(j + 1);
        if (e >= 0xdc00 && e <= 0xdfff) this.pairs++;
      }
      j++;
    }
    const ok = j < n;
    this.tokens.push(
      ok
        ? new Token(T_STRING, src.slice(begin + 1, j), begin, j + 1, startRow, col, startNl, true)
        : new Token(T_ILLEGAL, "non-terminated string", begin, n, startRow, col, startNl, false),
    );
    this.nl = false;
    return ok ? j + 1 : n;
  }

  /**
   * The literal text of the innermost template string from `p`, up to an expression part
   * (`{`, left open for the main loop) or the closing quote (which pops the template).
   */
  templateText(p: number): number {
    const s = this.src;
    const n = this.n;
    const raw = this.templates[this.templates.length - 1].raw;
    const close = raw ? 96 : 34;
    const begin = p;
    const textRow = this.row;
    const textCol = this.colAt(p);
    let segStart = p;
    let out = "";
    for (;;) {
      if (p >= n || (!raw && s.charCodeAt(p) === 10)) {
        this.templates.pop();
        this.push(T_ILLEGAL, "non-terminated string", p, p, this.colAt(p));
        return p;
      }
      const d = s.charCodeAt(p);
      if (d === close || d === 123) {
        out += s.slice(segStart, p);
        if (out !== "") {
          this.tokens.push(new Token(T_TPL_TEXT, out, begin, p, textRow, textCol, this.nl, raw));
          this.nl = false;
        }
        if (d === 123) {
          this.push(T_TPL_EXPR_BEGIN, "{", p, p + 1, this.colAt(p));
        } else {
          this.templates.pop();
          this.push(T_TPL_END, "", p, p + 1, this.colAt(p));
        }
        return p + 1;
      }
      if (d === 92) {
        const nx = p + 1 < n ? s.charCodeAt(p + 1) : -1;
        if (nx === 123) {
          // `\{` is a literal brace in both kinds of template string
          out += s.slice(segStart, p) + "{";
          p += 2;
          segStart = p;
          continue;
        }
        if (!raw) {
          out += s.slice(segStart, p);
          const err = decodeEscape(s, p);
          if (err !== null) {
            this.templates.pop();
            this.push(T_ILLEGAL, err, p, p + 2, this.colAt(p));
            return p + 2;
          }
          out += escText;
          p = escEnd;
          segStart = p;
          continue;
        }
      }
      if (d === 10) {
        this.row++;
        this.lineStart = p + 1;
        this.pairs = 0;
      } else if (d >= 0xd800 && d <= 0xdbff) {
        const e = s.charCodeAt(p + 1);
        if (e >= 0xdc00 && e <= 0xdfff) {
          this.pairs++;
          p++;
        }
      }
      p++;
    }
  }
}

function hex4(s: string, p: number): number {
  if (p + 4 > s.length) return -1;
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const h = hexVal(s.charCodeAt(p + k));
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}
