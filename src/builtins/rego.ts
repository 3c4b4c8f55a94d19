// Builtins about Rego itself: rego.parse_module (the AST in OPA's JSON shape) and the
// declarations of rego.metadata.rule/chain, whose values the compiler computes per rule (they
// depend on where the call is written, not on run-time values).

import type { Builtin } from "./registry.ts";
import { T, BuiltinError, expectString } from "./registry.ts";
import { parseModule } from "../rego/parser.ts";
import { moduleToJSON } from "../rego/astjson.ts";
import { RegoError } from "../rego/errors.ts";
import { callWithLargeStack, isStackOverflow, registerLargeStackFn } from "./support/large-stack.ts";
import { decodeValueText, encodeValueText } from "./support/valuetext.ts";
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

/** Set on the large-stack worker: no further worker from there. */
let onLargeStack = false;

/** rego.parse_module on the large-stack worker: the AST (or the parse errors' text) as text. */
registerLargeStackFn("rego.parse_module", (arg: string): string => {
  onLargeStack = true;
  const [f, s] = JSON.parse(arg) as [string, string];
  try {
    return encodeValueText(moduleToJSON(parseModule(f, s, { regoVersion: "v1" })));
  } catch (e) {
    if (e instanceof RegoError) throw new BuiltinError(`rego.parse_module: ${parseErrorsText(e, s)}`);
    throw e;
  }
});

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
        if (!isStackOverflow(e) || onLargeStack) throw e;
      }
      // The parser bounds its own depth, but parsing and the AST's conversion to OPA's JSON shape
      // descend several frames per level: ~900 nested comprehensions exhaust the ordinary stack.
      // The same parse runs again on the large-stack worker (as yaml.unmarshal does), whose answer
      // comes back as text and is decoded without recursion: OPA's AST, as OPA returns it.
      let text: string;
      try {
        text = callWithLargeStack({ fn: "rego.parse_module", arg: JSON.stringify([f, s]) });
      } catch (e) {
        if (e instanceof Error && e.name === "BuiltinError") throw new BuiltinError(e.message);
        throw e;
      }
      return fromJS(decodeValueText(text));
    },
  },
  // Evaluated by the compiler (a constant per calling rule); the implementation is the value for
  // a call outside any rule (a query): no annotations.
  { name: "rego.metadata.rule", decl: { type: "function", result: T.any }, impl: () => fromJS({}) },
  { name: "rego.metadata.chain", decl: { type: "function", result: T.arrayOf(T.any) }, impl: () => [] },
];
