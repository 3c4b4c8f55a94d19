/**
 * groovy: Jenkinsfiles and Groovy 2.4 sources as conftest's `groovy` parser
 * shows them to policies — a concrete syntax tree. Interior nodes are
 * `{kind, line, column, children}`; tokens are `{kind, text, line, column}`
 * with their source text; comments, whitespace and the statement ends that
 * newlines imply are not in the tree, explicit `;` tokens are. Positions are
 * one-based, columns in bytes; a node's position is its first child's.
 *
 * Node kinds: FileNode, ExpressionStmt, CallExpr, IdentExpr, LiteralExpr,
 * GStringExpr, GStringPath, ClosureExpr, PropertyExpr, BinaryExpr,
 * VariableDecl, MethodDecl, IfStmt, BlockStmt, ... Token kinds: Identifier,
 * CapitalizedIdentifier, StringLiteral, GStringBegin/Part/End/Full,
 * SlashyStringLit, DollarSlashyStringLit, IntLiteral, KwDef, LBrace, ...
 *
 * Checked against conftest v0.71.1's output (`conftest parse`) on Jenkinsfiles
 * (declarative and scripted pipelines), shared-library sources (classes,
 * enums, traits, annotations) and Groovy scripts; errors name the first
 * problem as conftest does (`expected RBrace, got EOF`, `expected
 * expression`) at the same line and column. The tree, like conftest's, is
 * bounded: at most 256 levels and 100,000 nodes (`syntax tree exceeds
 * maximum depth of 256`); the parser's own nesting stops just past that
 * depth, so deeply nested input cannot exhaust the stack.
 */
import type { InputParser } from './types.ts';
import { ParseError } from './types.ts';

const PARSER = 'groovy';
const MAX_TREE_DEPTH = 256;
const MAX_TREE_NODES = 100_000;

// ---- Tokens ----------------------------------------------------------------------------------

type Kind = string;

interface Tok {
  kind: Kind;
  text: string;
  /** UTF-16 index of the text in the source. */
  at: number;
}

const KEYWORDS: Record<string, Kind> = {};
for (const w of [
  'as', 'assert', 'break', 'case', 'catch', 'class', 'continue', 'def', 'default', 'do', 'else', 'enum', 'extends',
  'final', 'finally', 'for', 'if', 'implements', 'import', 'in', 'instanceof', 'interface', 'new', 'package', 'return',
  'static', 'super', 'switch', 'this', 'throw', 'throws', 'trait', 'try', 'while', 'abstract', 'native', 'private',
  'protected', 'public', 'synchronized', 'transient', 'volatile', 'strictfp', 'threadsafe', 'void', 'boolean', 'byte',
  'char', 'short', 'int', 'long', 'float', 'double',
]) {
  KEYWORDS[w] = 'Kw' + w[0].toUpperCase() + w.slice(1);
}
const KEYWORD_KINDS = new Set(Object.values(KEYWORDS));
const isKeyword = (k: Kind) => KEYWORD_KINDS.has(k);

const PRIMITIVES = new Set(['KwVoid', 'KwBoolean', 'KwByte', 'KwChar', 'KwShort', 'KwInt', 'KwLong', 'KwFloat', 'KwDouble']);
const isPrimitive = (k: Kind) => PRIMITIVES.has(k);
const isIdent = (k: Kind) => k === 'Identifier' || k === 'CapitalizedIdentifier';
const MODIFIERS = new Set(['KwPublic', 'KwPrivate', 'KwProtected', 'KwStatic', 'KwAbstract', 'KwFinal', 'KwNative', 'KwSynchronized', 'KwTransient', 'KwVolatile', 'KwStrictfp', 'KwThreadsafe']);

/** Tokens after which a newline ends the statement. */
const ENDS_STATEMENT = new Set([
  'Identifier', 'CapitalizedIdentifier', 'IntLiteral', 'FloatLiteral', 'StringLiteral', 'GStringEnd', 'GStringFull',
  'NullLiteral', 'BoolLiteral', 'SlashyStringLit', 'DollarSlashyStringLit', 'KwBreak', 'KwContinue', 'KwReturn',
  'KwThis', 'KwSuper', 'Inc', 'Dec', 'RParen', 'RBrack', 'RBrace',
]);

/** Tokens after which `/` opens a slashy string rather than dividing. */
const BEFORE_SLASHY = new Set([
  '', 'Assign', 'Equal', 'NotEqual', 'Lt', 'Gt', 'LtEqual', 'GtEqual', 'Plus', 'Minus', 'Star', 'Mod', 'Div', 'Power',
  'PlusAssign', 'MinusAssign', 'StarAssign', 'DivAssign', 'ModAssign', 'PowerAssign', 'BitwiseAnd', 'BitwiseOr',
  'BitwiseXor', 'BitwiseNot', 'BitwiseAndAssign', 'BitwiseOrAssign', 'BitwiseXorAssign', 'LeftShift', 'RightShift',
  'UnsignedRightShift', 'LeftShiftAssign', 'RightShiftAssign', 'UnsignedRightShiftAssign', 'And', 'Or', 'Not',
  'Spaceship', 'IdentityEqual', 'IdentityNotEqual', 'Regex', 'Match', 'Spread', 'Arrow', 'MethodRef', 'Question',
  'Elvis', 'ElvisAssign', 'Range', 'HalfOpenRight', 'HalfOpenLeft', 'FullOpen', 'SafeNav', 'NullSafe', 'MethodPointer',
  'FieldAccess', 'Implication', 'NotIn', 'NotInstanceof', 'LParen', 'LBrack', 'LBrace', 'Comma', 'Semi', 'Colon', 'At',
  'Semicolon', 'Dot', 'KwReturn', 'KwIf', 'KwWhile', 'KwFor', 'KwCase', 'KwIn', 'KwAssert', 'KwThrow', 'KwNew', 'KwDef',
  'KwElse', 'KwDo', 'KwSwitch',
]);

/** Operators, longest first within each leading character. */
const OPERATORS: [string, Kind][] = [
  ['>>>=', 'UnsignedRightShiftAssign'], ['<..<', 'FullOpen'], ['===', 'IdentityEqual'], ['!==', 'IdentityNotEqual'],
  ['==~', 'Match'], ['==>', 'Implication'], ['<=>', 'Spaceship'], ['**=', 'PowerAssign'], ['<<=', 'LeftShiftAssign'],
  ['>>=', 'RightShiftAssign'], ['>>>', 'UnsignedRightShift'], ['...', 'Ellipsis'], ['..<', 'HalfOpenRight'],
  ['<..', 'HalfOpenLeft'], ['??.', 'NullSafe'], ['++', 'Inc'], ['+=', 'PlusAssign'], ['->', 'Arrow'], ['-=', 'MinusAssign'],
  ['--', 'Dec'], ['**', 'Power'], ['*.', 'Spread'], ['*=', 'StarAssign'], ['/=', 'DivAssign'], ['%=', 'ModAssign'],
  ['==', 'Equal'], ['=~', 'Regex'], ['!=', 'NotEqual'], ['<=', 'LtEqual'], ['<<', 'LeftShift'], ['>=', 'GtEqual'],
  ['>>', 'RightShift'], ['&&', 'And'], ['&=', 'BitwiseAndAssign'], ['||', 'Or'], ['|=', 'BitwiseOrAssign'],
  ['^=', 'BitwiseXorAssign'], ['?:', 'Elvis'], ['?.', 'SafeNav'], ['?[', 'SafeIndex'], ['?=', 'ElvisAssign'],
  ['..', 'Range'], ['.@', 'FieldAccess'], ['.&', 'MethodPointer'], ['::', 'MethodRef'], ['+', 'Plus'], ['-', 'Minus'],
  ['*', 'Star'], ['/', 'Div'], ['%', 'Mod'], ['=', 'Assign'], ['!', 'Not'], ['<', 'Lt'], ['>', 'Gt'], ['&', 'BitwiseAnd'],
  ['|', 'BitwiseOr'], ['^', 'BitwiseXor'], ['~', 'BitwiseNot'], ['?', 'Question'], ['.', 'Dot'], [':', 'Colon'],
  ['(', 'LParen'], [')', 'RParen'], ['{', 'LBrace'], ['}', 'RBrace'], ['[', 'LBrack'], [']', 'RBrack'], [',', 'Comma'],
  [';', 'Semi'], ['@', 'At'],
];
const OPS_BY_CHAR = new Map<string, [string, Kind][]>();
for (const op of OPERATORS) {
  const l = OPS_BY_CHAR.get(op[0][0]) ?? [];
  l.push(op);
  OPS_BY_CHAR.set(op[0][0], l);
}

// Made on first use (start-up: Unicode class regular expressions are slow to create).
let letterRE: RegExp | undefined;
let digitRE: RegExp | undefined;
let upperRE: RegExp | undefined;
const LETTER = { test: (ch: string) => (letterRE ??= /\p{L}/u).test(ch) };
const DIGIT = { test: (ch: string) => (digitRE ??= /\p{Nd}/u).test(ch) };
const UPPER = { test: (ch: string) => (upperRE ??= /\p{Lu}/u).test(ch) };

function codePointAt(s: string, i: number): string {
  const c = s.codePointAt(i);
  return c === undefined ? '' : String.fromCodePoint(c);
}
const identStart = (ch: string) => ch === '_' || ch === '$' || (ch !== '' && LETTER.test(ch));
const identPart = (ch: string) => identStart(ch) || (ch !== '' && DIGIT.test(ch));
const isDigit = (c: string) => c >= '0' && c <= '9';
const TYPE_SUFFIX = new Set(['l', 'L', 'i', 'I', 'f', 'F', 'd', 'D', 'g', 'G']);
const FLOAT_SUFFIX = new Set(['f', 'F', 'd', 'D']);

/** What the lexer is inside: code, a GString's text, or a GString's `${...}`. */
type Mode = { kind: 'gstring'; triple: boolean } | { kind: 'interp'; braces: number };

/**
 * The token stream, with the statement ends newlines imply (`Semicolon`, no
 * text): a newline after a token that can end a statement ends it, unless the
 * innermost open bracket is `(` or `[`, the lexer is inside `${...}`, or the
 * next line continues the expression (starts with `.`, `?.`, `?:`, `??.` or
 * `*.`).
 */
class Lexer {
  private i = 0;
  private readonly src: string;
  private modes: Mode[] = [];
  private brackets: string[] = [];
  private queue: Tok[] = [];
  private last: Kind = '';
  private endsStatement = false;
  private count = 0;

  constructor(src: string) {
    this.src = src;
  }

  private mode(): Mode | undefined {
    return this.modes[this.modes.length - 1];
  }

  next(): Tok {
    const t = this.produce();
    this.last = t.kind;
    this.count++;
    return t;
  }

  private produce(): Tok {
    if (this.queue.length) {
      const t = this.queue.shift()!;
      this.endsStatement = ENDS_STATEMENT.has(t.kind);
      return t;
    }
    const m = this.mode();
    if (m?.kind !== 'gstring') {
      const semi = this.skipTrivia(m?.kind === 'interp');
      if (semi !== undefined) {
        this.endsStatement = false;
        return { kind: 'Semicolon', text: '', at: semi };
      }
    }
    const t = this.scan();
    this.track(t.kind);
    this.endsStatement = t.kind !== 'EOF' && ENDS_STATEMENT.has(t.kind);
    return t;
  }

  /**
   * Skips blanks and comments before a token; returns the position of a
   * statement-ending newline when one comes first.
   */
  private skipTrivia(inInterp: boolean): number | undefined {
    const s = this.src;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t') this.i++;
      else if (c === '\\' && (s[this.i + 1] === '\n' || s[this.i + 1] === '\r')) {
        this.i++;
        this.skipNewline();
      } else if (c === '\n' || c === '\r') {
        const top = this.brackets[this.brackets.length - 1];
        if (!inInterp && top !== '(' && top !== '[' && this.endsStatement && !this.continues(this.i)) {
          // The statement ends; its (textless) end token sits after the newline.
          this.endsStatement = false;
          this.skipNewline();
          return this.i;
        }
        this.skipNewline();
      } else if (c === '#' && s[this.i + 1] === '!' && this.count === 0 && this.i === 0) {
        while (this.i < s.length && s[this.i] !== '\n' && s[this.i] !== '\r') this.i++;
      } else if (c === '/' && s[this.i + 1] === '/') {
        while (this.i < s.length && s[this.i] !== '\n' && s[this.i] !== '\r') this.i++;
      } else if (c === '/' && s[this.i + 1] === '*') {
        const end = s.indexOf('*/', this.i + 2);
        const stop = end < 0 ? s.length : end + 2;
        const nl = /[\n\r]/.test(s.slice(this.i, stop));
        this.i = stop;
        // A comment spanning lines ends the statement as a newline would.
        const top = this.brackets[this.brackets.length - 1];
        if (nl && !inInterp && top !== '(' && top !== '[' && this.endsStatement && !this.continues(this.i)) {
          this.endsStatement = false;
          return stop;
        }
      } else return undefined;
    }
  }

  private skipNewline(): void {
    if (this.src[this.i] === '\r') this.i++;
    if (this.src[this.i] === '\n') this.i++;
  }

  /** Whether the text after position i (blank lines skipped) continues an expression. */
  private continues(i: number): boolean {
    const s = this.src;
    while (i < s.length) {
      const c = s[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
      else if (c === '\\' && (s[i + 1] === '\n' || s[i + 1] === '\r')) i += s[i + 1] === '\r' && s[i + 2] === '\n' ? 3 : 2;
      else break;
    }
    const c = s[i];
    if (c === '.') return true;
    if (c === '?') return s[i + 1] === '.' || s[i + 1] === ':' || (s[i + 1] === '?' && s[i + 2] === '.');
    if (c === '*') return s[i + 1] === '.';
    return false;
  }

  private track(kind: Kind): void {
    if (kind === 'LParen') this.brackets.push('(');
    else if (kind === 'LBrack' || kind === 'SafeIndex') this.brackets.push('[');
    else if (kind === 'LBrace') this.brackets.push('{');
    else if (kind === 'RParen' || kind === 'RBrack' || kind === 'RBrace') {
      const want = kind === 'RParen' ? '(' : kind === 'RBrack' ? '[' : '{';
      if (this.brackets[this.brackets.length - 1] === want) this.brackets.pop();
    }
  }

  private scan(): Tok {
    const s = this.src;
    const start = this.i;
    if (start >= s.length) return { kind: 'EOF', text: '', at: s.length };
    const m = this.mode();
    if (m?.kind === 'gstring') {
      this.modes.pop();
      return this.gstringBody(start, m.triple, false);
    }
    if (m?.kind === 'interp') {
      if (s[start] === '}') {
        if (m.braces === 0) {
          this.i++;
          this.modes.pop();
          return { kind: 'RBrace', text: '}', at: start };
        }
        m.braces--;
      } else if (s[start] === '{') m.braces++;
    }
    const c = s[start];
    if (c === '$' && s[start + 1] === '/') return this.dollarSlashy(start);
    const cp = codePointAt(s, start);
    if (identStart(cp)) return this.identifier(start);
    if (isDigit(c)) return this.number(start);
    if (c === "'") return this.singleQuoted(start);
    if (c === '"') {
      const triple = s.startsWith('"""', start);
      this.i = start + (triple ? 3 : 1);
      return this.gstringBody(start, triple, true);
    }
    if (c === '.' && isDigit(s[start + 1] ?? '')) return this.fraction(start);
    if (c === '/' && s[start + 1] !== '/' && s[start + 1] !== '=' && start + 1 < s.length && BEFORE_SLASHY.has(this.last)) {
      return this.slashy(start);
    }
    if (c === '!' && s[start + 1] === 'i') {
      for (const [word, kind] of [['instanceof', 'NotInstanceof'], ['in', 'NotIn']] as const) {
        if (s.startsWith(word, start + 1) && !identPart(codePointAt(s, start + 1 + word.length))) {
          this.i = start + 1 + word.length;
          return { kind, text: s.slice(start, this.i), at: start };
        }
      }
    }
    for (const [text, kind] of OPS_BY_CHAR.get(c) ?? []) {
      if (s.startsWith(text, start)) {
        this.i = start + text.length;
        return { kind, text, at: start };
      }
    }
    this.i = start + cp.length;
    return { kind: 'Error', text: cp, at: start };
  }

  private identifier(start: number): Tok {
    const s = this.src;
    let i = start;
    while (i < s.length) {
      const cp = codePointAt(s, i);
      if (!identPart(cp)) break;
      i += cp.length;
    }
    this.i = i;
    const text = s.slice(start, i);
    if (text === 'true' || text === 'false') return { kind: 'BoolLiteral', text, at: start };
    if (text === 'null') return { kind: 'NullLiteral', text, at: start };
    const kw = Object.hasOwn(KEYWORDS, text) ? KEYWORDS[text] : undefined;
    if (kw) return { kind: kw, text, at: start };
    return { kind: UPPER.test(codePointAt(text, 0)) ? 'CapitalizedIdentifier' : 'Identifier', text, at: start };
  }

  private digits(i: number, hex = false): number {
    const s = this.src;
    while (i < s.length && (isDigit(s[i]) || s[i] === '_' || (hex && /[a-fA-F]/.test(s[i])))) i++;
    return i;
  }

  private number(start: number): Tok {
    const s = this.src;
    const done = (i: number, kind: Kind): Tok => {
      this.i = i;
      return { kind, text: s.slice(start, i), at: start };
    };
    if (s[start] === '0') {
      const n = s[start + 1];
      if (n === 'x' || n === 'X') {
        const i = this.digits(start + 2, true);
        if (TYPE_SUFFIX.has(s[i])) return done(i + 1, FLOAT_SUFFIX.has(s[i]) ? 'FloatLiteral' : 'IntLiteral');
        return done(i, 'IntLiteral');
      }
      if (n === 'b' || n === 'B') {
        let i = start + 2;
        while (s[i] === '0' || s[i] === '1' || s[i] === '_') i++;
        return done(TYPE_SUFFIX.has(s[i]) ? i + 1 : i, 'IntLiteral');
      }
      if (n >= '0' && n <= '7') {
        let i = start + 1;
        while ((s[i] >= '0' && s[i] <= '7') || s[i] === '_') i++;
        if (!(s[i] === '8' || s[i] === '9' || (s[i] === '.' && isDigit(s[i + 1] ?? '')))) {
          return done(TYPE_SUFFIX.has(s[i]) ? i + 1 : i, 'IntLiteral');
        }
      }
    }
    let i = this.digits(start);
    let kind: Kind = 'IntLiteral';
    if (s[i] === '.' && isDigit(s[i + 1] ?? '')) {
      kind = 'FloatLiteral';
      i = this.digits(i + 1);
    }
    if (s[i] === 'e' || s[i] === 'E') {
      kind = 'FloatLiteral';
      i++;
      if (s[i] === '+' || s[i] === '-') i++;
      i = this.digits(i);
    }
    if (TYPE_SUFFIX.has(s[i])) {
      if (FLOAT_SUFFIX.has(s[i])) kind = 'FloatLiteral';
      i++;
    }
    return done(i, kind);
  }

  private fraction(start: number): Tok {
    const s = this.src;
    let i = this.digits(start + 1);
    if (s[i] === 'e' || s[i] === 'E') {
      i++;
      if (s[i] === '+' || s[i] === '-') i++;
      i = this.digits(i);
    }
    if (TYPE_SUFFIX.has(s[i])) i++;
    this.i = i;
    return { kind: 'FloatLiteral', text: s.slice(start, i), at: start };
  }

  private singleQuoted(start: number): Tok {
    const s = this.src;
    let i = start + 1;
    if (s.startsWith("''", i)) {
      i += 2;
      while (i < s.length) {
        if (s[i] === '\\') i += s[i + 1] === "'" || s[i + 1] === '\\' ? 2 : 1;
        else if (s.startsWith("'''", i)) {
          i += 3;
          break;
        } else i++;
      }
    } else {
      while (i < s.length) {
        const c = s[i];
        if (c === '\\') {
          const n = s[i + 1];
          if (n === "'" || n === '\\') i += 2;
          else if (n === '\r') i += s[i + 2] === '\n' ? 3 : 2;
          else if (n === '\n') i += 2;
          else i++;
        } else if (c === "'") {
          i++;
          break;
        } else if (c === '\n' || c === '\r') break;
        else i++;
      }
    }
    this.i = Math.min(i, s.length);
    return { kind: 'StringLiteral', text: s.slice(start, this.i), at: start };
  }

  /**
   * A double-quoted string from `start` (the opening quote, or the text after
   * an interpolation), up to its end or to the `$` of the next interpolation.
   */
  private gstringBody(start: number, triple: boolean, first: boolean): Tok {
    const s = this.src;
    let i = this.i;
    const end = (j: number): Tok => {
      this.i = j;
      return { kind: first ? 'GStringFull' : 'GStringEnd', text: s.slice(start, j), at: start };
    };
    while (i < s.length) {
      const c = s[i];
      if (c === '\\') {
        i += i + 1 < s.length ? 2 : 1;
        continue;
      }
      if (c === '$' && (s[i + 1] === '{' || identStart(codePointAt(s, i + 1)) && s[i + 1] !== '$')) {
        const tok: Tok = { kind: first ? 'GStringBegin' : 'GStringPart', text: s.slice(start, i + 1), at: start };
        this.i = i + 1;
        this.modes.push({ kind: 'gstring', triple });
        this.interpolation();
        return tok;
      }
      if (triple) {
        if (s.startsWith('"""', i)) return end(i + 3);
      } else {
        if (c === '"') return end(i + 1);
        if (c === '\n' || c === '\r') return end(i);
      }
      i++;
    }
    return end(s.length);
  }

  /** After `$`: `{` opens an expression; otherwise a dotted name, queued as tokens. */
  private interpolation(): void {
    const s = this.src;
    if (s[this.i] === '{') {
      this.queue.push({ kind: 'LBrace', text: '{', at: this.i });
      this.i++;
      this.modes.push({ kind: 'interp', braces: 0 });
      return;
    }
    const name = (): void => {
      const start = this.i;
      while (this.i < s.length) {
        const cp = codePointAt(s, this.i);
        if (!identPart(cp)) break;
        this.i += cp.length;
      }
      const text = s.slice(start, this.i);
      this.queue.push({ kind: UPPER.test(codePointAt(text, 0)) ? 'CapitalizedIdentifier' : 'Identifier', text, at: start });
    };
    name();
    while (s[this.i] === '.' && identStart(codePointAt(s, this.i + 1))) {
      this.queue.push({ kind: 'Dot', text: '.', at: this.i });
      this.i++;
      name();
    }
  }

  private slashy(start: number): Tok {
    const s = this.src;
    let i = start + 1;
    while (i < s.length) {
      if (s[i] === '/') {
        i++;
        break;
      }
      i += s[i] === '\\' && i + 1 < s.length ? 2 : 1;
    }
    this.i = Math.min(i, s.length);
    return { kind: 'SlashyStringLit', text: s.slice(start, this.i), at: start };
  }

  private dollarSlashy(start: number): Tok {
    const s = this.src;
    let i = start + 2;
    while (i < s.length) {
      if (s[i] === '/' && s[i + 1] === '$') {
        i += 2;
        break;
      }
      if (s[i] === '$' && (s[i + 1] === '$' || s[i + 1] === '/')) i += 2;
      else i++;
    }
    this.i = Math.min(i, s.length);
    return { kind: 'DollarSlashyStringLit', text: s.slice(start, this.i), at: start };
  }
}

// ---- Tree --------------------------------------------------------------------------------------

interface Node {
  kind: Kind;
  /** Tokens: their token; interior nodes: their children. */
  tok?: Tok;
  children: Node[];
}

class TooDeep extends Error {}

/** Bound on how deep the parser nests (beyond it the tree would be refused anyway). */
const MAX_NESTING = MAX_TREE_DEPTH + 8;

// Binding powers of the infix operators (higher binds tighter).
const BP = { assign: 2, ternary: 4, elvis: 6, implication: 8, or: 10, and: 12, bor: 14, bxor: 16, band: 18, equality: 20, relational: 22, shift: 24, range: 26, additive: 28, multiplicative: 30, power: 32, unary: 34, postfix: 36, member: 38, call: 40 };

const ASSIGN_OPS = ['Assign', 'PlusAssign', 'MinusAssign', 'StarAssign', 'DivAssign', 'ModAssign', 'PowerAssign', 'BitwiseAndAssign', 'BitwiseOrAssign', 'BitwiseXorAssign', 'LeftShiftAssign', 'RightShiftAssign', 'UnsignedRightShiftAssign', 'ElvisAssign'];

/** Operator token → [left binding power, right binding power, node kind]. */
const INFIX = new Map<Kind, [number, number, string]>();
for (const k of ASSIGN_OPS) INFIX.set(k, [BP.assign, BP.assign - 1, 'AssignExpr']);
INFIX.set('Question', [BP.ternary, 0, 'TernaryExpr']);
INFIX.set('Elvis', [BP.elvis, BP.elvis - 1, 'ElvisExpr']);
INFIX.set('Implication', [BP.implication, BP.implication, 'BinaryExpr']);
INFIX.set('Or', [BP.or, BP.or, 'BinaryExpr']);
INFIX.set('And', [BP.and, BP.and, 'BinaryExpr']);
INFIX.set('BitwiseOr', [BP.bor, BP.bor, 'BinaryExpr']);
INFIX.set('BitwiseXor', [BP.bxor, BP.bxor, 'BinaryExpr']);
INFIX.set('BitwiseAnd', [BP.band, BP.band, 'BinaryExpr']);
for (const k of ['Equal', 'NotEqual', 'Spaceship', 'IdentityEqual', 'IdentityNotEqual', 'Regex', 'Match']) INFIX.set(k, [BP.equality, BP.equality, 'BinaryExpr']);
for (const k of ['Lt', 'Gt', 'LtEqual', 'GtEqual', 'KwIn', 'NotIn']) INFIX.set(k, [BP.relational, BP.relational, 'BinaryExpr']);
for (const k of ['KwInstanceof', 'NotInstanceof']) INFIX.set(k, [BP.relational, BP.relational, 'InstanceofExpr']);
INFIX.set('KwAs', [BP.relational, BP.relational, 'CastExpr']);
for (const k of ['LeftShift', 'RightShift', 'UnsignedRightShift']) INFIX.set(k, [BP.shift, BP.shift, 'BinaryExpr']);
for (const k of ['Range', 'HalfOpenRight', 'HalfOpenLeft', 'FullOpen']) INFIX.set(k, [BP.range, BP.range, 'RangeExpr']);
for (const k of ['Plus', 'Minus']) INFIX.set(k, [BP.additive, BP.additive, 'BinaryExpr']);
for (const k of ['Star', 'Div', 'Mod']) INFIX.set(k, [BP.multiplicative, BP.multiplicative, 'BinaryExpr']);
INFIX.set('Power', [BP.power, BP.power - 1, 'BinaryExpr']);
for (const k of ['Inc', 'Dec']) INFIX.set(k, [BP.postfix, BP.postfix, 'PostfixExpr']);
INFIX.set('Dot', [BP.member, BP.member, 'PropertyExpr']);
INFIX.set('SafeNav', [BP.member, BP.member, 'SafeNavExpr']);
INFIX.set('Spread', [BP.member, BP.member, 'SpreadPropertyExpr']);
INFIX.set('MethodPointer', [BP.member, BP.member, 'MethodPointerExpr']);
INFIX.set('FieldAccess', [BP.member, BP.member, 'FieldAccessExpr']);
INFIX.set('MethodRef', [BP.member, BP.member, 'MethodRefExpr']);
for (const k of ['LParen', 'LBrace']) INFIX.set(k, [BP.call, 0, 'CallExpr']);
for (const k of ['LBrack', 'SafeIndex']) INFIX.set(k, [BP.call, 0, 'IndexExpr']);

/** Tokens that may start a command argument (`sh 'make'`, `echo x`). */
const COMMAND_ARG = new Set(['StringLiteral', 'GStringFull', 'GStringBegin', 'SlashyStringLit', 'DollarSlashyStringLit', 'IntLiteral', 'FloatLiteral', 'BoolLiteral', 'NullLiteral', 'Identifier', 'CapitalizedIdentifier', 'LParen', 'LBrack', 'KwNew', 'KwThis', 'KwSuper', 'BitwiseNot']);

/** Tokens that may start an expression. */
const EXPR_START = new Set(['Identifier', 'CapitalizedIdentifier', 'IntLiteral', 'FloatLiteral', 'StringLiteral', 'GStringFull', 'GStringBegin', 'SlashyStringLit', 'DollarSlashyStringLit', 'BoolLiteral', 'NullLiteral', 'KwThis', 'KwSuper', 'KwNew', 'KwSwitch', 'LParen', 'LBrack', 'LBrace', 'Plus', 'Minus', 'Star', 'Not', 'BitwiseNot', 'Inc', 'Dec', 'At', 'HalfOpenLeft', 'FullOpen', ...PRIMITIVES]);

const LITERAL_KEYS = new Set(['StringLiteral', 'GStringFull', 'SlashyStringLit', 'DollarSlashyStringLit', 'BoolLiteral', 'NullLiteral']);

class GroovyError extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

class Parser {
  private readonly lexer: Lexer;
  private toks: Tok[] = [];
  private pos = 0;
  /** Tokens forgotten from the front of `toks` (absolute index = dropped + index). */
  private dropped = 0;
  /** Absolute index of a `(` → absolute index just past its `)` (filled by lambdaAhead). */
  private afterParen = new Map<number, number>();
  /** Children of the nodes being built, innermost last. */
  private stack: Node[][] = [[]];
  private nesting = 0;
  private inParamDefault = 0;

  constructor(src: string) {
    this.lexer = new Lexer(src);
  }

  // -- tokens

  private la(n = 0): Tok {
    while (this.toks.length <= this.pos + n) {
      const t = this.lexer.next();
      this.toks.push(t);
      if (t.kind === 'EOF') {
        // EOF repeats
        while (this.toks.length <= this.pos + n) this.toks.push(t);
      }
    }
    return this.toks[this.pos + n];
  }
  private get cur(): Tok {
    return this.la(0);
  }
  private at(kind: Kind): boolean {
    return this.cur.kind === kind;
  }
  private peekKind(n = 1): Kind {
    return this.la(n).kind;
  }
  private take(): Tok {
    const t = this.cur;
    this.pos++;
    // Forget consumed tokens now and then (the lookahead never reaches back).
    if (this.pos > 4096) {
      this.toks = this.toks.slice(this.pos);
      this.dropped += this.pos;
      this.pos = 0;
    }
    this.top().push({ kind: t.kind, tok: t, children: [] });
    return t;
  }
  private expect(kind: Kind): void {
    if (this.at(kind)) {
      this.take();
      return;
    }
    this.fail(`expected ${kind}, got ${this.cur.kind}`);
  }
  private fail(message: string): never {
    throw new GroovyError(this.cur.at, message);
  }
  private skipSemis(): void {
    while (this.at('Semi') || this.at('Semicolon')) this.take();
  }
  private isSemi(n = 0): boolean {
    const k = this.peekKind(n);
    return k === 'Semi' || k === 'Semicolon';
  }

  // -- tree

  private top(): Node[] {
    return this.stack[this.stack.length - 1];
  }
  private mark(): number {
    return this.top().length;
  }
  private open(): void {
    if (++this.nesting > MAX_NESTING) throw new TooDeep();
    this.stack.push([]);
  }
  /** Closes the innermost node as `kind`, or wraps what was added since `mark` in a node. */
  private close(kind: Kind): void {
    const children = this.stack.pop()!;
    this.nesting--;
    this.top().push({ kind, children });
  }
  private wrap(mark: number, kind: Kind): void {
    const t = this.top();
    const children = t.splice(mark);
    t.push({ kind, children });
  }
  private node(kind: Kind, body: () => void): void {
    this.open();
    body();
    this.close(kind);
  }
  /** Builds a node from `mark` (the children already there become its first ones). */
  private nodeAt(mark: number, kind: Kind, body: () => void): void {
    const t = this.top();
    const first = t.splice(mark);
    this.open();
    this.top().push(...first);
    body();
    this.close(kind);
  }

  // -- file and statements

  parseFile(): Node {
    this.open();
    while (!this.at('EOF')) {
      this.statement();
      this.skipSemis();
    }
    this.take();
    const children = this.stack.pop()!;
    return { kind: 'FileNode', children };
  }

  private statement(): void {
    const k = this.cur.kind;
    switch (k) {
      case 'LBrace':
        if (this.closureAtStatement()) this.expressionStmt();
        else this.block();
        return;
      case 'KwIf':
        return this.ifStmt();
      case 'KwWhile':
        return this.node('WhileStmt', () => {
          this.take();
          this.parenCondition();
          this.skipSemis();
          this.blockOrStatement();
        });
      case 'KwDo':
        return this.node('DoWhileStmt', () => {
          this.take();
          this.blockOrStatement();
          this.expect('KwWhile');
          this.parenCondition();
        });
      case 'KwFor':
        return this.forStmt();
      case 'KwSwitch':
        return this.switchStmt();
      case 'KwTry':
        return this.tryStmt();
      case 'KwThrow':
        return this.node('ThrowStmt', () => {
          this.take();
          this.expr(0);
        });
      case 'KwReturn':
        return this.node('ReturnStmt', () => {
          this.take();
          if (EXPR_START.has(this.cur.kind)) this.expr(0);
        });
      case 'KwBreak':
      case 'KwContinue':
        return this.node(k === 'KwBreak' ? 'BreakStmt' : 'ContinueStmt', () => {
          this.take();
          if (isIdent(this.cur.kind)) this.take();
        });
      case 'KwAssert':
        return this.node('AssertStmt', () => {
          this.take();
          this.expr(0);
          if (this.at('Colon') || this.at('Comma')) {
            this.take();
            this.expr(0);
          }
        });
      case 'KwSynchronized':
        return this.node('SynchronizedStmt', () => {
          this.take();
          this.parenCondition();
          this.block();
        });
      case 'KwDef':
        return this.variableDecl();
      case 'KwFinal':
        if (this.classLikeAfterModifiers()) return this.modifiedDeclaration();
        return this.variableDecl();
      case 'KwPackage':
        return this.node('PackageDecl', () => {
          this.take();
          this.dottedName();
        });
      case 'KwImport':
        return this.importDecl();
      case 'KwClass':
      case 'KwInterface':
      case 'KwEnum':
      case 'KwTrait':
        return this.classLike(this.mark());
    }
    if (MODIFIERS.has(k) || k === 'At') return this.modifiedDeclaration();
    if (isPrimitive(k) && (isIdent(this.peekKind()) || this.peekKind() === 'LBrack')) return this.variableDecl();
    if (k === 'CapitalizedIdentifier' && this.typedDeclarationAhead()) return this.variableDecl();
    if (k === 'Identifier' && this.peekKind() === 'Colon') {
      return this.node('LabeledStmt', () => {
        this.take();
        this.take();
        this.statement();
      });
    }
    if (k === 'LParen' && this.multiAssignAhead()) {
      return this.node('ExpressionStmt', () => this.multiAssignBody());
    }
    this.expressionStmt();
  }

  private expressionStmt(): void {
    this.node('ExpressionStmt', () => {
      const m = this.mark();
      this.expr(0);
      if (COMMAND_ARG.has(this.cur.kind)) this.nodeAt(m, 'CallExpr', () => this.commandArgs());
    });
  }

  private commandArgs(): void {
    this.argument();
    while (this.at('Comma')) {
      this.take();
      this.argument();
    }
  }

  private block(): void {
    this.node('BlockStmt', () => {
      this.expect('LBrace');
      while (!this.at('RBrace') && !this.at('EOF')) {
        this.statement();
        this.skipSemis();
      }
      this.expect('RBrace');
    });
  }

  private blockOrStatement(): void {
    if (this.at('LBrace')) this.block();
    else this.statement();
  }

  private parenCondition(): void {
    this.expect('LParen');
    this.expr(0);
    this.expect('RParen');
  }

  /** `{ a -> ... }` at the start of a statement is a closure, other `{` a block. */
  private closureAtStatement(): boolean {
    if (this.peekKind() === 'Arrow') return true;
    let depth = 0;
    for (let i = 1; i < 80; i++) {
      const k = this.peekKind(i);
      if (k === 'EOF') return false;
      if (k === 'LBrace') depth++;
      else if (k === 'RBrace') {
        if (depth === 0) return false;
        depth--;
      } else if (k === 'Arrow' && depth === 0) return true;
      else if ((k === 'Semi' || k === 'Semicolon') && depth === 0) return false;
    }
    return false;
  }

  private ifStmt(): void {
    this.node('IfStmt', () => {
      this.take();
      this.parenCondition();
      this.skipSemis();
      this.blockOrStatement();
      this.skipSemis();
      if (this.at('KwElse')) {
        this.take();
        this.skipSemis();
        this.blockOrStatement();
      }
    });
  }

  private forStmt(): void {
    const m = this.mark();
    this.take();
    this.expect('LParen');
    if (this.forInAhead()) {
      this.nodeAt(m, 'ForInStmt', () => {
        for (;;) {
          if (this.at('KwIn') || this.at('Colon') || this.at('RParen') || this.at('EOF')) break;
          if (this.at('KwFinal')) this.take();
          if (this.at('KwDef') || isPrimitive(this.cur.kind) || this.at('CapitalizedIdentifier')) {
            this.take();
            if (this.at('LBrack') && this.peekKind() === 'RBrack') {
              this.take();
              this.take();
            }
          }
          if (!isIdent(this.cur.kind)) this.fail('expected identifier in for-in loop');
          this.take();
          if (!this.at('Comma')) break;
          this.take();
        }
        if (this.at('KwIn') || this.at('Colon')) this.take();
        else this.expect('KwIn');
        this.expr(0);
        this.expect('RParen');
        this.skipSemis();
        this.blockOrStatement();
      });
      return;
    }
    this.nodeAt(m, 'ForStmt', () => {
      if (!this.isSemi()) {
        this.forInit();
        while (this.at('Comma')) {
          this.take();
          if (this.isSemi()) break;
          this.forInit();
        }
      }
      this.expect('Semi');
      if (!this.isSemi()) this.expr(0);
      this.expect('Semi');
      if (!this.at('RParen')) {
        this.expr(0);
        while (this.at('Comma')) {
          this.take();
          this.expr(0);
        }
      }
      this.expect('RParen');
      this.skipSemis();
      this.blockOrStatement();
    });
  }

  /** Whether `in` or `:` comes before the first `;` or `)` at the top level of a `for (`. */
  private forInAhead(): boolean {
    let paren = 0;
    let other = 0;
    for (let i = 0; i < 120; i++) {
      const k = this.peekKind(i);
      if (k === 'EOF') return false;
      const top = paren === 0 && other === 0;
      if ((k === 'Semi' || k === 'Semicolon') && top) return false;
      if ((k === 'KwIn' || k === 'Colon') && top) return true;
      if (k === 'LParen') paren++;
      else if (k === 'RParen') {
        if (top) return false;
        if (paren > 0) paren--;
      } else if (k === 'LBrack' || k === 'LBrace') other++;
      else if ((k === 'RBrack' || k === 'RBrace') && other > 0) other--;
    }
    return false;
  }

  private forInit(): void {
    const nameAndValue = () => {
      if (isIdent(this.cur.kind)) this.take();
      this.initializer();
    };
    if (this.at('KwDef')) {
      this.take();
      if (this.at('LParen')) {
        this.balancedParens();
        this.initializer();
        return;
      }
      return nameAndValue();
    }
    if ((isPrimitive(this.cur.kind) && isIdent(this.peekKind())) || (this.at('CapitalizedIdentifier') && isIdent(this.peekKind()) && this.peekKind(2) === 'Assign')) {
      this.take();
      return nameAndValue();
    }
    this.expr(0);
  }

  private balancedParens(): void {
    let depth = 0;
    while (!this.at('EOF')) {
      const k = this.cur.kind;
      this.take();
      if (k === 'LParen') depth++;
      else if (k === 'RParen' && --depth === 0) return;
    }
  }

  private switchStmt(): void {
    const kind = this.switchKind();
    this.node(kind, () => {
      this.take();
      this.parenCondition();
      this.expect('LBrace');
      while (!this.at('RBrace') && !this.at('EOF')) {
        const isCase = this.at('KwCase');
        if (!isCase && !this.at('KwDefault')) this.fail("expected 'case' or 'default' in switch body");
        this.node(isCase ? 'CaseClause' : 'DefaultClause', () => {
          this.take();
          if (isCase) this.expr(0);
          if (this.at('Arrow')) this.take();
          else this.expect('Colon');
          while (!this.at('KwCase') && !this.at('KwDefault') && !this.at('RBrace') && !this.at('EOF')) {
            this.statement();
            this.skipSemis();
          }
        });
      }
      this.expect('RBrace');
    });
  }

  /** A switch whose first case uses `->` is a SwitchExpr. */
  private switchKind(): Kind {
    let i = 1;
    if (this.peekKind(i) !== 'LParen') return 'SwitchStmt';
    i++;
    for (let depth = 1; depth > 0; i++) {
      const k = this.peekKind(i);
      if (k === 'EOF') return 'SwitchStmt';
      if (k === 'LParen') depth++;
      else if (k === 'RParen') depth--;
    }
    while (this.isSemi(i)) i++;
    if (this.peekKind(i) !== 'LBrace') return 'SwitchStmt';
    i++;
    while (this.isSemi(i)) i++;
    const first = this.peekKind(i);
    if (first === 'KwDefault') {
      i++;
      while (this.isSemi(i)) i++;
      return this.peekKind(i) === 'Arrow' ? 'SwitchExpr' : 'SwitchStmt';
    }
    if (first !== 'KwCase') return 'SwitchStmt';
    i++;
    for (let depth = 0; ; i++) {
      const k = this.peekKind(i);
      if (k === 'EOF') return 'SwitchStmt';
      if (k === 'LParen' || k === 'LBrack' || k === 'LBrace') depth++;
      else if ((k === 'RParen' || k === 'RBrack' || k === 'RBrace') && depth > 0) depth--;
      else if (k === 'Colon' && depth === 0) return 'SwitchStmt';
      else if (k === 'Arrow' && depth === 0) return 'SwitchExpr';
    }
  }

  private tryStmt(): void {
    this.node('TryStmt', () => {
      this.take();
      if (this.at('LParen')) this.balancedParens();
      this.block();
      this.skipSemis();
      while (this.at('KwCatch')) {
        this.node('CatchClause', () => this.catchBody());
        this.skipSemis();
      }
      if (this.at('KwFinally')) {
        this.node('FinallyClause', () => {
          this.take();
          this.block();
        });
      }
    });
  }

  private catchBody(): void {
    this.take();
    this.expect('LParen');
    if (this.at('KwFinal')) this.take();
    if (this.at('KwDef')) {
      this.take();
      if (isIdent(this.cur.kind)) this.take();
      else if (!this.at('RParen')) this.fail('expected variable name in catch clause');
    } else if (isIdent(this.cur.kind) && this.peekKind() === 'RParen') {
      this.take();
    } else if (isIdent(this.cur.kind)) {
      this.qualifiedName();
      while (this.at('BitwiseOr')) {
        this.take();
        if (!isIdent(this.cur.kind)) this.fail("expected type name after '|' in catch clause");
        this.qualifiedName();
      }
      if (isIdent(this.cur.kind)) this.take();
      else if (!this.at('RParen')) this.fail('expected variable name in catch clause');
    } else if (!this.at('RParen')) this.fail('expected type name or variable name in catch clause');
    this.expect('RParen');
    this.block();
  }

  private qualifiedName(): void {
    this.take();
    while (this.at('Dot') && isIdent(this.peekKind())) {
      this.take();
      this.take();
    }
  }

  private dottedName(): void {
    if (!isIdent(this.cur.kind)) this.fail('expected identifier');
    this.qualifiedName();
  }

  private importDecl(): void {
    this.node('ImportDecl', () => {
      this.take();
      if (this.at('KwStatic')) this.take();
      this.dottedName();
      if (this.at('Dot') && this.peekKind() === 'Star') {
        this.take();
        this.take();
      }
      if (this.at('KwAs')) {
        this.take();
        if (!isIdent(this.cur.kind)) this.fail("expected identifier after 'as' in import");
        this.take();
      }
    });
  }

  /** Whether modifiers and annotations from the next token on lead to a class-like declaration. */
  private classLikeAfterModifiers(): boolean {
    for (let i = 1; i < 80; ) {
      const k = this.peekKind(i);
      if (k === 'Semi' || k === 'Semicolon' || MODIFIERS.has(k)) i++;
      else if (k === 'KwClass' || k === 'KwInterface' || k === 'KwEnum' || k === 'KwTrait') return true;
      else if (k === 'At') {
        if (this.peekKind(i + 1) === 'KwInterface') return true;
        i++;
        if (!isIdent(this.peekKind(i))) return false;
        i++;
        while (this.peekKind(i) === 'Dot' && isIdent(this.peekKind(i + 1))) i += 2;
        if (this.peekKind(i) === 'LParen') {
          for (let depth = 1, j = i + 1; ; j++) {
            const t = this.peekKind(j);
            if (t === 'EOF') return false;
            if (t === 'LParen') depth++;
            else if (t === 'RParen' && --depth === 0) {
              i = j + 1;
              break;
            }
          }
        }
      } else return false;
    }
    return false;
  }

  /**
   * Modifiers and annotations, then what they declare: `@Library('x') _`,
   * `@Grab(...) import ...`, `@Field def x = 1`, `static void main(args) { }`.
   */
  private modifiedDeclaration(): void {
    const m = this.mark();
    for (;;) {
      if (MODIFIERS.has(this.cur.kind) || this.isSemi()) this.take();
      else if (this.at('At') && this.peekKind() !== 'KwInterface') this.annotation();
      else break;
    }
    const k = this.cur.kind;
    if (k === 'At') return this.annotationDecl(m);
    if (k === 'KwClass' || k === 'KwInterface' || k === 'KwEnum' || k === 'KwTrait') return this.classLike(m);
    if (k === 'KwImport') {
      this.nodeAt(m, 'ImportDecl', () => this.importDecl());
      return;
    }
    this.memberAt(m);
  }

  /** `class`, `interface`, `enum` or `trait` (current), its node starting at `m` (modifiers). */
  private classLike(m: number): void {
    const k = this.cur.kind;
    const kind = k === 'KwClass' ? 'ClassDecl' : k === 'KwInterface' ? 'InterfaceDecl' : k === 'KwEnum' ? 'EnumDecl' : 'TraitDecl';
    this.nodeAt(m, kind, () => {
      this.take();
      this.declName();
      if (k === 'KwEnum') {
        this.implementsClause();
        this.expect('LBrace');
        this.enumConstants();
        if (this.isSemi()) this.take();
        this.members();
        return;
      }
      if (k !== 'KwTrait' && this.at('Lt')) this.typeParameters();
      if (this.at('KwExtends')) {
        this.take();
        this.typeName();
        if (k === 'KwInterface') {
          while (this.at('Comma')) {
            this.take();
            this.typeName();
          }
        }
      }
      if (k !== 'KwInterface') this.implementsClause();
      this.classBody();
    });
  }

  /** `@interface Name { ... }`, from `m`. */
  private annotationDecl(m: number): void {
    this.nodeAt(m, 'AnnotationDecl', () => {
      this.take();
      this.take();
      this.declName();
      this.classBody();
    });
  }

  private declName(): void {
    if (isIdent(this.cur.kind)) this.qualifiedName();
    else this.expect('CapitalizedIdentifier');
  }

  private implementsClause(): void {
    if (!this.at('KwImplements')) return;
    this.take();
    this.typeName();
    while (this.at('Comma')) {
      this.take();
      this.typeName();
    }
  }

  private classBody(): void {
    this.skipSemis();
    this.expect('LBrace');
    this.members();
  }

  /** Members up to and including the closing brace. */
  private members(): void {
    while (!this.at('RBrace') && !this.at('EOF')) {
      this.classMember();
      this.skipSemis();
    }
    this.expect('RBrace');
  }

  private classMember(): void {
    const m = this.mark();
    for (;;) {
      if (MODIFIERS.has(this.cur.kind) || this.isSemi()) this.take();
      else if (this.at('At') && this.peekKind() !== 'KwInterface') this.annotation();
      else break;
    }
    const k = this.cur.kind;
    if (k === 'KwClass' || k === 'KwInterface' || k === 'KwEnum' || k === 'KwTrait') return this.classLike(m);
    if (k === 'LBrace') {
      this.nodeAt(m, 'BlockStmt', () => this.block());
      return;
    }
    if (k === 'At') return this.annotationDecl(m);
    this.memberAt(m);
  }

  private enumConstants(): void {
    if (!isIdent(this.cur.kind)) return;
    this.enumConstant();
    while (this.at('Comma')) {
      this.take();
      if (this.isSemi() || this.at('RBrace') || !isIdent(this.cur.kind)) break;
      this.enumConstant();
    }
  }

  private enumConstant(): void {
    this.node('EnumConstant', () => {
      while (this.at('At') && this.peekKind() !== 'KwInterface') this.annotation();
      if (!isIdent(this.cur.kind)) this.fail('expected enum constant name');
      this.take();
      if (this.at('LParen')) this.argList();
      if (this.at('LBrace')) this.classBody();
    });
  }

  private annotation(): void {
    this.node('AnnotationNode', () => {
      this.take();
      this.typeName();
      if (this.at('LParen')) this.argList();
    });
  }

  /** What follows annotations: a method or a field (with optional type), from `mark`. */
  private memberAt(m: number): void {
    if (this.at('Lt')) this.typeParameters();
    if (this.at('KwDef')) {
      this.take();
      if (this.at('Lt')) {
        this.typeParameters();
        if (this.typeBeforeName() || (isPrimitive(this.cur.kind) && isIdent(this.peekKind()))) this.typeName();
      }
    } else if (this.at('KwVoid')) this.take();
    else if (isPrimitive(this.cur.kind)) this.typeName();
    else if (this.typeBeforeName()) this.typeName();
    const k = this.cur.kind;
    if (!isIdent(k) && !isKeyword(k) && k !== 'StringLiteral' && k !== 'GStringFull') this.fail('expected member name in class body');
    this.take();
    if (this.at('LParen')) {
      this.nodeAt(m, 'MethodDecl', () => {
        this.parameterList();
        this.throwsClause();
        if (this.at('KwDefault')) {
          this.take();
          this.expr(0);
        }
        this.skipSemis();
        if (this.at('LBrace')) this.block();
      });
      return;
    }
    this.nodeAt(m, 'FieldDecl', () => {
      this.declarators('expected field name after comma');
    });
  }

  /** An optional `= expr`. */
  private initializer(): void {
    if (this.at('Assign')) {
      this.take();
      this.expr(0);
    }
  }

  /** The rest of a declaration after its first name: `[= expr] (, name [= expr])*`. */
  private declarators(missingName: string): void {
    this.initializer();
    while (this.at('Comma')) {
      this.take();
      if (!isIdent(this.cur.kind)) this.fail(missingName);
      this.take();
      this.initializer();
    }
  }

  private throwsClause(): void {
    if (!this.at('KwThrows')) return;
    this.take();
    this.typeName();
    while (this.at('Comma')) {
      this.take();
      this.typeName();
    }
  }

  /** `def x = 1`, `String s`, `def (a, b) = f()`, `def f(x) { }` (a MethodDecl). */
  private variableDecl(): void {
    const m = this.mark();
    if (this.at('KwFinal')) this.take();
    if (this.at('KwDef')) {
      this.take();
      if (this.at('LParen')) {
        this.nodeAt(m, 'VariableDecl', () => {
          this.take();
          for (;;) {
            if (this.at('CapitalizedIdentifier') && isIdent(this.peekKind())) this.typeName();
            else if (isIdent(this.cur.kind) && this.peekKind() === 'Dot') this.typeName();
            else if (isPrimitive(this.cur.kind) && isIdent(this.peekKind())) this.take();
            if (!isIdent(this.cur.kind)) this.fail('expected variable name');
            this.take();
            if (!this.at('Comma')) break;
            this.take();
          }
          this.expect('RParen');
          this.initializer();
        });
        return;
      }
    } else if (isPrimitive(this.cur.kind)) {
      this.take();
      while (this.at('LBrack') && this.peekKind() === 'RBrack') {
        this.take();
        this.take();
      }
    } else if (this.at('CapitalizedIdentifier')) this.typeName();
    else if (!(this.at('Identifier') && this.peekKind() === 'Assign')) this.fail('expected type in variable declaration');
    if (!isIdent(this.cur.kind)) this.fail('expected variable name');
    this.take();
    if (this.at('LParen')) {
      this.nodeAt(m, 'MethodDecl', () => {
        this.parameterList();
        this.throwsClause();
        if (this.at('LBrace')) this.block();
      });
      return;
    }
    this.nodeAt(m, 'VariableDecl', () => {
      this.declarators('expected variable name');
    });
  }

  private parameterList(): void {
    this.expect('LParen');
    if (!this.at('RParen')) {
      this.parameter();
      while (this.at('Comma')) {
        this.take();
        if (this.at('RParen')) break;
        this.parameter();
      }
    }
    this.expect('RParen');
  }

  private parameter(): void {
    while (this.at('At') && this.peekKind() !== 'KwInterface') this.annotation();
    if (this.at('KwFinal')) this.take();
    if (this.at('KwDef')) this.take();
    else if (isPrimitive(this.cur.kind) && (isIdent(this.peekKind()) || this.peekKind() === 'Ellipsis' || this.peekKind() === 'LBrack')) this.typeName();
    else if (this.parameterTypeAhead()) this.typeName();
    if (this.at('Ellipsis')) this.take();
    if (!isIdent(this.cur.kind)) this.fail('expected parameter name');
    this.take();
    this.initializer();
  }

  /** The position after a type written at `start` (`a.b.C<…>[]`), or -1 when there is none. */
  private typeEnd(start: number): number {
    const k0 = this.peekKind(start);
    if (!(k0 === 'CapitalizedIdentifier' || (k0 === 'Identifier' && this.peekKind(start + 1) === 'Dot'))) return -1;
    let i = start;
    for (;;) {
      if (!isIdent(this.peekKind(i))) return -1;
      i++;
      if (this.peekKind(i) === 'Dot') {
        if (!isIdent(this.peekKind(i + 1))) return -1;
        i++;
        continue;
      }
      break;
    }
    if (this.peekKind(i) === 'Lt') {
      i = this.afterTypeArguments(i + 1);
      if (i < 0) return -1;
    }
    while (this.peekKind(i) === 'LBrack' && this.peekKind(i + 1) === 'RBrack') i += 2;
    return i;
  }

  /** After `<` at i-1: the position after the matching `>` (or -1 at the end of the input). */
  private afterTypeArguments(i: number): number {
    for (let depth = 1; depth > 0; i++) {
      const k = this.peekKind(i);
      if (k === 'EOF') return -1;
      if (k === 'Lt') depth++;
      else if (k === 'Gt') depth--;
      else if (k === 'RightShift') depth -= 2;
      else if (k === 'UnsignedRightShift') depth -= 3;
    }
    return i;
  }

  private parameterTypeAhead(): boolean {
    const i = this.typeEnd(0);
    if (i < 0) return false;
    const k = this.peekKind(i);
    return isIdent(k) || k === 'Ellipsis' || isKeyword(k);
  }

  private typeBeforeName(): boolean {
    const i = this.typeEnd(0);
    if (i < 0) return false;
    const k = this.peekKind(i);
    return isIdent(k) || k === 'StringLiteral' || k === 'GStringFull' || isKeyword(k);
  }

  /** `Type name` at statement level (a declaration, not a command like `Foo bar`)? */
  private typedDeclarationAhead(): boolean {
    const next = this.peekKind();
    if (isIdent(next)) return true;
    if (next === 'Lt') {
      const i = this.afterTypeArguments(2);
      return i >= 0 && isIdent(this.peekKind(i));
    }
    if (next === 'LBrack') return this.peekKind(2) === 'RBrack' && isIdent(this.peekKind(3));
    return false;
  }

  private multiAssignAhead(): boolean {
    for (let i = 1; ; i += 2) {
      if (!isIdent(this.peekKind(i))) return false;
      const next = this.peekKind(i + 1);
      if (next === 'Comma') continue;
      return next === 'RParen' && this.peekKind(i + 2) === 'Assign';
    }
  }

  /** `(a, b) = value` (the parenthesis is current). */
  private multiAssignBody(): void {
    this.take();
    for (;;) {
      if (!isIdent(this.cur.kind)) this.fail('expected variable name');
      this.take();
      if (!this.at('Comma')) break;
      this.take();
    }
    this.expect('RParen');
    this.initializer();
  }

  private typeParameters(): void {
    this.take();
    let depth = 1;
    while (depth > 0 && !this.at('EOF')) {
      const k = this.cur.kind;
      if (k === 'Lt') depth++;
      else if (k === 'Gt') depth--;
      else if (k === 'RightShift') depth -= 2;
      else if (k === 'UnsignedRightShift') depth -= 3;
      this.take();
    }
  }

  private typeName(): void {
    if (isPrimitive(this.cur.kind)) {
      this.take();
    } else {
      if (!isIdent(this.cur.kind)) this.fail('expected type name');
      this.qualifiedName();
      if (this.at('Lt')) this.typeParameters();
    }
    while (this.at('LBrack') && this.peekKind() === 'RBrack') {
      this.take();
      this.take();
    }
  }

  // -- expressions

  // Every level of recursion below builds a node (open/nodeAt), so MAX_NESTING, checked
  // there, bounds the recursion too; array initializers, which nest without nodes, are read
  // without recursion.
  private expr(minBP: number): void {
    const m = this.mark();
    this.prefix();
    for (;;) {
      if (this.isSemi() && this.continuesAfterSemis()) this.skipSemis();
      const k = this.cur.kind;
      const info = INFIX.get(k);
      if (!info || info[0] <= minBP) {
        if (minBP < BP.call && COMMAND_ARG.has(k)) {
          this.nodeAt(m, 'CallExpr', () => this.commandArgs());
          continue;
        }
        return;
      }
      const [, right, kind] = info;
      if (k === 'Question') {
        this.nodeAt(m, 'TernaryExpr', () => {
          this.take();
          this.expr(0);
          if (this.isSemi() && this.kindAfterSemis() === 'Colon') this.skipSemis();
          this.expect('Colon');
          this.expr(BP.ternary - 1);
        });
      } else if (kind === 'PostfixExpr') {
        this.nodeAt(m, kind, () => this.take());
      } else if (kind === 'PropertyExpr' || kind === 'SafeNavExpr' || kind === 'SpreadPropertyExpr' || kind === 'MethodPointerExpr' || kind === 'FieldAccessExpr') {
        this.nodeAt(m, kind, () => this.member());
      } else if (kind === 'MethodRefExpr') {
        this.nodeAt(m, kind, () => {
          this.take();
          const n = this.cur.kind;
          if (!(isIdent(n) || n === 'KwNew' || n === 'StringLiteral')) this.fail('expected identifier after ::');
          this.take();
        });
      } else if (kind === 'CallExpr') {
        this.nodeAt(m, kind, () => {
          if (this.at('LParen')) this.argList();
          if (this.at('LBrace')) this.closure();
        });
      } else if (kind === 'IndexExpr') {
        this.nodeAt(m, kind, () => {
          this.take();
          if (!this.at('RBrack')) {
            this.expr(0);
            while (this.at('Comma')) {
              this.take();
              if (this.at('RBrack')) break;
              this.expr(0);
            }
          }
          this.expect('RBrack');
        });
      } else if (kind === 'InstanceofExpr' || kind === 'CastExpr') {
        this.nodeAt(m, kind, () => {
          this.take();
          this.typeName();
        });
      } else {
        this.nodeAt(m, kind, () => {
          this.take();
          this.expr(right);
        });
      }
    }
  }

  private kindAfterSemis(): Kind {
    let i = 1;
    while (this.isSemi(i)) i++;
    return this.peekKind(i);
  }

  /** A line that starts with `.`, `?.`, `*.`, `.&`, `.@`, `::` or `?` continues the expression. */
  private continuesAfterSemis(): boolean {
    const k = this.kindAfterSemis();
    return ['Dot', 'SafeNav', 'Spread', 'MethodPointer', 'FieldAccess', 'MethodRef', 'Question'].includes(k);
  }

  /** After `.` (or `?.`, `*.`, `.&`, `.@`): the member's name. */
  private member(): void {
    this.take();
    const k = this.cur.kind;
    if (isIdent(k) || isKeyword(k) || k === 'BoolLiteral' || k === 'NullLiteral' || k === 'StringLiteral' || k === 'GStringFull' || k === 'SlashyStringLit' || k === 'DollarSlashyStringLit') {
      this.take();
    } else if (k === 'GStringBegin') this.gstring();
    else if (k === 'LParen') {
      this.take();
      this.expr(0);
      this.expect('RParen');
    } else if (k === 'At') {
      this.take();
      if (!isIdent(this.cur.kind)) this.fail('expected identifier after @');
      this.take();
    } else this.fail('expected identifier after member access operator');
  }

  private prefix(): void {
    const k = this.cur.kind;
    switch (k) {
      case 'IntLiteral':
      case 'FloatLiteral':
      case 'StringLiteral':
      case 'GStringFull':
      case 'SlashyStringLit':
      case 'DollarSlashyStringLit':
        return this.node('LiteralExpr', () => this.take());
      case 'GStringBegin':
        return this.gstring();
      case 'BoolLiteral':
        return this.node('BoolExpr', () => this.take());
      case 'NullLiteral':
        return this.node('NullExpr', () => this.take());
      case 'Identifier':
      case 'CapitalizedIdentifier':
        if (this.peekKind() === 'Arrow' && this.inParamDefault === 0) {
          return this.node('LambdaExpr', () => {
            this.take();
            this.take();
            this.lambdaBody();
          });
        }
        return this.node('IdentExpr', () => this.take());
      case 'KwThis':
      case 'KwSuper':
        return this.node('IdentExpr', () => this.take());
      case 'LParen':
        return this.parenthesised();
      case 'LBrace':
        return this.closure();
      case 'LBrack':
        return this.listOrMap();
      case 'Star':
        return this.node('SpreadExpr', () => {
          this.take();
          if (this.at('Colon')) this.take();
          this.expr(BP.unary);
        });
      case 'At':
        return this.annotation();
      case 'Plus':
      case 'Minus':
      case 'Not':
      case 'BitwiseNot':
      case 'Inc':
      case 'Dec':
        return this.node('UnaryExpr', () => {
          this.take();
          this.expr(BP.unary);
        });
      case 'KwNew':
        return this.newExpr();
      case 'KwSwitch':
        return this.switchStmt();
      case 'HalfOpenLeft':
      case 'FullOpen':
        return this.node('RangeExpr', () => {
          this.take();
          this.expr(BP.range);
        });
    }
    if (isPrimitive(k)) return this.node('IdentExpr', () => this.take());
    this.fail('expected expression');
  }

  private parenthesised(): void {
    if (this.lambdaAhead()) {
      this.node('LambdaExpr', () => {
        this.take();
        if (!this.at('RParen')) {
          this.closureParam();
          while (this.at('Comma')) {
            this.take();
            if (this.at('RParen')) break;
            this.closureParam();
          }
        }
        this.expect('RParen');
        this.expect('Arrow');
        this.lambdaBody();
      });
      return;
    }
    if (this.castAhead()) {
      this.node('CastExpr', () => {
        this.take();
        this.typeName();
        this.expect('RParen');
        this.expr(BP.unary);
      });
      return;
    }
    if (this.multiAssignAhead()) {
      this.node('AssignExpr', () => this.multiAssignBody());
      return;
    }
    this.node('ParenExpr', () => {
      this.take();
      this.expr(0);
      this.expect('RParen');
    });
  }

  /**
   * `(params) -> body`? The scan to the matching `)` records every parenthesis pair it passes, so
   * that nested parentheses are not scanned again (linear time on `((((…))))`).
   */
  private lambdaAhead(): boolean {
    const here = this.dropped + this.pos;
    let end = this.afterParen.get(here);
    if (end === undefined) {
      const open: number[] = [here];
      for (let i = 1; open.length > 0; i++) {
        const k = this.peekKind(i);
        if (k === 'EOF') return false;
        const at = this.dropped + this.pos + i;
        if (k === 'LParen') {
          const known = this.afterParen.get(at);
          if (known !== undefined) {
            i = known - this.dropped - this.pos - 1;
            continue;
          }
          open.push(at);
        } else if (k === 'RParen') this.afterParen.set(open.pop()!, at + 1);
      }
      end = this.afterParen.get(here)!;
    }
    return this.peekKind(end - this.dropped - this.pos) === 'Arrow';
  }

  private lambdaBody(): void {
    if (this.at('LBrace')) this.block();
    else this.expr(0);
  }

  /** `(Type) value`: a type in parentheses followed by something that starts an expression. */
  private castAhead(): boolean {
    let i = 1;
    const first = this.peekKind(i);
    if (isPrimitive(first)) {
      i++;
      if (this.peekKind(i) === 'LBrack' && this.peekKind(i + 1) === 'RBrack') i += 2;
      return this.peekKind(i) === 'RParen' && EXPR_START.has(this.peekKind(i + 1));
    }
    if (first === 'Identifier') {
      if (this.peekKind(i + 1) !== 'Dot') return false;
    } else if (first !== 'CapitalizedIdentifier') return false;
    let sawCapital = first === 'CapitalizedIdentifier';
    let lastKind: Kind = '';
    for (;;) {
      const k = this.peekKind(i);
      if (!isIdent(k)) return false;
      if (k === 'CapitalizedIdentifier') sawCapital = true;
      lastKind = k;
      i++;
      if (this.peekKind(i) === 'Dot') {
        if (!isIdent(this.peekKind(i + 1))) return false;
        i++;
        continue;
      }
      break;
    }
    if (first === 'Identifier' && (!sawCapital || lastKind !== 'CapitalizedIdentifier')) return false;
    if (this.peekKind(i) === 'Lt') {
      i = this.afterTypeArguments(i + 1);
      if (i < 0) return false;
    }
    while (this.peekKind(i) === 'LBrack' && this.peekKind(i + 1) === 'RBrack') i += 2;
    return this.peekKind(i) === 'RParen' && EXPR_START.has(this.peekKind(i + 1));
  }

  private newExpr(): void {
    this.node('NewExpr', () => {
      this.take();
      this.typeName();
      if (this.at('LParen')) {
        this.argList();
        if (this.at('LBrace')) this.closure();
      } else if (this.at('LBrack')) {
        while (this.at('LBrack')) {
          this.take();
          if (!this.at('RBrack')) this.expr(0);
          this.expect('RBrack');
        }
        if (this.at('LBrace')) this.arrayInitializer();
      } else if (this.at('LBrace')) this.arrayInitializer();
    });
  }

  /** `{a, {b, c}, d}` after `new T[]`: braces with elements, nested to any depth, no nodes. */
  private arrayInitializer(): void {
    this.take();
    let depth = 1;
    let afterElement = this.at('RBrace');
    for (;;) {
      if (!afterElement) {
        if (this.at('LBrace')) {
          this.take();
          depth++;
          afterElement = this.at('RBrace');
          continue;
        }
        this.expr(0);
        afterElement = true;
      }
      if (this.at('Comma')) {
        this.take();
        if (!this.at('RBrace')) {
          afterElement = false;
          continue;
        }
      }
      this.expect('RBrace');
      if (--depth === 0) return;
    }
  }

  private argList(): void {
    this.expect('LParen');
    if (!this.at('RParen')) {
      this.argument();
      while (this.at('Comma')) {
        this.take();
        if (this.at('RParen')) break;
        this.argument();
      }
    }
    this.expect('RParen');
  }

  /** An argument, or a named one (`name: value`, `'key': value`). */
  private argument(): void {
    const k = this.cur.kind;
    if (this.peekKind() === 'Colon' && (isIdent(k) || isKeyword(k) || LITERAL_KEYS.has(k))) this.mapEntry();
    else this.expr(0);
  }

  private mapEntry(): void {
    this.node('MapEntry', () => {
      const k = this.cur.kind;
      if ((isIdent(k) || isKeyword(k)) && this.peekKind() === 'Colon') this.node('IdentExpr', () => this.take());
      else this.expr(0);
      this.expect('Colon');
      this.expr(0);
    });
  }

  private gstring(): void {
    this.node('GStringExpr', () => {
      this.take();
      for (;;) {
        const k = this.cur.kind;
        if (k === 'GStringEnd') {
          this.take();
          return;
        }
        if (k === 'EOF') return;
        if (k === 'GStringPart') this.take();
        else if (k === 'LBrace') {
          this.take();
          if (!this.at('RBrace')) {
            if (this.at('Arrow') || this.closureParamsAhead()) {
              if (this.at('Arrow')) this.take();
              else {
                this.closureParams();
                this.expect('Arrow');
              }
            }
            while (!this.at('RBrace') && !this.at('EOF')) {
              this.skipSemis();
              if (this.at('RBrace') || this.at('EOF')) break;
              this.statement();
              this.skipSemis();
            }
          }
          this.expect('RBrace');
        } else if (isIdent(k)) {
          this.node('GStringPath', () => {
            this.take();
            while (this.at('Dot')) {
              this.take();
              if (!isIdent(this.cur.kind)) break;
              this.take();
            }
          });
        } else this.fail('expected expression');
      }
    });
  }

  private closure(): void {
    this.node('ClosureExpr', () => {
      this.take();
      if (this.at('Arrow')) this.take();
      else if (!this.at('RBrace') && this.closureParamsAhead()) {
        this.closureParams();
        this.expect('Arrow');
      }
      while (!this.at('RBrace') && !this.at('EOF')) {
        this.statement();
        this.skipSemis();
      }
      this.expect('RBrace');
    });
  }

  private closureParamsAhead(): boolean {
    const k = this.cur.kind;
    const next = this.peekKind();
    if (isIdent(k) && next === 'Arrow') return true;
    if (isIdent(k) && (next === 'Assign' || next === 'Comma')) return this.arrowBeforeBody();
    if (this.parameterTypeAhead()) return this.arrowBeforeBody();
    if (isPrimitive(k) && (isIdent(next) || next === 'LBrack')) return this.arrowBeforeBody();
    if ((k === 'KwDef' || k === 'KwFinal') && isIdent(next)) return this.arrowBeforeBody();
    return false;
  }

  private arrowBeforeBody(): boolean {
    let depth = 0;
    for (let i = 0; i < 80; i++) {
      const k = this.peekKind(i);
      if (k === 'Arrow' && depth === 0) return true;
      if (k === 'LBrace') depth++;
      else if (k === 'RBrace') {
        if (depth === 0) return false;
        depth--;
      } else if ((k === 'Semi' || k === 'Semicolon' || k === 'EOF') && depth === 0) return false;
    }
    return false;
  }

  private closureParams(): void {
    this.closureParam();
    while (this.at('Comma')) {
      this.take();
      this.closureParam();
    }
  }

  private closureParam(): void {
    const k = this.cur.kind;
    if ((k === 'KwDef' || k === 'KwFinal') && isIdent(this.peekKind())) this.take();
    else if (isPrimitive(k) && (isIdent(this.peekKind()) || this.peekKind() === 'LBrack')) this.typeName();
    else if (this.parameterTypeAhead()) this.typeName();
    if (this.at('Ellipsis')) this.take();
    if (!isIdent(this.cur.kind)) this.fail('expected parameter name');
    this.take();
    if (this.at('Assign')) {
      this.take();
      this.inParamDefault++;
      this.expr(0);
      this.inParamDefault--;
    }
  }

  private listOrMap(): void {
    const next = this.peekKind();
    if (next === 'Colon') {
      this.node('MapExpr', () => {
        this.take();
        this.take();
        this.expect('RBrack');
      });
      return;
    }
    if (next === 'RBrack') {
      this.node('ListExpr', () => {
        this.take();
        this.take();
      });
      return;
    }
    const outer = this.mark();
    this.open();
    this.take();
    const entries = () => {
      while (this.at('Comma')) {
        this.take();
        if (this.at('RBrack')) break;
        if (this.at('Star') && this.peekKind() === 'Colon') this.expr(0);
        else this.mapEntry();
      }
      this.expect('RBrack');
    };
    const k = this.cur.kind;
    if ((isIdent(k) || isKeyword(k)) && this.peekKind() === 'Colon') {
      this.mapEntry();
      entries();
      this.close('MapExpr');
      return;
    }
    if (k === 'Star' && this.peekKind() === 'Colon') {
      this.expr(0);
      entries();
      this.close('MapExpr');
      return;
    }
    const first = this.mark();
    this.expr(0);
    if (this.at('Colon')) {
      this.nodeAt(first, 'MapEntry', () => {
        this.take();
        this.expr(0);
      });
      entries();
      this.close('MapExpr');
      return;
    }
    while (this.at('Comma')) {
      this.take();
      if (this.at('RBrack')) break;
      this.expr(0);
    }
    this.expect('RBrack');
    this.close('ListExpr');
    void outer;
  }
}

// ---- Output --------------------------------------------------------------------------------------

interface OutNode {
  kind: string;
  text?: string;
  line: number;
  column: number;
  children?: OutNode[];
}

/** Byte-based line/column of UTF-16 positions (columns count UTF-8 bytes, as Go's do). */
class Positions {
  private readonly lineStarts: number[] = [0];
  private readonly bytes: Int32Array | undefined;
  constructor(src: string) {
    for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(src)) {
      this.bytes = new Int32Array(src.length + 1);
      let b = 0;
      for (let i = 0; i < src.length; i++) {
        this.bytes[i] = b;
        const c = src.charCodeAt(i);
        if (c < 0x80) b += 1;
        else if (c < 0x800) b += 2;
        else if (c >= 0xd800 && c <= 0xdbff) {
          // surrogate pair: 4 bytes for the pair, counted on the first unit
          b += 4;
          this.bytes[++i] = b;
          continue;
        } else b += 3;
      }
      this.bytes[src.length] = b;
    }
  }
  private byte(i: number): number {
    return this.bytes ? this.bytes[i] : i;
  }
  at(i: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: this.byte(i) - this.byte(this.lineStarts[lo]) + 1 };
  }
}

/** The limits conftest applies to the whole tree (synthetic and end-of-file tokens included). */
function checkTree(root: Node): void {
  let nodes = 1;
  const stack: [Node, number][] = [[root, 1]];
  while (stack.length) {
    const [n, depth] = stack.pop()!;
    if (depth > MAX_TREE_DEPTH) throw new Error(`syntax tree exceeds maximum depth of ${MAX_TREE_DEPTH}`);
    const count = n.tok ? 0 : n.children.length;
    if (count > MAX_TREE_NODES - nodes) throw new Error(`syntax tree exceeds maximum node count of ${MAX_TREE_NODES}`);
    if (count > 0 && depth === MAX_TREE_DEPTH) throw new Error(`syntax tree exceeds maximum depth of ${MAX_TREE_DEPTH}`);
    nodes += count;
    for (let i = n.children.length - 1; i >= 0; i--) stack.push([n.children[i], depth + 1]);
  }
}

/** The tree as policies see it: tokens without text (statement ends, end of file) left out. */
function convert(root: Node, pos: Positions): OutNode {
  const conv = (n: Node): OutNode => {
    if (n.tok) {
      const p = pos.at(n.tok.at);
      return { kind: n.kind, text: n.tok.text, line: p.line, column: p.column };
    }
    const children: OutNode[] = [];
    for (const c of n.children) if (!(c.tok && (c.kind === 'EOF' || c.tok.text === ''))) children.push(conv(c));
    if (children.length === 0) return { kind: n.kind, line: 1, column: 1 };
    return { kind: n.kind, line: children[0].line, column: children[0].column, children };
  };
  return conv(root);
}

function parse(content: string, file: string): unknown {
  const pos = new Positions(content);
  let root: Node;
  try {
    root = new Parser(content).parseFile();
  } catch (e) {
    if (e instanceof GroovyError) {
      const p = pos.at(Math.min(e.at, content.length));
      throw new ParseError(e.message, { file, parser: PARSER, line: p.line, column: p.column });
    }
    if (e instanceof TooDeep) throw new ParseError(`syntax tree exceeds maximum depth of ${MAX_TREE_DEPTH}`, { file, parser: PARSER });
    throw e;
  }
  try {
    checkTree(root);
  } catch (e) {
    throw new ParseError((e as Error).message, { file, parser: PARSER });
  }
  return convert(root, pos);
}

export const groovyParser: InputParser = { name: PARSER, parse };
