// RFC 6902 JSON patches from an object to its mutated copy (what the mutating webhook answers).
// Objects are compared key by key; arrays of the same length element by element; an array whose
// length changed is replaced whole unless the new one only appends (then `add` at the end).

import { isPlainObject } from "../yaml.ts";
import { jsonEqual } from "./mutators.ts";

export type PatchOp = { op: "add" | "replace"; path: string; value: unknown } | { op: "remove"; path: string };

/** RFC 6901: `~` as `~0`, `/` as `~1`. */
export const pointerToken = (k: string) => k.replace(/~/g, "~0").replace(/\//g, "~1");

export function createPatch(from: unknown, to: unknown, at = "", out: PatchOp[] = []): PatchOp[] {
  if (jsonEqual(from, to)) return out;
  if (isPlainObject(from) && isPlainObject(to)) {
    for (const k of Object.keys(from)) if (!Object.hasOwn(to, k)) out.push({ op: "remove", path: `${at}/${pointerToken(k)}` });
    for (const k of Object.keys(to)) {
      const p = `${at}/${pointerToken(k)}`;
      if (!Object.hasOwn(from, k)) out.push({ op: "add", path: p, value: to[k] });
      else createPatch(from[k], to[k], p, out);
    }
    return out;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    if (from.length === to.length) {
      for (let i = 0; i < to.length; i++) createPatch(from[i], to[i], `${at}/${i}`, out);
      return out;
    }
    if (to.length > from.length && from.every((x, i) => jsonEqual(x, to[i]))) {
      for (let i = from.length; i < to.length; i++) out.push({ op: "add", path: `${at}/-`, value: to[i] });
      return out;
    }
  }
  out.push({ op: "replace", path: at, value: to });
  return out;
}

/** Apply a patch made by createPatch (tests, and a check before answering). */
export function applyPatch(doc: unknown, ops: PatchOp[]): unknown {
  let root = structuredClone(doc);
  for (const op of ops) {
    const parts = op.path === "" ? [] : op.path.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
    if (parts.length === 0) {
      if (op.op === "remove") throw new Error("cannot remove the document root");
      root = structuredClone(op.value);
      continue;
    }
    let parent: any = root;
    for (const p of parts.slice(0, -1)) parent = Array.isArray(parent) ? parent[Number(p)] : parent[p];
    const last = parts[parts.length - 1];
    if (Array.isArray(parent)) {
      if (op.op === "remove") parent.splice(Number(last), 1);
      else if (last === "-") parent.push(structuredClone(op.value));
      else if (op.op === "add") parent.splice(Number(last), 0, structuredClone(op.value));
      else parent[Number(last)] = structuredClone(op.value);
    } else if (op.op === "remove") delete parent[last];
    else parent[last] = structuredClone(op.value);
  }
  return root;
}
