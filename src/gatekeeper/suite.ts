// `gator verify` suites: test.gatekeeper.sh/v1alpha1 Suite files.
//
//   tests[]: name, template, constraint, invalid (the constraint must fail schema validation),
//            expansion (a file of ExpansionTemplates: resultants are reviewed too), skip, cases[]
//   cases[]: name, object (exactly one object, or an AdmissionReview), inventory[] (files whose
//            objects make up data.inventory), skip, assertions[]
//   assertions[]: violations ("yes" = at least one, "no" = none, or an exact count; default
//            "yes") and message (an unanchored RE2 regex: only violations whose msg matches
//            are counted)
//
// Paths are relative to the suite file. A path argument is a suite file, a directory (its
// files), or `dir/...` (the directory tree).

import { gatorMutation } from "./mutation/expansion.ts";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseManifests, isPlainObject, ManifestError, type Obj } from "./yaml.ts";
import { readManifests } from "./manifestfiles.ts";
import { Client } from "./client.ts";
import { TemplateError } from "./template.ts";
import { ConstraintError } from "./constraint.ts";
import { ReviewError } from "./review.ts";
import { compileRE2, goQuote } from "./schema.ts";
import type { RE2Tester } from "../builtins/re2.ts";
import { Expander } from "./expansion/expander.ts";
import { isExpansionTemplate } from "./expansion/template.ts";
import { reviewResultants } from "./expansion/review.ts";

export const SUITE_API_VERSION = "test.gatekeeper.sh/v1alpha1";

export interface CaseResult {
  name: string;
  skipped: boolean;
  error?: string;
  runtimeMs: number;
}

export interface TestResult {
  name: string;
  skipped: boolean;
  error?: string;
  runtimeMs: number;
  cases: CaseResult[];
  /** Cases declared but not run because the test itself failed. */
  casesNotRun?: number;
}

export interface SuiteResult {
  /** The suite file (as given or found). */
  path: string;
  name?: string;
  error?: string;
  runtimeMs: number;
  tests: TestResult[];
}

export interface RunOptions {
  /**
   * Filter: a test runs whole when its name matches; otherwise only its cases whose names
   * match. A string "A//B" filters tests by A and their cases by B.
   */
  run?: RegExp | string;
  verbose?: boolean;
  /** Evaluate K8sNativeValidation (CEL) code when a template has it (default true; gator's --enable-k8s-native-validation). */
  k8sNativeValidation?: boolean;
  /** failurePolicy of CEL code that gives none (gator's --default-k8s-native-validation-failure-policy). */
  celFailurePolicy?: "Fail" | "Ignore";
}

export interface Assertion {
  violations?: unknown;
  message?: unknown;
}

export interface SuiteCase {
  name?: string;
  object?: string;
  inventory?: string[];
  assertions?: Assertion[];
  skip?: boolean;
}

export interface SuiteTest {
  name?: string;
  template?: string;
  constraint?: string;
  /** A file of ExpansionTemplates: each case's object is expanded and its resultants reviewed too. */
  expansion?: string;
  invalid?: boolean;
  skip?: boolean;
  cases?: SuiteCase[];
}

export interface Suite {
  path: string;
  name?: string;
  tests: SuiteTest[];
}

export class SuiteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SuiteError";
  }
}

// ---- finding and parsing suites ----------------------------------------------------------

function isSuiteDoc(d: Obj): boolean {
  return d.kind === "Suite" && d.apiVersion === SUITE_API_VERSION;
}

/**
 * Suite files for a path argument, as gator verify finds them: a file; a directory's own files
 * (its subdirectories are not searched); `dir/...`, the whole tree. Files are in the order of
 * their absolute paths. A YAML file is a suite when it declares `kind: Suite`; one that says so
 * but does not parse is kept, so that running it reports the error.
 */
export function findSuiteFiles(p: string): string[] {
  let recursive = false;
  let base = p;
  if (p === "..." || p.endsWith("/...")) {
    recursive = true;
    base = p === "..." ? "." : p.slice(0, -4) || "/";
  }
  const st = fs.statSync(base);
  if (!st.isDirectory()) return [base];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (recursive) walk(full);
      } else if (/\.ya?ml$/i.test(e.name)) {
        let text: string;
        try {
          text = fs.readFileSync(full, "utf8");
        } catch {
          continue;
        }
        if (!/kind:\s*["']?Suite\b/.test(text)) continue;
        try {
          if (parseManifests(text, full, { flattenLists: false }).some(isSuiteDoc)) out.push(full);
        } catch {
          out.push(full);
        }
      }
    }
  };
  walk(base);
  const abs = (f: string) => Buffer.from(path.resolve(f));
  return out.sort((a, b) => Buffer.compare(abs(a), abs(b)));
}

/**
 * The path gator verify prints for a suite found from an argument: the argument (without its
 * `...`) followed by what comes after the argument's text in the suite's absolute path.
 */
export function suiteDisplayPath(arg: string, file: string): string {
  const original = arg.endsWith("/...") ? arg.slice(0, -3) : arg;
  const abs = path.resolve(file).replace(/^\//, "");
  let cut = original.replace(/^\//, "").replace(/^\.\//, "");
  while (cut.startsWith("../")) cut = cut.slice(3);
  const i = abs.indexOf(cut);
  return i < 0 ? file : original + abs.slice(i + cut.length);
}

/** Parse the Suite documents of one file. */
export function parseSuites(text: string, file: string): Suite[] {
  const docs = parseManifests(text, file, { flattenLists: false });
  const out: Suite[] = [];
  for (const d of docs) {
    if (!isSuiteDoc(d)) continue;
    const tests = d.tests ?? [];
    if (!Array.isArray(tests)) throw new SuiteError(`${file}: tests must be a list`);
    tests.forEach((t: unknown, i: number) => {
      if (!isPlainObject(t)) throw new SuiteError(`${file}: tests[${i}] must be an object`);
      if (t.cases !== undefined && t.cases !== null && !Array.isArray(t.cases)) throw new SuiteError(`${file}: tests[${i}].cases must be a list`);
      (t.cases ?? []).forEach((c: unknown, j: number) => {
        if (!isPlainObject(c)) throw new SuiteError(`${file}: tests[${i}].cases[${j}] must be an object`);
        if (c.inventory !== undefined && c.inventory !== null && !Array.isArray(c.inventory)) throw new SuiteError(`${file}: tests[${i}].cases[${j}].inventory must be a list of paths`);
        if (c.assertions !== undefined && c.assertions !== null && !Array.isArray(c.assertions)) throw new SuiteError(`${file}: tests[${i}].cases[${j}].assertions must be a list`);
      });
    });
    out.push({ path: file, name: d.metadata?.name, tests: tests as SuiteTest[] });
  }
  return out;
}

// ---- assertions ----------------------------------------------------------------------------

const INVALID_VIOLATIONS = 'invalid yaml: assertion.violation, if set, must be a nonnegative integer, "yes", or "no"';

/** Check one assertion against the messages of a review; returns an error string or null. */
export function checkAssertion(a: Assertion, messages: string[]): string | null {
  const got = `got messages [${messages.join(" ")}]`;
  let re: RE2Tester | null = null;
  if (a.message !== undefined && a.message !== null) {
    if (typeof a.message !== "string") return `invalid yaml: assertion.message must be a string: ${got}`;
    try {
      re = compileRE2(a.message);
    } catch (e) {
      return `invalid assertion.message regular expression ${goQuote(a.message)}: ${(e as Error).message}`;
    }
  }
  const matching = re ? messages.filter((m) => re!.test(m)).length : messages.length;
  const containing = re ? ` containing ${goQuote(a.message as string)}` : "";
  let v = a.violations;
  if (v === undefined || v === null) v = "yes";
  if (v === true) v = "yes";
  if (v === false) v = "no";
  if (v === "yes") {
    return matching >= 1 ? null : `unexpected number of violations: got ${matching} violations${containing} but want at least 1: ${got}`;
  }
  if (v === "no") {
    return matching === 0 ? null : `unexpected number of violations: got ${matching} violations${containing} but want none: ${got}`;
  }
  let n: number | null = null;
  if (typeof v === "number" && Number.isInteger(v)) n = v;
  else if (typeof v === "string" && /^\d+$/.test(v)) n = Number(v);
  if (n === null || n < 0) return `${INVALID_VIOLATIONS}: ${got}`;
  return matching === n ? null : `unexpected number of violations: got ${matching} violations${containing} but want exactly ${n}: ${got}`;
}

// ---- running -------------------------------------------------------------------------------

interface Filter {
  test: RE2Tester | RegExp | null;
  kase: RE2Tester | RegExp | null;
  /** A single regex (not split). */
  single: boolean;
}

function makeFilter(run: RegExp | string | undefined): Filter {
  if (run === undefined || run === "") return { test: null, kase: null, single: false };
  if (run instanceof RegExp) return { test: run, kase: run, single: true };
  if (run.includes("//")) {
    const [a, b] = run.split("//", 2);
    return { test: a ? compileRE2(a) : null, kase: b ? compileRE2(b) : null, single: false };
  }
  const re = compileRE2(run);
  return { test: re, kase: re, single: true };
}

function testSelected(f: Filter, t: SuiteTest): { run: boolean; allCases: boolean } {
  const name = t.name ?? "";
  if (!f.test && !f.kase) return { run: true, allCases: true };
  if (f.single) {
    if (f.test!.test(name)) return { run: true, allCases: true };
    const any = (t.cases ?? []).some((c) => f.kase!.test(c?.name ?? ""));
    return { run: any, allCases: false };
  }
  const tOk = !f.test || f.test.test(name);
  return { run: tOk, allCases: !f.kase };
}

function readOne(p: string, what: string): Obj {
  let objs: Obj[];
  try {
    objs = readManifests(p);
  } catch (e) {
    throw new SuiteError(`reading ${what} from ${goQuote(fsPath(p))}: ${errMessage(e)}`);
  }
  if (objs.length !== 1) throw new SuiteError(`reading ${what} from ${goQuote(fsPath(p))}: the file defines ${objs.length} objects, want exactly 1`);
  return objs[0];
}

function errMessage(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return `open ${fsPath((e as NodeJS.ErrnoException).path ?? "")}: no such file or directory`;
    return e.message;
  }
  return String(e);
}

const now = () => performance.now();

async function runTest(t: SuiteTest, dir: string, f: Filter, opts: RunOptions = {}): Promise<TestResult> {
  const res: TestResult = { name: t.name ?? "", skipped: false, runtimeMs: 0, cases: [] };
  const sel = testSelected(f, t);
  if (t.skip || !sel.run) {
    res.skipped = true;
    return res;
  }
  const start = now();
  try {
    // As gator's runTest: the template and the constraint are loaded first; with `invalid`, the
    // only acceptable outcome is the constraint's schema failure.
    const client = new Client({ k8sNativeValidation: opts.k8sNativeValidation, celNamespaceObject: false, ...(opts.celFailurePolicy ? { celFailurePolicy: opts.celFailurePolicy } : {}) });
    let loadError: string | null = null;
    let schemaFailure = false;
    try {
      if (!t.template) throw new SuiteError("invalid Suite: missing template");
      const tmplPath = path.resolve(dir, t.template);
      const tmpl = readOne(tmplPath, "ConstraintTemplate");
      try {
        client.addTemplate(tmpl, tmplPath);
      } catch (e) {
        throw new SuiteError(`adding template: ${errMessage(e)}`);
      }
      if (!t.constraint) throw new SuiteError("invalid Suite: missing constraint");
      const cPath = path.resolve(dir, t.constraint);
      const cObj = readOne(cPath, "Constraint");
      try {
        client.addConstraint(cObj, cPath);
      } catch (e) {
        schemaFailure = e instanceof ConstraintError && e.reason === "schema";
        throw e;
      }
    } catch (e) {
      loadError = errMessage(e);
    }
    if (t.invalid) {
      if (schemaFailure) return res;
      throw new SuiteError(`constraint should have failed schema validation: got error ${loadError ?? "<nil>"} but want schema validation failed`);
    }
    if (loadError !== null) throw new SuiteError(loadError);
    const expander = t.expansion ? readExpander(path.join(dir, t.expansion)) : null;
    for (const c of t.cases ?? []) {
      const name = c?.name ?? "";
      if (c.skip || (!sel.allCases && f.kase && !f.kase.test(name))) {
        res.cases.push({ name, skipped: true, runtimeMs: 0 });
        continue;
      }
      res.cases.push(await runCase(client, c, dir, expander));
    }
  } catch (e) {
    res.casesNotRun = Math.max(0, (t.cases ?? []).length - res.cases.length);
    res.error = e instanceof SuiteError || e instanceof TemplateError || e instanceof ConstraintError || e instanceof ManifestError ? e.message : errMessage(e);
  } finally {
    res.runtimeMs = now() - start;
  }
  return res;
}

/** A path as gator's file system (rooted at /) names it: absolute, without the leading slash. */
function fsPath(p: string): string {
  return path.resolve(p).replace(/^\//, "");
}

/** A test's `expansion` file: ExpansionTemplates only (gator's reader), made into an Expander. */
function readExpander(p: string): Expander {
  let objs: Obj[];
  try {
    objs = readManifests(p);
  } catch (e) {
    throw new SuiteError(`reading ExpansionTemplate from ${goQuote(fsPath(p))}: ${errMessage(e)}`);
  }
  if (objs.length === 0 || objs.some((o) => !isExpansionTemplate(o))) throw new SuiteError(`not an Expansion Template: ${goQuote(fsPath(p))}`);
  try {
    return new Expander(objs, { mutation: gatorMutation });
  } catch (e) {
    throw new SuiteError(errMessage(e));
  }
}

async function runCase(client: Client, c: SuiteCase, dir: string, expander: Expander | null = null): Promise<CaseResult> {
  const res: CaseResult = { name: c.name ?? "", skipped: false, runtimeMs: 0 };
  const start = now();
  try {
    if (!c.object) throw new SuiteError("invalid Case: must define object");
    if (!Array.isArray(c.assertions) || c.assertions.length === 0) throw new SuiteError("invalid Case: assertions must be non-empty");
    const inv: Obj[] = [];
    for (const p of c.inventory ?? []) {
      try {
        inv.push(...readManifests(path.resolve(dir, p)));
      } catch (e) {
        throw new SuiteError(`reading inventory ${goQuote(path.resolve(dir, p))}: ${errMessage(e)}`);
      }
    }
    client.setInventory(inv);
    const objPath = path.resolve(dir, c.object);
    let objs: Obj[];
    try {
      objs = readManifests(objPath);
    } catch (e) {
      throw new SuiteError(errMessage(e));
    }
    if (objs.length !== 1) throw new SuiteError(`${goQuote(objPath)} defines ${objs.length} objects, want exactly 1 object to review`);
    let messages: string[];
    try {
      const r = await client.review(objs[0]);
      messages = r.results.map((v) => v.msg);
    } catch (e) {
      if (e instanceof ReviewError) throw new SuiteError(`reviewing ${objPath}: ${e.message}`);
      throw e;
    }
    if (expander) {
      const name = String(objs[0].metadata?.name ?? "");
      let resultants;
      try {
        resultants = await expander.expand(objs[0]);
      } catch (e) {
        throw new SuiteError(`expanding resource ${name}: ${errMessage(e)}`);
      }
      try {
        messages.push(...(await reviewResultants(client, resultants, objs[0])).map((v) => v.msg));
      } catch (e) {
        if (e instanceof ReviewError) throw new SuiteError(`reviewing expanded resource of ${name}: ${e.message}`);
        throw e;
      }
    }
    // As gator: the first assertion that fails is the case's error.
    for (const a of c.assertions) {
      const err = checkAssertion(isPlainObject(a) ? a : {}, messages);
      if (err) {
        res.error = err;
        break;
      }
    }
  } catch (e) {
    res.error = errMessage(e);
  } finally {
    res.runtimeMs = now() - start;
  }
  return res;
}

/** Run one parsed suite. */
export async function runSuite(s: Suite, opts: RunOptions = {}): Promise<SuiteResult> {
  const f = makeFilter(opts.run);
  const res: SuiteResult = { path: s.path, name: s.name, runtimeMs: 0, tests: [] };
  const start = now();
  const dir = path.dirname(path.resolve(s.path));
  for (const t of s.tests) res.tests.push(await runTest(isPlainObject(t) ? t : {}, dir, f, opts));
  res.runtimeMs = now() - start;
  return res;
}

/** Run every suite found under the given paths (files, directories, `dir/...`). */
export async function runSuites(paths: string[], opts: RunOptions = {}): Promise<SuiteResult[]> {
  const out: SuiteResult[] = [];
  for (const p of paths) {
    let files: string[];
    try {
      files = findSuiteFiles(p);
    } catch (e) {
      out.push({ path: p, error: errMessage(e), runtimeMs: 0, tests: [] });
      continue;
    }
    for (const file of files) {
      let suites: Suite[];
      const start = now();
      try {
        suites = parseSuites(fs.readFileSync(file, "utf8"), file);
      } catch (e) {
        out.push({ path: suiteDisplayPath(p, file), error: errMessage(e), runtimeMs: now() - start, tests: [] });
        continue;
      }
      for (const s of suites) out.push({ ...(await runSuite(s, opts)), path: suiteDisplayPath(p, file) });
    }
  }
  return out;
}

// ---- results and formatting ----------------------------------------------------------------

export function casePassed(c: CaseResult): boolean {
  return c.skipped || !c.error;
}
export function testPassed(t: TestResult): boolean {
  return t.skipped || (!t.error && t.cases.every(casePassed));
}
export function suitePassed(s: SuiteResult): boolean {
  return !s.error && s.tests.every(testPassed);
}
export function allPassed(rs: SuiteResult[]): boolean {
  return rs.every(suitePassed);
}

/** Counts of cases run, passed, failed, skipped (a failed test counts its cases as failed). */
export function countCases(rs: SuiteResult[]): { total: number; passed: number; failed: number; skipped: number } {
  let passed = 0,
    failed = 0,
    skipped = 0;
  for (const s of rs)
    for (const t of s.tests) {
      if (t.skipped) continue;
      if (t.error) failed += t.casesNotRun ?? 0;
      for (const c of t.cases) {
        if (c.skipped) skipped++;
        else if (t.error || c.error) failed++;
        else passed++;
      }
    }
  return { total: passed + failed + skipped, passed, failed, skipped };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

/** gator prints an error after a fixed indentation; its further lines are not indented. */
function indent(text: string, pad: string): string {
  return pad + text;
}

/** `go test`-style text, as `gator verify` prints it. */
export function formatText(rs: SuiteResult[], opts: { verbose?: boolean } = {}): string {
  const v = !!opts.verbose;
  let out = "";
  for (const s of rs) {
    if (s.error) {
      out += `FAIL\t${s.path}\t${secs(s.runtimeMs)}\n  ${s.error}\n`;
      continue;
    }
    for (const t of s.tests) {
      if (t.skipped) {
        if (v) out += `=== SKIP  ${t.name}\n`;
        continue;
      }
      const pass = testPassed(t);
      if (v) out += `=== RUN   ${t.name}\n`;
      for (const c of t.cases) {
        if (c.skipped) {
          if (v) out += `    === SKIP  ${c.name}\n`;
          continue;
        }
        if (v) out += `    === RUN   ${c.name}\n`;
        if (c.error) out += `    --- FAIL: ${c.name}\t(${secs(c.runtimeMs)})\n${indent(c.error, "        ")}\n`;
        else if (v) out += `    --- PASS: ${c.name}\t(${secs(c.runtimeMs)})\n`;
      }
      if (!pass) {
        out += `--- FAIL: ${t.name}\t(${secs(t.runtimeMs)})\n`;
        if (t.error) out += `${indent(t.error, "  ")}\n`;
      } else if (v) out += `--- PASS: ${t.name}\t(${secs(t.runtimeMs)})\n`;
    }
    out += `${suitePassed(s) ? "ok" : "FAIL"}\t${s.path}\t${secs(s.runtimeMs)}\n`;
  }
  out += allPassed(rs) ? "PASS\n\n" : "FAIL\n\n";
  return out;
}

/** Machine-readable results. */
export function formatJSON(rs: SuiteResult[]): string {
  const counts = countCases(rs);
  const doc = {
    passed: allPassed(rs),
    counts,
    suites: rs.map((s) => ({
      path: s.path,
      ...(s.name ? { name: s.name } : {}),
      passed: suitePassed(s),
      ...(s.error ? { error: s.error } : {}),
      runtime: secs(s.runtimeMs),
      tests: s.tests.map((t) => ({
        name: t.name,
        passed: testPassed(t),
        skipped: t.skipped,
        ...(t.error ? { error: t.error } : {}),
        runtime: secs(t.runtimeMs),
        cases: t.cases.map((c) => ({
          name: c.name,
          passed: casePassed(c),
          skipped: c.skipped,
          ...(c.error ? { error: c.error } : {}),
          runtime: secs(c.runtimeMs),
        })),
      })),
    })),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
