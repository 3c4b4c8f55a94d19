// conftest's own builtins: parse_config(parser, text), parse_config_file(path) and
// parse_combined_config_files(paths). Paths are relative to the directory of the policy file
// that makes the call (as conftest resolves them); the input parsers of src/formats do the work.

import { dirname, join } from "node:path";
import type { Builtin, BuiltinContext } from "./registry.ts";
import { BuiltinError, T, expectString, expectArray, operandError } from "./registry.ts";
import { fromJS } from "../rego/value.ts";
import { getParser, parseFile } from "../formats/index.ts";
import { combineConfigs } from "../conftest/inputs.ts";

function relativeToPolicy(ctx: BuiltinContext, p: string): string {
  const file = ctx.location?.file;
  return file ? join(dirname(file), p) : p;
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export const builtins: Builtin[] = [
  {
    name: "parse_config",
    decl: T.fn([T.string, T.string], T.any),
    impl: ([parserName, content]) => {
      const name = expectString("parse_config", 1, parserName);
      const text = expectString("parse_config", 2, content);
      const parser = getParser(name);
      if (!parser) throw new BuiltinError(`parse_config: create config parser: unknown parser: ${name}`);
      try {
        return fromJS(parser.parse(text, "parse_config"));
      } catch (e) {
        throw new BuiltinError(`parse_config: unmarshal config: ${why(e)}`);
      }
    },
  },
  {
    name: "parse_config_file",
    decl: T.fn([T.string], T.any),
    impl: ([path], ctx) => {
      const p = relativeToPolicy(ctx, expectString("parse_config_file", 1, path));
      try {
        return fromJS(parseFile(p));
      } catch (e) {
        throw new BuiltinError(`parse_config_file: ${why(e)}`);
      }
    },
  },
  {
    name: "parse_combined_config_files",
    decl: T.fn([T.arrayOf(T.string)], T.any),
    impl: ([paths], ctx) => {
      const list = expectArray("parse_combined_config_files", 1, paths).map((p) => {
        if (typeof p !== "string") throw operandError("parse_combined_config_files", 1, "array[string]", paths);
        return relativeToPolicy(ctx, p);
      });
      try {
        return fromJS(combineConfigs(list.map((p) => ({ path: p, value: parseFile(p) }))));
      } catch (e) {
        throw new BuiltinError(`parse_combined_config_files: ${why(e)}`);
      }
    },
  },
];
