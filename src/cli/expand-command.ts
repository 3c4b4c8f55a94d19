// Registers `portcullis expand`: gator expand — the resources Gatekeeper's ExpansionTemplates
// generate from the generator resources among the inputs (docs/gatekeeper-expansion.md).
import type { Command } from "commander";
import type { CliIO } from "./io.ts";

/** Repeatable, taken whole (cobra's StringArray: no comma splitting). */
const repeat = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, io: CliIO): void {
  program
    .command("expand")
    .description("Expand generator resources with Gatekeeper ExpansionTemplates and print the resultant resources (gator expand)")
    .option("-n, --filename <path>", "a file or directory containing Kubernetes resources; can be specified multiple times", repeat)
    .option("-f, --format <format>", "output format: json|yaml (default yaml)")
    .option("-o, --outputfile <file>", "output file path; if the file already exists, it will be overwritten")
    .action(async (o: { filename?: string[]; format?: string; outputfile?: string }) => {
      const { runExpand } = await import("./expand.ts");
      io.exitCode = await runExpand({ filenames: o.filename ?? [], format: o.format ?? "", outputFile: o.outputfile }, io);
    });
}
