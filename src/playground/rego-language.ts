// Rego highlighting for CodeMirror 6: a small StreamLanguage tokenizer (comments, strings, raw
// strings, numbers, keywords, operators, rule and package names). It only colours text; parsing
// and errors are the engine's (src/rego), shown as lint diagnostics.

import { StreamLanguage, type StringStream } from "@codemirror/language";

const KEYWORDS = new Set(["package", "import", "if", "else", "contains", "some", "every", "in", "not", "with", "as", "default"]);
const ATOMS = new Set(["true", "false", "null"]);
const ROOTS = new Set(["input", "data", "future", "rego"]);

interface RegoState {
  /** Inside a multi-line raw string (backquotes). */
  raw: boolean;
  /** The previous token was `package` or `import`: the next reference is a name. */
  afterHeader: boolean;
}

function token(stream: StringStream, state: RegoState): string | null {
  if (state.raw) {
    if (stream.skipTo("`")) {
      stream.next();
      state.raw = false;
    } else stream.skipToEnd();
    return "string";
  }
  if (stream.eatSpace()) return null;
  if (stream.sol()) state.afterHeader = false;
  const ch = stream.peek();
  if (ch === "#") {
    stream.skipToEnd();
    return "comment";
  }
  if (ch === '"') {
    stream.next();
    let escaped = false;
    for (let c = stream.next(); c !== undefined; c = stream.next()) {
      if (c === '"' && !escaped) return "string";
      escaped = !escaped && c === "\\";
    }
    return "string";
  }
  if (ch === "`") {
    stream.next();
    state.raw = true;
    return token(stream, state) ?? "string";
  }
  if (stream.match(/^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/)) return "number";
  if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) {
    const word = stream.current();
    if (KEYWORDS.has(word)) {
      state.afterHeader = word === "package" || word === "import";
      return "keyword";
    }
    if (ATOMS.has(word)) return "atom";
    if (state.afterHeader) return "namespace";
    if (ROOTS.has(word)) return "variableName.special";
    // A name at the start of a line is a rule or function head.
    if (stream.column() === 0) return "variableName.definition";
    if (stream.peek() === "(") return "variableName.function";
    return "variableName";
  }
  if (stream.match(/^(:=|==|!=|<=|>=|\|)/) || stream.match(/^[=<>+\-*/%&]/)) return "operator";
  stream.next();
  return null;
}

export const rego = StreamLanguage.define<RegoState>({
  name: "rego",
  startState: () => ({ raw: false, afterHeader: false }),
  copyState: (s) => ({ ...s }),
  token,
  languageData: { commentTokens: { line: "#" } },
});
