// Registers `portcullis capabilities`.
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { capabilitiesText } from "./capabilities.ts";

export function register(program: Command, io: CliIO): void {
  program
    .command("capabilities")
    .description("Print the builtins and language features this engine supports (as `opa capabilities --current`)")
    .option("--current", "the capabilities of this version (the default)")
    .action(() => {
      io.out(capabilitiesText());
    });
}
