// Kubernetes structural-schema defaulting, as the API server (and Gatekeeper's constraint client,
// after validation) applies a CRD's `default:` values to an object.
//
// Walks the object and the schema together: in an object, each declared property that is
// absent — or null while the property is not `nullable` — gets a deep copy of its default; then
// every present field is walked with its property schema (or `additionalProperties`); in an
// array, every item is walked with `items`. Defaults are applied only inside values that exist
// (or were just defaulted): a missing parent is never created, and a scalar is left alone.
// `allOf`/`anyOf`/`oneOf`/`not` take no part, as in a structural schema.

import { isPlainObject, clone, type Obj } from "./yaml.ts";

/** The most levels walked; deeper values are left as they are (schemas this deep do not occur). */
export const MAX_DEFAULTING_DEPTH = 100;

function isNonNullableNull(x: unknown, s: unknown): boolean {
  return x === null && isPlainObject(s) && s.nullable !== true;
}

function defaultOf(s: unknown): unknown {
  return isPlainObject(s) && s.default !== undefined ? clone(s.default) : null;
}

/** Apply the schema's defaults to `x` in place (objects and arrays are changed; scalars are returned as is). */
export function applyDefaults(x: unknown, schema: unknown, depth = 0): void {
  if (!isPlainObject(schema) || depth > MAX_DEFAULTING_DEPTH) return;
  const props = isPlainObject(schema.properties) ? (schema.properties as Obj) : {};
  const extra = isPlainObject(schema.additionalProperties) ? (schema.additionalProperties as Obj) : undefined;
  if (isPlainObject(x)) {
    for (const [k, p] of Object.entries(props)) {
      if (!isPlainObject(p) || p.default === undefined) continue;
      if (!Object.hasOwn(x, k) || isNonNullableNull(x[k], p)) x[k] = clone(p.default);
    }
    for (const k of Object.keys(x)) {
      if (Object.hasOwn(props, k)) applyDefaults(x[k], props[k], depth + 1);
      else if (extra) {
        if (isNonNullableNull(x[k], extra)) x[k] = defaultOf(extra);
        applyDefaults(x[k], extra, depth + 1);
      }
    }
  } else if (Array.isArray(x)) {
    const items = schema.items;
    if (!isPlainObject(items)) return;
    for (let i = 0; i < x.length; i++) {
      if (isNonNullableNull(x[i], items)) x[i] = defaultOf(items);
      applyDefaults(x[i], items, depth + 1);
    }
  }
}
