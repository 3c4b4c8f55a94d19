// Encodings: base64, base64url, hex, urlquery, json.*, yaml.*, JSON Schema.

import { RSet, compareStrings, isObject, objectEntries, toJSONText, typeName, type Value } from "../rego/value.ts";
import { BuiltinError, BuiltinTypeError, T, expectString, operandError, type Builtin } from "./registry.ts";
import { JSONSyntaxError, goQuote, isValidJSON, marshalJSON, marshalJSONIndent, parseJSON } from "../gotext/json.ts";
import { YAMLError, isValidYAML, marshalYAML, parseYAML } from "./goyaml.ts";
import { isStackOverflow } from "./support/large-stack.ts";
import { findJsonError } from "./support/jsonerror.ts";
import { DEPTH_REASON } from "./support/doclimits.ts";
import { matchSchema, verifySchema } from "./jsonschema.ts";
import { withRegexCancel } from "./re2vm.ts";

const s2s = T.fn([T.string], T.string);
const s2b = T.fn([T.string], T.boolean);

const utf8 = new TextEncoder();
const utf8dec = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

function bytesToString(b: Uint8Array): string {
  return utf8dec.decode(b);
}

// ---- base64 (Go's encoding/base64: padded, newlines ignored, CorruptInputError offsets) -------

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function decodeMap(alphabet: string): Int16Array {
  const m = new Int16Array(256).fill(-1);
  for (let i = 0; i < alphabet.length; i++) m[alphabet.charCodeAt(i)] = i;
  return m;
}
const STD_MAP = decodeMap(STD);
const URL_MAP = decodeMap(URL);

class CorruptInput extends Error {
  constructor(readonly offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
  }
}

function base64Decode(src: Uint8Array, map: Int16Array): Uint8Array {
  const out = new Uint8Array(Math.floor((src.length * 3) / 4) + 3);
  let n = 0;
  let si = 0;
  const len = src.length;
  const isNL = (c: number) => c === 0x0a || c === 0x0d;
  for (;;) {
    const q = [0, 0, 0, 0];
    let j = 0;
    let end = false;
    while (j < 4) {
      if (si === len) {
        if (j === 0) return out.subarray(0, n);
        throw new CorruptInput(si - j); // padding is required
      }
      const c = src[si++];
      const d = map[c];
      if (d >= 0) {
        q[j++] = d;
        continue;
      }
      if (isNL(c)) continue;
      if (c !== 0x3d) throw new CorruptInput(si - 1);
      // padding
      if (j < 2) throw new CorruptInput(si - 1);
      if (j === 2) {
        while (si < len && isNL(src[si])) si++;
        if (si === len) throw new CorruptInput(len);
        if (src[si] !== 0x3d) throw new CorruptInput(si - 1);
        si++;
      }
      while (si < len && isNL(src[si])) si++;
      if (si < len) throw new CorruptInput(si);
      end = true;
      break;
    }
    const v = (q[0] << 18) | (q[1] << 12) | (q[2] << 6) | q[3];
    out[n++] = (v >> 16) & 0xff;
    if (j > 2) out[n++] = (v >> 8) & 0xff;
    if (j > 3) out[n++] = v & 0xff;
    if (end) return out.subarray(0, n);
  }
}

function base64Encode(s: string): string {
  return Buffer.from(s, "utf8").toString("base64");
}

function base64urlEncode(s: string): string {
  return Buffer.from(s, "utf8").toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

function b64decode(name: string, s: string, map: Int16Array): string {
  try {
    return bytesToString(base64Decode(utf8.encode(s), map));
  } catch (e) {
    if (e instanceof CorruptInput) throw new BuiltinError(`${name}: ${e.message}`);
    throw e;
  }
}

function base64urlDecode(args: Value[]): Value {
  let s = expectString("base64url.decode", 1, args[0]);
  if (!s.endsWith("=")) {
    switch (utf8.encode(s).length % 4) {
      case 0:
        break;
      case 2:
        s += "==";
        break;
      case 3:
        s += "=";
        break;
      default:
        throw new BuiltinError(`base64url.decode: illegal base64url string: ${s}`);
    }
  }
  return b64decode("base64url.decode", s, URL_MAP);
}

// ---- hex ---------------------------------------------------------------------------------------

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Go's %#U for a byte: U+0041 'A' (the quoted form only for printable runes). */
function goRuneU(b: number): string {
  const hex = "U+" + b.toString(16).toUpperCase().padStart(4, "0");
  const printable = (b >= 0x20 && b < 0x7f) || (b >= 0xa1 && b !== 0xad);
  return printable ? `${hex} '${String.fromCharCode(b)}'` : hex;
}

function hexDecode(args: Value[]): Value {
  const s = expectString("hex.decode", 1, args[0]);
  const src = utf8.encode(s);
  const out = new Uint8Array(src.length >> 1);
  let j = 1;
  for (; j < src.length; j += 2) {
    const a = hexVal(src[j - 1]);
    if (a < 0) throw new BuiltinError(`hex.decode: encoding/hex: invalid byte: ${goRuneU(src[j - 1])}`);
    const b = hexVal(src[j]);
    if (b < 0) throw new BuiltinError(`hex.decode: encoding/hex: invalid byte: ${goRuneU(src[j])}`);
    out[(j - 1) >> 1] = (a << 4) | b;
  }
  if (src.length % 2 === 1) {
    if (hexVal(src[j - 1]) < 0) throw new BuiltinError(`hex.decode: encoding/hex: invalid byte: ${goRuneU(src[j - 1])}`);
    throw new BuiltinError("hex.decode: encoding/hex: odd length hex string");
  }
  return bytesToString(out);
}

// ---- urlquery (Go's net/url QueryEscape / QueryUnescape / ParseQuery) --------------------------

const HEXU = "0123456789ABCDEF";

export function queryEscape(s: string): string {
  let out = "";
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!unreservedQ(c)) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  for (const b of utf8.encode(s)) {
    if (unreservedQ(b)) out += String.fromCharCode(b);
    else if (b === 0x20) out += "+";
    else out += "%" + HEXU[b >> 4] + HEXU[b & 15];
  }
  return out;
}

function unreservedQ(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

class BadEscape extends Error {}

export function queryUnescape(s: string): string {
  if (s.indexOf("%") < 0 && s.indexOf("+") < 0) return s;
  const src = utf8.encode(s);
  // validate first, reporting the first bad escape as Go does
  for (let i = 0; i < src.length; i++) {
    if (src[i] !== 0x25) continue;
    if (i + 2 >= src.length || hexVal(src[i + 1]) < 0 || hexVal(src[i + 2]) < 0) {
      const bad = bytesToString(src.subarray(i, Math.min(i + 3, src.length)));
      throw new BadEscape(`invalid URL escape ${goQuote(bad)}`);
    }
    i += 2;
  }
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x25) {
      out[n++] = (hexVal(src[i + 1]) << 4) | hexVal(src[i + 2]);
      i += 2;
    } else if (c === 0x2b) out[n++] = 0x20;
    else out[n++] = c;
  }
  return bytesToString(out.subarray(0, n));
}

function urlqueryDecode(args: Value[]): Value {
  const s = expectString("urlquery.decode", 1, args[0]);
  try {
    return queryUnescape(s);
  } catch (e) {
    if (e instanceof BadEscape) throw new BuiltinError(`urlquery.decode: ${e.message}`);
    throw e;
  }
}

function encodeObject(args: Value[]): Value {
  const o = args[0];
  if (!isObject(o)) throw operandError("urlquery.encode_object", 1, "object", o);
  const pairs: [string, string[]][] = [];
  const bad = () =>
    new BuiltinTypeError("urlquery.encode_object: operand 1 values must be string, array[string], or set[string]");
  for (const [k, v] of objectEntries(o)) {
    const key = typeof k === "string" ? k : toJSONText(k);
    let vals: string[];
    if (typeof v === "string") vals = [v];
    else if (Array.isArray(v) || v instanceof RSet) {
      const items = Array.isArray(v) ? v : v.sorted();
      vals = [];
      for (const x of items) {
        if (typeof x !== "string") throw bad();
        vals.push(x);
      }
    } else throw bad();
    pairs.push([key, vals]);
  }
  pairs.sort((a, b) => compareStrings(a[0], b[0]));
  const parts: string[] = [];
  for (const [k, vals] of pairs) {
    const ek = queryEscape(k);
    for (const v of vals) parts.push(ek + "=" + queryEscape(v));
  }
  return parts.join("&");
}

function decodeObject(args: Value[]): Value {
  const s = expectString("urlquery.decode_object", 1, args[0]);
  const out = new Map<string, string[]>();
  let err: string | null = null;
  for (const seg of s.split("&")) {
    if (seg === "") continue;
    if (seg.includes(";")) {
      err = "invalid semicolon separator in query"; // Go lets this one override an earlier error
      continue;
    }
    const eq = seg.indexOf("=");
    const rawK = eq < 0 ? seg : seg.slice(0, eq);
    const rawV = eq < 0 ? "" : seg.slice(eq + 1);
    let k: string, v: string;
    try {
      k = queryUnescape(rawK);
      v = queryUnescape(rawV);
    } catch (e) {
      if (e instanceof BadEscape) {
        err ??= e.message;
        continue;
      }
      throw e;
    }
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  if (err !== null) throw new BuiltinError(`urlquery.decode_object: ${err}`);
  const obj: Record<string, Value> = Object.create(null);
  for (const [k, v] of out) obj[k] = v;
  return obj;
}

// ---- JSON ----------------------------------------------------------------------------------------

function jsonUnmarshal(args: Value[]): Value {
  const s = expectString("json.unmarshal", 1, args[0]);
  try {
    return parseJSON(s);
  } catch (e) {
    if (e instanceof JSONSyntaxError) throw new BuiltinError(`json.unmarshal: ${e.message}`);
    // the reader recurses: a deeply nested document exhausts the stack (never a raw RangeError)
    if (isStackOverflow(e)) throw new BuiltinError(`json.unmarshal: ${deepJSONError(s)}`);
    throw e;
  }
}

/** The error for a document too deep for parseJSON's stack, worded as OPA words the common cases. */
function deepJSONError(s: string): string {
  const found = findJsonError(s);
  if (found?.reason === DEPTH_REASON) return `invalid character ${goQuote(s[found.pos] ?? "").replace(/^"|"$/g, "'")} exceeded max depth`;
  if (found?.reason.startsWith("unexpected end of JSON input")) return "unexpected EOF";
  return "document nested too deeply for the JSON reader";
}

function marshalWithOptions(args: Value[]): Value {
  const v = args[0];
  const opts = args[1];
  if (!isObject(opts)) throw operandError("json.marshal_with_options", 2, "object", opts);
  let prefix = "";
  let indent = "\t";
  let pretty: boolean | undefined;
  let sawFormat = false;
  for (const [k, x] of objectEntries(opts)) {
    switch (k) {
      case "prefix":
        if (typeof x !== "string") {
          throw new BuiltinTypeError(
            `json.marshal_with_options: operand 2 key "prefix" failed cast to string: operand 0 must be string but got ${typeName(x)}`,
          );
        }
        prefix = x;
        sawFormat = true;
        break;
      case "indent":
        if (typeof x !== "string") {
          throw new BuiltinTypeError(
            `json.marshal_with_options: operand 2 key "indent" failed cast to string: operand 0 must be string but got ${typeName(x)}`,
          );
        }
        indent = x;
        sawFormat = true;
        break;
      case "pretty":
        if (typeof x !== "boolean") throw new BuiltinTypeError(`json.marshal_with_options: operand 2 key "pretty" failed cast to bool`);
        pretty = x;
        break;
      default:
        throw new BuiltinTypeError(
          `json.marshal_with_options: operand 2 object contained unknown key ${typeof k === "string" ? JSON.stringify(k) : toJSONText(k)}`,
        );
    }
  }
  if (pretty === false || (pretty === undefined && !sawFormat)) return marshalJSON(v);
  try {
    return prefix + marshalJSONIndent(v, prefix, indent);
  } catch (e) {
    // A long indent repeated at every level of a deep document can exceed V8's string length
    // (the fuzzer's 1,181 levels with a 500-character indent): the engine's size error, named here.
    if (e instanceof RangeError && /Invalid string length/.test(e.message)) throw new BuiltinError("json.marshal_with_options: result exceeds the engine's size limits");
    throw e;
  }
}

// ---- YAML ----------------------------------------------------------------------------------------

function yamlMarshal(args: Value[]): Value {
  try {
    return marshalYAML(args[0]);
  } catch (e) {
    if (e instanceof YAMLError) throw new BuiltinError(`yaml.marshal: ${e.message}`);
    throw e;
  }
}

function yamlUnmarshal(args: Value[]): Value {
  const s = expectString("yaml.unmarshal", 1, args[0]);
  try {
    return parseYAML(s);
  } catch (e) {
    if (e instanceof YAMLError) throw new BuiltinError(`yaml.unmarshal: ${e.message}`);
    throw e;
  }
}

// ---- Declarations ----------------------------------------------------------------------------------

const schemaArg = T.anyOf(T.string, T.objectOf(T.any, T.any));

export const builtins: Builtin[] = [
  { name: "base64.encode", decl: s2s, impl: (a) => base64Encode(expectString("base64.encode", 1, a[0])) },
  { name: "base64.decode", decl: s2s, impl: (a) => b64decode("base64.decode", expectString("base64.decode", 1, a[0]), STD_MAP) },
  {
    name: "base64.is_valid",
    decl: s2b,
    impl: (a) => {
      const s = expectString("base64.is_valid", 1, a[0]);
      try {
        base64Decode(utf8.encode(s), STD_MAP);
        return true;
      } catch {
        return false;
      }
    },
  },
  { name: "base64url.encode", decl: s2s, impl: (a) => base64urlEncode(expectString("base64url.encode", 1, a[0])) },
  {
    name: "base64url.encode_no_pad",
    decl: s2s,
    impl: (a) => base64urlEncode(expectString("base64url.encode_no_pad", 1, a[0])).replace(/=+$/, ""),
  },
  { name: "base64url.decode", decl: s2s, impl: base64urlDecode },
  { name: "hex.encode", decl: s2s, impl: (a) => Buffer.from(expectString("hex.encode", 1, a[0]), "utf8").toString("hex") },
  { name: "hex.decode", decl: s2s, impl: hexDecode },
  { name: "urlquery.encode", decl: s2s, impl: (a) => queryEscape(expectString("urlquery.encode", 1, a[0])) },
  { name: "urlquery.decode", decl: s2s, impl: urlqueryDecode },
  {
    name: "urlquery.encode_object",
    decl: T.fn([T.objectOf(T.string, T.anyOf(T.string, T.arrayOf(T.string), T.setOf(T.string)))], T.string),
    impl: encodeObject,
  },
  { name: "urlquery.decode_object", decl: T.fn([T.string], T.objectOf(T.string, T.arrayOf(T.string))), impl: decodeObject },
  { name: "json.marshal", decl: T.fn([T.any], T.string), impl: (a) => marshalJSON(a[0]) },
  {
    name: "json.marshal_with_options",
    decl: T.fn(
      [
        T.any,
        {
          type: "object",
          static: [
            { key: "indent", value: T.string },
            { key: "prefix", value: T.string },
            { key: "pretty", value: T.boolean },
          ],
          dynamic: { key: T.string, value: T.any },
        },
      ],
      T.string,
    ),
    impl: marshalWithOptions,
  },
  { name: "json.unmarshal", decl: T.fn([T.string], T.any), impl: jsonUnmarshal },
  { name: "json.is_valid", decl: s2b, impl: (a) => (typeof a[0] === "string" ? isValidJSON(a[0]) : false) },
  { name: "yaml.marshal", decl: T.fn([T.any], T.string), impl: yamlMarshal },
  { name: "yaml.unmarshal", decl: T.fn([T.string], T.any), impl: yamlUnmarshal },
  { name: "yaml.is_valid", decl: s2b, impl: (a) => (typeof a[0] === "string" ? isValidYAML(a[0]) : false) },
  {
    name: "json.verify_schema",
    decl: T.fn([schemaArg], T.tuple(T.boolean, T.anyOf(T.null, T.string))),
    // schema `pattern`s match under the evaluation's deadline (re2vm.ts, "Cancellation")
    impl: (args, ctx) => withRegexCancel(() => ctx.checkCancel(), () => verifySchema(args)),
  },
  {
    name: "json.match_schema",
    decl: T.fn(
      [schemaArg, schemaArg],
      T.tuple(
        T.boolean,
        T.arrayOf({
          type: "object",
          static: [
            { key: "desc", value: T.string },
            { key: "error", value: T.string },
            { key: "field", value: T.string },
            { key: "type", value: T.string },
          ],
        }),
      ),
    ),
    impl: (args, ctx) => withRegexCancel(() => ctx.checkCancel(), () => matchSchema(args)),
  },
];
