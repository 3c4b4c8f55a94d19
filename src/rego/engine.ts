// The core Engine: modules and data in, OPA-shaped result sets out.
//
// Modules are parsed when added (parse errors are thrown there) and compiled together by
// `compile()`, which the first query runs implicitly: the order in which modules were added
// never changes a result, as in OPA. `prepare(query)` compiles a query once against the current
// **snapshot** (compiled rule tree + base data + builtins) and returns an immutable
// PreparedQuery (OPA's PrepareForEval): adding modules or data afterwards makes a new snapshot
// and never changes a query already prepared or running. An evaluation runs synchronously; only
// when a builtin needs I/O (http.send, net.lookup_ip_addr) does it return a Promise: the
// evaluation is suspended, the I/O awaited, and the query run again on the same snapshot with the
// result cached.
//
// Builtins are per engine: the core knows none by itself. `src/engine/` gives OPA's set as the
// default (what `import { Engine } from "portcullis"` is), hosts add theirs to their own engines
// only, and `capabilities` restricts the set at compile time (as `opa build --capabilities`).
//
// Nothing here writes to stdout or stderr: `print` output goes to the print hook (dropped when
// none is set, as in OPA's library), and there is no hidden deadline: an evaluation stops only at
// its own `deadline`/`timeoutMs`, its AbortSignal or its cancel flag.

import type { Module, Body, Location } from "./ast.ts";
import { parseModule, parseQuery } from "./parser.ts";
import { Compiler, type CompiledQuery } from "./compiler.ts";
import { Ctx, tooDeep, checkStop, type TreeNode, type Frame, type EvalHooks } from "./eval.ts";
import { RegoError, asRegoError } from "./errors.ts";
import { strictErrors, pickStagedErrors, classifyStage, SUPERSEDED, type StagedError } from "./strict.ts";
import type { Value } from "./value.ts";
import { fromJS, toJS, emptyObject, objectEntries, makeObject, isObject, objectGet, ValueDepthError, expandedSize, BigDec, RSet, ObjMap, type ExpandedSize, type ConversionGuard } from "./value.ts";
import type { Tracer, TraceEvent, NoteContext } from "./trace.ts";
import { schemaType, SchemaError } from "./schema.ts";
import type { Ty } from "./types.ts";
import { AsyncSuspend, DEFAULT_LIMITS, type Builtin, type BuiltinContext, type BuiltinTable, type EvalLimits } from "./builtin.ts";

/** OPA's capabilities document (the parts that restrict an engine). */
export interface Capabilities {
  builtins?: { name: string }[];
  /** Hosts http.send and net.lookup_ip_addr may reach (absent: any; [] : none). */
  allow_net?: string[];
}

export type PrintHook = (line: string, location?: Location) => void;

export interface EngineOptions {
  regoVersion?: "v0" | "v1";
  strictBuiltinErrors?: boolean;
  /** The builtins this engine may call (the core has none; `src/engine/` defaults to OPA's set). */
  builtins?: BuiltinTable | Iterable<Builtin>;
  /** Restrict the builtins to those the capabilities list (unknown calls: rego_type_error). */
  capabilities?: Capabilities | string[];
  /** Where `print` output goes (default: nowhere, as in OPA's library). */
  printHook?: PrintHook;
  /** Old name of printHook. */
  print?: PrintHook;
  /** A deadline for every evaluation, in milliseconds (default: none). */
  timeoutMs?: number;
  /** Evaluation limits (defaults: DEFAULT_LIMITS). */
  limits?: Partial<EvalLimits>;
  /** The value of `opa.runtime()` (default: an empty object: no environment reaches a policy). */
  runtime?: unknown;
  /**
   * Instrumentation for coverage and tracing (portcullis verify --coverage): compiled into the
   * rule closures when set, so it costs nothing when absent. Fixed for the engine's lifetime.
   */
  hooks?: EvalHooks;
  /**
   * JSON Schemas for the type check (opa's `-s`): `input` types the input document; the others,
   * named by their annotation path (`schema.kubernetes.pod`), are what `# METADATA schemas:`
   * annotations refer to. Fixed for the engine's lifetime. See src/rego/schema.ts.
   */
  schemas?: Record<string, unknown>;
}

/**
 * An input document converted to the value model once, for many queries (a host evaluating one
 * document against many policies): `input` given as a PreparedInput is used as it is, not checked
 * and converted again by each query. The conversion throws what a query's would (RegoError).
 */
export class PreparedInput {
  private constructor(readonly value: Value) {}

  /** The document as a query would convert it (fromJS); throws the query's RegoError when it cannot. */
  static of(x: unknown): PreparedInput {
    return new PreparedInput(inputValue(x));
  }

  /** An object whose members are prepared inputs (no member is converted again). */
  static object(members: Record<string, PreparedInput>): PreparedInput {
    const o: Record<string, Value> = {};
    for (const k of Object.keys(members)) o[k] = members[k].value;
    return new PreparedInput(o as Value);
  }
}

/** fromJS for a query's input, with the query's errors. */
function inputValue(x: unknown): Value {
  try {
    return fromJS(x);
  } catch (e) {
    if (e instanceof ValueDepthError) throw RegoError.single("invalid_argument", `input: ${e.message}`);
    throw asRegoError(e, "eval_internal_error");
  }
}

export interface QueryOptions {
  /** The input document (JSON-like JavaScript, or a PreparedInput). */
  input?: unknown;
  /** Override the engine's strict builtin errors setting for this evaluation. */
  strictBuiltinErrors?: boolean;
  /** Stop after this many milliseconds (eval_cancel_error). */
  timeoutMs?: number;
  /** Stop at this time (milliseconds since the epoch, as Date.now()). */
  deadline?: number;
  /** Stop when this signal is aborted (eval_cancel_error), also while awaiting I/O. */
  signal?: AbortSignal;
  /**
   * Cancel flag shared with another thread (an Int32Array over a SharedArrayBuffer): evaluation
   * stops with eval_cancel_error once element 0 is non-zero. For worker pools, where an
   * AbortSignal cannot cross threads.
   */
  cancel?: Int32Array;
  /** Fixed time for time.now_ns (nanoseconds since the epoch). */
  nowNs?: bigint;
  /** Where this evaluation's `print` output goes (overrides the engine's print hook). */
  print?: PrintHook;
  /** Extra state for host builtins (conftest, gatekeeper). */
  host?: Record<string, unknown>;
  /**
   * Receives the evaluation's trace events (Enter, Eval, Exit, Redo, Fail, Note, Index, Unify; see
   * trace.ts for printers). The first traced evaluation of an engine state compiles an
   * instrumented copy of the rules; evaluations without a tracer never run it.
   */
  tracer?: Tracer;
  /**
   * How `query`/`eval` return numbers JavaScript cannot hold exactly. `true` (the default): an
   * integer beyond ±2^53 is a `bigint` (exact; `JSON.stringify` refuses it rather than printing a
   * rounded number); a decimal is the nearest double, as `JSON.parse` reads it.
   * `false`: the nearest JS number (lossy, `Infinity` past the double range). `queryRaw`/`evalRaw`
   * always return the value model, exact.
   */
  exactNumbers?: boolean;
}

export type EvalOptions = QueryOptions;

export interface ResultExpression {
  value: unknown;
  text: string;
  location: { row: number; col: number };
}

export interface Result {
  expressions: ResultExpression[];
  bindings: Record<string, unknown>;
}

/** A result with values kept in Portcullis's value model (exact numbers, sets). */
export interface RawResult {
  expressions: Value[];
  bindings: Map<string, Value>;
}

/** The compiled rules of one set of modules, and their traced copy once one is needed. */
interface Compiled {
  compiler: Compiler;
  root: TreeNode;
  mods: Module[];
  traced: { compiler: Compiler; root: TreeNode } | null;
}

/** One compiled state of an engine: never changed once made (but for its traced copy, made on demand). */
interface Snapshot {
  readonly compiler: Compiler;
  readonly root: TreeNode;
  readonly compiled: Compiled;
  readonly data: Value;
  /** Prepared queries of this snapshot, by text. */
  readonly prepared: Map<string, PreparedQuery>;
}

export class Engine {
  readonly regoVersion: "v0" | "v1";
  readonly strictBuiltinErrors: boolean;
  /** The builtins this engine's policies may call (after capabilities). */
  readonly builtins: BuiltinTable;
  private opts: EngineOptions;
  private modules = new Map<string, Module>();
  private data: Value = emptyObject();
  /** The compiled rule tree of the current modules (null: modules changed since). */
  private compiled: Compiled | null = null;
  /** The current snapshot (null: modules or data changed since). */
  private snap: Snapshot | null = null;
  private readonly allowNet: readonly string[] | undefined;
  private readonly limits: EvalLimits;
  private readonly runtimeValue: Value;

  constructor(opts: EngineOptions = {}) {
    this.opts = opts;
    this.regoVersion = opts.regoVersion ?? "v1";
    this.strictBuiltinErrors = opts.strictBuiltinErrors ?? false;
    let table: Map<string, Builtin>;
    if (opts.builtins === undefined) table = new Map();
    else if (opts.builtins instanceof Map) table = new Map(opts.builtins as BuiltinTable);
    else table = new Map(Array.from(opts.builtins as Iterable<Builtin>, (b) => [b.name, b] as [string, Builtin]));
    const caps = opts.capabilities;
    if (caps !== undefined) {
      const names = new Set(Array.isArray(caps) ? caps : (caps.builtins ?? []).map((b) => b.name));
      for (const name of Array.from(table.keys())) if (!names.has(name) && !name.startsWith("internal.")) table.delete(name);
      if (!Array.isArray(caps) && caps.allow_net !== undefined) this.allowNet = [...caps.allow_net];
    }
    this.builtins = table;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.runtimeValue = fromJS(opts.runtime ?? {});
  }

  /** Parse and add a module (replacing one with the same file name). Throws parse errors only. */
  addModule(file: string, source: string, opts: { regoVersion?: "v0" | "v1" } = {}): Module {
    const m = parseModule(file, source, { regoVersion: opts.regoVersion ?? this.regoVersion });
    this.setModule(m);
    return m;
  }

  /**
   * Parse and add several modules: `{file: source}` or `[{file, source, regoVersion?}]`. Parse
   * errors of all of them are thrown together; nothing is added when any fails to parse.
   */
  addModules(files: Record<string, string> | { file: string; source: string; regoVersion?: "v0" | "v1" }[]): Module[] {
    const list = Array.isArray(files) ? files : Object.entries(files).map(([file, source]) => ({ file, source, regoVersion: undefined }));
    const added: Module[] = [];
    const errors: RegoError[] = [];
    for (const f of list) {
      try {
        added.push(parseModule(f.file, f.source, { regoVersion: f.regoVersion ?? this.regoVersion }));
      } catch (e) {
        if (e instanceof RegoError) errors.push(e);
        else throw e;
      }
    }
    if (errors.length) throw new RegoError(errors.flatMap((e) => e.errors));
    for (const m of added) this.setModule(m);
    return added;
  }

  /** Add already-parsed modules (tools that parse, then rewrite, modules). */
  addParsedModules(ms: Module[]): void {
    for (const m of ms) this.setModule(m);
  }

  /** Add an already-parsed module (used by tools that parse themselves). */
  addParsedModule(m: Module): void {
    this.setModule(m);
  }

  removeModule(file: string): void {
    if (this.modules.delete(file)) this.invalidate();
  }

  getModules(): Module[] {
    return Array.from(this.modules.values());
  }

  /** Deep-merge a document into data at the root (or at `path`). */
  addData(doc: unknown, path: string[] = []): void {
    let v = dataValue(doc);
    for (let i = path.length - 1; i >= 0; i--) v = makeObject([[path[i], v]]);
    try {
      this.data = deepMerge(this.data, v);
    } catch (e) {
      throw asRegoError(e, "invalid_argument");
    }
    this.snap = null;
  }

  /** Replace all data. */
  setData(doc: unknown): void {
    this.data = dataValue(doc);
    this.snap = null;
  }

  getData(): Value {
    return this.data;
  }

  private setModule(m: Module): void {
    this.modules.set(m.file, m);
    this.invalidate();
  }

  private invalidate(): void {
    this.compiled = null;
    this.snap = null;
  }

  /**
   * Compile every module together (also run by the first query after a change). Throws the
   * compile errors (RegoError); the previous snapshot stays in use by queries prepared from it.
   */
  compile(): void {
    this.snapshot();
  }

  private snapshot(): Snapshot {
    if (this.snap !== null) return this.snap;
    if (this.compiled === null) {
      // OPA compiles modules in file-name order; so do we, so that nothing depends on the
      // order in which they were added.
      const mods = Array.from(this.modules.values()).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
      const c = new Compiler(mods, this.builtins);
      c.queryV1 = this.regoVersion === "v1";
      c.hooks = this.opts.hooks ?? null;
      this.applySchemas(c);
      const root = compileChecked(c, mods, this.builtins);
      this.compiled = { compiler: c, root, mods, traced: null };
    }
    checkDataConflicts(this.compiled.root, this.data);
    this.snap = { compiler: this.compiled.compiler, root: this.compiled.root, compiled: this.compiled, data: this.data, prepared: new Map() };
    return this.snap;
  }

  /**
   * Compile a query once against the current snapshot. The result is immutable and reusable:
   * later changes to the engine never affect it.
   */
  prepare(query: string): PreparedQuery {
    const snap = this.snapshot();
    let p = snap.prepared.get(query);
    if (p) return p;
    const body = parseQuery(query, { regoVersion: "v1", file: "query" });
    if (body.length === 0) throw RegoError.single("rego_parse_error", "empty query");
    const q = snap.compiler.compileQuery(body, "query");
    q.exprs.forEach((e, i) => (e.text = exprText(query, body, i)));
    p = new PreparedQuery(this, snap, q, query, body);
    if (snap.prepared.size > 1000) snap.prepared.clear();
    snap.prepared.set(query, p);
    return p;
  }

  /**
   * Evaluate a query. Returns OPA's result set ([] when undefined); returns a Promise only when
   * the query needs I/O. Throws RegoError on errors.
   */
  query(query: string, opts: QueryOptions = {}): Result[] | Promise<Result[]> {
    return this.prepare(query).eval(opts);
  }

  /** Source text and position of each expression of a query (OPA prints them in results). */
  queryExpressionTexts(query: string): { text: string; row: number; col: number }[] {
    return this.prepare(query).expressionTexts();
  }

  /** Like query, but always a Promise. */
  async queryAsync(query: string, opts: QueryOptions = {}): Promise<Result[]> {
    return this.query(query, opts);
  }

  /** Evaluate with results in the value model (exact numbers, sets kept as RSet). */
  queryRaw(query: string, opts: QueryOptions = {}): RawResult[] | Promise<RawResult[]> {
    return this.prepare(query).evalRaw(opts);
  }

  /** @internal The traced copy of a snapshot's rules (compiled on first use). */
  tracedTree(snap: Snapshot): { compiler: Compiler; root: TreeNode } {
    const cp = snap.compiled;
    if (cp.traced === null) {
      const c = new Compiler(cp.mods, this.builtins);
      c.queryV1 = this.regoVersion === "v1";
      c.hooks = this.opts.hooks ?? null;
      this.applySchemas(c);
      c.tracing = true;
      cp.traced = { compiler: c, root: c.compile() };
    }
    return cp.traced;
  }

  /** The static types of the engine's schemas, converted once (a SchemaError is a rego_type_error). */
  private schemaTypes: { input: Ty | null; byPath: Map<string, Ty> } | null = null;
  private applySchemas(c: Compiler): void {
    const schemas = this.opts.schemas;
    if (schemas === undefined) return;
    if (this.schemaTypes === null) {
      const byPath = new Map<string, Ty>();
      let input: Ty | null = null;
      for (const [name, doc] of Object.entries(schemas)) {
        let t: Ty;
        try {
          t = schemaType(doc);
        } catch (e) {
          if (e instanceof SchemaError) throw RegoError.single("rego_type_error", `${name}: ${e.message}`);
          throw e;
        }
        if (name === "input") input = t;
        else byPath.set(name, t);
      }
      this.schemaTypes = { input, byPath };
    }
    c.inputType = this.schemaTypes.input;
    c.schemaTypes = this.schemaTypes.byPath;
  }

  /** @internal What a prepared query needs of its engine's settings. */
  settings(): { opts: EngineOptions; strict: boolean; allowNet: readonly string[] | undefined; limits: EvalLimits; runtime: Value } {
    return { opts: this.opts, strict: this.strictBuiltinErrors, allowNet: this.allowNet, limits: this.limits, runtime: this.runtimeValue };
  }
}

/** A query compiled against one snapshot of an engine (OPA's PreparedEvalQuery). */
export class PreparedQuery {
  readonly query: string;
  private readonly engine: Engine;
  private readonly snap: Snapshot;
  private readonly q: CompiledQuery;
  private readonly body: Body;
  /** The query compiled against the snapshot's traced rules (on first traced evaluation). */
  private traced: { q: CompiledQuery; root: TreeNode } | null = null;

  constructor(engine: Engine, snap: Snapshot, q: CompiledQuery, query: string, body: Body) {
    this.engine = engine;
    this.snap = snap;
    this.q = q;
    this.query = query;
    this.body = body;
  }

  private tracedQuery(): { q: CompiledQuery; root: TreeNode } {
    if (this.traced === null) {
      const t = this.engine.tracedTree(this.snap);
      const q = t.compiler.compileQuery(this.body, "query");
      q.exprs.forEach((e, i) => (e.text = this.q.exprs[i]?.text ?? ""));
      this.traced = { q, root: t.root };
    }
    return this.traced;
  }

  /** Source text and position of each expression of the query. */
  expressionTexts(): { text: string; row: number; col: number }[] {
    return this.q.exprs.map((e) => ({ text: e.text, row: e.loc.row, col: e.loc.col }));
  }

  /** Evaluate: OPA's result set ([] when undefined); a Promise only when the query needs I/O. */
  eval(opts: EvalOptions = {}): Result[] | Promise<Result[]> {
    const startMs = Date.now();
    const raw = this.evalRaw(opts);
    const exact = opts.exactNumbers !== false;
    if (raw instanceof Promise) return raw.then((r) => this.shape(r, exact, opts, startMs));
    return this.shape(raw, exact, opts, startMs);
  }

  private shape(raw: RawResult[], exact: boolean, opts: EvalOptions, startMs: number): Result[] {
    const large = checkExpandedSize(raw, this.engine.settings().limits.maxResultBytes);
    // A large result takes time to convert: the evaluation's deadline, signal and cancel flag
    // still hold while it is converted (checked every 4,096 values made).
    let guard: ConversionGuard | undefined;
    if (large) {
      const deadline = evalDeadline(opts, this.engine.settings().opts.timeoutMs, startMs);
      const signal = opts.signal ?? null;
      const cancel = opts.cancel ?? null;
      if (deadline !== Infinity || signal !== null || cancel !== null) {
        guard = { n: 0, check: () => checkStop(deadline, signal, cancel, "timed out: converting the result exceeded the evaluation's deadline") };
      }
    }
    try {
      return this.shapeRows(raw, exact, guard);
    } catch (e) {
      if (e instanceof RangeError && /call stack/.test(e.message)) {
        throw RegoError.single("eval_builtin_error", "result nests too deeply to convert to JavaScript (use evalRaw)");
      }
      throw e;
    }
  }

  private shapeRows(raw: RawResult[], exact: boolean, guard: ConversionGuard | undefined): Result[] {
    const exprs = this.q.exprs;
    return raw.map((r) => {
      const bindings: Record<string, unknown> = {};
      for (const [k, v] of r.bindings) bindings[k] = toJS(v, exact, guard);
      return {
        expressions: r.expressions.map((v, i) => ({
          value: toJS(v, exact, guard),
          text: exprs[i].text,
          location: { row: exprs[i].loc.row, col: exprs[i].loc.col },
        })),
        bindings,
      };
    });
  }

  /** Evaluate with results in the value model (exact numbers, sets kept as RSet). */
  evalRaw(opts: EvalOptions = {}): RawResult[] | Promise<RawResult[]> {
    const s = this.engine.settings();
    const startMs = Date.now();
    const deadline = evalDeadline(opts, s.opts.timeoutMs, startMs);
    const input: Value | undefined = opts.input === undefined ? undefined : opts.input instanceof PreparedInput ? opts.input.value : inputValue(opts.input);
    // One builtin context for every attempt of this evaluation (an attempt suspended for I/O
    // runs again from the start): the clock, the builtins' cache and the I/O results it keeps
    // are the evaluation's.
    const bctx = new QueryBuiltins(opts.strictBuiltinErrors ?? s.strict, opts.nowNs, startMs, s.runtime, this.engine, opts.host, s.allowNet, s.limits.maxResultBytes);
    try {
      return this.attempt(opts, s, input, bctx, deadline);
    } catch (e) {
      if (!(e instanceof AsyncSuspend)) throw e;
      return this.resume(e, opts, s, input, bctx, deadline);
    }
  }

  /** Evaluate again each time a builtin's I/O has finished, until the query runs through. */
  private async resume(first: AsyncSuspend, opts: EvalOptions, s: ReturnType<Engine["settings"]>, input: Value | undefined, bctx: QueryBuiltins, deadline: number): Promise<RawResult[]> {
    let pending: AsyncSuspend | null = first;
    for (let i = 0; i < 1000 && pending; i++) {
      bctx.asyncResults.set(pending.key, await raceCancel(pending.promise, opts.signal, deadline));
      try {
        return this.attempt(opts, s, input, bctx, deadline);
      } catch (e2) {
        if (!(e2 instanceof AsyncSuspend)) throw e2;
        pending = e2;
      }
    }
    throw RegoError.single("eval_builtin_error", "too many asynchronous builtin calls in one query");
  }

  private attempt(opts: EvalOptions, s: ReturnType<Engine["settings"]>, input: Value | undefined, bctx: QueryBuiltins, deadline: number): RawResult[] {
    if (opts.tracer === undefined) return this.run(opts, s, input, bctx, deadline, null);
    // A traced evaluation: the events of an attempt suspended for I/O are dropped (the query
    // runs again from the start); the tracer sees those of the attempt that finished.
    const events: TraceEvent[] = [];
    const buf: Tracer = { trace: (ev) => void events.push(ev) };
    let suspended = false;
    try {
      return this.run(opts, s, input, bctx, deadline, buf);
    } catch (e) {
      suspended = e instanceof AsyncSuspend;
      throw e;
    } finally {
      if (!suspended) for (const ev of events) opts.tracer.trace(ev);
    }
  }

  private run(opts: EvalOptions, s: ReturnType<Engine["settings"]>, input: Value | undefined, bctx: QueryBuiltins, deadline: number, tracer: Tracer | null): RawResult[] {
    const tq = tracer === null ? null : this.tracedQuery();
    const q = tq === null ? this.q : tq.q;
    bctx.location = undefined;
    bctx.prints = null;
    bctx.attempt++;
    const c = new Ctx(tq === null ? this.snap.root : tq.root, this.snap.data, input, bctx, bctx.strict, deadline, opts.signal ?? null, opts.cancel ?? null);
    c.maxAlloc = s.limits.maxAllocBytes;
    bctx.ctx = c;
    if (tracer !== null) {
      const tc = c;
      tc.tracer = tracer;
      (bctx as NoteContext).traceNote = (message) =>
        (tc.tracer ?? tracer).trace({ op: "Note", node: { kind: "note" }, location: bctx.location ?? { file: "query", row: 1, col: 1 }, queryId: tc.qid, parentId: tc.pqid, message, bindings: null });
    } else if ((bctx as NoteContext).traceNote !== undefined) (bctx as NoteContext).traceNote = undefined;
    c.checkCancel();
    const f: Frame = new Array(q.nslots);
    const out: RawResult[] = [];
    try {
      q.body(c, f, () => {
        const bindings = new Map<string, Value>();
        for (const v of q.vars) {
          const x = f[v.slot];
          if (x !== undefined) bindings.set(v.name, x);
        }
        out.push({ expressions: q.exprs.map((e) => (f[e.slot] === undefined ? true : (f[e.slot] as Value))), bindings });
        return false;
      });
    } catch (e) {
      if (e instanceof AsyncSuspend) throw e;
      // A stack overflow is a coded error ("nested too deeply"); anything else that is not a
      // RegoError is a bug in Portcullis: a coded internal error, never a silent undefined and
      // never a raw exception.
      if (e instanceof RangeError && /call stack/.test(e.message)) throw tooDeep();
      throw asRegoError(e, "eval_internal_error");
    } finally {
      // (set by print calls during the body: read through the object, not narrowed to null)
      const prints = (bctx as { prints: QueryBuiltins["prints"] }).prints;
      if (prints !== null) {
        const printer = opts.print ?? s.opts.printHook ?? s.opts.print;
        if (printer) for (const p of prints) printer(p.line, p.loc);
      }
    }
    return out;
  }
}

/**
 * What builtins see of one evaluation (BuiltinContext), as one object with methods rather than
 * a set of closures made per evaluation; the query's time (fixed at its start), the builtins'
 * cache and the I/O results are made when first asked for.
 */
class QueryBuiltins implements BuiltinContext {
  location: Location | undefined = undefined;
  /** Counts the attempts (a query suspended for I/O runs again from the start). */
  attempt = 0;
  /** The current attempt's evaluation state. */
  ctx: Ctx | null = null;
  /** `print` output of the current attempt (null: none yet). */
  prints: { line: string; loc?: Location }[] | null = null;
  private fixedNs: bigint | undefined;
  private readonly startMs: number;
  private cacheMap: Map<string, Value> | null = null;
  private asyncMap: Map<string, Value> | null = null;
  readonly strict: boolean;
  readonly runtime: Value;
  readonly engine: unknown;
  readonly host: Record<string, unknown> | undefined;
  readonly allowNet: readonly string[] | undefined;
  private readonly maxResultBytes: number;
  constructor(strict: boolean, nowNs: bigint | undefined, startMs: number, runtime: Value, engine: unknown, host: Record<string, unknown> | undefined, allowNet: readonly string[] | undefined, maxResultBytes: number) {
    this.strict = strict;
    this.fixedNs = nowNs;
    this.startMs = startMs;
    this.runtime = runtime;
    this.engine = engine;
    this.host = host;
    this.allowNet = allowNet;
    this.maxResultBytes = maxResultBytes;
  }
  /** The time the evaluation started, in nanoseconds since the epoch (or the caller's EvalOptions.nowNs). */
  get nowNs(): bigint {
    return (this.fixedNs ??= BigInt(this.startMs) * 1000000n);
  }
  get cache(): Map<string, Value> {
    return (this.cacheMap ??= new Map());
  }
  get asyncResults(): Map<string, Value> {
    return (this.asyncMap ??= new Map());
  }
  print(line: string): void {
    (this.prints ??= []).push({ line, loc: this.location });
  }
  awaitValue(key: string, start: () => Promise<Value>): Value {
    const v = this.asyncMap?.get(key);
    if (v !== undefined) return v;
    throw new AsyncSuspend(key, start());
  }
  checkCancel(): void {
    this.ctx!.checkCancel();
  }
  checkSize(name: string, bytes: number): void {
    if (bytes > this.maxResultBytes) {
      throw RegoError.single("eval_builtin_error", `${name}: result would exceed the evaluation's size limit of ${this.maxResultBytes} bytes`, this.location);
    }
    // the result's growth counts against the evaluation's allocation budget (EvalLimits.maxAllocBytes)
    this.ctx!.chargeCall(bytes);
  }
}

/** Composites quickBytes visits before it leaves a result to expandedSize. */
const QUICK_VISITS = 2000;

function addQuick(total: number, b: number): number {
  return b < 0 ? -1 : total + b;
}

/**
 * checkExpandedSize's count of one value (8 bytes per value, 48 more per composite), or -1 when
 * it would visit more than the budget's composites or nest deeper than 32 levels.
 */
function quickBytes(v: Value, budget: { left: number }, d: number): number {
  if (v === null || typeof v !== "object" || v instanceof BigDec) return 8;
  if (--budget.left < 0 || d > 32) return -1;
  let b = 56;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = quickBytes(v[i], budget, d + 1);
      if (x < 0) return -1;
      b += x;
    }
    return b;
  }
  if (v instanceof RSet) {
    for (const e of v.toArray()) {
      const x = quickBytes(e, budget, d + 1);
      if (x < 0) return -1;
      b += x;
    }
    return b;
  }
  if (v instanceof ObjMap) return -1;
  const o = v as Record<string, Value>;
  for (const k in o) {
    const x = quickBytes(o[k], budget, d + 1);
    if (x < 0) return -1;
    b += x;
  }
  return b;
}

/**
 * Results share structure that converting them expands (a value bound to two variables, the
 * nested sets in every path `walk` yields): refuse, before converting anything, results whose
 * JavaScript form would exceed the evaluation's size limit (8 bytes per value, 48 more per array
 * or object: their headers). Strings are not counted by their length: converting shares them
 * (a string is never copied), and one built by a builtin was already held to the limit then.
 * Returns true when the result was not small (the quick count could not pass it: measured in full).
 */
function checkExpandedSize(raw: RawResult[], maxBytes: number): boolean {
  if (raw.length === 0) return false;
  // Most results are small: counted in a short walk that allocates nothing; a large, deep or
  // shared one (whose expanded form may be far larger than its walk) is measured as before.
  const budget = { left: QUICK_VISITS };
  let quick = 0;
  for (const r of raw) {
    for (const v of r.expressions) quick = quick < 0 ? quick : addQuick(quick, quickBytes(v, budget, 0));
    for (const v of r.bindings.values()) quick = quick < 0 ? quick : addQuick(quick, quickBytes(v, budget, 0));
  }
  if (quick >= 0 && quick <= maxBytes) return false;
  const memo = new Map<object, ExpandedSize>();
  let bytes = 0;
  for (const r of raw) {
    for (const v of r.expressions) {
      const s = expandedSize(v, memo);
      bytes += s.nodes * 8 + s.composites * 48;
    }
    for (const v of r.bindings.values()) {
      const s = expandedSize(v, memo);
      bytes += s.nodes * 8 + s.composites * 48;
    }
    if (bytes > maxBytes) break;
  }
  if (bytes > maxBytes) {
    throw RegoError.single(
      "eval_builtin_error",
      `result too large: converting it to JavaScript would take about ${bytes} bytes, more than the evaluation's size limit of ${maxBytes} bytes`,
    );
  }
  return true;
}

/** An evaluation's deadline (ms since the epoch; Infinity: none): its own, or its timeout's from its start, the earlier. */
function evalDeadline(opts: EvalOptions, engineTimeoutMs: number | undefined, startMs: number): number {
  const deadline = opts.deadline ?? Infinity;
  const timeoutMs = opts.timeoutMs ?? engineTimeoutMs;
  return timeoutMs !== undefined && timeoutMs > 0 ? Math.min(deadline, startMs + timeoutMs) : deadline;
}

/** Data from a caller, as a value; too deep is invalid_argument. */
function dataValue(doc: unknown): Value {
  try {
    return fromJS(doc);
  } catch (e) {
    if (e instanceof ValueDepthError) throw RegoError.single("invalid_argument", `data: ${e.message}`);
    throw e;
  }
}

/** Wait for a builtin's I/O, but no longer than the evaluation's deadline or its signal allow. */
function raceCancel<T>(p: Promise<T>, signal: AbortSignal | undefined, deadline: number): Promise<T> {
  if (signal === undefined && deadline === Infinity) return p;
  const cancelled = () => RegoError.single("eval_cancel_error", signal?.aborted ? "caller cancelled query execution" : "timed out: evaluation exceeded its deadline");
  if (signal?.aborted || Date.now() > deadline) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      cleanup();
      reject(cancelled());
    };
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (deadline !== Infinity) timer = setTimeout(onAbort, Math.max(0, deadline - Date.now()));
    p.then(
      (v) => (cleanup(), resolve(v)),
      (e) => (cleanup(), reject(e)),
    );
  });
}

/** A rule and a base document at the same path conflict (OPA: rego_compile_error). */
function checkDataConflicts(root: TreeNode, data: Value): void {
  const errors: { code: "rego_compile_error"; message: string; location?: Location }[] = [];
  // Without recursion: package paths may be thousands of levels deep.
  const todo: [TreeNode, Value | undefined][] = [];
  for (const [name, child] of root.children) todo.push([child, isObject(data) ? objectGet(data as never, name) : undefined]);
  todo.reverse();
  while (todo.length > 0) {
    const [node, base] = todo.pop()!;
    if (base === undefined) continue;
    if (node.hasDocRules || node.isFunction) {
      const loc = [...node.complete, ...node.multi, ...node.suffixRules, ...node.funcs, ...(node.defaultRule ? [node.defaultRule] : [])][0]?.loc;
      errors.push({ code: "rego_compile_error", message: `conflicting rule for data path ${node.path.join("/")} found`, location: loc });
      continue;
    }
    const kids = [...node.children].map(([name, child]): [TreeNode, Value | undefined] => [child, isObject(base) ? objectGet(base as never, name) : undefined]);
    for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]);
  }
  if (errors.length) throw new RegoError(errors);
}

/** Source text of the i-th expression of a query, cut between expression start positions. */
function exprText(source: string, body: Body, i: number): string {
  const lines = source.split("\n");
  const offset = (loc: Location) => {
    let o = 0;
    for (let r = 1; r < loc.row; r++) o += lines[r - 1].length + 1;
    return o + loc.col - 1;
  };
  const start = offset(body[i].loc);
  const end = i + 1 < body.length ? offset(body[i + 1].loc) : source.length;
  return source.slice(start, end).replace(/[\s;]+$/, "");
}

/** Merge two documents (the second wins where they are not both objects). */
function deepMerge(a: Value, b: Value): Value {
  if (!isObject(a) || !isObject(b)) return b;
  const entries = new Map<unknown, [Value, Value]>();
  for (const [k, v] of objectEntries(a)) entries.set(k, [k, v]);
  for (const [k, v] of objectEntries(b)) {
    const prev = entries.get(k);
    entries.set(k, [k, prev ? deepMerge(prev[1], v) : v]);
  }
  return makeObject(entries.values());
}

/**
 * Compile, with the checks OPA's compiler always makes that the closure compiler leaves to
 * strict.ts (unused `some` declarations, `var x referenced above`, `arg x redeclared`, …):
 * errors of the earliest failing stage, as `opa eval`/`opa check` report them, so that a policy
 * OPA refuses is refused here too rather than evaluated.
 */
function compileChecked(c: Compiler, mods: Module[], builtins: BuiltinTable): ReturnType<Compiler["compile"]> {
  let root: ReturnType<Compiler["compile"]> | null = null;
  let failed: RegoError | null = null;
  const compiler: StagedError[] = [];
  try {
    root = c.compile();
  } catch (e) {
    if (!(e instanceof RegoError)) throw e;
    failed = e;
    for (const x of e.errors) if (!SUPERSEDED.test(x.message)) compiler.push({ ...x, stage: classifyStage(x) });
  }
  let ours: StagedError[];
  try {
    ours = strictErrors(mods, { strict: false, builtins });
  } catch (e) {
    // Comprehensions nested deeper than these checks can follow on the JavaScript stack: the
    // compiler's own error if it had one, else refused (never compiled unchecked).
    if (!(e instanceof RangeError)) throw e;
    if (failed !== null) throw failed;
    throw RegoError.single("rego_compile_error", "expression nested too deeply to compile (the JavaScript stack is exhausted)", mods[0]?.package.loc);
  }
  if (ours.length === 0) {
    if (failed !== null) throw failed;
    return root!;
  }
  const picked = pickStagedErrors(ours, compiler, mods);
  throw new RegoError(picked.map(({ stage: _stage, ...x }) => x));
}
