// YAML the way OPA reads and writes it (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1 flavoured).
//
// Writing: a small block-style emitter that reproduces go-yaml v2's choices for JSON-like data
// (sequences not indented under mapping keys, YAML 1.1 look-alikes such as "yes" or "12:30"
// double-quoted, indicator-led strings single-quoted, multi-line strings as literal blocks,
// plain/quoted scalars folded after column 80, floats in Go's %g form).
// Reading: js-yaml with a YAML 1.1 schema (y/yes/on booleans, 0o/0x/0b/octal ints,
// underscores), big integers kept exact, timestamps left as strings.

import yaml from "js-yaml";
import { DEPTH_REASON, checkDepth, JS_YAML_MAX_DEPTH } from "./support/doclimits.ts";
import { checkAliases, YamlAliasError } from "./support/yaml-aliases.ts";
import { mapTree } from "./support/tree.ts";
import { decodeValueText, encodeValueText } from "./support/valuetext.ts";
import { callWithLargeStack, isStackOverflow, registerLargeStackFn } from "./support/large-stack.ts";
import {
  BigDec,
  ObjMap,
  RSet,
  compareStrings,
  emptyObject,
  fromBigInt,
  numberFromText,
  numberText,
  sortedKeys,
  toJSONText,
  type PlainObject,
  type Value,
} from "../rego/value.ts";

// ---- Scalar resolution (what a plain scalar would read back as) ------------------------------

const BOOL_WORDS = new Set([
  "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
  "true", "True", "TRUE", "false", "False", "FALSE",
  "on", "On", "ON", "off", "Off", "OFF",
]);
const TRUE_WORDS = new Set(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]);
const NULL_WORDS = new Set(["", "~", "null", "Null", "NULL"]);
const SPECIAL_FLOATS = new Map<string, number>([
  [".inf", Infinity], [".Inf", Infinity], [".INF", Infinity],
  ["+.inf", Infinity], ["+.Inf", Infinity], ["+.INF", Infinity],
  ["-.inf", -Infinity], ["-.Inf", -Infinity], ["-.INF", -Infinity],
  [".nan", NaN], [".NaN", NaN], [".NAN", NaN],
]);

const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const TIMESTAMP = /^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]|[ \t]+)\d{1,2}:\d{2}:\d{2}(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d{1,2}(?::\d{2})?))?)?$/;

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Go's strconv.ParseInt(s, 0, 64) / ParseUint(s, 0, 64) on an underscore-free string. */
function parseGoInt(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2];
  let v: bigint;
  if (/^0[oO]/.test(body)) v = BigInt("0o" + body.slice(2));
  else if (/^0[0-7]+$/.test(body)) v = BigInt("0o" + body.slice(1));
  else v = BigInt(body);
  if (m[1] === "-") v = -v;
  if (v < INT64_MIN || v > UINT64_MAX) return undefined;
  if (m[1] === "-" && v === 0n) return 0n;
  return v;
}

type Resolved = { kind: "null" } | { kind: "bool"; v: boolean } | { kind: "int"; v: bigint } | { kind: "float"; v: number } | { kind: "str" };

/** How go-yaml v2 resolves an untagged plain scalar. */
export function resolvePlain(s: string): Resolved {
  if (NULL_WORDS.has(s)) return { kind: "null" };
  if (BOOL_WORDS.has(s)) return { kind: "bool", v: TRUE_WORDS.has(s) };
  const sf = SPECIAL_FLOATS.get(s);
  if (sf !== undefined) return { kind: "float", v: sf };
  const c = s[0];
  if (c === ".") {
    const plain = s;
    if (YAML_FLOAT.test(plain)) return { kind: "float", v: Number(plain) };
    return { kind: "str" };
  }
  if (c === "+" || c === "-" || (c >= "0" && c <= "9")) {
    if (TIMESTAMP.test(s)) return { kind: "str" }; // timestamps decode to their text
    const plain = s.replace(/_/g, "");
    const i = parseGoInt(plain);
    if (i !== undefined) return { kind: "int", v: i };
    if (YAML_FLOAT.test(plain)) {
      const f = Number(plain);
      if (Number.isFinite(f)) return { kind: "float", v: f };
    }
    const b = /^(-?)0b([01]+)$/.exec(plain);
    if (b) {
      const v = BigInt("0b" + b[2]) * (b[1] ? -1n : 1n);
      if (v >= INT64_MIN && v <= UINT64_MAX) return { kind: "int", v };
    }
  }
  return { kind: "str" };
}

function needsQuotesForType(s: string): boolean {
  if (s === "<<") return true;
  if (resolvePlain(s).kind !== "str") return true;
  if (TIMESTAMP.test(s)) return true;
  return BASE60.test(s);
}

// ---- Emitter ---------------------------------------------------------------------------------

const BEST_WIDTH = 80;

function isBreak(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029;
}

function isPrintable(c: number): boolean {
  return (
    c === 0x0a ||
    (c >= 0x20 && c <= 0x7e) ||
    (c >= 0xa0 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff) ||
    c >= 0x10000
  );
}

interface Analysis {
  multiline: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
  block: boolean;
}

function analyze(s: string): Analysis {
  const cps = Array.from(s, (ch) => ch.codePointAt(0)!);
  const n = cps.length;
  let blockIndicators = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let previousSpace = false;
  let previousBreak = false;
  if (s.startsWith("---") || s.startsWith("...")) blockIndicators = true;
  let precededByWS = true;
  for (let i = 0; i < n; i++) {
    const c = cps[i];
    const next = i + 1 < n ? cps[i + 1] : -1;
    const followedByWS = next === -1 || next === 0x20 || next === 0x09 || isBreak(next);
    const ch = String.fromCodePoint(c);
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(ch)) blockIndicators = true;
      if ((ch === "?" || ch === ":") && followedByWS) blockIndicators = true;
      if (ch === "-" && followedByWS) blockIndicators = true;
    } else {
      if (ch === ":" && followedByWS) blockIndicators = true;
      if (ch === "#" && precededByWS) blockIndicators = true;
    }
    if (!isPrintable(c)) special = true;
    if (c === 0x20) {
      if (i === 0) leadingSpace = true;
      if (i === n - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === n - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWS = c === 0x20 || c === 0x09 || isBreak(c);
  }
  let blockPlain = true;
  let singleQuoted = true;
  let block = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlain = false;
  if (trailingSpace) block = false;
  if (breakSpace) blockPlain = singleQuoted = false;
  if (spaceBreak || special) blockPlain = singleQuoted = block = false;
  if (lineBreaks) blockPlain = false;
  if (blockIndicators) blockPlain = false;
  return { multiline: lineBreaks, blockPlain, singleQuoted, block };
}

class Emitter {
  out = "";
  column = 0;

  write(s: string): void {
    this.out += s;
    // column in code points
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x0a) this.column = 0;
      else if (c < 0xdc00 || c > 0xdfff) this.column++;
    }
  }
  newline(indent: number): void {
    this.out += "\n" + " ".repeat(indent);
    this.column = indent;
  }

  /** A string scalar; `indent` is where continuation lines and block content go. */
  stringScalar(s: string, indent: number, simpleKey: boolean): void {
    const a = analyze(s);
    let style: "plain" | "single" | "double" | "literal";
    if (s.includes("\n")) style = "literal";
    else if (needsQuotesForType(s)) style = "double";
    else style = "plain";
    if (style === "plain" && (!a.blockPlain || (s.length === 0 && simpleKey))) style = "single";
    if (style === "single" && !a.singleQuoted) style = "double";
    if (style === "literal" && (!a.block || simpleKey)) style = "double";
    if (style === "literal" && simpleKey) style = "double";
    switch (style) {
      case "plain":
        return this.plain(s, indent, !simpleKey);
      case "single":
        return this.single(s, indent, !simpleKey);
      case "double":
        return this.double(s, indent, !simpleKey);
      case "literal":
        return this.literal(s, indent);
    }
  }

  plain(s: string, indent: number, allowBreaks: boolean): void {
    let spaces = false;
    const cps = Array.from(s);
    for (let i = 0; i < cps.length; i++) {
      const ch = cps[i];
      if (ch === " ") {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && cps[i + 1] !== " ") this.newline(indent);
        else this.write(ch);
        spaces = true;
      } else {
        this.write(ch);
        spaces = false;
      }
    }
  }

  single(s: string, indent: number, allowBreaks: boolean): void {
    this.write("'");
    let spaces = false;
    const cps = Array.from(s);
    for (let i = 0; i < cps.length; i++) {
      const ch = cps[i];
      if (ch === " ") {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== cps.length - 1 && cps[i + 1] !== " ") {
          this.newline(indent);
        } else this.write(ch);
        spaces = true;
      } else {
        this.write(ch === "'" ? "''" : ch);
        spaces = false;
      }
    }
    this.write("'");
  }

  double(s: string, indent: number, allowBreaks: boolean): void {
    this.write('"');
    let spaces = false;
    const cps = Array.from(s);
    for (let i = 0; i < cps.length; i++) {
      const ch = cps[i];
      const c = ch.codePointAt(0)!;
      if (!isPrintable(c) || c === 0xfeff || isBreak(c) || ch === '"' || ch === "\\") {
        let e: string;
        switch (c) {
          case 0x00: e = "\\0"; break;
          case 0x07: e = "\\a"; break;
          case 0x08: e = "\\b"; break;
          case 0x09: e = "\\t"; break;
          case 0x0a: e = "\\n"; break;
          case 0x0b: e = "\\v"; break;
          case 0x0c: e = "\\f"; break;
          case 0x0d: e = "\\r"; break;
          case 0x1b: e = "\\e"; break;
          case 0x22: e = '\\"'; break;
          case 0x5c: e = "\\\\"; break;
          case 0x85: e = "\\N"; break;
          case 0xa0: e = "\\_"; break;
          case 0x2028: e = "\\L"; break;
          case 0x2029: e = "\\P"; break;
          default:
            if (c <= 0xff) e = "\\x" + c.toString(16).toUpperCase().padStart(2, "0");
            else if (c <= 0xffff) e = "\\u" + c.toString(16).toUpperCase().padStart(4, "0");
            else e = "\\U" + c.toString(16).toUpperCase().padStart(8, "0");
        }
        this.write(e);
        spaces = false;
      } else if (ch === " ") {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== cps.length - 1) {
          this.newline(indent);
          if (cps[i + 1] === " ") this.write("\\");
        } else this.write(ch);
        spaces = true;
      } else {
        this.write(ch);
        spaces = false;
      }
    }
    this.write('"');
  }

  literal(s: string, indent: number): void {
    let header = "|";
    if (s[0] === " " || s[0] === "\n") header += "2";
    if (!s.endsWith("\n")) header += "-";
    else if (s.length === 1 || s.endsWith("\n\n")) header += "+";
    this.write(header);
    const body = s.endsWith("\n") ? s.slice(0, -1) : s;
    for (const line of body.split("\n")) {
      if (line === "") {
        this.out += "\n";
        this.column = 0;
      } else {
        this.newline(indent);
        this.write(line);
      }
    }
  }

  scalar(v: Value, indent: number, simpleKey = false): void {
    if (typeof v === "string") return this.stringScalar(foldBreaks(v), indent, simpleKey);
    this.write(scalarText(v));
  }

  /** Any node, the cursor being right after "key:" (inMapping) or "- " or at the document start. */
  node(v: Value, indent: number, ctx: "top" | "value" | "item"): void {
    if (isCollection(v) && !isEmptyCollection(v)) {
      if (Array.isArray(v) || v instanceof RSet) {
        const items = Array.isArray(v) ? v : v.sorted();
        if (ctx === "value") this.newline(indent);
        this.sequence(items, indent);
      } else {
        const entries = mappingEntries(v as PlainObject | ObjMap);
        if (ctx === "value") this.newline(indent + 2);
        this.mapping(entries, ctx === "value" ? indent + 2 : indent);
      }
      return;
    }
    if (ctx === "value") this.write(" ");
    if (isCollection(v)) {
      this.write(Array.isArray(v) || v instanceof RSet ? "[]" : "{}");
      return;
    }
    this.scalar(v, ctx === "item" ? indent : indent + 2);
  }

  /** Sequence whose first "- " goes at the cursor (already at `indent`). */
  sequence(items: Value[], indent: number): void {
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.newline(indent);
      this.write("- ");
      this.node(items[i], indent + 2, "item");
    }
  }

  /** Mapping whose first key goes at the cursor (already at `indent`). */
  mapping(entries: [string, Value][], indent: number): void {
    for (let i = 0; i < entries.length; i++) {
      if (i > 0) this.newline(indent);
      const [k, v] = entries[i];
      if (k.includes("\n")) {
        // a multi-line key needs the complex-key form
        this.write("? ");
        if (analyze(k).block) this.literal(k, indent + 2);
        else this.double(k, indent + 2, true);
        this.newline(indent);
        this.write(":");
        if (isCollection(v) && !isEmptyCollection(v)) {
          this.write(" ");
          if (Array.isArray(v) || v instanceof RSet) this.sequence(Array.isArray(v) ? v : v.sorted(), indent + 2);
          else this.mapping(mappingEntries(v as PlainObject | ObjMap), indent + 2);
          continue;
        }
      } else {
        this.stringScalar(k, indent + 2, true);
        this.write(":");
      }
      this.node(v, indent, "value");
    }
  }
}

function isCollection(v: Value): boolean {
  return typeof v === "object" && v !== null && !(v instanceof BigDec);
}

function isEmptyCollection(v: Value): boolean {
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof RSet || v instanceof ObjMap) return v.size === 0;
  for (const _ in v as PlainObject) return false;
  return true;
}

function mappingEntries(o: PlainObject | ObjMap): [string, Value][] {
  let es: [string, Value][];
  if (o instanceof ObjMap) es = o.sorted().map(([k, x]) => [foldBreaks(typeof k === "string" ? k : toJSONText(k)), x]);
  else es = sortedKeys(o).map((k) => [foldBreaks(k), o[k]]);
  es.sort((a, b) => yamlKeyCompare(a[0], b[0]));
  return es;
}

// Made on first use (start-up: Unicode class regular expressions are slow to create).
let letterRE: RegExp | undefined;
let digitRE: RegExp | undefined;

/** go-yaml v2's order for map keys: letters after other characters, digit runs numerically. */
export function yamlKeyCompare(a: string, b: string): number {
  if (a === b) return 0;
  return yamlKeyLess(a, b) ? -1 : yamlKeyLess(b, a) ? 1 : compareStrings(a, b);
}

function yamlKeyLess(a: string, b: string): boolean {
  const LETTER = (letterRE ??= /\p{L}/u);
  const DIGIT = (digitRE ??= /\p{Nd}/u);
  const ar = Array.from(a);
  const br = Array.from(b);
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = LETTER.test(ar[i]);
    const bl = LETTER.test(br[i]);
    if (al && bl) return ar[i].codePointAt(0)! < br[i].codePointAt(0)!;
    if (al || bl) return bl;
    let an = 0;
    let bn = 0;
    if (ar[i] === "0" || br[i] === "0") {
      for (let j = i - 1; j >= 0 && DIGIT.test(ar[j]); j--) {
        if (ar[j] !== "0") {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && DIGIT.test(ar[ai]); ai++) an = an * 10 + (ar[ai].codePointAt(0)! - 48);
    let bi = i;
    for (; bi < br.length && DIGIT.test(br[bi]); bi++) bn = bn * 10 + (br[bi].codePointAt(0)! - 48);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i].codePointAt(0)! < br[i].codePointAt(0)!;
  }
  return ar.length < br.length;
}

/**
 * OPA hands go-yaml its JSON text, where U+0085 (NEL) is left raw; YAML reads it as a line break
 * inside the quoted string and folds it: one break becomes a space, n breaks n-1 newlines, with the
 * blanks around them dropped.
 */
function foldBreaks(s: string): string {
  if (s.indexOf("\u0085") < 0) return s;
  return s.replace(/[ \t]*((?:\u0085[ \t]*)+)/g, (_m, breaks: string) => {
    let n = 0;
    for (const c of breaks) if (c === "\u0085") n++;
    return n === 1 ? " " : "\n".repeat(n - 1);
  });
}

/** go-yaml's float text: Go's strconv.FormatFloat(f, 'g', -1, 64), with .inf/.nan spellings. */
export function yamlFloat(f: number): string {
  if (f === Infinity) return ".inf";
  if (f === -Infinity) return "-.inf";
  if (Number.isNaN(f)) return ".nan";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mant, expS] = f.toExponential().split("e");
  const exp = parseInt(expS, 10);
  const digits = mant.replace("-", "").replace(".", "");
  const neg = f < 0 ? "-" : "";
  // shortest %g: exponent form when the exponent is below -4 or at least 6
  if (exp < -4 || exp >= 6) {
    const m = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
    const ae = Math.abs(exp);
    return `${neg}${m}e${exp < 0 ? "-" : "+"}${ae < 10 ? "0" + ae : ae}`;
  }
  if (exp >= digits.length - 1) return neg + digits + "0".repeat(exp - digits.length + 1);
  if (exp >= 0) return neg + digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  return neg + "0." + "0".repeat(-exp - 1) + digits;
}

/** A non-string scalar as go-yaml writes what OPA hands it (via JSON: ints stay ints, others float64). */
function scalarText(v: Value): string {
  if (v === null) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (typeof v === "number" && Number.isInteger(v)) return String(v);
  if (typeof v === "bigint") {
    if (v >= INT64_MIN && v <= UINT64_MAX) return v.toString();
    const f = Number(v);
    return Number.isFinite(f) ? yamlFloat(f) : v.toString();
  }
  const text = numberText(v as number | BigDec);
  const f = Number(text);
  if (!Number.isFinite(f)) return text; // go-yaml keeps what it cannot read as a float as a string
  return yamlFloat(f);
}

/**
 * go-yaml cannot read back OPA's JSON text when an object key holds a raw U+0085 (a line break
 * to YAML inside a flow mapping key): OPA then fails with the parser's message.
 */
function checkKeyBreaks(v: Value, state: { line: number }): void {
  if (typeof v === "string") {
    for (const c of v) if (c === "\u0085") state.line++;
    return;
  }
  if (v === null || typeof v !== "object" || v instanceof BigDec) return;
  if (Array.isArray(v) || v instanceof RSet) {
    for (const x of Array.isArray(v) ? v : v.sorted()) checkKeyBreaks(x, state);
    return;
  }
  const es =
    v instanceof ObjMap
      ? v.sorted().map(([k, x]) => [typeof k === "string" ? k : toJSONText(k), x] as [string, Value])
      : sortedKeys(v).map((k) => [k, v[k]] as [string, Value]);
  if (v instanceof ObjMap) es.sort((a, b) => compareStrings(a[0], b[0]));
  for (const [k, x] of es) {
    if (k.includes("\u0085")) throw new YAMLError(`yaml: line ${state.line}: did not find expected ',' or '}'`);
    checkKeyBreaks(x, state);
  }
}

/** yaml.marshal (throws YAMLError where OPA's YAML round trip fails) */
export function marshalYAML(v: Value): string {
  checkKeyBreaks(v, { line: 1 });
  const e = new Emitter();
  e.node(v, 0, "top");
  return e.out + "\n";
}

// ---- Loader ------------------------------------------------------------------------------------

const nullType = new yaml.Type("tag:yaml.org,2002:null", {
  kind: "scalar",
  resolve: (data: string | null) => data === null || NULL_WORDS.has(data),
  construct: () => null,
  predicate: (o: unknown) => o === null,
  represent: () => "null",
});

const boolType = new yaml.Type("tag:yaml.org,2002:bool", {
  kind: "scalar",
  resolve: (data: string | null) => data !== null && BOOL_WORDS.has(data),
  construct: (data: string) => TRUE_WORDS.has(data),
  predicate: (o: unknown) => typeof o === "boolean",
});

class Special {
  constructor(readonly f: number) {}
}

const intType = new yaml.Type("tag:yaml.org,2002:int", {
  kind: "scalar",
  resolve: (data: string | null) => data !== null && resolvePlain(data).kind === "int",
  construct: (data: string) => {
    const r = resolvePlain(data);
    return r.kind === "int" ? fromBigInt(r.v) : 0;
  },
  predicate: (o: unknown) => typeof o === "bigint",
});

const floatType = new yaml.Type("tag:yaml.org,2002:float", {
  kind: "scalar",
  resolve: (data: string | null) => data !== null && resolvePlain(data).kind === "float",
  construct: (data: string) => {
    const r = resolvePlain(data);
    const f = r.kind === "float" ? r.v : Number(data);
    return Number.isFinite(f) ? f : new Special(f);
  },
});

const SCHEMA = yaml.FAILSAFE_SCHEMA.extend({
  implicit: [nullType, boolType, intType, floatType, (yaml as unknown as { types: { merge: yaml.Type } }).types.merge],
});

export class YAMLError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "YAMLError";
  }
}

function goFloatValue(f: number): number | bigint | BigDec {
  if (Number.isInteger(f) && !Number.isSafeInteger(f)) return numberFromText(String(f))!;
  return f + 0;
}

function convertLeaf(x: unknown): Value {
  switch (typeof x) {
    case "string":
    case "boolean":
      return x;
    case "bigint":
      return fromBigInt(x);
    case "number":
      return goFloatValue(x);
    case "undefined":
      return null;
  }
  if (x instanceof Special) {
    throw new YAMLError(`json: unsupported value: ${Number.isNaN(x.f) ? "NaN" : x.f > 0 ? "+Inf" : "-Inf"}`);
  }
  return x as Value;
}

/** A js-yaml result as a Rego value, the way OPA gets it through JSON (without recursion: documents nest up to MAX_DEPTH). */
function convert(x: unknown): Value {
  return mapTree(
    x,
    (src, kids) => {
      if (Array.isArray(src)) return kids;
      const out = emptyObject();
      Object.keys(src).forEach((k, i) => (out[k] = kids[i] as Value));
      return out;
    },
    convertLeaf,
  ) as Value;
}

/**
 * yaml.unmarshal: the first document (null when there is none). Throws YAMLError.
 * Go's limits apply: nesting beyond MAX_DEPTH, an anchor used inside its own
 * value and excessive aliasing are errors (src/formats/yaml-aliases.ts).
 */
export function parseYAML(s: string): Value {
  try {
    return parseHere(s);
  } catch (e) {
    if (!isStackOverflow(e) || onLargeStack) throw e;
  }
  // js-yaml descends recursively: a document nested more deeply than this stack allows (but
  // within MAX_DEPTH) is read again on the large-stack worker (src/builtins/support/large-stack.ts)
  let text: string;
  try {
    text = callWithLargeStack({ fn: "goyaml.parse", arg: s });
  } catch (e) {
    if (e instanceof Error && e.name === "YAMLError") throw new YAMLError(e.message);
    throw e;
  }
  return decodeValueText(text);
}

/** Set in the large-stack worker: no further worker from there. */
let onLargeStack = false;

/** parseYAML on the large-stack worker; the value as text for decodeValueText. */
export function parseYAMLEncoded(s: string): string {
  onLargeStack = true;
  return encodeValueText(parseHere(s));
}
registerLargeStackFn("goyaml.parse", parseYAMLEncoded);

function parseHere(s: string): Value {
  const doc = loadFirst(s);
  if (s.indexOf("&") >= 0 && s.indexOf("*") >= 0) {
    try {
      checkAliases(doc);
    } catch (e) {
      if (!(e instanceof YamlAliasError)) throw e;
      if (e.reason.startsWith("anchor ")) {
        // read again, noting the anchors' names, to name the one in the message
        const names = new Map<object, string>();
        try {
          checkAliases(loadFirst(s, names), (o) => names.get(o));
        } catch (e2) {
          if (e2 instanceof YamlAliasError) throw new YAMLError(`yaml: ${e2.reason}`);
          throw e2;
        }
      }
      throw new YAMLError(`yaml: ${e.reason}`);
    }
  }
  if (checkDepth(doc) !== "ok") throw new YAMLError(`yaml: ${DEPTH_REASON}`);
  return convert(doc);
}

/** The first document as js-yaml reads it (null when there is none); with `names`, the anchors' names are noted. */
function loadFirst(s: string, names?: Map<object, string>): unknown {
  const docs: unknown[] = [];
  const opts: Record<string, unknown> = { schema: SCHEMA, json: true, maxDepth: JS_YAML_MAX_DEPTH };
  if (names) {
    opts.listener = (event: string, state: unknown) => {
      const st = state as { anchor?: string | null; result: unknown };
      if (event === "close" && st.anchor && st.result !== null && typeof st.result === "object") names.set(st.result, st.anchor);
    };
  }
  try {
    yaml.loadAll(s, (d) => void docs.push(d), opts as yaml.LoadOptions);
  } catch (e) {
    const err = e as { reason?: string; mark?: { line: number }; message: string };
    if (err.reason !== undefined && err.mark !== undefined) {
      if (/^nesting exceeded maxDepth/.test(err.reason)) throw new YAMLError(`yaml: ${DEPTH_REASON}`);
      if (err.reason === "unexpected end of the stream within a flow collection") throw new YAMLError(unclosedFlowMessage(s));
      throw new YAMLError(`yaml: line ${err.mark.line + 1}: ${err.reason}`);
    }
    if (!(e instanceof yaml.YAMLException)) throw e;
    throw new YAMLError(`yaml: ${err.message}`);
  }
  return docs.length === 0 || docs[0] === undefined ? null : docs[0];
}

/**
 * go-yaml's error for a flow collection (`[…`, `{…`) the input ends inside: libyaml's parser
 * wanted a node after `[`, `{`, `,` or `:` ("did not find expected node content"), else the
 * innermost collection's separator or end; the line is the stream end's (libyaml moves a last
 * line without a newline to the next line), as go-yaml reports parser errors.
 */
function unclosedFlowMessage(s: string): string {
  const open: string[] = [];
  let last = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'") {
      // a quoted scalar: to its closing quote ("…\"…", '…''…')
      for (i++; i < s.length; i++) {
        if (c === '"' && s[i] === "\\") i++;
        else if (s[i] === c) {
          if (c === "'" && s[i + 1] === "'") i++;
          else break;
        }
      }
      last = "scalar";
    } else if (c === "#" && (i === 0 || /\s/.test(s[i - 1]))) {
      while (i < s.length && s[i] !== "\n") i++;
    } else if (c === "[" || c === "{") {
      open.push(c);
      last = c;
    } else if (c === "]" || c === "}") {
      open.pop();
      last = "scalar";
    } else if (c === "," || c === ":") last = c;
    else if (!/\s/.test(c)) last = "scalar";
  }
  const inner = open[open.length - 1];
  let what: string;
  if (last === "[" || last === "{" || last === "," || (last === ":" && inner === "{")) what = "did not find expected node content";
  else what = inner === "{" ? "did not find expected ',' or '}'" : "did not find expected ',' or ']'";
  const nl = s.split("\n");
  const line = nl.length - 1 + (nl[nl.length - 1] !== "" ? 1 : 0);
  return line > 0 ? `yaml: line ${line}: ${what}` : `yaml: ${what}`;
}

export function isValidYAML(s: string): boolean {
  try {
    parseYAML(s);
    return true;
  } catch {
    return false;
  }
}
