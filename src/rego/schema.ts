// JSON Schemas as static types for the type check (`eval -s`, `check -s`, `# METADATA schemas:`),
// as OPA's compiler turns them into types (its schema parser in ast/compile.go):
//   type boolean | string | number/integer    → that scalar (the first of these a `type` list names)
//   type object with properties               → an object with exactly those keys (no others:
//                                               additionalProperties is not looked at)
//   type object without properties            → an object with any keys
//   type array with items (one schema)        → an array of that type
//   type array with items (a list)            → an array with those positions
//   anyOf                                     → the union of the alternatives
//   allOf                                     → the objects' properties (or arrays' items) merged
//   $ref (`#/…` within the document)          → the referenced schema; a reference cycle is any
//   properties/items without a type           → object/array
//   anything else (null, no type)             → any
// Limits: $ref may only point into the same document (`#/definitions/x`, `#/$defs/x`); a schema
// may nest at most MAX_SCHEMA_DEPTH levels (deeper parts are any, as the checker cuts types off).

import * as Ty from "./types.ts";

export class SchemaError extends Error {}

/** Schemas nest at most this deep; deeper parts are typed any. */
export const MAX_SCHEMA_DEPTH = 64;

type Schema = Record<string, unknown>;

const isSchema = (x: unknown): x is Schema => typeof x === "object" && x !== null && !Array.isArray(x);

/** The static type a JSON Schema describes. Throws SchemaError for a schema OPA rejects. */
export function schemaType(root: unknown): Ty.Ty {
  if (typeof root === "boolean") return Ty.ANY;
  if (!isSchema(root)) throw new SchemaError("unable to compile the schema: schema must be an object");
  const resolving = new Set<string>();
  const done = new Map<string, Ty.Ty>();

  const resolve = (ref: string): Schema | boolean => {
    if (!ref.startsWith("#")) throw new SchemaError(`unable to compile the schema: reference ${ref} is not within the schema (only #/… references are supported)`);
    let cur: unknown = root;
    const path = ref.slice(1);
    if (path !== "" && !path.startsWith("/")) throw new SchemaError(`unable to compile the schema: invalid JSON pointer ${ref}`);
    for (const raw of path === "" ? [] : path.slice(1).split("/")) {
      const part = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
      if (!isSchema(cur) && !Array.isArray(cur)) throw new SchemaError(`unable to compile the schema: reference ${ref} does not exist`);
      cur = (cur as Record<string, unknown>)[part];
      if (cur === undefined) throw new SchemaError(`unable to compile the schema: reference ${ref} does not exist`);
    }
    if (typeof cur === "boolean") return cur;
    if (!isSchema(cur)) throw new SchemaError(`unable to compile the schema: reference ${ref} is not a schema`);
    return cur;
  };

  const typesOf = (s: Schema): string[] => {
    const t = s.type;
    if (typeof t === "string") return [t];
    if (Array.isArray(t)) return t.filter((x): x is string => typeof x === "string");
    return [];
  };

  /** The schema behind $ref chains. */
  const deref = (s: Schema): Schema => {
    let cur = s;
    for (let i = 0; i < MAX_SCHEMA_DEPTH && typeof cur.$ref === "string"; i++) {
      const r = resolve(cur.$ref);
      if (typeof r === "boolean") return {};
      cur = r;
    }
    return cur;
  };

  const conv = (s: unknown, depth: number): Ty.Ty => {
    if (depth > MAX_SCHEMA_DEPTH || !isSchema(s)) return Ty.ANY;
    if (typeof s.$ref === "string") {
      const ref = s.$ref;
      const known = done.get(ref);
      if (known !== undefined) return known;
      if (resolving.has(ref)) return Ty.ANY; // a recursive definition
      resolving.add(ref);
      const t = conv(resolve(ref), depth + 1);
      resolving.delete(ref);
      done.set(ref, t);
      return t;
    }
    if (Array.isArray(s.anyOf)) {
      let u: Ty.Ty = { k: 0 };
      const types = typesOf(s);
      if (types.length > 0) {
        const core = conv({ ...s, anyOf: undefined }, depth + 1);
        // Only an object type with fixed keys joins the alternatives.
        if (core.k === Ty.K_OBJ && core.props && core.props.size > 0 && !core.elem) u = Ty.union(u, core);
      }
      for (const alt of s.anyOf) u = Ty.union(conv(alt, depth + 1), u);
      return u.k === 0 ? Ty.ANY : u;
    }
    if (Array.isArray(s.allOf)) {
      const parts: Schema[] = [];
      for (const x of s.allOf) {
        if (!isSchema(x)) continue;
        const d = deref(x);
        if (typesOf(d).length === 0 && Array.isArray(d.anyOf) && !isSchema(d.properties) && d.items === undefined) continue;
        parts.push(d);
      }
      if (parts.length === 0) return Ty.ANY;
      if (typesOf(s).length > 0 && (isSchema(s.properties) || s.items !== undefined)) parts.push({ ...s, allOf: undefined });
      return conv(mergeSchemas(parts, typesOf), depth + 1);
    }
    const types = typesOf(s);
    const props = isSchema(s.properties) ? s.properties : null;
    const items = s.items;
    if (types.length > 0) {
      if (types.includes("boolean")) return Ty.T_BOOL;
      if (types.includes("string")) return Ty.T_STR;
      if (types.includes("integer") || types.includes("number")) return Ty.T_NUM;
      if (types.includes("object")) {
        if (props && Object.keys(props).length > 0) {
          const m = new Map<string, Ty.Ty>();
          for (const k of Object.keys(props).sort()) m.set(k, conv(props[k], depth + 1));
          return { k: Ty.K_OBJ, props: m };
        }
        return Ty.objectOf(Ty.ANY);
      }
      if (types.includes("array")) {
        if (Array.isArray(items) && items.length > 0) return { k: Ty.K_ARR, items: items.map((i) => conv(i, depth + 1)) };
        if (isSchema(items)) return Ty.arrayOf(conv(items, depth + 1));
        return Ty.arrayOf(Ty.ANY);
      }
      return Ty.ANY;
    }
    if (props && Object.keys(props).length > 0) return conv({ ...s, type: "object" }, depth + 1);
    if ((Array.isArray(items) && items.length > 0) || isSchema(items)) return conv({ ...s, type: "array" }, depth + 1);
    return Ty.ANY;
  };

  return conv(root, 0);
}

/** allOf: the parts must have one type; objects' properties and arrays' items are put together. */
function mergeSchemas(parts: Schema[], typesOf: (s: Schema) => string[]): Schema {
  const typed = parts.map((p) => {
    const t = typesOf(p);
    if (t.length > 0) return t;
    if (isSchema(p.properties) && Object.keys(p.properties).length > 0) return ["object"];
    if (p.items !== undefined) return ["array"];
    return t;
  });
  const key = (t: string[]) => t.slice().sort().join(",");
  for (let i = 1; i < parts.length; i++) {
    if (key(typed[i]) !== key(typed[0])) throw new SchemaError(`unable to merge these schemas: type mismatch: ${typed[0].join(",")} and ${typed[i].join(",")}`);
  }
  const out: Schema = { ...parts[0], type: typed[0].length === 1 ? typed[0][0] : typed[0], allOf: undefined };
  if (typed[0].includes("object")) {
    const props: Schema = {};
    for (const p of parts) if (isSchema(p.properties)) Object.assign(props, p.properties);
    out.properties = props;
  } else if (typed[0].includes("array")) {
    const items = parts.find((p) => p.items !== undefined)?.items;
    if (items !== undefined) out.items = items;
  }
  return out;
}
