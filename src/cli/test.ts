// `portcullis test`: conftest's `test` command. Checks configuration files against Rego policies
// and prints the results in one of conftest's output formats with conftest's exit codes.
//
// Policy location: --policy (or its environment/config settings); else ./policy when it exists;
// else the built-in library (src/conftest/library.ts: every namespace, *_test.rego left out).
// When the policy paths hold Gatekeeper ConstraintTemplates or constraints, the inputs are
// reviewed as `gator test` does instead (src/gatekeeper/gatortest.ts). The evaluation is
// src/conftest/; here: settings → options, and the output.

import type { CliIO } from "./io.ts";
import { render, renderTo, bufferedWrite, exitCode, isOutputFormat, noColorFromEnv, OUTPUT_FORMATS, SpoolDir, metadataForm } from "../output/index.ts";
import type { CheckResultView, OutputFormat } from "../output/types.ts";
import { parseDuration } from "../gotext/duration.ts";
import { loadPolicies, readConfigs, runChecks, runLibraryChecks, ConftestError, type TestOptions } from "../conftest/runner.ts";
import { settingsFromEnv, settingsFromFile, mergeSettings, type Settings } from "../conftest/settings.ts";
import { resolvePolicyPaths } from "../conftest/library.ts";
import { updatePolicies } from "../conftest/update.ts";
import type { VerifyHook } from "../oci/transfer.ts";
import { setProtoFileDirs } from "../formats/textproto.ts";
import { gatorTestArgs, hasGatekeeperPolicies, GatorInputError, type GatorTestResult } from "../gatekeeper/index.ts";
import { celFailurePolicyError } from "../gatekeeper/cel/driver.ts";
import { ParserFault } from "../formats/index.ts";
import { isStackOverflow } from "../builtins/support/large-stack.ts";

export interface TestRunOptions {
  /** Settings given on the command line (flag name → value). */
  flags: Settings;
  env?: Record<string, string | undefined>;
  /** -c/--config-file. */
  configFile?: string;
  /** Where the built-in library lives (tests point it at a fixture). */
  libraryDir?: string;
  readStdin?: () => string;
  /** --update: refuses an OCI artifact before anything is written (signature verification). */
  verify?: VerifyHook;
  /** Gatekeeper mode: --enable-k8s-native-validation and --default-k8s-native-validation-failure-policy. */
  gatekeeper?: { k8sNativeValidation?: boolean; celFailurePolicy?: string };
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const list = (v: unknown): string[] | undefined => (Array.isArray(v) ? v : typeof v === "string" ? [v] : undefined);
const bool = (v: unknown): boolean => v === true;

/** Run `portcullis test` on the paths; returns the exit code. */
export async function runTest(paths: string[], o: TestRunOptions, io: Pick<CliIO, "out" | "err">): Promise<number> {
  let s: Settings;
  try {
    s = mergeSettings(settingsFromFile(o.configFile), settingsFromEnv(o.env ?? process.env), o.flags);
  } catch (e) {
    if (e instanceof ConftestError) {
      io.err(`Error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const output = str(s.output) ?? "stdout";
  if (!isOutputFormat(output)) {
    io.err(`Error: unknown output format "${output}" (valid formats: ${OUTPUT_FORMATS.join(", ")})\n`);
    return 1;
  }
  const regoVersion = str(s["rego-version"]) ?? "v1";
  if (regoVersion !== "v0" && regoVersion !== "v1") {
    io.err(`Error: running test: load: loading policies: invalid Rego version: ${regoVersion}\n`);
    return 1;
  }
  if (paths.length === 0) {
    io.err("Error: missing required arguments\n");
    return 1;
  }
  const protoDirs = list(s["proto-file-dirs"]);
  if (protoDirs?.length) setProtoFileDirs(protoDirs);

  // --update: fetch the sources into the first policy path (file and OCI sources), as conftest does.
  const updates = list(s.update) ?? [];
  if (updates.length > 0) {
    try {
      // conftest's --tls: false is plain HTTP everywhere, true HTTPS also on loopback; unset: HTTP on loopback only
      await updatePolicies(updates, (list(s.policy) ?? ["policy"])[0] ?? "policy", { plainHttp: s.tls === false ? true : s.tls === true ? false : undefined, verify: o.verify });
    } catch (e) {
      if (e instanceof ConftestError) {
        io.err(`Error: running test: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  }
  let timeout: number | undefined;
  let parallel: number | undefined;
  try {
    timeout = timeoutMs(str(s.timeout));
    parallel = parallelThreads(str(s.parallel));
  } catch (e) {
    if (e instanceof ConftestError) {
      io.err(`Error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const { policy, library } = resolvePolicyPaths(list(s.policy), o.libraryDir);
  const namespaces = list(s.namespace);
  const opts: TestOptions = {
    policy,
    data: list(s.data),
    namespaces: namespaces?.length ? namespaces : ["main"],
    allNamespaces: bool(s["all-namespaces"]) || (library && !namespaces?.length),
    combine: bool(s.combine),
    parser: str(s.parser),
    regoVersion,
    showBuiltinErrors: bool(s["show-builtin-errors"]),
    strict: bool(s.strict),
    capabilities: str(s.capabilities),
    ignore: str(s.ignore),
    stdinFilename: str(s["stdin-filename"]),
    skipTestFiles: library,
    library,
    readStdin: o.readStdin,
    timeoutMs: timeout,
    parallel,
    trace: bool(s.trace),
  };
  const renderOpts = {
    noColor: bool(s["no-color"]) || noColorFromEnv(o.env ?? process.env),
    suppressExceptions: bool(s["suppress-exceptions"]),
    junitHideMessage: bool(s["junit-hide-message"]),
    githubHidePassed: bool(s["github-hide-passed"]),
  };
  const failOnWarn = bool(s["fail-on-warn"]);
  const noFail = bool(s["no-fail"]);

  if (!library && hasGatekeeperPolicies(policy)) return runGatekeeper(paths, policy, output, noFail, io, o.readStdin, o.gatekeeper);

  // The built-in library keeps its results in spools (temporary files past a few hundred KiB)
  // and prints them piece by piece: an input of 85,000 documents makes a million results.
  const spool = library && !opts.trace ? new SpoolDir(metadataForm(output)) : undefined;
  try {
    let results: readonly CheckResultView[];
    try {
      const loaded = loadPolicies(opts);
      const configs = readConfigs(paths, opts);
      results = spool ? await runLibraryChecks(loaded, configs, opts, spool) : await runChecks(loaded, configs, opts);
    } catch (e) {
      if (e instanceof ConftestError) {
        io.err(`Error: running test: ${e.message}\n`);
        return 1;
      }
      // internal faults are reported as such (exit 2), never as the input's syntax error
      if (e instanceof ParserFault) {
        io.err(`Error: running test: ${e.message}\n`);
        return 2;
      }
      if (isStackOverflow(e)) {
        io.err("Error: running test: internal error: an input is nested too deeply to evaluate (stack exhausted)\n");
        return 2;
      }
      throw e;
    }
    if (bool(s.trace)) io.err(render(results, "stdout", { ...renderOpts, tracing: true }));
    const code = exitCode(results, { failOnWarn });
    if (bool(s.quiet) && code === 0) return 0;
    const out = bufferedWrite((text) => io.out(text));
    renderTo(results, output as OutputFormat, { ...renderOpts, tracing: bool(s.trace) }, out.write);
    out.flush();
    return noFail ? 0 : code;
  } finally {
    spool?.dispose();
  }
}

// ---- Gatekeeper mode -----------------------------------------------------------------------

async function runGatekeeper(
  paths: string[],
  policy: string[],
  output: string,
  noFail: boolean,
  io: Pick<CliIO, "out" | "err">,
  readStdin?: () => string,
  gk: TestRunOptions["gatekeeper"] = {},
): Promise<number> {
  const policyErr = celFailurePolicyError(gk.celFailurePolicy);
  if (policyErr) {
    // As gator test prints it (no "Error: " prefix).
    io.err(`${policyErr}\n`);
    return 1;
  }
  let r: GatorTestResult;
  try {
    r = await gatorTestArgs(paths, policy, {
      output: output === "json" ? "json" : "",
      readStdin,
      k8sNativeValidation: gk.k8sNativeValidation !== false,
      ...(gk.celFailurePolicy ? { celFailurePolicy: gk.celFailurePolicy as "Fail" | "Ignore" } : {}),
    });
  } catch (e) {
    if (!(e instanceof GatorInputError)) throw e;
    io.err(`reading: ${e.message}\n`);
    return 1;
  }
  // As gator prints it: `-o json` ends without a newline.
  if (r.stdout) io.out(r.stdout);
  if (r.stderr) io.err(r.stderr);
  return noFail ? 0 : r.exitCode;
}

/** --parallel as a count of threads (an integer from 0); absent: chosen by the input's size. */
function parallelThreads(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,6}$/.test(v.trim())) throw new ConftestError(`invalid argument "${v}" for "--parallel" flag: not a number of threads (0 or 1: one thread)`);
  return Number(v.trim());
}

/** --timeout as a duration (Go's syntax, or plain seconds); absent: the runner's default. */
function timeoutMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch {
    throw new ConftestError(`invalid argument "${v}" for "--timeout" flag: time: invalid duration "${v}"`);
  }
}
