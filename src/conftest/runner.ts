// The `conftest test` evaluation model, reproduced from conftest's observable behaviour:
//
//  * Policies: every `.rego` file under the policy paths (hidden ones included). Data: every
//    `.json`/`.yaml`/`.yml` file under the data paths, merged at its directory's path.
//  * Namespaces: `--all-namespaces` takes every package; otherwise the -n names are used as they
//    are, unless one of them is a glob (`*`, `?`, `[`), in which case the packages matching any
//    name are used (`*` also matches dots).
//  * Rules: in each namespace, the rules named `deny`, `violation` or `warn`, optionally followed
//    by `_suffix` parts of letters and digits. Each is queried as `data.<ns>.<rule>`; a set or
//    array value gives one result per string element (or per object with a string `msg`: the
//    other keys are metadata); an empty collection or any other value is a pass.
//  * Exceptions: before each rule, `data.<ns>.exception[_][_] == "<rule name without its
//    deny_/violation_/warn_ prefix>"`; each solution is an exception and the rule's own results
//    are then dropped.
//  * Documents: a file whose value is a list (multi-document YAML, a JSON array) is checked one
//    element at a time; `--combine` checks all files at once as `[{path, contents}]`.
//  * Successes per document: max(passes, rule definitions − failures − warnings − exceptions),
//    where rule definitions counts every definition (defaults included) of the checked rules.
//  * data.conftest.file is {name, dir} of the file being checked (dir absolute).
//  * `print` output of every query is kept per result (the stdout format shows it as PRNT).

import { readFileSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve, relative, sep } from "node:path";
import { Engine } from "../engine/index.ts";
import type { RawResult } from "../rego/engine.ts";
import { CONFTEST_TABLE } from "./builtins.ts";
import { BuiltinErrorCollector, collectingTable, COLLECTOR_KEY } from "./builtinerrors.ts";
import { RegoError } from "../rego/errors.ts";
import { classifyStage } from "../rego/strict.ts";
import { parseModule } from "../rego/parser.ts";
import type { Module, Location } from "../rego/ast.ts";
import { RSet, isObject, isNumber, numberText, objectGet, objectEntries, type Value } from "../rego/value.ts";
import { parseDataFile, checkDataMerge, LoadError } from "../load/index.ts";
import { parseFile, parseContent, detectParserName, ParseError } from "../formats/index.ts";
import { asGoNumbers } from "./numbers.ts";
import type { CheckResult, Result, ResultLocation } from "../output/types.ts";
import { compareUTF8, goString } from "../gotext/plainjson.ts";
import { ConftestError, STDIN, findInputFiles, combineConfigs } from "./inputs.ts";
import { globToRegExp, hasGlobMeta } from "./glob.ts";
import { goDuration } from "../verify/report.ts";
import { BufferTracer, prettyTrace } from "../rego/trace.ts";
import { checkStrict, checkCapabilities, problematicIf, noPoliciesFound } from "./checks.ts";
import { parseForCheck, loadingErrorsText, type CheckError } from "../check/index.ts";

export { ConftestError } from "./inputs.ts";

export interface TestOptions {
  /** Policy files or directories (.rego files are loaded). */
  policy: string[];
  /** Data files or directories (.json/.yaml/.yml). */
  data?: string[];
  /** Namespaces or globs (default ["main"]). */
  namespaces?: string[];
  allNamespaces?: boolean;
  combine?: boolean;
  /** Parser for every input (default: chosen by file name; yaml for stdin). */
  parser?: string;
  regoVersion?: "v0" | "v1";
  /** --show-builtin-errors: builtin errors stop the run instead of making calls undefined. */
  showBuiltinErrors?: boolean;
  strict?: boolean;
  /** Path of an OPA capabilities JSON file restricting the builtins policies may call. */
  capabilities?: string;
  ignore?: string;
  /** Name reported for standard input (default "-"). */
  stdinFilename?: string;
  /** Leave `*_test.rego` files out of the policies (used for the built-in library). */
  skipTestFiles?: boolean;
  /** Evaluation deadline per query, in milliseconds (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Read standard input (tests pass their own). */
  readStdin?: () => string;
  /** Record each query's evaluation trace (--trace): CheckResult.queries[].traces. */
  trace?: boolean;
  /**
   * The built-in library is being run: each document is checked with one query over every
   * namespace (so the library's shared helpers are computed once per document, not once per
   * rule), and each namespace's `exempted` set is reported as exceptions (library/README.md).
   */
  library?: boolean;
}

/** conftest's engine: OPA's builtins and conftest's parse_config*. */

/** For --show-builtin-errors: the same builtins, recording their errors (builtinerrors.ts). */
let collectingConftestTable: ReturnType<typeof collectingTable> | undefined;

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

/**
 * Every .rego file under the paths, in walk order (names sorted, hidden entries included), each
 * once. A file named directly is a policy only if it is a .rego file, as in OPA's loader.
 */
export function findPolicyFiles(paths: string[], opts: { skipTestFiles?: boolean } = {}): string[] {
  const out = new Set<string>();
  const missing: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      missing.push(`stat ${p}: no such file or directory`);
      continue;
    }
    if (!st.isDirectory()) {
      if (p.endsWith(".rego")) out.add(p);
      continue;
    }
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort(compareUTF8)) {
        const f = join(dir, name);
        let s;
        try {
          s = statSync(f);
        } catch {
          continue;
        }
        if (s.isDirectory()) walk(f);
        else if (name.endsWith(".rego") && !(opts.skipTestFiles && name.endsWith("_test.rego"))) out.add(f);
      }
    };
    walk(p);
  }
  if (missing.length) throw new ConftestError(`load: loading policies: load: ${loadingErrorsText(missing.map((message) => ({ message })))}`);
  return [...out];
}

/**
 * Load the policies and data into a new engine, failing as conftest does: files that cannot be
 * read or parsed (`load: N errors occurred during loading`), no policy at all (`no policies
 * found in [paths]`), compile errors (`get compiler`), then `deny[x] if …` rules.
 */
export function loadPolicies(o: TestOptions): LoadedPolicies {
  const regoVersion = o.regoVersion ?? "v1";
  const files = findPolicyFiles(o.policy, { skipTestFiles: o.skipTestFiles }).map((file) => ({ file, source: readText(file) }));
  const modules: Module[] = [];
  const parseErrors: CheckError[] = [];
  for (const f of files) {
    const r = parseForCheck(f.file, f.source, regoVersion);
    if (r.errors) parseErrors.push(...r.errors);
    else modules.push(r.module!);
  }
  if (parseErrors.length) throw new ConftestError(`load: loading policies: load: ${loadingErrorsText(parseErrors)}`);
  if (modules.length === 0) throw new ConftestError(`load: loading policies: ${noPoliciesFound(o.policy)}`);
  // --show-builtin-errors: evaluation goes on past a builtin error, as without the flag, and
  // each query's errors are collected and reported together (as conftest does).
  const builtins = o.showBuiltinErrors ? (collectingConftestTable ??= collectingTable(CONFTEST_TABLE)) : CONFTEST_TABLE;
  const engine = new Engine({ regoVersion, strictBuiltinErrors: false, builtins, timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  const ifWithoutContains = problematicIf(modules);
  try {
    engine.addParsedModules(modules);
    engine.compile();
  } catch (e) {
    if (e instanceof RegoError) throw new ConftestError(`load: loading policies: get compiler: ${earliestStage(e).message}`);
    throw e;
  }
  if (o.strict || o.capabilities) {
    // The checks read the modules as written (the compiler rewrites the engine's copies).
    const fresh = files.map((f) => parseModule(f.file, f.source, { regoVersion }));
    const errs = [...(o.capabilities ? checkCapabilities(fresh, o.capabilities) : []), ...(o.strict ? checkStrict(fresh) : [])];
    if (errs.length) throw new ConftestError(`load: loading policies: get compiler: ${new RegoError(errs).message}`);
  }
  if (ifWithoutContains) throw new ConftestError(`load: loading policies: ${ifWithoutContains}`);
  for (const d of loadData(o.data ?? [])) engine.addData(d.value, d.path);
  return { engine, modules };
}

/**
 * OPA's compiler stops after the first stage that has errors (undefined functions come before
 * unsafe variables, which come before type errors): only that stage's errors are reported.
 */
function earliestStage(e: RegoError): RegoError {
  const stages = e.errors.map((x) => classifyStage(x));
  const first = Math.min(...stages);
  const kept = e.errors.filter((_, i) => stages[i] === first);
  return kept.length === e.errors.length ? e : new RegoError(kept);
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new ConftestError(`load: loading policies: load: 1 error occurred during loading: ${file}: ${(e as Error).message}`);
  }
}

const DATA_FILE = /\.(json|ya?ml)$/i;

/** Data documents under the paths: a file named directly is merged at the root, files found in a directory at their relative directory. */
export function loadData(paths: string[]): { file: string; path: string[]; value: unknown }[] {
  const out: { file: string; path: string[]; value: unknown }[] = [];
  const read = (file: string, at: string[]) => {
    let value: unknown;
    try {
      value = parseDataFile(file, readFileSync(file, "utf8"));
    } catch (e) {
      throw new ConftestError(`load: loading data: ${e instanceof LoadError ? e.message : (e as Error).message}`);
    }
    out.push({ file, path: at, value });
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new ConftestError(`load: loading data: stat ${p}: no such file or directory`);
    }
    if (!st.isDirectory()) {
      read(p, []);
      continue;
    }
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort(compareUTF8)) {
        const f = join(dir, name);
        const s = statSync(f);
        if (s.isDirectory()) walk(f);
        else if (DATA_FILE.test(name)) read(f, relative(p, dir).split(sep).filter((x) => x !== ""));
      }
    };
    walk(p);
  }
  try {
    checkDataMerge(out);
  } catch (e) {
    if (e instanceof LoadError) throw new ConftestError(`load: load documents: 1 error occurred during loading: ${e.message}`);
    throw e;
  }
  return out;
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
  /** The documents checked one at a time. */
  documents: unknown[];
}

/** Parse the inputs into configs (one per file, or one combined). */
export function readConfigs(inputs: string[], o: TestOptions): Config[] {
  const files = findInputFiles(inputs, { ignore: o.ignore });
  const parsed: { path: string; name: string; value: unknown }[] = [];
  for (const f of files) {
    let value: unknown;
    let parser: string;
    try {
      if (f === STDIN) {
        const text = (o.readStdin ?? (() => readFileSync(0, "utf8")))();
        parser = o.parser || (o.stdinFilename ? detectParserName(o.stdinFilename) : "yaml");
        value = parseContent(text, o.stdinFilename || STDIN, { parser: o.parser || (o.stdinFilename ? undefined : "yaml") });
      } else {
        parser = o.parser || detectParserName(f);
        value = parseFile(f, { parser: o.parser || undefined });
      }
    } catch (e) {
      if (e instanceof ParseError) throw new ConftestError(`parse configurations: ${e.message}`);
      throw e;
    }
    // Numbers as conftest's Go parsers hand them to OPA (float64 texts such as 1e+06).
    value = asGoNumbers(value, parser);
    const name = f === STDIN ? o.stdinFilename || STDIN : f;
    parsed.push({ path: f, name, value });
  }
  const cwd = process.cwd();
  if (o.combine) {
    const combined = combineConfigs(parsed.map((p) => ({ path: p.name, value: p.value })));
    return [{ filename: "Combined", file: { name: "Combined", dir: cwd }, documents: [combined] }];
  }
  return parsed.map((p) => ({
    filename: p.name,
    file: { name: basename(p.name), dir: resolve(cwd, dirname(p.name)) },
    documents: Array.isArray(p.value) ? p.value : [p.value],
  }));
}

const isTimeout = (e: RegoError) => e.errors.length === 1 && e.code === "eval_cancel_error" && /^timed out/.test(e.errors[0].message);

/** Run the checks: one CheckResult per namespace and config (namespaces outermost). */
export async function runChecks(loaded: LoadedPolicies, configs: Config[], o: TestOptions): Promise<CheckResult[]> {
  const { engine, modules } = loaded;
  const namespaces = resolveNamespaces(modules, o.namespaces ?? ["main"], o.allNamespaces ?? false);
  const baseData = engine.getData();
  const results: CheckResult[] = [];
  const ruleSets = new Map<string, RuleSet>();
  if (o.library && !o.trace) return runBatched(engine, modules, namespaces, baseData, configs, o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
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
 * The library's evaluation: per document one query whose bindings are, per namespace and rule,
 * the exception count, the rule's value and the namespace's `exempted` set. Results are what
 * checkDocument gives for the same policies (same order, same counts), plus the exemptions.
 */
async function runBatched(engine: Engine, modules: Module[], namespaces: string[], baseData: Value, configs: Config[], timeoutMs: number): Promise<CheckResult[]> {
  const plan = namespaces.map((ns, i) => ({ ns, rules: namespaceRules(modules, ns), exempted: hasDocumentRule(modules, ns, "exempted") ? `x${i}` : undefined }));
  const exprs: string[] = [];
  const ruleVars = plan.map((p, i) =>
    p.rules.names.map((rule, j) => {
      const v = { exc: `e${i}_${j}`, val: `r${i}_${j}`, rule, query: `data.${p.ns}.${rule}` };
      exprs.push(`${v.exc} := count([1 | data.${p.ns}.exception[_][_] == ${goString(exceptionName(rule))}])`);
      exprs.push(`${v.val} := [v | v := data.${p.ns}.${rule}]`);
      return v;
    }),
  );
  for (const p of plan) if (p.exempted) exprs.push(`${p.exempted} := [v | v := data.${p.ns}.exempted]`);
  const query = exprs.join("; ");
  const results: CheckResult[][] = plan.map(() => []);
  for (const config of configs) {
    engine.setData(withFile(baseData, config.file));
    const perNs: CheckResult[] = plan.map((p) => ({ filename: config.filename, namespace: p.ns, successes: 0, skipped: [], warnings: [], failures: [], exceptions: [], queries: [] }));
    const docs = config.documents;
    for (let d = 0; d < docs.length; d++) {
      const doc = docs[d];
      // A checked document is not needed again: let it be collected (a 50 MB input is ~85k of them).
      docs[d] = undefined;
      const scratch: CheckResult = { filename: config.filename, namespace: "", successes: 0, skipped: [], warnings: [], failures: [], exceptions: [], queries: [] };
      const row = (await evalRows(engine, query, doc, scratch, timeoutMs, false, `the built-in library (document ${d + 1} of ${config.filename})`))[0];
      if (row === undefined) throw new ConftestError(`query rule: check: query rule: the library's query has no result`);
      const bindings = row.bindings;
      const outputs = scratch.queries!.flatMap((q) => q.outputs ?? []);
      plan.forEach((p, i) => {
        const result = perNs[i];
        if (outputs.length && i === 0) result.queries!.push({ query, outputs });
        let passes = 0;
        let counted = 0;
        for (const v of ruleVars[i]) {
          const excCount = Number(bindings.get(v.exc));
          const failure = isFailureRule(v.rule);
          const vals = bindings.get(v.val);
          for (const value of Array.isArray(vals) ? vals : []) {
            if (excCount > 0) continue;
            const items = Array.isArray(value) ? value : value instanceof RSet ? value.sorted() : undefined;
            if (!items || items.length === 0) {
              passes++;
              continue;
            }
            for (const item of items) {
              let r: Result | undefined;
              if (typeof item === "string") r = { msg: item, metadata: { query: v.query } };
              else if (isObject(item)) r = objectResult(item, v.query);
              if (r === undefined) continue;
              if (r.msg === "") {
                passes++;
                continue;
              }
              counted++;
              (failure ? result.failures : result.warnings).push(r);
            }
          }
          for (let k = 0; k < excCount; k++) result.exceptions.push({ msg: `data.${p.ns}.exception[_][_] == ${goString(exceptionName(v.rule))}` });
          counted += excCount;
        }
        // The library's per-finding exemptions (an annotation or a settings entry with a reason).
        const ex = p.exempted ? bindings.get(p.exempted) : undefined;
        for (const value of Array.isArray(ex) ? ex : []) {
          const items = Array.isArray(value) ? value : value instanceof RSet ? value.sorted() : [];
          for (const item of items) {
            if (!isObject(item)) continue;
            result.exceptions.push(objectResult(item, `data.${p.ns}.exempted`));
            counted++;
          }
        }
        result.successes += Math.max(passes, p.rules.definitions - counted);
      });
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

function withFile(base: Value, file: { name: string; dir: string }): unknown {
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
  result.queries!.push(tracer ? { query, outputs, traces: prettyTrace(tracer.events), passed: !rows.some((r) => hasMessage(r.expressions[0])) } : { query, outputs });
  return rows;
}

/** Does a query's value carry a message (a string or an object's `msg` in a collection)? conftest's --trace colours such a query's header red. */
function hasMessage(v: Value): boolean {
  const items = Array.isArray(v) ? v : v instanceof RSet ? v.sorted() : [];
  return items.some((x) => (typeof x === "string" ? x !== "" : isObject(x) && typeof objectGet(x, "msg") === "string" && objectGet(x, "msg") !== ""));
}

async function checkDocument(engine: Engine, ns: string, rules: RuleSet, input: unknown, result: CheckResult, timeoutMs: number, trace: boolean): Promise<void> {
  let passes = 0;
  let counted = 0;
  for (const rule of rules.names) {
    const excQuery = `data.${ns}.exception[_][_] == ${goString(exceptionName(rule))}`;
    const excRows = await evalQuery(engine, excQuery, input, result, timeoutMs, trace);
    // Only true solutions count (a false comparison is not an exception).
    const exceptions: Result[] = excRows.filter((v) => v === true).map(() => ({ msg: excQuery }));
    const query = `data.${ns}.${rule}`;
    const rows = await evalQuery(engine, query, input, result, timeoutMs, trace);
    const failure = isFailureRule(rule);
    for (const value of rows) {
      if (exceptions.length > 0) continue;
      const items = Array.isArray(value) ? value : value instanceof RSet ? value.sorted() : undefined;
      if (!items || items.length === 0) {
        passes++;
        continue;
      }
      for (const item of items) {
        let r: Result | undefined;
        if (typeof item === "string") r = { msg: item, metadata: { query } };
        else if (isObject(item)) r = objectResult(item, query);
        if (r === undefined) continue;
        if (r.msg === "") {
          passes++;
          continue;
        }
        counted++;
        (failure ? result.failures : result.warnings).push(r);
      }
    }
    counted += exceptions.length;
    result.exceptions.push(...exceptions);
  }
  result.successes += Math.max(passes, rules.definitions - counted);
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
