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
    .action(async (query: string, o) => {
      io.exitCode = await runEval(query, o, io.out, io.err);
    });
}
