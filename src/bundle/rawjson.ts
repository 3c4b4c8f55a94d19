// JSON documents of a bundle as OPA's Go code holds them: numbers keep their literal text (Go's
// json.Number), so that `1.50` in a data.json is written back as `1.50` and hashed as `1.50`, as
// `opa build` and `opa sign` do. Parsing is iterative (no recursion on the input's depth) with
// an explicit depth limit; syntax errors carry Go's decoder messages (gotext/json.ts).

import { parseJSON, goJSONString, GO_MAX_DEPTH } from "../gotext/json.ts";
import { compareUTF8, goFloat } from "../gotext/plainjson.ts";
import { numberValue } from "../gotext/json.ts";
import { BigDec, fromJS, makeObject, type Value } from "../rego/value.ts";

export class RawNumber {
  constructor(readonly text: string) {}
}
export type Raw = null | boolean | string | RawNumber | Raw[] | RawObject;
export type RawObject = Map<string, Raw>;

export class RawJSONError extends Error {}

export function isRawObject(x: Raw | undefined): x is RawObject {
  return x instanceof Map;
}

/** Parse JSON text keeping number literals. Throws RawJSONError with Go's message. */
export function parseRaw(text: string, maxDepth = GO_MAX_DEPTH): Raw {
  try {
    return parseRawUnchecked(text, maxDepth);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    let msg = e.message;
    try {
      parseJSON(text);
    } catch (g) {
      msg = (g as Error).message;
    }
    throw new RawJSONError(msg);
  }
}

type Frame = { kind: "arr"; v: Raw[] } | { kind: "obj"; v: RawObject; key: string | undefined };

function parseRawUnchecked(s: string, maxDepth: number): Raw {
  let i = 0;
  const n = s.length;
  const ws = () => {
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    throw new SyntaxError(what);
  };
  const str = (): string => {
    // s[i] === '"'
    let j = i + 1;
    let simple = true;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        simple = false;
        j += 2;
        continue;
      }
      if (c < 0x20) fail("control character in string");
      j++;
    }
    if (j >= n) fail("unterminated string");
    const lit = s.slice(i, j + 1);
    i = j + 1;
    if (simple) return lit.slice(1, -1);
    try {
      return JSON.parse(lit) as string;
    } catch {
      return fail("bad escape");
    }
  };
  const num = (): RawNumber => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(s.slice(i, i + 4096));
    if (!m) fail("bad number");
    i += m![0].length;
    return new RawNumber(m![0]);
  };
  const stack: Frame[] = [];
  let result: Raw | undefined;
  let done = false;
  const emit = (v: Raw) => {
    const top = stack[stack.length - 1];
    if (!top) {
      result = v;
      done = true;
    } else if (top.kind === "arr") top.v.push(v);
    else {
      top.v.set(top.key!, v);
      top.key = undefined;
    }
  };
  ws();
  while (!done) {
    const top = stack[stack.length - 1];
    ws();
    if (top) {
      // separators and closers
      const c = s[i];
      if (top.kind === "arr") {
        if (c === "]") {
          i++;
          stack.pop();
          emit(top.v);
          continue;
        }
        if (top.v.length > 0) {
          if (c !== ",") fail("expected , or ]");
          i++;
          ws();
        }
      } else {
        if (top.key === undefined) {
          if (c === "}") {
            i++;
            stack.pop();
            emit(top.v);
            continue;
          }
          if (top.v.size > 0) {
            if (c !== ",") fail("expected , or }");
            i++;
            ws();
          }
          if (s[i] !== '"') fail("expected key");
          top.key = str();
          ws();
          if (s[i] !== ":") fail("expected :");
          i++;
          ws();
        }
      }
    }
    const c = s[i];
    if (c === "{" || c === "[") {
      if (stack.length >= maxDepth) fail(`exceeded max depth of ${maxDepth}`);
      i++;
      stack.push(c === "{" ? { kind: "obj", v: new Map(), key: undefined } : { kind: "arr", v: [] });
      continue;
    }
    if (c === '"') emit(str());
    else if (c === "t" && s.startsWith("true", i)) {
      i += 4;
      emit(true);
    } else if (c === "f" && s.startsWith("false", i)) {
      i += 5;
      emit(false);
    } else if (c === "n" && s.startsWith("null", i)) {
      i += 4;
      emit(null);
    } else if (c === "-" || (c >= "0" && c <= "9")) emit(num());
    else fail("unexpected character");
  }
  ws();
  if (i < n) fail("trailing data");
  return result!;
}

/** A plain JavaScript value (from the YAML or JSON loaders) as a Raw tree; numbers in Go's form. */
export function rawFromJS(x: unknown): Raw {
  if (x === null || x === undefined) return null;
  if (typeof x === "boolean" || typeof x === "string") return x;
  if (typeof x === "number") return new RawNumber(goFloat(x));
  if (typeof x === "bigint") return new RawNumber(x.toString());
  if (x instanceof BigDec) return new RawNumber(String(x));
  if (Array.isArray(x)) return x.map(rawFromJS);
  if (x instanceof Date) return x.toISOString();
  const m: RawObject = new Map();
  for (const [k, v] of Object.entries(x as Record<string, unknown>)) m.set(k, rawFromJS(v));
  return m;
}

/** A Raw tree as a Rego value (numbers exact). */
export function rawToValue(r: Raw): Value {
  if (r === null || typeof r === "boolean" || typeof r === "string") return r;
  if (r instanceof RawNumber) return numberValue(r.text) as Value;
  if (Array.isArray(r)) return r.map(rawToValue);
  return makeObject([...r].map(([k, v]) => [k, rawToValue(v)] as [string, Value]));
}

/** A Raw tree as plain JavaScript (numbers as JS numbers; for manifests and small documents). */
export function rawToJS(r: Raw): unknown {
  if (r === null || typeof r === "boolean" || typeof r === "string") return r;
  if (r instanceof RawNumber) return Number(r.text);
  if (Array.isArray(r)) return r.map(rawToJS);
  const o: Record<string, unknown> = {};
  for (const [k, v] of r) Object.defineProperty(o, k, { value: rawToJS(v), enumerable: true, writable: true, configurable: true });
  return o;
}

export { fromJS };

/**
 * JSON text as Go's json.Encoder writes a map[string]any of json.Number values: keys sorted by
 * their UTF-8 bytes, HTML characters escaped (`htmlEscape`, the encoder's default) or not (the
 * hash's encodePrimitive), no spaces. Iterative.
 */
export function writeRaw(r: Raw, htmlEscape = true): string {
  const quote = (s: string) => goJSONString(s, htmlEscape);
  const out: string[] = [];
  type W = { items: [string | undefined, Raw][]; i: number; close: string };
  const stack: W[] = [];
  const open = (v: Raw): void => {
    if (v === null) out.push("null");
    else if (v === true) out.push("true");
    else if (v === false) out.push("false");
    else if (typeof v === "string") out.push(quote(v));
    else if (v instanceof RawNumber) out.push(v.text);
    else if (Array.isArray(v)) {
      out.push("[");
      stack.push({ items: v.map((x) => [undefined, x]), i: 0, close: "]" });
    } else {
      out.push("{");
      const keys = [...v.keys()].sort(compareUTF8);
      stack.push({ items: keys.map((k) => [k, v.get(k)!]), i: 0, close: "}" });
    }
  };
  open(r);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.i >= top.items.length) {
      out.push(top.close);
      stack.pop();
      continue;
    }
    const [k, v] = top.items[top.i];
    if (top.i > 0) out.push(",");
    top.i++;
    if (k !== undefined) out.push(quote(k), ":");
    open(v);
  }
  return out.join("");
}
