// `portcullis verify`: Rego unit tests (a drop-in for `conftest verify`, with what `opa test`
// adds: -v, --run, --coverage, --threshold, --timeout, -f pretty|json) and Gatekeeper
// `gator verify` suites found among the paths.
//
// Output: conftest verify's (stdout, json, tap, table, junit, github… through src/output) by
// default; opa test's pretty or JSON report with -f/--format, -v, --coverage or --threshold;
// opa test's verbose report with explanations with --report (as conftest does).

import { DurationError, parseDuration } from "../gotext/duration.ts";
import { DEFAULT_TIMEOUT_MS } from "../verify/runner.ts";
import { loadVerifySession, runVerifySession, explainResults, sessionCoverage, VerifyError, type VerifySession, type Explanations } from "../verify/session.ts";
import type { ExplainMode } from "../rego/trace.ts";
import { prettyReport, jsonReport, toCheckResults, goDuration } from "../verify/report.ts";
import { settingsFromFile, settingsFromEnv, mergeSettings, VERIFY_SETTINGS, type Settings } from "../conftest/settings.ts";
import { ConftestError } from "../conftest/inputs.ts";
import { setProtoFileDirs } from "../formats/textproto.ts";
import { render, noColorFromEnv, OUTPUT_FORMATS, type CheckResult, type OutputFormat, type RenderOptions } from "../output/index.ts";

import { celFailurePolicyError } from "../gatekeeper/cel/driver.ts";

export interface VerifyOptions {
  /** Gatekeeper suites: --enable-k8s-native-validation (default true). */
  enableK8sNativeValidation?: boolean;
  /** Gatekeeper suites: --default-k8s-native-validation-failure-policy. */
  defaultK8sNativeValidationFailurePolicy?: string;
  policy?: string[];
  data?: string[];
  namespace?: string[];
  output?: string;
  report?: string;
  /** opa test --explain: the trace under failed tests with -v (fails, full, notes or debug). */
  explain?: string;
  trace?: boolean;
  /** conftest verify --var-values: the variables and values of failed expressions (turns on --report fails). */
  varValues?: boolean;
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
  /** Names of files and directories to skip while loading (opa test --ignore). */
  ignore?: string[];
  protoFileDirs?: string[];
}

type Writer = (s: string) => void;

/**
 * The conftest settings of a verify run as options: command-line flags over CONFTEST_x and
 * PORTCULLIS_x variables over the configuration file (conftest.toml, or -c FILE), as conftest
 * verify reads them. A string is the error of a configuration that cannot be read.
 */
export function verifyOptionsFromSettings(flags: Settings, configFile: string | undefined, env: Record<string, string | undefined>): VerifyOptions | string {
  let s: Settings;
  try {
    s = mergeSettings(settingsFromFile(configFile, VERIFY_SETTINGS), settingsFromEnv(env, VERIFY_SETTINGS), flags);
  } catch (e) {
    if (e instanceof ConftestError) return e.message;
    throw e;
  }
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : typeof v === "string" ? [v] : undefined);
  const o: VerifyOptions = {};
  if (s.policy !== undefined) o.policy = list(s.policy);
  if (s.data !== undefined) o.data = list(s.data);
  if (s.namespace !== undefined) o.namespace = list(s.namespace);
  if (s["proto-file-dirs"] !== undefined) o.protoFileDirs = list(s["proto-file-dirs"]);
  if (s.output !== undefined) o.output = str(s.output);
  if (s.report !== undefined) o.report = str(s.report);
  if (s.capabilities !== undefined) o.capabilities = str(s.capabilities);
  if (s["rego-version"] !== undefined) o.regoVersion = str(s["rego-version"]);
  if (s["no-color"] !== undefined) o.noColor = s["no-color"] === true;
  if (s.quiet !== undefined) o.quiet = s.quiet === true;
  if (s.strict !== undefined) o.strict = s.strict === true;
  if (s.trace !== undefined) o.trace = s.trace === true;
  if (s["var-values"] !== undefined) o.varValues = s["var-values"] === true;
  if (s["show-builtin-errors"] !== undefined) o.showBuiltinErrors = s["show-builtin-errors"] === true;
  if (s["junit-hide-message"] !== undefined) o.junitHideMessage = s["junit-hide-message"] === true;
  if (s["github-hide-passed"] !== undefined) o.githubHidePassed = s["github-hide-passed"] === true;
  return o;
}

class UsageError extends Error {}

/** Run verify; returns the exit code. */
export async function runVerify(paths: string[], o: VerifyOptions, out: Writer, err: Writer): Promise<number> {
  const opaStyle = o.format !== undefined || !!o.verbose || !!o.coverage || o.threshold !== undefined;
  // conftest: --var-values without --report reports the failures (opa test: the failed expressions under the failures)
  if (o.varValues && o.report === undefined && !opaStyle) o = { ...o, report: "fails" };
  const opaVarValues = opaStyle && !!o.varValues && o.format !== "json";
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
    if (o.explain !== undefined && !["fails", "full", "notes", "debug"].includes(o.explain)) {
      throw new UsageError(`invalid argument "${o.explain}" for "--explain" flag: must be one of {fails,full,notes,debug}`);
    }
    if (o.regoVersion !== undefined && o.regoVersion !== "v0" && o.regoVersion !== "v1") throw new UsageError(`invalid --rego-version ${o.regoVersion} (use v0 or v1)`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof DurationError) {
      err(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (o.protoFileDirs?.length) setProtoFileDirs(o.protoFileDirs);
  // conftest verify reads no positional paths: its tests come from -p (default `policy`) and its
  // data from --data. With either given (neither opa test nor gator verify has them) and no opa
  // test output flag, positional arguments are ignored as conftest ignores them.
  if (!opaStyle && ((o.policy?.length ?? 0) > 0 || (o.data?.length ?? 0) > 0)) paths = [];
  const regoVersion: "v0" | "v1" = o.v0Compatible || o.regoVersion === "v0" ? "v0" : "v1";
  const wantCoverage = !!o.coverage || threshold !== undefined;

  // ---- Load, check, compile --------------------------------------------------------------------
  let session: VerifySession;
  try {
    session = await loadVerifySession(paths, {
      policy: o.policy,
      data: o.data,
      regoVersion,
      strict: o.strict,
      capabilities: o.capabilities,
      showBuiltinErrors: o.showBuiltinErrors,
      coverage: wantCoverage,
      conftest: !opaStyle,
      ignore: o.ignore,
    });
  } catch (e) {
    if (e instanceof VerifyError) {
      if (opaStyle) err(`${e.message}\n`);
      else conftestErr(`${CONFTEST_STAGE[e.stage]}${e.message}`);
      return 1;
    }
    throw e;
  }
  const { suitePaths, suiteArgs } = session;

  // ---- Run, explain ----------------------------------------------------------------------------
  const results = await runVerifySession(session, { namespaces: o.namespace, run, timeoutMs });
  // Explanations for failures: the failed tests again, traced.
  const wantExplain = o.report !== undefined || (opaStyle && !!o.verbose && o.format !== "json") || !!o.trace || opaVarValues;
  const { failTraces, plainTraces, failureLines }: Explanations = wantExplain
    ? await explainResults(session, results, { report: o.report as "full" | "notes" | "fails" | undefined, explain: o.explain as ExplainMode | undefined, trace: !!o.trace, varValues: !!o.varValues, timeoutMs })
    : { failTraces: new Map(), plainTraces: new Map(), failureLines: new Map() };

  // Gatekeeper suites.
  let suiteText = "";
  let suitesOK = true;
  if (suitePaths.length) {
    const { runSuites, formatText, formatJSON, allPassed } = await import("../gatekeeper/suite.ts");
    const policy = o.defaultK8sNativeValidationFailurePolicy;
    const policyErr = celFailurePolicyError(policy);
    if (policyErr) {
      err(`Error: ${policyErr}\n`);
      return 1;
    }
    const rs = await runSuites(suiteArgs, {
      run: o.run,
      verbose: !!o.verbose,
      k8sNativeValidation: o.enableK8sNativeValidation !== false,
      ...(policy ? { celFailurePolicy: policy as "Fail" | "Ignore" } : {}),
    });
    suitesOK = allPassed(rs);
    suiteText = o.format === "json" || o.output === "json" ? formatJSON(rs) : formatText(rs, { verbose: !!o.verbose });
  }
  const haveRego = results.length > 0 || suitePaths.length === 0;

  // ---- Report ----------------------------------------------------------------------------------
  const failed = results.some((r) => r.fail || r.error);
  const skipped = results.some((r) => r.skip);
  let code = 0;
  const noColor = !!o.noColor || noColorFromEnv(process.env);
  // conftest verify: an erroring test stops the run with its error; --quiet prints nothing
  // when all passed.
  const errored = opaStyle ? undefined : results.find((r) => r.error);
  if (errored) {
    conftestErr(`run test: ${errored.error!.text}`);
    return 1;
  }
  const quiet = !opaStyle && !!o.quiet && !failed;
  if (o.report !== undefined) {
    if (!quiet && (o.output ?? "stdout") !== "stdout") {
      err("Error: report flag is supported with stdout only\n");
      return 1;
    }
    if (haveRego && !quiet) out(prettyReport(results, { verbose: true, failTraces, failureLines }));
    code = failed ? 1 : 0;
  } else if (opaStyle) {
    if (wantCoverage) {
      if (failed) {
        // As opa test does: the failures, and no coverage report.
        out(prettyReport(results.filter((r) => r.fail || r.error), { verbose: !!o.verbose, failTraces }));
        const first = results.find((r) => r.fail || r.error)!;
        err(`${first.test.fullName}: ${first.error ? "ERROR" : "FAIL"} (${goDuration(first.durationNs)})\n\n`);
        code = 1;
      } else {
        const report = sessionCoverage(session);
        out(JSON.stringify(report, null, 2) + "\n");
        if (threshold !== undefined && report.coverage < threshold) {
          err(`Code coverage threshold not met: got ${report.coverage.toFixed(2)} instead of ${threshold.toFixed(2)}\n`);
          code = 2;
        } else if (skipped && !o.exitZeroOnSkipped) code = 2;
      }
    } else {
      if (haveRego) out(o.format === "json" ? jsonReport(results) : prettyReport(results, { verbose: !!o.verbose, failTraces, ...(opaVarValues ? { failureLines } : {}) }));
      if (failed || (skipped && !o.exitZeroOnSkipped)) code = 2;
    }
    if (o.failOnEmpty && results.length === 0 && suitePaths.length === 0) {
      err("no tests were run\n");
      code = 1;
    }
  } else {
    if (haveRego && !quiet) {
      const format = (o.output ?? "stdout") as OutputFormat;
      const checks = toCheckResults(results, o.trace ? plainTraces : undefined);
      let text = render(checks, format, {
        noColor,
        tracing: !!o.trace,
        showSkipped: true,
        junitHideMessage: !!o.junitHideMessage,
        githubHidePassed: !!o.githubHidePassed,
      } as RenderOptions);
      if (format === "stdout" && !o.trace) text = withSkippedCount(text, checks);
      out(text);
      // conftest also writes the traces to standard error, whatever the output format.
      if (o.trace) err(render(checks, "stdout", { noColor, tracing: true } as RenderOptions));
    }
    code = failed ? 1 : 0;
  }
  if (suiteText) {
    out(suiteText);
    // gator verify's failure, as cobra reports its error
    if (!suitesOK) {
      err("Error: FAIL\n");
      code = code || 1;
    }
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

/** How conftest verify words the stage a run failed to load at. */
const CONFTEST_STAGE: Record<VerifyError["stage"], string> = {
  "load-policies": "load: loading policies: load: ",
  "load-documents": "load: load documents: ",
  compile: "load: loading policies: get compiler: ",
  refused: "load: loading policies: ",
};
