// Encoding helpers shared by the crypto, jwt, http and providers builtins: Go-compatible base64
// decoding (with Go's error offsets), Go-compatible JSON encoding (sorted keys, HTML-safe escapes)
// and small byte utilities.

import type { Value } from "../../rego/value.ts";
import { BigDec, RSet, numberText, objectEntries } from "../../rego/value.ts";

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

/** Go's json.Marshal string escaping (HTML-safe). */
export function goJSONString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22:
        out += '\\"';
        continue;
      case 0x5c:
        out += "\\\\";
        continue;
      case 0x0a:
        out += "\\n";
        continue;
      case 0x0d:
        out += "\\r";
        continue;
      case 0x09:
        out += "\\t";
        continue;
      case 0x08:
        out += "\\b";
        continue;
      case 0x0c:
        out += "\\f";
        continue;
      case 0x3c:
      case 0x3e:
      case 0x26:
      case 0x2028:
      case 0x2029:
        out += "\\u" + c.toString(16).padStart(4, "0");
        continue;
    }
    if (c < 0x20) {
      out += "\\u" + c.toString(16).padStart(4, "0");
      continue;
    }
    out += s[i];
  }
  return out + '"';
}

/** A value as Go's json.Marshal would print it: compact, sorted keys, HTML-safe strings. */
export function goJSON(v: Value): string {
  switch (typeof v) {
    case "string":
      return goJSONString(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
    case "bigint":
      return numberText(v);
  }
  if (v === null) return "null";
  if (v instanceof BigDec) return numberText(v);
  if (Array.isArray(v)) return "[" + v.map(goJSON).join(",") + "]";
  if (v instanceof RSet) return "[" + v.sorted().map(goJSON).join(",") + "]";
  return (
    "{" +
    objectEntries(v)
      .map(([k, x]) => goJSONString(typeof k === "string" ? k : goJSON(k)) + ":" + goJSON(x))
      .join(",") +
    "}"
  );
}

/** Describe why a text is not JSON, in the words of Go's encoding/json for the common cases. */
export function goJSONSyntaxError(text: string): string {
  // Find the first offending character with a small scanner-free heuristic: try JSON.parse and
  // map the position it reports.
  try {
    JSON.parse(text);
    return "";
  } catch (e) {
    const m = /position (\d+)/.exec(String((e as Error).message));
    const t = text.trimStart();
    if (t.length === 0) return "unexpected end of JSON input";
    if (m) {
      const pos = Number(m[1]);
      if (pos >= text.length) return "unexpected end of JSON input";
      const ch = text[pos];
      const lead = text.slice(0, pos).trim();
      if (lead === "") return `invalid character '${ch}' looking for beginning of value`;
      return `invalid character '${ch}' after top-level value`;
    }
    return "unexpected end of JSON input";
  }
}
