// Applying one location to one object: Gatekeeper's core.Mutate.
//
// The walk follows the location node by node. A missing object field or keyed list element is
// created (unless a path test forbids it); a glob `[key: *]` visits every element and creates
// nothing; an existing element is entered only if its path test allows it. At the last node the
// setter decides what to write (Assign: the value; ModifySet: merge/prune a list; AssignImage:
// rewrite parts of the image string). Types that disagree with the location (an object where the
// path says list) are errors, worded as Gatekeeper's.

import { isPlainObject, type Obj } from "../yaml.ts";
import { cloneValue, ExternalDataPlaceholder } from "./externaldata.ts";
import { pathString, type ListNode, type Path, type PathNode, type Tester } from "./path.ts";

/** What a mutator writes at the end of its location. */
export interface Setter {
  /** Write at obj[key]. Throws MutationError when the existing value does not fit. */
  setValue(obj: Obj, key: string): void;
  /** Can the setter replace a keyed-list element (a location ending in `[key: value]`)? */
  keyedListOkay: boolean;
  /** The element written at a location ending in `[key: value]`. */
  keyedListValue(): Obj;
}

export class MutationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MutationError";
  }
}

/** Go's %T of a decoded JSON value, for the mismatch errors. */
export function goType(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (v instanceof ExternalDataPlaceholder) return "*unversioned.ExternalDataPlaceholder";
  if (Array.isArray(v)) return "[]interface {}";
  if (isPlainObject(v)) return "map[string]interface {}";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int64" : "float64";
  return typeof v;
}

/** Equality of a list key value with an element's field: Go's interface ==, so 80 ≠ "80". */
export function keyEquals(want: string | number, got: unknown): boolean {
  if (typeof want === "number") return typeof got === "number" && Number.isInteger(got) && got === want;
  return typeof got === "string" && got === want;
}

/** A path node as Go's %+v prints it (through the node's String method). */
function goPlusV(n: PathNode): string {
  return pathString([n]);
}

/** Mutate `root` in place along `path`. Returns whether the setter ran. */
export function mutatePath(path: Path, tester: Tester, setter: Setter, root: Obj): boolean {
  if (path.length === 0) throw new MutationError("attempting to mutate an empty target location");

  const createMissing = (depth: number): unknown => {
    const node = path[depth];
    const nextNode = path[depth + 1];
    const next: unknown = nextNode.type === "Object" ? {} : [];
    if (node.type === "List") {
      if (!isPlainObject(next)) throw new MutationError(`two consecutive list path entries not allowed: ${goPlusV(node)} ${goPlusV(nextNode)}`);
      if (node.keyValue === null) throw new MutationError("list entry has no key value");
      next[node.keyField] = node.keyValue;
    }
    return next;
  };

  // Returns [mutated, the (possibly new) value for this position].
  const walk = (current: unknown, depth: number): [boolean, unknown] => {
    const node = path[depth];
    const last = depth === path.length - 1;
    if (node.type === "Object") {
      if (!isPlainObject(current) || current instanceof ExternalDataPlaceholder) {
        throw new MutationError(`mismatch between path entry (type: object) and received object (type: ${goType(current)}). Path: ${goPlusV(node)}`);
      }
      const exists = Object.hasOwn(current, node.reference);
      if (exists ? !tester.existsOkay(depth) : !tester.missingOkay(depth)) return [false, current];
      if (last) {
        setter.setValue(current, node.reference);
        return [true, current];
      }
      const next = exists ? current[node.reference] : createMissing(depth);
      const [mutated, value] = walk(next, depth + 1);
      if (mutated) current[node.reference] = value;
      return [mutated, current];
    }
    if (!Array.isArray(current)) {
      throw new MutationError(`mismatch between path entry (type: List) and received object (type: ${goType(current)}). Path: ${goPlusV(node)}`);
    }
    const list = [...current];
    if (last) {
      if (!setter.keyedListOkay) throw new MutationError("mutator does not understand keyed lists");
      return setListElement(list, node, depth);
    }
    if (node.glob && !tester.existsOkay(depth)) return [false, list];
    let mutated = false;
    let found = false;
    for (const el of list) {
      if (node.glob) {
        mutated = walk(el, depth + 1)[0] || mutated;
        found = true;
      } else if (isPlainObject(el) && !(el instanceof ExternalDataPlaceholder) && Object.hasOwn(el, node.keyField) && keyEquals(node.keyValue!, el[node.keyField])) {
        if (!tester.existsOkay(depth)) return [false, list];
        mutated = walk(el, depth + 1)[0] || mutated;
        found = true;
      }
    }
    if (!node.glob && !found) {
      if (!tester.missingOkay(depth)) return [false, list];
      const next = createMissing(depth);
      list.push(next);
      mutated = walk(next, depth + 1)[0] || mutated;
    }
    return [mutated, list];
  };

  const setListElement = (list: unknown[], node: ListNode, depth: number): [boolean, unknown] => {
    if (node.glob) throw new MutationError("last path entry can not be globbed");
    const value = setter.keyedListValue();
    if (node.keyValue === null) throw new MutationError("encountered nil key value when setting a new list element");
    for (let i = 0; i < list.length; i++) {
      const el = list[i];
      if (!isPlainObject(el)) throw new MutationError(`cast error, unable to case ${goType(el)} to map[string]interface{}`);
      if (Object.hasOwn(el, node.keyField) && keyEquals(node.keyValue, el[node.keyField])) {
        if (!Object.hasOwn(value, node.keyField) || !keyEquals(node.keyValue, value[node.keyField])) throw new MutationError("key value of replaced object must not change");
        if (!tester.existsOkay(depth)) return [false, list];
        list[i] = cloneValue(value);
        return [true, list];
      }
    }
    if (!tester.missingOkay(depth)) return [false, list];
    list.push(cloneValue(value));
    return [true, list];
  };

  return walk(root, 0)[0];
}
