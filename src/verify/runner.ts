// Running discovered tests one at a time: each test is the query `data.<pkg>.<name>`, evaluated
// with its own deadline, its `print` output captured, and its outcome classified as opa test
// does (pass, fail, error, skipped; sub-results for ref-head tests).

import type { Engine } from "../engine/index.ts";
import { RegoError, type ErrorDetail } from "../rego/errors.ts";
import type { Value } from "../rego/value.ts";
import { isObject, objectEntries, RSet } from "../rego/value.ts";
import { formatValue } from "../rego/print.ts";
import { testQuery, type TestCase } from "./discover.ts";

/** A sub-result of a ref-head test: one key, and the keys below it. */
export interface SubResult {
  name: string;
  fail: boolean;
  children: SubResult[];
}

/** An evaluation error as opa test reports it. */
export interface TestError {
  /** One evaluation error (opa prints `file:row: code: message`) or a list of compile errors. */
  kind: "eval" | "compile";
  errors: (ErrorDetail & { details?: unknown })[];
  /** Text opa prints under the test line. */
  text: string;
}

export interface TestResult {
  test: TestCase;
  pass: boolean;
  fail: boolean;
  skip: boolean;
  error?: TestError;
  durationNs: number;
  /** Lines written by `print`. */
  output: string[];
  subResults?: SubResult[];
}

export interface RunOptions {
  /** Only tests whose full name (data.pkg.test_x) matches. */
  run?: RegExp;
  /** Per-test deadline (default 5 s, as opa test). */
  timeoutMs?: number;
  strictBuiltinErrors?: boolean;
  /** Called around each test's evaluation (coverage collection switches on here). */
  onTestStart?: (t: TestCase) => void;
  onTestEnd?: (t: TestCase) => void;
  /** Called after each test (streaming output). */
  onResult?: (r: TestResult) => void;
}

export const DEFAULT_TIMEOUT_MS = 5000;

export function selectTests(tests: TestCase[], run?: RegExp): TestCase[] {
  return run ? tests.filter((t) => run.test(t.fullName)) : tests;
}

export async function runTests(engine: Engine, tests: TestCase[], opts: RunOptions = {}): Promise<TestResult[]> {
  const out: TestResult[] = [];
  for (const t of selectTests(tests, opts.run)) {
    const r = await runTest(engine, t, opts);
    out.push(r);
    opts.onResult?.(r);
  }
  return out;
}

export async function runTest(engine: Engine, t: TestCase, opts: RunOptions = {}): Promise<TestResult> {
  const base: TestResult = { test: t, pass: false, fail: false, skip: false, durationNs: 0, output: [] };
  if (t.skip) return { ...base, skip: true };
  if (t.kind === "function") {
    const ref = `${t.pkg}.${t.name}`;
    const msg = `function ${ref} used as reference, not called`;
    const start = process.hrtime.bigint();
    const text = `1 error occurred: 1:1: rego_type_error: ${msg}\n\t${ref}\n\t${"^".repeat(ref.length)}\n\thave: ${functionType(t)}`;
    const error: TestError = { kind: "compile", errors: [{ code: "rego_type_error", message: msg, location: { file: "", row: 1, col: 1 } }], text };
    return { ...base, error, durationNs: Number(process.hrtime.bigint() - start) };
  }
  const output: string[] = [];
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const query = testQuery(t);
  const start = process.hrtime.bigint();
  let value: Value | undefined;
  let error: TestError | undefined;
  opts.onTestStart?.(t);
  try {
    const rs = await engine.queryRaw(query, {
      timeoutMs,
      strictBuiltinErrors: opts.strictBuiltinErrors,
      print: (line) => output.push(line),
    });
    value = rs.length > 0 ? rs[0].expressions[0] : undefined;
  } catch (e) {
    if (!(e instanceof RegoError)) throw e;
    error = testError(e);
  } finally {
    opts.onTestEnd?.(t);
  }
  const durationNs = Number(process.hrtime.bigint() - start);
  if (error) return { ...base, error, durationNs, output };
  if (t.kind === "sub") {
    const seen = await probeKeys(engine, t, timeoutMs);
    const subResults = subResultsOf(value, t.levels, seen);
    const failed = subResults.some((s) => s.fail);
    return { ...base, pass: !failed, fail: failed, durationNs, output, subResults };
  }
  const pass = t.kind === "plain" && value === true;
  return { ...base, pass, fail: !pass, durationNs, output };
}

/** A function's type as opa prints it, from what its head shows: `(any, any) => boolean`. */
function functionType(t: TestCase): string {
  const args = (t.rule.head.args ?? []).map(() => "any").join(", ");
  const v = t.rule.head.value;
  const result = !v ? "boolean" : v.type === "boolean" ? "boolean" : v.type === "string" ? "string" : v.type === "number" ? "number" : v.type === "null" ? "null" : "any";
  return `(${args}) => ${result}`;
}

/** opa's wording: an evaluation error is one `file:row: code: message`; a timeout is "context deadline exceeded". */
function testError(e: RegoError): TestError {
  const errors = e.errors.map((x) => ({ ...x }));
  if (errors.length === 1 && errors[0].code === "eval_cancel_error" && /^timed out/.test(errors[0].message)) {
    errors[0] = { code: "eval_cancel_error", message: "context deadline exceeded" };
  }
  const isEval = errors.length === 1 && errors[0].code.startsWith("eval_");
  if (isEval) {
    const x = errors[0];
    const where = x.location ? `${x.location.file}:${x.location.row}: ` : "";
    return { kind: "eval", errors, text: `${where}${x.code}: ${x.message}` };
  }
  const lines = errors.map((x) => `${x.location ? `${x.location.file}:${x.location.row}: ` : ""}${x.code}: ${x.message}`);
  const text = errors.length === 1 ? `1 error occurred: ${lines[0]}` : `${errors.length} errors occurred:\n${lines.join("\n")}`;
  return { kind: "compile", errors, text };
}

/** Key tuples the test's body reached, per level (from the probe rules). */
async function probeKeys(engine: Engine, t: TestCase, timeoutMs: number): Promise<Map<number, Value[][]>> {
  const out = new Map<number, Value[][]>();
  for (const p of t.probes) {
    try {
      const rs = await engine.queryRaw(testQuery({ pkgPath: t.pkgPath, name: p.name }), { timeoutMs, print: () => {} });
      const v = rs.length > 0 ? rs[0].expressions[0] : undefined;
      if (v instanceof RSet) out.set(p.level, v.sorted().filter(Array.isArray) as Value[][]);
    } catch {
      // A probe that errors tells nothing more than the test itself.
    }
  }
  return out;
}

export function keyName(k: Value): string {
  return typeof k === "string" ? k : formatValue(k);
}

/** The sub-result tree: produced leaves pass when true; keys reached but not produced fail. */
export function subResultsOf(value: Value | undefined, levels: number, seen: Map<number, Value[][]>): SubResult[] {
  interface Node {
    name: string;
    fail: boolean;
    children: Map<string, Node>;
  }
  const root: Node = { name: "", fail: false, children: new Map() };
  const child = (n: Node, name: string): Node => {
    let c = n.children.get(name);
    if (!c) n.children.set(name, (c = { name, fail: false, children: new Map() }));
    return c;
  };
  const walk = (n: Node, v: Value, depth: number) => {
    if (depth === levels) {
      if (v !== true) n.fail = true;
      return;
    }
    if (!isObject(v)) {
      n.fail = true;
      return;
    }
    for (const [k, x] of objectEntries(v)) walk(child(n, keyName(k)), x, depth + 1);
  };
  if (value !== undefined) {
    if (levels === 0 || !isObject(value)) root.fail = value !== true;
    else for (const [k, x] of objectEntries(value)) walk(child(root, keyName(k)), x, 1);
  }
  for (const [, tuples] of seen) {
    for (const tuple of tuples) {
      // Produced? Follow the value.
      let v: Value | undefined = value;
      let n = root;
      let produced = true;
      for (const k of tuple) {
        n = child(n, keyName(k));
        if (produced && v !== undefined && isObject(v)) {
          const e = objectEntries(v).find(([kk]) => keyName(kk) === keyName(k));
          v = e ? e[1] : undefined;
        } else v = undefined;
        if (v === undefined) produced = false;
      }
      if (!produced) n.fail = true;
    }
  }
  const finish = (n: Node): SubResult => {
    const children = [...n.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(finish);
    return { name: n.name, fail: n.fail || children.some((c) => c.fail), children };
  };
  return finish(root).children;
}

/** Leaf count of a result as opa counts it in its summary (a test without sub-results is one). */
export function leafResults(r: TestResult): { pass: number; fail: number } {
  if (!r.subResults || r.subResults.length === 0) return { pass: r.pass ? 1 : 0, fail: r.fail ? 1 : 0 };
  let pass = 0;
  let fail = 0;
  const visit = (s: SubResult) => {
    if (s.children.length === 0) {
      if (s.fail) fail++;
      else pass++;
    } else s.children.forEach(visit);
  };
  r.subResults.forEach(visit);
  return { pass, fail };
}
