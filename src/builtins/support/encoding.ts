// Encoding helpers shared by the crypto, jwt, http and providers builtins: Go-compatible base64
// decoding (with Go's error offsets), Go-compatible JSON encoding (sorted keys, HTML-safe escapes)
// and small byte utilities.

import type { Value } from "../../rego/value.ts";
import { BigDec, RSet, fromJS, numberText, objectEntries } from "../../rego/value.ts";

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const STD_MAP = alphabetMap(STD);
const URL_MAP = alphabetMap(URL);

function alphabetMap(a: string): Int16Array {
  const m = new Int16Array(256).fill(-1);
  for (let i = 0; i < a.length; i++) m[a.charCodeAt(i)] = i;
  return m;
}

export class Base64Error extends Error {
  offset: number;
  constructor(offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
    this.offset = offset;
  }
}

/**
 * Decode base64 the way Go's encoding/base64 does (ignoring CR/LF, reporting the offset of the
 * first bad byte). `padded`: padding is required (StdEncoding/URLEncoding) rather than absent
 * (RawStdEncoding/RawURLEncoding).
 */
export function goBase64Decode(text: string | Buffer, url: boolean, padded: boolean): Buffer {
  const src = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  const map = url ? URL_MAP : STD_MAP;
  const out: number[] = [];
  let si = 0;
  const n = src.length;
  while (si < n) {
    const q = [0, 0, 0, 0];
    let j = 0;
    let dlen = 4;
    let ended = false;
    for (; j < 4; ) {
      if (si === n) {
        if (j === 0) return Buffer.from(out);
        if (j === 1 || padded) throw new Base64Error(si - j);
        dlen = j;
        ended = true;
        break;
      }
      const c = src[si];
      si++;
      if (c === 0x0a || c === 0x0d) continue;
      if (padded && c === 0x3d) {
        // padding
        if (j === 0 || j === 1) throw new Base64Error(si - 1);
        if (j === 2) {
          while (si < n && (src[si] === 0x0a || src[si] === 0x0d)) si++;
          if (si === n) throw new Base64Error(n);
          if (src[si] !== 0x3d) throw new Base64Error(si - 1);
          si++;
        }
        while (si < n && (src[si] === 0x0a || src[si] === 0x0d)) si++;
        if (si < n) throw new Base64Error(si);
        dlen = j;
        ended = true;
        break;
      }
      const d = map[c];
      if (d < 0) throw new Base64Error(si - 1);
      q[j] = d;
      j++;
    }
    const v = (q[0] << 18) | (q[1] << 12) | (q[2] << 6) | q[3];
    const b0 = (v >> 16) & 0xff;
    const b1 = (v >> 8) & 0xff;
    const b2 = v & 0xff;
    switch (dlen) {
      case 4:
        out.push(b0, b1, b2);
        break;
      case 3:
        out.push(b0, b1);
        break;
      case 2:
        out.push(b0);
        break;
    }
    if (ended) return Buffer.from(out);
  }
  return Buffer.from(out);
}

/** Base64 encoders. */
export function b64(buf: Uint8Array): string {
  return Buffer.from(buf).toString("base64");
}
export function b64url(buf: Uint8Array | string): string {
  return Buffer.from(buf).toString("base64url");
}

/** Go's json.Marshal of strings and values: one implementation, in gojson.ts. */
export { goJSONString, marshalJSON as goJSON } from "../../gotext/json.ts";

/**
 * Why a text is not JSON, in the words of Go's encoding/json scanner ("invalid character 'x'
 * looking for beginning of value" …). Returns null for valid JSON. `eof` is the message for
 * truncated input ("unexpected end of JSON input" for json.Unmarshal, "unexpected EOF" for a
 * json.Decoder).
 */
/** Go's encoding/json: the deepest nesting of arrays and objects it reads. */
export const GO_JSON_MAX_DEPTH = 10000;

export function goJSONError(text: string, eof = "unexpected end of JSON input"): string | null {
  let i = 0;
  const n = text.length;
  const quote = (c: string) => {
    if (c === "'") return "'\\''";
    if (c === '"') return "'\"'";
    const code = c.codePointAt(0)!;
    if (code < 0x20) return `'\\x${code.toString(16).padStart(2, "0")}'`;
    return `'${c}'`;
  };
  class Fail extends Error {}
  const fail = (msg: string): never => {
    throw new Fail(msg);
  };
  const ws = () => {
    while (i < n && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const ch = () => (i < n ? String.fromCodePoint(text.codePointAt(i)!) : null);
  // Go's scanner refuses nesting beyond 10,000 levels ("exceeded max depth"); the walk keeps its
  // own stack of open containers (no recursion, whatever the depth of the text).
  const open: boolean[] = []; // true: an object, false: an array
  const push = (c: string, object: boolean) => {
    if (open.length >= GO_JSON_MAX_DEPTH) fail(`invalid character ${quote(c)} exceeded max depth`);
    open.push(object);
    i++;
  };
  /** An object key and its colon (at the key's opening quote, after white space). */
  const key = () => {
    ws();
    const k = ch();
    if (k === null) fail(eof);
    if (k !== '"') fail(`invalid character ${quote(k!)} looking for beginning of object key string`);
    str();
    ws();
    const colon = ch();
    if (colon === null) fail(eof);
    if (colon !== ":") fail(`invalid character ${quote(colon!)} after object key`);
    i++;
  };
  /** One value: a scalar, or a container whose elements the loop below reads. */
  const value = (): void => {
    for (;;) {
      ws();
      const c = ch();
      if (c === null) fail(eof);
      if (c === "{") {
        push(c, true);
        ws();
        if (ch() === "}") {
          i++;
          open.pop();
          return;
        }
        key();
        continue;
      }
      if (c === "[") {
        push(c, false);
        ws();
        if (ch() === "]") {
          i++;
          open.pop();
          return;
        }
        continue;
      }
      if (c === '"') return str();
      if (c === "-" || (c! >= "0" && c! <= "9")) return num();
      for (const lit of ["true", "false", "null"]) {
        if (c === lit[0]) {
          i++;
          for (let j = 1; j < lit.length; j++) {
            const d = ch();
            if (d === null) fail(eof);
            if (d !== lit[j]) fail(`invalid character ${quote(d!)} in literal ${lit} (expecting '${lit[j]}')`);
            i++;
          }
          return;
        }
      }
      fail(`invalid character ${quote(c!)} looking for beginning of value`);
    }
  };
  /** A whole value, its containers closed. */
  const document = (): void => {
    value();
    while (open.length > 0) {
      ws();
      const sep = ch();
      if (sep === null) fail(eof);
      const object = open[open.length - 1];
      if (sep === ",") {
        i++;
        if (object) key();
        value();
        continue;
      }
      if (sep === (object ? "}" : "]")) {
        i++;
        open.pop();
        continue;
      }
      fail(object ? `invalid character ${quote(sep!)} after object key:value pair` : `invalid character ${quote(sep!)} after array element`);
    }
  };
  const str = () => {
    i++;
    for (;;) {
      const c = ch();
      if (c === null) fail(eof);
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        i++;
        const e = ch();
        if (e === null) fail(eof);
        if (e === "u") {
          i++;
          for (let j = 0; j < 4; j++) {
            const h = ch();
            if (h === null) fail(eof);
            if (!/[0-9a-fA-F]/.test(h!)) fail(`invalid character ${quote(h!)} in \\u hexadecimal character escape`);
            i++;
          }
          continue;
        }
        if (!'"\\/bfnrt'.includes(e!)) fail(`invalid character ${quote(e!)} in string escape code`);
        i++;
        continue;
      }
      if (c!.codePointAt(0)! < 0x20) fail(`invalid character ${quote(c!)} in string literal`);
      i += c!.length;
    }
  };
  const num = () => {
    if (ch() === "-") {
      i++;
      const d = ch();
      if (d === null) fail(eof);
      if (!(d! >= "0" && d! <= "9")) fail(`invalid character ${quote(d!)} in numeric literal`);
    }
    if (ch() === "0") i++;
    else while (i < n && text[i] >= "0" && text[i] <= "9") i++;
    if (ch() === ".") {
      i++;
      const d = ch();
      if (d === null) fail(eof);
      if (!(d! >= "0" && d! <= "9")) fail(`invalid character ${quote(d!)} after decimal point in numeric literal`);
      while (i < n && text[i] >= "0" && text[i] <= "9") i++;
    }
    if (ch() === "e" || ch() === "E") {
      i++;
      if (ch() === "+" || ch() === "-") i++;
      const d = ch();
      if (d === null) fail(eof);
      if (!(d! >= "0" && d! <= "9")) fail(`invalid character ${quote(d!)} in exponent of numeric literal`);
      while (i < n && text[i] >= "0" && text[i] <= "9") i++;
    }
  };
  try {
    document();
    ws();
    if (i < n) fail(`invalid character ${quote(ch()!)} after top-level value`);
    return null;
  } catch (e) {
    if (e instanceof Fail) return e.message;
    throw e;
  }
}

/** Parse JSON text into a Rego value, keeping integers beyond 2^53 exact (gojson.ts). */
export { parseJSON as parseJSONValue } from "../../gotext/json.ts";
