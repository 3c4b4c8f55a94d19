/**
 * Protocol Buffers text format (`.textproto`, `.textpb`), as conftest reads
 * it: the file names its message type in a `# proto-message: pkg.Message`
 * comment; the type comes from the `.proto` files found in the directories
 * given to `conftest test --proto-file-dirs` (here: setProtoFileDirs(), or
 * the PORTCULLIS_PROTO_FILE_DIRS environment variable, paths separated by
 * the platform delimiter). The result is the message in protobuf's JSON
 * form with the original field names: 64-bit integers as strings, bytes in
 * base64, enums by name, maps as objects, unset and proto3 zero values left
 * out, infinities and NaN as strings.
 *
 * .proto files are read with protobufjs; the text format parser is hand-written.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type protobuf from 'protobufjs';
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { lazyRequire } from '../lazy.ts';

// protobufjs (CommonJS) loads on the first textproto input, not at start-up.
const pb = lazyRequire<typeof protobuf>('protobufjs');
import { DEPTH_REASON, MAX_DEPTH, getOwn, setOwn } from './limits.ts';

let cachedRoot: { key: string; root: protobuf.Root } | undefined;

export { setProtoFileDirs, currentDirs } from './protodirs.ts';
import { currentDirs, protoDirsGeneration } from './protodirs.ts';

function protoFiles(dir: string, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names.sort()) {
    const p = join(dir, n);
    try {
      if (statSync(p).isDirectory()) protoFiles(p, out);
      else if (n.endsWith('.proto')) out.push(p);
    } catch {
      // unreadable entry
    }
  }
  return out;
}

function loadRoot(file: string): protobuf.Root {
  const dirs = currentDirs();
  const key = `${protoDirsGeneration()}\0${dirs.join('\0')}`;
  if (cachedRoot && cachedRoot.key === key) return cachedRoot.root;
  const root = new (pb().Root)();
  for (const dir of dirs) {
    for (const p of protoFiles(dir)) {
      try {
        const src = readFileSync(p, 'utf8');
        const before = new Set(allTypes(root));
        pb().parse(src, root, { keepCase: true, alternateCommentMode: true });
        const syntax = /^\s*syntax\s*=\s*["'](proto[23])["']/m.exec(src)?.[1] ?? (/^\s*edition\s*=/m.test(src) ? 'editions' : 'proto2');
        for (const t of allTypes(root)) if (!before.has(t)) SYNTAX.set(t, syntax);
      } catch (e) {
        throw new ParseError(`load proto file ${p}: ${(e as Error).message}`, { file, parser: 'textproto' });
      }
    }
  }
  try {
    root.resolveAll();
  } catch {
    // unresolved imports (e.g. well-known types): types that need them fail on use
  }
  cachedRoot = { key, root };
  return root;
}

// ---------------------------------------------------------------------------
// Text format lexer

type Tok = { t: 'id' | 'num' | 'str' | 'sym' | 'eof'; v: string; pos: number };

class TextError extends Error {
  constructor(message: string, public pos: number) {
    super(message);
  }
}

function unescapeC(s: string, pos: number): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[++i];
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
    if (e !== undefined && map[e] !== undefined) out += map[e];
    else if (e !== undefined && /[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(s.slice(i))![0];
      out += String.fromCharCode(parseInt(m, 8));
      i += m.length - 1;
    } else if (e === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1));
      if (!m) throw new TextError('invalid \\x escape', pos);
      out += String.fromCharCode(parseInt(m[0], 16));
      i += m[0].length;
    } else if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      const hex = s.slice(i + 1, i + 1 + len);
      const cp = parseInt(hex, 16);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len || cp > 0x10ffff) throw new TextError(`invalid escape \\${e}${hex}`, pos);
      out += String.fromCodePoint(cp);
      i += len;
    } else throw new TextError(`invalid escape \\${e}`, pos);
  }
  return out;
}

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      i++;
      let raw = '';
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\n') throw new TextError('unterminated string', start);
        if (src[i] === '\\') {
          raw += src[i]! + (src[i + 1] ?? '');
          i += 2;
          continue;
        }
        raw += src[i++];
      }
      if (i >= src.length) throw new TextError('unterminated string', start);
      i++;
      toks.push({ t: 'str', v: unescapeC(raw, start), pos: start });
      continue;
    }
    if (/[0-9]/.test(c) || (/[.+-]/.test(c) && /[0-9.]/.test(src[i + 1] ?? ''))) {
      const m = /^[-+]?(0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?[fF]?|[0-9]+\.?(?:[eE][-+]?[0-9]+)?[fF]?)/.exec(src.slice(i, i + 200));
      if (m) {
        i += m[0].length;
        toks.push({ t: 'num', v: m[0], pos: start });
        continue;
      }
    }
    if (c === '-' && /[A-Za-z]/.test(src[i + 1] ?? '')) {
      // -inf, -nan
      const m = /^-[A-Za-z]+/.exec(src.slice(i))!;
      i += m[0].length;
      toks.push({ t: 'num', v: m[0], pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_.]/.test(src[i]!)) i++;
      toks.push({ t: 'id', v: src.slice(start, i), pos: start });
      continue;
    }
    if ('{}<>[]:,;/'.includes(c)) {
      toks.push({ t: 'sym', v: c, pos: start });
      i++;
      continue;
    }
    throw new TextError(`invalid character ${JSON.stringify(c)}`, start);
  }
  toks.push({ t: 'eof', v: '', pos: src.length });
  return toks;
}

// ---------------------------------------------------------------------------
// Parser producing protobuf JSON (original field names)

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INT32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const S32: [bigint, bigint] = [-(2n ** 31n), 2n ** 31n - 1n];
const U32: [bigint, bigint] = [0n, 2n ** 32n - 1n];
const S64: [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];
const U64: [bigint, bigint] = [0n, 2n ** 64n - 1n];
/** The values each integer field type holds. */
const INT_RANGE: Record<string, [bigint, bigint]> = {
  int32: S32, sint32: S32, sfixed32: S32, uint32: U32, fixed32: U32,
  int64: S64, sint64: S64, sfixed64: S64, uint64: U64, fixed64: U64,
};

/** An integer literal (decimal, 0-led octal, 0x hex, optionally signed), or null. */
function intLiteral(v: string): bigint | null {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(v);
  if (!m) return null;
  const body = m[2]!;
  const b = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body[0] === '0' ? BigInt('0o' + body.slice(1)) : BigInt(body);
  return m[1] === '-' ? -b : b;
}

function float32String(x: number): number | string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return s;
  }
  return f;
}

class TextParser {
  i = 0;
  /** nesting of messages (limited to MAX_DEPTH) */
  private depth = 0;
  constructor(private toks: Tok[], private root: protobuf.Root) {}

  // The last token is always eof: reading stops there, so a truncated input meets eof (and an
  // "unexpected EOF" error) wherever the parser looks next.
  peek(): Tok {
    return this.toks[Math.min(this.i, this.toks.length - 1)]!;
  }
  next(): Tok {
    const t = this.peek();
    if (t.t !== 'eof') this.i++;
    return t;
  }
  fail(msg: string, pos = this.peek().pos): never {
    throw new TextError(msg, pos);
  }
  isSym(v: string): boolean {
    const t = this.peek();
    return t.t === 'sym' && t.v === v;
  }

  message(type: protobuf.Type, close: string | null): Record<string, unknown> {
    if (this.depth >= MAX_DEPTH) this.fail(DEPTH_REASON);
    this.depth++;
    try {
      return this.fields(type, close);
    } finally {
      this.depth--;
    }
  }

  private fields(type: protobuf.Type, close: string | null): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const oneofSeen = new Map<string, string>();
    for (;;) {
      const t = this.peek();
      if (close === null ? t.t === 'eof' : this.isSym(close)) break;
      if (t.t === 'eof') this.fail(`unexpected EOF, expected "${close}"`);
      if (t.t !== 'id') this.fail(`unexpected token: ${t.v}`);
      this.next();
      const field =
        (getOwn(type.fields, t.v) as protobuf.Field | undefined) ??
        Object.values(type.fields).find((f) => f.resolvedType?.name === t.v && f.type === t.v);
      if (!field) this.fail(`unknown field: ${t.v}`, t.pos);
      field.resolve();
      const isMsg = field.resolvedType instanceof pb().Type;
      const sep = this.isSym(':');
      if (sep) this.next();
      else if (!isMsg && !field.map) this.fail(`missing field separator :`);
      if (field.partOf) {
        const prev = oneofSeen.get(field.partOf.name);
        if (prev && prev !== field.name) this.fail(`error parsing "${field.name}", oneof ${field.partOf.name} is already set`, t.pos);
        oneofSeen.set(field.partOf.name, field.name);
      }
      const values: unknown[] = [];
      if (this.isSym('[') && (field.repeated || field.map)) {
        this.next();
        while (!this.isSym(']')) {
          values.push(this.value(field));
          if (this.isSym(',')) this.next();
          else if (!this.isSym(']')) this.fail('expected "," or "]" in list');
        }
        this.next();
      } else values.push(this.value(field));
      if (field.map) {
        const m = (getOwn(out, field.name) as Record<string, unknown> | undefined) ?? {};
        for (const e of values as { key: unknown; value: unknown }[]) setOwn(m, String(e.key), e.value);
        out[field.name] = m;
      } else if (field.repeated) {
        // appended in place: a field repeated many times stays linear
        const list = (getOwn(out, field.name) as unknown[] | undefined) ?? [];
        for (const v of values) list.push(v);
        out[field.name] = list;
      } else {
        if (Object.prototype.hasOwnProperty.call(out, field.name) && !field.partOf) this.fail(`non-repeated field "${field.name}" is repeated`, t.pos);
        out[field.name] = values[0];
      }
      if (this.isSym(',') || this.isSym(';')) this.next();
    }
    // proto3 implicit-presence zero values are not printed
    const proto3 = isProto3(type);
    for (const [k, v] of Object.entries(out)) {
      const f = type.fields[k]!;
      if (proto3 && !f.repeated && !f.map && !f.partOf && !(f.resolvedType instanceof pb().Type) && !f.options?.proto3_optional && isZero(v, f)) {
        delete out[k];
      }
      if ((f.repeated && Array.isArray(v) && v.length === 0) || (f.map && v && Object.keys(v as object).length === 0)) delete out[k];
    }
    return out;
  }

  value(field: protobuf.Field): unknown {
    const rt = field.resolvedType;
    if (field.map) {
      // map entry message { key: .. value: .. }
      const open = this.next();
      const close = open.v === '<' ? '>' : '}';
      if (open.t !== 'sym' || (open.v !== '{' && open.v !== '<')) this.fail('expected "{" for map entry', open.pos);
      const keyType = (field as unknown as protobuf.MapField).keyType;
      let key: unknown = defaultFor(keyType);
      let value: unknown = undefined;
      while (!this.isSym(close)) {
        const n = this.next();
        if (n.t === 'eof') this.fail(`unexpected EOF, expected "${close}"`, n.pos);
        if (this.isSym(':')) this.next();
        if (n.v === 'key') key = this.scalar(keyType, undefined, n.pos);
        else if (n.v === 'value') {
          if (rt instanceof pb().Type) {
            const o = this.next();
            value = this.message(rt, o.v === '<' ? '>' : '}');
            this.next();
          } else value = this.scalar(field.type, rt as protobuf.Enum | undefined, n.pos);
        } else this.fail(`unknown map entry field: ${n.v}`, n.pos);
        if (this.isSym(',') || this.isSym(';')) this.next();
      }
      this.next();
      return { key, value: value === undefined ? (rt instanceof pb().Type ? {} : defaultFor(field.type, rt as protobuf.Enum | undefined)) : value };
    }
    if (rt instanceof pb().Type) {
      const open = this.next();
      if (open.t !== 'sym' || (open.v !== '{' && open.v !== '<')) this.fail(`expected "{" or "<" for message field ${field.name}`, open.pos);
      const v = this.message(rt, open.v === '<' ? '>' : '}');
      this.next();
      return v;
    }
    return this.scalar(field.type, rt as protobuf.Enum | undefined, this.peek().pos);
  }

  scalar(type: string, en: protobuf.Enum | undefined, pos: number): unknown {
    const t = this.next();
    if (t.t === 'eof') this.fail('unexpected EOF', t.pos);
    if (en) {
      if (t.t === 'id') {
        if (en.values[t.v] === undefined) this.fail(`invalid value for enum field: "${t.v}"`, t.pos);
        return t.v;
      }
      if (t.t === 'num') {
        // an enum number is an int32 literal (decimal, octal or hex), as in Go's prototext
        const n = intLiteral(t.v);
        if (n === null || n < INT_RANGE.int32![0] || n > INT_RANGE.int32![1]) this.fail(`invalid value for enum type: ${t.v}`, t.pos);
        return en.valuesById[Number(n)] ?? Number(n);
      }
      this.fail('invalid enum value', t.pos);
    }
    switch (type) {
      case 'string':
      case 'bytes': {
        if (t.t !== 'str') this.fail(`invalid value for ${type} field: ${t.v}`, t.pos);
        let s = t.v;
        while (this.peek().t === 'str') s += this.next().v;
        if (type === 'bytes') return Buffer.from(s, 'latin1').toString('base64');
        return Buffer.from(s, 'latin1').toString('utf8');
      }
      case 'bool':
        if (['true', 't', 'True', '1'].includes(t.v)) return true;
        if (['false', 'f', 'False', '0'].includes(t.v)) return false;
        this.fail(`invalid value for bool field: ${t.v}`, t.pos);
      // falls through
      case 'float':
      case 'double': {
        const lower = t.v.toLowerCase();
        const v = /^[-+]?[0-9.]/.test(lower) ? lower.replace(/f$/, '') : lower;
        let x: number;
        if (/^[-+]?(inf|infinity)$/.test(v)) x = v.startsWith('-') ? -Infinity : Infinity;
        else if (/^[-+]?nan$/.test(v)) x = NaN;
        else if (t.t === 'num') x = Number(/^[-+]?0x/.test(v) ? parseInt(v, 16) : v);
        else this.fail(`invalid value for ${type} field: ${t.v}`, t.pos);
        if (type === 'float') return float32String(x!);
        if (!Number.isFinite(x!)) return Number.isNaN(x!) ? 'NaN' : x! > 0 ? 'Infinity' : '-Infinity';
        return x!;
      }
      default: {
        const b = t.t === 'num' ? intLiteral(t.v) : null;
        if (b === null) this.fail(`invalid value for ${type} type: ${t.v}`, t.pos);
        // beyond the field's range: Go's prototext refuses it (never a rounded or infinite number)
        const range = INT_RANGE[type];
        if (range && (b < range[0] || b > range[1])) this.fail(`invalid value for ${type} type: ${t.v}`, t.pos);
        if (INT64.has(type)) return b.toString();
        if (INT32.has(type)) return Number(b);
        void pos;
        return Number(b);
      }
    }
  }
}

/** Syntax of the .proto file each message type came from (set while loading). */
const SYNTAX = new WeakMap<protobuf.Type, string>();
function isProto3(type: protobuf.Type): boolean {
  return (SYNTAX.get(type) ?? 'proto3') === 'proto3';
}

function allTypes(ns: protobuf.NamespaceBase, out: protobuf.Type[] = []): protobuf.Type[] {
  for (const o of ns.nestedArray) {
    if (o instanceof pb().Type) out.push(o);
    if (o instanceof pb().Namespace || o instanceof pb().Type) allTypes(o as protobuf.NamespaceBase, out);
  }
  return out;
}

function defaultFor(type: string, en?: protobuf.Enum): unknown {
  if (en) return en.valuesById[0] ?? 0;
  if (type === 'string' || type === 'bytes') return '';
  if (type === 'bool') return false;
  if (INT64.has(type)) return '0';
  return 0;
}

function isZero(v: unknown, f: protobuf.Field): boolean {
  if (f.resolvedType instanceof pb().Enum) return v === f.resolvedType.valuesById[0] || v === 0;
  return v === '' || v === 0 || v === '0' || v === false;
}

function parse(content: string, file: string): unknown {
  const m = /^#\s*proto-message:\s*(\S+)/m.exec(content);
  if (!m) {
    throw new ParseError('extract proto message type: file does not contain necessary proto-message comment', { file, parser: 'textproto' });
  }
  const root = loadRoot(file);
  let type: protobuf.Type;
  try {
    type = root.lookupType(m[1]!);
  } catch {
    throw new ParseError(`look up message type "${m[1]}": proto: not found (give the .proto directories with --proto-file-dirs)`, {
      file,
      parser: 'textproto',
    });
  }
  try {
    return new TextParser(lex(content), root).message(type, null);
  } catch (e) {
    if (e instanceof TextError) {
      const { line, column } = lineColAt(content, e.pos);
      throw new ParseError(e.message, { file, parser: 'textproto', line, column });
    }
    throw e;
  }
}

export const textprotoParser: InputParser = { name: 'textproto', parse };
