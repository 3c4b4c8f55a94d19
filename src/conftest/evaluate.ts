// `portcullis test`'s evaluation model on policies and inputs already loaded (no file access, so
// the browser playground runs it too): the namespaces to check, each namespace's deny/violation/
// warn rules, exceptions, and one CheckResult per namespace and input with conftest's success
// counting. ./runner.ts loads the files and calls runChecks.

import type { Engine, RawResult } from "../rego/engine.ts";
import { RegoError } from "../rego/errors.ts";
import { classifyStage } from "../rego/strict.ts";
import type { Module, Location } from "../rego/ast.ts";
import { RSet, isObject, isNumber, numberText, objectGet, objectEntries, type Value } from "../rego/value.ts";
import type { CheckResult, CheckResultView, Result, ResultLocation } from "../output/types.ts";
import type { SpoolDir } from "../output/spool.ts";
import { goString } from "../gotext/plainjson.ts";
import { goDuration } from "../gotext/duration.ts";
import { BufferTracer, prettyTrace } from "../rego/trace.ts";
import { BuiltinErrorCollector, COLLECTOR_KEY } from "./builtinerrors.ts";
import { ConftestError } from "./errors.ts";
import { globToRegExp, hasGlobMeta } from "./glob.ts";
import type { LazyDocuments } from "./stream.ts";

/** What runChecks reads of `portcullis test`'s options. */
export interface RunOptions {
  /** Namespaces or globs (default ["main"]). */
  namespaces?: string[];
  allNamespaces?: boolean;
  /** Evaluation deadline per query, in milliseconds (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Record each query's evaluation trace (--trace): CheckResult.queries[].traces. */
  trace?: boolean;
  /**
   * The built-in library is being run: each document is checked with one query over every
   * namespace (so the library's shared helpers are computed once per document, not once per
   * rule), and each namespace's `exempted` set is reported as exceptions (library/README.md).
   */
  library?: boolean;
}

/** `portcullis test`'s default evaluation deadline per query (--timeout changes it). */
export const DEFAULT_TIMEOUT_MS = 30_000;

const FAILURE = /^(deny|violation)(_[a-zA-Z0-9]+)*$/;
const WARNING = /^warn(_[a-zA-Z0-9]+)*$/;

export function isFailureRule(name: string): boolean {
  return FAILURE.test(name);
}
export function isWarningRule(name: string): boolean {
  return WARNING.test(name);
}

/** The name an exception refers to: the rule name without its deny/violation/warn prefix. */
export function exceptionName(rule: string): string {
  return rule.replace(/^(deny|violation|warn)_?/, "");
}

export interface LoadedPolicies {
  engine: Engine;
  modules: Module[];
}

/** Every package of the modules, in module order, each once. */
export function moduleNamespaces(modules: Module[]): string[] {
  const out: string[] = [];
  for (const m of modules) {
    const ns = packageName(m);
    if (!out.includes(ns)) out.push(ns);
  }
  return out;
}

function packageName(m: Module): string {
  return m.package.terms
    .slice(1)
    .map((t) => (t.type === "string" ? t.value : t.type === "var" ? t.name : "?"))
    .join(".");
}

/** The namespaces to check, as conftest chooses them. */
export function resolveNamespaces(modules: Module[], patterns: string[], all: boolean): string[] {
  const known = moduleNamespaces(modules);
  if (all) return known;
  if (!patterns.some(hasGlobMeta)) return patterns;
  const res = patterns.map((p) => {
    try {
      return globToRegExp(p);
    } catch (e) {
      throw new ConftestError(`filter namespaces: match pattern ${goString(p)}: ${(e as Error).message}`);
    }
  });
  return known.filter((ns) => res.some((re) => re.test(ns)));
}

interface RuleSet {
  names: string[];
  /** Definitions of those rules (default rules included). */
  definitions: number;
}

/** The deny/violation/warn rules of a namespace, in module order. */
export function namespaceRules(modules: Module[], ns: string): RuleSet {
  const names: string[] = [];
  let definitions = 0;
  for (const m of modules) {
    if (packageName(m) !== ns) continue;
    for (const r of m.rules) {
      if (r.head.kind === "function" || r.head.ref.length !== 1) continue;
      const head = r.head.ref[0];
      if (head.type !== "var") continue;
      const name = head.name;
      if (!isFailureRule(name) && !isWarningRule(name)) continue;
      definitions++;
      if (!names.includes(name)) names.push(name);
    }
  }
  return { names, definitions };
}

export interface Config {
  /** The name results carry (the path, "-" for stdin, "Combined"). */
  filename: string;
  /** data.conftest.file for this input. */
  file: { name: string; dir: string };
  /** The documents checked one at a time (placeholders of the right count when `lazy` gives them). */
  documents: unknown[];
  /** The documents parsed on demand (the built-in library's multi-document YAML files, ./stream.ts). */
  lazy?: LazyDocuments;
}

/** Parse what is left of the streamed inputs: their parse errors come before an evaluation error. */
export function settleInputs(configs: Config[]): void {
  for (const c of configs) c.lazy?.settle();
}

const isTimeout = (e: RegoError) => e.errors.length === 1 && e.code === "eval_cancel_error" && /^timed out/.test(e.errors[0].message);

/** Run the checks: one CheckResult per namespace and config (namespaces outermost). */
export async function runChecks(loaded: LoadedPolicies, configs: Config[], o: RunOptions): Promise<CheckResult[]> {
  const { engine, modules } = loaded;
  const namespaces = resolveNamespaces(modules, o.namespaces ?? ["main"], o.allNamespaces ?? false);
  const baseData = engine.getData();
  const results: CheckResult[] = [];
  const ruleSets = new Map<string, RuleSet>();
  if (o.library && !o.trace) return runBatched(engine, modules, namespaces, baseData, configs, o.timeoutMs ?? DEFAULT_TIMEOUT_MS, (): Result[] => []);
  // Every namespace reads every document: streamed inputs are parsed here, once.
  if (configs.some((c) => c.lazy)) configs = configs.map((x) => (x.lazy ? { ...x, documents: x.lazy.take(0, x.documents.length), lazy: undefined } : x));
  for (const ns of namespaces) {
    let rules = ruleSets.get(ns);
    if (!rules) ruleSets.set(ns, (rules = namespaceRules(modules, ns)));
    for (const config of configs) {
      engine.setData(withFile(baseData, config.file));
      const result: CheckResult = { filename: config.filename, namespace: ns, successes: 0, skipped: [], warnings: [], failures: [], exceptions: [], queries: [] };
      for (const doc of config.documents) await checkDocument(engine, ns, rules, doc, result, o.timeoutMs ?? DEFAULT_TIMEOUT_MS, !!o.trace);
      results.push(result);
    }
  }
  engine.setData(baseData);
  return results;
}

/**
 * The built-in library's checks (runChecks with `library`) with the results kept in spools of
 * `dir` rather than in memory: a large input's results are printed from there (renderTo).
 */
export async function runLibraryChecks(loaded: LoadedPolicies, configs: Config[], o: RunOptions, dir: SpoolDir): Promise<CheckResultView[]> {
  const namespaces = resolveNamespaces(loaded.modules, o.namespaces ?? ["main"], o.allNamespaces ?? false);
  const results = await runBatched(loaded.engine, loaded.modules, namespaces, loaded.engine.getData(), configs, o.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => dir.spool());
  for (const r of results) for (const list of [r.skipped, r.warnings, r.failures, r.exceptions]) list.close();
  return results;
}

/** Where runBatched puts results: an array, or a spool. */
export interface ResultSink {
  push(r: Result): void;
}

type BatchedResult<L> = Omit<CheckResult, "skipped" | "warnings" | "failures" | "exceptions"> & { skipped: L; warnings: L; failures: L; exceptions: L };

/**
 * The library's query (runBatched): per namespace and rule, the exception count and the rule's
 * value, and the namespace's `exempted` set, as one query evaluated once per document.
 */
export interface LibraryPlan {
  /** exc: the variable holding the rule's exception count, absent when the namespace cannot have exceptions (the count is 0). */
  namespaces: { ns: string; rules: RuleSet; exempted: string | undefined; vars: { exc: string | undefined; val: string; rule: string; query: string }[] }[];
  query: string;
}

/**
 * `data` is the data the query runs with (data.conftest.file aside): the exception count of a
 * rule is left out of the query when neither a rule nor the data can define
 * `data.<ns>.exception` (the library's packages have none), since it is 0 for every document.
 */
export function libraryPlan(modules: Module[], namespaces: string[], data?: Value): LibraryPlan {
  const exprs: string[] = [];
  const plan = namespaces.map((ns, i) => {
    const rules = namespaceRules(modules, ns);
    const exceptions = data === undefined || mayHaveExceptions(modules, data, ns);
    const vars = rules.names.map((rule, j) => {
      const v = { exc: exceptions ? `e${i}_${j}` : undefined, val: `r${i}_${j}`, rule, query: `data.${ns}.${rule}` };
      if (v.exc) exprs.push(`${v.exc} := count([1 | data.${ns}.exception[_][_] == ${goString(exceptionName(rule))}])`);
      exprs.push(`${v.val} := [v | v := data.${ns}.${rule}]`);
      return v;
    });
    return { ns, rules, exempted: hasDocumentRule(modules, ns, "exempted") ? `x${i}` : undefined, vars };
  });
  for (const p of plan) if (p.exempted) exprs.push(`${p.exempted} := [v | v := data.${p.ns}.exempted]`);
  return { namespaces: plan, query: exprs.join("; ") };
}

/**
 * Can `data.<ns>.exception` be defined? Yes when a rule's path (package and head, up to its
 * first variable part) and that path are one a prefix of the other (the rule defines it or
 * something under or above it), or when the data holds a value there; conservative otherwise
 * (a package path part that is not a plain string counts as matching anything).
 */
function mayHaveExceptions(modules: Module[], data: Value, ns: string): boolean {
  const target = [...ns.split("."), "exception"];
  const overlaps = (path: (string | null)[]) => {
    const n = Math.min(path.length, target.length);
    for (let k = 0; k < n; k++) if (path[k] !== null && path[k] !== target[k]) return false;
    return true;
  };
  for (const m of modules) {
    const pkg = m.package.terms.slice(1).map((t) => (t.type === "string" ? t.value : null));
    if (!overlaps(pkg)) continue;
    if (pkg.length >= target.length) return true;
    for (const r of m.rules) {
      const head: (string | null)[] = [];
      for (const [k, t] of r.head.ref.entries()) {
        if (k === 0) head.push(t.type === "var" ? t.name : null);
        else if (t.type === "string") head.push(t.value);
        else break;
      }
      if (overlaps([...pkg, ...head])) return true;
    }
  }
  let v: Value | undefined = data;
  for (const key of target) {
    if (v === undefined || !isObject(v)) return false;
    v = objectGet(v, key);
  }
  return v !== undefined;
}

/** What one document adds to a namespace's CheckResult (results go to the sinks). */
export interface NamespaceSinks {
  successes: number;
  failures: ResultSink;
  warnings: ResultSink;
  exceptions: ResultSink;
}

/**
 * Check one document against the library's query (engine data already holds the file's
 * data.conftest.file): results are pushed to `out[i]` for namespace i, successes added to it.
 * Returns the query's print output. `label` names the document in error messages.
 */
export async function checkLibraryDocument(engine: Engine, lp: LibraryPlan, doc: unknown, timeoutMs: number, label: string, out: NamespaceSinks[]): Promise<string[]> {
  const scratch: CheckResult = { filename: "", namespace: "", successes: 0, skipped: [], warnings: [], failures: [], exceptions: [], queries: [] };
  const row = (await evalRows(engine, lp.query, doc, scratch, timeoutMs, false, label))[0];
  if (row === undefined) throw new ConftestError(`query rule: check: query rule: the library's query has no result`);
  const bindings = row.bindings;
  lp.namespaces.forEach((p, i) => {
    const result = out[i];
    const tally = { passes: 0, counted: 0 };
    for (const v of p.vars) {
      const excCount = v.exc === undefined ? 0 : Number(bindings.get(v.exc));
      const failure = isFailureRule(v.rule);
      const vals = bindings.get(v.val);
      if (excCount === 0) for (const value of Array.isArray(vals) ? vals : []) addRuleValue(value, v.query, failure, result, tally);
      for (let k = 0; k < excCount; k++) result.exceptions.push({ msg: `data.${p.ns}.exception[_][_] == ${goString(exceptionName(v.rule))}` });
      tally.counted += excCount;
    }
    // The library's per-finding exemptions (an annotation or a settings entry with a reason).
    const ex = p.exempted ? bindings.get(p.exempted) : undefined;
    for (const value of Array.isArray(ex) ? ex : []) {
      const items = Array.isArray(value) ? value : value instanceof RSet ? value.sorted() : [];
      for (const item of items) {
        if (!isObject(item)) continue;
        result.exceptions.push(objectResult(item, `data.${p.ns}.exempted`));
        tally.counted++;
      }
    }
    result.successes += Math.max(tally.passes, p.rules.definitions - tally.counted);
  });
  return scratch.queries!.flatMap((q) => q.outputs ?? []);
}

/** The message naming a document in the library's errors. */
export function libraryDocumentLabel(d: number, filename: string): string {
  return `the built-in library (document ${d + 1} of ${filename})`;
}

/**
 * The library's evaluation: per document one query whose bindings are, per namespace and rule,
 * the exception count, the rule's value and the namespace's `exempted` set. Results are what
 * checkDocument gives for the same policies (same order, same counts), plus the exemptions;
 * their lists come from `list`.
 */
async function runBatched<L extends ResultSink>(
  engine: Engine,
  modules: Module[],
  namespaces: string[],
  baseData: Value,
  configs: Config[],
  timeoutMs: number,
  list: () => L,
): Promise<BatchedResult<L>[]> {
  const lp = libraryPlan(modules, namespaces, baseData);
  const results: BatchedResult<L>[][] = lp.namespaces.map(() => []);
  for (const config of configs) {
    engine.setData(withFile(baseData, config.file));
    const perNs: BatchedResult<L>[] = lp.namespaces.map((p) => ({ filename: config.filename, namespace: p.ns, successes: 0, skipped: list(), warnings: list(), failures: list(), exceptions: list(), queries: [] }));
    const docs = config.documents;
    for (let d = 0; d < docs.length; d++) {
      const doc = config.lazy ? config.lazy.take(d, 1)[0] : docs[d];
      // A checked document is not needed again: let it be collected (a 50 MB input is ~85k of them).
      docs[d] = undefined;
      let outputs: string[];
      try {
        outputs = await checkLibraryDocument(engine, lp, doc, timeoutMs, libraryDocumentLabel(d, config.filename), perNs);
      } catch (e) {
        settleInputs(configs);
        throw e;
      }
      if (outputs.length && perNs.length > 0) perNs[0].queries!.push({ query: lp.query, outputs });
    }
    perNs.forEach((r, i) => results[i].push(r));
  }
  engine.setData(baseData);
  return results.flat();
}

/** Does the namespace define a rule (not a function) of that name? */
function hasDocumentRule(modules: Module[], ns: string, name: string): boolean {
  return modules.some(
    (m) => packageName(m) === ns && m.rules.some((r) => r.head.kind !== "function" && r.head.ref.length === 1 && r.head.ref[0].type === "var" && r.head.ref[0].name === name),
  );
}

export function withFile(base: Value, file: { name: string; dir: string }): unknown {
  const root: Record<string, unknown> = {};
  if (isObject(base)) for (const [k, v] of objectEntries(base)) if (typeof k === "string") root[k] = v;
  const prev = isObject(base) ? objectGet(base, "conftest") : undefined;
  const conftest: Record<string, unknown> = {};
  if (prev !== undefined && isObject(prev)) for (const [k, v] of objectEntries(prev)) if (typeof k === "string") conftest[k] = v;
  conftest.file = { name: file.name, dir: file.dir };
  root.conftest = conftest;
  return root;
}

async function evalQuery(engine: Engine, query: string, input: unknown, result: CheckResult, timeoutMs: number, trace: boolean): Promise<Value[]> {
  return (await evalRows(engine, query, input, result, timeoutMs, trace)).map((r) => r.expressions[0]);
}

/** `label` names the query in error messages (the library's batched query is long). */
async function evalRows(engine: Engine, query: string, input: unknown, result: CheckResult, timeoutMs: number, trace: boolean, label = query): Promise<RawResult[]> {
  const outputs: string[] = [];
  const print = (line: string, loc?: Location) => outputs.push(loc ? `${loc.file}:${loc.row}: ${line}` : line);
  let rows;
  const tracer = trace ? new BufferTracer() : undefined;
  // Filled only on an engine with the collecting table (--show-builtin-errors).
  const collector = new BuiltinErrorCollector();
  try {
    rows = await engine.queryRaw(query, { input, print, timeoutMs, tracer, host: { [COLLECTOR_KEY]: collector } });
  } catch (e) {
    if (e instanceof RegoError && isTimeout(e)) {
      // Worded here, where the limit and the flag that sets it are known (conftest has none).
      throw new ConftestError(`query rule: check: query rule: ${label}: evaluation exceeded the --timeout of ${goDuration(timeoutMs * 1e6)} (raise --timeout or fix the policy)`);
    }
    if (e instanceof RegoError) throw new ConftestError(`query rule: check: query rule: ${e.message}`);
    throw e;
  }
  if (collector.errors.length) throw new ConftestError(`query rule: check: query rule: ${collector.text()}`);
  // conftest prints OPA's trace of each query (PrettyTrace: no locations).
  result.queries!.push(tracer ? { query, outputs, traces: prettyTrace(tracer.events, { shortPaths: true }), passed: !rows.some((r) => hasMessage(r.expressions[0])) } : { query, outputs });
  return rows;
}

/** Does a query's value carry a message (a string or an object's `msg` in a collection)? conftest's --trace colours such a query's header red. */
function hasMessage(v: Value): boolean {
  const items = Array.isArray(v) ? v : v instanceof RSet ? v.sorted() : [];
  return items.some((x) => (typeof x === "string" ? x !== "" : isObject(x) && typeof objectGet(x, "msg") === "string" && objectGet(x, "msg") !== ""));
}

async function checkDocument(engine: Engine, ns: string, rules: RuleSet, input: unknown, result: CheckResult, timeoutMs: number, trace: boolean): Promise<void> {
  const tally = { passes: 0, counted: 0 };
  for (const rule of rules.names) {
    const excQuery = `data.${ns}.exception[_][_] == ${goString(exceptionName(rule))}`;
    const excRows = await evalQuery(engine, excQuery, input, result, timeoutMs, trace);
    // Only true solutions count (a false comparison is not an exception).
    const exceptions: Result[] = excRows.filter((v) => v === true).map(() => ({ msg: excQuery }));
    const query = `data.${ns}.${rule}`;
    const rows = await evalQuery(engine, query, input, result, timeoutMs, trace);
    const failure = isFailureRule(rule);
    if (exceptions.length === 0) for (const value of rows) addRuleValue(value, query, failure, result, tally);
    tally.counted += exceptions.length;
    result.exceptions.push(...exceptions);
  }
  result.successes += Math.max(tally.passes, rules.definitions - tally.counted);
}

/**
 * One value of a rule (a set or array of messages or result objects) into the check's result:
 * an empty one, or an empty message, is a pass; each message a failure (deny, violation) or a
 * warning, counted.
 */
function addRuleValue(value: Value, query: string, failure: boolean, result: Pick<NamespaceSinks, "failures" | "warnings">, tally: { passes: number; counted: number }): void {
  const items = Array.isArray(value) ? value : value instanceof RSet ? value.sorted() : undefined;
  if (!items || items.length === 0) {
    tally.passes++;
    return;
  }
  for (const item of items) {
    let r: Result | undefined;
    if (typeof item === "string") r = { msg: item, metadata: { query } };
    else if (isObject(item)) r = objectResult(item, query);
    if (r === undefined) continue;
    if (r.msg === "") {
      tally.passes++;
      continue;
    }
    tally.counted++;
    (failure ? result.failures : result.warnings).push(r);
  }
}

function objectResult(item: Value, query: string): Result {
  const msg = isObject(item) ? objectGet(item, "msg") : undefined;
  if (typeof msg !== "string") throw new ConftestError(`query rule: check: query rule: new result: "msg" field must be present and a string`);
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of objectEntries(item as never)) {
    if (k === "msg" || k === "_loc") continue;
    metadata[typeof k === "string" ? k : String(k)] = v;
  }
  metadata.query = query;
  const loc = resultLocation(isObject(item) ? objectGet(item, "_loc") : undefined);
  return loc ? { msg, loc, metadata } : { msg, metadata };
}

/**
 * conftest's Location from a result's `_loc`: an object whose `file` is a string and whose
 * `line` is a number (kept as its text); none when it is not an object or has neither.
 */
function resultLocation(v: Value | undefined): ResultLocation | undefined {
  if (v === undefined || !isObject(v)) return undefined;
  const file = objectGet(v, "file");
  const line = objectGet(v, "line");
  const loc: ResultLocation = {};
  if (typeof file === "string" && file !== "") loc.file = file;
  if (line !== undefined && isNumber(line)) loc.line = numberText(line);
  return loc.file === undefined && loc.line === undefined ? undefined : loc;
}

/**
 * OPA's compiler stops after the first stage that has errors (undefined functions come before
 * unsafe variables, which come before type errors): only that stage's errors are reported.
 */
export function earliestStage(e: RegoError): RegoError {
  const stages = e.errors.map((x) => classifyStage(x));
  const first = Math.min(...stages);
  const kept = e.errors.filter((_, i) => stages[i] === first);
  return kept.length === e.errors.length ? e : new RegoError(kept);
}

const CHECKED_RULE = /^(deny|violation|warn)(_[a-zA-Z0-9]+)*$/;

/**
 * conftest's refusal of `deny[msg] if { … }` in Rego v1: without `contains` that defines an
 * object (`deny[msg]` is `true`), not the set of messages the author meant. A deny, violation or
 * warn rule whose head is a ref of several parts with the value `true` is reported with its file
 * and line (the first such rule).
 */
export function problematicIf(modules: Module[]): string | null {
  for (const m of modules) {
    for (const r of m.rules) {
      const h = r.head;
      if (h.kind !== "single" || h.ref.length < 2 || h.ref[0].type !== "var" || !CHECKED_RULE.test(h.ref[0].name)) continue;
      if (h.value?.type === "boolean" && h.value.value === true) {
        return `rule is using 'if' keyword without 'contains' keyword: rule in ${m.file} at line ${h.loc.row}`;
      }
    }
  }
  return null;
}
