// Registers `portcullis eval`.
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { runEval, EVAL_FORMATS, EXPLAIN_MODES } from "./eval.ts";

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, io: CliIO): void {
  program
    .command("eval")
    .description("Evaluate a Rego query")
    .argument("<query>", "the query, e.g. data.example.allow")
    .option("-d, --data <path>", "policy or data file or directory (repeatable)", collect, [])
    .option("-i, --input <file>", "input document (JSON or YAML; - for stdin)")
    .option("-f, --format <format>", `output format: ${EVAL_FORMATS.join(", ")}`, "json")
    .option("--v0-compatible", "parse modules as Rego v0")
    .option("--strict-builtin-errors", "treat builtin errors as fatal")
    .option("--timeout <duration>", "stop evaluation after this long (e.g. 10s; default: no limit, as opa eval)")
    .option("--explain <mode>", `print the evaluation's trace: ${EXPLAIN_MODES.join(", ")} (as opa eval)`, "off")
    .option("--capabilities <file>", "OPA capabilities JSON: only the builtins it lists may be called")
    .option("--rego-version <version>", "Rego version of the modules: v0 or v1 (--v0-compatible is v0)")
    .option("--fail", "exit 1 when the result is undefined or empty (errors: 2)")
    .option("--fail-defined", "exit 1 when the result is defined and not empty (errors: 2)")
    .option("-I, --stdin-input", "read the input document from stdin")
    .option("--import <import>", "an import for the query, e.g. data.lib.k8s or input.spec as s (repeatable)", collect, [])
    .option("--metrics", "report timers (OPA's timer names)")
    .option("--profile", "profile expressions: time and evaluation counts per source line (implies --metrics)")
    .option("--profile-sort <criteria>", "sort the profile by total_time_ns, num_eval, num_redo, num_gen_expr, file, line (repeatable)", collect, [])
    .option("--profile-limit <n>", "number of profile lines to show (default 10)")
    .option("-s, --schema <path>", "set schema file path or directory path")
    .option("-p, --partial", "partial evaluation: residual queries and support modules (docs/partial.md)")
    .option("-u, --unknowns <path>", "a document unknown to partial evaluation (repeatable; default input)", collect, [])
    .option("--disable-inlining <path>", "a document partial evaluation does not inline (repeatable)", collect, [])
    .option("--shallow-inlining", "do not inline rules that depend on unknowns (partial evaluation)")
    .option("--nondeterminstic-builtins", "evaluate nondeterministic builtins whose arguments are known during partial evaluation (OPA's spelling)")
    .action(async (query: string, o) => {
      io.exitCode = await runEval(query, o, io.out, io.err);
    });
}
