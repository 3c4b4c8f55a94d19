// A subset of Go's text/template, as strings.render_template uses it: actions with fields,
// variables and pipelines, if/else if/else, range (with else, break, continue), with, define /
// template / block, comments and trim markers, and the predefined functions (and, or, not, len,
// index, slice, print, printf, println, eq, ne, lt, le, gt, ge, html, js, urlquery).
// Data comes in as GoVals (objects are map[string]interface {}, numbers json.Number).
// Missing values print as "<undefined>", as OPA shows them.

import { BuiltinError } from "./registry.ts";
import { GoFloat, GoInt, GoMap, GoNumber, goQuote, goSprint, goSprintf, goTypeName, isPrint, type GoVal } from "../gotext/fmt.ts";

const NAME = "template";

// Values during execution: GoVal, a GoInt, or undefined for Go's "invalid" (missing) value.
type TVal = GoVal | undefined;

function toGoVal(v: TVal): GoVal {
  return v === undefined ? null : v;
}

// ---- Lexer -----------------------------------------------------------------------------------

const enum K {
  Text,
  LeftDelim,
  RightDelim,
  Field,
  Variable,
  Dot,
  Ident,
  Keyword,
  String,
  RawString,
  Char,
  Number,
  Bool,
  Nil,
  Pipe,
  LeftParen,
  RightParen,
  Declare,
  Assign,
  Comma,
  Space,
  EOF,
  Error,
}

interface Tok {
  k: K;
  v: string;
  pos: number; // UTF-16 offset into the template
  line: number;
}

const KEYWORDS = new Set(["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"]);

class ParseError extends Error {}

function isSpaceCh(c: string): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  const push = (k: K, v: string, pos: number) => {
    toks.push({ k, v, pos, line });
  };
  const countLines = (a: number, b: number) => {
    for (let j = a; j < b; j++) if (src.charCodeAt(j) === 10) line++;
  };
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    if (open < 0) {
      push(K.Text, src.slice(i), i);
      countLines(i, src.length);
      i = src.length;
      break;
    }
    // trim marker?
    let text = src.slice(i, open);
    let j = open + 2;
    const trimLeft = src[j] === "-" && isSpaceCh(src[j + 1] ?? "");
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, "");
    if (text.length > 0) push(K.Text, text, i);
    countLines(i, open);
    if (trimLeft) j += 2;
    // comment?
    let k = j;
    while (k < src.length && isSpaceCh(src[k]) && trimLeft) k++;
    if (src.startsWith("/*", trimLeft ? k : j)) {
      const cstart = trimLeft ? k : j;
      const cend = src.indexOf("*/", cstart + 2);
      if (cend < 0) throw new ParseError(`template: ${NAME}:${line}: unclosed comment`);
      let after = cend + 2;
      let trimRight = false;
      if (src.startsWith(" -}}", after) || src.startsWith("\t-}}", after) || src.startsWith("\n-}}", after) || src.startsWith("\r-}}", after)) {
        trimRight = true;
        after += 4;
      } else if (src.startsWith("}}", after)) after += 2;
      else throw new ParseError(`template: ${NAME}:${line}: comment ends before closing delimiter`);
      countLines(open, after);
      i = after;
      if (trimRight) {
        while (i < src.length && isSpaceCh(src[i])) {
          if (src[i] === "\n") line++;
          i++;
        }
      }
      continue;
    }
    push(K.LeftDelim, "{{", open);
    i = j;
    // inside action
    let parenDepth = 0;
    for (;;) {
      if (i >= src.length) throw new ParseError(`template: ${NAME}:${line}: unclosed action`);
      const c = src[i];
      if (isSpaceCh(c)) {
        // space, maybe followed by trim marker
        let e = i;
        while (e < src.length && isSpaceCh(src[e])) e++;
        if (src.startsWith("-}}", e) && e > i) {
          countLines(i, e);
          push(K.RightDelim, "}}", e);
          i = e + 3;
          while (i < src.length && isSpaceCh(src[i])) {
            if (src[i] === "\n") line++;
            i++;
          }
          break;
        }
        push(K.Space, src.slice(i, e), i);
        countLines(i, e);
        i = e;
        continue;
      }
      if (src.startsWith("}}", i)) {
        if (parenDepth > 0) throw new ParseError(`template: ${NAME}:${line}: unclosed left paren`);
        push(K.RightDelim, "}}", i);
        i += 2;
        break;
      }
      const start = i;
      if (c === "|") {
        push(K.Pipe, "|", i++);
      } else if (c === "(") {
        parenDepth++;
        push(K.LeftParen, "(", i++);
      } else if (c === ")") {
        parenDepth--;
        if (parenDepth < 0) throw new ParseError(`template: ${NAME}:${line}: unexpected right paren`);
        push(K.RightParen, ")", i++);
      } else if (c === ",") {
        push(K.Comma, ",", i++);
      } else if (c === ":" && src[i + 1] === "=") {
        push(K.Declare, ":=", i);
        i += 2;
      } else if (c === "=") {
        push(K.Assign, "=", i++);
      } else if (c === '"') {
        i++;
        while (i < src.length && src[i] !== '"') {
          if (src[i] === "\\") i++;
          if (src[i] === "\n") throw new ParseError(`template: ${NAME}:${line}: unterminated quoted string`);
          i++;
        }
        if (i >= src.length) throw new ParseError(`template: ${NAME}:${line}: unterminated quoted string`);
        i++;
        push(K.String, src.slice(start, i), start);
      } else if (c === "`") {
        const e = src.indexOf("`", i + 1);
        if (e < 0) throw new ParseError(`template: ${NAME}:${line}: unterminated raw quoted string`);
        push(K.RawString, src.slice(start, e + 1), start);
        countLines(start, e);
        i = e + 1;
      } else if (c === "'") {
        i++;
        while (i < src.length && src[i] !== "'") {
          if (src[i] === "\\") i++;
          i++;
        }
        if (i >= src.length) throw new ParseError(`template: ${NAME}:${line}: unterminated character constant`);
        i++;
        push(K.Char, src.slice(start, i), start);
      } else if (c === "$") {
        i++;
        while (i < src.length && /[\p{L}\p{N}_]/u.test(src[i])) i++;
        push(K.Variable, src.slice(start, i), start);
      } else if (c === ".") {
        if (/[0-9]/.test(src[i + 1] ?? "")) {
          i = lexNumber(src, i);
          push(K.Number, src.slice(start, i), start);
        } else {
          i++;
          while (i < src.length && /[\p{L}\p{N}_]/u.test(src[i])) i++;
          if (i === start + 1) push(K.Dot, ".", start);
          else push(K.Field, src.slice(start, i), start);
        }
      } else if (/[0-9+\-]/.test(c)) {
        i = lexNumber(src, i);
        if (i === start) throw new ParseError(`template: ${NAME}:${line}: bad number syntax: "${c}"`);
        push(K.Number, src.slice(start, i), start);
      } else if (/[\p{L}_]/u.test(c)) {
        while (i < src.length && /[\p{L}\p{N}_]/u.test(src[i])) i++;
        const w = src.slice(start, i);
        if (w === "true" || w === "false") push(K.Bool, w, start);
        else if (w === "nil") push(K.Nil, w, start);
        else if (KEYWORDS.has(w)) push(K.Keyword, w, start);
        else push(K.Ident, w, start);
      } else {
        if (c.charCodeAt(0) < 0x80) throw new ParseError(`template: ${NAME}:${line}: unexpected ${goQuoteChar(c)} in operand`);
        const cp = src.codePointAt(i)!;
        throw new ParseError(
          `template: ${NAME}:${line}: unrecognized character in action: U+${cp.toString(16).toUpperCase().padStart(4, "0")} '${String.fromCodePoint(cp)}'`,
        );
      }
      // a field may follow directly after an operand: (x).f, $x.f
      while (src[i] === "." && /[\p{L}_]/u.test(src[i + 1] ?? "")) {
        const fs = i;
        i++;
        while (i < src.length && /[\p{L}\p{N}_]/u.test(src[i])) i++;
        push(K.Field, src.slice(fs, i), fs);
      }
    }
  }
  toks.push({ k: K.EOF, v: "", pos: src.length, line });
  return toks;
}

function goQuoteChar(c: string): string {
  return goQuote(c);
}

function lexNumber(src: string, i: number): number {
  const m = /^[+-]?(0[xX][0-9a-fA-F_]+(\.[0-9a-fA-F_]*)?([pP][+-]?[0-9]+)?|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?)i?/.exec(
    src.slice(i),
  );
  return m && m[0] !== "" && m[0] !== "+" && m[0] !== "-" ? i + m[0].length : i;
}

// ---- AST -------------------------------------------------------------------------------------

type Node =
  | { t: "text"; text: string }
  | { t: "action"; pos: number; pipe: Pipe }
  | { t: "if" | "with"; pos: number; pipe: Pipe; list: Node[]; elseList: Node[] | null }
  | { t: "range"; pos: number; pipe: Pipe; list: Node[]; elseList: Node[] | null }
  | { t: "template"; pos: number; name: string; pipe: Pipe | null }
  | { t: "break" | "continue"; pos: number };

interface Pipe {
  pos: number;
  decl: string[];
  isAssign: boolean;
  cmds: Cmd[];
}
interface Cmd {
  pos: number;
  args: Arg[];
}
type Arg =
  | { t: "field"; pos: number; names: string[] }
  | { t: "var"; pos: number; name: string; names: string[] }
  | { t: "dot"; pos: number }
  | { t: "nil"; pos: number }
  | { t: "bool"; pos: number; v: boolean }
  | { t: "string"; pos: number; v: string; text: string }
  | { t: "number"; pos: number; v: GoVal; text: string }
  | { t: "ident"; pos: number; name: string }
  | { t: "chain"; pos: number; node: Arg; names: string[] }
  | { t: "pipe"; pos: number; pipe: Pipe };

const FUNCS = new Set([
  "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "html", "js",
  "urlquery", "call",
]);

class Parser {
  i = 0;
  vars: string[][] = [["$"]];
  defs = new Map<string, Node[]>();
  constructor(readonly toks: Tok[]) {}

  peek(): Tok {
    return this.toks[this.i];
  }
  next(): Tok {
    return this.toks[this.i++];
  }
  peekNonSpace(): Tok {
    let j = this.i;
    while (this.toks[j].k === K.Space) j++;
    return this.toks[j];
  }
  nextNonSpace(): Tok {
    let t = this.next();
    while (t.k === K.Space) t = this.next();
    return t;
  }
  err(t: Tok, msg: string): never {
    throw new ParseError(`template: ${NAME}:${t.line}: ${msg}`);
  }
  unexpected(t: Tok, ctx: string): never {
    if (t.k === K.EOF) this.err(t, "unexpected EOF");
    this.err(t, `unexpected ${describe(t)} in ${ctx}`);
  }

  /** Parse a list until one of the stop keywords; returns the list and the stop keyword. */
  list(stops: string[]): [Node[], string] {
    const out: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.k === K.EOF) {
        if (stops.length === 0) return [out, ""];
        this.err(t, "unexpected EOF");
      }
      if (t.k === K.Text) {
        out.push({ t: "text", text: t.v });
        continue;
      }
      // left delim
      const kw = this.peekNonSpace();
      if (kw.k === K.Keyword) {
        switch (kw.v) {
          case "end":
          case "else":
            this.nextNonSpace();
            if (!stops.includes(kw.v)) this.err(kw, `unexpected {{${kw.v}}}`);
            if (kw.v === "end") {
              const e = this.nextNonSpace();
              if (e.k !== K.RightDelim) this.unexpected(e, "end");
            }
            return [out, kw.v];
          case "if":
          case "with":
          case "range":
            this.nextNonSpace();
            out.push(this.control(kw.v, kw.pos));
            continue;
          case "break":
          case "continue": {
            this.nextNonSpace();
            const e = this.nextNonSpace();
            if (e.k !== K.RightDelim) this.unexpected(e, `{{${kw.v}}}`);
            out.push({ t: kw.v, pos: kw.pos });
            continue;
          }
          case "define": {
            this.nextNonSpace();
            const name = this.nextNonSpace();
            if (name.k !== K.String && name.k !== K.RawString) this.unexpected(name, "define clause");
            const e = this.nextNonSpace();
            if (e.k !== K.RightDelim) this.unexpected(e, "define clause");
            const saved = this.vars;
            this.vars = [["$"]];
            const [body] = this.list(["end"]);
            this.vars = saved;
            this.defs.set(unquote(name.v), body);
            continue;
          }
          case "template":
          case "block": {
            this.nextNonSpace();
            const name = this.nextNonSpace();
            if (name.k !== K.String && name.k !== K.RawString) this.unexpected(name, `${kw.v} clause`);
            let pipe: Pipe | null = null;
            if (this.peekNonSpace().k !== K.RightDelim) pipe = this.pipeline(`${kw.v} clause`, false);
            else this.nextNonSpace();
            if (kw.v === "block") {
              const saved = this.vars;
              this.vars = [["$"]];
              const [body] = this.list(["end"]);
              this.vars = saved;
              this.defs.set(unquote(name.v), body);
            }
            out.push({ t: "template", pos: kw.pos, name: unquote(name.v), pipe });
            continue;
          }
        }
      }
      const pipe = this.pipeline("command", true);
      out.push({ t: "action", pos: pipe.pos, pipe });
    }
  }

  control(kind: string, pos: number): Node {
    this.vars.push([]);
    const pipe = this.pipeline(kind, kind === "range" ? "range" : true);
    const [list, stop] = this.list(["end", "else"]);
    let elseList: Node[] | null = null;
    if (stop === "else") {
      const nx = this.peekNonSpace();
      if ((kind === "if" && nx.k === K.Keyword && nx.v === "if") || (kind === "with" && nx.k === K.Keyword && nx.v === "with")) {
        // {{else if …}} / {{else with …}}: a nested control that shares our {{end}}
        this.nextNonSpace();
        elseList = [this.control(kind, nx.pos)];
      } else {
        const e = this.nextNonSpace();
        if (e.k !== K.RightDelim) this.unexpected(e, "else");
        [elseList] = this.list(["end"]);
      }
    }
    this.vars.pop();
    return { t: kind as "if", pos, pipe, list, elseList };
  }

  pipeline(ctx: string, allowDecl: boolean | "range"): Pipe {
    const decl: string[] = [];
    let isAssign = false;
    const start = this.peekNonSpace();
    // declarations
    if (allowDecl && start.k === K.Variable) {
      const save = this.i;
      this.nextNonSpace();
      const nx = this.peekNonSpace();
      if (nx.k === K.Declare || nx.k === K.Assign) {
        this.nextNonSpace();
        decl.push(start.v);
        isAssign = nx.k === K.Assign;
      } else if (nx.k === K.Comma && allowDecl === "range") {
        this.nextNonSpace();
        const v2 = this.nextNonSpace();
        if (v2.k !== K.Variable) this.err(v2, `range can only initialize variables`);
        const d = this.nextNonSpace();
        if (d.k !== K.Declare && d.k !== K.Assign) this.err(d, "range can only initialize variables");
        decl.push(start.v, v2.v);
        isAssign = d.k === K.Assign;
      } else this.i = save;
      if (!isAssign) for (const d of decl) this.vars[this.vars.length - 1].push(d);
      else for (const d of decl) this.checkVar(d, start);
    }
    const cmds: Cmd[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if (t.k === K.RightDelim || t.k === K.RightParen) {
        this.nextNonSpace();
        if ((t.k === K.RightParen) !== (ctx === "parenthesized pipeline")) this.unexpected(t, ctx);
        break;
      }
      const cmd = this.command();
      cmds.push(cmd);
      const e = this.peekNonSpace();
      if (e.k === K.Pipe) {
        this.nextNonSpace();
        continue;
      }
    }
    if (cmds.length === 0) this.err(start, `missing value for ${ctx}`);
    return { pos: decl.length > 0 ? start.pos : cmds[0].pos, decl, isAssign, cmds };
  }

  checkVar(name: string, t: Tok): void {
    const base = name;
    for (const scope of this.vars) if (scope.includes(base)) return;
    this.err(t, `undefined variable "${base}"`);
  }

  command(): Cmd {
    const args: Arg[] = [];
    let pos = -1;
    for (;;) {
      const t = this.peekNonSpace();
      if (t.k === K.RightDelim || t.k === K.RightParen || t.k === K.Pipe) break;
      const op = this.operand();
      if (pos < 0) pos = op.pos;
      args.push(op);
      const nx = this.peek();
      if (nx.k === K.Space) continue;
      if (nx.k === K.RightDelim || nx.k === K.RightParen || nx.k === K.Pipe) continue;
      this.unexpected(nx, "operand");
    }
    if (args.length === 0) this.err(this.peekNonSpace(), "missing value for command");
    return { pos, args };
  }

  operand(): Arg {
    const t = this.nextNonSpace();
    let node: Arg;
    switch (t.k) {
      case K.Field:
        node = { t: "field", pos: t.pos, names: t.v.slice(1).split(".") };
        break;
      case K.Variable:
        this.checkVar(t.v, t);
        node = { t: "var", pos: t.pos, name: t.v, names: [] };
        break;
      case K.Dot:
        node = { t: "dot", pos: t.pos };
        break;
      case K.Nil:
        node = { t: "nil", pos: t.pos };
        break;
      case K.Bool:
        node = { t: "bool", pos: t.pos, v: t.v === "true" };
        break;
      case K.String:
      case K.RawString:
        node = { t: "string", pos: t.pos, v: unquote(t.v), text: t.v };
        break;
      case K.Char: {
        const s = unquote('"' + t.v.slice(1, -1).replace(/"/g, '\\"') + '"');
        node = { t: "number", pos: t.pos, v: new GoInt(s.codePointAt(0) ?? 0), text: t.v };
        break;
      }
      case K.Number:
        node = { t: "number", pos: t.pos, v: parseNumber(t, this), text: t.v };
        break;
      case K.Ident:
        if (!FUNCS.has(t.v)) this.err(t, `function "${t.v}" not defined`);
        node = { t: "ident", pos: t.pos, name: t.v };
        break;
      case K.LeftParen: {
        const pipe = this.pipeline("parenthesized pipeline", false);
        node = { t: "pipe", pos: t.pos, pipe };
        break;
      }
      default:
        this.unexpected(t, "operand");
    }
    // field chain
    const names: string[] = [];
    let chainPos = node.pos;
    while (this.peek().k === K.Field) {
      const f = this.next();
      chainPos = f.pos;
      names.push(f.v.slice(1));
    }
    if (names.length > 0) {
      if (node.t === "field") return { t: "field", pos: chainPos, names: [...node.names, ...names] };
      if (node.t === "var") return { t: "var", pos: chainPos, name: node.name, names };
      if (node.t === "dot") this.err(t, "unexpected . after term \".\"");
      if (node.t === "bool" || node.t === "string" || node.t === "number" || node.t === "nil")
        this.err(t, `unexpected . after term ${goQuote(argString(node))}`);
      return { t: "chain", pos: chainPos, node, names };
    }
    return node;
  }
}

function describe(t: Tok): string {
  switch (t.k) {
    case K.RightDelim:
      return '"}}"';
    case K.RightParen:
      return '")"';
    case K.LeftParen:
      return '"("';
    case K.Keyword:
      return `<${t.v}>`;
    case K.Ident:
    case K.Field:
    case K.Variable:
      return `<${t.v}>`;
    default:
      return goQuote(t.v);
  }
}

function unquote(s: string): string {
  if (s[0] === "`") return s.slice(1, -1);
  // Go escapes are close to JSON's; handle the extra ones.
  let out = "";
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = s[++i];
    switch (e) {
      case "a":
        out += "\x07";
        break;
      case "b":
        out += "\b";
        break;
      case "f":
        out += "\f";
        break;
      case "n":
        out += "\n";
        break;
      case "r":
        out += "\r";
        break;
      case "t":
        out += "\t";
        break;
      case "v":
        out += "\v";
        break;
      case "x":
        out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case "u":
        out += String.fromCodePoint(parseInt(s.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case "U":
        out += String.fromCodePoint(parseInt(s.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      default:
        if (e >= "0" && e <= "7") {
          out += String.fromCharCode(parseInt(s.slice(i, i + 3), 8));
          i += 2;
        } else out += e;
    }
  }
  return out;
}

function parseNumber(t: Tok, p: Parser): GoVal {
  const text = t.v.replace(/_/g, "");
  if (/^[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.test(text)) {
    const neg = text[0] === "-";
    const body = text.replace(/^[+-]/, "");
    let v: bigint;
    if (/^0[oO]/.test(body)) v = BigInt("0o" + body.slice(2));
    else if (/^0[0-7]+$/.test(body)) v = BigInt("0o" + body.slice(1));
    else v = BigInt(body);
    if (neg) v = -v;
    return new GoInt(Number(v));
  }
  const f = Number(text);
  if (Number.isNaN(f)) p.err(t, `illegal number syntax: ${goQuote(t.v)}`);
  return Number.isInteger(f) ? new GoFloat(f) : f;
}

// ---- Node strings (error context) ------------------------------------------------------------

function argString(a: Arg): string {
  switch (a.t) {
    case "field":
      return "." + a.names.join(".");
    case "var":
      return a.name + a.names.map((n) => "." + n).join("");
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return a.v ? "true" : "false";
    case "string":
    case "number":
      return a.text;
    case "ident":
      return a.name;
    case "chain":
      return argString(a.node) + a.names.map((n) => "." + n).join("");
    case "pipe":
      return "(" + pipeString(a.pipe) + ")";
  }
}
function cmdString(c: Cmd): string {
  return c.args.map(argString).join(" ");
}
function pipeString(p: Pipe): string {
  let s = p.decl.length > 0 ? p.decl.join(", ") + (p.isAssign ? " = " : " := ") : "";
  s += p.cmds.map(cmdString).join(" | ");
  return s;
}

// ---- Execution -------------------------------------------------------------------------------

class ExecError extends Error {}
class BreakSignal {}
class ContinueSignal {}

const utf8 = new TextEncoder();

function isTrue(v: TVal): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case "boolean":
      return v;
    case "string":
      return v.length > 0;
    case "number":
      return v !== 0;
    case "bigint":
      return v !== 0n;
  }
  if (v instanceof GoInt) return v.v !== 0;
  if (v instanceof GoFloat) return v.v !== 0;
  if (v instanceof GoNumber) return v.text.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return (v as GoMap).entries.length > 0;
}

function typeOf(v: TVal): string {
  if (v === undefined) return "<nil>";
  return goTypeName(v);
}

class Exec {
  out = "";
  vars: [string, TVal][] = [];
  constructor(
    readonly src: string,
    readonly defs: Map<string, Node[]>,
  ) {}

  location(pos: number): string {
    const before = this.src.slice(0, pos);
    const nl = before.lastIndexOf("\n");
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const col = utf8.encode(nl < 0 ? before : before.slice(nl + 1)).length;
    return `${NAME}:${line}:${col}`;
  }

  fail(pos: number, ctx: string, msg: string): never {
    let c = ctx;
    if ([...c].length > 20) c = [...c].slice(0, 20).join("") + "...";
    throw new ExecError(`template: ${this.location(pos)}: executing "${NAME}" at <${c}>: ${msg}`);
  }

  lookupVar(name: string): TVal {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i][0] === name) return this.vars[i][1];
    return undefined;
  }
  setVar(name: string, v: TVal): void {
    for (let i = this.vars.length - 1; i >= 0; i--)
      if (this.vars[i][0] === name) {
        this.vars[i][1] = v;
        return;
      }
  }

  walkList(dot: TVal, list: Node[]): void {
    for (const n of list) this.walk(dot, n);
  }

  walk(dot: TVal, n: Node): void {
    switch (n.t) {
      case "text":
        this.out += n.text;
        return;
      case "action": {
        const v = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.printValue(v);
        return;
      }
      case "if":
      case "with": {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, n.pipe);
        if (isTrue(v)) {
          this.walkList(n.t === "with" ? v : dot, n.list);
        } else if (n.elseList) this.walkList(dot, n.elseList);
        this.vars.length = mark;
        return;
      }
      case "range":
        this.walkRange(dot, n);
        return;
      case "template": {
        const body = this.defs.get(n.name);
        if (!body) this.fail(n.pos, `template ${goQuote(n.name)}`, `no such template ${goQuote(n.name)}`);
        const d = n.pipe ? this.evalPipeline(dot, n.pipe) : undefined;
        const saved = this.vars;
        this.vars = [["$", d]];
        this.walkList(d, body);
        this.vars = saved;
        return;
      }
      case "break":
        throw new BreakSignal();
      case "continue":
        throw new ContinueSignal();
    }
  }

  walkRange(dot: TVal, n: Extract<Node, { t: "range" }>): void {
    const mark = this.vars.length;
    // evaluate the pipeline without its declarations
    const val = this.evalPipeline(dot, { ...n.pipe, decl: [] });
    const items: [TVal, TVal][] = [];
    if (val === undefined || val === null) {
      // nothing to iterate
    } else if (Array.isArray(val)) {
      val.forEach((x, i) => items.push([new GoInt(i), x]));
    } else if (val instanceof GoMap) {
      for (const [k, x] of val.entries) items.push([k, x]);
    } else if (val instanceof GoInt) {
      if (n.pipe.decl.length > 1) this.fail(n.pos, pipeString(n.pipe), `can't use ${val.v} to iterate over more than one variable`);
      for (let i = 0; i < val.v; i++) items.push([new GoInt(i), new GoInt(i)]);
    } else {
      this.fail(n.pipe.pos, pipeString({ ...n.pipe, decl: [] }), `range can't iterate over ${goSprint(toGoVal(val))}`);
    }
    if (items.length === 0) {
      if (n.elseList) this.walkList(dot, n.elseList);
      this.vars.length = mark;
      return;
    }
    for (const [k, x] of items) {
      const inner = this.vars.length;
      if (n.pipe.decl.length === 1) this.declare(n.pipe, n.pipe.decl[0], x);
      else if (n.pipe.decl.length === 2) {
        this.declare(n.pipe, n.pipe.decl[0], k);
        this.declare(n.pipe, n.pipe.decl[1], x);
      }
      try {
        this.walkList(x, n.list);
      } catch (e) {
        this.vars.length = inner;
        if (e instanceof BreakSignal) break;
        if (e instanceof ContinueSignal) continue;
        throw e;
      }
      this.vars.length = inner;
    }
    this.vars.length = mark;
  }

  declare(p: Pipe, name: string, v: TVal): void {
    if (p.isAssign) this.setVar(name, v);
    else this.vars.push([name, v]);
  }

  printValue(v: TVal): void {
    if (v === undefined || v === null) {
      this.out += "<no value>";
      return;
    }
    this.out += goSprint(toGoVal(v));
  }

  evalPipeline(dot: TVal, p: Pipe): TVal {
    let value: TVal = undefined;
    let final = false;
    for (const c of p.cmds) {
      value = this.evalCommand(dot, c, final ? value : MISSING);
      final = true;
    }
    // an interface holding nil becomes the invalid value
    if (value === null) value = undefined;
    for (const d of p.decl) {
      if (p.isAssign) this.setVar(d, value);
      else this.vars.push([d, value]);
    }
    return value;
  }

  evalCommand(dot: TVal, c: Cmd, final: TVal | typeof MISSING): TVal {
    const first = c.args[0];
    switch (first.t) {
      case "field":
        return this.evalFieldChain(dot, this.lookupVar("$"), first, first.names, c, final, true);
      case "chain": {
        const base = this.evalArgNode(dot, first.node);
        return this.evalFieldChain(dot, base, first, first.names, c, final, false);
      }
      case "var": {
        const v = this.lookupVar(first.name);
        if (first.names.length === 0) {
          this.noArgs(c, final);
          return v;
        }
        return this.evalFieldChain(dot, v, first, first.names, c, final, false);
      }
      case "ident":
        return this.evalFunction(dot, first.name, c, final);
      case "pipe":
        this.noArgs(c, final);
        return this.evalPipeline(dot, first.pipe);
    }
    if (first.t === "nil") this.fail(first.pos, "nil", "nil is not a command");
    this.noArgs(c, final);
    return this.evalArgNode(dot, first);
  }

  noArgs(c: Cmd, final: TVal | typeof MISSING): void {
    if (c.args.length > 1 || final !== MISSING) this.fail(c.pos, cmdString(c), `can't give argument to non-function ${argString(c.args[0])}`);
  }

  evalArgNode(dot: TVal, a: Arg): TVal {
    switch (a.t) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "bool":
        return a.v;
      case "string":
        return a.v;
      case "number":
        return a.v;
      case "field":
        return this.evalFieldChain(dot, dot, a, a.names, null, MISSING, true);
      case "var":
        return a.names.length === 0 ? this.lookupVar(a.name) : this.evalFieldChain(dot, this.lookupVar(a.name), a, a.names, null, MISSING, false);
      case "chain":
        return this.evalFieldChain(dot, this.evalArgNode(dot, a.node), a, a.names, null, MISSING, false);
      case "pipe":
        return this.evalPipeline(dot, a.pipe);
      case "ident":
        return this.evalFunction(dot, a.name, { pos: a.pos, args: [a] }, MISSING);
    }
  }

  evalFieldChain(dot: TVal, receiver: TVal, node: Arg, names: string[], c: Cmd | null, final: TVal | typeof MISSING, fromDot: boolean): TVal {
    // `.a.b` starts from dot; the `$` lookup passed for top-level fields is replaced here
    let r: TVal = fromDot ? dot : receiver;
    let typ = r instanceof GoMap && fromDot ? "map[string]interface {}" : "interface {}";
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const last = i === names.length - 1;
      if (last && c && (c.args.length > 1 || final !== MISSING))
        this.fail(node.pos, argString(node), `${name} is not a method but has arguments`);
      if (r === undefined) return undefined;
      if (r === null) this.fail(node.pos, argString(node), `nil pointer evaluating ${typ}.${name}`);
      if (r instanceof GoMap) {
        let found: TVal = undefined;
        for (const [k, v] of r.entries)
          if (k === name) {
            found = v;
            break;
          }
        r = found;
        typ = "interface {}";
        continue;
      }
      this.fail(node.pos, argString(node), `can't evaluate field ${name} in type ${typ}`);
    }
    return r;
  }

  evalFunction(dot: TVal, name: string, c: Cmd, final: TVal | typeof MISSING): TVal {
    const argNodes = c.args.slice(1);
    const ctx = cmdString(c);
    const evalArgs = (): TVal[] => {
      const vs = argNodes.map((a) => this.evalArgNode(dot, a));
      if (final !== MISSING) vs.push(final as TVal);
      return vs;
    };
    const callErr = (msg: string): never => this.fail(c.pos, ctx, `error calling ${name}: ${msg}`);
    const nargs = argNodes.length + (final !== MISSING ? 1 : 0);
    const want = (n: number, variadic = false) => {
      if (variadic ? nargs < n : nargs !== n)
        this.fail(c.pos, ctx, `wrong number of args for ${name}: want ${variadic ? "at least " : ""}${n} got ${nargs}`);
    };
    switch (name) {
      case "and":
      case "or": {
        want(1, true);
        let v: TVal = undefined;
        for (let i = 0; i < nargs; i++) {
          v = i < argNodes.length ? this.evalArgNode(dot, argNodes[i]) : (final as TVal);
          if (isTrue(v) !== (name === "and")) return v;
        }
        return v;
      }
      case "not": {
        want(1);
        return !isTrue(evalArgs()[0]);
      }
      case "len": {
        want(1);
        const v = evalArgs()[0];
        if (typeof v === "string") return new GoInt(utf8.encode(v).length);
        if (v instanceof GoNumber) return new GoInt(utf8.encode(v.text).length);
        if (Array.isArray(v)) return new GoInt(v.length);
        if (v instanceof GoMap) return new GoInt(v.entries.length);
        return callErr(`len of ${v === undefined || v === null ? "nil pointer" : "type " + typeOf(v)}`);
      }
      case "index": {
        want(1, true);
        const [item, ...idx] = evalArgs();
        let v: TVal = item;
        if (v === undefined || v === null) callErr("index of untyped nil");
        for (const x of idx) {
          if (Array.isArray(v) || typeof v === "string" || v instanceof GoNumber) {
            const n = intArg(x);
            if (n === undefined) callErr(`cannot index slice/array with type ${typeOf(x)}`);
            const len = Array.isArray(v) ? v.length : utf8.encode(typeof v === "string" ? v : (v as GoNumber).text).length;
            if (n! < 0 || n! >= len) callErr(`index out of range: ${n}`);
            if (Array.isArray(v)) v = v[n!];
            else v = new GoInt(utf8.encode(typeof v === "string" ? v : (v as GoNumber).text)[n!]);
          } else if (v instanceof GoMap) {
            if (typeof x !== "string") callErr(`value has type ${typeOf(x)}; should be string`);
            const e = v.entries.find(([k]) => k === x);
            v = e ? e[1] : undefined;
          } else if (v === undefined || v === null) {
            callErr("index of nil pointer");
          } else callErr(`can't index item of type ${typeOf(v)}`);
        }
        return v;
      }
      case "slice": {
        want(1, true);
        const [item, ...idx] = evalArgs();
        const ns = idx.map((x) => {
          const n = intArg(x);
          if (n === undefined) callErr(`cannot index slice/array with type ${typeOf(x)}`);
          return n!;
        });
        if (typeof item === "string" || item instanceof GoNumber) {
          const bytes = utf8.encode(typeof item === "string" ? item : item.text);
          if (ns.length > 2) callErr("cannot 3-index slice a string");
          const a = ns[0] ?? 0;
          const b = ns[1] ?? bytes.length;
          if (a < 0 || b > bytes.length || a > b) callErr(`index out of range: ${a > b ? a : b}`);
          return new TextDecoder().decode(bytes.slice(a, b));
        }
        if (Array.isArray(item)) {
          const a = ns[0] ?? 0;
          const b = ns[1] ?? item.length;
          if (a < 0 || b > item.length || a > b) callErr(`index out of range: ${a > b ? a : b}`);
          return item.slice(a, b);
        }
        return callErr(`can't slice item of type ${typeOf(item)}`);
      }
      case "print":
        return sprint(evalArgs(), false);
      case "println":
        return sprint(evalArgs(), true);
      case "printf": {
        want(1, true);
        const [f, ...rest] = evalArgs();
        if (typeof f !== "string") this.fail(c.pos, ctx, `wrong type for value; expected string; got ${typeOf(f)}`);
        return goSprintf(f as string, rest.map(toGoVal));
      }
      case "html":
        return htmlEscape(evalArgString(evalArgs()));
      case "js":
        return jsEscape(evalArgString(evalArgs()));
      case "urlquery":
        return queryEscape(evalArgString(evalArgs()));
      case "eq": {
        want(1, true);
        const [a, ...bs] = evalArgs();
        if (bs.length === 0) callErr("missing argument for comparison");
        for (const b of bs) if (this.compare(a, b, callErr) === 0) return true;
        return false;
      }
      case "ne": {
        want(2);
        const [a, b] = evalArgs();
        return this.compare(a, b, callErr) !== 0;
      }
      case "lt":
      case "le":
      case "gt":
      case "ge": {
        want(2);
        const [a, b] = evalArgs();
        const r = this.compare(a, b, callErr, true);
        return name === "lt" ? r < 0 : name === "le" ? r <= 0 : name === "gt" ? r > 0 : r >= 0;
      }
      case "call":
        return callErr("non-function of type " + typeOf(evalArgs()[0]));
    }
    return this.fail(c.pos, ctx, `"${name}" is not a defined function`);
  }

  /** Go's template comparison: basic kinds only; returns -1/0/1 (NaN-free). */
  compare(a: TVal, b: TVal, callErr: (m: string) => never, ordered = false): number {
    const ka = basicKind(a);
    const kb = basicKind(b);
    if (ka === "invalid" || kb === "invalid") {
      if (ordered) callErr("invalid type for comparison");
      if (a === undefined || a === null || b === undefined || b === null) {
        if ((a === undefined || a === null) && (b === undefined || b === null)) return 0;
        callErr("incompatible types for comparison");
      }
      if (ordered) callErr("invalid type for comparison");
      callErr("non-comparable type " + goSprint(toGoVal(ka === "invalid" ? a : b)) + ": " + typeOf(ka === "invalid" ? a : b));
    }
    if (ka !== kb) callErr(`incompatible types for comparison: ${typeOf(a)} and ${typeOf(b)}`);
    if (ka === "int" || ka === "float") return cmpNum(numOf(a), numOf(b));
    if (ka === "bool") {
      if (ordered) callErr("invalid type for comparison");
      return a === b ? 0 : 1;
    }
    const sa = typeof a === "string" ? a : (a as GoNumber).text;
    const sb = typeof b === "string" ? b : (b as GoNumber).text;
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
}

const MISSING = Symbol("missing");

function basicKind(v: TVal): "bool" | "int" | "float" | "string" | "invalid" {
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string" || v instanceof GoNumber) return "string";
  if (v instanceof GoInt || typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v))) return "int";
  if (typeof v === "number" || v instanceof GoFloat) return "float";
  return "invalid";
}

function numOf(v: TVal): number {
  if (v instanceof GoInt) return v.v;
  if (v instanceof GoFloat) return v.v;
  return Number(v);
}
function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function intArg(x: TVal): number | undefined {
  if (x instanceof GoInt) return x.v;
  if (typeof x === "number" && Number.isInteger(x)) return x;
  if (typeof x === "bigint") return Number(x);
  return undefined;
}

function sprint(args: TVal[], ln: boolean): string {
  let s = "";
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const isStr = typeof a === "string";
    if (i > 0 && (ln || (!isStr && typeof args[i - 1] !== "string"))) s += " ";
    s += goSprint(toGoVal(a));
  }
  return ln ? s + "\n" : s;
}

function evalArgString(args: TVal[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args, false);
}

function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\u0000]/g, (c) =>
    c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : c === "'" ? "&#39;" : c === '"' ? "&#34;" : "\ufffd",
  );
}

function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case "\\":
        out += "\\\\";
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case "<":
        out += "\\u003C";
        continue;
      case ">":
        out += "\\u003E";
        continue;
      case "&":
        out += "\\u0026";
        continue;
      case "=":
        out += "\\u003D";
        continue;
    }
    if (c < 0x80) {
      if (c < 0x20 || c === 0x7f) out += "\\u" + c.toString(16).toUpperCase().padStart(4, "0");
      else out += ch;
    } else if (isPrint(c)) out += ch;
    else out += "\\u" + c.toString(16).toUpperCase().padStart(4, "0");
  }
  return out;
}

function queryEscape(s: string): string {
  let out = "";
  for (const b of utf8.encode(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

// ---- Entry point -----------------------------------------------------------------------------

const parseCache = new Map<string, { list: Node[]; defs: Map<string, Node[]> } | ParseError>();

export function renderTemplate(src: string, data: GoVal): string {
  let parsed = parseCache.get(src);
  if (parsed === undefined) {
    try {
      const p = new Parser(lex(src));
      const [list] = p.list([]);
      parsed = { list, defs: p.defs };
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      parsed = e;
    }
    if (parseCache.size >= 256) parseCache.clear();
    parseCache.set(src, parsed);
  }
  if (parsed instanceof ParseError) throw new BuiltinError(`strings.render_template: ${parsed.message}`);
  const ex = new Exec(src, parsed.defs);
  ex.vars.push(["$", data]);
  try {
    ex.walkList(data, parsed.list);
  } catch (e) {
    if (e instanceof ExecError) throw new BuiltinError(`strings.render_template: ${e.message}`);
    if (e instanceof BreakSignal || e instanceof ContinueSignal) {
      // break/continue outside range is a parse error in Go; ignore here
    } else throw e;
  }
  return ex.out.replaceAll("<no value>", "<undefined>");
}

// ---- OPA passes the data through JSON text: report what Go's decoder would reject -------------

function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  return "'" + c + "'";
}

/** The error Go's json.Unmarshal gives for `text`, or null when it parses. */
export function jsonSyntaxError(text: string): string | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const bad = (ctx: string): never => {
    throw new Error(`invalid character ${quoteChar(text[i] ?? "")} ${ctx}`);
  };
  const str = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") {
        i++;
        const e = text[i];
        if (e === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              i += k;
              bad("in \\u hexadecimal character escape");
            }
          }
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) bad("in string escape code");
      }
      i++;
    }
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') bad("looking for beginning of object key string");
        str();
        ws();
        if (text[i] !== ":") bad("after object key");
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        bad("after object key:value pair");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        bad("after array element");
      }
    }
    if (c === '"') return str();
    const m = /^(-?[0-9][0-9.eE+-]*|true|false|null)/.exec(text.slice(i, i + 400));
    if (m) {
      i += m[0].length;
      return;
    }
    bad("looking for beginning of value");
  };
  try {
    value();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * A template executed for a Portcullis command (`portcullis doc -t FILE`), not for Rego: Go's
 * own output (`<no value>` kept) and Go's error messages naming the template as
 * template.ParseFiles does (the file's base name). Throws an Error with that message.
 */
export function renderGoTemplate(src: string, data: GoVal, name: string): string {
  const rename = (m: string) => m.replace(/^template: template:/, `template: ${name}:`).replace(/executing "template"/, `executing "${name}"`);
  let list: Node[];
  let defs: Map<string, Node[]>;
  try {
    const p = new Parser(lex(src));
    [list] = p.list([]);
    defs = p.defs;
  } catch (e) {
    if (e instanceof ParseError) throw new Error(rename(e.message));
    throw e;
  }
  const ex = new Exec(src, defs);
  ex.vars.push(["$", data]);
  try {
    ex.walkList(data, list);
  } catch (e) {
    if (e instanceof ExecError) throw new Error(rename(e.message));
    if (!(e instanceof BreakSignal || e instanceof ContinueSignal)) throw e;
  }
  return ex.out;
}
