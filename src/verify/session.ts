// `portcullis verify`'s work, without the command line: load a run's policy, data and
// Gatekeeper suite files, discover the tests, compile them (with the probe rules of sub-result
// tests), run them, explain failures and measure coverage. src/cli/verify.ts maps its flags to
// these options and prints the results; a server or another host can call the same functions.

import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { Engine } from "../engine/index.ts";
import { RegoError } from "../rego/errors.ts";
import type { Module } from "../rego/ast.ts";
import { loadPaths, checkDataMerge, LoadError, type LoadedFiles } from "../load/index.ts";
import { discover, growProbes, dropProbes, testQuery, placeExtraBodies, type TestCase, type Discovery } from "./discover.ts";
import { runTests, DEFAULT_TIMEOUT_MS, type TestResult } from "./runner.ts";
import { CoverageCollector, coverageReport, type CoverageReport } from "./coverage.ts";
import { explainLines, failureLine, formatTraceLines, plainTraceLines, SourceText } from "./trace.ts";
import { BufferTracer, explainEvents, type ExplainMode } from "../rego/trace.ts";
import { strictErrors } from "./strict.ts";
import { ignoreFilter } from "./discover.ts";
import { checkCapabilities } from "./capabilities.ts";
import { parseForCheck, loadingErrorsText, type CheckError } from "../check/index.ts";
import { problematicIf, noPoliciesFound } from "../conftest/checks.ts";
import { CONFTEST_TABLE } from "../conftest/builtins.ts";
import type { BuiltinTable } from "../rego/builtin.ts";

/**
 * Where a session failed to load: reading the policies (files, parsing), reading the data
 * documents (-d), building the compiler (strict checks, capabilities, compile errors), or
 * conftest's refusals of what loaded (no policy at all, `deny[x] if …`). opa
 * test prints the message alone; conftest verify words each stage differently.
 */
export type VerifyStage = "load-policies" | "load-documents" | "compile" | "refused";

export class VerifyError extends Error {
  readonly stage: VerifyStage;
  constructor(stage: VerifyStage, message: string) {
    super(message);
    this.name = "VerifyError";
    this.stage = stage;
  }
}

export interface VerifySessionOptions {
  /** Paths named as policy paths (conftest's -p): their .rego files only. */
  policy?: string[];
  /** Data files or directories (-d): their .json/.yaml files only. */
  data?: string[];
  regoVersion?: "v0" | "v1";
  /** conftest's --strict checks (unused imports and variables, …) before compiling. */
  strict?: boolean;
  /** An OPA capabilities JSON file: the builtins the policies may call. */
  capabilities?: string;
  /** Builtin errors are errors, not undefined. */
  showBuiltinErrors?: boolean;
  /** Instrument the engine for coverage (read with sessionCoverage after running). */
  coverage?: boolean;
  /**
   * conftest verify's load checks: no .rego file at all is `no policies found in [paths]`, and
   * `deny[x] if …` rules (see problematicIf) are refused after compiling.
   */
  conftest?: boolean;
  /** opa test's --ignore: names (Go glob patterns) of files and directories below the paths to skip. */
  ignore?: string[];
}

export interface VerifySession {
  regoVersion: "v0" | "v1";
  showBuiltinErrors: boolean;
  /** conftest verify's engine: OPA's builtins and conftest's parse_config*; otherwise OPA's. */
  builtins?: BuiltinTable;
  /** Parsed modules (with the probe rules of discovery placed in them). */
  modules: Module[];
  /** Module sources by file name. */
  sources: Map<string, string>;
  data: LoadedFiles["data"];
  discovery: Discovery;
  /** Gatekeeper `Suite` files found among the paths (for gator verify). */
  suitePaths: string[];
  /** The arguments to hand to the Gatekeeper suite runner (gator verify's path semantics). */
  suiteArgs: string[];
  coverage: CoverageCollector | null;
  /** The compiled engine the tests run on. */
  engine: Engine;
}

/**
 * Load, parse, check and compile a verify run. Positional `paths` are read as opa test reads
 * them (policies and data; gator's `dir/...` means the tree); with neither paths nor policy
 * paths, `policy`. Throws VerifyError.
 */
export async function loadVerifySession(paths: string[], o: VerifySessionOptions = {}): Promise<VerifySession> {
  const ignored = ignoreFilter(o.ignore ?? []);
  const regoVersion = o.regoVersion ?? "v1";
  // gator's `dir/...` (a tree) is how directories are read anyway; for Gatekeeper suites the
  // argument as given decides, as in gator verify (a bare directory: its own files only).
  const given = paths;
  paths = paths.map((p) => (p === "..." ? "." : p.replace(/\/\.\.\.$/, "") || "/"));
  const suiteArgOf = new Map<string, string>();
  paths.forEach((p, i) => {
    if (!suiteArgOf.has(p)) suiteArgOf.set(p, given[i]);
  });
  const policyPaths = [...paths, ...(o.policy ?? [])];
  if (policyPaths.length === 0) policyPaths.push("policy");

  // ---- Load ------------------------------------------------------------------------------------
  const suitePaths: string[] = [];
  const suiteArgs: string[] = [];
  let files: LoadedFiles;
  try {
    const missing = policyPaths.filter((p) => !existsSync(p));
    if (missing.length) {
      throw new LoadError(loadErrors(missing.map((p) => `stat ${p}: no such file or directory`)));
    }
    files = { modules: [], data: [] };
    const seen = new Set<string>();
    const { findSuiteFiles, parseSuites } = await import("../gatekeeper/suite.ts");
    // A named YAML file is a suite only if it declares one (a plain document is data).
    const declaresSuite = (f: string) => {
      const text = readFileSync(f, "utf8");
      if (!/kind:\s*["']?Suite\b/.test(text)) return false;
      try {
        return parseSuites(text, f).length > 0;
      } catch {
        return true; // a malformed suite: gator reports it
      }
    };
    for (const p of policyPaths) {
      const isDir = statSync(p).isDirectory();
      const suites = isDir ? findSuiteFiles(p.replace(/\/+$/, "") + "/...") : /\.ya?ml$/i.test(p) && declaresSuite(p) ? [p] : [];
      if (suites.length) {
        suitePaths.push(...suites);
        // a policy path (-p) is searched whole; a positional one as gator verify reads it
        suiteArgs.push(!isDir ? p : paths.includes(p) ? (suiteArgOf.get(p) ?? p) : p.replace(/\/+$/, "") + "/...");
      }
      // A conftest policy path (-p) holds policies; a positional path, like opa test's, also data.
      // Gatekeeper trees hold Kubernetes YAML, which is not data.
      const onlyRego = suites.length > 0 || !paths.includes(p);
      if (!isDir && suites.length) continue;
      const f = loadPaths([p], {
        ignore: (x) => !!ignored?.(x) || (onlyRego && /\.(ya?ml|json)$/i.test(x) && !statSync(x).isDirectory()),
      });
      // A file reached through several paths (`-p policy/sub policy`) is loaded once.
      for (const m of f.modules) {
        if (seen.has(resolve(m.file))) continue;
        seen.add(resolve(m.file));
        files.modules.push(m);
      }
      for (const d of f.data) {
        const key = `${resolve(d.file)} at ${JSON.stringify(d.path)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        files.data.push(d);
      }
    }
  } catch (e) {
    if (e instanceof LoadError) {
      throw new VerifyError("load-policies", /^\d+ errors? occurred/.test(e.message) ? e.message : loadErrors([e.message]));
    }
    throw e;
  }
  if (o.data?.length) {
    try {
      const missing = o.data.filter((p) => !existsSync(p));
      if (missing.length) throw new LoadError(missing.map((p) => `stat ${p}: no such file or directory`).join("\n"));
      const d = loadPaths(o.data, { ignore: (x) => !!ignored?.(x) || /\.rego$/i.test(x) });
      files.data.push(...d.data);
    } catch (e) {
      if (e instanceof LoadError) throw new VerifyError("load-documents", loadErrors(e.message.split("\n")));
      throw e;
    }
  }
  // Data files of all the paths together must merge (OPA's "merge error").
  try {
    checkDataMerge(files.data);
  } catch (e) {
    if (e instanceof LoadError) throw new VerifyError("load-documents", loadErrors([e.message]));
    throw e;
  }

  // ---- Parse, check, discover, compile ---------------------------------------------------------
  const sources = new Map(files.modules.map((m) => [m.file, m.source]));
  const modules: Module[] = [];
  const parseErrors: CheckError[] = [];
  for (const f of files.modules) {
    const r = parseForCheck(f.file, f.source, regoVersion);
    if (r.errors) parseErrors.push(...r.errors);
    else modules.push(r.module!);
  }
  if (parseErrors.length) throw new VerifyError("load-policies", loadingErrorsText(parseErrors));
  if (o.conftest && modules.length === 0 && suitePaths.length === 0) throw new VerifyError("refused", noPoliciesFound(policyPaths));
  const ifWithoutContains = o.conftest ? problematicIf(modules) : null;
  if (o.strict) {
    const errs = strictErrors(modules);
    if (errs.length) throw new VerifyError("compile", new RegoError(errs).message);
  }
  if (o.capabilities) {
    const capErr = checkCapabilities(o.capabilities, modules);
    if (capErr) throw new VerifyError("compile", capErr);
  }
  placeExtraBodies(modules, sources);
  const discovery: Discovery = discover(modules);
  const coverage = o.coverage ? new CoverageCollector(modules, discovery.probeRules) : null;
  const settings = { regoVersion, showBuiltinErrors: !!o.showBuiltinErrors, data: files.data, builtins: o.conftest ? CONFTEST_TABLE : undefined };
  const engine = sessionEngine(settings, coverage ?? undefined);
  try {
    compileWithProbes(engine, modules, discovery);
  } catch (e) {
    if (e instanceof RegoError) throw new VerifyError("compile", e.message);
    throw e;
  }
  if (ifWithoutContains) throw new VerifyError("refused", ifWithoutContains);
  return { ...settings, modules, sources, discovery, suitePaths, suiteArgs, coverage, engine };
}

/** A fresh engine with the session's settings and data (modules not added). */
function sessionEngine(s: Pick<VerifySession, "regoVersion" | "showBuiltinErrors" | "data" | "builtins">, hooks?: CoverageCollector): Engine {
  const e = new Engine({ regoVersion: s.regoVersion, strictBuiltinErrors: s.showBuiltinErrors, hooks, builtins: s.builtins });
  for (const d of s.data) e.addData(d.value, d.path);
  return e;
}

function loadErrors(msgs: string[]): string {
  return msgs.length === 1 ? `1 error occurred during loading: ${msgs[0]}` : `${msgs.length} errors occurred during loading:\n${msgs.join("\n")}`;
}

/** Compile the modules with their probe rules; probes that cannot compile grow, then go. */
function compileWithProbes(engine: Engine, modules: Module[], disc: Discovery): void {
  const build = () => {
    engine.addParsedModules(modules);
    engine.compile();
  };
  if (disc.probeRules.size === 0) {
    build();
    return;
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      build();
      return;
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      if (!growProbes(disc, modules)) break;
    }
  }
  dropProbes(disc, modules);
  build();
}

export interface RunSessionOptions {
  /** Only packages matching one of these globs (conftest's namespace globs, see globRegExp). */
  namespaces?: string[];
  /** Only tests whose name (data.pkg.test_x) matches. */
  run?: RegExp;
  /** Per-test deadline (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Run the session's tests (those selected); coverage, when on, is collected per test. */
export async function runVerifySession(s: VerifySession, o: RunSessionOptions = {}): Promise<TestResult[]> {
  let tests = s.discovery.tests;
  if (o.namespaces?.length) {
    const globs = o.namespaces.map(globRegExp);
    tests = tests.filter((t) => globs.some((g) => g.test(t.pkgPath.join("."))));
  }
  const coverage = s.coverage;
  return runTests(s.engine, tests, {
    run: o.run,
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    onTestStart: () => {
      if (coverage) {
        coverage.reset();
        coverage.enabled = true;
      }
    },
    onTestEnd: () => {
      if (coverage) coverage.enabled = false;
    },
  });
}

/** The coverage report of a session loaded with `coverage` (after running it). */
export function sessionCoverage(s: VerifySession): CoverageReport {
  if (!s.coverage) throw new Error("the session was loaded without coverage");
  return coverageReport(s.modules, s.sources, s.coverage.covered, s.discovery.probeRules);
}

export interface ExplainOptions {
  /** opa test's verbose report with explanations: every test traced (full), notes only, or failures. */
  report?: "full" | "notes" | "fails";
  /** opa test --explain: the trace shown under each failed test (default fails). */
  explain?: ExplainMode;
  /** Plain evaluation traces of every test (conftest verify --trace). */
  trace?: boolean;
  timeoutMs?: number;
}

export interface Explanations {
  /** Explanation lines printed under a test in opa test's report. */
  failTraces: Map<TestResult, string[]>;
  /** conftest's trace lines (with `trace`: every result has an entry). */
  plainTraces: Map<TestResult, string[]>;
  /** The expression a failed test stopped at (with `report`). */
  failureLines: Map<TestResult, { file: string; row: number; text: string; pad: string }>;
}

/**
 * Explanations for the results: the tests concerned run again, one at a time, on an engine
 * engine with a tracer. Best effort: what cannot be explained is left out.
 */
export async function explainResults(s: VerifySession, results: TestResult[], o: ExplainOptions = {}): Promise<Explanations> {
  const failTraces = new Map<TestResult, string[]>();
  const plainTraces = new Map<TestResult, string[]>();
  const failureLines = new Map<TestResult, { file: string; row: number; text: string; pad: string }>();
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const te = sessionEngine(s);
  const sources = new SourceText(s.sources);
  // --report's kind decides the trace under failed tests (conftest verify); opa test's --explain otherwise.
  // conftest's `--report full` is the whole trace, Unify events included (opa test's `full` is not).
  const mode: ExplainMode = o.report === "full" ? "debug" : (o.report ?? o.explain ?? "fails");
  try {
    te.addParsedModules(s.modules);
    const toTrace = o.trace || mode === "full" || mode === "debug" ? results.filter((r) => !r.skip && !r.error && r.test.kind !== "function") : results.filter((r) => r.fail && !r.error);
    for (const r of toTrace) {
      const tracer = new BufferTracer();
      let defined = false;
      try {
        const rs = await te.queryRaw(testQuery(r.test), { timeoutMs, print: () => {}, tracer });
        defined = rs.length > 0;
      } catch {
        defined = false;
      }
      const events = tracer.events;
      // A test that was defined (but not true) and where nothing failed has nothing to explain.
      const lines = mode === "fails" && defined && !events.some((e) => e.op === "Fail") ? [] : explainLines(events, mode, o.report !== undefined);
      failTraces.set(r, formatTraceLines(lines));
      if (o.trace) plainTraces.set(r, plainTraceLines(events));
      if (o.report !== undefined && r.fail && !r.subResults?.length) {
        // conftest's report shows every event with `full` (Unify too), the lineage otherwise.
        const fl = failureLine(o.report === "full" ? events : explainEvents(events, o.report), sources);
        if (fl) failureLines.set(r, { file: fl.loc.file, row: fl.loc.row, text: fl.text, pad: sources.padding(fl.loc) });
      }
    }
  } catch {
    // Explanations are best effort.
  }
  for (const r of results) if (o.trace && !plainTraces.has(r)) plainTraces.set(r, []);
  return { failTraces, plainTraces, failureLines };
}

/** conftest's namespace globs: `*` matches any run of characters (dots included), `?` one, `[…]` a class. */
export function globRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const j = glob.indexOf("]", i + 1);
      if (j < 0) re += "\\[";
      else {
        let cls = glob.slice(i + 1, j);
        if (cls.startsWith("!")) cls = "^" + cls.slice(1);
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
