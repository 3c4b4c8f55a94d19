// Comprehension indexing (OPA's "comprehension indexing").
//
// A comprehension that closes over variables of the enclosing body, and only over variables bound
// before it, such as `[m.name | some m in input.items; m.team == team]` in a body that iterates
// `team`, has one value per value of those variables (its keys). Evaluated as it stands, it
// re-runs its body for every key: O(n²) over a collection iterated for both. Indexed, its body
// runs once per query (and `with` scope) with the keys unbound, so that the body binds them;
// each solution is filed under its keys' values, and every later evaluation looks its keys up.
//
// The compiler (compileComprehension in compiler.ts) decides eligibility statically, as OPA's
// compiler does, and compiles the body a second time with the keys unbound. The analysis helpers
// and the evaluation of an indexed comprehension live here.

import type { Body, Location, Term } from "./ast.ts";
import type { Ctx, EnumFn, ExprFn, Frame, ValFn } from "./eval.ts";
import { conflict } from "./eval.ts";
import type { Value } from "./value.ts";
import { RSet, equal, hashKey, makeObject } from "./value.ts";

/** A comprehension compiled for indexing: its keys (frame slots, bound outside) and its body compiled with them unbound. */
export interface IndexPlan {
  keys: number[];
  body: ExprFn;
}

// ---- Analysis ----------------------------------------------------------------------------------

/** The names of all variables under x (terms, expressions, bodies), nested comprehensions included; not call operators. */
export function varNamesIn(x: unknown): Set<string> {
  const out = new Set<string>();
  const todo: unknown[] = [x];
  while (todo.length > 0) {
    const y = todo.pop();
    if (Array.isArray(y)) {
      for (const z of y) if (typeof z === "object" && z !== null) todo.push(z);
      continue;
    }
    if (typeof y !== "object" || y === null) continue;
    const o = y as Record<string, unknown>;
    if (o.type === "var" && typeof o.name === "string") out.add(o.name);
    for (const k in o) {
      if (k === "loc" || (k === "op" && o.type === "call")) continue;
      const z = o[k];
      if (typeof z === "object" && z !== null) todo.push(z);
    }
  }
  return out;
}

const COMPREHENSIONS = new Set(["arraycomp", "setcomp", "objectcomp"]);

/** Does a comprehension nested in x mention one of names? (OPA does not index those: the index would have to close over the keys.) */
export function nestedMentions(x: unknown, names: Set<string>): boolean {
  const todo: unknown[] = [x];
  while (todo.length > 0) {
    const y = todo.pop();
    if (Array.isArray(y)) {
      for (const z of y) if (typeof z === "object" && z !== null) todo.push(z);
      continue;
    }
    if (typeof y !== "object" || y === null) continue;
    const o = y as Record<string, unknown>;
    if (typeof o.type === "string" && COMPREHENSIONS.has(o.type)) {
      for (const n of varNamesIn(o)) if (names.has(n)) return true;
      continue;
    }
    for (const k in o) {
      if (k === "loc") continue;
      const z = o[k];
      if (typeof z === "object" && z !== null) todo.push(z);
    }
  }
  return false;
}

/**
 * OPA's regression check: would the unindexed body look a key up where the indexed body has to
 * enumerate it? True when, in source order, a reference has a key among its operands
 * (`input.a[team]`) or `walk`'s output names a key before any other occurrence of that key.
 * Nested comprehensions are not entered (nestedMentions excludes those that name a key).
 */
export function keysEnumerated(body: Body, names: Set<string>): boolean {
  const seen = new Set<string>();
  const todo: unknown[] = [];
  for (let i = body.length - 1; i >= 0; i--) todo.push(body[i]);
  const unseenIn = (x: unknown): boolean => {
    for (const n of varNamesIn(x)) if (names.has(n) && !seen.has(n)) return true;
    return false;
  };
  while (todo.length > 0) {
    const y = todo.pop();
    if (typeof y !== "object" || y === null) continue;
    const o = y as Record<string, unknown>;
    const kids: unknown[] = [];
    if ("node" in o && "negated" in o) {
      // An expression: its node, then its with modifiers.
      kids.push(o.node, ...((o.with as { target: Term; value: Term }[]) ?? []).flatMap((w) => [w.target, w.value]));
    } else {
      switch (o.type) {
        case "var":
          seen.add(o.name as string);
          break;
        case "ref": {
          const terms = o.terms as Term[];
          if (unseenIn(terms.slice(1))) return true;
          kids.push(...terms);
          break;
        }
        case "call": {
          const args = o.args as Term[];
          const op = o.op as { terms: Term[] };
          if (op.terms.length === 1 && op.terms[0].type === "var" && op.terms[0].name === "walk" && args.length >= 2 && unseenIn(args[1])) return true;
          kids.push(...args);
          break;
        }
        case "term":
          kids.push(o.term);
          break;
        case "some":
          kids.push(...(o.vars as Term[]));
          break;
        case "somein":
          kids.push(o.key, o.value, o.collection);
          break;
        case "every":
          kids.push(o.key, o.value, o.domain, ...(o.body as Body));
          break;
        case "array":
        case "set":
          kids.push(...(o.items as Term[]));
          break;
        case "object":
          for (const [k, v] of o.items as [Term, Term][]) kids.push(k, v);
          break;
        default:
          // scalars; comprehensions are not entered
          break;
      }
    }
    for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]);
  }
  return false;
}

// ---- Evaluation --------------------------------------------------------------------------------

interface Group {
  /** The keys' values (kept alive: hashKey of a large composite value is only stable while the value lives). */
  key: Value;
  items: Value[];
  /** Object comprehensions: the entries by key hash, and whether two differed (a conflict, raised on lookup). */
  entries: Map<unknown, [Value, Value]> | null;
  conflict: boolean;
  value: Value | undefined;
}

function keyValue(f: Frame, keys: number[]): Value {
  if (keys.length === 1) return f[keys[0]] as Value;
  const out: Value[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = f[keys[i]] as Value;
  return out;
}

/**
 * Run the plan's body once with its keys unbound (restoring the frame afterwards, errors
 * included) and file every solution under its keys' values.
 */
function build(c: Ctx, f: Frame, plan: IndexPlan, emit: (g: Group) => boolean): Map<unknown, Group> {
  const keys = plan.keys;
  const saved: (Value | undefined)[] = keys.map((s) => f[s]);
  for (const s of keys) f[s] = undefined;
  const groups = new Map<unknown, Group>();
  try {
    plan.body(c, f, () => {
      const kv = keyValue(f, keys);
      const hk = hashKey(kv);
      let g = groups.get(hk);
      if (g === undefined) {
        g = { key: kv, items: [], entries: null, conflict: false, value: undefined };
        groups.set(hk, g);
      }
      return emit(g);
    });
  } finally {
    for (let i = 0; i < keys.length; i++) f[keys[i]] = saved[i];
  }
  return groups;
}

function groupOf(c: Ctx, f: Frame, token: object, plan: IndexPlan, emit: (g: Group) => boolean): Group | undefined {
  let idx = c.compIndex?.get(token) as Map<unknown, Group> | undefined;
  if (idx === undefined) {
    // Stored only once complete: an error (or a suspended or restarted evaluation) leaves no
    // partial index. (The scope's map is read after the build, which may have made it.)
    idx = build(c, f, plan, emit);
    (c.compIndex ??= new Map()).set(token, idx);
  }
  return idx.get(hashKey(keyValue(f, plan.keys)));
}

/** An indexed array or set comprehension: its value for the keys' current values. */
export function indexedCollection(plan: IndexPlan, head: EnumFn, isSet: boolean): ValFn {
  const token = {};
  return (c, f) => {
    const g = groupOf(c, f, token, plan, (g) =>
      head(c, f, (v) => {
        c.hold(v);
        g.items.push(v);
        return false;
      }),
    );
    if (g === undefined) return isSet ? new RSet([]) : [];
    if (g.value === undefined) g.value = isSet ? new RSet(g.items) : g.items;
    return g.value;
  };
}

/** An indexed object comprehension; a conflict among one key's entries is raised when that key is looked up. */
export function indexedObject(plan: IndexPlan, key: EnumFn, val: EnumFn, loc: Location): ValFn {
  const token = {};
  return (c, f) => {
    const g = groupOf(c, f, token, plan, (g) =>
      key(c, f, (kv) =>
        val(c, f, (vv) => {
          const entries = g.entries ?? (g.entries = new Map());
          const hk = hashKey(kv);
          const prev = entries.get(hk);
          // (as the unindexed comprehension: an equal entry is replaced, a different one is a conflict)
          if (prev !== undefined && !equal(prev[1], vv)) g.conflict = true;
          else {
            c.hold(kv);
            c.hold(vv);
            entries.set(hk, [kv, vv]);
          }
          return false;
        }),
      ),
    );
    if (g === undefined) return makeObject([]);
    if (g.conflict) throw conflict("object keys must be unique", loc);
    if (g.value === undefined) g.value = makeObject((g.entries ?? new Map<unknown, [Value, Value]>()).values());
    return g.value;
  };
}
