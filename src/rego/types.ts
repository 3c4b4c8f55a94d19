// Static types for the compile-time type check (rego_type_error), in the spirit of OPA's checker:
// types flow from literals, builtin declarations, rule heads and assignments; a builtin argument
// whose type cannot match the declaration is an error before anything runs. Unknown types
// (input, base data, function parameters) are `any` and never cause an error.

import type { TypeDecl } from "./builtin.ts";

export const K_NULL = 1;
export const K_BOOL = 2;
export const K_NUM = 4;
export const K_STR = 8;
export const K_ARR = 16;
export const K_OBJ = 32;
export const K_SET = 64;
export const K_ANY = 127;

/**
 * A type: the kinds a value may have, and what is known of its elements (array items when the
 * array is a literal, element type otherwise; set elements; object values by key, or all values).
 */
export interface Ty {
  k: number;
  items?: Ty[];
  elem?: Ty;
  props?: Map<string, Ty>;
}

export type TyFn = () => Ty;

export const ANY: Ty = { k: K_ANY };
/** The type of a variable not bound yet: any, printed as OPA prints an unknown type (`???`, JSON null). */
export const UNKNOWN: Ty = { k: K_ANY };
export const T_NULL: Ty = { k: K_NULL };
export const T_BOOL: Ty = { k: K_BOOL };
export const T_NUM: Ty = { k: K_NUM };
export const T_STR: Ty = { k: K_STR };

export function arrayOf(elem: Ty): Ty {
  return { k: K_ARR, elem };
}
export function setOf(elem: Ty): Ty {
  return { k: K_SET, elem };
}
export function objectOf(elem: Ty): Ty {
  return { k: K_OBJ, elem };
}

/** The element type of a collection type (any when unknown). */
export function elemOf(t: Ty): Ty {
  if (t.k === K_ARR && t.items) return t.items.reduce((a, b) => union(a, b), { k: 0 } as Ty) || ANY;
  if (t.k === K_OBJ && t.props && !t.elem) {
    let u: Ty = { k: 0 };
    for (const v of t.props.values()) u = union(u, v);
    return u.k === 0 ? ANY : u;
  }
  if ((t.k === K_ARR || t.k === K_SET || t.k === K_OBJ) && t.elem) return t.elem;
  return ANY;
}

/** The type of `t[key]` for a constant key (undefined when the key is not constant). */
export function indexOf(t: Ty, key: unknown): Ty {
  if (t.k === K_ARR && t.items && typeof key === "number") return t.items[key] ?? ANY;
  if (t.k === K_OBJ && t.props && typeof key === "string") return t.props.get(key) ?? (t.elem ?? ANY);
  if (t.k === K_SET) return t.elem ?? ANY;
  return elemOf(t);
}

/** Can no value of type `t` have the constant key `key`? (A literal object without it, a literal array too short, a scalar.) */
export function lacksKey(t: Ty, key: unknown): boolean {
  if (t.k === 0 || t.k === K_ANY) return false;
  if ((t.k & (K_ARR | K_OBJ | K_SET)) === 0) return true;
  // (OPA types an empty literal, `{}` or `[]`, as open.)
  if (t.k === K_OBJ && t.props && t.props.size > 0 && !t.elem) return typeof key !== "string" || !t.props.has(key);
  if (t.k === K_ARR && t.items && t.items.length > 0) return typeof key !== "number" || !Number.isInteger(key) || key < 0 || key >= t.items.length;
  return false;
}

/** Can a value of type `have` be one of type `want`? False only when surely not. */
export function compatibleTy(have: Ty, want: Ty): boolean {
  if (have.k === K_ANY || want.k === K_ANY || have.k === 0 || want.k === 0) return true;
  if ((have.k & want.k) === 0) return false;
  if (have.k === want.k && (have.k === K_ARR || have.k === K_SET || have.k === K_OBJ)) {
    if (have.k === K_ARR && have.items && have.items.length === 0) return true;
    if (have.k === K_OBJ && have.props && have.props.size === 0 && !have.elem) return true;
    return compatibleTy(elemOf(have), elemOf(want));
  }
  return true;
}

export function union(a: Ty, b: Ty): Ty {
  if (a.k === 0) return b;
  if (b.k === 0) return a;
  if (a.k === K_ANY || b.k === K_ANY) return ANY;
  const k = a.k | b.k;
  if (a.k === b.k && (k === K_ARR || k === K_SET || k === K_OBJ)) {
    return { k, elem: union(elemOf(a), elemOf(b)) };
  }
  return { k };
}

export function fromDecl(d: TypeDecl | undefined): Ty {
  if (!d) return ANY;
  switch (d.type) {
    case "any":
      if (!d.of || d.of.length === 0) return ANY;
      return d.of.map(fromDecl).reduce(union, { k: 0 });
    case "null":
      return T_NULL;
    case "boolean":
      return T_BOOL;
    case "number":
      return T_NUM;
    case "string":
      return T_STR;
    case "array":
      return { k: K_ARR, elem: d.dynamic ? fromDecl(d.dynamic) : d.static ? d.static.map(fromDecl).reduce(union, { k: 0 }) : ANY };
    case "set":
      return { k: K_SET, elem: fromDecl(d.of) };
    case "object":
      return { k: K_OBJ, elem: d.dynamic ? fromDecl(d.dynamic.value) : ANY };
    case "function":
      return ANY;
  }
}

/** Can a value of type `t` be passed where `d` is declared? False only when surely not. */
export function compatible(t: Ty, d: TypeDecl): boolean {
  if (t.k === K_ANY || t.k === 0) return true;
  switch (d.type) {
    case "any":
      if (!d.of || d.of.length === 0) return true;
      return d.of.some((x) => compatible(t, x));
    case "function":
      return true;
    case "null":
      return (t.k & K_NULL) !== 0;
    case "boolean":
      return (t.k & K_BOOL) !== 0;
    case "number":
      return (t.k & K_NUM) !== 0;
    case "string":
      return (t.k & K_STR) !== 0;
    case "array": {
      if ((t.k & K_ARR) === 0) return false;
      if (t.k === K_ARR && d.static && t.items) {
        const st = d.static;
        return t.items.length === st.length && t.items.every((i, n) => compatible(i, st[n]));
      }
      if (t.k !== K_ARR || !d.dynamic) return true;
      const dyn = d.dynamic;
      if (t.items) return t.items.every((i) => compatible(i, dyn));
      return t.elem ? compatible(t.elem, dyn) : true;
    }
    case "set": {
      if ((t.k & K_SET) === 0) return false;
      if (t.k !== K_SET || !d.of || !t.elem) return true;
      return compatible(t.elem, d.of);
    }
    case "object": {
      if ((t.k & K_OBJ) === 0) return false;
      if (t.k === K_OBJ && d.static && t.props) {
        for (const { key, value } of d.static) {
          const pt = t.props.get(key);
          if (pt !== undefined && !compatible(pt, value)) return false;
        }
      }
      if (t.k !== K_OBJ || !d.dynamic) return true;
      const dv = d.dynamic.value;
      if (t.props) for (const v of t.props.values()) if (!compatible(v, dv)) return false;
      return t.elem ? compatible(t.elem, dv) : true;
    }
  }
}

const NAMES: [number, string][] = [
  [K_NULL, "null"],
  [K_BOOL, "boolean"],
  [K_NUM, "number"],
  [K_STR, "string"],
];

/** Types written as OPA's checker writes them (array<number, string>, set[number], any<…>). */
export function tyString(t: Ty): string {
  if (t === UNKNOWN) return "???";
  if (t.k === K_ANY || t.k === 0) return "any";
  const parts: string[] = [];
  for (const [k, n] of NAMES) if (t.k & k) parts.push(n);
  if (t.k & K_ARR) parts.push(t.items ? `array<${t.items.map(tyString).join(", ")}>` : `array[${tyString(t.elem ?? ANY)}]`);
  if (t.k & K_OBJ) {
    parts.push(
      t.props && t.props.size > 0
        ? `object<${sortedProps(t.props).map(([k, v]) => `${k}: ${tyString(v)}`).join(", ")}>`
        : `object[any: ${tyString(t.elem ?? ANY)}]`,
    );
  }
  if (t.k & K_SET) parts.push(`set[${tyString(t.elem ?? ANY)}]`);
  return parts.length === 1 ? parts[0] : `any<${parts.join(", ")}>`;
}

export function declString(d: TypeDecl): string {
  switch (d.type) {
    case "any":
      return !d.of || d.of.length === 0 ? "any" : `any<${d.of.map(declString).join(", ")}>`;
    case "array":
      return d.static ? `array<${d.static.map(declString).join(", ")}>` : `array[${d.dynamic ? declString(d.dynamic) : "any"}]`;
    case "set":
      return `set[${d.of ? declString(d.of) : "any"}]`;
    case "object":
      return d.dynamic ? `object[${declString(d.dynamic.key)}: ${declString(d.dynamic.value)}]` : "object";
    default:
      return d.type;
  }
}

/** An object type's static properties in OPA's order (by key). */
function sortedProps(props: Map<string, Ty>): [string, Ty][] {
  return Array.from(props).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A type in OPA's JSON form (the `details` of type errors): {"type": "number"}, {"type": "object", "static": […]}, … */
export function tyJSON(t: Ty): unknown {
  if (t === UNKNOWN) return null;
  if (t.k === K_ANY || t.k === 0) return { type: "any" };
  // Members in Go's order for a map (sorted): dynamic, of, static, type.
  const parts: unknown[] = [];
  for (const [k, n] of NAMES) if (t.k & k) parts.push({ type: n });
  if (t.k & K_ARR) parts.push(t.items ? { static: t.items.map(tyJSON), type: "array" } : { dynamic: tyJSON(t.elem ?? ANY), type: "array" });
  if (t.k & K_OBJ) {
    const o: Record<string, unknown> = {};
    if (t.elem || !t.props || t.props.size === 0) o.dynamic = { key: { type: "any" }, value: tyJSON(t.elem ?? ANY) };
    if (t.props && t.props.size > 0) o.static = sortedProps(t.props).map(([key, v]) => ({ key, value: tyJSON(v) }));
    o.type = "object";
    parts.push(o);
  }
  if (t.k & K_SET) parts.push({ of: tyJSON(t.elem ?? ANY), type: "set" });
  return parts.length === 1 ? parts[0] : { of: parts, type: "any" };
}

/** Can values of the two types be equal (OPA's unification check of `=` and `==`)? False only when surely not. */
export function unifiable(a: Ty, b: Ty): boolean {
  if (a.k === K_ANY || b.k === K_ANY || a.k === 0 || b.k === 0) return true;
  if ((a.k & b.k) === 0) return false;
  if (a.k !== b.k) return true;
  if (a.k === K_ARR) {
    if (a.items && b.items) return a.items.length === b.items.length && a.items.every((x, i) => unifiable(x, b.items![i]));
    return unifiable(elemOf(a), elemOf(b));
  }
  if (a.k === K_OBJ) {
    if (a.props && b.props && !a.elem && !b.elem && a.props.size > 0 && b.props.size > 0) {
      if (a.props.size !== b.props.size) return false;
      for (const [k, v] of a.props) {
        const w = b.props.get(k);
        if (w === undefined || !unifiable(v, w)) return false;
      }
      return true;
    }
    return true;
  }
  return true;
}
