// Rego values as text between threads (the large-stack worker's results for builtins,
// src/builtins/support/large-stack.ts): JSON with integers beyond float64, big decimals and -0
// marked, decoded without recursion (JSON.parse, then mapTree), so a value nested as deeply as
// the worker's stack allowed comes back whole on a thread with the ordinary stack.
import { BigDec, emptyObject, fromBigInt, numberFromText, numberText, type Value } from "../../rego/value.ts";
import { mapTree } from "./tree.ts";

/** A value as JSON text; the mark of the exact numbers is the first line. */
export function encodeValueText(v: unknown): string {
  const mark = `\u0000number:${Math.random().toString(36).slice(2)}`;
  const json = JSON.stringify(v === undefined ? null : v, (_k, x: unknown) => {
    if (typeof x === "bigint") return { [mark]: "i" + x.toString() };
    if (x instanceof BigDec) return { [mark]: "n" + numberText(x) };
    if (Object.is(x, -0)) return { [mark]: "z" };
    return x;
  });
  return mark + "\n" + json;
}

/** The value of encodeValueText's text. */
export function decodeValueText(text: string): Value {
  const nl = text.indexOf("\n");
  const mark = text.slice(0, nl);
  return mapTree(JSON.parse(text.slice(nl + 1)), (src, kids) => {
    if (Array.isArray(src)) return kids;
    const keys = Object.keys(src);
    if (keys.length === 1 && keys[0] === mark) {
      const t = kids[0] as string;
      return t === "z" ? -0 : t[0] === "i" ? fromBigInt(BigInt(t.slice(1))) : numberFromText(t.slice(1));
    }
    const out = emptyObject();
    keys.forEach((k, i) => (out[k] = kids[i] as Value));
    return out;
  }) as Value;
}
