// Input numbers as conftest's policies see them. conftest's parsers hand OPA Go values: most
// formats decode every number as a float64 (JSON, YAML, HCL2, CUE, Jsonnet, INI, CycloneDX …);
// TOML and HCL1 keep integers as int64 and only their floats are float64. OPA turns a float64
// into a json.Number holding Go's shortest `%g` text (strconv.FormatFloat(f, 'g', -1, 64)), which
// has an exponent from 1e+06 up and below 1e-04: `1e+06`, `2.5e+06`, `1.23456789e+08`, `1e-05`,
// and integers past 2^53 lose digits (`1.2345678901234567e+19`). That text is what sprintf's %v,
// json.marshal and the JSON output print. The engine's numbers print plainly (as `opa eval` does
// with JSON input, whose numbers keep their literal text), so here the numbers whose Go text
// differs become TextNumbers (src/rego/value.ts): the same number to the engine, printed as Go.
//
// Known limit: TOML and HCL1 floats with an integral value (`1e6`, `1000000.0`) are taken as
// integers, because the parsed value no longer tells them apart (conftest prints `1e+06`).

import { formatFloat } from "../gotext/fmt.ts";
import { TextNumber, numberFromText, numberText, toJsNumber, BigDec, type Value } from "../rego/value.ts";

/** Formats whose integers stay integers (int64) in conftest; in all others every number is a float64. */
const INTEGER_FORMATS = new Set(["toml", "hcl1"]);

/** Formats without numbers (every leaf a string or a boolean): nothing to do. */
const NO_NUMBERS = new Set(["dockerfile", "properties", "dotenv", "ignore", "xml", "edn", "codeowners", "nginx", "vcl", "spdx", "hocon"]);

/** Go's text for a float64, when it differs from the engine's text for the number. */
function goFloatText(v: number | bigint | BigDec): string | undefined {
  const f = toJsNumber(v);
  if (!Number.isFinite(f)) return undefined;
  const text = formatFloat(f, "g", -1);
  return text === numberText(v) && !text.includes("e") ? undefined : text;
}

function convert(v: number | bigint | BigDec, integers: boolean): Value {
  if (integers) {
    const integral = typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v));
    if (integral) return v;
  }
  const text = goFloatText(v);
  if (text === undefined) return v;
  const n = numberFromText(text);
  return n === undefined ? v : new TextNumber(n, text, true);
}

const isNum = (x: unknown): x is number | bigint | BigDec => typeof x === "number" || typeof x === "bigint" || x instanceof BigDec;

/**
 * The parsed value of an input read with `parser`, its numbers as conftest's policies see them.
 * Arrays and objects are updated in place (they are the parser's fresh output); without
 * recursion, so any depth the parsers allow is fine.
 */
export function asGoNumbers(value: unknown, parser: string): unknown {
  if (NO_NUMBERS.has(parser)) return value;
  const integers = INTEGER_FORMATS.has(parser);
  if (isNum(value)) return convert(value, integers);
  if (value === null || typeof value !== "object") return value;
  // Shared subtrees (YAML aliases) are visited once.
  const seen = new Set<object>([value]);
  const stack: object[] = [value];
  const push = (x: object) => {
    if (!seen.has(x)) {
      seen.add(x);
      stack.push(x);
    }
  };
  while (stack.length) {
    const c = stack.pop()!;
    if (Array.isArray(c)) {
      for (let i = 0; i < c.length; i++) {
        const x: unknown = c[i];
        if (isNum(x)) c[i] = convert(x, integers);
        else if (x !== null && typeof x === "object" && !(x instanceof Date)) push(x);
      }
    } else if (!(c instanceof BigDec)) {
      const o = c as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const x = o[k];
        if (isNum(x)) {
          const y = convert(x, integers);
          if (y !== x) Object.defineProperty(o, k, { value: y, writable: true, enumerable: true, configurable: true });
        }
        else if (x !== null && typeof x === "object" && !(x instanceof Date)) push(x);
      }
    }
  }
  return value;
}
