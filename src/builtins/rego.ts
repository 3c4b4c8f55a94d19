// Builtins about Rego itself: rego.parse_module (the AST in OPA's JSON shape) and the
// declarations of rego.metadata.rule/chain, whose values the compiler computes per rule (they
// depend on where the call is written, not on run-time values).

import type { Builtin } from "./registry.ts";
import { T, BuiltinError, expectString } from "./registry.ts";
import { parseModule } from "../rego/parser.ts";
import { moduleToJSON } from "../rego/astjson.ts";
import { RegoError } from "../rego/errors.ts";
import { isStackOverflow } from "./support/large-stack.ts";
import { fromJS } from "../rego/value.ts";
import { RULE_SHAPE_ERROR, detailText, parserErrorDetail } from "./support/parsedetail.ts";

/** OPA's text for parse errors: each with its source line and caret. */
function parseErrorsText(e: RegoError, source: string): string {
  const lines = e.errors.map((x) => {
    const where = x.location ? `${x.location.file}:${x.location.row}: ` : "";
    let t = `${where}${x.code}: ${x.message}`;
    if (x.code === "rego_parse_error" && x.location && x.location.row > 0 && !RULE_SHAPE_ERROR.test(x.message)) {
      const d = parserErrorDetail(source, x.location.row, x.location.col);
      if (d) t += detailText(d);
    }
    return t;
  });
  return lines.length === 1 ? `1 error occurred: ${lines[0]}` : `${lines.length} errors occurred:\n${lines.join("\n")}`;
}

export const builtins: Builtin[] = [
  {
    name: "rego.parse_module",
    decl: T.fn([T.string, T.string], T.objectOf(T.string, T.any)),
    impl: ([file, src]) => {
      const f = expectString("rego.parse_module", 1, file);
      const s = expectString("rego.parse_module", 2, src);
      try {
        return fromJS(moduleToJSON(parseModule(f, s, { regoVersion: "v1" })));
      } catch (e) {
        if (e instanceof RegoError) throw new BuiltinError(`rego.parse_module: ${parseErrorsText(e, s)}`);
        // The parser bounds its own depth, but the AST's conversion to OPA's JSON shape descends
        // several frames per level: ~900 nested comprehensions exhaust the main thread's stack
        // (OPA returns their AST). A named error, not an internal one (docs/LIMITS.md).
        if (isStackOverflow(e)) throw new BuiltinError("rego.parse_module: the module is nested too deeply to convert to its AST (the engine's stack)");
        throw e;
      }
    },
  },
  // Evaluated by the compiler (a constant per calling rule); the implementation is the value for
  // a call outside any rule (a query): no annotations.
  { name: "rego.metadata.rule", decl: { type: "function", result: T.any }, impl: () => fromJS({}) },
  { name: "rego.metadata.chain", decl: { type: "function", result: T.arrayOf(T.any) }, impl: () => [] },
];
