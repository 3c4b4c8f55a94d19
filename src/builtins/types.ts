// Types: is_*, type_name, to_number and the deprecated cast_* builtins.

import { BigDec, RSet, isObject, numberFromText, numberLiteral, typeName, fromBigInt, toJsNumber, type Value } from "../rego/value.ts";
import { BuiltinError, BuiltinTypeError, T, operandError, type Builtin } from "./registry.ts";
import { goQuote } from "../gotext/json.ts";

const isDecl = T.fn([T.any], T.boolean);

function isNumber(v: Value): boolean {
  return typeof v === "number" || typeof v === "bigint" || v instanceof BigDec;
}

// Go's ParseFloat syntax: decimal with optional '_' between digits, or hex with a 'p' exponent.
const DIGITS = "\\d(?:_?\\d)*";
const DEC_RE = new RegExp(`^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`);
const HEXD = "[0-9a-fA-F](?:_?[0-9a-fA-F])*";
const HEX_RE = new RegExp(`^([+-]?)0[xX]_?(?:(${HEXD})(?:\\.(${HEXD})?)?|\\.(${HEXD}))[pP]([+-]?${DIGITS})$`);
const SPECIAL_RE = /^[+-]?(?:inf|infinity|nan)$/i;
const JSON_NUMBER_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function parseHexFloat(m: RegExpExecArray): number | bigint | BigDec | undefined {
  const intPart = (m[2] ?? "").replace(/_/g, "");
  const fracPart = (m[3] ?? m[4] ?? "").replace(/_/g, "");
  const mant = BigInt("0x" + (intPart + fracPart || "0"));
  const exp2 = parseInt(m[5].replace(/_/g, ""), 10) - 4 * fracPart.length;
  let v: number | bigint | BigDec | undefined;
  if (mant === 0n) v = 0;
  else if (exp2 >= 0) v = fromBigInt(mant << BigInt(exp2));
  else {
    const k = -exp2;
    const digits = (mant * 5n ** BigInt(k)).toString();
    v = numberFromText(digits + "e-" + k);
  }
  if (v === undefined) return undefined;
  if (m[1] === "-") {
    if (typeof v === "number") return -v + 0;
    if (typeof v === "bigint") return fromBigInt(-v);
    return new BigDec(v.d.neg());
  }
  return v;
}

function allDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 48 || ch > 57) return false;
  }
  return true;
}

function toNumber(args: Value[]): Value {
  const v = args[0];
  if (isNumber(v)) return v;
  if (v === null) return 0;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v !== "string") throw operandError("to_number", 1, "one of {null, boolean, number, string}", v);
  // The common case, a short run of decimal digits ("100", "250"): the number itself, exactly
  // what the general path below answers for it (numberFromText of fewer than 16 digits), without
  // its regular expressions.
  if (v.length > 0 && v.length < 16 && allDigits(v)) return Number(v) + 0;
  if (SPECIAL_RE.test(v)) throw new BuiltinTypeError("to_number: operand 1 must be valid number string but got string");
  let n: number | bigint | BigDec | undefined;
  if (DEC_RE.test(v)) {
    let t = v.indexOf("_") >= 0 ? v.replace(/_/g, "") : v;
    if (t[0] === "+") t = t.slice(1);
    t = t.replace(/^(-?)\./, "$10.").replace(/\.(?=[eE]|$)/, "");
    if (Math.abs(Number(t)) === Infinity) {
      throw new BuiltinError(`to_number: strconv.ParseFloat: parsing ${goQuote(v)}: value out of range`);
    }
    // OPA keeps the string as the number's text (to_number("1.0") prints 1.0). A text that is
    // not a JSON number (`+1`, `1_000`, `.5`) OPA cannot print at all; it gets the canonical text.
    n = JSON_NUMBER_RE.test(v) ? numberLiteral(v) : numberFromText(t);
  } else {
    const m = HEX_RE.exec(v);
    if (m !== null) {
      n = parseHexFloat(m);
      if (n !== undefined && Math.abs(toJsNumber(n)) === Infinity) {
        throw new BuiltinError(`to_number: strconv.ParseFloat: parsing ${goQuote(v)}: value out of range`);
      }
    }
  }
  if (n === undefined) throw new BuiltinError(`to_number: strconv.ParseFloat: parsing ${goQuote(v)}: invalid syntax`);
  return n;
}

function castArray(args: Value[]): Value {
  const v = args[0];
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.sorted();
  throw operandError("cast_array", 1, "one of {array, set}", v);
}

function castSet(args: Value[]): Value {
  const v = args[0];
  if (v instanceof RSet) return v;
  if (Array.isArray(v)) return new RSet(v);
  throw operandError("cast_set", 1, "one of {array, set}", v);
}

function castOne(name: string, want: string, test: (v: Value) => boolean) {
  return (args: Value[]): Value => {
    if (!test(args[0])) throw operandError(name, 1, want, args[0]);
    return args[0];
  };
}

export const builtins: Builtin[] = [
  { name: "is_number", decl: isDecl, impl: (a) => isNumber(a[0]) },
  { name: "is_string", decl: isDecl, impl: (a) => typeof a[0] === "string" },
  { name: "is_boolean", decl: isDecl, impl: (a) => typeof a[0] === "boolean" },
  { name: "is_array", decl: isDecl, impl: (a) => Array.isArray(a[0]) },
  { name: "is_set", decl: isDecl, impl: (a) => a[0] instanceof RSet },
  { name: "is_object", decl: isDecl, impl: (a) => isObject(a[0]) },
  { name: "is_null", decl: isDecl, impl: (a) => a[0] === null },
  { name: "type_name", decl: T.fn([T.any], T.string), impl: (a) => typeName(a[0]) },
  { name: "to_number", decl: T.fn([T.anyOf(T.null, T.boolean, T.number, T.string)], T.number), impl: toNumber },
  { name: "cast_array", decl: T.fn([T.any], T.arrayOf(T.any)), impl: castArray, deprecated: true },
  { name: "cast_set", decl: T.fn([T.any], T.setOf(T.any)), impl: castSet, deprecated: true },
  {
    name: "cast_string",
    decl: T.fn([T.any], T.string),
    impl: castOne("cast_string", "string", (v) => typeof v === "string"),
    deprecated: true,
  },
  {
    name: "cast_boolean",
    decl: T.fn([T.any], T.boolean),
    impl: castOne("cast_boolean", "boolean", (v) => typeof v === "boolean"),
    deprecated: true,
  },
  { name: "cast_null", decl: T.fn([T.any], T.null), impl: castOne("cast_null", "null", (v) => v === null), deprecated: true },
  {
    name: "cast_object",
    decl: T.fn([T.any], T.objectOf(T.any, T.any)),
    impl: castOne("cast_object", "object", isObject),
    deprecated: true,
  },
];
