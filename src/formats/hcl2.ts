/**
 * HCL2 (`.tf`, `.tfvars`, `.hcl`), in the shape conftest prints (hcl2json's):
 * - attributes become keys; blocks become keys holding a list of bodies,
 *   nested one object level per label
 *   (`resource "a" "b" {}` → {resource: {a: {b: [{}]}}});
 * - literal values (numbers, strings, bools, null, a minus/not applied to a
 *   literal) are JSON values; tuples and objects are converted element-wise;
 * - quoted strings and heredocs are strings; interpolations inside them are
 *   kept as `${source}`, `%{if}`/`%{for}` directives are rebuilt from source;
 *   a string that is one interpolation only (`"${x}"`) converts as x itself;
 * - any other expression (references, calls, operators, for-expressions,
 *   parentheses, ...) becomes the string `${<source text>}`.
 *
 * Hand-written recursive-descent parser of HCL native syntax.
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { DEPTH_REASON, MAX_DEPTH } from './limits.ts';

// ---------------------------------------------------------------------------
// AST

type Expr =
  | { k: 'lit'; s: number; e: number; v: unknown }
  | { k: 'tmpl'; s: number; e: number; parts: Part[] }
  | { k: 'tuple'; s: number; e: number; items: Expr[] }
  | { k: 'object'; s: number; e: number; items: { key: Expr; value: Expr }[] }
  | { k: 'unary'; s: number; e: number; op: string; operand: Expr }
  | { k: 'cond'; s: number; e: number; cond: Expr; t: Expr; f: Expr }
  | { k: 'trav'; s: number; e: number; simple: boolean } // scope traversal
  | { k: 'other'; s: number; e: number };

type Part =
  | { k: 'str'; v: string }
  | { k: 'interp'; expr: Expr }
  | { k: 'if'; cond: Expr; t: Part[]; f: Part[] }
  | { k: 'for'; keyVar?: string; valVar: string; coll: Expr; body: Part[] };

interface Attribute {
  name: string;
  expr: Expr;
  line: number;
}
interface Block {
  type: string;
  labels: string[];
  body: Body;
  line: number;
}
interface Body {
  attrs: Attribute[];
  blocks: Block[];
}

class HclSyntaxError extends Error {
  constructor(message: string, public pos: number) {
    super(message);
  }
}

/** s without trailing spaces, tabs, CRs and newlines (a loop: /[ \t\r\n]+$/ is quadratic on long inner runs). */
function trimTrailingSpace(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    end--;
  }
  return end === s.length ? s : s.slice(0, end);
}

const isIdStart = (c: string) => /[\p{L}\p{Nl}_]/u.test(c);
const isIdChar = (c: string) => /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_-]/u.test(c);

// ---------------------------------------------------------------------------
// Parser

export class HclParser {
  src: string;
  pos = 0;
  /** Innermost bracket context: true when newlines are insignificant. */
  private nl: boolean[] = [false];
  /** Nesting of blocks, expressions and template directives (limited to MAX_DEPTH). */
  depth = 0;

  constructor(src: string) {
    this.src = src;
  }

  fail(msg: string, pos = this.pos): never {
    throw new HclSyntaxError(msg, pos);
  }

  private get nlOK(): boolean {
    return this.nl[this.nl.length - 1]!;
  }

  /** Skip blanks and comments; newlines too when `newlines` (or inside () / []). */
  skip(newlines = this.nlOK): void {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\r' && s[this.pos + 1] !== '\n') this.pos++;
      else if (c === '\r' && newlines) this.pos++;
      else if (c === '\n' && newlines) this.pos++;
      else if (c === '#' || (c === '/' && s[this.pos + 1] === '/')) {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
        if (this.pos > 0 && s[this.pos - 1] === '\r') this.pos--;
        if (!newlines) return;
      } else if (c === '/' && s[this.pos + 1] === '*') {
        const end = s.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail('Unterminated template string / comment: a /* comment has no closing */');
        this.pos = end + 2;
      } else if (c === '\r' && s[this.pos + 1] === '\n' && !newlines) return;
      else return;
    }
  }

  /** Run `f` one nesting level deeper; deeper than MAX_DEPTH is an error. */
  private nested<T>(f: () => T): T {
    if (this.depth >= MAX_DEPTH) this.fail(DEPTH_REASON);
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private atNewlineOrEnd(): boolean {
    const c = this.src[this.pos];
    return c === undefined || c === '\n' || (c === '\r' && this.src[this.pos + 1] === '\n');
  }

  private peek(str: string): boolean {
    return this.src.startsWith(str, this.pos);
  }

  private ident(): string | undefined {
    const s = this.src;
    if (this.pos >= s.length || !isIdStart(s[this.pos]!)) return undefined;
    const start = this.pos;
    this.pos++;
    while (this.pos < s.length && isIdChar(s[this.pos]!)) this.pos++;
    return s.slice(start, this.pos);
  }

  // ----- bodies

  parseFile(): Body {
    const body = this.parseBody(false);
    this.skip(true);
    if (this.pos < this.src.length) this.fail('Argument or block definition required');
    return body;
  }

  private parseBody(inBraces: boolean): Body {
    const body: Body = { attrs: [], blocks: [] };
    const seen = new Map<string, number>();
    this.nl.push(false);
    try {
      for (;;) {
        this.skip(true);
        if (this.pos >= this.src.length) break;
        if (inBraces && this.src[this.pos] === '}') break;
        const start = this.pos;
        const name = this.ident();
        if (name === undefined) {
          this.fail(
            'Argument or block definition required; An argument or block definition is required here.',
          );
        }
        this.skip(false);
        if (this.src[this.pos] === '=' && this.src[this.pos + 1] !== '=') {
          this.pos++;
          const expr = this.parseExpr();
          if (seen.has(name)) {
            this.fail(`Attribute redefined; The argument "${name}" was already set.`, start);
          }
          seen.set(name, start);
          body.attrs.push({ name, expr, line: start });
          this.skip(false);
          if (!this.atNewlineOrEnd() && !(inBraces && this.src[this.pos] === '}')) {
            this.fail('Missing newline after argument; An argument definition must end with a newline.');
          }
          continue;
        }
        // block
        const labels: string[] = [];
        for (;;) {
          this.skip(false);
          const c = this.src[this.pos];
          if (c === '"') {
            const t = this.parseQuoted();
            if (t.parts.some((p) => p.k !== 'str')) this.fail('Invalid block label; Template sequences are not allowed in block labels.');
            labels.push(t.parts.map((p) => (p as { v: string }).v).join(''));
          } else if (c !== undefined && isIdStart(c)) {
            labels.push(this.ident()!);
          } else break;
        }
        if (this.src[this.pos] !== '{') {
          if (labels.length === 0 && this.src[this.pos] !== undefined) {
            this.fail('Argument or block definition required; An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the argument value.');
          }
          this.fail('Invalid block definition; A block definition must have block content delimited by "{" and "}", starting on the same line as the block header.');
        }
        this.pos++;
        const inner = this.nested(() => this.parseBody(true));
        this.skip(true);
        if (this.src[this.pos] !== '}') this.fail('Unclosed configuration block; There is no closing brace for this block before the end of the file.', start);
        this.pos++;
        body.blocks.push({ type: name, labels, body: inner, line: start });
        this.skip(false);
        if (!this.atNewlineOrEnd() && !(inBraces && this.src[this.pos] === '}')) {
          this.fail('Missing newline after block definition; A block definition must end with a newline.');
        }
      }
    } finally {
      this.nl.pop();
    }
    return body;
  }

  // ----- expressions

  parseExpr(): Expr {
    return this.nested(() => this.parseConditional());
  }

  private parseConditional(): Expr {
    const cond = this.parseBinary(0);
    this.skip();
    if (this.src[this.pos] === '?') {
      this.pos++;
      const t = this.parseExpr();
      this.skip();
      if (this.src[this.pos] !== ':') this.fail('Missing false expression in conditional; The conditional operator (...?...:...) requires a false expression, delimited by a colon.');
      this.pos++;
      const f = this.parseExpr();
      return { k: 'cond', s: cond.s, e: f.e, cond, t, f };
    }
    return cond;
  }

  private static readonly LEVELS: string[][] = [
    ['||'],
    ['&&'],
    ['==', '!='],
    ['<=', '>=', '<', '>'],
    ['+', '-'],
    ['*', '/', '%'],
  ];

  private parseBinary(level: number): Expr {
    if (level >= HclParser.LEVELS.length) return this.parseUnary();
    let left = this.parseBinary(level + 1);
    for (;;) {
      const save = this.pos;
      this.skip();
      const op = HclParser.LEVELS[level]!.find((o) => this.peek(o));
      // `=>` and `==` are not `=`; `<=` etc. handled by order
      if (!op || (op === '<' && this.peek('<<')) || (op === '>' && this.peek('>='))) {
        this.pos = save;
        return left;
      }
      this.pos += op.length;
      const right = this.parseBinary(level + 1);
      left = { k: 'other', s: left.s, e: right.e };
    }
  }

  private parseUnary(): Expr {
    this.skip();
    const c = this.src[this.pos];
    if ((c === '-' || c === '!') && this.src[this.pos + 1] !== '=') {
      const s = this.pos;
      this.pos++;
      const operand = this.nested(() => this.parseUnary());
      return { k: 'unary', s, e: operand.e, op: c, operand };
    }
    return this.parsePostfix();
  }

  private parsePostfix(): Expr {
    let e = this.parsePrimary();
    let traversal = e.k === 'trav';
    for (;;) {
      const save = this.pos;
      this.skip();
      const c = this.src[this.pos];
      if (c === '.' && this.src[this.pos + 1] !== '.') {
        this.pos++;
        this.skip();
        if (this.src[this.pos] === '*') {
          this.pos++;
          traversal = false;
        } else if (/[0-9]/.test(this.src[this.pos] ?? '')) {
          while (/[0-9]/.test(this.src[this.pos] ?? '')) this.pos++;
        } else if (this.ident() === undefined) {
          this.fail('Invalid attribute name; An attribute name is required after a dot.');
        }
        e = { k: traversal ? 'trav' : 'other', s: e.s, e: this.pos, simple: false } as Expr;
        continue;
      }
      if (c === '[') {
        this.pos++;
        this.nl.push(true);
        this.skip();
        if (this.src[this.pos] === '*') {
          this.pos++;
          this.skip();
          traversal = false;
        } else {
          this.parseExpr();
          this.skip();
        }
        this.nl.pop();
        if (this.src[this.pos] !== ']') this.fail('Missing close bracket on index; The index operator must end with a closing bracket ("]").');
        this.pos++;
        e = { k: traversal ? 'trav' : 'other', s: e.s, e: this.pos, simple: false } as Expr;
        continue;
      }
      this.pos = save;
      return e;
    }
  }

  private parsePrimary(): Expr {
    this.skip();
    const s = this.pos;
    const src = this.src;
    const c = src[this.pos];
    if (c === undefined) this.fail('Invalid expression; Expected the start of an expression, but found the end of the file.');
    if (/[0-9]/.test(c)) {
      NUMBER.lastIndex = this.pos;
      const m = NUMBER.exec(src)!;
      this.pos += m[0].length;
      return { k: 'lit', s, e: this.pos, v: Number(m[0]) };
    }
    if (c === '"') return this.parseQuoted();
    if (c === '<' && src[this.pos + 1] === '<') return this.parseHeredoc();
    if (c === '(') {
      this.pos++;
      this.nl.push(true);
      this.parseExpr();
      this.skip();
      this.nl.pop();
      if (src[this.pos] !== ')') this.fail('Unbalanced parentheses; Expected a closing parenthesis to terminate the expression.');
      this.pos++;
      return { k: 'other', s, e: this.pos };
    }
    if (c === '[') return this.parseTuple();
    if (c === '{') return this.parseObject();
    if (isIdStart(c)) {
      let name = this.ident()!;
      // namespaced function names: provider::ns::fn
      while (src.startsWith('::', this.pos) && isIdStart(src[this.pos + 2] ?? '')) {
        this.pos += 2;
        name += '::' + this.ident()!;
      }
      const save = this.pos;
      this.skip(false);
      if (src[this.pos] === '(') {
        this.pos++;
        this.nl.push(true);
        this.skip();
        while (src[this.pos] !== ')') {
          this.parseExpr();
          this.skip();
          if (src.startsWith('...', this.pos)) {
            this.pos += 3;
            this.skip();
          }
          if (src[this.pos] === ',') {
            this.pos++;
            this.skip();
          } else if (src[this.pos] !== ')') this.fail('Missing argument separator; A comma is required to separate each function argument from the next.');
        }
        this.nl.pop();
        this.pos++;
        return { k: 'other', s, e: this.pos };
      }
      this.pos = save;
      if (name === 'true') return { k: 'lit', s, e: this.pos, v: true };
      if (name === 'false') return { k: 'lit', s, e: this.pos, v: false };
      if (name === 'null') return { k: 'lit', s, e: this.pos, v: null };
      return { k: 'trav', s, e: this.pos, simple: true };
    }
    this.fail(`Invalid expression; Expected the start of an expression, but found an invalid expression token.`);
  }

  private parseTuple(): Expr {
    const s = this.pos;
    this.pos++;
    this.nl.push(true);
    this.skip();
    if (this.peekKeyword('for')) {
      this.parseForBody(']');
      this.nl.pop();
      return { k: 'other', s, e: this.pos };
    }
    const items: Expr[] = [];
    while (this.src[this.pos] !== ']') {
      if (this.pos >= this.src.length) this.fail('Missing item separator; Expected a comma to mark the beginning of the next item.');
      items.push(this.parseExpr());
      this.skip();
      if (this.src[this.pos] === ',') {
        this.pos++;
        this.skip();
      } else if (this.src[this.pos] !== ']') this.fail('Missing item separator; Expected a comma to mark the beginning of the next item.');
    }
    this.pos++;
    this.nl.pop();
    return { k: 'tuple', s, e: this.pos, items };
  }

  private peekKeyword(kw: string): boolean {
    if (!this.src.startsWith(kw, this.pos)) return false;
    const next = this.src[this.pos + kw.length];
    return next === undefined || !isIdChar(next);
  }

  /** After `[` or `{`: `for k, v in coll : expr [=> expr] [...] [if cond]` up to the closer. */
  private parseForBody(close: string): void {
    this.pos += 3;
    this.skip();
    if (this.ident() === undefined) this.fail('Invalid for expression; For expression requires variable name after \'for\'.');
    this.skip();
    if (this.src[this.pos] === ',') {
      this.pos++;
      this.skip();
      if (this.ident() === undefined) this.fail('Invalid for expression; For expression requires value variable name after comma.');
      this.skip();
    }
    if (!this.peekKeyword('in')) this.fail('Invalid for expression; For expression requires the \'in\' keyword after its name declarations.');
    this.pos += 2;
    this.parseExpr();
    this.skip();
    if (this.src[this.pos] !== ':') this.fail('Invalid for expression; For expression requires a colon after the collection expression.');
    this.pos++;
    this.parseExpr();
    this.skip();
    if (this.src.startsWith('=>', this.pos)) {
      this.pos += 2;
      this.parseExpr();
      this.skip();
    }
    if (this.src.startsWith('...', this.pos)) {
      this.pos += 3;
      this.skip();
    }
    if (this.peekKeyword('if')) {
      this.pos += 2;
      this.parseExpr();
      this.skip();
    }
    if (this.src[this.pos] !== close) this.fail(`Invalid for expression; Expected "${close}" to close the for expression.`);
    this.pos++;
  }

  private parseObject(): Expr {
    const s = this.pos;
    this.pos++;
    this.nl.push(false);
    this.skip(true);
    if (this.peekKeyword('for')) {
      this.nl[this.nl.length - 1] = true;
      this.parseForBody('}');
      this.nl.pop();
      return { k: 'other', s, e: this.pos };
    }
    const items: { key: Expr; value: Expr }[] = [];
    while (this.src[this.pos] !== '}') {
      if (this.pos >= this.src.length) this.fail('Missing item separator; Expected a newline or comma to mark the beginning of the next attribute.');
      const key = this.parseExpr();
      this.skip(false);
      if (this.src[this.pos] !== '=' && this.src[this.pos] !== ':') {
        this.fail('Missing key/value separator; Expected an equals sign ("=") to mark the beginning of the attribute value.');
      }
      this.pos++;
      const value = this.parseExpr();
      items.push({ key, value });
      this.skip(false);
      if (this.src[this.pos] === ',') this.pos++;
      else if (!this.atNewlineOrEnd() && this.src[this.pos] !== '}') {
        this.fail('Missing attribute separator; Expected a newline or comma to mark the beginning of the next attribute.');
      }
      this.skip(true);
    }
    this.pos++;
    this.nl.pop();
    return { k: 'object', s, e: this.pos, items };
  }

  // ----- templates

  parseQuoted(): Expr & { k: 'tmpl' } {
    const s = this.pos;
    this.pos++;
    const parts = this.parseTemplateParts('"');
    return { k: 'tmpl', s, e: this.pos, parts };
  }

  private parseHeredoc(): Expr {
    const s = this.pos;
    const m = /^<<(-?)([\p{L}_][\p{L}\p{N}_-]*)\r?\n/u.exec(this.src.slice(this.pos, this.pos + 300));
    if (!m) this.fail('Invalid heredoc; A heredoc introducer must be followed by a delimiter name and a newline.');
    const flush = m[1] === '-';
    const marker = m[2]!;
    this.pos += m[0].length;
    // find the closing line
    const bodyStart = this.pos;
    let lineStart = this.pos;
    let bodyEnd = -1;
    let after = -1;
    const src = this.src;
    while (lineStart <= src.length) {
      let nl = src.indexOf('\n', lineStart);
      if (nl < 0) nl = src.length;
      const line = src.slice(lineStart, nl).replace(/\r$/, '');
      if (line.trim() === marker) {
        bodyEnd = lineStart;
        after = lineStart + src.slice(lineStart, nl).indexOf(marker) + marker.length;
        break;
      }
      if (nl >= src.length) break;
      lineStart = nl + 1;
    }
    if (bodyEnd < 0) this.fail(`Unterminated template string; There is no closing marker for the heredoc "${marker}".`, s);
    const inner = new HclParser(src.slice(0, bodyEnd));
    inner.pos = bodyStart;
    inner.depth = this.depth;
    let parts = inner.parseTemplateParts(null);
    if (flush) parts = flushParts(parts);
    this.pos = after;
    return { k: 'tmpl', s, e: this.pos, parts };
  }

  /**
   * Template parts up to `close` (`"`), or to the end of the source for a
   * heredoc body (close = null), or until a `%{` directive keyword in
   * `stopAt` (then pos is at the `%{`).
   */
  parseTemplateParts(close: string | null, stopAt?: string[]): Part[] {
    const parts: Part[] = [];
    const src = this.src;
    const quoted = close === '"';
    let lit = '';
    let stripNextLeading = false;
    const pushLit = () => {
      if (lit !== '') parts.push({ k: 'str', v: lit.normalize('NFC') });
      lit = '';
    };
    const stripTrailing = () => {
      lit = trimTrailingSpace(lit);
      if (lit === '' && parts.length && parts[parts.length - 1]!.k === 'str') {
        const p = parts[parts.length - 1] as { k: 'str'; v: string };
        p.v = trimTrailingSpace(p.v);
      }
    };
    for (;;) {
      if (this.pos >= src.length) {
        if (quoted) this.fail('Unterminated template string; No closing marker was found for the string.');
        break;
      }
      const c = src[this.pos]!;
      if (quoted && c === '"') {
        this.pos++;
        break;
      }
      if (quoted && c === '\n') this.fail('Invalid multi-line string; Quoted strings may not be split over multiple lines.');
      if (stripNextLeading) {
        if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
          this.pos++;
          continue;
        }
        stripNextLeading = false;
      }
      if ((c === '$' || c === '%') && src[this.pos + 1] === c && src[this.pos + 2] === '{') {
        lit += c + c + '{';
        this.pos += 3;
        continue;
      }
      if (c === '$' && src[this.pos + 1] === '{') {
        this.pos += 2;
        if (src[this.pos] === '~') {
          this.pos++;
          stripTrailing();
        }
        pushLit();
        this.nl.push(true);
        const expr = this.parseExpr();
        this.skip();
        this.nl.pop();
        if (src[this.pos] === '~') {
          this.pos++;
          stripNextLeading = true;
        }
        if (src[this.pos] !== '}') this.fail('Extra characters after interpolation expression; Expected a closing brace to end the interpolation expression.');
        this.pos++;
        parts.push({ k: 'interp', expr });
        continue;
      }
      if (c === '%' && src[this.pos + 1] === '{') {
        const dirStart = this.pos;
        this.pos += 2;
        let stripL = false;
        if (src[this.pos] === '~') {
          this.pos++;
          stripL = true;
        }
        this.nl.push(true);
        this.skip();
        const kw = this.ident();
        if (kw === undefined) this.fail('Invalid template directive; A template directive keyword ("if", "for", etc) is expected at the beginning of a %{ sequence.');
        if (stopAt && stopAt.includes(kw)) {
          this.nl.pop();
          if (stripL) stripTrailing();
          pushLit();
          this.pos = dirStart;
          return parts;
        }
        if (stripL) stripTrailing();
        pushLit();
        if (kw === 'if') {
          const cond = this.parseExpr();
          const rs = this.closeDirective();
          this.nl.pop();
          const t = this.parseDirectiveBody(close, ['else', 'endif'], rs);
          let f: Part[] = [];
          let kw2 = this.readDirective();
          if (kw2.kw === 'else') {
            f = this.parseDirectiveBody(close, ['endif'], kw2.stripR, t);
            kw2 = this.readDirective();
          }
          if (kw2.kw !== 'endif') this.fail('Unterminated template directive; An %{if} directive needs a matching %{endif}.');
          stripNextLeading = kw2.stripR;
          parts.push({ k: 'if', cond, t, f });
        } else if (kw === 'for') {
          this.skip();
          let keyVar: string | undefined;
          let valVar = this.ident();
          this.skip();
          if (src[this.pos] === ',') {
            this.pos++;
            this.skip();
            keyVar = valVar;
            valVar = this.ident();
            this.skip();
          }
          if (valVar === undefined || !this.peekKeyword('in')) this.fail('Invalid template directive; Invalid %{for} directive.');
          this.pos += 2;
          const coll = this.parseExpr();
          const rs = this.closeDirective();
          this.nl.pop();
          const body = this.parseDirectiveBody(close, ['endfor'], rs);
          const kw2 = this.readDirective();
          if (kw2.kw !== 'endfor') this.fail('Unterminated template directive; A %{for} directive needs a matching %{endfor}.');
          stripNextLeading = kw2.stripR;
          parts.push({ k: 'for', keyVar, valVar: valVar!, coll, body });
        } else {
          this.fail(`Unexpected ${kw} directive; There is no open directive for this %{${kw}}.`, dirStart);
        }
        continue;
      }
      if (quoted && c === '\\') {
        const e = src[this.pos + 1];
        const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
        if (e !== undefined && map[e] !== undefined) {
          lit += map[e];
          this.pos += 2;
          continue;
        }
        if (e === 'u' || e === 'U') {
          const len = e === 'u' ? 4 : 8;
          const hex = src.slice(this.pos + 2, this.pos + 2 + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail('Invalid escape sequence; The \\u escape must be followed by hexadecimal digits.');
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff) this.fail('Invalid escape sequence; The escape sequence does not give a Unicode character.');
          lit += String.fromCodePoint(cp);
          this.pos += 2 + len;
          continue;
        }
        this.fail(`Invalid escape sequence; The symbol "${e}" is not a valid escape sequence selector.`);
      }
      lit += c;
      this.pos++;
    }
    pushLit();
    return parts;
  }

  private closeDirective(): boolean {
    this.skip();
    let stripR = false;
    if (this.src[this.pos] === '~') {
      this.pos++;
      stripR = true;
    }
    if (this.src[this.pos] !== '}') this.fail('Extra characters in template directive; Expected a closing brace.');
    this.pos++;
    return stripR;
  }

  private parseDirectiveBody(close: string | null, stopAt: string[], stripLeading: boolean, _prev?: Part[]): Part[] {
    if (stripLeading) {
      while (/[ \t\r\n]/.test(this.src[this.pos] ?? '')) this.pos++;
    }
    return this.nested(() => this.parseTemplateParts(close, stopAt));
  }

  /** At `%{`: read `%{~? kw ~?}`. */
  private readDirective(): { kw: string; stripR: boolean } {
    if (!this.src.startsWith('%{', this.pos)) this.fail('Unterminated template directive.');
    this.pos += 2;
    if (this.src[this.pos] === '~') this.pos++;
    this.nl.push(true);
    this.skip();
    const kw = this.ident() ?? '';
    const stripR = this.closeDirective();
    this.nl.pop();
    return { kw, stripR };
  }
}

/**
 * `<<-` heredocs: remove the smallest indentation (any Unicode white space)
 * of the body's non-blank lines from every line.
 */
function flushParts(parts: Part[]): Part[] {
  let min = Infinity;
  let atLineStart = true;
  for (const p of parts) {
    if (p.k === 'str') {
      const lines = p.v.split('\n');
      lines.forEach((l, i) => {
        if (i === 0 && !atLineStart) return;
        if (i === lines.length - 1 && l === '') return;
        if (l.trim() === '' && i < lines.length - 1) return; // blank line
        const ind = /^\s*/u.exec(l)![0].length;
        min = Math.min(min, ind);
      });
      atLineStart = p.v.endsWith('\n');
    } else {
      if (atLineStart) min = 0;
      atLineStart = false;
    }
  }
  if (!Number.isFinite(min) || min === 0) return parts;
  atLineStart = true;
  return parts.map((p) => {
    if (p.k !== 'str') {
      atLineStart = false;
      return p;
    }
    const lines = p.v.split('\n').map((l, i) => (i > 0 || atLineStart ? l.slice(Math.min(min, /^\s*/u.exec(l)![0].length)) : l));
    atLineStart = p.v.endsWith('\n');
    return { k: 'str', v: lines.join('\n') };
  });
}

// ---------------------------------------------------------------------------
// Conversion to conftest's JSON shape

class Converter {
  constructor(private src: string) {}

  private wrap(e: Expr): string {
    return '${' + this.src.slice(e.s, e.e) + '}';
  }

  body(b: Body): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const bl of b.blocks) this.block(bl, out);
    // attributes win over blocks of the same name
    for (const a of b.attrs) setKey(out, a.name, this.expr(a.expr));
    return out;
  }

  private block(b: Block, outer: Record<string, unknown>): void {
    let out = outer;
    let key = b.type;
    for (const label of b.labels) {
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        const inner = out[key];
        if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
          throw new HclSyntaxError(`unable to convert Block to JSON: ${b.type}.${b.labels.join('.')}`, b.line);
        }
        out = inner as Record<string, unknown>;
      } else {
        const obj: Record<string, unknown> = {};
        setKey(out, key, obj);
        out = obj;
      }
      key = label;
    }
    const value = this.body(b.body);
    if (Object.prototype.hasOwnProperty.call(out, key)) {
      const cur = out[key];
      if (!Array.isArray(cur)) throw new HclSyntaxError(`unable to convert Block to JSON: ${b.type}.${b.labels.join('.')}`, b.line);
      cur.push(value);
    } else setKey(out, key, [value]);
  }

  expr(e: Expr): unknown {
    switch (e.k) {
      case 'lit':
        return typeof e.v === 'number' ? this.finite(e.v, e) : e.v;
      case 'unary':
        if (e.operand.k === 'lit') {
          const v = e.operand.v;
          if (e.op === '-' && typeof v === 'number') return -this.finite(v, e.operand, '-');
          if (e.op === '!' && typeof v === 'boolean') return !v;
        }
        return this.wrap(e);
      case 'tmpl':
        if (e.parts.length === 1 && e.parts[0]!.k === 'interp') return this.expr(e.parts[0]!.expr);
        return this.template(e.parts);
      case 'tuple':
        return e.items.map((x) => this.expr(x));
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const it of e.items) setKey(out, this.key(it.key), this.expr(it.value));
        return out;
      }
      default:
        return this.wrap(e);
    }
  }

  /**
   * A number literal in the document: conftest reads HCL's numbers (arbitrary precision) back
   * from JSON into Go float64s, which fails for one beyond float64's range.
   */
  private finite(v: number, e: Expr, sign = ''): number {
    if (Number.isFinite(v)) return v;
    const text = sign + (decimalText(this.src.slice(e.s, e.e), e.s) ?? this.src.slice(e.s, e.e));
    throw new HclSyntaxError(`json: cannot unmarshal number ${text} into Go value of type float64`, e.s);
  }

  private key(k: Expr): string {
    if (k.k === 'trav') return this.src.slice(k.s, k.e);
    return this.stringPart(k);
  }

  template(parts: Part[]): string {
    let out = '';
    for (const p of parts) {
      if (p.k === 'str') out += p.v;
      else if (p.k === 'interp') out += this.stringPart(p.expr);
      else if (p.k === 'if') {
        out += '%{if ' + this.src.slice(p.cond.s, p.cond.e) + '}' + this.template(p.t);
        const f = this.template(p.f);
        if (f.length > 0) out += '%{else}' + f;
        out += '%{endif}';
      } else {
        out += '%{for ' + (p.keyVar ? p.keyVar + ', ' : '') + p.valVar + ' in ' + this.src.slice(p.coll.s, p.coll.e) + '}';
        out += this.template(p.body) + '%{endfor}';
      }
    }
    return out;
  }

  private stringPart(e: Expr): string {
    switch (e.k) {
      case 'lit':
        // a number as text: its exact decimal digits, as cty writes a number converted to a string
        return e.v === null ? '' : typeof e.v === 'number' ? (decimalText(this.src.slice(e.s, e.e), e.s) ?? goNumberString(e.v)) : String(e.v);
      case 'tmpl':
        if (e.parts.length === 1 && e.parts[0]!.k === 'interp') return this.stringPart(e.parts[0]!.expr);
        return this.template(e.parts);
      case 'cond': {
        let out = '%{if ' + this.src.slice(e.cond.s, e.cond.e) + '}' + this.stringPart(e.t);
        const f = this.stringPart(e.f);
        if (f.length > 0) out += '%{else}' + f;
        return out + '%{endif}';
      }
      default:
        return this.wrap(e);
    }
  }
}

/** A number literal: digits, optional fraction and exponent (matched from lastIndex). */
const NUMBER = /[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

/** Longest decimal text a number literal may expand to (1e1000000000 would be a gigabyte of zeros). */
const MAX_NUMBER_TEXT = 1_000_000;

/**
 * The plain decimal text of a number literal ("1.5e3" → "1500", "2.50" → "2.5", "1e-3" →
 * "0.001"): how cty writes the exact value of a number converted to a string. Undefined when the
 * text is not a number literal.
 */
function decimalText(lit: string, pos: number): string | undefined {
  const m = /^([0-9]+)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?$/.exec(lit);
  if (!m) return undefined;
  const int = m[1]!;
  const frac = m[2] ?? '';
  const exp = Number(m[3] ?? '0');
  let digits = (int + frac).replace(/^0+/, '');
  if (digits === '') return '0';
  // value = digits × 10^point, with point counted from the right end of digits
  let point = exp - frac.length;
  const zeros = /0*$/.exec(digits)![0].length;
  if (zeros > 0 && zeros < digits.length) {
    digits = digits.slice(0, digits.length - zeros);
    point += zeros;
  }
  if (Math.abs(point) + digits.length > MAX_NUMBER_TEXT) throw new HclSyntaxError(`number literal too large to write as text (more than ${MAX_NUMBER_TEXT} digits)`, pos);
  if (point >= 0) return digits + '0'.repeat(point);
  const at = digits.length + point;
  return at > 0 ? `${digits.slice(0, at)}.${digits.slice(at)}` : `0.${'0'.repeat(-at)}${digits}`;
}

function goNumberString(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return String(n);
}

function setKey(o: Record<string, unknown>, k: string, v: unknown) {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

export function parseHcl2(content: string, file: string): Record<string, unknown> {
  const p = new HclParser(content);
  try {
    const body = p.parseFile();
    return new Converter(content).body(body);
  } catch (e) {
    if (e instanceof HclSyntaxError) {
      const { line, column } = lineColAt(content, e.pos);
      throw new ParseError(e.message, { file, parser: 'hcl2', line, column });
    }
    throw e;
  }
}

export const hcl2Parser: InputParser = { name: 'hcl2', parse: parseHcl2 };
