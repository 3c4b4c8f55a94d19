// Portcullis's own CEL evaluator: an expression's tree (as parser.ts builds it and engine.ts
// rewrites it: optional syntax and `has()` as calls, two-variable comprehensions expanded, a
// tick in every loop condition) compiled once into JavaScript closures over CEL values.
//
// It computes exactly what @bufbuild/cel's interpreter computes on the same tree: the same value
// representation (bigint ints, CelUint, numbers, strings, Uint8Array, the library's lists and
// maps and the lazy document views), the same errors (a CelError carrying the interpreter's
// message, which engine.ts turns into cel-go's text), the same error absorption by `&&`, `||`
// and `?:`, the same comprehension loop, and the same cost charges (every call 1 plus a tenth of
// its arguments' sizes; every loop iteration 1). What makes it faster is what it leaves out:
// no attribute resolution through candidate qualified names (`variables.x.y` is a variable and
// two selections), identifiers read by slot, the common operators and string functions run
// directly on the common types, and errors thrown instead of tested after every step.
//
// Functions it does not run itself are called through the environment's function groups, the
// very implementations the interpreter calls. Forms it does not compile (message construction,
// type identifiers, identifiers it cannot bind statically, constants of deprecated kinds) make
// compileFast throw Unsupported: engine.ts then runs the expression on @bufbuild/cel — decided
// once per expression, at compile time.

import type * as CelModule from "@bufbuild/cel";
import { formatFloat } from "../../gotext/fmt.ts";
import { JsonListView, JsonMapView, FastList } from "./views.ts";

/** Thrown at compile time for a form this evaluator leaves to @bufbuild/cel. */
export class Unsupported extends Error {}

type AnyExpr = { id: bigint; exprKind: { case: string | undefined; value: any } };

/** A function group of the environment: call() answers a value, a CelError, or undefined (no overload). */
export interface FuncGroup {
  call(id: number, target: unknown, args: unknown[]): unknown;
}

/** What the evaluator needs from engine.ts's environment. */
export interface FastDeps {
  cel: typeof CelModule;
  /** The environment's groups as the interpreter finds them (metered, Go's string(double)). */
  find(name: string): FuncGroup | undefined;
  /** The same group without the meter (for calls whose cost is charged here). */
  findRaw(name: string): FuncGroup | undefined;
  /** The meter's charge for a call (1 + a tenth of the argument sizes). */
  charge(target: unknown, args: unknown[]): void;
  /** A charge of n on the current meter. */
  chargeN(n: number): void;
  /** The size a call's charge counts for a value (string and bytes length, list and map size, else 0). */
  sizeCost(v: unknown): number;
  /** Whether x is a JSON object view, and its own-key test. */
  viewHasKey(x: unknown, f: string): boolean | undefined;
  /** The interpreter's answer for a selection or an index on a value this evaluator does not know (a protobuf message). */
  delegateSelect(v: unknown, field: string): unknown;
  delegateIndex(v: unknown, key: unknown): unknown;
  /** Names of the engine's internal functions. */
  names: { tick: string; has: string };
}

/** The state of one evaluation: the top-level bindings and the comprehension variables' slots. */
export interface Frame {
  b: Record<string, unknown>;
  l: unknown[];
  /** The value of variable slot i (`variables.<name>`), when the caller binds variables by slot. */
  v?: (slot: number) => unknown;
  /** With v: the size of the `variables` map (its entries, without making it). */
  vn?: number;
  /** With v: the values of the variables computed so far, by slot (UNSET_VARIABLE for the others). */
  vv?: readonly unknown[];
}

/** In Frame.vv: a variable not computed yet. */
export const UNSET_VARIABLE = Symbol("portcullis.unsetVariable");

export type Node = (f: Frame) => unknown;

export interface FastProgram {
  run: Node;
  /** Number of local slots (comprehension variables). */
  slots: number;
  /** Free identifiers read from the bindings. */
  free: ReadonlySet<string>;
}

/**
 * Compile a rewritten tree. `known`, when given, is the set of names the bindings will hold
 * (compile time decides every identifier); without it, free identifiers are read from the
 * bindings and the caller must check them before running (see bindingsFit).
 */
export function compileFast(root: AnyExpr, d: FastDeps, known?: ReadonlySet<string>, varSlots?: ReadonlyMap<string, number>): FastProgram {
  const c = d.cel;
  const { isCelError, isCelList, isCelMap, isCelUint, celError } = c;
  const celType = (x: unknown) => c.celType(x as never);
  const scope: Map<string, number>[] = [];
  let slots = 0;
  const free = new Set<string>();

  const fieldNotFound = (name: unknown) => celError(`field not found: ${String(name)}`);
  const outOfBounds = (index: unknown) => celError(`index ${index} out of bounds [0, -1)`);

  const lookup = (name: string): number | undefined => {
    for (let i = scope.length - 1; i >= 0; i--) {
      const s = scope[i].get(name);
      if (s !== undefined) return s;
    }
    return undefined;
  };

  /**
   * A value the bufbuild interpreter would pass on as an error: thrown. (Its errors are Error
   * objects: the instanceof test, cheap on any value, rules out the others before the library's
   * test, whose symbol lookup is slow on the many shapes of values.)
   */
  const check = (v: unknown): unknown => {
    if (v instanceof Error && isCelError(v)) throw v;
    return v;
  };

  /** The charge of a call: 1 plus a tenth of its arguments' sizes (engine.ts's charge), the views' sizes read here. */
  const sizeOf = (v: unknown): number => {
    if (typeof v === "string") return v.length;
    if (v === null || typeof v !== "object") return 0;
    if (v instanceof JsonMapView || v instanceof JsonListView || v instanceof FastList) return v.size;
    return d.sizeCost(v);
  };

  const select = (v: unknown, field: string): unknown => {
    // a document's object: its member (never an error value)
    if (v instanceof JsonMapView) {
      const r = v.get(field);
      if (r === undefined) throw fieldNotFound(field);
      return r;
    }
    if (v !== null && typeof v === "object") {
      if (isCelMap(v)) {
        const r = (v as { get(k: unknown): unknown }).get(field);
        if (r === undefined) throw fieldNotFound(field);
        return check(r);
      }
      if (!isCelList(v) && !isCelUint(v) && !(v instanceof Uint8Array)) return check(d.delegateSelect(v, field));
    }
    throw fieldNotFound(field);
  };

  const index = (v: unknown, key: unknown): unknown => {
    // a document's array or a list made here by an int, a document's object by a string
    if (typeof key === "bigint") {
      if (v instanceof FastList || v instanceof JsonListView) {
        const r = v.get(Number(key));
        if (r === undefined) throw outOfBounds(Number(key));
        return r;
      }
    } else if (typeof key === "string" && v instanceof JsonMapView) {
      const r = v.get(key);
      if (r === undefined) throw fieldNotFound(key);
      return r;
    }
    let k: unknown = key;
    switch (typeof key) {
      case "string":
        if (v !== null && typeof v === "object" && !isCelMap(v) && !isCelList(v) && !isCelUint(v) && !(v instanceof Uint8Array)) return check(d.delegateIndex(v, key));
        if (v !== null && typeof v === "object" && isCelMap(v)) {
          const r = (v as { get(k: unknown): unknown }).get(key);
          if (r === undefined) throw fieldNotFound(key);
          return check(r);
        }
        throw fieldNotFound(key);
      case "boolean":
      case "number":
      case "bigint":
        break;
      case "object":
        if (key !== null && isCelUint(key)) {
          k = (key as { value: bigint }).value;
          break;
        }
        throw celError("unsupported key type");
      default:
        throw celError("unsupported key type");
    }
    let r: unknown;
    if (v !== null && typeof v === "object") {
      if (isCelMap(v)) r = (v as { get(k: unknown): unknown }).get(k);
      else if (isCelList(v)) r = (v as { get(i: number): unknown }).get(Number(k));
    }
    if (r === undefined) {
      if (typeof k === "boolean") throw fieldNotFound(k);
      throw outOfBounds(typeof k === "bigint" ? Number(k) : k);
    }
    return r;
  };

  /** A generic call through the environment's group, as the interpreter's EvalCall makes it. */
  const genericCall = (name: string, target: Node | undefined, args: Node[]): Node => {
    const g = d.find(name);
    if (!g) {
      return () => {
        throw celError(`unbound function: ${name}`);
      };
    }
    const noMatch = (t: unknown, vals: unknown[]) =>
      celError(`found no matching overload for '${name}' applied to '${t !== undefined ? `${celType(t).name}.` : ""}(${vals.map((x) => celType(x).name).join(", ")})'`);
    const finish = (r: unknown, t: unknown, vals: unknown[]): unknown => {
      if (genericCounts) genericCounts.set(name, (genericCounts.get(name) ?? 0) + 1);
      if (r === undefined) throw noMatch(t, vals);
      if (r !== null && typeof r === "object" && isCelError(r)) throw r;
      return r;
    };
    if (target) {
      if (args.length === 0)
        return (f) => {
          const t = target(f);
          return finish(g.call(0, t, []), t, []);
        };
      if (args.length === 1) {
        const a0 = args[0];
        return (f) => {
          const t = target(f);
          const vals = [a0(f)];
          return finish(g.call(0, t, vals), t, vals);
        };
      }
      return (f) => {
        const t = target(f);
        const vals = args.map((a) => a(f));
        return finish(g.call(0, t, vals), t, vals);
      };
    }
    if (args.length === 1) {
      const a0 = args[0];
      return (f) => {
        const vals = [a0(f)];
        return finish(g.call(0, undefined, vals), undefined, vals);
      };
    }
    if (args.length === 2) {
      const a0 = args[0];
      const a1 = args[1];
      return (f) => {
        const vals = [a0(f), a1(f)];
        return finish(g.call(0, undefined, vals), undefined, vals);
      };
    }
    return (f) => {
      const vals = args.map((a) => a(f));
      return finish(g.call(0, undefined, vals), undefined, vals);
    };
  };

  /** A call through the metered group with values already computed. */
  const callWith = (name: string, t: unknown, vals: unknown[]): unknown => {
    const g = d.find(name)!;
    const r = g.call(0, t, vals);
    if (r === undefined) throw celError(`found no matching overload for '${name}' applied to '${t !== undefined ? `${celType(t).name}.` : ""}(${vals.map((x) => celType(x).name).join(", ")})'`);
    if (r !== null && typeof r === "object" && isCelError(r)) throw r;
    return r;
  };

  /**
   * A call of `name` run here for the common argument types (fast returns NOPE for the others,
   * which then go to the environment's unmetered group); the cost is charged here, as the
   * metered group charges it.
   */
  const NOPE = Symbol("nope");
  type Fast = (t: unknown, a: unknown[]) => unknown;
  type Slow = (t: unknown, vals: unknown[]) => unknown;

  /** The call of `name` through the environment's unmetered group (its charge made by the caller); undefined when the environment lacks it. */
  const slowOf = (name: string): Slow | undefined => {
    const raw = d.findRaw(name);
    if (!raw || !d.find(name)) return undefined;
    const noMatch = (t: unknown, vals: unknown[]) =>
      celError(`found no matching overload for '${name}' applied to '${t !== undefined ? `${celType(t).name}.` : ""}(${vals.map((x) => celType(x).name).join(", ")})'`);
    return (t, vals) => {
      if (genericCounts) genericCounts.set(`${name} (not run here)`, (genericCounts.get(`${name} (not run here)`) ?? 0) + 1);
      const r = raw.call(0, t, vals);
      if (r === undefined) throw noMatch(t, vals);
      if (r !== null && typeof r === "object" && isCelError(r)) throw r;
      return r;
    };
  };

  /** special's path for values its node does not take itself: charged as the metered group charges, then `fast`, else the group. */
  const rest = (slow: Slow, fast: Fast) => (t: unknown, vals: unknown[]): unknown => {
    let size = t === undefined ? 0 : sizeOf(t);
    for (let i = 0; i < vals.length; i++) size += sizeOf(vals[i]);
    d.chargeN(1 + Math.ceil(size / 10));
    const r = fast(t, vals);
    return r === NOPE ? slow(t, vals) : r;
  };

  const special = (name: string, target: Node | undefined, args: Node[], fast: Fast): Node => {
    const generic = genericCall(name, target, args);
    const slow = slowOf(name);
    if (!slow) return generic;
    if (target) {
      if (args.length === 0) {
        return (f) => {
          const t = target(f);
          const vals: unknown[] = [];
          d.charge(t, vals);
          const r = fast(t, vals);
          return r === NOPE ? slow(t, vals) : r;
        };
      }
      if (args.length === 1) {
        const a0 = args[0];
        return (f) => {
          const t = target(f);
          const vals = [a0(f)];
          d.charge(t, vals);
          const r = fast(t, vals);
          return r === NOPE ? slow(t, vals) : r;
        };
      }
      return generic;
    }
    if (args.length === 1) {
      const a0 = args[0];
      return (f) => {
        const vals = [a0(f)];
        d.charge(undefined, vals);
        const r = fast(undefined, vals);
        return r === NOPE ? slow(undefined, vals) : r;
      };
    }
    if (args.length === 2) {
      const a0 = args[0];
      const a1 = args[1];
      return (f) => {
        const vals = [a0(f), a1(f)];
        d.charge(undefined, vals);
        const r = fast(undefined, vals);
        return r === NOPE ? slow(undefined, vals) : r;
      };
    }
    return generic;
  };

  const isPrim = (x: unknown) => typeof x === "string" || typeof x === "boolean" || typeof x === "bigint";

  const eqFast = (_t: unknown, a: unknown[]): unknown => {
    const x = a[0];
    const y = a[1];
    const tx = typeof x;
    if (tx === typeof y && (isPrim(x) || tx === "number")) return x === y;
    if (x === null) return y === null ? true : isPrim(y) || typeof y === "number" ? false : NOPE;
    if (y === null) return isPrim(x) || tx === "number" ? false : NOPE;
    return NOPE;
  };
  const hasFast = (_t: unknown, a: unknown[]): unknown => {
    const r = typeof a[1] === "string" ? d.viewHasKey(a[0], a[1]) : undefined;
    return r === undefined ? NOPE : r;
  };
  const neFast = (t: unknown, a: unknown[]): unknown => {
    const r = eqFast(t, a);
    return r === NOPE ? NOPE : !r;
  };

  // Nodes of their own for the commonest calls: each node's code is its own (the shared code of
  // special() calls its fast function from one site for every operator), it takes the common
  // types without an argument array, and charges what the metered group would charge (1 plus a
  // tenth of the arguments' sizes). Other values take special()'s path (rest).
  const eqNode = (name: string, args: Node[], negate: boolean): Node | undefined => {
    const slow = slowOf(name);
    if (!slow || args.length !== 2) return undefined;
    const [a0, a1] = args;
    const other = rest(slow, negate ? neFast : eqFast);
    return (f) => {
      const x = a0(f);
      const y = a1(f);
      const tx = typeof x;
      if (tx === typeof y) {
        if (tx === "string") {
          d.chargeN(1 + Math.ceil(((x as string).length + (y as string).length) / 10));
          return negate ? x !== y : x === y;
        }
        if (tx === "boolean" || tx === "bigint" || tx === "number") {
          d.chargeN(1);
          return negate ? x !== y : x === y;
        }
      }
      return other(undefined, [x, y]);
    };
  };

  const notNode = (name: string, args: Node[]): Node | undefined => {
    const slow = slowOf(name);
    if (!slow || args.length !== 1) return undefined;
    const a0 = args[0];
    return (f) => {
      const x = a0(f);
      if (typeof x === "boolean") {
        d.chargeN(1);
        return !x;
      }
      const vals = [x];
      d.charge(undefined, vals);
      return slow(undefined, vals);
    };
  };

  /** has(x.f), the field a constant: a document's object tested here. */
  const hasNode = (name: string, args: Node[], field: unknown): Node | undefined => {
    const slow = slowOf(name);
    if (!slow || args.length !== 2 || typeof field !== "string") return undefined;
    const [a0, a1] = args;
    const other = rest(slow, hasFast);
    const fieldSize = field.length;
    return (f) => {
      const x = a0(f);
      const k = a1(f);
      if (x instanceof JsonMapView) {
        d.chargeN(1 + Math.ceil((x.size + fieldSize) / 10));
        return x.hasKey(field);
      }
      // the environment's has() answers false for null (a value without fields)
      if (x === null) {
        d.chargeN(1 + Math.ceil(fieldSize / 10));
        return false;
      }
      return other(undefined, [x, k]);
    };
  };

  const sizeNode = (name: string, args: Node[], fast: Fast): Node | undefined => {
    const slow = slowOf(name);
    if (!slow || args.length !== 1) return undefined;
    const a0 = args[0];
    const other = rest(slow, fast);
    return (f) => {
      const x = a0(f);
      if (x instanceof JsonListView || x instanceof JsonMapView || x instanceof FastList) {
        const n = x.size;
        d.chargeN(1 + Math.ceil(n / 10));
        return BigInt(n);
      }
      return other(undefined, [x]);
    };
  };

  const inNode = (name: string, args: Node[], fast: Fast): Node | undefined => {
    const slow = slowOf(name);
    if (!slow || args.length !== 2) return undefined;
    const [a0, a1] = args;
    const other = rest(slow, fast);
    return (f) => {
      const x = a0(f);
      const l = a1(f);
      if (typeof x === "string") {
        if (l instanceof JsonListView || l instanceof FastList) {
          const n = l.size;
          d.chargeN(1 + Math.ceil((x.length + n) / 10));
          for (let i = 0; i < n; i++) if (l.get(i) === x) return true;
          return false;
        }
        if (l instanceof JsonMapView) {
          d.chargeN(1 + Math.ceil((x.length + l.size) / 10));
          // an own key is in the map, a key whose value is null included (mapHas)
          return l.has(x);
        }
      }
      return other(undefined, [x, l]);
    };
  };

  const addNode = (name: string, args: Node[], fast: Fast, single?: Node): Node | undefined => {
    const slow = slowOf(name);
    if (!slow || args.length !== 2) return undefined;
    const [a0, a1] = args;
    const other = rest(slow, fast);
    if (single) {
      // l + [e] (the step of map() and filter()): e appended to a copy of l, the one-element list not made
      return (f) => {
        const x = a0(f);
        if (x instanceof FastList || x instanceof JsonListView) {
          const e = single(f);
          const nx = x.size;
          d.chargeN(1 + Math.ceil((nx + 1) / 10));
          if (nx === 0) return new FastList([e]);
          const out = elements(x).slice();
          out.push(e);
          return new FastList(out);
        }
        return other(undefined, [x, a1(f)]);
      };
    }
    return (f) => {
      const x = a0(f);
      const y = a1(f);
      if (typeof x === "string" && typeof y === "string") {
        d.chargeN(1 + Math.ceil((x.length + y.length) / 10));
        return x + y;
      }
      if ((x instanceof FastList || x instanceof JsonListView) && (y instanceof FastList || y instanceof JsonListView)) {
        const nx = x.size;
        const ny = y.size;
        d.chargeN(1 + Math.ceil((nx + ny) / 10));
        if (ny === 0) return x;
        if (nx === 0) return y;
        return new FastList(elements(x).concat(elements(y)));
      }
      return other(undefined, [x, y]);
    };
  };

  /**
   * An ordering (_<_, _<=_, _>_, _>=_) of two ints, two doubles or two strings: the standard
   * library's overloads for them are JavaScript's operator; other values go to the metered group.
   */
  const relNode = (name: string, args: Node[], op: (x: never, y: never) => boolean): Node | undefined => {
    if (!d.find(name) || args.length !== 2) return undefined;
    const [a0, a1] = args;
    return (f) => {
      const x = a0(f);
      const y = a1(f);
      const tx = typeof x;
      if (tx === typeof y) {
        if (tx === "bigint" || tx === "number") {
          d.chargeN(1);
          return op(x as never, y as never);
        }
        if (tx === "string") {
          d.chargeN(1 + Math.ceil(((x as string).length + (y as string).length) / 10));
          return op(x as never, y as never);
        }
      }
      return callWith(name, undefined, [x, y]);
    };
  };

  /** A string method of one string argument (startsWith, endsWith, contains). */
  const strMethodNode = (name: string, target: Node, args: Node[], op: (t: string, a: string) => boolean, fast: Fast): Node | undefined => {
    const slow = slowOf(name);
    if (!slow || args.length !== 1) return undefined;
    const a0 = args[0];
    const other = rest(slow, fast);
    return (f) => {
      const t = target(f);
      const a = a0(f);
      if (typeof t === "string" && typeof a === "string") {
        d.chargeN(1 + Math.ceil((t.length + a.length) / 10));
        return op(t, a);
      }
      return other(t, [a]);
    };
  };

  const compileCall = (e: AnyExpr): Node => {
    const call = e.exprKind.value;
    const fn: string = call.function;
    const targetExpr = call.target as AnyExpr | undefined;
    const argExprs = call.args as AnyExpr[];
    // A qualified function name (sets.contains(…), optional.of(…)) when the target spells one.
    if (targetExpr) {
      const q = qualifiedName(targetExpr);
      if (q !== undefined && d.find(`${q}.${fn}`)) {
        if (lookup(q.split(".")[0]) !== undefined) throw new Unsupported("qualified function name shadowed by a local");
        return genericCall(`${q}.${fn}`, undefined, argExprs.map(comp));
      }
    }
    switch (fn) {
      case "_[_]": {
        const o = comp(argExprs[0]);
        const k = comp(argExprs[1]);
        return (f) => {
          const v = o(f);
          return index(v, k(f));
        };
      }
      case "_?._":
      case "_[?_]":
        throw new Unsupported(fn);
      case "_?_:_": {
        const cond = comp(argExprs[0]);
        const t = comp(argExprs[1]);
        const el = comp(argExprs[2]);
        return (f) => {
          const v = cond(f);
          if (v === true) return t(f);
          if (v === false) return el(f);
          throw celError(`found no matching overload for _?_:_ applied to '(${celType(v).name})'`);
        };
      }
      case "_&&_":
      case "_||_": {
        const args = argExprs.map(comp);
        const stop = fn === "_||_";
        if (args.length !== 2) throw new Unsupported("logical operator arity");
        const [a0, a1] = args;
        return (f) => {
          let first: Error | undefined;
          let v: unknown;
          try {
            v = a0(f);
          } catch (err) {
            if (!isCelError(err)) throw err;
            first = err as Error;
          }
          if (first === undefined) {
            if (typeof v === "boolean") {
              if (v === stop) return stop;
            } else first = celError(`type mismatch: expected bool, got ${celType(v).name}`);
          }
          try {
            v = a1(f);
          } catch (err) {
            if (!isCelError(err)) throw err;
            throw celError((first ?? (err as Error)).message);
          }
          if (typeof v === "boolean") {
            if (v === stop) return stop;
            if (first === undefined) return !stop;
            throw celError(first.message);
          }
          throw celError((first ?? celError(`type mismatch: expected bool, got ${celType(v).name}`)).message);
        };
      }
      case "@not_strictly_false":
      case "__not_strictly_false__": {
        const a = comp(argExprs[0]);
        return (f) => {
          try {
            return a(f) !== false;
          } catch (err) {
            if (!isCelError(err)) throw err;
            return true;
          }
        };
      }
    }
    const target = targetExpr ? comp(targetExpr) : undefined;
    const args = argExprs.map(comp);
    switch (fn) {
      case d.names.tick: {
        if (target || args.length !== 1 || !d.find(fn)) break;
        const a = args[0];
        return (f) => {
          const v = a(f);
          d.chargeN(1);
          return v;
        };
      }
      case d.names.has: {
        if (target || args.length !== 2) break;
        const [a0, a1] = argExprs;
        const field = a1.exprKind.case === "constExpr" ? a1.exprKind.value.constantKind?.value : undefined;
        const viaGroups = hasNode(fn, args, field) ?? special(fn, undefined, args, hasFast);
        // has(variables.<name>) of a declared variable: the variables map holds every declared name,
        // and the test reads it (as Kubernetes' lazy map does): a variable that failed is an error
        const slot = typeof field === "string" ? varSlots?.get(field) : undefined;
        if (a0.exprKind.case === "identExpr" && a0.exprKind.value.name === "variables" && lookup("variables") === undefined && slot !== undefined && d.find(fn)) {
          const vars = args[0];
          // the charge of has() on the map (1 + a tenth of its size and the field's length): the
          // map's size comes with the bindings when they carry it, and the map is not made for it
          const fieldSize = typeof field === "string" ? field.length : 0;
          return (f) => {
            if (!f.v) return viaGroups(f);
            if (f.vn !== undefined) d.chargeN(1 + Math.ceil((f.vn + fieldSize) / 10));
            else d.charge(undefined, [vars(f), field]);
            const vv = f.vv;
            const x = vv !== undefined ? vv[slot] : UNSET_VARIABLE;
            check(x !== UNSET_VARIABLE ? x : f.v(slot));
            return true;
          };
        }
        return viaGroups;
      }
      case "_==_":
        if (!target) return eqNode(fn, args, false) ?? special(fn, undefined, args, eqFast);
        break;
      case "_!=_":
        if (!target) return eqNode(fn, args, true) ?? special(fn, undefined, args, neFast);
        break;
      case "!_":
        if (!target) return notNode(fn, args) ?? special(fn, undefined, args, (_t, a) => (typeof a[0] === "boolean" ? !a[0] : NOPE));
        break;
      case "_<_":
        if (!target) return relNode(fn, args, (x, y) => x < y) ?? genericCall(fn, target, args);
        break;
      case "_<=_":
        if (!target) return relNode(fn, args, (x, y) => x <= y) ?? genericCall(fn, target, args);
        break;
      case "_>_":
        if (!target) return relNode(fn, args, (x, y) => x > y) ?? genericCall(fn, target, args);
        break;
      case "_>=_":
        if (!target) return relNode(fn, args, (x, y) => x >= y) ?? genericCall(fn, target, args);
        break;
      case "_+_":
        if (!target) {
          const addFast: Fast = (_t, a) => {
            const x = a[0];
            const y = a[1];
            if (typeof x === "string" && typeof y === "string") return x + y;
            if (x !== null && y !== null && typeof x === "object" && typeof y === "object" && isCelList(x) && isCelList(y)) {
              const lx = x as ListLike;
              const ly = y as ListLike;
              if (ly.size === 0) return x;
              if (lx.size === 0) return y;
              return new FastList(elements(lx).concat(elements(ly)));
            }
            return NOPE;
          };
          // the right operand a one-element list literal: its element's node
          const r = argExprs[1];
          const single = r?.exprKind.case === "listExpr" && !r.exprKind.value.optionalIndices?.length && r.exprKind.value.elements.length === 1 ? comp(r.exprKind.value.elements[0]) : undefined;
          return addNode(fn, args, addFast, single) ?? special(fn, undefined, args, addFast);
        }
        break;
      case "string":
        // string(string) is the string, string(double) is Go's FormatFloat(x, 'g', -1, 64) (as the environment's wrapper answers)
        if (!target && args.length === 1) return special(fn, undefined, args, (_t, a) => (typeof a[0] === "string" ? a[0] : typeof a[0] === "number" ? formatFloat(a[0], "g", -1) : NOPE));
        break;
      case "dyn":
        if (!target && args.length === 1)
          return special(fn, undefined, args, (_t, a) => {
            const x = a[0];
            return x === null || typeof x !== "object" || isCelList(x) || isCelMap(x) ? x : NOPE;
          });
        break;
      case "replace":
        if (target && args.length === 2) {
          const [a0, a1] = args;
          if (!d.find(fn)) break;
          return (f) => {
            const t = target(f);
            const from = a0(f);
            const to = a1(f);
            if (typeof t === "string" && typeof from === "string" && from !== "" && typeof to === "string") {
              d.charge(t, [from, to]);
              return t.split(from).join(to);
            }
            return callWith(fn, t, [from, to]);
          };
        }
        break;
      case "join":
        if (target)
          return special(fn, target, args, (t, a) => {
            if (t === null || typeof t !== "object" || !isCelList(t) || (a.length === 1 && typeof a[0] !== "string")) return NOPE;
            const l = t as ListLike;
            const sep = a.length === 1 ? (a[0] as string) : "";
            let out = "";
            for (let i = 0; i < l.size; i++) {
              const x = l.get(i);
              if (typeof x !== "string") return NOPE;
              out += i > 0 ? sep + x : x;
            }
            return out;
          });
        break;
      case "size":
        if (!target && args.length === 1) {
          const sizeFast: Fast = (_t, a) => {
            const x = a[0];
            return x !== null && typeof x === "object" && (isCelList(x) || isCelMap(x)) ? BigInt((x as { size: number }).size) : NOPE;
          };
          return sizeNode(fn, args, sizeFast) ?? special(fn, undefined, args, sizeFast);
        }
        break;
      case "lowerAscii":
        if (target && args.length === 0) return special(fn, target, args, (t) => (typeof t === "string" ? (/[A-Z]/.test(t) ? t.replace(/[A-Z]/g, (ch) => ch.toLowerCase()) : t) : NOPE));
        break;
      case "upperAscii":
        if (target && args.length === 0) return special(fn, target, args, (t) => (typeof t === "string" ? (/[a-z]/.test(t) ? t.replace(/[a-z]/g, (ch) => ch.toUpperCase()) : t) : NOPE));
        break;
      case "startsWith":
        if (target) {
          const startsFast: Fast = (t, a) => (typeof t === "string" && typeof a[0] === "string" ? t.startsWith(a[0]) : NOPE);
          return strMethodNode(fn, target, args, (t, a) => t.startsWith(a), startsFast) ?? special(fn, target, args, startsFast);
        }
        break;
      case "endsWith":
        if (target) {
          const endsFast: Fast = (t, a) => (typeof t === "string" && typeof a[0] === "string" ? t.endsWith(a[0]) : NOPE);
          return strMethodNode(fn, target, args, (t, a) => t.endsWith(a), endsFast) ?? special(fn, target, args, endsFast);
        }
        break;
      case "contains":
        if (target) {
          const containsFast: Fast = (t, a) => (typeof t === "string" && typeof a[0] === "string" ? t.includes(a[0]) : NOPE);
          return strMethodNode(fn, target, args, (t, a) => t.includes(a), containsFast) ?? special(fn, target, args, containsFast);
        }
        break;
      case "@in":
        if (!target) {
          const inFast: Fast = (_t, a) => {
            const x = a[0];
            const l = a[1];
            if (typeof x !== "string" || l === null || typeof l !== "object") return NOPE;
            if (isCelList(l)) {
              const list = l as { size: number; get(i: number): unknown };
              for (let i = 0; i < list.size; i++) if (list.get(i) === x) return true;
              return false;
            }
            // a key whose value is null is in the map (cel-go; @bufbuild/cel's maps' has() misses it)
            if (isCelMap(l)) return mapHas(l, x);
            return NOPE;
          };
          return inNode(fn, args, inFast) ?? special(fn, undefined, args, inFast);
        }
        break;
    }
    return genericCall(fn, target, args);
  };

  const comp = (e: AnyExpr): Node => {
    const k = e.exprKind;
    switch (k.case) {
      case "constExpr": {
        const ck = k.value.constantKind as { case: string; value: unknown };
        let v: unknown;
        switch (ck.case) {
          case "stringValue":
          case "bytesValue":
          case "doubleValue":
          case "boolValue":
          case "int64Value":
            v = ck.value;
            break;
          case "uint64Value":
            v = c.celUint(ck.value as bigint);
            break;
          case "nullValue":
            v = null;
            break;
          default:
            throw new Unsupported(`constant ${ck.case}`);
        }
        return () => v;
      }
      case "identExpr": {
        const name: string = k.value.name;
        const slot = lookup(name);
        if (slot !== undefined) return (f) => check(f.l[slot]);
        if (known ? !known.has(name) : TYPE_NAMES.has(name)) throw new Unsupported(`identifier ${name}`);
        free.add(name);
        return (f) => {
          const v = f.b[name];
          if (v === undefined) throw celError("unresolved attribute");
          return check(v);
        };
      }
      case "selectExpr": {
        if (k.value.testOnly) throw new Unsupported("presence test");
        const field: string = k.value.field;
        const operand = k.value.operand as AnyExpr;
        const slot = varSlots?.get(field);
        if (slot !== undefined && operand.exprKind.case === "identExpr" && operand.exprKind.value.name === "variables" && lookup("variables") === undefined) {
          // variables.<name> by slot: the same value (computed once per evaluation) the `variables` map would give
          // (a variable that failed is an error value: thrown here, for ||, && and ?: to absorb)
          const o = comp(operand);
          return (f) => {
            // computed already (the common case), else computed now
            const vv = f.vv;
            if (vv !== undefined) {
              const x = vv[slot];
              if (x !== UNSET_VARIABLE) return check(x);
            }
            return f.v ? check(f.v(slot)) : select(o(f), field);
          };
        }
        const o = comp(operand);
        return (f) => select(o(f), field);
      }
      case "callExpr":
        return compileCall(e);
      case "listExpr": {
        if (k.value.optionalIndices?.length) throw new Unsupported("optional list elements");
        const elems = (k.value.elements as AnyExpr[]).map(comp);
        // a FastList: @bufbuild/cel's list of an array (celList) reads its elements through
        // toCel, which gives back a CEL value as it is, and these elements are CEL values
        if (elems.length === 0) return () => new FastList([]);
        if (elems.length === 1) {
          const e0 = elems[0];
          return (f) => new FastList([e0(f)]);
        }
        return (f) => {
          const out = new Array(elems.length);
          for (let i = 0; i < elems.length; i++) out[i] = elems[i](f);
          return new FastList(out);
        };
      }
      case "structExpr": {
        if (k.value.messageName !== "") throw new Unsupported("message construction");
        const entries = k.value.entries as { keyKind: { case: string; value: AnyExpr }; value: AnyExpr; optionalEntry: boolean }[];
        if (entries.some((en) => en.optionalEntry || en.keyKind?.case !== "mapKey" || !en.value)) throw new Unsupported("map entry form");
        const keys = entries.map((en) => comp(en.keyKind.value));
        const vals = entries.map((en) => comp(en.value));
        const mapKey = (key: unknown): unknown => {
          switch (typeof key) {
            case "boolean":
            case "bigint":
            case "string":
              return key;
            case "object":
              if (key !== null && isCelUint(key)) return key;
              throw celError("unsupported key type");
            case "number":
              if (Number.isInteger(key)) return BigInt(key);
              throw celError("unsupported key type");
            default:
              throw celError("unsupported key type");
          }
        };
        return (f) => {
          const m = new Map<unknown, unknown>();
          for (let i = 0; i < keys.length; i++) {
            const key = mapKey(keys[i](f));
            const val = vals[i](f);
            if (m.has(key)) throw celError(`map key conflict: ${String(key)}`);
            m.set(key, val);
          }
          return c.celMap(m as never);
        };
      }
      case "comprehensionExpr": {
        const cv = k.value;
        if (cv.iterVar2) throw new Unsupported("two-variable comprehension");
        const accuInit = comp(cv.accuInit);
        const range = comp(cv.iterRange);
        const accuSlot = slots++;
        const iterSlot = slots++;
        scope.push(new Map([[cv.accuVar as string, accuSlot]]));
        const result = comp(cv.result);
        scope.push(new Map([[cv.iterVar as string, iterSlot]]));
        const cond = comp(cv.loopCondition);
        const step = comp(cv.loopStep);
        scope.pop();
        scope.pop();
        return (f) => {
          const l = f.l;
          l[accuSlot] = accuInit(f);
          const r = range(f);
          const savedIter = l[iterSlot];
          if (r instanceof JsonListView || r instanceof FastList) {
            // a document's array or a list made here: read in place (neither changes). The loop
            // body is the same as the general loop's below, written twice on purpose: a shared
            // per-item function would be a call per element on the hot path.
            const n = r.size;
            for (let i = 0; i < n; i++) {
              const item = r.get(i);
              check(item);
              l[iterSlot] = item;
              if (cond(f) !== true) break;
              try {
                l[accuSlot] = step(f);
              } catch (err) {
                if (!isCelError(err)) throw err;
                l[accuSlot] = err;
              }
            }
            l[iterSlot] = savedIter;
            return result(f);
          }
          let items: unknown[];
          if (r !== null && typeof r === "object" && isCelMap(r)) items = Array.from((r as ReadonlyMap<unknown, unknown>).keys());
          else if (r !== null && typeof r === "object" && isCelList(r)) items = elements(r as ListLike);
          else throw celError(`type mismatch: iterable vs ${celType(r).name}`);
          for (const item of items) {
            check(item);
            l[iterSlot] = item;
            if (cond(f) !== true) break;
            try {
              l[accuSlot] = step(f);
            } catch (err) {
              if (!isCelError(err)) throw err;
              l[accuSlot] = err;
            }
          }
          l[iterSlot] = savedIter;
          return result(f);
        };
      }
    }
    throw new Unsupported(`expression kind ${String(k.case)}`);
  };

  const run = comp(root);
  return { run, slots, free };
}

type ListLike = { size: number; get(i: number): unknown };

/** Whether a CEL map holds key k, a key whose value is null included (get() gives null for it). */
function mapHas(m: unknown, k: unknown): boolean {
  const x = m as { has(k: unknown): boolean; get(k: unknown): unknown };
  return x.has(k) || x.get(k) === null;
}

/** The elements of a CEL list, in order. */
function elements(l: ListLike): unknown[] {
  if (l instanceof FastList) return l.a as unknown[];
  const n = l.size;
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = l.get(i);
  return out;
}

/** Counts of calls through the environment's groups by name, when a profile asks (bench/cel.ts). */
export let genericCounts: Map<string, number> | null = null;
export function countGenericCalls(on: boolean): Map<string, number> | null {
  genericCounts = on ? new Map() : null;
  return genericCounts;
}

/** Type names the interpreter resolves as identifiers when nothing binds them. */
const TYPE_NAMES = new Set(["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn", "google", "kubernetes", "optional_type"]);

function qualifiedName(e: AnyExpr): string | undefined {
  switch (e.exprKind.case) {
    case "identExpr":
      return e.exprKind.value.name;
    case "selectExpr": {
      if (e.exprKind.value.testOnly || !e.exprKind.value.operand) return undefined;
      const p = qualifiedName(e.exprKind.value.operand);
      return p === undefined ? undefined : `${p}.${e.exprKind.value.field}`;
    }
    default:
      return undefined;
  }
}
