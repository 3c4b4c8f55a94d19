/**
 * CUE (`.cue`): the file is evaluated and exported to JSON, as conftest does
 * with the CUE Go API.
 *
 * No pure-JavaScript CUE implementation exists on npm, so this is a
 * hand-written evaluator of the commonly used subset:
 * - structs (unified field by field, also across repeated declarations;
 *   definitions are closed),
 *   `a: b: c: 1` shorthand, definitions (`#D`), hidden fields (`_x`), optional
 *   (`a?:`) and required (`a!:`) fields, `...`, embedding;
 * - unification `&`, disjunctions `|` with defaults `*`, basic types (`int`,
 *   `float`, `number`, `string`, `bytes`, `bool`, `null`, `_`), bounds
 *   (`>=0`, `<10`, `!=x`), regular expressions (`=~`, `!~`);
 * - references (lexical, to the unified value), selectors, indexing, `let`,
 *   arithmetic/comparison/boolean operators, `div`/`mod`/`quo`/`rem`,
 *   string interpolation `\(x)`, multi-line strings, number suffixes (`1Ki`);
 * - list and struct comprehensions (`for`, `if`, `let` clauses), top-level
 *   `if`/`for` embeddings;
 * - builtins `len`, `close`, `and`, `or`, `div`, `mod`, `quo`, `rem`, and the
 *   packages `strings`, `list`, `math`, `strconv` (common functions).
 * Not supported: pattern constraints `[string]: T` (ignored), `@attributes`
 * (ignored), imports of other packages, cycles through disjunctions.
 * Non-concrete results are errors ("incomplete value"), as in conftest.
 *
 * Disjunctions are bounded (docs/LIMITS.md, "Input files"): the CUE tool has
 * no limit and takes minutes or exponential time on a few lines (a chain of
 * 50,000 `|`, cross products of disjunctions of structs, a disjunction of
 * itself referenced level after level). Here duplicate disjuncts are merged as
 * soon as a disjunction is built, a disjunction holds at most MAX_DISJUNCTS
 * disjuncts, and one file's disjunction work (disjuncts built, pairs unified)
 * is at most MAX_DISJUNCTION_WORK steps; past either, a named error.
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { RegexSyntaxError, matchRE2 } from '../builtins/re2.ts';
import { DEPTH_REASON, MAX_DEPTH } from './limits.ts';

class CueError extends Error {
  constructor(message: string, public pos = -1) {
    super(message);
  }
}

/** The most disjuncts one disjunction may hold, after duplicates are merged. */
export const MAX_DISJUNCTS = 10_000;
/**
 * The disjunction work one file may take: a disjunct added to a disjunction, a
 * pair of disjuncts unified (plus the fields of a struct the pair yields).
 * About a second of CPU for the costliest kind of step.
 */
export const MAX_DISJUNCTION_WORK = 2_000_000;

/** CUE's =~: a Go (RE2) regular expression, matched in linear time. */
function reMatch(pattern: string, s: string, pos = -1): boolean {
  try {
    return matchRE2(pattern, s);
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new CueError(e.message, pos);
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Lexer (with Go-style automatic comma insertion at line ends)

type Tok = { t: 'id' | 'num' | 'str' | 'op' | 'kw' | 'eof'; v: string; pos: number; parts?: (string | Tok[])[]; float?: boolean };
const KW = new Set(['package', 'import', 'for', 'in', 'if', 'let', 'true', 'false', 'null', 'div', 'mod', 'quo', 'rem']);

/**
 * How deep string interpolations may nest (`"\("\(x)")"` is 2): each level is read again from its
 * own text, so depth costs time in proportion to the file's length.
 */
export const MAX_INTERPOLATION_NESTING = 100;

function lexCue(src: string, base = 0, nesting = 0): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = src.length;
  const fail = (m: string): never => {
    throw new CueError(m, base + i);
  };
  const needsComma = () => {
    const last = toks[toks.length - 1];
    if (!last) return false;
    if (last.t === 'id' || last.t === 'num' || last.t === 'str') return true;
    if (last.t === 'kw') return ['true', 'false', 'null'].includes(last.v);
    return last.t === 'op' && [')', ']', '}', '_', '...'].includes(last.v);
  };
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      if (needsComma()) toks.push({ t: 'op', v: ',', pos: base + i });
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '@') {
      // attribute: skip balanced (...)
      const m = /^@[A-Za-z_]\w*\(/.exec(src.slice(i));
      if (m) {
        let depth = 0;
        for (; i < n; i++) {
          if (src[i] === '(') depth++;
          else if (src[i] === ')' && --depth === 0) {
            i++;
            break;
          }
        }
        continue;
      }
    }
    const start = i;
    if (/[A-Za-z_$#]/.test(c) && !(c === '#' && src[i + 1] === '"')) {
      while (i < n && /[A-Za-z0-9_$#]/.test(src[i]!)) i++;
      const w = src.slice(start, i);
      toks.push({ t: KW.has(w) ? 'kw' : w === '_' ? 'op' : 'id', v: w, pos: base + start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m =
        /^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][-+]?[0-9_]+)?)([KMGTP]i?)?/.exec(src.slice(i, i + 200))!;
      i += m[0].length;
      toks.push({ t: 'num', v: m[0], pos: base + start, float: /[.eE]/.test(m[1]!) && !/^0[xX]/.test(m[1]!) && !m[2] });
      continue;
    }
    if (c === '"' || c === "'" || (c === '#' && src[i + 1] === '"')) {
      let hashes = 0;
      while (src[i] === '#') {
        hashes++;
        i++;
      }
      const q = src[i]!;
      const multi = src.startsWith(q + q + q, i);
      i += multi ? 3 : 1;
      const close = (multi ? q + q + q : q) + '#'.repeat(hashes);
      const esc = '\\' + '#'.repeat(hashes);
      const parts: (string | Tok[])[] = [];
      let cur = '';
      const qc = q.charCodeAt(0);
      for (;;) {
        // a run of characters that cannot start the closing quote, an escape or a newline
        let j = i;
        for (let ch = src.charCodeAt(j); j < n && ch !== qc && ch !== 0x5c && ch !== 0x0a; ch = src.charCodeAt(++j));
        if (j > i) {
          cur += src.slice(i, j);
          i = j;
          continue;
        }
        if (i >= n) fail('string literal not terminated');
        if (src.startsWith(close, i)) {
          i += close.length;
          break;
        }
        if (!multi && src[i] === '\n') fail('string literal not terminated');
        if (src.startsWith(esc, i)) {
          const j = i + esc.length;
          const e = src[j];
          if (e === '(') {
            // interpolation
            if (nesting >= MAX_INTERPOLATION_NESTING) fail(`string interpolations nested more than ${MAX_INTERPOLATION_NESTING} deep`);
            let depth = 1;
            let k = j + 1;
            for (; k < n && depth > 0; k++) {
              if (src[k] === '(') depth++;
              else if (src[k] === ')') depth--;
            }
            parts.push(cur);
            cur = '';
            parts.push(lexCue(src.slice(j + 1, k - 1), base + j + 1, nesting + 1));
            i = k;
            continue;
          }
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07', '"': '"', "'": "'", '\\': '\\', '/': '/' };
          if (e !== undefined && map[e] !== undefined) {
            cur += map[e];
            i = j + 1;
            continue;
          }
          if (e === 'u' || e === 'U') {
            const len = e === 'u' ? 4 : 8;
            const hex = src.slice(j + 1, j + 1 + len);
            const cp = parseInt(hex, 16);
            if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len || cp > 0x10ffff) fail(`invalid escape sequence \\${e}${hex}`);
            cur += String.fromCodePoint(cp);
            i = j + 1 + len;
            continue;
          }
          if (e === 'x') {
            cur += String.fromCharCode(parseInt(src.slice(j + 1, j + 3), 16));
            i = j + 3;
            continue;
          }
          if (e === '\n' && multi) {
            i = j + 1;
            continue;
          }
          fail(`unknown escape sequence \\${e}`);
        }
        cur += src[i++];
      }
      parts.push(cur);
      if (multi) dedentMulti(parts);
      toks.push({ t: 'str', v: q, pos: base + start, parts });
      continue;
    }
    const ops = ['...', '=~', '!~', '==', '!=', '<=', '>=', '&&', '||', '&', '|', '*', '+', '-', '/', '!', '<', '>', '=', ':', '?', '.', ',', '(', ')', '[', ']', '{', '}'];
    const op = ops.find((o) => src.startsWith(o, i));
    if (!op) fail(`illegal character ${JSON.stringify(c)}`);
    toks.push({ t: 'op', v: op!, pos: base + start });
    i += op!.length;
  }
  if (needsComma()) toks.push({ t: 'op', v: ',', pos: base + n });
  toks.push({ t: 'eof', v: '', pos: base + n });
  return toks;
}

/** Multi-line strings: drop the first newline and the closing line's indentation from every line. */
function dedentMulti(parts: (string | Tok[])[]): void {
  const first = parts[0];
  if (typeof first === 'string') parts[0] = first.replace(/^[ \t]*\r?\n/, '');
  const last = parts[parts.length - 1];
  let indent = '';
  if (typeof last === 'string') {
    const m = /\r?\n([ \t]*)$/.exec(last);
    if (m) {
      indent = m[1]!;
      parts[parts.length - 1] = last.slice(0, m.index);
    }
  }
  if (!indent) return;
  for (let p = 0; p < parts.length; p++) {
    const s = parts[p];
    if (typeof s !== 'string') continue;
    parts[p] = s
      .split('\n')
      .map((line, i) => (i === 0 && p > 0 ? line : line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n');
  }
  if (typeof parts[0] === 'string' && (parts[0] as string).startsWith(indent)) parts[0] = (parts[0] as string).slice(indent.length);
}

// ---------------------------------------------------------------------------
// AST

type Node =
  | { k: 'lit'; v: V; pos: number }
  | { k: 'interp'; parts: (string | Node)[]; bytes: boolean; pos: number }
  | { k: 'ref'; name: string; pos: number }
  | { k: 'sel'; x: Node; name: string; pos: number }
  | { k: 'idx'; x: Node; i: Node; pos: number }
  | { k: 'call'; fn: Node; args: Node[]; pos: number }
  | { k: 'un'; op: string; x: Node; pos: number }
  | { k: 'bin'; op: string; l: Node; r: Node; pos: number }
  | { k: 'struct'; decls: Decl[]; pos: number }
  | { k: 'list'; items: Node[]; tail?: Node; comp?: { clauses: Clause[]; body: Node }; pos: number };

type Clause = { k: 'for'; key?: string; val: string; src: Node } | { k: 'if'; cond: Node } | { k: 'let'; name: string; x: Node };
type Decl =
  | { k: 'field'; label: Label; value: Node; pos: number }
  | { k: 'let'; name: string; x: Node }
  | { k: 'embed'; x: Node; pos: number }
  | { k: 'comp'; clauses: Clause[]; body: Node & { k: 'struct' }; pos: number }
  | { k: 'ellipsis' };
type Label = { name: string | Node; opt: '' | '?' | '!'; pattern?: { alias?: string; x: Node } };

class CueParser {
  i = 0;
  /** nesting of structs, lists and expressions (limited to MAX_DEPTH) */
  private depth = 0;
  constructor(private toks: Tok[]) {}
  private nested<T>(f: () => T): T {
    if (this.depth >= MAX_DEPTH) this.fail(DEPTH_REASON);
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }
  peek(o = 0): Tok {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }
  is(v: string, o = 0): boolean {
    const t = this.peek(o);
    return (t.t === 'op' || t.t === 'kw') && t.v === v;
  }
  eat(v: string): boolean {
    if (this.is(v)) {
      this.i++;
      return true;
    }
    return false;
  }
  expect(v: string): void {
    if (!this.eat(v)) this.fail(`expected '${v}', found ${this.desc()}`);
  }
  desc(): string {
    const t = this.peek();
    return t.t === 'eof' ? 'EOF' : t.t === 'str' ? 'string' : `'${t.v}'`;
  }
  fail(m: string): never {
    throw new CueError(m, this.peek().pos);
  }

  file(): Node & { k: 'struct' } {
    const pos = this.peek().pos;
    if (this.eat('package')) {
      this.i++;
      this.eat(',');
    }
    while (this.eat('import')) {
      if (this.eat('(')) {
        while (!this.eat(')')) this.i++;
      } else {
        if (this.peek().t === 'id') this.i++;
        this.i++;
      }
      this.eat(',');
    }
    const decls = this.decls('eof');
    return { k: 'struct', decls, pos };
  }

  decls(close: string): Decl[] {
    return this.nested(() => this.declList(close));
  }

  private declList(close: string): Decl[] {
    const out: Decl[] = [];
    for (;;) {
      while (this.eat(',')) {
        /* skip */
      }
      const t = this.peek();
      if (close === 'eof' ? t.t === 'eof' : this.is(close)) break;
      out.push(this.decl());
      if (!this.eat(',')) {
        if (close === 'eof' ? this.peek().t !== 'eof' : !this.is(close)) this.fail(`missing ',' in struct literal`);
      }
    }
    return out;
  }

  decl(): Decl {
    const t = this.peek();
    if (this.eat('...')) {
      if (!this.is(',') && !this.is('}')) this.expr();
      return { k: 'ellipsis' };
    }
    if (this.is('let')) {
      this.i++;
      const name = this.peek().v;
      this.i++;
      this.expect('=');
      return { k: 'let', name, x: this.expr() };
    }
    if (this.is('if') || this.is('for')) {
      const clauses = this.clauses();
      if (!this.is('{')) this.fail(`expected '{' after comprehension clauses`);
      const body = this.primary() as Node & { k: 'struct' };
      return { k: 'comp', clauses, body, pos: t.pos };
    }
    // field or embedding
    const save = this.i;
    const label = this.tryLabel();
    if (label) {
      let opt: '' | '?' | '!' = '';
      if (this.eat('?')) opt = '?';
      else if (this.is('!') && this.is(':', 1)) {
        this.i++;
        opt = '!';
      }
      if (this.eat(':')) {
        label.opt = opt;
        // shorthand a: b: c
        const value = this.fieldValue();
        return { k: 'field', label, value, pos: t.pos };
      }
      this.i = save;
    }
    return { k: 'embed', x: this.expr(), pos: t.pos };
  }

  fieldValue(): Node {
    const save = this.i;
    const t = this.peek();
    const label = this.tryLabel();
    if (label) {
      let opt: '' | '?' | '!' = '';
      if (this.eat('?')) opt = '?';
      else if (this.is('!') && this.is(':', 1)) {
        this.i++;
        opt = '!';
      }
      if (this.eat(':')) {
        label.opt = opt;
        // `a: b: c: 1` nests a struct per label: counted like `{` (inline, not through nested():
        // a closure per level would take more of the stack than the shorthand did)
        if (this.depth >= MAX_DEPTH) this.fail(DEPTH_REASON);
        this.depth++;
        let value: Node;
        try {
          value = this.fieldValue();
        } finally {
          this.depth--;
        }
        return { k: 'struct', decls: [{ k: 'field', label, value, pos: t.pos }], pos: t.pos };
      }
      this.i = save;
    }
    return this.expr();
  }

  tryLabel(): Label | undefined {
    const t = this.peek();
    if (t.t === 'id' || (t.t === 'kw' && !['if', 'for', 'let'].includes(t.v)) || (t.t === 'op' && t.v === '_')) {
      if (!this.is(':', 1) && !this.is('?', 1) && !(this.is('!', 1) && this.is(':', 2))) return undefined;
      this.i++;
      return { name: t.v, opt: '' };
    }
    if (t.t === 'str') {
      if (!this.is(':', 1) && !this.is('?', 1) && !(this.is('!', 1) && this.is(':', 2))) return undefined;
      this.i++;
      if (t.parts!.length !== 1) return { name: { k: 'interp', parts: this.interpParts(t), bytes: false, pos: t.pos }, opt: '' };
      return { name: t.parts![0] as string, opt: '' };
    }
    if (t.t === 'op' && t.v === '(') {
      // (expr): dynamic label
      const save = this.i;
      this.i++;
      try {
        const x = this.expr();
        this.expect(')');
        if (this.is(':') || this.is('?')) return { name: x, opt: '' };
      } catch (e) {
        // not a label (an exhausted stack is no answer: passed on)
        if (!(e instanceof CueError)) throw e;
      }
      this.i = save;
      return undefined;
    }
    if (t.t === 'op' && t.v === '[') {
      // pattern constraint [X=pattern]: T
      const save = this.i;
      try {
        this.i++;
        let alias: string | undefined;
        if (this.peek().t === 'id' && this.is('=', 1)) {
          alias = this.peek().v;
          this.i += 2;
        }
        const x = this.expr();
        this.expect(']');
        if (this.is(':')) return { name: '', opt: '', pattern: { alias, x } };
      } catch (e) {
        // not a pattern
        if (!(e instanceof CueError)) throw e;
      }
      this.i = save;
      return undefined;
    }
    return undefined;
  }

  clauses(): Clause[] {
    const out: Clause[] = [];
    for (;;) {
      if (this.eat('for')) {
        const a = this.peek().v;
        this.i++;
        let key: string | undefined;
        let val = a;
        if (this.eat(',')) {
          key = a;
          val = this.peek().v;
          this.i++;
        }
        this.expect('in');
        out.push({ k: 'for', key, val, src: this.expr() });
      } else if (this.eat('if')) out.push({ k: 'if', cond: this.expr() });
      else if (this.is('let') && out.length) {
        this.i++;
        const name = this.peek().v;
        this.i++;
        this.expect('=');
        out.push({ k: 'let', name, x: this.expr() });
      } else return out;
    }
  }

  static PREC: string[][] = [['|'], ['&'], ['||'], ['&&'], ['==', '!=', '<', '<=', '>', '>=', '=~', '!~'], ['+', '-'], ['*', '/']];

  /**
   * Expressions already read, by first token: a label like `(expr):` is tried
   * first and read again as an expression when no `:` follows; without this
   * memo, nested attempts take exponential time.
   */
  private exprMemo = new Map<number, { node: Node; end: number } | { error: unknown }>();

  expr(level = 0): Node {
    if (level !== 0) return this.binary(level);
    const start = this.i;
    const known = this.exprMemo.get(start);
    if (known) {
      if ('error' in known) throw known.error;
      this.i = known.end;
      return known.node;
    }
    try {
      const node = this.nested(() => this.binary(0));
      this.exprMemo.set(start, { node, end: this.i });
      return node;
    } catch (error) {
      if (error instanceof CueError) this.exprMemo.set(start, { error });
      throw error;
    }
  }

  private binary(level: number): Node {
    if (level >= CueParser.PREC.length) return this.unary();
    let l = this.expr(level + 1);
    for (;;) {
      const t = this.peek();
      if ((t.t === 'op' || t.t === 'kw') && CueParser.PREC[level]!.includes(t.v)) {
        this.i++;
        const r = this.expr(level + 1);
        l = { k: 'bin', op: t.v, l, r, pos: t.pos };
      } else return l;
    }
  }

  unary(): Node {
    const t = this.peek();
    if (t.t === 'op' && ['-', '+', '!', '*', '<', '<=', '>', '>=', '!=', '=~', '!~'].includes(t.v)) {
      this.i++;
      return { k: 'un', op: t.v, x: this.nested(() => this.unary()), pos: t.pos };
    }
    return this.postfix(this.primary());
  }

  postfix(x: Node): Node {
    for (;;) {
      const t = this.peek();
      if (this.eat('.')) {
        const nt = this.peek();
        this.i++;
        const name = nt.t === 'str' ? (nt.parts![0] as string) : nt.v;
        x = { k: 'sel', x, name, pos: t.pos };
      } else if (this.is('[')) {
        this.i++;
        const i = this.expr();
        this.expect(']');
        x = { k: 'idx', x, i, pos: t.pos };
      } else if (this.is('(')) {
        this.i++;
        const args: Node[] = [];
        while (!this.is(')')) {
          args.push(this.expr());
          if (!this.eat(',')) break;
        }
        this.expect(')');
        x = { k: 'call', fn: x, args, pos: t.pos };
      } else return x;
    }
  }

  interpParts(t: Tok): (string | Node)[] {
    return t.parts!.map((p) => (typeof p === 'string' ? p : new CueParser(p).exprAll()));
  }

  exprAll(): Node {
    const e = this.expr();
    this.eat(',');
    if (this.peek().t !== 'eof') this.fail('unexpected token in interpolation');
    return e;
  }

  primary(): Node {
    const t = this.peek();
    this.i++;
    switch (t.t) {
      case 'num':
        return { k: 'lit', v: parseNum(t), pos: t.pos };
      case 'str': {
        const bytes = t.v === "'";
        if (t.parts!.length === 1) return { k: 'lit', v: { k: bytes ? 'bytes' : 'str', v: t.parts![0] as string }, pos: t.pos };
        return { k: 'interp', parts: this.interpParts(t), bytes, pos: t.pos };
      }
      case 'id':
        return { k: 'ref', name: t.v, pos: t.pos };
      case 'kw':
        if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: { k: 'bool', v: t.v === 'true' }, pos: t.pos };
        if (t.v === 'null') return { k: 'lit', v: { k: 'null' }, pos: t.pos };
        if (['div', 'mod', 'quo', 'rem'].includes(t.v)) return { k: 'ref', name: t.v, pos: t.pos };
        break;
      case 'op':
        if (t.v === '_') return { k: 'lit', v: TOP, pos: t.pos };
        if (t.v === '(') {
          const e = this.expr();
          this.expect(')');
          return e;
        }
        if (t.v === '{') {
          const decls = this.decls('}');
          this.expect('}');
          return { k: 'struct', decls, pos: t.pos };
        }
        if (t.v === '[') {
          if (this.is('for')) {
            const clauses = this.clauses();
            const body = this.primary();
            this.eat(',');
            this.expect(']');
            return { k: 'list', items: [], comp: { clauses, body }, pos: t.pos };
          }
          const items: Node[] = [];
          let tail: Node | undefined;
          while (!this.is(']')) {
            if (this.eat('...')) {
              tail = this.is(']') || this.is(',') ? { k: 'lit', v: TOP, pos: t.pos } : this.expr();
              this.eat(',');
              break;
            }
            items.push(this.expr());
            if (!this.eat(',')) break;
          }
          this.expect(']');
          return { k: 'list', items, tail, pos: t.pos };
        }
    }
    this.i--;
    this.fail(`expected operand, found ${this.desc()}`);
  }
}

function parseNum(t: Tok): V {
  const m = /^(.*?)([KMGTP]i?)?$/.exec(t.v)!;
  let s = m[1]!.replace(/_/g, '');
  let v: number;
  if (/^0[xX]/.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^0[oO]/.test(s)) v = parseInt(s.slice(2), 8);
  else if (/^0[bB]/.test(s)) v = parseInt(s.slice(2), 2);
  else {
    if (s.startsWith('.')) s = '0' + s;
    v = Number(s);
  }
  if (m[2]) {
    const exp = 'KMGTP'.indexOf(m[2][0]!) + 1;
    v *= m[2].endsWith('i') ? Math.pow(1024, exp) : Math.pow(1000, exp);
    return { k: 'num', v: Math.round(v), int: true };
  }
  return { k: 'num', v, int: !t.float };
}

// ---------------------------------------------------------------------------
// Values

type Kind = 'null' | 'bool' | 'int' | 'float' | 'string' | 'bytes' | 'struct' | 'list';
type Check = { op: string; v: V };
type V =
  | { k: 'top' }
  | { k: 'bottom'; msg: string }
  | { k: 'null' }
  | { k: 'bool'; v: boolean }
  | { k: 'num'; v: number; int: boolean }
  | { k: 'str'; v: string }
  | { k: 'bytes'; v: string }
  | { k: 'constraint'; kinds: Set<Kind>; checks: Check[]; label: string }
  | { k: 'struct'; s: StructInst }
  | { k: 'list'; items: V[]; tail?: V }
  | { k: 'disj'; alts: Alt[] }
  | { k: 'builtin'; name: string; f: (args: V[], ev: Evaluator) => V };
/** A disjunct: a value and whether it is marked default (`*`). */
type Alt = { v: V; def: boolean };

const TOP: V = { k: 'top' };
const ALL_KINDS: Kind[] = ['null', 'bool', 'int', 'float', 'string', 'bytes', 'struct', 'list'];
/** The table's own entry for a name (never one inherited from Object.prototype). */
function own<T>(table: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

const TYPES: Record<string, Kind[]> = {
  int: ['int'], float: ['float'], number: ['int', 'float'], string: ['string'], bytes: ['bytes'], bool: ['bool'],
};

function bottom(msg: string): V {
  return { k: 'bottom', msg };
}

/**
 * An error value whose message is written when it is read: a conflict between two disjuncts is
 * usually dropped, and spelling out two long strings for each pair would cost more than the pair.
 */
function lazyBottom(message: () => string): V {
  let msg: string | undefined;
  return {
    k: 'bottom',
    get msg(): string {
      return (msg ??= message());
    },
  };
}

function kindOf(v: V): Kind | undefined {
  switch (v.k) {
    case 'null': return 'null';
    case 'bool': return 'bool';
    case 'num': return v.int ? 'int' : 'float';
    case 'str': return 'string';
    case 'bytes': return 'bytes';
    case 'struct': return 'struct';
    case 'list': return 'list';
  }
  return undefined;
}

function show(v: V): string {
  switch (v.k) {
    case 'top': return '_';
    case 'bottom': return '_|_';
    case 'null': return 'null';
    case 'bool': return String(v.v);
    case 'num': return fmtNum(v);
    case 'str': return JSON.stringify(v.v);
    case 'bytes': return `'${v.v}'`;
    case 'constraint': return v.label;
    case 'struct': return '{...}';
    case 'list': return '[...]';
    case 'disj': return v.alts.map((a) => (a.def ? '*' : '') + show(a.v)).join(' | ');
    case 'builtin': return v.name;
  }
}

function fmtNum(v: { v: number; int: boolean }): string {
  if (v.int) return Number.isSafeInteger(v.v) ? String(v.v) : BigInt(Math.round(v.v)).toString();
  const s = String(v.v);
  return /[.eE]/.test(s) || !Number.isFinite(v.v) ? s : s + '.0';
}

interface Conj {
  x: Node;
  env: Env | undefined; // env outside the struct literal the conjunct came from
  closed?: boolean; // came from a definition: struct values it yields are closed
}
type Env = { scope?: StructInst; vars?: Map<string, V | (() => V)>; parent?: Env };

class StructInst {
  fields = new Map<string, { conjs: (Conj | V)[]; opt: '' | '?' | '!' }>();
  lets: { name: string; x: Node; env: Env | undefined }[] = [];
  comps: { d: Decl & { k: 'comp' }; env: Env | undefined }[] = [];
  embeds: { x: Node; env: Env | undefined }[] = [];
  patterns: { alias?: string; pat: Node; value: Node; env: Env | undefined }[] = [];
  /** Closed origins (definitions): every regular field must be in each set. */
  allowed: Set<string>[] = [];
  open = false; // has `...`
  closed = false;
  private cache = new Map<string, V>();
  private busy = new Set<string>();
  expanded = false;
  private letCache = new Map<string, V>();
  constructor(public ev: Evaluator) {}

  addField(name: string, c: Conj | V, opt: '' | '?' | '!') {
    const f = this.fields.get(name);
    if (f) {
      f.conjs.push(c);
      if (opt === '' || (opt === '!' && f.opt === '?')) f.opt = opt === '!' ? '!' : f.opt === '!' ? '!' : '';
      if (opt === '') f.opt = f.opt === '!' ? '!' : '';
    } else this.fields.set(name, { conjs: [c], opt });
  }

  /** This struct as a definition makes it: closed, recursively. */
  closedCopy(): StructInst {
    this.expand();
    const s = new StructInst(this.ev);
    for (const [k, f] of this.fields) {
      for (const c of f.conjs) s.addField(k, 'x' in c && 'env' in c ? { ...(c as Conj), closed: true } : closeValue(c as V), f.opt);
    }
    s.lets = this.lets;
    s.patterns = this.patterns;
    s.embedded = this.embedded;
    s.expanded = true;
    s.open = this.open;
    s.allowed = [...this.allowed];
    if (!this.open && this.patterns.length === 0) s.allowed.push(new Set(this.fields.keys()));
    return s;
  }

  merge(other: StructInst): StructInst {
    const s = new StructInst(this.ev);
    s.allowed = [...this.allowed, ...other.allowed];
    let copied = 0;
    for (const src of [this, other]) {
      src.expand();
      for (const [k, f] of src.fields) {
        for (const c of f.conjs) s.addField(k, c, f.opt);
        copied += f.conjs.length;
      }
      s.lets.push(...src.lets);
      s.patterns.push(...src.patterns);
      copied += src.lets.length + src.patterns.length;
    }
    s.closed = this.closed || other.closed;
    // a struct unified with each disjunct of a disjunction: its copies are disjunction work
    if (this.ev.inDisjunction) this.ev.spend(copied);
    return s;
  }

  innerEnv(env: Env | undefined): Env {
    return { scope: this, parent: env };
  }

  /** Expand embeddings and comprehensions into plain fields (once). */
  expand(): void {
    if (this.expanded) return;
    this.expanded = true;
    for (const e of this.embeds) {
      const v = this.ev.eval(e.x, this.innerEnv(e.env));
      if (v.k === 'struct') {
        v.s.expand();
        for (const [k, f] of v.s.fields) for (const c of f.conjs) this.addField(k, c, f.opt);
      } else if (v.k !== 'top') this.embedded = this.embedded ? this.ev.unify(this.embedded, v) : v;
    }
    for (const { d, env } of this.comps) {
      this.ev.comprehend(d.clauses, 0, this.innerEnv(env), (e) => {
        const body = this.ev.eval(d.body, e);
        if (body.k === 'struct') {
          body.s.expand();
          for (const [k, f] of body.s.fields) for (const c of f.conjs) this.addField(k, c, f.opt);
        }
      });
    }
  }
  embedded: V | undefined;

  has(name: string): boolean {
    this.expand();
    return this.fields.has(name);
  }

  get(name: string): V {
    this.expand();
    const c = this.cache.get(name);
    if (c) return c;
    const f = this.fields.get(name);
    if (!f) return bottom(`undefined field: ${name}`);
    if (!name.startsWith('#') && !name.startsWith('_') && this.allowed.some((set) => !set.has(name))) {
      const b = bottom('field not allowed');
      this.cache.set(name, b);
      return b;
    }
    if (this.busy.has(name)) return TOP; // structural cycle: treat as unknown
    this.busy.add(name);
    let v: V = TOP;
    try {
      for (const cj of f.conjs) {
        let cv = 'x' in cj && 'env' in cj ? this.ev.eval((cj as Conj).x, this.innerEnv((cj as Conj).env)) : (cj as V);
        if ('closed' in cj && (cj as Conj).closed) cv = closeValue(cv);
        v = this.ev.unify(v, cv);
      }
      if (!name.startsWith('#') && !name.startsWith('_')) {
        for (const p of this.patterns) {
          const pv = this.ev.eval(p.pat, this.innerEnv(p.env));
          if (this.ev.unify(pv, { k: 'str', v: name }).k === 'bottom') continue;
          const penv: Env = p.alias ? { vars: new Map([[p.alias, { k: 'str', v: name } as V]]), parent: p.env } : p.env ?? {};
          v = this.ev.unify(v, this.ev.eval(p.value, this.innerEnv(penv)));
        }
      }
    } finally {
      this.busy.delete(name);
    }
    this.cache.set(name, v);
    return v;
  }

  getLet(name: string): V | undefined {
    const l = [...this.lets].reverse().find((x) => x.name === name);
    if (!l) return undefined;
    const c = this.letCache.get(name);
    if (c) return c;
    const v = this.ev.eval(l.x, this.innerEnv(l.env));
    this.letCache.set(name, v);
    return v;
  }
}

/**
 * A key equal for equal scalar values, bounds and types (the same kind, value and label), so that
 * duplicates can be merged; undefined for structs, lists and the like, merged only when they are the
 * same value object.
 */
function altKey(v: V): string | undefined {
  switch (v.k) {
    case 'top': return '_';
    case 'null': return 'n';
    case 'bool': return v.v ? 'T' : 'F';
    case 'num': return (v.int ? 'i' : 'f') + (Object.is(v.v, -0) ? '-0' : String(v.v));
    case 'str': return 's' + v.v;
    case 'bytes': return 'y' + v.v;
    case 'constraint': {
      let key = 'c' + [...v.kinds].sort().join(',') + '|' + v.label.length + ':' + v.label;
      for (const ch of v.checks) {
        const k = altKey(ch.v);
        if (k === undefined) return undefined;
        key += '|' + ch.op + k.length + ':' + k;
      }
      return key;
    }
  }
  return undefined;
}

/**
 * The disjuncts of a disjunction being built, in order of first appearance: a duplicate is merged
 * into the first (marked default if either was), and there are at most MAX_DISJUNCTS. Merging
 * keeps the set of values and the set of defaults, which is all a disjunction's meaning depends on.
 */
class Disjuncts {
  readonly alts: Alt[] = [];
  private byKey = new Map<string, Alt>();
  private byValue = new Map<V, Alt>();
  constructor(private ev: Evaluator) {}

  add(v: V, def: boolean): void {
    this.ev.spend(1);
    const key = altKey(v);
    const prev = key !== undefined ? this.byKey.get(key) : this.byValue.get(v);
    if (prev) {
      if (def) prev.def = true;
      return;
    }
    if (this.alts.length >= MAX_DISJUNCTS) {
      throw new CueError(`disjunction of more than ${MAX_DISJUNCTS} disjuncts (the evaluator's limit)`);
    }
    const alt = { v, def };
    this.alts.push(alt);
    if (key !== undefined) this.byKey.set(key, alt);
    else this.byValue.set(v, alt);
  }
}

function textLength(v: V): number {
  return v.k === 'str' || v.k === 'bytes' ? v.v.length : 0;
}

function closeValue(v: V): V {
  if (v.k === 'struct') return { k: 'struct', s: v.s.closedCopy() };
  if (v.k === 'disj') return { k: 'disj', alts: v.alts.map((a) => ({ v: closeValue(a.v), def: a.def })) };
  return v;
}

// ---------------------------------------------------------------------------
// Evaluator

class Evaluator {
  /** Disjunction work done so far (shared with the evaluators builtins make). */
  private work: { steps: number };
  /** resolveDefault's answer for each disjunction it was asked about */
  private defaults = new WeakMap<V, V>();
  /** > 0 while the disjuncts of two disjunctions are unified pair by pair */
  inDisjunction = 0;
  /** structs and lists being exported (concrete) */
  private exportDepth = 0;
  constructor(parent?: Evaluator) {
    this.work = parent ? parent.work : { steps: 0 };
  }

  /** Count disjunction work; past MAX_DISJUNCTION_WORK the evaluation stops. */
  spend(steps: number): void {
    this.work.steps += steps;
    if (this.work.steps > MAX_DISJUNCTION_WORK) {
      throw new CueError(`disjunctions take more than ${MAX_DISJUNCTION_WORK} steps to evaluate (the evaluator's limit)`);
    }
  }

  unify(a: V, b: V): V {
    if (a.k === 'bottom') return a;
    if (b.k === 'bottom') return b;
    if (a.k === 'top') return b;
    if (b.k === 'top') return a;
    if (a.k === 'disj' || b.k === 'disj') return this.unifyDisj(a, b);
    if (a.k === 'constraint' && b.k === 'constraint') {
      const kinds = new Set([...a.kinds].filter((x) => b.kinds.has(x)));
      if (kinds.size === 0) return lazyBottom(() => `conflicting values ${b.label} and ${a.label} (mismatched types)`);
      return { k: 'constraint', kinds, checks: [...a.checks, ...b.checks], label: `${a.label} & ${b.label}` };
    }
    if (a.k === 'constraint') return this.applyConstraint(a, b);
    if (b.k === 'constraint') return this.applyConstraint(b, a);
    if (a.k === 'struct' && b.k === 'struct') return { k: 'struct', s: a.s.merge(b.s) };
    if (a.k === 'list' && b.k === 'list') return this.unifyLists(a, b);
    if (a.k === 'num' && b.k === 'num') {
      if (a.v !== b.v) return lazyBottom(() => `conflicting values ${show(b)} and ${show(a)}`);
      return a.int && b.int ? a : a.int !== b.int ? lazyBottom(() => `conflicting values ${show(b)} and ${show(a)} (mismatched types int and float)`) : a;
    }
    if (a.k === b.k && (a.k === 'str' || a.k === 'bytes' || a.k === 'bool')) {
      if ((a as { v: unknown }).v !== (b as { v: unknown }).v) return lazyBottom(() => `conflicting values ${show(b)} and ${show(a)}`);
      return a;
    }
    if (a.k === 'null' && b.k === 'null') return a;
    return lazyBottom(() => `conflicting values ${show(b)} and ${show(a)} (mismatched types ${kindOf(b)} and ${kindOf(a)})`);
  }

  unifyLists(a: V & { k: 'list' }, b: V & { k: 'list' }): V {
    const n = Math.max(a.items.length, b.items.length);
    if (this.inDisjunction) this.spend(n);
    if ((a.items.length < n && !a.tail) || (b.items.length < n && !b.tail)) {
      return bottom(`incompatible list lengths (${a.items.length} and ${b.items.length})`);
    }
    const items: V[] = [];
    for (let i = 0; i < n; i++) {
      const x = i < a.items.length ? a.items[i]! : a.tail!;
      const y = i < b.items.length ? b.items[i]! : b.tail!;
      const u = this.unify(x, y);
      if (u.k === 'bottom') return u;
      items.push(u);
    }
    const tail = a.tail && b.tail ? this.unify(a.tail, b.tail) : undefined;
    return { k: 'list', items, tail };
  }

  unifyDisj(a: V, b: V): V {
    const altsA = a.k === 'disj' ? a.alts : [{ v: a, def: false }];
    const altsB = b.k === 'disj' ? b.alts : [{ v: b, def: false }];
    const anyDefA = altsA.some((x) => x.def);
    const anyDefB = altsB.some((x) => x.def);
    const out = new Disjuncts(this);
    this.inDisjunction++;
    try {
      for (const x of altsA) {
        for (const y of altsB) {
          // two long strings compare in time of their length
          this.spend(1 + (Math.min(textLength(x.v), textLength(y.v)) >> 8));
          const u = this.unify(x.v, y.v);
          if (u.k === 'bottom') continue;
          // struct fields are lazy: a disjunct whose fields conflict is ruled out here, as cue does
          if ((u.k === 'struct' || u.k === 'list') && this.conflicts(u, 0)) continue;
          out.add(u, (anyDefA ? x.def : true) && (anyDefB ? y.def : true) && (anyDefA || anyDefB));
        }
      }
    } finally {
      this.inDisjunction--;
    }
    const alts = out.alts;
    if (alts.length === 0) return bottom(`empty disjunction: ${show(a)} & ${show(b)}`);
    if (alts.length === 1) return alts[0]!.v;
    return { k: 'disj', alts };
  }

  /**
   * Whether a struct or list made by unifying two disjuncts holds a conflict in a regular field
   * or an item, at any depth: such a disjunct is not a value (cue eliminates it). A reference to
   * a field not defined yet is incomplete, not a conflict, and keeps the disjunct; definitions
   * (#) and optional fields are checked when they are used. Each field read is disjunction work.
   */
  conflicts(v: V, depth: number): boolean {
    if (depth >= MAX_DEPTH) throw new CueError(DEPTH_REASON);
    if (v.k === 'bottom') return !v.msg.startsWith('undefined field');
    if (v.k === 'list') {
      this.spend(v.items.length);
      return v.items.some((item) => this.conflicts(item, depth + 1));
    }
    if (v.k !== 'struct') return false;
    const s = v.s;
    s.expand();
    if (s.embedded?.k === 'bottom' && this.conflicts(s.embedded, depth + 1)) return true;
    for (const [name, f] of s.fields) {
      if (f.opt === '?' || name.startsWith('#')) continue;
      this.spend(1);
      if (this.conflicts(s.get(name), depth + 1)) return true;
    }
    return false;
  }

  applyConstraint(c: V & { k: 'constraint' }, v: V): V {
    if (v.k === 'struct' || v.k === 'list') {
      return c.kinds.has(v.k) ? v : lazyBottom(() => `conflicting values ${c.label} and ${show(v)} (mismatched types)`);
    }
    const kind = kindOf(v);
    if (!kind) return lazyBottom(() => `cannot unify ${c.label} and ${show(v)}`);
    if (!c.kinds.has(kind)) {
      // int literal against float type: CUE keeps 1 as int, float accepts only floats
      return lazyBottom(() => `conflicting values ${c.label} and ${show(v)} (mismatched types ${c.label} and ${kind})`);
    }
    for (const ch of c.checks) {
      if (!this.check(ch, v)) return lazyBottom(() => `invalid value ${show(v)} (out of bound ${ch.op}${show(ch.v)})`);
    }
    return v;
  }

  check(ch: Check, v: V): boolean {
    const x = v as { v: unknown };
    const y = ch.v as { v: unknown };
    switch (ch.op) {
      case '<': return (x.v as number) < (y.v as number);
      case '<=': return (x.v as number) <= (y.v as number);
      case '>': return (x.v as number) > (y.v as number);
      case '>=': return (x.v as number) >= (y.v as number);
      case '!=': return !this.equal(v, ch.v);
      case '=~':
      case '!~':
        // a regular expression runs in time of the string's length, per disjunct pair
        if (this.inDisjunction) this.spend(1 + ((x.v as string).length >> 4));
        return reMatch(y.v as string, x.v as string) === (ch.op === '=~');
    }
    return true;
  }

  equal(a: V, b: V): boolean {
    const ca = this.concrete(a, false);
    const cb = this.concrete(b, false);
    return JSON.stringify(ca) === JSON.stringify(cb);
  }

  /** The default or only value of a disjunction. */
  resolveDefault(v: V): V {
    if (v.k !== 'disj') return v;
    const known = this.defaults.get(v);
    if (known) return known;
    this.spend(v.alts.length);
    const defs = v.alts.filter((a) => a.def);
    const pick = defs.length ? defs : v.alts;
    let r: V = v;
    if (pick.length === 1) r = pick[0]!.v;
    else {
      // several defaults (or no default and several disjuncts) that are all the same value:
      // the first's JSON is made once
      let first: string | undefined;
      const same = pick.every((p) => {
        if (!this.isConcrete(p.v)) return false;
        const json = JSON.stringify(this.concrete(p.v, false));
        first ??= json;
        return json === first;
      });
      if (same) r = pick[0]!.v;
    }
    this.defaults.set(v, r);
    return r;
  }

  isConcrete(v: V): boolean {
    return ['null', 'bool', 'num', 'str', 'bytes', 'struct', 'list'].includes(v.k);
  }

  env(env: Env | undefined, name: string): V | undefined {
    for (let e = env; e; e = e.parent) {
      if (e.vars?.has(name)) {
        const x = e.vars.get(name)!;
        return typeof x === 'function' ? x() : x;
      }
      if (e.scope) {
        if (e.scope.has(name)) return name.startsWith('#') ? closeValue(e.scope.get(name)) : e.scope.get(name);
        const l = e.scope.getLet(name);
        if (l) return l;
      }
    }
    return undefined;
  }

  eval(n: Node, env: Env | undefined): V {
    switch (n.k) {
      case 'lit':
        return n.v;
      case 'interp': {
        let s = '';
        for (const p of n.parts) {
          if (typeof p === 'string') s += p;
          else {
            const v = this.resolveDefault(this.eval(p, env));
            if (v.k === 'str' || v.k === 'bytes') s += v.v;
            else if (v.k === 'num') s += fmtNum(v);
            else if (v.k === 'bool') s += String(v.v);
            else if (v.k === 'null') s += 'null';
            else if (v.k === 'bottom') return v;
            else return { k: 'constraint', kinds: new Set(['string']), checks: [], label: 'string (incomplete interpolation)' };
          }
        }
        return { k: n.bytes ? 'bytes' : 'str', v: s };
      }
      case 'ref': {
        const v = this.env(env, n.name);
        if (v !== undefined) return v;
        // own properties only: a name such as __proto__ or constructor is no predeclared identifier
        const types = own(TYPES, n.name);
        if (types) return { k: 'constraint', kinds: new Set(types), checks: [], label: n.name };
        if (n.name === 'null') return { k: 'null' };
        const b = own(BUILTINS, n.name);
        if (b) return { k: 'builtin', name: n.name, f: b };
        if (own(PACKAGES, n.name)) return { k: 'builtin', name: n.name, f: () => bottom('package used as value') };
        throw new CueError(`reference "${n.name}" not found`, n.pos);
      }
      case 'sel': {
        if (n.x.k === 'ref' && own(PACKAGES, n.x.name) && this.env(env, n.x.name) === undefined) {
          const f = own(own(PACKAGES, n.x.name)!, n.name);
          if (!f) throw new CueError(`undefined: ${n.x.name}.${n.name}`, n.pos);
          return { k: 'builtin', name: `${n.x.name}.${n.name}`, f };
        }
        const x = this.resolveDefault(this.eval(n.x, env));
        if (x.k === 'bottom') return x;
        if (x.k !== 'struct') return bottom(`invalid selector ${n.name}: not a struct (${show(x)})`);
        if (!x.s.has(n.name)) return bottom(`undefined field: ${n.name}`);
        return x.s.get(n.name);
      }
      case 'idx': {
        const x = this.resolveDefault(this.eval(n.x, env));
        const i = this.resolveDefault(this.eval(n.i, env));
        if (x.k === 'bottom') return x;
        if (x.k === 'list' && i.k === 'num') {
          if (i.v < 0 || i.v >= x.items.length) return bottom(`index out of range [${i.v}] with length ${x.items.length}`);
          return x.items[i.v]!;
        }
        if (x.k === 'struct' && i.k === 'str') return x.s.has(i.v) ? x.s.get(i.v) : bottom(`undefined field: ${i.v}`);
        if (x.k === 'str' && i.k === 'num') return { k: 'str', v: Array.from(x.v)[i.v] ?? '' };
        return bottom(`invalid index ${show(i)} of ${show(x)}`);
      }
      case 'call': {
        const f = this.eval(n.fn, env);
        if (f.k !== 'builtin') throw new CueError(`cannot call non-function ${show(f)}`, n.pos);
        const args = n.args.map((a) => this.resolveDefault(this.eval(a, env)));
        const bad = args.find((a) => a.k === 'bottom');
        if (bad) return bad;
        return f.f(args, this);
      }
      case 'un': {
        if (n.op === '*') {
          const v = this.eval(n.x, env);
          return { k: 'disj', alts: [{ v, def: true }] };
        }
        const v = this.resolveDefault(this.eval(n.x, env));
        if (['<', '<=', '>', '>=', '!=', '=~', '!~'].includes(n.op)) {
          const kinds: Kind[] = n.op === '=~' || n.op === '!~' ? ['string', 'bytes'] : n.op === '!=' ? ALL_KINDS : v.k === 'str' ? ['string'] : ['int', 'float'];
          return { k: 'constraint', kinds: new Set(kinds), checks: [{ op: n.op, v }], label: n.op + show(v) };
        }
        if (n.op === '!') return v.k === 'bool' ? { k: 'bool', v: !v.v } : this.incomplete(v, '!');
        if (v.k === 'num') return { k: 'num', v: n.op === '-' ? -v.v : v.v, int: v.int };
        return this.incomplete(v, n.op);
      }
      case 'bin':
        return this.binop(n, env);
      case 'struct': {
        const s = new StructInst(this);
        for (const d of n.decls) {
          if (d.k === 'field') {
            if (d.label.pattern) {
              s.patterns.push({ alias: d.label.pattern.alias, pat: d.label.pattern.x, value: d.value, env });
              continue;
            }
            let name: string;
            if (typeof d.label.name === 'string') name = d.label.name;
            else {
              const lv = this.resolveDefault(this.eval(d.label.name, s.innerEnv(env)));
              if (lv.k !== 'str') throw new CueError(`invalid label ${show(lv)}`, d.pos);
              name = lv.v;
            }
            s.addField(name, { x: d.value, env }, d.label.opt);
          } else if (d.k === 'let') s.lets.push({ name: d.name, x: d.x, env });
          else if (d.k === 'comp') s.comps.push({ d, env });
          else if (d.k === 'embed') s.embeds.push({ x: d.x, env });
          else if (d.k === 'ellipsis') s.open = true;
        }
        if (n.decls.some((d) => d.k === 'embed')) {
          s.expand();
          if (s.embedded !== undefined && s.fields.size === 0) return s.embedded;
        }
        return { k: 'struct', s };
      }
      case 'list': {
        if (n.comp) {
          const items: V[] = [];
          this.comprehend(n.comp.clauses, 0, env, (e) => items.push(this.eval(n.comp!.body, e)));
          return { k: 'list', items };
        }
        return { k: 'list', items: n.items.map((x) => this.eval(x, env)), tail: n.tail ? this.eval(n.tail, env) : undefined };
      }
    }
  }

  incomplete(v: V, op: string): V {
    if (v.k === 'bottom') return v;
    return { k: 'constraint', kinds: new Set(ALL_KINDS), checks: [], label: `${op}(${show(v)})` };
  }

  comprehend(clauses: Clause[], i: number, env: Env | undefined, emit: (e: Env | undefined) => void): void {
    if (i >= clauses.length) {
      emit(env);
      return;
    }
    const c = clauses[i]!;
    if (c.k === 'if') {
      const v = this.resolveDefault(this.eval(c.cond, env));
      if (v.k === 'bottom') throw new CueError(v.msg);
      if (v.k !== 'bool') throw new CueError(`cannot use ${show(v)} as type bool in if clause`);
      if (v.v) this.comprehend(clauses, i + 1, env, emit);
      return;
    }
    if (c.k === 'let') {
      const v = this.eval(c.x, env);
      this.comprehend(clauses, i + 1, { vars: new Map([[c.name, v]]), parent: env }, emit);
      return;
    }
    const src = this.resolveDefault(this.eval(c.src, env));
    if (src.k === 'list') {
      src.items.forEach((item, idx) => {
        const vars = new Map<string, V>([[c.val, item]]);
        if (c.key) vars.set(c.key, { k: 'num', v: idx, int: true });
        this.comprehend(clauses, i + 1, { vars, parent: env }, emit);
      });
    } else if (src.k === 'struct') {
      src.s.expand();
      for (const [k, f] of src.s.fields) {
        if (k.startsWith('#') || k.startsWith('_') || f.opt !== '') continue;
        const vars = new Map<string, V>([[c.val, src.s.get(k)]]);
        if (c.key) vars.set(c.key, { k: 'str', v: k });
        this.comprehend(clauses, i + 1, { vars, parent: env }, emit);
      }
    } else if (src.k === 'bottom') throw new CueError(src.msg);
    else throw new CueError(`cannot range over ${show(src)}`);
  }

  binop(n: Node & { k: 'bin' }, env: Env | undefined): V {
    if (n.op === '&' || n.op === '|') {
      // `a & b & c …` and `a | b | c …` parse as a tree nested on the left: its operands are
      // taken from left to right in a loop (a recursion per operand would run out of stack)
      const operands: Node[] = [];
      let x: Node = n;
      for (; x.k === 'bin' && x.op === n.op; x = x.l) operands.push(x.r);
      operands.push(x);
      operands.reverse();
      if (n.op === '&') {
        let v = this.eval(operands[0]!, env);
        for (let i = 1; i < operands.length; i++) v = this.unify(v, this.eval(operands[i]!, env));
        return v;
      }
      const out = new Disjuncts(this);
      for (const o of operands) {
        const v = this.eval(o, env);
        if (v.k === 'disj') {
          for (const a of v.alts) if (a.v.k !== 'bottom') out.add(a.v, a.def);
        } else if (v.k !== 'bottom') out.add(v, false);
      }
      const alts = out.alts;
      if (alts.length === 0) return bottom('empty disjunction');
      if (alts.length === 1 && !alts[0]!.def) return alts[0]!.v;
      return { k: 'disj', alts };
    }
    const l = this.resolveDefault(this.eval(n.l, env));
    const r = this.resolveDefault(this.eval(n.r, env));
    if (l.k === 'bottom') return l;
    if (r.k === 'bottom') return r;
    const num = (x: V) => (x.k === 'num' ? x : undefined);
    switch (n.op) {
      case '&&':
      case '||':
        if (l.k !== 'bool' || r.k !== 'bool') return this.incomplete(l.k !== 'bool' ? l : r, n.op);
        return { k: 'bool', v: n.op === '&&' ? l.v && r.v : l.v || r.v };
      case '==':
      case '!=': {
        if (!this.isConcrete(l) || !this.isConcrete(r)) return this.incomplete(!this.isConcrete(l) ? l : r, n.op);
        const eq = l.k === 'num' && r.k === 'num' ? l.v === r.v : this.equal(l, r);
        return { k: 'bool', v: n.op === '==' ? eq : !eq };
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if ((l.k === 'num' && r.k === 'num') || (l.k === 'str' && r.k === 'str')) {
          const a = l.v as number | string;
          const b = r.v as number | string;
          const res = n.op === '<' ? a < b : n.op === '<=' ? a <= b : n.op === '>' ? a > b : a >= b;
          return { k: 'bool', v: res };
        }
        return this.incomplete(l.k === 'num' || l.k === 'str' ? r : l, n.op);
      }
      case '=~':
      case '!~':
        if (l.k === 'str' && r.k === 'str') return { k: 'bool', v: reMatch(r.v, l.v, n.pos) === (n.op === '=~') };
        return this.incomplete(l.k === 'str' ? r : l, n.op);
      case '+':
        if (l.k === 'str' && r.k === 'str') return { k: 'str', v: l.v + r.v };
        if (l.k === 'bytes' && r.k === 'bytes') return { k: 'bytes', v: l.v + r.v };
        if (l.k === 'list' && r.k === 'list') return { k: 'list', items: [...l.items, ...r.items] };
      // falls through
      case '-':
      case '*':
      case '/': {
        if (n.op === '*' && l.k === 'str' && r.k === 'num') return { k: 'str', v: l.v.repeat(r.v) };
        if (n.op === '*' && l.k === 'num' && r.k === 'str') return { k: 'str', v: r.v.repeat(l.v) };
        const a = num(l);
        const b = num(r);
        if (!a || !b) return this.incomplete(!a ? l : r, n.op);
        if (n.op === '/') {
          if (b.v === 0) return bottom('division by zero');
          return { k: 'num', v: a.v / b.v, int: false };
        }
        const v = n.op === '+' ? a.v + b.v : n.op === '-' ? a.v - b.v : a.v * b.v;
        return { k: 'num', v, int: a.int && b.int };
      }
      case 'div':
      case 'mod':
      case 'quo':
      case 'rem': {
        const a = num(l);
        const b = num(r);
        if (!a || !b) return this.incomplete(!a ? l : r, n.op);
        return intOp(n.op, a.v, b.v);
      }
    }
    throw new CueError(`unsupported operator ${n.op}`, n.pos);
  }

  /** Export: concrete JSON or an error naming the path. */
  concrete(v: V, strict: boolean, path?: PathLink): unknown {
    v = this.resolveDefault(v);
    if (v.k !== 'struct' && v.k !== 'list') return this.exportValue(v, strict, path);
    // a value nested deeper than a document may be (a definition that contains itself, a
    // structural cycle, is infinitely deep) is refused here, before the stack runs out
    if (this.exportDepth >= MAX_DEPTH) throw new CueError(DEPTH_REASON);
    this.exportDepth++;
    try {
      return this.exportValue(v, strict, path);
    } finally {
      this.exportDepth--;
    }
  }

  private exportValue(v: V, strict: boolean, path?: PathLink): unknown {
    // the path is a linked list, spelled out only for a message: deep values stay linear
    const where = () => (path ? pathText(path) + ': ' : '');
    switch (v.k) {
      case 'null':
        return null;
      case 'bool':
      case 'str':
        return v.v;
      case 'bytes':
        return Buffer.from(v.v, 'latin1').toString('base64');
      case 'num':
        // conftest reads CUE's JSON back into Go float64s: a number beyond their range fails
        if (typeof v.v === 'number' && !Number.isFinite(v.v)) {
          throw new CueError(`json: cannot unmarshal number ${v.v < 0 ? '-' : ''}Inf (beyond float64's range) into Go value of type float64`);
        }
        return v.v;
      case 'list':
        return v.items.map((x, i) => this.concrete(x, strict, { up: path, key: String(i) }));
      case 'struct': {
        const s = v.s;
        s.expand();
        if (s.embedded !== undefined && s.fields.size === 0) return this.concrete(s.embedded, strict, path);
        const out: Record<string, unknown> = {};
        for (const [k, f] of s.fields) {
          if (k.startsWith('#') || k.startsWith('_')) continue;
          if (f.opt === '?') continue;
          const fv = s.get(k);
          if (f.opt === '!') {
            throw new CueError(`${pathText({ up: path, key: k })}: field is required but not present`);
          }
          const cv = this.concrete(fv, strict, { up: path, key: k });
          if (k === '__proto__') Object.defineProperty(out, k, { value: cv, enumerable: true, writable: true, configurable: true });
          else out[k] = cv;
        }
        return out;
      }
      case 'bottom':
        throw new CueError(`${where()}${v.msg}`);
      case 'disj':
        throw new CueError(`${where()}cannot convert incomplete value "${show(v)}" to JSON`);
      default:
        throw new CueError(`${where()}cannot convert incomplete value "${show(v)}" to JSON`);
    }
  }
}

function intOp(op: string, a: number, b: number): V {
  if (b === 0) return bottom('division by zero');
  let v: number;
  if (op === 'quo') v = Math.trunc(a / b);
  else if (op === 'rem') v = a % b;
  else if (op === 'div') v = Math.sign(b) * Math.floor(a / Math.abs(b));
  else v = a - Math.abs(b) * Math.floor(a / Math.abs(b));
  return { k: 'num', v, int: true };
}

// ---------------------------------------------------------------------------
// Builtins

const S = (v: string): V => ({ k: 'str', v });
const I = (v: number): V => ({ k: 'num', v, int: true });
const F = (v: number): V => ({ k: 'num', v, int: Number.isInteger(v) });
const B = (v: boolean): V => ({ k: 'bool', v });
const str = (v: V | undefined, f: string): string => {
  if (!v || (v.k !== 'str' && v.k !== 'bytes')) throw new CueError(`${f}: expected string argument, got ${v ? show(v) : 'nothing'}`);
  return v.v;
};
const nm = (v: V | undefined, f: string): number => {
  if (!v || v.k !== 'num') throw new CueError(`${f}: expected number argument, got ${v ? show(v) : 'nothing'}`);
  return v.v;
};
const lst = (v: V | undefined, f: string): V[] => {
  if (!v || v.k !== 'list') throw new CueError(`${f}: expected list argument, got ${v ? show(v) : 'nothing'}`);
  return v.items;
};

type BuiltinFn = (a: V[], ev: Evaluator) => V;

const BUILTINS: Record<string, BuiltinFn> = {
  len: ([x]) => {
    if (!x) return bottom('len: missing argument');
    if (x.k === 'str') return I(Buffer.byteLength(x.v));
    if (x.k === 'bytes') return I(x.v.length);
    if (x.k === 'list') return I(x.items.length);
    if (x.k === 'struct') {
      x.s.expand();
      return I([...x.s.fields.entries()].filter(([k, f]) => !k.startsWith('#') && !k.startsWith('_') && f.opt === '').length);
    }
    return { k: 'constraint', kinds: new Set(['int']), checks: [], label: 'len(...)' };
  },
  close: ([x]) => x ?? TOP,
  and: ([x], ev) => lst(x, 'and').reduce((a, b) => ev.unify(a, b), TOP),
  or: ([x], ev) => {
    const out = new Disjuncts(ev);
    for (const v of lst(x, 'or')) out.add(v, false);
    return { k: 'disj', alts: out.alts };
  },
  div: ([a, b]) => intOp('div', nm(a, 'div'), nm(b, 'div')),
  mod: ([a, b]) => intOp('mod', nm(a, 'mod'), nm(b, 'mod')),
  quo: ([a, b]) => intOp('quo', nm(a, 'quo'), nm(b, 'quo')),
  rem: ([a, b]) => intOp('rem', nm(a, 'rem'), nm(b, 'rem')),
};

const PACKAGES: Record<string, Record<string, BuiltinFn>> = {
  strings: {
    ToUpper: ([s]) => S(str(s, 'ToUpper').toUpperCase()),
    ToLower: ([s]) => S(str(s, 'ToLower').toLowerCase()),
    ToTitle: ([s]) => S(str(s, 'ToTitle').toUpperCase()),
    Contains: ([s, t]) => B(str(s, 'Contains').includes(str(t, 'Contains'))),
    HasPrefix: ([s, t]) => B(str(s, 'HasPrefix').startsWith(str(t, 'HasPrefix'))),
    HasSuffix: ([s, t]) => B(str(s, 'HasSuffix').endsWith(str(t, 'HasSuffix'))),
    TrimSpace: ([s]) => S(str(s, 'TrimSpace').trim()),
    TrimPrefix: ([s, p]) => {
      const a = str(s, 'TrimPrefix');
      const b = str(p, 'TrimPrefix');
      return S(a.startsWith(b) ? a.slice(b.length) : a);
    },
    TrimSuffix: ([s, p]) => {
      const a = str(s, 'TrimSuffix');
      const b = str(p, 'TrimSuffix');
      return S(b && a.endsWith(b) ? a.slice(0, -b.length) : a);
    },
    Split: ([s, sep]) => ({ k: 'list', items: str(s, 'Split').split(str(sep, 'Split')).map(S) }),
    Join: ([l, sep]) => S(lst(l, 'Join').map((x) => str(x, 'Join')).join(str(sep, 'Join'))),
    Replace: ([s, o, nw, c]) => {
      const count = nm(c, 'Replace');
      let out = str(s, 'Replace');
      const a = str(o, 'Replace');
      const b = str(nw, 'Replace');
      if (count < 0) return S(out.split(a).join(b));
      for (let i = 0; i < count; i++) out = out.replace(a, b);
      return S(out);
    },
    Repeat: ([s, c]) => S(str(s, 'Repeat').repeat(nm(c, 'Repeat'))),
    Index: ([s, t]) => I(str(s, 'Index').indexOf(str(t, 'Index'))),
    Fields: ([s]) => ({ k: 'list', items: str(s, 'Fields').split(/\s+/).filter(Boolean).map(S) }),
    MinRunes: ([n]) => ({ k: 'constraint', kinds: new Set(['string']), checks: [], label: `strings.MinRunes(${nm(n, 'MinRunes')})` }),
    MaxRunes: ([n]) => ({ k: 'constraint', kinds: new Set(['string']), checks: [], label: `strings.MaxRunes(${nm(n, 'MaxRunes')})` }),
  },
  list: {
    Concat: ([l]) => ({ k: 'list', items: lst(l, 'Concat').flatMap((x) => lst(x, 'Concat')) }),
    FlattenN: ([l, d]) => {
      const flat = (xs: V[], depth: number): V[] => xs.flatMap((x) => (x.k === 'list' && depth !== 0 ? flat(x.items, depth - 1) : [x]));
      return { k: 'list', items: flat(lst(l, 'FlattenN'), nm(d, 'FlattenN')) };
    },
    Contains: ([l, v], ev) => B(lst(l, 'Contains').some((x) => ev.equal(x, v!))),
    Sum: ([l]) => F(lst(l, 'Sum').reduce((s, x) => s + nm(x, 'Sum'), 0)),
    Max: ([l]) => F(Math.max(...lst(l, 'Max').map((x) => nm(x, 'Max')))),
    Min: ([l]) => F(Math.min(...lst(l, 'Min').map((x) => nm(x, 'Min')))),
    Range: ([a, b, c]) => {
      const items: V[] = [];
      const step = nm(c, 'Range');
      for (let i = nm(a, 'Range'); step > 0 ? i < nm(b, 'Range') : i > nm(b, 'Range'); i += step) items.push(I(i));
      return { k: 'list', items };
    },
    Reverse: ([l]) => ({ k: 'list', items: [...lst(l, 'Reverse')].reverse() }),
    Slice: ([l, a, b]) => ({ k: 'list', items: lst(l, 'Slice').slice(nm(a, 'Slice'), nm(b, 'Slice')) }),
    Take: ([l, n]) => ({ k: 'list', items: lst(l, 'Take').slice(0, nm(n, 'Take')) }),
    Drop: ([l, n]) => ({ k: 'list', items: lst(l, 'Drop').slice(nm(n, 'Drop')) }),
    SortStrings: ([l]) => ({ k: 'list', items: lst(l, 'SortStrings').map((x) => str(x, 'SortStrings')).sort().map(S) }),
    UniqueItems: () => ({ k: 'constraint', kinds: new Set(['list']), checks: [], label: 'list.UniqueItems()' }),
    MinItems: () => ({ k: 'constraint', kinds: new Set(['list']), checks: [], label: 'list.MinItems()' }),
    MaxItems: () => ({ k: 'constraint', kinds: new Set(['list']), checks: [], label: 'list.MaxItems()' }),
  },
  math: {
    Floor: ([x]) => F(Math.floor(nm(x, 'Floor'))),
    Ceil: ([x]) => F(Math.ceil(nm(x, 'Ceil'))),
    Round: ([x]) => F(Math.round(nm(x, 'Round'))),
    Abs: ([x]) => F(Math.abs(nm(x, 'Abs'))),
    Pow: ([x, y]) => F(Math.pow(nm(x, 'Pow'), nm(y, 'Pow'))),
    Sqrt: ([x]) => F(Math.sqrt(nm(x, 'Sqrt'))),
    Log: ([x]) => F(Math.log(nm(x, 'Log'))),
  },
  strconv: {
    Atoi: ([s]) => I(parseInt(str(s, 'Atoi'), 10)),
    Itoa: ([n]) => S(String(nm(n, 'Itoa'))),
    FormatInt: ([n, b]) => S(nm(n, 'FormatInt').toString(nm(b, 'FormatInt'))),
    ParseFloat: ([s]) => F(Number(str(s, 'ParseFloat'))),
    Quote: ([s]) => S(JSON.stringify(str(s, 'Quote'))),
    ParseBool: ([s]) => B(str(s, 'ParseBool') === 'true'),
  },
};

// ---------------------------------------------------------------------------

/** A path into a value, innermost key last (see Evaluator.concrete). */
interface PathLink {
  up: PathLink | undefined;
  key: string;
}

function pathText(p: PathLink): string {
  const keys: string[] = [];
  for (let q: PathLink | undefined = p; q; q = q.up) keys.push(q.key);
  return keys.reverse().join('.');
}

export function evaluateCue(content: string): unknown {
  const ast = new CueParser(lexCue(content)).file();
  const ev = new Evaluator();
  const v = ev.eval(ast, undefined);
  return ev.concrete(v, true);
}

function parse(content: string, file: string): unknown {
  try {
    return evaluateCue(content);
  } catch (e) {
    if (e instanceof CueError) {
      const where = e.pos >= 0 ? lineColAt(content, e.pos) : {};
      throw new ParseError(e.message, { file, parser: 'cue', ...where });
    }
    throw e;
  }
}

export const cueParser: InputParser = {
  name: 'cue',
  parse,
  // a program can recurse without end: out of stack (even on the large one) is the program's error
  stackExhausted: 'evaluation too deep (cycle?)',
};
