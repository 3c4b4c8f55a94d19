// Graph builtins: reachability over an adjacency object { node: [neighbours] | {neighbours} }.
// Only nodes that are keys of the graph are visited (a neighbour that is not a key is dropped),
// as OPA does.

import type { Builtin } from "./registry.ts";
import { T, operandError } from "./registry.ts";
import type { Value, PlainObject } from "../rego/value.ts";
import { RSet, isObject, objectGet, hashKey } from "../rego/value.ts";

const edges = T.anyOf(T.arrayOf(T.any), T.setOf(T.any));

function members(v: Value | undefined): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.sorted();
  return [];
}

function graphOf(name: string, g: Value): PlainObject {
  if (!isObject(g)) throw operandError(name, 1, "object", g);
  return g as PlainObject;
}

function initialOf(name: string, v: Value): Value[] {
  if (!Array.isArray(v) && !(v instanceof RSet)) throw operandError(name, 2, "one of {array, set}", v);
  return members(v);
}

function reachable([g, init]: Value[]): Value {
  const graph = graphOf("graph.reachable", g);
  const seen = new RSet();
  const stack = initialOf("graph.reachable", init).slice().reverse();
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    const next = objectGet(graph, n);
    if (next === undefined) continue;
    seen.add(n);
    for (const m of members(next)) if (!seen.has(m)) stack.push(m);
  }
  return seen;
}

function reachablePaths([g, init]: Value[]): Value {
  const graph = graphOf("graph.reachable_paths", g);
  const out = new RSet();
  const walk = (path: Value[], onPath: Set<unknown>) => {
    const last = path[path.length - 1];
    const next = members(objectGet(graph, last)).filter((m) => objectGet(graph, m) !== undefined && !onPath.has(hashKey(m)));
    if (next.length === 0) {
      out.add(path);
      return;
    }
    for (const m of next) {
      onPath.add(hashKey(m));
      walk([...path, m], onPath);
      onPath.delete(hashKey(m));
    }
  };
  for (const n of initialOf("graph.reachable_paths", init)) {
    if (objectGet(graph, n) === undefined) continue;
    walk([n], new Set([hashKey(n)]));
  }
  return out;
}

export const builtins: Builtin[] = [
  { name: "graph.reachable", decl: T.fn([T.objectOf(T.any, edges), edges], T.setOf(T.any)), impl: reachable },
  { name: "graph.reachable_paths", decl: T.fn([T.objectOf(T.any, edges), edges], T.setOf(T.arrayOf(T.any))), impl: reachablePaths },
];
