// Registers `portcullis parse`: prints what a policy sees as `input` for configuration files,
// byte for byte as `conftest parse` prints it (one file: its value; several: an object keyed by
// path; --combine: the `[{path, contents}]` list). Rego files (all arguments ending in .rego,
// without --parser) print their AST as `opa parse` does (src/rego/astprint.ts): the tree by
// default, `--format json` for OPA's AST JSON (`--json-include locations,-comments` as in opa).

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { parseFile, parseContent, ParseError, ParserFault, PARSER_NAMES } from "../formats/index.ts";
import { isStackOverflow } from "../builtins/support/large-stack.ts";
import { combineConfigs, ConftestError } from "../conftest/inputs.ts";
import { goJSON, goString, compareUTF8 } from "../gotext/plainjson.ts";
import { parseForCheck } from "../check/index.ts";
import { checkErrorsJSON } from "./check.ts";
import { regoJSON, regoPretty } from "../rego/astprint.ts";
import { goErrnoText as errnoText } from "../gotext/errno.ts";

export interface ParseOptions {
  parser?: string;
  combine?: boolean;
  v0Compatible?: boolean;
  format?: string;
  jsonInclude?: string;
  readStdin?: () => string;
}

/**
 * `conftest parse` output for the files; throws ConftestError for the input's
 * errors (ParseError), ParserFault for a parser's internal fault.
 */
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

/**
 * `opa parse` for .rego files: each module's AST (pretty tree or JSON); errors as opa prints
 * them (JSON on stderr, exit 1). opa parses only its first argument; every file is printed here.
 */
export function parseRegoFiles(files: string[], o: ParseOptions, io: CliIO): number {
  const format = o.format ?? "pretty";
  if (format !== "pretty" && format !== "json") {
    io.err(`Error: invalid argument "${format}" for "-f, --format" flag: must be one of: pretty, json\n`);
    return 1;
  }
  let locations = false;
  let comments = true;
  for (const item of (o.jsonInclude ?? "").split(",").map((x) => x.trim()).filter((x) => x !== "")) {
    const on = !item.startsWith("-");
    const name = item.replace(/^[-+]/, "");
    if (name === "locations") locations = on;
    else if (name === "comments") comments = on;
    else {
      io.err(`Error: invalid --json-include element "${name}" (use locations, comments)\n`);
      return 1;
    }
  }
  for (const f of files) {
    let src: string;
    try {
      src = readFileSync(f, "utf8");
    } catch (e) {
      const why = errnoText(e);
      io.err(checkErrorsJSON({ phase: "loading", errors: [{ message: `open ${f}: ${why}` }] }));
      return 1;
    }
    const r = parseForCheck(f, src, o.v0Compatible ? "v0" : "v1");
    if (r.errors) {
      io.err(checkErrorsJSON({ phase: "loading", errors: r.errors }));
      return 1;
    }
    io.out(format === "json" ? regoJSON(r.module!, src, { locations, comments }) : regoPretty(r.module!));
  }
  return 0;
}

export function register(program: Command, io: CliIO): void {
  program
    .command("parse")
    .description("Print configuration files as policies see them (conftest parse), or the AST of Rego files")
    .argument("[files...]", "files to parse (- for standard input)")
    .option("--parser <parser>", `parser to use (${PARSER_NAMES.join(", ")})`)
    .option("--combine", "combine all config files into one input")
    .option("--v0-compatible", "parse Rego files as Rego v0")
    .option("-f, --format <format>", "Rego files: output format, pretty (opa parse's tree) or json (OPA's AST JSON)", "pretty")
    .option("--json-include <elements>", "Rego files, JSON: include or exclude optional elements: locations, comments (e.g. locations,-comments); comments are included by default")
    .action((files: string[], o: ParseOptions) => {
      if (files.length === 0) {
        io.err("Error: must supply path to at least one file\n"); // conftest's wording
        io.exitCode = 1;
        return;
      }
      if (!o.parser && files.every((f) => f.endsWith(".rego"))) {
        io.exitCode = parseRegoFiles(files, o, io);
        return;
      }
      try {
        // Arguments are files, as conftest parse takes them (directories are not walked).
        io.out(parseConfigsText(files, { ...o, readStdin: io.readStdin }));
        io.exitCode = 0;
      } catch (e) {
        // the input's error: exit 1, as conftest
        if (e instanceof ConftestError) {
          io.err(`Error: ${e.message}\n`);
          io.exitCode = 1;
          return;
        }
        // an internal fault (a parser's, or printing a value nested too deeply for the
        // printer's stack) is not the user's syntax error: said so, exit 2
        if (e instanceof ParserFault) {
          io.err(`Error: ${e.message}\n`);
          io.exitCode = 2;
          return;
        }
        if (isStackOverflow(e)) {
          io.err("Error: internal error: the parsed input is nested too deeply to print (stack exhausted)\n");
          io.exitCode = 2;
          return;
        }
        throw e;
      }
    });
}
