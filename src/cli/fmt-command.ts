// Registers `portcullis fmt` (opa fmt: canonical formatting of Rego files).
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { runFmt } from "./fmt.ts";

export function register(program: Command, io: CliIO): void {
  program
    .command("fmt")
    .description("Format Rego source files as opa fmt does")
    .argument("[paths...]", ".rego files or directories (- or nothing: standard input)")
    .option("-w, --write", "write the formatted source back to the files")
    .option("-d, --diff", "print a diff of the changes formatting would make")
    .option("-l, --list", "list the files formatting would change")
    .option("--fail", "exit 1 if formatting would change any file")
    .option("--check", "list the files formatting would change and exit 1 if any (conftest fmt --check); writes nothing")
    .option("--v0-compatible", "parse and print Rego v0")
    .option("--rego-version <version>", "Rego syntax of the files: v0 or v1 (conftest fmt's flag; v0 is --v0-compatible)")
    .option("--v0-v1", "format Rego v0 to v1 syntax that v0 also accepts (adds import rego.v1)")
    .action((paths: string[], o) => {
      if (o.regoVersion !== undefined && o.regoVersion !== "v0" && o.regoVersion !== "v1") {
        io.err(`Error: failed to parse rego-version flag: invalid Rego version: ${o.regoVersion}\n`);
        io.exitCode = 1;
        return;
      }
      const v0Compatible = o.v0Compatible === true || o.regoVersion === "v0";
      io.exitCode = runFmt(paths, { write: o.write, diff: o.diff, list: o.list, fail: o.fail, check: o.check, v0Compatible, v0v1: o.v0V1 }, io);
    });
}
