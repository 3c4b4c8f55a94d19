// Registers `portcullis verify`.
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { runVerify, verifyOptionsFromSettings } from "./verify.ts";
import { VERIFY_SETTINGS, type Settings } from "../conftest/settings.ts";

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(",").filter((s) => s !== "")];

/** commander's attribute name for a flag (`--no-color` is the negation of `color`). */
function attribute(flag: string): string {
  const name = flag.startsWith("no-") ? flag.slice(3) : flag;
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function register(program: Command, io: CliIO): void {
  program
    .command("verify")
    .description("Run Rego unit tests (conftest verify / opa test) and Gatekeeper suites")
    .argument("[paths...]", "policy directories or files; Gatekeeper Suite files are searched as gator verify does: a directory's own files only, dir/... for the whole tree")
    .option("-p, --policy <path>", "path to Rego policies (repeatable; default: policy)", collect)
    .option("-d, --data <path>", "data files or directories (repeatable)", collect)
    .option("-n, --namespace <glob>", "only test packages matching this glob (repeatable; * matches dots too)", collect)
    .option("-o, --output <format>", "conftest output format: stdout, json, tap, table, junit, github, azuredevops, sarif")
    .option("--report <kind>", "opa's verbose report with explanations: full, notes or fails")
    .option("--trace", "include an evaluation trace of each test")
    .option("--var-values", "show variables and values in failing test expressions (implies --report fails; with -f/-v: opa test --var-values)")
    .option("--explain <mode>", "opa test -v: the trace under failed tests: fails (default), full, notes or debug")
    .option("--quiet", "disable successful test output")
    .option("--strict", "strict mode for Rego policies")
    .option("--show-builtin-errors", "builtin errors are errors (not undefined)")
    .option("--capabilities <file>", "capabilities JSON file restricting the builtins policies may use")
    .option("--no-color", "disable color")
    .option("--rego-version <version>", 'Rego syntax: v0 or v1 (default "v1")')
    .option("--proto-file-dirs <dirs>", "directories containing Protocol Buffer definitions", collect)
    .option("-c, --config-file <file>", "configuration file (default conftest.toml)")
    .option("--v0-compatible", "parse policies as Rego v0 (as opa test --v0-compatible)")
    .option("--junit-hide-message", "do not put the message in JUnit test names")
    .option("--github-hide-passed", "GitHub output: skip files whose checks all passed")
    .option("-v, --verbose", "opa test's verbose report (every test, durations, print output)")
    .option("-r, --run <regex>", "only run tests whose name (data.pkg.test_x) matches")
    .option("--coverage", "report coverage (opa test's JSON report)")
    .option("--threshold <percent>", "fail (exit 2) when coverage is below this percentage")
    .option("--timeout <duration>", "per-test timeout (default 5s)")
    .option("-f, --format <format>", "opa test output: pretty or json")
    .option("-z, --exit-zero-on-skipped", "skipped tests do not fail the run (opa test style)")
    .option("--fail-on-empty", "fail when no test was run")
    .option("--ignore <pattern>", "skip files and directories below the paths whose name matches (Go glob, e.g. '.*'; repeatable, comma-separated)", collect)
    .option("--enable-k8s-native-validation", "Gatekeeper suites: evaluate a template's K8sNativeValidation (CEL) code when it has some, instead of its Rego (default true; =false runs the Rego, as gator's flag)")
    .option("--default-k8s-native-validation-failure-policy <policy>", 'Gatekeeper suites: failurePolicy of CEL code that gives none: Fail or Ignore (default "Fail")')
    .action(async (paths: string[], o: Record<string, unknown>, cmd: Command) => {
      // conftest's settings: flags given on the command line, then CONFTEST_*/PORTCULLIS_*
      // variables, then the configuration file (-c after `verify`, or the program's -c).
      const flags: Settings = {};
      for (const flag of Object.keys(VERIFY_SETTINGS)) {
        const attr = attribute(flag);
        if (cmd.getOptionValueSource(attr) !== "cli") continue;
        const v = o[attr];
        flags[flag] = flag.startsWith("no-") ? v === false : (v as Settings[string]);
      }
      const configFile = (o.configFile ?? cmd.parent?.opts().configFile) as string | undefined;
      const settings = verifyOptionsFromSettings(flags, configFile, process.env);
      if (typeof settings === "string") {
        io.err(`Error: ${settings}\n`);
        io.exitCode = 1;
        return;
      }
      io.exitCode = await runVerify(paths, { ...o, ...settings }, io.out, io.err);
    });
}
