// Registers `portcullis doc` (conftest's `doc`): Markdown documentation of policy directories
// from their METADATA annotations, one NAME.md per directory in --outDir.
import type { Command } from "commander";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CliIO } from "./io.ts";
import { DocError, documentFileName, generateDocument } from "../conftest/doc.ts";
import { goErrnoText as errnoText } from "../gotext/errno.ts";

const USAGE = `Usage:
  portcullis doc <path> [path [...]] [flags]

Flags:
  -h, --help              help for doc
  -o, --outDir string     Path to the output documentation file (default ".")
  -t, --template string   Go template for the document generation
`;


/** Exit status of `doc` for its arguments; output files written as conftest writes them. */
export function runDoc(paths: string[], outDir: string, template: string | undefined, io: CliIO): number {
  if (paths.length === 0) {
    io.err(USAGE);
    io.err("Error: missing required arguments\n");
    return 1;
  }
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (e) {
      io.err(`Error: stat ${path}: ${errnoText(e)}\n`);
      return 1;
    }
    if (!isDir) {
      io.err(`Error: ${path} is not a directory\n`);
      return 1;
    }
    const outPath = join(outDir, documentFileName(path));
    let text: string;
    try {
      text = generateDocument(path, template || undefined);
    } catch (e) {
      if (!(e instanceof DocError)) throw e;
      io.err(`Error: generating document: ${e.message}\n`);
      return 1;
    }
    try {
      writeFileSync(outPath, text, { mode: 0o600 });
    } catch (e) {
      io.err(`Error: opening ${outPath} for writing output: open ${outPath}: ${errnoText(e)}\n`);
      return 1;
    }
  }
  return 0;
}

export function register(program: Command, io: CliIO): void {
  program
    .command("doc")
    .description("Generate Markdown documentation from the policies' METADATA annotations (conftest doc)")
    .argument("[paths...]", "policy directories to document")
    .option("-o, --outDir <dir>", 'Path to the output documentation file (default ".")', ".")
    .option("-t, --template <file>", "Go template for the document generation")
    .action((paths: string[], o: { outDir: string; template?: string }) => {
      io.exitCode = runDoc(paths, o.outDir, o.template, io);
    });
}
