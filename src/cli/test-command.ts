// Registers `portcullis test` (conftest's `test`, same flags and defaults).
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { runTest } from "./test.ts";
import { OUTPUT_FORMATS } from "../output/types.ts";
import { PARSER_NAMES } from "../formats/index.ts";
import { TEST_SETTINGS, type Settings } from "../conftest/settings.ts";
import { fetchVerificationFlags, verifyHookFromFlags, wantsVerification } from "./verification-flags.ts";

/** Repeatable flags also take comma-separated values, as conftest's do. */
const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(",").filter((s) => s !== "")];

/** commander's attribute name for a flag (`--no-color` is the negation of `color`). */
function attribute(flag: string): string {
  const name = flag.startsWith("no-") ? flag.slice(3) : flag;
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function register(program: Command, io: CliIO): void {
  const testCmd = program
    .command("test")
    .description("Test configuration files against Rego policies (conftest test)")
    .argument("[paths...]", "files or directories to test, - for standard input")
    .option("-p, --policy <paths>", "path to the Rego policy files directory (default [policy])", collect)
    .option("-d, --data <paths>", "paths from which data for the policies is recursively loaded", collect)
    .option("-n, --namespace <namespaces>", "test policies in these namespaces; globs (*, ?, [...]) allowed, * matches dots (default [main])", collect)
    .option("--all-namespaces", "test policies found in all namespaces")
    .option("--combine", "combine all config files to be evaluated together")
    .option("--parser <parser>", `parser for the configurations (${PARSER_NAMES.join(", ")})`)
    .option("-o, --output <format>", `output format: ${OUTPUT_FORMATS.join(", ")} (default "stdout")`)
    .option("--fail-on-warn", "return a non-zero exit code if warnings or errors are found")
    .option("--no-fail", "return an exit code of zero even if a policy fails")
    .option("--quiet", "disable successful test output")
    .option("--no-color", "disable color when printing")
    .option("--trace", "enable more verbose trace output for Rego queries")
    .option("--strict", "enable strict mode for Rego policies")
    .option("--rego-version <version>", 'Rego syntax version: v0 or v1 (default "v1")')
    .option("--capabilities <file>", "OPA capabilities JSON file restricting the builtins policies may use")
    .option("--ignore <regex>", "a regular expression for paths to ignore")
    .option("--suppress-exceptions", "do not include exceptions in output")
    .option("--show-builtin-errors", "collect and return all encountered built-in errors")
    .option("--junit-hide-message", "do not include the violation message in the JUnit test name")
    .option("--github-hide-passed", "in the GitHub output, skip input files whose checks all passed")
    .option("--stdin-filename <name>", "filename to use in output when testing configuration from stdin")
    .option("--proto-file-dirs <dirs>", "directories containing Protocol Buffer definitions", collect)
    .option("-u, --update <urls>", "fetch policies into the first policy path before testing (file::PATH, file://PATH and oci://REF sources)", collect)
    .option("--tls", "reach --update's OCI registries over TLS, also on loopback (--tls=false: plain HTTP; default: HTTP on loopback only)")
    .option("-c, --config-file <file>", "configuration file (default conftest.toml)")
    .option("--timeout <duration>", "evaluation deadline per query, e.g. 500ms, 1m (default 30s; a Portcullis addition)")
    .option("--parallel <threads>", "threads checking the built-in library's documents: 0 or 1 for one (default: one per core, up to 8, for inputs of 2,000 documents or more; a Portcullis addition)")
    .option("--enable-k8s-native-validation", "Gatekeeper policies: evaluate a template's K8sNativeValidation (CEL) code when it has some, instead of its Rego (default true; =false runs the Rego, as gator's flag)")
    .option("--default-k8s-native-validation-failure-policy <policy>", 'Gatekeeper policies: failurePolicy of CEL code that gives none: Fail or Ignore (default "Fail")');
  // --update oci://… verifies the artifact's cosign signature first when these are given (Portcullis's own)
  fetchVerificationFlags(testCmd).action(async (paths: string[], o: Record<string, unknown>, cmd: Command) => {
      if (paths.length === 0) {
        // as conftest (cobra's MinimumNArgs): the command's usage, then the error, on stderr
        io.err(`${cmd.helpInformation()}Error: missing required arguments\n`);
        io.exitCode = 1;
        return;
      }
      const flags: Settings = {};
      for (const flag of Object.keys(TEST_SETTINGS)) {
        const attr = attribute(flag);
        if (cmd.getOptionValueSource(attr) !== "cli") continue;
        const v = o[attr];
        flags[flag] = flag.startsWith("no-") ? v === false : (v as Settings[string]);
      }
      // -c after `test`, or the program's -c before it (conftest's persistent flag).
      const configFile = (o.configFile ?? cmd.parent?.opts().configFile) as string | undefined;
      let verify;
      try {
        const { DockerConfigCredentials } = wantsVerification(o) ? await import("../oci/credentials.ts") : { DockerConfigCredentials: undefined };
        verify = DockerConfigCredentials ? await verifyHookFromFlags(o, { credentials: new DockerConfigCredentials(), plainHttp: o.tls === false ? true : o.tls === true ? false : undefined }) : undefined;
      } catch (e) {
        io.err(`Error: ${(e as Error).message}\n`);
        io.exitCode = 1;
        return;
      }
      const gatekeeper = { k8sNativeValidation: o.enableK8sNativeValidation !== false, celFailurePolicy: o.defaultK8sNativeValidationFailurePolicy as string | undefined };
      io.exitCode = await runTest(paths, { flags, configFile, readStdin: io.readStdin, verify, gatekeeper }, io);
    });
}
