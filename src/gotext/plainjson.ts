// JSON text as Go's encoding/json writes it, for output that must match conftest byte for byte:
// map keys sorted by their UTF-8 bytes, `<`, `>`, `&`, U+2028 and U+2029 escaped as \u00XX,
// \b and \f short escapes (Go 1.22+), other control characters as \u00XX, lone surrogates as
// U+FFFD, floats in Go's shortest form (1e+21, 1e-7, -0) and, with an indent, MarshalIndent's
// layout (empty arrays and objects stay `[]` and `{}`).
//
// Values may be plain JavaScript (what the input parsers produce) or Rego values (sets are
// arrays in Rego's order, big numbers print in full).

import { BigDec, ObjMap, RSet, numberText, objectEntries, toJSONText, type Value } from "../rego/value.ts";
import { writeJSON, type JSONContainer } from "../rego/jsonwriter.ts";

/** Go's JSON string literal for s. */
export function goString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20) {
      esc =
        c === 0x0a ? "\\n" : c === 0x0d ? "\\r" : c === 0x09 ? "\\t" : c === 0x08 ? "\\b" : c === 0x0c ? "\\f" : "\\u00" + c.toString(16).padStart(2, "0");
    } else if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = "\\\\";
    else if (c === 0x3c) esc = "\\u003c";
    else if (c === 0x3e) esc = "\\u003e";
    else if (c === 0x26) esc = "\\u0026";
    else if (c === 0x2028) esc = "\\u2028";
    else if (c === 0x2029) esc = "\\u2029";
    else if (c >= 0xd800 && c <= 0xdfff) {
      const paired = c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (paired) {
        i++;
        continue;
      }
      esc = "\\ufffd";
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** Go's text for a float64 (strconv 'f' in [1e-6, 1e21), else 'e' with a short exponent). */
export function goFloat(n: number): string {
  if (Object.is(n, -0)) return "-0";
  if (!Number.isFinite(n)) return "null";
  return String(n); // JavaScript's Number#toString uses the same thresholds and shortest digits
}

/** Compare strings by their UTF-8 bytes (Go's sort order for map keys). */
export function compareUTF8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after every BMP character in UTF-8.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Marshal a value as Go's json.Marshal (indent "") or json.MarshalIndent(v, prefix, indent).
 * `level` is the current line prefix (used when nesting inside hand-built output).
 */
export function goJSON(x: unknown, indent = "", level = ""): string {
  return writeJSON(x, describeGo, indent, level);
}

function describeGo(x: unknown): string | JSONContainer {
  if (x === null || x === undefined) return "null";
  switch (typeof x) {
    case "string":
      return goString(x);
    case "boolean":
      return x ? "true" : "false";
    case "number":
      return goFloat(x);
    case "bigint":
      return x.toString();
  }
  if (x instanceof BigDec) return numberText(x);
  if (Array.isArray(x)) return { array: true, items: x.map((e) => [null, e]) };
  if (x instanceof RSet) return { array: true, items: x.sorted().map((e) => [null, e]) };
  if (x instanceof Date) return goString(x.toISOString());
  let entries: [string, unknown][];
  if (x instanceof ObjMap) {
    entries = objectEntries(x as Value as ObjMap).map(([k, v]) => [typeof k === "string" ? k : toJSONText(k), v]);
  } else {
    entries = Object.entries(x as Record<string, unknown>).filter(([, v]) => v !== undefined);
  }
  entries.sort((a, b) => compareUTF8(a[0], b[0]));
  return { array: false, items: entries.map(([k, v]) => [goString(k), v]) };
}

