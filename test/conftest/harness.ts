// Shared by the `portcullis test` suites: the scenarios (examples and fixtures with their
// arguments), running portcullis in-process and conftest (the oracle) as a process.

import { spawnSync } from "node:child_process";
import { readFileSync, existsSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.ts";
import { OUTPUT_FORMATS, type OutputFormat } from "../../src/output/types.ts";
import { findConftest } from "../formats/conftest.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const EXPECTED_FILE = join(ROOT, "test", "conftest", "expected.json");
export { OUTPUT_FORMATS, findConftest };

export interface Scenario {
  name: string;
  /** Working directory, relative to the repository. */
  dir: string;
  /** The subcommand (default `test`). */
  command?: "test" | "verify";
  /** Arguments before the subcommand (the program's own: `-c FILE`). */
  pre?: string[];
  /** Arguments after the subcommand (and the -o flag the harness adds). */
  args: string[];
  /** Standard error is part of the expectation too (error messages). */
  stderr?: boolean;
  /** File (relative to dir) given on standard input. */
  stdin?: string;
  env?: Record<string, string>;
  /** Formats to run (default: all eight). */
  formats?: OutputFormat[];
  /** False when conftest cannot be the oracle (Portcullis-only behaviour). */
  oracle?: boolean;
  /**
   * conftest's order is not deterministic here (the same file loaded twice: its results come
   * back in any order), so outputs are compared as multisets of results.
   */
  unordered?: boolean;
}

const FIX = "test/fixtures/conftest";

/** The files an example checks: its top-level entries other than policy/, protos/, conftest.toml, READMEs. */
export function exampleInputs(dir: string): string[] {
  return readdirSync(join(ROOT, dir))
    .filter((n) => !["policy", "protos", "conftest.toml"].includes(n) && !/^README/i.test(n))
    .sort();
}

/** Examples with a policy/ folder that `portcullis test` runs (one per input format and feature). */
export const EXAMPLES = [
  "kubernetes", "json", "dockerfile", "terraform", "toml", "ini", "xml", "properties", "dotenv", "hocon", "edn", "vcl",
  "ignore", "cue", "jsonnet", "spdx", "cyclonedx", "textproto", "yaml", "hcl1", "codeowners", "nginx", "exceptions",
  "combine", "namespaces", "groovy",
];

const values = [...Array.from({ length: 14 }, (_, i) => `v${i + 1}`), ...Array.from({ length: 7 }, (_, i) => `n${i + 1}`)];

export function scenarios(): Scenario[] {
  const out: Scenario[] = EXAMPLES.map((e) => ({ name: `examples/${e}`, dir: `examples/${e}`, args: ["--no-color", ...exampleInputs(`examples/${e}`)] }));
  out.push(
    // Results with `_loc: {file, line}`: JSON `loc`, GitHub annotations at the location (and
    // ORIGINATING FROM when it is another file), SARIF regions.
    { name: "result locations (_loc)", dir: `${FIX}/loc`, args: ["--no-color", "a.json"] },
    // Inputs through symbolic links: conftest prints the resolved path.
    { name: "symlinked input folder", dir: `${FIX}/symlink`, args: ["--no-color", "-p", "real/policy", "link", "dir"], formats: ["stdout", "json"] },
    { name: "unknown flags", dir: `${FIX}/basic`, args: ["--nope", "-x", "ok.json"], formats: ["stdout"], stderr: true },
    { name: "examples/groovy verify", dir: "examples/groovy", command: "verify", args: ["--no-color"] },
    { name: "groovy from standard input", dir: "examples/groovy", args: ["--no-color", "--parser", "groovy", "-"], stdin: "Jenkinsfile" },
    { name: "error: unparsable Jenkinsfile", dir: `${FIX}/errors`, args: ["Jenkinsfile"], formats: ["stdout"] },
    { name: "examples/kubernetes from the repository root", dir: ".", args: ["--no-color", "-p", "examples/kubernetes/policy", "examples/kubernetes/"] },
    { name: "basic (colour)", dir: `${FIX}/basic`, args: ["deploy.yaml", "ok.json"] },
    { name: "basic", dir: `${FIX}/basic`, args: ["--no-color", "deploy.yaml", "ok.json"] },
    { name: "basic --quiet", dir: `${FIX}/basic`, args: ["--no-color", "--quiet", "deploy.yaml", "ok.json"] },
    { name: "basic --quiet passing", dir: `${FIX}/basic`, args: ["--quiet", "ok.json"] },
    { name: "basic --fail-on-warn", dir: `${FIX}/basic`, args: ["--no-color", "--fail-on-warn", "deploy.yaml"] },
    { name: "basic --no-fail", dir: `${FIX}/basic`, args: ["--no-color", "--no-fail", "deploy.yaml"] },
    { name: "basic -n none", dir: `${FIX}/basic`, args: ["--no-color", "-n", "none", "ok.json"] },
    { name: "basic -n glob without match", dir: `${FIX}/basic`, args: ["--no-color", "-n", "x*", "ok.json"] },
    { name: "exceptions (colour)", dir: `${FIX}/exceptions`, args: ["a.json", "b.json"] },
    { name: "exceptions --suppress-exceptions", dir: `${FIX}/exceptions`, args: ["--no-color", "--suppress-exceptions", "a.json", "b.json"] },
    { name: "exceptions --fail-on-warn --quiet", dir: `${FIX}/exceptions`, args: ["--no-color", "--fail-on-warn", "--quiet", "a.json"] },
    // Four namespaces per run: conftest's JUnit output groups suites in a Go map, which keeps
    // insertion order (up to a rotation) only for a few entries.
    ...[0, 4, 8, 12, 16, 20].map((i) => ({
      name: `rule values and success counting ${i / 4 + 1}`,
      dir: `${FIX}/values`,
      args: ["--no-color", ...values.slice(i, i + 4).flatMap((v) => ["-n", v]), "a.json"],
    })),
    { name: "rule definitions", dir: `${FIX}/definitions`, args: ["--no-color", "a.json"] },
    { name: "rule names", dir: `${FIX}/names`, args: ["--no-color", "a.json"] },
    { name: "escaping", dir: `${FIX}/escaping`, args: ["--no-color", "k.yaml", "o.json", "n.json"] },
    { name: "stdin", dir: `${FIX}/escaping`, args: ["--no-color", "-"], stdin: "k.yaml" },
    { name: "stdin --stdin-filename", dir: `${FIX}/escaping`, args: ["--no-color", "--stdin-filename", "x/o.json", "-"], stdin: "o.json" },
    { name: "namespaces -n main", dir: `${FIX}/namespaces`, args: ["--no-color", "-n", "main", "in"] },
    { name: "namespaces literal list", dir: `${FIX}/namespaces`, args: ["--no-color", "-n", "k8s.alpha", "-n", "zeta", "-n", "k8s.alpha", "in/a.json"] },
    { name: "namespaces glob", dir: `${FIX}/namespaces`, args: ["--no-color", "-n", "k8s.alpha.*", "in/a.json"] },
    { name: "namespaces --all-namespaces", dir: `${FIX}/namespaces`, args: ["--no-color", "--all-namespaces", "in/a.json"], oracle: false },
    { name: "namespaces --ignore", dir: `${FIX}/namespaces`, args: ["--no-color", "-n", "main", "--ignore", "sub", "in"] },
    { name: "combine", dir: `${FIX}/combine`, args: ["--no-color", "--combine", "k.yaml", "o.json", "Dockerfile"] },
    { name: "data directory", dir: `${FIX}/data`, args: ["--no-color", "-d", "data", "a.json"] },
    { name: "data file", dir: `${FIX}/data`, args: ["--no-color", "-d", "data/sub/d.json", "a.json"] },
    { name: "conftest builtins", dir: `${FIX}/builtins`, args: ["--no-color", "a.json"] },
    { name: "multi-document inputs", dir: `${FIX}/multidoc`, args: ["--no-color", "m.yaml", "arr.json", "empty.json", "empty.yaml", "dash.yaml"] },
    { name: "table widths and escaping", dir: `${FIX}/table`, args: ["--no-color", "a.json"] },
    { name: "conftest.toml", dir: `${FIX}/config`, args: ["a.json"] },
    { name: "conftest.toml and environment", dir: `${FIX}/config`, args: ["a.json"], env: { CONFTEST_NAMESPACE: "main" } },
    { name: "flags over conftest.toml", dir: `${FIX}/config`, args: ["-n", "main", "-n", "foo", "a.json"] },
    { name: "PORTCULLIS_ environment", dir: `${FIX}/config`, args: ["a.json"], env: { PORTCULLIS_NAMESPACE: "main", PORTCULLIS_FAIL_ON_WARN: "true" }, oracle: false },
    { name: "error: missing policy", dir: `${FIX}/errors`, args: ["-p", "nonexistent", "a.json"], formats: ["stdout"] },
    { name: "error: unparsable YAML", dir: `${FIX}/errors`, args: ["bad.yaml"], formats: ["stdout"] },
    { name: "error: unknown parser", dir: `${FIX}/errors`, args: ["--parser", "nope", "a.json"], formats: ["stdout"] },
    { name: "error: result without msg", dir: `${FIX}/errors`, args: ["-p", "nomsg.rego", "a.json"], formats: ["stdout"] },
    { name: "error: policy does not compile", dir: `${FIX}/errors`, args: ["-p", "unsafe.rego", "a.json"], formats: ["stdout"] },
    { name: "error: missing input", dir: `${FIX}/errors`, args: ["missing.json"], formats: ["stdout"] },
    // What CI pipelines hit (test/fixtures/conftest/gaps): policy paths without policies,
    // the program's -c, Go booleans (--flag=VALUE), conftest's load errors, verify's options.
    ...gapScenarios(),
    // Input numbers print as Go float64 texts (1e+06) in conftest: src/conftest/numbers.ts.
    { name: "input numbers as Go prints them", dir: `${FIX}/numbers`, args: ["--no-color", "a.json", "a.yaml"], formats: ["stdout", "json"] },
    { name: "input numbers as Go prints them (HCL2, TOML, INI)", dir: `${FIX}/numbers`, args: ["--no-color", "a.tf", "a.toml", "a.ini"], formats: ["stdout", "json"] },
    { name: "input numbers as Go prints them (CUE, Jsonnet)", dir: `${FIX}/numbers`, args: ["--no-color", "a.cue", "a.jsonnet"], formats: ["stdout", "json"] },
    { name: "input numbers from standard input", dir: `${FIX}/numbers`, args: ["--no-color", "-"], stdin: "a.json", formats: ["stdout", "json"] },
    { name: "built-in library", dir: `${FIX}/library-user/work`, args: ["--no-color", "pod.yaml"], env: { PORTCULLIS_LIBRARY_DIR: "../library" }, oracle: false },
    { name: "gatekeeper mode", dir: `${FIX}/gatekeeper`, args: ["-p", "policy", "manifests"], formats: ["stdout"], oracle: false },
  );
  return out;
}

const GAPS = `${FIX}/gaps`;

function gapScenarios(): Scenario[] {
  const one = (name: string, args: string[], more: Partial<Scenario> = {}): Scenario => ({ name: `gaps: ${name}`, dir: GAPS, args, formats: ["stdout"], stderr: true, ...more });
  const verify = (name: string, args: string[], more: Partial<Scenario> = {}) => one(`verify ${name}`, args, { command: "verify", ...more });
  return [
    one("-p without .rego files", ["-p", "empty", "a.json"]),
    one("-p naming a file that is not .rego", ["-p", "a.json", "a.json"]),
    one("-p missing and -p without .rego files", ["-p", "nonexistent", "-p", "empty", "a.json"]),
    one("-p twice over the same files", ["--no-color", "-p", "policy", "-p", "policy/tests", "-p", "policy", "a.json", "w.json"], { formats: undefined, stderr: false }),
    one("-c before test", ["-p", "policy", "w.json"], { pre: ["-c", "other.toml"], formats: undefined, stderr: false }),
    one("--config-file= before test", ["w.json"], { pre: ["--config-file=other.toml"] }),
    one("-c with a blank name before test", ["--no-color", "w.json"], { pre: ["-c", ""] }),
    one("-c with a blank name after test", ["-c", "", "--no-color", "w.json"]),
    one("-c naming a missing file", ["w.json"], { pre: ["-c", "missing.toml"] }),
    one("--fail-on-warn=false over the configuration file", ["--fail-on-warn=false", "w.json"], { pre: ["-c", "other.toml"] }),
    one("--flag=VALUE booleans", ["--no-color=true", "--show-builtin-errors=1", "--fail-on-warn=T", "--quiet=false", "a.json", "w.json"], { formats: undefined, stderr: false }),
    one("--no-color=false", ["--no-color=false", "a.json"]),
    one("--flag=VALUE that is not a boolean", ["--no-color=yes", "a.json"]),
    one("--flag= with no value", ["--fail-on-warn=", "a.json"]),
    one("--flag VALUE leaves VALUE an argument", ["--no-color", "true", "a.json"]),
    one("deny[msg] if without contains", ["-p", "ifbad", "a.json"]),
    one("v0 parse errors with keyword hints", ["-p", "v0", "--rego-version", "v0", "a.json"]),
    one("parse error while loading", ["-p", "parse-error", "a.json"]),
    one("compile error", ["-p", "../errors/unsafe.rego", "a.json"]),
    one("compile errors: only the earliest stage's (undefined function before unsafe var)", ["-p", "stages", "a.json"]),
    one("--show-builtin-errors: every error of the query", ["--show-builtin-errors", "-p", "builtin-errors", "errs.json"]),
    one("--show-builtin-errors: json.unmarshal and http.send", ["--show-builtin-errors", "-p", "builtin-errors-net", "a.json"]),
    one("builtin errors without --show-builtin-errors", ["--no-color", "-p", "builtin-errors", "errs.json"]),
    one("NO_COLOR", ["a.json"], { env: { NO_COLOR: "1" }, oracle: false }),
    one("empty NO_COLOR keeps colour", ["a.json"], { env: { NO_COLOR: "" } }),
    verify("-p without .rego files", ["-p", "empty"]),
    verify("deny[msg] if without contains", ["-p", "ifbad"]),
    verify("v0 parse errors with keyword hints", ["-p", "v0", "--rego-version", "v0"]),
    verify("parse error while loading", ["-p", "parse-error"]),
    verify("compile error", ["-p", "../errors/unsafe.rego"]),
    verify("--report with -o table", ["-p", "policy", "--report", "fails", "-o", "table"]),
    verify("--report with -o json, --quiet, passing", ["-p", "passing", "-d", "data", "--report", "full", "-o", "json", "--quiet"]),
    verify("--quiet, passing", ["-p", "passing", "-d", "data", "--quiet"], { formats: ["stdout", "json", "table"] }),
    verify("--quiet, failing", ["--no-color", "-p", "policy", "--quiet"]),
    verify("-p X and X's parent", ["--no-color", "-p", "nested/inner", "nested"], { formats: ["stdout", "json", "tap"], unordered: true }),
    verify("--data DIR and a YAML argument", ["--no-color", "-p", "passing", "--data", "data", "k8s.yaml"], { formats: ["stdout", "json"] }),
    verify("--data DIR and a YAML argument without -p (the default policy folder)", ["--no-color", "--data", "data", "k8s.yaml"], { formats: ["stdout", "json"], unordered: true }),
    // conftest's own order of a file's passing and failing tests varies from run to run
    verify("-p X and another policy folder as an argument (ignored)", ["--no-color", "-p", "passing", "policy"], { formats: ["stdout", "json"], unordered: true }),
    verify("-c FILE (conftest.toml settings)", ["-c", "verify.toml"], { formats: ["stdout", "tap"] }),
    verify("the program's -c before verify", [], { pre: ["-c", "verify.toml"], formats: ["stdout"] }),
    verify("--config-file= with --no-color", ["--config-file=verify.toml", "--no-color"], { formats: ["stdout"] }),
    verify("-c naming a missing file", ["-c", "missing.toml"]),
    verify("settings from CONFTEST_ variables", ["-c", "verify.toml"], { env: { CONFTEST_OUTPUT: "tap" }, formats: ["stdout"] }),
    verify("--show-builtin-errors", ["--show-builtin-errors", "-p", "builtin-errors"]),
    verify("builtin errors without --show-builtin-errors", ["--no-color", "-p", "builtin-errors"]),
    verify("--flag=VALUE booleans", ["-p", "passing", "-d", "data", "--no-color=true", "--show-builtin-errors=true", "--strict=false"]),
  ];
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Settings the environment may carry; cleared for every run (NO_COLOR: the colour scenarios). */
const CONFIG_ENV = /^(CONFTEST_|PORTCULLIS_|NO_COLOR$)/;

/** Run `portcullis test -o FORMAT ARGS` in-process in the scenario's directory. */
export async function runPortcullis(s: Scenario, format: OutputFormat): Promise<RunResult> {
  const cwd = process.cwd();
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (CONFIG_ENV.test(k)) delete process.env[k];
  Object.assign(process.env, s.env ?? {});
  let stdout = "";
  let stderr = "";
  process.chdir(join(ROOT, s.dir));
  try {
    const stdinText = s.stdin ? readFileSync(s.stdin, "utf8") : "";
    const io = { out: (x: string) => void (stdout += x), err: (x: string) => void (stderr += x), exitCode: 0, readStdin: () => stdinText };
    const code = await main(commandLine(s, format), io);
    return { stdout, stderr, code };
  } finally {
    process.chdir(cwd);
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** The arguments of a scenario's run in one format. */
function commandLine(s: Scenario, format: OutputFormat): string[] {
  return [...(s.pre ?? []), s.command ?? "test", "-o", format, ...s.args];
}

/** Run conftest once. */
export function runConftest(bin: string, s: Scenario, format: OutputFormat): RunResult {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !CONFIG_ENV.test(k)) env[k] = v;
  Object.assign(env, s.env ?? {});
  const cwd = join(ROOT, s.dir);
  const r = spawnSync(bin, commandLine(s, format), {
    cwd,
    env,
    encoding: "utf8",
    input: s.stdin ? readFileSync(join(cwd, s.stdin)) : "",
  });
  // --show-builtin-errors: conftest prints the Go pointer of each wrapped error (`err:0xc000…`,
  // different on every run); Portcullis leaves it out (src/conftest/builtinerrors.ts).
  return { stdout: r.stdout, stderr: r.stderr.replace(/ err:0x[0-9a-f]+\}/g, "}"), code: r.status ?? -1 };
}

/**
 * Compare with conftest. conftest checks files and namespaces concurrently, so with several
 * inputs its order varies from run to run; the comparison accepts any of a few runs.
 */
export function matchesConftest(bin: string, s: Scenario, format: OutputFormat, ours: RunResult, attempts = 8): { ok: boolean; theirs: RunResult } {
  const canon = (out: string) => (s.unordered ? unorderedForm(format, out) : out);
  const same = (theirs: RunResult) => canon(theirs.stdout) === canon(ours.stdout) && theirs.code === ours.code && (!s.stderr || theirs.stderr === ours.stderr);
  let theirs = runConftest(bin, s, format);
  for (let i = 1; i < attempts && !same(theirs); i++) theirs = runConftest(bin, s, format);
  return { ok: same(theirs), theirs };
}

/** An output with its results' order removed: JSON array elements or lines (TAP numbers dropped), sorted. */
function unorderedForm(format: OutputFormat, out: string): string {
  if (format === "json") {
    try {
      const v = JSON.parse(out) as unknown;
      if (Array.isArray(v)) return v.map((e) => JSON.stringify(e)).sort().join("\n");
    } catch {
      return out;
    }
  }
  return out.split("\n").map((l) => l.replace(/^(not ok|ok) \d+ /, "$1 ")).sort().join("\n");
}

/** Recorded outputs; `stderr` only for scenarios that compare it. */
export type Expected = Record<string, { stdout: string; code: number; stderr?: string }>;

export function expectedKey(s: Scenario, format: OutputFormat): string {
  return `${s.name} | ${format}`;
}

export function readExpected(): Expected {
  return existsSync(EXPECTED_FILE) ? (JSON.parse(readFileSync(EXPECTED_FILE, "utf8")) as Expected) : {};
}
