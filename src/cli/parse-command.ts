// Registers `portcullis parse`: prints what a policy sees as `input` for configuration files,
// byte for byte as `conftest parse` prints it (one file: its value; several: an object keyed by
// path; --combine: the `[{path, contents}]` list). Rego files (all arguments ending in .rego,
// without --parser) print their AST as `opa parse --format json --json-include locations` does.

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { parseFile, parseContent, ParseError, PARSER_NAMES } from "../formats/index.ts";
import { combineConfigs, ConftestError } from "../conftest/inputs.ts";
import { goJSON, goString, compareUTF8 } from "../output/gojson.ts";
import { parseModule } from "../rego/parser.ts";
import { moduleToJSON } from "../rego/astjson.ts";
import { RegoError } from "../rego/errors.ts";
import { jsonText } from "./json.ts";

export interface ParseOptions {
  parser?: string;
  combine?: boolean;
  v0Compatible?: boolean;
  readStdin?: () => string;
}

/** `conftest parse` output for the files; throws ConftestError. */
export function parseConfigsText(files: string[], o: ParseOptions = {}): string {
  const values: { path: string; value: unknown }[] = [];
  for (const f of files) {
    try {
      if (f === "-") {
        const text = (o.readStdin ?? (() => readFileSync(0, "utf8")))();
        values.push({ path: f, value: parseContent(text, f, { parser: o.parser || "yaml" }) });
      } else {
        values.push({ path: f, value: parseFile(f, { parser: o.parser || undefined }) });
      }
    } catch (e) {
      if (e instanceof ParseError) throw new ConftestError(`parse configurations: ${e.message}`);
      throw e;
    }
  }
  if (o.combine) {
    const entries = combineConfigs(values);
    // conftest ends the combined listing with a blank line.
    if (entries.length === 0) return "null\n\n";
    const items = entries.map((e) => `\t{\n\t\t"path": ${goString(e.path)},\n\t\t"contents": ${goJSON(e.contents, "\t", "\t\t")}\n\t}`);
    return `[\n${items.join(",\n")}\n]\n\n`;
  }
  if (values.length === 1) return goJSON(values[0].value, "  ") + "\n";
  const byPath = new Map<string, unknown>();
  for (const v of values) byPath.set(v.path, v.value);
  const keys = [...byPath.keys()].sort(compareUTF8);
  const body = keys.map((k) => `  ${goString(k)}: ${goJSON(byPath.get(k), "  ", "  ")}`);
  return `{\n${body.join(",\n")}\n}\n`;
}

export function register(program: Command, io: CliIO): void {
  program
    .command("parse")
    .description("Print configuration files as policies see them (conftest parse), or the AST of Rego files")
    .argument("<files...>", "files to parse (- for standard input)")
    .option("--parser <parser>", `parser to use (${PARSER_NAMES.join(", ")})`)
    .option("--combine", "combine all config files into one input")
    .option("--v0-compatible", "parse Rego files as Rego v0")
    .action((files: string[], o: ParseOptions) => {
      if (!o.parser && files.every((f) => f.endsWith(".rego"))) {
        for (const f of files) {
          let src: string;
          try {
            src = readFileSync(f, "utf8");
          } catch (e) {
            io.err(`error: ${f}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}\n`);
            io.exitCode = 1;
            return;
          }
          try {
            const m = parseModule(f, src, { regoVersion: o.v0Compatible ? "v0" : "v1" });
            io.out(jsonText(moduleToJSON(m, { locations: true })) + "\n");
          } catch (e) {
            if (!(e instanceof RegoError)) throw e;
            io.err(e.message + "\n");
            io.exitCode = 1;
            return;
          }
        }
        io.exitCode = 0;
        return;
      }
      try {
        // Arguments are files, as conftest parse takes them (directories are not walked).
        io.out(parseConfigsText(files, { ...o, readStdin: io.readStdin }));
        io.exitCode = 0;
      } catch (e) {
        if (!(e instanceof ConftestError)) throw e;
        io.err(`Error: ${e.message}\n`);
        io.exitCode = 1;
      }
    });
}
