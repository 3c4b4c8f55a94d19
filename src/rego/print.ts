// Values written as Rego terms, the way OPA's `print`, error messages and template strings show
// them: strings quoted as Go's strconv.Quote does, sets as `{1, 2}` (`set()` when empty), objects
// as `{"a": 1}`.

import type { Value } from "./value.ts";
import { BigDec, RSet, numberText, objectEntries } from "./value.ts";
import { goQuote } from "../gotext/fmt.ts";

export function formatValue(v: Value): string {
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
  if (Array.isArray(v)) return "[" + v.map(formatValue).join(", ") + "]";
  if (v instanceof RSet) {
    if (v.size === 0) return "set()";
    return "{" + v.sorted().map(formatValue).join(", ") + "}";
  }
  return "{" + objectEntries(v).map(([k, x]) => formatValue(k) + ": " + formatValue(x)).join(", ") + "}";
}
