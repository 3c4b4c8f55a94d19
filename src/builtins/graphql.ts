// graphql.*: parsing and validating GraphQL queries and schemas with graphql-js, producing the AST
// shape OPA produces (that of the gqlparser Go library, marshalled to JSON with empty parts left
// out) and gqlparser's error texts where they differ from graphql-js's.

import type {
  GraphQLError,
  ASTNode,
  DefinitionNode,
  DirectiveNode,
  DocumentNode,
  GraphQLSchema,
  SelectionNode,
  TypeNode,
  ValueNode,
  VariableDefinitionNode,
} from "graphql";
import type { Builtin } from "./registry.ts";
import { BuiltinError, BuiltinTypeError, T, operandError } from "./registry.ts";
import type { PlainObject, Value } from "../rego/value.ts";
import { isPlainObject, typeName } from "../rego/value.ts";
import { lazyRequire } from "../lazy.ts";
import { goQuote } from "../gotext/fmt.ts";
import { Kind } from "graphql/language/kinds.js";

// graphql-js (CommonJS, a hundred-odd files) loads on the first graphql.* call, not at start-up;
// its Kind table, which the tables below use, is one small file of it (bundled into the command
// line's file: scripts/cli-bundle.ts).
const graphqlJS = lazyRequire<typeof import("graphql")>("graphql");

// ---- Errors ---------------------------------------------------------------------------------

class GqlError extends Error {}

function loc(e: GraphQLError): { line: number; column: number } {
  return e.locations && e.locations.length > 0 ? e.locations[0] : { line: 0, column: 0 };
}

/**
 * m as `Expected (.+)<sep>(.*)"` (greedy, no line terminators): [what was expected, the rest], or
 * null. String operations, as the regex would backtrack quadratically over a token that repeats sep.
 */
function expectedFound(m: string, sep: string): string[] | null {
  if (!m.startsWith("Expected ") || !m.endsWith('"') || /[\n\r\u2028\u2029]/.test(m)) return null;
  const i = m.lastIndexOf(sep, m.length - 1 - sep.length);
  if (i < "Expected ".length + 1) return null;
  return [m.slice("Expected ".length, i), m.slice(i + sep.length, m.length - 1)];
}

/** The token of `text` that starts at line:column (graphql-js's lexer), and the significant one before it. */
function tokenAt(text: string, line: number, column: number): { kind: string; value: string; prev: string | null } | null {
  const js = graphqlJS();
  try {
    const lexer = new js.Lexer(new js.Source(text));
    let prev: string | null = null;
    for (let t = lexer.advance(); t.kind !== "<EOF>"; t = lexer.advance()) {
      if (t.line === line && t.column === column) return { kind: t.kind, value: t.value ?? "", prev };
      if (t.line > line) break;
      prev = t.kind;
    }
  } catch {
    // a lexical error before the position: no token to name
  }
  return null;
}

/** How gqlparser names a string token (its position is after the opening quotes). */
function stringToken(kind: string, value: string): { text: string; shift: number } | null {
  if (kind === "String") return { text: `String ${goQuote(value)}`, shift: 1 };
  if (kind === "BlockString") return { text: `BlockString ${goQuote(value)}`, shift: 3 };
  return null;
}

/** A graphql-js syntax error in gqlparser's words. */
function syntaxMessage(e: GraphQLError, text: string): string {
  let m = e.message.replace(/^Syntax Error: /, "").replace(/\.$/, "");
  let { line, column } = loc(e);
  let r: string[] | null;
  // gqlparser names punctuators bare: `Expected {`, not `Expected "{"`.
  const bare = (x: string) => x.replace(/^"(.+)"$/, "$1");
  if ((r = expectedFound(m, ', found String "'))) {
    m = `Expected ${bare(r[0])}, found String`;
    column++;
  } else if ((r = expectedFound(m, ', found BlockString "'))) {
    m = `Expected ${bare(r[0])}, found BlockString`;
    column += 3;
  } else if ((r = expectedFound(m, ', found "'))) {
    // An empty `{}` or `()` list: gqlparser wants at least one item.
    const opener = r[1] === "}" ? "{" : r[1] === ")" ? "(" : null;
    if (opener !== null && tokenAt(text, line, column)?.prev === opener) m = `expected at least one definition, found ${r[1]}`;
    else m = `Expected ${bare(r[0])}, found ${r[1]}`;
  } else if ((r = /^Unexpected (String|BlockString) "/.exec(m))) column += r[1] === "String" ? 1 : 3;
  else if (/^Unexpected description, only GraphQL definitions support descriptions$/.test(m)) {
    const t = tokenAt(text, line, column);
    const st = t && stringToken(t.kind, t.value);
    if (st) {
      m = `Unexpected ${st.text}`;
      column += st.shift;
    }
  } else if (/^Unexpected variable "\$.*" in constant value$/.test(m)) m = "Unexpected $";
  else if ((r = /^Unexpected "(.*)"$/.exec(m))) m = `Unexpected ${r[1]}`;
  else if (/^(Unterminated string|Invalid number|Unexpected character|Invalid character|Bad character escape|Invalid Unicode)/.test(m)) m = "Unexpected <Invalid>";
  return `${m} in GraphQL string at location ${line}:${column}`;
}

const gqlParser = lazyRequire<typeof import("graphql/language/parser.js")>("graphql/language/parser.js");

type LexToken = { kind: string; value?: string; line: number; column: number };

/** gqlparser's name for a token in "Unexpected …" (strings: their value, and their position after the quotes). */
function unexpectedToken(t: LexToken): GqlError {
  const st = stringToken(t.kind, t.value ?? "");
  if (st) return new GqlError(`Unexpected ${st.text} in GraphQL string at location ${t.line}:${t.column + st.shift}`);
  const what = t.kind === "Name" || t.kind === "Int" || t.kind === "Float" ? `${t.kind} ${goQuote(t.value ?? "")}` : t.kind;
  return new GqlError(`Unexpected ${what} in GraphQL string at location ${t.line}:${t.column}`);
}

const QUERY_WORDS = new Set(["query", "mutation", "subscription", "fragment"]);
const SCHEMA_WORDS = new Set(["scalar", "type", "interface", "union", "enum", "input", "directive", "schema", "extend"]);

/**
 * Parse a query or schema document definition by definition, as gqlparser does: a definition
 * that cannot start this kind of document is an error at its first token, before anything
 * after it is read (graphql-js alone would parse the whole document first).
 */
function parseText(text: string, kind: "query" | "schema"): DocumentNode {
  try {
    const parser = new (gqlParser().Parser)(text, { allowLegacyFragmentVariables: true } as never);
    const p = parser as unknown as {
      _lexer: { token: LexToken; lookahead(): LexToken };
      expectToken(k: string): void;
      parseDefinition(): DocumentNode["definitions"][number];
    };
    p.expectToken("<SOF>");
    const definitions: DocumentNode["definitions"][number][] = [];
    for (;;) {
      const t = p._lexer.token;
      if (t.kind === "<EOF>") break;
      if (kind === "query") {
        if (!(t.kind === "{" || (t.kind === "Name" && QUERY_WORDS.has(t.value ?? "")))) throw unexpectedToken(t);
      } else if (t.kind === "String" || t.kind === "BlockString") {
        const next = p._lexer.lookahead();
        if (next.kind !== "Name" || !SCHEMA_WORDS.has(next.value ?? "")) throw unexpectedToken(next);
        // gqlparser: an extension cannot have a description; the description is the error.
        if (next.value === "extend") throw unexpectedToken(t);
      } else if (!(t.kind === "Name" && SCHEMA_WORDS.has(t.value ?? ""))) throw unexpectedToken(t);
      definitions.push(p.parseDefinition());
    }
    return { kind: Kind.DOCUMENT, definitions };
  } catch (e) {
    if (e instanceof graphqlJS().GraphQLError) throw new GqlError(syntaxMessage(e, text));
    throw e;
  }
}

function tokenError(node: ASTNode, what: string): GqlError {
  const t = node.loc?.startToken;
  return new GqlError(`Unexpected ${what} in GraphQL string at location ${t ? t.line : 1}:${t ? t.column : 1}`);
}

// ---- AST in gqlparser's shape ---------------------------------------------------------------

/** Drop null members and empty arrays, as OPA's output has them. */
function obj(entries: Record<string, Value | undefined>): PlainObject {
  const out: PlainObject = {};
  for (const [k, v] of Object.entries(entries)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

/**
 * gqlparser's block string value: the common indentation (of all lines with text, the first
 * included) removed from every line but the first, then leading and trailing blank lines dropped.
 */
function blockStringValue(raw: string): string {
  const lines = raw.split("\n");
  const indentOf = (l: string) => {
    const m = /^[ \t]*/.exec(l)![0].length;
    return m === l.length ? Infinity : m;
  };
  let common = Infinity;
  for (const l of lines) {
    const i = indentOf(l);
    if (i < common) common = i;
    if (common === 0) break;
  }
  if (common !== Infinity) for (let i = 1; i < lines.length; i++) lines[i] = lines[i].length < common ? "" : lines[i].slice(common);
  let start = 0;
  let end = lines.length;
  while (start < end && indentOf(lines[start]) === Infinity) start++;
  while (start < end && indentOf(lines[end - 1]) === Infinity) end--;
  return lines.slice(start, end).join("\n");
}

const VALUE_KIND: Record<string, number> = {
  [Kind.VARIABLE]: 0,
  [Kind.INT]: 1,
  [Kind.FLOAT]: 2,
  [Kind.STRING]: 3,
  [Kind.BOOLEAN]: 5,
  [Kind.NULL]: 6,
  [Kind.ENUM]: 7,
  [Kind.LIST]: 8,
  [Kind.OBJECT]: 9,
};

function valueAST(v: ValueNode, source: string): Value {
  let raw = "";
  let kind = VALUE_KIND[v.kind];
  let children: Value[] | undefined;
  switch (v.kind) {
    case Kind.VARIABLE:
      raw = v.name.value;
      break;
    case Kind.INT:
    case Kind.FLOAT:
    case Kind.ENUM:
      raw = v.value;
      break;
    case Kind.STRING:
      if (v.block) {
        kind = 4;
        const text = v.loc ? source.slice(v.loc.start + 3, v.loc.end - 3) : v.value;
        raw = v.loc ? blockStringValue(text.replace(/\\"""/g, '"""')) : text;
      } else raw = v.value;
      break;
    case Kind.BOOLEAN:
      raw = v.value ? "true" : "false";
      break;
    case Kind.NULL:
      raw = "null";
      break;
    case Kind.LIST:
      children = v.values.map((x) => obj({ Name: "", Value: valueAST(x, source) }));
      break;
    case Kind.OBJECT:
      children = v.fields.map((f) => obj({ Name: f.name.value, Value: valueAST(f.value, source) }));
      break;
  }
  return obj({ Raw: raw, Children: children, Kind: kind, ExpectedTypeHasDefault: false });
}

function typeAST(t: TypeNode): Value {
  switch (t.kind) {
    case Kind.NAMED_TYPE:
      return { NamedType: t.name.value, NonNull: false };
    case Kind.LIST_TYPE:
      return { NamedType: "", Elem: typeAST(t.type), NonNull: false };
    case Kind.NON_NULL_TYPE:
      return { ...(typeAST(t.type) as PlainObject), NonNull: true };
  }
}

function directivesAST(ds: readonly DirectiveNode[] | undefined, source: string): Value[] {
  return (ds ?? []).map((d) =>
    obj({
      Name: d.name.value,
      Arguments: (d.arguments ?? []).map((a) => obj({ Name: a.name.value, Value: valueAST(a.value, source) })),
      Location: "",
    }),
  );
}

function selectionsAST(sels: readonly SelectionNode[] | undefined, source: string): Value[] {
  return (sels ?? []).map((s) => {
    switch (s.kind) {
      case Kind.FIELD:
        return obj({
          Alias: s.alias ? s.alias.value : s.name.value,
          Name: s.name.value,
          Arguments: (s.arguments ?? []).map((a) => obj({ Name: a.name.value, Value: valueAST(a.value, source) })),
          Directives: directivesAST(s.directives, source),
          SelectionSet: selectionsAST(s.selectionSet?.selections, source),
        });
      case Kind.FRAGMENT_SPREAD:
        return obj({ Name: s.name.value, Directives: directivesAST(s.directives, source) });
      case Kind.INLINE_FRAGMENT:
        return obj({
          TypeCondition: s.typeCondition ? s.typeCondition.name.value : "",
          Directives: directivesAST(s.directives, source),
          SelectionSet: selectionsAST(s.selectionSet.selections, source),
        });
    }
  });
}

function variablesAST(vs: readonly VariableDefinitionNode[] | undefined, source: string): Value[] {
  return (vs ?? []).map((v) =>
    obj({
      Variable: v.variable.name.value,
      Type: typeAST(v.type),
      DefaultValue: v.defaultValue ? valueAST(v.defaultValue, source) : undefined,
      Directives: directivesAST(v.directives, source),
      Used: false,
    }),
  );
}

function queryAST(doc: DocumentNode, source: string): PlainObject {
  const ops: Value[] = [];
  const frags: Value[] = [];
  for (const d of doc.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION) {
      ops.push(
        obj({
          Operation: d.operation,
          Name: d.name ? d.name.value : "",
          VariableDefinitions: variablesAST(d.variableDefinitions, source),
          Directives: directivesAST(d.directives, source),
          SelectionSet: selectionsAST(d.selectionSet.selections, source),
        }),
      );
    } else if (d.kind === Kind.FRAGMENT_DEFINITION) {
      frags.push(
        obj({
          Name: d.name.value,
          VariableDefinition: variablesAST(d.variableDefinitions, source),
          TypeCondition: d.typeCondition.name.value,
          Directives: directivesAST(d.directives, source),
          SelectionSet: selectionsAST(d.selectionSet.selections, source),
        }),
      );
    } else {
      throw tokenError(d, `Name "${d.loc?.startToken.value ?? ""}"`);
    }
  }
  return obj({ Operations: ops, Fragments: frags });
}

function description(d: { description?: { value: string } | undefined }): string {
  return d.description ? d.description.value : "";
}

interface ArgLike {
  description?: { value: string };
  name: { value: string };
  type: TypeNode;
  defaultValue?: ValueNode;
  directives?: readonly DirectiveNode[];
}

function argDefsAST(args: readonly ArgLike[] | undefined, source: string): Value[] {
  return (args ?? []).map((a) =>
    obj({
      Description: description(a),
      Name: a.name.value,
      DefaultValue: a.defaultValue ? valueAST(a.defaultValue, source) : undefined,
      Type: typeAST(a.type),
      Directives: directivesAST(a.directives, source),
    }),
  );
}

const DEF_KIND: Record<string, string> = {
  [Kind.OBJECT_TYPE_DEFINITION]: "OBJECT",
  [Kind.OBJECT_TYPE_EXTENSION]: "OBJECT",
  [Kind.INTERFACE_TYPE_DEFINITION]: "INTERFACE",
  [Kind.INTERFACE_TYPE_EXTENSION]: "INTERFACE",
  [Kind.UNION_TYPE_DEFINITION]: "UNION",
  [Kind.UNION_TYPE_EXTENSION]: "UNION",
  [Kind.ENUM_TYPE_DEFINITION]: "ENUM",
  [Kind.ENUM_TYPE_EXTENSION]: "ENUM",
  [Kind.INPUT_OBJECT_TYPE_DEFINITION]: "INPUT_OBJECT",
  [Kind.INPUT_OBJECT_TYPE_EXTENSION]: "INPUT_OBJECT",
  [Kind.SCALAR_TYPE_DEFINITION]: "SCALAR",
  [Kind.SCALAR_TYPE_EXTENSION]: "SCALAR",
};

function definitionAST(d: DefinitionNode, source: string): PlainObject {
  const n = d as unknown as {
    kind: string;
    description?: { value: string };
    name: { value: string };
    directives?: readonly DirectiveNode[];
    interfaces?: readonly { name: { value: string } }[];
    fields?: readonly (ArgLike & { arguments?: readonly ArgLike[] })[];
    types?: readonly { name: { value: string } }[];
    values?: readonly { description?: { value: string }; name: { value: string }; directives?: readonly DirectiveNode[] }[];
  };
  const kind = DEF_KIND[n.kind];
  let fields: Value[] | undefined;
  if (kind === "INPUT_OBJECT") fields = argDefsAST(n.fields, source);
  else if (n.fields) {
    fields = n.fields.map((f) =>
      obj({
        Description: description(f),
        Name: f.name.value,
        Arguments: argDefsAST(f.arguments, source),
        Type: typeAST(f.type),
        Directives: directivesAST(f.directives, source),
      }),
    );
  }
  return obj({
    Kind: kind,
    Description: description(n),
    Name: n.name.value,
    Directives: directivesAST(n.directives, source),
    Interfaces: (n.interfaces ?? []).map((i) => i.name.value),
    Fields: fields,
    Types: (n.types ?? []).map((t) => t.name.value),
    EnumValues: (n.values ?? []).map((v) =>
      obj({ Description: description(v), Name: v.name.value, Directives: directivesAST(v.directives, source) }),
    ),
    BuiltIn: false,
  });
}

function schemaAST(doc: DocumentNode, source: string): PlainObject {
  const schema: Value[] = [];
  const schemaExt: Value[] = [];
  const directives: Value[] = [];
  const defs: Value[] = [];
  const exts: Value[] = [];
  for (const d of doc.definitions) {
    switch (d.kind) {
      case Kind.SCHEMA_DEFINITION:
      case Kind.SCHEMA_EXTENSION: {
        const s = obj({
          Description: d.kind === Kind.SCHEMA_DEFINITION ? description(d) : "",
          Directives: directivesAST(d.directives, source),
          OperationTypes: (d.operationTypes ?? []).map((o) => ({ Operation: o.operation, Type: o.type.name.value })),
        });
        (d.kind === Kind.SCHEMA_DEFINITION ? schema : schemaExt).push(s);
        break;
      }
      case Kind.DIRECTIVE_DEFINITION:
        directives.push(
          obj({
            Description: description(d),
            Name: d.name.value,
            Arguments: argDefsAST(d.arguments, source),
            Locations: d.locations.map((l) => l.value),
            IsRepeatable: d.repeatable,
          }),
        );
        break;
      case Kind.OPERATION_DEFINITION:
      case Kind.FRAGMENT_DEFINITION:
        throw tokenError(d, d.kind === Kind.FRAGMENT_DEFINITION ? 'Name "fragment"' : d.loc?.startToken.kind === "{" ? "{" : `Name "${d.loc?.startToken.value ?? ""}"`);
      default:
        if (d.kind.endsWith("Extension")) exts.push(definitionAST(d, source));
        else defs.push(definitionAST(d, source));
    }
  }
  return obj({ Schema: schema, SchemaExtension: schemaExt, Directives: directives, Definitions: defs, Extensions: exts });
}

// ---- Turning OPA-shaped AST objects back into GraphQL text ----------------------------------

function str(v: Value | undefined): string {
  return typeof v === "string" ? v : "";
}
function arr(v: Value | undefined): PlainObject[] {
  return Array.isArray(v) ? (v.filter(isPlainObject) as PlainObject[]) : [];
}

function printValue(v: PlainObject): string {
  const raw = str(v.Raw);
  switch (v.Kind) {
    case 0:
      return "$" + raw;
    case 3:
    case 4:
      return JSON.stringify(raw);
    case 8:
      return "[" + arr(v.Children).map((c) => printValue(c.Value as PlainObject)).join(", ") + "]";
    case 9:
      return "{" + arr(v.Children).map((c) => `${str(c.Name)}: ${printValue(c.Value as PlainObject)}`).join(", ") + "}";
    default:
      return raw;
  }
}

function printType(t: PlainObject): string {
  const inner = t.Elem && isPlainObject(t.Elem) ? `[${printType(t.Elem)}]` : str(t.NamedType);
  return inner + (t.NonNull === true ? "!" : "");
}

function printArgs(args: PlainObject[]): string {
  return args.length ? "(" + args.map((a) => `${str(a.Name)}: ${printValue(a.Value as PlainObject)}`).join(", ") + ")" : "";
}

function printDirectives(ds: Value | undefined): string {
  return arr(ds).map((d) => ` @${str(d.Name)}${printArgs(arr(d.Arguments))}`).join("");
}

function printSelections(sels: Value | undefined): string {
  const items = arr(sels);
  if (items.length === 0) return "";
  return (
    " { " +
    items
      .map((s) => {
        // gqlparser reads every selection of an AST object as a field.
        const name = str(s.Name) || EMPTY_FIELD;
        const alias = str(s.Alias) && str(s.Alias) !== name ? `${str(s.Alias)}: ` : "";
        return `${alias}${name}${printArgs(arr(s.Arguments))}${printDirectives(s.Directives)}${printSelections(s.SelectionSet)}`;
      })
      .join(" ") +
    " }"
  );
}

function printVariables(vs: Value | undefined): string {
  const items = arr(vs);
  if (items.length === 0) return "";
  return (
    "(" +
    items
      .map((v) => {
        const def = isPlainObject(v.DefaultValue) ? ` = ${printValue(v.DefaultValue)}` : "";
        return `$${str(v.Variable)}: ${printType(v.Type as PlainObject)}${def}${printDirectives(v.Directives)}`;
      })
      .join(", ") +
    ")"
  );
}

function printQuery(q: PlainObject): string {
  const parts: string[] = [];
  for (const op of arr(q.Operations)) {
    parts.push(`${str(op.Operation) || "query"} ${str(op.Name)}${printVariables(op.VariableDefinitions)}${printDirectives(op.Directives)}${printSelections(op.SelectionSet)}`);
  }
  for (const f of arr(q.Fragments)) {
    parts.push(`fragment ${str(f.Name)}${printVariables(f.VariableDefinition)} on ${str(f.TypeCondition)}${printDirectives(f.Directives)}${printSelections(f.SelectionSet)}`);
  }
  return parts.join("\n");
}

function printDescription(d: Value | undefined): string {
  return str(d) ? JSON.stringify(d) + " " : "";
}

function printArgDefs(args: Value | undefined, paren: boolean): string {
  const items = arr(args).map((a) => {
    const def = isPlainObject(a.DefaultValue) ? ` = ${printValue(a.DefaultValue)}` : "";
    return `${printDescription(a.Description)}${str(a.Name)}: ${printType(a.Type as PlainObject)}${def}${printDirectives(a.Directives)}`;
  });
  if (items.length === 0) return "";
  return paren ? "(" + items.join(", ") + ")" : items.join(" ");
}

function printDefinition(d: PlainObject, extend: boolean): string {
  const kw: Record<string, string> = { OBJECT: "type", INTERFACE: "interface", UNION: "union", ENUM: "enum", INPUT_OBJECT: "input", SCALAR: "scalar" };
  const kind = str(d.Kind);
  let s = `${extend ? "extend " : printDescription(d.Description)}${kw[kind] ?? "type"} ${str(d.Name)}`;
  const ifaces = Array.isArray(d.Interfaces) ? (d.Interfaces as Value[]).map(str) : [];
  if (ifaces.length) s += " implements " + ifaces.join(" & ");
  s += printDirectives(d.Directives);
  if (kind === "UNION") {
    const types = Array.isArray(d.Types) ? (d.Types as Value[]).map(str) : [];
    if (types.length) s += " = " + types.join(" | ");
  } else if (kind === "ENUM") {
    const vals = arr(d.EnumValues).map((v) => `${printDescription(v.Description)}${str(v.Name)}${printDirectives(v.Directives)}`);
    if (vals.length) s += " { " + vals.join(" ") + " }";
  } else if (kind === "INPUT_OBJECT") {
    if (arr(d.Fields).length) s += " { " + printArgDefs(d.Fields, false) + " }";
  } else if (kind !== "SCALAR") {
    const fields = arr(d.Fields).map(
      (f) => `${printDescription(f.Description)}${str(f.Name)}${printArgDefs(f.Arguments, true)}: ${printType(f.Type as PlainObject)}${printDirectives(f.Directives)}`,
    );
    if (fields.length) s += " { " + fields.join(" ") + " }";
  }
  return s;
}

function printSchema(s: PlainObject): string {
  const parts: string[] = [];
  for (const sd of arr(s.Schema)) {
    parts.push(`${printDescription(sd.Description)}schema${printDirectives(sd.Directives)} { ${arr(sd.OperationTypes).map((o) => `${str(o.Operation)}: ${str(o.Type)}`).join(" ")} }`);
  }
  for (const sd of arr(s.SchemaExtension)) {
    const ops = arr(sd.OperationTypes);
    parts.push(`extend schema${printDirectives(sd.Directives)}${ops.length ? ` { ${ops.map((o) => `${str(o.Operation)}: ${str(o.Type)}`).join(" ")} }` : ""}`);
  }
  for (const d of arr(s.Directives)) {
    const locs = Array.isArray(d.Locations) ? (d.Locations as Value[]).map(str) : [];
    parts.push(`${printDescription(d.Description)}directive @${str(d.Name)}${printArgDefs(d.Arguments, true)}${d.IsRepeatable === true ? " repeatable" : ""} on ${locs.join(" | ")}`);
  }
  for (const d of arr(s.Definitions)) parts.push(printDefinition(d, false));
  for (const d of arr(s.Extensions)) parts.push(printDefinition(d, true));
  return parts.join("\n");
}

// ---- Operations -----------------------------------------------------------------------------

interface Parsed {
  doc: DocumentNode;
  source: string;
  /** Given as an AST object: gqlparser then has no positions for its errors. */
  fromObject?: boolean;
}

const EMPTY_FIELD = "__opa_empty_field__";

/**
 * The list fields of gqlparser's AST structs, with their Go types: OPA hands an
 * AST given as an object to Go's JSON decoder, which refuses a non-list there
 * (or a non-object element of a list of structs) with this message.
 */
const LIST_FIELDS: Record<string, Record<string, [goType: string, elemStruct?: string]>> = {
  QueryDocument: { Operations: ["ast.OperationList", "OperationDefinition"], Fragments: ["ast.FragmentDefinitionList", "FragmentDefinition"] },
  OperationDefinition: { VariableDefinitions: ["ast.VariableDefinitionList", "VariableDefinition"], Directives: ["ast.DirectiveList", "Directive"], SelectionSet: ["ast.SelectionSet", "Field"] },
  FragmentDefinition: { VariableDefinition: ["ast.VariableDefinitionList", "VariableDefinition"], Directives: ["ast.DirectiveList", "Directive"], SelectionSet: ["ast.SelectionSet", "Field"] },
  Field: { Arguments: ["ast.ArgumentList", "Argument"], Directives: ["ast.DirectiveList", "Directive"], SelectionSet: ["ast.SelectionSet", "Field"] },
  VariableDefinition: { Directives: ["ast.DirectiveList", "Directive"] },
  Directive: { Arguments: ["ast.ArgumentList", "Argument"] },
  SchemaDocument: {
    Schema: ["ast.SchemaDefinitionList", "SchemaDefinition"],
    SchemaExtension: ["ast.SchemaDefinitionList", "SchemaDefinition"],
    Directives: ["ast.DirectiveDefinitionList", "DirectiveDefinition"],
    Definitions: ["ast.DefinitionList", "Definition"],
    Extensions: ["ast.DefinitionList", "Definition"],
  },
  SchemaDefinition: { Directives: ["ast.DirectiveList", "Directive"], OperationTypes: ["ast.OperationTypeDefinitionList", "OperationTypeDefinition"] },
  DirectiveDefinition: { Arguments: ["ast.ArgumentDefinitionList", "ArgumentDefinition"], Locations: ["[]ast.DirectiveLocation"] },
  Definition: {
    Directives: ["ast.DirectiveList", "Directive"],
    Interfaces: ["[]string"],
    Fields: ["ast.FieldList", "FieldDefinition"],
    Types: ["[]string"],
    EnumValues: ["ast.EnumValueList", "EnumValueDefinition"],
  },
  FieldDefinition: { Arguments: ["ast.ArgumentDefinitionList", "ArgumentDefinition"], Directives: ["ast.DirectiveList", "Directive"] },
  ArgumentDefinition: { Directives: ["ast.DirectiveList", "Directive"] },
  EnumValueDefinition: { Directives: ["ast.DirectiveList", "Directive"] },
};

function goKind(v: Value): string {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  if (v !== null && typeof v === "object" && !isPlainObject(v)) return typeName(v);
  return v !== null && typeof v === "object" ? "object" : "number";
}

/** Refuse an AST object whose list fields Go's JSON decoder would not take (walked without recursion). */
function checkAstShape(root: PlainObject, rootStruct: string): void {
  const todo: [PlainObject, string, string][] = [[root, rootStruct, ""]];
  while (todo.length) {
    const [o, struct, path] = todo.pop()!;
    const fields = LIST_FIELDS[struct] ?? {};
    for (const [key, [goType, elem]] of Object.entries(fields)) {
      if (!Object.prototype.hasOwnProperty.call(o, key)) continue;
      const v = o[key];
      const at = path ? `${path}.${key}` : key;
      if (v === null) continue;
      if (!Array.isArray(v)) throw new GqlError(`json: cannot unmarshal ${goKind(v)} into Go struct field ${struct}.${at} of type ${goType}`);
      for (const x of v) {
        if (x === null) continue;
        if (elem && isPlainObject(x)) todo.push([x, elem, at]);
        else if (elem || typeof x !== "string") {
          throw new GqlError(`json: cannot unmarshal ${goKind(x)} into Go struct field ${struct}.${at} of type ${elem ? `ast.${elem}` : goType.slice(2)}`);
        }
      }
    }
  }
}

function queryInput(name: string, pos: number, v: Value): Parsed {
  if (typeof v === "string") return { doc: parseText(v, "query"), source: v };
  if (isPlainObject(v)) {
    checkAstShape(v, "QueryDocument");
    const source = printQuery(v);
    return { doc: parseText(source, "query"), source, fromObject: true };
  }
  throw new BuiltinTypeError(`${name}: operand ${pos} must be one of {string, object} but got ${typeName(v)}`);
}

function schemaInput(name: string, pos: number, v: Value): Parsed {
  if (typeof v === "string") return { doc: parseText(v, "schema"), source: v };
  if (isPlainObject(v)) {
    checkAstShape(v, "SchemaDocument");
    const source = printSchema(v);
    return { doc: parseText(source, "schema"), source, fromObject: true };
  }
  throw new BuiltinTypeError(`${name}: operand ${pos} must be one of {string, object} but got ${typeName(v)}`);
}

/** Build a schema as gqlparser loads one: undefined types are errors; no query type is fine. */
function buildSchema(p: Parsed): GraphQLSchema {
  for (const d of p.doc.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION) {
      const t = d.loc?.startToken;
      throw tokenError(d, !t || t.kind === "{" ? "{" : `Name "${t.value}"`);
    }
  }
  let schema: GraphQLSchema;
  const doc = withUndefinedExtended(p.doc);
  try {
    schema = graphqlJS().buildASTSchema(doc, { assumeValid: false });
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const first = e.message.split("\n\n")[0];
    const m = /^Unknown type "(.+?)"\.(?: Did you mean .*)?$/.exec(first);
    const dup = /^There can be only one type named "(.+?)"\.$/.exec(first);
    let text = first;
    let l: { line: number; column: number };
    if (dup) {
      text = `Cannot redeclare type ${dup[1]}.`;
      l = locateDefinition(p.source, dup[1], 2);
    } else {
      if (m) text = `Undefined type ${m[1]}.`;
      l = e instanceof graphqlJS().GraphQLError && e.locations && e.locations.length > 0 ? loc(e) : locateType(p.source, m ? m[1] : "");
    }
    if (p.fromObject) l = { line: -1, column: -1 };
    throw new GqlError(`Error in gqlparser SchemaDocument to Schema conversion: input:${l.line}:${l.column}: ${text}`);
  }
  // gqlparser refuses, when loading, a type without fields (graphql-js only when validating)
  for (const e of graphqlJS().validateSchema(schema)) {
    const mapped = loadingProblem(e.message, doc, p);
    if (mapped !== null) throw new GqlError(`Error in gqlparser SchemaDocument to Schema conversion: input:${mapped.line}:${mapped.column}: ${mapped.message}`);
    const m = /^Type (\S+) must define one or more fields\.$/.exec(e.message);
    if (!m) continue;
    const t = schema.getType(m[1]);
    const kind = t instanceof graphqlJS().GraphQLInputObjectType ? "INPUT_OBJECT" : t instanceof graphqlJS().GraphQLInterfaceType ? "INTERFACE" : "OBJECT";
    const l = p.fromObject ? { line: -1, column: -1 } : locateDefinition(p.source, m[1], 1);
    throw new GqlError(`Error in gqlparser SchemaDocument to Schema conversion: input:${l.line}:${l.column}: ${kind} ${m[1]}: must define one or more fields.`);
  }
  return schema;
}

const EXTENSION_TO_DEFINITION: Record<string, string> = {
  [Kind.OBJECT_TYPE_EXTENSION]: Kind.OBJECT_TYPE_DEFINITION,
  [Kind.INTERFACE_TYPE_EXTENSION]: Kind.INTERFACE_TYPE_DEFINITION,
  [Kind.UNION_TYPE_EXTENSION]: Kind.UNION_TYPE_DEFINITION,
  [Kind.ENUM_TYPE_EXTENSION]: Kind.ENUM_TYPE_DEFINITION,
  [Kind.INPUT_OBJECT_TYPE_EXTENSION]: Kind.INPUT_OBJECT_TYPE_DEFINITION,
  [Kind.SCALAR_TYPE_EXTENSION]: Kind.SCALAR_TYPE_DEFINITION,
};

/**
 * gqlparser lets `extend type X` stand for X when X is defined nowhere (the first extension
 * defines it, of the extension's kind); graphql-js refuses. The document with such first
 * extensions turned into definitions.
 */
function withUndefinedExtended(doc: DocumentNode): DocumentNode {
  const defined = new Set<string>();
  for (const d of doc.definitions) if ("name" in d && d.name && !d.kind.endsWith("Extension") && d.kind.endsWith("Definition")) defined.add(d.name.value);
  let changed = false;
  const definitions = doc.definitions.map((d) => {
    const kind = EXTENSION_TO_DEFINITION[d.kind];
    if (kind === undefined || !("name" in d) || !d.name || defined.has(d.name.value)) return d;
    defined.add(d.name.value);
    changed = true;
    return { ...d, kind } as unknown as typeof d;
  });
  return changed ? { ...doc, definitions } : doc;
}

/** A field definition's name position (where gqlparser places field errors). */
function fieldPosition(doc: DocumentNode, typeName: string, field: string): { line: number; column: number } | null {
  for (const d of doc.definitions) {
    if (!("name" in d) || d.name?.value !== typeName || !("fields" in d) || !d.fields) continue;
    for (const f of d.fields as readonly { name: { value: string; loc?: { startToken: { line: number; column: number } } } }[]) {
      if (f.name.value === field && f.name.loc) return { line: f.name.loc.startToken.line, column: f.name.loc.startToken.column };
    }
  }
  return null;
}

const GQL_KIND: Record<string, string> = {
  GraphQLScalarType: "SCALAR",
  GraphQLObjectType: "OBJECT",
  GraphQLInterfaceType: "INTERFACE",
  GraphQLUnionType: "UNION",
  GraphQLEnumType: "ENUM",
  GraphQLInputObjectType: "INPUT_OBJECT",
};

/**
 * graphql-js schema problems that gqlparser reports while loading, in gqlparser's words and
 * places: interfaces a type must also implement (transitively) but does not, input fields of
 * output types and output fields of input types. null for others.
 */
function loadingProblem(message: string, doc: DocumentNode, p: Parsed): Problem | null {
  const at = (l: { line: number; column: number } | null) => (p.fromObject || l === null ? { line: -1, column: -1 } : l);
  let m = /^Type (\S+) must implement (\S+) because it is implemented by (\S+)\.$/.exec(message);
  if (m) return { message, ...at(locateDefinition(p.source, m[1], 1)) };
  m = /^The type of (\S+)\.(\S+) must be (Input|Output) Type but got: (.+)\.$/.exec(message);
  if (m) {
    const named = m[4].replace(/[[\]!]/g, "");
    const l = at(fieldPosition(doc, m[1], m[2]));
    if (m[3] === "Input") {
      const t = doc.definitions.find((d) => "name" in d && d.name?.value === named && !d.kind.endsWith("Extension"));
      const kind = t ? (GQL_KIND[defKindClass(t.kind)] ?? "OBJECT") : "OBJECT";
      return { message: `${kind} ${m[2]}: field must be one of SCALAR, ENUM, INPUT_OBJECT.`, ...l };
    }
    const owner = doc.definitions.find((d) => "name" in d && d.name?.value === m![1] && !d.kind.endsWith("Extension"));
    const ownerKind = owner?.kind === Kind.INTERFACE_TYPE_DEFINITION ? "INTERFACE" : "OBJECT";
    return { message: `${ownerKind} ${m[1]}: field must be one of SCALAR, OBJECT, INTERFACE, UNION, ENUM.`, ...l };
  }
  return null;
}

function defKindClass(kind: string): string {
  switch (kind) {
    case Kind.SCALAR_TYPE_DEFINITION:
      return "GraphQLScalarType";
    case Kind.OBJECT_TYPE_DEFINITION:
      return "GraphQLObjectType";
    case Kind.INTERFACE_TYPE_DEFINITION:
      return "GraphQLInterfaceType";
    case Kind.UNION_TYPE_DEFINITION:
      return "GraphQLUnionType";
    case Kind.ENUM_TYPE_DEFINITION:
      return "GraphQLEnumType";
    case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      return "GraphQLInputObjectType";
  }
  return "";
}

function locateDefinition(source: string, name: string, nth: number): { line: number; column: number } {
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`\\b(?:type|interface|union|enum|input|scalar)\\s+(${esc})\\b`, "g");
  let m: RegExpExecArray | null;
  let count = 0;
  while ((m = re.exec(source)) !== null) {
    if (++count === nth) {
      const idx = m.index + m[0].length - name.length;
      const before = source.slice(0, idx).split("\n");
      return { line: before.length, column: before[before.length - 1].length + 1 };
    }
  }
  return { line: 1, column: 1 };
}

function locateType(source: string, name: string): { line: number; column: number } {
  // The first occurrence of name, followed by a non-word character or the end, after one of
  // : [ | = & and then only whitespace and brackets (what `[:\[|=&]\s*\[*\s*(name)\b` finds,
  // which backtracks quadratically over long runs of spaces). Every run of whitespace is walked
  // back over once.
  for (let idx = source.indexOf(name); idx >= 0 && name !== ""; idx = source.indexOf(name, idx + 1)) {
    const end = idx + name.length;
    if (isWordChar(source.charCodeAt(end - 1)) === (end < source.length && isWordChar(source.charCodeAt(end)))) continue;
    let j = idx - 1;
    while (j >= 0 && /\s/.test(source[j])) j--;
    if (j < 0 || !":[|=&".includes(source[j])) continue;
    const before = source.slice(0, idx).split("\n");
    return { line: before.length, column: before[before.length - 1].length + 1 };
  }
  return { line: 1, column: 1 };
}

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

interface Problem {
  message: string;
  line: number;
  column: number;
}

/** Where gqlparser reports an error: like graphql-js, except argument errors point at the field. */
function problemOf(e: GraphQLError, doc: DocumentNode): Problem {
  // gqlparser reports the later of two clashing nodes, a directive at its name, a string at its
  // first character.
  let l = e.locations && e.locations.length > 1 ? e.locations[e.locations.length - 1] : loc(e);
  const last = e.nodes && e.nodes.length > 0 ? e.nodes[e.nodes.length - 1] : undefined;
  if (last && (last.kind === Kind.DIRECTIVE || (last.kind === Kind.STRING && !last.block))) l = { line: l.line, column: l.column + 1 };
  const node = e.nodes && e.nodes[0];
  if (node && node.kind === Kind.ARGUMENT && /^Unknown argument /.test(e.message)) {
    const field = findParentField(doc, node);
    if (field && field.loc) l = { line: field.loc.startToken.line, column: field.loc.startToken.column };
  }
  return { message: e.message.replaceAll(EMPTY_FIELD, ""), line: l.line, column: l.column };
}

function findParentField(doc: DocumentNode, target: ASTNode): ASTNode | undefined {
  let found: ASTNode | undefined;
  const walk = (n: unknown, field: ASTNode | undefined): void => {
    if (found || n === null || typeof n !== "object") return;
    if (n === target) {
      found = field;
      return;
    }
    const node = n as { kind?: string };
    const next = node.kind === Kind.FIELD || node.kind === Kind.DIRECTIVE ? (n as ASTNode) : field;
    for (const [k, v] of Object.entries(n as Record<string, unknown>)) {
      if (k === "loc") continue;
      if (Array.isArray(v)) v.forEach((x) => walk(x, next));
      else if (v && typeof v === "object") walk(v, next);
    }
  };
  walk(doc, undefined);
  return found;
}

/**
 * The schema graphql-js's validate() accepts. validate() first asserts the
 * schema's own validity and throws on, e.g., a schema without a query type,
 * which gqlparser accepts (only queries that use the missing root type are
 * invalid, checked in validateQuery). Other schema problems are the input's
 * error (GqlError), never an exception escaping the builtin.
 */
function validatable(schema: GraphQLSchema): GraphQLSchema {
  const errors = graphqlJS().validateSchema(schema);
  if (errors.length === 0) return schema;
  const other = errors.filter((e) => !/^Query root type must be provided\.$/.test(e.message));
  if (other.length > 0) throw new GqlError(other.map((e) => e.message).join("\n"));
  return new (graphqlJS().GraphQLSchema)({ ...schema.toConfig(), assumeValid: true });
}

function validateQuery(schema: GraphQLSchema, q: Parsed): void {
  const problems: Problem[] = [];
  // a document without operations has nothing to check against the schema (gqlparser: valid)
  if (!q.doc.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION)) return;
  for (const d of q.doc.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    const root = schema.getRootType(d.operation as never);
    if (!root) {
      const t = d.loc?.startToken;
      problems.push({ message: `Schema does not support operation type "${d.operation}"`, line: t?.line ?? 1, column: t?.column ?? 1 });
    }
  }
  if (problems.length === 0) {
    // gqlparser reports, per operation, the errors inside it before the operation's own
    // (anonymous/unique-name) errors, and also counts anonymous operations as same-named.
    const ops = q.doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    const opIndex = (p: Problem) => {
      for (let i = ops.length - 1; i >= 0; i--) {
        const t = ops[i].loc?.startToken;
        if (t && (p.line > t.line || (p.line === t.line && p.column >= t.column))) return i;
      }
      return ops.length;
    };
    const found: { p: Problem; op: number; cat: number; seq: number }[] = [];
    graphqlJS().validate(validatable(schema), q.doc).forEach((e, seq) => {
      const p = problemOf(e, q.doc);
      const cat = /^This anonymous operation must be the only defined operation/.test(p.message) ? 1 : /^There can be only one operation named/.test(p.message) ? 2 : 0;
      found.push({ p, op: opIndex(p), cat, seq });
    });
    let anon = 0;
    ops.forEach((d, i) => {
      if (d.kind !== Kind.OPERATION_DEFINITION || d.name) return;
      if (anon++ > 0) {
        const t = d.loc?.startToken;
        found.push({ p: { message: 'There can be only one operation named "".', line: t?.line ?? 1, column: t?.column ?? 1 }, op: i, cat: 2, seq: 1e9 });
      }
    });
    found.sort((a, b) => a.op - b.op || a.cat - b.cat || a.seq - b.seq);
    for (const f of found) problems.push(f.p);
  }
  if (problems.length === 0) return;
  if (q.fromObject) throw new GqlError("GraphQL parse error: " + problems.map((p) => `input: ${p.message}\n`).join(""));
  let text = problems.map((p) => `input:${p.line}:${p.column}: ${p.message}`).join("\n") + "\n";
  text = text.slice(`input:${problems[0].line}:${problems[0].column}: `.length);
  if (text.endsWith(".\n")) text = text.slice(0, -2);
  throw new GqlError(`${text} in GraphQL string at location ${problems[0].line}:${problems[0].column}`);
}

/**
 * Any other exception from graphql-js or from here (an exhausted stack on a
 * deeply nested query, say) as a builtin error naming the builtin: never a
 * raw exception.
 */
function internal(name: string, e: unknown): BuiltinError {
  const msg = e instanceof Error ? e.message : String(e);
  return new BuiltinError(`${name}: internal error: ${msg}`);
}

function wrap<R>(name: string, f: () => R): R {
  try {
    return f();
  } catch (e) {
    if (e instanceof GqlError) throw new BuiltinError(`${name}: ${e.message}`);
    if (e instanceof BuiltinError || e instanceof BuiltinTypeError) throw e;
    throw internal(name, e);
  }
}

function parseQueryBuiltin(args: Value[]): Value {
  const name = "graphql.parse_query";
  if (typeof args[0] !== "string") throw operandError(name, 1, "string", args[0]);
  return wrap(name, () => {
    const q = queryInput(name, 1, args[0]);
    return queryAST(q.doc, q.source);
  });
}

function parseSchemaBuiltin(args: Value[]): Value {
  const name = "graphql.parse_schema";
  if (typeof args[0] !== "string") throw operandError(name, 1, "string", args[0]);
  return wrap(name, () => {
    const s = schemaInput(name, 1, args[0]);
    return schemaAST(s.doc, s.source);
  });
}

function parseBuiltin(args: Value[]): Value {
  const name = "graphql.parse";
  return wrap(name, () => {
    const q = queryInput(name, 0, args[0]);
    const s = schemaInput(name, 1, args[1]);
    const schema = buildSchema(s);
    validateQuery(schema, q);
    return [queryAST(q.doc, q.source), schemaAST(s.doc, s.source)];
  });
}

function parseAndVerifyBuiltin(args: Value[]): Value {
  const name = "graphql.parse_and_verify";
  try {
    const q = queryInput(name, 1, args[0]);
    const s = schemaInput(name, 2, args[1]);
    const schema = buildSchema(s);
    validateQuery(schema, q);
    return [true, queryAST(q.doc, q.source), schemaAST(s.doc, s.source)];
  } catch (e) {
    if (e instanceof GqlError || e instanceof BuiltinTypeError) return [false, {}, {}];
    throw internal(name, e);
  }
}

function isValidBuiltin(args: Value[]): Value {
  const name = "graphql.is_valid";
  try {
    const q = queryInput(name, 1, args[0]);
    const s = schemaInput(name, 2, args[1]);
    validateQuery(buildSchema(s), q);
    return true;
  } catch (e) {
    if (e instanceof GqlError || e instanceof BuiltinTypeError) return false;
    throw internal(name, e);
  }
}

function schemaIsValidBuiltin(args: Value[]): Value {
  const name = "graphql.schema_is_valid";
  try {
    buildSchema(schemaInput(name, 1, args[0]));
    return true;
  } catch (e) {
    if (e instanceof GqlError || e instanceof BuiltinTypeError) return false;
    throw internal(name, e);
  }
}

// ---- Table ----------------------------------------------------------------------------------

const anyObj = T.objectOf(T.any, T.any);
const strOrObj = T.anyOf(T.string, anyObj);

export const builtins: Builtin[] = [
  { name: "graphql.is_valid", decl: T.fn([strOrObj, strOrObj], T.boolean), impl: isValidBuiltin },
  { name: "graphql.parse", decl: T.fn([strOrObj, strOrObj], T.tuple(anyObj, anyObj)), impl: parseBuiltin },
  { name: "graphql.parse_and_verify", decl: T.fn([strOrObj, strOrObj], T.tuple(T.boolean, anyObj, anyObj)), impl: parseAndVerifyBuiltin },
  { name: "graphql.parse_query", decl: T.fn([T.string], anyObj), impl: parseQueryBuiltin },
  { name: "graphql.parse_schema", decl: T.fn([T.string], anyObj), impl: parseSchemaBuiltin },
  { name: "graphql.schema_is_valid", decl: T.fn([strOrObj], T.boolean), impl: schemaIsValidBuiltin },
];

export type { ASTNode };
