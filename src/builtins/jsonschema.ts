// JSON Schema (draft 4/6/7) validation for json.verify_schema and json.match_schema, shaped after
// what OPA reports (it uses the gojsonschema library): schema problems as one message, validation
// errors as {error, type, field, desc} objects, in gojsonschema's order.

import {
  BigDec,
  ObjMap,
  RSet,
  compare,
  emptyObject,
  isObject,
  numberText,
  objectEntries,
  toDecimal,
  toJSONText,
  type PlainObject,
  type Value,
} from "../rego/value.ts";
import { BuiltinError } from "./registry.ts";
import { JSONSyntaxError, marshalJSON, parseJSON } from "../gotext/json.ts";
import { type Compiled, RegexSyntaxError, getRegex, parseRE2, testRE } from "./re2.ts";

class SchemaError extends Error {}

// ---- Values ------------------------------------------------------------------------------------

/**
 * A JSON view of a Rego value: sets become arrays, non-string keys their JSON text. Unchanged
 * parts are returned as they are. Walked with an explicit stack (values nest 10,000 deep).
 */
function toJSONish(root: Value): Value {
  const isLeaf = (v: Value) => !(v instanceof RSet || v instanceof ObjMap || Array.isArray(v) || isObject(v));
  if (isLeaf(root)) return root;
  type Frame = { src: Value; keys: string[] | null; items: Value[]; out: Value[]; i: number };
  const frame = (v: Value): Frame => {
    if (v instanceof RSet) return { src: v, keys: null, items: v.sorted(), out: [], i: 0 };
    if (Array.isArray(v)) return { src: v, keys: null, items: v, out: [], i: 0 };
    if (v instanceof ObjMap) {
      const e = v.sorted();
      return { src: v, keys: e.map(([k]) => (typeof k === "string" ? k : toJSONText(k))), items: e.map((x) => x[1]), out: [], i: 0 };
    }
    const keys = Object.keys(v as PlainObject);
    return { src: v, keys, items: keys.map((k) => (v as PlainObject)[k]), out: [], i: 0 };
  };
  const finish = (f: Frame): Value => {
    const changed = f.src instanceof RSet || f.src instanceof ObjMap || f.out.some((x, i) => x !== f.items[i]);
    if (!changed) return f.src;
    if (f.keys === null) return f.out;
    const o = emptyObject();
    f.keys.forEach((k, i) => (o[k] = f.out[i]!));
    return o;
  };
  const stack: Frame[] = [frame(root)];
  for (;;) {
    const f = stack[stack.length - 1]!;
    if (f.i === f.items.length) {
      const v = finish(f);
      stack.pop();
      if (stack.length === 0) return v;
      stack[stack.length - 1]!.out.push(v);
      continue;
    }
    const x = f.items[f.i++]!;
    if (isLeaf(x)) f.out.push(x);
    else stack.push(frame(x));
  }
}

/** Schemas and documents nested beyond what the validator's recursion allows: an error, not a crash. */
function tooDeep(name: string, e: unknown): never {
  if (e instanceof RangeError && /call stack/.test(e.message)) {
    throw new BuiltinError(`${name}: schema or document nested too deeply to validate`);
  }
  throw e;
}

function isNum(v: Value): v is number | bigint | BigDec {
  return typeof v === "number" || typeof v === "bigint" || v instanceof BigDec;
}

function isInt(v: number | bigint | BigDec): boolean {
  if (typeof v === "number") return Number.isInteger(v);
  if (typeof v === "bigint") return true;
  return v.d.isInteger();
}

function jsonType(v: Value): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "string";
  if (isNum(v)) return isInt(v) ? "integer" : "number";
  if (Array.isArray(v)) return "array";
  return "object";
}

function get(o: PlainObject, k: string): Value | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

// ---- Compiled schemas ---------------------------------------------------------------------------

type Schema = true | false | Node;

interface Node {
  ref?: string;
  types?: string[];
  enum?: Value[];
  const?: Value;
  hasConst: boolean;
  // numbers
  multipleOf?: number | bigint | BigDec;
  minimum?: number | bigint | BigDec;
  maximum?: number | bigint | BigDec;
  exclusiveMinimum?: number | bigint | BigDec;
  exclusiveMaximum?: number | bigint | BigDec;
  // strings
  minLength?: number;
  maxLength?: number;
  pattern?: Compiled;
  patternText?: string;
  format?: string;
  // arrays
  items?: Schema | Schema[];
  additionalItems?: Schema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  contains?: Schema;
  // objects
  properties?: [string, Schema][];
  patternProperties?: [Compiled, Schema][];
  additionalProperties?: Schema;
  required?: string[];
  dependencies?: [string, string[] | Schema][];
  propertyNames?: Schema;
  minProperties?: number;
  maxProperties?: number;
  // combinators
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  if?: Schema;
  then?: Schema;
  else?: Schema;
}

const TYPE_NAMES = ["array", "boolean", "integer", "number", "null", "object", "string"];

class Compiler {
  refs = new Map<string, Schema>();
  constructor(readonly root: Value) {}

  compile(s: Value): Schema {
    if (s === true || s === false) return s;
    if (!isObject(s) || s instanceof ObjMap) throw new SchemaError("Expected: Valid Schema, given: Invalid JSON");
    const o = s as PlainObject;
    const n: Node = { hasConst: false };
    const ref = get(o, "$ref");
    if (typeof ref === "string") {
      n.ref = ref;
      this.resolveRef(ref);
    }
    const t = get(o, "type");
    if (t !== undefined) {
      const list = typeof t === "string" ? [t] : Array.isArray(t) ? t : null;
      if (list === null) throw new SchemaError("Invalid type. Expected: type, given: string/Array Of Strings");
      const seen = new Set<string>();
      for (const x of list) {
        if (typeof x !== "string") throw new SchemaError("Invalid type. Expected: type, given: string/Array Of Strings");
        if (!TYPE_NAMES.includes(x)) {
          throw new SchemaError(
            `has a primitive type that is NOT VALID -- given: /${x}/ Expected valid values are:[${TYPE_NAMES.join(" ")}]`,
          );
        }
        if (seen.has(x)) throw new SchemaError(`${x} type is duplicated`);
        seen.add(x);
      }
      n.types = list as string[];
    }
    const en = get(o, "enum");
    if (en !== undefined) {
      if (!Array.isArray(en)) throw new SchemaError("enum must be an array");
      n.enum = en;
    }
    if (Object.hasOwn(o, "const")) {
      n.hasConst = true;
      n.const = o.const;
    }
    // numbers
    const num = (k: string) => {
      const v = get(o, k);
      if (v === undefined) return undefined;
      if (!isNum(v)) throw new SchemaError(`${k} must be of a Number`);
      return v;
    };
    n.multipleOf = num("multipleOf");
    if (n.multipleOf !== undefined && toDecimal(n.multipleOf).lte(0)) {
      throw new SchemaError("multipleOf must be strictly greater than 0");
    }
    n.minimum = num("minimum");
    n.maximum = num("maximum");
    const exMin = get(o, "exclusiveMinimum");
    if (typeof exMin === "boolean") {
      if (n.minimum === undefined) throw new SchemaError("exclusiveMinimum cannot be used without minimum");
      if (exMin) {
        n.exclusiveMinimum = n.minimum;
        n.minimum = undefined;
      }
    } else n.exclusiveMinimum = num("exclusiveMinimum");
    const exMax = get(o, "exclusiveMaximum");
    if (typeof exMax === "boolean") {
      if (n.maximum === undefined) throw new SchemaError("exclusiveMaximum cannot be used without maximum");
      if (exMax) {
        n.exclusiveMaximum = n.maximum;
        n.maximum = undefined;
      }
    } else n.exclusiveMaximum = num("exclusiveMaximum");
    // counts
    const count = (k: string) => {
      const v = get(o, k);
      if (v === undefined) return undefined;
      if (!isNum(v) || !isInt(v)) throw new SchemaError(`${k} must be of an integer`);
      const x = Number(v instanceof BigDec ? v.d.toString() : v);
      if (x < 0) throw new SchemaError(`${k} must be greater than or equal to 0`);
      return x;
    };
    n.minLength = count("minLength");
    n.maxLength = count("maxLength");
    if (n.minLength !== undefined && n.maxLength !== undefined && n.minLength > n.maxLength) {
      throw new SchemaError("minLength cannot be greater than maxLength");
    }
    const pat = get(o, "pattern");
    if (pat !== undefined) {
      if (typeof pat !== "string") throw new SchemaError("pattern must be a string");
      n.pattern = regex(pat, "pattern must be a valid regex");
      n.patternText = pat;
    }
    const fmt = get(o, "format");
    if (typeof fmt === "string") n.format = fmt;
    // arrays
    const items = get(o, "items");
    if (items !== undefined) {
      if (Array.isArray(items)) n.items = items.map((x) => this.sub(x, "Invalid type. Expected: Valid Schema/Array Of Schemas, given: items"));
      else n.items = this.sub(items, "Invalid type. Expected: Valid Schema/Array Of Schemas, given: items");
    }
    const ai = get(o, "additionalItems");
    if (ai !== undefined) n.additionalItems = this.sub(ai, "additionalItems must be of an object or a boolean");
    n.minItems = count("minItems");
    n.maxItems = count("maxItems");
    const ui = get(o, "uniqueItems");
    if (ui !== undefined) {
      if (typeof ui !== "boolean") throw new SchemaError("uniqueItems must be of a boolean");
      n.uniqueItems = ui;
    }
    const ct = get(o, "contains");
    if (ct !== undefined) n.contains = this.sub(ct, "contains must be of an object or a boolean");
    // objects
    const props = get(o, "properties");
    if (props !== undefined) {
      if (!isObject(props)) throw new SchemaError("Properties must be of type object");
      n.properties = objectEntries(props).map(([k, x]) => [String(k), this.sub(x, "Expected: Valid Schema, given: Invalid JSON")]);
    }
    const pp = get(o, "patternProperties");
    if (pp !== undefined) {
      if (!isObject(pp)) throw new SchemaError("patternProperties must be of an object");
      n.patternProperties = objectEntries(pp).map(([k, x]) => [
        regex(String(k), `Invalid regex pattern '${String(k)}'`),
        this.sub(x, "Expected: Valid Schema, given: Invalid JSON"),
      ]);
    }
    const ap = get(o, "additionalProperties");
    if (ap !== undefined) n.additionalProperties = this.sub(ap, "additionalProperties must be of an object or a boolean");
    const req = get(o, "required");
    if (req !== undefined) {
      if (!Array.isArray(req)) throw new SchemaError("required must be of an array");
      for (const r of req) if (typeof r !== "string") throw new SchemaError("required items must be string");
      n.required = req as string[];
    }
    const deps = get(o, "dependencies");
    if (deps !== undefined) {
      if (!isObject(deps)) throw new SchemaError("dependencies must be of an object");
      n.dependencies = objectEntries(deps).map(([k, x]) => {
        if (Array.isArray(x)) return [String(k), x.map(String)];
        return [String(k), this.sub(x, "dependencies must be of an array or an object")];
      });
    }
    const pn = get(o, "propertyNames");
    if (pn !== undefined) n.propertyNames = this.sub(pn, "propertyNames must be of an object or a boolean");
    n.minProperties = count("minProperties");
    n.maxProperties = count("maxProperties");
    if (n.minProperties !== undefined && n.maxProperties !== undefined && n.minProperties > n.maxProperties) {
      throw new SchemaError("minProperties cannot be greater than maxProperties");
    }
    // combinators
    for (const k of ["allOf", "anyOf", "oneOf"] as const) {
      const v = get(o, k);
      if (v === undefined) continue;
      if (!Array.isArray(v)) throw new SchemaError(`${k} must be of an array`);
      n[k] = v.map((x) => this.sub(x, `${k} items must be objects`));
    }
    const not = get(o, "not");
    if (not !== undefined) {
      if (!isObject(not) && typeof not !== "boolean") throw new SchemaError("not must be of an object");
      n.not = this.sub(not, "not must be of an object");
    }
    for (const k of ["if", "then", "else"] as const) {
      const v = get(o, k);
      if (v !== undefined) n[k] = this.sub(v, `${k} must be of an object or a boolean`);
    }
    // definitions are compiled so their errors surface, as gojsonschema does
    for (const k of ["definitions", "$defs"]) {
      const d = get(o, k);
      if (d !== undefined && isObject(d)) for (const [, x] of objectEntries(d)) this.sub(x, "Expected: Valid Schema, given: Invalid JSON");
    }
    return n;
  }

  sub(x: Value, msg: string): Schema {
    if (typeof x === "boolean") return x;
    if (!isObject(x)) throw new SchemaError(msg);
    return this.compile(x);
  }

  resolveRef(ref: string): Schema {
    const cached = this.refs.get(ref);
    if (cached !== undefined) return cached;
    if (!ref.startsWith("#")) throw new SchemaError(`Reference ${ref} must be canonical`);
    let node: Value = this.root;
    const ptr = decodeURIComponent(ref.slice(1));
    if (ptr !== "" && ptr !== "/") {
      for (const raw of ptr.slice(1).split("/")) {
        const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
        if (Array.isArray(node)) {
          const i = Number(key);
          if (!Number.isInteger(i) || i < 0 || i >= node.length) throw new SchemaError(`Array has no index ${key}`);
          node = node[i];
        } else if (isObject(node) && !(node instanceof ObjMap) && Object.hasOwn(node, key)) {
          node = (node as PlainObject)[key];
        } else throw new SchemaError(`Object has no key '${key}'`);
      }
    }
    // placeholder for recursion, then the real node
    const placeholder: Node = { hasConst: false };
    this.refs.set(ref, placeholder);
    const compiled = node === this.root ? this.compile(node) : this.sub(node, "Expected: Valid Schema, given: Invalid JSON");
    if (typeof compiled === "boolean") this.refs.set(ref, compiled);
    else Object.assign(placeholder, compiled);
    return this.refs.get(ref)!;
  }
}

/** Patterns are Go regular expressions (RE2), matched in linear time, as gojsonschema does. */
function regex(p: string, msg: string): Compiled {
  try {
    return getRegex(p);
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new SchemaError(msg);
    throw e;
  }
}

// ---- Validation ------------------------------------------------------------------------------------

interface Err {
  type: string;
  field: string;
  desc: string;
}

class Result {
  errors: Err[] = [];
  score = 0;
  add(type: string, ctx: string[], desc: string): void {
    this.errors.push({ type, field: fieldOf(ctx), desc });
  }
  merge(o: Result): void {
    for (const e of o.errors) this.errors.push(e);
    this.score += o.score;
  }
  get valid(): boolean {
    return this.errors.length === 0;
  }
}

function fieldOf(ctx: string[]): string {
  return ctx.length === 0 ? "(Root)" : ctx.join(".");
}

function showNum(v: number | bigint | BigDec): string {
  return numberText(v);
}

function jsonText(v: Value): string {
  return marshalJSON(v).replace(/\\u003c/g, "<").replace(/\\u003e/g, ">").replace(/\\u0026/g, "&");
}

function runeLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

class Validator {
  constructor(readonly c: Compiler) {}

  /** Schemas being applied, with the instance each applies to (the recursion's own stack). */
  private active: [Schema, Value][] = [];

  validate(s: Schema, v: Value, ctx: string[]): Result {
    const r = new Result();
    this.recurse(s, v, ctx, r);
    return r;
  }

  recurse(s: Schema, v: Value, ctx: string[], r: Result): void {
    if (s === true) {
      r.score++;
      return;
    }
    if (s === false) {
      r.add("false", ctx, "False always fails validation");
      return;
    }
    if (s.ref !== undefined) {
      const target = this.c.resolveRef(s.ref);
      // A $ref that leads back to a schema already being applied to this same instance (`{"$ref":
      // "#"}`, `allOf: [{"$ref": "#"}]`) would recurse forever (OPA's gojsonschema dies of a
      // stack overflow): a named error instead.
      if (this.active.some(([as, av]) => as === target && av === v)) {
        throw new BuiltinError(`json.match_schema: $ref ${JSON.stringify(s.ref)} refers back to a schema being applied to the same value (infinite recursion)`);
      }
      this.active.push([target, v]);
      try {
        this.recurse(target, v, ctx, r);
      } finally {
        this.active.pop();
      }
      // draft 4-7: siblings of $ref are ignored
      return;
    }
    if (s.types !== undefined) {
      const t = jsonType(v);
      const ok = s.types.includes(t) || (t === "integer" && s.types.includes("number"));
      if (!ok) {
        const expected = s.types.length === 1 ? s.types[0] : `[${s.types.join(",")}]`;
        r.add("invalid_type", ctx, `Invalid type. Expected: ${expected}, given: ${t}`);
        return;
      }
      r.score++;
    }
    this.combinators(s, v, ctx, r);
    if (Array.isArray(v)) this.array(s, v, ctx, r);
    else if (isNum(v)) this.number(s, v, ctx, r);
    else if (typeof v === "string") this.string(s, v, ctx, r);
    else if (v !== null && typeof v === "object") this.object(s, v as PlainObject, ctx, r);
    this.common(s, v, ctx, r);
    if (v !== null && typeof v === "object" && !Array.isArray(v) && !isNum(v) && s.properties !== undefined) {
      for (const [k, ps] of s.properties) {
        if (Object.hasOwn(v, k)) r.merge(this.validate(ps, (v as PlainObject)[k], [...ctx, k]));
      }
    }
  }

  combinators(s: Node, v: Value, ctx: string[], r: Result): void {
    if (s.anyOf !== undefined && s.anyOf.length > 0) {
      let best: Result | null = null;
      let ok = false;
      for (const sub of s.anyOf) {
        const x = this.validate(sub, v, ctx);
        if (x.valid) {
          ok = true;
          break;
        }
        if (best === null || x.score > best.score) best = x;
      }
      if (!ok) {
        r.add("number_any_of", ctx, "Must validate at least one schema (anyOf)");
        if (best !== null) r.merge(best);
      }
    }
    if (s.oneOf !== undefined && s.oneOf.length > 0) {
      let best: Result | null = null;
      let n = 0;
      for (const sub of s.oneOf) {
        const x = this.validate(sub, v, ctx);
        if (x.valid) n++;
        else if (n === 0 && (best === null || x.score > best.score)) best = x;
      }
      if (n !== 1) {
        r.add("number_one_of", ctx, "Must validate one and only one schema (oneOf)");
        if (n === 0 && best !== null) r.merge(best);
      }
    }
    if (s.allOf !== undefined && s.allOf.length > 0) {
      let n = 0;
      for (const sub of s.allOf) {
        const x = this.validate(sub, v, ctx);
        if (x.valid) n++;
        r.merge(x);
      }
      if (n !== s.allOf.length) r.add("number_all_of", ctx, "Must validate all the schemas (allOf)");
    }
    if (s.not !== undefined) {
      const x = this.validate(s.not, v, ctx);
      if (x.valid) r.add("number_not", ctx, "Must not validate the schema (not)");
    }
    if (s.dependencies !== undefined && v !== null && typeof v === "object" && !Array.isArray(v) && !isNum(v)) {
      const o = v as PlainObject;
      for (const [k, dep] of s.dependencies) {
        if (!Object.hasOwn(o, k)) continue;
        if (Array.isArray(dep)) {
          for (const d of dep) {
            if (!Object.hasOwn(o, d)) r.add("missing_dependency", ctx, `Has a dependency on ${d}`);
          }
        } else r.merge(this.validate(dep, v, ctx));
      }
    }
    if (s.if !== undefined) {
      const x = this.validate(s.if, v, ctx);
      if (x.valid) {
        if (s.then !== undefined) {
          const y = this.validate(s.then, v, ctx);
          if (!y.valid) {
            r.add("condition_then", ctx, 'Must validate "then" as "if" was valid');
            r.merge(y);
          }
        }
      } else if (s.else !== undefined) {
        const y = this.validate(s.else, v, ctx);
        if (!y.valid) {
          r.add("condition_else", ctx, 'Must validate "else" as "if" was not valid');
          r.merge(y);
        }
      }
    }
  }

  common(s: Node, v: Value, ctx: string[], r: Result): void {
    if (s.hasConst) {
      if (compare(v, toJSONish(s.const as Value)) !== 0) {
        r.add("const", ctx, `${fieldOf(ctx)} does not match: ${jsonText(s.const as Value)}`);
      } else r.score++;
    }
    if (s.enum !== undefined) {
      let ok = false;
      for (const e of s.enum) {
        if (compare(v, toJSONish(e)) === 0) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        r.add("enum", ctx, `${fieldOf(ctx)} must be one of the following: ${s.enum.map(jsonText).join(", ")}`);
      } else r.score++;
    }
  }

  array(s: Node, v: Value[], ctx: string[], r: Result): void {
    if (s.items !== undefined) {
      if (!Array.isArray(s.items)) {
        for (let i = 0; i < v.length; i++) r.merge(this.validate(s.items, v[i], [...ctx, String(i)]));
      } else {
        const n = Math.min(s.items.length, v.length);
        for (let i = 0; i < n; i++) r.merge(this.validate(s.items[i], v[i], [...ctx, String(i)]));
        if (s.additionalItems !== undefined) {
          if (s.additionalItems === false) {
            if (v.length > s.items.length) r.add("array_no_additional_items", ctx, "No additional items allowed on array");
          } else {
            for (let i = s.items.length; i < v.length; i++) r.merge(this.validate(s.additionalItems, v[i], [...ctx, String(i)]));
          }
        }
      }
    }
    if (s.minItems !== undefined && v.length < s.minItems) {
      r.add("array_min_items", ctx, `Array must have at least ${s.minItems} items`);
    }
    if (s.maxItems !== undefined && v.length > s.maxItems) {
      r.add("array_max_items", ctx, `Array must have at most ${s.maxItems} items`);
    }
    if (s.uniqueItems) {
      const seen = new Map<string, number>();
      for (let j = 0; j < v.length; j++) {
        const key = jsonText(v[j]);
        const i = seen.get(key);
        if (i !== undefined) r.add("unique", ctx, `array items[${i},${j}] must be unique`);
        seen.set(key, j);
        r.score++;
      }
    }
    if (s.contains !== undefined) {
      let ok = false;
      let best: Result | null = null;
      for (let i = 0; i < v.length; i++) {
        const x = this.validate(s.contains, v[i], [...ctx, String(i)]);
        if (x.valid) {
          ok = true;
          break;
        }
        if (best === null || x.score > best.score) best = x;
      }
      if (!ok) {
        r.add("contains", ctx, "At least one of the items must match");
        if (best !== null) r.merge(best);
      }
    }
    r.score++;
  }

  object(s: Node, o: PlainObject, ctx: string[], r: Result): void {
    const keys = Object.keys(o).sort();
    if (s.minProperties !== undefined && keys.length < s.minProperties) {
      r.add("array_min_properties", ctx, `Must have at least ${s.minProperties} properties`);
    }
    if (s.maxProperties !== undefined && keys.length > s.maxProperties) {
      r.add("array_max_properties", ctx, `Must have at most ${s.maxProperties} properties`);
    }
    if (s.required !== undefined) {
      for (const k of s.required) {
        if (Object.hasOwn(o, k)) r.score++;
        else r.add("required", ctx, `${k} is required`);
      }
    }
    for (const k of keys) {
      const found = s.properties !== undefined && s.properties.some(([p]) => p === k);
      let matched = false;
      if (s.patternProperties !== undefined) {
        for (const [re, ps] of s.patternProperties) {
          if (testRE(re, k)) {
            matched = true;
            r.merge(this.validate(ps, o[k], [...ctx, k]));
          }
        }
      }
      if (!found && !matched && s.additionalProperties !== undefined) {
        if (s.additionalProperties === false) {
          r.add("additional_property_not_allowed", ctx, `Additional property ${k} is not allowed`);
        } else if (s.additionalProperties !== true) {
          r.merge(this.validate(s.additionalProperties, o[k], [...ctx, k]));
        }
      }
    }
    if (s.propertyNames !== undefined) {
      for (const k of keys) {
        const x = this.validate(s.propertyNames, k, ctx);
        if (!x.valid) {
          r.add("invalid_property_name", ctx, `Property name of "${k}" does not match`);
          r.merge(x);
        }
      }
    }
    r.score++;
  }

  number(s: Node, v: number | bigint | BigDec, ctx: string[], r: Result): void {
    const d = toDecimal(v);
    if (s.multipleOf !== undefined) {
      if (!d.mod(toDecimal(s.multipleOf)).isZero()) {
        r.add("multiple_of", ctx, `Must be a multiple of ${showNum(s.multipleOf)}`);
      } else r.score++;
    }
    if (s.maximum !== undefined) {
      if (d.gt(toDecimal(s.maximum))) r.add("number_lte", ctx, `Must be less than or equal to ${showNum(s.maximum)}`);
      else r.score++;
    }
    if (s.exclusiveMaximum !== undefined) {
      if (d.gte(toDecimal(s.exclusiveMaximum))) r.add("number_lt", ctx, `Must be less than ${showNum(s.exclusiveMaximum)}`);
      else r.score++;
    }
    if (s.minimum !== undefined) {
      if (d.lt(toDecimal(s.minimum))) r.add("number_gte", ctx, `Must be greater than or equal to ${showNum(s.minimum)}`);
      else r.score++;
    }
    if (s.exclusiveMinimum !== undefined) {
      if (d.lte(toDecimal(s.exclusiveMinimum))) r.add("number_gt", ctx, `Must be greater than ${showNum(s.exclusiveMinimum)}`);
      else r.score++;
    }
  }

  string(s: Node, v: string, ctx: string[], r: Result): void {
    if (s.minLength !== undefined || s.maxLength !== undefined) {
      const n = runeLength(v);
      if (s.minLength !== undefined && n < s.minLength) {
        r.add("string_gte", ctx, `String length must be greater than or equal to ${s.minLength}`);
      }
      if (s.maxLength !== undefined && n > s.maxLength) {
        r.add("string_lte", ctx, `String length must be less than or equal to ${s.maxLength}`);
      }
    }
    if (s.pattern !== undefined) {
      if (!testRE(s.pattern, v)) r.add("pattern", ctx, `Does not match pattern '${s.patternText}'`);
      else r.score++;
    }
    if (s.format !== undefined) {
      const check = FORMATS[s.format];
      if (check !== undefined && !check(v)) r.add("format", ctx, `Does not match format '${s.format}'`);
      else r.score++;
    }
  }
}

// ---- Formats (the checkers gojsonschema ships) --------------------------------------------------------

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?([zZ]|[+-]\d{2}:\d{2})$/;
const HOSTNAME = /^(?=.{1,253}\.?$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

function validDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const y = +m[1];
  const mo = +m[2];
  const d = +m[3];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[mo - 1];
}

function validTime(s: string): boolean {
  const m = TIME.exec(s);
  if (!m) return false;
  return +m[1] < 24 && +m[2] < 60 && +m[3] < 61;
}

function validIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && +p <= 255 && (p.length === 1 || p[0] !== "0"));
}

function validIPv6(s: string): boolean {
  if (!s.includes(":")) return false;
  try {
    new URL(`http://[${s}]/`);
    return !s.includes("%");
  } catch {
    return false;
  }
}

const FORMATS: Record<string, (s: string) => boolean> = {
  "date-time": (s) => {
    const i = s.search(/[tT]/);
    return i > 0 && validDate(s.slice(0, i)) && validTime(s.slice(i + 1));
  },
  date: validDate,
  time: validTime,
  email: (s) => /^[^@\s]+@[^@\s]+$/.test(s),
  "idn-email": (s) => /^[^@\s]+@[^@\s]+$/.test(s),
  hostname: (s) => HOSTNAME.test(s),
  ipv4: validIPv4,
  ipv6: validIPv6,
  uri: (s) => {
    try {
      const u = new URL(s);
      return u.protocol.length > 1;
    } catch {
      return false;
    }
  },
  "uri-reference": (s) => !/\s/.test(s),
  uuid: (s) => /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s),
  regex: (s) => {
    try {
      parseRE2(s);
      return true;
    } catch (e) {
      if (e instanceof RegexSyntaxError) return false;
      throw e;
    }
  },
  "json-pointer": (s) => /^(?:\/(?:[^~/]|~[01])*)*$/.test(s),
  "relative-json-pointer": (s) => /^\d+(?:#|(?:\/(?:[^~/]|~[01])*)*)$/.test(s),
};

// ---- Builtins ----------------------------------------------------------------------------------------

/** A schema or document argument: an object, or a string of JSON. */
function readArg(v: Value): Value {
  if (typeof v === "string") {
    try {
      return parseJSON(v);
    } catch (e) {
      if (e instanceof JSONSyntaxError) throw new SchemaError("invalid JSON string");
      throw e;
    }
  }
  // OPA converts arrays (and sets) too, though the declaration names strings and objects: a
  // document may be an array; as a schema, an array is "schema is invalid"
  if (isObject(v) || Array.isArray(v) || v instanceof RSet) return toJSONish(v);
  throw new SchemaError("wrong type, expected string or object");
}

function compileSchema(v: Value): Compiler & { schema: Schema } {
  const root = readArg(v);
  if (typeof root !== "boolean" && !isObject(root)) throw new SchemaError("schema is invalid");
  const c = new Compiler(root) as Compiler & { schema: Schema };
  c.schema = c.sub(root, "schema is invalid");
  return c;
}

export function verifySchema(args: Value[]): Value {
  try {
    compileSchema(args[0]);
    return [true, null];
  } catch (e) {
    if (e instanceof SchemaError) return [false, `jsonschema: ${e.message}`];
    return tooDeep("json.verify_schema", e);
  }
}

export function matchSchema(args: Value[]): Value {
  let doc: Value;
  let c: Compiler & { schema: Schema };
  try {
    doc = readArg(args[0]);
    c = compileSchema(args[1]);
  } catch (e) {
    if (e instanceof SchemaError) throw new BuiltinError(`json.match_schema: ${e.message}`);
    return tooDeep("json.match_schema", e);
  }
  let r: ReturnType<Validator["validate"]>;
  try {
    r = new Validator(c).validate(c.schema, doc, []);
  } catch (e) {
    return tooDeep("json.match_schema", e);
  }
  const errs: Value[] = r.errors.map((e) => {
    const o = emptyObject();
    o.desc = e.desc;
    o.error = `${e.field}: ${e.desc}`;
    o.field = e.field;
    o.type = e.type;
    return o;
  });
  return [r.valid, errs];
}
