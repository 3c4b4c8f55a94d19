/**
 * YAML, read the way conftest reads it.
 *
 * conftest converts YAML to JSON through Go's YAML 1.1 reader, so plain
 * scalars resolve with YAML 1.1 rules: `yes`/`no`/`on`/`off`/`y`/`n` are
 * booleans, `017` is octal, `1_000` is 1000, timestamps stay strings and
 * `.inf`/`.nan` are errors (JSON has no such numbers). Unknown tags are
 * ignored. Merge keys (`<<`) override keys set before them.
 *
 * Multiple documents: the file is split on a line holding exactly `---`
 * (`"\n---\n"`, or `"\r\n---\r\n"` when the file uses CRLF). More than one
 * part gives an array with one entry per part (an empty part is null); a
 * single part gives the first document it holds.
 *
 * Built on js-yaml v4 with a custom schema.
 */
import jsyaml from 'js-yaml';
import { ParseError, type InputParser } from './types.ts';
import { DEPTH_REASON, MAX_DEPTH, setOwn } from './limits.ts';
import { checkAliases, YamlAliasError } from '../builtins/support/yaml-aliases.ts';
import { JS_YAML_MAX_DEPTH } from '../builtins/support/doclimits.ts';
export { JS_YAML_MAX_DEPTH };
import { mapTree, walkTree } from '../builtins/support/tree.ts';

const { Type, FAILSAFE_SCHEMA, YAMLException } = jsyaml;

/** Marker returned by goResolve for "this plain scalar is a string". */
const STR = Symbol('str');

class NonFiniteError extends Error {}

const BOOL_NULL: Record<string, boolean | null> = {
  y: true, Y: true, yes: true, Yes: true, YES: true, true: true, True: true, TRUE: true,
  on: true, On: true, ON: true,
  n: false, N: false, no: false, No: false, NO: false, false: false, False: false, FALSE: false,
  off: false, Off: false, OFF: false,
  '~': null, null: null, Null: null, NULL: null, '': null,
};
const NON_FINITE = new Set([
  '.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF',
]);

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT_DEC = /^[-+]?[0-9]+$/;
const INT_HEX = /^([-+]?)0[xX]([0-9a-fA-F]+)$/;
const INT_OCT_O = /^([-+]?)0[oO]([0-7]+)$/;
const INT_BIN = /^([-+]?)0[bB]([01]+)$/;
const INT_OCT_LEGACY = /^([-+]?)0([0-7]+)$/;
const GO_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const MAX_U64 = 18446744073709551615n;
const MIN_I64 = -9223372036854775808n;

function bigToNumber(sign: string, digits: string, radix: number): number | undefined {
  let v: bigint;
  if (radix === 10) v = BigInt(digits);
  else v = BigInt((radix === 16 ? '0x' : radix === 8 ? '0o' : '0b') + digits);
  if (sign === '-') {
    v = -v;
    if (v < MIN_I64) return undefined;
  } else if (v > MAX_U64) return undefined;
  const n = Number(v);
  return n === 0 ? 0 : n;
}

/** Go strconv.ParseInt/ParseUint with base 0 (sign allowed only for the signed form). */
function goParseInt(s: string): number | undefined {
  if (INT_DEC.test(s)) {
    const sign = s[0] === '-' || s[0] === '+' ? s[0] : '';
    const digits = sign ? s.slice(1) : s;
    if (digits.length > 1 && digits[0] === '0') {
      // leading zero: octal
      if (!/^[0-7]+$/.test(digits)) return undefined;
      return bigToNumber(sign, digits.replace(/^0+/, '') || '0', 8);
    }
    if (digits.length < 16) {
      const n = Number(s);
      return n === 0 ? 0 : n;
    }
    return bigToNumber(sign, digits, 10);
  }
  let m = INT_HEX.exec(s);
  if (m) return bigToNumber(m[1]!, m[2]!, 16);
  m = INT_OCT_O.exec(s);
  if (m) return bigToNumber(m[1]!, m[2]!, 8);
  m = INT_BIN.exec(s);
  if (m) return bigToNumber(m[1]!, m[2]!, 2);
  m = INT_OCT_LEGACY.exec(s);
  if (m) return bigToNumber(m[1]!, m[2]!, 8);
  return undefined;
}

/**
 * Resolve a plain scalar as Go's YAML 1.1 reader does.
 * Returns STR when the scalar stays a string.
 */
export function goResolve(s: string): unknown {
  const c = s.length === 0 ? 0 : s.charCodeAt(0);
  if (s.length === 0) return null;
  // hint by first character
  const isDigit = c >= 48 && c <= 57;
  const isSign = c === 43 || c === 45;
  const isDot = c === 46;
  const isMap =
    c === 121 || c === 89 || c === 110 || c === 78 || c === 116 || c === 84 ||
    c === 102 || c === 70 || c === 111 || c === 79 || c === 126;
  if (!isDigit && !isSign && !isDot && !isMap) return STR;
  if (s.length <= 5) {
    const v = BOOL_NULL[s];
    if (v !== undefined) return v;
  }
  if (NON_FINITE.has(s)) throw new NonFiniteError(`json: unsupported value: ${s}`);
  if (isMap) return STR;
  if (isDot) {
    // Go's ParseFloat: underscores allowed only between digits
    const t = s.indexOf('_') >= 0 && /^\.[0-9]+(_[0-9]+)*([eE][-+]?[0-9]+(_[0-9]+)*)?$/.test(s) ? s.replace(/_/g, '') : s;
    if (GO_FLOAT.test(t)) {
      const f = Number(t);
      if (Number.isFinite(f)) return f;
    }
    return STR;
  }
  const plain = s.indexOf('_') >= 0 ? s.replace(/_/g, '') : s;
  const i = goParseInt(plain);
  if (i !== undefined) return i;
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain);
    if (Number.isFinite(f)) return f;
  }
  return STR;
}

let lastResolved: unknown;

const goImplicit = new Type('tag:yaml.org,2002:go-implicit', {
  kind: 'scalar',
  resolve(data: string) {
    const v = goResolve(data);
    if (v === STR) return false;
    lastResolved = v;
    return true;
  },
  construct() {
    return lastResolved;
  },
});

function explicitType(tag: string, accept: (v: unknown) => boolean, convert?: (v: unknown) => unknown) {
  return new Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve(data: string | null) {
      const v = goResolve(data ?? '');
      if (v === STR || !accept(v)) return false;
      lastResolved = convert ? convert(v) : v;
      return true;
    },
    construct() {
      return lastResolved;
    },
  });
}

const intType = explicitType('int', (v) => typeof v === 'number' && Number.isInteger(v));
const floatType = explicitType('float', (v) => typeof v === 'number');
const boolType = explicitType('bool', (v) => typeof v === 'boolean');
const nullType = explicitType('null', (v) => v === null);
const timestampType = new Type('tag:yaml.org,2002:timestamp', {
  kind: 'scalar',
  resolve: () => true,
  construct: (d: string) => d,
});
const binaryType = new Type('tag:yaml.org,2002:binary', {
  kind: 'scalar',
  resolve: (d: string | null) => d === null || /^[A-Za-z0-9+/=\s]*$/.test(d),
  construct: (d: string | null) => Buffer.from((d ?? '').replace(/\s+/g, ''), 'base64').toString('utf8'),
});
// Unknown tags are ignored: the node keeps its plain value (scalars stay strings).
const anyScalar = new Type('', { kind: 'scalar', multi: true, construct: (d: unknown) => d ?? '' });
const anySeq = new Type('', { kind: 'sequence', multi: true, construct: (d: unknown) => d ?? [] });
const anyMap = new Type('', { kind: 'mapping', multi: true, construct: (d: unknown) => d ?? {} });

export const GO_YAML_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [goImplicit],
  explicit: [intType, floatType, boolType, nullType, timestampType, binaryType, anyScalar, anySeq, anyMap],
});

/**
 * Go rejects a null map key (`~: 1`, `null: 1`); js-yaml would turn it into
 * the key "null". When the text may hold one, plain nulls are read as a
 * marker whose string form is NULL_KEY, then markers are replaced by null
 * and a NULL_KEY key is an error.
 */
const NULL_KEY = '\u0000yaml-null-key\u0000';
class NullMark {
  get [Symbol.toStringTag]() {
    return 'NullMark';
  }
  toString() {
    return NULL_KEY;
  }
}
const NULL_MARK = new NullMark();
const goImplicitMarked = new Type('tag:yaml.org,2002:go-implicit', {
  kind: 'scalar',
  resolve(data: string) {
    const v = goResolve(data);
    if (v === STR) return false;
    lastResolved = v;
    return true;
  },
  construct() {
    return lastResolved === null ? NULL_MARK : lastResolved;
  },
});
const GO_YAML_SCHEMA_MARKED = FAILSAFE_SCHEMA.extend({
  implicit: [goImplicitMarked],
  explicit: [intType, floatType, boolType, nullType, timestampType, binaryType, anyScalar, anySeq, anyMap],
});
/** A mapping used as a map key: js-yaml names it "[object Object]"; Go rejects it. */
const MAYBE_MAP_KEY = /[}][ \t]*:(?:[ \t]|$)|^[ \t]*\?[ \t]/m;
function checkMapKeys(v: unknown, file: string): void {
  walkTree(v, (_x, key) => {
    if (key === '[object Object]') throw new ParseError('invalid map key: a mapping cannot be a map key', { file, parser: 'yaml' });
  });
}

const MAYBE_NULL_KEY = /(?:^[ \t]*(?:-[ \t]+)*|[{,][ \t]*)(?:~|null|Null|NULL)[ \t]*:(?:[ \t]|$)/m;

function unmark(v: unknown, file: string): unknown {
  return mapTree(
    v,
    (src, kids) => {
      if (Array.isArray(src)) return kids;
      const out: Record<string, unknown> = {};
      const keys = Object.keys(src);
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] === NULL_KEY) {
          throw new ParseError('unsupported map key of type: <nil> (a map key must not be null)', { file, parser: 'yaml' });
        }
        setOwn(out, keys[i]!, kids[i]);
      }
      return out;
    },
    (x) => (x === NULL_MARK ? null : x),
  );
}

const LOAD_OPTS = { schema: GO_YAML_SCHEMA, json: true, maxDepth: JS_YAML_MAX_DEPTH };
const LOAD_OPTS_MARKED = { schema: GO_YAML_SCHEMA_MARKED, json: true, maxDepth: JS_YAML_MAX_DEPTH };

type YamlErr = InstanceType<typeof YAMLException>;

/** The input's errors as ParseError; anything else (a fault, an exhausted stack) is thrown on unchanged. */
function wrapError(e: unknown, file: string, lineOffset: number): ParseError {
  if (e instanceof ParseError) return e;
  if (e instanceof YAMLException) {
    const ye = e as YamlErr & { mark?: { line: number; column: number }; reason?: string };
    const line = ye.mark ? ye.mark.line + 1 + lineOffset : undefined;
    const column = ye.mark ? ye.mark.column + 1 : undefined;
    let reason = ye.reason ?? ye.message;
    if (/^nesting exceeded maxDepth/.test(reason)) reason = DEPTH_REASON;
    return new ParseError(reason, { file, parser: 'yaml', line, column, cause: e });
  }
  if (e instanceof NonFiniteError || e instanceof YamlAliasError) {
    return new ParseError(e.message, { file, parser: 'yaml' });
  }
  throw e;
}

const DOC_MARKER = /^(---|\.\.\.)(?=[ \t\r\n]|$)/gm;

/**
 * Go's reader drops the final line break of a block scalar that ends the
 * input without a line break (`a: |\n  x` is "x"); js-yaml keeps it. The
 * listener trims a string node that closes at the very end of such input.
 */
type Listener = NonNullable<jsyaml.LoadOptions['listener']>;
/** The parts of js-yaml's loader state a listener reads. */
interface ListenerState {
  kind: string | null;
  result: unknown;
  position: number;
  length: number;
  anchor?: string | null;
}

function eofListener(text: string): Listener | undefined {
  const last = text.charCodeAt(text.length - 1);
  if (text.length === 0 || last === 10 || last === 13 || last === 34 || last === 39) return undefined;
  if (text.indexOf('|') < 0 && text.indexOf('>') < 0) return undefined;
  // only when the last line holds content (not just blanks after a line break)
  if (text.slice(text.lastIndexOf('\n') + 1).trim() === '') return undefined;
  return function (this: unknown, event: string, st: unknown) {
    const state = st as ListenerState;
    if (event !== 'close' || state.kind !== 'scalar' || state.position < state.length) return;
    const r = state.result;
    if (typeof r === 'string' && r.endsWith('\n')) state.result = r.slice(0, -1);
  };
}

/** The first document of a YAML stream (null when there is none), as yaml.Unmarshal gives it. */
function loadFirst(text: string, file: string, lineOffset: number): unknown {
  const opts = MAYBE_NULL_KEY.test(text) ? LOAD_OPTS_MARKED : LOAD_OPTS;
  let v = loadFirstWith(text, file, lineOffset, opts);
  // with anchors, check the aliases as Go does
  if (text.indexOf('&') >= 0 && text.indexOf('*') >= 0) {
    try {
      checkAliases(v);
    } catch (e) {
      if (e instanceof YamlAliasError && e.reason.startsWith('anchor ')) {
        // read again, noting the anchors' names, to name the one in the message
        const anchors = new Map<object, string>();
        checkAliasesNamed(loadFirstWith(text, file, lineOffset, opts, anchors), anchors, file, lineOffset);
      }
      throw wrapError(e, file, lineOffset);
    }
  }
  if (opts === LOAD_OPTS_MARKED) v = unmark(v, file);
  if (MAYBE_MAP_KEY.test(text)) checkMapKeys(v, file);
  return v;
}

function checkAliasesNamed(v: unknown, anchors: Map<object, string>, file: string, lineOffset: number): void {
  try {
    checkAliases(v, (o) => anchors.get(o));
  } catch (e) {
    throw wrapError(e, file, lineOffset);
  }
}

function loadFirstWith(
  text: string,
  file: string,
  lineOffset: number,
  base: typeof LOAD_OPTS,
  anchors?: Map<object, string>,
): unknown {
  const eof = eofListener(text);
  let listener: Listener | undefined = eof;
  if (anchors) {
    listener = function (this: jsyaml.State, event: jsyaml.EventType, st: jsyaml.State) {
      const state = st as unknown as ListenerState;
      if (event === 'close' && state.anchor && state.result !== null && typeof state.result === 'object') {
        anchors.set(state.result, state.anchor);
      }
      if (eof) eof.call(this, event, st);
    };
  }
  const opts: jsyaml.LoadOptions = listener ? { ...base, listener } : base;
  try {
    const v = jsyaml.load(text, opts);
    return v === undefined ? null : v;
  } catch (e) {
    if (e instanceof YAMLException && /expected a single document/.test((e as YamlErr).message)) {
      try {
        const docs = jsyaml.loadAll(text, undefined, opts) as unknown[];
        return docs.length === 0 || docs[0] === undefined ? null : docs[0];
      } catch (e2) {
        throw wrapError(e2, file, lineOffset);
      }
    }
    // An error in a later document does not matter: only the first is read.
    const mark = (e as { mark?: { position: number } }).mark;
    if (e instanceof YAMLException && mark) {
      const cut = firstDocumentEnd(text);
      if (cut !== undefined && cut <= mark.position) {
        return loadFirstWith(text.slice(0, cut), file, lineOffset, base, anchors);
      }
    }
    throw wrapError(e, file, lineOffset);
  }
}

/** Offset where the second document starts (a `---` or `...` line after content), if any. */
function firstDocumentEnd(text: string): number | undefined {
  DOC_MARKER.lastIndex = 0;
  let m: RegExpExecArray | null;
  let prev = 0;
  while ((m = DOC_MARKER.exec(text)) !== null) {
    const between = text.slice(prev, m.index);
    if (m[1] === '...' || /^[ \t]*[^\s#%]/m.test(between)) return m.index;
    prev = m.index + 3;
  }
  return undefined;
}

function countLines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Go's merge-key semantics: `<<` entries override keys set before them. */
function applyMerges(value: unknown, file: string): unknown {
  return mapTree(value, (src, kids) => {
    if (Array.isArray(src)) return kids;
    const out: Record<string, unknown> = {};
    const keys = Object.keys(src);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const v = kids[i];
      if (k === '<<') {
        const parts = Array.isArray(v) ? [...v].reverse() : [v];
        for (const p of parts) {
          if (p === null || typeof p !== 'object' || Array.isArray(p)) {
            throw new ParseError('map merge requires map or sequence of maps as the value', { file, parser: 'yaml' });
          }
          for (const mk of Object.keys(p)) setOwn(out, mk, (p as Record<string, unknown>)[mk]);
        }
      } else {
        setOwn(out, k, v);
      }
    }
    return out;
  });
}

/** Whether every line is blank, a directive (`%...`) or a comment (checked line by line: linear time). */
function onlyDirectives(part: string): boolean {
  return part.split('\n').every((line) => /^\s*(?:[%#][^\n]*)?$/.test(line));
}

function parseYaml(content: string, file: string): unknown {
  const sep = content.indexOf('\r\n') >= 0 ? '\r\n---\r\n' : '\n---\n';
  let result: unknown;
  if (content.indexOf(sep) < 0) {
    result = loadFirst(content, file, 0);
  } else {
    const parts = content.split(sep);
    const docs: unknown[] = [];
    let offset = 0;
    let lineOffset = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      // a part holding only directives (before the first `---`) is no document
      if (i < parts.length - 1 && part.charCodeAt(0) === 37 && onlyDirectives(part)) {
        // skipped
      } else docs.push(loadFirst(part, file, lineOffset));
      const next = offset + part.length + sep.length;
      lineOffset += countLines(content.slice(offset, next), next - offset);
      offset = next;
    }
    result = docs.length === 1 ? docs[0] : docs;
  }
  if (content.indexOf('<<') >= 0) result = applyMerges(result, file);
  return result;
}

export const yamlParser: InputParser = {
  name: 'yaml',
  parse: parseYaml,
};
