// The public Engine: modules and data in, OPA-shaped result sets out.
//
// Modules are parsed when added and compiled together (compile errors are thrown from
// addModule). Queries are compiled once and cached by their text. A query runs synchronously;
// only when a builtin needs I/O (http.send, net.lookup_ip_addr) does `query` return a Promise:
// the evaluation is suspended, the I/O awaited, and the query run again with the result cached.

import type { Module, Body, Location } from "./ast.ts";
import { parseModule, parseQuery } from "./parser.ts";
import { Compiler, type CompiledQuery } from "./compiler.ts";
import { Ctx, type TreeNode, type Frame, type EvalHooks } from "./eval.ts";
import { RegoError, asRegoError } from "./errors.ts";
import type { Value } from "./value.ts";
import { fromJS, toJS, emptyObject, isPlainObject, objectEntries, makeObject, isObject, objectGet } from "./value.ts";
import { AsyncSuspend, type BuiltinContext } from "../builtins/registry.ts";

export interface EngineOptions {
  regoVersion?: "v0" | "v1";
  strictBuiltinErrors?: boolean;
  /** Stop a query after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Where `print` output goes (default: stderr). */
  print?: (line: string, location?: Location) => void;
  /** The value of `opa.runtime()`. */
  runtime?: unknown;
  /**
   * Instrumentation for coverage and tracing (portcullis verify --coverage): compiled into the
   * rule closures when set, so it costs nothing when absent. Fixed for the engine's lifetime.
   */
  hooks?: EvalHooks;
}

export interface QueryOptions {
  input?: unknown;
  /** Override the engine's strict builtin errors setting for this query. */
  strictBuiltinErrors?: boolean;
  timeoutMs?: number;
  /** Fixed time for time.now_ns (nanoseconds since the epoch). */
  nowNs?: bigint;
  print?: (line: string, location?: Location) => void;
  /** Extra state for host builtins (conftest, gatekeeper). */
  host?: Record<string, unknown>;
}

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

export class Engine {
  readonly regoVersion: "v0" | "v1";
  readonly strictBuiltinErrors: boolean;
  private opts: EngineOptions;
  private modules = new Map<string, Module>();
  private data: Value = emptyObject();
  private compiler: Compiler | null = null;
  private root: TreeNode | null = null;
  private queries = new Map<string, { q: CompiledQuery; body: Body; source: string }>();
  /** Base data and rules were checked against each other since they last changed. */
  private dataChecked = false;

  constructor(opts: EngineOptions = {}) {
    this.opts = opts;
    this.regoVersion = opts.regoVersion ?? "v1";
    this.strictBuiltinErrors = opts.strictBuiltinErrors ?? false;
  }

  /** Parse and add a module, then compile all modules; throws RegoError on any error. */
  addModule(file: string, source: string, opts: { regoVersion?: "v0" | "v1" } = {}): Module {
    const m = parseModule(file, source, { regoVersion: opts.regoVersion ?? this.regoVersion });
    const prev = this.modules.get(file);
    this.modules.set(file, m);
    try {
      this.compile();
    } catch (e) {
      if (prev) this.modules.set(file, prev);
      else this.modules.delete(file);
      this.compiler = null;
      throw e;
    }
    return m;
  }

  /** Add several modules and compile once (faster than addModule in a loop). */
  addModules(files: { file: string; source: string; regoVersion?: "v0" | "v1" }[]): Module[] {
    const added: Module[] = [];
    const errors: RegoError[] = [];
    for (const f of files) {
      try {
        const m = parseModule(f.file, f.source, { regoVersion: f.regoVersion ?? this.regoVersion });
        this.modules.set(f.file, m);
        added.push(m);
      } catch (e) {
        if (e instanceof RegoError) errors.push(e);
        else throw e;
      }
    }
    if (errors.length) throw new RegoError(errors.flatMap((e) => e.errors));
    this.compile();
    return added;
  }

  /** Add already-parsed modules and compile once (tools that parse, then rewrite, modules). */
  addParsedModules(ms: Module[]): void {
    for (const m of ms) this.modules.set(m.file, m);
    this.compile();
  }

  /** Add an already-parsed module (used by tools that parse themselves). */
  addParsedModule(m: Module): void {
    this.modules.set(m.file, m);
    this.compile();
  }

  removeModule(file: string): void {
    this.modules.delete(file);
    this.compile();
  }

  getModules(): Module[] {
    return Array.from(this.modules.values());
  }

  /** Deep-merge a document into data at the root (or at `path`). */
  addData(doc: unknown, path: string[] = []): void {
    try {
      let v = fromJS(doc);
      for (let i = path.length - 1; i >= 0; i--) v = makeObject([[path[i], v]]);
      this.data = deepMerge(this.data, v);
    } catch (e) {
      throw asRegoError(e, "invalid_argument");
    }
    this.dataChecked = false;
  }

  /** Replace all data. */
  setData(doc: unknown): void {
    try {
      this.data = fromJS(doc);
    } catch (e) {
      throw asRegoError(e, "invalid_argument");
    }
    this.dataChecked = false;
  }

  getData(): Value {
    return this.data;
  }

  private compile(): void {
    const c = new Compiler(Array.from(this.modules.values()));
    c.queryV1 = this.regoVersion === "v1";
    c.hooks = this.opts.hooks ?? null;
    this.root = c.compile();
    this.compiler = c;
    this.queries.clear();
    this.dataChecked = false;
  }

  /** A rule and a base document at the same path conflict (OPA: rego_compile_error). */
  private checkDataConflicts(): void {
    if (this.dataChecked || this.root === null) return;
    const errors: { code: "rego_compile_error"; message: string; location?: Location }[] = [];
    // Without recursion: package paths may be thousands of levels deep.
    const todo: [TreeNode, Value | undefined][] = [];
    for (const [name, child] of this.root.children) todo.push([child, isObject(this.data) ? objectGetValue(this.data, name) : undefined]);
    todo.reverse();
    while (todo.length > 0) {
      const [node, base] = todo.pop()!;
      if (base === undefined) continue;
      if (node.hasDocRules || node.isFunction) {
        const loc = [...node.complete, ...node.multi, ...node.suffixRules, ...node.funcs, ...(node.defaultRule ? [node.defaultRule] : [])][0]?.loc;
        errors.push({ code: "rego_compile_error", message: `conflicting rule for data path ${node.path.join("/")} found`, location: loc });
        continue;
      }
      const kids = [...node.children].map(([name, child]): [TreeNode, Value | undefined] => [child, isObject(base) ? objectGetValue(base, name) : undefined]);
      for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]);
    }
    if (errors.length) throw new RegoError(errors);
    this.dataChecked = true;
  }

  private prepare(query: string): { q: CompiledQuery; body: Body; source: string } {
    if (!this.dataChecked) {
      if (this.compiler === null) this.compile();
      this.checkDataConflicts();
    }
    let p = this.queries.get(query);
    if (p) return p;
    if (this.compiler === null) this.compile();
    const body = parseQuery(query, { regoVersion: "v1", file: "query" });
    if (body.length === 0) throw RegoError.single("rego_parse_error", "empty query");
    const q = this.compiler!.compileQuery(body, "query");
    p = { q, body, source: query };
    q.exprs.forEach((e, i) => (e.text = exprText(query, body, i)));
    if (this.queries.size > 1000) this.queries.clear();
    this.queries.set(query, p);
    return p;
  }

  /**
   * Evaluate a query. Returns OPA's result set ([] when undefined); returns a Promise only when
   * the query needs I/O. Throws RegoError on errors.
   */
  query(query: string, opts: QueryOptions = {}): Result[] | Promise<Result[]> {
    const raw = this.queryRaw(query, opts);
    if (raw instanceof Promise) return raw.then((r) => this.shape(query, r));
    return this.shape(query, raw);
  }

  /** Source text and position of each expression of a query (OPA prints them in results). */
  queryExpressionTexts(query: string): { text: string; row: number; col: number }[] {
    return this.prepare(query).q.exprs.map((e) => ({ text: e.text, row: e.loc.row, col: e.loc.col }));
  }

  /** Like query, but always a Promise. */
  async queryAsync(query: string, opts: QueryOptions = {}): Promise<Result[]> {
    return this.query(query, opts);
  }

  private shape(query: string, raw: RawResult[]): Result[] {
    const p = this.prepare(query);
    return raw.map((r) => {
      const bindings: Record<string, unknown> = {};
      for (const [k, v] of r.bindings) bindings[k] = toJS(v);
      return {
        expressions: r.expressions.map((v, i) => ({
          value: toJS(v),
          text: p.q.exprs[i].text,
          location: { row: p.q.exprs[i].loc.row, col: p.q.exprs[i].loc.col },
        })),
        bindings,
      };
    });
  }

  /** Evaluate with results in the value model (exact numbers, sets kept as RSet). */
  queryRaw(query: string, opts: QueryOptions = {}): RawResult[] | Promise<RawResult[]> {
    const p = this.prepare(query);
    const asyncResults = new Map<string, Value>();
    const nowNs = opts.nowNs ?? BigInt(Date.now()) * 1000000n;
    const cache = new Map<string, Value>();
    const attempt = (): RawResult[] => this.run(p.q, opts, asyncResults, nowNs, cache);
    try {
      return attempt();
    } catch (e) {
      if (!(e instanceof AsyncSuspend)) throw e;
      return (async () => {
        let pending: AsyncSuspend | null = e;
        for (let i = 0; i < 1000 && pending; i++) {
          asyncResults.set(pending.key, await pending.promise);
          try {
            return attempt();
          } catch (e2) {
            if (!(e2 instanceof AsyncSuspend)) throw e2;
            pending = e2;
          }
        }
        throw RegoError.single("eval_builtin_error", "too many asynchronous builtin calls in one query");
      })();
    }
  }

  private run(q: CompiledQuery, opts: QueryOptions, asyncResults: Map<string, Value>, nowNs: bigint, cache: Map<string, Value>): RawResult[] {
    const prints: { line: string; loc?: Location }[] = [];
    const strict = opts.strictBuiltinErrors ?? this.strictBuiltinErrors;
    const bctx: BuiltinContext = {
      strict,
      nowNs,
      cache,
      print: (line) => prints.push({ line, loc: bctx.location }),
      location: undefined,
      runtime: fromJS(this.opts.runtime ?? {}),
      awaitValue: (key, start) => {
        const v = asyncResults.get(key);
        if (v !== undefined) return v;
        throw new AsyncSuspend(key, start());
      },
      engine: this,
      host: opts.host,
    };
    const deadline = Date.now() + (opts.timeoutMs ?? this.opts.timeoutMs ?? 30000);
    const f: Frame = new Array(q.nslots);
    const out: RawResult[] = [];
    try {
      const input = opts.input === undefined ? undefined : fromJS(opts.input);
      const c = new Ctx(this.root!, this.data, input, bctx, strict, deadline);
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
      throw asRegoError(e, "eval_internal_error");
    } finally {
      const printer = opts.print ?? this.opts.print;
      for (const p of prints) {
        if (printer) printer(p.line, p.loc);
        else process.stderr.write(p.line + "\n");
      }
    }
    return out;
  }
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

function objectGetValue(o: Value, k: string): Value | undefined {
  return objectGet(o as never, k);
}

function deepMerge(a: Value, b: Value): Value {
  if (!isObject(a) || !isObject(b)) return b;
  const entries = new Map<unknown, [Value, Value]>();
  for (const [k, v] of objectEntries(a)) entries.set(k, [k, v]);
  for (const [k, v] of objectEntries(b)) {
    const prev = entries.get(k);
    entries.set(k, [k, prev ? deepMerge(prev[1], v) : v]);
  }
  void isPlainObject;
  return makeObject(entries.values());
}
