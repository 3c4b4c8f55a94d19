// Values written as Rego terms, the way OPA's `print`, error messages and template strings show
// them: strings quoted as Go's strconv.Quote does, sets as `{1, 2}` (`set()` when empty), objects
// as `{"a": 1}`.

import type { Value, PlainObject } from "./value.ts";
import { BigDec, RSet, numberText, objectEntries, foldValue, valueKids } from "./value.ts";
import { goQuote } from "../gotext/fmt.ts";

export function formatValue(v: Value): string {
  return fmt(v, 0);
}

function scalar(v: Value): string | undefined {
  switch (typeof v) {
    case "string":
      return goQuote(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
    case "bigint":
      return numberText(v);
  }
  if (v === null) return "null";
  if (v instanceof BigDec) return numberText(v);
  if (v instanceof RSet && v.size === 0) return "set()";
  return undefined;
}

function combine(v: Value, parts: string[]): string {
  if (Array.isArray(v)) return "[" + parts.join(", ") + "]";
  if (v instanceof RSet) return "{" + parts.join(", ") + "}";
  const kv: string[] = [];
  for (let i = 0; i < parts.length; i += 2) kv.push(parts[i] + ": " + parts[i + 1]);
  return "{" + kv.join(", ") + "}";
}

// Recursion for ordinary values; an explicit stack (foldValue) for deeply nested ones.
function fmt(v: Value, d: number): string {
  const s = scalar(v);
  if (s !== undefined) return s;
  if (d >= 200) return foldValue(v, scalar, valueKids, combine);
  if (Array.isArray(v)) return combine(v, v.map((x) => fmt(x, d + 1)));
  if (v instanceof RSet) return combine(v, v.sorted().map((x) => fmt(x, d + 1)));
  const parts: string[] = [];
  for (const [k, x] of objectEntries(v as PlainObject)) parts.push(fmt(k, d + 1), fmt(x, d + 1));
  return combine(v, parts);
}
