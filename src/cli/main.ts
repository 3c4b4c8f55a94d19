// The `portcullis` command line: one subcommand per job, each in its own file under src/cli/.

import { Command, CommanderError } from "commander";
import { runEval, EVAL_FORMATS } from "./eval.ts";
import { capabilitiesText } from "./capabilities.ts";

const collect = (v: string, prev: string[] = []) => [...prev, v];

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  let code = 0;
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  program
    .name("portcullis")
    .description("Policy-as-code for containers and Kubernetes: an OPA-compatible Rego engine")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("eval")
    .description("Evaluate a Rego query")
    .argument("<query>", "the query, e.g. data.example.allow")
    .option("-d, --data <path>", "policy or data file or directory (repeatable)", collect, [])
    .option("-i, --input <file>", "input document (JSON or YAML; - for stdin)")
    .option("-f, --format <format>", `output format: ${EVAL_FORMATS.join(", ")}`, "json")
    .option("--v0-compatible", "parse modules as Rego v0")
    .option("--strict-builtin-errors", "treat builtin errors as fatal")
    .option("--timeout <duration>", "stop evaluation after this long (e.g. 10s)")
    .action(async (query: string, o) => {
      code = await runEval(query, o, out, err);
    });

  program
    .command("capabilities")
    .description("Print the builtins and language features this engine supports (as `opa capabilities --current`)")
    .option("--current", "the capabilities of this version (the default)")
    .action(() => {
      out(capabilitiesText());
    });

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    throw e;
  }
  return code;
}
