// The CEL engine of K8sNativeValidation templates. Expressions run on Portcullis's evaluator
// (fast.ts: closures compiled once per expression) when it compiles them, else on @bufbuild/cel's
// interpreter (decided at compile time); both use this environment: @bufbuild/cel (loaded on first use) with the
// Kubernetes libraries of k8slib.ts, Go-compatible RE2 regular expressions (src/builtins/re2.ts,
// linear time), a runtime cost meter, and the compile-time checks of cel-go that need no types:
// undeclared references, unknown functions, regex literals, homogeneous literals.
//
// Cost. cel-go charges every evaluation step and stops an expression past its limit with
// "operation cancelled: actual cost limit exceeded". Here every function or operator call costs
// 1 plus a tenth of the size of its string, bytes, list and map arguments (cel-go's charge for
// size-dependent functions), and every iteration of a comprehension (all, exists, map, filter,
// …) costs 1: the same order of growth as cel-go's figures, not the same numbers. The meter of
// the current evaluation is module state: evaluation is synchronous, so only one runs at a time.

import { lazyRequire } from "../../lazy.ts";
import { re2Tester, RegexSyntaxError, getRegex } from "../../builtins/re2.ts";
import { formatFloat } from "../../gotext/fmt.ts";
import type * as CelModule from "@bufbuild/cel";
import type * as CelExtModule from "@bufbuild/cel/ext";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { k8sLibraries, OPT_SELECT, OPT_INDEX, OPT_LIST, OPT_MAP, OPT_TYPE, type CelLib } from "./k8slib.ts";
import { parseCel, CelParseError, displayError, MAX_RECURSION_DEPTH, type ParseOptions } from "./parser.ts";
import { compileFast, Unsupported, UNSET_VARIABLE, type FastDeps, type FastProgram, type Frame } from "./fast.ts";
import { toCelInput, JsonMapView, JsonListView, FastList, CEL_MAP, MARK } from "./views.ts";

export { toCelInput };

const celMod = lazyRequire<typeof CelModule>("@bufbuild/cel");
const celExt = lazyRequire<typeof CelExtModule>("@bufbuild/cel/ext");

/** Kubernetes' per-expression runtime cost limit (celconfig.PerCallLimit). */
export const PER_CALL_LIMIT = 1_000_000;
/** Longest expression accepted (code points, cel-go's limit); longer ones are compile errors. */
export const MAX_EXPRESSION_LENGTH = 100_000;
/** cel-go's parser recursion limit; deeper expressions are compile errors. */
export const MAX_EXPRESSION_DEPTH = MAX_RECURSION_DEPTH;

export const COST_LIMIT_MESSAGE = "operation cancelled: actual cost limit exceeded";

/** Thrown inside an evaluation when its cost passes the limit. */
class CostLimitExceeded extends Error {
  constructor() {
    super(COST_LIMIT_MESSAGE);
  }
}

/** Thrown out of an evaluation whose caller's deadline passed or who went away (stop() said so). */
export class CelStopped extends Error {
  constructor() {
    super("evaluation stopped: deadline exceeded or caller cancelled");
  }
}

/**
 * A per-evaluation cost meter. `stop`, when given, is asked every 1,024 charges whether the
 * evaluation must end now (the review's deadline, a cancelled request).
 */
export class CostMeter {
  used = 0;
  exceeded = false;
  stopped = false;
  private calls = 0;
  constructor(
    public readonly limit: number,
    private readonly stop?: () => boolean,
  ) {}
  charge(n: number): void {
    this.used += n;
    if (this.used > this.limit) {
      this.exceeded = true;
      throw new CostLimitExceeded();
    }
    if (this.stop && (++this.calls & 1023) === 0 && this.stop()) {
      this.stopped = true;
      throw new CelStopped();
    }
  }
}

let meter: CostMeter | null = null;

/** The meter of the evaluation in progress (variables read inside an expression charge it). */
export function currentMeter(): CostMeter | null {
  return meter;
}

function sizeCost(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (v === null || typeof v !== "object") return 0; // numbers, booleans, null: no size
  if (v instanceof Uint8Array) return v.length;
  const c = celMod();
  if (c.isCelList(v) || c.isCelMap(v)) return (v as { size: number }).size;
  return 0;
}

function charge(target: unknown, args: unknown[]): void {
  if (!meter) return;
  let size = target === undefined ? 0 : sizeCost(target);
  for (const a of args) size += sizeCost(a);
  meter.charge(1 + Math.ceil(size / 10));
}

/** The name of the function the comprehension rewrite calls once per iteration. */
const TICK = "portcullis.tick";

export class CelCompileError extends Error {}

export interface CelProgram {
  source: string;
  /** Whether Portcullis's own evaluator runs it (else @bufbuild/cel's interpreter). */
  fast: boolean;
  /** cel-go's static type of the expression where it is certain (see staticType; with Declarations.types only). */
  type: string | undefined;
  /** Evaluate with top-level bindings; returns the CEL value or throws CelEvalError. */
  eval(bindings: Record<string, unknown>, m: CostMeter): unknown;
}

/** An evaluation error, with cel-go's wording where it differs from @bufbuild/cel's. */
export class CelEvalError extends Error {
  constructor(
    message: string,
    public readonly costExceeded = false,
  ) {
    super(message);
  }
}

interface Env {
  env: CelModule.CelEnv;
  /** The groups without the meter. */
  rawFind(name: string): { call(id: number, target: unknown, args: unknown[]): unknown } | undefined;
}

/** The function through which a compiled program runs inside @bufbuild/cel's evaluation context. */
const FAST = "@portcullis.fast";

let envCache: Env | null = null;

/** The environment: the standard library, strings, the Kubernetes libraries, metered calls. */
function environment(): Env {
  if (envCache) return envCache;
  const c = celMod();
  const libs: CelLib = k8sLibraries(c);
  const tick = c.celFunc(TICK, [c.CelScalar.DYN], c.CelScalar.DYN, (v: unknown) => {
    meter?.charge(1);
    return v as never;
  });
  const keys = c.celFunc(KEYS, [c.CelScalar.DYN], c.listType(c.CelScalar.DYN), (x: unknown) => {
    if (c.isCelList(x)) return Array.from({ length: (x as { size: number }).size }, (_, i) => BigInt(i)) as never;
    if (c.isCelMap(x)) return Array.from((x as ReadonlyMap<unknown, unknown>).keys()) as never;
    throw new Error("no such overload");
  });
  const mapInsert = c.celFunc(MAP_INSERT, [c.mapType(c.CelScalar.DYN, c.CelScalar.DYN), c.CelScalar.DYN, c.CelScalar.DYN], c.mapType(c.CelScalar.DYN, c.CelScalar.DYN), (m: unknown, k: unknown, v: unknown) => {
    const out = new Map((m as ReadonlyMap<unknown, unknown>).entries());
    if (out.has(k)) throw new Error(`insert failed: key ${String(k)} already exists`);
    out.set(k, v);
    return out as never;
  });
  const mapMerge = c.celFunc(MAP_MERGE, [c.mapType(c.CelScalar.DYN, c.CelScalar.DYN), c.mapType(c.CelScalar.DYN, c.CelScalar.DYN)], c.mapType(c.CelScalar.DYN, c.CelScalar.DYN), (m: unknown, n: unknown) => {
    const out = new Map((m as ReadonlyMap<unknown, unknown>).entries());
    for (const [k, v] of (n as ReadonlyMap<unknown, unknown>).entries()) {
      if (out.has(k)) throw new Error(`insert failed: key ${String(k)} already exists`);
      out.set(k, v);
    }
    return out as never;
  });
  const has = c.celFunc(HAS, [c.CelScalar.DYN, c.CelScalar.STRING], c.CelScalar.BOOL, (x: unknown, f: string) => {
    // has(o.f) on an optional o (whatever the expression's form): none has nothing, some(v) what v has
    const opt = libs.optional(x);
    if (opt) {
      if (!opt.has) return false;
      x = opt.v;
    }
    if (x instanceof JsonMapView) return x.hasKey(f);
    if (x !== null && typeof x === "object" && LAZY_MAP in x) {
      // has(variables.v) reads v (Kubernetes' lazy map finds it): a variable that fails is an error here
      const lazy = x as unknown as { has(k: unknown): boolean; get(k: unknown): unknown };
      if (!lazy.has(f)) return false;
      const v = lazy.get(f);
      if (c.isCelError(v)) throw v;
      return true;
    }
    if (c.isCelMap(x)) {
      for (const k of (x as ReadonlyMap<unknown, unknown>).keys()) if (k === f) return true;
      return false;
    }
    const msg = (x as { message?: Record<string, unknown> } | null)?.message;
    if (msg && typeof msg === "object") return Object.hasOwn(msg, f) && msg[f] !== undefined;
    // cel-go answers false for a value that has no fields (a string, a number, a list).
    return false;
  });
  const fast = c.celFunc(FAST, [], c.CelScalar.DYN, () => runCurrent() as never);
  const base = c.celEnv({
    funcs: [...celExt().strings, ...libs.funcs, tick, keys, mapInsert, mapMerge, has, fast],
    registry: libs.registry,
    re2: {
      compile(pattern: string) {
        return re2Tester(pattern);
      },
    },
  });
  // Meter every call: wrap the resolver's function groups.
  const base0 = base.funcs as unknown as { find(name: string): Group | undefined; [Symbol.iterator](): Iterator<unknown> };
  type Group = { name: string; call(id: number, target: unknown, args: unknown[]): unknown; [Symbol.iterator](): Iterator<unknown> };
  // `k in m` as cel-go answers it: a key whose value is null is in the map (@bufbuild/cel's own
  // maps answer has() false for it), and a value of a type no key has (null, a list, a map) is
  // not (@bufbuild/cel has no overload for it); bytes stay an error (cel-go fails on them too)
  const inGroup = (g: Group): Group => ({
    name: g.name,
    [Symbol.iterator]: () => g[Symbol.iterator](),
    call(id: number, target: unknown, args: unknown[]) {
      if (target === undefined && args.length === 2 && c.isCelMap(args[1])) {
        const k = args[0];
        if (isMapKey(k)) return mapHas(args[1], k);
        if (!(k instanceof Uint8Array) && !(k !== null && typeof k === "object" && c.isCelError(k))) return false;
      }
      return g.call(id, target, args);
    },
  });
  const fixedGroups = new Map<string, Group | undefined>();
  const inner = {
    [Symbol.iterator]: () => base0[Symbol.iterator](),
    find(name: string): Group | undefined {
      if (fixedGroups.has(name)) return fixedGroups.get(name);
      const g = base0.find(name);
      const f = g && name === IN ? inGroup(g) : g;
      fixedGroups.set(name, f);
      return f;
    },
  };
  const groups = new Map<string, Group | undefined>();
  const funcs = {
    ...base0,
    [Symbol.iterator]: () => inner[Symbol.iterator](),
    find(name: string) {
      if (groups.has(name)) return groups.get(name);
      const g = inner.find(name);
      const w = g && name !== TICK && name !== FAST
        ? {
            name: g.name,
            [Symbol.iterator]: () => g[Symbol.iterator](),
            call(id: number, target: unknown, args: unknown[]) {
              charge(target, args);
              // cel-go's string(double) is Go's strconv.FormatFloat(x, 'g', -1, 64).
              if (name === "string" && target === undefined && args.length === 1 && typeof args[0] === "number") return formatFloat(args[0], "g", -1);
              return g.call(id, target, args);
            },
          }
        : g;
      groups.set(name, w);
      return w;
    },
  };
  const env = Object.create(Object.getPrototypeOf(base), Object.getOwnPropertyDescriptors(base)) as CelModule.CelEnv;
  Object.defineProperty(env, "funcs", { get: () => funcs });
  envCache = { env, rawFind: (name) => inner.find(name) };
  return envCache;
}

/** CEL's `in` operator's function name. */
const IN = "@in";

/** The key types `k in m` accepts (its overloads: string, int, uint, double, bool). */
function isMapKey(k: unknown): boolean {
  switch (typeof k) {
    case "string":
    case "bigint":
    case "number":
    case "boolean":
      return true;
    case "object":
      return k !== null && celMod().isCelUint(k);
    default:
      return false;
  }
}

/**
 * Whether a CEL map holds key k, as cel-go answers: a key whose value is null is present.
 * @bufbuild/cel's maps answer has() from their get(), which misses those; get() gives null for them.
 */
export function mapHas(m: unknown, k: unknown): boolean {
  const x = m as { has(k: unknown): boolean; get(k: unknown): unknown };
  return x.has(k) || x.get(k) === null;
}

// ---- AST rewrites ----------------------------------------------------------------------------

type AnyExpr = Expr & { exprKind: { case: string | undefined; value: any } };

// ---- two-variable comprehensions (cel-go's TwoVarComprehensions, in Kubernetes since 1.32) ----
// The parser expands `l.all(i, v, p)` as cel-go does, into a comprehension with two iteration
// variables; @bufbuild/cel's evaluator has one, so it is rewritten here (twoVarComprehension).

const KEYS = "portcullis.keys";
/** has(m.f) as cel-go tests it: the key is present (a null value counts as present). */
const HAS = "portcullis.has";
const MAP_INSERT = "portcullis.mapInsert";
const MAP_MERGE = "portcullis.mapMerge";
const ACCU = "@result";

type Mk = { id: () => bigint };
const mkExpr = (m: Mk, kind: string, value: Record<string, unknown>, typeName: string): AnyExpr =>
  ({ $typeName: "cel.expr.Expr", id: m.id(), exprKind: { case: kind, value: { $typeName: typeName, ...value } } }) as unknown as AnyExpr;
const mkIdent = (m: Mk, name: string) => mkExpr(m, "identExpr", { name }, "cel.expr.Expr.Ident");
const mkCall = (m: Mk, fn: string, args: AnyExpr[], target?: AnyExpr) => mkExpr(m, "callExpr", { function: fn, args, ...(target ? { target } : {}) }, "cel.expr.Expr.Call");
const mkConst = (m: Mk, c: { case: string; value: unknown }) => mkExpr(m, "constExpr", { constantKind: c }, "cel.expr.Constant");
const mkList = (m: Mk, elements: AnyExpr[]) => mkExpr(m, "listExpr", { elements, optionalIndices: [] }, "cel.expr.Expr.CreateList");
const mkFold = (m: Mk, iterVar: string, iterRange: AnyExpr, accuInit: AnyExpr, loopCondition: AnyExpr, loopStep: AnyExpr, result: AnyExpr, accuVar = ACCU) =>
  mkExpr(m, "comprehensionExpr", { iterVar, iterVar2: "", iterRange, accuVar, accuInit, loopCondition, loopStep, result }, "cel.expr.Expr.Comprehension");

/** `body` with `v` bound to `init`. */
const mkBind = (m: Mk, v: string, init: AnyExpr, body: AnyExpr) => mkFold(m, "#unused", mkList(m, []), init, mkConst(m, { case: "boolValue", value: false }), mkIdent(m, v), body, v);

/** Whether `name` occurs as an identifier in `e`. */
function refers(e: unknown, name: string): boolean {
  if (!e || typeof e !== "object") return false;
  const x = e as AnyExpr;
  if (x.exprKind?.case === "identExpr") return x.exprKind.value.name === name;
  if (Array.isArray(e)) return e.some((y) => refers(y, name));
  return Object.values(x.exprKind ? x.exprKind.value : e).some((y) => y && typeof y === "object" && !(y instanceof Uint8Array) && refers(y, name));
}

/**
 * A two-variable comprehension (cel-go's, which @bufbuild/cel's evaluator does not know) as
 * one-variable ones: the range is evaluated once and bound to a hidden name, the first
 * variable iterates over portcullis.keys(range) (list indexes or map keys), and the second is
 * bound to range[first] around the loop step (and the condition, when it uses it).
 */
function twoVarComprehension(e: AnyExpr, m: Mk): AnyExpr {
  const c = e.exprKind.value;
  const i: string = c.iterVar;
  const v: string = c.iterVar2;
  const range = `@range${e.id}`;
  const at = () => mkCall(m, "_[_]", [mkIdent(m, range), mkIdent(m, i)]);
  const cond = refers(c.loopCondition, v) ? mkBind(m, v, at(), c.loopCondition) : c.loopCondition;
  const inner = mkFold(m, i, mkCall(m, KEYS, [mkIdent(m, range)]), c.accuInit, cond, mkBind(m, v, at(), c.loopStep), c.result, c.accuVar);
  return mkBind(m, range, c.iterRange, inner);
}

/** A tick call around every comprehension's loop condition (its cost: one per iteration). */
function rewrite(e: AnyExpr | undefined, nextId: () => bigint): void {
  if (!e) return;
  const k = e.exprKind;
  switch (k.case) {
    case "identExpr":
      if (k.value.name === "optional_type") e.exprKind = mkCall({ id: nextId }, OPT_TYPE, []).exprKind as never;
      return;
    case "selectExpr": {
      rewrite(k.value.operand, nextId);
      const m = { id: nextId };
      const field = mkConst(m, { case: "stringValue", value: k.value.field as string });
      const operand = k.value.operand as AnyExpr;
      if (k.value.testOnly) e.exprKind = mkCall(m, HAS, [operand, field]).exprKind as never;
      // a selection on an optional value is an optional selection, as in cel-go
      else if (optionalTyped(operand)) e.exprKind = mkCall(m, OPT_SELECT, [operand, field]).exprKind as never;
      return;
    }
    case "callExpr": {
      const call = k.value;
      const t = call.target as AnyExpr | undefined;
      // cel-go's map insertion of transformMap and transformMapEntry
      if (call.function === "cel.@mapInsert") call.function = call.args.length === 3 ? MAP_INSERT : MAP_MERGE;
      rewrite(t, nextId);
      for (const a of call.args) rewrite(a as AnyExpr, nextId);
      // the optional syntax: x.?f is _?._(x, "f"), l[?i] is _[?_](l, i); an index of an optional value is optional
      if (call.function === "_?._") call.function = OPT_SELECT;
      else if (call.function === "_[?_]" || (call.function === "_[_]" && !t && optionalTyped(call.args[0] as AnyExpr))) call.function = OPT_INDEX;
      return;
    }
    case "listExpr": {
      for (const a of k.value.elements) rewrite(a, nextId);
      const optional: number[] = k.value.optionalIndices;
      if (optional.length) {
        const m = { id: nextId };
        const indexes = mkList(m, optional.map((i) => mkConst(m, { case: "int64Value", value: BigInt(i) })));
        e.exprKind = mkCall(m, OPT_LIST, [mkList(m, k.value.elements), indexes]).exprKind as never;
      }
      return;
    }
    case "structExpr": {
      for (const en of k.value.entries) {
        if (en.keyKind?.case === "mapKey") rewrite(en.keyKind.value, nextId);
        rewrite(en.value, nextId);
      }
      const entries = k.value.entries as { keyKind: { case: string; value: AnyExpr }; value: AnyExpr; optionalEntry: boolean }[];
      if (entries.some((en) => en.optionalEntry) || (k.value.messageName === "" && repeatedConstantKey(entries.map((en) => en.keyKind.value)))) {
        // (@bufbuild/cel's map literal misses repeated keys of different numeric types, {0: 1, 0u: 2}: portcullis.optMap refuses them as cel-go)
        // @bufbuild/cel's evaluator ignores the optional flags: never hand it one
        if (k.value.messageName !== "") throw new CelCompileError(`optional field initializers of message ${k.value.messageName} are not supported`);
        const m = { id: nextId };
        e.exprKind = mkCall(m, OPT_MAP, [
          mkList(m, entries.map((en) => en.keyKind.value)),
          mkList(m, entries.map((en) => en.value)),
          mkList(m, entries.map((en) => mkConst(m, { case: "boolValue", value: en.optionalEntry }))),
        ]).exprKind as never;
      }
      return;
    }
    case "comprehensionExpr": {
      if (k.value.iterVar2) {
        e.exprKind = twoVarComprehension(e, { id: nextId }).exprKind;
        rewrite(e, nextId);
        return;
      }
      const c = k.value;
      for (const f of ["iterRange", "accuInit", "loopCondition", "loopStep", "result"]) rewrite(c[f], nextId);
      const cond = c.loopCondition;
      c.loopCondition = {
        $typeName: "cel.expr.Expr",
        id: nextId(),
        exprKind: { case: "callExpr", value: { $typeName: "cel.expr.Expr.Call", function: TICK, args: [cond] } },
      };
      return;
    }
  }
}

/** Whether two constant map keys are equal as CEL compares them (0 == 0u == 0.0). */
function repeatedConstantKey(keys: AnyExpr[]): boolean {
  const seen = new Set<string>();
  for (const k of keys) {
    if (k.exprKind.case !== "constExpr") continue;
    const c = k.exprKind.value.constantKind as { case: string; value: unknown };
    const norm = c.case === "int64Value" || c.case === "uint64Value" ? `n:${c.value}` : c.case === "doubleValue" && Number.isInteger(c.value) ? `n:${BigInt(c.value as number)}` : `${c.case}:${String(c.value)}`;
    if (seen.has(norm)) return true;
    seen.add(norm);
  }
  return false;
}

/**
 * Whether an expression's value is an optional, as far as its syntax tells (there is no type
 * checker): the optional syntax, optional.of/none/ofNonZeroValue, `or`, the lists extension's
 * first/last, format.named and validate, and conditionals, comprehensions and selections over
 * these.
 */
function optionalTyped(e: AnyExpr | undefined): boolean {
  if (!e) return false;
  const k = e.exprKind;
  if (k.case === "comprehensionExpr") return optionalTyped(k.value.result);
  if (k.case !== "callExpr") return false;
  const fn: string = k.value.function;
  const t = k.value.target as AnyExpr | undefined;
  if (fn === OPT_SELECT || fn === OPT_INDEX || fn === "_?._" || fn === "_[?_]") return true;
  if (fn === "_?_:_") return optionalTyped(k.value.args[1]) || optionalTyped(k.value.args[2]);
  if (!t) return false;
  const q = t.exprKind.case === "identExpr" ? (t.exprKind.value.name as string) : null;
  if (q === "optional") return fn === "of" || fn === "none" || fn === "ofNonZeroValue";
  if (q === "format" && fn === "named") return true;
  if (fn === "or") return optionalTyped(t);
  return (fn === "first" || fn === "last" || fn === "validate") && k.value.args.length === (fn === "validate" ? 1 : 0);
}

function maxId(e: AnyExpr | undefined): bigint {
  if (!e || typeof e !== "object") return 0n;
  let m = typeof e.id === "bigint" ? e.id : 0n;
  const visit = (x: unknown) => {
    if (x && typeof x === "object") {
      if ((x as AnyExpr).exprKind) {
        const v = maxId(x as AnyExpr);
        if (v > m) m = v;
      } else if (Array.isArray(x)) for (const y of x) visit(y);
      else for (const y of Object.values(x)) visit(y);
    }
  };
  visit(e.exprKind?.value);
  return m;
}

/** What an expression may refer to: its variables, and the fields of the typed ones. */
export interface Declarations {
  /** Top-level variable names (object, request, …). */
  vars: ReadonlySet<string>;
  /** For typed variables (variables, request): the fields that exist. */
  fields?: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * The slots of `variables.<name>`: Portcullis's evaluator reads `variables.x` as slot x of
   * the function the bindings carry under VARIABLE_SLOTS (else as a selection on `variables`).
   */
  slots?: ReadonlyMap<string, number>;
  /**
   * Static types known (see CelProgram.type): the top-level names of type dyn (`object`,
   * `oldObject`, `params`: documents without a schema) and the variables' types where known
   * (`variables.anyObject` is dyn).
   */
  types?: { dynVars: ReadonlySet<string>; variables: ReadonlyMap<string, string> };
}

/** cel-go's names of the constants' types. */
const CONST_TYPE_NAMES: Record<string, string> = { int64Value: "int", uint64Value: "uint", doubleValue: "double", stringValue: "string", boolValue: "bool", bytesValue: "bytes", nullValue: "null_type" };
/** Functions whose every overload gives one type: the conversions and size. */
const CALL_TYPES: Record<string, string> = { size: "int", int: "int", uint: "uint", double: "double", string: "string", bytes: "bytes", bool: "bool", dyn: "dyn" };

/**
 * cel-go's static type of an expression (its checker's name: `int`, `dyn`, `null_type`), where
 * it is certain without a type checker, else undefined: constants; a selection or index of a
 * dyn value (`object.spec.x`, `object['spec']`), dyn names and variables of a known type; the
 * conversions, `dyn(x)` and `size`; a conditional whose branches have one known type, or a dyn
 * branch (the join of dyn and any type is dyn). Read on the parsed tree, before the rewrites.
 */
function staticType(e: AnyExpr | undefined, types: NonNullable<Declarations["types"]>): string | undefined {
  if (!e) return undefined;
  const k = e.exprKind;
  switch (k.case) {
    case "constExpr":
      return CONST_TYPE_NAMES[k.value.constantKind?.case as string];
    case "identExpr":
      return types.dynVars.has(k.value.name) ? "dyn" : undefined;
    case "selectExpr": {
      if (k.value.testOnly) return "bool";
      const op = k.value.operand as AnyExpr;
      if (op.exprKind.case === "identExpr" && op.exprKind.value.name === "variables") return types.variables.get(k.value.field);
      return staticType(op, types) === "dyn" ? "dyn" : undefined;
    }
    case "callExpr": {
      const fn: string = k.value.function;
      const args = k.value.args as AnyExpr[];
      if (k.value.target) return fn === "size" && args.length === 0 ? "int" : undefined;
      if (args.length === 1 && Object.hasOwn(CALL_TYPES, fn)) return CALL_TYPES[fn];
      if (fn === "_[_]" && args.length === 2) return staticType(args[0], types) === "dyn" ? "dyn" : undefined;
      if (fn === "_?_:_" && args.length === 3) {
        const a = staticType(args[1], types);
        const b = staticType(args[2], types);
        if (a === "dyn" || b === "dyn") return "dyn";
        return a !== undefined && a === b ? a : undefined;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Where bindings may carry `(slot) => value of variable slot`, the variables of Declarations.slots. */
export const VARIABLE_SLOTS = Symbol("portcullis.celVariableSlots");
/** Where such bindings carry the size of their `variables` map (what a call on it is charged for). */
export const VARIABLE_COUNT = Symbol("portcullis.celVariableCount");
/**
 * Where such bindings may carry the values of the variables computed so far, by slot
 * (VARIABLE_UNSET for the others): read without a call of the VARIABLE_SLOTS function. The
 * function stays the way to a value not in it.
 */
export const VARIABLE_VALUES = Symbol("portcullis.celVariableValues");
export { UNSET_VARIABLE as VARIABLE_UNSET };

/** Type names that are identifiers in CEL (int, string, …: `type(x) == int`). */
const TYPE_IDENTS = new Set(["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn", "google", "kubernetes", "optional_type"]);

/** cel-go's report of an error at an offset: "ERROR: <input>:L:C: msg" with the line and a caret. */
const errorAt = displayError;

/** Undeclared references and unknown fields of typed variables, as cel-go's checker reports them. */
const CONST_TYPES: Record<string, string> = { int64Value: "int", uint64Value: "uint", doubleValue: "double", stringValue: "string", boolValue: "bool", bytesValue: "bytes", nullValue: "null" };
const TWO_VAR_MACROS = new Set(["all", "exists", "existsOne", "exists_one", "transformList", "transformMap", "transformMapEntry"]);

function checkReferences(root: AnyExpr, source: string, positions: Record<string, number>, decl: Declarations, qualifiedFuncs: ReadonlySet<string>, funcNames: ReadonlySet<string>): string[] {
  const errs: { at: number; text: string }[] = [];
  const exempt = new Set<AnyExpr>();
  const pos = (e: AnyExpr) => positions[String(e.id)] ?? 0;
  const qname = (e: AnyExpr | undefined): string | null => {
    if (!e) return null;
    if (e.exprKind.case === "identExpr") return e.exprKind.value.name;
    if (e.exprKind.case === "selectExpr" && !e.exprKind.value.testOnly) {
      const p = qname(e.exprKind.value.operand);
      return p === null ? null : `${p}.${e.exprKind.value.field}`;
    }
    return null;
  };
  const visit = (e: AnyExpr | undefined, scope: ReadonlySet<string>): void => {
    if (!e) return;
    const k = e.exprKind;
    switch (k.case) {
      case "identExpr": {
        const n: string = k.value.name;
        if (!scope.has(n) && !decl.vars.has(n) && !TYPE_IDENTS.has(n)) errs.push({ at: pos(e), text: errorAt(source, pos(e), `undeclared reference to '${n}' (in container '')`) });
        return;
      }
      case "selectExpr": {
        const op = k.value.operand as AnyExpr;
        if (op.exprKind.case === "identExpr" && !scope.has(op.exprKind.value.name)) {
          const fields = decl.fields?.get(op.exprKind.value.name);
          if (fields && decl.vars.has(op.exprKind.value.name) && !fields.has(k.value.field)) {
            errs.push({ at: pos(e), text: errorAt(source, pos(e), `undefined field '${k.value.field}'`) });
            return;
          }
        }
        visit(op, scope);
        return;
      }
      case "callExpr": {
        const fn: string = k.value.function;
        const t = k.value.target as AnyExpr | undefined;
        const args = k.value.args as AnyExpr[];
        if (fn === HAS && args[0]?.exprKind.case === "identExpr" && !scope.has(args[0].exprKind.value.name)) {
          const fields = decl.fields?.get(args[0].exprKind.value.name);
          const field = args[1]?.exprKind.value.constantKind?.value as string;
          if (fields && decl.vars.has(args[0].exprKind.value.name) && !fields.has(field)) {
            errs.push({ at: pos(e), text: errorAt(source, pos(e), `undefined field '${field}'`) });
            return;
          }
        }
        const q = qname(t);
        const qualified = q !== null && !scope.has(q.split(".")[0]) && qualifiedFuncs.has(`${q}.${fn}`);
        if (!qualified) visit(t, scope);
        if (!qualified && !fn.startsWith("_") && !fn.startsWith("@") && !funcNames.has(fn)) {
          // cel-go places a member call at its "(".
          let at = pos(e);
          if (t) {
            const paren = source.indexOf("(", at);
            if (paren >= 0) at = paren;
          }
          if (t && TWO_VAR_MACROS.has(fn)) {
            errs.push({ at, text: errorAt(source, at, `found no matching overload for '${fn}' with ${k.value.args.length} arguments`) });
            return;
          }
          errs.push({ at, text: errorAt(source, at, `undeclared reference to '${fn}' (in container '')`) });
        }
        if (fn === "matches" && !qualified) {
          const lit = (t ? args[0] : args[1]) as AnyExpr | undefined;
          if (lit && lit.exprKind.case === "constExpr" && lit.exprKind.value.constantKind.case === "stringValue") {
            try {
              getRegex(lit.exprKind.value.constantKind.value);
            } catch (err) {
              if (!(err instanceof RegexSyntaxError)) throw err;
              errs.push({ at: pos(lit), text: errorAt(source, pos(lit), "invalid matches argument") });
            }
          }
        }
        // cel-go exempts the argument list of format() from the homogeneity check.
        if (fn === "format") for (const a of args) if (a.exprKind.case === "listExpr") exempt.add(a);
        for (const a of args) visit(a, scope);
        return;
      }
      case "listExpr": {
        if (!exempt.has(e)) homogeneous(k.value.elements as AnyExpr[]);
        for (const a of k.value.elements) visit(a, scope);
        return;
      }
      case "structExpr":
        homogeneous(k.value.entries.filter((en: any) => en.keyKind?.case === "mapKey").map((en: any) => en.keyKind.value));
        homogeneous(k.value.entries.map((en: any) => en.value));
        for (const en of k.value.entries) {
          if (en.keyKind?.case === "mapKey") visit(en.keyKind.value, scope);
          visit(en.value, scope);
        }
        return;
      case "comprehensionExpr": {
        const c = k.value;
        visit(c.iterRange, scope);
        visit(c.accuInit, scope);
        const inner = new Set(scope);
        inner.add(c.iterVar);
        if (c.iterVar2) inner.add(c.iterVar2);
        inner.add(c.accuVar);
        visit(c.loopCondition, inner);
        visit(c.loopStep, inner);
        const res = new Set(scope);
        res.add(c.accuVar);
        visit(c.result, res);
        return;
      }
    }
  };
  // Aggregate literals must be homogeneous (Kubernetes' HomogeneousAggregateLiterals): checked
  // here for literal constants, the only elements whose types are known without a type checker.
  function homogeneous(items: AnyExpr[]): void {
    let first: string | null = null;
    for (const it of items) {
      if (!it || it.exprKind.case !== "constExpr") continue;
      const t = CONST_TYPES[it.exprKind.value.constantKind.case as string];
      if (!t) continue;
      if (first === null) first = t;
      else if (t !== first) errs.push({ at: pos(it), text: errorAt(source, pos(it), `expected type '${first}' but found '${t}'`) });
    }
  }
  visit(root, new Set());
  return errs.sort((a, b) => a.at - b.at).map((x) => x.text);
}

let nameCache: { qualified: Set<string>; all: Set<string> } | null = null;

/** The environment's function names: qualified ones (sets.contains) and all. */
function functionNames(): { qualified: Set<string>; all: Set<string> } {
  if (nameCache) return nameCache;
  const { env } = environment();
  const qualified = new Set<string>();
  const all = new Set<string>();
  for (const f of env.funcs as unknown as Iterable<{ name: string }>) {
    all.add(f.name);
    if (f.name.includes(".")) qualified.add(f.name);
  }
  nameCache = { qualified, all };
  return nameCache;
}

/**
 * Compile an expression; throws CelCompileError with a cel-go-like message. With `decl`, names
 * the expression may not use are compile errors, as in cel-go's checker.
 */
export function compile(source: string, decl?: Declarations, syntax: ParseOptions = {}): CelProgram {
  const c = celMod();
  const { env } = environment();
  let parsed: { expr: Expr };
  try {
    // Portcullis's parser (parser.ts): cel-go's grammar, trees and errors. Kubernetes turns the
    // optional syntax on and leaves backtick-quoted field names off.
    parsed = parseCel(source, { identEscape: false, optionalSyntax: true, ...syntax }) as unknown as { expr: Expr };
  } catch (e) {
    if (e instanceof CelParseError) throw new CelCompileError(e.issues.map((i) => displayError(source, i.offset, i.message)).join("\n"));
    throw e;
  }
  const root = parsed.expr as AnyExpr;
  const type = decl?.types !== undefined ? staticType(root, decl.types) : undefined;
  let id = maxId(root);
  rewrite(root, () => ++id);
  if (decl) {
    const names = functionNames();
    const errs = checkReferences(root, source, (parsed as unknown as { sourceInfo?: { positions?: Record<string, number> } }).sourceInfo?.positions ?? {}, decl, names.qualified, names.all);
    if (errs.length) throw new CelCompileError(errs.join("\n"));
  }
  let run: (ctx?: Record<string, unknown>) => unknown;
  try {
    run = c.plan(env, root) as never;
  } catch (e) {
    throw new CelCompileError(`ERROR: <input>: ${(e as Error).message}`);
  }
  // Portcullis's evaluator (fast.ts) when it compiles the whole expression; else @bufbuild/cel's.
  let fast: FastProgram | null = null;
  if (fastEnabled) {
    try {
      fast = compileFast(root as never, fastDeps(), decl?.vars, decl?.slots);
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
    }
  }
  if (fast) fastStats.compiled++;
  else fastStats.fallback++;
  const fastProgram = fast;
  const checkBindings = !decl;
  /** A frame of the program's not in use (evaluation is synchronous: one is enough but for a program running inside itself). */
  let spare: Frame | null = null;
  return {
    source,
    fast: fastProgram !== null,
    type,
    eval(bindings, m) {
      const prev = meter;
      meter = m;
      let r: unknown;
      try {
        if (fastProgram && (!checkBindings || bindingsFit(bindings, fastProgram))) {
          fastStats.fastEvals++;
          const v = (bindings as { [VARIABLE_SLOTS]?: (slot: number) => unknown })[VARIABLE_SLOTS];
          const vn = (bindings as { [VARIABLE_COUNT]?: number })[VARIABLE_COUNT];
          const vv = v !== undefined ? (bindings as { [VARIABLE_VALUES]?: readonly unknown[] })[VARIABLE_VALUES] : undefined;
          if (contextDepth > 0) {
            // inside @bufbuild/cel's evaluation context already (inEvalContext): the program is
            // called directly, its error or value taken as the planned call below would give them;
            // its frame is the program's spare one unless the program is running already
            let frame = spare;
            if (frame !== null) {
              spare = null;
              frame.b = bindings;
              frame.v = v;
              frame.vn = vn;
              frame.vv = vv;
            } else frame = { b: bindings, l: fastProgram.slots ? new Array(fastProgram.slots) : EMPTY_SLOTS, v, vn, vv };
            let thrown = false;
            try {
              r = fastProgram.run(frame);
            } catch (e) {
              r = c.celError(e);
              thrown = true;
            } finally {
              // nothing of this evaluation kept by the spare frame
              frame.b = NO_BINDINGS;
              frame.v = undefined;
              frame.vn = undefined;
              frame.vv = undefined;
              if (frame.l.length) frame.l.fill(undefined);
              spare = frame;
            }
            if (!thrown && !plainValue(r)) {
              const v = r;
              r = throughTrampoline(() => v);
            }
          } else {
            const frame: Frame = { b: bindings, l: fastProgram.slots ? new Array(fastProgram.slots) : EMPTY_SLOTS, v, vn, vv };
            r = throughTrampoline(() => fastProgram.run(frame));
          }
        } else {
          fastStats.slowEvals++;
          r = run(bindings);
        }
      } catch (e) {
        if (m.stopped) throw new CelStopped();
        if (m.exceeded) throw new CelEvalError(COST_LIMIT_MESSAGE, true);
        if (e instanceof CelEvalError || e instanceof CelStopped) throw e;
        throw new CelEvalError(goErrorText(e as Error));
      } finally {
        meter = prev;
      }
      if (m.stopped) throw new CelStopped();
      if (m.exceeded) throw new CelEvalError(COST_LIMIT_MESSAGE, true);
      if (r instanceof Error && c.isCelError(r)) {
        const cause = (r as { cause?: unknown }).cause;
        if (cause instanceof CelEvalError) throw cause;
        if (cause instanceof RegexSyntaxError) throw new CelEvalError(cause.message);
        throw new CelEvalError(goErrorText(r));
      }
      return r;
    },
  };
}

// ---- Portcullis's evaluator (fast.ts) -------------------------------------------------------

let fastEnabled = process.env.PORTCULLIS_CEL_EVALUATOR !== "bufbuild";

/** Choose the evaluator of expressions compiled from now on: Portcullis's own (default) or always @bufbuild/cel's. */
export function useFastEvaluator(on: boolean): void {
  fastEnabled = on;
}

/** Counts: expressions compiled for each evaluator, evaluations run on each. */
export const fastStats = { compiled: 0, fallback: 0, fastEvals: 0, slowEvals: 0 };

const EMPTY_SLOTS: unknown[] = [];
const NO_BINDINGS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
/** What the planned call of FAST runs. */
let current: (() => unknown) | null = null;

function runCurrent(): unknown {
  return current!();
}

/** The planned call of FAST running `run`: its value (converted as the interpreter converts a function's result) or its error as a CelError value. */
function throughTrampoline(run: () => unknown): unknown {
  const prev = current;
  current = run;
  try {
    return trampoline()();
  } finally {
    current = prev;
  }
}

/** How many inEvalContext calls are running (evaluation is synchronous). */
let contextDepth = 0;

/**
 * Run `fn` inside @bufbuild/cel's evaluation context (what its functions read for values that are
 * protobuf messages), entered once for the many evaluations `fn` makes: inside it, programs of
 * Portcullis's evaluator are called directly, not each through a planned call of the
 * interpreter. `fn`'s value or exception is `inEvalContext`'s.
 */
export function inEvalContext<T>(fn: () => T): T {
  if (contextDepth > 0) return fn();
  let ran = false;
  let failed = false;
  let error: unknown;
  let value: T | undefined;
  throughTrampoline(() => {
    ran = true;
    contextDepth++;
    try {
      value = fn();
    } catch (e) {
      failed = true;
      error = e;
    } finally {
      contextDepth--;
    }
    return null;
  });
  if (!ran) throw new Error("internal error: the CEL evaluation context was not entered");
  if (failed) throw error;
  return value as T;
}

/**
 * A value the planned call of FAST would give back as it is (the function's result converted by
 * @bufbuild/cel's toCel, and unwrapAny): primitives, null, the views and lists of Portcullis,
 * and @bufbuild/cel's lists, maps and uints. Anything else takes the planned call's conversion.
 */
function plainValue(v: unknown): boolean {
  switch (typeof v) {
    case "boolean":
    case "string":
    case "bigint":
    case "number":
      return true;
    case "object": {
      if (v === null || v instanceof JsonMapView || v instanceof JsonListView || v instanceof FastList || v instanceof Uint8Array) return true;
      if (v instanceof Error) return false;
      const c = celMod();
      return c.isCelList(v) || c.isCelMap(v) || c.isCelUint(v);
    }
    default:
      return false;
  }
}

let trampolineFn: ((ctx?: Record<string, unknown>) => unknown) | null = null;

/** A planned call of FAST: the program runs inside @bufbuild/cel's evaluation context, and its result or error comes back as the interpreter's would. */
function trampoline(): (ctx?: Record<string, unknown>) => unknown {
  if (trampolineFn) return trampolineFn;
  const m = { id: (() => { let i = 0n; return () => ++i; })() };
  trampolineFn = celMod().plan(environment().env, mkCall(m, FAST, []) as never) as never;
  return trampolineFn!;
}

const delegated = new Map<string, (ctx?: Record<string, unknown>) => unknown>();

/** @bufbuild/cel's own answer for one selection or index (on a value fast.ts does not know: a protobuf message, an optional). */
function delegate(key: string, build: (m: Mk) => AnyExpr, ctx: Record<string, unknown>): unknown {
  let p = delegated.get(key);
  if (!p) {
    let i = 0n;
    p = celMod().plan(environment().env, build({ id: () => ++i }) as never) as never;
    delegated.set(key, p!);
  }
  return p!(ctx);
}

let deps: FastDeps | null = null;

function fastDeps(): FastDeps {
  if (deps) return deps;
  const c = celMod();
  const { env, rawFind } = environment();
  const funcs = env.funcs as unknown as { find(name: string): FastDeps["find"] extends (n: string) => infer R ? R : never };
  deps = {
    cel: c,
    find: (name) => funcs.find(name),
    findRaw: rawFind,
    charge,
    chargeN: (n) => meter?.charge(n),
    sizeCost,
    viewHasKey: (x, f) => (x instanceof JsonMapView ? x.hasKey(f) : undefined),
    delegateSelect: (v, field) => delegate(`s:${field}`, (m) => mkExpr(m, "selectExpr", { operand: mkIdent(m, "_x"), field, testOnly: false }, "cel.expr.Expr.Select"), { _x: v }),
    delegateIndex: (v, key) => delegate("i", (m) => mkCall(m, "_[_]", [mkIdent(m, "_x"), mkIdent(m, "_k")]), { _x: v, _k: key }),
    names: { tick: TICK, has: HAS },
  };
  return deps;
}

/**
 * Whether bindings given without declarations suit the compiled program: every name it reads is
 * bound to a CEL value, and no name is dotted (`a.b`, which the interpreter would resolve before
 * selecting b of a). Otherwise the evaluation runs on @bufbuild/cel.
 */
function bindingsFit(b: Record<string, unknown>, p: FastProgram): boolean {
  const c = celMod();
  for (const k in b) if (k.includes(".")) return false;
  for (const name of p.free) {
    const v = b[name];
    if (v === undefined) return false;
    if (v === null || typeof v !== "object") {
      if (typeof v === "symbol" || typeof v === "function") return false;
      continue;
    }
    if (!(v instanceof Uint8Array || c.isCelList(v) || c.isCelMap(v) || c.isCelUint(v) || c.isCelType(v) || c.isCelError(v))) return false;
  }
  return true;
}

/** cel-go's wording for the errors whose text differs. */
function goErrorText(e: Error): string {
  let msg = e.message;
  let m: RegExpExecArray | null;
  if ((m = /^field not found: (.*)$/.exec(msg))) return `no such key: ${m[1]}`;
  if ((m = /^key not found: (.*)$/.exec(msg))) return `no such key: ${m[1]}`;
  if (/^int divide by zero$|^divide by zero$/.test(msg)) return "division by zero";
  if ((m = /^index (-?\d+) out of bounds/.exec(msg))) return `index out of bounds: ${m[1]}`;
  if (/^Cannot convert .* to a BigInt/.test(msg)) return "type conversion error from 'string' to 'int'";
  if (/^int modulus by zero$|^modulus by zero$/.test(msg)) return "modulus by zero";
  if (/^unbound function: /.test(msg) || /^found no matching overload for /.test(msg)) return "no such overload";
  // a non-bool operand of && or || (and of all()/exists()' steps): cel-go has no overload for it
  if (/^type mismatch: expected bool, got /.test(msg)) return "no such overload";
  if (/^unresolved attribute/.test(msg)) msg = msg.replace(/^unresolved attribute/, "no such attribute");
  return msg;
}

// ---- values ----------------------------------------------------------------------------------

/** A CEL value as plain JSON-like data (for messages and tests). */
export function fromCel(v: unknown): unknown {
  const c = celMod();
  if (v === null || typeof v !== "object") return v;
  if (c.isCelList(v)) return Array.from(v as Iterable<unknown>, fromCel);
  if (c.isCelMap(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of (v as ReadonlyMap<unknown, unknown>).entries()) o[String(k)] = fromCel(x);
    return o;
  }
  if (c.isCelUint(v)) return (v as { value: bigint }).value;
  return v;
}


/** The mark of lazyMap's maps (portcullis.has reads the member it tests). */
const LAZY_MAP = Symbol("portcullis.lazyMap");

/**
 * An evaluation error as a CEL value (what a failing variable is where an expression reads it):
 * `||`, `&&` and `?:` absorb it as any error, and an expression it ends throws `e`.
 */
export function celErrorValue(e: CelEvalError): unknown {
  return celMod().celError(e);
}

/**
 * Wrap a lazily computed map of named values (the `variables` of a policy) as a CEL map: each
 * value is computed on its first read and kept. `defined` answers which names exist (a map or
 * set of the names, built once by the caller). A value may be an error (celErrorValue): an
 * expression that reads it gets that error.
 */
export function lazyMap(names: readonly string[], defined: { has(name: string): boolean }, get: (name: string) => unknown): unknown {
  const cache = new Map<string, unknown>();
  // a CEL map itself (the marker), not wrapped by celMap(): a member may be an error value,
  // which @bufbuild/cel's own map would refuse to convert
  const m = {
    [CEL_MAP]: MARK,
    [LAZY_MAP]: true,
    get size() {
      return names.length;
    },
    get(k: unknown) {
      if (typeof k !== "string" || !defined.has(k)) return undefined;
      let v = cache.get(k);
      if (v === undefined && !cache.has(k)) {
        v = get(k);
        cache.set(k, v);
      }
      return v;
    },
    has(k: unknown) {
      return typeof k === "string" && defined.has(k);
    },
    keys: () => names[Symbol.iterator](),
    *values() {
      for (const n of names) yield m.get(n);
    },
    *entries() {
      for (const n of names) yield [n, m.get(n)] as [string, unknown];
    },
    forEach(cb: (v: unknown, k: string, map: unknown) => void) {
      for (const n of names) cb(m.get(n), n, m);
    },
    [Symbol.iterator]() {
      return m.entries();
    },
  };
  return m;
}
