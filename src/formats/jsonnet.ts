/**
 * Jsonnet (`.jsonnet`): the file is evaluated and its JSON result is the
 * input, as conftest does with go-jsonnet.
 *
 * No pure-JavaScript Jsonnet implementation is available on npm, so this is
 * a hand-written interpreter of the language core: literals, text blocks and
 * verbatim strings, locals, functions (default and named arguments),
 * conditionals, all operators (including `%` formatting and `in`), objects
 * with hidden/forced fields, `+:` merging, `self`/`super`/`$`, object and
 * array comprehensions, slices, `assert`, `error`, `import`/`importstr`
 * (relative to the file), and a large part of the standard library (see
 * STD below). Not supported: `tailstrict` (ignored), external variables and
 * top-level arguments (`std.extVar` fails), std functions not listed.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { nodeCrypto } from '../lazy.ts';
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { DEPTH_REASON, MAX_DEPTH, MAX_PROGRAM_STEPS } from './limits.ts';

// ---------------------------------------------------------------------------
// Lexer

type Tok = { t: 'id' | 'num' | 'str' | 'op' | 'kw' | 'eof'; v: string; pos: number };

const KEYWORDS = new Set([
  'assert', 'else', 'error', 'false', 'for', 'function', 'if', 'import', 'importstr', 'importbin',
  'in', 'local', 'null', 'tailstrict', 'then', 'self', 'super', 'true',
]);

class JsonnetError extends Error {
  constructor(message: string, public pos: number, public file?: string) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Evaluation limits

/**
 * go-jsonnet's stack limit (its default MaxStack): at most this many function calls, thunk
 * evaluations (locals, arguments, array elements) and object fields are being evaluated inside
 * each other; one more is `max stack frames exceeded.`, as conftest reports it.
 */
export const JSONNET_MAX_STACK = 500;

/** The state of the running evaluation (evaluation is synchronous: one at a time). */
const ev = { calls: 0, steps: 0 };

/** Enter a stack frame (go-jsonnet's newCall); the caller leaves it with `ev.calls--` in a finally. */
function enterFrame(): void {
  if (ev.calls >= JSONNET_MAX_STACK) throw new JsonnetError('max stack frames exceeded.', 0);
  ev.calls++;
}

/**
 * Count `n` units of work (an evaluated expression, an element a builtin creates or copies):
 * beyond MAX_PROGRAM_STEPS the evaluation stops with a named error instead of running for minutes
 * or exhausting memory (comprehensions over comprehensions, std.range(1, 1e9), doubling arrays).
 */
function spend(n: number): void {
  ev.steps += n;
  if (ev.steps > MAX_PROGRAM_STEPS) throw new JsonnetError(`evaluation exceeds the limit of ${MAX_PROGRAM_STEPS} steps`, 0);
}

/** A number result: go-jsonnet fails on overflow (and on NaN) rather than produce it. */
function finite(n: number, pos = 0): number {
  if (Number.isNaN(n)) throw new JsonnetError('Not a number', pos);
  if (!Number.isFinite(n)) throw new JsonnetError('Overflow', pos);
  return n;
}

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = src.length;
  const fail = (m: string): never => {
    throw new JsonnetError(m, i);
  };
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const e = src.indexOf('*/', i + 2);
      if (e < 0) fail('unterminated comment');
      i = e + 2;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      const w = src.slice(start, i);
      toks.push({ t: KEYWORDS.has(w) ? 'kw' : 'id', v: w, pos: start });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(src.slice(i, i + 400))!;
      i += m[0].length;
      toks.push({ t: 'num', v: m[0], pos: start });
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      let out = '';
      for (;;) {
        if (i >= n) fail('unterminated string');
        const d = src[i]!;
        if (d === c) {
          i++;
          break;
        }
        if (d === '\\') {
          const e = src[i + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\', '/': '/' };
          if (e !== undefined && map[e] !== undefined) {
            out += map[e];
            i += 2;
          } else if (e === 'u') {
            out += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
          } else fail(`unknown escape sequence \\${e}`);
          continue;
        }
        out += d;
        i++;
      }
      toks.push({ t: 'str', v: out, pos: start });
      continue;
    }
    if (c === '@' && (src[i + 1] === '"' || src[i + 1] === "'")) {
      const q = src[i + 1]!;
      i += 2;
      let out = '';
      for (;;) {
        if (i >= n) fail('unterminated string');
        if (src[i] === q) {
          if (src[i + 1] === q) {
            out += q;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        out += src[i++];
      }
      toks.push({ t: 'str', v: out, pos: start });
      continue;
    }
    if (src.startsWith('|||', i)) {
      i += 3;
      const chomp = src[i] === '-';
      if (chomp) i++;
      while (src[i] === ' ' || src[i] === '\t') i++;
      if (src[i] === '\r') i++;
      if (src[i] !== '\n') fail('text block requires a new line after |||');
      i++;
      const indent = /^[ \t]*/.exec(src.slice(i))![0];
      if (indent === '') fail('text block\'s first line must start with whitespace');
      let out = '';
      for (;;) {
        const lineEnd = src.indexOf('\n', i);
        const line = src.slice(i, lineEnd < 0 ? n : lineEnd);
        if (line.startsWith(indent)) {
          out += line.slice(indent.length) + '\n';
          i = lineEnd < 0 ? n : lineEnd + 1;
        } else if (line.trim() === '' && lineEnd >= 0 && !/^[ \t]*\|\|\|/.test(line)) {
          out += '\n';
          i = lineEnd + 1;
        } else {
          const m = /^[ \t]*\|\|\|/.exec(line);
          if (!m) fail('text block not terminated with |||');
          i += m![0].length;
          break;
        }
      }
      toks.push({ t: 'str', v: chomp ? out.replace(/\n$/, '') : out, pos: start });
      continue;
    }
    const ops = [':::', '+:::', '+::', '::', '+:', '<=', '>=', '==', '!=', '&&', '||', '<<', '>>', '...'];
    const op = ops.find((o) => src.startsWith(o, i));
    if (op) {
      toks.push({ t: 'op', v: op, pos: start });
      i += op.length;
      continue;
    }
    if ('{}[](),.;:=+-*/%!~<>&^|$?'.includes(c)) {
      toks.push({ t: 'op', v: c, pos: start });
      i++;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(c)}`);
  }
  toks.push({ t: 'eof', v: '', pos: n });
  return toks;
}

// ---------------------------------------------------------------------------
// AST

type Node =
  | { k: 'lit'; v: unknown; pos: number }
  | { k: 'str'; v: string; pos: number }
  | { k: 'self'; pos: number }
  | { k: 'dollar'; pos: number }
  | { k: 'super'; field: Node; pos: number }
  | { k: 'superin'; field: Node; pos: number }
  | { k: 'var'; name: string; pos: number }
  | { k: 'arr'; items: Node[]; pos: number }
  | { k: 'arrcomp'; body: Node; specs: Spec[]; pos: number }
  | { k: 'obj'; fields: FieldNode[]; locals: Bind[]; asserts: Node[]; pos: number }
  | { k: 'objcomp'; key: Node; value: Node; plus: boolean; locals: Bind[]; specs: Spec[]; pos: number }
  | { k: 'index'; target: Node; index: Node; pos: number }
  | { k: 'slice'; target: Node; a?: Node; b?: Node; c?: Node; pos: number }
  | { k: 'call'; fn: Node; args: Node[]; named: [string, Node][]; pos: number }
  | { k: 'local'; binds: Bind[]; body: Node; pos: number }
  | { k: 'if'; cond: Node; then: Node; else?: Node; pos: number }
  | { k: 'func'; params: Param[]; body: Node; pos: number }
  | { k: 'bin'; op: string; l: Node; r: Node; pos: number }
  | { k: 'un'; op: string; e: Node; pos: number }
  | { k: 'error'; e: Node; pos: number }
  | { k: 'assert'; cond: Node; msg?: Node; body: Node; pos: number }
  | { k: 'import'; path: string; str: boolean; pos: number };

type Spec = { k: 'for'; v: string; e: Node } | { k: 'if'; e: Node };
type Bind = { name: string; body: Node };
type Param = { name: string; def?: Node };
type FieldNode = { name: Node; hide: 0 | 1 | 2; plus: boolean; body: Node; pos: number };

class Parser {
  i = 0;
  /** nesting of expressions (limited to MAX_DEPTH) */
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
  next(): Tok {
    return this.toks[this.i++]!;
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
  expect(v: string): Tok {
    if (!this.is(v)) this.fail(`expected ${v} but got ${this.desc(this.peek())}`);
    return this.next();
  }
  desc(t: Tok): string {
    return t.t === 'eof' ? 'end of file' : t.t === 'str' ? `string ${JSON.stringify(t.v)}` : `"${t.v}"`;
  }
  fail(m: string): never {
    throw new JsonnetError(m, this.peek().pos);
  }
  ident(): string {
    const t = this.next();
    if (t.t !== 'id') {
      this.i--;
      this.fail(`expected identifier but got ${this.desc(t)}`);
    }
    return t.v;
  }

  file(): Node {
    const e = this.expr();
    if (this.peek().t !== 'eof') this.fail(`did not expect: ${this.desc(this.peek())}`);
    return e;
  }

  binds(): Bind[] {
    const out: Bind[] = [];
    do {
      const name = this.ident();
      if (this.eat('(')) {
        const params = this.params();
        this.expect('=');
        out.push({ name, body: { k: 'func', params, body: this.expr(), pos: this.peek().pos } });
      } else {
        this.expect('=');
        out.push({ name, body: this.expr() });
      }
    } while (this.eat(','));
    return out;
  }

  params(): Param[] {
    const ps: Param[] = [];
    while (!this.is(')')) {
      const name = this.ident();
      const p: Param = { name };
      if (this.eat('=')) p.def = this.expr();
      ps.push(p);
      if (!this.eat(',')) break;
    }
    this.expect(')');
    return ps;
  }

  expr(): Node {
    return this.nested(() => this.exprAt());
  }

  private exprAt(): Node {
    const t = this.peek();
    if (t.t === 'kw') {
      switch (t.v) {
        case 'local': {
          this.next();
          const binds = this.binds();
          this.expect(';');
          return { k: 'local', binds, body: this.expr(), pos: t.pos };
        }
        case 'if': {
          this.next();
          const cond = this.expr();
          this.expect('then');
          const then = this.expr();
          const node: Node = { k: 'if', cond, then, pos: t.pos };
          if (this.eat('else')) node.else = this.expr();
          return node;
        }
        case 'function': {
          this.next();
          this.expect('(');
          const params = this.params();
          return { k: 'func', params, body: this.expr(), pos: t.pos };
        }
        case 'assert': {
          this.next();
          const cond = this.expr();
          const msg = this.eat(':') ? this.expr() : undefined;
          this.expect(';');
          return { k: 'assert', cond, msg, body: this.expr(), pos: t.pos };
        }
        case 'error':
          this.next();
          return { k: 'error', e: this.expr(), pos: t.pos };
      }
    }
    return this.binary(0);
  }

  static PREC: string[][] = [
    ['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>=', 'in'], ['<<', '>>'], ['+', '-'], ['*', '/', '%'],
  ];

  binary(level: number): Node {
    if (level >= Parser.PREC.length) return this.unary();
    let l = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if ((t.t === 'op' || t.t === 'kw') && Parser.PREC[level]!.includes(t.v)) {
        // `in super` is handled in unary/postfix
        this.next();
        if (t.v === 'in' && this.is('super')) {
          this.next();
          l = { k: 'superin', field: l, pos: t.pos };
          continue;
        }
        const r = this.binary(level + 1);
        l = { k: 'bin', op: t.v, l, r, pos: t.pos };
      } else return l;
    }
  }

  unary(): Node {
    const t = this.peek();
    if (t.t === 'op' && ['-', '+', '!', '~'].includes(t.v)) {
      this.next();
      return { k: 'un', op: t.v, e: this.nested(() => this.unary()), pos: t.pos };
    }
    return this.postfix(this.primary());
  }

  postfix(e: Node): Node {
    for (;;) {
      const t = this.peek();
      if (this.is('.')) {
        this.next();
        const name = this.ident();
        e = { k: 'index', target: e, index: { k: 'str', v: name, pos: t.pos }, pos: t.pos };
      } else if (this.is('[')) {
        this.next();
        let a: Node | undefined, b: Node | undefined, c: Node | undefined;
        let isSlice = false;
        if (!this.is(':') && !this.is('::')) a = this.expr();
        if (this.eat('::')) {
          isSlice = true;
          if (!this.is(']')) c = this.expr();
        } else if (this.eat(':')) {
          isSlice = true;
          if (!this.is(']') && !this.is(':')) b = this.expr();
          if (this.eat(':') && !this.is(']')) c = this.expr();
        }
        this.expect(']');
        e = isSlice ? { k: 'slice', target: e, a, b, c, pos: t.pos } : { k: 'index', target: e, index: a!, pos: t.pos };
      } else if (this.is('(')) {
        this.next();
        const args: Node[] = [];
        const named: [string, Node][] = [];
        while (!this.is(')')) {
          if (this.peek().t === 'id' && this.is('=', 1)) {
            const name = this.ident();
            this.next();
            named.push([name, this.expr()]);
          } else {
            if (named.length) this.fail('positional argument after a named argument');
            args.push(this.expr());
          }
          if (!this.eat(',')) break;
        }
        this.expect(')');
        this.eat('tailstrict');
        e = { k: 'call', fn: e, args, named, pos: t.pos };
      } else if (this.is('{')) {
        const obj = this.primary();
        e = { k: 'bin', op: '+', l: e, r: obj, pos: t.pos };
      } else return e;
    }
  }

  primary(): Node {
    const t = this.next();
    switch (t.t) {
      case 'num':
        return { k: 'lit', v: Number(t.v), pos: t.pos };
      case 'str':
        return { k: 'str', v: t.v, pos: t.pos };
      case 'id':
        return { k: 'var', name: t.v, pos: t.pos };
      case 'kw':
        switch (t.v) {
          case 'null':
            return { k: 'lit', v: null, pos: t.pos };
          case 'true':
            return { k: 'lit', v: true, pos: t.pos };
          case 'false':
            return { k: 'lit', v: false, pos: t.pos };
          case 'self':
            return { k: 'self', pos: t.pos };
          case 'super': {
            if (this.eat('.')) {
              const name = this.ident();
              return { k: 'super', field: { k: 'str', v: name, pos: t.pos }, pos: t.pos };
            }
            this.expect('[');
            const f = this.expr();
            this.expect(']');
            return { k: 'super', field: f, pos: t.pos };
          }
          case 'import':
          case 'importstr':
          case 'importbin': {
            const p = this.next();
            if (p.t !== 'str') this.fail('computed imports are not allowed');
            return { k: 'import', path: p.v, str: t.v !== 'import', pos: t.pos };
          }
          case 'local':
          case 'if':
          case 'function':
          case 'assert':
          case 'error':
            this.i--;
            return this.expr();
        }
        break;
      case 'op':
        if (t.v === '$') return { k: 'dollar', pos: t.pos };
        if (t.v === '(') {
          const e = this.expr();
          this.expect(')');
          return e;
        }
        if (t.v === '[') return this.array(t.pos);
        if (t.v === '{') return this.object(t.pos);
        break;
    }
    this.i--;
    this.fail(`unexpected: ${this.desc(t)}`);
  }

  array(pos: number): Node {
    const items: Node[] = [];
    if (this.eat(']')) return { k: 'arr', items, pos };
    const first = this.expr();
    if (this.is('for')) {
      const specs = this.specs();
      this.expect(']');
      return { k: 'arrcomp', body: first, specs, pos };
    }
    items.push(first);
    while (this.eat(',')) {
      if (this.is(']')) break;
      items.push(this.expr());
    }
    this.expect(']');
    return { k: 'arr', items, pos };
  }

  specs(): Spec[] {
    const specs: Spec[] = [];
    while (this.is('for') || this.is('if')) {
      if (this.eat('for')) {
        const v = this.ident();
        this.expect('in');
        specs.push({ k: 'for', v, e: this.expr() });
      } else {
        this.next();
        specs.push({ k: 'if', e: this.expr() });
      }
    }
    return specs;
  }

  object(pos: number): Node {
    const fields: FieldNode[] = [];
    const locals: Bind[] = [];
    const asserts: Node[] = [];
    while (!this.is('}')) {
      const t = this.peek();
      if (this.eat('local')) {
        locals.push(...this.binds().slice(0, 1));
      } else if (this.eat('assert')) {
        const cond = this.expr();
        const msg = this.eat(':') ? this.expr() : undefined;
        asserts.push({ k: 'assert', cond, msg, body: { k: 'lit', v: null, pos: t.pos }, pos: t.pos });
      } else {
        let name: Node;
        let computed = false;
        if (t.t === 'id') {
          this.next();
          name = { k: 'str', v: t.v, pos: t.pos };
        } else if (t.t === 'str') {
          this.next();
          name = { k: 'str', v: t.v, pos: t.pos };
        } else if (this.eat('[')) {
          name = this.expr();
          this.expect(']');
          computed = true;
        } else if (t.t === 'kw') {
          this.next();
          name = { k: 'str', v: t.v, pos: t.pos };
        } else this.fail(`unexpected: ${this.desc(t)} while parsing field definition`);
        let params: Param[] | undefined;
        if (this.eat('(')) params = this.params();
        const sep = this.next();
        const seps: Record<string, [0 | 1 | 2, boolean]> = {
          ':': [0, false], '::': [1, false], ':::': [2, false], '+:': [0, true], '+::': [1, true], '+:::': [2, true],
        };
        const s = seps[sep.v];
        if (sep.t !== 'op' || !s) {
          this.i--;
          this.fail(`expected : but got ${this.desc(sep)}`);
        }
        let body = this.expr();
        if (params) body = { k: 'func', params, body, pos: t.pos };
        if (computed && this.is('for')) {
          const specs = this.specs();
          this.eat(',');
          this.expect('}');
          return { k: 'objcomp', key: name, value: body, plus: s[1], locals, specs, pos };
        }
        fields.push({ name, hide: s[0], plus: s[1], body, pos: t.pos });
      }
      if (!this.eat(',')) break;
    }
    this.expect('}');
    return { k: 'obj', fields, locals, asserts, pos };
  }
}

// ---------------------------------------------------------------------------
// Values

type Val = null | boolean | number | string | Val[] | JObj | JFunc | Lazy;
class Lazy {
  private v: Val | undefined;
  private busy = false;
  constructor(private f: () => Val) {}
  get(): Val {
    if (this.v === undefined) {
      if (this.busy) throw new JsonnetError('infinite recursion', 0);
      this.busy = true;
      enterFrame();
      try {
        this.v = force(this.f());
      } finally {
        this.busy = false;
        ev.calls--;
      }
    }
    return this.v;
  }
}
function force(v: Val): Val {
  return v instanceof Lazy ? v.get() : v;
}

interface FieldDef {
  hide: 0 | 1 | 2;
  plus: boolean;
  value: (self: JObj, sup: JObj | null) => Val;
}
interface Layer {
  fields: Map<string, FieldDef>;
  asserts: ((self: JObj, sup: JObj | null) => void)[];
}
class JObj {
  private cache = new Map<string, Val>();
  constructor(public layers: Layer[]) {}

  /** The object made of layers [0, n). */
  prefix(n: number): JObj | null {
    return n <= 0 ? null : new JObj(this.layers.slice(0, n));
  }
  has(name: string): boolean {
    return this.layers.some((l) => l.fields.has(name));
  }
  visible(name: string): boolean {
    let vis = true;
    for (const l of this.layers) {
      const f = l.fields.get(name);
      if (!f) continue;
      if (f.hide === 1) vis = false;
      else if (f.hide === 2) vis = true;
    }
    return vis;
  }
  fieldNames(all: boolean): string[] {
    const names = new Set<string>();
    for (const l of this.layers) for (const k of l.fields.keys()) names.add(k);
    return [...names].filter((n) => all || this.visible(n)).sort();
  }
  get(name: string, self: JObj = this, upto = this.layers.length): Val {
    const cacheable = self === this && upto === this.layers.length;
    if (cacheable && this.cache.has(name)) return this.cache.get(name)!;
    for (let i = upto - 1; i >= 0; i--) {
      const f = this.layers[i]!.fields.get(name);
      if (!f) continue;
      const sup = new SuperView(self, i);
      enterFrame();
      let v: Val;
      try {
        v = force(f.value(self, sup.obj()));
      } finally {
        ev.calls--;
      }
      if (f.plus) {
        const below = this.lookupBelow(name, self, i);
        if (below !== undefined) v = plus(below, v, 0);
      }
      if (cacheable) this.cache.set(name, v);
      return v;
    }
    throw new JsonnetError(`field does not exist: ${name}`, 0);
  }
  lookupBelow(name: string, self: JObj, i: number): Val | undefined {
    for (let j = i - 1; j >= 0; j--) {
      if (this.layers[j]!.fields.has(name)) return this.get(name, self, i);
    }
    return undefined;
  }
  checkAsserts(): void {
    this.layers.forEach((l, i) => l.asserts.forEach((a) => a(this, new SuperView(this, i).obj())));
  }
}

/** `super` inside layer i: fields of layers below i, with `self` still the whole object. */
class SuperView {
  constructor(private self: JObj, private i: number) {}
  obj(): JObj | null {
    if (this.i === 0) return null;
    const view = new JObj(this.self.layers.slice(0, this.i));
    const self = this.self;
    const upto = this.i;
    view.get = (name: string) => self.get(name, self, upto);
    return view;
  }
}

class JFunc {
  constructor(
    public params: Param[],
    public call: (args: Val[], named: Map<string, Val>) => Val,
    public name = 'anonymous',
  ) {}
}

function typeOf(v: Val): string {
  v = force(v);
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  if (v instanceof JObj) return 'object';
  return 'function';
}

function plus(a: Val, b: Val, pos: number): Val {
  a = force(a);
  b = force(b);
  if (typeof a === 'string' || typeof b === 'string') return toStr(a) + toStr(b);
  if (typeof a === 'number' && typeof b === 'number') return finite(a + b, pos);
  if (Array.isArray(a) && Array.isArray(b)) {
    spend(a.length + b.length);
    return [...a, ...b];
  }
  if (a instanceof JObj && b instanceof JObj) return new JObj([...a.layers, ...b.layers]);
  throw new JsonnetError(`binary operator + requires matching types, got ${typeOf(a)} and ${typeOf(b)}`, pos);
}

function toStr(v: Val): string {
  v = force(v);
  if (typeof v === 'string') return v;
  return manifest(v, '', '');
}

/** go-jsonnet's number text: integers in full (%.0f), others as C's %.17g. */
function numStr(n: number): string {
  if (Object.is(n, -0)) return '-0';
  if (Number.isInteger(n)) return BigInt(n).toString();
  const [mant, expS] = n.toExponential(16).split('e') as [string, string];
  const exp = Number(expS);
  if (exp < -4 || exp >= 17) {
    const m = mant.replace(/\.?0+$/, '');
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return n.toFixed(Math.max(0, 16 - exp)).replace(/\.?0+$/, '');
}

function manifest(v: Val, indent: string, step: string): string {
  v = force(v);
  spend(1);
  const nl = step ? '\n' : '';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return numStr(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return step ? '[\n\n' + indent + ']' : '[ ]';
    const inner = indent + step;
    return '[' + nl + v.map((x) => inner + manifest(x, inner, step)).join(',' + (nl || ' ')) + nl + indent + ']';
  }
  if (v instanceof JObj) {
    const names = v.fieldNames(false);
    if (names.length === 0) return step ? '{\n\n' + indent + '}' : '{ }';
    const inner = indent + step;
    return '{' + nl + names.map((k) => inner + JSON.stringify(k) + ': ' + manifest(v.get(k), inner, step)).join(',' + (nl || ' ')) + nl + indent + '}';
  }
  throw new JsonnetError("couldn't manifest function as JSON", 0);
}

/** The JSON value of the program's result. Like go-jsonnet's manifestation, each level is a stack frame. */
function toJson(v: Val): unknown {
  v = force(v);
  enterFrame();
  try {
    return toJsonIn(v);
  } finally {
    ev.calls--;
  }
}

function toJsonIn(v: Val): unknown {
  spend(1);
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof JObj) {
    v.checkAsserts();
    const out: Record<string, unknown> = {};
    for (const k of v.fieldNames(false)) {
      const cv = toJson(v.get(k));
      if (k === '__proto__') Object.defineProperty(out, k, { value: cv, enumerable: true, writable: true, configurable: true });
      else out[k] = cv;
    }
    return out;
  }
  throw new JsonnetError("couldn't manifest function as JSON", 0);
}

function equals(a: Val, b: Val): boolean {
  a = force(a);
  b = force(b);
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return false;
  if (Array.isArray(a)) return a.length === (b as Val[]).length && a.every((x, i) => equals(x, (b as Val[])[i]!));
  if (a instanceof JObj) {
    const bo = b as JObj;
    const ka = a.fieldNames(false);
    const kb = bo.fieldNames(false);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && equals(a.get(k), bo.get(k)));
  }
  if (ta === 'function') throw new JsonnetError('cannot test equality of functions', 0);
  return a === b;
}

function compare(a: Val, b: Val, pos: number): number {
  a = force(a);
  b = force(b);
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compare(a[i]!, b[i]!, pos);
      if (c) return c;
    }
    return a.length - b.length;
  }
  throw new JsonnetError(`cannot compare ${typeOf(a)} and ${typeOf(b)}`, pos);
}

// ---------------------------------------------------------------------------
// Evaluator

type Env = { vars: Map<string, Val>; self: JObj | null; sup: JObj | null; dollar: JObj | null; parent?: Env };

function lookupVar(env: Env, name: string): Val | undefined {
  for (let e: Env | undefined = env; e; e = e.parent) {
    if (e.vars.has(name)) return e.vars.get(name);
  }
  return undefined;
}

function child(env: Env, vars: Map<string, Val>, extra?: Partial<Env>): Env {
  return { vars, self: env.self, sup: env.sup, dollar: env.dollar, parent: env, ...extra };
}

class Interp {
  constructor(private file: string, private importing: Set<string> = new Set()) {}

  fail(m: string, pos: number): never {
    throw new JsonnetError(m, pos, this.file);
  }

  bindLocals(env: Env, binds: Bind[]): Env {
    const vars = new Map<string, Val>();
    const e2 = child(env, vars);
    for (const b of binds) vars.set(b.name, new Lazy(() => this.eval(b.body, e2)));
    return e2;
  }

  eval(n: Node, env: Env): Val {
    if (++ev.steps > MAX_PROGRAM_STEPS) spend(0);
    switch (n.k) {
      case 'lit':
        // a literal beyond float64 (1e400): go-jsonnet's runtime error when it is evaluated
        if (n.v === Infinity) this.fail('overflow', n.pos);
        return n.v as Val;
      case 'str':
        return n.v;
      case 'self':
        if (!env.self) this.fail("can't use self outside of an object", n.pos);
        return env.self;
      case 'dollar':
        if (!env.dollar) this.fail("can't use $ outside of an object", n.pos);
        return env.dollar;
      case 'super': {
        if (!env.sup) this.fail('attempt to use super when there is no super class', n.pos);
        const name = force(this.eval(n.field, env));
        if (typeof name !== 'string') this.fail('super index must be a string', n.pos);
        return this.field(env.sup, name, n.pos);
      }
      case 'superin': {
        const name = force(this.eval(n.field, env));
        return env.sup ? env.sup.has(name as string) : false;
      }
      case 'var': {
        const v = lookupVar(env, n.name);
        if (v === undefined) {
          if (n.name === 'std') return STD_OBJ;
          this.fail(`Unknown variable: ${n.name}`, n.pos);
        }
        return force(v);
      }
      case 'arr':
        return n.items.map((it) => new Lazy(() => this.eval(it, env)));
      case 'arrcomp': {
        const out: Val[] = [];
        this.comprehend(n.specs, 0, env, (e) => out.push(this.eval(n.body, e)));
        return out;
      }
      case 'obj':
        return this.object(n, env);
      case 'objcomp': {
        const fields = new Map<string, FieldDef>();
        this.comprehend(n.specs, 0, env, (e) => {
          const key = force(this.eval(n.key, e));
          if (key === null) return;
          if (typeof key !== 'string') this.fail(`field name must be string, got ${typeOf(key)}`, n.pos);
          if (fields.has(key)) this.fail(`duplicate field name: "${key}"`, n.pos);
          fields.set(key, {
            hide: 0,
            plus: n.plus,
            value: (self, sup) => {
              const ev = this.bindLocals(child(e, new Map(), { self, sup, dollar: env.dollar ?? self }), n.locals);
              return this.eval(n.value, ev);
            },
          });
        });
        return new JObj([{ fields, asserts: [] }]);
      }
      case 'index': {
        const t = force(this.eval(n.target, env));
        const i = force(this.eval(n.index, env));
        return this.indexValue(t, i, n.pos);
      }
      case 'slice': {
        const t = force(this.eval(n.target, env));
        const num = (x?: Node) => (x ? (force(this.eval(x, env)) as number | null) : null);
        return slice(t, num(n.a), num(n.b), num(n.c), n.pos);
      }
      case 'call': {
        const f = force(this.eval(n.fn, env));
        if (!(f instanceof JFunc)) this.fail(`only functions can be called, got ${typeOf(f)}`, n.pos);
        const args = n.args.map((a) => new Lazy(() => this.eval(a, env)) as Val);
        const named = new Map<string, Val>(n.named.map(([k, a]) => [k, new Lazy(() => this.eval(a, env))]));
        try {
          return force(f.call(args, named));
        } catch (e) {
          if (e instanceof JsonnetError && e.pos === 0) e.pos = n.pos;
          throw e;
        }
      }
      case 'local':
        return this.eval(n.body, this.bindLocals(env, n.binds));
      case 'if': {
        const c = force(this.eval(n.cond, env));
        if (typeof c !== 'boolean') this.fail(`condition must be boolean, got ${typeOf(c)}`, n.pos);
        if (c) return this.eval(n.then, env);
        return n.else ? this.eval(n.else, env) : null;
      }
      case 'func':
        return this.func(n.params, n.body, env);
      case 'un': {
        const v = force(this.eval(n.e, env));
        if (n.op === '!') {
          if (typeof v !== 'boolean') this.fail(`unary operator ! does not operate on type ${typeOf(v)}`, n.pos);
          return !v;
        }
        if (typeof v !== 'number') this.fail(`unary operator ${n.op} does not operate on type ${typeOf(v)}`, n.pos);
        return n.op === '-' ? -v : n.op === '+' ? v : Number(BigInt.asIntN(64, ~BigInt.asIntN(64, BigInt(Math.trunc(v)))));
      }
      case 'bin':
        return this.binop(n, env);
      case 'error': {
        const m = force(this.eval(n.e, env));
        this.fail(typeof m === 'string' ? m : toStr(m), n.pos);
      }
      // falls through (fail never returns)
      case 'assert': {
        const c = force(this.eval(n.cond, env));
        if (c !== true) {
          const m = n.msg ? toStr(this.eval(n.msg, env)) : 'Assertion failed';
          this.fail(m, n.pos);
        }
        return this.eval(n.body, env);
      }
      case 'import': {
        const path = resolve(dirname(this.file), n.path);
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch {
          this.fail(`couldn't open import "${n.path}": no match locally`, n.pos);
        }
        if (n.str) return text!;
        if (this.importing.has(path)) this.fail(`import cycle: ${n.path}`, n.pos);
        const sub = new Interp(path, new Set([...this.importing, path]));
        try {
          const ast = new Parser(lex(text!)).file();
          return sub.eval(ast, { vars: new Map(), self: null, sup: null, dollar: null });
        } catch (e) {
          if (e instanceof JsonnetError && !e.file) e.file = path;
          throw e;
        }
      }
    }
  }

  field(o: JObj, name: string, pos: number): Val {
    if (!o.has(name)) this.fail(`field does not exist: ${name}`, pos);
    return o.get(name);
  }

  indexValue(t: Val, i: Val, pos: number): Val {
    if (t instanceof JObj) {
      if (typeof i !== 'string') this.fail(`object index must be string, got ${typeOf(i)}`, pos);
      return this.field(t, i, pos);
    }
    if (Array.isArray(t)) {
      if (typeof i !== 'number') this.fail(`array index must be number, got ${typeOf(i)}`, pos);
      if (!Number.isInteger(i)) this.fail(`array index must be an integer, got ${i}`, pos);
      if (i < 0 || i >= t.length) this.fail(`index out of bounds: ${i} not within [0, ${t.length})`, pos);
      return force(t[i]!);
    }
    if (typeof t === 'string') {
      if (typeof i !== 'number') this.fail(`string index must be a number, got ${typeOf(i)}`, pos);
      const chars = Array.from(t);
      if (i < 0 || i >= chars.length) this.fail(`index out of bounds: ${i} not within [0, ${chars.length})`, pos);
      return chars[i]!;
    }
    this.fail(`value of type ${typeOf(t)} is not indexable`, pos);
  }

  comprehend(specs: Spec[], i: number, env: Env, emit: (e: Env) => void): void {
    if (i >= specs.length) {
      emit(env);
      return;
    }
    const s = specs[i]!;
    if (s.k === 'if') {
      const c = force(this.eval(s.e, env));
      if (c === true) this.comprehend(specs, i + 1, env, emit);
      return;
    }
    const arr = force(this.eval(s.e, env));
    if (!Array.isArray(arr)) this.fail(`in comprehension, can only iterate over array, got ${typeOf(arr)}`, 0);
    for (const item of arr) this.comprehend(specs, i + 1, child(env, new Map([[s.v, item]])), emit);
  }

  object(n: Node & { k: 'obj' }, env: Env): JObj {
    const fields = new Map<string, FieldDef>();
    const mkEnv = (self: JObj, sup: JObj | null) =>
      this.bindLocals(child(env, new Map(), { self, sup, dollar: env.dollar ?? self }), n.locals);
    for (const f of n.fields) {
      const name = force(this.eval(f.name, env));
      if (name === null) continue;
      if (typeof name !== 'string') this.fail(`field name must be string, got ${typeOf(name)}`, f.pos);
      if (fields.has(name)) this.fail(`duplicate field name: "${name}"`, f.pos);
      fields.set(name, { hide: f.hide, plus: f.plus, value: (self, sup) => this.eval(f.body, mkEnv(self, sup)) });
    }
    const asserts = n.asserts.map((a) => (self: JObj, sup: JObj | null) => {
      this.eval(a, mkEnv(self, sup));
    });
    return new JObj([{ fields, asserts }]);
  }

  func(params: Param[], body: Node, env: Env): JFunc {
    return new JFunc(params, (args, named) => {
      const vars = new Map<string, Val>();
      const e2 = child(env, vars);
      if (args.length > params.length) this.fail(`too many arguments: function expects ${params.length}`, 0);
      params.forEach((p, i) => {
        if (i < args.length) vars.set(p.name, args[i]!);
        else if (named.has(p.name)) vars.set(p.name, named.get(p.name)!);
        else if (p.def) {
          const d = p.def;
          vars.set(p.name, new Lazy(() => this.eval(d, e2)));
        } else this.fail(`function parameter ${p.name} not bound in call`, 0);
      });
      for (const k of named.keys()) if (!params.some((p) => p.name === k)) this.fail(`function has no parameter ${k}`, 0);
      enterFrame();
      try {
        return force(this.eval(body, e2));
      } finally {
        ev.calls--;
      }
    });
  }

  binop(n: Node & { k: 'bin' }, env: Env): Val {
    const op = n.op;
    if (op === '&&' || op === '||') {
      const l = force(this.eval(n.l, env));
      if (typeof l !== 'boolean') this.fail(`binary operator ${op} requires boolean, got ${typeOf(l)}`, n.pos);
      if (op === '&&' ? !l : l) return l;
      const r = force(this.eval(n.r, env));
      if (typeof r !== 'boolean') this.fail(`binary operator ${op} requires boolean, got ${typeOf(r)}`, n.pos);
      return r;
    }
    const l = force(this.eval(n.l, env));
    const r = force(this.eval(n.r, env));
    switch (op) {
      case '+':
        return plus(l, r, n.pos);
      case '-':
      case '*':
      case '/':
      case '<<':
      case '>>':
      case '&':
      case '|':
      case '^': {
        if (typeof l !== 'number' || typeof r !== 'number') this.fail(`binary operator ${op} requires numbers, got ${typeOf(l)} and ${typeOf(r)}`, n.pos);
        if (op === '-') return finite(l - r, n.pos);
        if (op === '*') return finite(l * r, n.pos);
        if (op === '/') {
          if (r === 0) this.fail('division by zero.', n.pos);
          return finite(l / r, n.pos);
        }
        const a = BigInt.asIntN(64, BigInt(Math.trunc(l)));
        const b = BigInt.asIntN(64, BigInt(Math.trunc(r)));
        const res = op === '<<' ? a << (b & 63n) : op === '>>' ? a >> (b & 63n) : op === '&' ? a & b : op === '|' ? a | b : a ^ b;
        return Number(BigInt.asIntN(64, res));
      }
      case '%':
        if (typeof l === 'number' && typeof r === 'number') {
          if (r === 0) this.fail('division by zero.', n.pos);
          return l % r;
        }
        if (typeof l === 'string') return format(l, r, n.pos);
        this.fail(`operator % cannot be used on types ${typeOf(l)} and ${typeOf(r)}`, n.pos);
      // falls through
      case '==':
        return equals(l, r);
      case '!=':
        return !equals(l, r);
      case '<':
        return compare(l, r, n.pos) < 0;
      case '<=':
        return compare(l, r, n.pos) <= 0;
      case '>':
        return compare(l, r, n.pos) > 0;
      case '>=':
        return compare(l, r, n.pos) >= 0;
      case 'in':
        if (!(r instanceof JObj) || typeof l !== 'string') this.fail('operator in requires a string and an object', n.pos);
        return (r as JObj).has(l as string);
    }
    this.fail(`unknown operator ${op}`, n.pos);
  }
}

function slice(t: Val, a: number | null, b: number | null, c: number | null, pos: number): Val {
  const step = c ?? 1;
  if (step <= 0) throw new JsonnetError('slice step must be greater than 0', pos);
  const items: Val[] = typeof t === 'string' ? Array.from(t) : Array.isArray(t) ? t : (() => {
    throw new JsonnetError(`can only slice arrays and strings, got ${typeOf(t)}`, pos);
  })();
  const len = items.length;
  const from = Math.max(0, a ?? 0);
  const to = Math.min(len, b ?? len);
  const out: Val[] = [];
  for (let i = from; i < to; i += step) out.push(items[i]!);
  return typeof t === 'string' ? out.join('') : out;
}

// ---------------------------------------------------------------------------
// `%` formatting (Python style)

function format(fmt: string, vals: Val, pos: number): string {
  vals = force(vals);
  const list: Val[] = Array.isArray(vals) ? vals.map(force) : [vals];
  const obj = vals instanceof JObj ? vals : null;
  let idx = 0;
  return fmt.replace(/%(?:\(([^)]*)\))?([#0\- +]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrs%])/g, (_m, key: string | undefined, flags: string, w: string | undefined, p: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const next = (): Val => {
      if (key !== undefined) {
        if (!obj) throw new JsonnetError('format requires an object for named fields', pos);
        return obj.get(key);
      }
      if (idx >= list.length) throw new JsonnetError('not enough values to format', pos);
      return list[idx++]!;
    };
    const width = w === '*' ? (next() as number) : w ? Number(w) : 0;
    const prec = p === '*' ? (next() as number) : p !== undefined ? Number(p) : undefined;
    const v = force(next());
    let s: string;
    switch (conv) {
      case 's':
      case 'r':
        s = toStr(v);
        if (prec !== undefined) s = s.slice(0, prec);
        break;
      case 'd':
      case 'i':
      case 'u':
        s = String(Math.trunc(v as number));
        break;
      case 'o':
        s = Math.trunc(v as number).toString(8);
        break;
      case 'x':
      case 'X':
        s = Math.trunc(v as number).toString(16);
        if (conv === 'X') s = s.toUpperCase();
        break;
      case 'f':
      case 'F':
        s = (v as number).toFixed(prec ?? 6);
        break;
      case 'e':
      case 'E':
        s = (v as number).toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
        if (conv === 'E') s = s.toUpperCase();
        break;
      case 'g':
      case 'G': {
        const num = v as number;
        const pr = prec ?? 6;
        const exp = num === 0 ? 0 : Math.floor(Math.log10(Math.abs(num)));
        s = exp < -4 || exp >= pr ? num.toExponential(Math.max(pr - 1, 0)).replace(/e([+-])(\d)$/, 'e$10$2') : String(Number(num.toPrecision(pr)));
        if (conv === 'G') s = s.toUpperCase();
        break;
      }
      case 'c':
        s = typeof v === 'number' ? String.fromCodePoint(codePoint(v, 'format %c')) : String(v);
        break;
      default:
        s = toStr(v);
    }
    if (flags.includes('+') && typeof v === 'number' && v >= 0 && 'dieEfFgG'.includes(conv)) s = '+' + s;
    if (s.length < width) {
      if (flags.includes('-')) s = s.padEnd(width);
      else if (flags.includes('0') && typeof v === 'number') {
        const neg = s.startsWith('-') || s.startsWith('+');
        s = neg ? s[0] + s.slice(1).padStart(width - 1, '0') : s.padStart(width, '0');
      } else s = s.padStart(width);
    }
    return s;
  });
}

// ---------------------------------------------------------------------------
// Standard library (subset)

function fn(params: string[], impl: (...args: Val[]) => Val): JFunc {
  return new JFunc(
    params.map((name) => ({ name, def: name.endsWith('?') ? { k: 'lit', v: null, pos: 0 } : undefined })),
    (args, named) => {
      const vals: Val[] = params.map((p, i) => {
        const key = p.replace(/\?$/, '');
        const v = i < args.length ? args[i] : named.get(key);
        if (v === undefined) {
          if (p.endsWith('?')) return undefined as unknown as Val;
          throw new JsonnetError(`function parameter ${key} not bound in call`, 0);
        }
        return force(v);
      });
      spend(1);
      const r = impl(...vals);
      // what a builtin built is work too (and a number it computed must be finite)
      if (typeof r === 'number') return finite(r);
      if (Array.isArray(r)) spend(r.length);
      else if (typeof r === 'string') spend(r.length >>> 6);
      return r;
    },
  );
}

/** A count argument (std.makeArray, std.repeat): a non-negative integer, its work counted before anything is built. */
function countArg(v: Val, what: string, per = 1): number {
  const n = num(v, what);
  if (!Number.isInteger(n)) throw new JsonnetError(`Expected an integer, but got ${numStr(n)}`, 0);
  // go-jsonnet's std.makeArray and std.repeat of a negative count are empty
  if (n < 0) return 0;
  spend(n * per);
  return n;
}

function call(f: Val, ...args: Val[]): Val {
  f = force(f);
  if (!(f instanceof JFunc)) throw new JsonnetError(`expected a function, got ${typeOf(f)}`, 0);
  return force(f.call(args, new Map()));
}

function arr(v: Val, what: string): Val[] {
  v = force(v);
  if (!Array.isArray(v)) throw new JsonnetError(`${what}: expected array, got ${typeOf(v)}`, 0);
  return v.map(force);
}
function str(v: Val, what: string): string {
  v = force(v);
  if (typeof v !== 'string') throw new JsonnetError(`${what}: expected string, got ${typeOf(v)}`, 0);
  return v;
}
/** A number usable as a Unicode code point (std.char, %c); otherwise the program's error. */
function codePoint(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0x10ffff) throw new JsonnetError(`${what}: invalid unicode code point, got ${n}`, 0);
  return n;
}
function num(v: Val, what: string): number {
  v = force(v);
  if (typeof v !== 'number') throw new JsonnetError(`${what}: expected number, got ${typeOf(v)}`, 0);
  return v;
}
function obj(v: Val, what: string): JObj {
  v = force(v);
  if (!(v instanceof JObj)) throw new JsonnetError(`${what}: expected object, got ${typeOf(v)}`, 0);
  return v;
}
function plainObj(entries: [string, Val][]): JObj {
  const fields = new Map<string, FieldDef>();
  for (const [k, v] of entries) fields.set(k, { hide: 0, plus: false, value: () => v });
  return new JObj([{ fields, asserts: [] }]);
}
function fromJson(v: unknown): Val {
  if (Array.isArray(v)) return v.map(fromJson);
  if (v !== null && typeof v === 'object') return plainObj(Object.entries(v).map(([k, x]) => [k, fromJson(x)]));
  return v as Val;
}
function sortVals(a: Val[], keyF?: Val): Val[] {
  const keyed = a.map((v) => ({ v, k: keyF ? call(keyF, v) : v }));
  keyed.sort((x, y) => compare(x.k, y.k, 0));
  return keyed.map((x) => x.v);
}

const STD: Record<string, JFunc> = {
  length: fn(['x'], (x) => {
    if (typeof x === 'string') return Array.from(x).length;
    if (Array.isArray(x)) return x.length;
    if (x instanceof JObj) return x.fieldNames(false).length;
    if (x instanceof JFunc) return x.params.length;
    throw new JsonnetError(`length operates on strings, objects, and arrays, got ${typeOf(x)}`, 0);
  }),
  type: fn(['x'], (x) => typeOf(x)),
  toString: fn(['a'], (a) => toStr(a)),
  isString: fn(['v'], (v) => typeof v === 'string'),
  isNumber: fn(['v'], (v) => typeof v === 'number'),
  isBoolean: fn(['v'], (v) => typeof v === 'boolean'),
  isObject: fn(['v'], (v) => v instanceof JObj),
  isArray: fn(['v'], (v) => Array.isArray(v)),
  isFunction: fn(['v'], (v) => v instanceof JFunc),
  makeArray: fn(['sz', 'func'], (sz, f) => Array.from({ length: countArg(sz, 'makeArray') }, (_, i) => new Lazy(() => call(f, i)))),
  range: fn(['from', 'to'], (a, b) => {
    const lo = num(a, 'range');
    const hi = num(b, 'range');
    spend(hi >= lo ? hi - lo + 1 : 0);
    const out: Val[] = [];
    for (let i = lo; i <= hi; i++) out.push(i);
    return out;
  }),
  map: fn(['func', 'arr'], (f, a) => (typeof a === 'string' ? Array.from(a) : arr(a, 'map')).map((x) => new Lazy(() => call(f, x)))),
  mapWithIndex: fn(['func', 'arr'], (f, a) => arr(a, 'mapWithIndex').map((x, i) => call(f, i, x))),
  mapWithKey: fn(['func', 'obj'], (f, o) => plainObj(obj(o, 'mapWithKey').fieldNames(false).map((k) => [k, new Lazy(() => call(f, k, (o as JObj).get(k)))]))),
  filter: fn(['func', 'arr'], (f, a) => arr(a, 'filter').filter((x) => call(f, x) === true)),
  filterMap: fn(['filter_func', 'map_func', 'arr'], (ff, mf, a) => arr(a, 'filterMap').filter((x) => call(ff, x) === true).map((x) => call(mf, x))),
  flatMap: fn(['func', 'arr'], (f, a) => {
    if (typeof a === 'string') return Array.from(a).map((c) => str(call(f, c), 'flatMap')).join('');
    return arr(a, 'flatMap').flatMap((x) => arr(call(f, x), 'flatMap'));
  }),
  foldl: fn(['func', 'arr', 'init'], (f, a, init) => arr(a, 'foldl').reduce((acc, x) => call(f, acc, x), init)),
  foldr: fn(['func', 'arr', 'init'], (f, a, init) => arr(a, 'foldr').reduceRight((acc, x) => call(f, x, acc), init)),
  join: fn(['sep', 'arr'], (sep, a) => {
    const items = arr(a, 'join').filter((x) => x !== null);
    if (typeof sep === 'string') return items.map((x) => str(x, 'join')).join(sep);
    const out: Val[] = [];
    items.forEach((x, i) => {
      if (i > 0) out.push(...arr(sep, 'join'));
      out.push(...arr(x, 'join'));
    });
    return out;
  }),
  flattenArrays: fn(['arrs'], (a) => arr(a, 'flattenArrays').flatMap((x) => arr(x, 'flattenArrays'))),
  reverse: fn(['arr'], (a) => [...arr(a, 'reverse')].reverse()),
  sort: fn(['arr', 'keyF?'], (a, k) => sortVals(arr(a, 'sort'), k ?? undefined)),
  uniq: fn(['arr', 'keyF?'], (a, k) => {
    const out: Val[] = [];
    for (const x of arr(a, 'uniq')) {
      if (out.length === 0 || !equals(k ? call(k, out[out.length - 1]!) : out[out.length - 1]!, k ? call(k, x) : x)) out.push(x);
    }
    return out;
  }),
  set: fn(['arr', 'keyF?'], (a, k) => {
    const sorted = sortVals(arr(a, 'set'), k ?? undefined);
    const out: Val[] = [];
    for (const x of sorted) if (out.length === 0 || !equals(k ? call(k, out[out.length - 1]!) : out[out.length - 1]!, k ? call(k, x) : x)) out.push(x);
    return out;
  }),
  setMember: fn(['x', 'arr', 'keyF?'], (x, a) => arr(a, 'setMember').some((y) => equals(x, y))),
  setUnion: fn(['a', 'b', 'keyF?'], (a, b) => STD.set!.call([[...arr(a, 'setUnion'), ...arr(b, 'setUnion')]], new Map())),
  setInter: fn(['a', 'b', 'keyF?'], (a, b) => arr(a, 'setInter').filter((x) => arr(b, 'setInter').some((y) => equals(x, y)))),
  setDiff: fn(['a', 'b', 'keyF?'], (a, b) => arr(a, 'setDiff').filter((x) => !arr(b, 'setDiff').some((y) => equals(x, y)))),
  member: fn(['arr', 'x'], (a, x) => (typeof a === 'string' ? a.includes(str(x, 'member')) : arr(a, 'member').some((y) => equals(x, y)))),
  contains: fn(['arr', 'elem'], (a, x) => arr(a, 'contains').some((y) => equals(x, y))),
  count: fn(['arr', 'x'], (a, x) => arr(a, 'count').filter((y) => equals(x, y)).length),
  find: fn(['value', 'arr'], (x, a) => arr(a, 'find').flatMap((y, i) => (equals(x, y) ? [i] : []))),
  all: fn(['arr'], (a) => arr(a, 'all').every((x) => x === true)),
  any: fn(['arr'], (a) => arr(a, 'any').some((x) => x === true)),
  sum: fn(['arr'], (a) => arr(a, 'sum').reduce((s: number, x) => s + num(x, 'sum'), 0)),
  avg: fn(['arr'], (a) => {
    const xs = arr(a, 'avg');
    if (xs.length === 0) throw new JsonnetError('Cannot calculate average of an empty array.', 0);
    return xs.reduce((s: number, x) => s + num(x, 'avg'), 0) / xs.length;
  }),
  minArray: fn(['arr', 'keyF?'], (a, k) => sortVals(arr(a, 'minArray'), k ?? undefined)[0] ?? null),
  maxArray: fn(['arr', 'keyF?'], (a, k) => sortVals(arr(a, 'maxArray'), k ?? undefined).pop() ?? null),
  repeat: fn(['what', 'count'], (w, c) =>
    typeof w === 'string'
      ? w.repeat(countArg(c, 'repeat', w.length >>> 6))
      : Array.from({ length: countArg(c, 'repeat', Math.max(1, arr(w, 'repeat').length)) }, () => arr(w, 'repeat')).flat(),
  ),
  objectFields: fn(['o'], (o) => obj(o, 'objectFields').fieldNames(false)),
  objectFieldsAll: fn(['o'], (o) => obj(o, 'objectFieldsAll').fieldNames(true)),
  objectHas: fn(['o', 'f'], (o, f) => obj(o, 'objectHas').has(str(f, 'objectHas')) && (o as JObj).visible(f as string)),
  objectHasAll: fn(['o', 'f'], (o, f) => obj(o, 'objectHasAll').has(str(f, 'objectHasAll'))),
  objectValues: fn(['o'], (o) => obj(o, 'objectValues').fieldNames(false).map((k) => (o as JObj).get(k))),
  objectValuesAll: fn(['o'], (o) => obj(o, 'objectValuesAll').fieldNames(true).map((k) => (o as JObj).get(k))),
  objectKeysValues: fn(['o'], (o) => obj(o, 'objectKeysValues').fieldNames(false).map((k) => plainObj([['key', k], ['value', (o as JObj).get(k)]]))),
  get: fn(['o', 'f', 'default?', 'inc_hidden?'], (o, f, d, h) => {
    const ob = obj(o, 'get');
    const key = str(f, 'get');
    return ob.has(key) && (h !== false || ob.visible(key)) ? ob.get(key) : (d ?? null);
  }),
  prune: fn(['a'], (a) => prune(a)),
  mergePatch: fn(['target', 'patch'], (t, p) => mergePatch(t, p)),
  abs: fn(['n'], (n) => Math.abs(num(n, 'abs'))),
  sign: fn(['n'], (n) => Math.sign(num(n, 'sign'))),
  max: fn(['a', 'b'], (a, b) => Math.max(num(a, 'max'), num(b, 'max'))),
  min: fn(['a', 'b'], (a, b) => Math.min(num(a, 'min'), num(b, 'min'))),
  clamp: fn(['x', 'minVal', 'maxVal'], (x, lo, hi) => Math.min(Math.max(num(x, 'clamp'), num(lo, 'clamp')), num(hi, 'clamp'))),
  pow: fn(['x', 'n'], (x, n) => Math.pow(num(x, 'pow'), num(n, 'pow'))),
  exp: fn(['x'], (x) => Math.exp(num(x, 'exp'))),
  log: fn(['x'], (x) => Math.log(num(x, 'log'))),
  sqrt: fn(['x'], (x) => Math.sqrt(num(x, 'sqrt'))),
  floor: fn(['x'], (x) => Math.floor(num(x, 'floor'))),
  ceil: fn(['x'], (x) => Math.ceil(num(x, 'ceil'))),
  round: fn(['x'], (x) => Math.round(num(x, 'round'))),
  mod: fn(['a', 'b'], (a, b) => (typeof a === 'string' ? format(a, b, 0) : num(a, 'mod') % num(b, 'mod'))),
  modulo: fn(['a', 'b'], (a, b) => num(a, 'modulo') % num(b, 'modulo')),
  isEven: fn(['x'], (x) => num(x, 'isEven') % 2 === 0),
  isOdd: fn(['x'], (x) => Math.abs(num(x, 'isOdd') % 2) === 1),
  isInteger: fn(['x'], (x) => Number.isInteger(num(x, 'isInteger'))),
  isDecimal: fn(['x'], (x) => !Number.isInteger(num(x, 'isDecimal'))),
  codepoint: fn(['str'], (s) => str(s, 'codepoint').codePointAt(0)!),
  char: fn(['n'], (n) => String.fromCodePoint(codePoint(num(n, 'char'), 'char'))),
  substr: fn(['str', 'from', 'len'], (s, f, l) => Array.from(str(s, 'substr')).slice(num(f, 'substr'), num(f, 'substr') + num(l, 'substr')).join('')),
  startsWith: fn(['a', 'b'], (a, b) => str(a, 'startsWith').startsWith(str(b, 'startsWith'))),
  endsWith: fn(['a', 'b'], (a, b) => str(a, 'endsWith').endsWith(str(b, 'endsWith'))),
  stripChars: fn(['str', 'chars'], (s, c) => stripChars(str(s, 'stripChars'), str(c, 'stripChars'), true, true)),
  lstripChars: fn(['str', 'chars'], (s, c) => stripChars(str(s, 'lstripChars'), str(c, 'lstripChars'), true, false)),
  rstripChars: fn(['str', 'chars'], (s, c) => stripChars(str(s, 'rstripChars'), str(c, 'rstripChars'), false, true)),
  trim: fn(['str'], (s) => str(s, 'trim').trim()),
  split: fn(['str', 'c'], (s, c) => str(s, 'split').split(str(c, 'split'))),
  splitLimit: fn(['str', 'c', 'maxsplits'], (s, c, m) => {
    const parts = str(s, 'splitLimit').split(str(c, 'splitLimit'));
    const max = num(m, 'splitLimit');
    if (max < 0 || parts.length <= max + 1) return parts;
    return [...parts.slice(0, max), parts.slice(max).join(c as string)];
  }),
  strReplace: fn(['str', 'from', 'to'], (s, f, t) => str(s, 'strReplace').split(str(f, 'strReplace')).join(str(t, 'strReplace'))),
  asciiUpper: fn(['str'], (s) => str(s, 'asciiUpper').replace(/[a-z]/g, (c) => c.toUpperCase())),
  asciiLower: fn(['str'], (s) => str(s, 'asciiLower').replace(/[A-Z]/g, (c) => c.toLowerCase())),
  stringChars: fn(['str'], (s) => Array.from(str(s, 'stringChars'))),
  format: fn(['str', 'vals'], (s, v) => format(str(s, 'format'), v, 0)),
  parseInt: fn(['str'], (s) => {
    if (!/^-?[0-9]+$/.test(str(s, 'parseInt'))) throw new JsonnetError(`${JSON.stringify(s)} is not a base 10 integer`, 0);
    return Number(s);
  }),
  parseOctal: fn(['str'], (s) => parseInt(str(s, 'parseOctal'), 8)),
  parseHex: fn(['str'], (s) => parseInt(str(s, 'parseHex'), 16)),
  parseJson: fn(['str'], (s) => {
    let v: unknown;
    try {
      v = JSON.parse(str(s, 'parseJson'));
    } catch (e) {
      // the program's error, not the reader's
      throw new JsonnetError(`std.parseJson: ${(e as Error).message}`, 0);
    }
    return fromJson(v);
  }),
  lines: fn(['arr'], (a) => arr(a, 'lines').map((x) => str(x, 'lines') + '\n').join('')),
  escapeStringJson: fn(['str'], (s) => JSON.stringify(toStr(s))),
  escapeStringBash: fn(['str'], (s) => "'" + toStr(s).replace(/'/g, "'\"'\"'") + "'"),
  manifestJson: fn(['value'], (v) => manifest(v, '', '    ')),
  manifestJsonEx: fn(['value', 'indent', 'newline?', 'key_val_sep?'], (v, ind) => manifest(v, '', str(ind, 'manifestJsonEx'))),
  manifestJsonMinified: fn(['value'], (v) => JSON.stringify(toJson(v))),
  base64: fn(['input'], (s) => Buffer.from(typeof s === 'string' ? s : arr(s, 'base64').map((x) => num(x, 'base64'))).toString('base64')),
  base64Decode: fn(['str'], (s) => Buffer.from(str(s, 'base64Decode'), 'base64').toString('utf8')),
  md5: fn(['s'], (s) => nodeCrypto.createHash('md5').update(str(s, 'md5')).digest('hex')),
  sha1: fn(['s'], (s) => nodeCrypto.createHash('sha1').update(str(s, 'sha1')).digest('hex')),
  sha256: fn(['s'], (s) => nodeCrypto.createHash('sha256').update(str(s, 'sha256')).digest('hex')),
  assertEqual: fn(['a', 'b'], (a, b) => {
    if (!equals(a, b)) throw new JsonnetError(`Assertion failed. ${toStr(a)} != ${toStr(b)}`, 0);
    return true;
  }),
  trace: fn(['str', 'rest'], (_s, r) => r),
  extVar: fn(['x'], (x) => {
    throw new JsonnetError(`Undefined external variable: ${toStr(x)}`, 0);
  }),
  equals: fn(['a', 'b'], (a, b) => equals(a, b)),
  primitiveEquals: fn(['a', 'b'], (a, b) => a === b),
  objectRemoveKey: fn(['obj', 'key'], (o, k) => plainObj(obj(o, 'objectRemoveKey').fieldNames(false).filter((x) => x !== k).map((x) => [x, (o as JObj).get(x)]))),
  removeAt: fn(['arr', 'at'], (a, i) => arr(a, 'removeAt').filter((_, j) => j !== i)),
  remove: fn(['arr', 'elem'], (a, e) => {
    const xs = arr(a, 'remove');
    const i = xs.findIndex((x) => equals(x, e));
    return i < 0 ? xs : [...xs.slice(0, i), ...xs.slice(i + 1)];
  }),
  slice: fn(['indexable', 'index', 'end', 'step'], (x, a, b, c) => slice(x, a as number | null, b as number | null, c as number | null, 0)),
};
STD.id = fn(['x'], (x) => x);

const STD_OBJ = new JObj([
  {
    fields: new Map(Object.entries(STD).filter(([, v]) => v !== undefined).map(([k, v]) => [k, { hide: 1 as const, plus: false, value: () => v }])),
    asserts: [],
  },
]);

function stripChars(s: string, chars: string, left: boolean, right: boolean): string {
  const set = new Set(Array.from(chars));
  const a = Array.from(s);
  let i = 0;
  let j = a.length;
  if (left) while (i < j && set.has(a[i]!)) i++;
  if (right) while (j > i && set.has(a[j - 1]!)) j--;
  return a.slice(i, j).join('');
}

function prune(v: Val): Val {
  v = force(v);
  const empty = (x: Val) => x === null || (Array.isArray(x) && x.length === 0) || (x instanceof JObj && x.fieldNames(false).length === 0);
  if (Array.isArray(v)) return v.map(prune).filter((x) => !empty(x));
  if (v instanceof JObj) {
    return plainObj(v.fieldNames(false).map((k) => [k, prune(v.get(k))] as [string, Val]).filter(([, x]) => !empty(x)));
  }
  return v;
}

function mergePatch(t: Val, p: Val): Val {
  t = force(t);
  p = force(p);
  if (!(p instanceof JObj)) return p;
  const base = t instanceof JObj ? t : plainObj([]);
  const names = new Set([...base.fieldNames(false), ...p.fieldNames(false)]);
  const out: [string, Val][] = [];
  for (const k of [...names].sort()) {
    if (p.has(k) && p.visible(k)) {
      const pv = force(p.get(k));
      if (pv === null) continue;
      out.push([k, mergePatch(base.has(k) ? base.get(k) : null, pv)]);
    } else out.push([k, base.get(k)]);
  }
  return plainObj(out);
}

// ---------------------------------------------------------------------------

export function evaluateJsonnet(content: string, file: string): unknown {
  const interp = new Interp(resolve(file));
  const ast = new Parser(lex(content)).file();
  // the program itself is go-jsonnet's first frame
  ev.calls = 1;
  ev.steps = 0;
  const v = interp.eval(ast, { vars: new Map(), self: null, sup: null, dollar: null });
  // manifestation starts on an empty stack
  ev.calls = 0;
  return toJson(v);
}

function parse(content: string, file: string): unknown {
  try {
    return evaluateJsonnet(content, file);
  } catch (e) {
    if (e instanceof JsonnetError) {
      const other = e.file && resolve(e.file) !== resolve(file);
      const where = other ? {} : lineColAt(content, e.pos);
      const reason = other ? `${e.message} (in ${e.file})` : e.message;
      throw new ParseError(reason, { file, parser: 'jsonnet', ...where });
    }
    // a string or array longer than JavaScript allows: the program's doing, named as such
    if (e instanceof RangeError && /Invalid (string|array|typed array) length|Maximum BigInt size|Array buffer allocation/i.test(e.message)) {
      throw new ParseError(`evaluation produces a value larger than the engine's size limits (${e.message})`, { file, parser: 'jsonnet' });
    }
    throw e;
  }
}

export const jsonnetParser: InputParser = {
  name: 'jsonnet',
  parse,
  // a program can recurse without end: out of stack (even on the large one) is the program's error
  stackExhausted: 'max stack frames exceeded',
};
