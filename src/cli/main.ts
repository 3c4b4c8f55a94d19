// The `portcullis` command line: one subcommand per job, each in its own file under src/cli/
// exporting `register(program, io)`; this file only lists them.

import { Command, CommanderError } from "commander";
import type { CliIO } from "./io.ts";
import { register as registerEval } from "./eval-command.ts";
import { register as registerCapabilities } from "./capabilities-command.ts";
import { register as registerVerify } from "./verify-command.ts";
import { register as registerTest } from "./test-command.ts";
import { register as registerParse } from "./parse-command.ts";
import { register as registerCheck } from "./check-command.ts";
import { register as registerRepl } from "./repl-command.ts";
import { register as registerFmt } from "./fmt-command.ts";

const commands: ((program: Command, io: CliIO) => void)[] = [registerEval, registerCapabilities, registerVerify, registerTest, registerParse, registerCheck, registerRepl, registerFmt];

export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  const program = new Command();
  program
    .name("portcullis")
    .description("Policy-as-code for containers and Kubernetes: an OPA-compatible Rego engine, conftest-style checks, Gatekeeper-compatible constraints")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError("(run with --help for usage)");
  for (const register of commands) register(program, io);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    throw e;
  }
  return io.exitCode;
}

function defaultIO(): CliIO {
  return {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    exitCode: 0,
  };
}
