// Parsed documents sent to the library's worker threads (./parallel.ts). postMessage copies plain
// values (objects, arrays, strings, numbers, bigints, booleans, null) exactly, but not class
// instances: the engine's exact numbers (BigDec) and numbers that keep their Go text (TextNumber,
// ./numbers.ts) would arrive as plain objects. packDocuments puts null in their place and lists
// them as patches (document, path, number); unpackDocuments puts them back.

import { BigDec, Dec, TextNumber } from "../rego/value.ts";

/** A BigDec or TextNumber as plain data. */
export type PackedNumber = { big: string } | { text: string; goFloat: boolean; n: number | bigint | PackedNumber };

/** [index of the document in its batch, path of keys and indexes, the number]. */
export type Patch = [number, (string | number)[], PackedNumber];

function packNumber(v: BigDec): PackedNumber {
  if (v instanceof TextNumber) return { text: v.text, goFloat: v.goFloat, n: v.n instanceof BigDec ? packNumber(v.n) : v.n };
  return { big: v.d.toString() };
}

function unpackNumber(p: PackedNumber): BigDec {
  if ("big" in p) return new BigDec(new Dec(p.big));
  return new TextNumber(typeof p.n === "object" ? unpackNumber(p.n) : p.n, p.text, p.goFloat);
}

/**
 * Replace every BigDec in the documents by null (in place: the caller sends them and drops
 * them) and return the patches that restore them. A document that is itself a number is
 * patched at the empty path. Without recursion: documents may be nested deeply.
 */
export function packDocuments(docs: unknown[]): Patch[] {
  const patches: Patch[] = [];
  // A node to visit and how it was reached (its parent's entry and its key there): a path is
  // built only for a number found, not copied for every node.
  type Entry = { node: Record<string | number, unknown>; parent: Entry | null; key: string | number };
  const pathOf = (e: Entry, k: string | number): (string | number)[] => {
    const path: (string | number)[] = [k];
    for (let x: Entry | null = e; x !== null && x.parent !== null; x = x.parent) path.push(x.key);
    return path.reverse();
  };
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i];
    if (doc instanceof BigDec) {
      patches.push([i, [], packNumber(doc)]);
      docs[i] = null;
      continue;
    }
    if (doc === null || typeof doc !== "object") continue;
    const stack: Entry[] = [{ node: doc as Record<string, unknown>, parent: null, key: "" }];
    while (stack.length > 0) {
      const e = stack.pop()!;
      const node = e.node;
      const visit = (k: string | number) => {
        const v = node[k];
        if (v === null || typeof v !== "object") return;
        if (v instanceof BigDec) {
          patches.push([i, pathOf(e, k), packNumber(v)]);
          node[k] = null;
        } else stack.push({ node: v as Record<string, unknown>, parent: e, key: k });
      };
      if (Array.isArray(node)) for (let k = 0; k < node.length; k++) visit(k);
      else for (const k of Object.keys(node)) visit(k);
    }
  }
  return patches;
}

/** Put the numbers packDocuments took out back into the documents (in place). */
export function unpackDocuments(docs: unknown[], patches: Patch[]): void {
  for (const [i, path, p] of patches) {
    const n = unpackNumber(p);
    if (path.length === 0) {
      docs[i] = n;
      continue;
    }
    let node = docs[i] as Record<string | number, unknown>;
    for (let j = 0; j < path.length - 1; j++) node = node[path[j]] as Record<string | number, unknown>;
    node[path[path.length - 1]] = n;
  }
}
