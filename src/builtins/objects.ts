// Objects: object.get, object.remove, object.union, object.union_n, object.filter, object.keys,
// object.subset, json.filter, json.remove, json.patch.

import {
  BigDec,
  ObjMap,
  RSet,
  emptyObject,
  equal,
  hashKey,
  isObject,
  makeObject,
  numberText,
  objectEntries,
  objectGet,
  typeName,
  type PlainObject,
  type Value,
} from "../rego/value.ts";
import { BuiltinError, BuiltinTypeError, T, operandError, type Builtin, type TypeDecl } from "./registry.ts";
import { goQuote } from "../gotext/json.ts";

type Obj = PlainObject | ObjMap;

const anyObj = T.objectOf(T.any, T.any);
const keysArg = T.anyOf(T.arrayOf(T.any), anyObj, T.setOf(T.any));
const pathsArg = T.anyOf(T.arrayOf(T.anyOf(T.string, T.arrayOf(T.any))), T.setOf(T.anyOf(T.string, T.arrayOf(T.any))));

function objOperand(name: string, pos: number, v: Value): Obj {
  if (!isObject(v)) throw operandError(name, pos, "object", v);
  return v;
}

/** A value as OPA prints a term (`{"a": 1}`, `{1, 2}`, `set()`), for error messages. */
import { formatValue as regoString } from "../rego/print.ts";
export { regoString };

/** Keys given as an array, a set or an object's keys. */
function keyList(name: string, v: Value): Iterable<Value> {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.map.values();
  if (v instanceof ObjMap) return Array.from(v.map.values(), (e) => e[0]);
  if (isObject(v)) return Object.keys(v);
  throw operandError(name, 2, "one of {object, set, array}", v);
}

// ---- object.get -------------------------------------------------------------------------------

/** One step into a collection: object key, array index, set member. */
function step(node: Value, k: Value): Value | undefined {
  if (Array.isArray(node)) {
    if (typeof k === "number" && Number.isInteger(k) && k >= 0 && k < node.length) return node[k];
    return undefined;
  }
  if (node instanceof RSet) return node.has(k) ? k : undefined;
  if (isObject(node)) return objectGet(node, k);
  return undefined;
}

function objectGetB(args: Value[]): Value {
  const o = objOperand("object.get", 1, args[0]);
  const key = args[1];
  if (Array.isArray(key)) {
    let node: Value = o;
    for (const k of key) {
      const next = step(node, k);
      if (next === undefined) return args[2];
      node = next;
    }
    return node;
  }
  const v = objectGet(o, key);
  return v === undefined ? args[2] : v;
}

// ---- object.remove / filter / keys -----------------------------------------------------------------

function objectRemove(args: Value[]): Value {
  const o = objOperand("object.remove", 1, args[0]);
  const drop = new Set<unknown>();
  for (const k of keyList("object.remove", args[1])) drop.add(hashKey(k));
  if (drop.size === 0) return o;
  if (o instanceof ObjMap) {
    const out: [Value, Value][] = [];
    for (const [h, e] of o.map) if (!drop.has(h)) out.push(e);
    return makeObject(out);
  }
  const out = emptyObject();
  for (const k of Object.keys(o)) if (!drop.has(k)) out[k] = o[k];
  return out;
}

function objectFilter(args: Value[]): Value {
  const o = objOperand("object.filter", 1, args[0]);
  const out: [Value, Value][] = [];
  for (const k of keyList("object.filter", args[1])) {
    const v = objectGet(o, k);
    if (v !== undefined) out.push([k, v]);
  }
  return makeObject(out);
}

function objectKeys(args: Value[]): Value {
  const o = objOperand("object.keys", 1, args[0]);
  if (o instanceof ObjMap) return new RSet(Array.from(o.map.values(), (e) => e[0]));
  return new RSet(Object.keys(o));
}

// ---- object.union / union_n ----------------------------------------------------------------------

function isObj(v: Value | undefined): v is Obj {
  return v !== undefined && isObject(v);
}

/** Deep merge: where both sides hold objects they merge, otherwise b wins. */
function union(a: Obj, b: Obj): Obj {
  if (objectSizeOf(b) === 0) return a;
  if (objectSizeOf(a) === 0) return b;
  if (!(a instanceof ObjMap) && !(b instanceof ObjMap)) {
    const out = emptyObject();
    for (const k of Object.keys(a)) out[k] = a[k];
    for (const k of Object.keys(b)) {
      const av = Object.hasOwn(a, k) ? a[k] : undefined;
      const bv = b[k];
      out[k] = isObj(av) && isObj(bv) ? union(av, bv) : bv;
    }
    return out;
  }
  const entries = new Map<unknown, [Value, Value]>();
  for (const [k, v] of objectEntries(a)) entries.set(hashKey(k), [k, v]);
  for (const [k, bv] of objectEntries(b)) {
    const h = hashKey(k);
    const prev = entries.get(h);
    const av = prev?.[1];
    entries.set(h, [k, isObj(av) && isObj(bv) ? union(av, bv) : bv]);
  }
  return makeObject(entries.values());
}

function objectSizeOf(o: Obj): number {
  if (o instanceof ObjMap) return o.size;
  for (const _ in o) return 1;
  return 0;
}

function objectUnion(args: Value[]): Value {
  return union(objOperand("object.union", 1, args[0]), objOperand("object.union", 2, args[1]));
}

function objectUnionN(args: Value[]): Value {
  const arr = args[0];
  if (!Array.isArray(arr)) throw operandError("object.union_n", 1, "array", arr);
  let acc: Obj = emptyObject();
  for (const x of arr) {
    if (!isObject(x)) {
      throw new BuiltinTypeError(`object.union_n: operand 1 must be array of objects but got array containing ${typeName(x)}`);
    }
    acc = union(acc, x);
  }
  return acc;
}

// ---- object.subset ---------------------------------------------------------------------------------

/** `sub` occurs as a contiguous run in `sup`. */
function arrayContainsRun(sup: Value[], sub: Value[]): boolean {
  if (sub.length === 0) return true;
  outer: for (let i = 0; i + sub.length <= sup.length; i++) {
    for (let j = 0; j < sub.length; j++) if (!equal(sup[i + j], sub[j])) continue outer;
    return true;
  }
  return false;
}

function isSubset(sup: Value, sub: Value): boolean {
  if (isObject(sup)) {
    if (!isObject(sub)) return false;
    for (const [k, sv] of objectEntries(sub)) {
      const pv = objectGet(sup, k);
      if (pv === undefined || !isSubset(pv, sv)) return false;
    }
    return true;
  }
  if (sup instanceof RSet) {
    if (!(sub instanceof RSet)) return false;
    for (const h of sub.map.keys()) if (!sup.map.has(h)) return false;
    return true;
  }
  if (Array.isArray(sup)) {
    if (Array.isArray(sub)) return arrayContainsRun(sup, sub);
    return false;
  }
  return equal(sup, sub);
}

function objectSubset(args: Value[]): Value {
  const [sup, sub] = args;
  const bad = () =>
    new BuiltinTypeError("object.subset: both arguments object.subset must be of the same type or array and set");
  if (isObject(sup)) {
    if (!isObject(sub)) throw bad();
    return isSubset(sup, sub);
  }
  if (sup instanceof RSet) {
    if (!(sub instanceof RSet)) throw bad();
    return isSubset(sup, sub);
  }
  if (Array.isArray(sup)) {
    if (Array.isArray(sub)) return arrayContainsRun(sup, sub);
    if (sub instanceof RSet) {
      const have = new Set(sup.map(hashKey));
      for (const h of sub.map.keys()) if (!have.has(h)) return false;
      return true;
    }
    throw bad();
  }
  throw bad();
}

// ---- json.filter / json.remove ----------------------------------------------------------------------

/** A path given as "/a/b" (JSON pointer-ish, leading slashes optional) or as an array of segments. */
function parsePath(name: string, p: Value): Value[] {
  if (typeof p === "string") {
    if (p === "") return [];
    const trimmed = p.replace(/^\/+/, "");
    return trimmed.split("/").map((s) => (s.includes("~") ? s.replace(/~1/g, "/").replace(/~0/g, "~") : s));
  }
  if (Array.isArray(p)) return p;
  throw new BuiltinTypeError(
    `${name}: operand 2 must be one of {set, array} containing string paths or array of path segments but got ${typeName(p)}`,
  );
}

function pathList(name: string, v: Value): Value[][] {
  let items: Value[];
  if (Array.isArray(v)) items = v;
  else if (v instanceof RSet) items = v.sorted();
  else throw operandError(name, 2, "one of {set, array}", v);
  return items.map((p) => parsePath(name, p));
}

/** A tree of path segments: null marks a leaf (the whole subtree is selected). */
type PathTree = Map<unknown, { key: Value; sub: PathTree | null }>;

function pathTree(paths: Value[][]): PathTree {
  const root: PathTree = new Map();
  for (const path of paths) {
    if (path.length === 0) continue;
    let node = root;
    let done = false;
    for (let i = 0; i < path.length - 1 && !done; i++) {
      const h = hashKey(path[i]);
      const child = node.get(h);
      if (child === undefined) {
        const sub: PathTree = new Map();
        node.set(h, { key: path[i], sub });
        node = sub;
      } else if (child.sub === null) done = true;
      else node = child.sub;
    }
    if (!done) {
      const last = path[path.length - 1];
      node.set(hashKey(last), { key: last, sub: null });
    }
  }
  return root;
}

function filterValue(v: Value, t: PathTree | null): Value {
  if (t === null) return v;
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (let i = 0; i < v.length; i++) {
      const e = t.get(String(i));
      if (e !== undefined) out.push(filterValue(v[i], e.sub));
    }
    return out;
  }
  if (v instanceof RSet) {
    const out = new RSet();
    for (const [h, x] of v.map) {
      const e = t.get(h);
      if (e !== undefined) out.add(filterValue(x, e.sub));
    }
    return out;
  }
  if (isObject(v)) {
    const out: [Value, Value][] = [];
    for (const e of t.values()) {
      const x = objectGet(v, e.key);
      if (x !== undefined) out.push([e.key, filterValue(x, e.sub)]);
    }
    return makeObject(out);
  }
  return v;
}

/** Remove the selected paths; undefined when `v` itself is removed. */
function removeValue(v: Value, t: PathTree | null): Value | undefined {
  if (t === null) return undefined;
  if (t.size === 0) return v;
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (let i = 0; i < v.length; i++) {
      const e = t.get(String(i));
      if (e === undefined) out.push(v[i]);
      else {
        const x = removeValue(v[i], e.sub);
        if (x !== undefined) out.push(x);
      }
    }
    return out;
  }
  if (v instanceof RSet) {
    const out = new RSet();
    for (const [h, x] of v.map) {
      const e = t.get(h);
      if (e === undefined) out.map.set(h, x);
      else {
        const y = removeValue(x, e.sub);
        if (y !== undefined) out.add(y);
      }
    }
    return out;
  }
  if (isObject(v)) {
    const out: [Value, Value][] = [];
    for (const [k, x] of objectEntries(v)) {
      const e = t.get(hashKey(k));
      if (e === undefined) out.push([k, x]);
      else {
        const y = removeValue(x, e.sub);
        if (y !== undefined) out.push([k, y]);
      }
    }
    return makeObject(out);
  }
  return v;
}

function jsonFilter(args: Value[]): Value {
  const o = objOperand("json.filter", 1, args[0]);
  return filterValue(o, pathTree(pathList("json.filter", args[1])));
}

function jsonRemove(args: Value[]): Value | undefined {
  const o = objOperand("json.remove", 1, args[0]);
  return removeValue(o, pathTree(pathList("json.remove", args[1])));
}

// ---- json.patch -------------------------------------------------------------------------------------

/** A working copy of a document: composite nodes are unfolded into mutable ones on first touch. */
type WNode = WObj | WArr | WSet;
class WObj {
  readonly kind = "obj";
  readonly deleted = new Set<unknown>();
  constructor(readonly entries: Map<unknown, [Value, W]>) {}
}
class WArr {
  readonly kind = "arr";
  constructor(readonly items: W[]) {}
}
class WSet {
  readonly kind = "set";
  constructor(readonly items: Map<unknown, W>) {}
}
type W = Value | WNode;

function isW(x: W): x is WNode {
  return x instanceof WObj || x instanceof WArr || x instanceof WSet;
}

function unfold(v: W): W {
  if (isW(v)) return v;
  if (Array.isArray(v)) return new WArr(v.slice());
  if (v instanceof RSet) return new WSet(new Map<unknown, W>(v.map));
  if (isObject(v)) {
    const entries = new Map<unknown, [Value, W]>();
    for (const [k, x] of objectEntries(v)) entries.set(hashKey(k), [k, x]);
    return new WObj(entries);
  }
  return v;
}

function fold(w: W): Value {
  if (!isW(w)) return w as Value;
  switch (w.kind) {
    case "arr":
      return w.items.map(fold);
    case "set":
      // Members edited in place (json.patch may change values inside a member) are re-hashed here.
      return new RSet(Array.from(w.items.values(), fold));
    case "obj":
      return makeObject(Array.from(w.entries.values(), ([k, x]) => [k, fold(x)] as [Value, Value]));
  }
}

function isComposite(v: W): boolean {
  return isW(v) || (typeof v === "object" && v !== null && !(v instanceof BigDec));
}

function astType(v: Value): string {
  if (typeof v === "string") return "ast.String";
  if (typeof v === "boolean") return "ast.Boolean";
  if (v === null) return "ast.Null";
  return "ast.Number";
}

const patchErr = (msg: string) => new BuiltinError(`json.patch: ${msg}`);

/** An array index from a path segment, as OPA reads it. */
function arrayIndex(seg: Value, forInsert: boolean, len: number): number {
  if (typeof seg === "number" && Number.isInteger(seg)) return seg;
  if (typeof seg !== "string") throw patchErr("invalid string for indexing");
  if (seg === "-") return forInsert ? len : -1;
  if (!/^[+-]?\d+$/.test(seg)) throw patchErr("invalid string for indexing");
  if (seg.length > 1 && seg[0] === "0") throw patchErr("leading zeros are not allowed in JSON paths");
  return parseInt(seg, 10);
}

/** How a path segment shows in a set-navigation error: strings bare (Go's %v). */
function segText(seg: Value): string {
  return typeof seg === "string" ? seg : regoString(seg);
}

/** The root after `remove ""`: the patched document is undefined unless a root is added again. */
const REMOVED: W = Symbol("removed") as unknown as W;

class Doc {
  root: W;
  constructor(v: Value) {
    this.root = v;
  }

  /** The child of `parent` (unfolded and stored back when composite), for navigation. */
  child(parent: W, seg: Value): W {
    if (!isW(parent)) {
      throw patchErr(`expected composite type, found value: ${regoString(parent as Value)} (type: ${astType(parent as Value)})`);
    }
    switch (parent.kind) {
      case "obj": {
        const h = hashKey(seg);
        const e = parent.entries.get(h);
        if (e === undefined) {
          if (parent.deleted.has(h)) throw patchErr(`cannot unfold the already deleted composite node for key ${regoString(seg)}`);
          throw patchErr(`path ${regoString(seg)} does not exist in object term ${regoString(fold(parent))}`);
        }
        if (isComposite(e[1])) e[1] = unfold(e[1]);
        return e[1];
      }
      case "arr": {
        const i = arrayIndex(seg, false, parent.items.length);
        if (i < 0 || i >= parent.items.length) {
          throw patchErr(`path ${i} does not exist in array term ${regoString(fold(parent))}`);
        }
        if (isComposite(parent.items[i])) parent.items[i] = unfold(parent.items[i]);
        return parent.items[i];
      }
      case "set": {
        // Members are found by their current value: one edited by an earlier operation is no
        // longer found under its old value (as in OPA).
        for (const [h, x] of parent.items) {
          if (!equal(isW(x) ? fold(x) : (x as Value), seg)) continue;
          if (isComposite(x) && !isW(x)) {
            const u = unfold(x);
            parent.items.set(h, u);
            return u;
          }
          return x;
        }
        throw patchErr(`path ${segText(seg)} does not exist in set term ${regoString(fold(parent))}`);
      }
    }
  }

  parentOf(path: Value[]): W {
    if (this.root === REMOVED) throw patchErr("the document was removed");
    if (isComposite(this.root)) this.root = unfold(this.root);
    let node = this.root;
    for (let i = 0; i < path.length - 1; i++) node = this.child(node, path[i]);
    return node;
  }

  get(path: Value[]): Value {
    if (this.root === REMOVED) throw patchErr("the document was removed");
    if (path.length === 0) return fold(this.root);
    const parent = this.parentOf(path);
    return fold(this.child(parent, path[path.length - 1]));
  }

  add(path: Value[], v: Value): void {
    if (path.length === 0) {
      this.root = v;
      return;
    }
    const parent = this.parentOf(path);
    const seg = path[path.length - 1];
    if (!isW(parent)) {
      throw patchErr(`expected composite type, found value: ${regoString(parent as Value)} (type: ${astType(parent as Value)})`);
    }
    switch (parent.kind) {
      case "obj": {
        const h = hashKey(seg);
        parent.entries.set(h, [seg, v]);
        parent.deleted.delete(h);
        return;
      }
      case "arr": {
        const i = arrayIndex(seg, true, parent.items.length);
        if (i < 0 || i > parent.items.length) throw patchErr("index for array insertion out of bounds");
        parent.items.splice(i, 0, v);
        return;
      }
      case "set": {
        if (!equal(seg, v)) throw patchErr(`set key ${regoString(seg)} does not equal value to be inserted ${regoString(v)}`);
        parent.items.set(hashKey(v), v);
        return;
      }
    }
  }

  remove(path: Value[]): void {
    if (path.length === 0) {
      // The document becomes undefined (a later add at the root can restore one), as in OPA.
      this.root = REMOVED;
      return;
    }
    const parent = this.parentOf(path);
    const seg = path[path.length - 1];
    if (!isW(parent)) {
      throw patchErr(`expected composite type, found value: ${regoString(parent as Value)} (type: ${astType(parent as Value)})`);
    }
    switch (parent.kind) {
      case "obj": {
        const h = hashKey(seg);
        const e = parent.entries.get(h);
        if (e === undefined) {
          if (parent.deleted.has(h)) throw patchErr(`cannot delete the already deleted composite node for key ${regoString(seg)}`);
          throw patchErr(`cannot delete child key ${regoString(seg)} that does not exist`);
        }
        parent.entries.delete(h);
        if (isComposite(e[1])) parent.deleted.add(h);
        return;
      }
      case "arr": {
        const i = arrayIndex(seg, false, parent.items.length);
        if (i < 0 || i >= parent.items.length) throw patchErr("index for array delete out of bounds");
        parent.items.splice(i, 1);
        return;
      }
      case "set": {
        const h = hashKey(seg);
        if (!parent.items.has(h)) throw patchErr(`cannot delete child key ${regoString(seg)} that does not exist`);
        parent.items.delete(h);
        return;
      }
    }
  }
}

function attr(p: Obj, k: string): Value | undefined {
  return objectGet(p, k);
}

function jsonPatch(args: Value[]): Value | undefined {
  const patches = args[1];
  if (!Array.isArray(patches)) throw operandError("json.patch", 2, "array", patches);
  for (const p of patches) {
    if (!isObject(p)) throw patchErr("must be an array of JSON-Patch objects, but at least one element is not an object");
  }
  const doc = new Doc(args[0]);
  for (const p of patches as Obj[]) {
    const op = attr(p, "op");
    if (op === undefined) throw patchErr("missing required attribute 'op'");
    const pathV = attr(p, "path");
    if (pathV === undefined) throw patchErr("missing required attribute 'path'");
    const path = parsePath("json.patch", pathV);
    const needFrom = () => {
      const f = attr(p, "from");
      if (f === undefined) throw patchErr("missing required attribute 'from'");
      return parsePath("json.patch", f);
    };
    const needValue = () => {
      const v = attr(p, "value");
      if (v === undefined) throw patchErr("missing required attribute 'value'");
      return v;
    };
    switch (op) {
      case "add":
        doc.add(path, needValue());
        break;
      case "remove":
        doc.remove(path);
        break;
      case "replace": {
        const v = needValue();
        if (path.length === 0) doc.root = v;
        else {
          doc.remove(path);
          doc.add(path, v);
        }
        break;
      }
      case "move": {
        const from = needFrom();
        const v = doc.get(from);
        doc.remove(from);
        doc.add(path, v);
        break;
      }
      case "copy": {
        const from = needFrom();
        doc.add(path, doc.get(from));
        break;
      }
      case "test": {
        const want = needValue();
        const got = doc.get(path);
        if (!equal(got, want)) {
          throw patchErr(`value from EditTree != patch value.\n\nExpected: ${regoString(want)}\n\nFound: ${regoString(got)}`);
        }
        break;
      }
      default:
        throw patchErr(`unrecognized op: '${typeof op === "string" ? op : regoString(op)}'`);
    }
  }
  return doc.root === REMOVED ? undefined : fold(doc.root);
}

// ---- Declarations --------------------------------------------------------------------------------------

const patchDecl: TypeDecl = {
  type: "array",
  dynamic: {
    type: "object",
    static: [
      { key: "op", value: T.string },
      { key: "path", value: T.any },
    ],
    dynamic: { key: T.any, value: T.any },
  },
};

export const builtins: Builtin[] = [
  { name: "object.get", decl: T.fn([anyObj, T.any, T.any], T.any), impl: objectGetB },
  { name: "object.remove", decl: T.fn([anyObj, keysArg], anyObj), impl: objectRemove },
  { name: "object.union", decl: T.fn([anyObj, anyObj], anyObj), impl: objectUnion },
  { name: "object.union_n", decl: T.fn([T.arrayOf(anyObj)], anyObj), impl: objectUnionN },
  { name: "object.filter", decl: T.fn([anyObj, keysArg], anyObj), impl: objectFilter },
  { name: "object.keys", decl: T.fn([anyObj], T.setOf(T.any)), impl: objectKeys },
  { name: "object.subset", decl: T.fn([keysArg, keysArg], T.boolean), impl: objectSubset },
  { name: "json.filter", decl: T.fn([anyObj, pathsArg], anyObj), impl: jsonFilter },
  { name: "json.remove", decl: T.fn([anyObj, pathsArg], anyObj), impl: jsonRemove },
  { name: "json.patch", decl: T.fn([T.any, patchDecl], T.any), impl: jsonPatch },
];
