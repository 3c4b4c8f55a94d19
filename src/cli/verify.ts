// `portcullis verify`: Rego unit tests (a drop-in for `conftest verify`, with what `opa test`
// adds: -v, --run, --coverage, --threshold, --timeout, -f pretty|json) and Gatekeeper
// `gator verify` suites found among the paths.
//
// Output: conftest verify's (stdout, json, tap, table, junit, github… through src/output) by
// default; opa test's pretty or JSON report with -f/--format, -v, --coverage or --threshold;
// opa test's verbose report with explanations with --report (as conftest does).

import { existsSync, readFileSync, statSync } from "node:fs";
import { Engine } from "../engine/index.ts";
import { RegoError, formatError } from "../rego/errors.ts";
import { parseModule } from "../rego/parser.ts";
import type { Module, Rule, Term, Expr, Body } from "../rego/ast.ts";
import { BUILTINS } from "../builtins/index.ts";
import { loadPaths, LoadError, type LoadedFiles } from "../load/index.ts";
import { discover, growProbes, dropProbes, testQuery, placeExtraBodies, type TestCase, type Discovery } from "../verify/discover.ts";
import { runTests, runTest, DEFAULT_TIMEOUT_MS, type TestResult } from "../verify/runner.ts";
import { CoverageCollector, coverageReport } from "../verify/coverage.ts";
import { TraceCollector, TraceText, failTrace, fullTrace, failureLine, formatTraceLines, plainTraceLines } from "../verify/trace.ts";
import { prettyReport, jsonReport, toCheckResults, goDuration } from "../verify/report.ts";
import { strictErrors } from "../verify/strict.ts";
import { render, OUTPUT_FORMATS, type CheckResult, type OutputFormat, type RenderOptions } from "../output/index.ts";

export interface VerifyOptions {
  policy?: string[];
  data?: string[];
  namespace?: string[];
  output?: string;
  report?: string;
  trace?: boolean;
  quiet?: boolean;
  strict?: boolean;
  showBuiltinErrors?: boolean;
  capabilities?: string;
  color?: boolean;
  noColor?: boolean;
  regoVersion?: string;
  v0Compatible?: boolean;
  verbose?: boolean;
  run?: string;
  coverage?: boolean;
  threshold?: string | number;
  timeout?: string;
  format?: string;
  exitZeroOnSkipped?: boolean;
  failOnEmpty?: boolean;
  junitHideMessage?: boolean;
  githubHidePassed?: boolean;
}

type Writer = (s: string) => void;

class UsageError extends Error {}

/** Run verify; returns the exit code. */
export async function runVerify(paths: string[], o: VerifyOptions, out: Writer, err: Writer): Promise<number> {
  const opaStyle = o.format !== undefined || !!o.verbose || !!o.coverage || o.threshold !== undefined;
  const conftestErr = (msg: string) => err(`Error: running verification: ${msg}\n`);
  let timeoutMs: number;
  let run: RegExp | undefined;
  let threshold: number | undefined;
  try {
    timeoutMs = o.timeout !== undefined ? parseDuration(o.timeout) : DEFAULT_TIMEOUT_MS;
    if (o.run !== undefined) {
      try {
        run = new RegExp(o.run);
      } catch (e) {
        throw new UsageError(`invalid --run regular expression: ${(e as Error).message}`);
      }
    }
    if (o.threshold !== undefined) {
      threshold = Number(o.threshold);
      if (!Number.isFinite(threshold)) throw new UsageError(`invalid --threshold ${o.threshold}`);
    }
    if (o.format !== undefined && o.format !== "pretty" && o.format !== "json") throw new UsageError(`invalid --format ${o.format} (use pretty or json)`);
    if (o.output !== undefined && !OUTPUT_FORMATS.includes(o.output as OutputFormat)) {
      throw new UsageError(`unknown output format "${o.output}" (valid options are: ${OUTPUT_FORMATS.join(", ")})`);
    }
    if (o.report !== undefined && !["full", "notes", "fails"].includes(o.report)) throw new UsageError(`invalid --report ${o.report} (use full, notes or fails)`);
    if (o.regoVersion !== undefined && o.regoVersion !== "v0" && o.regoVersion !== "v1") throw new UsageError(`invalid --rego-version ${o.regoVersion} (use v0 or v1)`);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const regoVersion: "v0" | "v1" = o.v0Compatible || o.regoVersion === "v0" ? "v0" : "v1";
  // gator's `dir/...` (a tree) is how directories are read anyway.
  paths = paths.map((p) => (p === "..." ? "." : p.replace(/\/\.\.\.$/, "") || "/"));
  const policyPaths = [...paths, ...(o.policy ?? [])];
  if (policyPaths.length === 0) policyPaths.push("policy");

  // ---- Load ------------------------------------------------------------------------------------
  const suitePaths: string[] = [];
  let files: LoadedFiles;
  try {
    const missing = policyPaths.filter((p) => !existsSync(p));
    if (missing.length) {
      throw new LoadError(loadErrors(missing.map((p) => `stat ${p}: no such file or directory`)));
    }
    files = { modules: [], data: [] };
    const { findSuiteFiles } = await import("../gatekeeper/suite.ts");
    for (const p of policyPaths) {
      const isDir = statSync(p).isDirectory();
      const suites = isDir ? findSuiteFiles(p.replace(/\/+$/, "") + "/...") : /\.ya?ml$/i.test(p) ? findSuiteFiles(p) : [];
      if (suites.length) suitePaths.push(...suites);
      // A conftest policy path (-p) holds policies; a positional path, like opa test's, also data.
      // Gatekeeper trees hold Kubernetes YAML, which is not data.
      const onlyRego = suites.length > 0 || !paths.includes(p);
      if (!isDir && suites.length) continue;
      const f = loadPaths([p], onlyRego ? { ignore: (x) => /\.(ya?ml|json)$/i.test(x) && !statSync(x).isDirectory() } : {});
      files.modules.push(...f.modules);
      files.data.push(...f.data);
    }
  } catch (e) {
    if (e instanceof LoadError) {
      const msg = /^\d+ errors? occurred/.test(e.message) ? e.message : loadErrors([e.message]);
      if (opaStyle) err(`${msg}\n`);
      else conftestErr(`load: loading policies: load: ${msg}`);
      return 1;
    }
    throw e;
  }
  if (o.data?.length) {
    try {
      const missing = o.data.filter((p) => !existsSync(p));
      if (missing.length) throw new LoadError(missing.map((p) => `stat ${p}: no such file or directory`).join("\n"));
      const d = loadPaths(o.data, { ignore: (x) => /\.rego$/i.test(x) });
      files.data.push(...d.data);
    } catch (e) {
      if (e instanceof LoadError) {
        const msg = loadErrors(e.message.split("\n"));
        if (opaStyle) err(`${msg}\n`);
        else conftestErr(`load: load documents: ${msg}`);
        return 1;
      }
      throw e;
    }
  }

  // ---- Parse, discover, compile ----------------------------------------------------------------
  const sources = new Map(files.modules.map((m) => [m.file, m.source]));
  const modules: Module[] = [];
  const parseErrors: string[] = [];
  for (const f of files.modules) {
    try {
      modules.push(parseModule(f.file, f.source, { regoVersion }));
    } catch (e) {
      if (e instanceof RegoError) parseErrors.push(...e.errors.map(formatError));
      else throw e;
    }
  }
  if (parseErrors.length) {
    const msg = loadErrors(parseErrors);
    if (opaStyle) err(msg + "\n");
    else conftestErr(`load: loading policies: load: ${msg}`);
    return 1;
  }
  if (o.strict) {
    const errs = strictErrors(modules);
    if (errs.length) {
      const msg = new RegoError(errs).message;
      if (opaStyle) err(msg + "\n");
      else conftestErr(`load: loading policies: get compiler: ${msg}`);
      return 1;
    }
  }
  if (o.capabilities) {
    const capErr = checkCapabilities(o.capabilities, modules);
    if (capErr) {
      if (opaStyle) err(capErr + "\n");
      else conftestErr(`load: loading policies: get compiler: ${capErr}`);
      return 1;
    }
  }
  placeExtraBodies(modules, sources);
  const disc: Discovery = discover(modules);
  const wantCoverage = !!o.coverage || threshold !== undefined;
  const coverage = wantCoverage ? new CoverageCollector(modules, disc.probeRules) : null;
  const makeEngine = (hooks?: CoverageCollector | TraceCollector) => {
    const e = new Engine({ regoVersion, strictBuiltinErrors: !!o.showBuiltinErrors, hooks });
    for (const d of files.data) e.addData(d.value, d.path);
    return e;
  };
  const engine = makeEngine(coverage ?? undefined);
  try {
    compileWithProbes(engine, modules, disc);
  } catch (e) {
    if (e instanceof RegoError) {
      if (opaStyle) err(e.message + "\n");
      else conftestErr(`load: loading policies: get compiler: ${e.message}`);
      return 1;
    }
    throw e;
  }

  // ---- Select and run --------------------------------------------------------------------------
  let tests = disc.tests;
  if (o.namespace?.length) {
    const globs = o.namespace.map(globRegExp);
    tests = tests.filter((t) => globs.some((g) => g.test(t.pkgPath.join("."))));
  }
  const results = await runTests(engine, tests, {
    run,
    timeoutMs,
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

  // Explanations for failures: the failed tests again, on an instrumented engine.
  const wantExplain = o.report !== undefined || (opaStyle && !!o.verbose && o.format !== "json") || !!o.trace;
  const failTraces = new Map<TestResult, string[]>();
  const plainTraces = new Map<TestResult, string[]>();
  const failureLines = new Map<TestResult, { file: string; row: number; text: string }>();
  if (wantExplain) {
    const tracer = new TraceCollector();
    const texts = new TraceText(modules, sources, disc.probeRules);
    const te = makeEngine(tracer);
    try {
      te.addParsedModules(modules);
      const toTrace = o.trace || o.report === "full" ? results.filter((r) => !r.skip && !r.error && r.test.kind !== "function") : results.filter((r) => r.fail && !r.error);
      for (const r of toTrace) {
        tracer.start();
        let defined = false;
        try {
          const rs = await te.queryRaw(testQuery(r.test), { timeoutMs, print: () => {} });
          defined = rs.length > 0;
        } catch {
          defined = false;
        }
        const events = tracer.stop();
        const q = queryText(r.test);
        if (o.report === "notes") failTraces.set(r, []);
        else if (o.report === "full") failTraces.set(r, formatTraceLines(fullTrace(events, q, defined, texts)));
        else failTraces.set(r, formatTraceLines(failTrace(events, q, r.test.loc, defined, texts)));
        if (o.trace) plainTraces.set(r, plainTraceLines(fullTrace(events, q, defined, texts)));
        if (o.report !== undefined && r.fail && !r.subResults?.length) {
          const fl = failureLine(events, r.test.loc, texts);
          if (fl) failureLines.set(r, { file: fl.loc.file, row: fl.loc.row, text: fl.text });
        }
      }
    } catch {
      // Explanations are best effort.
    }
  }

  for (const r of results) if (o.trace && !plainTraces.has(r)) plainTraces.set(r, []);

  // Gatekeeper suites.
  let suiteText = "";
  let suitesOK = true;
  if (suitePaths.length) {
    const { runSuites, formatText, formatJSON, allPassed } = await import("../gatekeeper/suite.ts");
    const rs = await runSuites(suitePaths, { run: o.run, verbose: !!o.verbose });
    suitesOK = allPassed(rs);
    suiteText = o.format === "json" || o.output === "json" ? formatJSON(rs) : formatText(rs, { verbose: !!o.verbose });
  }
  const haveRego = results.length > 0 || suitePaths.length === 0;

  // ---- Report ----------------------------------------------------------------------------------
  const failed = results.some((r) => r.fail || r.error);
  const skipped = results.some((r) => r.skip);
  let code = 0;
  if (o.report !== undefined) {
    if (haveRego) out(prettyReport(results, { verbose: true, failTraces, failureLines }));
    code = failed ? 1 : 0;
  } else if (opaStyle) {
    if (wantCoverage && coverage) {
      if (failed) {
        // As opa test does: the failures, and no coverage report.
        out(prettyReport(results.filter((r) => r.fail || r.error), { verbose: !!o.verbose, failTraces }));
        const first = results.find((r) => r.fail || r.error)!;
        err(`${first.test.fullName}: ${first.error ? "ERROR" : "FAIL"} (${goDuration(first.durationNs)})\n\n`);
        code = 1;
      } else {
        const report = coverageReport(modules, sources, coverage.covered, disc.probeRules);
        out(JSON.stringify(report, null, 2) + "\n");
        if (threshold !== undefined && report.coverage < threshold) {
          err(`Code coverage threshold not met: got ${report.coverage.toFixed(2)} instead of ${threshold.toFixed(2)}\n`);
          code = 2;
        } else if (skipped && !o.exitZeroOnSkipped) code = 2;
      }
    } else {
      if (haveRego) out(o.format === "json" ? jsonReport(results) : prettyReport(results, { verbose: !!o.verbose, failTraces }));
      if (failed || (skipped && !o.exitZeroOnSkipped)) code = 2;
    }
    if (o.failOnEmpty && results.length === 0 && suitePaths.length === 0) {
      err("no tests were run\n");
      code = 1;
    }
  } else {
    // conftest verify: an erroring test stops the run with its error.
    const errored = results.find((r) => r.error);
    if (errored) {
      conftestErr(`run test: ${errored.error!.text}`);
      return 1;
    }
    if (haveRego) {
      const format = (o.output ?? "stdout") as OutputFormat;
      const checks = toCheckResults(results, o.trace ? plainTraces : undefined);
      let text = render(checks, format, {
        noColor: !!o.noColor || o.color === false,
        tracing: !!o.trace,
        showSkipped: true,
        junitHideMessage: !!o.junitHideMessage,
        githubHidePassed: !!o.githubHidePassed,
      } as RenderOptions);
      if (format === "stdout" && !o.trace) text = withSkippedCount(text, checks);
      out(text);
      // conftest also writes the traces to standard error, whatever the output format.
      if (o.trace) err(render(checks, "stdout", { noColor: !!o.noColor || o.color === false, tracing: true } as RenderOptions));
    }
    code = failed ? 1 : 0;
  }
  if (suiteText) {
    out(suiteText);
    if (!suitesOK) code = code || 1;
  }
  return code;
}

/** conftest verify's summary line always counts skipped tests, even none. */
function withSkippedCount(text: string, checks: CheckResult[]): string {
  let skipped = 0;
  for (const c of checks) skipped += c.skipped.length;
  if (skipped > 0) return text;
  const m = /(\d+ tests?, \d+ passed, \d+ warnings?, \d+ failures?, \d+ exceptions?)(\x1b\[0m)?\n$/.exec(text);
  if (!m) return text;
  return text.slice(0, m.index) + m[1] + ", 0 skipped" + (m[2] ?? "") + "\n";
}

function loadErrors(msgs: string[]): string {
  return msgs.length === 1 ? `1 error occurred during loading: ${msgs[0]}` : `${msgs.length} errors occurred during loading:\n${msgs.join("\n")}`;
}

/** Compile the modules with their probe rules; probes that cannot compile grow, then go. */
function compileWithProbes(engine: Engine, modules: Module[], disc: Discovery): void {
  if (disc.probeRules.size === 0) {
    engine.addParsedModules(modules);
    return;
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      engine.addParsedModules(modules);
      return;
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      if (!growProbes(disc, modules)) break;
    }
  }
  dropProbes(disc, modules);
  engine.addParsedModules(modules);
}

function queryText(t: TestCase): string {
  const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;
  return ident.test(t.name) ? `${t.pkg}.${t.name}` : `${t.pkg}[${JSON.stringify(t.name)}]`;
}

/** Durations as Go writes them: 500ms, 5s, 1m30s, 1h (a bare number is seconds). */
export function parseDuration(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let used = 0;
  while ((m = re.exec(s)) !== null) {
    const n = Number(m[1]);
    const unit = m[2];
    total += unit === "ns" ? n / 1e6 : unit === "us" || unit === "µs" ? n / 1000 : unit === "ms" ? n : unit === "s" ? n * 1000 : unit === "m" ? n * 60000 : n * 3600000;
    used = re.lastIndex;
  }
  if (used !== s.length || s.length === 0) throw new UsageError(`invalid duration "${s}" (use e.g. 500ms, 5s, 1m)`);
  return total;
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

/** --capabilities: every builtin the policies call must be in the file's list. */
function checkCapabilities(file: string, modules: Module[]): string | null {
  let caps: { builtins?: { name: string }[] };
  try {
    caps = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    return `capabilities: ${file}: ${(e as Error).message}`;
  }
  const allowed = new Set((caps.builtins ?? []).map((b) => b.name));
  const errors: string[] = [];
  const withErrors: string[] = [];
  for (const m of modules) {
    const userFns = new Set<string>();
    for (const r of m.rules) if (r.head.kind === "function" && r.head.ref[0].type === "var") userFns.add(r.head.ref[0].name);
    const visitTerm = (t: Term): void => {
      switch (t.type) {
        case "call": {
          const name = t.op.terms.map((x) => (x.type === "var" ? x.name : x.type === "string" ? x.value : "?")).join(".");
          if (BUILTINS.has(name) && !allowed.has(name) && !userFns.has(name)) errors.push(`${m.file}:${t.loc.row}: rego_type_error: undefined function ${name}`);
          t.args.forEach(visitTerm);
          return;
        }
        case "ref":
          t.terms.forEach(visitTerm);
          return;
        case "array":
        case "set":
          t.items.forEach(visitTerm);
          return;
        case "object":
          t.items.forEach(([k, v]) => (visitTerm(k), visitTerm(v)));
          return;
        case "arraycomp":
        case "setcomp":
          visitTerm(t.head);
          visitBody(t.body);
          return;
        case "objectcomp":
          visitTerm(t.key);
          visitTerm(t.value);
          visitBody(t.body);
          return;
        default:
          return;
      }
    };
    const visitExpr = (e: Expr): void => {
      const n = e.node;
      if (n.type === "call") {
        const name = n.op.terms.map((x) => (x.type === "var" ? x.name : x.type === "string" ? x.value : "?")).join(".");
        const internal = ["eq", "assign", "equal", "neq", "lt", "lte", "gt", "gte", "plus", "minus", "mul", "div", "rem", "and", "or", "internal.member_2", "internal.member_3", "print", "internal.print"];
        if (BUILTINS.has(name) && !allowed.has(name) && !internal.includes(name) && !userFns.has(name)) errors.push(`${m.file}:${e.loc.row}: rego_type_error: undefined function ${name}`);
        n.args.forEach(visitTerm);
      } else if (n.type === "term") visitTerm(n.term);
      else if (n.type === "somein") visitTerm(n.collection);
      else if (n.type === "every") {
        visitTerm(n.domain);
        visitBody(n.body);
      }
    };
    const visitBody = (b: Body) =>
      b.forEach((e) => {
        visitExpr(e);
        for (const w of e.with) {
          const ts = w.target.terms;
          const name = ts.map((x) => (x.type === "var" ? x.name : x.type === "string" ? x.value : "?")).join(".");
          if (ts[0].type === "var" && (ts[0].name === "input" || ts[0].name === "data")) continue;
          if (BUILTINS.has(name) && !allowed.has(name) && !userFns.has(name)) {
            withErrors.push(`${m.file}:${w.loc.row}: rego_type_error: with keyword target must reference existing input, data, or a function`);
          }
        }
      });
    for (const r of m.rules as Rule[]) {
      visitBody(r.body);
      for (const e of r.elses) visitBody(e.body);
      if (r.head.value) visitTerm(r.head.value);
    }
  }
  if (withErrors.length) return withErrors.length === 1 ? `1 error occurred: ${withErrors[0]}` : `${withErrors.length} errors occurred:\n${withErrors.join("\n")}`;
  if (errors.length === 0) return null;
  return errors.length === 1 ? `1 error occurred: ${errors[0]}` : `${errors.length} errors occurred:\n${errors.join("\n")}`;
}

export { runTest };
