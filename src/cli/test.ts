// `portcullis test`: conftest's `test` command. Checks configuration files against Rego policies
// and prints the results in one of conftest's output formats with conftest's exit codes.
//
// Policy location: --policy (or its environment/config settings); else ./policy when it exists;
// else the built-in library (<package root>/library, every namespace, *_test.rego left out).
// When the policy paths hold Gatekeeper ConstraintTemplates or constraints, the inputs are
// reviewed as `gator test` does instead.

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import type { CliIO } from "./io.ts";
import { render, exitCode, isOutputFormat, OUTPUT_FORMATS } from "../output/index.ts";
import type { CheckResult, OutputFormat } from "../output/types.ts";
import { loadPolicies, readConfigs, runChecks, ConftestError, type TestOptions } from "../conftest/runner.ts";
import { settingsFromEnv, settingsFromFile, mergeSettings, type Settings } from "../conftest/settings.ts";
import { setProtoFileDirs } from "../formats/textproto.ts";
import { ParserFault } from "../formats/index.ts";
import { isStackOverflow } from "../formats/large-stack.ts";
import { gatorTest, parseManifests } from "../gatekeeper/index.ts";

/** <package root>/library: Portcullis's own policies, used when no policy folder is given. */
export const LIBRARY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../library");

export interface TestRunOptions {
  /** Settings given on the command line (flag name → value). */
  flags: Settings;
  env?: Record<string, string | undefined>;
  /** -c/--config-file. */
  configFile?: string;
  /** Where the built-in library lives (tests point it at a fixture). */
  libraryDir?: string;
  readStdin?: () => string;
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
  if ((list(s.update) ?? []).length > 0) {
    io.err("portcullis: --update is not supported (policies are not downloaded); using the local policies\n");
  }
  if (paths.length === 0) {
    io.err("Error: missing file(s): give one or more files, directories or - (standard input)\n");
    return 1;
  }
  const protoDirs = list(s["proto-file-dirs"]);
  if (protoDirs?.length) setProtoFileDirs(protoDirs);

  let policy = list(s.policy);
  let library = false;
  if (!policy || policy.length === 0) {
    const libraryDir = o.libraryDir ?? process.env.PORTCULLIS_LIBRARY_DIR ?? LIBRARY_DIR;
    if (!existsSync("policy") && existsSync(libraryDir)) {
      policy = [libraryDir];
      library = true;
    } else policy = ["policy"];
  }
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
    readStdin: o.readStdin,
  };
  const renderOpts = {
    noColor: bool(s["no-color"]),
    suppressExceptions: bool(s["suppress-exceptions"]),
    junitHideMessage: bool(s["junit-hide-message"]),
    githubHidePassed: bool(s["github-hide-passed"]),
  };
  const failOnWarn = bool(s["fail-on-warn"]);
  const noFail = bool(s["no-fail"]);

  if (!library && hasGatekeeperPolicies(policy)) return runGatekeeper(paths, policy, output, noFail, io, o.readStdin);

  let results: CheckResult[];
  try {
    const loaded = loadPolicies(opts);
    const configs = readConfigs(paths, opts);
    results = await runChecks(loaded, configs, opts);
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
  io.out(render(results, output as OutputFormat, { ...renderOpts, tracing: bool(s.trace) }));
  return noFail ? 0 : code;
}

// ---- Gatekeeper mode -----------------------------------------------------------------------

function isGatekeeperObject(d: unknown): boolean {
  if (typeof d !== "object" || d === null || Array.isArray(d)) return false;
  const o = d as Record<string, unknown>;
  if (o.kind === "ConstraintTemplate" && typeof o.apiVersion === "string" && o.apiVersion.startsWith("templates.gatekeeper.sh/")) return true;
  return typeof o.apiVersion === "string" && o.apiVersion.startsWith("constraints.gatekeeper.sh/");
}

/** True when a YAML/JSON file under the policy paths holds a ConstraintTemplate or a constraint. */
export function hasGatekeeperPolicies(paths: string[]): boolean {
  const files: string[] = [];
  const walk = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
    else if (/\.(ya?ml|json)$/i.test(p)) files.push(p);
  };
  paths.forEach(walk);
  for (const f of files) {
    let docs: unknown[];
    try {
      docs = yaml.loadAll(readFileSync(f, "utf8"), undefined, { json: true });
    } catch {
      continue;
    }
    if (docs.some(isGatekeeperObject)) return true;
  }
  return false;
}

async function runGatekeeper(
  paths: string[],
  policy: string[],
  output: string,
  noFail: boolean,
  io: Pick<CliIO, "out" | "err">,
  readStdin?: () => string,
): Promise<number> {
  const manifests: (string | Record<string, unknown>)[] = [];
  for (const p of paths) {
    if (p === "-") {
      const text = (readStdin ?? (() => readFileSync(0, "utf8")))();
      try {
        manifests.push(...parseManifests(text, "-"));
      } catch (e) {
        io.err(`reading: ${(e as Error).message}\n`);
        return 1;
      }
    } else manifests.push(p);
  }
  const r = await gatorTest(manifests, policy, { output: output === "json" ? "json" : "" });
  if (r.stdout) io.out(r.stdout.endsWith("\n") || output !== "json" ? r.stdout : r.stdout + "\n");
  if (r.stderr) io.err(r.stderr);
  return noFail ? 0 : r.exitCode;
}
