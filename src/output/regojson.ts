// JSON text for OPA-shaped output (the CLI, the browser playground): JS objects keep their key order (OPA prints "expressions" before
// "bindings"), while Rego values inside (wrapped in RegoJSON) print exactly: sorted keys, sets
// as arrays, numbers of any size.

import type { Value } from "../rego/value.ts";
import { toJSONText } from "../rego/value.ts";

export class RegoJSON {
  constructor(readonly value: Value) {}
}

export function jsonText(x: unknown, indent = "  ", level = ""): string {
  if (x instanceof RegoJSON) return toJSONText(x.value, indent, level);
  if (x === null || typeof x !== "object") return JSON.stringify(x) ?? "null";
  const inner = level + indent;
  const nl = indent ? "\n" : "";
  if (Array.isArray(x)) {
    if (x.length === 0) return "[]";
    return "[" + nl + x.map((e) => inner + jsonText(e, indent, inner)).join("," + nl) + nl + level + "]";
  }
  const keys = Object.keys(x).filter((k) => (x as Record<string, unknown>)[k] !== undefined);
  if (keys.length === 0) return "{}";
  const sep = indent ? ": " : ":";
  return (
    "{" +
    nl +
    keys.map((k) => inner + JSON.stringify(k) + sep + jsonText((x as Record<string, unknown>)[k], indent, inner)).join("," + nl) +
    nl +
    level +
    "}"
  );
}
