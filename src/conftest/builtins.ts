// conftest's own builtins: parse_config(parser, text), parse_config_file(path) and
// parse_combined_config_files(paths). They exist only on `portcullis test`'s engines (conftest's
// own engine); every other engine (eval, verify, the library, Gatekeeper templates, servers)
// does not know them, as in OPA and Gatekeeper, so a ConstraintTemplate cannot read host files.
// Paths are relative to the directory of the policy file that makes the call (as conftest
// resolves them) and must stay inside the working directory: `../../etc/passwd` or a symlink
// leading outside is an error. The input parsers of src/formats do the work.

import { dirname, join, resolve, relative, isAbsolute, sep } from "node:path";
import { realpathSync } from "node:fs";
import type { Builtin, BuiltinContext } from "../builtins/registry.ts";
import { BuiltinError, T, expectString, expectArray, operandError } from "../builtins/registry.ts";
import { fromJS } from "../rego/value.ts";
import { withBuiltins } from "../engine/index.ts";
import { getParser, parseFile, detectParserName } from "../formats/index.ts";
import { asGoNumbers } from "./numbers.ts";
import { combineConfigs } from "./inputs.ts";

function relativeToPolicy(ctx: BuiltinContext, name: string, p: string): string {
  const file = ctx.location?.file;
  const path = file ? join(dirname(file), p) : p;
  confine(name, path);
  return path;
}

/** The path (after following symlinks) must lie inside the working directory. */
function confine(name: string, path: string): void {
  const root = realpathSync(process.cwd());
  let real: string;
  try {
    real = realpathSync(resolve(path));
  } catch {
    real = resolve(path); // a missing file: reported by the parser with its own error
  }
  const rel = relative(root, real);
  if (rel === ".." || rel.startsWith(".." + sep) || isAbsolute(rel)) {
    throw new BuiltinError(`${name}: ${path}: access outside the working directory is not allowed`);
  }
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** conftest's builtins, for conftest's engines only. */
export const conftestBuiltins: Builtin[] = [
  {
    name: "parse_config",
    decl: T.fn([T.string, T.string], T.any),
    impl: ([parserName, content]) => {
      const name = expectString("parse_config", 1, parserName);
      const text = expectString("parse_config", 2, content);
      const parser = getParser(name);
      if (!parser) throw new BuiltinError(`parse_config: create config parser: unknown parser: ${name}`);
      try {
        return fromJS(asGoNumbers(parser.parse(text, "parse_config"), name));
      } catch (e) {
        throw new BuiltinError(`parse_config: unmarshal config: ${why(e)}`);
      }
    },
  },
  {
    name: "parse_config_file",
    decl: T.fn([T.string], T.any),
    impl: ([path], ctx) => {
      const p = relativeToPolicy(ctx, "parse_config_file", expectString("parse_config_file", 1, path));
      try {
        return fromJS(asGoNumbers(parseFile(p), detectParserName(p)));
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
        return relativeToPolicy(ctx, "parse_combined_config_files", p);
      });
      try {
        return fromJS(combineConfigs(list.map((p) => ({ path: p, value: asGoNumbers(parseFile(p), detectParserName(p)) }))));
      } catch (e) {
        throw new BuiltinError(`parse_combined_config_files: ${why(e)}`);
      }
    },
  },
];

/** OPA's builtins and conftest's: the table of `test`'s engines and of conftest-style `verify`. */
export const CONFTEST_TABLE = withBuiltins(conftestBuiltins);
