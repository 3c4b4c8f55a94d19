// One copy of the server's policy state: an Engine built from the policies (id → Rego text) and
// the base documents (JSON text), and the evaluations the REST API needs. The main thread keeps
// one to validate writes (a policy that does not compile, or data that conflicts with a rule, is
// refused before anything changes); each evaluation worker keeps one and receives every
// accepted change in order, so a read sent after a write sees it.
//
// Results leave a replica as JSON text (Go's encoding: sorted keys, HTML-escaped), so the
// values (sets, exact numbers) never have to cross a thread as objects.

import { Engine, OPA_BUILTINS, NETWORK_BUILTINS, withoutBuiltins } from "../engine/index.ts";
import { RegoError, type ErrorDetail } from "../rego/errors.ts";
import { parseModule } from "../rego/parser.ts";
import type { Location, Module, Term } from "../rego/ast.ts";
import { isPlainObject, type Value } from "../rego/value.ts";
import { parseJSON } from "../gotext/json.ts";
import { goJSON } from "../gotext/plainjson.ts";
import { BufferTracer, explainEvents, prettyTrace, type ExplainMode, type TraceEvent } from "../rego/trace.ts";
import { traceEventsJSON } from "../rego/tracejson.ts";
import { partialEval, partialJSONText } from "../rego/partial.ts";

export interface ReplicaConfig {
  regoVersion: "v0" | "v1";
  /** http.send and net.lookup_ip_addr available to policies (off unless asked for). */
  networkBuiltins: boolean;
  /** What opa.runtime() returns. */
  runtime: unknown;
}

export interface PolicyText {
  id: string;
  raw: string;
}

/** A change to apply: the full set of policies and/or the full base documents. */
export interface StateUpdate {
  policies?: PolicyText[];
  /** The base documents as JSON text. */
  data?: string;
  /** The same documents as a value (the main thread has them so; saves reading the text). */
  dataValue?: Value;
}

export interface EvalRequest {
  /** `path`: the document at data.<path> (v1/v0 data API); `query`: an ad-hoc query; `compile`: partial evaluation (POST /v1/compile). */
  kind: "path" | "query" | "compile";
  /** `compile`: the unknowns (refs as text; absent: input), documents not inlined, nondeterministic builtins evaluated. */
  unknowns?: string[];
  disableInlining?: string[];
  nondeterministicBuiltins?: boolean;
  /** Ref parts after `data` (numbers are array indices, as OPA reads numeric path segments). */
  path?: (string | number)[];
  query?: string;
  /** The input as JSON text (absent: no input). */
  input?: string;
  strict?: boolean;
  /** Stop at this time (ms since the epoch). */
  deadline?: number;
  /** ?explain: trace the evaluation and answer the explanation (`pretty`: as text lines). */
  explain?: { mode: ExplainMode; pretty: boolean };
}

export interface ErrorJSON {
  code: string;
  message: string;
  location?: { file: string; row: number; col: number };
  /** Parse errors: the source line and the 0-based index OPA points at. */
  details?: { line: string; idx: number };
}

export type EvalReply =
  | { ok: true; kind: "path"; defined: boolean; value?: string; evalNs: number; compileNs: number; explanation?: string }
  | { ok: true; kind: "query"; results: string; count: number; evalNs: number; compileNs: number; explanation?: string }
  | { ok: true; kind: "compile"; result: string; evalNs: number; compileNs: number }
  | { ok: false; stage: "parse" | "compile" | "eval"; errors: ErrorJSON[] };

export function errorJSON(e: ErrorDetail): ErrorJSON {
  const out: ErrorJSON = { code: e.code, message: e.message };
  if (e.location) out.location = { file: e.location.file, row: e.location.row, col: e.location.col };
  return out;
}

/** The Rego text of data.<path> (numbers as indices, other names quoted when needed). */
export function pathQuery(path: readonly (string | number)[]): string {
  let q = "data";
  for (const p of path) {
    if (typeof p === "number") q += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p) && !KEYWORDS.has(p)) q += `.${p}`;
    else q += `[${JSON.stringify(p)}]`;
  }
  return q;
}

const KEYWORDS = new Set(["as", "default", "else", "false", "import", "package", "not", "null", "true", "with", "some", "in", "every", "if", "contains"]);

export class Replica {
  readonly config: ReplicaConfig;
  private engine: Engine;
  private policies = new Map<string, string>();
  private dataText = "{}";

  constructor(config: ReplicaConfig) {
    this.config = config;
    this.engine = this.newEngine();
  }

  private newEngine(): Engine {
    return new Engine({
      regoVersion: this.config.regoVersion,
      builtins: this.config.networkBuiltins ? OPA_BUILTINS : withoutBuiltins(NETWORK_BUILTINS),
      runtime: this.config.runtime,
    });
  }

  /** The parsed modules, by policy id. */
  modules(): Map<string, Module> {
    return new Map(this.engine.getModules().map((m) => [m.file, m]));
  }

  policyTexts(): PolicyText[] {
    return Array.from(this.policies, ([id, raw]) => ({ id, raw }));
  }

  /**
   * Apply a change, all or nothing: parse and compile everything; on an error (RegoError: parse,
   * compile, or a data/rule conflict) the replica keeps its previous state.
   */
  apply(u: StateUpdate): void {
    if (u.policies === undefined) {
      if (u.data === undefined) return;
      // Data only: the compiled rules are kept; a conflict puts the old documents back.
      const old = this.engine.getData();
      const value = u.dataValue ?? parseJSON(u.data);
      checkConflicts(this.engine.getModules(), value);
      this.engine.setData(value);
      try {
        this.engine.compile();
      } catch (e) {
        this.engine.setData(old);
        throw e;
      }
      this.dataText = u.data;
      return;
    }
    const next = this.newEngine();
    const policies = new Map(u.policies.map((p) => [p.id, p.raw]));
    next.addModules(Array.from(policies, ([file, source]) => ({ file, source })));
    next.compile();
    const dataText = u.data ?? this.dataText;
    const dataValue = u.data === undefined ? this.engine.getData() : (u.dataValue ?? parseJSON(dataText));
    checkConflicts(next.getModules(), dataValue);
    next.setData(dataValue);
    next.compile();
    this.engine = next;
    this.policies = policies;
    this.dataText = dataText;
  }

  /** The base documents as JSON text. */
  data(): string {
    return this.dataText;
  }

  /**
   * Rules at data.<path> or at one of its prefixes (OPA's GetRulesForVirtualDocument): an undefined
   * result there is "document undefined" rather than "document missing".
   */
  hasRulesFor(path: readonly (string | number)[]): boolean {
    const want = path.map(String);
    for (const r of rulePaths(this.engine.getModules())) {
      if (r.path.length <= want.length && r.path.every((x, i) => x === want[i])) return true;
    }
    return false;
  }

  /** The package path (under data) of a policy text; throws its parse errors. */
  packagePath(id: string, raw: string): string[] {
    const m = parseModule(id, raw, { regoVersion: this.config.regoVersion });
    return m.package.terms.slice(1).map((t: Term) => termText(t));
  }

  /** Evaluate; never throws (errors are a reply). Synchronous unless a network builtin waits. */
  evaluate(req: EvalRequest, cancel?: Int32Array): EvalReply | Promise<EvalReply> {
    if (req.kind === "compile") return this.compile(req, cancel);
    const t0 = process.hrtime.bigint();
    let pq;
    try {
      pq = this.engine.prepare(req.kind === "path" ? pathQuery(req.path ?? []) : (req.query ?? ""));
    } catch (e) {
      return failure(e, "compile");
    }
    const t1 = process.hrtime.bigint();
    let input: Value | undefined;
    try {
      if (req.input !== undefined) input = parseJSON(req.input);
    } catch (e) {
      return failure(e, "eval");
    }
    const tracer = req.explain ? new LimitedTracer() : undefined;
    const finish = (raw: { expressions: Value[]; bindings: Map<string, Value> }[]): EvalReply => {
      const evalNs = Number(process.hrtime.bigint() - t1);
      const compileNs = Number(t1 - t0);
      const explanation = tracer && req.explain ? explanationJSON(tracer.events, req.explain.mode, req.explain.pretty) : undefined;
      if (req.kind === "path") {
        if (raw.length === 0) return { ok: true, kind: "path", defined: false, evalNs, compileNs, explanation };
        let value = raw[0].expressions[0];
        // The root document never shows data.system (OPA keeps it out of `data`).
        if ((req.path ?? []).length === 0 && isPlainObject(value) && Object.hasOwn(value, "system")) {
          value = { ...value };
          delete (value as Record<string, Value>).system;
        }
        return { ok: true, kind: "path", defined: true, value: goJSON(value), evalNs, compileNs, explanation };
      }
      const rows = raw.map((r) => Object.fromEntries(r.bindings));
      return { ok: true, kind: "query", results: goJSON(rows), count: rows.length, evalNs, compileNs, explanation };
    };
    try {
      const out = pq.evalRaw({ input, strictBuiltinErrors: req.strict || undefined, deadline: req.deadline, cancel, tracer });
      if (out instanceof Promise) return out.then(finish, (e) => failure(e, "eval"));
      return finish(out);
    } catch (e) {
      return failure(e, "eval");
    }
  }

  /** Partial evaluation of an ad-hoc query (POST /v1/compile): OPA's PartialEvaluationResultV1 as JSON text. */
  private compile(req: EvalRequest, cancel?: Int32Array): EvalReply {
    const t0 = process.hrtime.bigint();
    try {
      // the query compiles as any ad-hoc query does (its parse and compile errors are OPA's)
      this.engine.prepare(req.query ?? "");
    } catch (e) {
      return failure(e, "compile");
    }
    // (partialEval prepares it again: a cache hit)
    const t1 = process.hrtime.bigint();
    try {
      const input = req.input !== undefined ? parseJSON(req.input) : undefined;
      const r = partialEval(this.engine, req.query ?? "", {
        unknowns: req.unknowns,
        disableInlining: req.disableInlining,
        nondeterministicBuiltins: req.nondeterministicBuiltins,
        input,
        deadline: req.deadline,
        cancel,
      });
      return { ok: true, kind: "compile", result: partialJSONText(r, "support"), compileNs: Number(t1 - t0), evalNs: Number(process.hrtime.bigint() - t1) };
    } catch (e) {
      return failure(e, "eval");
    }
  }
}

/** The rule tree's paths (under data) of every rule, in the compiler's order (modules by file name). */
function rulePaths(modules: Module[]): { path: string[]; loc: Location }[] {
  const out: { path: string[]; loc: Location }[] = [];
  const sorted = [...modules].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const m of sorted) {
    const pkg = m.package.terms.slice(1).map((t: Term) => termText(t));
    for (const r of m.rules) {
      const rp = [...pkg];
      for (const [i, t] of r.head.ref.entries()) {
        if (i === 0 && t.type === "var") rp.push(t.name);
        else if (t.type === "string") rp.push(t.value);
        else break;
      }
      out.push({ path: rp, loc: r.loc });
    }
  }
  return out;
}

/**
 * OPA's check of rules against base documents (ast.CheckPathConflicts with storage.NonEmpty): a
 * rule conflicts when data exists at its path, or when the nearest existing parent of its path
 * is not an object. One error per rule path, at the first rule there, in path order.
 */
export function checkConflicts(modules: Module[], data: Value): void {
  const seen = new Map<string, { path: string[]; loc: Location }>();
  for (const r of rulePaths(modules)) {
    const key = r.path.join("/");
    if (!seen.has(key)) seen.set(key, r);
  }
  const errors: ErrorDetail[] = [];
  for (const key of [...seen.keys()].sort()) {
    const r = seen.get(key)!;
    if (nonEmpty(data, r.path)) errors.push({ code: "rego_compile_error", message: `conflicting rule for data path ${key} found`, location: r.loc });
  }
  if (errors.length > 0) throw new RegoError(errors);
}

function nonEmpty(data: Value, path: string[]): boolean {
  // the nodes along the path that exist
  const nodes: Value[] = [data];
  let node: Value = data;
  for (const k of path) {
    if (node === null || typeof node !== "object" || Array.isArray(node) || !isPlainObject(node) || !Object.hasOwn(node, k)) break;
    node = node[k];
    nodes.push(node);
  }
  if (nodes.length === path.length + 1) return true;
  const last = nodes[nodes.length - 1];
  return nodes.length > 1 && !isPlainObject(last);
}

function termText(t: Term): string {
  if (t.type === "var") return t.name;
  return String((t as { value?: unknown }).value);
}

function failure(e: unknown, stage: "compile" | "eval"): EvalReply {
  if (e instanceof RegoError) {
    const parse = e.code === "rego_parse_error";
    const evalErr = e.code.startsWith("eval_") || e.code === "invalid_argument";
    return { ok: false, stage: parse ? "parse" : evalErr ? "eval" : stage === "eval" ? "eval" : "compile", errors: e.errors.map(errorJSON) };
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { ok: false, stage: "eval", errors: [{ code: "eval_internal_error", message: `internal error: ${msg}` }] };
}

/**
 * OPA's `explanation` as JSON text: the events of the mode as objects, or with `?pretty` the
 * lines of the trace with locations (Go splits the trimmed text on newlines: no events is [""]).
 */
function explanationJSON(events: readonly TraceEvent[], mode: ExplainMode, pretty: boolean): string {
  const shown = explainEvents(events, mode);
  if (pretty) {
    const lines = prettyTrace(shown, { locations: true });
    return goJSON(lines.length > 0 ? lines : [""]);
  }
  return goJSON(traceEventsJSON(shown));
}

/** Most trace events one ?explain evaluation may record (a trace is kept whole until the answer). */
export const MAX_TRACE_EVENTS = 200_000;

/** A BufferTracer that stops the evaluation (an internal error, 500) beyond MAX_TRACE_EVENTS. */
class LimitedTracer extends BufferTracer {
  override trace(e: TraceEvent): void {
    if (this.events.length >= MAX_TRACE_EVENTS) throw new Error(`the explanation exceeds ${MAX_TRACE_EVENTS} trace events: ask for a smaller one (explain=notes or fails) or evaluate less`);
    super.trace(e);
  }
}
