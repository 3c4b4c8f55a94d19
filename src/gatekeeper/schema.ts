// OpenAPI v3 validation with Kubernetes structural-schema semantics.
//
// Constraints are custom resources whose CRD Gatekeeper generates from the template:
// `spec.parameters` gets the template's openAPIV3Schema. The API server (and gator) checks a
// constraint against it: value errors (type, enum, pattern, bounds, required …) are reported
// as Kubernetes field errors (`spec.parameters.n: Invalid value: "string": … must be of type
// integer: "string"`), and fields the schema does not declare are unknown-field errors unless
// a node says `x-kubernetes-preserve-unknown-fields: true` (or has additionalProperties).

import { goQuote } from "../gotext/fmt.ts";
import { type RE2Tester, re2Tester } from "../builtins/re2.ts";
import { isPlainObject, type Obj } from "./yaml.ts";

export interface FieldError {
  /** Field path in Kubernetes notation: spec.parameters.labels[0].key */
  field: string;
  /** Kubernetes error type: "Invalid value", "Required value", "Unsupported value", "Too long", "Too many", "Duplicate value", "Forbidden". */
  type: string;
  /** Full message as Kubernetes prints it: `<field>: <type>: <detail>`. */
  message: string;
}

export interface ValidationResult {
  /** Value errors (type, enum, pattern, bounds, required, …). */
  errors: FieldError[];
  /** Paths of fields the schema does not allow (pruned by the API server; errors under strict field validation). */
  unknownFields: string[];
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "string";
  return "object";
}

/** The type name Kubernetes reports for a value ("number" for any JSON number). */
function reportedType(v: unknown): string {
  const t = jsonType(v);
  return t === "integer" ? "number" : t;
}

/** Go %q-style quoting for error messages. */
export { goQuote };

function fmtValue(v: unknown): string {
  if (typeof v === "string") return goQuote(v);
  if (v === null) return "null";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function child(path: string, key: string): string {
  if (path === "") return key;
  if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key)) return `${path}.${key}`;
  return `${path}[${goQuote(key)}]`;
}

/**
 * An RE2 pattern (Go syntax and semantics, as the API server compiles `pattern`) as a tester that
 * runs in linear time; throws RegexSyntaxError with Go's message for an invalid one.
 */
export function compileRE2(pattern: string): RE2Tester {
  return re2Tester(pattern);
}

type Schema = Obj;

/** Validate `value` at `path` against an OpenAPI v3 (structural) schema. */
export function validateSchema(schema: Schema | undefined, value: unknown, path: string): ValidationResult {
  const res: ValidationResult = { errors: [], unknownFields: [] };
  if (!schema) return res;
  walk(schema, value, path, res, true);
  return res;
}

function err(res: ValidationResult, field: string, type: string, detail: string) {
  res.errors.push({ field, type, message: `${field}: ${type}: ${detail}` });
}

function invalid(res: ValidationResult, field: string, value: string, detail: string) {
  err(res, field, "Invalid value", `${value}: ${field} in body ${detail}`);
}

function typeMatches(t: string, v: unknown): boolean {
  const jt = jsonType(v);
  switch (t) {
    case "object":
      return jt === "object";
    case "array":
      return jt === "array";
    case "string":
      return jt === "string";
    case "integer":
      return jt === "integer";
    case "number":
      return jt === "integer" || jt === "number";
    case "boolean":
      return jt === "boolean";
    default:
      return true;
  }
}

function walk(s: Schema, v: unknown, path: string, res: ValidationResult, trackUnknown: boolean): void {
  if (!isPlainObject(s)) return;
  const field = path;
  if (v === null) {
    if (s.nullable === true || s.type === undefined) return;
    if (s["x-kubernetes-int-or-string"] || s["x-kubernetes-preserve-unknown-fields"]) return;
    invalid(res, field, '"null"', `must be of type ${s.type}: "null"`);
    return;
  }
  // Value-level validation.
  if (s["x-kubernetes-int-or-string"]) {
    const jt = jsonType(v);
    if (jt !== "integer" && jt !== "string") {
      const rt = reportedType(v);
      invalid(res, field, goQuote(rt), `must be of type integer-or-string: ${goQuote(rt)}`);
      return;
    }
  } else if (typeof s.type === "string" && !typeMatches(s.type, v)) {
    const rt = reportedType(v);
    invalid(res, field, goQuote(rt), `must be of type ${s.type}: ${goQuote(rt)}`);
    return;
  }
  if (Array.isArray(s.enum) && s.enum.length && !s.enum.some((e: unknown) => deepEqual(e, v))) {
    err(res, field, "Unsupported value", `${fmtValue(v)}: supported values: ${s.enum.map(fmtValue).join(", ")}`);
  }
  if (typeof v === "string") {
    if (typeof s.maxLength === "number" && [...v].length > s.maxLength) err(res, field, "Too long", `may not be longer than ${s.maxLength}`);
    if (typeof s.minLength === "number" && [...v].length < s.minLength) invalid(res, field, fmtValue(v), `should be at least ${s.minLength} chars long`);
    if (typeof s.pattern === "string") {
      let ok = true;
      try {
        ok = compileRE2(s.pattern).test(v);
      } catch {
        ok = true;
      }
      if (!ok) invalid(res, field, fmtValue(v), `should match '${s.pattern}'`);
    }
    if (typeof s.format === "string") checkFormat(s.format, v, field, res);
  }
  if (typeof v === "number") {
    if (typeof s.maximum === "number") {
      if (s.exclusiveMaximum === true ? v >= s.maximum : v > s.maximum)
        invalid(res, field, fmtValue(v), `should be less than ${s.exclusiveMaximum === true ? "" : "or equal to "}${s.maximum}`);
    }
    if (typeof s.minimum === "number") {
      if (s.exclusiveMinimum === true ? v <= s.minimum : v < s.minimum)
        invalid(res, field, fmtValue(v), `should be greater than ${s.exclusiveMinimum === true ? "" : "or equal to "}${s.minimum}`);
    }
    if (typeof s.multipleOf === "number" && s.multipleOf > 0) {
      const q = v / s.multipleOf;
      if (Math.abs(q - Math.round(q)) > 1e-9) invalid(res, field, fmtValue(v), `should be a multiple of ${s.multipleOf}`);
    }
  }
  if (Array.isArray(v)) {
    if (typeof s.maxItems === "number" && v.length > s.maxItems) err(res, field, "Too many", `${v.length}: must have at most ${s.maxItems} items`);
    if (typeof s.minItems === "number" && v.length < s.minItems) invalid(res, field, String(v.length), `should have at least ${s.minItems} items`);
    if (s.uniqueItems === true) {
      for (let i = 1; i < v.length; i++) {
        if (v.slice(0, i).some((x) => deepEqual(x, v[i]))) err(res, `${field}[${i}]`, "Duplicate value", fmtValue(v[i]));
      }
    }
    const listType = s["x-kubernetes-list-type"];
    if (listType === "set") {
      for (let i = 1; i < v.length; i++) if (v.slice(0, i).some((x) => deepEqual(x, v[i]))) err(res, `${field}[${i}]`, "Duplicate value", fmtValue(v[i]));
    }
    v.forEach((item, i) => {
      if (isPlainObject(s.items)) walk(s.items, item, `${field}[${i}]`, res, trackUnknown);
      else if (trackUnknown && !s["x-kubernetes-preserve-unknown-fields"] && s.items === undefined && (isPlainObject(item) || Array.isArray(item)) && s.type === "array") {
        // an array without an items schema keeps its items as they are
      }
    });
  }
  if (isPlainObject(v)) {
    const props: Obj = isPlainObject(s.properties) ? s.properties : {};
    const ap = s.additionalProperties;
    const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
    if (Array.isArray(s.required)) {
      for (const r of s.required) if (!(r in v)) err(res, child(field, r), "Required value", "");
    }
    if (typeof s.maxProperties === "number" && Object.keys(v).length > s.maxProperties) err(res, field, "Too many", `${Object.keys(v).length}: must have at most ${s.maxProperties} items`);
    if (typeof s.minProperties === "number" && Object.keys(v).length < s.minProperties) invalid(res, field, String(Object.keys(v).length), `should have at least ${s.minProperties} properties`);
    for (const [k, x] of Object.entries(v)) {
      const p = child(field, k);
      if (k in props) walk(props[k], x, p, res, trackUnknown);
      else if (isPlainObject(ap)) walk(ap, x, p, res, trackUnknown);
      else if (ap === true || preserve) continue;
      else if (ap === false) err(res, p, "Forbidden", "additional properties are not allowed");
      else if (trackUnknown && (s.type === "object" || s.properties !== undefined)) res.unknownFields.push(p);
    }
  }
  // Logical junctors validate values only (structural schemas forbid them from declaring fields).
  for (const sub of Array.isArray(s.allOf) ? s.allOf : []) walk(sub, v, path, res, false);
  if (Array.isArray(s.anyOf) && s.anyOf.length) {
    const ok = s.anyOf.some((sub: Schema) => validateSchema0(sub, v, path).length === 0);
    if (!ok) invalid(res, field, fmtValue(v), "must validate at least one schema (anyOf)");
  }
  if (Array.isArray(s.oneOf) && s.oneOf.length) {
    const n = s.oneOf.filter((sub: Schema) => validateSchema0(sub, v, path).length === 0).length;
    if (n !== 1) invalid(res, field, fmtValue(v), "must validate one and only one schema (oneOf)");
  }
  if (isPlainObject(s.not) && validateSchema0(s.not, v, path).length === 0) invalid(res, field, fmtValue(v), "must not validate the schema (not)");
}

function validateSchema0(s: Schema, v: unknown, path: string): FieldError[] {
  const r: ValidationResult = { errors: [], unknownFields: [] };
  walk(s, v, path, r, false);
  return r.errors;
}

function checkFormat(format: string, v: string, field: string, res: ValidationResult) {
  const checks: Record<string, RegExp> = {
    "date-time": /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
    date: /^\d{4}-\d{2}-\d{2}$/,
    uuid: /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/,
    ipv4: /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/,
    byte: /^[A-Za-z0-9+/]*={0,2}$/,
  };
  const re = checks[format];
  if (re && !re.test(v)) invalid(res, field, goQuote(v), `must be of type ${format}: ${goQuote(v)}`);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (typeof a === "object") {
    if (Array.isArray(b)) return false;
    const ka = Object.keys(a as Obj);
    const kb = Object.keys(b as Obj);
    return ka.length === kb.length && ka.every((k) => k in (b as Obj) && deepEqual((a as Obj)[k], (b as Obj)[k]));
  }
  return false;
}

/** Checks that a template's openAPIV3Schema is itself usable (types known, structural shape). */
export function checkSchemaShape(s: unknown, path: string): string[] {
  const out: string[] = [];
  const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);
  const visit = (n: unknown, p: string) => {
    if (n === undefined) return;
    if (!isPlainObject(n)) {
      out.push(`${p}: must be an object`);
      return;
    }
    if (n.type !== undefined && (typeof n.type !== "string" || !TYPES.has(n.type))) out.push(`${p}.type: Unsupported value: ${fmtValue(n.type)}: supported values: "array", "boolean", "integer", "number", "object", "string"`);
    if (n.properties !== undefined) {
      if (!isPlainObject(n.properties)) out.push(`${p}.properties: must be an object`);
      else for (const [k, v] of Object.entries(n.properties)) visit(v, `${p}.properties[${k}]`);
    }
    if (n.items !== undefined) {
      if (Array.isArray(n.items)) out.push(`${p}.items: Forbidden: items must be a schema object and not an array`);
      else visit(n.items, `${p}.items`);
    }
    if (isPlainObject(n.additionalProperties)) visit(n.additionalProperties, `${p}.additionalProperties`);
    if (typeof n.pattern === "string") {
      try {
        compileRE2(n.pattern);
      } catch (e) {
        out.push(`${p}.pattern: Invalid value: ${goQuote(n.pattern)}: must be a valid regular expression`);
      }
    }
    for (const j of ["allOf", "anyOf", "oneOf"]) if (Array.isArray(n[j])) n[j].forEach((x: unknown, i: number) => visit(x, `${p}.${j}[${i}]`));
  };
  visit(s, path);
  return out;
}
