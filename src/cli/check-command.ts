// Registers `portcullis check` (opa check: parse and compile Rego, optionally in strict mode).
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { runCheck } from "./check.ts";
import { loadSchemas } from "../load/schemas.ts";
import { LoadError } from "../load/index.ts";

export function register(program: Command, io: CliIO): void {
  program
    .command("check")
    .description("Check Rego source files for parse and compilation errors")
    .argument("[paths...]", ".rego files or directories")
    .option("-f, --format <format>", "output format: pretty or json", "pretty")
    .option("-S, --strict", "enable compiler strict mode (unused imports and variables, shadowing, deprecated builtins)")
    .option("-m, --max-errors <n>", "number of errors to report before stopping (0: no limit)", "10")
    .option("--v0-compatible", "parse modules as Rego v0")
    .option("--rego-version <version>", "Rego version of the modules: v0 or v1", "v1")
    .option("--v0-v1", "modules must be valid both as Rego v0 and v1 (v0 parsing: keywords only once imported; v1 rules)")
    .option("-s, --schema <path>", "set schema file path or directory path")
    .action((paths: string[], o) => {
      let schemas: Record<string, unknown> | undefined;
      if (o.schema !== undefined) {
        try {
          schemas = loadSchemas(o.schema);
        } catch (e) {
          if (!(e instanceof LoadError)) throw e;
          io.err(e.bare ? `${e.message}\n` : `error: ${e.message}\n`);
          io.exitCode = 1;
          return;
        }
      }
      const regoVersion = o.v0V1 ? "v0v1" : o.v0Compatible ? "v0" : o.regoVersion;
      if (regoVersion !== "v0" && regoVersion !== "v1" && regoVersion !== "v0v1") {
        io.err(`error: invalid --rego-version "${o.regoVersion}" (use v0 or v1)\n`);
        io.exitCode = 1;
        return;
      }
      const maxErrors = Number(o.maxErrors);
      if (!Number.isInteger(maxErrors)) {
        io.err(`error: invalid --max-errors "${o.maxErrors}"\n`);
        io.exitCode = 1;
        return;
      }
      io.exitCode = runCheck(paths, { strict: !!o.strict, format: o.format, regoVersion, maxErrors, schemas }, io.out, io.err);
    });
}
